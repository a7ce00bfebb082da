"""The reference web OPAC end to end in headless Chromium (Debian's package, driven by
Playwright; no browser is downloaded): log in, search a Japanese title, place a hold,
renew a loan. The API runs as a real uvicorn process over a demo library."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import HONDANA, ROOT, hondana_serve

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = ROOT / "var" / "screenshots" / "opac.png"
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

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() and os.environ.get("HONDANA_REQUIRE_SERVICES") != "1",
    reason="Debian's chromium is not installed (apt-get install chromium)",
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`hondana demo` (the 19,554 sample records) and `hondana serve` on a free port."""
    if not CHROMIUM.exists():
        pytest.fail("HONDANA_REQUIRE_SERVICES=1 but /usr/bin/chromium is missing")
    home = tmp_path_factory.mktemp("opac")
    env = {
        **os.environ,
        "HONDANA_DATABASE_URL": f"sqlite+aiosqlite:///{home / 'demo.db'}",
        "HONDANA_MAILDIR": str(home / "maildir"),
        "HONDANA_BROKER_URL": "memory://",
    }
    subprocess.run([*HONDANA, "demo"], env=env, cwd=ROOT, check=True)  # noqa: S603
    with hondana_serve(env) as url:
        yield url


def test_log_in_search_hold_and_renew(server: str) -> None:
    # AUTH-1 log in, BASKET-4 search, BASKET-1/HOLD-2 basket and two-step hold, LOAN-2 renew.
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 900}, locale="ja-JP")
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.goto(server)
        page.fill("#card-number", "1000000001")
        page.fill("#password", "honyomi26")
        page.click("#login-button")
        expect(page.locator("#who")).to_contain_text("山田 花子")

        page.fill("#query", "日本")
        page.click("#search-button")
        expect(page.locator("#result-count")).to_contain_text("件")
        first = page.locator("li.result").filter(has=page.locator(".add-to-basket")).first
        title = first.locator(".title").inner_text()
        first.locator(".add-to-basket").click()
        expect(page.locator("#message")).to_contain_text("予約かごに入れました")

        page.click("nav [data-view=basket]")
        expect(page.locator(".basket-entry")).to_have_count(1)
        page.click("#preview")
        expect(page.locator("#place")).to_be_visible()
        page.click("#place")
        expect(page.locator("#placed")).to_contain_text("予約しました")
        page.click("nav [data-view=holds]")
        expect(page.locator("li.hold").filter(has_text=title)).to_contain_text("順番待ち")

        page.click("nav [data-view=loans]")
        loan = page.locator("li.loan").filter(has=page.locator("button.renew")).first
        loan_id = loan.get_attribute("data-id")
        before = loan.locator(".due").inner_text()
        loan.locator("button.renew").click()
        expect(page.locator("#message")).to_contain_text("延長しました")
        after = page.locator(f"li.loan[data-id='{loan_id}'] .due").inner_text()
        assert after != before and "延長 1 回" in after

        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
        browser.close()
    assert problems == []
    png = SCREENSHOT.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width >= 1000 and height >= 300
