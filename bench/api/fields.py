"""CPU per field: graphql-core's executor next to a query plan, on the same schema
(issue [R2 9/9], schema/shared/plans.py).

    .venv/bin/python bench/api/fields.py            # 20 items x 12 fields, 2,000 runs each

One Strawberry schema, a list of ``--items`` objects with twelve string fields, the same
parsed and validated document, run through ``Schema.execute`` (Strawberry's extensions,
the same for both) with graphql-core's executor and with :class:`PlannedExecutionContext`,
alternately, best of ``--rounds``. The fields are plain attributes, the cheapest a field
can be, so the difference is the executor's own bookkeeping. Prints CPU microseconds per
field for each and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import strawberry  # noqa: E402
from strawberry.extensions import ParserCache, ValidationCache  # noqa: E402
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext  # noqa: E402

from schema.shared.fast_fields import shorten_trivial_fields  # noqa: E402
from schema.shared.plans import PlannedExecutionContext  # noqa: E402

FIELDS = 12


@strawberry.type
class Item:
    f0: str
    f1: str
    f2: str
    f3: str
    f4: str
    f5: str
    f6: str
    f7: str
    f8: str
    f9: str
    f10: str
    f11: str


def build(items: int) -> tuple[strawberry.Schema, str]:
    """The schema (trivial fields shortened, as Hondana's are) and the document."""
    rows = [Item(**{f"f{f}": f"v{i}-{f}" for f in range(FIELDS)}) for i in range(items)]

    @strawberry.type
    class Query:
        @strawberry.field
        def items(self) -> list[Item]:
            return rows

    # Parse and validation cached, as Hondana's are: what is left is execution.
    schema = strawberry.Schema(query=Query, extensions=[ParserCache, ValidationCache])
    shorten_trivial_fields(schema)
    document = "{ items { " + " ".join(f"f{f}" for f in range(FIELDS)) + " } }"
    return schema, document


async def cpu_per_field(schema: strawberry.Schema, document: str, runs: int, fields: int) -> float:
    """CPU microseconds per field of ``runs`` executions."""
    start = time.process_time()
    for _ in range(runs):
        result = await schema.execute(document)
        assert not result.errors, result.errors
    return (time.process_time() - start) / runs / fields * 1e6


async def main(items: int, runs: int, rounds: int) -> None:
    schema, document = build(items)
    fields = items * FIELDS + 1
    first = await schema.execute(document)
    best: dict[str, float] = {}
    for _ in range(rounds):
        for name, context in (
            ("graphql-core", StrawberryGraphQLCoreExecutionContext),
            ("plan", PlannedExecutionContext),
        ):
            schema.execution_context_class = context
            assert (await schema.execute(document)).data == first.data
            cost = await cpu_per_field(schema, document, runs, fields)
            best[name] = min(best.get(name, cost), cost)
    core, plan = best["graphql-core"], best["plan"]
    print(f"{items} items x {FIELDS} fields, best of {rounds} x {runs} runs")
    print(f"graphql-core: {core:.2f} us CPU per field")
    print(f"plan:         {plan:.2f} us CPU per field ({plan / core:.2f} of graphql-core's)")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--items", type=int, default=20)
    ap.add_argument("--runs", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    asyncio.run(main(args.items, args.runs, args.rounds))
