"""Query plans: a validated query document compiled once, run without graphql-core's
general field machinery (issue [R2 9/9]).

graphql-core executes every field the general way: it looks the field up, builds a
``GraphQLResolveInfo`` and a path, wraps the resolver in the middleware check, asks
whether the result is awaitable, and completes the value by inspecting its type. That is
about 11 µs a field on this machine even for a plain attribute (``bench/api/fields.py``),
and a page of 20 loans or 20 search hits has some 240 fields: more CPU than the whole of a
hand-written endpoint's request. The front ends send the same few trusted documents over
and over, so the work that depends only on the document and the schema is done once here:

- the fields of each selection, fragments merged (the same field collection the spec
  describes, worked out ahead of time because nothing in the document depends on variables);
- for each field, its resolver, its return type's completion (leaf serialiser, list, object
  plan, non-null check) and whether its arguments need working out per request;
- fields whose resolver needs no ``info`` (:mod:`schema.shared.fast_fields` marks them) are
  called with the source alone.

A run resolves breadth first: the synchronous fields of a level at once, the awaited ones
of the whole level in one ``gather`` (so the data loaders batch as they did), then the
next level. The resolvers are the schema's own, called as graphql-core calls them; what
changes is only the bookkeeping around them.

**Errors are graphql-core's.** A plan runs only the happy path: the first exception, a
``null`` in a non-null place or anything unexpected abandons the run, and the operation
is executed again by graphql-core from the start, which produces the errors, their paths
and the partial data exactly as before (re-running a read is safe: the request's loaders
keep what they read). A document with directives in its selections, abstract types,
fragment variables, introspection or a middleware in the schema is left to graphql-core
whole.

**A mutation's resolver runs once.** A mutation with one root field is planned too (the
front ends' all are): its root resolver, then its payload as a query's fields. When the
plan gives up after that resolver has run (its payload met a null, or the resolver
raised), graphql-core runs the operation again with the resolver's answer or exception
*replayed* (:class:`Replay`), so the write is never made twice and the errors are still
graphql-core's.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeGuard, cast

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    Undefined,
)
from graphql.execution import MiddlewareManager
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path
from strawberry.execution import optimized_is_awaitable
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.shared.plan_code import Abandon
from schema.shared.plan_compiler import (
    Completion,
    FieldPlan,
    ObjectPlan,
    compile_operation,
)

# A plan per operation, kept as long as the parsed document it was compiled from is cached.
PLAN_CACHE_SIZE = 512


class _PlanCache:
    """Plans by schema and operation node. Parsed documents are shared by every schema of
    the process (Strawberry's parser cache is module-wide), so the schema is part of the
    key. Both objects are kept with the plan, so their ``id``s cannot be reused by others
    while the entry lives; the oldest entry goes first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[
            tuple[int, int], tuple[GraphQLSchema, OperationDefinitionNode, ObjectPlan | None]
        ] = OrderedDict()

    def get(
        self,
        schema: GraphQLSchema,
        operation: OperationDefinitionNode,
        fragments: dict[str, FragmentDefinitionNode],
    ) -> ObjectPlan | None:
        key = (id(schema), id(operation))
        entry = self.entries.get(key)
        if entry is not None and entry[0] is schema and entry[1] is operation:
            self.entries.move_to_end(key)
            return entry[2]
        plan = compile_operation(schema, operation, fragments)
        self.entries[key] = (schema, operation, plan)
        if len(self.entries) > self.size:
            self.entries.popitem(last=False)
        return plan


Pending = tuple[Awaitable[Any], dict[str, Any], FieldPlan, GraphQLResolveInfo[Any]]
Resolver = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a mutation's root resolver answered, or raised, when its plan ran it."""

    value: Any = None
    error: Exception | None = None

    def replay(self, _source: Any, _info: GraphQLResolveInfo[Any], **_args: Any) -> Any:
        """The resolver's answer again, without running it."""
        if self.error is not None:
            raise self.error
        return self.value


# The root resolvers a request's plan has run, by resolver: graphql-core replays them.
Outcomes = dict[Resolver, Outcome]


class Replay:
    """graphql-core's middleware hook, used to hand it a recorded outcome instead of a root
    resolver that has run already; every other resolver is the one ``inner`` (the
    schema's middleware, if any) would give."""

    def __init__(self, outcomes: Outcomes, inner: MiddlewareManager | None) -> None:
        self.outcomes = outcomes
        self.inner = inner

    def get_field_resolver(self, resolver: Resolver) -> Resolver:
        outcome = self.outcomes.get(resolver)
        if outcome is not None:
            return outcome.replay
        return resolver if self.inner is None else self.inner.get_field_resolver(resolver)


class _Run:
    """One execution of a plan."""

    __slots__ = ("executor", "is_awaitable", "outcomes", "pending")

    def __init__(self, executor: PlannedExecutionContext, outcomes: Outcomes | None) -> None:
        self.executor = executor
        self.is_awaitable = executor.is_awaitable
        self.pending: list[Pending] = []
        # A mutation's: where its root resolver's outcome is recorded as it ends.
        self.outcomes = outcomes

    async def execute(self, plan: ObjectPlan, root: Any) -> dict[str, Any]:
        try:
            data = self.fields(plan, root, None)
            while self.pending:
                batch, self.pending = self.pending, []
                values = await asyncio.gather(*(p[0] for p in batch), return_exceptions=True)
                for (_, out, fplan, info), value in zip(batch, values, strict=True):
                    if isinstance(value, Exception):
                        raise value
                    if isinstance(value, BaseException):  # a field's own task cancelled
                        raise Abandon("a field did not finish") from value
                    assert fplan.completion is not None
                    out[fplan.key] = self.complete(fplan.completion, value, info.path)
            return data
        finally:
            for awaitable, *_ in self.pending:  # never started: close, or Python warns
                close = getattr(awaitable, "close", None)
                if close is not None:
                    close()

    def fields(self, plan: ObjectPlan, source: Any, path: Path | None) -> dict[str, Any]:
        """One object's answer, filled by its plan's generated function
        (:mod:`schema.shared.plan_code`)."""
        return plan.fill(self, source, path)

    def resolve(
        self,
        fplan: FieldPlan,
        out: dict[str, Any],
        source: Any,
        path: Path | None,
        gtype: GraphQLObjectType,
    ) -> None:
        """A field of ``gtype`` that its source cannot answer: its resolver with an
        ``info``, as graphql-core calls it; an awaitable answer is filled in when its level
        is gathered."""
        field_def = fplan.field_def
        assert field_def is not None
        assert field_def.resolve is not None
        field_path = Path(path, fplan.key, gtype.name)
        info = self.executor.build_resolve_info(field_def, fplan.nodes, gtype, field_path)
        args = fplan.args
        if args is None:
            args = get_argument_values(field_def, fplan.nodes[0], self.executor.variable_values)
        if path is None and self.outcomes is not None:
            value = self._recorded(field_def.resolve, source, info, args)
        else:
            value = field_def.resolve(source, info, **args)
        if self.is_awaitable(value):
            out[fplan.key] = None  # keeps the key's place; filled when the level is gathered
            self.pending.append((value, out, fplan, info))
        else:
            assert fplan.completion is not None
            out[fplan.key] = self.complete(fplan.completion, value, field_path)

    def _recorded(
        self, resolve: Resolver, source: Any, info: GraphQLResolveInfo[Any], args: dict[str, Any]
    ) -> Any:
        """A mutation's root resolver, run once: its outcome is recorded for a replay."""
        outcomes = self.outcomes
        assert outcomes is not None
        try:
            value = resolve(source, info, **args)
        except Exception as error:
            outcomes[resolve] = Outcome(error=error)
            raise
        if not self.is_awaitable(value):
            outcomes[resolve] = Outcome(value)
            return value
        return self._awaited(resolve, value)

    async def _awaited(self, resolve: Resolver, awaitable: Awaitable[Any]) -> Any:
        outcomes = self.outcomes
        assert outcomes is not None
        try:
            value = await awaitable
        except Exception as error:
            outcomes[resolve] = Outcome(error=error)
            raise
        outcomes[resolve] = Outcome(value)
        return value

    @staticmethod
    def leaf(serialize: Callable[[Any], Any], value: Any) -> Any:
        """A scalar or enum value as the response carries it (``value`` is not null)."""
        serialized = serialize(value)
        if serialized is None or serialized is Undefined:
            raise Abandon("a leaf that does not serialise")
        return serialized

    def complete(self, completion: Completion, value: Any, path: Path) -> Any:
        if value is None or value is Undefined:
            if completion.non_null:
                raise Abandon("null in a non-null place")
            return None
        if completion.serialize is not None:
            return self.leaf(completion.serialize, value)
        if completion.plan is not None:
            return self.fields(completion.plan, value, path)
        item = completion.item
        assert item is not None
        if isinstance(value, str | bytes) or not isinstance(value, Iterable):
            raise Abandon("a list field that returned no list")
        return [self.complete(item, v, Path(path, i, None)) for i, v in enumerate(value)]


@dataclass(frozen=True, slots=True)
class Ready:
    """A query that has run by its plan once, so it passed parsing, the token limit and
    validation: the same text can run again without them (they depend on nothing else)."""

    document: DocumentNode  # the operation and its fragments, nothing else
    plan: ObjectPlan

    @property
    def mutation(self) -> bool:
        """Whether it writes: its root resolver's outcome is recorded as it runs."""
        operation = self.document.definitions[0]
        assert isinstance(operation, OperationDefinitionNode)
        return operation.operation is OperationType.MUTATION


# Set when an operation has run by its plan to the end, for the HTTP view to keep
# (server/graphql.py); and, while set, no plan runs (the view's own try has abandoned).
RAN_BY_PLAN: ContextVar[Ready | None] = ContextVar("hondana_ran_by_plan", default=None)
PLANS_OFF: ContextVar[bool] = ContextVar("hondana_plans_off", default=False)
# While set, graphql-core replays these root resolvers (the view's own try ran them).
REPLAYS: ContextVar[Outcomes | None] = ContextVar("hondana_replays", default=None)


async def run_ready(
    executor_class: type[PlannedExecutionContext],
    schema: GraphQLSchema,
    ready: Ready,
    variables: dict[str, Any],
    context: Any,
    outcomes: Outcomes | None = None,
) -> dict[str, Any] | None:
    """The data of ``ready`` run with ``variables``, or ``None`` where the happy path does
    not hold (variables that do not coerce, an error, a null in a non-null place): the
    caller then sends the request the whole way, and graphql-core reports it, replaying
    the mutation's root resolver if it has run (``outcomes``, required for a mutation)."""
    executor = executor_class.build(
        schema,
        ready.document,
        context_value=context,
        raw_variable_values=variables,
        is_awaitable=cast("Callable[[Any], TypeGuard[Awaitable[Any]]]", optimized_is_awaitable),
    )
    if not isinstance(executor, PlannedExecutionContext):
        return None  # the variables' errors
    try:
        return await _Run(executor, outcomes).execute(ready.plan, None)
    except Exception:  # any failure is graphql-core's to report
        return None
    finally:
        # Its helpers are its own bound methods: a cycle holding the request's context,
        # which only the cyclic collector would free (see ``Loaders.close``).
        del executor.async_helpers


class PlannedExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's graphql-core executor, running planned queries by their plan."""

    plans = _PlanCache(PLAN_CACHE_SIZE)

    def execute_operation(self, serially: bool | None = None) -> Any:
        outcomes = REPLAYS.get()
        if outcomes:
            self.middleware_manager = Replay(outcomes, self.middleware_manager)  # type: ignore[assignment]
        plan = self._plan()
        if plan is None:
            return super().execute_operation(serially)
        return self._run(plan, serially)

    def _plan(self) -> ObjectPlan | None:
        if self.abort_signal is not None or self.hooks is not None or PLANS_OFF.get():
            return None
        manager = self.middleware_manager
        if manager is not None and manager.get_field_resolver(_no_resolver) is not _no_resolver:
            return None  # a schema extension wraps every resolver: graphql-core runs it
        return self.plans.get(self.schema, self.operation, self.fragment_definitions)

    async def _run(self, plan: ObjectPlan, serially: bool | None) -> Any:
        mutation = self.operation.operation is OperationType.MUTATION
        outcomes: Outcomes | None = {} if mutation else None
        try:
            data = await _Run(self, outcomes).execute(plan, self.root_value)
        except Exception:  # graphql-core runs it again, and reports what failed its way
            if outcomes:
                self.middleware_manager = Replay(outcomes, self.middleware_manager)  # type: ignore[assignment]
            result = super().execute_operation(serially)
            return await result if self.is_awaitable(result) else result
        document = DocumentNode(definitions=(self.operation, *self.fragment_definitions.values()))
        RAN_BY_PLAN.set(Ready(document, plan))
        return self.build_response(data)


def _no_resolver(source: Any, info: GraphQLResolveInfo[Any], **args: Any) -> Any:
    """A marker: what a middleware manager with no middleware hands back unchanged."""
    raise NotImplementedError
