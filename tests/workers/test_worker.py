"""A real Celery worker on Redis: the process `make demo` and production start."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import redis

REDIS_URL = os.environ.get("HONDANA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE = os.environ.get("HONDANA_REQUIRE_SERVICES", "") not in ("", "0")


@pytest.fixture(scope="module")
def redis_url() -> str:
    """A Redis database for this run; skip (or fail in CI) when Redis is not there."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        if REQUIRE:
            pytest.fail(
                f"Redis not reachable at {REDIS_URL}: {exc} (HONDANA_REQUIRE_SERVICES is set)"
            )
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    return REDIS_URL


@pytest.fixture(scope="module")
def worker(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`hondana worker` as a subprocess on the Redis broker, with a unique node name."""
    name = f"hondana-test-{os.getpid()}@localhost"
    env = {**os.environ, "HONDANA_BROKER_URL": redis_url}
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    with log.open("w") as out:
        proc = subprocess.Popen(  # noqa: S603 - our own CLI
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "workers.app",
                "worker",
                "-n",
                name,
                "--pool",
                "solo",
                "--loglevel",
                "info",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield name
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_worker_answers_on_redis(worker: str, redis_url: str) -> None:
    # MAIL-8 (groundwork): the Celery app runs a real worker on the Redis broker.
    from celery import Celery

    client = Celery("probe", broker=redis_url)
    replies: list[dict[str, object]] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not replies:
        replies = client.control.ping(destination=[worker], timeout=1.0) or []
    assert replies == [{worker: {"ok": "pong"}}]
