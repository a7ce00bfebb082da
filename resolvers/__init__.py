"""The work behind each field, one module per domain: load through loaders, ask policies,
write in one transaction. Never imports ``schema``: returns ORM rows or plain dataclasses."""
