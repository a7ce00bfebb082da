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
from datetime import time
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from policies.clock import Clock, OffsetClock, SystemClock
from policies.config import (
    AccountPolicy,
    CategoryLimits,
    CirculationPolicy,
    PolicyConfig,
    ServicePolicy,
)

VAR_DIR = Path("var")


class LimitsSettings(BaseModel):
    """Per-category limits (HOLD-2)."""

    books_and_magazines: int = Field(20, ge=0)
    cds_and_cassettes: int = Field(8, ge=0)
    videos: int = Field(4, ge=0)

    def to_policy(self) -> CategoryLimits:
        return CategoryLimits(**self.model_dump())


class PolicySettings(BaseModel):
    """The circulation policy configuration, e.g. ``HONDANA_POLICY__PICKUP_DAYS=10``."""

    session_idle_minutes: int = Field(15, ge=1)
    session_absolute_hours: int = Field(12, ge=1)
    lockout_failures: int = Field(5, ge=1)
    lockout_window_minutes: int = Field(15, ge=1)
    lockout_minutes: int = Field(15, ge=1)
    hold_limits: LimitsSettings = LimitsSettings()
    loan_limits: LimitsSettings = LimitsSettings()
    basket_max: int = Field(100, ge=1)
    bookshelves_max: int = Field(5, ge=1)
    bookshelf_size: int = Field(100, ge=1)
    card_valid_years: int = Field(3, ge=1)
    overdue_block_days: int = Field(4, ge=0)
    loan_days: int = Field(15, ge=1)
    loan_days_branch_room: int = Field(14, ge=1)
    renewal_days: int = Field(15, ge=1)
    renewal_days_branch_room: int = Field(14, ge=1)
    max_renewals: int = Field(1, ge=0)
    pickup_days: int = Field(7, ge=1)
    due_reminder_days: int = Field(2, ge=0)
    overdue_notice_after_days: int = Field(7, ge=1)
    overdue_notice_every_days: int = Field(14, ge=1)
    timezone: str = "Asia/Tokyo"
    maintenance_start: time = time(3, 50)
    maintenance_end: time = time(4, 20)

    def to_policy(self) -> PolicyConfig:
        """The immutable object the rules take."""
        return PolicyConfig(
            accounts=AccountPolicy(
                session_idle_minutes=self.session_idle_minutes,
                session_absolute_hours=self.session_absolute_hours,
                lockout_failures=self.lockout_failures,
                lockout_window_minutes=self.lockout_window_minutes,
                lockout_minutes=self.lockout_minutes,
            ),
            circulation=CirculationPolicy(
                hold_limits=self.hold_limits.to_policy(),
                loan_limits=self.loan_limits.to_policy(),
                basket_max=self.basket_max,
                bookshelves_max=self.bookshelves_max,
                bookshelf_size=self.bookshelf_size,
                card_valid_years=self.card_valid_years,
                overdue_block_days=self.overdue_block_days,
                loan_days=self.loan_days,
                loan_days_branch_room=self.loan_days_branch_room,
                renewal_days=self.renewal_days,
                renewal_days_branch_room=self.renewal_days_branch_room,
                max_renewals=self.max_renewals,
                pickup_days=self.pickup_days,
                due_reminder_days=self.due_reminder_days,
                overdue_notice_after_days=self.overdue_notice_after_days,
                overdue_notice_every_days=self.overdue_notice_every_days,
            ),
            service=ServicePolicy(
                timezone=self.timezone,
                maintenance_start=self.maintenance_start,
                maintenance_end=self.maintenance_end,
            ),
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
    # Development only, refused in production: the API's and the workers' clocks start at
    # this instant (ISO 8601 with a zone) and run on from there, e.g. to see the mail owed
    # "on the next opening day" (MAIL-1) go out without waiting for that day.
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

    def clock(self) -> Clock:
        """The clock the API and the workers read: the machine's, or from ``dev_now`` on."""
        return OffsetClock(self.dev_now) if self.dev_now is not None else SystemClock()

    @property
    def secure_cookies(self) -> bool:
        return self.cookie_secure if self.cookie_secure is not None else self.env != "development"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
