"""The error convention (ARCHITECTURE.md): access errors at the top level, business outcomes
as ``UserError``s in the payload, anything unexpected masked as ``INTERNAL_ERROR``."""

from __future__ import annotations

from typing import Any

import strawberry

from policies.errors import ErrorCode as DomainErrorCode
from policies.errors import RuleViolation
from resolvers.shared.context import Locale
from schema.shared.messages import message

ErrorCode = strawberry.enum(
    DomainErrorCode,
    name="ErrorCode",
    description="Every error code the API answers with. Branch on these, never on messages.",
)


class HondanaError(Exception):
    """An expected error carrying its code; graphql-core copies ``extensions`` onto the error.

    Raised by permission classes and resolvers for access denials and bad arguments.
    """

    def __init__(
        self, code: DomainErrorCode, locale: Locale, rule: str | None = None, **params: Any
    ) -> None:
        super().__init__(message(code, locale, params))
        extensions: dict[str, Any] = {"code": code.value}
        if rule:
            extensions["rule"] = rule
        extensions.update(
            {
                k: v
                for k, v in params.items()
                if isinstance(v, str | int | bool) and k != "variant"  # wording only
            }
        )
        self.extensions = extensions
        self.code = code

    @classmethod
    def from_violation(cls, violation: RuleViolation, locale: Locale) -> HondanaError:
        """The top-level form of a rule's refusal."""
        params = dict(violation.params)
        if violation.field:
            params.setdefault("field", violation.field)
        return cls(violation.code, locale, violation.rule, **params)


@strawberry.type(description="A business outcome that stopped a mutation (or one item of it).")
class UserError:
    code: ErrorCode = strawberry.field(description="What went wrong; front ends branch on this.")  # type: ignore[valid-type]
    message: str = strawberry.field(description="A message for people, in the request's language.")
    field: str | None = strawberry.field(
        description="The input field at fault, when one is (e.g. `newPassword`)."
    )
    rule: str | None = strawberry.field(description="The RULES.md id that refused, e.g. `AUTH-6`.")
    reason: str | None = strawberry.field(
        description="A finer reason where the code has several, e.g. `TOO_SHORT` for "
        "`INVALID_PASSWORD`."
    )
    retry_after: int | None = strawberry.field(
        description="Seconds to wait before trying again (`ACCOUNT_LOCKED`)."
    )


def user_error(violation: RuleViolation, locale: Locale) -> UserError:
    """A rule's refusal in payload form."""
    reason = violation.params.get("reason")
    retry = violation.params.get("retry_after")
    return UserError(
        code=violation.code,
        message=message(violation.code, locale, violation.params),
        field=violation.field,
        rule=violation.rule,
        reason=str(reason) if reason is not None else None,
        retry_after=int(retry) if isinstance(retry, int) else None,
    )


def user_errors(violations: list[RuleViolation], locale: Locale) -> list[UserError]:
    """Several refusals in payload form."""
    return [user_error(v, locale) for v in violations]
