"""MARC21 (binary UTF-8 or MARC-8, and MARCXML) to plain records for the catalogue.

Japanese (and other non-Latin) records carry title, author and publisher in original script
in 880 fields linked through ``$6``; those are the display forms, and the ALA-LC
romanisation of the partner field is kept as the reading, so a patron finds the title
either way.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Literal
from xml.sax import SAXParseException
from xml.sax.expatreader import create_parser
from xml.sax.handler import ContentHandler, feature_namespaces
from xml.sax.xmlreader import AttributesNSImpl

from pymarc import Field, Indicators, Leader, Record, RecordLeaderInvalid

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
_RECORD_END = b"\x1d"
# Lookahead, so candidates may overlap: a leader can start inside a false match.
_LEADER = re.compile(rb"(?=\d{5}[ -~]{7}\d{5}[ -~]{7})")


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


def iter_marc_file(path: str | os.PathLike[str]) -> Iterator[RecordData | Skipped]:
    """Each record of a MARC21 or MARCXML file, in order, as :class:`RecordData` or
    :class:`Skipped`; never raises for a bad record.

    MARCXML is recognised by its first byte (``<`` after an optional BOM and white space).
    Binary records are decoded as UTF-8 when leader/09 is ``a`` and as MARC-8 otherwise.
    """
    if not is_xml(path):
        for batch in raw_batches(path, 1000):
            yield from decode_batch(batch)
        return
    with open(path, "rb") as handle:
        for position, (record, problem) in enumerate(_xml_records(handle), start=1):
            yield _item(position, record, problem)


RawBatch = list[tuple[int, int, bytes]]
"""Undecoded binary records: (1-based position, byte offset, the record's bytes)."""


def is_xml(path: str | os.PathLike[str]) -> bool:
    """Whether the file is MARCXML rather than binary MARC21."""
    with open(path, "rb") as handle:
        return handle.read(256).lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


def raw_batches(path: str | os.PathLike[str], size: int) -> Iterator[RawBatch]:
    """A binary MARC21 file cut into batches of undecoded records. Cutting is cheap; the
    decoding (:func:`decode_batch`) is what a parallel import spreads over processes."""
    batch: RawBatch = []
    with open(path, "rb") as handle:
        for position, (offset, chunk) in enumerate(_chunks(handle), start=1):
            batch.append((position, offset, chunk))
            if len(batch) == size:
                yield batch
                batch = []
    if batch:
        yield batch


def decode_batch(batch: RawBatch) -> list[RecordData | Skipped]:
    """Decode and map each record of a raw batch; a bad one becomes a :class:`Skipped`."""
    out: list[RecordData | Skipped] = []
    for position, offset, chunk in batch:
        try:
            record = _decode(chunk)
        except Exception as exc:  # pymarc raises anything from ValueError to its own errors
            out.append(Skipped(position, None, f"unreadable record at byte {offset} ({_why(exc)})"))
        else:
            out.append(_item(position, record, None))
    return out


def _item(position: int, record: Record | None, problem: str | None) -> RecordData | Skipped:
    if record is None:
        return Skipped(position, None, problem or "unreadable record")
    number = control(record, "001").strip() or None
    if problem is not None:
        return Skipped(position, number, problem)
    try:
        return parse_record(record)
    except SkipRecord as skip:
        return Skipped(position, number, str(skip))
    except Exception as exc:  # one odd record must not stop a 250,000-record import
        return Skipped(position, number, _why(exc))


def _why(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:200]


def _decode(chunk: bytes) -> Record:
    # Leader/09 "a" means UTF-8, blank means MARC-8. Some exporters write UTF-8 and leave it
    # blank; valid multi-byte UTF-8 with no MARC-8 escape is never real MARC-8 (an ANSEL
    # diacritic is followed by a plain letter, which UTF-8 forbids), so read that as UTF-8.
    utf8 = chunk[9:10] == b"a" or (b"\x1b" not in chunk and not chunk.isascii() and _is_utf8(chunk))
    return Record(
        chunk, to_unicode=True, force_utf8=utf8, hide_utf8_warnings=True, utf8_handling="replace"
    )


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _chunks(handle: BinaryIO, block: int = 1 << 20) -> Iterator[tuple[int, bytes]]:
    """(byte offset, bytes) of each record, split on the record terminator rather than the
    length prefix: pymarc's reader trusts the prefix, so one wrong length would misalign
    every record after it, while a terminator split confines the damage to one record."""
    offset = 0
    pending: list[bytes] = []  # joined only at a terminator, so no quadratic copying
    while data := handle.read(block):
        *complete, rest = data.split(_RECORD_END)
        if complete:
            complete[0] = b"".join([*pending, complete[0]])
            pending.clear()
        for piece in complete:
            yield from _resync(offset, piece + _RECORD_END)
            offset += len(piece) + 1
        pending.append(rest)
    yield from _resync(offset, b"".join(pending))


def _resync(offset: int, chunk: bytes) -> Iterator[tuple[int, bytes]]:
    """Split off a broken record that lost its terminator and swallowed the next one: the
    good record is the leader whose declared length ends exactly at the terminator."""
    body = chunk.lstrip(b" \t\r\n")  # line breaks between records, as some exports add
    offset += len(chunk) - len(body)
    if not body.strip(_RECORD_END + b" \t\r\n"):
        return
    if body[:5].isdigit() and int(body[:5]) == len(body):
        yield offset, body
        return
    # A record is at most 99,999 bytes long, so it can only start that near the end.
    for match in _LEADER.finditer(body, max(1, len(body) - 99_999)):
        if int(body[match.start() : match.start() + 5]) == len(body) - match.start():
            yield offset, body[: match.start()]
            yield offset + match.start(), body[match.start() :]
            return
    yield offset, body


class _XmlRecords(ContentHandler):
    """MARCXML to pymarc records. Like pymarc's own handler, but a field it cannot read
    (no tag, a leader of the wrong length) spoils only its record, which is reported."""

    def __init__(self) -> None:
        super().__init__()
        self.done: list[tuple[Record | None, str | None]] = []
        self._record: Record | None = None
        self._fault: str | None = None
        self._field: Field | None = None
        self._tag, self._code = "", ""
        self._text: list[str] = []

    def startElementNS(
        self, name: tuple[str | None, str], qname: str | None, attrs: AttributesNSImpl
    ) -> None:
        element, self._text = name[1], []
        if element == "record":
            self._record, self._fault = Record(), None
        elif element in ("controlfield", "datafield", "subfield"):
            attribute = "code" if element == "subfield" else "tag"
            value = attrs.get((None, attribute), "")
            if not value:
                self._fault = f"bad MARCXML record (<{element}> without {attribute})"
            elif element == "subfield":
                self._code = value
            else:
                self._tag = value
        if element == "datafield" and self._tag:
            indicators = (attrs.get((None, f"ind{i}"), " ") for i in (1, 2))
            self._field = Field(self._tag, Indicators(*indicators))

    def characters(self, content: str) -> None:
        self._text.append(content)

    def endElementNS(self, name: tuple[str | None, str], qname: str | None) -> None:
        element, text, record = name[1], "".join(self._text), self._record
        if record is None:
            return
        if element == "record":
            self.done.append((record, self._fault))
            self._record = None
        elif element == "controlfield" and self._tag:
            # Kept even after a fault, so the Skipped can name its 001.
            record.fields.append(Field(self._tag, data=text))
        elif self._fault is not None:
            return
        elif element == "leader":
            try:
                record.leader = Leader(text)
            except RecordLeaderInvalid:
                self._fault = f"bad MARCXML record (leader of {len(text)} characters)"
        elif element == "datafield" and self._field is not None:
            record.fields.append(self._field)
            self._field = None
        elif element == "subfield" and self._field is not None:
            self._field.add_subfield(self._code, text)
        if element in ("controlfield", "datafield"):
            self._tag = ""


def _xml_records(handle: BinaryIO) -> Iterator[tuple[Record | None, str | None]]:
    """Streams records as the parser completes them, so a large file is never all in memory."""
    handler = _XmlRecords()
    # Expat as shipped with Python 3.11 does not fetch external entities and caps entity
    # expansion, so an uploaded file can neither read local files nor blow up memory.
    parser = create_parser()  # noqa: S315
    parser.setFeature(feature_namespaces, True)
    parser.setContentHandler(handler)
    try:
        while data := handle.read(1 << 16):
            parser.feed(data)
            yield from handler.done
            handler.done.clear()
        parser.close()
    except SAXParseException as exc:
        yield from handler.done
        yield None, f"malformed XML at line {exc.getLineNumber()} ({exc.getMessage()})"
        return
    yield from handler.done
