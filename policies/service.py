"""Service hours: the daily maintenance window (SVC-1)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from policies.config import ServicePolicy


def maintenance_remaining(now: datetime, policy: ServicePolicy) -> timedelta | None:
    """Time left in the maintenance window if ``now`` is inside it, else ``None``.

    The window is in library time (Asia/Tokyo by default) and may cross midnight.
    """
    local = now.astimezone(ZoneInfo(policy.timezone))
    start = local.replace(
        hour=policy.maintenance_start.hour,
        minute=policy.maintenance_start.minute,
        second=0,
        microsecond=0,
    )
    end = local.replace(
        hour=policy.maintenance_end.hour,
        minute=policy.maintenance_end.minute,
        second=0,
        microsecond=0,
    )
    if start == end:
        return None
    if start < end:
        return end - local if start <= local < end else None
    # Crosses midnight: inside when after the start or before the end.
    if local >= start:
        return end + timedelta(days=1) - local
    if local < end:
        return end - local
    return None
