"""Trivial fields skip Strawberry's per-field wrapper (issue [R2 9/9], schema/shared/fast_fields.py).

What the fields answer is proven by the API tests (tests/api, tests/circulation, the
benchmark's same-data check); here, which fields take the short path and which must not:
a field that reads ``info``, takes arguments, is guarded by a permission or awaits keeps
Strawberry's resolver, so its checks and conversions still run.
"""

from __future__ import annotations

import strawberry
from graphql import GraphQLObjectType

from schema.root import make_schema
from schema.shared.fast_fields import shorten_trivial_fields
from schema.shared.permissions import Authenticated, guard

SCHEMA = make_schema(production=True)


def _field(type_name: str, field_name: str) -> object:
    gtype = SCHEMA._schema.type_map[type_name]
    assert isinstance(gtype, GraphQLObjectType)
    return gtype.fields[field_name].resolve


def test_trivial_fields_of_hot_types_are_called_directly() -> None:
    # Methods of the source alone, and attributes with no resolver (RecordReading.title).
    for name in (
        "Record.title",
        "Record.isComic",
        "Copy.callNumber",
        "Loan.dueOn",
        "Hold.id",
        "RecordReading.title",
        "PageInfo.hasNextPage",
    ):
        resolve = _field(*name.split("."))
        assert getattr(resolve, "__qualname__", "").startswith("_direct."), name


def test_fields_that_read_info_get_strawberrys_info_without_its_wrapper() -> None:
    # Library.name reads the locale from info, Loan.daysOverdue today; Loan.renewable and
    # Copy.library await a loader: each is called with the Info Strawberry would build.
    for name in ("Library.name", "Loan.daysOverdue", "Loan.renewable", "Copy.library"):
        resolve = _field(*name.split("."))
        assert getattr(resolve, "__qualname__", "").startswith("_with_info."), name


def test_fields_with_arguments_or_permissions_keep_strawberrys_path() -> None:
    shortened = set(shorten_trivial_fields(SCHEMA))
    for name in (
        "Query.myLoans",  # guarded (AUTH-5: a field extension checks the password state)
        "Library.openingDays",  # takes arguments
        "Query.record",  # takes arguments
    ):
        assert name not in shortened, name
        resolve = _field(*name.split("."))
        qualname = getattr(resolve, "__qualname__", "")
        assert not qualname.startswith(("_direct.", "_with_info.")), name


@strawberry.type
class Thing:
    @strawberry.field
    def plain(self) -> str:
        return "plain"

    @strawberry.field(extensions=guard(Authenticated()))
    def guarded(self) -> str:
        return "secret"


@strawberry.type
class ThingQuery:
    @strawberry.field
    def thing(self) -> Thing:
        return Thing()


def test_a_guarded_field_keeps_its_permission_check_even_when_it_only_takes_self() -> None:
    # AUTH-1: the permission extension must run, so the field may not be shortened.
    shortened = shorten_trivial_fields(strawberry.Schema(query=ThingQuery))
    assert "Thing.plain" in shortened
    assert "Thing.guarded" not in shortened
