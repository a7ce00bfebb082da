"""A short path for the schema's trivial fields (issue [R2 9/9]).

Most fields of the hot types are a method that reads one attribute of the row it wraps
(``Record.title`` returns ``self.row.title``): no arguments, no ``info``, nothing awaited,
no field extension. Strawberry still sends every call through its general wrapper (an
``Info`` built, the arguments converted, the extension chain folded): about twenty Python
calls a field, for some 240 fields of a page of 20 loans. :func:`shorten_trivial_fields`
gives those fields, and only those, a resolver that calls the method directly. What the
field answers is the method's return value either way, serialised by graphql-core as
before; a schema extension's ``resolve`` hook (graphql-core middleware) would still wrap it.
"""

from __future__ import annotations

import inspect
import operator
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from graphql import GraphQLObjectType, GraphQLResolveInfo
from strawberry import Schema
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

Resolve = Callable[..., Any]
T = TypeVar("T")
M = TypeVar("M", bound=Callable[..., Any])
# Set on a shortened resolver: the function of the source alone behind it.
SOURCE_ONLY = "hondana_source_only"
# Set on a field method (and on its shortened resolver): see :func:`at_hand`.
AT_HAND = "hondana_at_hand"
NOT_AT_HAND: Any = object()  # what an ``at_hand`` getter answers when it needs the info


def at_hand(getter: Callable[[Any], Any]) -> Callable[[M], M]:
    """Mark a field method that takes ``info`` but can often answer from its object alone
    (a list read the object's title and waiting line with it): ``getter(obj)`` is the
    method's answer, or :data:`NOT_AT_HAND`. The shortened resolver and the query plans
    ask the getter first and build the ``info`` only when it answers ``NOT_AT_HAND``
    (for a page of 20 holds, 60 of them not built)."""

    def mark(method: M) -> M:
        setattr(method, AT_HAND, getter)
        return method

    return mark


def or_later(found: T, later: Callable[[], Awaitable[T]]) -> T:
    """``found`` (an ``at_hand`` getter's answer), or, when it is :data:`NOT_AT_HAND`,
    ``later()`` to be awaited by the executor (:func:`answer_later`)."""
    return answer_later(later()) if found is NOT_AT_HAND else found


def at_hand_getter(resolve: Resolve) -> Callable[[Any], Any] | None:
    """The ``at_hand`` getter behind a shortened resolver, or ``None``."""
    getter: Callable[[Any], Any] | None = getattr(resolve, AT_HAND, None)
    return getter


def answer_later(awaitable: Awaitable[T]) -> T:
    """An awaitable returned as a synchronous field's value. graphql-core (and the query
    plans) await whatever a resolver returns that is awaitable, so a field can answer at
    once when its data is at hand (a list read it already) and await only when it is not,
    without a coroutine and a task for every item of a list. The cast is that contract:
    the value the schema sees is the awaitable's result."""
    return cast(T, awaitable)


def _direct(method: Callable[[Any], Any]) -> Resolve:
    def resolve(source: Any, _info: GraphQLResolveInfo[Any], **_kwargs: Any) -> Any:
        return method(source)

    setattr(resolve, SOURCE_ONLY, method)
    return resolve


def source_only(resolve: Resolve) -> Callable[[Any], Any] | None:
    """The function of the source alone behind a shortened resolver (query plans call it
    without building an ``info``), or ``None`` for any other resolver."""
    method: Callable[[Any], Any] | None = getattr(resolve, SOURCE_ONLY, None)
    return method


def basic_attribute(field: StrawberryField, resolve: Resolve) -> Callable[[Any], Any] | None:
    """The attribute getter behind a field with no resolver (``RecordReading.title``), if
    Strawberry resolves it the plain way: no extension, no exception handler, the default
    ``getattr``; else ``None``."""
    if not field.is_basic_field or getattr(resolve, "__name__", "") != "_get_basic_result":
        return None
    if field.default_resolver is not getattr:
        return None
    return operator.attrgetter(field.python_name)


def _with_info(method: Callable[..., Any], field: StrawberryField, schema: Schema) -> Resolve:
    info_class = schema.config.info_class
    name = field.base_resolver.info_parameter.name  # type: ignore[union-attr]
    getter: Callable[[Any], Any] | None = getattr(method, AT_HAND, None)

    def resolve(source: Any, info: GraphQLResolveInfo[Any], **_kwargs: Any) -> Any:
        if getter is not None and (found := getter(source)) is not NOT_AT_HAND:
            return found
        # The Info Strawberry's own wrapper would build, and the method called as it would
        # call it; an async method's coroutine goes back to be awaited, as before.
        return method(source, **{name: info_class(_raw_info=info, _field=field)})

    if getter is not None:
        setattr(resolve, AT_HAND, getter)
    return resolve


def info_method(field: StrawberryField, resolve: Resolve) -> Callable[..., Any] | None:
    """The method behind ``field`` if it takes ``self`` and ``info`` and nothing else
    (``Loan.record``, ``Copy.library``: sync or async), with no argument, extension or
    permission and Strawberry's plain wrapper (no exception handler); else ``None``."""
    resolver = field.base_resolver
    if resolver is None or field.extensions or field.arguments:
        return None
    if getattr(resolve, "__name__", "") not in ("_resolver", "_async_resolver"):
        return None
    method = resolver.wrapped_func
    if isinstance(method, staticmethod | classmethod) or resolver.self_parameter is None:
        return None
    info = resolver.info_parameter
    params = [resolver.self_parameter.name, info.name if info is not None else None]
    if list(inspect.signature(method).parameters) != params:
        return None
    return method


def trivial_method(field: StrawberryField) -> Callable[[Any], Any] | None:
    """The method behind ``field`` if it takes nothing but ``self`` and is synchronous,
    with no argument, extension or permission on the field; else ``None``."""
    resolver = field.base_resolver
    if resolver is None or field.is_async or field.extensions or field.arguments:
        return None
    method = resolver.wrapped_func
    if isinstance(method, staticmethod | classmethod) or resolver.self_parameter is None:
        return None
    if inspect.iscoroutinefunction(method):
        return None
    if list(inspect.signature(method).parameters) != [resolver.self_parameter.name]:
        return None
    return method


def shorten_trivial_fields(schema: Schema) -> list[str]:
    """Give every trivial field of ``schema`` a direct resolver; the ``Type.field`` names."""
    done: list[str] = []
    for gtype in schema._schema.type_map.values():
        if not isinstance(gtype, GraphQLObjectType) or gtype.name.startswith("__"):
            continue
        for name, gfield in gtype.fields.items():
            field = (gfield.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if not isinstance(field, StrawberryField):
                continue
            method = trivial_method(field) or basic_attribute(field, gfield.resolve)
            if method is not None:
                gfield.resolve = _direct(method)
                done.append(f"{gtype.name}.{name}")
            elif (with_info := info_method(field, gfield.resolve)) is not None:
                gfield.resolve = _with_info(with_info, field, schema)
                done.append(f"{gtype.name}.{name}")
    return done
