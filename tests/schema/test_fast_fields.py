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


def test_fields_with_info_arguments_permissions_or_awaits_keep_strawberrys_path() -> None:
    shortened = set(shorten_trivial_fields(SCHEMA))
    for name in (
        "Library.name",  # reads the locale from info
        "Loan.daysOverdue",  # reads today from info
        "Loan.renewable",  # awaits
        "Query.myLoans",  # guarded (AUTH-5: a field extension checks the password state)
        "Library.openingDays",  # takes arguments
    ):
        assert name not in shortened, name
        resolve = _field(*name.split("."))
        assert not getattr(resolve, "__qualname__", "").startswith("_direct."), name


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
