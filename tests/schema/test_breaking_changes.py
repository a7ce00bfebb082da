"""The schema contract: no breaking change against the last released schema unless it is
allow-listed with a reason (ARCHITECTURE.md, issue [6/8])."""

from __future__ import annotations

import tomllib
from pathlib import Path

from graphql import build_schema, find_breaking_changes

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schema"
RELEASED = SCHEMA_DIR / "released.graphql"
CURRENT = SCHEMA_DIR / "schema.graphql"
ALLOWED = SCHEMA_DIR / "breaking-changes.toml"


def allowed() -> dict[str, str]:
    """Allow-listed change descriptions and their reasons."""
    entries = tomllib.loads(ALLOWED.read_text(encoding="utf-8")).get("allowed", [])
    return {e["change"]: e["reason"] for e in entries}


def unlisted_breaking_changes(released_sdl: str, current_sdl: str) -> list[str]:
    """graphql-core's breaking changes from ``released_sdl`` to ``current_sdl`` that the
    allow-list does not name."""
    changes = find_breaking_changes(build_schema(released_sdl), build_schema(current_sdl))
    listed = allowed()
    return [c.description for c in changes if c.description not in listed]


def test_no_unlisted_breaking_change() -> None:
    # A front end built against the released schema keeps working, or the change is listed.
    assert unlisted_breaking_changes(RELEASED.read_text(), CURRENT.read_text()) == []


def test_every_allow_list_entry_has_a_reason_and_still_applies() -> None:
    found = {
        c.description
        for c in find_breaking_changes(
            build_schema(RELEASED.read_text()), build_schema(CURRENT.read_text())
        )
    }
    for change, reason in allowed().items():
        assert change in found, f"stale allow-list entry: {change}"
        assert len(reason.split()) >= 5, f"give a real reason for: {change}"


def test_a_deliberately_breaking_change_fails_the_contract() -> None:
    # A field that may now be null, or a new required argument, must be caught.
    current = CURRENT.read_text()
    nullable = current.replace("  libraries: [Library!]!\n", "  libraries: [Library!]\n", 1)
    assert nullable != current
    assert unlisted_breaking_changes(current, nullable) == [
        "Field Query.libraries changed type from [Library!]! to [Library!]."
    ]
    required_arg = current.replace("search(query:", "search(mustHave: String!, query:", 1)
    assert required_arg != current
    assert unlisted_breaking_changes(current, required_arg) == [
        "A required argument Query.search(mustHave:) was added."
    ]
