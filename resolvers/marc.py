"""MARC21 (binary UTF-8 or MARC-8, and MARCXML) to plain records for the catalogue.

Japanese records carry the title, author and publisher in original script in 880 fields
linked through ``$6``; those are the display forms and the ALA-LC romanisation is kept as
the reading, so a patron finds the title either way.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Literal

import pymarc
from pymarc import Field, Record

from resolvers.marc_fields import isbn13, joined, partner, tidy, year_of

MaterialType = Literal["book", "magazine", "cd", "cassette", "video", "art_reproduction", "ebook"]
RECORD_END = b"\x1d"
_COMIC_WORDS = ("comic", "manga", "graphic novel", "コミック", "まんが", "マンガ", "漫画")


@dataclass(frozen=True, slots=True)
class RecordData:
    """One bibliographic record, ready for the ``records`` table."""

    control_number: str
    title: str
    title_reading: str | None
    responsibility: str | None
    responsibility_reading: str | None
    publisher: str | None
    publisher_reading: str | None
    year: int | None
    isbn: str | None
    subject_class: str | None
    subjects: tuple[str, ...]
    material_type: MaterialType
    series: str | None
    volume: str | None
    is_comic: bool
    language: str | None


@dataclass(frozen=True, slots=True)
class Skipped:
    """A record that could not be imported, and why."""

    position: int
    control_number: str | None
    reason: str


class SkipRecord(Exception):
    """Raised for a record that cannot be imported; ``str(exc)`` is a short reason."""


def _display(record: Record, field: Field | None, codes: str) -> tuple[str | None, str | None]:
    """(display form, reading): the 880 original script when linked, else the field."""
    if field is None:
        return None, None
    own = joined(field, codes)
    script = partner(record, field)
    if script is not None:
        original = joined(script, codes)
        if original:
            return original, own
    return own, None


def _control(record: Record, tag: str) -> str:
    """The data of a control field (001, 008), or ``""`` when absent."""
    field = record.get(tag)
    return (field.data or "") if field is not None else ""


def _first(record: Record, *tags: str) -> Field | None:
    for tag in tags:
        fields = record.get_fields(tag)
        if fields:
            return fields[0]
    return None


def _publisher_field(record: Record) -> Field | None:
    published = [f for f in record.get_fields("264") if f.indicator2 == "1"]
    return published[0] if published else _first(record, "260", "264")


def _material(record: Record) -> MaterialType:
    kind, level = record.leader[6], record.leader[7]
    physical = [f.data for f in record.get_fields("007") if f.data]
    fixed = _control(record, "008")
    if kind in "at":
        if level in "si":
            return "magazine"
        electronic = len(fixed) > 23 and fixed[23] in "os"
        remote = any(p.startswith("c") and len(p) > 1 and p[1] == "r" for p in physical)
        return "ebook" if electronic or remote else "book"
    if kind in "ij":
        sound = [p for p in physical if p.startswith("s") and len(p) > 1]
        return "cassette" if sound and sound[0][1] == "s" else "cd"
    return {"g": "video", "k": "art_reproduction", "m": "ebook"}.get(kind, "book")  # type: ignore[return-value]


def _subject_class(record: Record) -> str | None:
    for field in record.get_fields("084"):
        scheme = (field.get_subfields("2") or [""])[0].lower()
        if scheme.startswith("ndc") and field.get_subfields("a"):
            return tidy(field.get_subfields("a")[0])
    for tag in ("050", "082"):
        found = _first(record, tag)
        if found is not None and found.get_subfields("a"):
            return tidy(found.get_subfields("a")[0])
    return None


def _subjects(record: Record) -> tuple[str, ...]:
    found: list[str] = []
    for field in record.get_fields("600", "610", "650", "651"):
        for candidate in (field, partner(record, field)):
            if candidate is not None:
                heading = joined(candidate, "abcdtxyzv", " -- ")
                if heading and heading not in found:
                    found.append(heading)
    return tuple(found)


def parse_record(record: Record) -> RecordData:
    """Map one pymarc record; raises :class:`SkipRecord` when it can't be used."""
    number = _control(record, "001").strip()
    if not number:
        raise SkipRecord("no control number (001)")
    title_field = record.get("245")
    title, title_reading = _display(record, title_field, "abnp")
    if not title:
        raise SkipRecord("no title (245)")
    author_field = _first(record, "100", "110", "111")
    responsibility, responsibility_reading = _display(record, author_field, "abcq")
    if responsibility is None and title_field is not None:
        responsibility, responsibility_reading = _display(record, title_field, "c")
    pub_field = _publisher_field(record)
    publisher, publisher_reading = _display(record, pub_field, "b")
    series_field = _first(record, "490", "830", "440")
    series, _ = _display(record, series_field, "a")
    volumes = series_field.get_subfields("v") if series_field is not None else []
    volume = tidy(volumes[0]) if volumes else None
    if volume is None and title_field is not None and title_field.get_subfields("n"):
        volume = tidy(title_field.get_subfields("n")[0])
    isbn = next(
        (i for f in record.get_fields("020") for a in f.get_subfields("a") if (i := isbn13(a))),
        None,
    )
    fixed = _control(record, "008")
    language = (
        fixed[35:38].lower() if fixed and len(fixed) >= 38 and fixed[35:38].isalpha() else None
    )
    subject_class = _subject_class(record)
    subjects = _subjects(record)
    genres = [h.lower() for f in record.get_fields("655", "650") for h in f.get_subfields("a")]
    is_comic = any(w in h for h in genres for w in _COMIC_WORDS) or bool(
        subject_class and subject_class.startswith("726.1")
    )
    statements = [c for f in record.get_fields("260", "264") for c in f.get_subfields("c")]
    return RecordData(
        control_number=number,
        title=title,
        title_reading=title_reading,
        responsibility=responsibility,
        responsibility_reading=responsibility_reading,
        publisher=publisher,
        publisher_reading=publisher_reading,
        year=year_of(fixed, statements),
        isbn=isbn,
        subject_class=subject_class,
        subjects=subjects,
        material_type=_material(record),
        series=series,
        volume=volume,
        is_comic=is_comic,
        language=language,
    )


def _one(position: int, record: Record | None, problem: Exception | None) -> RecordData | Skipped:
    if record is None:
        return Skipped(position, None, f"unreadable record: {problem or 'unknown error'}"[:200])
    try:
        return parse_record(record)
    except SkipRecord as skip:
        return Skipped(position, _control(record, "001").strip() or None, str(skip))
    except Exception as exc:
        number = _control(record, "001").strip() or None
        return Skipped(position, number, f"{type(exc).__name__}: {exc}"[:200])


def iter_marc_file(path: str | os.PathLike[str]) -> Iterator[RecordData | Skipped]:
    """Each record of a MARC21 or MARCXML file in order, never raising for a bad one."""
    with open(path, "rb") as handle:
        head = handle.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
        handle.seek(0)
        if head.startswith(b"<"):
            records = pymarc.parse_xml_to_array(handle)  # type: ignore[no-untyped-call]
            for position, record in enumerate(records, start=1):
                yield _one(position, record, None)
            return
        for position, chunk in enumerate(_chunks(handle), start=1):
            try:
                record = Record(data=chunk, to_unicode=True, utf8_handling="replace")
            except Exception as exc:
                yield _one(position, None, exc)
            else:
                yield _one(position, record, None)


def _chunks(handle: BinaryIO, block: int = 1 << 20) -> Iterator[bytes]:
    """Binary records split on the record terminator, not on their length prefix: a record
    with a wrong length then spoils only itself, never the records after it."""
    pending = b""
    while data := handle.read(block):
        pending += data
        *complete, pending = pending.split(RECORD_END)
        for chunk in complete:
            if chunk.strip():
                yield chunk + RECORD_END
    if pending.strip():
        yield pending
