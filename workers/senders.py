"""Where mail goes: SMTP in production, a maildir in the embedded default.

A sender hands back the addresses it refused for good; a temporary problem (4xx, a
refused or dropped connection) raises :class:`TemporaryFailure`, a permanent one for every
address raises :class:`PermanentFailure`.
"""

from __future__ import annotations

import mailbox
import smtplib
import ssl
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Protocol, TypeVar

from server.settings import Settings
from workers.pipelining import open_data, send_data

# Awaited before a message is handed over for good: the dispatcher's "the previous mail
# is recorded" (MAIL-8). A sender may do the envelope's round trip before it.
Gate = Callable[[], Awaitable[None]]
T = TypeVar("T")


class TemporaryFailure(Exception):
    """Try again later; nothing was delivered. ``refused`` lists addresses that were
    refused for good meanwhile (a 550 next to another address's 450)."""

    def __init__(self, message: str, refused: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.refused = refused or {}


class Unreachable(TemporaryFailure):
    """The server could not be reached at all: no mail of this batch can go now."""


class PermanentFailure(Exception):
    """Every address refused the mail for good; ``refused`` maps address to the reply."""

    def __init__(self, message: str, refused: dict[str, str]) -> None:
        super().__init__(message)
        self.refused = refused


class Sender(Protocol):
    """Delivers messages; kept open across a batch and closed after it."""

    async def send(
        self, sender: str, recipients: Sequence[str], data: bytes, gate: Gate
    ) -> dict[str, str]:
        """Deliver once ``gate`` has returned; return the addresses refused permanently
        (others took the mail). If ``gate`` raises, nothing is delivered."""
        ...

    def close(self) -> None:
        """Release the connection, if any."""
        ...


def _reply(code: int, text: bytes | str) -> str:
    return f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"


class SmtpSender:
    """SMTP with optional STARTTLS and login; one connection reused for a batch, and
    commands pipelined where the server offers it (``workers/pipelining.py``)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._conn: smtplib.SMTP | None = None
        self.pipelining = False  # whether the open connection's EHLO offered PIPELINING

    def _connection(self) -> smtplib.SMTP:
        if self._conn is None:
            s = self.settings
            try:
                conn = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout)
                if s.smtp_starttls:
                    conn.starttls(context=ssl.create_default_context())
                if s.smtp_username and s.smtp_password is not None:
                    conn.login(s.smtp_username, s.smtp_password.get_secret_value())
                # EHLO now (after STARTTLS, which forgets the first one's extensions), to
                # know before the first mail whether it may be pipelined.
                conn.ehlo_or_helo_if_needed()
            except (OSError, smtplib.SMTPException) as exc:
                raise Unreachable(f"cannot reach {s.smtp_host}:{s.smtp_port}: {exc}") from exc
            self._conn = conn
            self.pipelining = conn.has_extn("pipelining")
        return self._conn

    async def send(
        self, sender: str, recipients: Sequence[str], data: bytes, gate: Gate
    ) -> dict[str, str]:
        conn = self._connection()
        if self.pipelining:
            # The envelope's round trip overlaps whatever the gate waits for; the server
            # takes the mail only with its end, sent after the gate.
            refused = self._attempt(lambda: open_data(conn, sender, recipients, len(data)))
            try:
                await gate()
            except BaseException:
                self._drop()  # mid-DATA: closed before the message's end, nothing delivered
                raise
            self._attempt(lambda: send_data(conn, data))
        else:
            await gate()
            refused = self._attempt(lambda: conn.sendmail(sender, list(recipients), data))
        return {a: _reply(c, t) for a, (c, t) in refused.items() if c >= 500}

    def _attempt(self, step: Callable[[], T]) -> T:
        """One SMTP step, its errors told as this module's failures."""
        try:
            return step()
        except smtplib.SMTPRecipientsRefused as exc:
            replies = {a: _reply(c, t) for a, (c, t) in exc.recipients.items()}
            if all(c >= 500 for c, _ in exc.recipients.values()):
                raise PermanentFailure("all recipients refused", replies) from exc
            permanent = {a: r for a, r in replies.items() if exc.recipients[a][0] >= 500}
            raise TemporaryFailure(f"recipients refused for now: {replies}", permanent) from exc
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            if exc.smtp_code >= 500:
                raise PermanentFailure(_reply(exc.smtp_code, exc.smtp_error), {}) from exc
            raise TemporaryFailure(_reply(exc.smtp_code, exc.smtp_error)) from exc
        except (OSError, smtplib.SMTPException) as exc:
            self.close()  # the connection is gone; the next mail reconnects
            raise TemporaryFailure(f"{type(exc).__name__}: {exc}") from exc

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.quit()
            except (OSError, smtplib.SMTPException):
                self._conn.close()
            self._conn = None


class MaildirSender:
    """Writes each mail into a maildir (``var/maildir``) that any mail reader opens."""

    def __init__(self, path: Path) -> None:
        self.box = mailbox.Maildir(path, create=True)

    async def send(
        self, sender: str, recipients: Sequence[str], data: bytes, gate: Gate
    ) -> dict[str, str]:
        await gate()
        try:
            self.box.add(data)
        except OSError as exc:
            raise TemporaryFailure(f"maildir: {exc}") from exc
        return {}

    def close(self) -> None:
        return None


def make_sender(settings: Settings) -> Sender:
    """The configured sender."""
    if settings.mail_sender == "smtp":
        return SmtpSender(settings)
    return MaildirSender(settings.maildir)
