"""Staff types and operations: the counter, calendars and cataloguing."""
