"""Small readers of MARC21 fields: punctuation, 880 linkage, headings, ISBNs, years,
publisher, classification and subjects.

Nothing here knows about the catalogue; :mod:`resolvers.catalogue.marc` decides which field feeds
which column.
"""

from __future__ import annotations

import re
import unicodedata

from pymarc import Field, Record

# ISBD punctuation closes almost every subfield ("Title /", "Tōkyō :", "1999.") and means
# nothing once the subfield stands alone. LC puts bidi marks (LRM/RLM) around right-to-left
# subfields and Arabic-script records use the Arabic comma and semicolon; some Japanese
# records end with a full-width full stop.
_TRAILING = re.compile(r"[\s/:;,.=\u060c\u061b\uff0e\u200e\u200f]+$")
_SPACES = re.compile(r"\s+")
# C0 and C1 control characters (NUL, ESC, DEL...): never text, and PostgreSQL refuses NUL.
# MARC-8 escape sequences left undecoded and damaged files put them into titles.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# A final full stop that belongs to an abbreviation or an initial ("U.S.", "Smith, J.",
# "etc.", "Co.") is not ISBD punctuation: AACR2 never doubles it, so keep it.
_ABBREVIATION = re.compile(
    r"(?:^|[\s.(])(?:[A-Za-z]|etc|Inc|Co|Ltd|Corp|Bros|Jr|Sr|St|Dr|Mr|Mrs|Mme)$"
)
_LINK = re.compile(r"(\d{3})-(\d{2,})")
_YEAR = re.compile(r"(?<!\d)(1\d{3}|20\d{2}|2100)(?!\d)")
# Subject subdivisions (form, general, chronological, geographic) that display after " -- ".
SUBDIVISIONS = "vxyz"
# The main-heading subfields of each subject field: name, dates, title of a work, etc.
_SUBJECT_CODES = {"600": "abcdqt", "610": "abcdnt", "650": "ab", "651": "a"}
_NO_PUBLISHER = ("s.n", "publisher not identified")


def tidy(text: str | None) -> str | None:
    """NFC, collapsed white space, no trailing ISBD punctuation; ``None`` when empty."""
    if text is None:
        return None
    # LC spells diacritics decomposed ("o" + U+0304); the database wants one form.
    text = _CONTROLS.sub(" ", text)  # a control character separates words at most
    text = _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip(" \u200e\u200f")
    end = _TRAILING.search(text)
    if end is not None:
        head = text[: end.start()]
        text = head + "." if end.group().startswith(".") and _ABBREVIATION.search(head) else head
    # A bracketed supplied word often closes in the next subfield ("[s.l. :$bDept.]").
    if text.count("[") > text.count("]"):
        text += "]"
    return text or None


def joined(field: Field, codes: str, sep: str = " ") -> str | None:
    """The listed subfields of ``field``, in field order, joined and tidied.

    Internal ISBD punctuation stays ("Title : subtitle"); only the end is trimmed.
    """
    values = [value for code, value in _pairs(field) if code in codes and value.strip()]
    return tidy(sep.join(values))


def heading(field: Field, codes: str) -> str | None:
    """A subject heading for display: the main part, then ``" -- "`` and each subdivision."""
    main: list[str] = []
    parts: list[str] = []
    for code, value in _pairs(field):
        if code in SUBDIVISIONS or (parts and code in codes):
            parts.append(value)
        elif code in codes:
            main.append(value)
    shown = [tidy(" ".join(main)), *(tidy(p) for p in parts)]
    return " -- ".join(p for p in shown if p) or None


def _pairs(field: Field) -> list[tuple[str, str]]:
    return [(sub.code, sub.value or "") for sub in field.subfields]


def linkage(field: Field) -> tuple[str, str] | None:
    """``$6`` as (tag, occurrence): ``("880", "02")`` on a 245, ``("245", "02")`` on its 880.

    Occurrence ``00`` means "no partner" (an 880 standing alone), so it links nothing.
    """
    values = field.get_subfields("6")
    match = _LINK.match(values[0].strip()) if values else None
    if match is None or int(match.group(2)) == 0:
        return None
    return match.group(1), match.group(2)


def partner(record: Record, field: Field) -> Field | None:
    """The 880 (original script) linked to ``field``.

    Matching needs the tag *and* the occurrence number: a record often has several 880s for
    the same tag, and they are not always in the same order as their partners.
    """
    link = linkage(field)
    if link is None or link[0] != "880" or field.tag == "880":
        return None
    for candidate in record.get_fields("880"):
        if linkage(candidate) == (field.tag, link[1]):
            return candidate
    return None


def year_of(fixed: str, statements: list[str]) -> int | None:
    """008/07-10 when it is a plausible year, else the first year in 260/264 ``$c``.

    008 often has ``19uu`` or blanks for unknown digits; the statement may still say
    "[1999?]" or "Heisei 11 [1999]".
    """
    first = fixed[7:11]
    if len(first) == 4 and first.isdigit() and 1000 <= int(first) <= 2100:
        return int(first)
    for text in statements:
        if match := _YEAR.search(text):
            return int(match.group(1))
    return None


def control(record: Record, tag: str) -> str:
    """The data of a control field (001, 008), or ``""`` when it is absent."""
    field = record.get(tag)
    data = (field.data or "") if field is not None else ""
    return _CONTROLS.sub("", data)  # a key (001) or fixed field (008) has no control chars


def first(record: Record, *tags: str) -> Field | None:
    """The first field of the first of ``tags`` the record has."""
    for tag in tags:
        if fields := record.get_fields(tag):
            return fields[0]
    return None


def subfields(record: Record, tags: tuple[str, ...], code: str) -> list[str]:
    """Every ``$code`` of every field with one of ``tags``, in record order."""
    return [value for field in record.get_fields(*tags) for value in field.get_subfields(code)]


def display(record: Record, field: Field | None, codes: str) -> tuple[str | None, str | None]:
    """(display, reading): the linked 880 in original script if any, else the field itself."""
    if field is None:
        return None, None
    own = joined(field, codes)
    script = partner(record, field)
    original = joined(script, codes) if script is not None else None
    return (original, own) if original else (own, None)


def publisher(record: Record) -> tuple[str | None, str | None]:
    """(display, reading) of the publisher: 264 with ind2 1 (publication) first, then 260,
    then any 264; the 880 form preferred."""
    published = [f for f in record.get_fields("264") if f.indicator2 == "1"]
    field = first(record, "260", "264") if not published else published[0]
    if field is None:
        return None, None
    own = _publisher_names(field)
    script = partner(record, field)
    original = _publisher_names(script) if script is not None else None
    return (original, own) if original else (own, None)


def _publisher_names(field: Field) -> str | None:
    # Co-publishers (several $b) read "A ; B"; "[s.n.]" only says the name is unknown.
    names = [
        name
        for name in map(tidy, field.get_subfields("b"))
        if name and name.strip("[]?. ").lower() not in _NO_PUBLISHER
    ]
    return " ; ".join(names) or None


def subject_class(record: Record) -> str | None:
    """NDC from 084 (LC codes the scheme ``njb``, others ``ndc``), else LCC 050, else DDC
    082, each its first ``$a``."""
    for field in record.get_fields("084"):
        scheme = " ".join(field.get_subfields("2")).lower()
        if scheme.startswith(("ndc", "njb")) and (found := field.get_subfields("a")):
            return tidy(found[0])
    for tag in ("050", "082"):
        if found := subfields(record, (tag,), "a"):
            # DDC prime marks ("895.6/344") only show where a library may cut the number.
            return tidy(found[0].replace("/", "").replace("'", ""))
    return None


def call_number(record: Record) -> str | None:
    """The call number (請求記号, STAFF-5): a local 090 ($a class, $b item number), else the
    classification of 084 or LC's 050 with its item number; ``None`` when none is there."""
    for tag in ("090", "084", "050"):
        for field in record.get_fields(tag):
            parts = [tidy(p) for p in field.get_subfields("a")[:1] + field.get_subfields("b")[:1]]
            text = " ".join(p for p in parts if p)
            if text:
                return text[:50]
    return None


def subjects(record: Record) -> tuple[str, ...]:
    """600/610/650/651 headings and their 880 partners, without repeats, in record order."""
    found: dict[str, None] = {}  # an ordered set
    for field in record.get_fields(*_SUBJECT_CODES):
        for form in (field, partner(record, field)):
            if form is not None and (text := heading(form, _SUBJECT_CODES[field.tag])):
                found.setdefault(text)
    return tuple(found)
