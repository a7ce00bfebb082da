"""The error-code table for front-end developers (docs/errors.md), generated from the
:class:`ErrorCode` enum and the message catalogue so that it cannot drift from the code."""

from __future__ import annotations

import inspect
import re

from policies.errors import ErrorCode
from schema.shared.messages import MESSAGES, VARIANTS

HTTP_STATUS = {
    ErrorCode.BAD_REQUEST: 400,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: 415,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.CSRF_REQUIRED: 403,
    ErrorCode.MAINTENANCE: 503,
    ErrorCode.TRUSTED_DOCUMENT_REQUIRED: 400,
    ErrorCode.UNKNOWN_DOCUMENT: 400,
    ErrorCode.BATCHING_DISABLED: 400,
}


def _sections() -> dict[ErrorCode, str]:
    """Each code's group, read from the ``# Group`` comments in the enum's source."""
    group, found = "", {}
    for line in inspect.getsource(ErrorCode).splitlines():
        if comment := re.match(r"\s+# (.+)", line):
            group = comment.group(1)
        elif member := re.match(r"\s+([A-Z_]+) = ", line):
            found[ErrorCode[member.group(1)]] = group
    return found


def error_table() -> str:
    """docs/errors.md."""
    groups = _sections()
    lines = [
        "# Error codes",
        "",
        "Generated from `policies/errors.py` and `schema/shared/messages.py` by",
        "`hondana export-schema`; a test keeps it equal to the code. Branch on the code,",
        "never on the message. Codes with an HTTP status come before the GraphQL executor runs",
        "and answer with that status; every other code arrives with HTTP 200, either as a",
        "top-level error (`errors[].extensions.code`) or in a payload's `errors` list.",
        "",
    ]
    current = None
    for code in ErrorCode:
        group = groups.get(code, "Other")
        if group != current:
            lines += [f"## {group}", "", "| code | HTTP | 日本語 | English |", "|---|---|---|---|"]
            current = group
        ja, en = MESSAGES[code]
        status = str(HTTP_STATUS.get(code, 200))
        lines.append(f"| `{code.value}` | {status} | {_cell(ja)} | {_cell(en)} |")
        for (varied, name), (vja, ven) in VARIANTS.items():
            if varied is code:
                lines.append(
                    f"| `{code.value}` ({name}) | {status} | {_cell(vja)} | {_cell(ven)} |"
                )
        if code is list(ErrorCode)[-1] or groups.get(_next(code), "Other") != group:
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _next(code: ErrorCode) -> ErrorCode:
    members = list(ErrorCode)
    return members[min(members.index(code) + 1, len(members) - 1)]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
