"""placeHolds answers from what it wrote (BASKET-2): no statement runs after the commit
that placed the holds, so a failing read can never make a placed hold look unplaced (the
patron would place it again); previewHolds only reads."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from tests.circulation.ops import basket_add, gid
from tests.support import Api, Factory

PLACE = """mutation($e: [ID!]!, $p: ID) { placeHolds(basketEntryIds: $e, pickupLibraryId: $p) {
  pickupLibrary { code name } errors { code }
  results { ok record { title } hold { id state queuePosition queueLength placedAt
    record { title } pickupLibrary { code } } errors { code } } } }"""
PREVIEW = PLACE.replace("mutation", "query").replace("placeHolds", "previewHolds")


@contextmanager
def statements(api: Api) -> Iterator[list[str]]:
    """Every statement and transaction end the app's engine sees, in order."""
    seen: list[str] = []
    engine = api.app.state.engine.sync_engine

    def on_execute(_c: object, _cur: object, statement: str, *_: object) -> None:
        seen.append(statement.split()[0].upper())

    def on_commit(_c: object) -> None:
        seen.append("COMMIT")

    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "commit", on_commit)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "commit", on_commit)


async def test_place_holds_answers_from_what_it_wrote(api: Api, factory: Factory) -> None:
    """The guide: 「「予約結果」画面が表示されたら、予約は完了です。」 The 予約結果 must be the
    truth of what was written: built inside the placing transaction, nothing read after."""
    central = await factory.library("CEN")
    patron = await factory.patron("yomu2468")
    other = await factory.patron("yomu2468")
    token = await api.login(patron.card_number, "yomu2468")
    other_token = await api.login(other.card_number, "yomu2468")
    records = [await factory.record(f"本 {i}") for i in range(3)]
    for rec in records:
        await factory.copy(rec, central)
    first = await basket_add(api, other_token, records[0].id)  # someone is ahead in line
    await api.gql(PLACE, {"e": [first], "p": gid("Library", central.id)}, token=other_token)
    entries = [await basket_add(api, token, rec.id) for rec in records]
    variables = {"e": entries, "p": gid("Library", central.id)}
    with statements(api) as preview_seen:
        preview = await api.gql(PREVIEW, variables, token=token)
    assert all(r["ok"] and r["hold"] is None for r in preview["data"]["previewHolds"]["results"])
    # A preview writes nothing and commits nothing of its own: no write transaction, no
    # lock; its commits are those of any patron request (the session check).
    with statements(api) as baseline:
        await api.gql("{ myHolds { id } }", token=token)
    assert not {"INSERT", "DELETE", "UPDATE"} & set(preview_seen), preview_seen
    assert preview_seen.count("COMMIT") == baseline.count("COMMIT"), preview_seen
    with statements(api) as seen:
        body = await api.gql(PLACE, variables, token=token)
    results = body["data"]["placeHolds"]["results"]
    assert [r["hold"]["queuePosition"] for r in results] == [2, 1, 1]
    assert [r["hold"]["record"]["title"] for r in results] == ["本 0", "本 1", "本 2"]
    assert body["data"]["placeHolds"]["pickupLibrary"]["code"] == "CEN"
    last_commit = len(seen) - 1 - seen[::-1].index("COMMIT")
    assert "INSERT" in seen[:last_commit]
    assert seen[last_commit + 1 :] == [], seen
