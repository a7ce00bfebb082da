"""Query plans answer exactly what graphql-core answers (issue [R2 9/9],
schema/shared/plans.py).

Every list operation the front ends ship (the cases of test_query_counts: search, the
record page per hit, loans, holds, basket, bookshelves, history, the staff lists) is sent
twice over the same data: once as the server runs it, by its plan, and once with
graphql-core's own executor. The two answers must be the same, byte for byte. Errors are
graphql-core's by construction (a plan gives up and graphql-core runs the operation), and
the cases below show that too: an unauthenticated ``myLoans`` and a bad id answer the same
errors, with the same paths, either way.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from graphql import OperationDefinitionNode, parse
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.root import make_schema
from schema.shared.plan_compiler import compile_operation
from schema.shared.plans import PlannedExecutionContext
from server.settings import Settings
from server.trusted import operation_files
from tests.api.lists import World
from tests.api.test_query_counts import CASES, document
from tests.support import Api, Factory

HOT = [
    ("web-opac", "Search"),
    ("web-opac", "RecordDetail"),
    ("web-opac", "MyLoans"),
    ("web-opac", "MyHolds"),
    ("smartphone", "SearchCompact"),
    ("smartphone", "MyLoansCompact"),
    ("smartphone", "MyHoldsCompact"),
]


def _operation(text: str) -> OperationDefinitionNode:
    [operation] = [d for d in parse(text).definitions if isinstance(d, OperationDefinitionNode)]
    return operation


def test_the_hot_documents_have_plans() -> None:
    # The documents the benchmark measures (bench/api) run by their plans, not by
    # graphql-core: if one stops compiling, it silently loses what the plans save.
    schema = make_schema(production=True)._schema
    for front, name in HOT:
        assert compile_operation(schema, _operation(document(front, name)), {}), (front, name)


def test_every_operation_the_front_ends_ship_compiles() -> None:
    # Every query and every mutation of the three front ends (a mutation: one root field,
    # its resolver's outcome recorded, tests/api/test_ready_mutations.py).
    schema = make_schema(production=True)._schema
    left = []
    for front, path in operation_files():
        operation = _operation(path.read_text(encoding="utf-8"))
        if compile_operation(schema, operation, {}) is None:
            left.append(f"{front}/{path.stem}")
    assert left == []


def test_a_mutation_with_two_root_fields_is_left_to_graphql_core() -> None:
    # graphql-core runs a mutation's root fields one after another; a plan runs one.
    schema = make_schema(production=True)._schema
    one = "mutation { logout { ok } }"
    two = "mutation { logout { ok } again: logout { ok } }"
    assert compile_operation(schema, _operation(one), {}) is not None
    assert compile_operation(schema, _operation(two), {}) is None


async def _both_ways(
    api: Api, settings: Settings, text: str, variables: dict[str, Any], token: str | None
) -> tuple[str, str]:
    """The answer by the plan, then by graphql-core (the app's own schema, its executor
    swapped for Strawberry's for the one request)."""
    planned = await api.gql(text, variables, token=token)
    schema = make_schema(
        production=settings.is_production, execution_timeout=settings.execution_timeout_seconds
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(schema, "execution_context_class", StrawberryGraphQLCoreExecutionContext)
        plain = await api.gql(text, variables, token=token)
    dump = lambda body: json.dumps(body, ensure_ascii=False, sort_keys=False)  # noqa: E731
    return dump(planned), dump(plain)


@pytest.mark.parametrize("name", list(CASES))
async def test_planned_answers_are_graphql_cores(
    api: Api, factory: Factory, settings: Settings, name: str
) -> None:
    case = CASES[name]
    world = await World.create(api, factory)
    await case.grow(world, 10)
    for label, text, variables in case.sends:
        token = world.staff_token if label.startswith("staff-dashboard") else world.token
        planned, plain = await _both_ways(api, settings, text, variables(world, 10), token)
        assert '"errors"' not in planned, (label, planned[:500])
        assert planned == plain, label
    ran = [op for _, op, plan in PlannedExecutionContext.plans.entries.values() if plan]
    assert ran, "no operation ran by a plan"


async def test_errors_are_graphql_cores(api: Api, settings: Settings) -> None:
    # AUTH: myLoans without a session is refused at the root field; a record id that
    # names nothing, or is no id at all, answers null. Each the same way with and without
    # the plan, paths and codes included.
    cases = [
        (document("web-opac", "MyLoans"), {}, None),
        (document("web-opac", "RecordDetail"), {"id": "UmVjb3JkOjk5OTk5"}, None),
        (document("web-opac", "RecordDetail"), {"id": "not-an-id"}, None),
    ]
    answers = []
    for text, variables, token in cases:
        planned, plain = await _both_ways(api, settings, text, variables, token)
        assert planned == plain, (variables, planned, plain)
        answers.append(planned)
    assert '"UNAUTHENTICATED"' in answers[0]
    assert '"path": ["myLoans"]' in answers[0]
