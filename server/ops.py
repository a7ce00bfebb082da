"""Operations endpoints: ``/healthz`` (the process is alive), ``/readyz`` (it can serve:
database and broker answer) and ``/metrics`` (Prometheus).

All three answer during the maintenance window (SVC-1), so probes and scrapes don't see
the daily window as an outage. See ``docs/deploy.md`` for how they are meant to be used.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from kombu.connection import Connection
from kombu.transport import resolve_transport
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from policies.clock import Clock
from server.metrics import Metrics, outbox_snapshot

log = logging.getLogger("hondana.ops")
# Each readiness check gives up after this long: a probe must answer before its own timeout.
CHECK_TIMEOUT = 2.0


def broker_ping(url: str, timeout: float = CHECK_TIMEOUT) -> None:
    """Open a connection to the broker and close it; raises if that is not possible.

    Blocking (kombu), so callers run it in a thread. ``max_retries=0``: one attempt only.
    """
    # redis: a reply that never comes ends too (the SQLAlchemy broker takes no such option)
    options = {} if url.startswith("sqla+") else {"socket_timeout": timeout}
    with Connection(  # type: ignore[no-untyped-call]  # kombu is partly typed
        url, connect_timeout=timeout, transport_options=options
    ) as c:
        c.ensure_connection(max_retries=0, timeout=timeout)
        # The embedded SQLAlchemy broker "connects" without opening its database: ask it.
        session = getattr(c.default_channel, "session", None)
        if session is not None:
            session.execute(text("SELECT 1"))


async def database_ping(engine: AsyncEngine) -> None:
    """``SELECT 1`` on a pooled connection."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


@dataclass(slots=True)
class Ops:
    """The three endpoints over one app's engine, broker URL and metrics."""

    engine: AsyncEngine
    broker_url: str
    metrics: Metrics
    clock: Clock
    token: SecretStr | None = None
    # Production without a token: /metrics is not served at all (404).
    closed: bool = False
    # Broker checks block; two threads of their own, so a hanging broker cannot take the
    # loop's default executor (which DNS lookups use) away from everything else.
    _pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=2, thread_name_prefix="readyz")
    )

    def __post_init__(self) -> None:
        # Import the broker's transport now, not in the first probe: importing it (kombu's
        # SQLAlchemy transport: a quarter second idle, seconds on a loaded machine) holds
        # the interpreter, and the first probe's database check timed out behind it.
        try:
            resolve_transport(Connection(self.broker_url).transport_cls)  # type: ignore[no-untyped-call]
        except Exception:  # an unusable URL is the probe's to report
            log.debug("broker transport of %s not resolved", self.broker_url, exc_info=True)

    def routes(self) -> list[Route]:
        """``/healthz``, ``/readyz`` and ``/metrics``."""
        return [
            Route("/healthz", self.healthz),
            Route("/readyz", self.readyz),
            Route("/metrics", self.scrape),
        ]

    async def healthz(self, _: Request) -> JSONResponse:
        """Alive: no database, no broker, always ``{"status": "ok"}``."""
        return JSONResponse({"status": "ok"})

    async def readyz(self, _: Request) -> JSONResponse:
        """Ready when ``SELECT 1`` and a broker connection both succeed in time; otherwise
        503 naming the part that failed (details go to the log, not to the prober)."""
        database, broker = await asyncio.gather(self._check_database(), self._check_broker())
        ready = database == "ok" and broker == "ok"
        body = {
            "status": "ready" if ready else "unavailable",
            "database": database,
            "broker": broker,
        }
        return JSONResponse(
            body, status_code=200 if ready else 503, headers={"cache-control": "no-store"}
        )

    async def _check_database(self) -> str:
        try:
            await asyncio.wait_for(database_ping(self.engine), CHECK_TIMEOUT)
        except TimeoutError:
            log.warning("readiness: database did not answer within %.1f s", CHECK_TIMEOUT)
            return "timeout"
        except Exception as exc:  # any failure means not ready; the log says which
            log.warning("readiness: database failed: %s: %s", type(exc).__name__, exc)
            return "failed"
        return "ok"

    async def _check_broker(self) -> str:
        try:
            await asyncio.wait_for(
                asyncio.wrap_future(self._pool.submit(broker_ping, self.broker_url)),
                CHECK_TIMEOUT + 0.5,  # kombu's own timeouts end the thread's wait first
            )
        except TimeoutError:
            log.warning("readiness: broker did not answer within %.1f s", CHECK_TIMEOUT)
            return "timeout"
        except Exception as exc:
            log.warning("readiness: broker failed: %s: %s", type(exc).__name__, exc)
            return "failed"
        return "ok"

    def _authorized(self, request: Request) -> bool:
        if self.token is None:
            return True
        auth = request.headers.get("authorization", "")
        given = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        return hmac.compare_digest(given.encode(), self.token.get_secret_value().encode())

    async def scrape(self, request: Request) -> Response:
        """The Prometheus text format; the outbox gauges are refreshed first (one query)."""
        if self.closed and self.token is None:
            return PlainTextResponse("not found", status_code=404)
        if not self._authorized(request):
            return PlainTextResponse(
                "metrics need the bearer token",
                status_code=401,
                headers={"www-authenticate": "Bearer"},
            )
        try:
            snapshot = await asyncio.wait_for(
                outbox_snapshot(self.engine, self.clock.now()), CHECK_TIMEOUT
            )
        except Exception as exc:  # the HTTP series are still worth serving
            self.metrics.scrape_errors.inc()
            log.warning("metrics: outbox query failed: %s: %s", type(exc).__name__, exc)
        else:
            self.metrics.set_outbox(snapshot)
        return Response(
            generate_latest(self.metrics.registry),
            headers={"content-type": CONTENT_TYPE_LATEST, "cache-control": "no-store"},
        )
