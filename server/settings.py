"""Settings from ``HONDANA_*`` environment variables.

The defaults are the embedded setup, so a fresh clone runs with nothing configured: a
SQLite file, the SQLite Celery broker and a maildir, all under ``var/``. Setting
``HONDANA_DATABASE_URL=postgresql+asyncpg://...`` and ``HONDANA_BROKER_URL=redis://...``
is the production switch; no code changes.

This module imports nothing of the project but ``policies.config`` and ``policies.clock``,
so the workers may use it too.
"""

from __future__ import annotations

import os
from dataclasses import fields
from datetime import time
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from policies.config import (
    AccountPolicy,
    CategoryLimits,
    CirculationPolicy,
    EbookPolicy,
    PolicyConfig,
    ServicePolicy,
)

VAR_DIR = Path("var")


# The values are defined once, in policies/config.py; settings only name them for the
# environment and bound them. Each settings class mirrors one policy dataclass field for field
# (tests/server/test_settings_policy.py keeps them equal), and ``_build`` copies them across.
P = TypeVar("P")
_ACCOUNTS, _CIRCULATION = AccountPolicy(), CirculationPolicy()
_EBOOKS, _SERVICE, _LIMITS = EbookPolicy(), ServicePolicy(), CategoryLimits()


def _build(cls: type[P], source: BaseModel) -> P:
    """The policy dataclass ``cls`` filled from the settings fields of the same names."""
    return cls(**{f.name: getattr(source, f.name) for f in fields(cls)})  # type: ignore[arg-type]


class LimitsSettings(BaseModel):
    """Per-category limits (HOLD-2, LOAN-5), e.g. ``HONDANA_POLICY__HOLD_LIMITS__VIDEOS=6``."""

    books_and_magazines: int = Field(_LIMITS.books_and_magazines, ge=0)
    cds_and_cassettes: int = Field(_LIMITS.cds_and_cassettes, ge=0)
    videos: int = Field(_LIMITS.videos, ge=0)

    def to_policy(self) -> CategoryLimits:
        return _build(CategoryLimits, self)


class EbookSettings(BaseModel):
    """E-book limits and periods (EBOOK-2, EBOOK-3), e.g. ``HONDANA_POLICY__EBOOKS__MAX_LOANS=5``."""

    max_loans: int = Field(_EBOOKS.max_loans, ge=0)
    loan_days: int = Field(_EBOOKS.loan_days, ge=1)
    max_holds: int = Field(_EBOOKS.max_holds, ge=0)
    hold_keep_days: int = Field(_EBOOKS.hold_keep_days, ge=1)

    def to_policy(self) -> EbookPolicy:
        return _build(EbookPolicy, self)


class PolicySettings(BaseModel):
    """The policy configuration, e.g. ``HONDANA_POLICY__PICKUP_DAYS=10``: account and
    circulation values flat, limits and e-books nested."""

    session_idle_minutes: int = Field(_ACCOUNTS.session_idle_minutes, ge=1)
    session_absolute_hours: int = Field(_ACCOUNTS.session_absolute_hours, ge=1)
    lockout_failures: int = Field(_ACCOUNTS.lockout_failures, ge=1)
    lockout_window_minutes: int = Field(_ACCOUNTS.lockout_window_minutes, ge=1)
    lockout_minutes: int = Field(_ACCOUNTS.lockout_minutes, ge=1)
    hold_limits: LimitsSettings = LimitsSettings()
    loan_limits: LimitsSettings = LimitsSettings()
    basket_max: int = Field(_CIRCULATION.basket_max, ge=1)
    bookshelves_max: int = Field(_CIRCULATION.bookshelves_max, ge=1)
    bookshelf_size: int = Field(_CIRCULATION.bookshelf_size, ge=1)
    card_valid_years: int = Field(_CIRCULATION.card_valid_years, ge=1)
    overdue_block_days: int = Field(_CIRCULATION.overdue_block_days, ge=0)
    loan_days: int = Field(_CIRCULATION.loan_days, ge=1)
    loan_days_branch_room: int = Field(_CIRCULATION.loan_days_branch_room, ge=1)
    renewal_days: int = Field(_CIRCULATION.renewal_days, ge=1)
    renewal_days_branch_room: int = Field(_CIRCULATION.renewal_days_branch_room, ge=1)
    max_renewals: int = Field(_CIRCULATION.max_renewals, ge=0)
    pickup_days: int = Field(_CIRCULATION.pickup_days, ge=1)
    due_reminder_days: int = Field(_CIRCULATION.due_reminder_days, ge=0)
    overdue_notice_after_days: int = Field(_CIRCULATION.overdue_notice_after_days, ge=1)
    overdue_notice_every_days: int = Field(_CIRCULATION.overdue_notice_every_days, ge=1)
    ebooks: EbookSettings = EbookSettings()
    timezone: str = _SERVICE.timezone
    maintenance_start: time = _SERVICE.maintenance_start
    maintenance_end: time = _SERVICE.maintenance_end

    def to_policy(self) -> PolicyConfig:
        """The immutable object the rules take."""
        circulation = {f.name: getattr(self, f.name) for f in fields(CirculationPolicy)}
        circulation.update(
            hold_limits=self.hold_limits.to_policy(), loan_limits=self.loan_limits.to_policy()
        )
        return PolicyConfig(
            accounts=_build(AccountPolicy, self),
            circulation=CirculationPolicy(**circulation),
            ebooks=self.ebooks.to_policy(),
            service=_build(ServicePolicy, self),
        )


# Anyone can read it here, so anyone could forge digital-card codes and reading links with it.
DEVELOPMENT_SECRET_KEY = "development-only-not-secret"
# A production key signs digital-card codes and reading links: 32 bytes or more, and not
# one character repeated (a placeholder, not a random value).
MIN_SECRET_BYTES = 32
MIN_SECRET_DISTINCT = 8


def _networks(text: str) -> tuple[IPv4Network | IPv6Network, ...]:
    return tuple(ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip())


class Settings(BaseSettings):
    """Everything configurable, read from ``HONDANA_*`` variables (and ``.env`` if present)."""

    model_config = SettingsConfigDict(
        env_prefix="HONDANA_", env_nested_delimiter="__", env_file=".env", extra="ignore"
    )

    env: Literal["development", "production", "test"] = "development"
    database_url: str = f"sqlite+aiosqlite:///{VAR_DIR}/hondana.db"
    broker_url: str = f"sqla+sqlite:///{VAR_DIR}/celery-broker.db"
    maildir: Path = VAR_DIR / "maildir"
    # Celery beat's schedule (shelve files ``<name>.db`` or ``.dat/.dir/.bak``).
    beat_schedule: Path = VAR_DIR / "celerybeat-schedule"
    # Signs short-lived codes (digital card, reading links). Must be set in production.
    secret_key: SecretStr = SecretStr(DEVELOPMENT_SECRET_KEY)
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    db_pool_size: int = Field(10, ge=1)
    db_echo: bool = False
    # argon2id (OWASP: m=19 MiB, t=2, p=1 as the floor) and the threads that run it.
    argon2_time_cost: int = Field(2, ge=1)
    argon2_memory_kib: int = Field(19456, ge=8)
    argon2_parallelism: int = Field(1, ge=1)
    # Half the cores (1 on 2): a login storm then queues logins rather than slowing every
    # other request; the threads also run at a lower priority (resolvers/shared/passwords.py).
    hash_threads: int = Field(default_factory=lambda: max(1, (os.cpu_count() or 2) // 2), ge=1)
    max_body_bytes: int = Field(100_000, ge=1024)
    # An operation running longer is cancelled (EXECUTION_TIMEOUT); PostgreSQL cancels a
    # single statement sooner (statement_timeout), which rolls its transaction back.
    execution_timeout_seconds: float = Field(15.0, gt=0)
    db_statement_timeout_ms: int = Field(10_000, ge=0)
    cookie_secure: bool | None = None  # None: Secure everywhere but development
    # Mail (MAIL-7): the send-only From, shown with the library's name.
    mail_from: str = "no-reply@library.example.jp"
    mail_from_name: str = "茨木市立図書館"
    mail_sender: Literal["maildir", "smtp"] = "maildir"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout: float = Field(30.0, gt=0)
    dispatch_batch: int = Field(200, ge=1, le=5000)
    # Reading privacy: a sent or failed mail keeps its text and addresses this long (for
    # bounces and staff questions), then only kind, day, state and recipient domains.
    mail_retention_days: int = Field(30, ge=1, le=3650)
    # Celery results are not needed in production; tests may name a backend to wait on.
    result_backend: str | None = None
    # Operations (docs/deploy.md): /metrics wants this bearer token when it is set; a
    # Celery worker serves its own metrics on this port when it is set.
    metrics_token: SecretStr | None = None
    worker_metrics_port: int | None = Field(None, ge=1, le=65535)
    worker_metrics_addr: str = "127.0.0.1"
    # Proxies whose X-Forwarded-For is believed (comma-separated addresses or networks,
    # e.g. "10.0.0.5,10.1.0.0/24"). None by default: the peer's address is the client's.
    trusted_proxies: str = ""
    policy: PolicySettings = PolicySettings()
    # Development only, refused in production: the API, at start, sets the development clock
    # (resolvers/staff/devclock.py: one offset in the database, which the workers' scans
    # read too) to this instant (ISO 8601 with a zone), and it runs on from there, e.g. to
    # see the mail owed "on the next opening day" (MAIL-1) go out without waiting for that
    # day; `hondana demo` loads its loans as of it.
    dev_now: AwareDatetime | None = None
    # The front ends' operations by id (``hondana clients manifest``); production runs only these.
    trusted_documents: Path = Path(__file__).resolve().parents[1] / "clients" / "manifest.json"

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_networks(cls, value: str) -> str:
        _networks(value)  # refuse a typo at startup, not at the first request
        return value

    @property
    def proxy_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        """:attr:`trusted_proxies` as networks."""
        return _networks(self.trusted_proxies)

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    def check_production(self) -> None:
        """Refuse to run production on settings that only make sense in development: the
        development signing key is public (it is in this file)."""
        if not self.is_production:
            return
        if self.dev_now is not None:
            raise RuntimeError("HONDANA_DEV_NOW moves the clock: never in production")
        key = self.secret_key.get_secret_value()
        weak = len(key.encode()) < MIN_SECRET_BYTES or len(set(key)) < MIN_SECRET_DISTINCT
        if key == DEVELOPMENT_SECRET_KEY or weak:
            raise RuntimeError(
                "HONDANA_SECRET_KEY is the development default or too weak: production needs "
                f"its own random value of {MIN_SECRET_BYTES}+ bytes (e.g. `openssl rand -hex "
                "32`), the same on every API process (docs/deploy.md)"
            )

    @property
    def secure_cookies(self) -> bool:
        return self.cookie_secure if self.cookie_secure is not None else self.env != "development"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
