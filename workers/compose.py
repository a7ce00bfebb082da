"""Mails as messages: Jinja2 templates in Japanese (plain text) with the headers every
notice carries (MAIL-7) and a Message-ID that stays the same on every retry (MAIL-8)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from email.base64mime import body_encode
from email.header import Header
from email.policy import compat32
from email.utils import format_datetime, formataddr
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from resolvers.mail.mail import Claimed
from server.settings import Settings

WEEKDAYS = "月火水木金土日"
WIRE = compat32.clone(linesep="\r\n")  # SMTP wants CRLF; sendmail passes bytes as they are


def jdate(value: str | date) -> str:
    """``2026-12-08`` → ``2026年12月8日(火)``."""
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return f"{day.year}年{day.month}月{day.day}日({WEEKDAYS[day.weekday()]})"


@lru_cache(maxsize=1)
def environment() -> Environment:
    """Templates under ``workers/templates``; a missing variable is an error, not a blank."""
    env = Environment(
        loader=PackageLoader("workers", "templates"),
        undefined=StrictUndefined,
        autoescape=False,  # noqa: S701 - plain-text mail, never HTML
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        # Compiled once per process: no file check for every mail (a worker restart
        # picks up an edited template, as it does edited code).
        auto_reload=False,
    )
    env.filters["jdate"] = jdate
    return env


def render(kind: str, context: dict[str, Any]) -> tuple[str, str]:
    """(subject, body) of one notice: the template's first line is ``Subject: ...``."""
    text = environment().get_template(f"{kind}.txt.j2").render(**context)
    head, _, body = text.partition("\n")
    if not head.startswith("Subject: "):
        raise ValueError(f"template {kind} must start with a Subject line")
    return head.removeprefix("Subject: ").strip(), body.lstrip("\n")


def message_id(mail: Claimed, settings: Settings) -> str:
    """The same id on every attempt, so a receiver can tell a retry from a new mail."""
    digest = hashlib.sha256(mail.dedupe_key.encode()).hexdigest()[:20]
    domain = settings.mail_from.rpartition("@")[2] or "localhost"
    return f"<{mail.kind}.{mail.id}.{digest}@{domain}>"


@dataclass(frozen=True, slots=True)
class Composed:
    """A message ready for the wire, and the envelope it travels in."""

    sender: str
    recipients: tuple[str, ...]
    message_id: str
    data: bytes
    text: str  # subject and body as the patron reads them, kept for staff (mailLog)


def compose(
    mail: Claimed, settings: Settings, now: datetime, secrets: Sequence[str] = ()
) -> Composed:
    """The full message for a claimed mail, to its addresses; ``text`` is the same mail
    with the payload keys named in ``secrets`` masked (what staff may read later).

    Written out as compat32 would flatten a ``MIMEText``: the modern ``EmailMessage``
    header objects, and even compat32's generator, cost more than the SMTP round trip
    itself at thousands of mails.
    """
    context = {
        "name": mail.patron_name or "",
        "p": mail.payload,
        "library": settings.mail_from_name,
    }
    subject, body = render(mail.kind, context)
    text = f"{subject}\n\n{body}"
    if secrets:
        masked = {k: ("********" if k in secrets else v) for k, v in mail.payload.items()}
        shown_subject, shown_body = render(mail.kind, {**context, "p": masked})
        text = f"{shown_subject}\n\n{shown_body}"
    ident = message_id(mail, settings)
    data = wire(
        (settings.mail_from_name, settings.mail_from), mail.addresses, subject, body, now, ident
    )
    return Composed(settings.mail_from, mail.addresses, ident, data, text)


def wire(
    sender: tuple[str, str],
    addresses: Sequence[str],
    subject: str,
    body: str,
    now: datetime,
    ident: str,
) -> bytes:
    """The bytes of a plain-text UTF-8 mail with the headers every notice carries (MAIL-7):
    ``sender`` is (display name, address)."""
    return b"".join(
        (
            _HEAD,
            _from_line(*sender),
            header_line("To", ", ".join(addresses)),
            _subject_line(subject),
            _date_line(now),
            header_line("Message-ID", ident),
            b"Auto-Submitted: auto-generated\r\nX-Auto-Response-Suppress: All\r\n\r\n",
            body_encode(body.encode("utf-8"), 76, "\r\n").encode("ascii"),
        )
    )


# The wire form of a plain-text UTF-8 mail, written out directly: the same bytes as a
# compat32 ``MIMEText(body, "plain", "utf-8")`` flattened with CRLF (tests/workers/
# test_compose.py compares the two), without the email package's generic generator, which
# took a third of the dispatcher's time re-folding the same headers for every mail.
_HEAD = (
    b'Content-Type: text/plain; charset="utf-8"\r\nMIME-Version: 1.0\r\n'
    b"Content-Transfer-Encoding: base64\r\n"
)


@lru_cache(maxsize=8)
def _from_line(name: str, address: str) -> bytes:
    return WIRE.fold_binary("From", formataddr((str(Header(name, "utf-8")), address)))


@lru_cache(maxsize=256)
def _subject_line(subject: str) -> bytes:
    # As compat32 folds a Header object: RFC 2047 words, the first line after the name.
    # Cached: a batch's notices of one kind share their subject, and encoding it was more
    # than half of composing a mail (0.10 ms a mail before, 0.045 after).
    words = Header(subject, "utf-8", header_name="Subject").encode(linesep="\r\n", maxlinelen=78)
    return b"Subject: " + words.encode("ascii") + b"\r\n"


@lru_cache(maxsize=4)
def _date_line(now: datetime) -> bytes:
    # A batch's mails share their moment (the dispatcher's ``now``): formatted once.
    return header_line("Date", format_datetime(now))


def header_line(name: str, value: str) -> bytes:
    """One header as compat32 writes it: a short line of plain ASCII unchanged, anything
    else folded by compat32 itself."""
    line = f"{name}: {value}"
    if len(line) <= 78 and value.isascii() and value.isprintable():
        return line.encode("ascii") + b"\r\n"
    return WIRE.fold_binary(name, value)
