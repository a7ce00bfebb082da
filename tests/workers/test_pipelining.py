"""The SMTP sender against a real server (aiosmtpd on loopback) that offers PIPELINING
(RFC 2920) and one that does not: the same mails arrive byte for byte, refusals come back
the same, and the connection stays in step for the next mail (workers/pipelining.py)."""

from __future__ import annotations

from email.mime.text import MIMEText
from email.policy import compat32

import pytest

from server.settings import Settings
from tests.workers.conftest import Sink
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


@pytest.mark.parametrize("pipelining", [True, False])
def test_mails_arrive_intact(smtp: Sink, pipelining: bool) -> None:
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
            assert sender.send(FROM, recipients, data) == {}
        assert sender.pipelining is pipelining  # the server's offer decides the path
    finally:
        sender.close()
    assert smtp.raw == [JAPANESE, DOTTED, mails[2][1] + b"\r\n"]
    assert [r for r, _ in smtp.messages] == [r for r, _ in mails]


@pytest.mark.parametrize("pipelining", [True, False])
def test_refusals_read_in_full_and_the_next_mail_goes(smtp: Sink, pipelining: bool) -> None:
    # MAIL-8: a 5xx address is reported for good, a 4xx one keeps the mail for later;
    # with pipelining every reply of a refused group must still be read, or the next
    # mail would take the previous one's replies for its own.
    smtp.pipelining = pipelining
    smtp.refuse.update({"gone@example.jp": "550 5.1.1 User unknown"})
    smtp.refuse.update({"busy@example.jp": "450 4.2.0 Mailbox busy"})
    sender = _sender(smtp)
    try:
        partly = sender.send(FROM, ["gone@example.jp", "ok@example.jp"], JAPANESE)
        assert partly == {"gone@example.jp": "550 5.1.1 User unknown"}
        with pytest.raises(PermanentFailure) as everyone:
            sender.send(FROM, ["gone@example.jp"], JAPANESE)
        assert everyone.value.refused == {"gone@example.jp": "550 5.1.1 User unknown"}
        with pytest.raises(TemporaryFailure) as later:
            sender.send(FROM, ["busy@example.jp", "gone@example.jp"], JAPANESE)
        assert later.value.refused == {"gone@example.jp": "550 5.1.1 User unknown"}
        assert sender.send(FROM, ["ok@example.jp"], DOTTED) == {}
    finally:
        sender.close()
    assert [r for r, _ in smtp.messages] == [["ok@example.jp"], ["ok@example.jp"]]
    assert smtp.raw == [JAPANESE, DOTTED]
