"""Readings (ヨミ) for kana search: from LC's Hepburn romanisation, else by SudachiPy.
Pure functions, no database."""

from __future__ import annotations

import pytest

from policies.folding import fold
from policies.reading import by_analyser, from_romanisation, reading


@pytest.mark.parametrize(
    ("romanised", "kana"),
    [
        ("Tōkyō no rekishi", "トウキョウ ノ レキシ"),  # macrons spelt out as kana write them
        ("Watakushi wa Tōkyō e iku", "ワタクシ ハ トウキョウ ヘ イク"),  # particles as spelt
        ("Hon o yomu", "ホン ヲ ヨム"),
        ("Shinʼichi to kinʼyū", "シンイチ ト キンユウ"),  # n' before a vowel
        ("Tōkyō-to", "トウキョウト"),  # hyphens join
        ("21-seiki Nihon", "21セイキ ニホン"),
        ("Ōkawa Masazō ... [et al.] cho", "オウカワ マサゾウ チョ"),  # English left out
        ("Nihon Bōeki Shinkōkai, c2000", "ニホン ボウエキ シンコウカイ"),
        ("Gakkō to matcha", "ガッコウ ト マッチャ"),
    ],
)
def test_reading_from_hepburn(romanised: str, kana: str) -> None:
    assert from_romanisation(romanised) == kana


def test_reading_meets_what_a_patron_types_after_folding() -> None:
    # SEARCH-2: ō = おう = おお, zu = ず = づ, wa = は: what a romanisation cannot tell
    # apart, folding writes one way.
    made = (from_romanisation("Ōkawa no tsuzuki wa") or "").replace(" ", "")
    assert fold(made) == fold("おおかわのつづきは") == fold("オオカワノツヅキハ")


def test_headings_without_romanisation_are_read_by_the_analyser() -> None:
    assert by_analyser("東京の歴史") == "トウキョウ ノ レキシ"
    assert reading("吾輩は猫である", None) == by_analyser("吾輩は猫である")
    assert fold((reading("吾輩は猫である", None) or "").replace(" ", "")) == fold(
        "わがはいはねこである"
    )


def test_romanisation_wins_and_non_japanese_headings_have_none() -> None:
    assert reading("日本の財政", "Nihon no zaisei") == "ニホン ノ ザイセイ"
    assert reading("Japan and the world", None) is None
    assert reading(None, None) is None
    assert reading("日本語", "日本語") == "ニホンゴ"  # a "romanisation" in kanji is no reading
