"""The exported SDL is what the code serves, and every field speaks to front-end developers."""

from __future__ import annotations

from pathlib import Path

from graphql import GraphQLInputObjectType, GraphQLObjectType

from schema.root import schema

SDL = Path(__file__).resolve().parents[2] / "schema" / "schema.graphql"


def test_exported_schema_is_current() -> None:
    # AUTH-1 (the API contract): `hondana export-schema` output is committed and current.
    assert SDL.read_text(encoding="utf-8") == schema.as_str() + "\n", (
        "schema/schema.graphql is stale: run `hondana export-schema`"
    )


def test_every_public_field_has_a_description() -> None:
    # AUTH-1 (the API contract): descriptions are the front-end developers' API docs.
    missing = []
    for name, gql_type in schema._schema.type_map.items():
        if name.startswith("__") or not isinstance(
            gql_type, GraphQLObjectType | GraphQLInputObjectType
        ):
            continue
        for field_name, field in gql_type.fields.items():
            if not field.description:
                missing.append(f"{name}.{field_name}")
    assert missing == []


def test_error_table_is_current() -> None:
    # docs/errors.md is generated from the enum and the messages, so it cannot drift.
    from schema.shared.error_table import error_table

    path = Path(__file__).resolve().parents[2] / "docs" / "errors.md"
    assert path.read_text(encoding="utf-8") == error_table(), "run `hondana export-schema`"
