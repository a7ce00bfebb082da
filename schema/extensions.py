"""Schema extensions: error shaping (codes everywhere, bugs masked) and document limits."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from policies.errors import ErrorCode
from schema.errors import HondanaError
from schema.messages import message

log = logging.getLogger("hondana.graphql")


def _context_locale_and_id(context: Any) -> tuple[Any, str]:
    locale = getattr(context, "locale", "ja")
    request_id = getattr(context, "request_id", "-")
    return locale, request_id


class ErrorShaping(SchemaExtension):
    """Give every error an ``extensions.code`` and mask anything unexpected.

    - Ours (:class:`HondanaError`): kept as they are.
    - Document and variable problems (no original error, or graphql-core's own):
      ``INVALID_QUERY``; the message
      from graphql-core is kept because it helps front-end developers fix the document.
    - Anything else is a bug: logged with its traceback and the request id, answered as
      ``INTERNAL_ERROR`` carrying only that request id.
    """

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is None or not errors:
            return
        locale, request_id = _context_locale_and_id(self.execution_context.context)
        result.errors = [self._shape(e, locale, request_id) for e in errors]

    def _shape(self, error: GraphQLError, locale: Any, request_id: str) -> GraphQLError:
        original = error.original_error
        if isinstance(original, HondanaError):
            return error
        if original is None or isinstance(original, GraphQLError):
            extensions = dict(error.extensions or {})
            code = ErrorCode.INVALID_QUERY
            if "introspection" in error.message.lower():
                code = ErrorCode.INTROSPECTION_DISABLED  # production's DisableIntrospection
            extensions.setdefault("code", code.value)
            text = error.message
            if extensions["code"] == ErrorCode.ONE_CREDENTIAL_ATTEMPT.value:
                text = message(ErrorCode.ONE_CREDENTIAL_ATTEMPT, locale)  # our own rule
            return GraphQLError(
                text,
                error.nodes,
                error.source,
                error.positions,
                error.path,
                extensions=extensions,
            )
        log.error(
            "unexpected error in %s",
            ".".join(str(p) for p in error.path or ()) or "operation",
            exc_info=original,
            extra={"request_id": request_id},
        )
        return GraphQLError(
            message(ErrorCode.INTERNAL_ERROR, locale),
            error.nodes,
            error.source,
            error.positions,
            error.path,
            extensions={"code": ErrorCode.INTERNAL_ERROR.value, "requestId": request_id},
        )
