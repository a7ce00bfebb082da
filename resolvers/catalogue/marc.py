"""MARC21 (binary UTF-8 or MARC-8, and MARCXML) to plain records for the catalogue.

Japanese (and other non-Latin) records carry title, author and publisher in original script
in 880 fields linked through ``$6``; those are the display forms, and the ALA-LC
romanisation of the partner field is kept as the reading, so a patron finds the title
either way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pymarc import Record

from policies.isbn import isbn13
from policies.reading import reading
from resolvers.catalogue.marc_fields import (
    call_number,
    control,
    display,
    first,
    partner,
    publisher,
    subfields,
    subject_class,
    subjects,
    tidy,
    year_of,
)

MaterialType = Literal["book", "magazine", "cd", "cassette", "video", "art_reproduction", "ebook"]

_OTHER_TYPES: dict[str, MaterialType] = {"g": "video", "k": "art_reproduction", "m": "ebook"}
# Whole words, so "Wicomico River" or "Comic, The" (comedy) are not comics.
_COMIC_EN = re.compile(r"\b(?:comics|comic books?|comic strips?|manga|graphic novels?)\b", re.I)
_COMIC_JA = ("コミック", "まんが", "マンガ", "漫画")
_AUTHOR_CODES = {"100": "abcq", "110": "abn", "111": "andc"}


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
    call_number: str | None = None  # for the copies made from the record (STAFF-5)
    # Katakana readings (ヨミ) of title, responsibility and publisher (policies.reading).
    title_kana: str | None = None
    responsibility_kana: str | None = None
    publisher_kana: str | None = None


@dataclass(frozen=True, slots=True)
class Skipped:
    """A record that could not be imported: its 1-based position in the file, and why."""

    position: int
    control_number: str | None
    reason: str


class SkipRecord(Exception):
    """Raised for a record that cannot be imported; ``str(exc)`` is a short reason."""


def parse_record(record: Record) -> RecordData:
    """Map one pymarc record to :class:`RecordData`; raises :class:`SkipRecord`."""
    number = control(record, "001").strip()
    if not number:
        raise SkipRecord("no control number (001)")
    title_field = record.get("245")
    title, title_reading = display(record, title_field, "abnp")
    if title is None:
        raise SkipRecord("no title (245)")
    author = first(record, "100", "110", "111")
    if author is not None:
        responsibility, responsibility_reading = display(record, author, _AUTHOR_CODES[author.tag])
    else:
        responsibility, responsibility_reading = display(record, title_field, "c")
    publisher_name, publisher_reading = publisher(record)
    series_field = first(record, "490", "830", "440")
    series, _ = display(record, series_field, "a")
    volumes = series_field.get_subfields("v") if series_field is not None else []
    if title_field is not None:
        volumes += title_field.get_subfields("n")
    fixed = control(record, "008")
    classification = subject_class(record)
    return RecordData(
        control_number=number,
        title=title,
        title_reading=title_reading,
        responsibility=responsibility,
        responsibility_reading=responsibility_reading,
        publisher=publisher_name,
        publisher_reading=publisher_reading,
        year=year_of(fixed, subfields(record, ("264", "260"), "c")),
        isbn=next(filter(None, map(isbn13, subfields(record, ("020",), "a"))), None),
        subject_class=classification,
        subjects=subjects(record),
        material_type=_material_type(record),
        series=series,
        volume=next(filter(None, map(tidy, volumes)), None),
        is_comic=_is_comic(record, classification),
        language=fixed[35:38].lower() if fixed[35:38].isalpha() else None,
        call_number=call_number(record),
        title_kana=reading(title, title_reading),
        responsibility_kana=reading(responsibility, responsibility_reading),
        publisher_kana=reading(publisher_name, publisher_reading),
    )


def _material_type(record: Record) -> MaterialType:
    """Leader/06 (type of record), leader/07 (bibliographic level), 007 and 008/23."""
    kind, level = record.leader[6], record.leader[7]
    physical = [f.data or "" for f in record.get_fields("007")]
    if kind in "at":
        if level in "si":
            return "magazine"
        online = control(record, "008")[23:24] in ("o", "s")
        return "ebook" if online or _remote(record, physical) else "book"
    if kind in "ij":
        sound = [p for p in physical if p[:1] == "s" and len(p) > 1]
        return "cassette" if sound and sound[0][1] == "s" else "cd"
    return _OTHER_TYPES.get(kind, "book")


def _remote(record: Record, physical: list[str]) -> bool:
    """An 007 for a remote electronic resource, unless it describes another version: LC's
    print records of digitised books carry the scan's ``007 cr`` next to a 530 "Also
    available in digital form" note and an 856 with ind2 1 (version of the resource)."""
    if not any(p[:2] == "cr" for p in physical) or record.get_fields("530"):
        return False
    return not any(f.indicator2 == "1" for f in record.get_fields("856"))


def _is_comic(record: Record, subject_class: str | None) -> bool:
    """Comics, by subject or genre heading, or by NDC class 726.1 (manga).

    A heading counts when its 655 genre term, its form subdivision (``$v``, as in
    "Baseball -- Cartoons and comics"), or a 650 main term without a topical subdivision
    names comics; 880 partners are read too, for Japanese terms. "Comic books, strips,
    etc. -- History and criticism" is a book *about* comics, and so is a title alone
    (漫画の歴史), so neither counts.
    """
    if subject_class is not None and subject_class.startswith("726.1"):
        return True
    for field in record.get_fields("600", "610", "650", "651", "655"):
        for form in (field, partner(record, field)):
            if form is None:
                continue
            terms = form.get_subfields("v")
            if field.tag == "655" or (field.tag == "650" and not form.get_subfields("x")):
                terms += form.get_subfields("a")
            text = " ".join(terms)
            if _COMIC_EN.search(text) or any(word in text for word in _COMIC_JA):
                return True
    return False
