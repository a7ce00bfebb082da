"""Mail: queueing an outbox row, the notices owed by scans and trapping, and the outbox as
dispatchers and staff see it."""
