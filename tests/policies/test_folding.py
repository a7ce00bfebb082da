"""Folding and index keys (SEARCH-2 in docs/search.md): pure functions, no database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policies.folding import OLD_NEW_KANJI, fold, grams, query_terms, title_key
from policies.isbn import isbn13


@pytest.mark.parametrize(
    ("variants", "folded"),
    [
        (
            ["コンピューター", "コンピュータ", "ｺﾝﾋﾟｭｰﾀｰ", "こんぴゅーたー", "コンピユータ"],
            "こんぴゆた",
        ),
        (["ヴァイオリン", "バイオリン", "ｳﾞｧｲｵﾘﾝ"], "ばいおりん"),
        (["國學院", "国学院"], "国学院"),
        (["渡邊", "渡邉", "渡辺"], "渡辺"),
        (["髙橋", "高橋"], "高橋"),
        (["佐々木", "佐佐木"], "佐佐木"),
        (["Tōkyō", "Tokyo", "TOKYO", "toukyou", "tookyoo", "Ｔｏｋｙｏ"], "tokyo"),
        (["Shin'ichi", "Shinʼichi", "shinichi"], "shinichi"),
        (["ヴェ－バ－", "ヴェーバー", "ベーバー"], "べば"),
    ],
)
def test_variant_spellings_fold_to_one_form(variants: list[str], folded: str) -> None:
    # SEARCH-2: width, kana, small kana, long vowels, ヴ, old kanji, 々, macrons, case.
    assert {fold(v) for v in variants} == {folded}


def test_old_kanji_table_maps_single_characters_to_different_ones() -> None:
    # SEARCH-2: every entry is one character to another single character.
    assert len(OLD_NEW_KANJI) > 250
    assert all(len(k) == len(v) == 1 and k != v for k, v in OLD_NEW_KANJI.items())
    assert all(v not in OLD_NEW_KANJI for v in OLD_NEW_KANJI.values())  # folding is stable


def test_dakuten_and_handakuten_survive_folding() -> None:
    # SEARCH-2: が is not か, ぱ is not は (only Latin diacritics are dropped).
    assert fold("がぱ") == "がぱ" and fold("かは") == "かは"


def test_grams_are_characters_pairs_and_words() -> None:
    # SEARCH-1: kana/kanji by character and pair, other scripts by word.
    assert grams(fold("吾輩は猫 Natsume Sōseki")) == {
        "吾",
        "輩",
        "は",
        "猫",
        "吾輩",
        "輩は",
        "は猫",
        "natsume",
        "soseki",
    }


def test_query_terms() -> None:
    # SEARCH-1/3: ISBNs recognised with or without hyphens; a trailing * asks for a prefix.
    terms = query_terms("4-87088-916-1 日本史 toky* 本")
    assert [(t.text, t.isbn, t.cjk, t.prefix) for t in terms] == [
        ("9784870889163", True, False, False),
        ("日本史", False, True, False),
        ("toky", False, False, True),
        ("本", False, True, False),
    ]
    assert query_terms("%_\\ '\" \x00") == []
    assert [t.index_grams() for t in query_terms("図書館")] == [["図書", "書館"]]


@pytest.mark.parametrize(
    ("raw", "isbn"),
    [
        ("4-87088-916-1", "9784870889163"),
        ("4870889161", "9784870889163"),
        ("978-4-87088-916-3", "9784870889163"),
        ("4-10-101003-X", "9784101010038"),
        ("4-87088-916-2", None),  # bad check digit
        ("12345", None),
    ],
)
def test_isbn_10_and_13_are_one_form(raw: str, isbn: str | None) -> None:
    # SEARCH-2: ISBN-10 = ISBN-13, with or without hyphens.
    assert isbn13(raw) == isbn


def test_title_key_prefers_the_reading() -> None:
    # SEARCH-5: Japanese titles sort by their romanised reading.
    assert title_key("東京物語", "Tōkyō monogatari") == "tokyo monogatari"
    assert title_key("Kokoro", None) == "kokoro"


@given(st.text(max_size=60))
def test_fold_is_idempotent_and_never_fails(text: str) -> None:
    # SEARCH-6: any text folds, and folding twice changes nothing more.
    once = fold(text)
    assert fold(once) == once
    for term in query_terms(text):
        assert term.text and term.index_grams()
