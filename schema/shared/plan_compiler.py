"""Compiling a query operation into a plan (issue [R2 9/9]; run by :mod:`schema.shared.plans`).

The fields of each selection are collected ahead of time (fragments merged), and for each
field its resolver, its completion by return type and whether its arguments need working
out per request are fixed. ``None`` wherever the document needs graphql-core: directives
in selections, abstract types, fragment variables, introspection.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    is_abstract_type,
    is_leaf_type,
)

from schema.shared.fast_fields import at_hand_getter, source_only
from schema.shared.plan_code import Fill, compile_fill


@dataclass(slots=True)
class Completion:
    """How a field's value becomes its part of the answer."""

    non_null: bool
    serialize: Callable[[Any], Any] | None = None  # a leaf
    item: Completion | None = None  # a list
    plan: ObjectPlan | None = None  # an object


@dataclass(slots=True)
class FieldPlan:
    """One field of a selection: under ``key`` in the answer."""

    key: str
    field_def: GraphQLField | None  # None for ``__typename``
    nodes: list[FieldNode]
    completion: Completion | None
    direct: Callable[[Any], Any] | None  # resolves from the source alone
    args: dict[str, Any] | None  # None: worked out per request (the field takes arguments)
    # Answers from the source alone when it can (``fast_fields.at_hand``), else NOT_AT_HAND.
    at_hand: Callable[[Any], Any] | None = None


@dataclass(slots=True)
class ObjectPlan:
    """The fields selected on one object type."""

    type: GraphQLObjectType
    fields: list[FieldPlan]
    fill: Fill  # the generated function that fills one object's answer (plan_code.py)


class _Compiler:
    """Compiles one operation; ``None`` wherever the document needs graphql-core."""

    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.schema = schema
        self.fragments = fragments

    def object_plan(
        self, gtype: GraphQLObjectType, selections: list[SelectionSetNode]
    ) -> ObjectPlan | None:
        grouped: dict[str, list[FieldNode]] = {}
        for selection_set in selections:
            if not self._collect(gtype, selection_set, grouped, set()):
                return None
        fields: list[FieldPlan] = []
        for key, nodes in grouped.items():
            field_plan = self._field(gtype, key, nodes)
            if field_plan is None:
                return None
            fields.append(field_plan)
        return ObjectPlan(gtype, fields, compile_fill(gtype, fields))

    def _collect(
        self,
        gtype: GraphQLObjectType,
        selection_set: SelectionSetNode,
        grouped: dict[str, list[FieldNode]],
        seen: set[str],
    ) -> bool:
        for selection in selection_set.selections:
            if selection.directives:  # @skip / @include / @defer: decided per request
                return False
            if isinstance(selection, FieldNode):
                key = (selection.alias or selection.name).value
                grouped.setdefault(key, []).append(selection)
                continue
            if isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or fragment.variable_definitions:
                    return False
                if name in seen or not self._applies(gtype, fragment.type_condition.name.value):
                    continue
                seen.add(name)
                inner = fragment.selection_set
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if condition is not None and not self._applies(gtype, condition.name.value):
                    continue
                inner = selection.selection_set
            else:
                return False
            if not self._collect(gtype, inner, grouped, seen):
                return False
        return True

    def _applies(self, gtype: GraphQLObjectType, condition: str) -> bool:
        named = self.schema.get_type(condition)
        if named is gtype:
            return True
        return is_abstract_type(named) and self.schema.is_sub_type(named, gtype)

    def _field(
        self, gtype: GraphQLObjectType, key: str, nodes: list[FieldNode]
    ) -> FieldPlan | None:
        name = nodes[0].name.value
        if name == "__typename":
            return FieldPlan(key, None, nodes, None, None, {})
        field_def = gtype.fields.get(name)
        if field_def is None or field_def.resolve is None:  # introspection, or no resolver
            return None
        subselections = [n.selection_set for n in nodes if n.selection_set is not None]
        completion = self._completion(field_def.type, subselections)
        if completion is None:
            return None
        takes_args = bool(field_def.args or nodes[0].arguments)
        if takes_args:
            return FieldPlan(key, field_def, nodes, completion, None, None)
        direct, found = source_only(field_def.resolve), at_hand_getter(field_def.resolve)
        return FieldPlan(key, field_def, nodes, completion, direct, {}, found)

    def _completion(
        self, gtype: GraphQLOutputType, subselections: list[SelectionSetNode]
    ) -> Completion | None:
        non_null = isinstance(gtype, GraphQLNonNull)
        inner: Any = gtype.of_type if isinstance(gtype, GraphQLNonNull) else gtype
        if isinstance(inner, GraphQLList):
            item = self._completion(inner.of_type, subselections)
            return None if item is None else Completion(non_null, item=item)
        if is_leaf_type(inner):
            return Completion(non_null, serialize=inner.serialize)
        if isinstance(inner, GraphQLObjectType) and inner.is_type_of is None:
            plan = self.object_plan(inner, subselections)
            return None if plan is None else Completion(non_null, plan=plan)
        return None  # an interface or a union: its concrete type is known only per value


def compile_operation(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
) -> ObjectPlan | None:
    """The plan of a query ``operation``, or of a mutation with one root field (the one
    resolver whose outcome a plan records, schema/shared/plans.py), or ``None`` if
    graphql-core must run it."""
    if operation.directives:
        return None
    kind = operation.operation
    root = {OperationType.QUERY: schema.query_type, OperationType.MUTATION: schema.mutation_type}
    gtype = root.get(kind)
    if gtype is None:
        return None
    plan = _Compiler(schema, fragments).object_plan(gtype, [operation.selection_set])
    if plan is None or kind is OperationType.QUERY:
        return plan
    # graphql-core runs a mutation's root fields one after another; a plan runs one,
    # always through its resolver (``_Run.resolve`` records it).
    fields = plan.fields
    if len(fields) != 1 or fields[0].field_def is None or fields[0].direct is not None:
        return None
    return None if fields[0].at_hand is not None else plan
