"""GraphQL operations and steps shared by the circulation tests."""

from __future__ import annotations

from typing import Any

from schema.shared import ids
from tests.support import Api

ADD = """mutation($r: ID!) { addToBasket(recordId: $r) { entry { id } errors { code rule } } }"""
BASKET = "{ myBasket { id record { title } } }"
PREVIEW = """query($e: [ID!]!, $p: ID) { previewHolds(basketEntryIds: $e, pickupLibraryId: $p) {
  pickupLibrary { code } errors { code field }
  results { basketEntryId ok record { title } hold { id } errors { code rule } } } }"""
PLACE = """mutation($e: [ID!]!, $p: ID) { placeHolds(basketEntryIds: $e, pickupLibraryId: $p) {
  pickupLibrary { code } errors { code field }
  results { basketEntryId ok record { title } hold { id state } errors { code rule } } } }"""
HOLDS = """{ myHolds { id state queuePosition queueLength pickupDeadline pausedUntil canModify
  record { title } pickupLibrary { code } } }"""
LOANS = """{ myLoans { id dueOn renewals renewable renewalBlockedBy record { title } } }"""
RENEW = """mutation($l: [ID!]!) { renewLoans(loanIds: $l) { errors { code field }
  results { loanId renewed loan { dueOn renewals } errors { code rule } } } }"""
CANCEL = """mutation($h: ID!) { cancelHold(holdId: $h) { hold { state } errors { code rule } } }"""
MOVE = """mutation($h: ID!, $p: ID!) { changeHoldPickup(holdId: $h, pickupLibraryId: $p) {
  hold { pickupLibrary { code } } errors { code rule } } }"""
PAUSE = """mutation($h: ID!, $u: Date) { pauseHold(holdId: $h, until: $u) {
  hold { pausedUntil } errors { code field } } }"""
CHECK_OUT = """mutation($c: String!, $b: String!, $l: ID!) { checkOut(cardNumber: $c, barcode: $b, libraryId: $l) {
  loan { id dueOn } collectedHold { id state } errors { code rule field } } }"""
CHECK_IN = """mutation($b: String!, $l: ID!) { checkIn(barcode: $b, libraryId: $l) {
  copy { status } returnedLoan { id } hold { id state pickupDeadline pickupLibrary { code } } errors { code } } }"""
PULL_LIST = """query($l: ID!, $d: Date) { pullList(libraryId: $l, day: $d) { copy { barcode } record { title } holdsWaiting } }"""
PULLED = """mutation($b: String!) { markPulled(barcode: $b) { copy { status } hold { id state pickupDeadline } errors { code } } }"""
RECEIVE = """mutation($b: String!, $l: ID!) { receiveTransit(barcode: $b, libraryId: $l) {
  copy { status } hold { id state pickupDeadline } destination { code } instruction
  errors { code rule message } } }"""
SET_DAY = """mutation($l: ID!, $d: Date!, $o: Boolean) { setCalendarDay(libraryId: $l, day: $d, open: $o) { code } }"""


def gid(type_name: str, pk: int) -> str:
    return str(ids.encode(type_name, pk))


async def basket_add(api: Api, token: str, record_id: int) -> str:
    body = await api.gql(ADD, {"r": gid("Record", record_id)}, token=token)
    payload = body["data"]["addToBasket"]
    assert payload["errors"] == [], payload
    return str(payload["entry"]["id"])


async def place(
    api: Api, token: str, entries: list[str], pickup: int | None = None
) -> dict[str, Any]:
    variables: dict[str, Any] = {"e": entries, "p": gid("Library", pickup) if pickup else None}
    body = await api.gql(PLACE, variables, token=token)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["placeHolds"]
    return payload


async def hold_for(api: Api, token: str, record_id: int, pickup: int | None = None) -> str:
    """Basket + place in one go; returns the hold id."""
    entry = await basket_add(api, token, record_id)
    payload = await place(api, token, [entry], pickup)
    [result] = payload["results"]
    assert result["ok"], result
    return str(result["hold"]["id"])


async def my_holds(api: Api, token: str) -> list[dict[str, Any]]:
    body = await api.gql(HOLDS, token=token)
    assert "errors" not in body, body
    holds: list[dict[str, Any]] = body["data"]["myHolds"]
    return holds
