"""Account rules as pure functions: password shape (AUTH-6), temporary passwords (AUTH-5),
who may log in (AUTH-1, AUTH-9), session limits (AUTH-10) and lockout (AUTH-11)."""

from __future__ import annotations

import string
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policies.accounts import (
    PASSWORD_MAX,
    PASSWORD_MIN,
    LoginThrottle,
    PasswordProblem,
    after_failure,
    can_log_in,
    check_new_password,
    check_not_locked,
    locked_for,
    password_problem,
    require_active_password,
    session_is_live,
)
from policies.clock import FixedClock
from policies.config import AccountPolicy
from policies.enums import PasswordState
from policies.errors import ErrorCode, RuleViolation

CARD = "2000000417"
BIRTH = date(1990, 5, 17)
# Monday 30 November 2026, 10:00 in Tokyo.
T0 = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
DEFAULT = AccountPolicy()
ALNUM = string.ascii_letters + string.digits


def _problem(password: str, *, birth_date: date | None = BIRTH) -> PasswordProblem | None:
    return password_problem(password, card_number=CARD, birth_date=birth_date)


# --- AUTH-6: password shape -------------------------------------------------------------

SHAPE_CASES = [
    # Too short: fewer than 6 characters, whatever they are.
    ("", PasswordProblem.TOO_SHORT),
    ("a", PasswordProblem.TOO_SHORT),
    ("yomu2", PasswordProblem.TOO_SHORT),
    ("Ab3x9", PasswordProblem.TOO_SHORT),
    ("１２３４５", PasswordProblem.TOO_SHORT),  # length is checked before the characters
    # Too long: more than 10 characters.
    ("yomu2468135", PasswordProblem.TOO_LONG),
    ("abcdefgh123", PasswordProblem.TOO_LONG),
    ("x" * 40, PasswordProblem.TOO_LONG),
    # Not ASCII letters and digits.
    ("１２３４５６", PasswordProblem.INVALID_CHARACTERS),  # full-width digits
    ("ｙｏｍｕ２４６８", PasswordProblem.INVALID_CHARACTERS),  # full-width letters
    ("よむよむよむ", PasswordProblem.INVALID_CHARACTERS),  # hiragana
    ("ヨムヨム24", PasswordProblem.INVALID_CHARACTERS),  # katakana
    ("図書館yomu", PasswordProblem.INVALID_CHARACTERS),  # kanji
    ("yomu2468😀", PasswordProblem.INVALID_CHARACTERS),  # emoji
    ("yomu 2468", PasswordProblem.INVALID_CHARACTERS),  # space
    ("yomu-2468", PasswordProblem.INVALID_CHARACTERS),  # ASCII punctuation
    ("yomu_2468", PasswordProblem.INVALID_CHARACTERS),
    ("yömu2468", PasswordProblem.INVALID_CHARACTERS),  # Latin-1 letter
    ("yomu\t2468", PasswordProblem.INVALID_CHARACTERS),
    ("٣٤٥٦٧٨", PasswordProblem.INVALID_CHARACTERS),  # Arabic-Indic digits (str.isdigit)
    # The card number, or six or more characters of it.
    (CARD, PasswordProblem.CARD_NUMBER),
    ("000417", PasswordProblem.CARD_NUMBER),
    ("2000000", PasswordProblem.CARD_NUMBER),
    ("00000417", PasswordProblem.CARD_NUMBER),
    # The birth date in its usual written forms.
    ("19900517", PasswordProblem.BIRTH_DATE),  # yyyymmdd
    ("900517", PasswordProblem.BIRTH_DATE),  # yymmdd
    ("05171990", PasswordProblem.BIRTH_DATE),  # mmddyyyy
    ("17051990", PasswordProblem.BIRTH_DATE),  # ddmmyyyy
    # One character repeated (case does not make it different).
    ("aaaaaa", PasswordProblem.REPEATED_CHARACTER),
    ("1111111111", PasswordProblem.REPEATED_CHARACTER),
    ("ZZZZZZZ", PasswordProblem.REPEATED_CHARACTER),
    ("aAaAaA", PasswordProblem.REPEATED_CHARACTER),
    # Runs of consecutive keys, forwards or backwards, any case.
    ("123456", PasswordProblem.SEQUENCE),
    ("654321", PasswordProblem.SEQUENCE),
    ("0123456789", PasswordProblem.SEQUENCE),
    ("987654", PasswordProblem.SEQUENCE),
    ("abcdef", PasswordProblem.SEQUENCE),
    ("FEDCBA", PasswordProblem.SEQUENCE),
    ("ghijklmn", PasswordProblem.SEQUENCE),
    ("qwerty", PasswordProblem.SEQUENCE),
    ("ytrewq", PasswordProblem.SEQUENCE),
    ("QwErTyUiOp", PasswordProblem.SEQUENCE),
    ("asdfgh", PasswordProblem.SEQUENCE),
    ("zxcvbn", PasswordProblem.SEQUENCE),
    # The short list of common passwords, any case.
    ("password", PasswordProblem.COMMON),
    ("PassWord", PasswordProblem.COMMON),
    ("passw0rd", PasswordProblem.COMMON),
    ("letmein", PasswordProblem.COMMON),
    ("abc123", PasswordProblem.COMMON),
    ("abcd1234", PasswordProblem.COMMON),
    ("1q2w3e4r", PasswordProblem.COMMON),
    ("trustno1", PasswordProblem.COMMON),
    ("toshokan", PasswordProblem.COMMON),
    ("Hondana", PasswordProblem.COMMON),
    # The zxcvbn package's list (30,000 leaked passwords), and a listed word with a few
    # digits around it: what a third party tries first.
    ("qwerty12", PasswordProblem.COMMON),
    ("a1b2c3", PasswordProblem.COMMON),
    ("sunshine", PasswordProblem.COMMON),
    ("dragon99", PasswordProblem.COMMON),
    ("1monkey", PasswordProblem.COMMON),
    ("iloveyou2", PasswordProblem.COMMON),
    # The patron's own data inside a longer password.
    ("ab000417", PasswordProblem.CARD_NUMBER),
    ("x19900517", PasswordProblem.BIRTH_DATE),
    ("170590", PasswordProblem.BIRTH_DATE),  # ddmmyy
    ("0517", PasswordProblem.TOO_SHORT),
    # Accepted.
    ("yomu2468", None),
    ("Tosho9x", None),
    ("Kinokuni10", None),
    ("ZX9pq7", None),
    ("hon2dana", None),
    ("2468yomu", None),
    ("MORI8ha", None),
]


def test_guessable_from_the_patrons_own_data() -> None:
    """AUTH-6, from the guide's 「第3者が推測できそうなパスワードは避けてください。」: the name
    reading in romaji (ヤマダ ハナコ → yamada, hanako), the card number, the birth date."""
    kana = "ヤマダ ハナコ"

    def problem(password: str) -> PasswordProblem | None:
        return password_problem(password, card_number=CARD, birth_date=BIRTH, name_kana=kana)

    assert problem("hanako12") is PasswordProblem.PERSONAL_DATA
    assert problem("Yamada88") is PasswordProblem.PERSONAL_DATA
    assert problem("yomu2468") is None
    assert problem("x0517z9q") is None  # four birth digits alone in a longer one are fine
    full_width = password_problem("yamada7x", card_number=CARD, birth_date=None, name_kana="ﾔﾏﾀﾞ")
    assert full_width is PasswordProblem.PERSONAL_DATA


@pytest.mark.parametrize(("password", "expected"), SHAPE_CASES)
def test_password_problem(password: str, expected: PasswordProblem | None) -> None:
    # AUTH-6
    assert _problem(password) is expected


def test_every_reason_is_covered() -> None:
    # AUTH-6: the table exercises every reason the shape check can give. SAME_AS_CURRENT
    # needs the current password's hash, so the resolver decides it, not password_problem.
    reasons = {expected for _, expected in SHAPE_CASES if expected is not None}
    # PERSONAL_DATA needs the name reading: test_guessable_from_the_patrons_own_data.
    assert reasons == set(PasswordProblem) - {
        PasswordProblem.SAME_AS_CURRENT,
        PasswordProblem.PERSONAL_DATA,
    }


@pytest.mark.parametrize("password", ["19900517", "900517", "05171990", "17051990"])
def test_birth_date_forms_are_fine_without_a_birth_date(password: str) -> None:
    # AUTH-6: the birth date forms are only refused for the patron born that day.
    assert _problem(password, birth_date=None) is None
    assert _problem(password, birth_date=date(1985, 1, 2)) is None


@pytest.mark.parametrize("password", [CARD, "000417"])
def test_another_patrons_card_number_is_fine(password: str) -> None:
    # AUTH-6: only the patron's own card number is refused.
    assert password_problem(password, card_number="2999999999", birth_date=None) is None


@pytest.mark.parametrize(("password", "reason"), [(p, r) for p, r in SHAPE_CASES if r is not None])
def test_check_new_password_refuses_with_reason(password: str, reason: PasswordProblem) -> None:
    # AUTH-6
    with pytest.raises(RuleViolation) as refused:
        check_new_password(password, card_number=CARD, birth_date=BIRTH)
    assert refused.value.code is ErrorCode.INVALID_PASSWORD
    assert refused.value.rule == "AUTH-6"
    assert refused.value.field == "newPassword"
    assert refused.value.params == {"reason": reason.value}


@pytest.mark.parametrize("password", [p for p, r in SHAPE_CASES if r is None])
def test_check_new_password_accepts(password: str) -> None:
    # AUTH-6
    check_new_password(password, card_number=CARD, birth_date=BIRTH)


def test_check_new_password_names_the_field() -> None:
    # AUTH-6: the caller may name the input field the error belongs to.
    with pytest.raises(RuleViolation) as refused:
        check_new_password("abc", card_number=CARD, birth_date=None, field="password")
    assert refused.value.field == "password"
    assert refused.value.params["reason"] == "TOO_SHORT"


@given(st.text(alphabet=ALNUM, min_size=PASSWORD_MIN, max_size=PASSWORD_MAX))
def test_any_alphanumeric_password_has_the_right_shape(password: str) -> None:
    # AUTH-6: 6-10 ASCII letters or digits are never refused for their shape.
    assert _problem(password) not in {
        PasswordProblem.TOO_SHORT,
        PasswordProblem.TOO_LONG,
        PasswordProblem.INVALID_CHARACTERS,
    }


@given(
    st.text(alphabet=ALNUM, max_size=PASSWORD_MAX - 1),
    st.characters().filter(lambda c: c not in ALNUM),
    st.data(),
)
def test_any_other_character_is_refused(prefix: str, bad: str, data: st.DataObject) -> None:
    # AUTH-6: one character outside ASCII letters and digits refuses a well-sized password.
    at = data.draw(st.integers(0, len(prefix)), label="at")
    password = prefix[:at] + bad + prefix[at:]
    expected = (
        PasswordProblem.TOO_SHORT
        if len(password) < PASSWORD_MIN
        else PasswordProblem.INVALID_CHARACTERS
    )
    assert _problem(password) is expected


@given(st.text(min_size=PASSWORD_MAX + 1, max_size=PASSWORD_MAX + 30))
def test_any_long_password_is_too_long(password: str) -> None:
    # AUTH-6
    assert _problem(password) is PasswordProblem.TOO_LONG


# --- AUTH-5, AUTH-1, AUTH-9: password states ------------------------------------------------


@pytest.mark.parametrize(
    ("state", "may_log_in"),
    [
        (PasswordState.NONE, False),
        (PasswordState.TEMPORARY, True),
        (PasswordState.ACTIVE, True),
        (PasswordState.INVALIDATED, False),
    ],
)
def test_can_log_in(state: PasswordState, may_log_in: bool) -> None:
    # AUTH-1 (a registered password is needed), AUTH-9 (an invalidated one no longer works)
    assert can_log_in(state) is may_log_in


def test_require_active_password_accepts_active() -> None:
    # AUTH-5
    require_active_password(PasswordState.ACTIVE)


@pytest.mark.parametrize(
    ("state", "code", "rule"),
    [
        (PasswordState.TEMPORARY, ErrorCode.TEMPORARY_PASSWORD, "AUTH-5"),
        (PasswordState.NONE, ErrorCode.UNAUTHENTICATED, "AUTH-1"),
        (PasswordState.INVALIDATED, ErrorCode.UNAUTHENTICATED, "AUTH-1"),
    ],
)
def test_require_active_password_refuses(state: PasswordState, code: ErrorCode, rule: str) -> None:
    # AUTH-5: a temporary password may do nothing personal; no password at all, nothing.
    with pytest.raises(RuleViolation) as refused:
        require_active_password(state)
    assert (refused.value.code, refused.value.rule) == (code, rule)


# --- AUTH-10: sessions --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("idle", "live"),
    [
        (timedelta(0), True),
        (timedelta(minutes=14, seconds=59), True),
        (timedelta(minutes=15) - timedelta(microseconds=1), True),
        (timedelta(minutes=15), False),
        (timedelta(minutes=15, seconds=1), False),
        (timedelta(hours=2), False),
    ],
)
def test_session_idle_limit(idle: timedelta, live: bool) -> None:
    # AUTH-10: no request for 15 minutes logs the session off.
    clock = FixedClock(T0)
    created = last_seen = clock.now()
    clock.advance(idle)
    assert (
        session_is_live(created_at=created, last_seen_at=last_seen, now=clock.now(), policy=DEFAULT)
        is live
    )


@pytest.mark.parametrize(
    ("age", "live"),
    [
        (timedelta(hours=11, minutes=59, seconds=59), True),
        (timedelta(hours=12), False),
        (timedelta(hours=12, seconds=1), False),
    ],
)
def test_session_absolute_limit(age: timedelta, live: bool) -> None:
    # AUTH-10: even a busy session ends after the absolute limit (12 h by default).
    clock = FixedClock(T0 + age)
    last_seen = clock.now() - timedelta(seconds=1)
    assert (
        session_is_live(created_at=T0, last_seen_at=last_seen, now=clock.now(), policy=DEFAULT)
        is live
    )


def test_session_kept_alive_by_requests_until_absolute_limit() -> None:
    # AUTH-10: a request every 14 minutes keeps a session live, up to the absolute limit.
    clock = FixedClock(T0)
    created = last_seen = clock.now()
    while clock.now() - created < timedelta(hours=11, minutes=30):
        clock.advance(timedelta(minutes=14))
        assert session_is_live(
            created_at=created, last_seen_at=last_seen, now=clock.now(), policy=DEFAULT
        )
        last_seen = clock.now()
    clock.set(created + timedelta(hours=12))
    assert not session_is_live(
        created_at=created, last_seen_at=clock.now(), now=clock.now(), policy=DEFAULT
    )


@pytest.mark.parametrize(
    ("idle", "age", "live"),
    [
        (timedelta(minutes=4, seconds=59), timedelta(minutes=30), True),
        (timedelta(minutes=5), timedelta(minutes=30), False),
        (timedelta(minutes=1), timedelta(minutes=59, seconds=59), True),
        (timedelta(minutes=1), timedelta(hours=1), False),
    ],
)
def test_session_limits_come_from_policy(idle: timedelta, age: timedelta, live: bool) -> None:
    # AUTH-10: the 15 minutes are a default; the configured values are honoured.
    policy = AccountPolicy(session_idle_minutes=5, session_absolute_hours=1)
    clock = FixedClock(T0 + age)
    now = clock.now()
    assert session_is_live(created_at=T0, last_seen_at=now - idle, now=now, policy=policy) is live
    # The same session under the defaults is live: the limits above are not literals.
    assert session_is_live(created_at=T0, last_seen_at=now - idle, now=now, policy=DEFAULT)


# --- AUTH-11: lockout -----------------------------------------------------------------------


def _fail(times: list[timedelta], policy: AccountPolicy = DEFAULT) -> LoginThrottle:
    """The throttle after failures at ``T0 + t`` for each ``t``."""
    throttle = LoginThrottle()
    for t in times:
        throttle = after_failure(throttle, T0 + t, policy)
    return throttle


def _locked(throttle: LoginThrottle, now: datetime) -> RuleViolation:
    with pytest.raises(RuleViolation) as refused:
        check_not_locked(throttle, now)
    return refused.value


def test_four_failures_do_not_lock() -> None:
    # AUTH-11
    clock = FixedClock(T0)
    throttle = LoginThrottle()
    for n in range(1, 5):
        throttle = after_failure(throttle, clock.now(), DEFAULT)
        assert throttle.failures == n
        assert throttle.locked_until is None
        assert locked_for(throttle, clock.now()) is None
        check_not_locked(throttle, clock.now())
        clock.advance(timedelta(minutes=3))


@pytest.mark.parametrize(
    "fifth_at",
    [timedelta(seconds=4), timedelta(minutes=10), timedelta(minutes=14, seconds=59)],
)
def test_fifth_failure_in_window_locks_for_15_minutes(fifth_at: timedelta) -> None:
    # AUTH-11: 5 failures in 15 minutes lock the card for 15 minutes.
    clock = FixedClock(T0)
    throttle = _fail([timedelta(0), timedelta(seconds=1), timedelta(seconds=2), fifth_at / 2])
    clock.set(T0 + fifth_at)
    throttle = after_failure(throttle, clock.now(), DEFAULT)
    assert throttle.failures == 5
    assert throttle.locked_until == clock.now() + timedelta(minutes=15)
    assert locked_for(throttle, clock.now()) == timedelta(minutes=15)
    refused = _locked(throttle, clock.now())
    assert (refused.code, refused.rule) == (ErrorCode.ACCOUNT_LOCKED, "AUTH-11")
    assert refused.params == {"retry_after": 900}


def test_lock_expires() -> None:
    # AUTH-11: the lock lasts 15 minutes, then a login may be tried again.
    clock = FixedClock(T0)
    throttle = _fail([timedelta(0)] * 5)
    clock.advance(timedelta(minutes=14, seconds=59))
    assert locked_for(throttle, clock.now()) == timedelta(seconds=1)
    assert _locked(throttle, clock.now()).params == {"retry_after": 1}
    clock.advance(timedelta(seconds=1))
    assert locked_for(throttle, clock.now()) is None
    check_not_locked(throttle, clock.now())


def test_failure_after_lock_expiry_starts_again() -> None:
    # AUTH-11: once the lock is over, one more failure does not lock again at once.
    clock = FixedClock(T0)
    throttle = _fail([timedelta(0)] * 5)
    clock.advance(timedelta(minutes=15))
    throttle = after_failure(throttle, clock.now(), DEFAULT)
    assert throttle.failures == 1
    assert locked_for(throttle, clock.now()) is None
    check_not_locked(throttle, clock.now())


@pytest.mark.parametrize(
    "times_in_minutes",
    [
        [0, 4, 8, 12, 15],  # the fifth comes exactly when the window closes
        [0, 1, 2, 3, 20],
        [0, 30, 60, 90, 120],
    ],
)
def test_failures_spread_over_more_than_the_window_do_not_lock(
    times_in_minutes: list[int],
) -> None:
    # AUTH-11: only failures inside the last window count (a sliding window).
    throttle = _fail([timedelta(minutes=m) for m in times_in_minutes])
    now = T0 + timedelta(minutes=times_in_minutes[-1])
    assert throttle.failures == sum(1 for m in times_in_minutes if times_in_minutes[-1] - m < 15)
    assert throttle.locked_until is None
    check_not_locked(throttle, now)


def test_restarted_count_can_lock_again() -> None:
    # AUTH-11: after the count restarts, five failures in the new window lock.
    throttle = _fail([timedelta(minutes=m) for m in (0, 1, 2, 3, 16, 17, 18, 19)])
    assert (throttle.failures, throttle.locked_until) == (4, None)
    throttle = after_failure(throttle, T0 + timedelta(minutes=20), DEFAULT)
    assert throttle.locked_until == T0 + timedelta(minutes=35)


def test_burst_across_window_boundary_locks() -> None:
    # AUTH-11: "5 failures in 15 min": seven failures within two seconds must lock the card.
    first = timedelta(0)
    burst = [timedelta(minutes=14, seconds=59)] * 3 + [timedelta(minutes=15)] * 4
    throttle = _fail([first, *burst])
    assert locked_for(throttle, T0 + timedelta(minutes=15)) is not None


@pytest.mark.parametrize(
    ("remaining", "retry_after"),
    [
        (timedelta(minutes=15), 900),
        (timedelta(minutes=7, seconds=30), 450),
        (timedelta(seconds=1), 1),
        (timedelta(milliseconds=500), 1),
        (timedelta(microseconds=1), 1),
        (timedelta(seconds=59, milliseconds=1), 60),
        (timedelta(seconds=1, microseconds=1), 2),
    ],
)
def test_locked_answer_says_how_long(remaining: timedelta, retry_after: int) -> None:
    # AUTH-11: ACCOUNT_LOCKED carries whole seconds to wait, rounded up, never zero.
    now = T0 + timedelta(minutes=3)
    throttle = LoginThrottle(recent=(), locked_until=now + remaining)
    refused = _locked(throttle, now)
    assert refused.code is ErrorCode.ACCOUNT_LOCKED
    assert refused.rule == "AUTH-11"
    seconds = refused.params["retry_after"]
    assert type(seconds) is int
    assert seconds == retry_after
    assert seconds >= remaining.total_seconds()


def test_lockout_error_is_the_same_for_any_card() -> None:
    # AUTH-11: the lock answer says nothing about the card; the throttle never sees one.
    throttle = _fail([timedelta(0)] * 5)
    refused = _locked(throttle, T0)
    assert set(refused.params) == {"retry_after"}
    assert refused.field is None


def test_lockout_values_come_from_policy() -> None:
    # AUTH-11: 5 / 15 min / 15 min are defaults; configured values are honoured.
    policy = AccountPolicy(lockout_failures=3, lockout_window_minutes=10, lockout_minutes=30)
    clock = FixedClock(T0)
    throttle = _fail([timedelta(0), timedelta(minutes=1)], policy)
    assert throttle.locked_until is None
    clock.set(T0 + timedelta(minutes=2))
    throttle = after_failure(throttle, clock.now(), policy)
    assert throttle.locked_until == clock.now() + timedelta(minutes=30)
    assert _locked(throttle, clock.now()).params == {"retry_after": 1800}
    # Three failures under the defaults lock nothing.
    assert _fail([timedelta(0), timedelta(minutes=1), timedelta(minutes=2)]).locked_until is None
    # The 10-minute window drops the first failure where the default 15 minutes would not.
    spread = [timedelta(minutes=m) for m in (0, 5, 10)]
    assert _fail(spread, policy).failures == 2
    assert _fail(spread, policy).locked_until is None
    assert _fail(spread).failures == 3
    clock.advance(timedelta(minutes=30))
    check_not_locked(throttle, clock.now())


def test_guessable_from_the_patrons_phone_number() -> None:
    """AUTH-6, 「第3者が推測できそうなパスワードは避けてください。」: the telephone number on the
    card, whole or any six of its digits in a row, however it was written (072-620-1601)."""

    def problem(password: str) -> PasswordProblem | None:
        return password_problem(password, card_number=CARD, birth_date=BIRTH, phone="072-620-1601")

    assert problem("0726201601") is PasswordProblem.PERSONAL_DATA
    assert problem("6201601") is PasswordProblem.PERSONAL_DATA
    assert problem("tel201601") is PasswordProblem.PERSONAL_DATA
    assert problem("yomu2468") is None
    assert problem("ab1601cd") is None  # four digits of it alone are not the number
    none = password_problem("0726201601", card_number=CARD, birth_date=BIRTH, phone=None)
    assert none is not PasswordProblem.PERSONAL_DATA
