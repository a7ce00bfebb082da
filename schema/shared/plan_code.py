"""Each object plan as one generated Python function (issue [R2 9/9]).

:class:`schema.shared.plans._Run` walked an object's fields in a loop that asked, for every
field of every object, which kind of field it was: a ``__typename``, a field answered from
its source, a leaf or an object below it. For a page of 20 loans that is some 260 visits,
and the loop's own bookkeeping was an eighth of the API's CPU (py-spy under myLoans). The
answers depend only on the plan, so they are asked once: :func:`compile_fill` writes the
function that fills one object's answer, each field's step spelled out in field order, the
plan's resolvers, serialisers and completions bound as its globals.

The generated code does exactly what the loop did, field by field (the plans' tests send
every front-end query by plan and by graphql-core and compare the bytes):

- ``__typename``: the type's name;
- a field answered from the source (``direct``, or an ``at_hand`` getter that has it): a
  leaf is serialised at once (a serialiser answering null abandons the plan), null in a
  non-null place abandons it, anything else is completed with its path;
- any other field goes the general way (``_Run.resolve``: ``info``, arguments, resolver,
  awaited later with the rest of its level).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from graphql import GraphQLObjectType, Undefined
from graphql.pyutils import Path

from schema.shared.fast_fields import NOT_AT_HAND

if TYPE_CHECKING:
    from schema.shared.plan_compiler import FieldPlan


class Abandon(Exception):
    """The plan's happy path does not hold: graphql-core runs the operation instead."""


Fill = Callable[[Any, Any, Path | None], dict[str, Any]]
"""``fill(run, source, path)``: one object's answer (``run`` is the plan's ``_Run``)."""


def _answered(i: int, fplan: FieldPlan, type_name: str) -> list[str]:
    """The lines that put ``v``, a value the field already has, under its key."""
    completion = fplan.completion
    assert completion is not None
    key = repr(fplan.key)
    lines = [
        "if v is None or v is Undefined:",
        "    raise Abandon('null in a non-null place')"
        if completion.non_null
        else f"    out[{key}] = None",
    ]
    if completion.serialize is not None:
        lines += [
            "else:",
            f"    s = S{i}(v)",
            "    if s is None or s is Undefined:",
            "        raise Abandon('a leaf that does not serialise')",
            f"    out[{key}] = s",
        ]
    else:
        lines += [
            "else:",
            f"    out[{key}] = run.complete(C{i}, v, Path(path, {key}, {type_name!r}))",
        ]
    return lines


def _field_lines(i: int, fplan: FieldPlan, type_name: str) -> list[str]:
    if fplan.field_def is None:
        return [f"out[{fplan.key!r}] = {type_name!r}"]
    if fplan.direct is not None:
        return [f"v = D{i}(source)", *_answered(i, fplan, type_name)]
    if fplan.at_hand is not None:
        return [
            f"v = A{i}(source)",
            "if v is NOT_AT_HAND:",
            f"    run.resolve(F{i}, out, source, path, GT)",
            "else:",
            *("    " + line for line in _answered(i, fplan, type_name)),
        ]
    return [f"run.resolve(F{i}, out, source, path, GT)"]


def compile_fill(gtype: GraphQLObjectType, fields: list[FieldPlan]) -> Fill:
    """The function that fills the answer of one object of ``gtype`` with ``fields``."""
    type_name = gtype.name
    scope: dict[str, Any] = {
        "Undefined": Undefined,
        "NOT_AT_HAND": NOT_AT_HAND,
        "Path": Path,
        "Abandon": Abandon,
        "GT": gtype,
    }
    body = ["out = {}"]
    for i, fplan in enumerate(fields):
        completion = fplan.completion
        scope |= {f"F{i}": fplan, f"D{i}": fplan.direct, f"A{i}": fplan.at_hand}
        if completion is not None:
            scope |= {f"S{i}": completion.serialize, f"C{i}": completion}
        body += _field_lines(i, fplan, type_name)
    source = "def fill(run, source, path):\n" + "".join(f"    {line}\n" for line in body)
    source += "    return out\n"
    exec(compile(source, f"<plan of {type_name}>", "exec"), scope)  # noqa: S102
    fill: Fill = scope["fill"]
    return fill
