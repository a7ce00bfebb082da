"""Production runs only the front ends' trusted documents, with introspection and field
suggestions off (OWASP GraphQL Cheat Sheet; issue [6/8])."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from policies.clock import FixedClock
from policies.enums import StaffRole
from schema.root import make_schema
from server.app import create_app
from server.settings import Settings
from server.trusted import build_manifest, manifest_text
from tests.conftest import T0
from tests.support import Api, Factory


@pytest.fixture
async def production(database_url: str, tmp_path: Path, api: Api) -> AsyncIterator[Api]:
    """The app in production mode over the same (emptied) database as ``api``."""
    manifest = tmp_path / "manifest.json"
    manifest.write_text(manifest_text(), encoding="utf-8")
    settings = Settings(
        env="production",
        database_url=database_url,
        secret_key=SecretStr("production-test-secret-0123456789"),
        trusted_documents=manifest,
        maildir=tmp_path / "maildir",
        broker_url="memory://",
        _env_file=None,
    )
    client = Api(create_app(settings, clock=FixedClock(T0), notify=lambda: None))
    try:
        yield client
    finally:
        await client.aclose()
        await client.app.state.engine.dispose()


def _id(client: str, operation: str) -> str:
    for doc_id, entry in build_manifest()["documents"].items():
        if {"client": client, "operation": operation} in entry["uses"]:
            return doc_id
    raise KeyError(operation)


def _code(body: dict[str, object]) -> str:
    return body["errors"][0]["extensions"]["code"]  # type: ignore[index]


async def test_ad_hoc_documents_are_refused_and_manifest_ids_work(
    production: Api, factory: Factory
) -> None:
    await factory.library("central")
    response = await production.post("{ libraries { id name } }")
    assert response.status_code == 400
    assert _code(response.json()) == "TRUSTED_DOCUMENT_REQUIRED"
    unknown = await production.by_id("0" * 64)
    assert unknown.status_code == 400 and _code(unknown.json()) == "UNKNOWN_DOCUMENT"
    listed = await production.by_id(
        _id("web-opac", "Libraries"), {"from": "2026-12-01", "to": "2026-12-07"}
    )
    assert listed.status_code == 200
    assert [lib["code"] for lib in listed.json()["data"]["libraries"]] == ["central"]
    get = await production.http.get("/graphql", params={"query": "{ libraries { id } }"})
    assert get.status_code == 400 and _code(get.json()) == "TRUSTED_DOCUMENT_REQUIRED"
    graphiql = await production.http.get("/graphql", headers={"accept": "text/html"})
    assert "graphiql" not in graphiql.text.lower()


async def test_a_document_id_cannot_carry_other_text(production: Api) -> None:
    response = await production.http.post(
        "/graphql",
        json={"documentId": _id("web-opac", "Me"), "query": "{ __schema { types { name } } }"},
    )
    assert response.status_code == 400 and _code(response.json()) == "UNKNOWN_DOCUMENT"


@pytest.mark.parametrize(
    "document", ["{ __schema { types { name } } }", '{ __type(name: "Record") { name } }']
)
async def test_introspection_is_off_in_production(document: str) -> None:
    result = await make_schema(production=True).execute(document)
    assert result.errors
    assert result.errors[0].extensions["code"] == "INTROSPECTION_DISABLED"  # type: ignore[index]
    assert (await make_schema().execute(document)).errors is None


async def test_no_field_suggestions_in_production() -> None:
    document = "{ libraris { id } }"
    development = await make_schema().execute(document)
    production = await make_schema(production=True).execute(document)
    assert development.errors and "Did you mean" in development.errors[0].message
    assert production.errors and "Did you mean" not in production.errors[0].message


def test_production_refuses_to_start_without_a_manifest(tmp_path: Path) -> None:
    settings = Settings(
        env="production",
        secret_key=SecretStr("production-test-secret-0123456789"),
        trusted_documents=tmp_path / "missing.json",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
        _env_file=None,
    )
    with pytest.raises(RuntimeError, match="manifest"):
        create_app(settings)
    assert json.loads(manifest_text())["version"] == 1


@pytest.mark.parametrize(
    "key",
    [None, "", "development-only-not-secret", "x", "k" * 40, "0123456789abcdef0123456789abcde"],
)
def test_production_refuses_to_start_with_the_development_secret_key(
    tmp_path: Path, key: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SECURITY.md (secrets): the development key is public, so digital-card codes and
    # reading links signed with it could be forged; production names the variable to set.
    monkeypatch.delenv("HONDANA_SECRET_KEY", raising=False)  # None: the default applies
    given = {} if key is None else {"secret_key": SecretStr(key)}
    settings = Settings(
        env="production",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
        _env_file=None,
        **given,  # type: ignore[arg-type]
    )
    with pytest.raises(RuntimeError, match="HONDANA_SECRET_KEY"):
        create_app(settings)
    development = Settings(env="development", database_url=settings.database_url, _env_file=None)
    development.check_production()  # the default is fine outside production


async def test_dev_clock_and_scans_refused_in_production(
    production: Api, api: Api, factory: Factory
) -> None:
    """The development clock is refused outright in production (DEV_CLOCK_DISABLED), even
    for an ADMIN sending the staff dashboard's own documents; HONDANA_DEV_NOW stops start."""
    await factory.staff("admin", "staffpass1", {StaffRole.ADMIN})
    token = await api.staff_login("admin", "staffpass1")  # same database, a bearer session
    cases = (
        ("SetDevClock", {"now": "2026-12-24T10:00:00+09:00"}, "setDevClock"),
        ("AdvanceDevClock", {"days": 8}, "advanceDevClock"),
        ("RunScheduledScan", {"scan": "HOLD_EXPIRY"}, "runScheduledScan"),
    )
    for operation, variables, field in cases:
        body = (
            await production.by_id(_id("staff-dashboard", operation), variables, token=token)
        ).json()
        assert [e["code"] for e in body["data"][field]["errors"]] == ["DEV_CLOCK_DISABLED"]
    with pytest.raises(RuntimeError, match="HONDANA_DEV_NOW"):
        Settings(
            env="production",
            secret_key=SecretStr("production-test-secret-0123456789"),
            dev_now="2026-12-24T10:00:00+09:00",
            _env_file=None,
        ).check_production()


async def test_both_front_ends_are_served_with_their_trusted_ids(production: Api) -> None:
    # The OPAC (every history-API address gets the page) and the app (its manifest, its
    # service worker at /app/ and its operation ids) run in production.
    http = production.http
    for path in ["/", "/search", "/record/UmVjb3JkOjE", "/my/holds", "/password/reset"]:
        page = await http.get(path)
        assert page.status_code == 200 and "/opac/static/main.js" in page.text, path
    assert (await http.get("/my/holds/extra")).status_code == 404
    manifest = build_manifest()["documents"]
    for front, path in [
        ("web-opac", "/opac/operations.json"),
        ("smartphone", "/app/operations.json"),
    ]:
        ids = (await http.get(path)).json()
        assert ids and all(
            any(u["client"] == front for u in manifest[i]["uses"]) for i in ids.values()
        )
    shell = await http.get("/app/")
    assert "manifest.webmanifest" in shell.text and "content-security-policy" in shell.headers
    worker = await http.get("/app/sw.js")
    assert worker.headers["content-type"].startswith("text/javascript")
    assert (await http.get("/app/manifest.webmanifest")).json()["scope"] == "/app/"
