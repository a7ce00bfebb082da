"""Prometheus metrics of a Celery worker: task outcomes and mail deliveries.

A worker is a process of its own, so it serves its own metrics: with
``HONDANA_WORKER_METRICS_PORT`` set, ``worker_init`` starts ``prometheus_client``'s HTTP
server on ``HONDANA_WORKER_METRICS_ADDR`` (default 127.0.0.1) in the worker's main
process. Tasks run in pool processes under the default prefork pool; there each process
counts into ``PROMETHEUS_MULTIPROC_DIR`` (``hondana worker`` makes a fresh one when the port
is set) and the server adds up every process's files, those of children already replaced
included, so no count is lost when a child is recycled. Under ``--pool solo`` or
``threads`` the tasks run in the serving process and its own registry is served. Started as
``celery worker`` (not ``hondana worker``) under prefork without that variable, children's
counts would not reach the server: the worker says so in its log at start.

Series (labels are bounded: ``task`` is a registered task name, ``outcome`` a fixed word):

- ``hondana_celery_tasks_total{task, outcome}``: ``success``, ``failure``, ``retry``;
- ``hondana_mail_deliveries_total{outcome}``: what the outbox dispatcher did with each
  claimed mail, ``sent``, ``retried`` (temporary failure), ``failed`` (permanent), ``skipped``;
- ``hondana_mail_dispatch_last_run_timestamp_seconds``: when beat's dispatcher run (every
  minute) last finished; with the API's ``hondana_outbox_oldest_age_seconds`` it tells that
  mail has stopped (docs/deploy.md).
"""

from __future__ import annotations

import logging
import os
from typing import Any, Protocol, TypeVar

from celery import signals
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    multiprocess,
    start_http_server,
)

from server.settings import get_settings

log = logging.getLogger("hondana.worker.metrics")
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
TASK_OUTCOMES = ("success", "failure", "retry")
DELIVERY_OUTCOMES = ("sent", "retried", "failed", "skipped")

REGISTRY = CollectorRegistry(auto_describe=True)
TASKS = Counter(
    "hondana_celery_tasks",
    "Celery tasks finished in this worker, by task name and outcome.",
    ["task", "outcome"],
    registry=REGISTRY,
)
DELIVERIES = Counter(
    "hondana_mail_deliveries",
    "Claimed outbox mails by what the dispatcher did with them.",
    ["outcome"],
    registry=REGISTRY,
)
LAST_DISPATCH = Gauge(
    "hondana_mail_dispatch_last_run_timestamp_seconds",
    "When the scheduled outbox dispatcher run (beat, every minute) last finished (Unix time).",
    registry=REGISTRY,
    multiprocess_mode="max",  # the latest over every pool process
)
for _outcome in DELIVERY_OUTCOMES:
    DELIVERIES.labels(outcome=_outcome)  # every series exists from the start, at 0


class _Report(Protocol):
    """What :func:`count_deliveries` reads (``workers.dispatch.DispatchReport``)."""

    sent: int
    retried: int
    failed: int
    skipped: int


R = TypeVar("R", bound=_Report)


def count_deliveries(report: R) -> R:
    """Add one dispatcher run's counts; returns the report so a ``return`` can wrap it."""
    for outcome in DELIVERY_OUTCOMES:
        if n := getattr(report, outcome):
            DELIVERIES.labels(outcome=outcome).inc(n)
    return report


def mark_scheduled_run() -> None:
    """A scheduled dispatcher run has finished (whatever it sent)."""
    LAST_DISPATCH.set_to_current_time()


def _task_name(sender: Any) -> str:
    name = getattr(sender, "name", None)
    return name if isinstance(name, str) else "unknown"


@signals.task_success.connect
def on_task_success(sender: Any = None, **_: Any) -> None:
    """A task returned."""
    TASKS.labels(task=_task_name(sender), outcome="success").inc()


@signals.task_failure.connect
def on_task_failure(sender: Any = None, **_: Any) -> None:
    """A task raised (and will not be retried)."""
    TASKS.labels(task=_task_name(sender), outcome="failure").inc()


@signals.task_retry.connect
def on_task_retry(sender: Any = None, **_: Any) -> None:
    """A task asked to be retried."""
    TASKS.labels(task=_task_name(sender), outcome="retry").inc()


def serving_registry() -> CollectorRegistry:
    """What the HTTP server exposes: every pool process's files in multiprocess mode,
    else this process's own registry."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry
    return REGISTRY


def _is_prefork(worker: Any) -> bool:
    """Whether ``worker`` (a WorkController, before it resolves its pool) runs prefork."""
    pool = getattr(worker, "pool_cls", None)
    name = pool if isinstance(pool, str) else getattr(pool, "__module__", "")
    return "prefork" in name


@signals.worker_process_shutdown.connect
def on_worker_process_shutdown(pid: int | None = None, **_: Any) -> None:
    """A prefork child is going: its live-gauge files go with it (the counters' files stay,
    so what it counted is still exported)."""
    if pid is not None and os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


@signals.worker_init.connect
def on_worker_init(sender: Any = None, **_: Any) -> None:
    """Start the metrics server in the worker's main process when a port is configured."""
    settings = get_settings()
    if settings.worker_metrics_port is None:
        return
    if not os.environ.get(MULTIPROC_ENV) and _is_prefork(sender):
        log.warning(
            "%s is not set: task counts of prefork children will not be exported "
            "(start the worker with `hondana worker`, which sets it)",
            MULTIPROC_ENV,
        )
    app = getattr(sender, "app", None)
    for name in getattr(app, "tasks", {}):
        if name.startswith("hondana."):
            for outcome in TASK_OUTCOMES:
                TASKS.labels(task=name, outcome=outcome)
    start_http_server(
        settings.worker_metrics_port,
        addr=settings.worker_metrics_addr,
        registry=serving_registry(),
    )
    log.info(
        "worker metrics on http://%s:%d/metrics",
        settings.worker_metrics_addr,
        settings.worker_metrics_port,
    )
