"""End-to-end smoke: log in, ask `me`, search (AUTH-1)."""

from __future__ import annotations

from tests.support import Api, Factory


async def test_login_me_and_search(api: Api, factory: Factory) -> None:  # AUTH-1
    lib = await factory.library("CEN")
    rec = await factory.record("坊っちゃん", responsibility="夏目漱石")
    await factory.copy(rec, lib)
    patron = await factory.patron()
    token = await api.login(patron.card_number, "yomu2468")
    body = await api.gql("{ me { cardNumber name } }", token=token)
    assert body["data"]["me"]["cardNumber"] == patron.card_number
    body = await api.gql(
        '{ search(query: "漱石") { totalCount edges { node { title availability { library { code } available } } } } }'
    )
    assert body["data"]["search"]["totalCount"] == 1
    node = body["data"]["search"]["edges"][0]["node"]
    assert node["title"] == "坊っちゃん"
    assert node["availability"] == [{"library": {"code": "CEN"}, "available": 1}]
