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
