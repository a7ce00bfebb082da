"""The outbox's "sent" record (MAIL-8): one UPDATE, committed as it returns."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from models import OutboxMessage
from policies.enums import OutboxState
from resolvers.mail.mail import claim, mark_sent
from resolvers.mail.outbox import queue_mail
from tests.support import Api, Factory

NOW = datetime.fromisoformat("2026-11-30T10:00:00+09:00")


async def _claimed(api: Api, factory: Factory) -> int:
    patron = await factory.patron(None, email1="p@example.jp")
    sessions = api.app.state.services.sessions
    async with sessions() as db, db.begin():
        await queue_mail(
            db,
            kind="overdue",
            dedupe_key=f"overdue:{patron.id}:t",
            patron_id=patron.id,
            payload={"loans": [{"title": "本", "due_on": "2026-11-01", "loan_id": 1}]},
            not_before=NOW,
            now=NOW,
        )
    [mail] = await claim(sessions, "w", NOW, 10)
    return mail.id


async def test_sent_is_committed_when_the_update_returns(api: Api, factory: Factory) -> None:
    # MAIL-8: the dispatcher's batch connection is in autocommit; the record is visible to
    # another connection at once, with no COMMIT of its own (a worker killed right after
    # loses nothing that was recorded).
    mail_id = await _claimed(api, factory)
    engine = api.app.state.engine
    async with engine.connect() as pooled:
        conn = await pooled.execution_options(isolation_level="AUTOCOMMIT")
        await mark_sent(conn, mail_id, "w", NOW, message_id="<m@x>", recipients=["p@example.jp"])
        async with engine.connect() as other:
            state = await other.scalar(
                select(OutboxMessage.state).where(OutboxMessage.id == mail_id)
            )
        assert state == OutboxState.SENT


async def test_a_connection_in_a_transaction_is_refused(api: Api, factory: Factory) -> None:
    # MAIL-8: on a transactional connection the UPDATE would wait for a COMMIT nobody sends.
    mail_id = await _claimed(api, factory)
    async with api.app.state.engine.connect() as conn:
        with pytest.raises(RuntimeError, match="autocommit"):
            await mark_sent(conn, mail_id, "w", NOW, message_id="<m@x>", recipients=[])
