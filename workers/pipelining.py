"""``smtplib.SMTP.sendmail`` with command pipelining (RFC 2920), for servers that offer it.

Neither ``smtplib`` nor ``aiosmtplib`` pipelines: each waits for the reply to MAIL, then to
every RCPT, then to DATA, then to the message. Where the server's EHLO lists
``PIPELINING``, :func:`open_data` writes MAIL, the RCPTs and DATA at once and reads their
replies together, then :func:`send_data` sends the message: two round trips per mail
instead of three plus one per recipient. Between the two the caller may wait for something
(the dispatcher waits for the previous mail's record, MAIL-8): until the message's end is
sent, the server has taken nothing.

It reuses the connection's own reply reader and raises what ``sendmail`` raises, in the
same cases, so a caller handles either the same way.
"""

from __future__ import annotations

import contextlib
import re
import smtplib
from collections.abc import Sequence

Reply = tuple[int, bytes]

# RFC 5321 4.5.2: a line of the message that starts with "." gets a second one.
_LEADING_DOT = re.compile(rb"(?m)^\.")
# An address of plain ASCII dot-atom characters with one "@": what ``quoteaddr`` returns
# for it is the address in angle brackets, so it is not parsed (5 µs an address).
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+")
_CRLF = b"\r\n"
_ACCEPTED = (250, 251)  # RCPT: taken, or taken to forward
_CLOSING = 421  # the server is shutting the connection


def _command(conn: smtplib.SMTP, verb: str, address: str, options: str = "") -> bytes:
    """One command line as ``smtplib``'s ``putcmd`` writes it; refused if the address
    holds a line break (it would smuggle in a command of its own)."""
    line = f"{verb}{quoted(address)}{options}"
    if "\r" in line or "\n" in line:
        raise ValueError(f"prohibited newline in SMTP command: {line!r}")
    return line.encode(conn.command_encoding) + _CRLF


def quoted(address: str) -> str:
    """``smtplib.quoteaddr(address)``, without parsing a plain address."""
    if _PLAIN_ADDRESS.fullmatch(address):
        return f"<{address}>"
    return smtplib.quoteaddr(address)


def _failed(conn: smtplib.SMTP, code: int, error: smtplib.SMTPException) -> smtplib.SMTPException:
    """``error``, with the connection left ready for the next mail as ``sendmail`` leaves
    it: the refused envelope reset, or the connection closed after a 421."""
    if code == _CLOSING:
        conn.close()
        return error
    # A connection lost meanwhile surfaces at the next mail, which reconnects.
    with contextlib.suppress(smtplib.SMTPServerDisconnected):
        conn.rset()
    return error


def open_data(
    conn: smtplib.SMTP, sender: str, recipients: Sequence[str], size: int
) -> dict[str, Reply]:
    """The envelope of one mail, up to the server's 354: MAIL, the RCPTs and DATA in one
    write, their replies read together; only for a connection whose EHLO offered
    ``PIPELINING`` (``conn.has_extn``). :func:`send_data` then sends the message.

    Returns the refused recipients with their replies, and raises
    ``SMTPSenderRefused``, ``SMTPRecipientsRefused`` or ``SMTPDataError`` where
    ``sendmail`` would (a lost connection: ``SMTPServerDisconnected``)."""
    options = f" SIZE={size}" if conn.has_extn("size") else ""
    group = [_command(conn, "MAIL FROM:", sender, options)]
    group += [_command(conn, "RCPT TO:", address) for address in recipients]
    conn.send(b"".join(group) + b"DATA" + _CRLF)
    # Every reply of the group is read before any is acted on (RFC 2920 3.1): a refused
    # MAIL still earns a reply per RCPT and one for DATA, which must not be taken later
    # for the next mail's.
    mail = conn.getreply()
    rcpts = [conn.getreply() for _ in recipients]
    data_reply = conn.getreply()
    refused = {a: r for a, r in zip(recipients, rcpts, strict=True) if r[0] not in _ACCEPTED}
    nothing_to_send = mail[0] != 250 or len(refused) == len(recipients)
    if data_reply[0] == 354 and nothing_to_send:
        # A server that took DATA with no envelope to fill: end the empty message.
        conn.send(b"." + _CRLF)
        data_reply = conn.getreply()
    if mail[0] != 250:
        raise _failed(conn, mail[0], smtplib.SMTPSenderRefused(*mail, sender))
    closing = any(code == _CLOSING for code, _ in refused.values())
    if nothing_to_send or closing:
        raise _failed(conn, _CLOSING if closing else 0, smtplib.SMTPRecipientsRefused(refused))
    if data_reply[0] != 354:
        raise _failed(conn, data_reply[0], smtplib.SMTPDataError(*data_reply))
    return refused


def send_data(conn: smtplib.SMTP, data: bytes) -> None:
    """The message after :func:`open_data`'s 354, and the server's final reply: only
    once this returns has the server taken the mail."""
    body = _LEADING_DOT.sub(b"..", data)
    if not body.endswith(_CRLF):
        body += _CRLF
    conn.send(body + b"." + _CRLF)
    final = conn.getreply()
    if final[0] != 250:
        raise _failed(conn, final[0], smtplib.SMTPDataError(*final))
