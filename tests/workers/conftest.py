"""A real SMTP server (aiosmtpd) on loopback and real Celery workers on Redis."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from celery import Celery
from sqlalchemy.engine import make_url

from tests.support import free_port, redis_of_this_worker

REDIS_URL = redis_of_this_worker(
    os.environ.get("HONDANA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
)
REQUIRE = os.environ.get("HONDANA_REQUIRE_SERVICES", "") not in ("", "0")
QUEUE = f"hondana-test-{os.getpid()}"


@dataclass
class Sink:
    """What the SMTP server received, and how it should behave next."""

    port: int
    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)  # address → "550 ..." or "450 ..."
    hold_at: int | None = None  # block the RCPT of the Nth message until released
    delay: float = 0.0  # seconds each message takes to accept
    pipelining: bool = True  # EHLO offers PIPELINING (RFC 2920), as real mail servers do
    raw: list[bytes] = field(default_factory=list)  # each message as it arrived
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    controller: Controller | None = None
    envelopes: int = 0  # messages whose first RCPT arrived (delivered or not)

    def reset(self) -> None:
        self.messages.clear()
        self.raw.clear()
        self.refuse.clear()
        self.pipelining = True
        self.hold_at = None
        self.delay = 0.0
        self.held.clear()
        self.release.clear()
        self.envelopes = 0

    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for _, m in self.messages]

    def wait_for(self, count: int, timeout: float = 30.0) -> list[tuple[list[str], EmailMessage]]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.messages)

    # aiosmtpd handler hooks
    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        # aiosmtpd serves a pipelined group in order (it reads each command from a
        # buffered stream) but does not say so unless told.
        session.host_name = hostname  # this form of the hook must set it (aiosmtpd docs)
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")  # before the last line, "250 HELP"
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if not envelope.rcpt_tos:
            self.envelopes += 1
            if self.hold_at is not None and self.envelopes == self.hold_at:
                self.held.set()
                while not self.release.is_set():  # noqa: ASYNC110 - a threading.Event set by the test
                    await asyncio.sleep(0.02)
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        self.raw.append(envelope.original_content)
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"

    def start(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture(scope="session")
def sink() -> Iterator[Sink]:
    server = Sink(port=free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp(sink: Sink) -> Iterator[Sink]:
    """The SMTP sink, emptied and up for each test."""
    sink.reset()
    if sink.controller is None:
        sink.start()
    yield sink
    sink.release.set()
    if sink.controller is None:
        sink.start()


class Workers:
    """Celery worker processes for one database, and a client to send them tasks.

    One standing worker (``mail``) serves every test of its database kind: starting a
    worker costs seconds (Python, Celery, the app), once per test it was a third of the
    suite's time. A test may start more, or kill any; :meth:`settle` stops the ones it
    started and the next test gets a standing worker again."""

    def __init__(self, database_url: str, redis_url: str, smtp_port: int, logs: Path) -> None:
        self.env = {
            **os.environ,
            "HONDANA_ENV": "test",
            "HONDANA_DATABASE_URL": database_url,
            "HONDANA_BROKER_URL": redis_url,
            "HONDANA_RESULT_BACKEND": redis_url,
            "HONDANA_MAIL_SENDER": "smtp",
            "HONDANA_SMTP_HOST": "127.0.0.1",
            "HONDANA_SMTP_PORT": str(smtp_port),
            "HONDANA_SMTP_TIMEOUT": "10",
        }
        self.logs = logs
        self.procs: list[subprocess.Popen[bytes]] = []
        self.standing: subprocess.Popen[bytes] | None = None
        # A queue and node names per pool: the standing workers of both databases run side by side.
        self.kind = make_url(database_url).get_backend_name()
        self.queue = f"{QUEUE}-{self.kind}"
        self.client = Celery("tests", broker=redis_url, backend=redis_url)
        self.client.conf.task_default_queue = self.queue

    def start(self, name: str, **env: str) -> subprocess.Popen[bytes]:
        node = f"{name}-{self.kind}-{os.getpid()}@localhost"
        out = (self.logs / f"{name}.log").open("ab")
        proc = subprocess.Popen(  # noqa: S603 - our own worker
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "workers.app",
                "worker",
                "-n",
                node,
                "-Q",
                self.queue,
                "--pool",
                "solo",
                "--loglevel",
                "info",
                "--without-mingle",
                "--without-gossip",
            ],
            env={**self.env, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.client.control.ping(destination=[node], timeout=0.5):
                return proc
        raise RuntimeError(f"worker {node} did not start; see {self.logs}")

    def ready(self) -> None:
        """Before a test: no task left queued by the last one, the standing worker up."""
        with self.client.connection_for_write() as connection:
            connection.default_channel.queue_purge(self.queue)
        if self.standing is None or self.standing not in self.procs:
            self.standing = self.start("mail")

    def settle(self) -> None:
        """After a test: stop the workers it started itself."""
        extra = [proc for proc in self.procs if proc is not self.standing]
        self._stop(extra)

    def call(self, task: str, timeout: float = 60, **kwargs: Any) -> Any:
        return self.client.send_task(task, kwargs=kwargs, queue=self.queue).get(timeout=timeout)

    def send(self, task: str, **kwargs: Any) -> Any:
        return self.client.send_task(task, kwargs=kwargs, queue=self.queue)

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        self.procs.remove(proc)

    def stop_all(self) -> None:
        self._stop(list(self.procs))

    def _stop(self, procs: list[subprocess.Popen[bytes]]) -> None:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
            self.procs.remove(proc)


@pytest.fixture(scope="session")
def worker_pools(
    redis_url: str, sink: Sink, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Workers]]:
    """The standing workers of this run, one pool per database."""
    pools: dict[str, Workers] = {}
    yield pools
    for pool in pools.values():
        pool.stop_all()


@pytest.fixture
def workers(
    database_url: str,
    redis_url: str,
    sink: Sink,
    worker_pools: dict[str, Workers],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Workers]:
    """A real worker (more on request) on Redis, sending to the sink, on this database."""
    pool = worker_pools.get(database_url)
    if pool is None:
        logs = tmp_path_factory.mktemp("workers")
        pool = worker_pools[database_url] = Workers(database_url, redis_url, sink.port, logs)
    pool.ready()
    yield pool
    pool.settle()
