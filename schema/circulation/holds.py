"""Basket, holds and their placement (BASKET-1..4, HOLD-1..11)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry
from strawberry.types import Info

from models import Hold as HoldRow
from policies.enums import HoldState as HoldStateValue
from policies.enums import StaffRole as Role
from policies.errors import ErrorCode as Code
from policies.errors import RuleViolation
from resolvers.circulation import basket, hold_changes, hold_list, holds
from resolvers.circulation.holds import HoldOutcome, Placement
from resolvers.shared import privacy
from resolvers.shared.context import Context
from resolvers.shared.loaders import QueueEntry, existing
from schema.accounts.accounts import Patron
from schema.catalogue.catalogue import Copy, Record
from schema.catalogue.libraries import Library, referenced_library
from schema.circulation.basket import AddToBasketPayload, BasketEntry, RemoveFromBasketPayload
from schema.shared import ids
from schema.shared.enums import HoldState
from schema.shared.errors import HondanaError, UserError, user_errors
from schema.shared.fast_fields import NOT_AT_HAND, at_hand, or_later
from schema.shared.permissions import (
    ActivePassword,
    Authenticated,
    CardValid,
    NotOverdueBlocked,
    StaffOnly,
    guard,
    patron_viewer,
)

PATRON = guard(Authenticated(), ActivePassword())
HOLDING = guard(Authenticated(), ActivePassword(), CardValid(), NotOverdueBlocked())


def decode_many(type_name: str, values: list[strawberry.ID]) -> list[int | None]:
    """Opaque ids to keys; an id that does not decode stays as ``None`` (→ NOT_FOUND)."""
    return [ids.decode(type_name, v) for v in values]


@strawberry.type(description="A hold (予約) on a title.")
class Hold:
    row: strawberry.Private[HoldRow]
    # Title and waiting line, when the list read them for every hold at once.
    details: strawberry.Private[hold_list.HoldDetails | None] = None

    async def _record(self, info: Info[Context, Any]) -> Record:
        return Record(row=await existing(info.context.loaders.record, self.row.record_id))

    async def _queue(self, info: Info[Context, Any]) -> list[QueueEntry]:
        return await info.context.loaders.queue_by_record.load(self.row.record_id)

    def _in_queue(self, queue: list[QueueEntry]) -> int | None:
        return next((i + 1 for i, (hid, _) in enumerate(queue) if hid == self.row.id), None)

    async def _position(self, info: Info[Context, Any]) -> int | None:
        return self._in_queue(await self._queue(info))

    async def _length(self, info: Info[Context, Any]) -> int:
        return len(await self._queue(info))

    @strawberry.field(description="Opaque id.")
    def id(self) -> strawberry.ID:
        return ids.encode("Hold", self.row.id)

    def _record_at_hand(self) -> Record:
        if self.details is not None:
            return Record(row=self.details.record)
        return NOT_AT_HAND  # type: ignore[no-any-return]

    @strawberry.field(description="The title held.")
    @at_hand(_record_at_hand)
    def record(self, info: Info[Context, Any]) -> Record:
        return or_later(self._record_at_hand(), lambda: self._record(info))

    def _pickup_at_hand(self) -> Library:
        if self.details is not None and self.details.pickup is not None:
            return Library(row=self.details.pickup)
        return NOT_AT_HAND  # type: ignore[no-any-return]

    @strawberry.field(description="Where the hold will be collected (受取館).")
    @at_hand(_pickup_at_hand)
    def pickup_library(self, info: Info[Context, Any]) -> Library:
        found = self._pickup_at_hand()
        if found is NOT_AT_HAND:
            return referenced_library(info, self.row.pickup_library_id)
        return found

    @strawberry.field(description="WAITING → IN_TRANSIT → READY → COLLECTED, or CANCELLED/EXPIRED.")
    def state(self) -> HoldState:  # type: ignore[valid-type]
        return self.row.state

    @strawberry.field(
        description="When the hold was placed; the queue is first come, first served."
    )
    def placed_at(self) -> datetime:
        return self.row.placed_at

    def _position_at_hand(self) -> int | None:
        if self.row.state is not HoldStateValue.WAITING:
            return None
        if self.details is not None:
            return self.details.position
        return NOT_AT_HAND  # type: ignore[no-any-return]

    @strawberry.field(
        description="Place in the title's waiting line, 1 = next (HOLD-7); null unless WAITING."
    )
    @at_hand(_position_at_hand)
    def queue_position(self, info: Info[Context, Any]) -> int | None:
        return or_later(self._position_at_hand(), lambda: self._position(info))

    def _length_at_hand(self) -> int:
        if self.details is not None:
            return self.details.length
        return NOT_AT_HAND  # type: ignore[no-any-return]

    @strawberry.field(description="How many holds are waiting for the title (HOLD-7).")
    @at_hand(_length_at_hand)
    def queue_length(self, info: Info[Context, Any]) -> int:
        return or_later(self._length_at_hand(), lambda: self._length(info))

    @strawberry.field(
        description="Last day a READY hold is kept (予約有効期限日, HOLD-8); null until ready."
    )
    def pickup_deadline(self) -> date | None:
        return self.row.pickup_deadline

    @strawberry.field(description="Skipped in the queue (keeping its place) until this day.")
    def paused_until(self) -> date | None:
        return self.row.paused_until

    @strawberry.field(
        description="Whether the patron may still cancel, pause or move it (WAITING only, HOLD-6)."
    )
    def can_modify(self) -> bool:
        return self.row.state is HoldStateValue.WAITING

    @strawberry.field(
        description="Staff: when the patron was phoned about this ready hold (STAFF-3).",
        extensions=guard(StaffOnly(Role.COUNTER, Role.PATRONS)),
    )
    def called_at(self) -> datetime | None:
        return self.row.called_at

    @strawberry.field(
        description="Staff: what came of the call (e.g. 伝言済み), STAFF-3.",
        extensions=guard(StaffOnly(Role.COUNTER, Role.PATRONS)),
    )
    def call_outcome(self) -> str | None:
        return self.row.call_outcome

    @strawberry.field(
        description="Staff: the copy kept for the hold (IN_TRANSIT or READY), for the slip.",
        extensions=guard(StaffOnly(Role.COUNTER, Role.PATRONS)),
    )
    async def copy(self, info: Info[Context, Any]) -> Copy | None:
        if self.row.copy_id is None:
            return None
        return Copy(row=await existing(info.context.loaders.copy, self.row.copy_id))

    @strawberry.field(
        description="Staff: the patron who placed the hold. A closed hold of a patron without a "
        "reading history has forgotten them: `NOT_FOUND` (docs/privacy.md).",
        extensions=guard(StaffOnly(Role.COUNTER, Role.PATRONS)),
    )
    async def patron(self, info: Info[Context, Any]) -> Patron:
        patron_id = self.row.patron_id
        if patron_id is None:  # a closed hold that forgot its patron (reading privacy)
            raise HondanaError.from_violation(
                RuleViolation(Code.NOT_FOUND, field="patron"), info.context.locale
            )
        await privacy.audit_listed(info.context, "hold_patron", patron_id)
        return Patron(row=await existing(info.context.loaders.patron, patron_id))


@strawberry.type(description="One title's verdict (preview) or result (placement).")
class HoldPlacementResult:
    basket_entry_id: strawberry.ID = strawberry.field(description="The basket entry asked about.")
    record: Record | None = strawberry.field(description="The title; null if the entry is unknown.")
    hold: Hold | None = strawberry.field(description="The hold placed (placement only).")
    errors: list[UserError] = strawberry.field(
        description="Why this title can't be held; empty when it can (or was)."
    )

    @strawberry.field(description="True when `errors` is empty.")
    def ok(self) -> bool:
        return not self.errors


@strawberry.type(
    description="The answer of `previewHolds` (予約内容確認) or `placeHolds` (予約結果)."
)
class HoldPlacementPayload:
    pickup_library: Library | None = strawberry.field(description="The pickup library used.")
    results: list[HoldPlacementResult] = strawberry.field(
        description="One per basket entry, in the order given."
    )
    errors: list[UserError] = strawberry.field(
        description="Errors of the whole request (`INVALID_PICKUP_LIBRARY`, `TOO_MANY_ITEMS`, "
        "`DUPLICATE_ID`); when present nothing was done."
    )


def _placement(
    info: Info[Context, Any], given: list[strawberry.ID], placement: Placement
) -> HoldPlacementPayload:
    locale = info.context.locale

    def one(entry_id: strawberry.ID, o: HoldOutcome) -> HoldPlacementResult:
        return HoldPlacementResult(
            basket_entry_id=entry_id,  # echo the id as sent, even one that did not decode
            record=Record(row=o.record) if o.record is not None else None,
            hold=Hold(row=o.hold) if o.hold is not None else None,
            errors=user_errors(o.errors, locale),
        )

    return HoldPlacementPayload(
        pickup_library=Library(row=placement.pickup) if placement.pickup is not None else None,
        results=[one(e, o) for e, o in zip(given, placement.outcomes, strict=False)],
        errors=user_errors(placement.errors, locale),
    )


@strawberry.type(description="The result of a change to one hold.")
class HoldPayload:
    hold: Hold | None = strawberry.field(description="The hold after the change.")
    errors: list[UserError] = strawberry.field(
        description="`HOLD_NOT_MODIFIABLE` (not WAITING: please call the library), "
        "`NOT_FOUND`, `INVALID_PICKUP_LIBRARY`, `INVALID_INPUT`."
    )


async def _hold_change(info: Info[Context, Any], action: Any) -> HoldPayload:
    try:
        row = await action
    except RuleViolation as no:
        return HoldPayload(hold=None, errors=user_errors([no], info.context.locale))
    return HoldPayload(hold=Hold(row=row), errors=[])


@strawberry.type
class HoldQueries:
    @strawberry.field(description="The patron's basket, oldest first.", extensions=PATRON)
    async def my_basket(self, info: Info[Context, Any]) -> list[BasketEntry]:
        rows = await basket.entries(info.context, patron_viewer(info))
        return [BasketEntry(row=r) for r in rows]

    @strawberry.field(
        description="The patron's holds still in play (WAITING, IN_TRANSIT, READY), with queue "
        "position and pickup deadline (HOLD-10).",
        extensions=PATRON,
    )
    async def my_holds(self, info: Info[Context, Any]) -> list[Hold]:
        listed = await hold_list.active_holds(info.context, patron_viewer(info))
        return [Hold(row=row, details=details) for row, details in listed]

    @strawberry.field(
        description="Step 1 of placing holds (予約内容確認): checks every rule for each selected "
        "basket entry and changes nothing. Refused at the top level for an expired card "
        "(CARD-1) or overdue loans (CARD-2/3).",
        extensions=HOLDING,
    )
    async def preview_holds(
        self,
        info: Info[Context, Any],
        basket_entry_ids: list[strawberry.ID],
        pickup_library_id: strawberry.ID | None = None,
    ) -> HoldPlacementPayload:
        return await _place(info, basket_entry_ids, pickup_library_id, confirm=False)


async def _place(
    info: Info[Context, Any],
    entry_ids: list[strawberry.ID],
    pickup_library_id: strawberry.ID | None,
    *,
    confirm: bool,
) -> HoldPlacementPayload:
    pickup = None
    if pickup_library_id is not None:
        pickup = ids.pk("Library", pickup_library_id)  # 0 → INVALID_PICKUP_LIBRARY
    placement = await holds.place(
        info.context,
        patron_viewer(info),
        decode_many("BasketEntry", entry_ids),
        pickup,
        confirm=confirm,
    )
    return _placement(info, entry_ids, placement)


@strawberry.type
class HoldMutations:
    @strawberry.mutation(
        description="Put a title in the basket (at most 100, each once, no e-books).",
        extensions=PATRON,
    )
    async def add_to_basket(
        self, info: Info[Context, Any], record_id: strawberry.ID
    ) -> AddToBasketPayload:
        pk = ids.decode("Record", record_id)
        try:
            if pk is None:
                raise RuleViolation(Code.NOT_FOUND, field="recordId")
            row = await basket.add(info.context, patron_viewer(info), pk)
        except RuleViolation as no:
            return AddToBasketPayload(entry=None, errors=user_errors([no], info.context.locale))
        return AddToBasketPayload(entry=BasketEntry(row=row), errors=[])

    @strawberry.mutation(
        description="Take entries out of the basket, all or nothing: an id that is not one of "
        "your entries answers `NOT_FOUND` and removes nothing.",
        extensions=PATRON,
    )
    async def remove_from_basket(
        self, info: Info[Context, Any], basket_entry_ids: list[strawberry.ID]
    ) -> RemoveFromBasketPayload:
        keys = decode_many("BasketEntry", basket_entry_ids)
        try:
            holds.check_batch(basket_entry_ids, "basketEntryIds")
            removed = await basket.remove(info.context, patron_viewer(info), keys)
        except RuleViolation as no:
            return RemoveFromBasketPayload(removed=0, errors=user_errors([no], info.context.locale))
        return RemoveFromBasketPayload(removed=removed, errors=[])

    @strawberry.mutation(
        description="Step 2 (予約結果): place holds for the selected basket entries. Each title "
        "succeeds or fails on its own; placed titles leave the basket (BASKET-2). The pickup "
        "library defaults to the patron's (PREF-4).",
        extensions=HOLDING,
    )
    async def place_holds(
        self,
        info: Info[Context, Any],
        basket_entry_ids: list[strawberry.ID],
        pickup_library_id: strawberry.ID | None = None,
    ) -> HoldPlacementPayload:
        return await _place(info, basket_entry_ids, pickup_library_id, confirm=True)

    @strawberry.mutation(description="Cancel a WAITING hold (HOLD-6).", extensions=PATRON)
    async def cancel_hold(self, info: Info[Context, Any], hold_id: strawberry.ID) -> HoldPayload:
        pk = ids.pk("Hold", hold_id)
        return await _hold_change(info, hold_changes.cancel(info.context, patron_viewer(info), pk))

    @strawberry.mutation(
        description="Move a WAITING hold to another pickup library (HOLD-6).", extensions=PATRON
    )
    async def change_hold_pickup(
        self, info: Info[Context, Any], hold_id: strawberry.ID, pickup_library_id: strawberry.ID
    ) -> HoldPayload:
        pk = ids.pk("Hold", hold_id)
        lib = ids.pk("Library", pickup_library_id)
        return await _hold_change(
            info, hold_changes.change_pickup(info.context, patron_viewer(info), pk, lib)
        )

    @strawberry.mutation(
        description="Pause a WAITING hold until a day (at most a year ahead): it keeps its place "
        "in the queue and is skipped meanwhile. `until: null` resumes it.",
        extensions=PATRON,
    )
    async def pause_hold(
        self, info: Info[Context, Any], hold_id: strawberry.ID, until: date | None = None
    ) -> HoldPayload:
        pk = ids.pk("Hold", hold_id)
        return await _hold_change(
            info, hold_changes.pause(info.context, patron_viewer(info), pk, until)
        )
