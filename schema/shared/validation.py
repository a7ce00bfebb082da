"""Validation rules of our own, checked before anything executes.

:class:`DocumentLimits` replaces Strawberry's depth and alias limiters, which walk every
fragment spread again wherever it stands: a ladder of fragments that each spread the next
twice made them visit 2^n selections (a 619-byte request held the event loop for 30 s).
Here each fragment is measured once and its figures reused (memoised), so the work is
linear in the document, whose size the token limit bounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError, ValidationContext, ValidationRule
from graphql.language import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

from policies.errors import ErrorCode

# Root mutations that test a secret: one request may try one of them once, so aliases
# cannot turn a single request into a password-guessing batch (OWASP GraphQL Cheat Sheet).
CREDENTIAL_FIELDS = frozenset(
    {"login", "staffLogin", "changePassword", "requestPasswordReset", "applyForPassword"}
)
MAX_DEPTH = 10
MAX_ALIASES = 20
# Fields in the operation with every fragment spread expanded where it stands. The front
# ends' largest document selects about a hundred; a ladder of fragments selects millions.
MAX_SELECTIONS = 1000


@dataclass(frozen=True, slots=True)
class Tally:
    """What a selection set adds up to with its fragments expanded."""

    depth: int = 0  # the longest chain of fields that have selections of their own
    aliases: int = 0
    selections: int = 0
    credentials: int = 0  # credential fields at this level (fragments included)

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            max(self.depth, other.depth),
            self.aliases + other.aliases,
            self.selections + other.selections,
            self.credentials + other.credentials,
        )


def _fragment_order(context: ValidationContext, fragments: dict[str, Any]) -> list[str]:
    """Fragment names, each after the fragments it spreads (a cycle is cut where found;
    graphql-core's own rule reports it). Iterative, so a long chain cannot overflow."""
    order: list[str] = []
    seen: set[str] = set()
    for root in fragments:
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(context.get_fragment_spreads(fragments[root].selection_set)))]
        while stack:
            name, pending = stack[-1]
            spread = next(pending, None)
            if spread is None:
                stack.pop()
                order.append(name)
            elif (child := spread.name.value) in fragments and child not in seen:
                seen.add(child)
                spreads = context.get_fragment_spreads(fragments[child].selection_set)
                stack.append((child, iter(spreads)))
    return order


class DocumentLimits(ValidationRule):
    """Depth (``QUERY_TOO_DEEP``), aliases (``TOO_MANY_ALIASES``), expanded selections
    (``QUERY_TOO_COMPLEX``) and one credential attempt per request
    (``ONE_CREDENTIAL_ATTEMPT``, counted inside fragments and inline fragments too)."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.measured: dict[str, Tally] = {}
        document: DocumentNode = context.document
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        for name in _fragment_order(context, fragments):
            self.measured[name] = self._tally(fragments[name].selection_set, 0)
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                self._check(definition, self._tally(definition.selection_set, 0))

    def _tally(self, selection_set: SelectionSetNode, depth: int) -> Tally:
        total = Tally()
        for selection in selection_set.selections:
            if isinstance(selection, FragmentSpreadNode):
                total += self.measured.get(selection.name.value, Tally())
            elif isinstance(selection, InlineFragmentNode):
                total += self._tally(selection.selection_set, depth)
            elif isinstance(selection, FieldNode):
                total += self._field(selection, depth)
        return total

    def _field(self, field: FieldNode, depth: int) -> Tally:
        own = Tally(
            aliases=1 if field.alias else 0,
            selections=1,
            credentials=1 if field.name.value in CREDENTIAL_FIELDS else 0,
        )
        if field.selection_set is None or field.name.value.startswith("__"):
            return own
        if depth > MAX_DEPTH:  # already too deep: stop descending (bounds the recursion)
            return own + Tally(depth=depth + 1)
        inner = self._tally(field.selection_set, depth + 1)
        return own + Tally(
            depth=inner.depth + 1, aliases=inner.aliases, selections=inner.selections
        )

    def _check(self, operation: OperationDefinitionNode, tally: Tally) -> None:
        name = operation.name.value if operation.name else "anonymous"
        problems = (
            (
                tally.depth > MAX_DEPTH,
                ErrorCode.QUERY_TOO_DEEP,
                MAX_DEPTH,
                f"'{name}' exceeds maximum operation depth of {MAX_DEPTH}",
            ),
            (
                tally.aliases > MAX_ALIASES,
                ErrorCode.TOO_MANY_ALIASES,
                MAX_ALIASES,
                f"{tally.aliases} aliases found. Allowed: {MAX_ALIASES}",
            ),
            (
                tally.selections > MAX_SELECTIONS,
                ErrorCode.QUERY_TOO_COMPLEX,
                MAX_SELECTIONS,
                f"'{name}' selects more than {MAX_SELECTIONS} fields",
            ),
            (
                tally.credentials > 1,
                ErrorCode.ONE_CREDENTIAL_ATTEMPT,
                1,
                "One login or password request per request.",
            ),
        )
        for over, code, limit, text in problems:
            if over:
                self.report_error(
                    GraphQLError(text, operation, extensions={"code": code.value, "max": limit})
                )
