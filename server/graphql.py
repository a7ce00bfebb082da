"""The GraphQL endpoint: Strawberry's ASGI view with our context and GraphiQL defaults."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
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
from schema.root import HondanaSchema
from schema.shared.plans import (
    PLANS_OFF,
    RAN_BY_PLAN,
    REPLAYS,
    Outcomes,
    PlannedExecutionContext,
    Ready,
    run_ready,
)
from server.metrics import COUNTED, Metrics, codes_of
from server.middleware import SESSION_COOKIE, locale_of

log = logging.getLogger("hondana.graphql")
# Where ``get_context`` leaves the request's loaders for ``run`` to close.
REQUEST_LOADERS = "hondana.loaders"
# Where a request's response-in-the-making waits for Strawberry (``get_sub_response``)
# when the context built with it is handed on.
SUB_RESPONSE = "hondana.sub_response"
# Queries kept ready to run by their plan, by text and operation name: production runs
# only the trusted documents (about a hundred), and anything else is bounded.
READY_SIZE = 256

ReadyKey = tuple[str, str | None]


class ReadyQueries:
    """The queries that have run by their plan, newest use last; the oldest goes first."""

    def __init__(self, size: int = READY_SIZE) -> None:
        self.size = size
        self.entries: OrderedDict[ReadyKey, Ready] = OrderedDict()

    def get(self, key: ReadyKey) -> Ready | None:
        ready = self.entries.get(key)
        if ready is not None:
            self.entries.move_to_end(key)
        return ready

    def put(self, key: ReadyKey, ready: Ready) -> None:
        self.entries[key] = ready
        self.entries.move_to_end(key)
        if len(self.entries) > self.size:
            self.entries.popitem(last=False)


def ready_key(body: bytes) -> tuple[ReadyKey, dict[str, Any]] | None:
    """The text and operation name of the POSTed request, and its variables; ``None`` for
    anything but one plain request object (Strawberry then reads and judges it)."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(doc, dict) or not isinstance(query := doc.get("query"), str):
        return None
    name, variables = doc.get("operationName"), doc.get("variables") or {}
    if not (name is None or isinstance(name, str)) or not isinstance(variables, dict):
        return None
    return (query, name), variables


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
        self.ready = ReadyQueries()

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        headers = request.headers
        state: dict[str, Any] = request.scope.setdefault("state", {})
        loaders = Loaders(self.services.sessions)
        state[REQUEST_LOADERS] = loaders  # closed by ``run`` when the request ends
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
            if isinstance(request, Request) and request.method == "POST" and context is UNSET:
                return await self._post(request, root_value)
            return await super().run(request, context, root_value)
        finally:
            loaders: Loaders | None = request.scope.get("state", {}).pop(REQUEST_LOADERS, None)
            if loaders is not None:
                await loaders.close()

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        handed: Response | None = request.scope.get("state", {}).pop(SUB_RESPONSE, None)
        return handed if handed is not None else await super().get_sub_response(request)

    async def _post(self, request: Request, root_value: Any) -> Response:
        """A query that has run by its plan before runs by it again at once: its text was
        parsed, counted against the token limit and validated then, and none of that
        depends on anything but the text. Anything else, or anything off the happy path
        (variables that do not coerce, an error, a null in a non-null place), goes the
        whole way through Strawberry, which answers it as it always has. A mutation's root
        resolver that has run on the short way is replayed on the whole way, not run again
        (schema/shared/plans.py)."""
        found = ready_key(await request.body()) if root_value is UNSET else None
        ready = self.ready.get(found[0]) if found is not None else None
        context: Any = UNSET
        outcomes: Outcomes = {}
        if ready is not None and found is not None:
            sub_response = await self.get_sub_response(request)
            context = await self.get_context(request, response=sub_response)
            answer = await self._by_plan(request, ready, found[1], context, sub_response, outcomes)
            if answer is not None:
                return answer
            request.scope.setdefault("state", {})[SUB_RESPONSE] = sub_response
        plans_off = PLANS_OFF.set(ready is not None)  # the plan has just given up
        replays = REPLAYS.set(outcomes or None)
        ran = RAN_BY_PLAN.set(None)
        try:
            response = await super().run(request, context, root_value)
            if found is not None and (done := RAN_BY_PLAN.get()) is not None:
                self.ready.put(found[0], done)
            return response
        finally:
            RAN_BY_PLAN.reset(ran)
            REPLAYS.reset(replays)
            PLANS_OFF.reset(plans_off)

    async def _by_plan(
        self,
        request: Request,
        ready: Ready,
        variables: dict[str, Any],
        context: Context,
        sub_response: Response,
        outcomes: Outcomes,
    ) -> Response | None:
        schema = self.schema
        assert isinstance(schema, HondanaSchema)
        executor: object = schema.execution_context_class
        if not (isinstance(executor, type) and issubclass(executor, PlannedExecutionContext)):
            return None  # the schema runs another executor (tests compare with graphql-core)
        try:
            async with asyncio.timeout(schema.execution_timeout):
                recorded = outcomes if ready.mutation else None
                data = await run_ready(
                    executor, schema._schema, ready, variables, context, recorded
                )
        except TimeoutError:
            result = schema.timed_out(context)
        else:
            if data is None:
                return None
            result = ExecutionResult(data=data, errors=None)
        return self.create_response(await self.process_result(request, result), sub_response)

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
