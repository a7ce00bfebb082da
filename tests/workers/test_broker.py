"""The embedded broker (kombu's SQLAlchemy transport on SQLite) takes our transport options."""

from __future__ import annotations

from pathlib import Path

from kombu.connection import Connection

from workers.app import REDIS_TRANSPORT_OPTIONS, transport_options


def _round_trip(url: str, options: dict[str, object]) -> object:
    with Connection(url, transport_options=options) as conn:
        queue = conn.SimpleQueue("hondana-broker-test")
        queue.put({"hello": "世界"})
        message = queue.get(timeout=10)
        message.ack()
        queue.close()
        return message.payload


def test_sqlite_broker_round_trips_a_message_with_our_options(tmp_path: Path) -> None:
    # Issue 16: the SQLAlchemy transport hands unknown options to create_engine(), which
    # refused the Redis-only visibility_timeout, and the worker died at start.
    url = f"sqla+sqlite:///{tmp_path / 'broker.db'}"
    for publisher in (False, True):
        assert _round_trip(url, transport_options(url, publisher=publisher)) == {"hello": "世界"}


def test_redis_options_go_to_redis_only() -> None:
    assert transport_options("redis://127.0.0.1:6379/0") == REDIS_TRANSPORT_OPTIONS
    assert "socket_timeout" in transport_options("rediss://h:6379/0", publisher=True)
    assert transport_options("sqla+postgresql://u@h/db", publisher=True) == {}


def test_the_queues_exist_before_the_worker_and_its_beat_start(tmp_path: Path) -> None:
    # MAIL-8, `make demo`: kombu's SQLAlchemy transport creates a queue by a select, then an
    # insert; a worker's consumer and its beat declaring the new queue at one moment made
    # one fail (UNIQUE constraint failed: kombu_queue.name) and `hondana up` stopped.
    # `hondana worker` declares every queue first, in one process; doing it again is harmless.
    import sqlite3

    from celery import Celery

    from workers.app import declare_queues

    broker = tmp_path / "broker.db"
    url = f"sqla+sqlite:///{broker}"
    celery = Celery("t", broker=url)
    celery.conf.broker_transport_options = transport_options(url)
    declare_queues(celery)
    declare_queues(celery)
    with sqlite3.connect(broker) as db:
        names = [name for (name,) in db.execute("SELECT name FROM kombu_queue")]
    assert names == [celery.conf.task_default_queue]


def test_the_dispatch_and_the_scans_have_queues_of_their_own() -> None:
    # docs/deploy.md "Redis and Celery": workers are scaled by queue, the mail dispatch
    # (MAIL-8, nudged by the API) apart from the scans (HOLD-9, MAIL-1..4, EBOOK-3 and the
    # privacy scrub). A worker started without -Q (`hondana worker`, `make demo`)
    # consumes every queue, and the worker declares them all before it starts.
    from workers.app import app

    def queue_of(task: str) -> str:
        return str(app.amqp.router.route({}, task)["queue"].name)

    scans = [
        "hondana.holds.expire",
        "hondana.ebooks.sweep",
        "hondana.mail.due_reminders",
        "hondana.mail.overdue",
        "hondana.mail.new_arrivals",
        "hondana.mail.scrub",
    ]
    assert queue_of("hondana.mail.dispatch") == "mail"
    assert {queue_of(task) for task in scans} == {"scans"}
    assert queue_of("hondana.ping") == "celery"
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert scheduled <= {"hondana.mail.dispatch", *scans}  # every scheduled task routed
    assert sorted(app.amqp.queues) == ["celery", "mail", "scans"]
