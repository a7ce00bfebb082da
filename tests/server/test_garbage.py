"""A request leaves no garbage for the cyclic collector, and a serving process sets the
collector for serving (issue [R2 9/9], server/collector.py, ``Loaders.close``).

Under load the API spent a fifth to a third of its CPU in Python's cyclic garbage
collector: each request's loaders referred back to their owner (a cycle), so everything
the request read stayed alive until a full collection, which walked every object of the
process. Reference counting now frees a request's objects when it ends.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from aiodataloader import DataLoader

from policies.clock import FixedClock
from resolvers.shared.context import Context
from resolvers.shared.loaders import Loaders
from schema.shared.ids import encode
from server import collector
from server.app import create_app
from server.settings import Settings
from tests.api.lists import World
from tests.api.test_query_counts import CASES
from tests.support import Api, Factory


@contextmanager
def _unreachable() -> Iterator[list[object]]:
    """The objects that became unreachable meanwhile (kept for counting, then freed)."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    found: list[object] = []
    try:
        yield found
        gc.collect()
        found.extend(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


OURS = (Loaders, DataLoader, Context)


@pytest.mark.parametrize("name", ["myLoans", "myHolds", "search", "pullList"])
async def test_a_request_leaves_nothing_for_the_cyclic_collector(
    api: Api, factory: Factory, name: str
) -> None:
    # A page of 10 loans, 10 holds, 10 hits: sent once to warm the caches, then again
    # with the collector watching. Nothing of the request's own (its loaders, its
    # context, the rows it read) may be left in a cycle.
    case = CASES[name]
    world = await World.create(api, factory)
    await case.grow(world, 10)
    label, text, variables = case.sends[0]
    token = world.staff_token if label.startswith("staff-dashboard") else world.token
    await api.gql(text, variables(world, 10), token=token)
    with _unreachable() as garbage:
        body = await api.gql(text, variables(world, 10), token=token)
    assert "errors" not in body
    kinds = Counter(type(o).__name__ for o in garbage if isinstance(o, OURS))
    models = Counter(type(o).__name__ for o in garbage if type(o).__module__.startswith("models"))
    assert not kinds and not models, (kinds, models)


async def test_a_record_page_by_graphql_core_leaves_no_rows_behind(
    api: Api, factory: Factory
) -> None:
    # A document the plans leave to graphql-core (a directive): its executor's own cycle
    # may hold the context a little longer, but the loaders are emptied, so none of the
    # rows the request read wait for the collector.
    record = await factory.record()
    text = "query($id: ID!) { record(id: $id) { title copies @include(if: true) { id } } }"
    await api.gql(text, {"id": encode("Record", record.id)})
    with _unreachable() as garbage:
        body = await api.gql(text, {"id": encode("Record", record.id)})
    assert body["data"]["record"]["title"]
    assert not [o for o in garbage if type(o).__module__.startswith("models")]


async def test_a_serving_process_freezes_what_start_up_made(
    settings: Settings, clock: FixedClock
) -> None:
    # Outside tests the app's start sets the collector (server/collector.py); a test
    # process, which makes hundreds of apps, keeps Python's defaults.
    defaults = gc.get_threshold()
    served = settings.model_copy(update={"env": "development"})
    try:
        app = create_app(served, clock=clock, notify=lambda: None)
        async with app.router.lifespan_context(app):
            assert gc.get_threshold() == (collector.GEN0, collector.GEN1, collector.GEN2)
            assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*defaults)
    app = create_app(settings, clock=clock, notify=lambda: None)
    async with app.router.lifespan_context(app):
        assert gc.get_threshold() == defaults
        assert gc.get_freeze_count() == 0
