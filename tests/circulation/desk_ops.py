"""GraphQL operations of the staff desk tests (STAFF-1..5, SVC-3)."""

from __future__ import annotations

from typing import Any

from policies.enums import StaffRole
from tests.support import Api, Factory

DESK_PATRON = """query($c: String!) { deskPatron(cardNumber: $c) { daysOverdue
  blocks { code rule } loans { id dueOn } patron { phone }
  holds { id state queuePosition pickupLibrary { code } } } }"""
PLACE_FOR = """mutation($c: String!, $r: ID!, $p: ID) { placeHoldFor(cardNumber: $c, recordId: $r,
  pickupLibraryId: $p) { hold { id state } errors { code rule } } }"""
CANCEL_FOR = """mutation($h: ID!, $why: String!) { cancelHoldFor(holdId: $h, reason: $why) {
  hold { id state } errors { code rule field } } }"""
MOVE_FOR = """mutation($h: ID!, $p: ID!, $why: String!) { moveHoldFor(holdId: $h,
  pickupLibraryId: $p, reason: $why) { hold { state pickupDeadline pickupLibrary { code } }
  errors { code rule } } }"""
RENEW_FOR = """mutation($c: String!, $l: ID!, $o: Boolean!, $why: String) { renewLoanFor(
  cardNumber: $c, loanId: $l, override: $o, overrideReason: $why) { loan { dueOn renewals }
  errors { code rule } } }"""
CHECK_OUT = """mutation($c: String!, $b: String!, $l: ID!, $o: Boolean!, $why: String) {
  checkOut(cardNumber: $c, barcode: $b, libraryId: $l, override: $o, overrideReason: $why) {
  loan { id dueOn } errors { code rule message } } }"""
REGISTER = """mutation($d: PatronInput!, $c: String) { registerPatron(details: $d, cardNumber: $c)
  { patron { cardNumber name nameKana phone address cardExpiresOn contactMethod }
  errors { code field } } }"""
UPDATE = """mutation($c: String!, $d: PatronInput!) { updatePatron(cardNumber: $c, details: $d) {
  patron { phone contactMethod } errors { code field } } }"""
RENEW_CARD = """mutation($c: String!) { renewCard(cardNumber: $c) { patron { cardExpiresOn }
  errors { code } } }"""
HOLD_SHELF = """query($l: ID!) { holdShelf(libraryId: $l) { id pickupDeadline
  patron { cardNumber } copy { barcode callNumber shelfLocation } } }"""
EXPIRED = """query($l: ID!) { expiredHolds(libraryId: $l) { id pickupDeadline } }"""
CALL_LIST = """query($l: ID!) { callList(libraryId: $l) { id patron { cardNumber phone } } }"""
CALLED = """mutation($h: ID!, $o: String!) { markCalled(holdId: $h, outcome: $o) {
  hold { calledAt callOutcome } errors { code } } }"""
TRANSITS = """query($l: ID!) { transitsExpected(libraryId: $l) { copy { barcode record { title } }
  hold { pickupLibrary { code } } } }"""
PULL = """query($l: ID!, $d: Date) { pullList(libraryId: $l, day: $d) {
  copy { barcode callNumber shelfLocation } record { title }
  firstHold { pickupLibrary { code } patron { cardNumber } } } }"""
MAIL_LOG = """query($c: String!) { mailLog(cardNumber: $c) { kind } }"""
CHECK_IN = """mutation($b: String!, $l: ID!) { checkIn(barcode: $b, libraryId: $l) {
  copy { status } hold { state } destination { code } instruction errors { code message } } }"""


async def desk(api: Api, factory: Factory, *roles: StaffRole, name: str = "desk") -> str:
    """A staff login with ``roles`` (COUNTER by default)."""
    await factory.staff(name, "staffpass1", set(roles) or {StaffRole.COUNTER})
    return await api.staff_login(name, "staffpass1")


def errs(errors: list[dict[str, Any]]) -> list[str]:
    """The codes of a payload's ``errors`` list."""
    return [e["code"] for e in errors]
