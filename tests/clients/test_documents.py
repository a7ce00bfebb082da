"""The front ends' operations: each file is one named operation that validates against the
schema, the manifest of trusted documents is current, and every root field is used by some
front end (ARCHITECTURE.md, issue [6/8])."""

from __future__ import annotations

import json

import pytest
from graphql import OperationDefinitionNode, parse, validate

from schema.root import schema
from server.trusted import MANIFEST, manifest_text, operation_files

FILES = operation_files()
# Root fields no front end sends, and why.
UNUSED: dict[str, str] = {}


def test_there_are_operations_for_every_front_end() -> None:
    clients = {front for front, _ in FILES}
    assert clients == {"web-opac", "smartphone", "staff-dashboard"}
    assert len(FILES) >= 60


@pytest.mark.parametrize(("front", "path"), FILES, ids=[f"{f}/{p.stem}" for f, p in FILES])
def test_document_is_one_named_operation_valid_against_the_schema(front: str, path: object) -> None:
    text = path.read_text(encoding="utf-8")  # type: ignore[attr-defined]
    document = parse(text)
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    assert len(operations) == 1 and len(document.definitions) == 1
    assert operations[0].name is not None
    assert operations[0].name.value == path.stem  # type: ignore[attr-defined]
    assert validate(schema._schema, document) == []


def test_manifest_is_current() -> None:
    # Production runs only what the manifest lists: a stale one would refuse a shipped screen.
    assert MANIFEST.read_text(encoding="utf-8") == manifest_text(), "run `hondana clients manifest`"
    documents = json.loads(manifest_text())["documents"]
    uses = [(u["client"], u["operation"]) for e in documents.values() for u in e["uses"]]
    assert sorted(uses) == sorted((front, path.stem) for front, path in FILES)


def test_every_root_field_is_used_by_a_front_end() -> None:
    used: set[str] = set()
    for _, path in FILES:
        for definition in parse(path.read_text(encoding="utf-8")).definitions:
            assert isinstance(definition, OperationDefinitionNode)
            root = definition.operation.value.capitalize()
            for selection in definition.selection_set.selections:
                used.add(f"{root}.{selection.name.value}")  # type: ignore[attr-defined]
    graphql_schema = schema._schema
    every = {
        f"{root.name}.{name}"
        for root in (graphql_schema.query_type, graphql_schema.mutation_type)
        if root is not None
        for name in root.fields
    }
    assert sorted(every - used - set(UNUSED)) == []
