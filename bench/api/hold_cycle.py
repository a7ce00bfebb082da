"""The ``hold`` operation of the API benchmark: the web OPAC's two-step hold, then its
cancellation, as one timed cycle of three requests on either side.

``AddToBasket`` (the title into the basket), ``PlaceHolds`` (that entry becomes a hold),
``CancelHold`` (the hold ends): the cycle leaves the patron as it found them, so per-
category hold limits (HOLD-2) never fill and no waiting line grows however long it runs.
Each client is its own seeded patron (the last storm patrons, who hold nothing) looping
over its own titles, none shared with another client, so row-lock waits between clients
do not decide the figure; a cycle is one sample, its latency the three requests'.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Awaitable, Callable
from copy import deepcopy
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from http_load import Sample, Wire
from seed import ITEMS, STORM_PATRONS, storm_card
from sqlalchemy import bindparam, text
from workload import HOLD_STEPS as STEPS
from workload import check_data, first_difference, login, statements

from models.db import create_engine
from schema.shared.ids import encode

RAW_PATH = {"AddToBasket": "/add-to-basket", "PlaceHolds": "/place-holds",
            "CancelHold": "/cancel-hold"}  # fmt: skip
TITLES_PER_CLIENT = 8
TIMEOUT = 60.0  # seconds a step may take before the cycle counts as failed (a slow machine)
# Holdable titles nobody holds or has in a basket: books with a copy a hold may wait for
# (not reference-only, not another city's, not withdrawn; HOLD-1), so every cycle is
# placed, first in its waiting line, on both sides alike. Every 97th title, so they are
# spread over the catalogue (and its pages on disk) rather than its first ids.
HOLDABLE = text("""
SELECT r.id FROM records r
WHERE r.material_type = 'BOOK'
  AND EXISTS (SELECT 1 FROM copies c WHERE c.record_id = r.id AND NOT c.reference_only
              AND NOT c.from_other_city AND c.status != 'WITHDRAWN')
  AND NOT EXISTS (SELECT 1 FROM holds h WHERE h.record_id = r.id
                  AND h.state IN ('WAITING', 'IN_TRANSIT', 'READY'))
  AND NOT EXISTS (SELECT 1 FROM basket_entries b WHERE b.record_id = r.id)
  AND r.id % 97 = 13
ORDER BY r.id LIMIT :n""")
# What the bench patrons have in play: active holds per material, basket entries. The
# lists are expanding parameters (an IN list on either database).
IN_PLAY = text("""
SELECT p.card_number, 'hold:' || r.material_type, count(*) FROM holds h
JOIN patrons p ON p.id = h.patron_id JOIN records r ON r.id = h.record_id
WHERE p.card_number IN :cards AND h.state IN ('WAITING', 'IN_TRANSIT', 'READY')
GROUP BY 1, 2
UNION ALL
SELECT p.card_number, 'basket', count(*) FROM basket_entries b
JOIN patrons p ON p.id = b.patron_id WHERE p.card_number IN :cards GROUP BY 1, 2""").bindparams(
    bindparam("cards", expanding=True)
)
# The bench's own holds still active, and its titles still in a basket (any patron's).
LEFT_ACTIVE = text("""
SELECT (SELECT count(*) FROM holds WHERE record_id IN :ids
        AND state IN ('WAITING', 'IN_TRANSIT', 'READY')),
       (SELECT count(*) FROM basket_entries WHERE record_id IN :ids)""").bindparams(
    bindparam("ids", expanding=True)
)


class CycleFailed(RuntimeError):
    """A step of a cycle answered something else than success."""


@dataclass
class Holder:
    """One client: a patron's card and bearer token, and the titles it cycles over."""

    card: str
    token: str
    titles: list[int]


def kind_of(global_id: str) -> str:
    """The type name inside an opaque id: what two separately created rows share."""
    raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
    return raw.partition(":")[0] + ":<own row>"


async def titles(url: str, count: int) -> list[int]:
    """``count`` holdable titles nobody holds, spread over the catalogue."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(HOLDABLE, {"n": count})
            found = [int(r[0]) for r in rows]
    finally:
        await engine.dispose()
    if len(found) < count:
        raise SystemExit(f"only {len(found)} holdable titles free for the hold cycle")
    return found


async def in_play(url: str, cards: list[str]) -> dict[tuple[str, str], int]:
    """The patrons' active holds per material and basket sizes (the before/after check)."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(IN_PLAY, {"cards": cards})
            return {(r[0], r[1]): int(r[2]) for r in rows}
    finally:
        await engine.dispose()


async def left_active(url: str, record_ids: list[int]) -> tuple[int, int]:
    """Holds still active on the bench's titles, and basket entries of them."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            row = (await conn.execute(LEFT_ACTIVE, {"ids": record_ids})).one()
            return int(row[0]), int(row[1])
    finally:
        await engine.dispose()


async def holders(url: str, port: int, ids: dict[str, str], cards: list[str]) -> list[Holder]:
    """One logged-in patron per card, each with its own ``TITLES_PER_CLIENT`` titles."""
    found = await titles(url, TITLES_PER_CLIENT * len(cards))
    return [
        Holder(card, await login(port, ids, card), found[n :: len(cards)])
        for n, card in enumerate(cards)
    ]


@dataclass
class Side:
    """How one side is asked a step: the API by trusted document id at ``/graphql``, the
    raw baseline at its own path; ``between`` (if set) runs after each step."""

    name: str
    ids: dict[str, str]
    between: Callable[[str], Awaitable[None]] | None = None

    def request(self, step: str, variables: dict[str, Any]) -> tuple[str, bytes]:
        """Path and body of ``step`` with ``variables``."""
        if self.name == "graphql":
            return "/graphql", orjson.dumps({"documentId": self.ids[step], "variables": variables})
        return RAW_PATH[step], orjson.dumps({"variables": variables})


async def _step(
    client: Wire, side: Side, holder: Holder, step: str, variables: dict[str, Any]
) -> Any:
    path, body = side.request(step, variables)
    status, _, payload = await client.post(path, body, {"Authorization": f"Bearer {holder.token}"})
    problem = f"HTTP {status}" if status != 200 else check_data(payload)
    if problem:
        raise CycleFailed(f"{side.name} {step}: {problem}: {payload[:200]!r}")
    if side.between is not None:
        await side.between(step)
    return orjson.loads(payload)["data"]


async def cycle(client: Wire, side: Side, holder: Holder, title: int) -> list[Any]:
    """Add ``title`` to the basket, place the hold, cancel it: the three steps' ``data``.
    Raises ``CycleFailed`` at the first step that did not succeed."""
    added = await _step(client, side, holder, "AddToBasket", {"recordId": encode("Record", title)})
    entry = added["addToBasket"]
    if entry["errors"] or entry["entry"] is None:
        raise CycleFailed(f"{side.name} AddToBasket: {entry['errors']}")
    variables = {"basketEntryIds": [entry["entry"]["id"]]}
    placed = await _step(client, side, holder, "PlaceHolds", variables)
    results = placed["placeHolds"]["results"]
    if placed["placeHolds"]["errors"] or not results or not results[0]["ok"]:
        raise CycleFailed(f"{side.name} PlaceHolds: {placed['placeHolds']}")
    hold_id = results[0]["hold"]["id"]
    cancelled = await _step(client, side, holder, "CancelHold", {"holdId": hold_id})
    answer = cancelled["cancelHold"]
    if answer["errors"] or (answer["hold"] or {}).get("state") != "CANCELLED":
        raise CycleFailed(f"{side.name} CancelHold: {answer}")
    return [added, placed, cancelled]


async def drive(port: int, side: Side, holders: list[Holder], seconds: float) -> Sample:
    """Each holder a client on its own connection, cycling over its titles for
    ``seconds``; one sample per cycle (the three requests' latency together)."""
    sample = Sample()
    deadline = time.perf_counter() + seconds

    async def run(holder: Holder) -> None:
        client = Wire(port, size=1, timeout=TIMEOUT)
        n = 0
        try:
            while time.perf_counter() < deadline:
                title = holder.titles[n % len(holder.titles)]
                n += 1
                started = time.perf_counter()
                try:
                    await cycle(client, side, holder, title)
                except CycleFailed as failed:
                    sample.failures += 1
                    sample.first_failure = sample.first_failure or str(failed)
                    continue
                sample.latencies.append(time.perf_counter() - started)
        finally:
            client.close()

    started = time.perf_counter()
    await asyncio.gather(*(run(h) for h in holders))
    sample.seconds = time.perf_counter() - started
    return sample


def _blank(step: str, data: Any) -> Any:
    """``data`` with what must differ between two separately created rows replaced by
    what must not: the basket entry's id (and its echo in ``basketEntryId``) and the
    hold's id by their type name, ``placedAt`` by whether it is a time with a zone. The
    two sides' cycles create their own entry and hold, at their own instant; every other
    field (titles, queue position and length, pickup library, states, errors) must match."""
    data = deepcopy(data)
    if step == "AddToBasket" and data["addToBasket"]["entry"]:
        entry = data["addToBasket"]["entry"]
        entry["id"] = kind_of(entry["id"])
    if step == "PlaceHolds":
        for result in data["placeHolds"]["results"]:
            result["basketEntryId"] = kind_of(result["basketEntryId"])
            if hold := result["hold"]:
                hold["id"] = kind_of(hold["id"])
                placed = datetime.fromisoformat(hold["placedAt"])
                hold["placedAt"] = "<instant with zone>" if placed.tzinfo else "<naive instant>"
    if step == "CancelHold" and data["cancelHold"]["hold"]:
        hold = data["cancelHold"]["hold"]
        hold["id"] = kind_of(hold["id"])
    return data


async def same_data(
    api: tuple[int, Side], raw: tuple[int, Side], holders: list[Holder]
) -> str | None:
    """Where the two sides' cycles first answer different ``data``: for each holder, a
    GraphQL cycle then a raw one on the holder's first title (not timed)."""
    for holder in holders:
        answers = []
        for port, side in (api, raw):
            client = Wire(port, size=1, timeout=TIMEOUT)
            try:
                answers.append(await cycle(client, side, holder, holder.titles[0]))
            finally:
                client.close()
        for step, a, b in zip(STEPS, *answers, strict=True):
            found = first_difference(_blank(step, a), _blank(step, b), f"{step}.data")
            if found is not None:
                return f"{holder.card} {found}"
    return None


async def statements_per_step(port: int, side: Side, holder: Holder) -> list[int]:
    """The SQL statements of each step of one cycle, alone (launch.py's counter)."""
    counts: list[int] = []
    before = await statements(port)

    async def after(_: str) -> None:
        nonlocal before
        now = await statements(port)
        counts.append(now - before)
        before = now

    client = Wire(port, size=1, timeout=TIMEOUT)
    try:
        await cycle(client, Side(side.name, side.ids, after), holder, holder.titles[0])
    finally:
        client.close()
    return counts


def cards(clients: int) -> list[str]:
    """The clients' patrons: the last storm patrons (the seed's waiting holds went to the
    first ones), one per client."""
    if clients > STORM_PATRONS - ITEMS:
        raise SystemExit(f"--ops hold: at most {STORM_PATRONS - ITEMS} clients")
    return [storm_card(STORM_PATRONS - 1 - n) for n in range(clients)]


async def count_steps(
    url: str, api: tuple[int, Side], holder: Holder
) -> tuple[list[int], list[int]]:
    """SQL statements per step on each side, one cycle alone: the API's through its
    counter, the raw side's through a counting raw server of its own (BENCH_RAW_COUNT,
    launch.py), so the timed raw server pays no logger."""
    from launch import Server

    api_counts = await statements_per_step(api[0], api[1], holder)
    counting = Server("raw", url, {"BENCH_RAW_COUNT": "1"})  # its log beside the timed one's
    await asyncio.to_thread(counting.start)
    try:
        raw = Side("raw", api[1].ids)
        client = Wire(counting.port, size=1, timeout=TIMEOUT)
        try:  # a first cycle unmeasured: asyncpg reads type details on first use
            await cycle(client, raw, holder, holder.titles[0])
        finally:
            client.close()
        raw_counts = await statements_per_step(counting.port, raw, holder)
    finally:
        await asyncio.to_thread(counting.stop)
    return api_counts, raw_counts


async def left_behind(
    url: str, holders: list[Holder], before: dict[tuple[str, str], int]
) -> str | None:
    """What the cycles left that they should not have: an active hold or a basket entry
    of a bench title, or a patron whose active holds per material or basket size differ
    from ``before``."""
    held, in_baskets = await left_active(url, [t for h in holders for t in h.titles])
    problems = [f"{held} active holds"] if held else []
    problems += [f"{in_baskets} basket entries"] if in_baskets else []
    after = await in_play(url, [h.card for h in holders])
    if after != before:
        problems.append(f"patrons' holds/baskets {before} before, {after} after")
    return "; ".join(problems) or None
