"""A query sent again runs by its plan straight from its text (issue [R2 9/9],
server/graphql.py ``HondanaGraphQL._post``).

The first time a document arrives it goes the whole way through Strawberry: parsed, its
tokens counted, validated, executed (by its plan, schema/shared/plans.py). Once it has run
by its plan to the end, the view keeps it by text and operation name, and the next request
with that text skips Strawberry's parse, validation, extension hooks and executor set-up.
What must hold:

- the answer is the same, byte for byte, as the whole way's and graphql-core's own;
- anything off the happy path (variables that do not coerce, an error in a resolver, no
  session where one is needed) goes the whole way and answers exactly as before;
- the execution time limit holds on the short way too.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import text
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from policies.clock import FixedClock
from schema.root import HondanaSchema
from schema.shared.ids import encode as encode_id
from server.graphql import HondanaGraphQL
from server.settings import Settings
from tests.api.lists import World
from tests.api.test_query_counts import CASES, document
from tests.support import Api, Factory, app_client, codes


def _view(api: Api) -> HondanaGraphQL:
    view: HondanaGraphQL = api.app.state.graphql
    return view


@contextmanager
def _whole_way_count(api: Api) -> Iterator[list[int]]:
    """How many requests go the whole way (through ``HondanaSchema.execute``)."""
    schema = _view(api).schema
    assert isinstance(schema, HondanaSchema)
    calls: list[int] = []
    whole_way = schema.execute

    async def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return await whole_way(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(schema, "execute", counted)
        yield calls


async def _graphql_cores(api: Api, text_: str, variables: dict[str, Any], **kw: Any) -> str:
    """The answer of graphql-core's own executor (the view's plans off for one request)."""
    schema = _view(api).schema
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(schema, "execution_context_class", StrawberryGraphQLCoreExecutionContext)
        return _dump(await api.gql(text_, variables, **kw))


def _dump(body: dict[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False)


@pytest.mark.parametrize("name", list(CASES))
async def test_a_query_sent_again_answers_the_same_bytes_by_the_short_way(
    api: Api, factory: Factory, name: str
) -> None:
    case = CASES[name]
    world = await World.create(api, factory)
    await case.grow(world, 10)
    for label, text_, variables in case.sends:
        token = world.staff_token if label.startswith("staff-dashboard") else world.token
        values = variables(world, 10)
        with _whole_way_count(api) as whole_way:
            first = _dump(await api.gql(text_, values, token=token))
            assert whole_way == [1], label
            second = _dump(await api.gql(text_, values, token=token))
            assert whole_way == [1], f"{label}: the second request went the whole way"
        assert '"errors"' not in first, (label, first[:300])
        assert second == first, label
        assert second == await _graphql_cores(api, text_, values, token=token), label


async def test_off_the_happy_path_goes_the_whole_way_and_answers_as_before(
    api: Api, factory: Factory
) -> None:
    # AUTH-1: myLoans without a session; a variable of the wrong type; an id that names
    # no title (null where null is allowed stays on the short way).
    world = await World.create(api, factory)
    loans, record = document("web-opac", "MyLoans"), document("web-opac", "RecordDetail")
    await api.gql(loans, {}, token=world.token)  # both ready now
    await api.gql(record, {"id": encode_id("Record", 1)})
    cases: list[tuple[str, dict[str, Any], str | None, int]] = [
        (loans, {}, None, 1),  # the plan gives up at the root field: the whole way
        (record, {"id": {"not": "an id"}}, None, 1),  # the variable does not coerce
        (record, {"id": encode_id("Record", 999_999)}, None, 0),  # null: the short way
    ]
    for text_, variables, token, expected in cases:
        with _whole_way_count(api) as whole_way:
            body = await api.gql(text_, variables, token=token)
        assert len(whole_way) == expected, (variables, body)
        assert _dump(body) == await _graphql_cores(api, text_, variables, token=token)
    assert "UNAUTHENTICATED" in codes(await api.gql(loans, {}))
    assert codes(await api.gql(record, {"id": {"not": "an id"}})) == ["INVALID_QUERY"]


LIMIT_SECONDS = 0.5
LOCK_SECONDS = 4.0


async def test_the_time_limit_holds_on_the_short_way(
    api: Api, factory: Factory, settings: Settings, clock: FixedClock
) -> None:
    # SEC: an operation past the execution limit answers EXECUTION_TIMEOUT: a ready query
    # blocked behind a lock on its table is cut off at the limit, not when the lock goes.
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("SQLite readers are not blocked by a writer's lock (WAL)")
    record = await factory.record()
    detail = document("web-opac", "RecordDetail")
    variables = {"id": encode_id("Record", record.id)}
    limited = settings.model_copy(update={"execution_timeout_seconds": LIMIT_SECONDS})
    async with app_client(limited, clock) as client:
        assert (await client.gql(detail, variables))["data"]["record"]  # ready now
        engine = client.app.state.engine
        async with engine.connect() as locker:
            await locker.execute(text("LOCK TABLE records IN ACCESS EXCLUSIVE MODE"))
            release = asyncio.get_running_loop().call_later(
                LOCK_SECONDS, lambda: asyncio.ensure_future(locker.rollback())
            )
            try:
                with _whole_way_count(client) as whole_way:
                    body = await client.gql(detail, variables)
            finally:
                release.cancel()
                await locker.rollback()
        assert whole_way == []
        assert codes(body) == ["EXECUTION_TIMEOUT"], body
        assert body["data"] is None
