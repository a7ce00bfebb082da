"""Readings (ヨミ) of titles, authors and publishers, in katakana, for kana search.

A Japanese record from LC carries each heading twice: the Japanese script (880) and its
ALA-LC Hepburn romanisation (245, 100, 260/264), which is the cataloguer's reading. That
reading is turned into kana word by word: macrons spelt out as the kana write them (ō →
オウ, ū → ウウ), ``n'`` kept apart from the next vowel (Shin'ichi → シンイチ), hyphens joined
(Tōkyō-to → トウキョウト), and the particles LC writes as they sound written as they are
spelt (wa → ハ, e → ヘ, o → ヲ), since a patron types the spelling (にほんは, not にほんわ).

A heading in Japanese script without a romanisation (a staff entry, a record from another
source) is read by a morphological analyser, SudachiPy with its core dictionary (chosen
over fugashi + unidic-lite by reading accuracy on the LC records that do have a
romanisation: bench/README.md). Readings are worked out when a title is imported or
edited, never per search.

What a reading cannot know (おお or おう for ō, づ or ず for zu) is left to search folding
(:func:`policies.folding.fold`), which writes both the same way.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache
from typing import Any

import jaconv

_MACRONS = str.maketrans(
    {"ā": "aa", "ī": "ii", "ū": "uu", "ē": "ee", "ō": "ou", "â": "aa", "î": "ii"}
    | {"û": "uu", "ê": "ee", "ô": "ou"}
)
_APOSTROPHES = str.maketrans(dict.fromkeys("’ʻʼʹ`´", "'"))
_PARTICLES = {"wa": "は", "e": "へ", "o": "を"}
_WORDS = re.compile(r"[a-z0-9']+(?:-[a-z0-9']+)*")
_KANA = re.compile("[\u3041-\u309f\u30a0-\u30ff]")
_JAPANESE = re.compile("[\u3041-\u309f\u30a0-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_LEFT = re.compile("[a-z]")
_ET_AL = re.compile(r"\bet al\b")  # "[et al.]": English a romanisation keeps
MAX_READING = 2000


def from_romanisation(romanised: str) -> str | None:
    """The katakana reading of an ALA-LC Hepburn romanisation, words separated by spaces;
    words that are not romanised Japanese (``et al.``, ``[and 2 others]``) are left out."""
    text = unicodedata.normalize("NFC", romanised.lower()).translate(_MACRONS)
    text = _ET_AL.sub(" ", text.translate(_APOSTROPHES))
    words = [kana for match in _WORDS.finditer(text) if (kana := _word(match.group()))]
    return " ".join(words)[:MAX_READING] or None


@lru_cache(maxsize=1 << 16)
def _word(word: str) -> str | None:
    """One romanised word (hyphenated parts joined: 21-seiki, Tōkyō-to) in katakana, or
    ``None`` when it is not romanised Japanese. Cached: jaconv spells a word in about
    0.4 ms, and titles repeat their words (no, nihon, kenkyū) over and over."""
    parts: list[str] = []
    for part in word.strip("'-").split("-"):
        part = part.strip("'")
        if part.isdigit():
            parts.append(part)
            continue
        if not part.isalpha() and not part.replace("'", "").isalpha():
            return None  # letters and digits mixed (c2000): not a word of Japanese
        kana = _PARTICLES.get(part) if len(word) <= 2 else None
        kana = kana or jaconv.alphabet2kana(part)
        if _LATIN_LEFT.search(kana) or "'" in kana or kana[0] == "っ" or kana[-1] == "っ":
            return None  # letters no kana spells: not Japanese
        parts.append(kana)
    return jaconv.hira2kata("".join(parts)) or None


def is_japanese(text: str | None) -> bool:
    """Whether ``text`` holds kana or kanji (only such headings get a reading)."""
    return bool(text and _JAPANESE.search(text))


@cache
def _tokenizer() -> Any:
    # Loaded once per process, on first use: the dictionary takes about a second.
    from sudachipy import Dictionary, SplitMode  # type: ignore[import-untyped]

    return Dictionary(dict="core").tokenizer(mode=SplitMode.C)


def by_analyser(text: str) -> str | None:
    """The katakana reading of Japanese text by morphological analysis, one word per
    morpheme; characters the dictionary cannot read (Latin, digits) stay as they are."""
    words: list[str] = []
    for morpheme in _tokenizer().tokenize(text[:MAX_READING]):
        surface = morpheme.surface()
        if not surface.strip() or unicodedata.category(surface[0]).startswith("P"):
            continue
        reading = morpheme.reading_form() if _JAPANESE.search(surface) else surface
        words.append(jaconv.hira2kata(reading or surface))
    return " ".join(words)[:MAX_READING] or None


def reading(display: str | None, romanised: str | None) -> str | None:
    """The katakana reading of a heading: from its romanisation when the record has one,
    else by the analyser; ``None`` for a heading with no Japanese in it."""
    if not is_japanese(display):
        return None
    if romanised and not is_japanese(romanised):
        return from_romanisation(romanised)
    assert display is not None
    return by_analyser(display)


def kana_only(reading_text: str) -> bool:
    """Whether a reading is all kana (and spaces): what an analyser's output should be."""
    return all(_KANA.match(ch) or ch == " " for ch in reading_text)
