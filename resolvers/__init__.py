"""The work behind each field, one package per domain (``shared`` for what they all use):
load through loaders, ask policies, write in one transaction. Never imports ``schema``:
returns ORM rows or plain dataclasses."""
