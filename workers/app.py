"""The Celery app and its beat schedule.

Broker: Redis in production (``HONDANA_BROKER_URL=redis://...``); the SQLite broker
(``sqla+sqlite://``) by default, so ``make demo`` needs no server. The outbox makes the
broker's reliability matter little: a lost task only delays mail until the next beat.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from celery import Celery, signals
from celery.schedules import crontab
from kombu.entity import Queue
from sqlalchemy.exc import IntegrityError

from server.settings import get_settings

TASK_MODULES = ["workers.dispatch", "workers.scans"]


REDIS_SCHEMES = frozenset({"redis", "rediss", "sentinel"})
# Redis: a message a worker took but never acknowledged (it died) is handed out again after
# this long.
REDIS_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": 3600}
# Redis, for a process that only publishes (the API's nudge): a broker that stops answering
# (hung, half-open connection) fails a publish after socket_timeout instead of holding the
# caller forever. Not for the worker: in the Redis-hang drill (bench/drills.py) a worker
# with a socket timeout had an ack time out and never consumed again after Redis resumed;
# without one it waits and carries on, and kombu's health checks cover its BRPOP.
PUBLISHER_TRANSPORT_OPTIONS: dict[str, object] = {
    "socket_timeout": 5.0,
    "socket_connect_timeout": 2.0,
}


def transport_options(broker_url: str, *, publisher: bool = False) -> dict[str, object]:
    """The broker transport options the transport of ``broker_url`` understands.

    Each transport reads its options its own way, so none gets another's: kombu's
    SQLAlchemy transport (``sqla+``, the embedded default) hands every option it does not
    know to ``sqlalchemy.create_engine()``, which refuses a Redis option such as
    ``visibility_timeout`` with a TypeError and the worker dies at start (issue 16).
    """
    scheme = broker_url.partition("://")[0].lower()
    if scheme in REDIS_SCHEMES:
        return {**REDIS_TRANSPORT_OPTIONS, **(PUBLISHER_TRANSPORT_OPTIONS if publisher else {})}
    return {}


# Queues by kind of work, so that workers can be scaled by queue (docs/deploy.md): the
# mail dispatch, which the API nudges and patrons wait for, apart from the hourly and daily
# scans; anything else (``hondana.ping``) on Celery's default queue. A worker started
# without ``-Q`` (``hondana worker``, ``make demo``) consumes them all.
DEFAULT_QUEUE = "celery"
QUEUE_OF_TASK = {
    "hondana.mail.dispatch": "mail",
    "hondana.holds.expire": "scans",
    "hondana.ebooks.sweep": "scans",
    "hondana.mail.due_reminders": "scans",
    "hondana.mail.overdue": "scans",
    "hondana.mail.new_arrivals": "scans",
    "hondana.mail.scrub": "scans",
}
QUEUES = (DEFAULT_QUEUE, *sorted(set(QUEUE_OF_TASK.values())))

# Seconds. The longest task, a dispatch of one batch or a daily scan, takes seconds; these
# only end one that hangs.
TASK_SOFT_TIME_LIMIT = 300
TASK_TIME_LIMIT = 330


def create_celery(*, publisher: bool = False) -> Celery:
    """A Celery app configured from settings; ``publisher``: for sending tasks only, with
    socket timeouts so a hung broker fails a send instead of holding it."""
    settings = get_settings()
    url = settings.broker_url
    if url.startswith("sqla+sqlite:///"):
        Path(url.removeprefix("sqla+sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    settings.beat_schedule.parent.mkdir(parents=True, exist_ok=True)
    celery = Celery("hondana", broker=url, backend=settings.result_backend, include=TASK_MODULES)
    celery.conf.update(
        # Every task has a time limit: a scan or dispatch stuck on a hung database or SMTP
        # server is interrupted (soft: an exception, its transaction rolls back; hard: the
        # child is replaced) and its leased rows are claimed again. Enforced by the prefork
        # pool, `hondana worker`'s default.
        task_soft_time_limit=TASK_SOFT_TIME_LIMIT,
        task_time_limit=TASK_TIME_LIMIT,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        timezone=settings.policy.timezone,
        enable_utc=True,
        task_default_queue=DEFAULT_QUEUE,
        task_queues=[Queue(name) for name in QUEUES],  # type: ignore[no-untyped-call]
        task_routes={task: {"queue": queue} for task, queue in QUEUE_OF_TASK.items()},
        broker_connection_retry_on_startup=True,
        task_ignore_result=settings.result_backend is None,
        broker_transport_options=transport_options(url, publisher=publisher),
        # Beat's shelve files go with the rest of the data, not in the working directory.
        beat_schedule_filename=str(settings.beat_schedule),
        beat_schedule={
            # Library time (Asia/Tokyo). Each scan is idempotent and catches up.
            "dispatch-outbox": {
                "task": "hondana.mail.dispatch",
                "schedule": 60.0,
                "kwargs": {"scheduled": True},
            },
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


def declare_queues(celery: Celery) -> None:
    """Create the broker's queues now, in one process, before a worker, its beat and the API
    start using them. kombu's SQLAlchemy transport (the embedded default) creates a queue
    with a select, then an insert: a worker's consumer and its beat declaring the same new
    queue at the same moment make one of them fail (``UNIQUE constraint failed:
    kombu_queue.name``) and the worker exits. Declaring twice is harmless; a lost race
    here is retried."""
    for _ in range(3):
        try:
            with celery.connection_for_write() as connection:
                for queue in celery.amqp.queues.values():
                    queue(connection.default_channel).declare()
            return
        except IntegrityError:
            continue


app = create_celery()


@signals.worker_init.connect
def _declare_queues_first(**_: object) -> None:
    """The worker's own first step, before its consumer and its beat start."""
    declare_queues(app)


@signals.beat_init.connect
def dispatch_when_beat_starts(**_: Any) -> None:
    """Mail owed while no worker ran goes out as soon as beat starts, not a minute later
    at its first scheduled run (``make demo``'s mails, or after an outage)."""
    app.send_task("hondana.mail.dispatch", kwargs={"scheduled": True})


@app.task(name="hondana.ping")
def ping() -> str:
    """Liveness check for a worker."""
    return "pong"


# Task-outcome metrics (signal handlers) and the worker's metrics server: workers/metrics.py.
import workers.metrics  # noqa: E402, F401
