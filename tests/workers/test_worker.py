"""A real Celery worker on Redis: the process `make demo` and production start."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support import free_port
from tests.workers.conftest import QUEUE, Sink, Workers
from workers.app import TASK_SOFT_TIME_LIMIT, TASK_TIME_LIMIT, app

pytestmark = pytest.mark.long


def test_worker_answers_on_redis(api: object, workers: Workers) -> None:
    # MAIL-8 (groundwork): the Celery app runs a real worker on the Redis broker; that
    # worker knows every task the beat schedules, and runs each under a time limit.
    assert workers.call("hondana.ping") == "pong"
    inspect = workers.client.control.inspect(timeout=5)
    registered = inspect.registered() or {}
    confs = inspect.conf() or {}
    assert registered and confs, "no worker answered"
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    for node, tasks in registered.items():
        assert scheduled <= set(tasks), (node, scheduled - set(tasks))
        conf = confs[node]
        assert conf["task_soft_time_limit"] == TASK_SOFT_TIME_LIMIT
        assert conf["task_time_limit"] == TASK_TIME_LIMIT > TASK_SOFT_TIME_LIMIT


def _scrape(port: int) -> dict[tuple[str, str], float]:
    """``hondana_celery_tasks_total`` from the worker's metrics server, by (task, outcome)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    found: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "hondana_celery_tasks_total":
                found[(sample.labels["task"], sample.labels["outcome"])] = sample.value
    return found


def test_prefork_children_counts_reach_the_worker_metrics_server(
    redis_url: str, sink: Sink, tmp_path: Path
) -> None:
    # docs/deploy.md (worker metrics): `hondana worker` with a metrics port gives prefork
    # children a fresh PROMETHEUS_MULTIPROC_DIR and the main process serves their sum. Each
    # child runs one task and is replaced, so every count comes from a different (by then
    # dead) child process.
    # The tasks run here never reach a database (no need to run this once per backend).
    pool = Workers(f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}", redis_url, sink.port, tmp_path)
    queue = f"{QUEUE}-metrics"
    node = f"metrics-{os.getpid()}@localhost"
    port = free_port()
    parent = tmp_path / "metrics"
    parent.mkdir()
    env = {
        **pool.env,
        "HONDANA_WORKER_METRICS_PORT": str(port),
        "PROMETHEUS_MULTIPROC_DIR": str(parent),  # where the fresh directory goes
    }
    hondana = [sys.executable, "-c", "from server.cli import main; raise SystemExit(main())"]
    celery_args = ["-n", node, "-Q", queue, "--pool", "prefork", "--concurrency", "2"]
    celery_args += ["--max-tasks-per-child", "1", "--without-mingle", "--without-gossip"]
    with (tmp_path / "worker.log").open("ab") as log:
        proc = subprocess.Popen(  # noqa: S603 - our own worker
            [*hondana, "worker", "--", *celery_args], env=env, stdout=log, stderr=log
        )
    pool.procs.append(proc)
    try:
        deadline = time.monotonic() + 60
        while not pool.client.control.ping(destination=[node], timeout=0.5):
            assert proc.poll() is None and time.monotonic() < deadline, "worker did not start"
        for _ in range(4):
            assert pool.client.send_task("hondana.ping", queue=queue).get(timeout=60) == "pong"
        naive = {"now": "2026-11-30T10:00"}  # refused: a time without a zone
        failed = pool.client.send_task("hondana.holds.expire", kwargs=naive, queue=queue)
        with pytest.raises(ValueError, match="time zone"):
            failed.get(timeout=60)
        # The result is stored a moment before the outcome is counted: wait for the counts.
        wanted = {("hondana.ping", "success"): 4.0, ("hondana.holds.expire", "failure"): 1.0}
        while True:
            counts = _scrape(port)
            if all(counts.get(key) == n for key, n in wanted.items()):
                break
            assert time.monotonic() < deadline, (counts, wanted)
            time.sleep(0.2)
        assert counts[("hondana.ping", "failure")] == 0.0  # every series exists from the start
        [fresh] = list(parent.iterdir())  # `hondana worker` made its own directory
        assert any(fresh.glob("counter_*.db"))
    finally:
        pool.stop_all()
