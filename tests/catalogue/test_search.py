"""Search over the bigram index, on the real LC sample (19,554 records, 7,495 Japanese),
on SQLite and PostgreSQL. Expected results come from a plain scan of the same records."""

from __future__ import annotations

from typing import Any

import pytest

from policies.folding import fold, query_terms
from schema.shared import ids
from tests.catalogue.conftest import Sample
from tests.support import Api, codes

SEARCH = """query($q: String!, $fields: FieldQueries, $filters: SearchFilters,
                  $sort: SearchSort, $first: Int, $after: String) {
  search(query: $q, fields: $fields, filters: $filters, sort: $sort, first: $first,
         after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id title year } }
  }
}"""


async def run(api: Api, q: str = "", **variables: Any) -> dict[str, Any]:
    body = await api.gql(SEARCH, {"q": q, **variables})
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["search"]
    return result


async def every_id(api: Api, q: str = "", **variables: Any) -> list[int]:
    """All matching record ids, page by page, in result order."""
    found: list[int] = []
    after = None
    for _ in range(50):
        page = await run(api, q, first=100, after=after, **variables)
        found += [ids.decode("Record", e["node"]["id"]) or 0 for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("more than 5,000 results")


def scan(sample: Sample, q: str) -> set[int]:
    """The records a plain scan finds: every term in some field (kana/kanji anywhere in
    the folded text, other words as whole words, ISBNs by the ISBN)."""
    terms = query_terms(q)
    return {
        rid
        for rid, r in sample.records.items()
        if all(
            (t.isbn and r.isbn == t.text)
            or (
                not t.isbn
                and any(
                    (t.text in f) if t.cjk else (t.text in w)
                    for f, w in zip(sample.folded[rid], sample.words[rid], strict=True)
                )
            )
            for t in terms
        )
    }


@pytest.mark.parametrize(
    "q",
    [
        "宗",  # one kanji
        "心",
        "日本",  # two kanji: one pair key
        "図書館",  # three: pairs, checked against the text
        "日本の歴史",
        "ぐろーばる",  # hiragana for katakana
        "tokyo",
        "history japan",
        "Nihon shi",
        "本 tokyo",  # scripts mixed, ANDed
    ],
)
async def test_index_finds_exactly_what_a_scan_finds(
    catalogue: Api, sample: Sample, q: str
) -> None:
    # SEARCH-1: the index and a plain scan of the folded text agree, term for term.
    expected = scan(sample, q)
    page = await run(catalogue, q, first=1)
    assert page["totalCount"] == len(expected)
    if len(expected) <= 3000:
        assert set(await every_id(catalogue, q)) == expected
    assert expected, f"the sample should hold {q!r}"


async def test_one_kanji_finds_every_title_containing_it(catalogue: Api, sample: Sample) -> None:
    # SEARCH-1: a 1-character query works (the index keeps single characters).
    found = set(await every_id(catalogue, "", fields={"title": "鏡"}))
    titles = {rid for rid, texts in sample.folded.items() if "鏡" in texts[0]}
    assert found == titles
    assert found


@pytest.mark.parametrize(
    ("variants", "record_title"),
    [
        # hiragana, katakana, half-width, no long-vowel mark, for a katakana title
        (
            ["グローバル経済", "ぐろーばる経済", "ｸﾞﾛｰﾊﾞﾙ経済", "グロバル経済"],
            "グローバル経済の産業連関分析",
        ),
        # small kana written full size; long vowel mark dropped
        (
            ["コミューン 宗教", "コミユーン 宗教", "こみゅーん 宗教", "コミューン　宗教"],
            "コミューンと宗教",
        ),
        # ヴ = ブ, and a dash typed for the long-vowel mark (ヴェ－バ－ in the record)
        (
            ["ヴェーバー 体験", "ベーバー 体験", "ヴェ－バ－ 体験", "べーばー 体験"],
            "日本の社会科学とヴェ－バ－ 体験",
        ),
        # old and new kanji forms
        (["黒沢明 一作一生", "黒澤明 一作一生"], "黒澤明 「一作一生」"),
        (["宮沢賢治 語彙", "宮澤賢治 語彙"], "新宮澤賢治語彙辞典"),
        # the iteration mark spelt out
        (["佐々木剛三", "佐佐木剛三"], "日本美術襍稿"),
        # romanisation with and without macrons, long vowels doubled or as "ou"
        (
            [
                "Tōkyō kokuzeikyoku",
                "tokyo kokuzeikyoku",
                "toukyou kokuzeikyoku",
                "TOKYO KOKUZEIKYOKU",
            ],
            "東京国稅局查察部",
        ),
        (["Miyazawa Kyōichi", "miyazawa kyoichi", "miyazawa kyouichi"], "現代小說考"),
    ],
)
async def test_every_variant_form_finds_the_same_record(
    catalogue: Api, sample: Sample, variants: list[str], record_title: str
) -> None:
    # SEARCH-2: width, kana, small kana, long vowels, ヴ, old kanji, 々, macrons.
    [target] = [rid for rid, r in sample.records.items() if r.title.startswith(record_title)]
    results = [set(await every_id(catalogue, v)) for v in variants]
    for variant, found in zip(variants, results, strict=True):
        assert target in found, variant
    assert all(found == results[0] for found in results)


async def test_isbn_10_and_13_with_or_without_hyphens(catalogue: Api, sample: Sample) -> None:
    # SEARCH-2: ISBN-10 = ISBN-13, hyphens optional, in the query or the ISBN field.
    [target] = [rid for rid, r in sample.records.items() if r.isbn == "9784423850893"]
    for form in (
        "9784423850893",
        "978-4-423-85089-3",
        "4423850893",
        "4-423-85089-X"[:0] or "4-423-85089-3",
    ):
        assert await every_id(catalogue, form) == [target], form
        assert await every_id(catalogue, fields={"isbn": form}) == [target], form


async def test_field_scopes(catalogue: Api, sample: Sample) -> None:
    # SEARCH-3: a word in one field does not match another field.
    as_author = set(await every_id(catalogue, fields={"author": "宮澤"}))
    as_title = set(await every_id(catalogue, fields={"title": "宮澤"}))
    anywhere = set(await every_id(catalogue, "宮澤"))
    assert as_author and as_title and as_author != as_title
    assert as_author | as_title <= anywhere
    publisher = set(await every_id(catalogue, fields={"publisher": "岩波書店"}))
    assert publisher == {
        rid for rid, r in sample.records.items() if "岩波書店" in (r.publisher or "")
    }
    subject = await run(catalogue, fields={"subject": "Buddhism"}, first=1)
    assert subject["totalCount"] > 10


async def test_filters_and_facets(catalogue: Api, sample: Sample) -> None:
    # SEARCH-4: material type, library, year range, available now; facet counts.
    body = await catalogue.gql(
        """{ search(query: "japan", first: 1) { totalCount
             materialTypeFacets { materialType count }
             libraryFacets { library { code } count } } }"""
    )
    result = body["data"]["search"]
    assert sum(f["count"] for f in result["materialTypeFacets"]) == result["totalCount"]
    by_code = {f["library"]["code"]: f["count"] for f in result["libraryFacets"]}
    assert by_code["central"] > by_code["kita"] > 0
    libraries = (await catalogue.gql("{ libraries { id code } }"))["data"]["libraries"]
    kita = next(lib["id"] for lib in libraries if lib["code"] == "kita")
    at_kita = await run(catalogue, "japan", filters={"libraryId": kita}, first=1)
    assert at_kita["totalCount"] == by_code["kita"]
    in_range = await every_id(catalogue, "japan", filters={"yearFrom": 2000, "yearTo": 2010})
    assert in_range and all(2000 <= (sample.records[r].year or 0) <= 2010 for r in in_range)
    books = await run(catalogue, "japan", filters={"materialTypes": ["BOOK"]}, first=1)
    book_facet = next(f for f in result["materialTypeFacets"] if f["materialType"] == "BOOK")
    assert books["totalCount"] == book_facet["count"]
    available = await run(catalogue, "japan", filters={"availableOnly": True}, first=1)
    assert available["totalCount"] == result["totalCount"]  # every sample copy is on the shelf


@pytest.mark.parametrize("sort", ["RELEVANCE", "NEWEST", "TITLE"])
async def test_sorting_and_keyset_pages_cover_every_result_once(
    catalogue: Api, sample: Sample, sort: str
) -> None:
    # SEARCH-5: every order pages through the whole result without repeats or gaps.
    for q in ("日本", "history"):  # under and over the in-memory sort threshold
        found = await every_id(catalogue, q, sort=sort)
        assert len(found) == len(set(found)) == len(scan(sample, q))
        if sort == "NEWEST":
            years = [sample.records[r].year or 0 for r in found]
            assert years == sorted(years, reverse=True)
        if sort == "TITLE":
            keys = [fold(sample.records[r].title_reading or sample.records[r].title) for r in found]
            assert keys == sorted(keys)


async def test_relevance_puts_title_matches_first(catalogue: Api, sample: Sample) -> None:
    # SEARCH-5: titles holding every word rank before matches only elsewhere.
    found = await every_id(catalogue, "religion")
    in_title = [
        "religion" in sample.words[r][0] for r in found
    ]  # title, reading, series  # title, reading, series
    assert in_title == sorted(in_title, reverse=True)
    assert any(in_title) and not all(in_title)


@pytest.mark.parametrize(
    "q",
    ["%", "_", "\\", "'", '"', "%_\\", "日本%", "'; DROP TABLE records; --", "\x00\x07\x1b", "   "],
)
async def test_odd_characters_are_just_text(catalogue: Api, sample: Sample, q: str) -> None:
    # SEARCH-6: LIKE wildcards, quotes and control characters are never a pattern or an error.
    page = await run(catalogue, q)
    if q.strip(" \x00\x07\x1b%_\\'\";-") == "":
        assert page["totalCount"] in (0, 19554)  # nothing searchable: none; blank: all
    assert page["totalCount"] == (len(scan(sample, q)) if query_terms(q) else page["totalCount"])


async def test_empty_and_oversized_queries(catalogue: Api, sample: Sample) -> None:
    # SEARCH-6: an empty query lists every title; 10,000 characters is INVALID_INPUT.
    assert (await run(catalogue, "", first=1))["totalCount"] == 19554
    assert (await run(catalogue, "%%%", first=1))["totalCount"] == 0
    for q in ("漢" * 10_000, "a" * 10_000, "日本 " * 3000):
        body = await catalogue.gql(SEARCH, {"q": q})
        assert codes(body) == ["INVALID_INPUT"]
        assert body["data"] is None
    body = await catalogue.gql(SEARCH, {"q": "", "fields": {"isbn": "12345"}})
    assert codes(body) == ["INVALID_INPUT"]
