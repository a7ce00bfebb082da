"""Reading MARC files: binary MARC21 (UTF-8 or MARC-8, cut into records even where the
file is damaged) and MARCXML, each record mapped by :mod:`resolvers.catalogue.marc`.

The importer (``server/catalogue_import.py``) cuts a binary file into raw batches here and
decodes them in worker processes; everything else reads records one by one with
:func:`iter_marc_file`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import BinaryIO
from xml.sax import SAXParseException
from xml.sax.expatreader import create_parser
from xml.sax.handler import ContentHandler, feature_namespaces
from xml.sax.xmlreader import AttributesNSImpl

from pymarc import Field, Indicators, Leader, Record, RecordLeaderInvalid

from resolvers.catalogue.marc import RecordData, Skipped, SkipRecord, parse_record
from resolvers.catalogue.marc_fields import control

_RECORD_END = b"\x1d"
# Lookahead, so candidates may overlap: a leader can start inside a false match.
_LEADER = re.compile(rb"(?=\d{5}[ -~]{7}\d{5}[ -~]{7})")


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
