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

from resolvers.marc_fields import heading, isbn13, joined, partner, tidy, year_of

MaterialType = Literal["book", "magazine", "cd", "cassette", "video", "art_reproduction", "ebook"]

_OTHER_TYPES: dict[str, MaterialType] = {"g": "video", "k": "art_reproduction", "m": "ebook"}
# Whole words, so "Wicomico River" or "Comic, The" (comedy) are not comics.
_COMIC_EN = re.compile(r"\b(?:comics|comic books?|comic strips?|manga|graphic novels?)\b", re.I)
_COMIC_JA = ("コミック", "まんが", "マンガ", "漫画")
_AUTHOR_CODES = {"100": "abcq", "110": "abn", "111": "andc"}
_SUBJECT_CODES = {"600": "abcdqt", "610": "abcdnt", "651": "a", "650": "ab"}
_NO_PUBLISHER = ("s.n", "publisher not identified")
_RECORD_END = b"\x1d"
_LEADER = re.compile(rb"\d{5}[ -~]{7}\d{5}[ -~]{7}")


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
    """A record that could not be imported: its 1-based position in the file, and why."""

    position: int
    control_number: str | None
    reason: str


class SkipRecord(Exception):
    """Raised for a record that cannot be imported; ``str(exc)`` is a short reason."""


def parse_record(record: Record) -> RecordData:
    """Map one pymarc record to :class:`RecordData`; raises :class:`SkipRecord`."""
    number = _control(record, "001").strip()
    if not number:
        raise SkipRecord("no control number (001)")
    title_field = record.get("245")
    title, title_reading = _display(record, title_field, "abnp")
    if title is None:
        raise SkipRecord("no title (245)")
    author = _first(record, "100", "110", "111")
    if author is not None:
        responsibility, responsibility_reading = _display(record, author, _AUTHOR_CODES[author.tag])
    else:
        responsibility, responsibility_reading = _display(record, title_field, "c")
    publisher, publisher_reading = _publisher(record)
    series_field = _first(record, "490", "830", "440")
    series, _ = _display(record, series_field, "a")
    volumes = [*(series_field.get_subfields("v") if series_field else []), *_n(title_field)]
    fixed = _control(record, "008")
    language = fixed[35:38].lower() if fixed[35:38].isalpha() else None
    subject_class = _subject_class(record)
    statements = [c for f in record.get_fields("264", "260") for c in f.get_subfields("c")]
    return RecordData(
        control_number=number,
        title=title,
        title_reading=title_reading,
        responsibility=responsibility,
        responsibility_reading=responsibility_reading,
        publisher=publisher,
        publisher_reading=publisher_reading,
        year=year_of(fixed, statements),
        isbn=next(filter(None, map(isbn13, _subfields(record, ("020",), "a"))), None),
        subject_class=subject_class,
        subjects=_subjects(record),
        material_type=_material_type(record),
        series=series,
        volume=next(filter(None, map(tidy, volumes)), None),
        is_comic=_is_comic(record, subject_class),
        language=language,
    )


def _material_type(record: Record) -> MaterialType:
    """Leader/06 (type of record), leader/07 (bibliographic level), 007 and 008/23."""
    kind, level = record.leader[6], record.leader[7]
    physical = [f.data or "" for f in record.get_fields("007")]
    if kind in "at":
        if level in "si":
            return "magazine"
        online = _control(record, "008")[23:24] in ("o", "s")
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


def _control(record: Record, tag: str) -> str:
    field = record.get(tag)
    return (field.data or "") if field is not None else ""


def _first(record: Record, *tags: str) -> Field | None:
    for tag in tags:
        if fields := record.get_fields(tag):
            return fields[0]
    return None


def _n(field: Field | None) -> list[str]:
    return field.get_subfields("n") if field is not None else []


def _subfields(record: Record, tags: tuple[str, ...], code: str) -> list[str]:
    return [value for field in record.get_fields(*tags) for value in field.get_subfields(code)]


def _display(record: Record, field: Field | None, codes: str) -> tuple[str | None, str | None]:
    """(display, reading): the linked 880 in original script if any, else the field itself."""
    if field is None:
        return None, None
    own = joined(field, codes)
    script = partner(record, field)
    original = joined(script, codes) if script is not None else None
    return (original, own) if original else (own, None)


def _publisher(record: Record) -> tuple[str | None, str | None]:
    """264 with ind2 1 (publication) first, then 260, then any 264; 880 form preferred."""
    published = [f for f in record.get_fields("264") if f.indicator2 == "1"]
    fields = published or record.get_fields("260") or record.get_fields("264")
    if not fields:
        return None, None
    field = fields[0]
    names = [_name(field)]
    script = partner(record, field)
    if script is not None and (original := _name(script)):
        return original, names[0]
    return names[0], None


def _name(field: Field) -> str | None:
    # Several $b (co-publishers) read "A ; B"; "[s.n.]" only says the name is unknown.
    names = [
        name
        for name in map(tidy, field.get_subfields("b"))
        if name and name.strip("[]?. ").lower() not in _NO_PUBLISHER
    ]
    return " ; ".join(names) or None


def _subject_class(record: Record) -> str | None:
    """NDC from 084 (LC codes it ``njb``, others ``ndc``), else LCC 050, else DDC 082."""
    for field in record.get_fields("084"):
        scheme = " ".join(field.get_subfields("2")).lower()
        if scheme.startswith(("ndc", "njb")) and (found := field.get_subfields("a")):
            return tidy(found[0])
    for tag in ("050", "082"):
        if found := _subfields(record, (tag,), "a"):
            # DDC prime marks ("895.6/344") only show where a library may cut the number.
            return tidy(found[0].replace("/", "").replace("'", ""))
    return None


def _subjects(record: Record) -> tuple[str, ...]:
    found: dict[str, None] = {}  # an ordered set
    for field in record.get_fields(*_SUBJECT_CODES):
        for form in (field, partner(record, field)):
            if form is not None and (text := heading(form, _SUBJECT_CODES[field.tag])):
                found.setdefault(text)
    return tuple(found)


def iter_marc_file(path: str | os.PathLike[str]) -> Iterator[RecordData | Skipped]:
    """Each record of a MARC21 or MARCXML file, in order, as :class:`RecordData` or
    :class:`Skipped`; never raises for a bad record.

    MARCXML is recognised by its first byte (``<`` after an optional BOM and white space).
    Binary records are decoded as UTF-8 when leader/09 is ``a`` and as MARC-8 otherwise.
    """
    with open(path, "rb") as handle:
        head = handle.read(256).lstrip(b"\xef\xbb\xbf \t\r\n")
        handle.seek(0)
        source = _xml_records(handle) if head.startswith(b"<") else _binary_records(handle)
        for position, (record, problem) in enumerate(source, start=1):
            yield _item(position, record, problem)


def _item(position: int, record: Record | None, problem: str | None) -> RecordData | Skipped:
    if record is None:
        return Skipped(position, None, problem or "unreadable record")
    number = _control(record, "001").strip() or None
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


def _binary_records(handle: BinaryIO) -> Iterator[tuple[Record | None, str | None]]:
    for offset, chunk in _chunks(handle):
        try:
            yield _decode(chunk), None
        except Exception as exc:
            yield None, f"unreadable record at byte {offset} ({_why(exc)})"


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
    offset, pending = 0, b""
    while data := handle.read(block):
        *complete, pending = (pending + data).split(_RECORD_END)
        for piece in complete:
            yield from _resync(offset, piece + _RECORD_END)
            offset += len(piece) + 1
    if pending.strip():
        yield from _resync(offset, pending)


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
    for match in _LEADER.finditer(body, 1):
        if int(match.group()[:5]) == len(body) - match.start():
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
        self._tag, self._code, self._text = "", "", [""]

    def startElementNS(
        self, name: tuple[str | None, str], qname: str | None, attrs: AttributesNSImpl
    ) -> None:
        element, self._text = name[1], []
        if element == "record":
            self._record, self._fault = Record(), None
        try:
            if element in ("controlfield", "datafield"):
                self._tag = attrs.getValue((None, "tag"))
            if element == "datafield":
                indicators = (attrs.get((None, f"ind{i}"), " ") for i in (1, 2))
                self._field = Field(self._tag, Indicators(*indicators))
            elif element == "subfield":
                self._code = attrs.getValue((None, "code"))
        except KeyError as exc:
            self._fault = f"bad MARCXML record (<{element}> without {exc})"

    def characters(self, content: str) -> None:
        self._text.append(content)

    def endElementNS(self, name: tuple[str | None, str], qname: str | None) -> None:
        element, text, record = name[1], "".join(self._text), self._record
        if record is None:
            return
        if element == "record":
            self.done.append((record, self._fault))
            self._record = None
        elif self._fault is not None:
            return
        elif element == "leader":
            try:
                record.leader = Leader(text)
            except RecordLeaderInvalid:
                self._fault = f"bad MARCXML record (leader of {len(text)} characters)"
        elif element == "controlfield":
            record.fields.append(Field(self._tag, data=text))
        elif element == "datafield" and self._field is not None:
            record.fields.append(self._field)
            self._field = None
        elif element == "subfield" and self._field is not None:
            self._field.add_subfield(self._code, text)


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
