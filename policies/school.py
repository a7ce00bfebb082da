"""School age in the Japanese school year (AUTH-2, AUTH-3, EBOOK-1).

A child starts elementary school on the 1 April after turning 6. Legally one becomes a
year older on the day before the birthday, so a child born on 1 April turns 6 on 31 March
and starts a year earlier than one born on 2 April.
"""

from __future__ import annotations

from datetime import date

from policies.errors import ErrorCode, RuleViolation

FIRST_ELEMENTARY = 1
FIRST_MIDDLE_SCHOOL = 7


def school_grade(birth: date, today: date) -> int:
    """The school year the person is in (1 = first year of elementary school, 7 = first year
    of middle school, ...); 0 or less before elementary school."""
    entry_year = birth.year + (6 if (birth.month, birth.day) <= (4, 1) else 7)
    school_year = today.year if (today.month, today.day) >= (4, 1) else today.year - 1
    return school_year - entry_year + 1


def check_password_age(birth: date, today: date, guardian_consent: bool) -> None:
    """Passwords go to elementary-school age and older; pupils need a guardian's consent
    (AUTH-2)."""
    grade = school_grade(birth, today)
    if grade < FIRST_ELEMENTARY:
        raise RuleViolation(ErrorCode.TOO_YOUNG, "AUTH-2")
    if grade < FIRST_MIDDLE_SCHOOL and not guardian_consent:
        raise RuleViolation(ErrorCode.GUARDIAN_CONSENT_REQUIRED, "AUTH-2")


def check_web_application_age(birth: date, today: date) -> None:
    """Applying for a password on the web is for middle-school age and older; younger
    patrons apply at the counter (AUTH-3)."""
    if school_grade(birth, today) < FIRST_MIDDLE_SCHOOL:
        raise RuleViolation(ErrorCode.COUNTER_ONLY, "AUTH-3")
