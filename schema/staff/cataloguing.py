"""Staff cataloguing: correct a title, delete one, set an e-book's licences (role
CATALOGUE)."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from policies.enums import MaterialType as MaterialTypeValue
from policies.enums import StaffRole as Role
from policies.errors import ErrorCode, RuleViolation
from resolvers.shared.context import Context, StaffViewer
from resolvers.shared.loaders import existing
from resolvers.staff import cataloguing
from schema.catalogue.catalogue import Record
from schema.shared import ids
from schema.shared.enums import MaterialType
from schema.shared.errors import UserError, user_errors
from schema.shared.permissions import StaffOnly, guard

CATALOGUE = guard(StaffOnly(Role.CATALOGUE))


@strawberry.input(
    description="Fields to correct on a title. Leave a field out to keep it; an empty string "
    "clears an optional one. The search index follows at once."
)
class RecordInput:
    title: str | None = strawberry.field(default=None, description="Title (required if given).")
    title_reading: str | None = strawberry.field(default=None, description="Reading of the title.")
    responsibility: str | None = strawberry.field(default=None, description="Author.")
    responsibility_reading: str | None = strawberry.field(
        default=None, description="Reading of the author."
    )
    publisher: str | None = strawberry.field(default=None, description="Publisher.")
    publisher_reading: str | None = strawberry.field(
        default=None, description="Reading of the publisher."
    )
    year: int | None = strawberry.field(default=None, description="Year, 1000..2100.")
    isbn: str | None = strawberry.field(
        default=None, description="ISBN-10 or ISBN-13, hyphens optional; stored as ISBN-13."
    )
    subject_class: str | None = strawberry.field(default=None, description="Classification.")
    series: str | None = strawberry.field(default=None, description="Series title.")
    volume: str | None = strawberry.field(default=None, description="Volume in the series.")
    material_type: MaterialType | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Kind of material."
    )


@strawberry.type(description="The result of `updateRecord`.")
class RecordPayload:
    record: Record | None = strawberry.field(description="The title as it is now.")
    errors: list[UserError] = strawberry.field(description="`NOT_FOUND`, `INVALID_INPUT`.")


@strawberry.type(description="The result of `deleteRecord`.")
class DeleteRecordPayload:
    deleted_id: strawberry.ID | None = strawberry.field(description="The id of the deleted title.")
    errors: list[UserError] = strawberry.field(
        description="`NOT_FOUND`, `RECORD_IN_USE` (loans or holds refer to it)."
    )


@strawberry.type(description="The result of `setEbookLicences`.")
class EbookLicencesPayload:
    record: Record | None = strawberry.field(description="The e-book title.")
    licences: int | None = strawberry.field(description="Its licences now.")
    errors: list[UserError] = strawberry.field(
        description="`NOT_FOUND`; `INVALID_INPUT` for a title that is not an e-book "
        "(`recordId`) or a number outside 0..10000 (`licences`)."
    )


def _pk(value: strawberry.ID) -> int:
    pk = ids.decode("Record", value)
    if pk is None:
        raise RuleViolation(ErrorCode.NOT_FOUND, field="id")
    return pk


@strawberry.type
class CataloguingMutations:
    @strawberry.mutation(
        description="Correct a title (staff, CATALOGUE role).", extensions=CATALOGUE
    )
    async def update_record(
        self, info: Info[Context, Any], id: strawberry.ID, input: RecordInput
    ) -> RecordPayload:
        changes = cataloguing.RecordChanges(
            **{
                name: getattr(input, name)
                for name in cataloguing.RecordChanges.__dataclass_fields__
                if name != "material_type"
            },
            material_type=MaterialTypeValue(input.material_type)
            if input.material_type is not None
            else None,
        )
        try:
            row = await cataloguing.update_record(info.context, _pk(id), changes)
        except RuleViolation as no:
            return RecordPayload(record=None, errors=user_errors([no], info.context.locale))
        return RecordPayload(record=Record(row=row), errors=[])

    @strawberry.mutation(
        description="Delete a title with its copies (staff, CATALOGUE role). Titles that loans "
        "or holds refer to stay: withdraw their copies instead.",
        extensions=CATALOGUE,
    )
    async def delete_record(
        self, info: Info[Context, Any], id: strawberry.ID
    ) -> DeleteRecordPayload:
        try:
            await cataloguing.delete_record(info.context, _pk(id))
        except RuleViolation as no:
            return DeleteRecordPayload(
                deleted_id=None, errors=user_errors([no], info.context.locale)
            )
        return DeleteRecordPayload(deleted_id=id, errors=[])

    @strawberry.mutation(
        description="Add or change the number of licences of an e-book title (staff, CATALOGUE "
        "role, EBOOK-4; audited). One licence serves one patron at a time; licences added "
        "go at once to the oldest waiting e-book holds. Fewer licences than are lent now take "
        "effect as those loans end.",
        extensions=CATALOGUE,
    )
    async def set_ebook_licences(
        self, info: Info[Context, Any], record_id: strawberry.ID, licences: int
    ) -> EbookLicencesPayload:
        viewer = info.context.viewer
        assert isinstance(viewer, StaffViewer)  # CATALOGUE lets staff only through
        try:
            pk = ids.decode("Record", record_id)
            if pk is None:
                raise RuleViolation(ErrorCode.NOT_FOUND, field="recordId")
            count = await cataloguing.set_ebook_licences(
                info.context, viewer.staff_id, pk, licences
            )
        except RuleViolation as no:
            return EbookLicencesPayload(
                record=None, licences=None, errors=user_errors([no], info.context.locale)
            )
        row = await existing(info.context.loaders.record, pk)
        return EbookLicencesPayload(record=Record(row=row), licences=count, errors=[])
