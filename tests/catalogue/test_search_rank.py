"""Relevance order and help for a search that finds nothing, on the real LC sample, on
SQLite and PostgreSQL (SEARCH-5, SEARCH-8)."""

from __future__ import annotations

import itertools

import pytest

from policies.folding import fold, query_terms, words_joined
from policies.reading import from_romanisation
from policies.variants import VARIANT_KANJI
from schema.shared import ids
from tests.catalogue.conftest import Sample
from tests.catalogue.test_search import every_id, scan
from tests.support import Api


def tier(sample: Sample, rid: int, q: str) -> tuple[int, bool]:
    """Where a title belongs in relevance order, worked out from the record itself:
    exact title 0, title begins with the query 1, reading begins with it 2, every word in
    the title field 3, the rest 4; and whether the title holds the words as typed."""
    record = sample.records[rid]
    query = "".join(t.text for t in query_terms(q))
    title = words_joined(fold(record.title))
    reading = words_joined(fold((record.title_kana or "").replace(" ", "")))
    title_field = sample.folded[rid][0]
    typed = all(word in record.title for word in q.split())
    if title == query:
        return 0, not typed
    if title.startswith(query):
        return 1, not typed
    if reading.startswith(query):
        return 2, not typed
    if all(t.text in title_field for t in query_terms(q)):
        # among the title words, only a title holding a variant kanji can be told apart
        variant = any(ch in VARIANT_KANJI for ch in record.title) and not q.isascii()
        return 3, variant and not typed
    return 4, False


@pytest.mark.parametrize("q", ["日本の歴史", "東京", "とうきょう", "江戸", "調査", "仏教"])
async def test_relevance_exact_title_then_prefix_then_reading_then_the_rest(
    catalogue: Api, sample: Sample, q: str
) -> None:
    # SEARCH-5: exact title, title prefix, reading prefix, title words, the rest; within
    # each, the form as typed before a variant form (江戸 before 江戶), then newest first.
    found = await every_id(catalogue, q)
    assert set(found) == scan(sample, q)
    ranks = [tier(sample, rid, q) for rid in found]
    assert ranks == sorted(ranks), q
    # newest first within a tier (ids: newest added last)
    for (rank_a, a), (rank_b, b) in itertools.pairwise(zip(ranks, found, strict=True)):
        if rank_a == rank_b:
            assert a > b
    assert ranks[0][0] <= 2, "a title or reading that begins with the query comes first"


async def test_reading_prefix_outranks_a_word_inside_a_title(
    catalogue: Api, sample: Sample
) -> None:
    # SEARCH-5: a kana query ranks the titles read that way first.
    found = await every_id(catalogue, "にほんの")
    first = sample.records[found[0]]
    assert fold((first.title_kana or "").replace(" ", "")).startswith(fold("にほんの"))


HELP = """query($q: String!) { search(query: $q, first: 3) { totalCount
  help { unmatchedWords otherWordsCount otherWordsHits { id title } } } }"""


async def test_a_search_that_finds_nothing_names_the_word_and_helps(
    catalogue: Api, sample: Sample
) -> None:
    # SEARCH-8: which word matched nothing, and what the other words find.
    body = await catalogue.gql(HELP, {"q": "江戸 zzqxv 東京"})
    result = body["data"]["search"]
    assert result["totalCount"] == 0
    helped = result["help"]
    assert helped["unmatchedWords"] == ["zzqxv"]
    assert helped["otherWordsCount"] == len(scan(sample, "江戸 東京")) > 0
    hits = [ids.decode("Record", h["id"]) for h in helped["otherWordsHits"]]
    assert len(hits) == 3 and set(hits) <= scan(sample, "江戸 東京")
    # every word unknown: named, nothing else to offer
    body = await catalogue.gql(HELP, {"q": "zzqxv ぬゑゐ"})
    helped = body["data"]["search"]["help"]
    assert helped["unmatchedWords"] == ["zzqxv", "ぬゑゐ"]
    assert helped["otherWordsCount"] == 0 and helped["otherWordsHits"] == []


async def test_no_help_when_something_matches_or_words_only_miss_each_other(
    catalogue: Api, sample: Sample
) -> None:
    # SEARCH-8: help is null when there are results, and when each word matches alone.
    body = await catalogue.gql(HELP, {"q": "東京"})
    assert body["data"]["search"]["help"] is None
    assert not scan(sample, "鏡 religion") and scan(sample, "鏡") and scan(sample, "religion")
    body = await catalogue.gql(HELP, {"q": "鏡 religion"})
    assert body["data"]["search"]["totalCount"] == 0
    assert body["data"]["search"]["help"] is None


async def test_reading_field_shows_the_kana(catalogue: Api, sample: Sample) -> None:
    # The record's reading (ヨミ), made from its romanisation on import.
    record = next(r for r in sample.records.values() if r.title.startswith("東京国稅局查察部"))
    body = await catalogue.gql(
        '{ search(query: "東京国税局査察部") { edges { node { title reading { title } } } } }'
    )
    nodes = [e["node"] for e in body["data"]["search"]["edges"]]
    shown = next(n for n in nodes if n["title"] == record.title)
    assert shown["reading"]["title"] == from_romanisation(record.title_reading or "")
    assert shown["reading"]["title"].startswith("トウキョウ")
