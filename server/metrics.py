"""Prometheus metrics of one API app: the series, a per-app registry and the ASGI middleware
that counts requests, their latency and the refusals middleware answers with.

Every app has its own :class:`~prometheus_client.CollectorRegistry` (never the process-wide
default), so tests that build many apps in one process don't collide. Label values are
bounded: ``route`` is a route's path template (``/ebooks/read/{loan_id}``), never the raw
path; ``code`` is an :class:`ErrorCode` value.

The outbox series are computed at scrape time from the outbox table (see
:func:`outbox_snapshot`), so every API process answers the same figures.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from models import OutboxMessage
from policies.enums import OutboxState
from policies.errors import ErrorCode

# A refusal body is one short error document; anything larger is not ours to parse.
MAX_REFUSAL_BYTES = 8192
UNMATCHED_ROUTE = "unmatched"  # 404s: one label value, whatever path was asked for
ERROR_CODES = frozenset(c.value for c in ErrorCode)
COUNTED = "hondana_errors_counted"  # scope["state"] flag: the GraphQL view counted already
UNSENT = (OutboxState.PENDING, OutboxState.SENDING)
# The method label is one of these or OTHER: a client may send any token as a method.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class Metrics:
    """The API's series, registered on a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "hondana_http_requests",
            "HTTP requests answered, by route template, method and status.",
            ["route", "method", "status"],
            registry=r,
        )
        self.duration = Histogram(
            "hondana_http_request_duration_seconds",
            "Time from the request's arrival to the end of its response, by route template.",
            ["route"],
            registry=r,
        )
        self.errors = Counter(
            "hondana_errors",
            "Top-level errors answered (GraphQL errors and middleware refusals), by code.",
            ["code"],
            registry=r,
        )
        # No backlog count: one anonymous password reset that matched a patron queues one
        # mail, and a count that moved by one would tell the requester so (AUTH-8).
        self.outbox_retrying = Gauge(
            "hondana_outbox_retrying",
            "Unsent mails that failed at least once and wait for a retry.",
            registry=r,
        )
        self.outbox_oldest_age = Gauge(
            "hondana_outbox_oldest_age_seconds",
            "How long the oldest due, unsent mail has been due (0 when none is).",
            registry=r,
        )
        self.scrape_errors = Counter(
            "hondana_metrics_scrape_errors",
            "Scrapes whose outbox query failed (the outbox gauges keep their last values).",
            registry=r,
        )

    def count_codes(self, codes: Iterable[object]) -> None:
        """Count each error code; anything that is not an :class:`ErrorCode` value is
        counted as ``INTERNAL_ERROR`` so a stray string cannot add a label value."""
        for code in codes:
            value = code if isinstance(code, str) and code in ERROR_CODES else "INTERNAL_ERROR"
            self.errors.labels(code=value).inc()

    def set_outbox(self, snapshot: OutboxSnapshot) -> None:
        """Publish an outbox snapshot."""
        self.outbox_retrying.set(snapshot.retrying)
        self.outbox_oldest_age.set(snapshot.oldest_due_age_seconds)


def codes_of(document: object) -> list[object]:
    """The ``errors[].extensions.code`` of a GraphQL response document."""
    if not isinstance(document, dict):
        return []
    found: list[object] = []
    for error in document.get("errors") or []:
        extensions = error.get("extensions") if isinstance(error, dict) else None
        found.append(extensions.get("code") if isinstance(extensions, dict) else None)
    return found


@dataclass(frozen=True, slots=True)
class OutboxSnapshot:
    """The unsent part of the outbox at one instant."""

    backlog: int
    due: int
    retrying: int
    oldest_due_age_seconds: float


async def outbox_snapshot(engine: AsyncEngine, now: datetime) -> OutboxSnapshot:
    """One aggregate query over the unsent rows only, which the ``(state, next_attempt_at)``
    index finds without reading the sent history (that grows forever).

    A row is due once ``next_attempt_at`` has passed; its age counts from ``not_before``,
    when it was first owed, so retries don't make an old mail look young. A SENDING row
    is in a dispatcher's hands (or its lease is running out) and still counts as unsent.
    """
    is_due = OutboxMessage.next_attempt_at <= now
    stmt = select(
        func.count(),
        func.coalesce(func.sum(case((is_due, 1), else_=0)), 0),
        func.coalesce(func.sum(case((OutboxMessage.attempts > 0, 1), else_=0)), 0),
        func.min(case((is_due, OutboxMessage.not_before))),
    ).where(OutboxMessage.state.in_(UNSENT))
    async with engine.connect() as conn:
        backlog, due, retrying, oldest = (await conn.execute(stmt)).one()
    age = 0.0
    if oldest is not None:  # an aware UTC datetime on both databases (UTCDateTime)
        age = max(0.0, (now - oldest).total_seconds())
    return OutboxSnapshot(int(backlog), int(due), int(retrying), age)


def route_template(routes: Sequence[BaseRoute], scope: Scope) -> str:
    """The path template of the route that serves ``scope`` (``unmatched`` if none does)."""
    for route in routes:
        match, _ = route.matches(scope)
        if match is not Match.NONE:  # PARTIAL: the path matches, the method doesn't (405)
            return str(getattr(route, "path", UNMATCHED_ROUTE)) or "/"
    return UNMATCHED_ROUTE


class MetricsMiddleware:
    """Count every HTTP request by route template, method and status, and time it.

    It runs outside every other middleware, so it also sees their refusals (maintenance,
    CSRF, size, media type): an error response that the GraphQL view did not count itself
    is read here (it is one short JSON document) and its codes counted.
    """

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Starlette puts itself in the scope before its middleware run: its routes are there.
        route = route_template(getattr(scope.get("app"), "routes", ()), scope)
        state: dict[str, Any] = scope.setdefault("state", {})
        started = time.perf_counter()
        status = 500
        inspect = False
        body: list[bytes] = []
        size = 0

        async def send_counted(msg: Message) -> None:
            nonlocal status, inspect, size
            if msg["type"] == "http.response.start":
                status = msg["status"]
                headers = dict(msg.get("headers", []))
                inspect = status >= 400 and headers.get(b"content-type", b"").startswith(
                    b"application/json"
                )
            elif msg["type"] == "http.response.body" and inspect:
                chunk = msg.get("body", b"")
                size += len(chunk)
                if size > MAX_REFUSAL_BYTES:
                    inspect = False
                    body.clear()
                else:
                    body.append(chunk)
            await send(msg)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            m = self.metrics
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            m.requests.labels(route=route, method=method, status=str(status)).inc()
            m.duration.labels(route=route).observe(time.perf_counter() - started)
            if inspect and body and not state.get(COUNTED):
                with suppress(ValueError):  # not a JSON error document: nothing to count
                    m.count_codes(codes_of(json.loads(b"".join(body))))
