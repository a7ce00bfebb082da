"""Preferences through the API (PREF-1..6): each bad input is a clear code and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from policies.enums import LibraryKind, PasswordState
from policies.errors import RuleViolation
from policies.preferences import normalize_email
from tests.circulation.ops import gid
from tests.support import Api, Factory, codes

UPDATE = """mutation($i: PreferencesInput!) { updatePreferences(input: $i) {
  patron { email1 email2 contactMethod dueReminder dueReminderDays
           defaultPickupLibrary { code } newArrivalFields { subjectClasses keywords authors } }
  errors { code field rule } } }"""
ME = "{ me { email1 email2 contactMethod dueReminder dueReminderDays newArrivalFields { keywords } } }"


async def _token(api: Api, factory: Factory, **kw: Any) -> str:
    patron = await factory.patron("yomu2468", **kw)
    return await api.login(patron.card_number, "yomu2468")


async def _update(api: Api, token: str, **fields: Any) -> dict[str, Any]:
    body = await api.gql(UPDATE, {"i": fields}, token=token)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["updatePreferences"]
    return payload


@pytest.mark.parametrize(
    "address",
    [
        "hanako@example.jp",
        "Hanako.Yamada+lib@Example.JP",
        "abc..def@docomo.ne.jp",
        "abc.@ezweb.ne.jp",
    ],
)
def test_valid_addresses_include_mobile_carriers(address: str) -> None:
    # PREF-2: mobile carriers' (RFC-breaking) addresses are accepted.
    assert "@" in normalize_email(address, "email1")


@pytest.mark.parametrize(
    "address",
    [
        "",
        "hanako",
        "hanako@",
        "@example.jp",
        "a@b",
        "山田@example.jp",
        "a b@example.jp",
        "x" * 250 + "@example.jp",
        "abc..def@example.jp",
        "hana\x00ko@example.jp",
    ],
)
def test_invalid_addresses(address: str) -> None:
    # PREF-2: a wrong address loses every mail, so it is refused.
    with pytest.raises(RuleViolation) as refused:
        normalize_email(address, "email1")
    assert refused.value.code.value == "INVALID_EMAIL" and refused.value.rule == "PREF-2"


async def test_addresses_need_the_current_password(api: Api, factory: Factory) -> None:
    # PREF-2: up to two addresses; changing them asks for the current password; clearing
    # both removes e-mail.
    token = await _token(api, factory)
    wrong = await _update(api, token, email1="hanako@example.jp", currentPassword="nope1234")
    assert wrong["errors"] == [
        {"code": "WRONG_CURRENT_PASSWORD", "field": "currentPassword", "rule": "PREF-2"}
    ]
    ok = await _update(
        api,
        token,
        email1="hanako@example.jp",
        email2="hanako@docomo.ne.jp",
        currentPassword="yomu2468",
    )
    assert ok["errors"] == [] and ok["patron"]["email2"] == "hanako@docomo.ne.jp"
    cleared = await _update(api, token, email1=None, email2=None, currentPassword="yomu2468")
    assert (cleared["patron"]["email1"], cleared["patron"]["email2"]) == (None, None)


async def test_email_contact_needs_an_address(api: Api, factory: Factory) -> None:
    # PREF-3: EMAIL without a registered address is EMAIL_REQUIRED; PREF-1 methods.
    token = await _token(api, factory)
    refused = await _update(api, token, contactMethod="EMAIL")
    assert refused["errors"] == [
        {"code": "EMAIL_REQUIRED", "field": "contactMethod", "rule": "PREF-3"}
    ]
    assert (await _update(api, token, contactMethod="PHONE"))["patron"]["contactMethod"] == "PHONE"
    both = await _update(
        api, token, contactMethod="EMAIL", email1="h@example.jp", currentPassword="yomu2468"
    )
    assert both["patron"]["contactMethod"] == "EMAIL"
    # Clearing the last address while mail is the contact method is refused too.
    again = await _update(api, token, email1=None, currentPassword="yomu2468")
    assert again["errors"][0]["code"] == "EMAIL_REQUIRED"
    assert (await api.gql(ME, token=token))["data"]["me"]["email1"] == "h@example.jp"


async def test_preferences_need_an_active_password(api: Api, factory: Factory) -> None:
    # PREF-1 / AUTH-5: only with an active password.
    token = await _token(api, factory, state=PasswordState.TEMPORARY)
    body = await api.gql(UPDATE, {"i": {"contactMethod": "PHONE"}}, token=token)
    assert codes(body) == ["TEMPORARY_PASSWORD"]


async def test_pickup_reminder_and_new_arrival_fields(api: Api, factory: Factory) -> None:
    # PREF-4 default pickup library; PREF-5 reminder opt-in with days; PREF-6 fields.
    branch = await factory.library("KIT", LibraryKind.BRANCH)
    mobile = await factory.library("BKM", LibraryKind.BOOKMOBILE, takes_holds=False)
    token = await _token(api, factory)
    ok = await _update(
        api,
        token,
        defaultPickupLibraryId=gid("Library", branch.id),
        dueReminder=True,
        dueReminderDays=3,
        newArrivalFields={"keywords": ["宮沢賢治", "宮沢賢治"], "subjectClasses": ["913"]},
    )
    assert ok["errors"] == []
    patron = ok["patron"]
    assert patron["defaultPickupLibrary"] == {"code": "KIT"}
    assert (patron["dueReminder"], patron["dueReminderDays"]) == (True, 3)
    assert patron["newArrivalFields"] == {
        "subjectClasses": ["913"],
        "keywords": ["宮沢賢治"],
        "authors": [],
    }
    for fields, code in (
        ({"dueReminderDays": 0}, "INVALID_INPUT"),
        ({"dueReminderDays": 15}, "INVALID_INPUT"),
        ({"defaultPickupLibraryId": gid("Library", mobile.id)}, "INVALID_PICKUP_LIBRARY"),
        ({"defaultPickupLibraryId": "junk"}, "INVALID_PICKUP_LIBRARY"),
        ({"newArrivalFields": {"keywords": ["x" * 51]}}, "INVALID_INPUT"),
        ({"newArrivalFields": {"keywords": [f"k{i}" for i in range(11)]}}, "INVALID_INPUT"),
        ({"email1": "not an address", "currentPassword": "yomu2468"}, "INVALID_EMAIL"),
        ({"email1": "a" * 300 + "@example.jp", "currentPassword": "yomu2468"}, "INVALID_EMAIL"),
    ):
        refused = await _update(api, token, **fields)
        assert [e["code"] for e in refused["errors"]] == [code], fields
    me = (await api.gql(ME, token=token))["data"]["me"]
    assert (me["dueReminderDays"], me["newArrivalFields"]["keywords"]) == (3, ["宮沢賢治"])
