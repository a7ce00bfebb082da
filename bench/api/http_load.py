"""A small closed-loop HTTP/1.1 load generator (keep-alive, asyncio streams).

Kept deliberately thin so the client process costs little CPU next to the servers it
measures on the same machine: one persistent connection per simulated client, requests
written as bytes, responses read by ``Content-Length`` (or chunks).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(slots=True)
class Sample:
    """What one timed stretch of load saw."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    failures: int = 0
    first_failure: str = ""

    def add(self, other: Sample) -> None:
        """Pool another stretch of the same kind into this one."""
        self.seconds += other.seconds
        self.latencies.extend(other.latencies)
        self.failures += other.failures
        self.first_failure = self.first_failure or other.first_failure

    @property
    def rate(self) -> float:
        """Successful requests per second."""
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        """The ``p``-th percentile latency in milliseconds (nearest rank)."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000


Request = Callable[[int], tuple[str, bytes, dict[str, str]]]
"""The ``n``-th request: path, JSON body and extra headers."""
Check = Callable[[bytes], str | None]
"""Why a 200 response body is still a failure, or ``None``."""


def encode(port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    """One POST as bytes."""
    head = [
        f"POST {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """Status and body of one response."""
    status, _, body = await read_full_response(reader)
    return status, body


async def read_full_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-case names) and body of one response."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    fields = {
        k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:] if x)
    }
    if "content-length" in fields:
        return status, fields, await reader.readexactly(int(fields["content-length"]))
    if fields.get("transfer-encoding", "").lower() == "chunked":
        parts: list[bytes] = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return status, fields, b"".join(parts)
            parts.append(chunk[:-2])
    raise RuntimeError("response without length")


class Wire:
    """Up to ``size`` keep-alive connections shared by many clients: a POST takes a free
    one (or opens one), writes the request as bytes and reads the answer by its length.

    The mixed load run used httpx, which spent more CPU per request than the API it
    measured on the same two cores, so the run measured its own client. A connection idle
    for ``idle`` seconds is not reused: uvicorn closes them after 5 s, and a request sent
    as it closes one fails on the client's side."""

    def __init__(self, port: int, *, size: int, timeout: float, idle: float = 2.0) -> None:
        self.port = port
        self.timeout = timeout
        self.idle = idle
        self._slots = asyncio.Semaphore(size)
        self._free: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []

    async def _take(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        now = time.monotonic()
        while self._free:
            reader, writer, used = self._free.pop()
            if now - used < self.idle and not reader.at_eof():
                return reader, writer
            writer.close()
        return await asyncio.open_connection("127.0.0.1", self.port)

    async def post(
        self, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        """One request; raises ``OSError``/``asyncio`` errors on a transport failure."""
        async with self._slots:
            reader, writer = await asyncio.wait_for(self._take(), self.timeout)
            try:
                writer.write(encode(self.port, path, body, headers))
                answer = await asyncio.wait_for(read_full_response(reader), self.timeout)
            except BaseException:
                writer.close()
                raise
            self._free.append((reader, writer, time.monotonic()))
            return answer

    def close(self) -> None:
        """Close the idle connections."""
        while self._free:
            self._free.pop()[1].close()


async def call(port: int, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """One request on its own connection (setup steps, not timed)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(encode(port, path, body, headers | {"Connection": "close"}))
        await writer.drain()
        return await read_response(reader)
    finally:
        writer.close()


async def drive(
    port: int, request: Request, check: Check, *, clients: int, seconds: float, start: int = 0
) -> Sample:
    """``clients`` connections sending requests back to back for ``seconds``."""
    sample = Sample()
    counter = iter(range(start, 10**12))
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline:
                path, body, headers = request(next(counter))
                started = time.perf_counter()
                writer.write(encode(port, path, body, headers))
                status, payload = await read_response(reader)
                took = time.perf_counter() - started
                problem = f"HTTP {status}" if status != 200 else check(payload)
                if problem:
                    sample.failures += 1
                    sample.first_failure = sample.first_failure or f"{problem}: {payload[:200]!r}"
                else:
                    sample.latencies.append(took)
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    sample.seconds = time.perf_counter() - started
    return sample
