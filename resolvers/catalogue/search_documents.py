"""What the search index holds for one title: its folded texts, one per field, and its
index keys (field-prefixed grams, facets, title and reading beginnings). Pure: built from a
record or from freshly parsed MARC; :mod:`resolvers.catalogue.search_index` writes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from models import Record
from policies.folding import fold, grams, title_key, words_joined
from policies.reading import reading
from policies.variants import VARIANT_KANJI
from resolvers.catalogue.marc import RecordData

FIELDS = ("t", "a", "p", "s")  # title, author, publisher, subject
ALL = "*"
VARIANT = "^v"  # the title holds an old or variant kanji form


@dataclass(frozen=True, slots=True)
class Document:
    """What the index holds for one title."""

    record_id: int
    title_key: str
    sort_year: int
    texts: tuple[str, str, str, str]  # folded title, author, publisher, subject
    facets: tuple[str, ...]

    def index_keys(self) -> set[str]:
        """Every index key of the title: field-prefixed grams, its facets, and the first
        one and two characters of its title and of its reading (``^t:``, ``^k:``), which
        find the titles a query begins for relevance (SEARCH-5)."""
        found = set(self.facets)
        for letter, text in zip(FIELDS, self.texts, strict=True):
            found.update(f"{letter}:{g}" for g in grams(text))
        title, reading = title_lines(self.texts[0])
        for mark, text in (("^t:", words_joined(title)), ("^k:", words_joined(reading))):
            if text:
                found.update((mark + text[:1], mark + text[:2]))
        return found

    def row(self) -> dict[str, object]:
        """The ``record_search`` row."""
        return {
            "record_id": self.record_id,
            "title_key": self.title_key,
            "sort_year": self.sort_year,
            "title_text": self.texts[0],
            "author_text": self.texts[1],
            "publisher_text": self.texts[2],
            "subject_text": self.texts[3],
            "facets": " ".join(self.facets),
        }


def _joined(*parts: str | None) -> str:
    # One source per line: a query of kana/kanji never spans a line break. Empty lines
    # keep each source at its place (the title's line 0 is the title, line 3 its reading).
    return "\n".join(fold(p) if p else "" for p in parts).rstrip("\n")


def title_lines(title_text: str) -> tuple[str, str]:
    """(folded title, folded reading) from a stored title text (see :func:`_joined`)."""
    lines = title_text.split("\n")
    return lines[0], lines[3] if len(lines) > 3 else ""


def _run(kana: str | None) -> str | None:
    """A reading as one run of kana, so a patron may type it with or without spaces."""
    return kana.replace(" ", "") if kana else None


def document(record: Record, library_ids: Iterable[int]) -> Document:
    """The index document of a title whose copies are at ``library_ids``."""
    return _document(
        record.id,
        (record.title, record.title_reading, record.series, _run(record.title_kana)),
        (record.responsibility, record.responsibility_reading, _run(record.responsibility_kana)),
        (record.publisher, record.publisher_reading, _run(record.publisher_kana)),
        (record.subjects, record.subject_class),
        (record.material_type.value, record.year, record.isbn),
        library_ids,
    )


def document_of(record_id: int, data: RecordData, library_ids: Iterable[int]) -> Document:
    """The index document of a title just imported from MARC as ``record_id``."""
    return _document(
        record_id,
        (data.title, data.title_reading, data.series, _run(data.title_kana)),
        (data.responsibility, data.responsibility_reading, _run(data.responsibility_kana)),
        (data.publisher, data.publisher_reading, _run(data.publisher_kana)),
        (" | ".join(data.subjects), data.subject_class),
        (data.material_type.upper(), data.year, data.isbn),
        library_ids,
    )


def _document(
    record_id: int,
    title: tuple[str, str | None, str | None, str | None],
    author: tuple[str | None, str | None, str | None],
    publisher: tuple[str | None, str | None, str | None],
    subject: tuple[str | None, str | None],
    facts: tuple[str, int | None, str | None],
    library_ids: Iterable[int],
) -> Document:
    material_type, year, isbn = facts
    facets = [ALL, f"m:{material_type}", f"y:{year or 0}"]
    if any(ch in VARIANT_KANJI for ch in title[0]):
        facets.append(VARIANT)  # ranking puts the form typed first (search_rank)
    if isbn:
        facets.append(f"i:{isbn}")
    facets += [f"l:{lib}" for lib in sorted(set(library_ids))]
    return Document(
        record_id=record_id,
        title_key=title_key(title[0], title[1]),
        sort_year=year or 0,
        texts=(_joined(*title), _joined(*author), _joined(*publisher), _joined(*subject)),
        facets=tuple(facets),
    )


def refresh_readings(record: Record) -> None:
    """Work out a title's katakana readings again from its headings (after an edit, or
    when ``rebuild`` meets titles from before readings existed)."""
    kana = (
        reading(record.title, record.title_reading),
        reading(record.responsibility, record.responsibility_reading),
        reading(record.publisher, record.publisher_reading),
    )
    if (record.title_kana, record.responsibility_kana, record.publisher_kana) != kana:
        record.title_kana, record.responsibility_kana, record.publisher_kana = kana
