"""A mutation sent again runs by its plan, and its resolver never runs twice (issue
[R2 9/9], schema/shared/plans.py, server/graphql.py ``HondanaGraphQL._post``).

Mutations are most of what the front ends send under load. Like a query, a mutation
document that has run by its plan once skips Strawberry's parse, validation and executor
set-up the next time. Unlike a query, it cannot simply run again when its plan gives up:
its resolver has written. So the plan records the root resolver's answer (or exception),
and graphql-core's run replays it. What must hold:

- the short way answers the same bytes as the whole way and as graphql-core's own;
- when the plan gives up after the resolver ran, on the whole way or the short way, the
  resolver has run once, and the answer is graphql-core's;
- a mutation the plan gives up on before its resolver (no session) answers as before.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import resolvers.circulation.basket as basket
from models import BasketEntry
from schema.shared.ids import encode as encode_id
from tests.api.test_query_counts import document
from tests.api.test_ready_queries import _dump, _graphql_cores, _whole_way_count
from tests.support import Api, Factory, codes


async def _held_and_basket(api: Api, factory: Factory) -> tuple[str, dict[str, Any]]:
    """A patron's token and the ids the idempotent cases use: a title in the basket, a
    cancelled hold, an entry already removed."""
    library = await factory.library("受取")
    record = await factory.record("もう一度の本")
    await factory.copy(record, library)
    patron = await factory.patron("yomu2468", default_pickup_library_id=library.id)
    token = await api.login(patron.card_number, "yomu2468")
    add = document("web-opac", "AddToBasket")
    entry = (await api.gql(add, {"recordId": encode_id("Record", record.id)}, token=token))["data"][
        "addToBasket"
    ]["entry"]["id"]
    placed = await api.gql(
        document("web-opac", "PlaceHolds"), {"basketEntryIds": [entry]}, token=token
    )
    hold = placed["data"]["placeHolds"]["results"][0]["hold"]["id"]
    await api.gql(document("web-opac", "CancelHold"), {"holdId": hold}, token=token)
    return token, {"record": encode_id("Record", record.id), "entry": entry, "hold": hold}


async def test_a_mutation_sent_again_answers_the_same_bytes_by_the_short_way(
    api: Api, factory: Factory
) -> None:
    # BASKET-1 (a title already in the basket answers its entry), HOLD-6 (a cancelled
    # hold is not modifiable), BASKET-1 (a gone entry is NOT_FOUND): each answers the
    # same every time, so the whole way, the short way and graphql-core can be compared.
    token, ids = await _held_and_basket(api, factory)
    add = document("web-opac", "AddToBasket")
    await api.gql(add, {"recordId": ids["record"]}, token=token)  # the title back in
    cases = [
        ("AddToBasket", {"recordId": ids["record"]}),
        ("CancelHold", {"holdId": ids["hold"]}),
        ("RemoveFromBasket", {"basketEntryIds": [ids["entry"]]}),
    ]
    for name, variables in cases:
        text_ = document("web-opac", name)
        await api.gql(text_, variables, token=token)  # ready (or was already)
        with _whole_way_count(api) as whole_way:
            short = _dump(await api.gql(text_, variables, token=token))
        assert whole_way == [], f"{name}: the second request went the whole way"
        assert '"errors": [{"code"' in short or '"errors": []' in short, short
        assert short == await _graphql_cores(api, text_, variables, token=token), name


async def test_a_mutation_the_plan_gives_up_on_after_its_resolver_runs_once(
    api: Api, factory: Factory
) -> None:
    # The plan gives up on the payload (its entry names a title that is not there, a
    # null where the schema promises a title) after the add has run: graphql-core answers
    # from the add's recorded answer, on the whole way and on the short way alike.
    token, ids = await _held_and_basket(api, factory)
    # A text of its own (the add above made the OPAC's ready): its first time is the whole way.
    add, variables = document("web-opac", "AddToBasket") + "\n", {"recordId": ids["record"]}
    calls: list[int] = []
    real_add = basket.add

    async def add_pointing_nowhere(*args: Any) -> BasketEntry:
        calls.append(1)
        row = await real_add(*args)
        return BasketEntry(
            id=row.id, patron_id=row.patron_id, record_id=999_999, added_at=row.added_at
        )

    async def send(*, broken: bool) -> tuple[dict[str, Any], list[int]]:
        calls.clear()
        with pytest.MonkeyPatch.context() as patch:
            if broken:
                patch.setattr(basket, "add", add_pointing_nowhere)
            with _whole_way_count(api) as whole_way:
                body = await api.gql(add, variables, token=token)
        return body, whole_way

    body, whole_way = await send(broken=True)  # the first time: the whole way
    assert (calls, whole_way) == ([1], [1]), body
    assert body["errors"][0]["path"] == ["addToBasket", "entry", "record"], body
    await send(broken=False)  # ready now
    body, whole_way = await send(broken=True)  # the short way gives up: the whole way
    assert (calls, whole_way) == ([1], [1]), body
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(basket, "add", add_pointing_nowhere)
        plain = json.loads(await _graphql_cores(api, add, variables, token=token))
    # The same answer but for the request id an INTERNAL_ERROR carries (one per request).
    for answer in (body, plain):
        assert [e["extensions"].pop("requestId") for e in answer["errors"]]
    assert _dump(body) == _dump(plain)


async def test_a_mutation_refused_before_its_resolver_answers_as_before(api: Api) -> None:
    # AUTH-1: addToBasket without a session is refused at the root field, before the
    # resolver: on the short way too, the answer is graphql-core's.
    add, variables = document("web-opac", "AddToBasket"), {"recordId": encode_id("Record", 1)}
    first = _dump(await api.gql(add, variables))
    again = _dump(await api.gql(add, variables))
    assert first == again == await _graphql_cores(api, add, variables)
    assert "UNAUTHENTICATED" in codes(await api.gql(add, variables))
