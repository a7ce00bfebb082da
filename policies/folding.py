"""Folding text for search, and cutting it into index keys.

The same :func:`fold` runs over the catalogue when it is indexed and over what a patron
types, so every variant spelling below meets its partner in the middle:

- NFKC: half-width kana, full-width Latin and digits, circled and compatibility forms;
- case (``casefold``);
- katakana to hiragana (jaconv), small kana to full size, the prolonged sound mark dropped,
  ヴ read as ブ (ヴァイオリン = バイオリン); づ = ず, ぢ = じ, を = お, and a kana long vowel
  dropped as the romanised one is (とうきょう = ときょ = トーキョー), so a reading typed in
  kana meets one made from Hepburn whatever it could not tell apart;
- old, Chinese and variant kanji to the standard Japanese form (國 = 国, 查 = 査, 鷗 = 鴎,
  邊 = 邉 = 辺, 髙 = 高, ...: :mod:`policies.variants`, from OpenCC's tables), and the
  iteration mark spelt out (佐々木 = 佐佐木);
- Latin diacritics dropped and long vowels of romanised Japanese shortened, so Tōkyō,
  Tokyo and Toukyou are one word. The shortening applies to every Latin word, which is
  symmetric and so never loses a match; it only lets "book" also meet "boku".

Japanese has no spaces, so a run of kana and kanji is indexed by every character and every
pair of neighbours (1-character queries need the first, longer ones use the second); other
scripts are indexed by whole words. Nothing here touches a database.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

import jaconv

from policies.isbn import isbn13
from policies.variants import VARIANT_KANJI

_SMALL = {"ぁ": "あ", "ぃ": "い", "ぅ": "う", "ぇ": "え", "ぉ": "お", "っ": "つ", "ゃ": "や"}
_SMALL |= {"ゅ": "ゆ", "ょ": "よ", "ゎ": "わ", "ゕ": "か", "ゖ": "け", "ゔ": "ぶ"}
# Spellings a reading cannot tell apart (Hepburn zu, ji, o): written one way.
_SMALL |= {"づ": "ず", "ぢ": "じ", "を": "お"}
# ヴァ ヴィ ヴェ ヴォ read as バ ビ ベ ボ (ヴ alone is ブ, above).
_VU = {"ぶあ": "ば", "ぶい": "び", "ぶえ": "べ", "ぶお": "ぼ"}
_DROP = "ー－〜~'’ʻʼ`"  # prolonged sound marks; apostrophes inside romanised words (Shin'ichi)
_TABLE = str.maketrans({**VARIANT_KANJI, **_SMALL, **dict.fromkeys(_DROP, None)})
_KANA_DASH = re.compile("(?<=[\u3041-\u30fc\uff66-\uff9f])[-\u2010\u2012-\u2015\u2212\u2500\uff0d]")
_VU_RE = re.compile("ぶ[あいえお]")
_ITERATION = re.compile(r"(.)々")
_LATIN_MARKS = re.compile("[\u0300-\u036f]")
_LONG_VOWELS = re.compile("o[ou]+|a{2,}|i{2,}|u{2,}|e{2,}")
# The kana long vowels, as romanised ō and ū shorten: う or お after an o-column kana
# (とう, とお = と), and う, あ, え, い after a kana of their own column (エネルギイ =
# エネルギー, as enerugī is read).
_KANA_LONG = re.compile(
    "(?<=[おこごそぞとどのほぼぽもよろ])[うお]+|(?<=[うくぐすずつぬふぶぷむゆる])う+"
    "|(?<=[あかがさざただなはばぱまやらわ])あ+|(?<=[えけげせぜてでねへべぺめれ])え+"
    "|(?<=[いきぎしじちにひびぴみり])い+"
)

# Scripts written without spaces: kana, kanji (with their extensions) and hangul.
_CJK = (
    "\u3005\u3006\u3041-\u309f\u30a0-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
    "\uac00-\ud7af\U00020000-\U0003134f"
)
_TOKENS = re.compile(f"([{_CJK}]+)|([^\\W_{_CJK}]+)")
LONG_RUN = 6  # runs longer than this are looked up by some of their pairs (Term.index_grams)
MAX_PAIRS = 6
MAX_WORD = 60  # longer "words" (a URL, a run of digits) are cut; the key column is 80 wide


def fold(text: str) -> str:
    """The searchable form of ``text`` (see the module docstring)."""
    if not text.isascii():
        # Catalogues often type the long-vowel mark as a dash (ヴェ－バ－): after kana, a
        # dash of any width is that mark, not a word break.
        text = _KANA_DASH.sub("", text)
    text = unicodedata.normalize("NFKC", text).casefold()
    if not text.isascii():
        text = jaconv.kata2hira(text).translate(_TABLE)
        if "ぶ" in text:
            text = _VU_RE.sub(lambda m: _VU[m.group()], text)
        if "々" in text:
            text = _ITERATION.sub(r"\1\1", text)
        text = _KANA_LONG.sub("", text)
        decomposed = unicodedata.normalize("NFD", text)
        text = unicodedata.normalize("NFC", _LATIN_MARKS.sub("", decomposed))
    else:
        text = text.translate(_TABLE)
    return _LONG_VOWELS.sub(lambda m: m.group()[0], text)


@dataclass(frozen=True, slots=True)
class Term:
    """One word of a query, folded: a run of kana/kanji (``cjk``), a word of another
    script, or an ISBN (``isbn``: 13 digits); ``prefix`` when the patron ended a word
    with ``*``; ``raw`` is the word as typed (for ranking the exact form first and for
    naming a word that matched nothing)."""

    text: str
    cjk: bool = False
    prefix: bool = False
    isbn: bool = False
    raw: str = field(default="", compare=False)

    def index_grams(self) -> list[str]:
        """The index keys that must all be present: the run itself up to two characters,
        else its overlapping pairs (which may also match where the pairs lie apart, so a
        caller checks those candidates against the text)."""
        if not self.cjk or len(self.text) <= 2:
            return [self.text]
        if len(self.text) > LONG_RUN:
            # A long run (a title's reading typed in full) is checked against the text
            # anyway: pairs that do not overlap, at most MAX_PAIRS spread over it, narrow
            # the candidates as well as every pair would, for a fraction of the bitmaps.
            starts = range(0, len(self.text) - 1, 2)
            step = max(1, -(-len(starts) // MAX_PAIRS))
            picked = [*starts[::step], len(self.text) - 2]
            return list(dict.fromkeys(self.text[i : i + 2] for i in picked))
        return list(dict.fromkeys(self.text[i : i + 2] for i in range(len(self.text) - 1)))

    @property
    def exact(self) -> bool:
        """Whether the keys alone decide a match, with no check against the text."""
        return not self.cjk or len(self.text) <= 2


def tokens(folded: str) -> Iterable[tuple[str, bool]]:
    """(token, is_cjk) for each run of a folded text, in order."""
    for match in _TOKENS.finditer(folded):
        cjk, word = match.groups()
        yield (cjk, True) if cjk else (word[:MAX_WORD], False)


def grams(folded: str) -> set[str]:
    """Every index key of a folded text: each kana/kanji and each neighbouring pair of
    them, and every word of other scripts."""
    found: set[str] = set()
    for token, cjk in tokens(folded):
        if cjk:
            found.update(token)
            found.update(token[i : i + 2] for i in range(len(token) - 1))
        else:
            found.add(token)
    return found


def query_terms(query: str) -> list[Term]:
    """The terms of a query: every one must match (AND). A word that is a valid ISBN-10 or
    ISBN-13, hyphens or not, becomes one ISBN term; a trailing ``*`` on a word of a
    non-CJK script asks for every word that starts with it."""
    terms: list[Term] = []
    for raw in unicodedata.normalize("NFKC", query).split():
        if (isbn := isbn13(raw)) is not None and raw.strip("-0123456789Xx") == "":
            terms.append(Term(isbn, isbn=True, raw=raw))
            continue
        runs = list(tokens(fold(raw)))
        for n, (token, cjk) in enumerate(runs):
            wild = not cjk and n == len(runs) - 1 and raw.endswith("*")
            terms.append(Term(token, cjk=cjk, prefix=wild, raw=raw))
    return list(dict.fromkeys(terms))


def words_joined(folded: str) -> str:
    """A folded text with everything but its words and runs removed (spaces, punctuation):
    what "the title starts with the query" compares."""
    return "".join(token for token, _ in tokens(folded))


def title_key(title: str, reading: str | None) -> str:
    """The sort key of a title: the folded reading when there is one (so Japanese titles
    sort by their romanisation, in reading order), else the folded title."""
    return fold(reading or title)[:200]
