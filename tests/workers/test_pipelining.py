"""The SMTP sender against a real server (aiosmtpd on loopback) that offers PIPELINING
(RFC 2920) and one that does not: the same mails arrive byte for byte, refusals come back
the same, and the connection stays in step for the next mail (workers/pipelining.py)."""

from __future__ import annotations

import smtplib
from email.mime.text import MIMEText
from email.policy import compat32

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.settings import Settings
from tests.workers.conftest import Sink
from workers.pipelining import quoted
from workers.senders import PermanentFailure, SmtpSender, TemporaryFailure

FROM = "no-reply@library.example.jp"
WIRE = compat32.clone(linesep="\r\n")


def _sender(sink: Sink) -> SmtpSender:
    settings = Settings(
        _env_file=None,
        mail_sender="smtp",
        smtp_host="127.0.0.1",
        smtp_port=sink.port,
        smtp_timeout=10,
    )
    return SmtpSender(settings)


def _message(body: str, charset: str = "utf-8") -> bytes:
    msg = MIMEText(body, "plain", charset)
    msg["From"] = FROM
    msg["Subject"] = "返却期限日のお知らせ"
    return msg.as_bytes(policy=WIRE)


# Lines that start with a dot are doubled on the wire and undoubled by the server
# (RFC 5321 4.5.2); a lone "." would otherwise end the message early.
DOTTED = _message(".\n..\n.leading dot\nmiddle . dot\n.\n", charset="us-ascii")
JAPANESE = _message("山田 花子 様\n\nお借りの資料の返却期限日が近づいています。\n" * 40)


async def _open() -> None:
    """A gate that lets every mail through at once."""


@pytest.mark.parametrize("pipelining", [True, False])
async def test_mails_arrive_intact(smtp: Sink, pipelining: bool) -> None:
    # MAIL-1..7 go out through this: what the server stores is what was composed.
    smtp.pipelining = pipelining
    sender = _sender(smtp)
    try:
        mails = [
            (["a@example.jp", "b@example.jp"], JAPANESE),
            (["c@example.jp"], DOTTED),
            (["d@example.jp"], b"Subject: no final line break\r\n\r\nbody"),
        ]
        for recipients, data in mails:
            assert await sender.send(FROM, recipients, data, _open) == {}
        assert sender.pipelining is pipelining  # the server's offer decides the path
    finally:
        sender.close()
    assert smtp.raw == [JAPANESE, DOTTED, mails[2][1] + b"\r\n"]
    assert [r for r, _ in smtp.messages] == [r for r, _ in mails]


@pytest.mark.parametrize("pipelining", [True, False])
async def test_refusals_read_in_full_and_the_next_mail_goes(smtp: Sink, pipelining: bool) -> None:
    # MAIL-8: a 5xx address is reported for good, a 4xx one keeps the mail for later;
    # with pipelining every reply of a refused group must still be read, or the next
    # mail would take the previous one's replies for its own.
    smtp.pipelining = pipelining
    smtp.refuse.update({"gone@example.jp": "550 5.1.1 User unknown"})
    smtp.refuse.update({"busy@example.jp": "450 4.2.0 Mailbox busy"})
    sender = _sender(smtp)
    try:
        partly = await sender.send(FROM, ["gone@example.jp", "ok@example.jp"], JAPANESE, _open)
        assert partly == {"gone@example.jp": "550 5.1.1 User unknown"}
        with pytest.raises(PermanentFailure) as everyone:
            await sender.send(FROM, ["gone@example.jp"], JAPANESE, _open)
        assert everyone.value.refused == {"gone@example.jp": "550 5.1.1 User unknown"}
        with pytest.raises(TemporaryFailure) as later:
            await sender.send(FROM, ["busy@example.jp", "gone@example.jp"], JAPANESE, _open)
        assert later.value.refused == {"gone@example.jp": "550 5.1.1 User unknown"}
        assert await sender.send(FROM, ["ok@example.jp"], DOTTED, _open) == {}
    finally:
        sender.close()
    assert [r for r, _ in smtp.messages] == [["ok@example.jp"], ["ok@example.jp"]]
    assert smtp.raw == [JAPANESE, DOTTED]


@pytest.mark.parametrize("pipelining", [True, False])
async def test_the_server_takes_a_mail_only_after_its_gate(smtp: Sink, pipelining: bool) -> None:
    # MAIL-8: the dispatcher's gate is "the previous mail is recorded". While it waits, a
    # pipelining sender has sent the envelope (its round trip overlaps the wait), but the
    # server has taken nothing.
    smtp.pipelining = pipelining
    seen: list[tuple[int, int]] = []

    async def gate() -> None:
        seen.append((smtp.envelopes, len(smtp.messages)))

    sender = _sender(smtp)
    try:
        for recipient in ("a@example.jp", "b@example.jp"):
            assert await sender.send(FROM, [recipient], JAPANESE, gate) == {}
    finally:
        sender.close()
    if pipelining:
        assert seen == [(1, 0), (2, 1)]  # this mail's envelope in, the mail itself not
    else:
        assert seen == [(0, 0), (1, 1)]  # nothing of this mail before the gate
    assert [r for r, _ in smtp.messages] == [["a@example.jp"], ["b@example.jp"]]


@pytest.mark.parametrize("pipelining", [True, False])
async def test_a_gate_that_fails_delivers_nothing(smtp: Sink, pipelining: bool) -> None:
    # MAIL-8: if the previous mail cannot be recorded, this one must not reach the server;
    # the error is the gate's own (not an SMTP failure), and the next mail still goes.
    smtp.pipelining = pipelining

    async def broken() -> None:
        raise ConnectionResetError("the database went away")

    sender = _sender(smtp)
    try:
        with pytest.raises(ConnectionResetError):
            await sender.send(FROM, ["a@example.jp"], JAPANESE, broken)
        assert smtp.messages == []
        assert await sender.send(FROM, ["b@example.jp"], DOTTED, _open) == {}
    finally:
        sender.close()
    assert [r for r, _ in smtp.messages] == [["b@example.jp"]]
    assert smtp.raw == [DOTTED]


# Address characters, the special ones parseaddr treats apart among them.
ADDRESS_TEXT = st.text(st.sampled_from("ab.Z09+-_!~'\"<>()[],;:\\@ \t漢"), max_size=12)


@settings(max_examples=1000, deadline=None)
@given(
    address=st.builds(lambda local, domain: f"{local}@{domain}", ADDRESS_TEXT, ADDRESS_TEXT)
    | ADDRESS_TEXT
)
def test_plain_addresses_skip_the_parser_and_keep_its_answer(address: str) -> None:
    # MAIL-8: the envelope's addresses are written as smtplib would write them.
    assert quoted(address) == smtplib.quoteaddr(address)
