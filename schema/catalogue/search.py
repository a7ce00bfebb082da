"""Catalogue search: the query, per-field queries, filters, order, facets and pages."""

from __future__ import annotations

from typing import Any

import strawberry
from pyroaring import BitMap
from strawberry.types import Info

from policies.enums import MaterialType as MaterialTypeValue
from policies.enums import SearchSort as SearchSortValue
from policies.errors import RuleViolation
from resolvers.catalogue import search as search_resolvers
from resolvers.catalogue.search_help import search_help
from resolvers.shared.context import Context
from schema.catalogue.catalogue import Record, record_page
from schema.catalogue.libraries import Library, library_by_id
from schema.shared import ids
from schema.shared.enums import MaterialType, SearchSort
from schema.shared.errors import HondanaError
from schema.shared.pagination import Edge, PageInfo, check_first, decode_cursor


@strawberry.type(description="How many of the matching titles are of one material type.")
class MaterialTypeCount:
    material_type: MaterialType = strawberry.field(  # type: ignore[valid-type]
        description="The material type."
    )
    count: int = strawberry.field(description="Matching titles of this type.")


@strawberry.type(description="How many of the matching titles have a copy at one library.")
class LibraryCount:
    library_id: strawberry.Private[int]
    count: int = strawberry.field(description="Matching titles with a copy here.")

    @strawberry.field(description="The library.")
    async def library(self, info: Info[Context, Any]) -> Library:
        lib = await library_by_id(info, self.library_id)
        assert lib is not None
        return lib


@strawberry.type(
    description=(
        "Help for a search that found nothing (SEARCH-8): the words that match no title on "
        "their own, and what the other words find without them. A front end can say "
        "「○○」に一致する資料はありませんでした and offer the other words' titles, or a "
        "search without the unmatched words."
    )
)
class SearchHelp:
    unmatched_words: list[str] = strawberry.field(
        description="Words of the query, as typed, that match no title (with the filters given)."
    )
    other_words_count: int = strawberry.field(
        description="How many titles the remaining words find together; 0 when every word "
        "matched nothing."
    )
    other_words_hits: list[Record] = strawberry.field(
        description="The best few of those titles (at most 10, no more than `first`), in "
        "relevance order."
    )


@strawberry.type(description="A page of search results, with the counts for narrowing them.")
class SearchConnection:
    edges: list[Edge[Record]] = strawberry.field(description="The titles of this page, in order.")
    page_info: PageInfo = strawberry.field(description="Whether more pages follow, and from where.")
    total_count: int = strawberry.field(description="How many titles match in all.")
    matches: strawberry.Private[BitMap]
    request: strawberry.Private[search_resolvers.SearchRequest]
    first: strawberry.Private[int]

    @strawberry.field(
        description="When nothing matches (`totalCount` 0): which words matched nothing, and "
        "what the other words find. Null when something matches, when every word matches "
        "some title but not together, or when the query has no words."
    )
    async def help(self, info: Info[Context, Any]) -> SearchHelp | None:
        if self.total_count:
            return None
        found = await search_help(info.context.reads, self.request, self.first)
        if found is None:
            return None
        return SearchHelp(
            unmatched_words=found.unmatched_words,
            other_words_count=found.other_words_count,
            other_words_hits=[Record(row=r) for r in found.other_words_hits],
        )

    @strawberry.field(
        description="Matching titles per material type (types with none left out), most first."
    )
    async def material_type_facets(self, info: Info[Context, Any]) -> list[MaterialTypeCount]:
        counts = await search_resolvers.material_type_counts(info.context, self.matches)
        return [MaterialTypeCount(material_type=m, count=n) for m, n in counts]

    @strawberry.field(
        description="Matching titles with a copy at each library (libraries with none left "
        "out), most first."
    )
    async def library_facets(self, info: Info[Context, Any]) -> list[LibraryCount]:
        counts = await search_resolvers.library_counts(info.context, self.matches)
        return [LibraryCount(library_id=lib, count=n) for lib, n in counts]


@strawberry.input(
    description="Words to find in one field each; every field given must match (advanced "
    "search). Same rules as `query`."
)
class FieldQueries:
    title: str | None = strawberry.field(default=None, description="Title, reading or series.")
    author: str | None = strawberry.field(default=None, description="Author or their reading.")
    publisher: str | None = strawberry.field(default=None, description="Publisher.")
    subject: str | None = strawberry.field(
        default=None, description="Subject headings or classification number."
    )
    isbn: str | None = strawberry.field(
        default=None,
        description="An ISBN-10 or ISBN-13, hyphens optional; anything else is `INVALID_INPUT`.",
    )


@strawberry.input(description="Narrow a search. Every filter given must hold.")
class SearchFilters:
    material_types: list[MaterialType] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Any of these material types."
    )
    library_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only titles with a copy at this library."
    )
    available_only: bool = strawberry.field(
        default=False, description="Only titles with a copy on the shelf now."
    )
    year_from: int | None = strawberry.field(default=None, description="Published in or after.")
    year_to: int | None = strawberry.field(default=None, description="Published in or before.")


def _filters(
    info: Info[Context, Any], given: SearchFilters | None
) -> search_resolvers.SearchFilters:
    if given is None:
        return search_resolvers.SearchFilters()
    library_id = None
    if given.library_id is not None:
        # A filter, not a lookup: an id that names no library matches no copy.
        library_id = ids.pk("Library", given.library_id)
    types: tuple[MaterialTypeValue, ...] = tuple(given.material_types or ())
    return search_resolvers.SearchFilters(
        material_types=types,
        library_id=library_id,
        available_only=given.available_only,
        year_from=given.year_from,
        year_to=given.year_to,
    )


async def search(
    info: Info[Context, Any],
    query: str = "",
    fields: FieldQueries | None = None,
    filters: SearchFilters | None = None,
    sort: SearchSort = SearchSortValue.RELEVANCE,  # type: ignore[valid-type]
    first: int = 20,
    after: str | None = None,
) -> SearchConnection:
    """Search the catalogue: anyone may (BASKET-4)."""
    locale = info.context.locale
    check_first(first, locale)
    after_id = decode_cursor(after, locale)
    given = fields or FieldQueries()
    request = search_resolvers.SearchRequest(
        query=query,
        title=given.title or "",
        author=given.author or "",
        publisher=given.publisher or "",
        subject=given.subject or "",
        isbn=given.isbn or "",
        filters=_filters(info, filters),
        sort=SearchSortValue(sort),
    )
    try:
        page = await search_resolvers.search(info.context, request, first, after_id)
    except RuleViolation as bad:
        raise HondanaError.from_violation(bad, locale) from None
    edges, page_info = record_page(page.records, page.has_next)
    return SearchConnection(
        edges=edges,
        page_info=page_info,
        total_count=page.total,
        matches=page.matches,
        request=request,
        first=first,
    )
