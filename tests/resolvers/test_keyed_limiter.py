"""The in-process bound on verifications per card (AUTH-11), next to the database count."""

from __future__ import annotations

import asyncio

from resolvers.accounts.throttle import KeyedLimiter


async def test_at_most_the_limit_hold_one_key_at_once() -> None:
    # AUTH-11: no more than the lockout's number of verifications run for one card at a
    # time; other cards are not held up, and an idle key keeps no semaphore.
    limiter = KeyedLimiter()
    inside = {"card": 0, "other": 0}
    most = {"card": 0, "other": 0}

    async def verify(key: str) -> None:
        async with limiter.hold(key, 3):
            inside[key] += 1
            most[key] = max(most[key], inside[key])
            for _ in range(5):
                await asyncio.sleep(0)  # others get to run meanwhile
            inside[key] -= 1

    await asyncio.gather(*(verify("card") for _ in range(12)), *(verify("other") for _ in range(2)))
    assert most == {"card": 3, "other": 2}
    assert limiter._held == {}
