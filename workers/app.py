"""The Celery app. Redis in production (``HONDANA_BROKER_URL=redis://...``); the SQLite
broker (``sqla+sqlite://``) by default, so ``make demo`` needs no server.

The mail workflows and the outbox dispatcher arrive with issue [3/8]; until then the worker
runs and answers ``ping``.
"""

from __future__ import annotations

from pathlib import Path

from celery import Celery

from server.settings import get_settings


def create_celery() -> Celery:
    """A Celery app configured from settings."""
    settings = get_settings()
    url = settings.broker_url
    if url.startswith("sqla+sqlite:///"):
        Path(url.removeprefix("sqla+sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    app = Celery("hondana", broker=url)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        timezone=settings.policy.timezone,
        enable_utc=True,
        broker_connection_retry_on_startup=True,
        task_ignore_result=True,
    )
    return app


app = create_celery()


@app.task(name="hondana.ping")
def ping() -> str:
    """Liveness check for a worker."""
    return "pong"
