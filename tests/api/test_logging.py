"""Logs carry ids, codes and timings, never passwords or tokens."""

from __future__ import annotations

import logging

import pytest

from server.logging import JsonFormatter
from tests.support import Api, Factory


async def test_logs_hold_no_passwords_or_tokens(
    api: Api, factory: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    # AUTH-1: structured logs with no passwords, tokens or reading records in them.
    patron = await factory.patron("yomu2468")
    with caplog.at_level(logging.DEBUG):
        token = await api.login(patron.card_number, "yomu2468")
        await api.gql("{ myLoans { dueOn } }", token=token)
        await api.gql(
            'mutation { login(cardNumber: "%s", password: "wrong-pass") { errors { code } } }'
            % patron.card_number
        )
    formatter = JsonFormatter()
    text = "\n".join(formatter.format(r) for r in caplog.records)
    assert '"request_id"' in text  # the access log is there...
    for secret in ("yomu2468", "wrong-pass", token):
        assert secret not in text  # ...and no secret is
