"""Japanese school year (AUTH-2, AUTH-3): 1 April birthdays start a year earlier."""

from __future__ import annotations

from datetime import date

import pytest

from policies.errors import ErrorCode, RuleViolation
from policies.school import check_password_age, check_web_application_age, school_grade


@pytest.mark.parametrize(
    ("birth", "today", "grade"),
    [
        (date(2019, 4, 2), date(2026, 4, 1), 1),  # turned 6 in April 2025: starts April 2026
        (date(2019, 4, 1), date(2025, 4, 1), 1),  # born 1 April: a year earlier
        (date(2019, 4, 2), date(2025, 4, 1), 0),  # born 2 April: still preschool
        (date(2019, 4, 2), date(2026, 3, 31), 0),
        (date(2020, 1, 1), date(2026, 4, 1), 1),
        (date(2013, 4, 2), date(2026, 4, 1), 7),  # first year of middle school
        (date(2013, 4, 1), date(2026, 3, 31), 7),
        (date(2014, 3, 31), date(2026, 11, 30), 7),
        (date(1990, 5, 17), date(2026, 11, 30), 30),  # entered in April 1997
    ],
)
def test_school_grade(birth: date, today: date, grade: int) -> None:
    # AUTH-2: elementary school starts on the 1 April after turning 6.
    assert school_grade(birth, today) == grade


def _code(fn, *args):
    try:
        fn(*args)
    except RuleViolation as no:
        return no.code
    return None


def test_password_age_and_consent() -> None:
    # AUTH-2: elementary-school age or older; pupils need a guardian's consent.
    today = date(2026, 11, 30)
    assert _code(check_password_age, date(2021, 5, 1), today, True) is ErrorCode.TOO_YOUNG
    assert (
        _code(check_password_age, date(2018, 5, 1), today, False)
        is ErrorCode.GUARDIAN_CONSENT_REQUIRED
    )
    assert _code(check_password_age, date(2018, 5, 1), today, True) is None
    assert _code(check_password_age, date(2012, 5, 1), today, False) is None


def test_web_application_is_for_middle_school_and_older() -> None:
    # AUTH-3: younger patrons apply at the counter.
    today = date(2026, 11, 30)
    assert _code(check_web_application_age, date(2015, 5, 1), today) is ErrorCode.COUNTER_ONLY
    assert _code(check_web_application_age, date(2014, 3, 31), today) is None
    assert _code(check_web_application_age, date(2014, 4, 1), today) is None
    assert _code(check_web_application_age, date(2014, 4, 2), today) is ErrorCode.COUNTER_ONLY
