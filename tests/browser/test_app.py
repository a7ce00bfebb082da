"""The smartphone app (/app/) in headless Chromium at 390×844: it installs (manifest with
icons, a service worker caching the shell only), logs in with a bearer token kept in
memory, renews the digital card's code before it expires, and does search + hold, holds
and loans with renewal. Only clients/smartphone operations are sent."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx

from tests.browser.conftest import (
    PATRON,
    ROOT,
    issue_temporary_password,
    no_axe_violations,
    touch_friendly,
)


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _login(page: Any, card: tuple[str, str]) -> None:
    page.goto("/app/")
    page.fill("#card-number", card[0])
    page.fill("#password", card[1])
    page.click("#login-button")


def _smartphone_ids() -> set[str]:
    manifest = json.loads(Path(ROOT / "clients" / "manifest.json").read_text(encoding="utf-8"))
    return {
        doc_id
        for doc_id, entry in manifest["documents"].items()
        if any(use["client"] == "smartphone" for use in entry["uses"])
    }


def test_app_installs_and_caches_the_shell_only(phone: Any, server: str) -> None:
    # The app is installable: a manifest with 192/512 px icons and a service worker whose
    # cache holds the shell, never /graphql answers or personal data.
    expect, page = _expect(), phone
    sent: list[dict[str, Any]] = []
    page.on(
        "request",
        lambda r: (
            sent.append(json.loads(r.post_data or "{}")) if r.url.endswith("/graphql") else None
        ),
    )
    _login(page, PATRON)
    expect(page.locator("h1")).to_have_text("デジタル利用カード")
    manifest = httpx.get(f"{server}/app/manifest.webmanifest").json()
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/app/"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert httpx.get(f"{server}{icon['src']}").content[:8] == b"\x89PNG\r\n\x1a\n"
    installed = page.evaluate(
        """async () => {
          const reg = await navigator.serviceWorker.ready;
          const link = document.querySelector('link[rel=manifest]').href;
          const keys = [];
          for (const name of await caches.keys()) {
            for (const req of await (await caches.open(name)).keys()) keys.push(new URL(req.url).pathname);
          }
          return { scope: reg.scope, active: Boolean(reg.active), link, keys,
                   local: localStorage.length, session: sessionStorage.length, cookie: document.cookie };
        }"""
    )
    assert installed["active"] and installed["scope"].endswith("/app/")
    assert installed["link"].endswith("/app/manifest.webmanifest")
    assert "/app/" in installed["keys"] and "/app/static/app.js" in installed["keys"]
    assert not any("graphql" in k or "operations" in k for k in installed["keys"])
    # The token is kept in memory only.
    assert installed["local"] == 0 and installed["session"] == 0 and installed["cookie"] == ""
    # Only trusted smartphone documents went out, each with its bearer token after login.
    ids = _smartphone_ids()
    assert sent and all(body.get("documentId") in ids for body in sent)
    assert all("query" not in body for body in sent)


def test_card_code_renews_before_it_expires(phone: Any) -> None:
    """スマホde貸出: the counter scans the rotating code; a new one replaces it in time."""
    # CARD code: single use, about a minute; the app asks again before it expires.
    expect, page = _expect(), phone
    page.clock.install()
    _login(page, PATRON)
    qr = page.locator("#card-qr")
    expect(qr).to_have_attribute("src", re.compile(r"^data:image/svg\+xml"))
    first = qr.get_attribute("data-code")
    assert first and first.startswith("HD1.")
    page.clock.fast_forward("00:55")  # the app asks again at least every 50 s
    expect(qr).not_to_have_attribute("data-code", first)
    no_axe_violations(page)
    touch_friendly(page)


def test_search_hold_holds_and_loans(phone: Any) -> None:
    # BASKET-4 search, HOLD-2 (confirmation then result), HOLD-6 cancel, LOAN-2/3 renewal
    expect, page = _expect(), phone
    _login(page, PATRON)
    expect(page.locator("h1")).to_have_text("デジタル利用カード")
    page.click("[data-tab=search]")
    page.fill("#query", "歴史")
    page.click("#search-button")
    expect(page.locator("#result-count")).to_contain_text("件")
    touch_friendly(page)
    result = page.locator("li.result").filter(has=page.locator("button.hold")).nth(1)
    title = result.locator(".title").inner_text()
    result.locator("button.hold").click()
    expect(result.locator(".message")).to_contain_text("予約内容確認")
    expect(result.locator("select[name=pickup] option:checked")).to_have_count(1)
    result.locator("button.place").click()
    expect(result.locator(".message.ok")).to_contain_text("予約しました")
    no_axe_violations(page)
    page.click("[data-tab=holds]")
    hold = page.locator("li.hold").filter(has_text=title)
    expect(hold).to_contain_text("確保待ち")
    hold.locator("button").click()
    expect(page.locator(".message.ok").first).to_contain_text("予約を取り消しました")
    no_axe_violations(page)
    page.click("[data-tab=loans]")
    loan = page.locator("li.loan").filter(has=page.locator("button.renew")).first
    loan_id = loan.get_attribute("data-id")
    loan.locator("button.renew").click()
    renewed = page.locator(f"li.loan[data-id='{loan_id}']")
    expect(renewed.locator(".message.ok")).to_contain_text("延長しました")
    expect(renewed.locator(".not-renewable")).to_have_text("1回延長されているため延長できません")
    no_axe_violations(page)
    touch_friendly(page)
    page.click("#logout")
    expect(page.locator("h1")).to_have_text("ログイン")
    text = page.evaluate("document.body.innerText")
    assert title not in text and "延長" not in text


def test_temporary_password_must_be_changed_first(phone: Any, server: str) -> None:
    """仮パスワードのままでは、図書の予約、貸出状況の確認、延長、予約状況の確認や取り消し等の
    Webサービスを利用することができません。"""
    # AUTH-5 in the app: log in → forced change → the card.
    expect, page = _expect(), phone
    temporary = ("1000000008", issue_temporary_password(server, "1000000008"))
    page.goto("/app/")
    no_axe_violations(page)
    touch_friendly(page)
    _login(page, temporary)
    expect(page.locator("h1")).to_have_text("パスワード変更")
    no_axe_violations(page)
    page.fill("#current", temporary[1])
    page.fill("#fresh", "app2468x")
    page.fill("#confirm", "app2468y")
    page.click("#password-button")
    expect(page.locator("#password-form .message.refused")).to_contain_text("一致しません")
    page.fill("#current", temporary[1])
    page.fill("#fresh", "app2468x")
    page.fill("#confirm", "app2468x")
    page.click("#password-button")
    expect(page.locator("h1")).to_have_text("デジタル利用カード")
    expect(page.locator("#card-qr")).to_have_attribute("data-code", re.compile("HD1"))
