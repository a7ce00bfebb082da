"""The digital card code: signed, short-lived, tamper-evident."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from policies.card_code import expires_at, make_code, read_code
from policies.errors import ErrorCode, RuleViolation

KEY = b"test-key"
NOW = datetime(2026, 11, 30, 1, 0, 30, tzinfo=UTC)


def _refused(code: str, now: datetime, key: bytes = KEY) -> ErrorCode:
    with pytest.raises(RuleViolation) as no:
        read_code(code, now, key)
    return no.value.code


def test_code_scans_within_its_minute_and_the_next() -> None:
    # Digital card: a code rotates every minute and scans until the next minute ends.
    code = make_code("1000000001", NOW, KEY)
    assert read_code(code, NOW, KEY) == "1000000001"
    assert read_code(code, NOW + timedelta(seconds=80), KEY) == "1000000001"
    assert expires_at(NOW) == datetime(2026, 11, 30, 1, 2, tzinfo=UTC)
    assert _refused(code, NOW + timedelta(seconds=90)) is ErrorCode.CARD_CODE_EXPIRED
    assert _refused(code, NOW - timedelta(minutes=1)) is ErrorCode.CARD_CODE_EXPIRED
    assert make_code("1000000001", NOW, KEY) != code  # a fresh nonce every time


@pytest.mark.parametrize(
    "mangle",
    [
        lambda c: c.replace("1000000001", "1000000002"),  # another card
        lambda c: c[:-2] + ("AA" if not c.endswith("AA") else "BB"),  # forged signature
        lambda c: c + ".x",
        lambda c: "garbage",
        lambda c: "",
        lambda c: "HD1." + "9" * 200,
    ],
)
def test_tampered_codes_are_invalid(mangle) -> None:
    # Digital card: anything not signed by the server is CARD_CODE_INVALID.
    assert _refused(mangle(make_code("1000000001", NOW, KEY)), NOW) is ErrorCode.CARD_CODE_INVALID


def test_other_keys_do_not_verify() -> None:
    assert _refused(make_code("1000000001", NOW, b"other"), NOW) is ErrorCode.CARD_CODE_INVALID
