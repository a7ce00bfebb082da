"""Operations endpoints: liveness, readiness and the Prometheus metrics."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from models import OutboxMessage
from policies.enums import OutboxState
from server.settings import Settings
from tests.support import Api, app_client
from workers import metrics as worker_metrics


def _value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


async def test_healthz_is_always_ok(api: Api) -> None:
    # OPS: liveness needs no database
    response = await api.http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_ok_when_database_and_broker_answer(api: Api) -> None:
    # OPS: readiness
    response = await api.http.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": "ok", "broker": "ok"}


async def test_readyz_503_when_broker_refuses(settings: Settings) -> None:
    # OPS: readiness names the broker when it refuses connections
    async with app_client(
        settings.model_copy(update={"broker_url": "redis://127.0.0.1:1/0"})
    ) as client:
        response = await client.http.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "broker": "failed"}


async def test_readyz_503_when_database_unreachable(settings: Settings) -> None:
    # OPS: readiness names the database when it is not there
    bad = "postgresql+asyncpg://postgres@127.0.0.1:1/nothing"
    async with app_client(settings.model_copy(update={"database_url": bad})) as client:
        response = await client.http.get("/readyz")
    assert response.status_code == 503
    assert response.json()["database"] == "failed"
    assert response.json()["broker"] == "ok"


async def test_metrics_expose_requests_latency_and_error_codes(api: Api) -> None:
    # OPS: the listed series, after a search, an UNAUTHENTICATED and a CSRF refusal
    await api.gql('{ search(query: "猫", first: 5) { totalCount } }')
    await api.gql("{ me { name } }")
    refused = await api.http.post(
        "/graphql", json={"query": "{ me { name } }"}, headers={"cookie": "hondana_session=x"}
    )
    assert refused.status_code == 403
    await api.http.get("/ebooks/read/12345?expires=1&sig=x")
    response = await api.http.get("/metrics")
    assert response.status_code == 200
    text = response.text
    # Every API series docs/deploy.md lists (task outcomes are on the worker's port:
    # tests/workers/test_worker.py).
    names = {
        sample.name for family in text_string_to_metric_families(text) for sample in family.samples
    }
    for series in (
        "hondana_http_requests_total",  # requests
        "hondana_http_request_duration_seconds_bucket",  # latency
        "hondana_http_request_duration_seconds_sum",
        "hondana_http_request_duration_seconds_count",
        "hondana_errors_total",  # errors by code
        "hondana_outbox_retrying",
        "hondana_outbox_oldest_age_seconds",  # outbox age
        "hondana_metrics_scrape_errors_total",
    ):
        assert series in names, series
    registry = api.app.state.metrics.registry
    assert (
        _value(
            registry, "hondana_http_requests_total", route="/graphql", method="POST", status="200"
        )
        == 2
    )
    assert (
        _value(
            registry, "hondana_http_requests_total", route="/graphql", method="POST", status="403"
        )
        == 1
    )
    # Route templates, never raw paths.
    assert (
        _value(
            registry,
            "hondana_http_requests_total",
            route="/ebooks/read/{loan_id}",
            method="GET",
            status="403",
        )
        == 1
    )
    assert "12345" not in text
    assert _value(registry, "hondana_errors_total", code="UNAUTHENTICATED") == 1
    assert _value(registry, "hondana_errors_total", code="CSRF_REQUIRED") == 1
    assert _value(registry, "hondana_http_request_duration_seconds_count", route="/graphql") == 3


async def test_outbox_backlog_and_age_from_seeded_rows(api: Api, factory, clock) -> None:
    # OPS: outbox backlog and age of the oldest due row, computed at scrape time
    now = clock.now()

    def row(key: str, state: OutboxState, due: timedelta, attempts: int = 0) -> OutboxMessage:
        return OutboxMessage(
            dedupe_key=key,
            kind="due_reminder",
            payload={},
            state=state,
            attempts=attempts,
            not_before=now - due,
            next_attempt_at=now - due,
            created_at=now - timedelta(days=1),
        )

    await factory.add(
        row("a", OutboxState.PENDING, timedelta(minutes=30)),
        row("b", OutboxState.PENDING, timedelta(minutes=5), attempts=2),
        row("c", OutboxState.PENDING, -timedelta(days=1)),  # owed tomorrow: not due
        row("d", OutboxState.SENT, timedelta(days=3)),  # history: not backlog
    )
    assert (await api.http.get("/metrics")).status_code == 200
    registry = api.app.state.metrics.registry
    # No backlog gauge: it would move on one anonymous reset (test_metrics_exposure.py).
    assert _value(registry, "hondana_outbox_backlog") is None
    assert _value(registry, "hondana_outbox_retrying") == 1
    assert _value(registry, "hondana_outbox_oldest_age_seconds") == 30 * 60


async def test_metrics_token_required_when_set(settings: Settings) -> None:
    # SEC: /metrics is not world-readable when HONDANA_METRICS_TOKEN is set
    token = SecretStr("s3cret-token")
    async with app_client(settings.model_copy(update={"metrics_token": token})) as client:
        anonymous = await client.http.get("/metrics")
        wrong = await client.http.get("/metrics", headers={"authorization": "Bearer nope"})
        right = await client.http.get("/metrics", headers={"authorization": "Bearer s3cret-token"})
    assert anonymous.status_code == 401
    assert wrong.status_code == 401
    assert right.status_code == 200
    assert "hondana_http_requests_total" in right.text


def test_worker_task_outcome_counters() -> None:
    # OPS: worker-side task outcomes, through the Celery signal handlers
    task = SimpleNamespace(name="hondana.ops-test")
    registry = worker_metrics.REGISTRY

    def count(outcome: str) -> float:
        value = _value(registry, "hondana_celery_tasks_total", task=task.name, outcome=outcome)
        return value or 0.0

    before = {o: count(o) for o in worker_metrics.TASK_OUTCOMES}
    worker_metrics.on_task_success(sender=task, result=None)
    worker_metrics.on_task_success(sender=task, result=None)
    worker_metrics.on_task_failure(sender=task, exception=ValueError("x"))
    worker_metrics.on_task_retry(sender=task, reason="later")
    assert count("success") - before["success"] == 2
    assert count("failure") - before["failure"] == 1
    assert count("retry") - before["retry"] == 1
    sent_before = _value(registry, "hondana_mail_deliveries_total", outcome="sent") or 0.0
    report = SimpleNamespace(sent=3, retried=1, failed=0, skipped=0)
    assert worker_metrics.count_deliveries(report) is report
    assert _value(registry, "hondana_mail_deliveries_total", outcome="sent") == sent_before + 3
