"""The ``Schema``: every domain's queries and mutations under one root."""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

import strawberry
from graphql import ASTValidationRule, GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxTokensLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext, ExecutionResult, Info

from policies.errors import ErrorCode
from resolvers.catalogue import catalogue as catalogue_resolvers
from resolvers.shared.context import Context, Locale
from schema.accounts import accounts
from schema.accounts.applications import ApplicationMutations, ApplicationQueries
from schema.accounts.passwords import PasswordMutations
from schema.accounts.preferences import PreferenceMutations
from schema.catalogue import catalogue
from schema.catalogue import search as search_schema
from schema.catalogue.libraries import Library
from schema.circulation.holds import HoldMutations, HoldQueries
from schema.circulation.loans import HistoryQueries, LoanMutations, LoanQueries
from schema.ebooks.ebooks import EbookMutations, EbookQueries
from schema.mail.mail import MailQueries
from schema.shared.extensions import CachedParse, ErrorShaping
from schema.shared.fast_fields import shorten_trivial_fields
from schema.shared.messages import message
from schema.shared.plans import PlannedExecutionContext
from schema.shared.validation import (
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_SELECTIONS,
    DocumentLimits,
)
from schema.shelves.shelves import ShelfMutations, ShelfQueries
from schema.staff.cataloguing import CataloguingMutations
from schema.staff.counter import CounterMutations, CounterQueries
from schema.staff.desk import DeskMutations, DeskQueries
from schema.staff.desk_patrons import DeskPatronMutations
from schema.staff.devclock import DevClockMutations

MAX_TOKENS = 2000
# Longer than any operation the front ends send takes (search p95 is ~12 ms at a million
# titles); PostgreSQL's statement_timeout (shorter) usually cancels a runaway statement first.
EXECUTION_TIMEOUT_SECONDS = 15.0
# Parsed and validated documents kept per process. Production runs only the trusted
# documents (about a hundred), so every request after the first of its kind skips parsing
# and validation (a third of the CPU of a request before, bench/README.md). Elsewhere any
# text may arrive; the caches are bounded, and text over MAX_TOKENS is refused by the
# parser before anything is cached.
DOCUMENT_CACHE_SIZE = 256
# The document limits as one validation rule, linear in the document's size (each fragment
# measured once): Strawberry's QueryDepthLimiter and MaxAliasesLimiter walked a fragment
# again at every spread (2^n for a ladder of fragments) and built a new rule class per
# request, which the validation cache (keyed by the rules) could never hit.
LIMIT_RULES: tuple[type[ASTValidationRule], ...] = (DocumentLimits,)
__all__ = ["MAX_ALIASES", "MAX_DEPTH", "MAX_SELECTIONS", "MAX_TOKENS", "make_schema", "schema"]
log = logging.getLogger("hondana.graphql")


@strawberry.type(description="Everything that can be read.")
class Query(
    accounts.AccountQueries,
    HoldQueries,
    LoanQueries,
    HistoryQueries,
    CounterQueries,
    DeskQueries,
    MailQueries,
    ShelfQueries,
    ApplicationQueries,
    EbookQueries,
):
    search: search_schema.SearchConnection = strawberry.field(
        resolver=search_schema.search,
        description="Search the catalogue; anyone may (BASKET-4). Every word of `query` must "
        "match the title, its reading or series, the author, the publisher or the subjects; "
        "`fields` adds words that must match in one field each. Matching ignores case, width, "
        "katakana/hiragana, small kana, the long-vowel mark, old kanji forms (國 = 国) and "
        "macrons (Tōkyō = Tokyo = Toukyou). Japanese is matched anywhere in the text, even a "
        "single kanji; other scripts by whole word, or by word start with a trailing `*` "
        "(3 letters or more). A word that is an ISBN-10 or ISBN-13 finds that ISBN. An empty "
        "query lists every title (with `filters`); text with nothing searchable in it finds "
        "nothing. Each text is at most 200 characters (`INVALID_INPUT`), words past the 16th "
        "are ignored. `first` is 1..100; pass `pageInfo.endCursor` as `after` for the next "
        "page.",
    )
    new_arrivals: catalogue.RecordConnection = strawberry.field(
        resolver=catalogue.new_arrivals,
        description="Titles added to the catalogue on or after `since` (library time), newest "
        "first; with `subjectClasses`, only those whose classification (NDC, LCC or DDC) starts "
        "with one of them (at most 20). This is what the weekly new-arrivals mail lists "
        "(MAIL-4). Anyone may ask.",
    )
    record: catalogue.Record | None = strawberry.field(
        resolver=catalogue.record, description="One title by id; `null` when there is none."
    )

    @strawberry.field(description="Every library and service point, in display order.")
    async def libraries(self, info: Info[Context, Any]) -> list[Library]:
        return [Library(row=row) for row in await catalogue_resolvers.libraries(info.context)]


@strawberry.type(description="Everything that changes something.")
class Mutation(
    accounts.AccountMutations,
    HoldMutations,
    LoanMutations,
    CounterMutations,
    DeskMutations,
    DeskPatronMutations,
    PreferenceMutations,
    ShelfMutations,
    PasswordMutations,
    ApplicationMutations,
    EbookMutations,
    CataloguingMutations,
    DevClockMutations,
):
    pass


class HondanaSchema(strawberry.Schema):
    """The schema, with error logging left to :class:`ErrorShaping` (which knows which
    errors are bugs and logs those once, with the request id), and an execution time limit.

    An operation still running after ``execution_timeout`` seconds is cancelled and answers
    ``EXECUTION_TIMEOUT``. Cancelling rolls back the open transaction, so a mutation cut
    short changes nothing; only one cancelled in the instant between sending ``COMMIT`` and
    its reply could have taken effect, as with any client-side timeout.
    """

    execution_timeout: float = EXECUTION_TIMEOUT_SECONDS

    async def execute(self, query: str | None, *args: Any, **kwargs: Any) -> ExecutionResult:
        try:
            async with asyncio.timeout(self.execution_timeout):
                return await super().execute(query, *args, **kwargs)
        except TimeoutError:
            context = kwargs.get("context_value") or (args[1] if len(args) > 1 else None)
            return self.timed_out(context)

    def timed_out(self, context: Any) -> ExecutionResult:
        """The answer of an operation cancelled after ``execution_timeout`` seconds."""
        locale: Locale = "en" if getattr(context, "locale", "ja") == "en" else "ja"
        request_id = getattr(context, "request_id", "-")
        log.warning(
            "operation cancelled after %ss",
            self.execution_timeout,
            extra={"request_id": request_id},
        )
        error = GraphQLError(
            message(ErrorCode.EXECUTION_TIMEOUT, locale),
            extensions={
                "code": ErrorCode.EXECUTION_TIMEOUT.value,
                "requestId": request_id,
                "seconds": self.execution_timeout,
            },
        )
        return ExecutionResult(data=None, errors=[error])

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        return None


@functools.cache
def make_schema(
    *, production: bool = False, execution_timeout: float = EXECUTION_TIMEOUT_SECONDS
) -> HondanaSchema:
    """The schema with its limits; production also turns off introspection (``__schema``
    and ``__type``) and the "did you mean" suggestions that would leak field names.

    Built once per process for each set of arguments (the arguments decide it whole):
    Strawberry takes about 0.2 s to build it, and the test suite makes an app per test."""
    extensions: list[Any] = [
        ErrorShaping,
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),  # a parse option: in the key
        lambda: CachedParse(maxsize=DOCUMENT_CACHE_SIZE),
        lambda: AddValidationRules(list(LIMIT_RULES)),
        lambda: ValidationCache(maxsize=DOCUMENT_CACHE_SIZE),
    ]
    if production:
        extensions.append(DisableIntrospection)
    built = HondanaSchema(
        query=Query,
        mutation=Mutation,
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=production),
        execution_context_class=PlannedExecutionContext,
    )
    built.execution_timeout = execution_timeout
    shorten_trivial_fields(built)  # Record.title and its kind: the method, called directly
    return built


schema = make_schema()
