"""What the API benchmark sends: the four web-OPAC operations on both sides, the login
storm, the one-off checks (equal ``data``, SQL statements per request).

The GraphQL side gets what the OPAC sends in production: ``{"documentId", "variables"}``
with the trusted id of ``clients/web-opac/<Operation>.graphql`` from the manifest. The plain
side gets ``{"variables"}`` at its own path. Request bodies are built once and cycled, so
the load generator spends its CPU on sockets, not on JSON.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from http_load import Check, Request, call, read_response
from launch import COUNTER_PATH
from seed import PASSWORD, STORM_PATRONS, storm_card

OPS = ("search", "record", "myLoans", "myHolds")
# The add → place → cancel cycle of bench/api/hold_cycle.py: only the raw baseline answers
# it (plain.py has no mutations), so run.py adds it to the default ops with raw only.
CHOICES = (*OPS, "hold")
HOLD_STEPS = ("AddToBasket", "PlaceHolds", "CancelHold")
OPERATION = {
    "search": "Search",
    "record": "RecordDetail",
    "myLoans": "MyLoans",
    "myHolds": "MyHolds",
}
PLAIN_PATH = {
    "search": "/search",
    "record": "/record",
    "myLoans": "/my-loans",
    "myHolds": "/my-holds",
}
# The search benchmark's mix (bench/search.py): 1-4 kanji, romanised and English words,
# two-word queries.
QUERIES = [
    "本", "心", "愛", "海", "日本", "歴史", "文学", "教育", "経済", "図書館", "日本史",
    "仏教美術", "日本文化", "近代日本", "tokyo", "nihon", "kenkyu", "history", "religion",
    "shakai", "japan history", "nihon bungaku",
]  # fmt: skip


def trusted_ids(manifest: dict[str, Any]) -> dict[str, str]:
    """Operation name -> trusted id: the web OPAC's, and the app's ``Login`` (bearer)."""
    ids: dict[str, str] = {}
    for doc_id, entry in manifest["documents"].items():
        for use in entry["uses"]:
            wanted = use["operation"] in OPERATION.values() or use["operation"] in HOLD_STEPS
            if use["client"] == "web-opac" and wanted:
                ids[use["operation"]] = doc_id
            if use["client"] == "smartphone" and use["operation"] == "Login":
                ids["LoginBearer"] = doc_id
    return ids


def check_data(payload: bytes) -> str | None:
    """A 200 answer is good when it has ``data`` and no ``errors``."""
    doc = json.loads(payload)
    if doc.get("errors"):
        return f"errors {[e.get('extensions', {}).get('code') for e in doc['errors']]}"
    return None if doc.get("data") else "no data"


def check_login(payload: bytes) -> str | None:
    """A login answer is good when it carries a token."""
    problem = check_data(payload)
    if problem:
        return problem
    login = json.loads(payload)["data"]["login"]
    return None if login.get("accessToken") else f"login errors {login.get('errors')}"


@dataclass
class Workload:
    """The requests of both sides for each operation."""

    ids: dict[str, str]
    record_ids: list[str]  # global ids of titles to open (RecordDetail)
    tokens: dict[str, str] = field(default_factory=dict)  # op -> bearer token

    def _variables(self, op: str) -> list[dict[str, Any]]:
        if op == "search":
            return [{"query": q, "sort": "RELEVANCE", "first": 20} for q in QUERIES]
        if op == "record":
            return [{"id": rid} for rid in self.record_ids]
        return [{}]

    def _headers(self, op: str) -> dict[str, str]:
        token = self.tokens.get(op)
        return {"Authorization": f"Bearer {token}"} if token else {}

    def request(self, op: str, side: str) -> Request:
        """The ``n``-th request of ``op`` on ``side`` (``graphql`` or ``plain``)."""
        headers = self._headers(op)
        if side == "graphql":
            path = "/graphql"
            bodies = [
                json.dumps({"documentId": self.ids[OPERATION[op]], "variables": v}).encode()
                for v in self._variables(op)
            ]
        else:
            path = PLAIN_PATH[op]
            bodies = [json.dumps({"variables": v}).encode() for v in self._variables(op)]
        return lambda n: (path, bodies[n % len(bodies)], headers)

    def variants(self, op: str) -> int:
        """How many distinct requests ``op`` cycles through."""
        return len(self._variables(op))

    def login_request(self) -> Request:
        """The storm: storm patrons log in one after another (argon2id verify each)."""
        path = "/graphql"
        bodies = [
            json.dumps(
                {
                    "documentId": self.ids["LoginBearer"],
                    "variables": {"cardNumber": storm_card(n), "password": PASSWORD},
                }
            ).encode()
            for n in range(STORM_PATRONS)
        ]
        return lambda n: (path, bodies[n % len(bodies)], {})


async def login(port: int, ids: dict[str, str], card: str) -> str:
    """A bearer session token for ``card`` (the same sessions serve both sides)."""
    body = json.dumps(
        {"documentId": ids["LoginBearer"], "variables": {"cardNumber": card, "password": PASSWORD}}
    ).encode()
    status, payload = await call(port, "/graphql", body, {})
    token = json.loads(payload).get("data", {}).get("login", {}).get("accessToken")
    if status != 200 or not token:
        raise RuntimeError(f"login of {card} failed: {status} {payload[:300]!r}")
    return str(token)


async def statements(port: int) -> int:
    """The server's SQL statement count so far (bench/api/launch.py)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        head = f"GET {COUNTER_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        writer.write(head.encode())
        await writer.drain()
        _, payload = await read_response(reader)
    finally:
        writer.close()
    return int(json.loads(payload)["statements"])


async def one(port: int, request: Request, n: int, check: Check = check_data) -> Any:
    """The ``data`` of the ``n``-th request, alone; raises if it failed."""
    path, body, headers = request(n)
    status, payload = await call(port, path, body, headers)
    problem = f"HTTP {status}" if status != 200 else check(payload)
    if problem:
        raise RuntimeError(f"{path}: {problem}: {payload[:300]!r}")
    return json.loads(payload)["data"]


async def statements_per_request(port: int, request: Request, count: int) -> float:
    """Mean SQL statements of requests ``0..count-1``, sent one at a time."""
    before = await statements(port)
    for n in range(count):
        await one(port, request, n)
    return (await statements(port) - before) / count


def first_difference(a: Any, b: Any, path: str = "data") -> str | None:
    """Where two JSON values differ, or ``None``."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                return f"{path}.{key}: only on one side"
            if (found := first_difference(a[key], b[key], f"{path}.{key}")) is not None:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items against {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if (found := first_difference(x, y, f"{path}[{i}]")) is not None:
                return found
        return None
    return None if a == b else f"{path}: {a!r} against {b!r}"
