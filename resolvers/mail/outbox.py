"""Queueing a mail: an outbox row in the same transaction as the change that owes it.

The unique dedupe key makes the mail owed once, however often the change is retried
(MAIL-8). The dispatcher of issue [3/8] sends what is queued here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from models import OutboxMessage
from policies.enums import OutboxState


async def queue_mail(
    db: AsyncSession,
    *,
    kind: str,
    dedupe_key: str,
    patron_id: int | None,
    payload: dict[str, Any],
    not_before: datetime,
    now: datetime,
) -> None:
    """Owe one mail; a second call with the same ``dedupe_key`` changes nothing."""
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(OutboxMessage)
        .values(
            dedupe_key=dedupe_key,
            kind=kind,
            patron_id=patron_id,
            payload=payload,
            state=OutboxState.PENDING,
            attempts=0,
            not_before=not_before,
            next_attempt_at=not_before,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
    )
    await db.execute(stmt)
