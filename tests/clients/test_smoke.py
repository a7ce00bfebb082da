"""Every front-end operation runs, by its trusted-document id, against the demo library:
no transport error, no invalid document, no internal error. Business refusals inside a
payload are fine; they are the API answering (AUTH-1, BASKET-4, HOLD-2, LOAN-2, STAFF-1)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from models import Copy, EbookTitle, Library, Loan, Patron
from policies.enums import CopyStatus
from schema.shared import ids
from server.demo import load_demo
from server.trusted import build_manifest
from tests.support import Api

pytestmark = pytest.mark.long

PATRON, PASSWORD = "1000000001", "honyomi26"  # demo patron with three loans
STAFF, STAFF_PASSWORD = "admin", "admin2026x"  # demo staff, ADMIN role
BROKEN = {"INTERNAL_ERROR", "INVALID_QUERY", "BAD_REQUEST", "UNKNOWN_DOCUMENT", "FORBIDDEN"}
Vars = Callable[[dict[str, Any]], dict[str, Any]]
# (front end, operation, viewer, variables from the state so far); run in this order.
STEPS: list[tuple[str, str, str, Vars]] = [
    ("web-opac", "Libraries", "anon", lambda s: {"from": s["today"], "to": s["week"]}),
    ("web-opac", "Search", "anon", lambda s: {"query": "猫", "sort": "RELEVANCE", "first": 10}),
    ("web-opac", "RecordDetail", "anon", lambda s: {"id": s["rec"]}),
    ("web-opac", "NewArrivals", "anon", lambda s: {"since": s["today"], "first": 5}),
    ("web-opac", "Login", "anon", lambda s: {"cardNumber": s["card"], "password": PASSWORD}),
    ("web-opac", "Me", "patron", lambda s: {}),
    ("web-opac", "AddToBasket", "patron", lambda s: {"recordId": s["rec"]}),
    ("web-opac", "MyBasket", "patron", lambda s: {}),
    (
        "web-opac",
        "PreviewHolds",
        "patron",
        lambda s: {"basketEntryIds": [s["entry"]], "pickupLibraryId": s["lib"]},
    ),
    (
        "web-opac",
        "PlaceHolds",
        "patron",
        lambda s: {"basketEntryIds": [s["entry"]], "pickupLibraryId": s["lib"]},
    ),
    ("web-opac", "MyHolds", "patron", lambda s: {}),
    (
        "web-opac",
        "ChangeHoldPickup",
        "patron",
        lambda s: {"holdId": s["hold"], "pickupLibraryId": s["lib2"]},
    ),
    ("web-opac", "PauseHold", "patron", lambda s: {"holdId": s["hold"], "until": s["week"]}),
    ("web-opac", "CancelHold", "patron", lambda s: {"holdId": s["hold"]}),
    ("web-opac", "MyLoans", "patron", lambda s: {}),
    ("web-opac", "RenewLoans", "patron", lambda s: {"loanIds": [s["loan"]]}),
    ("web-opac", "MyPreferences", "patron", lambda s: {}),
    (
        "web-opac",
        "UpdatePreferences",
        "patron",
        lambda s: {"input": {"dueReminder": True, "dueReminderDays": 2}},
    ),
    ("web-opac", "MyReadingHistory", "patron", lambda s: {}),
    ("web-opac", "CreateBookshelf", "patron", lambda s: {"name": "読みたい"}),
    ("web-opac", "CreateBookshelf", "patron", lambda s: {"name": "読んだ"}),
    (
        "web-opac",
        "AddToBookshelf",
        "patron",
        lambda s: {"bookshelfId": s["shelf"], "recordIds": [s["rec"]]},
    ),
    ("web-opac", "MyBookshelves", "patron", lambda s: {}),
    (
        "web-opac",
        "MoveBookshelfEntries",
        "patron",
        lambda s: {"entryIds": [s["shelf_entry"]], "toBookshelfId": s["shelf2"]},
    ),
    ("web-opac", "RemoveFromBookshelf", "patron", lambda s: {"entryIds": [s["shelf_entry"]]}),
    (
        "web-opac",
        "RenameBookshelf",
        "patron",
        lambda s: {"bookshelfId": s["shelf"], "name": "いつか"},
    ),
    ("web-opac", "DeleteBookshelf", "patron", lambda s: {"bookshelfId": s["shelf2"]}),
    ("web-opac", "BorrowEbook", "patron", lambda s: {"recordId": s["ebook"]}),
    ("web-opac", "MyEbooks", "patron", lambda s: {}),
    ("web-opac", "EbookReadingLink", "patron", lambda s: {"loanId": s["eloan"]}),
    ("web-opac", "ReturnEbook", "patron", lambda s: {"loanId": s["eloan"]}),
    ("web-opac", "PlaceEbookHold", "patron", lambda s: {"recordId": s["ebook"]}),
    ("web-opac", "CancelEbookHold", "patron", lambda s: {"holdId": s.get("ehold", s["eloan"])}),
    ("web-opac", "RemoveFromBasket", "patron", lambda s: {"basketEntryIds": [s["entry"]]}),
    (
        "web-opac",
        "ChangePassword",
        "patron",
        lambda s: {"currentPassword": "wrong-one-1", "newPassword": "atarashii26"},
    ),
    (
        "web-opac",
        "RequestPasswordReset",
        "anon",
        lambda s: {"cardNumber": s["card"], "email": "a@example.jp"},
    ),
    (
        "web-opac",
        "ApplyForPassword",
        "anon",
        lambda s: {"cardNumber": s["card3"], "birthDate": "1990-05-17", "email": "a@example.jp"},
    ),
    (
        "web-opac",
        "SubmitApplication",
        "anon",
        lambda s: {
            "input": {
                "kind": "CARD_REISSUE",
                "name": "図書 花子",
                "birthDate": "1990-05-17",
                "email": "hanako@example.jp",
                "cardNumber": s["card"],
            }
        },
    ),
    ("web-opac", "Logout", "patron", lambda s: {}),
    ("smartphone", "Login", "anon", lambda s: {"cardNumber": s["card"], "password": PASSWORD}),
    ("smartphone", "Home", "patron", lambda s: {}),
    ("smartphone", "MyCard", "patron", lambda s: {}),
    ("smartphone", "MyLoansCompact", "patron", lambda s: {}),
    ("smartphone", "MyHoldsCompact", "patron", lambda s: {}),
    ("smartphone", "SearchCompact", "anon", lambda s: {"query": "ねこ", "first": 5}),
    ("smartphone", "RecordDetail", "anon", lambda s: {"id": s["rec"]}),
    ("smartphone", "Libraries", "patron", lambda s: {}),
    ("smartphone", "RenewLoans", "patron", lambda s: {"loanIds": [s["loan"]]}),
    ("smartphone", "AddToBasket", "patron", lambda s: {"recordId": s["rec2"]}),
    ("smartphone", "MyBasket", "patron", lambda s: {}),
    ("smartphone", "PreviewHolds", "patron", lambda s: {"basketEntryIds": [s["entry"]]}),
    ("smartphone", "PlaceHolds", "patron", lambda s: {"basketEntryIds": [s["entry"]]}),
    ("smartphone", "CancelHold", "patron", lambda s: {"holdId": s["hold"]}),
    (
        "smartphone",
        "UpdatePreferences",
        "patron",
        lambda s: {"input": {"contactMethod": "EMAIL", "email1": "yomu@example.jp"}},
    ),
    (
        "smartphone",
        "ChangePassword",
        "patron",
        lambda s: {"currentPassword": "wrong-one-1", "newPassword": "atarashii26"},
    ),
    ("smartphone", "Logout", "patron", lambda s: {}),
    (
        "staff-dashboard",
        "StaffLogin",
        "anon",
        lambda s: {"username": STAFF, "password": STAFF_PASSWORD},
    ),
    ("staff-dashboard", "StaffMe", "staff", lambda s: {}),
    ("staff-dashboard", "PatronLookup", "staff", lambda s: {"cardNumber": s["card"]}),
    (
        "staff-dashboard",
        "CheckOut",
        "staff",
        lambda s: {"barcode": s["barcode"], "libraryId": s["lib"], "cardNumber": s["card"]},
    ),
    (
        "staff-dashboard",
        "CheckIn",
        "staff",
        lambda s: {"barcode": s["barcode"], "libraryId": s["lib"]},
    ),
    ("staff-dashboard", "PullList", "staff", lambda s: {"libraryId": s["lib"], "day": s["week"]}),
    ("staff-dashboard", "MarkPulled", "staff", lambda s: {"barcode": s["barcode"]}),
    (
        "staff-dashboard",
        "ReceiveTransit",
        "staff",
        lambda s: {"barcode": s["barcode"], "libraryId": s["lib2"]},
    ),
    ("staff-dashboard", "DeskPatron", "staff", lambda s: {"cardNumber": s["card"]}),
    ("staff-dashboard", "HoldShelf", "staff", lambda s: {"libraryId": s["lib"]}),
    ("staff-dashboard", "ExpiredHolds", "staff", lambda s: {"libraryId": s["lib"]}),
    ("staff-dashboard", "TransitsExpected", "staff", lambda s: {"libraryId": s["lib2"]}),
    ("staff-dashboard", "CallList", "staff", lambda s: {"libraryId": s["lib"]}),
    (
        "staff-dashboard",
        "PlaceHoldFor",
        "staff",
        lambda s: {"cardNumber": s["card"], "recordId": s["rec2"], "pickupLibraryId": s["lib"]},
    ),
    (
        "staff-dashboard",
        "MoveHoldFor",
        "staff",
        lambda s: {"holdId": s["desk_hold"], "pickupLibraryId": s["lib2"], "reason": "電話"},
    ),
    (
        "staff-dashboard",
        "CancelHoldFor",
        "staff",
        lambda s: {"holdId": s["desk_hold"], "reason": "電話で取消"},
    ),
    (
        "staff-dashboard",
        "MarkCalled",
        "staff",
        lambda s: {"holdId": s["desk_hold"], "outcome": "留守"},
    ),
    (
        "staff-dashboard",
        "RenewLoanFor",
        "staff",
        lambda s: {"cardNumber": s["card"], "loanId": s["loan"]},
    ),
    (
        "staff-dashboard",
        "RegisterPatron",
        "staff",
        lambda s: {"details": {"name": "窓口 登録", "birthDate": "1990-01-01", "phone": "072-1"}},
    ),
    (
        "staff-dashboard",
        "UpdatePatron",
        "staff",
        lambda s: {
            "cardNumber": s["card2"],
            "details": {"name": "伊藤 五郎", "birthDate": "1985-04-02"},
        },
    ),
    ("staff-dashboard", "RenewCard", "staff", lambda s: {"cardNumber": s["card2"]}),
    ("staff-dashboard", "Calendar", "staff", lambda s: {"from": s["today"], "to": s["week"]}),
    (
        "staff-dashboard",
        "SetCalendarDay",
        "staff",
        lambda s: {"libraryId": s["lib"], "day": s["week"], "open": False, "note": "点検"},
    ),
    (
        "staff-dashboard",
        "SetClosedWeekdays",
        "staff",
        lambda s: {"libraryId": s["lib2"], "weekdays": [1]},
    ),
    ("staff-dashboard", "ApplicationsQueue", "staff", lambda s: {"state": "PENDING"}),
    (
        "staff-dashboard",
        "DecideApplication",
        "staff",
        lambda s: {"applicationId": s["application"], "approve": False, "note": "本人確認できず"},
    ),
    (
        "staff-dashboard",
        "IssuePassword",
        "staff",
        lambda s: {"cardNumber": s["card3"], "guardianConsent": False, "proxy": False},
    ),
    (
        "staff-dashboard",
        "InvalidatePassword",
        "staff",
        lambda s: {"cardNumber": s["card2"], "leftCity": False},
    ),
    ("staff-dashboard", "MailLog", "staff", lambda s: {"cardNumber": s["card"]}),
    ("staff-dashboard", "StaffAuditLog", "staff", lambda s: {"cardNumber": s["card"]}),
    ("staff-dashboard", "CatalogueSearch", "staff", lambda s: {"query": "猫", "first": 5}),
    (
        "staff-dashboard",
        "SetEbookLicences",
        "staff",
        lambda s: {"recordId": s["rec"], "licences": 2},
    ),
    (
        "staff-dashboard",
        "UpdateRecord",
        "staff",
        lambda s: {"id": s["spare"], "input": {"title": "直した題名"}},
    ),
    ("staff-dashboard", "DeleteRecord", "staff", lambda s: {"id": s["spare"]}),
    ("staff-dashboard", "AdvanceDevClock", "staff", lambda s: {"days": 0}),
    ("staff-dashboard", "SetDevClock", "staff", lambda s: {"now": f"{s['today']}T10:00:00+09:00"}),
    ("staff-dashboard", "ResetDevClock", "staff", lambda s: {}),
    ("staff-dashboard", "RunScheduledScan", "staff", lambda s: {"scan": "NEW_ARRIVALS"}),
    ("staff-dashboard", "Logout", "staff", lambda s: {}),
]


def _remember(state: dict[str, Any], operation: str, data: dict[str, Any]) -> None:
    """Keep the ids later steps need."""
    if operation == "AddToBasket" and data["addToBasket"]["entry"]:
        state["entry"] = data["addToBasket"]["entry"]["id"]
    if operation == "PlaceHolds":
        holds = [r["hold"] for r in data["placeHolds"]["results"] if r["hold"]]
        if holds:
            state["hold"] = holds[0]["id"]
    if operation == "CreateBookshelf" and data["createBookshelf"]["bookshelf"]:
        state["shelf2" if "shelf" in state else "shelf"] = data["createBookshelf"]["bookshelf"][
            "id"
        ]
    if operation == "AddToBookshelf" and data["addToBookshelf"]["bookshelf"]:
        state["shelf_entry"] = data["addToBookshelf"]["bookshelf"]["entries"][0]["id"]
    if operation == "BorrowEbook" and data["borrowEbook"]["loan"]:
        state["eloan"] = data["borrowEbook"]["loan"]["id"]
    if operation == "PlaceEbookHold" and data["placeEbookHold"]["hold"]:
        state["ehold"] = data["placeEbookHold"]["hold"]["id"]
    if operation == "PlaceHoldFor" and data["placeHoldFor"]["hold"]:
        state["desk_hold"] = data["placeHoldFor"]["hold"]["id"]
    if operation == "ApplicationsQueue" and data["applications"]:
        state["application"] = data["applications"][0]["id"]


async def _demo_world(api: Api) -> dict[str, Any]:
    """The demo library (the shipped catalogue), and the ids the steps need."""
    services = api.app.state.services
    await load_demo(services.sessions, services.hasher, now=services.clock.now())
    async with services.sessions() as db:
        patron = await db.scalar(select(Patron).where(Patron.card_number == PATRON))
        assert patron is not None
        loan = await db.scalar(select(Loan).where(Loan.patron_id == patron.id).order_by(Loan.id))
        assert loan is not None
        copy = await db.get(Copy, loan.copy_id)
        libs = list((await db.execute(select(Library).order_by(Library.position))).scalars())
        on_shelf = select(Copy.record_id).where(
            Copy.status == CopyStatus.AVAILABLE, ~Copy.reference_only, ~Copy.from_other_city
        )
        shelved = list((await db.execute(on_shelf.order_by(Copy.record_id).limit(3))).scalars())
        ebook = await db.scalar(select(EbookTitle.record_id).order_by(EbookTitle.record_id))
    assert copy is not None and len(shelved) == 3 and ebook is not None
    today = services.clock.now().astimezone(ZoneInfo("Asia/Tokyo")).date()
    return {
        "lib": ids.encode("Library", libs[0].id),
        "lib2": ids.encode("Library", libs[1].id),
        "rec": ids.encode("Record", shelved[0]),
        "rec2": ids.encode("Record", shelved[1]),
        "spare": ids.encode("Record", shelved[2]),
        "ebook": ids.encode("Record", ebook),
        "loan": ids.encode("Loan", loan.id),
        "card": PATRON,
        "card2": "1000000006",
        "card3": "1000000008",
        "barcode": copy.barcode,
        "today": today.isoformat(),
        "week": (today + timedelta(days=7)).isoformat(),
    }


async def test_every_client_operation_runs_on_the_demo_library(api: Api) -> None:
    state = await _demo_world(api)
    tokens = {
        "anon": None,
        "patron": await api.login(PATRON, PASSWORD),
        "staff": await api.staff_login(STAFF, STAFF_PASSWORD),
    }
    documents = build_manifest()["documents"]
    by_name = {
        (u["client"], u["operation"]): doc_id for doc_id, e in documents.items() for u in e["uses"]
    }
    assert {(front, op) for front, op, _, _ in STEPS} == set(by_name), "add a step per operation"
    for front, operation, viewer, variables in STEPS:
        tokens_now: str | None
        if operation == "Logout":  # a fresh session, so later steps keep theirs
            tokens_now = (
                await api.login(PATRON, PASSWORD)
                if viewer == "patron"
                else await api.staff_login(STAFF, STAFF_PASSWORD)
            )
        else:
            tokens_now = tokens[viewer]
        response = await api.by_id(by_name[(front, operation)], variables(state), token=tokens_now)
        assert response.status_code == 200, (front, operation, response.text)
        body = response.json()
        found = {e.get("extensions", {}).get("code") for e in body.get("errors") or []}
        assert not found & BROKEN, (front, operation, body)
        assert body.get("data") is not None, (front, operation, body)
        _remember(state, operation, body["data"])
        if operation == "ApplicationsQueue":
            assert "application" in state
