"""`myLoans` and `myHolds` cost the same SQL statements for 2 items as for 20 (no N+1)."""

from __future__ import annotations

from policies.enums import CopyStatus, MaterialType
from tests.api.test_query_counts import count_statements
from tests.circulation.ops import HOLDS, LOANS, hold_for
from tests.support import Api, Factory


async def _cost(api: Api, query: str, token: str, expected: int) -> int:
    with count_statements(api) as statements:
        body = await api.gql(query, token=token)
    assert "errors" not in body, body
    assert len(next(iter(body["data"].values()))) == expected
    return len(statements)


async def test_my_loans_and_my_holds_cost_is_flat(api: Api, factory: Factory) -> None:
    # LOAN-1 / HOLD-10: lists are loaded in batches whatever their length.
    central = await factory.library("CEN")
    costs: dict[str, list[int]] = {"loans": [], "holds": []}
    for size in (2, 20):
        patron = await factory.patron("yomu2468")
        token = await api.login(patron.card_number, "yomu2468")
        for i in range(size):
            rec = await factory.record(f"貸出 {size}-{i}", material_type=MaterialType.BOOK)
            await factory.loan(patron, await factory.copy(rec, central), due_in_days=i + 1)
            wanted = await factory.record(f"予約 {size}-{i}")
            await factory.copy(wanted, central, status=CopyStatus.ON_LOAN)
            await hold_for(api, token, wanted.id, central.id)
        costs["loans"].append(await _cost(api, LOANS, token, size))
        costs["holds"].append(await _cost(api, HOLDS, token, size))
    assert costs["loans"][0] == costs["loans"][1], costs
    assert costs["holds"][0] == costs["holds"][1], costs
