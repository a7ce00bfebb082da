"""The privacy sweep (issue [R2 4/9]): after a scripted day of an opted-out patron — holds
placed, collected (lent by the digital card), cancelled and expired; loans renewed, reminded,
overdue and returned; e-books borrowed, held and returned; every notice sent (new arrivals
too), then the mail retention passed — no
row of any table links that patron to a title, a copy or a loan.

The tables and columns come from the SQLAlchemy metadata, so a table added later is swept
without editing this test. A row is the patron's when a foreign key leads to the patron
(directly or through other rows) or a text or JSON value holds their card number, name or
an address; it is about a title when a foreign key leads to a record (a copy, loan, hold...)
or a text or JSON value holds a title or a loan/hold/record/copy id. A row that is both is
a link. So is an instant in the patron's rows within a second of one in an anonymised row
of a table where patrons meet titles: a join on time would re-link them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

import models
from models import EbookTitle, Patron, Record
from policies.clock import FixedClock
from policies.enums import ContactMethod, CopyStatus, MaterialType, StaffRole
from tests.circulation.ops import CHECK_IN, PULLED, RENEW, gid, hold_for
from tests.support import Api, Factory
from tests.workers.conftest import Sink, Workers

CANCEL = "mutation($h: ID!) { cancelHold(holdId: $h) { hold { state } errors { code } } }"
BORROW = "mutation($r: ID!) { borrowEbook(recordId: $r) { loan { id } errors { code } } }"
RETURN = "mutation($l: ID!) { returnEbook(loanId: $l) { loan { id } errors { code } } }"
HOLD = "mutation($r: ID!) { placeEbookHold(recordId: $r) { hold { id } errors { code } } }"
CARD = "{ myCard { code } }"
BY_CARD = """mutation($k: String!, $b: String!, $l: ID!) {
  checkOut(cardCode: $k, barcode: $b, libraryId: $l) { loan { id } errors { code } } }"""
ID_MENTION = re.compile(r"(hold|loan|record|copy)\w*[\"':\s=-]*\d+", re.IGNORECASE)
# Monday 30 November 2026, 10:00:07.123 in Tokyo: odd instants, so nothing meets by chance.
DAY0 = datetime(2026, 11, 30, 1, 0, 7, 123000, tzinfo=UTC)


@dataclass
class Day:
    """The script's moving parts."""

    api: Api
    factory: Factory
    clock: FixedClock
    workers: Workers
    patron: Patron
    desk: str = ""
    token: str = ""

    async def at(self, delta: timedelta) -> None:
        """Move the clock to DAY0 + ``delta`` and log in again (sessions run out)."""
        self.clock.set(DAY0 + delta)
        self.desk = await self.api.staff_login("desk", "staffpass1")
        self.token = await self.api.login(self.patron.card_number, "yomu2468")

    async def ok(self, query: str, token: str, **variables: Any) -> dict[str, Any]:
        self.clock.advance(timedelta(seconds=3, milliseconds=7))
        body = await self.api.gql(query, variables, token=token)
        assert "errors" not in body, body
        payload: dict[str, Any] = next(iter(body["data"].values()))
        assert not payload.get("errors"), payload
        return payload

    def task(self, name: str, delta: timedelta) -> dict[str, int]:
        result: dict[str, int] = self.workers.call(name, now=(DAY0 + delta).isoformat())
        return result


async def _script(day: Day, other: Patron) -> None:
    f, api = day.factory, day.api
    central = await f.library("CEN")
    lib = central.id
    books = {t: await f.record(t) for t in ("受け取る本", "取り消す本", "期限切れの本")}
    copies = {t: await f.copy(r, central) for t, r in books.items()}
    await day.at(timedelta(0))
    holds = {t: await hold_for(api, day.token, r.id, lib) for t, r in books.items()}
    await day.ok(CANCEL, day.token, h=holds["取り消す本"])
    for title in ("受け取る本", "期限切れの本"):
        await day.ok(PULLED, day.desk, b=copies[title].barcode)
    renewed = await f.copy(await f.record("延長して返す本"), central, status=CopyStatus.ON_LOAN)
    renewed_loan = await f.loan(day.patron, renewed, due_in_days=2)
    assert day.task("hondana.mail.due_reminders", timedelta(minutes=10))["sent"] == 1
    await day.ok(RENEW, day.token, l=[gid("Loan", renewed_loan.id)])
    late = await f.copy(await f.record("延滞して返す本"), central, status=CopyStatus.ON_LOAN)
    await f.loan(day.patron, late, due_in_days=-8)
    assert day.task("hondana.mail.overdue", timedelta(minutes=20))["sent"] == 1
    # Tuesday: the hold-ready mails go, the patron collects one hold and returns the rest.
    await day.at(timedelta(days=1))
    assert day.task("hondana.mail.dispatch", timedelta(days=1))["sent"] == 2
    await day.ok(CHECK_IN, day.desk, b=late.barcode, l=gid("Library", lib))
    code = (await day.api.gql(CARD, token=day.token))["data"]["myCard"]["code"]
    await day.ok(BY_CARD, day.desk, k=code, b=copies["受け取る本"].barcode, l=gid("Library", lib))
    await _ebooks(day, other)
    for copy in (copies["受け取る本"], renewed):
        await day.ok(CHECK_IN, day.desk, b=copy.barcode, l=gid("Library", lib))
    # Monday: the weekly new-arrivals mail lists the week's titles.
    assert day.task("hondana.mail.new_arrivals", timedelta(days=7))["sent"] == 1
    # Three weeks on, the uncollected hold expires; every mail is out.
    assert day.task("hondana.holds.expire", timedelta(days=20))["expired"] == 1
    day.task("hondana.mail.dispatch", timedelta(days=20, minutes=1))


async def _ebooks(day: Day, other: Patron) -> None:
    f = day.factory
    read = await f.record("電子で読む本", material_type=MaterialType.EBOOK)
    wait = await f.record("電子で待つ本", material_type=MaterialType.EBOOK)
    await f.add(
        EbookTitle(record_id=read.id, licences=1), EbookTitle(record_id=wait.id, licences=1)
    )
    loan = await day.ok(BORROW, day.token, r=gid("Record", read.id))
    await day.ok(RETURN, day.token, l=loan["loan"]["id"])
    theirs = await day.api.login(other.card_number, "yomu2468")
    their_loan = await day.ok(BORROW, theirs, r=gid("Record", wait.id))
    await day.ok(HOLD, day.token, r=gid("Record", wait.id))
    await day.ok(RETURN, theirs, l=their_loan["loan"]["id"])  # the licence is secured for us
    assert day.task("hondana.mail.dispatch", timedelta(days=1, hours=1))["sent"] == 1
    loan = await day.ok(BORROW, day.token, r=gid("Record", wait.id))
    await day.ok(RETURN, day.token, l=loan["loan"]["id"])


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return ""


class Sweep:
    """Every row of every table, and what leads where."""

    def __init__(self, rows: dict[str, list[dict[str, Any]]], patron: Patron) -> None:
        self.rows = rows
        self.tables: dict[str, Table] = {t.name: t for t in models.Base.metadata.sorted_tables}
        self.by_pk = {
            name: {tuple(r[c.name] for c in table.primary_key.columns): r for r in rows[name]}
            for name, table in self.tables.items()
        }
        self.patron = patron
        self.marks = [m for m in (patron.card_number, patron.name, patron.email1) if m]
        self.titles = [r["title"] for r in rows["records"]]

    def _leads_to(self, table: str, row: dict[str, Any], target: str, seen: int = 0) -> bool:
        """Whether a foreign key of ``row`` leads (through other rows) to ``target``; for
        ``patrons``, to this patron."""
        for fk in self.tables[table].foreign_keys:
            value = row[fk.parent.name]
            ref = fk.column.table.name
            if value is None or seen > 5:
                continue
            if ref == target:
                if target != "patrons" or value == self.patron.id:
                    return True
                continue
            referenced = self.by_pk[ref].get((value,))
            if referenced is not None and self._leads_to(ref, referenced, target, seen + 1):
                return True
        return False

    def is_patrons(self, table: str, row: dict[str, Any]) -> bool:
        if table == "patrons":
            return bool(row["id"] == self.patron.id)
        text = " ".join(_text(v) for v in row.values())
        return self._leads_to(table, row, "patrons") or any(m in text for m in self.marks)

    def is_about_a_title(self, table: str, row: dict[str, Any]) -> bool:
        text = " ".join(_text(v) for v in row.values())
        return (
            self._leads_to(table, row, "records")
            or any(t in text for t in self.titles)
            or ID_MENTION.search(text) is not None
        )

    def meeting_tables(self) -> Iterator[str]:
        """Tables where a patron meets a title: a key to patrons and a key to a record."""
        for name, table in self.tables.items():
            refs = {fk.column.table.name for fk in table.foreign_keys}
            if "patrons" in refs and refs & self._title_tables():
                yield name

    def _title_tables(self) -> set[str]:
        found = {"records"}
        while True:
            more = {
                name
                for name, table in self.tables.items()
                if {fk.column.table.name for fk in table.foreign_keys} & found
            } - found
            if not more:
                return found
            found |= more

    def links(self) -> list[str]:
        problems = []
        mine_instants: list[tuple[str, datetime]] = []
        for name, rows in self.rows.items():
            for row in rows:
                if not self.is_patrons(name, row):
                    continue
                if self.is_about_a_title(name, row):
                    problems.append(f"{name}: {row}")
                mine_instants += [(name, v) for v in row.values() if isinstance(v, datetime)]
        for name in self.meeting_tables():
            patron_keys = [
                fk.parent.name
                for fk in self.tables[name].foreign_keys
                if fk.column.table.name == "patrons"
            ]
            for row in self.rows[name]:
                if any(row[k] is not None for k in patron_keys):
                    continue
                for value in (v for v in row.values() if isinstance(v, datetime)):
                    for where, mine in mine_instants:
                        if abs(mine - value) < timedelta(seconds=1):
                            problems.append(f"{name} {row} meets {where} at {mine}")
        return problems


async def _all_rows(db: AsyncSession) -> dict[str, list[dict[str, Any]]]:
    return {
        table.name: [dict(r._mapping) for r in (await db.execute(select(table))).all()]
        for table in models.Base.metadata.sorted_tables
    }


async def test_no_row_links_an_opted_out_patron_to_what_they_read(
    api: Api, factory: Factory, clock: FixedClock, workers: Workers, smtp: Sink
) -> None:
    # Reading privacy (the guide's reading-history opt-in; JLA statement on intellectual
    # freedom): without the opt-in, nothing is left that says who read what.
    await factory.staff("desk", "staffpass1", {StaffRole.COUNTER})
    patron = await factory.patron(
        "yomu2468",
        contact_method=ContactMethod.EMAIL,
        email1="yomi@example.jp",
        due_reminder=True,
        due_reminder_days=3,
        new_arrival_fields={"keywords": ["本"]},
    )
    other = await factory.patron("yomu2468")
    day = Day(api, factory, clock, workers, patron)
    await _script(day, other)
    # Reminder, overdue notice, two hold-ready, e-book hold-ready, new arrivals.
    assert len(smtp.messages) == 6
    async with api.app.state.services.sessions() as db:
        before = Sweep(await _all_rows(db), patron).links()
    assert before, "the sweep sees the mails while they are retained"
    assert (
        workers.call("hondana.mail.scrub", now=(DAY0 + timedelta(days=52)).isoformat())["scrubbed"]
        == 6
    )
    async with api.app.state.services.sessions() as db:
        rows = await _all_rows(db)
    assert rows["loans"] and rows["holds"] and rows["ebook_loans"] and rows["ebook_holds"]
    assert Sweep(rows, patron).links() == []
    async with api.app.state.services.sessions() as db:
        assert await db.scalar(select(Record.id).limit(1)) is not None
