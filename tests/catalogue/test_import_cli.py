"""``hondana import-marc`` end to end: worker processes, copies per library, a bad record
skipped and reported without stopping the run, re-import updating in place."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models import Copy, Library, Record
from models.db import create_engine, create_session_factory
from policies.enums import LibraryKind, MaterialType
from server import cli
from server.settings import get_settings
from tests.support import empty_database

SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "data" / "lc-books-2016-sample.mrc"


async def _prepare(url: str) -> None:
    engine = create_engine(url)
    await empty_database(engine)
    async with create_session_factory(engine)() as db, db.begin():
        db.add(Library(code="central", name="中央", name_en="Central", kind=LibraryKind.CENTRAL))
    await engine.dispose()


async def _counts(url: str) -> tuple[int, int, int]:
    """Titles, copies, and titles that are not e-books (which get no copies)."""
    engine = create_engine(url)
    async with create_session_factory(engine)() as db:
        records = await db.scalar(select(func.count()).select_from(Record))
        copies = await db.scalar(select(func.count()).select_from(Copy))
        printed = await db.scalar(
            select(func.count()).where(Record.material_type != MaterialType.EBOOK)
        )
    await engine.dispose()
    return int(records or 0), int(copies or 0), int(printed or 0)


def test_import_marc_command(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # SEARCH-7: import loads, indexes and reports; a bad record never aborts the run.
    records = SAMPLE.read_bytes().split(b"\x1d")[:300]
    records.insert(150, b"00042nam  garbage that is not a record")
    marc = tmp_path / "small.mrc"
    marc.write_bytes(b"\x1d".join(records) + b"\x1d")
    monkeypatch.setenv("HONDANA_DATABASE_URL", database_url)
    get_settings.cache_clear()
    asyncio.run(_prepare(database_url))
    try:
        args = ["import-marc", str(marc), "--copies", "central=2", "--workers", "2"]
        assert cli.main(args) == 0
        first = capsys.readouterr()
        assert "inserted 300, updated 0, skipped 1" in first.out
        assert "skipped #151 (-): unreadable record" in first.out
        titles, copies, printed = asyncio.run(_counts(database_url))
        assert (titles, copies) == (300, 2 * printed)
        assert cli.main(["import-marc", str(marc), "--workers", "1"]) == 0
        again = capsys.readouterr()
        assert "inserted 0, updated 300, skipped 1" in again.out
        assert asyncio.run(_counts(database_url))[0] == 300
        with pytest.raises(SystemExit, match="--copies"):
            cli.main(["import-marc", str(marc), "--copies", "nowhere=1"])
    finally:
        get_settings.cache_clear()
