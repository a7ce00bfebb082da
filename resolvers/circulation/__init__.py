"""Circulation: the basket, holds, loans and renewal, trapping a copy for the next hold, and
library calendars."""
