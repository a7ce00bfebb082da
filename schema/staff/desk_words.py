"""The clerk's words at the counter: what to do with a copy after a scan (STAFF-4), in the
request's language. Transit wording for a copy on its way, never lending wording."""

from __future__ import annotations

from policies.enums import CopyStatus, HoldState
from resolvers.shared.context import Locale
from resolvers.staff.counter import CheckinResult

WORDS: dict[str, tuple[str, str]] = {
    "hold_shelf": (
        "予約棚に置いてください(取置期限 {deadline})。予約票を印刷してください。",
        "Put it on the hold shelf (until {deadline}) and print the hold slip.",
    ),
    "transit": (
        "回送中: {library}へ回送してください。回送票を印刷してください。",
        "In transit: send it to {library} and print the transit slip.",
    ),
    "shelf": ("書架に戻してください。", "Put it back on the shelf."),
}


def where_it_goes(result: CheckinResult) -> tuple[int, str]:
    """The library the copy goes to next, and which of :data:`WORDS` tells the clerk."""
    copy, hold = result.copy, result.hold
    if hold is not None and hold.state is HoldState.READY:
        return hold.pickup_library_id, "hold_shelf"
    if copy.status is CopyStatus.IN_TRANSIT:
        return (hold.pickup_library_id if hold is not None else copy.library_id), "transit"
    return copy.current_library_id or copy.library_id, "shelf"


def say(key: str, locale: Locale, *, library: str, result: CheckinResult) -> str:
    """The words for ``key``, with the destination's name and the pickup deadline."""
    hold = result.hold
    deadline = hold.pickup_deadline.isoformat() if hold and hold.pickup_deadline else ""
    ja, en = WORDS[key]
    return (en if locale == "en" else ja).format(library=library, deadline=deadline)
