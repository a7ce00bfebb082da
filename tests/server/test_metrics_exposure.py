"""/metrics tells an outsider nothing (AUTH-8): closed in production unless a token is
configured, and no gauge moves on whether one anonymous request matched a patron."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from server.settings import Settings
from tests.support import Api, Factory, app_client, production_settings

RESET = """mutation($c: String!, $e: String!) { requestPasswordReset(cardNumber: $c, email: $e) {
  accepted } }"""


def _gauges(text: str) -> dict[str, float]:
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        if family.type == "gauge"
        for sample in family.samples
        if not sample.name.endswith("_created")  # a counter's creation time, not a gauge
    }


async def test_one_anonymous_reset_moves_no_gauge(api: Api, factory: Factory) -> None:
    # AUTH-8: a reset that matched and one that did not look alike, in /metrics too.
    patron = await factory.patron("yomu2468", email1="hanako@example.jp")
    await api.gql(RESET, {"c": patron.card_number, "e": "other@example.jp"})  # no match
    before = _gauges((await api.http.get("/metrics")).text)
    await api.gql(RESET, {"c": patron.card_number, "e": "hanako@example.jp"})  # a match
    after = _gauges((await api.http.get("/metrics")).text)
    assert before == after


async def test_metrics_closed_in_production_without_a_token(
    settings: Settings, tmp_path: Path
) -> None:
    # SEC: production serves /metrics only to the configured bearer token.
    production = production_settings(settings, tmp_path)
    async with app_client(production) as client:
        assert (await client.http.get("/metrics")).status_code == 404
    with_token = production.model_copy(update={"metrics_token": SecretStr("s3cret-token")})
    async with app_client(with_token) as client:
        assert (await client.http.get("/metrics")).status_code == 401
        bearer = {"authorization": "Bearer s3cret-token"}
        assert (await client.http.get("/metrics", headers=bearer)).status_code == 200
