"""A catalogue of the real LC sample, loaded once per database kind and shared read-only
by the search tests (the ``api`` fixture empties its database for every test, so this one
lives in a database of its own)."""

from __future__ import annotations

import asyncio
import functools
import os
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from models import Library, Record
from models.db import create_engine, create_session_factory
from models.migrate import upgrade
from policies.clock import FixedClock
from policies.enums import LibraryKind
from policies.folding import fold, tokens
from server.app import create_app
from server.catalogue_import import PreparedBatch, import_records, prepared_file_batches
from server.settings import Settings
from tests.conftest import T0, _pg_admin
from tests.support import Api

SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "data" / "lc-books-2016-sample.mrc"


@functools.cache
def _prepared() -> list[PreparedBatch]:
    """The sample decoded, folded and read once per process: both databases' catalogues
    are loaded from it (preparing is most of a load's time; the import does not change it)."""
    return list(prepared_file_batches(SAMPLE, workers=2))


async def _load(url: str) -> None:
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    try:
        async with sessions() as db, db.begin():
            db.add_all(
                Library(code=code, name=name, name_en=code, kind=LibraryKind.BRANCH, position=n)
                for n, (code, name) in enumerate((("central", "中央"), ("kita", "北")))
            )
        async with sessions() as db:
            libraries = list((await db.execute(select(Library.id))).scalars())

        def plan(data: object) -> list[dict[str, object]]:
            # Every title at the first library, every third one at the second too.
            plan.n += 1  # type: ignore[attr-defined]
            held = libraries if plan.n % 3 == 0 else libraries[:1]  # type: ignore[attr-defined]
            return [{"library_id": lib} for lib in held]

        plan.n = 0  # type: ignore[attr-defined]
        await import_records(
            sessions,
            _prepared(),
            now=datetime(2026, 11, 1, tzinfo=UTC),
            copies=plan,
        )
    finally:
        await engine.dispose()


@contextmanager
def _loaded_catalogue(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second database of the kind of ``database_url`` holding all 19,554 sample records,
    indexed."""
    parsed = make_url(database_url)
    if parsed.get_backend_name() == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('catalogue') / 'catalogue.db'}"
        name = None
    else:
        name = f"hondana_catalogue_{os.getpid()}_{secrets.token_hex(3)}"
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
        url = parsed.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        asyncio.run(_load(url))
        yield url
    finally:
        if name is not None:
            asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def loaded_catalogues(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], str]]:
    """The loaded sample catalogue of a database's kind, loaded on first use and kept (and
    dropped) for the whole run, however the tests of the two kinds alternate (see
    ``database_url``)."""
    loaded: dict[str, str] = {}
    with ExitStack() as stack:

        def load(database_url: str) -> str:
            if database_url not in loaded:
                catalogue = _loaded_catalogue(database_url, tmp_path_factory)
                loaded[database_url] = stack.enter_context(catalogue)
            return loaded[database_url]

        yield load


@pytest.fixture(scope="session")
def catalogue_url(database_url: str, loaded_catalogues: Callable[[str], str]) -> str:
    """The loaded sample catalogue of ``database_url``'s kind."""
    return loaded_catalogues(database_url)


@pytest.fixture
async def catalogue(catalogue_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    """The API over the loaded sample catalogue."""
    settings = Settings(
        env="test",
        database_url=catalogue_url,
        maildir=tmp_path / "maildir",
        broker_url="memory://",
        _env_file=None,
    )
    app = create_app(settings, clock=FixedClock(T0), notify=lambda: None)
    client = Api(app)
    try:
        yield client
    finally:
        await client.aclose()
        await app.state.engine.dispose()


@dataclass(frozen=True)
class Sample:
    """The loaded records with their folded fields, read once per database kind, so tests
    can check results against a plain scan."""

    records: dict[int, Record]
    folded: dict[int, list[str]]  # title (+reading, series), author, publisher, subject
    words: dict[int, list[set[str]]]


async def _read(url: str) -> Sample:
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as db:
            records = {r.id: r for r in (await db.execute(select(Record))).scalars()}
    finally:
        await engine.dispose()
    folded = {rid: [fold(f) for f in fields_of(r)] for rid, r in records.items()}
    words = {
        rid: [{t for t, cjk in tokens(f) if not cjk} for f in texts]
        for rid, texts in folded.items()
    }
    return Sample(records, folded, words)


def fields_of(r: Record) -> list[str]:
    """A record's searchable text, grouped as the index groups it."""

    def run(kana: str | None) -> str | None:  # a reading is indexed as one run of kana
        return kana.replace(" ", "") if kana else None

    return [
        "\n".join(filter(None, (r.title, r.title_reading, r.series, run(r.title_kana)))),
        "\n".join(
            filter(None, (r.responsibility, r.responsibility_reading, run(r.responsibility_kana)))
        ),
        "\n".join(filter(None, (r.publisher, r.publisher_reading, run(r.publisher_kana)))),
        "\n".join(filter(None, (r.subjects, r.subject_class))),
    ]


_SAMPLES: dict[str, Sample] = {}


@pytest.fixture(scope="session")
def sample(catalogue_url: str) -> Sample:
    """The sample catalogue as plain data (read once per database kind)."""
    if catalogue_url not in _SAMPLES:
        _SAMPLES[catalogue_url] = asyncio.run(_read(catalogue_url))
    return _SAMPLES[catalogue_url]
