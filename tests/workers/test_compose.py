"""The wire form of a notice (MAIL-7) is written out by hand for speed (bench/README.md,
"Mail dispatch", round 2): it must be, byte for byte, what compat32 writes for the same
``MIMEText``, which is what every mail reader and the rest of this suite were tested on."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from email.errors import HeaderParseError
from email.header import Header
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime, formataddr

from hypothesis import example, given, settings
from hypothesis import strategies as st

from workers.compose import header_line, wire

WIRE = compat32.clone(linesep="\r\n")


# wire()'s arguments: (display name, address) of the sender, addresses, subject, body,
# date, Message-ID.
Args = tuple[tuple[str, str], Sequence[str], str, str, datetime, str]


def flattened(args: Args) -> bytes:
    """The reference: the message as the email package builds and flattens it."""
    sender, addresses, subject, body, now, ident = args
    msg = MIMEText(body, "plain", "utf-8")
    msg["From"] = formataddr((str(Header(sender[0], "utf-8")), sender[1]))
    msg["To"] = ", ".join(addresses)
    msg["Subject"] = Header(subject, "utf-8", header_name="Subject")  # type: ignore[assignment]
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = ident
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    return msg.as_bytes(policy=WIRE)


# Text as the templates make it: Japanese, ASCII, spaces and line breaks, long runs.
TEXT = st.text(
    st.sampled_from("図書館の予約資料が確保できました。ｶﾅ abc XYZ 123 -_.,:;()「」【】\n  \t"),
    max_size=300,
)
LOCAL = st.from_regex(r"[a-z0-9._+-]{1,64}", fullmatch=True)
DOMAIN = st.from_regex(r"[a-z0-9-]{1,40}(\.[a-z0-9-]{1,20}){1,3}", fullmatch=True)
ADDRESS = st.builds(lambda local, domain: f"{local}@{domain}", LOCAL, DOMAIN)


@settings(max_examples=300, deadline=None)
@given(
    name=TEXT,
    sender=ADDRESS,
    addresses=st.lists(ADDRESS | st.sampled_from(["山田@例え.jp"]), min_size=1, max_size=2),
    subject=TEXT,
    body=TEXT,
    now=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    ident=st.from_regex(r"<[a-z_]{3,20}\.[0-9]{1,9}\.[0-9a-f]{20}@[a-z.]{3,60}>", fullmatch=True),
)
@example(
    name="茨木市立中央図書館",
    sender="no-reply@library.example.jp",
    addresses=["a" * 60 + "@example.jp", "b" * 60 + "@example.jp"],  # To folds
    subject="【茨木市立図書館】ご予約の資料が確保できました。" * 4,  # several encoded words
    body="",
    now=datetime(2026, 12, 3, 1, tzinfo=UTC),
    ident="<hold_ready.1.0123456789abcdef0123@library.example.jp>",
)
def test_wire_form_is_compat32_byte_for_byte(
    name: str,
    sender: str,
    addresses: list[str],
    subject: str,
    body: str,
    now: datetime,
    ident: str,
) -> None:
    # MAIL-7: the hand-written wire form is exactly the email package's.
    args: Args = ((name, sender), addresses, subject, body, now, ident)
    assert wire(*args) == flattened(args)


@settings(max_examples=500, deadline=None)
@given(value=st.text(st.characters(max_codepoint=0x7F) | st.sampled_from("  \t漢"), max_size=120))
def test_header_line_is_compat32_for_any_value(value: str) -> None:
    # MAIL-7: the short-line shortcut writes what compat32's folding would (or refuses
    # what it refuses: a value that smuggles in a line break).
    assert outcome(header_line, value) == outcome(WIRE.fold_binary, value)


def outcome(fold: Callable[[str, str], bytes], value: str) -> bytes | str:
    try:
        return fold("To", value)
    except HeaderParseError as exc:
        return f"refused: {exc}"
