"""Account rules: password shape (AUTH-6), temporary passwords (AUTH-5), sessions (AUTH-10)
and failed-login lockout (AUTH-11)."""

from __future__ import annotations

import math
import re
import string
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache

import jaconv
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from policies.config import AccountPolicy
from policies.enums import PasswordState
from policies.errors import ErrorCode, RuleViolation

PASSWORD_MIN = 6
PASSWORD_MAX = 10
_ALLOWED = frozenset(string.ascii_letters + string.digits)
_RUNS = (string.digits, string.ascii_lowercase, "qwertyuiop", "asdfghjkl", "zxcvbnm")
# Words a Japanese library's patrons would pick that no English list holds.
LOCAL_COMMON = frozenset(
    {
        "toshokan", "hondana", "ibaraki", "tosyokan", "pokemon", "doraemon", "sakura",
        "nihon", "nippon", "tokyo", "osaka", "library", "mylibrary",
    }
)  # fmt: skip
SHORTEST_NAME_PART = 3  # "jun" and longer; "ai" would refuse too much


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The 30,000 most common leaked passwords as shipped (and kept) by the ``zxcvbn``
    package, narrowed to the ones AUTH-6's shape allows, plus our local words."""
    shipped = FREQUENCY_LISTS["passwords"]
    fitting = (w for w in shipped if PASSWORD_MIN - 2 <= len(w) <= PASSWORD_MAX)
    return frozenset(w.lower() for w in fitting) | LOCAL_COMMON


class PasswordProblem(StrEnum):
    """Why a password was refused (the ``reason`` of ``INVALID_PASSWORD``)."""

    TOO_SHORT = "TOO_SHORT"
    TOO_LONG = "TOO_LONG"
    INVALID_CHARACTERS = "INVALID_CHARACTERS"
    CARD_NUMBER = "CARD_NUMBER"
    BIRTH_DATE = "BIRTH_DATE"
    REPEATED_CHARACTER = "REPEATED_CHARACTER"
    SEQUENCE = "SEQUENCE"
    COMMON = "COMMON"
    PERSONAL_DATA = "PERSONAL_DATA"
    SAME_AS_CURRENT = "SAME_AS_CURRENT"


def _is_run(word: str) -> bool:
    """``123456``, ``654321``, ``abcdef``, ``qwerty``: consecutive keys of one run."""
    lowered = word.lower()
    return any(lowered in run or lowered in run[::-1] for run in _RUNS)


def _birth_date_forms(birth: date) -> set[str]:
    """The ways people write a birth date as digits: 19900517, 900517, 05171990, 17051990,
    170590, 051790, 0517, 1705, and unpadded 1990517 / 199055."""
    y, m, d = f"{birth.year:04d}", f"{birth.month:02d}", f"{birth.day:02d}"
    yy = y[2:]
    unpadded = f"{birth.year}{birth.month}{birth.day}"
    return {y + m + d, yy + m + d, m + d + y, d + m + y, d + m + yy, m + d + yy, m + d, d + m,
            unpadded, y + m, m + y}  # fmt: skip


def _made_of_birth_date(lowered: str, birth: date) -> bool:
    """The password is a birth-date form, or a long form (6+ digits) with a little around it."""
    forms = _birth_date_forms(birth)
    return lowered in forms or any(len(f) >= 6 and f in lowered for f in forms)


def name_parts(name_kana: str | None) -> list[str]:
    """The romaji of a patron's name reading (ヤマダ ハナコ → yamada, hanako), each part long
    enough to matter; what a guesser who knows the patron would try first."""
    if not name_kana:
        return []
    reading = jaconv.kana2alphabet(jaconv.kata2hira(jaconv.h2z(name_kana, kana=True)))
    parts = reading.replace("\u3000", " ").lower().split()
    return [p for p in parts if len(p) >= SHORTEST_NAME_PART and p.isascii() and p.isalpha()]


def _is_common(lowered: str) -> bool:
    """A listed password, or a listed word of 4+ letters with up to 4 digits around it
    (``dragon99``, ``1monkey``): the first variants a guesser tries."""
    common = common_passwords()
    if lowered in common:
        return True
    core = lowered.strip(string.digits)
    padding = len(lowered) - len(core)
    return 0 < padding <= 4 and len(core) >= 4 and core in common


def password_problem(
    password: str,
    *,
    card_number: str,
    birth_date: date | None,
    name_kana: str | None = None,
    phone: str | None = None,
) -> PasswordProblem | None:
    """The first reason ``password`` may not be used (AUTH-6), or ``None`` if it is fine:
    the shape, then what a third party could guess (the guide: 「第3者が推測できそうな
    パスワードは避けてください。」): the card number, the birth date, the name reading and
    the telephone number, one repeated character, a run, a common password."""
    if len(password) < PASSWORD_MIN:
        return PasswordProblem.TOO_SHORT
    if len(password) > PASSWORD_MAX:
        return PasswordProblem.TOO_LONG
    if not set(password) <= _ALLOWED:
        return PasswordProblem.INVALID_CHARACTERS
    lowered = password.lower()
    card = card_number.lower()
    if (
        lowered == card
        or (len(card) >= PASSWORD_MIN and lowered in card)
        or (len(card) >= PASSWORD_MIN and card[-PASSWORD_MIN:] in lowered)
    ):
        return PasswordProblem.CARD_NUMBER
    if birth_date is not None and _made_of_birth_date(lowered, birth_date):
        return PasswordProblem.BIRTH_DATE
    if any(part in lowered for part in name_parts(name_kana)) or _has_phone(lowered, phone):
        return PasswordProblem.PERSONAL_DATA
    if len(set(lowered)) == 1:
        return PasswordProblem.REPEATED_CHARACTER
    if _is_run(password):
        return PasswordProblem.SEQUENCE
    if _is_common(lowered):
        return PasswordProblem.COMMON
    return None


def _has_phone(password: str, phone: str | None) -> bool:
    """Whether ``password`` holds six or more digits in a row of the telephone number (the
    number as the patron gave it, hyphens and all, is read as its digits)."""
    digits = "".join(ch for ch in phone or "" if ch.isascii() and ch.isdigit())
    if len(digits) < PASSWORD_MIN:
        return False
    runs = re.findall(rf"\d{{{PASSWORD_MIN},}}", password)
    return any(
        run[i : i + PASSWORD_MIN] in digits
        for run in runs
        for i in range(len(run) - PASSWORD_MIN + 1)
    )


def check_new_password(
    password: str,
    *,
    card_number: str,
    birth_date: date | None,
    name_kana: str | None = None,
    phone: str | None = None,
    field: str = "newPassword",
) -> None:
    """Raise ``INVALID_PASSWORD`` (AUTH-6) with the reason if ``password`` is not acceptable."""
    problem = password_problem(
        password, card_number=card_number, birth_date=birth_date, name_kana=name_kana, phone=phone
    )
    if problem is not None:
        raise RuleViolation(ErrorCode.INVALID_PASSWORD, "AUTH-6", field=field, reason=problem.value)


def can_log_in(state: PasswordState) -> bool:
    """Only a temporary or active password opens a session (AUTH-1, AUTH-9)."""
    return state in (PasswordState.TEMPORARY, PasswordState.ACTIVE)


def require_active_password(state: PasswordState) -> None:
    """A temporary-password session may change the password and nothing personal (AUTH-5)."""
    if state is PasswordState.TEMPORARY:
        raise RuleViolation(ErrorCode.TEMPORARY_PASSWORD, "AUTH-5")
    if state is not PasswordState.ACTIVE:
        raise RuleViolation(ErrorCode.UNAUTHENTICATED, "AUTH-1")


def session_is_live(
    *, created_at: datetime, last_seen_at: datetime, now: datetime, policy: AccountPolicy
) -> bool:
    """A session ends after the idle limit (AUTH-10) or the absolute limit, whichever first."""
    idle = now - last_seen_at >= timedelta(minutes=policy.session_idle_minutes)
    too_old = now - created_at >= timedelta(hours=policy.session_absolute_hours)
    return not (idle or too_old)


@dataclass(frozen=True, slots=True)
class LoginThrottle:
    """Recent failed logins for one card number (known or not, AUTH-11), oldest first."""

    recent: tuple[datetime, ...] = ()
    locked_until: datetime | None = None

    @property
    def failures(self) -> int:
        """Failures still inside the window as last counted."""
        return len(self.recent)


def locked_for(throttle: LoginThrottle, now: datetime) -> timedelta | None:
    """How much longer the card is locked, or ``None`` if a login may be tried (AUTH-11)."""
    if throttle.locked_until is not None and now < throttle.locked_until:
        return throttle.locked_until - now
    return None


def check_not_locked(throttle: LoginThrottle, now: datetime) -> None:
    """Raise ``ACCOUNT_LOCKED`` with the whole seconds to wait while the card is locked
    (AUTH-11); rounded up, so a client that waits that long is never still locked."""
    remaining = locked_for(throttle, now)
    if remaining is not None:
        seconds = max(1, math.ceil(remaining.total_seconds()))
        raise RuleViolation(ErrorCode.ACCOUNT_LOCKED, "AUTH-11", retry_after=seconds)


def after_failure(throttle: LoginThrottle, now: datetime, policy: AccountPolicy) -> LoginThrottle:
    """The throttle after one more failed login: N failures within any window of the set
    length (a sliding window, so a burst across a boundary is still counted) lock the card."""
    window = timedelta(minutes=policy.lockout_window_minutes)
    recent = (*(t for t in throttle.recent if now - t < window), now)[-policy.lockout_failures :]
    if len(recent) >= policy.lockout_failures:
        lock = now + timedelta(minutes=policy.lockout_minutes)
        return LoginThrottle(recent=recent, locked_until=lock)
    still_locked = throttle.locked_until if locked_for(throttle, now) is not None else None
    return LoginThrottle(recent=recent, locked_until=still_locked)
