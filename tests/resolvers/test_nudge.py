"""The dispatcher nudge never holds a request when the broker is down or hangs (issue [7/8]).

The broker here is real Redis protocol from Celery/kombu, pointed at a socket this test
opens: one that accepts connections and never answers (a stopped or hung Redis), or a port
where nothing listens (Redis down).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Callable, Iterator

import pytest
from celery import Celery
from kombu.exceptions import OperationalError
from sqlalchemy import select

from models import OutboxMessage
from policies.clock import FixedClock
from resolvers.shared.nudge import Nudger
from server.app import create_app
from server.settings import Settings
from tests.support import Api, Factory
from workers.app import create_celery, transport_options

RESET = """mutation($c: String!, $e: String!) { requestPasswordReset(cardNumber: $c, email: $e) {
  accepted errors { code } } }"""


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts TCP connections (the kernel's backlog) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield int(listener.getsockname()[1])


@pytest.fixture
def closed_port() -> int:
    """A port where nothing listens: connections are refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _celery_on(port: int) -> Celery:
    celery = create_celery(publisher=True)  # the API's publisher, on another broker
    url = f"redis://127.0.0.1:{port}/0"
    # The options the publisher would have been given for this broker (a Redis URL gets the
    # socket timeouts; the default SQLite broker's options would have none).
    celery.conf.broker_url = url
    celery.conf.broker_transport_options = transport_options(url, publisher=True)
    return celery


def _sender(celery: Celery) -> Callable[[], None]:
    def send() -> None:
        celery.send_task("hondana.mail.dispatch", retry=False)

    return send


def _nudge_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name.startswith("nudge"))


async def test_publish_to_a_hung_broker_gives_up(silent_port: int) -> None:
    # MAIL-8 / issue [7/8]: with the socket timeouts in the Celery config a publish to a
    # Redis that never answers ends with an error instead of holding its thread forever.
    # (The 60 s bound only keeps a regression from hanging the suite.)
    send = _sender(_celery_on(silent_port))
    with pytest.raises(OperationalError, match="Timeout"):
        await asyncio.wait_for(asyncio.to_thread(send), 60)


@pytest.mark.parametrize("broker", ["silent", "closed"])
async def test_reset_answers_and_owes_its_mail_when_the_broker_fails(
    broker: str,
    settings: Settings,
    clock: FixedClock,
    factory: Factory,
    silent_port: int,
    closed_port: int,
) -> None:
    # AUTH-8 / MAIL-8: a broker that hangs or refuses costs the request nothing: every
    # request is answered, every mail is in the outbox for the beat, and the nudges share
    # one thread instead of piling up blocked threads. (``factory`` writes to the database
    # the ``api`` fixture emptied; this app, with the broken broker, shares it.)
    port = silent_port if broker == "silent" else closed_port
    app = create_app(settings, clock=clock, notify=_sender(_celery_on(port)))
    client = Api(app)
    try:
        patrons = [await factory.patron("yomu2468", email1=f"p{i}@example.jp") for i in range(4)]
        before = _nudge_threads()
        answers = await asyncio.gather(
            *(
                client.gql(RESET, {"c": p.card_number, "e": f"p{i}@example.jp"})
                for i, p in enumerate(patrons)
            )
        )
        assert [a["data"]["requestPasswordReset"] for a in answers] == [
            {"accepted": True, "errors": []}
        ] * len(patrons)
        async with app.state.services.sessions() as db:
            owed = (await db.execute(select(OutboxMessage.patron_id))).scalars().all()
        assert sorted(owed) == sorted(p.id for p in patrons)
        assert _nudge_threads() - before <= 1
    finally:
        await client.aclose()
        await app.state.engine.dispose()


async def test_nudges_queued_behind_a_running_one_share_one_send() -> None:
    # MAIL-8: while a send is under way, later nudges queue one more send (it runs after
    # their commits), not one each; nobody waits for the stuck one.
    release = threading.Event()
    calls: list[int] = []

    def send() -> None:
        calls.append(1)
        release.wait(10)

    nudger = Nudger(send, wait=0.01)
    try:
        first = await nudger()
        queued = await asyncio.gather(*(nudger() for _ in range(5)))
        assert first is False and queued == [False] * 5  # answered before the send ended
    finally:
        release.set()
        nudger.close(wait=True)
    assert calls == [1, 1]  # the running send and one queued behind it, not six


async def test_a_failing_send_is_reported_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    # MAIL-8: a broker that refuses fails the nudge, never the request; the refusal is
    # logged, and the next nudge (broker back) goes through.
    calls: list[int] = []

    def send() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionRefusedError("broker down")

    nudger = Nudger(send, wait=5)
    try:
        with caplog.at_level(logging.WARNING, logger="hondana.mail"):
            assert await nudger() is False
        assert calls == [1]  # it was tried, not skipped
        assert "could not nudge the dispatcher: ConnectionRefusedError" in caplog.text
        assert await nudger() is True
        assert calls == [1, 1]
    finally:
        nudger.close(wait=True)
