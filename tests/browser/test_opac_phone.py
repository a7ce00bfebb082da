"""The OPAC on a phone (390×844): touch targets ≥ 44 px, inputs ≥ 16 px, the hold flow and
the loans list work, axe-core finds nothing."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import PATRON, login, no_axe_violations, touch_friendly


def test_phone_search_hold_and_loans(phone: Any) -> None:
    # BASKET-4 search, HOLD-2 two-step hold, LOAN-2 renewal list, on a phone
    from playwright.sync_api import expect

    page = phone
    page.goto("/search")
    touch_friendly(page)
    page.fill("#query", "東京")
    page.click("#search-button")
    expect(page.locator("#result-count")).to_contain_text("件")
    touch_friendly(page)
    no_axe_violations(page)
    login(page, PATRON, "/my")
    page.goto("/search?q=%E6%9D%B1%E4%BA%AC")
    action = page.locator(".basket-action").nth(3)
    action.locator(".add-to-basket").click()
    expect(action.locator(".message.ok")).to_contain_text("予約かごに入れました")
    page.goto("/my/basket")
    touch_friendly(page)
    page.click("#preview")
    expect(page.locator("h1")).to_have_text("予約内容確認")
    touch_friendly(page)
    page.goto("/my/loans")
    expect(page.locator("li.loan").first).to_be_visible()
    touch_friendly(page)
    no_axe_violations(page)
    page.goto("/my/holds")
    touch_friendly(page)
    no_axe_violations(page)
    page.goto("/my/account")
    touch_friendly(page)
