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


# Redis, for a process that only publishes (the API's nudge): a broker that stops answering
# (hung, half-open connection) fails a publish after socket_timeout instead of holding the
# caller forever. Not for the worker: in the Redis-hang drill (bench/drills.py) a worker
# with a socket timeout had an ack time out and never consumed again after Redis resumed;
# without one it waits and carries on, and kombu's health checks cover its BRPOP.
# Other transports ignore these keys.
PUBLISHER_TRANSPORT_OPTIONS = {"socket_timeout": 5.0, "socket_connect_timeout": 2.0}


def create_celery(*, publisher: bool = False) -> Celery:
    """A Celery app configured from settings; ``publisher``: for sending tasks only, with
    socket timeouts so a hung broker fails a send instead of holding it."""
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
        broker_transport_options={
            "visibility_timeout": 3600,
            **(PUBLISHER_TRANSPORT_OPTIONS if publisher else {}),
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
            # Reading privacy: sent and failed mails past the retention period are scrubbed.
            "scrub-mail": {"task": "hondana.mail.scrub", "schedule": crontab(hour=3, minute=30)},
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
