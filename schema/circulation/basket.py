"""The basket (予約かご) as the schema shows it: its entries and the answers of
`addToBasket` and `removeFromBasket` (BASKET-1..4)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from models import BasketEntry as BasketRow
from resolvers.shared.context import Context
from resolvers.shared.loaders import existing
from schema.catalogue.catalogue import Record
from schema.shared import ids
from schema.shared.errors import UserError


@strawberry.type(description="A title in the patron's basket (予約かご). Not a hold (BASKET-2).")
class BasketEntry:
    row: strawberry.Private[BasketRow]

    @strawberry.field(description="Opaque id; pass it to `previewHolds` and `placeHolds`.")
    def id(self) -> strawberry.ID:
        return ids.encode("BasketEntry", self.row.id)

    @strawberry.field(description="The title.")
    async def record(self, info: Info[Context, Any]) -> Record:
        return Record(row=await existing(info.context.loaders.record, self.row.record_id))

    @strawberry.field(description="When it was put in the basket.")
    def added_at(self) -> datetime:
        return self.row.added_at


@strawberry.type(description="The result of `addToBasket`.")
class AddToBasketPayload:
    entry: BasketEntry | None = strawberry.field(
        description="The entry (existing if already there)."
    )
    errors: list[UserError] = strawberry.field(
        description="`BASKET_FULL` (BASKET-1), `EBOOK_NOT_ALLOWED` (BASKET-3), `NOT_FOUND`."
    )


@strawberry.type(description="The result of `removeFromBasket`.")
class RemoveFromBasketPayload:
    removed: int = strawberry.field(description="How many entries were removed.")
    errors: list[UserError] = strawberry.field(description="`TOO_MANY_ITEMS`, `DUPLICATE_ID`.")
