"""ISBNs: ISBN-10 and ISBN-13, with or without hyphens, as one 13-digit form."""

from __future__ import annotations

import re

_ISBN = re.compile(r"[0-9][0-9-]*[0-9Xx]")


def isbn13(raw: str) -> str | None:
    """A valid ISBN-10 or ISBN-13 as 13 digits, or ``None``.

    Takes the first run of digits and hyphens, so "ISBN 4-87088-916-1" and a trailing
    qualifier ("4870889161 (pbk.)") are fine;
    an ISBN-10 (check digit ``X`` included) becomes its 978-prefixed ISBN-13.
    """
    found = _ISBN.search(raw)
    token = found.group().replace("-", "").upper() if found else ""
    if len(token) == 10 and token[:9].isdigit() and (token[9].isdigit() or token[9] == "X"):
        total = sum((10 - i) * int(d) for i, d in enumerate(token[:9]))
        if (total + (10 if token[9] == "X" else int(token[9]))) % 11 != 0:
            return None
        core = "978" + token[:9]
        return core + _check13(core)
    if len(token) == 13 and token.isdigit() and token.startswith(("978", "979")):
        return token if _check13(token[:12]) == token[12] else None
    return None


def _check13(core: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(core))
    return str(-total % 10)
