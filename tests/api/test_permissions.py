"""The permission layer: denials are top-level errors with `extensions.code` and `rule`,
in Japanese by default and English on request (CARD-1, CARD-2, CARD-3, AUTH-5, STAFF-1).

The hold mutations that will carry `CardValid` and `NotOverdueBlocked` arrive with issue
[2/8]; here a probe schema puts the real permission classes on fields and serves it through
the real request path (middleware, session lookup, context), so what is proved is the
mechanism those mutations will use.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import strawberry
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.types import Info

from policies.enums import PasswordState, StaffRole
from resolvers.shared.context import Context
from schema.accounts.accounts import AccountMutations
from schema.root import HondanaSchema
from schema.shared.extensions import ErrorShaping
from schema.shared.permissions import (
    ActivePassword,
    Authenticated,
    CardValid,
    NotOverdueBlocked,
    StaffOnly,
    guard,
)
from server.graphql import HondanaGraphQL
from tests.support import Api, Factory, codes


@strawberry.type
class ProbeQuery:
    @strawberry.field(
        extensions=guard(Authenticated(), ActivePassword(), CardValid(), NotOverdueBlocked())
    )
    def may_place_holds(self, info: Info[Context, Any]) -> bool:
        return True

    @strawberry.field(extensions=guard(StaffOnly(StaffRole.COUNTER)))
    def counter_only(self) -> bool:
        return True

    @strawberry.field(extensions=guard(StaffOnly(StaffRole.CALENDAR)))
    def calendar_only(self) -> bool:
        return True


PROBE = HondanaSchema(query=ProbeQuery, mutation=AccountMutations, extensions=[ErrorShaping])


@pytest.fixture
async def probe(api: Api) -> Any:
    view = HondanaGraphQL(PROBE, api.app.state.services, ide=False)
    app = Starlette(routes=[Route("/graphql", view, methods=["POST"])])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://t"
    ) as http:

        async def ask(query: str, token: str, lang: str = "ja") -> dict[str, Any]:
            response = await http.post(
                "/graphql",
                json={"query": query},
                headers={"Authorization": f"Bearer {token}", "Accept-Language": lang},
            )
            assert response.status_code == 200
            body: dict[str, Any] = response.json()
            return body

        yield ask


async def test_expired_card_is_refused(api: Api, factory: Factory, probe: Any) -> None:
    # CARD-1: with an expired card, hold placement is refused with CARD_EXPIRED.
    today_last_day = await factory.patron("yomu2468", expires_in_days=0)
    expired = await factory.patron("yomu2468", expires_in_days=-1)
    ok = await probe("{ mayPlaceHolds }", await api.login(today_last_day.card_number, "yomu2468"))
    assert ok["data"] == {"mayPlaceHolds": True}
    body = await probe("{ mayPlaceHolds }", await api.login(expired.card_number, "yomu2468"))
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "CARD_EXPIRED"
    assert error["extensions"]["rule"] == "CARD-1"
    assert "有効期限" in error["message"]


async def test_any_overdue_loan_blocks_holds(api: Api, factory: Factory, probe: Any) -> None:
    # CARD-2: while any loan is overdue, new web holds are refused with OVERDUE_BLOCK.
    lib = await factory.library()
    rec = await factory.record()
    patron = await factory.patron("yomu2468")
    token = await api.login(patron.card_number, "yomu2468")
    await factory.loan(patron, await factory.copy(rec, lib), due_in_days=0)
    assert (await probe("{ mayPlaceHolds }", token))["data"] == {"mayPlaceHolds": True}
    await factory.loan(patron, await factory.copy(rec, lib), due_in_days=-1)
    body = await probe("{ mayPlaceHolds }", token)
    assert [(e["extensions"]["code"], e["extensions"]["rule"]) for e in body["errors"]] == [
        ("OVERDUE_BLOCK", "CARD-2")
    ]


async def test_more_than_four_days_overdue_names_card3(
    api: Api, factory: Factory, probe: Any
) -> None:
    # CARD-3: past the grace days the block is the stronger CARD-3 one, in English on request.
    lib = await factory.library()
    patron = await factory.patron("yomu2468")
    token = await api.login(patron.card_number, "yomu2468")
    await factory.loan(patron, await factory.copy(await factory.record(), lib), due_in_days=-5)
    body = await probe("{ mayPlaceHolds }", token, lang="en-US,en;q=0.9")
    [error] = body["errors"]
    assert (error["extensions"]["code"], error["extensions"]["rule"]) == ("OVERDUE_BLOCK", "CARD-3")
    assert error["extensions"]["days_overdue"] == 5
    assert "overdue" in error["message"]


async def test_temporary_password_stops_before_card_checks(
    api: Api, factory: Factory, probe: Any
) -> None:
    # AUTH-5: permissions run in order; a temporary password is the first refusal.
    patron = await factory.patron("kari2468", state=PasswordState.TEMPORARY, expires_in_days=-1)
    body = await probe("{ mayPlaceHolds }", await api.login(patron.card_number, "kari2468"))
    assert codes(body) == ["TEMPORARY_PASSWORD"]


async def test_staff_only_fields(api: Api, factory: Factory, probe: Any) -> None:
    # STAFF-1: patrons never reach a staff field (FORBIDDEN); staff need the role.
    patron = await factory.patron("yomu2468")
    await factory.staff("desk", "staffpass1", {StaffRole.COUNTER})
    await factory.staff("boss", "staffpass2", {StaffRole.ADMIN})
    patron_token = await api.login(patron.card_number, "yomu2468")
    desk = await api.staff_login("desk", "staffpass1")
    boss = await api.staff_login("boss", "staffpass2")
    denied = await probe("{ counterOnly }", patron_token)
    assert codes(denied) == ["FORBIDDEN"]
    assert denied["errors"][0]["extensions"]["rule"] == "STAFF-1"
    assert (await probe("{ counterOnly }", desk))["data"] == {"counterOnly": True}
    assert codes(await probe("{ calendarOnly }", desk)) == ["FORBIDDEN"]
    assert (await probe("{ calendarOnly }", boss))["data"] == {"calendarOnly": True}
    # Staff are not patrons: patron-only fields refuse them.
    assert codes(await probe("{ mayPlaceHolds }", desk)) == ["FORBIDDEN"]


async def test_real_staff_field_refuses_patrons(api: Api, factory: Factory) -> None:
    # STAFF-1: the staff lookup of a patron by card number, on the real schema.
    patron = await factory.patron("yomu2468")
    await factory.staff("desk", "staffpass1", {StaffRole.COUNTER})
    query = '{ patron(cardNumber: "%s") { name email1 } }' % patron.card_number
    as_patron = await api.gql(query, token=await api.login(patron.card_number, "yomu2468"))
    assert codes(as_patron) == ["FORBIDDEN"] and as_patron["data"] == {"patron": None}
    anonymous = await api.gql(query)
    assert codes(anonymous) == ["UNAUTHENTICATED"]
    as_staff = await api.gql(query, token=await api.staff_login("desk", "staffpass1"))
    assert as_staff["data"]["patron"]["name"] == patron.name
