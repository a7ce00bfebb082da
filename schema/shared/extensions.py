"""Schema extensions: error shaping (codes everywhere, bugs masked) and document limits."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import ParserCache, SchemaExtension

from models.db import is_statement_timeout, is_unavailable
from policies.errors import ErrorCode
from schema.shared.errors import HondanaError
from schema.shared.messages import message

log = logging.getLogger("hondana.graphql")

# The document limits are Strawberry's and graphql-core's own checks; they say which limit
# failed only in their message, so each is recognised by it and given its own code.
# tests/api/test_limits.py sends each kind and fails if a library upgrade changes a message.
LIMIT_MESSAGES = (
    (re.compile(r"exceeds maximum operation depth of (\d+)"), ErrorCode.QUERY_TOO_DEEP),
    (re.compile(r"aliases found\. Allowed: (\d+)"), ErrorCode.TOO_MANY_ALIASES),
    (re.compile(r"Document contains more than (\d+) tokens"), ErrorCode.TOO_MANY_TOKENS),
)


OWN_RULE_CODES = frozenset(
    c.value
    for c in (
        ErrorCode.ONE_CREDENTIAL_ATTEMPT,
        ErrorCode.QUERY_TOO_DEEP,
        ErrorCode.TOO_MANY_ALIASES,
        ErrorCode.QUERY_TOO_COMPLEX,
    )
)


def _limit_code(text: str) -> tuple[ErrorCode, int] | None:
    """The limit a validation or parse error reports, and that limit's value."""
    for pattern, code in LIMIT_MESSAGES:
        if found := pattern.search(text):
            return code, int(found.group(1))
    return None


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
      The document limits get their own codes (``QUERY_TOO_DEEP``, ``TOO_MANY_ALIASES``,
      ``TOO_MANY_TOKENS``) and our message, with the limit as ``extensions.max``.
    - The database unreachable (restarting, failing over, pool exhausted):
      ``SERVICE_UNAVAILABLE``, so clients retry; logged without a traceback. A statement
      PostgreSQL cancelled for ``statement_timeout``: ``EXECUTION_TIMEOUT``.
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
        shaped = [self._shape(e, locale, request_id) for e in errors]
        if self.execution_context.schema.config.disable_field_suggestions:
            shaped = [_without_suggestions(e) for e in shaped]
        result.errors = shaped

    def _shape(self, error: GraphQLError, locale: Any, request_id: str) -> GraphQLError:
        original = error.original_error
        if isinstance(original, HondanaError):
            return error
        if original is None or isinstance(original, GraphQLError):
            extensions = dict(error.extensions or {})
            code = ErrorCode.INVALID_QUERY
            if "introspection" in error.message.lower():
                code = ErrorCode.INTROSPECTION_DISABLED  # production's DisableIntrospection
            text = error.message
            if (limit := _limit_code(text)) is not None:
                code, extensions["max"] = limit
                text = message(code, locale, {"max": limit[1]})
            extensions.setdefault("code", code.value)
            if extensions["code"] in OWN_RULE_CODES:  # schema/shared/validation.py's rules
                text = message(ErrorCode(extensions["code"]), locale, {"max": extensions["max"]})
            return GraphQLError(
                text,
                error.nodes,
                error.source,
                error.positions,
                error.path,
                extensions=extensions,
            )
        where = ".".join(str(p) for p in error.path or ()) or "operation"
        extra = {"request_id": request_id}
        if is_statement_timeout(original):
            log.warning("statement timeout in %s", where, extra=extra)
            return _masked(error, ErrorCode.EXECUTION_TIMEOUT, locale, request_id)
        if is_unavailable(original):
            log.warning(
                "database unavailable in %s: %s", where, type(original).__name__, extra=extra
            )
            return _masked(error, ErrorCode.SERVICE_UNAVAILABLE, locale, request_id)
        log.error("unexpected error in %s", where, exc_info=original, extra=extra)
        return _masked(error, ErrorCode.INTERNAL_ERROR, locale, request_id)


class CachedParse(ParserCache):
    """Strawberry's parser cache, except that a document it cannot parse (a syntax error,
    more than ``MAX_TOKENS`` tokens) is left to Strawberry's own parse step, which fails it
    the usual way so that :class:`ErrorShaping` gives it its code. The stock extension
    raises the error from inside its hook, past every other extension, unshaped. Such a
    document is parsed twice, within the token limit; failures are never cached."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        with contextlib.suppress(GraphQLError):  # Strawberry parses it again and reports it
            context.graphql_document = self.cached_parse_document(
                context.query, **context.parse_options
            )
        yield


# graphql-core suggests names in variable errors ("Did you mean 'cardNumber'?") whatever
# the schema's disable_field_suggestions says; production must not teach the schema.
SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def _without_suggestions(error: GraphQLError) -> GraphQLError:
    """``error`` without graphql-core's "Did you mean ...?" hints."""
    if not SUGGESTION.search(error.message):
        return error
    return GraphQLError(
        SUGGESTION.sub("", error.message),
        error.nodes,
        error.source,
        error.positions,
        error.path,
        extensions=error.extensions,
    )


def _masked(error: GraphQLError, code: ErrorCode, locale: Any, request_id: str) -> GraphQLError:
    """``error`` at its place in the document, its cause replaced by ``code``'s message and
    the request id (the log has the rest)."""
    return GraphQLError(
        message(code, locale),
        error.nodes,
        error.source,
        error.positions,
        error.path,
        extensions={"code": code.value, "requestId": request_id},
    )
