"""The domain enums as GraphQL enums (one definition, in ``policies.enums``)."""

from __future__ import annotations

import strawberry

from policies import enums

LibraryKind = strawberry.enum(
    enums.LibraryKind, description="What sort of service point a library is."
)
CardKind = strawberry.enum(
    enums.CardKind,
    description="`CITY` card, or `WIDE_AREA` card of a neighbouring city's resident.",
)
PasswordState = strawberry.enum(
    enums.PasswordState,
    description="`TEMPORARY` passwords must be changed before anything personal (AUTH-5).",
)
ContactMethod = strawberry.enum(
    enums.ContactMethod, description="How the library tells the patron a hold is ready (PREF-1)."
)
MaterialType = strawberry.enum(enums.MaterialType, description="The kind of material of a title.")
CopyStatus = strawberry.enum(enums.CopyStatus, description="Where a physical copy is now.")
HoldState = strawberry.enum(enums.HoldState, description="The life of a hold (HOLD-6).")
StaffRole = strawberry.enum(enums.StaffRole, description="What a staff account may do (STAFF-1).")
SearchSort = strawberry.enum(
    enums.SearchSort,
    description="`RELEVANCE`: titles holding every word in the title first, then the rest, "
    "newest additions first. `NEWEST`: by year of publication, latest first. `TITLE`: by "
    "title, Japanese titles in the order of their reading.",
)
