"""Draws the Japanese query set of issue [R2 6/9] from the real records, and writes it to
tests/catalogue/japanese_queries.json (the recall test and bench/search.py read it).

    .venv/bin/python bench/japanese_queries.py [--seed 2026]

Random with a fixed seed over the sample's Japanese records (language jpn, in file
order), never picked by hand; each query names the record it was drawn from, which must be
among the results. Four kinds, as patrons type them:

- ``variant``: 2-4 characters of the title (or the author, when only the author holds one)
  around a character that the record holds in a variant form (查, 錄, 說, 戶, 稅, 鷗, 國...),
  typed in the standard Japanese form an IME gives (調査, 記録, 江戸, 森鴎外);
- ``hiragana``: the reading of the title proper (245 $a, from LC's romanisation) in
  hiragana without spaces, spelt as written (particles は, へ, を; ō mostly おう, one
  time in five おお, as in おおさか), up to 40 kana; titles whose romanisation holds digits
  or words that are not Japanese are passed over;
- ``katakana``: the same for other records, in katakana as ヨミ search takes it (トウキョウ);
- ``title_author``: the first 2-4 characters of a word of the title and the first 2-3
  characters of a personal author's name (the family name, mostly), two words.

The reading queries are spelt by this script's own small Hepburn reader, not by
policies.reading, so a slip in one is not copied into the other.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import unicodedata
from pathlib import Path

import jaconv

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from policies.variants import VARIANT_KANJI  # noqa: E402
from resolvers.catalogue.marc import RecordData  # noqa: E402
from resolvers.catalogue.marc_files import iter_marc_file  # noqa: E402

SAMPLE = ROOT.parent / "shared" / "data" / "lc-books-2016-sample.mrc"
OUT = ROOT / "tests" / "catalogue" / "japanese_queries.json"
COUNTS = {"variant": 100, "hiragana": 100, "katakana": 100, "title_author": 50}
_RUN = re.compile("[\u3041-\u309f\u30a0-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_PROPER = re.compile(r"\s+[:=/;]\s+|\.\s+")
_PARTICLES = {"wa": "は", "e": "へ", "o": "を"}


def window(rng: random.Random, run: str, at: int) -> str:
    """2-4 characters of ``run`` that include position ``at``."""
    size = min(rng.choice((2, 3, 4)), len(run))
    start = rng.randint(max(0, at - size + 1), min(at, len(run) - size))
    return run[start : start + size]


def variant_query(rng: random.Random, item: RecordData) -> str | None:
    for text in (item.title, item.responsibility):
        for match in _RUN.finditer(text or ""):
            run = match.group()
            spots = [n for n, ch in enumerate(run) if ch in VARIANT_KANJI]
            if spots:
                held = window(rng, run, rng.choice(spots))
                typed = "".join(VARIANT_KANJI.get(ch, ch) for ch in held)
                return typed if typed != held else None
    return None


def spell(rng: random.Random, romanised: str, katakana: bool) -> str | None:
    """The kana a patron types for a romanised title proper, or ``None``."""
    text = unicodedata.normalize("NFC", romanised.lower()).replace("ʼ", "'")
    out = []
    for word in re.split(r"[\s\-]+", re.sub(r"[,.!?\"()\[\]]", " ", text)):
        if not word:
            continue
        if word in _PARTICLES:
            out.append(_PARTICLES[word])
            continue
        oo = "oo" if not katakana and rng.random() < 0.2 else "ou"
        for macron, vowels in (("ō", oo), ("ū", "uu"), ("ā", "aa"), ("ē", "ee"), ("ī", "ii")):
            word = word.replace(macron, vowels)
        kana = jaconv.alphabet2kana(word.replace("n'", "nn'")).replace("'", "")
        if not kana or re.search("[a-z0-9]", kana) or kana[0] == "っ":
            return None
        out.append(kana)
    joined = "".join(out)
    if not joined or len(joined) > 40:
        return None
    return jaconv.hira2kata(joined) if katakana else joined


def reading_query(rng: random.Random, item: RecordData, katakana: bool) -> str | None:
    if not item.title_reading or not _RUN.search(item.title):
        return None
    return spell(rng, _PROPER.split(item.title_reading)[0], katakana)


def title_author_query(rng: random.Random, item: RecordData) -> str | None:
    # A personal author (100: its romanisation is inverted, "Ueda, Kenji").
    if ", " not in (item.responsibility_reading or ""):
        return None
    author = _RUN.search(item.responsibility or "")
    runs = [m.group() for m in _RUN.finditer(item.title) if len(m.group()) >= 2]
    if author is None or len(author.group()) < 2 or not runs:
        return None
    run = rng.choice(runs)
    part = run[: rng.choice((2, 3, 4))]
    return f"{part} {author.group()[: rng.choice((2, 3))]}"


def draw(seed: int) -> list[dict[str, str]]:
    records = [r for r in iter_marc_file(SAMPLE) if isinstance(r, RecordData)]
    japanese = [r for r in records if r.language == "jpn"]
    rng = random.Random(seed)
    order = japanese[:]
    rng.shuffle(order)
    used: set[str] = set()
    queries: list[dict[str, str]] = []
    makers = {
        "variant": lambda r: variant_query(rng, r),
        "hiragana": lambda r: reading_query(rng, r, katakana=False),
        "katakana": lambda r: reading_query(rng, r, katakana=True),
        "title_author": lambda r: title_author_query(rng, r),
    }
    for kind, count in COUNTS.items():
        taken = 0
        for item in order:
            if taken == count:
                break
            if item.control_number in used or (query := makers[kind](item)) is None:
                continue
            used.add(item.control_number)
            queries.append({"kind": kind, "query": query, "record": item.control_number})
            taken += 1
    return queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    queries = draw(args.seed)
    body = {"seed": args.seed, "source": SAMPLE.name, "queries": queries}
    OUT.write_text(json.dumps(body, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(queries)} queries to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
