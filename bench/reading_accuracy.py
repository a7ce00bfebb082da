"""Which analyser reads Japanese titles best (issue [R2 6/9])? On the sample's Japanese
records that carry an LC romanisation, the reading made from the romanisation is taken as
the truth, and each analyser reads the title, author and publisher in Japanese script
alone. Both sides are folded as search folds them (policies.folding.fold) and compared
kana for kana: a heading counts as read right when the kana agree exactly.

    .venv/bin/python bench/reading_accuracy.py [--limit 2000]

Needs fugashi and unidic-lite installed next to the project's SudachiPy (not project
dependencies: `pip install fugashi unidic-lite` in the venv to re-run).
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from collections.abc import Callable
from difflib import SequenceMatcher
from pathlib import Path

import jaconv

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from policies.folding import fold  # noqa: E402
from policies.reading import by_analyser, from_romanisation, is_japanese  # noqa: E402
from resolvers.catalogue.marc import RecordData  # noqa: E402
from resolvers.catalogue.marc_files import iter_marc_file  # noqa: E402

SAMPLE = ROOT.parent / "shared" / "data" / "lc-books-2016-sample.mrc"
_HIRAGANA = re.compile("[^\u3041-\u309f]")


def _fugashi() -> Callable[[str], str]:
    import fugashi  # type: ignore[import-untyped,import-not-found,unused-ignore]

    tagger = fugashi.Tagger()

    def read(text: str) -> str:
        out = []
        for word in tagger(text):
            kana = getattr(word.feature, "kana", None)
            out.append(kana if kana and kana != "*" else word.surface)
        return " ".join(out)

    return read


def _kana(text: str | None) -> str:
    return _HIRAGANA.sub("", fold(jaconv.kata2hira(text or "")))


def pairs(limit: int, seed: int) -> list[tuple[str, str]]:
    """(Japanese script, romanisation) of titles, authors and publishers."""
    found: list[tuple[str, str]] = []
    for item in iter_marc_file(SAMPLE):
        if not isinstance(item, RecordData) or item.language != "jpn":
            continue
        for display, roman in (
            (item.title, item.title_reading),
            (item.responsibility, item.responsibility_reading),
            (item.publisher, item.publisher_reading),
        ):
            if is_japanese(display) and roman and not is_japanese(roman):
                found.append((display or "", roman))
    random.Random(seed).shuffle(found)
    return found[:limit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=21)
    args = parser.parse_args()
    sample = pairs(args.limit, args.seed)
    truth = [_kana(from_romanisation(roman)) for _, roman in sample]
    for name, read in (("sudachipy+core", by_analyser), ("fugashi+unidic-lite", _fugashi())):
        read(sample[0][0])  # load the dictionary outside the timing
        started = time.perf_counter()
        got = [_kana(read(display)) for display, _ in sample]
        seconds = time.perf_counter() - started
        exact = sum(g == t for g, t in zip(got, truth, strict=True))
        similar = sum(SequenceMatcher(None, g, t).ratio() for g, t in zip(got, truth, strict=True))
        print(
            f"{name:22} exact {exact}/{len(sample)} = {exact / len(sample):.1%}  "
            f"kana similarity {similar / len(sample):.3f}  "
            f"{seconds / len(sample) * 1e6:.0f} µs per heading"
        )


if __name__ == "__main__":
    main()
