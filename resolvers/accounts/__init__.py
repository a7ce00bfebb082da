"""Accounts: login and sessions, issuing and resetting passwords, the digital card, preferences
and web applications."""
