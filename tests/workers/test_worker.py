"""A real Celery worker on Redis: the process `make demo` and production start."""

from __future__ import annotations

from tests.workers.conftest import Workers


def test_worker_answers_on_redis(api: object, workers: Workers) -> None:
    # MAIL-8 (groundwork): the Celery app runs a real worker on the Redis broker.
    assert workers.call("hondana.ping") == "pong"
