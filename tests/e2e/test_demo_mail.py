"""``make demo`` end to end: the real processes on the default setup send the mail.

``hondana demo`` then ``hondana up`` (``hondana serve`` and ``hondana worker --beat``, each a
process of its own) run in a scratch directory with nothing configured, so the database is
``var/hondana.db``, the broker the embedded SQLite one (``var/celery-broker.db``) and the
mail goes to ``var/maildir``, exactly as on a fresh clone. Then, through the API only, we
watch the maildir. The same runs on PostgreSQL + Redis when they answer.

Issue 16: the worker died at start on the embedded broker and no test ran it there.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url

from tests.conftest import _pg_available, scratch_pg_database, skip_unless_up
from tests.support import NO_MAINTENANCE, free_port
from tests.workers.conftest import REDIS_URL

pytestmark = pytest.mark.long

# Generous: a loaded machine takes a while to start a worker; a broken one never gets there.
DEADLINE = 90.0
TOKYO = ZoneInfo("Asia/Tokyo")
BIN = Path(sys.executable).parent
# The console script a user runs, from the same environment as this interpreter.
HONDANA = (
    [str(BIN / "hondana")] if (BIN / "hondana").exists() else [sys.executable, "-m", "server.cli"]
)
# Loans, overdue patrons and a hold all need only Japanese books at the central library;
# the shipped catalogue has three of them in every four records.
DEMO_RECORDS = "400"


class Demo:
    """``hondana demo`` and ``hondana up`` in one directory, and an API client for them."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.cwd = cwd
        self.port = free_port()
        # Nothing configured but the port, and no maintenance window (tests/support.py).
        self.env = {**env, **NO_MAINTENANCE, "HONDANA_PORT": str(self.port)}
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = cwd / "up.log"
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=30)

    def load(self) -> None:
        done = subprocess.run(  # noqa: S603 - our own CLI
            [*HONDANA, "demo", "--limit", DEMO_RECORDS],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, done.stderr.decode(errors="replace")

    def up(self, **env: str) -> None:
        """Start ``hondana up`` (as ``make demo`` does) and wait for the API to answer."""
        with self.log.open("ab") as log:
            log.write(f"\n=== hondana up {env}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(  # noqa: S603 - our own CLI
                [*HONDANA, "up"],
                cwd=self.cwd,
                env={**self.env, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: nothing outlives the test
            )
        self.wait_for(self._answers, "the API to answer")

    def _answers(self) -> bool:
        try:
            return self.http.get("/").status_code == 200
        except httpx.TransportError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def output(self) -> str:
        lines = self.log.read_text(errors="replace").splitlines()
        return "\n".join(lines[-80:])

    def wait_for(self, ready: Callable[[], Any], what: str) -> Any:
        """Poll ``ready`` until it gives something true; fail with the processes' own log
        when they stop or the deadline passes."""
        deadline = time.monotonic() + DEADLINE
        while True:
            found = ready()
            if found:
                return found
            assert self.proc is not None
            if self.proc.poll() is not None:
                pytest.fail(
                    f"hondana up stopped (exit status {self.proc.returncode}) while waiting "
                    f"for {what}; its log:\n{self.output()}"
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"waited {DEADLINE:.0f} s in vain for {what}; the log:\n{self.output()}"
                )
            time.sleep(0.5)

    def gql(self, query: str, token: str | None = None, **variables: Any) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        answer = self.http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        body = answer.json()
        assert answer.status_code == 200 and not body.get("errors"), body
        return dict(body["data"])

    def mails(self, kind: str) -> list[EmailMessage]:
        """The mails of one kind in the maildir (the Message-ID starts with the kind)."""
        new = self.cwd / "var" / "maildir" / "new"
        found = []
        for path in sorted(new.glob("*")) if new.is_dir() else []:
            mail = message_from_bytes(path.read_bytes(), policy=policy.default)
            if str(mail["Message-ID"]).startswith(f"<{kind}."):
                found.append(mail)
        return found


def _hondana_free_env() -> dict[str, str]:
    """This environment without any HONDANA_ setting: the defaults apply, as on a fresh clone."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith("HONDANA_")}
    keep.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return keep


@pytest.fixture(params=["sqlite", "postgresql"])
def demo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Demo]:
    env = _hondana_free_env()
    with ExitStack() as stack:
        if request.param == "postgresql":
            skip_unless_up(_pg_available() or _redis_problem())
            env["HONDANA_DATABASE_URL"] = stack.enter_context(scratch_pg_database("hondana_e2e"))
            # A Redis database of its own: the demo's tasks go to Celery's default queue.
            env["HONDANA_BROKER_URL"] = str(make_url(REDIS_URL).set(database="9"))
        running = Demo(tmp_path, env)
        stack.callback(running.http.close)
        stack.callback(running.stop)
        yield running


def _redis_problem() -> str | None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        return f"Redis not reachable at {REDIS_URL}: {exc}"
    return None


LOGIN = """mutation($card: String!, $password: String!) {
  login(cardNumber: $card, password: $password, delivery: BEARER) {
    accessToken errors { code } } }"""
STAFF_LOGIN = """mutation($user: String!, $password: String!) {
  staffLogin(username: $user, password: $password, delivery: BEARER) {
    accessToken errors { code } } }"""


def _token(payload: dict[str, Any]) -> str:
    assert not payload["errors"], payload
    return str(payload["accessToken"])


def _place_hold(demo: Demo, card: str, password: str, record_id: str) -> None:
    token = _token(demo.gql(LOGIN, card=card, password=password)["login"])
    added = demo.gql(
        "mutation($id: ID!) { addToBasket(recordId: $id) { entry { id } errors { code } } }",
        token,
        id=record_id,
    )["addToBasket"]
    assert not added["errors"], added
    placed = demo.gql(
        "mutation($ids: [ID!]!) { placeHolds(basketEntryIds: $ids) "
        "{ results { hold { state } errors { code } } errors { code } } }",
        token,
        ids=[added["entry"]["id"]],
    )["placeHolds"]
    assert not placed["errors"] and placed["results"][0]["hold"], placed


def _next_opening_morning(demo: Demo, library_id: str, today: date) -> datetime:
    """09:00 in Tokyo on the first day after ``today`` the library is open, from its
    calendar as the API publishes it."""
    days = demo.gql(
        "query($from: Date!, $to: Date!) { libraries { id openingDays(from: $from, to: $to) } }",
        **{"from": str(today + timedelta(days=1)), "to": str(today + timedelta(days=30))},
    )["libraries"]
    [opening] = [lib["openingDays"] for lib in days if lib["id"] == library_id]
    return datetime.combine(date.fromisoformat(opening[0]), datetime.min.time(), TOKYO).replace(
        hour=9
    )


def _body(mail: EmailMessage) -> str:
    return str(mail.get_body(("plain",)).get_content())  # type: ignore[union-attr]


def test_demo_mail_goes_out_on_the_default_setup(demo: Demo) -> None:
    demo.load()
    demo.up()

    # The mails the demo owes at once: patron 1's due-date reminder (MAIL-2) and the
    # overdue notice of patron 4, ten days late (MAIL-3).
    reminders = demo.wait_for(lambda: demo.mails("due_reminder"), "the demo's due reminder")
    notices = demo.wait_for(lambda: demo.mails("overdue"), "the demo's overdue notice")
    assert [m["To"] for m in reminders] == ["patron1@example.jp"]
    assert [m["To"] for m in notices] == ["patron4@example.jp"]

    # A staff check-in of a copy patron 1 has on loan, which patron 6 holds (MAIL-1).
    patron1 = _token(demo.gql(LOGIN, card="1000000001", password="honyomi26")["login"])
    loan = demo.gql("{ myLoans { record { id title } copy { barcode library { id } } } }", patron1)[
        "myLoans"
    ][0]
    _place_hold(demo, "1000000006", "kouiki66", loan["record"]["id"])
    staff = _token(demo.gql(STAFF_LOGIN, user="admin", password="admin2026x")["staffLogin"])
    checked_in = demo.gql(
        "mutation($barcode: String!, $lib: ID!) { checkIn(barcode: $barcode, libraryId: $lib) "
        "{ hold { state pickupLibrary { id name } } errors { code } } }",
        staff,
        barcode=loan["copy"]["barcode"],
        lib=loan["copy"]["library"]["id"],
    )["checkIn"]
    assert not checked_in["errors"] and checked_in["hold"]["state"] == "READY", checked_in
    pickup = checked_in["hold"]["pickupLibrary"]
    today = datetime.now(TOKYO).date()
    morning = _next_opening_morning(demo, pickup["id"], today)
    log = demo.gql(
        "query($card: String!) { mailLog(cardNumber: $card) { kind state notBefore } }",
        staff,
        card="1000000006",
    )["mailLog"]
    [owed] = [entry for entry in log if entry["kind"] == "hold_ready"]
    # MAIL-1: "sent on the next opening day after the hold is secured".
    assert datetime.fromisoformat(owed["notBefore"]) == morning
    assert owed["state"] == "PENDING"

    # AUTH-8 / MAIL-6: a reset with the registered card number and address is mailed.
    reset = demo.gql(
        'mutation { requestPasswordReset(cardNumber: "1000000001", '
        'email: "patron1@example.jp") { accepted } }'
    )
    assert reset["requestPasswordReset"]["accepted"]
    [password_mail] = demo.wait_for(
        lambda: demo.mails("temporary_password"), "the temporary-password mail"
    )
    assert password_mail["To"] == "patron1@example.jp"
    assert not demo.mails("hold_ready")  # not before its day

    # The next opening morning comes: the same processes, started with the clock there
    # (and the worker's metrics on, which tell when beat's dispatch last ran).
    demo.stop()
    metrics_port = free_port()
    before = time.time()
    demo.up(
        HONDANA_DEV_NOW=(morning + timedelta(minutes=1)).isoformat(),
        HONDANA_WORKER_METRICS_PORT=str(metrics_port),
    )
    [ready] = demo.wait_for(lambda: demo.mails("hold_ready"), "the hold-ready mail")
    assert ready["To"] == "patron6@example.jp"
    assert "予約資料確保のお知らせ" in str(ready["Subject"])
    text = _body(ready)
    assert loan["record"]["title"][:10] in text and pickup["name"] in text
    # docs/deploy.md: operators alert when this stops moving.
    last_run = demo.wait_for(lambda: _last_dispatch(metrics_port), "a scheduled dispatch run")
    assert last_run >= before


def _last_dispatch(port: int) -> float:
    """The worker's ``hondana_mail_dispatch_last_run_timestamp_seconds`` (0 if not yet)."""
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    except httpx.TransportError:
        return 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "hondana_mail_dispatch_last_run_timestamp_seconds":
                return float(sample.value)
    return 0.0
