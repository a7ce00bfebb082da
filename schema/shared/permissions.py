"""Field permission classes: each asks a rule in ``policies/`` and, on a refusal, raises a
top-level error with ``extensions.code`` and ``rule`` (ARCHITECTURE.md, request step 4).

Use them through :func:`guard`, which lists them in the order they are checked:
``guard(Authenticated(), ActivePassword(), CardValid(), NotOverdueBlocked())``.
"""

from __future__ import annotations

from typing import Any

from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.types import Info

from policies.accounts import require_active_password
from policies.cards import check_card_valid, check_hold_blocks
from policies.desk import clean_reason
from policies.enums import StaffRole as Role
from policies.errors import ErrorCode, RuleViolation
from resolvers.shared.context import Anonymous, Context, PatronViewer, StaffViewer
from schema.shared.errors import HondanaError


def _deny(info: Info[Context, Any], violation: RuleViolation) -> HondanaError:
    return HondanaError.from_violation(violation, info.context.locale)


def _not_logged_in(info: Info[Context, Any]) -> HondanaError:
    viewer = info.context.viewer
    expired = isinstance(viewer, Anonymous) and viewer.session_expired
    if expired:
        minutes = info.context.policy.accounts.session_idle_minutes
        return _deny(
            info, RuleViolation(ErrorCode.SESSION_EXPIRED, "AUTH-10", idle_minutes=minutes)
        )
    return _deny(info, RuleViolation(ErrorCode.UNAUTHENTICATED, "AUTH-1"))


def patron_viewer(info: Info[Context, Any]) -> PatronViewer:
    """The patron asking, or a top-level denial (staff are not patrons, STAFF-1)."""
    viewer = info.context.viewer
    if isinstance(viewer, PatronViewer):
        return viewer
    if isinstance(viewer, StaffViewer):
        raise _deny(info, RuleViolation(ErrorCode.FORBIDDEN, "STAFF-1"))
    raise _not_logged_in(info)


class Authenticated(BasePermission):
    """A patron is logged in (AUTH-1); a temporary password is enough (AUTH-5 allows it)."""

    async def has_permission(self, source: Any, info: Info[Context, Any], **kwargs: Any) -> bool:
        patron_viewer(info)
        return True


class ActivePassword(BasePermission):
    """The patron's password is active, not temporary (AUTH-5)."""

    async def has_permission(self, source: Any, info: Info[Context, Any], **kwargs: Any) -> bool:
        viewer = patron_viewer(info)
        try:
            require_active_password(viewer.password_state)
        except RuleViolation as no:
            raise _deny(info, no) from None
        return True


class CardValid(BasePermission):
    """The patron's card has not expired (CARD-1)."""

    async def has_permission(self, source: Any, info: Info[Context, Any], **kwargs: Any) -> bool:
        viewer = patron_viewer(info)
        try:
            check_card_valid(viewer.card_expires_on, info.context.today())
        except RuleViolation as no:
            raise _deny(info, no) from None
        return True


class NotOverdueBlocked(BasePermission):
    """No overdue loan blocks the patron (CARD-2, and CARD-3 past the grace days)."""

    async def has_permission(self, source: Any, info: Info[Context, Any], **kwargs: Any) -> bool:
        viewer = patron_viewer(info)
        loans = await info.context.loaders.open_loans_by_patron.load(viewer.patron_id)
        try:
            check_hold_blocks(
                [loan.due_on for loan in loans],
                info.context.today(),
                info.context.policy.circulation,
            )
        except RuleViolation as no:
            raise _deny(info, no) from None
        return True


class StaffOnly(BasePermission):
    """A staff user with at least one of ``roles`` (ADMIN has them all); patrons get
    ``FORBIDDEN`` (STAFF-1)."""

    def __init__(self, *roles: Role) -> None:
        self.roles = frozenset(roles)

    async def has_permission(self, source: Any, info: Info[Context, Any], **kwargs: Any) -> bool:
        viewer = info.context.viewer
        if isinstance(viewer, Anonymous):
            raise _not_logged_in(info)
        if not isinstance(viewer, StaffViewer) or not (
            Role.ADMIN in viewer.roles or not self.roles or viewer.roles & self.roles
        ):
            raise _deny(info, RuleViolation(ErrorCode.FORBIDDEN, "STAFF-1"))
        return True


class PersonalData(BasePermission):
    """A patron's personal fields: staff may read them, the patron only with an active
    password (AUTH-5). Reached only through ``me``, ``login`` or staff queries, so it is
    always the viewer's own record when a patron asks; ``login``'s patron is marked
    ``own_login``, the request itself having come in without a session."""

    async def has_permission(self, source: Any, info: Info[Context, Any], **kwargs: Any) -> bool:
        if isinstance(info.context.viewer, StaffViewer):
            return True
        if getattr(source, "own_login", False):
            try:
                require_active_password(source.row.password_state)
            except RuleViolation as no:
                raise _deny(info, no) from None
            return True
        return await ActivePassword().has_permission(source, info, **kwargs)


def guard(*permissions: BasePermission) -> list[FieldExtension]:
    """Field extensions checking ``permissions`` in order before the resolver runs."""
    return [PermissionExtension(permissions=list(permissions), use_directives=False)]


def may_override(info: Info[Context, Any], reason: str | None) -> str:
    """The reason for an override at the desk, if the staff member asking holds the OVERRIDE
    role (ADMIN has it): ``FORBIDDEN`` otherwise, ``REASON_REQUIRED`` without a reason
    (STAFF-2, STAFF-4). Raised as a rule violation for the payload's ``errors``."""
    viewer = info.context.viewer
    if not isinstance(viewer, StaffViewer) or not viewer.roles & {Role.OVERRIDE, Role.ADMIN}:
        raise RuleViolation(ErrorCode.FORBIDDEN, "STAFF-2", field="override")
    text = clean_reason(reason)
    assert text is not None
    return text
