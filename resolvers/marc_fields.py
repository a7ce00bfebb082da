"""Small readers of MARC21 fields: 880 linkage, tidy punctuation, ISBNs, years."""

from __future__ import annotations

import re
import unicodedata

from pymarc import Field, Record

# ISBD punctuation that ends a subfield and means nothing on its own.
_TRAILING = re.compile(r"[\s/:;,.=]+$")
_SPACES = re.compile(r"\s+")
_YEAR = re.compile(r"(1[0-9]{3}|20[0-9]{2}|2100)")


def tidy(text: str | None) -> str | None:
    """Collapse white space and drop trailing ISBD punctuation; ``None`` for empty."""
    if text is None:
        return None
    # LC data spells macrons decomposed (o + U+0304); store the composed form.
    text = unicodedata.normalize("NFC", text)
    cleaned = _TRAILING.sub("", _SPACES.sub(" ", text).strip())
    # A closing bracket or an abbreviation's full stop is part of the text.
    if text.rstrip().endswith(("]", ")")) and not cleaned.endswith(("]", ")")):
        cleaned = text.rstrip()
    return cleaned or None


def joined(field: Field, codes: str, sep: str = " ") -> str | None:
    """The listed subfields of ``field``, in field order, tidied and joined."""
    parts = [tidy(value) for code, value in _pairs(field) if code in codes]
    return tidy(sep.join(p for p in parts if p))


def _pairs(field: Field) -> list[tuple[str, str]]:
    return [(sf.code, sf.value) for sf in field.subfields]


def linkage(field: Field) -> tuple[str, str] | None:
    """``$6`` as (tag, occurrence): ``880-02`` on a 245, ``245-02/$1`` on its 880."""
    values = field.get_subfields("6")
    if not values:
        return None
    tag, _, rest = values[0].partition("-")
    occurrence = rest[:2]
    if len(tag) != 3 or len(occurrence) != 2 or not occurrence.isdigit() or occurrence == "00":
        return None
    return tag, occurrence


def partner(record: Record, field: Field) -> Field | None:
    """The 880 field in original script linked to ``field`` by occurrence number."""
    link = linkage(field)
    if link is None or link[0] != "880":
        return None
    for candidate in record.get_fields("880"):
        theirs = linkage(candidate)
        if theirs is not None and theirs == (field.tag, link[1]):
            return candidate
    return None


def isbn13(raw: str) -> str | None:
    """A valid ISBN-10 or ISBN-13 (hyphens, spaces and trailing qualifiers allowed) as
    13 digits; ``None`` if the check digit fails."""
    token = raw.strip().split(" ")[0].replace("-", "").upper()
    if len(token) == 10 and token[:9].isdigit() and (token[9].isdigit() or token[9] == "X"):
        total = sum((10 - i) * int(d) for i, d in enumerate(token[:9]))
        check = 10 if token[9] == "X" else int(token[9])
        if (total + check) % 11 != 0:
            return None
        core = "978" + token[:9]
    elif len(token) == 13 and token.isdigit() and token.startswith(("978", "979")):
        core = token[:12]
        if _isbn13_check(core) != token[12]:
            return None
    else:
        return None
    return core + _isbn13_check(core)


def _isbn13_check(core: str) -> str:
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(core))
    return str((10 - total % 10) % 10)


def year_of(fixed: str | None, statements: list[str]) -> int | None:
    """008/07-10 when it is a plausible year, else the first year in 260/264 ``$c``."""
    if fixed and len(fixed) >= 11 and fixed[7:11].isdigit():
        year = int(fixed[7:11])
        if 1000 <= year <= 2100:
            return year
    for text in statements:
        match = _YEAR.search(text)
        if match:
            return int(match.group(1))
    return None
