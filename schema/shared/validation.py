"""Validation rules of our own, checked before anything executes."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, ValidationRule
from graphql.language import FieldNode, OperationDefinitionNode

from policies.errors import ErrorCode

# Root mutations that test a secret: one request may try one of them once, so aliases
# cannot turn a single request into a password-guessing batch (OWASP GraphQL Cheat Sheet).
CREDENTIAL_FIELDS = frozenset(
    {"login", "staffLogin", "changePassword", "requestPasswordReset", "applyForPassword"}
)


class OneCredentialAttempt(ValidationRule):
    """At most one login, password change or password request per request."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        attempts = [
            selection
            for selection in node.selection_set.selections
            if isinstance(selection, FieldNode) and selection.name.value in CREDENTIAL_FIELDS
        ]
        if len(attempts) > 1:
            self.report_error(
                GraphQLError(
                    "One login or password request per request.",
                    attempts[1:],
                    extensions={"code": ErrorCode.ONE_CREDENTIAL_ATTEMPT.value},
                )
            )
