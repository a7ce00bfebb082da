"""The fuzz's documents (tests/api/test_fuzz.py), drawn by hypothesis-graphql from
``schema/schema.graphql``.

A module of its own, importing no more than the drawing needs: the fuzz draws in spawned
processes, and each imports this module (hypothesis and graphql-core, not the app)."""

from __future__ import annotations

import base64
import os
from datetime import date
from functools import cache
from pathlib import Path

import graphql
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, nodes

from schema.shared import ids

SDL_PATH = Path(__file__).resolve().parents[2] / "schema" / "schema.graphql"
SEED = int(os.environ.get("HONDANA_FUZZ_SEED", "20261130"))
# Every kind of object an id can name (the model of the same name holds its rows).
ID_TYPES = (
    "Application",
    "BasketEntry",
    "Bookshelf",
    "BookshelfEntry",
    "Copy",
    "EbookHold",
    "EbookLoan",
    "Hold",
    "Library",
    "Loan",
    "Patron",
    "Record",
    "StaffUser",
)


def _string(value: object) -> graphql.ValueNode:
    return nodes.String(value)


def _raw_id(type_name: str, tail: str) -> str:
    """An opaque id whose number part is ``tail``, whatever that is."""
    return base64.urlsafe_b64encode(f"{type_name}:{tail}".encode()).decode().rstrip("=")


def scalar_strategies(bases: dict[str, int]) -> dict[str, st.SearchStrategy[graphql.ValueNode]]:
    """Values for ``ID``, ``Date`` and ``DateTime``: mostly valid, some not.

    Ids are mostly real opaque ids of the twelve rows of each type numbered from
    ``bases[type]`` on (the seeded rows: the patron's own and other people's), with some of
    the wrong type, absurd numbers, malformed base64, plain text and integers. Dates are
    mostly near the test's today, with some far in the past or future and some that are
    not dates at all.
    """
    real_id = st.builds(
        lambda type_name, n: ids.encode(type_name, bases.get(type_name, 1) + n),
        st.sampled_from(ID_TYPES),
        st.integers(0, 11),
    ).map(_string)
    odd_id = st.one_of(
        st.builds(
            _raw_id,
            st.sampled_from(ID_TYPES),
            st.sampled_from(
                ["0", "-1", "", "1.5", "x", "999999999999999999", "9" * 19, "1" * 60, "１"]
            ),
        ),
        st.builds(ids.encode, st.sampled_from(ID_TYPES), st.integers(10**6, 2**63 - 1)),
        st.text(max_size=30),
        st.sampled_from(["====", "!!", "a" * 101, "%00", "UmVjb3Jk", "UmVjb3JkOjE"]),
    ).map(_string)
    id_ = st.one_of(
        real_id, real_id, real_id, odd_id, st.integers(-(2**31), 2**31 - 1).map(nodes.Int)
    )
    near = st.dates(date(2026, 1, 1), date(2028, 12, 31)).map(date.isoformat).map(_string)
    far = st.dates().map(date.isoformat).map(_string)
    not_a_date = st.one_of(
        st.sampled_from(
            ["", "2026-02-30", "2026-13-01", "2026-1-1", "20261201", "tomorrow", "2026-12-01T10:00"]
        ),
        st.text(max_size=12),
    ).map(_string)
    date_ = st.one_of(near, near, near, far, not_a_date, st.integers(0, 10**6).map(nodes.Int))
    datetime_ = st.one_of(
        st.datetimes().map(lambda d: d.isoformat()).map(_string), st.text(max_size=20).map(_string)
    )
    return {"ID": id_, "Date": date_, "DateTime": datetime_}


@cache
def _schema() -> graphql.GraphQLSchema:
    return graphql.build_schema(SDL_PATH.read_text())


def root_fields(mode: Mode = Mode.POSITIVE) -> list[str]:
    """Every root field, queries then mutations; for documents that break the schema, those
    that take arguments (hypothesis-graphql breaks arguments, and a field without any has
    nothing to break)."""
    schema = _schema()
    assert schema.query_type and schema.mutation_type
    fields = {**schema.query_type.fields, **schema.mutation_type.fields}
    return [name for name, f in fields.items() if mode == Mode.POSITIVE or f.args]


def documents(count: int, salt: int, mode: Mode, bases: dict[str, int]) -> list[str]:
    """``count`` operations, each a query or mutation of one root field drawn uniformly,
    drawn with a fixed seed so every run draws the same ones."""
    scalars = scalar_strategies(bases)
    per_field = {
        name: from_schema(_schema(), fields=[name], custom_scalars=scalars, mode=mode)
        for name in root_fields(mode)
    }
    strategy = st.sampled_from(sorted(per_field)).flatmap(per_field.__getitem__)
    drawn: list[str] = []

    @seed(SEED + salt)
    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(document: str) -> None:
        drawn.append(document)

    collect()
    return drawn[:count]
