"""GraphQL answers are encoded with orjson (bench/README.md, issue [R2 9/9]): the bytes must
stay those ``json.dumps(data, ensure_ascii=False, separators=(",", ":"))`` wrote before,
Japanese as UTF-8 and compact, and anything orjson refuses must still encode as before."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from server.graphql import encode_json
from tests.support import Api, Factory


def before(data: object) -> str:
    """The encoding of every answer before orjson."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


# What a GraphQL result holds: string keys; strings, integers, booleans, null. (The schema
# has no Float field; a float's text may differ between the two, e.g. 1e+16 and 1e16.)
results = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


@given(results)
def test_same_text_as_json_dumps(data: Any) -> None:
    assert encode_json(data) == before(data)


def test_what_orjson_refuses_is_encoded_as_before() -> None:
    for data in ({"n": 2**64}, {1: "a"}, {"s": "\ud800"}):
        assert encode_json(data) == before(data)


async def test_served_answer_is_compact_utf8(api: Api, factory: Factory) -> None:
    # The answer on the wire, Japanese title and an error alike, as json.dumps wrote it.
    rec = await factory.record("吾輩は猫である")
    lib = await factory.library()
    await factory.copy(rec, lib)
    await factory.reindex(rec.id)
    response = await api.post('{ search(query: "吾輩") { totalCount edges { node { title } } } }')
    assert response.status_code == 200
    assert response.content == before(response.json()).encode()
    assert "吾輩は猫である".encode() in response.content
    bad = await api.post("{ nope }")
    assert bad.content == before(bad.json()).encode()
