"""argon2id runs off the event loop: ten logins hashing at once don't stall a search (AUTH-1)."""

from __future__ import annotations

import asyncio

from tests.support import Api, Factory

LOGIN = 'mutation($c: String!) { login(cardNumber: $c, password: "yomu2468", delivery: BEARER) { accessToken } }'


async def test_logins_hashing_do_not_stall_search(api: Api, factory: Factory) -> None:
    # AUTH-1: passwords are hashed with argon2id in a bounded thread pool. Proved by order,
    # not by timing: a search sent while ten logins hash finishes before the last of them.
    lib = await factory.library()
    await factory.copy(await factory.record("羅生門"), lib)
    patrons = [await factory.patron("yomu2468") for _ in range(10)]
    finished: list[str] = []

    async def login(card: str) -> None:
        body = await api.gql(LOGIN, {"c": card})
        assert body["data"]["login"]["accessToken"]
        finished.append("login")

    async def search() -> None:
        await asyncio.sleep(0)  # let every login reach its hash first
        body = await api.gql('{ search(query: "羅生門") { totalCount } }')
        assert body["data"]["search"]["totalCount"] == 1
        finished.append("search")

    await asyncio.gather(*(login(p.card_number) for p in patrons), search())
    assert finished.count("login") == 10
    assert finished.index("search") < 9, finished
