"""Account types and operations: patrons and staff, login, passwords, preferences and web
applications."""
