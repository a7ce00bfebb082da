"""ASGI middleware in request order: request id and access log, the maintenance window
(SVC-1), then the request guard (content type, size, JSON shape, CSRF).

Each refusal is a GraphQL-shaped JSON error with ``extensions.code``, so front ends handle
them like any other error.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import logging
import re
import secrets
import time
from collections.abc import Callable
from typing import Any

import orjson
from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from models.db import is_unavailable
from policies.clock import Clock
from policies.config import ServicePolicy
from policies.errors import ErrorCode
from policies.service import maintenance_remaining
from resolvers.shared.context import Locale
from schema.shared.messages import message
from server.trusted import TrustedDocuments

log = logging.getLogger("hondana.access")
SESSION_COOKIE = "hondana_session"
CLIENT_HEADER = "x-hondana-client"
GRAPHQL_PATH = "/graphql"
OPS_PATHS = ("/healthz", "/readyz", "/metrics")  # answer during maintenance too (server/ops.py)
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


def locale_of(headers: Headers) -> Locale:
    """``en`` when the client prefers English over Japanese, else ``ja`` (the default)."""
    best: tuple[float, Locale] = (0.0, "ja")
    for part in headers.get("accept-language", "")[:200].split(","):
        lang, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            continue
        tag = lang.strip().lower()[:2]
        if tag in ("ja", "en") and weight > best[0]:
            best = (weight, "en" if tag == "en" else "ja")
    return best[1]


def error_body(code: ErrorCode, locale: Locale, **extensions: Any) -> bytes:
    """A GraphQL-shaped error document."""
    ext = {"code": code.value, **extensions}
    return json.dumps(
        {"data": None, "errors": [{"message": message(code, locale), "extensions": ext}]},
        ensure_ascii=False,
    ).encode()


async def send_error(
    send: Send, status: int, body: bytes, extra_headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Answer with a JSON error and nothing else."""
    headers = [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        *(extra_headers or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RequestIdMiddleware:
    """Give every request an id (``X-Request-ID``), add the security headers to every
    response, and log one line when it ends."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        started_response = False

        async def send_with_id(msg: Message) -> None:
            nonlocal status, started_response
            if msg["type"] == "http.response.start":
                started_response = True
                status = msg["status"]
                msg["headers"] = [
                    *msg.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                    *SECURITY_HEADERS,
                ]
            await send(msg)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            # Nothing escapes as a bare 500 with a trace: a database that is not there
            # answers 503 SERVICE_UNAVAILABLE (retry), anything else INTERNAL_ERROR with
            # the request id; the log keeps the rest.
            if started_response:
                raise
            unavailable = is_unavailable(exc)
            if unavailable:
                log.warning("database unavailable", extra={"request_id": request_id})
            else:
                log.exception("unhandled error", extra={"request_id": request_id})
            code = ErrorCode.SERVICE_UNAVAILABLE if unavailable else ErrorCode.INTERNAL_ERROR
            body = error_body(code, locale_of(Headers(scope=scope)), requestId=request_id)
            extra = [(b"retry-after", b"2")] if unavailable else []
            await send_error(send_with_id, 503 if unavailable else 500, body, extra)
        finally:
            log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )


Network = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_FORWARDED_HOPS = 20  # proxies in front of the API: a handful at most


def _ip(text: str) -> str | None:
    """``text`` as a normalised IP address, or ``None`` if it is not one."""
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def client_address(
    peer: str | None, forwarded_for: str | None, trusted: tuple[Network, ...]
) -> str | None:
    """The client's address: the peer's, unless the peer is a trusted proxy, in which case
    the nearest ``X-Forwarded-For`` hop that is not one (read from the right, since only
    the hops our proxies appended are true). A hop that is not an IP address ends the walk
    at the proxy that passed it on. With no proxy trusted (the default) the header is
    ignored, so a client cannot choose the address its login failures count against."""
    client = _ip(peer) if peer else None
    hops = (forwarded_for or "").split(",")[-MAX_FORWARDED_HOPS:] if trusted else []
    for hop in reversed(hops):
        if client is None or not any(ipaddress.ip_address(client) in net for net in trusted):
            break
        if (ip := _ip(hop)) is None:
            break
        client = ip
    return client


class ClientAddressMiddleware:
    """Put the client's address (:func:`client_address`) in the ASGI scope, where the
    login throttle reads it; uvicorn's own proxy handling is off (``hondana serve``)."""

    def __init__(self, app: ASGIApp, *, trusted_proxies: tuple[Network, ...]) -> None:
        self.app = app
        self.trusted = trusted_proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            peer, port = scope.get("client") or (None, 0)
            forwarded = Headers(scope=scope).get("x-forwarded-for")
            address = client_address(peer, forwarded, self.trusted)
            scope["client"] = (address, port) if address is not None else None
        await self.app(scope, receive, send)


class MaintenanceMiddleware:
    """During the daily maintenance window every API request gets 503 ``MAINTENANCE`` with
    ``Retry-After`` and changes nothing (SVC-1). Health probes still answer."""

    def __init__(self, app: ASGIApp, *, clock: Clock, policy: ServicePolicy) -> None:
        self.app = app
        self.clock = clock
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(OPS_PATHS):
            remaining = maintenance_remaining(self.clock.now(), self.policy)
            if remaining is not None:
                seconds = max(1, int(remaining.total_seconds() + 0.999))
                body = error_body(
                    ErrorCode.MAINTENANCE,
                    locale_of(Headers(scope=scope)),
                    rule="SVC-1",
                    retryAfter=seconds,
                )
                await send_error(send, 503, body, [(b"retry-after", str(seconds).encode())])
                return
        await self.app(scope, receive, send)


class RequestGuardMiddleware:
    """Refuse malformed GraphQL requests before they reach the executor.

    POST must be ``application/json`` with a body under the size limit holding one JSON
    object (batching is off); a request carrying the session cookie must also carry the
    ``X-Hondana-Client`` header, which a cross-site form cannot send (CSRF). A
    ``documentId`` is replaced by its trusted document; in production nothing else runs.
    """

    def __init__(
        self, app: ASGIApp, *, max_body_bytes: int, trusted: TrustedDocuments | None = None
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.trusted = trusted or TrustedDocuments({}, required=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != GRAPHQL_PATH:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        locale = locale_of(headers)
        send = _no_store(send)  # every answer may be personal: never cached
        cookies = cookie_parser(headers.get("cookie", ""))
        if SESSION_COOKIE in cookies and CLIENT_HEADER not in headers:
            await send_error(send, 403, error_body(ErrorCode.CSRF_REQUIRED, locale))
            return
        if scope["method"] != "POST":
            if self.trusted.required:  # GET carries query text, which production refuses
                await send_error(send, 400, error_body(ErrorCode.TRUSTED_DOCUMENT_REQUIRED, locale))
                return
            await self.app(scope, receive, send)
            return
        media = headers.get("content-type", "").split(";")[0].strip().lower()
        if media != "application/json":
            await send_error(send, 415, error_body(ErrorCode.UNSUPPORTED_MEDIA_TYPE, locale))
            return
        body = await self._read(receive)
        if body is None:
            await send_error(send, 413, error_body(ErrorCode.PAYLOAD_TOO_LARGE, locale))
            return
        request, problem, exact = _parse(body)
        if problem == "BATCH":
            await send_error(send, 400, error_body(ErrorCode.BATCHING_DISABLED, locale))
            return
        if request is None:
            await send_error(send, 400, error_body(ErrorCode.BAD_REQUEST, locale, reason=problem))
            return
        rewrite = self.trusted.rewrite(request, exact=exact)
        if rewrite.code is not None:
            await send_error(send, 400, error_body(rewrite.code, locale))
            return
        await self.app(scope, _replay(rewrite.body or body, receive), send)

    async def _read(self, receive: Receive) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return b""
            chunk = msg.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not msg.get("more_body"):
                return b"".join(chunks)


# Nesting of the request's JSON (variables included). GraphQL inputs nest a few levels;
# the parser recurses per level, and 20,000 levels overflowed its stack.
MAX_JSON_DEPTH = 64
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_DEPTH_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def json_depth(body: bytes) -> int:
    """How deep ``body``'s arrays and objects nest, brackets in strings aside; counted
    without parsing (strings removed and brackets kept by C-speed passes)."""
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    return max(itertools.accumulate(_DEPTH_STEP[b] for b in brackets), default=0)


def _has_lone_surrogate(doc: object) -> bool:
    """Whether a decoded JSON value holds a lone surrogate (``"\\ud800"``), which no UTF-8
    database, log or mail can carry."""
    try:
        json.dumps(doc, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _decode(body: bytes) -> tuple[Any, str | None, bool]:
    """``body``'s JSON value or why it has none, and whether orjson read it.

    orjson reads every request (a tenth of ``json``'s time). Where it refuses a body,
    ``json`` reads it as it always did and names the reason: orjson refuses lone
    surrogates, non-UTF-8 encodings, ``NaN`` and infinities, which ``json`` accepts, so
    every such body is answered as before. (An integer past 64 bits, orjson reads as a
    float: GraphQL refuses either as an ``Int``, with the number written differently.)"""
    # Fewer opening brackets than the limit cannot nest past it: no need to count depth.
    if body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH and json_depth(body) > MAX_JSON_DEPTH:
        return None, "TOO_DEEP", False
    try:
        return orjson.loads(body), None, True
    except orjson.JSONDecodeError:
        pass
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None, "MALFORMED_JSON", False
    return (None, "INVALID_UNICODE", False) if _has_lone_surrogate(doc) else (doc, None, False)


def _parse(body: bytes) -> tuple[dict[str, Any] | None, str | None, bool]:
    """The request object in ``body``, or ``None`` and why it is not one GraphQL request;
    and whether orjson read it (then orjson may write it again unchanged)."""
    doc, problem, exact = _decode(body)
    if problem is not None:
        return None, problem, False
    if isinstance(doc, list):
        return None, "BATCH", False  # batching is off: one operation per request
    if not isinstance(doc, dict):
        return None, "NOT_AN_OBJECT", False
    if not isinstance(doc.get("query"), str) and not isinstance(doc.get("documentId"), str):
        return None, "QUERY_MISSING", False
    if not isinstance(doc.get("variables") or {}, dict):
        return None, "VARIABLES_NOT_AN_OBJECT", False
    if not isinstance(doc.get("operationName") or "", str):
        return None, "OPERATION_NAME_NOT_A_STRING", False
    return doc, None, exact


def _no_store(send: Send) -> Send:
    """``send`` with ``Cache-Control: no-store`` on the response (unless it has one)."""

    async def sending(msg: Message) -> None:
        if msg["type"] == "http.response.start":
            headers = list(msg.get("headers", []))
            if not any(name.lower() == b"cache-control" for name, _ in headers):
                headers.append((b"cache-control", b"no-store"))
            msg["headers"] = headers
        await send(msg)

    return sending


def _replay(body: bytes, upstream: Receive) -> Callable[[], Any]:
    """Hand the already-read body downstream once, then the real channel (disconnects)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return await upstream()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive
