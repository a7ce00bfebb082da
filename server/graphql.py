"""The GraphQL endpoint: Strawberry's ASGI view with our context and GraphiQL defaults."""

from __future__ import annotations

import json
import logging
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from resolvers.accounts.sessions import viewer_for_token
from resolvers.shared.context import Context, Services
from resolvers.shared.loaders import Loaders
from resolvers.shared.reads import RequestReads
from schema.root import HondanaSchema
from server.metrics import COUNTED, Metrics, codes_of
from server.middleware import SESSION_COOKIE, locale_of

log = logging.getLogger("hondana.graphql")
# Where ``get_context`` leaves the request's read session for ``run`` to close.
REQUEST_READS = "hondana.reads"


def encode_json(data: object) -> str:
    """A GraphQL answer as compact UTF-8 JSON (Japanese text as UTF-8, not ``\\u`` escapes:
    a third of the bytes and readable). orjson writes the same bytes as ``json.dumps(data,
    ensure_ascii=False, separators=(",", ":"))`` for what a result holds (string keys,
    strings, numbers, booleans, null), faster; anything it refuses (an integer past 64
    bits, a non-string key, a lone surrogate) goes through ``json`` exactly as before.
    A ``str``, as before: Strawberry sends bytes over a WebSocket as binary frames."""
    try:
        return orjson.dumps(data).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


class HondanaGraphQL(GraphQL[Context, None]):
    """Builds the typed :class:`Context` for each request: the viewer from the session
    cookie (web) or ``Authorization: Bearer`` (app), the locale and fresh loaders."""

    def __init__(
        self,
        schema: HondanaSchema,
        services: Services,
        *,
        ide: bool,
        metrics: Metrics | None = None,
    ) -> None:
        super().__init__(
            schema, graphql_ide="graphiql" if ide else None, allow_queries_via_get=True
        )
        self.services = services
        self.metrics = metrics

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        headers = request.headers
        state: dict[str, Any] = request.scope.setdefault("state", {})
        loaders = Loaders(self.services.sessions)
        state[REQUEST_READS] = loaders.reads  # closed by ``run`` when the request ends
        auth = headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            token: str | None = auth[7:].strip()
            via_cookie = False
        else:
            token, via_cookie = request.cookies.get(SESSION_COOKIE), True
        viewer = await viewer_for_token(
            self.services, token, via_cookie=via_cookie, reads=loaders.reads
        )
        client = request.client
        return Context(
            services=self.services,
            viewer=viewer,
            locale=locale_of(headers),
            request_id=state.get("request_id", "-"),
            loaders=loaders,
            client_ip=client.host if client else None,
            user_agent=headers.get("user-agent"),
            response=response,
        )

    async def run(  # type: ignore[override]
        self, request: Request | WebSocket, context: Any = UNSET, root_value: Any = UNSET
    ) -> Response | WebSocket:
        """The request, then its read session closed whatever happened (the connection
        goes back to the pool before the response is sent)."""
        try:
            return await super().run(request, context, root_value)
        finally:
            reads: RequestReads | None = request.scope.get("state", {}).pop(REQUEST_READS, None)
            if reads is not None:
                await reads.close()

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        response = await super().process_result(request, result)
        if self.metrics is not None:
            # Top-level error codes; the metrics middleware skips what is counted here.
            self.metrics.count_codes(codes_of(response))
            request.scope.setdefault("state", {})[COUNTED] = True
        return response

    def encode_json(self, data: object) -> str:
        return encode_json(data)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        # GraphiQL must send the CSRF header too, or the cookie session is refused.
        html = self.graphql_ide_html.replace(
            "const defaultHeaders = {};",
            'const defaultHeaders = {"X-Hondana-Client": "graphiql"};',
        )
        return HTMLResponse(html)
