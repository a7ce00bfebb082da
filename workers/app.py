"""The Celery app and its beat schedule.

Broker: Redis in production (``HONDANA_BROKER_URL=redis://...``); the SQLite broker
(``sqla+sqlite://``) by default, so ``make demo`` needs no server. The outbox makes the
broker's reliability matter little: a lost task only delays mail until the next beat.
"""

from __future__ import annotations

from pathlib import Path

from celery import Celery
from celery.schedules import crontab

from server.settings import get_settings

TASK_MODULES = ["workers.dispatch", "workers.scans"]


def create_celery() -> Celery:
    """A Celery app configured from settings."""
    settings = get_settings()
    url = settings.broker_url
    if url.startswith("sqla+sqlite:///"):
        Path(url.removeprefix("sqla+sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    celery = Celery("hondana", broker=url, backend=settings.result_backend, include=TASK_MODULES)
    celery.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        timezone=settings.policy.timezone,
        enable_utc=True,
        broker_connection_retry_on_startup=True,
        task_ignore_result=settings.result_backend is None,
        # Redis: a broker that stops answering (hung, half-open connection) fails a publish
        # after socket_timeout instead of holding the caller forever; other transports
        # ignore these keys.
        broker_transport_options={
            "visibility_timeout": 3600,
            "socket_timeout": 5.0,
            "socket_connect_timeout": 2.0,
        },
        beat_schedule={
            # Library time (Asia/Tokyo). Each scan is idempotent and catches up.
            "dispatch-outbox": {"task": "hondana.mail.dispatch", "schedule": 60.0},
            "expire-holds": {"task": "hondana.holds.expire", "schedule": crontab(minute=5)},
            "ebook-sweep": {"task": "hondana.ebooks.sweep", "schedule": crontab(minute=15)},
            "due-reminders": {
                "task": "hondana.mail.due_reminders",
                "schedule": crontab(hour=8, minute=0),
            },
            "overdue-notices": {
                "task": "hondana.mail.overdue",
                "schedule": crontab(hour=8, minute=10),
            },
            "new-arrivals": {
                "task": "hondana.mail.new_arrivals",
                "schedule": crontab(hour=7, minute=0, day_of_week="mon"),
            },
        },
    )
    return celery


app = create_celery()


@app.task(name="hondana.ping")
def ping() -> str:
    """Liveness check for a worker."""
    return "pong"


# Task-outcome metrics (signal handlers) and the worker's metrics server: workers/metrics.py.
import workers.metrics  # noqa: E402, F401
