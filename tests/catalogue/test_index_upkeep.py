"""The search index follows every change: import, re-import, staff edits, copies and
deletion (SEARCH-7), and the staff cataloguing API's own rules."""

from __future__ import annotations

from itertools import islice
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models import Hold, RecordSearch, SearchPosting
from policies.enums import StaffRole
from resolvers.catalogue import search_index
from resolvers.catalogue.marc_files import iter_marc_file
from schema.shared import ids
from server.catalogue_import import import_records, prepared_batches
from tests.support import Api, Factory, codes

pytestmark = pytest.mark.long

SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "data" / "lc-books-2016-sample.mrc"
COUNT = '{ search(query: "%s") { totalCount edges { node { id title } } } }'
UPDATE = """mutation($id: ID!, $input: RecordInput!) {
  updateRecord(id: $id, input: $input) { record { title isbn } errors { code field } } }"""
DELETE = """mutation($id: ID!) { deleteRecord(id: $id) { deletedId errors { code } } }"""


async def total(api: Api, q: str) -> int:
    body = await api.gql(COUNT % q)
    return int(body["data"]["search"]["totalCount"])


async def staff(api: Api, factory: Factory, *roles: StaffRole) -> str:
    await factory.staff("cat", "cataloguer-pass-1", set(roles))
    return await api.staff_login("cat", "cataloguer-pass-1")


async def test_staff_edit_reindexes_at_once(api: Api, factory: Factory) -> None:
    # SEARCH-7: an edit moves the title from its old words to its new ones.
    record = await factory.record("吾輩は猫である", isbn="9784101010014")
    token = await staff(api, factory, StaffRole.CATALOGUE)
    rid = ids.encode("Record", record.id)
    assert await total(api, "猫") == 1
    body = await api.gql(
        UPDATE, {"id": rid, "input": {"title": "坊っちゃん", "isbn": "4-10-101003-X"}}, token=token
    )
    assert body["data"]["updateRecord"]["errors"] == []
    assert body["data"]["updateRecord"]["record"]["isbn"] == "9784101010038"
    assert await total(api, "猫") == 0
    assert await total(api, "坊ッチャン") == 1  # katakana = hiragana, small っ folded
    assert await total(api, "9784101010014") == 0
    assert await total(api, "410101003x") == 1  # the ISBN-10 of the new ISBN-13


async def test_staff_edit_refuses_bad_values_and_changes_nothing(
    api: Api, factory: Factory
) -> None:
    # SEARCH-7: bad input is a clear code and the title stays as it was.
    record = await factory.record("三四郎")
    token = await staff(api, factory, StaffRole.CATALOGUE)
    rid = ids.encode("Record", record.id)
    for bad in (
        {"title": "  "},
        {"isbn": "978-0-00-000000-1"},
        {"year": 99999},
        {"title": "x" * 3000},
    ):
        body = await api.gql(UPDATE, {"id": rid, "input": bad}, token=token)
        assert [e["code"] for e in body["data"]["updateRecord"]["errors"]] == ["INVALID_INPUT"]
    assert await total(api, "三四郎") == 1
    body = await api.gql(
        UPDATE, {"id": ids.encode("Record", 999999), "input": {"title": "x"}}, token=token
    )
    assert [e["code"] for e in body["data"]["updateRecord"]["errors"]] == ["NOT_FOUND"]


async def test_cataloguing_is_staff_only(api: Api, factory: Factory) -> None:
    # STAFF-1: patrons and counter staff may not edit the catalogue.
    record = await factory.record("こころ")
    token = await staff(api, factory, StaffRole.COUNTER)
    body = await api.gql(DELETE, {"id": ids.encode("Record", record.id)}, token=token)
    assert codes(body) == ["FORBIDDEN"]
    assert await total(api, "こころ") == 1


async def test_delete_takes_the_title_out_of_the_index(api: Api, factory: Factory) -> None:
    # SEARCH-7: a deleted title leaves no index rows behind; one with holds is kept.
    lib = await factory.library("central")
    gone = await factory.record("銀河鉄道の夜")
    await factory.copy(gone, lib)
    kept = await factory.record("銀河の歴史")
    patron = await factory.patron()
    now = factory.clock.now()
    await factory.add(
        Hold(patron_id=patron.id, record_id=kept.id, pickup_library_id=lib.id, placed_at=now)
    )
    token = await staff(api, factory, StaffRole.CATALOGUE)
    assert await total(api, "銀河") == 2
    body = await api.gql(DELETE, {"id": ids.encode("Record", gone.id)}, token=token)
    assert body["data"]["deleteRecord"]["errors"] == []
    body = await api.gql(DELETE, {"id": ids.encode("Record", kept.id)}, token=token)
    assert [e["code"] for e in body["data"]["deleteRecord"]["errors"]] == ["RECORD_IN_USE"]
    assert await total(api, "銀河") == 1
    async with api.app.state.services.sessions() as db:
        assert await db.scalar(select(func.count()).select_from(RecordSearch)) == 1
        left = (await db.execute(select(SearchPosting.ids))).scalars().all()
    from pyroaring import BitMap

    assert all(gone.id not in BitMap.deserialize(b) for b in left)


async def test_copies_move_the_library_facet(api: Api, factory: Factory) -> None:
    # SEARCH-7: a new copy puts the title under its library's filter.
    central, kita = await factory.library("central"), await factory.library("kita")
    record = await factory.record("注文の多い料理店")
    await factory.copy(record, central)
    query = '{ search(query: "料理店", filters: {libraryId: "%s"}) { totalCount } }'
    assert (await api.gql(query % ids.encode("Library", kita.id)))["data"]["search"][
        "totalCount"
    ] == 0
    await factory.copy(record, kita)
    assert (await api.gql(query % ids.encode("Library", kita.id)))["data"]["search"][
        "totalCount"
    ] == 1


async def test_reimport_updates_in_place_and_compaction_keeps_results(api: Api) -> None:
    # SEARCH-7: re-importing the same file updates every title (keyed by control number),
    # and merging the index rows changes no result.
    sessions = api.app.state.services.sessions
    items = list(islice(iter_marc_file(SAMPLE), 3000))  # not the whole sample
    first = await import_records(
        sessions, prepared_batches(items, 1000), now=api.app.state.services.clock.now()
    )
    before = {q: await total(api, q) for q in ("日本", "history", "tokyo", "宗教")}
    again = await import_records(
        sessions, prepared_batches(items, 700), now=api.app.state.services.clock.now()
    )
    assert (first.inserted, again.inserted, again.updated) == (3000, 0, 3000)
    assert again.record_ids == first.record_ids
    assert {q: await total(api, q) for q in before} == before
    merged = await search_index.compact(sessions)
    assert merged > 0
    assert {q: await total(api, q) for q in before} == before
    async with sessions() as db, db.begin():
        assert await search_index.rebuild(db) == 3000
    assert {q: await total(api, q) for q in before} == before


async def _rows_per_slot(api: Api) -> int:
    """The most posting rows any (key, block) has."""
    async with api.app.state.services.sessions() as db:
        counts = await db.execute(
            select(func.count())
            .select_from(SearchPosting)
            .group_by(SearchPosting.key, SearchPosting.block)
        )
        return max(counts.scalars())


async def test_a_large_import_leaves_the_index_merged(api: Api) -> None:
    # SEARCH-7 (docs/search.md): an import of many new titles merges the rows it wrote
    # (one per key and batch) before it ends; a small one leaves them for the next.
    sessions = api.app.state.services.sessions
    items = list(islice(iter_marc_file(SAMPLE), 1200))
    now = api.app.state.services.clock.now()
    await import_records(sessions, prepared_batches(items[:600], 200), now=now)
    assert await _rows_per_slot(api) > 1
    before = {q: await total(api, q) for q in ("日本", "history", "宗教")}
    await import_records(sessions, prepared_batches(items[600:], 200), now=now, compact_after=600)
    assert await _rows_per_slot(api) == 1
    after = {q: await total(api, q) for q in before}
    assert all(after[q] >= before[q] for q in before) and after != before


READING = '{ search(query: "%s") { totalCount edges { node { reading { title author } } } } }'


async def test_staff_edit_works_out_the_reading(api: Api, factory: Factory) -> None:
    # SEARCH-2: a title typed by staff, with no romanisation, is read by the analyser at
    # once, so its reading in kana finds it, with or without spaces, and the reading shows.
    record = await factory.record("三四郎")
    token = await staff(api, factory, StaffRole.CATALOGUE)
    body = await api.gql(
        UPDATE,
        {"id": ids.encode("Record", record.id), "input": {"title": "吾輩は猫である"}},
        token=token,
    )
    assert body["data"]["updateRecord"]["errors"] == []
    for typed in ("わがはいはねこである", "ワガハイハネコデアル", "わがはい ねこ"):
        assert await total(api, typed) == 1, typed
    found = (await api.gql(READING % "猫"))["data"]["search"]["edges"][0]["node"]
    assert found["reading"]["title"] == "ワガハイ ハ ネコ デ アル"


async def test_reindex_works_out_readings_for_titles_from_before_them(
    api: Api, factory: Factory
) -> None:
    # SEARCH-7: `hondana reindex` after upgrading to 0010 fills in every reading.
    record = await factory.record("東京の歴史", title_reading="Tōkyō no rekishi")
    assert await total(api, "とうきょうのれきし") == 0  # made before readings existed
    async with api.app.state.services.sessions() as db, db.begin():
        assert await search_index.rebuild(db) == 1
    assert await total(api, "とうきょうのれきし") == 1
    assert await total(api, "トウキョウ レキシ") == 1
    async with api.app.state.services.sessions() as db:
        from models import Record

        stored = await db.get(Record, record.id)
        assert stored is not None and stored.title_kana == "トウキョウ ノ レキシ"
