"""Every argument GraphQL lets a client leave out is one the resolver can do without.

A nullable argument is optional in GraphQL whatever the Python signature says; a resolver
parameter with no default then fails with a TypeError (INTERNAL_ERROR) when a client leaves
it out, as `setCalendarDay(open:)` did."""

from __future__ import annotations

import inspect

from strawberry.types.base import StrawberryObjectDefinition, StrawberryOptional

from schema.root import schema


def test_every_optional_argument_has_a_default() -> None:
    missing = []
    for graphql_type in schema.schema_converter.type_map.values():
        definition = graphql_type.definition
        if not isinstance(definition, StrawberryObjectDefinition):
            continue
        for field in definition.fields:
            if field.base_resolver is None:
                continue
            parameters = field.base_resolver.signature.parameters
            for argument in field.arguments:
                parameter = parameters.get(argument.python_name)
                if (
                    parameter is not None
                    and parameter.default is inspect.Parameter.empty
                    and isinstance(argument.type, StrawberryOptional)
                ):
                    missing.append(f"{definition.name}.{field.name}({argument.python_name}:)")
    assert not missing
