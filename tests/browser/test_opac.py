"""The reference web OPAC end to end in headless Chromium, on a PC and on a phone: every
patron feature of the API and of the guide's Myライブラリ, each with its main refusal. The
API runs as a real `hondana serve` process over the demo library (conftest.py)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.browser.conftest import BLOCKED, PATRON, TEMPORARY, login, no_axe_violations

RECORD_URL = re.compile(r"/record/[^/]+$")


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def test_search_record_and_two_step_hold(desktop: Any) -> None:
    """「予約かご」の中から、予約したい資料の番号左にあるチェックボックスにチェックを入れて
    「予約」をクリックすると、「予約内容確認」の画面が表示されます。"""
    # BASKET-1, HOLD-2 (two steps), HOLD-7 (queue), HOLD-6 (change, pause, cancel)
    expect, page = _expect(), desktop
    login(page, PATRON, "/my")
    expect(page.locator("#who")).to_have_text("山田 花子 さん")
    page.click("nav >> text=資料検索")
    page.fill("#query", "日本")
    page.click("#search-button")
    expect(page).to_have_url(re.compile(r"/search\?q=%E6%97%A5%E6%9C%AC"))
    expect(page.locator("#result-count")).to_contain_text("件見つかりました")
    assert page.title().startswith("検索結果")
    # A facet narrows the search and is part of the address.
    page.locator(".facets a").first.click()
    expect(page).to_have_url(re.compile(r"type="))
    first = page.locator("li.result").filter(has=page.locator(".add-to-basket")).first
    title = first.locator("a.title").inner_text()
    first.locator("a.title").click()
    expect(page).to_have_url(RECORD_URL)
    expect(page.locator("h1")).to_have_text(title)
    assert page.title().startswith(title)
    expect(page.locator("#copies")).to_contain_text("請求記号")
    expect(page.locator("#copies")).to_contain_text("配架場所")  # STAFF-5
    expect(page.locator("#copies")).to_contain_text("在架")
    expect(page.locator("dl.details")).to_contain_text("予約件数")
    assert "AVAILABLE" not in page.inner_text("main")
    record_url = page.url
    page.reload()  # a shareable address: reload shows the same record
    expect(page.locator("h1")).to_have_text(title)
    page.go_back()
    expect(page.locator("#result-count")).to_contain_text("件見つかりました")
    page.go_forward()
    expect(page.locator("h1")).to_have_text(title)
    assert page.url == record_url

    page.click(".add-to-basket")
    expect(page.locator(".basket-action .message.ok")).to_contain_text("予約かごに入れました")
    page.click(".add-to-basket")  # the same title again: said so, not "added"
    expect(page.locator(".basket-action .message.refused")).to_contain_text(
        "すでに予約かごに入っています"
    )

    page.click("nav >> text=予約かご")
    expect(page.locator("h1")).to_have_text("予約かご")
    entry = page.locator(".basket-entry").filter(has_text=title)
    expect(entry.locator("input[type=checkbox]")).to_be_checked()
    page.click("#preview")
    expect(page.locator("h1")).to_have_text("予約内容確認")
    expect(page.locator("#preview-list")).to_contain_text("予約できます")
    page.click("#place")
    expect(page.locator("h1")).to_have_text("予約結果")
    expect(page.locator("#placed li.ok")).to_contain_text("予約しました")

    page.goto("/my/holds")
    hold = page.locator("li.hold").filter(has_text=title)
    expect(hold).to_contain_text("確保待ち")
    expect(hold).to_contain_text("受取館: 中央図書館")
    hold.locator("select[name=pickup]").select_option(label="北図書館")
    hold.locator("button.change-pickup").click()
    hold = page.locator("li.hold").filter(has_text=title)
    expect(hold.locator(".message.ok")).to_contain_text("受取館を北図書館に変更しました")
    until = (datetime.now(ZoneInfo("Asia/Tokyo")).date() + timedelta(days=14)).isoformat()
    hold.locator("input[name=until]").fill(until)
    hold.locator("button.pause").click()
    hold = page.locator("li.hold").filter(has_text=title)
    expect(hold.locator(".message.ok")).to_contain_text("保留しました")
    expect(hold).to_contain_text("保留中")
    hold.locator("button.cancel").click()
    expect(page.locator("li.hold").filter(has_text=title)).to_have_count(0)
    expect(page.locator(".message.ok").first).to_contain_text("予約を取り消しました")
    # The message belongs to its page: gone on the next one.
    page.click("nav >> text=Myライブラリ")
    expect(page.locator(".message.ok")).to_have_count(0)


def test_loans_renewal_and_the_reason_a_loan_cannot_be_renewed(desktop: Any) -> None:
    """予約がなく、返却期限が過ぎていない場合、1回に限り延長ができます。"""
    # LOAN-2 renew once; LOAN-3 the reason (limit reached: 1回延長されている資料)
    expect, page = _expect(), desktop
    login(page, PATRON, "/my/loans")
    expect(page.locator("h1")).to_have_text("貸出状況")
    loan = page.locator("li.loan").filter(has=page.locator("input[name=loan]")).first
    loan_id = loan.get_attribute("data-id")
    loan.locator("input[name=loan]").check()
    page.click("#renew")
    renewed = page.locator(f"li.loan[data-id='{loan_id}']")
    expect(renewed.locator(".message.ok")).to_contain_text("延長しました")
    expect(renewed.locator(".due")).to_contain_text("延長 1 回")
    expect(renewed.locator(".not-renewable")).to_have_text("1回延長されているため延長できません")
    assert renewed.locator("input[name=loan]").count() == 0


def test_blocked_patron_sees_overdue_marked_and_holds_refused(desktop: Any) -> None:
    """返却期日後なお4日を経過しても資料をお返しいただけない場合、資料をお返しいただくまで、
    予約の受付・受取はできません。"""
    # CARD-3 / HOLD-3: the overdue patron's hold is refused at the confirmation step.
    expect, page = _expect(), desktop
    login(page, BLOCKED, "/my/loans")
    overdue = page.locator("li.loan.overdue")
    expect(overdue.locator(".overdue-mark")).to_contain_text("延滞 10 日")
    expect(overdue.locator(".not-renewable")).to_have_text("延滞しているため延長できません")
    page.goto("/search?q=%E6%97%A5%E6%9C%AC")
    page.locator("li.result .add-to-basket").first.click()
    expect(page.locator(".basket-action .message.ok").first).to_be_visible()
    page.goto("/my/basket")
    page.click("#preview")
    # The whole request is refused next to the button, in words and with the ✕ mark.
    refusal = page.locator("#main .message.refused")
    expect(refusal).to_contain_text("返却期限を過ぎた資料があるため、予約できません")
    expect(refusal.locator(".mark")).to_have_text("✕")
    expect(page.locator("h1")).to_have_text("予約かご")


def test_temporary_password_flow(desktop: Any) -> None:
    """仮パスワードのままでは、図書の予約、貸出状況の確認、延長、予約状況の確認や取り消し等の
    Webサービスを利用することができません。"""
    # AUTH-5: log in → forced change → on; AUTH-6 the new password's rules.
    expect, page = _expect(), desktop
    page.goto("/my/loans")
    page.fill("#card-number", TEMPORARY[0])
    page.fill("#password", TEMPORARY[1])
    page.click("#login-button")
    expect(page.locator("h1")).to_have_text("パスワード変更")
    expect(page.locator("#forced-change")).to_be_visible()
    page.goto("/my/holds")  # anything personal leads back to the change
    expect(page.locator("h1")).to_have_text("パスワード変更")
    page.fill("#current-password", TEMPORARY[1])
    page.fill("#new-password", "abc")
    page.fill("#confirm-password", "abc")
    page.click("#password-button")
    expect(page.locator("#password-form .message.refused")).to_be_visible()
    page.fill("#current-password", TEMPORARY[1])
    page.fill("#new-password", "shin2468x")
    page.fill("#confirm-password", "shin2468x")
    page.click("#password-button")
    expect(page.locator("h1")).to_have_text("Myライブラリ")
    expect(page.locator(".message.ok")).to_contain_text("パスワードを変更しました")
    page.click("text=借りている資料")
    expect(page.locator("h1")).to_have_text("貸出状況")


def _personal(page: Any) -> str:
    return page.evaluate("document.body.innerText") + " ".join(
        page.eval_on_selector_all("input", "els => els.map((e) => e.value)")
    )


def test_logout_and_idle_logout_leave_nothing_personal(desktop: Any) -> None:
    """ログイン後、15分間入力がない場合は、自動的にログオフされます。"""
    # AUTH-10: safe logout and idle logout clear every personal element and field.
    expect, page = _expect(), desktop
    page.clock.install()
    login(page, PATRON, "/my/loans")
    expect(page.locator("li.loan").first).to_be_visible()
    titles = page.locator("li.loan .title").all_inner_texts()
    page.click("#logout")
    expect(page.locator("h1")).to_have_text("ログイン")
    expect(page.locator("#main .message.ok")).to_contain_text("ログアウトしました")
    text = _personal(page)
    assert "山田" not in text and PATRON[0] not in text and PATRON[1] not in text
    assert not any(t in text for t in titles)
    page.go_back()  # Back does not bring the loans back
    expect(page.locator("h1")).to_have_text("ログイン")

    login(page, PATRON, "/my/loans")
    expect(page.locator("li.loan").first).to_be_visible()
    page.fill("#card-number", "") if page.locator("#card-number").count() else None
    page.clock.fast_forward("15:01")
    expect(page.locator("#main .message.ok")).to_contain_text("自動的にログオフしました")
    text = _personal(page)
    assert "山田" not in text and "さん" not in page.inner_text("header")
    assert not any(t in text for t in titles)


def test_account_settings_and_saved_pickup_library(desktop: Any) -> None:
    """「利用者情報変更」画面で、パスワード・メールアドレスの変更以外に、予約本を受け取る館
    (予約受け取り館)や連絡方法を設定することができます。"""
    # PREF-1 contact, PREF-3 e-mail needs an address, PREF-4 default pickup, PREF-5, PREF-6
    expect, page = _expect(), desktop
    login(page, PATRON, "/my/account")
    page.check("#contact input[value=NONE]")
    page.select_option("select[name=pickup]", label="南図書館")
    page.fill("#due-days", "3")
    page.fill("#sdi-classes", "913, 914")
    page.check("#keep-history")
    page.click("#account-button")
    expect(page.locator("#account-form .message.ok")).to_contain_text("変更申込を受付しました")
    page.reload()
    expect(page.locator("#contact input[value=NONE]")).to_be_checked()
    expect(page.locator("#sdi-classes")).to_have_value("913, 914")
    # Refusal: mail contact without any address.
    page.fill("#email1", "")
    page.fill("#email2", "")
    page.fill("#account-password", PATRON[1])
    page.check("#contact input[value=EMAIL]")
    page.click("#account-button")
    expect(page.locator("#account-form .message.refused")).to_be_visible()
    # The saved pickup library is preselected in the hold form.
    page.goto("/search?q=%E6%9D%B1%E4%BA%AC")
    page.locator("li.result .add-to-basket").first.click()
    expect(page.locator(".basket-action .message").first).to_be_visible()
    page.goto("/my/basket")
    expect(page.locator("#pickup option:checked")).to_have_text("南図書館")
    page.goto("/my/history")
    expect(page.locator("h1")).to_have_text("読書記録")
    assert page.locator("#history-off").count() == 0


def test_bookshelves_new_arrivals_and_ebooks(desktop: Any) -> None:
    """お気に入り資料のリストを作ることができます。(「本棚」は5種類まで作れます。)"""
    # SHELF-1/2, MAIL-4 new arrivals, EBOOK-1 borrow and EBOOK-5 reading link
    expect, page = _expect(), desktop
    login(page, PATRON, "/my/shelves")
    page.fill("#shelf-name", "あとで読む")
    page.click("#shelf-create button[type=submit]")
    expect(page.locator(".shelf .message.ok")).to_contain_text("本棚「あとで読む」を作りました")
    page.goto("/arrivals")
    expect(page.locator("#arrivals-count")).to_contain_text("件")
    expect(page.locator("#arrivals > li")).to_have_count(20)
    page.click("button.more")  # the next page of the connection
    expect(page.locator("#arrivals > li")).to_have_count(40)
    page.locator("#arrivals a.title").first.click()
    expect(page).to_have_url(RECORD_URL)
    title = page.locator("h1").inner_text()
    page.click("#add-to-shelf")
    expect(page.locator(".shelf-add .message.ok")).to_contain_text("あとで読む")
    page.goto("/my/shelves")
    expect(page.locator(".shelf").filter(has_text="あとで読む")).to_contain_text(title)
    # From the basket too: the checked titles go to the bookshelf.
    page.goto("/search?q=%E6%AD%B4%E5%8F%B2")
    action = page.locator(".basket-action").nth(2)
    action.locator(".add-to-basket").click()
    expect(action.locator(".message.ok")).to_be_visible()
    page.goto("/my/basket")
    page.click("#basket-to-shelf")
    expect(page.locator("#basket-to-shelf ~ .message.ok")).to_contain_text("あとで読む")

    page.goto("/search?type=EBOOK")
    page.locator("li.result a.title").first.click()
    page.click("#borrow-ebook")
    expect(page.locator(".ebook-actions .message.ok")).to_contain_text("貸出しました")
    page.goto("/my/ebooks")
    loan = page.locator("li.ebook-loan").first
    loan.locator("button.read").click()
    expect(loan.locator("a.reading-link")).to_have_attribute("href", re.compile(r"/ebooks/read/"))
    loan.locator("button.secondary").click()
    expect(page.locator(".message.ok").first).to_contain_text("返却しました")


def test_public_pages_password_application_reset_and_calendar(desktop: Any) -> None:
    """パスワードを忘れたときは、再度申請が必要です。webから申請するには、パスワード再発行申請の
    ページから。利用者番号と登録いただいているメールアドレスが必要です。"""
    # AUTH-3 reset, AUTH-2 application, APP-1 web applications, CAL calendar
    expect, page = _expect(), desktop
    page.goto("/password/reset")
    page.fill("#reset-card", "1000000006")  # a patron no other test logs in as
    page.fill("#reset-email", "patron6@example.jp")
    page.click("#reset-password-form button[type=submit]")
    expect(page.locator("#reset-password-form .message.ok")).to_be_visible()
    assert page.input_value("#reset-card") == ""
    page.goto("/password/apply")
    page.fill("#apply-card", "1000000008")
    page.fill("#apply-birth", "1985-04-02")
    page.fill("#apply-email", "patron8@example.jp")
    page.click("#apply-password-form button[type=submit]")
    expect(page.locator("#apply-password-form .message")).to_be_visible()
    page.goto("/apply")
    page.select_option("select[name=kind]", "CARD_RENEWAL")
    page.fill("#app-name", "中村 六郎")
    page.fill("#app-birth", "1985-04-02")
    page.fill("#app-email", "patron8@example.jp")
    page.fill("#app-card", "1000000008")
    page.click("#application-form button[type=submit]")
    expect(page.locator("#application-form .message.ok")).to_be_visible()
    page.goto("/calendar")
    expect(page.locator("table.calendar")).to_contain_text("開館")
    expect(page.locator("h1")).to_have_count(1)


def test_every_view_passes_axe_and_keyboard(desktop: Any) -> None:
    """Every view: one h1, its own title, axe-core 0 violations; the search is usable by
    keyboard alone with a visible focus."""
    expect, page = _expect(), desktop
    anonymous = [
        "/",
        "/search?q=%E6%97%A5%E6%9C%AC",
        "/login",
        "/password/apply",
        "/password/reset",
        "/apply",
        "/calendar",
        "/arrivals",
    ]
    titles = set()
    for path in anonymous:
        page.goto(path)
        expect(page.locator("main h1")).to_have_count(1)
        page.wait_for_load_state("networkidle")
        titles.add(page.title())
        no_axe_violations(page)
    page.goto("/search?q=%E6%97%A5%E6%9C%AC")
    page.locator("li.result a.title").first.click()
    expect(page).to_have_url(RECORD_URL)
    page.wait_for_load_state("networkidle")
    no_axe_violations(page)
    login(page, PATRON, "/my")
    for path in [
        "/my",
        "/my/basket",
        "/my/holds",
        "/my/loans",
        "/my/account",
        "/my/password",
        "/my/shelves",
        "/my/history",
        "/my/ebooks",
    ]:
        page.goto(path)
        expect(page.locator("main h1")).to_have_count(1)
        page.wait_for_load_state("networkidle")
        titles.add(page.title())
        no_axe_violations(page)
    assert len(titles) >= 15  # a title per view
    # Keyboard only: Tab to the search field, type, Enter; Tab reaches a result link.
    page.goto("/search")
    page.keyboard.press("Tab")  # skip link
    expect(page.locator(".skip")).to_be_focused()
    page.focus("#query")
    page.keyboard.type("日本")
    page.keyboard.press("Enter")
    expect(page.locator("#result-count")).to_contain_text("件")
    link = page.locator("li.result a.title").first
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('title')"):
            break
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    expect(page).to_have_url(RECORD_URL)
    assert link is not None
