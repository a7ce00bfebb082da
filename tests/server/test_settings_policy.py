"""Policy values are defined once (policies/config.py) and set through ``HONDANA_POLICY__``
environment variables."""

from __future__ import annotations

from dataclasses import fields

import pytest

from policies.config import AccountPolicy, CirculationPolicy, EbookPolicy, PolicyConfig
from server.settings import EbookSettings, PolicySettings, Settings


def test_defaults_are_the_policy_defaults() -> None:
    # Settings name and bound the values; policies/config.py defines them.
    assert PolicySettings().to_policy() == PolicyConfig()


def test_every_policy_value_is_settable() -> None:
    flat = set(PolicySettings.model_fields)
    for section in (AccountPolicy, CirculationPolicy):
        assert {f.name for f in fields(section)} <= flat, section.__name__
    assert {f.name for f in fields(EbookPolicy)} == set(EbookSettings.model_fields)


def test_environment_sets_the_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    # HOLD-2, EBOOK-2, EBOOK-3, HOLD-8: the library's values come from the environment.
    monkeypatch.setenv("HONDANA_POLICY__HOLD_LIMITS__VIDEOS", "1")
    monkeypatch.setenv("HONDANA_POLICY__PICKUP_DAYS", "10")
    monkeypatch.setenv("HONDANA_POLICY__EBOOKS__MAX_LOANS", "5")
    monkeypatch.setenv("HONDANA_POLICY__EBOOKS__HOLD_KEEP_DAYS", "3")
    policy = Settings(_env_file=None).policy.to_policy()
    assert policy.circulation.hold_limits.videos == 1
    assert policy.circulation.hold_limits.books_and_magazines == 20
    assert policy.circulation.pickup_days == 10
    assert policy.ebooks.max_loans == 5
    assert policy.ebooks.hold_keep_days == 3


def test_a_bad_value_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HONDANA_POLICY__EBOOKS__LOAN_DAYS", "0")
    with pytest.raises(ValueError, match="loan_days"):
        Settings(_env_file=None)
