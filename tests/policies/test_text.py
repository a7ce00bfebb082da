"""policies/text.py: what a request's text may carry to the database."""

from __future__ import annotations

import pytest

from policies.text import has_control, has_nul, throttle_safe


@pytest.mark.parametrize(
    ("texts", "expected"),
    [(("abc",), False), (("a\x00b",), True), (("", None, "x"), False), (("ok", "\x00"), True)],
)
def test_has_nul(texts: tuple[str | None, ...], expected: bool) -> None:
    # SEC (issue [7/8]): no stored key holds a NUL, so a key with one is a miss.
    assert has_nul(*texts) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("吾輩は猫である", False),
        ("全角\u3000空白", False),
        ("a\x00b", True),
        ("tab\t", True),
        ("\x85", True),
    ],
)
def test_has_control(text: str, expected: bool) -> None:
    # SEARCH-7: stored catalogue text is one line of text; full-width spaces are text.
    assert has_control(text) is expected


def test_throttle_safe_keeps_keys_apart_and_storable() -> None:
    # AUTH-11: a login id with a NUL still has its failures counted.
    assert throttle_safe("patron:a\x00b") == "patron:a\ufffdb"
    assert throttle_safe("patron:123") == "patron:123"
