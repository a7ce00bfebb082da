"""The browser suite's fixtures: one `hondana demo` + `hondana serve` subprocess for the
whole suite (the demo library takes a minute to load), Debian's Chromium driven by
Playwright (no browser is downloaded) and axe-core from the `axe-playwright-python` wheel
(its bundled axe.min.js: nothing is fetched at run time)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import hondana_serve

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP: dict[str, Any] = {"viewport": {"width": 1100, "height": 900}, "locale": "ja-JP"}
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "locale": "ja-JP",
}
# The demo patrons (server/demo.py).
PATRON = ("1000000001", "honyomi26")  # active password, three loans
TEMPORARY = ("1000000002", "kari2468")  # temporary password (AUTH-5)
BLOCKED = ("1000000004", "entai0505")  # a loan 10 days overdue (CARD-3)

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() and os.environ.get("HONDANA_REQUIRE_SERVICES") != "1",
    reason="Debian's chromium is not installed (apt-get install chromium)",
)


@pytest.fixture(scope="session")
def demo_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`hondana demo` loaded once (it takes a minute): a pristine SQLite file that each
    server below copies, so one suite's changes never reach another's."""
    if not CHROMIUM.exists():
        if os.environ.get("HONDANA_REQUIRE_SERVICES") == "1":
            pytest.fail("HONDANA_REQUIRE_SERVICES=1 but /usr/bin/chromium is missing")
        pytest.skip("Debian's chromium is not installed")
    home = tmp_path_factory.mktemp("demo")
    env = {
        **os.environ,
        "HONDANA_DATABASE_URL": f"sqlite+aiosqlite:///{home / 'demo.db'}",
        "HONDANA_MAILDIR": str(home / "maildir"),
        "HONDANA_BROKER_URL": "memory://",
    }
    hondana = [sys.executable, "-m", "server.cli"]
    subprocess.run([*hondana, "demo"], env=env, cwd=ROOT, check=True, capture_output=True)  # noqa: S603
    return home / "demo.db"


@contextmanager
def demo_server(demo: Path, home: Path) -> Iterator[str]:
    """`hondana serve` on a free port over a copy of the demo library in ``home``."""
    for part in demo.parent.glob(demo.name + "*"):
        shutil.copy(part, home / part.name)
    env = {
        **os.environ,
        "HONDANA_DATABASE_URL": f"sqlite+aiosqlite:///{home / demo.name}",
        "HONDANA_MAILDIR": str(home / "maildir"),
        "HONDANA_BROKER_URL": "memory://",
    }
    with hondana_serve(env) as url:
        yield url


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, demo_library: Path) -> Iterator[str]:
    """The OPAC and app suites' server, over their own copy of the demo library."""
    if os.environ.get("HONDANA_BROWSER_SERVER"):  # a running demo server, while developing
        yield os.environ["HONDANA_BROWSER_SERVER"]
        return
    with demo_server(demo_library, tmp_path_factory.mktemp("opac")) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import expect, sync_playwright

    # Logging in hashes with argon2id on a shared machine: give answers time, never a sleep.
    expect.set_options(timeout=20_000)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


class Page:
    """A fresh browser context (no cookies, no storage) with its page; page errors and
    console errors are collected and must stay empty."""

    def __init__(self, browser: Any, server: str, device: dict[str, Any]) -> None:
        self.context = browser.new_context(base_url=server, **device)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("pageerror", lambda error: self.problems.append(str(error)))
        self.page.on(
            "console",
            lambda m: (
                self.problems.append(m.text)
                if m.type == "error" and "status of 4" not in m.text
                else None
            ),
        )


def _page(browser: Any, server: str, device: dict[str, Any]) -> Iterator[Any]:
    holder = Page(browser, server, device)
    yield holder.page
    holder.context.close()
    assert holder.problems == []


@pytest.fixture
def desktop(browser: Any, server: str) -> Iterator[Any]:
    """A page at 1100×900."""
    yield from _page(browser, server, DESKTOP)


@pytest.fixture
def phone(browser: Any, server: str) -> Iterator[Any]:
    """A phone: 390×844, touch, mobile."""
    yield from _page(browser, server, PHONE)


def login(page: Any, card: tuple[str, str], path: str = "/login") -> None:
    """Log in through the OPAC's form."""
    page.goto(path)
    page.fill("#card-number", card[0])
    page.fill("#password", card[1])
    page.click("#login-button")
    from playwright.sync_api import expect

    expect(page.locator("body.patron")).to_have_count(1)
    expect(page.locator("main h1")).not_to_have_text("ログイン")


def no_axe_violations(page: Any) -> None:
    """axe-core (WCAG 2 A/AA and best practices) finds nothing on the page as it stands."""
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import expect

    expect(page.locator("main:not([aria-busy]) h1")).to_have_count(1)  # the view is drawn
    results = Axe().run(page)
    assert results.violations_count == 0, (page.url, results.generate_report())


def touch_friendly(page: Any) -> None:
    """Every visible button, select and text field is at least 44 px high and every field
    uses a 16 px or larger font (iOS zooms into smaller ones on focus)."""
    from playwright.sync_api import expect

    expect(page.locator("main:not([aria-busy]) h1")).to_have_count(1)
    small = page.evaluate(
        """() => [...document.querySelectorAll('button, select, input:not([type=checkbox]):not([type=radio]), textarea, nav a')]
          .filter((e) => e.offsetParent !== null)
          .flatMap((e) => {
            const r = e.getBoundingClientRect();
            const size = parseFloat(getComputedStyle(e).fontSize);
            const bad = [];
            if (r.height < 44) bad.push(`${e.tagName} ${e.textContent || e.name} ${r.height}px high`);
            if (e.tagName !== 'BUTTON' && e.tagName !== 'A' && size < 16) bad.push(`${e.tagName} ${e.name} font ${size}px`);
            return bad;
          })"""
    )
    assert small == [], (page.url, small)


def issue_temporary_password(server: str, card_number: str) -> str:
    """A counter clerk issues a temporary password (AUTH-2) through the staff API, so a
    test has its own temporary-password patron."""
    docs = ROOT / "clients" / "staff-dashboard"
    headers = {"X-Hondana-Client": "staff-dashboard"}
    with httpx.Client(base_url=server, headers=headers) as staff:
        login = {"username": "admin", "password": "admin2026x"}
        staff.post(
            "/graphql",
            json={
                "query": (docs / "StaffLogin.graphql").read_text(encoding="utf-8"),
                "variables": login,
            },
        ).raise_for_status()
        answer = staff.post(
            "/graphql",
            json={
                "query": (docs / "IssuePassword.graphql").read_text(encoding="utf-8"),
                "variables": {"cardNumber": card_number, "guardianConsent": False, "proxy": False},
            },
        ).json()
    issued = answer["data"]["issuePassword"]
    assert issued["errors"] == [], issued
    return str(issued["temporaryPassword"])
