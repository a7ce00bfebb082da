"""The Starlette application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from models.db import create_engine, create_session_factory
from policies.clock import Clock, ShiftedClock, SystemClock
from resolvers.ebooks import reading
from resolvers.shared.context import Services
from resolvers.shared.passwords import PasswordHasher
from resolvers.staff import devclock
from schema.root import make_schema
from server import collector
from server.graphql import HondanaGraphQL
from server.metrics import Metrics, MetricsMiddleware
from server.middleware import (
    ClientAddressMiddleware,
    MaintenanceMiddleware,
    RequestGuardMiddleware,
    RequestIdMiddleware,
)
from server.ops import Ops
from server.settings import Settings, get_settings
from server.trusted import TrustedDocuments

OPAC_DIR = Path(__file__).resolve().parent / "static" / "opac"
# The reference staff dashboard (STAFF-1..5), served the same way beside the OPAC.
STAFF_DIR = Path(__file__).resolve().parent / "static" / "staff"
APP_DIR = Path(__file__).resolve().parent / "static" / "app"
# The OPAC's own addresses (history API): a reload or a shared link gets the page, which
# then shows the view the address names. Anything else stays a 404.
OPAC_PAGES = [
    "/search",
    "/record/{id}",
    "/login",
    "/password/{step}",
    "/apply",
    "/calendar",
    "/arrivals",
    "/my",
    "/my/{page}",
]
# The OPAC page loads only its own script and stylesheet and talks only to this origin.
OPAC_HEADERS = {
    "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'",
    "cache-control": "no-cache",
}


def _dispatch_nudger() -> Callable[[], None]:
    """Send the dispatcher task to the broker (no retries: the beat is the backstop), from a
    publish-only Celery app whose sends time out on a hung broker. Called only from the
    nudge thread (resolvers/shared/nudge.py), so the lazy set-up needs no lock."""
    publisher: list[Any] = []

    def send() -> None:
        if not publisher:
            from workers.app import create_celery

            publisher.append(create_celery(publisher=True))
        publisher[0].send_task("hondana.mail.dispatch", retry=False)

    return send


def make_hasher(settings: Settings) -> PasswordHasher:
    """The argon2id hasher with the configured cost and thread count."""
    return PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_kib=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
        threads=settings.hash_threads,
    )


def _front_ends(trusted: TrustedDocuments) -> list[BaseRoute]:
    """The three front ends as static files, each with its operation-name → document-id map."""

    async def index(_: Request) -> Response:
        # The reference web OPAC (plain HTML and JavaScript, clients/web-opac operations).
        return FileResponse(OPAC_DIR / "index.html", headers=OPAC_HEADERS)

    async def opac_operations(_: Request) -> JSONResponse:
        # Operation name -> trusted-document id, so the page sends ids, never query text.
        return JSONResponse(trusted.ids_for("web-opac"), headers={"cache-control": "no-store"})

    async def staff_index(_: Request) -> Response:
        # The reference staff dashboard (plain HTML and JavaScript, staff-dashboard operations).
        return FileResponse(STAFF_DIR / "index.html", headers=OPAC_HEADERS)

    async def staff_redirect(_: Request) -> Response:
        return RedirectResponse("/staff/")

    async def staff_operations(_: Request) -> JSONResponse:
        ops = trusted.ids_for("staff-dashboard")
        return JSONResponse(ops, headers={"cache-control": "no-store"})

    async def app_shell(_: Request) -> Response:
        # The smartphone app (an installable PWA; clients/smartphone operations, bearer token).
        return FileResponse(APP_DIR / "index.html", headers=OPAC_HEADERS)

    async def app_manifest(_: Request) -> Response:
        return FileResponse(
            APP_DIR / "manifest.webmanifest",
            media_type="application/manifest+json",
            headers=OPAC_HEADERS,
        )

    async def app_worker(_: Request) -> Response:
        # Served from /app/ so the service worker's scope is the app, and nothing else.
        return FileResponse(APP_DIR / "sw.js", media_type="text/javascript", headers=OPAC_HEADERS)

    async def app_operations(_: Request) -> JSONResponse:
        return JSONResponse(trusted.ids_for("smartphone"), headers={"cache-control": "no-store"})

    return [
        Route("/", index),
        *(Route(path, index) for path in OPAC_PAGES),
        Route("/opac/operations.json", opac_operations),
        Mount("/opac/static", StaticFiles(directory=OPAC_DIR), name="opac"),
        Route("/staff", staff_redirect),
        Route("/staff/", staff_index),
        Route("/staff/operations.json", staff_operations),
        Mount("/staff/static", StaticFiles(directory=STAFF_DIR), name="staff"),
        Route("/app/", app_shell),
        Route("/app/operations.json", app_operations),
        Route("/app/manifest.webmanifest", app_manifest),
        Route("/app/sw.js", app_worker),
        Mount("/app/static", StaticFiles(directory=APP_DIR), name="app"),
    ]


def _ebook_reader(services: Services, clock: Clock) -> Callable[[Request], Awaitable[Response]]:
    """The reading-link endpoint (EBOOK-5)."""

    async def read_ebook(request: Request) -> Response:
        # EBOOK-5: the signed link opens the reader; the book itself is never a download.
        try:
            loan_id = int(request.path_params["loan_id"])
            expires = int(request.query_params.get("expires", ""))
        except ValueError:
            return PlainTextResponse("not found", status_code=404)
        sig = request.query_params.get("sig", "")
        if not reading.link_is_valid(
            services.secret_key, loan_id, expires, sig, clock.now()
        ) or not await reading.loan_is_open(services.sessions, loan_id):
            return PlainTextResponse("this reading link has expired", status_code=403)
        return HTMLResponse(
            "<!doctype html><meta charset=utf-8><title>電子書籍リーダー</title>"
            "<p>電子書籍リーダー(配信事業者のビューアがここに開きます)</p>",
            headers={"cache-control": "no-store"},
        )

    return read_ebook


def _services(
    settings: Settings, clock: Clock, engine: AsyncEngine, notify: Callable[[], None] | None
) -> Services:
    """What lives as long as the app, for every request's context."""
    return Services(
        policy=settings.policy.to_policy(),
        clock=clock,
        sessions=create_session_factory(engine),
        hasher=make_hasher(settings),
        secure_cookies=settings.secure_cookies,
        production=settings.is_production,
        notify=notify or _dispatch_nudger(),
        secret_key=settings.secret_key.get_secret_value().encode(),
    )


def _middleware(
    settings: Settings, services: Services, metrics: Metrics, trusted: TrustedDocuments
) -> list[Middleware]:
    """The ASGI middleware, outermost first: what is refused before GraphQL runs."""
    return [
        Middleware(MetricsMiddleware, metrics=metrics),  # outermost: sees every refusal
        Middleware(RequestIdMiddleware),
        Middleware(ClientAddressMiddleware, trusted_proxies=settings.proxy_networks),
        Middleware(MaintenanceMiddleware, clock=services.clock, policy=services.policy.service),
        Middleware(RequestGuardMiddleware, max_body_bytes=settings.max_body_bytes, trusted=trusted),
    ]


def _lifespan(
    settings: Settings, services: Services, clock: Clock, engine: AsyncEngine
) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    """Start: the development clock's stored offset is read, and outside tests the garbage
    collector is set for serving (server/collector.py). Stop: the nudger's connection and
    the database pool are closed."""

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if isinstance(clock, ShiftedClock):
            await devclock.start(services.sessions, clock, settings.dev_now)
        if settings.env != "test":  # a test process makes hundreds of apps: no freezing
            collector.tune()
        yield
        if services.nudger is not None:
            services.nudger.close()
        await engine.dispose()

    return lifespan


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    notify: Callable[[], None] | None = None,
) -> Starlette:
    """Build the app. Tests pass their own settings (database), a movable clock and a
    stand-in for the dispatcher nudge; by default the nudge goes to the Celery broker."""
    settings = settings or get_settings()
    settings.check_production()  # before anything is opened: nothing to close on refusal
    clock = clock or SystemClock()
    if not settings.is_production:
        clock = ShiftedClock(clock)  # the development clock (resolvers.staff.devclock)
    engine = create_engine(
        settings.database_url,
        echo=settings.db_echo,
        pool_size=settings.db_pool_size,
        statement_timeout_ms=settings.db_statement_timeout_ms or None,
    )
    services = _services(settings, clock, engine, notify)
    graphql = HondanaGraphQL(
        make_schema(
            production=settings.is_production, execution_timeout=settings.execution_timeout_seconds
        ),
        services,
        ide=not settings.is_production,
    )
    trusted = TrustedDocuments.load(settings.trusted_documents, required=settings.is_production)

    metrics = Metrics()
    graphql.metrics = metrics
    ops = Ops(
        engine=engine,
        broker_url=settings.broker_url,
        metrics=metrics,
        clock=clock,
        token=settings.metrics_token,
        closed=settings.is_production,
    )
    app = Starlette(
        routes=[
            *_front_ends(trusted),
            *ops.routes(),  # /healthz, /readyz, /metrics
            Route("/ebooks/read/{loan_id}", _ebook_reader(services, clock)),
            Route("/graphql", graphql, methods=["GET", "POST"]),
        ],
        middleware=_middleware(settings, services, metrics, trusted),
        lifespan=_lifespan(settings, services, clock, engine),
    )
    app.state.services = services
    app.state.trusted = trusted
    app.state.engine = engine
    app.state.metrics = metrics
    app.state.graphql = graphql  # its ready queries, for tests

    return app
