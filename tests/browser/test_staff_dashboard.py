"""The reference staff dashboard end to end in headless Chromium (Debian's package, driven
by Playwright), against `hondana serve` over the demo library: a desk's whole morning, a
patron on the phone, a new registration, a transit received at the wrong library, and
axe-core (from the axe-playwright-python package) finding no accessibility violations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import ARGS, CHROMIUM, demo_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, demo_library: Path) -> Iterator[str]:
    """`hondana serve` over this module's own copy of the demo library (its desk morning)."""
    with demo_server(demo_library, tmp_path_factory.mktemp("staff")) as url:
        yield url


@pytest.fixture
def page(server: str) -> Iterator[Any]:
    """A Chromium page logged in as the demo's desk chief (COUNTER, PATRONS, CALENDAR,
    OVERRIDE) at 中央図書館, failing the test on any script error."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900}, locale="ja-JP")
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.goto(f"{server}/staff/")
        page.fill("#username", "chief")
        page.fill("#password", "chief2026")
        page.click("#login-button")
        expect(page.locator("#who")).to_contain_text("窓口 主任")
        expect(page.locator("#scan")).to_be_focused()  # the counter opens, ready to scan
        yield page
        browser.close()
        assert problems == []


def _scan(page: Any, mode: str, code: str) -> None:
    page.check(f"input[name=mode][value={mode}]")
    page.fill("#scan", code)
    page.press("#scan", "Enter")


def _no_violations(page: Any) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_snapshot()


def test_a_whole_morning(page: Any) -> None:
    # HOLD-5 pull list -> mark pulled -> hold slip; LOAN-5/HOLD-6 a return trapped for a
    # hold elsewhere -> transit slip; STAFF-5 call numbers on the list and the slips.
    from playwright.sync_api import expect

    page.click("nav [data-view=pull]")
    rows = page.locator("#pull-table tbody tr")
    expect(rows.first).to_be_visible()
    first = rows.filter(has_text="1000000001").first
    other = rows.filter(has_text="1000000006").first.get_attribute("data-barcode")
    barcode = first.get_attribute("data-barcode")
    assert first.locator("td").nth(0).inner_text().strip()  # call number
    expect(first).to_contain_text("一般書架")
    expect(first).to_contain_text("中央図書館")
    first.locator("button.pulled").click()
    expect(page.locator("#message")).to_contain_text("取出")
    expect(page.locator("#slip-title")).to_have_text("予約票")
    expect(page.locator("#slip-body")).to_contain_text("中央図書館")
    expect(page.locator(f"#pull-table tr[data-barcode='{barcode}']")).to_have_count(0)
    _no_violations(page)

    page.click("nav [data-view=counter]")
    _scan(page, "patron", "1000000001")
    expect(page.locator("#patron-name")).to_contain_text("山田 花子")
    wanted = page.locator("li.loan").last.get_attribute("data-barcode")
    _scan(page, "checkin", str(wanted))
    result = page.locator(".scan-result").first
    expect(result).to_contain_text("回送中: 北図書館へ回送してください")
    expect(result).not_to_contain_text("貸出")
    expect(page.locator("#slip-title")).to_have_text("回送票")
    expect(page.locator("#slip-body")).to_contain_text("北図書館")
    expect(page.locator("#scan")).to_be_focused()
    page.emulate_media(media="print")
    expect(page.locator("header")).to_be_hidden()
    expect(page.locator("#slip")).to_be_visible()
    expect(page.locator("#print-slip")).to_be_hidden()
    page.emulate_media(media="screen")
    _no_violations(page)

    # The patron collects the pulled copy: a due-date receipt (LOAN-5).
    _scan(page, "checkout", str(barcode))
    expect(page.locator(".scan-result").first).to_contain_text("貸出: ")
    expect(page.locator("#slip-title")).to_contain_text("貸出票")
    expect(page.locator("#slip-body")).to_contain_text("返却期限")
    # STAFF-4: lending to a patron 10 days overdue a title another hold wants warns; the
    # chief (OVERRIDE role) lends anyway with a reason.
    _scan(page, "patron", "1000000004")
    _scan(page, "checkout", str(other))
    warned = page.locator(".scan-result").first
    expect(warned).to_contain_text("10日過ぎた資料があります")
    expect(warned).to_contain_text("他の方の予約があります")
    expect(page.locator("#override")).to_be_visible()
    page.fill("#override-reason", "館長の承認あり")
    page.click("#override-button")
    expect(page.locator(".scan-result").first).to_contain_text("貸出: ")
    expect(page.locator("#scan")).to_be_focused()

    page.click("nav [data-view=shelf]")
    expect(page.locator("#shelf-table tbody tr").first).to_be_visible()
    expect(page.locator("#expired-table tbody tr")).to_have_count(1)
    page.click("nav [data-view=calls]")
    call_row = page.locator("#calls-table tbody tr").first
    expect(call_row).to_contain_text("072-620-")
    call_row.locator("button.called").click()
    expect(page.locator("#message")).to_contain_text("連絡済にしました")
    _no_violations(page)


def test_a_patron_phones_renew_and_cancel_for_them(page: Any) -> None:
    # STAFF-2: renew a loan and cancel a hold for a patron on the phone, with a reason.
    from playwright.sync_api import expect

    _scan(page, "patron", "1000000006")
    expect(page.locator("#patron-name")).to_contain_text("伊藤 五郎")
    holds = page.locator("li.hold")
    before = holds.count()
    assert before >= 1
    holds.first.locator("button.cancel-hold").click()
    expect(page.locator("#message")).to_contain_text("理由を入力してください")
    page.fill("#desk-reason", "電話で取消の依頼")
    holds.first.locator("button.cancel-hold").click()
    expect(page.locator("#message")).to_contain_text("予約を取り消しました")
    expect(page.locator("li.hold")).to_have_count(before - 1)

    _scan(page, "patron", "1000000001")
    loan = page.locator("li.loan").first
    loan_id = loan.get_attribute("data-id")
    due_before = loan.locator(".due").inner_text()
    loan.locator("button.renew").click()
    expect(page.locator("#message")).to_contain_text("延長しました")
    renewed = page.locator(f"li.loan[data-id='{loan_id}'] .due")
    expect(renewed).to_contain_text("延長 1 回")
    assert renewed.inner_text() != due_before
    _no_violations(page)


def test_register_a_patron_and_issue_the_temporary_password(page: Any) -> None:
    # STAFF-1: registration at the desk, then the temporary password (AUTH-2); CARD-1 renewal.
    from playwright.sync_api import expect

    page.click("nav [data-view=register]")
    form = page.locator("#register-form")
    form.locator("[name=name]").fill("窓口 新太郎")
    form.locator("[name=nameKana]").fill("マドグチ シンタロウ")
    form.locator("[name=birthDate]").fill("1975-06-15")
    form.locator("[name=address]").fill("茨木市駅前三丁目8-13")
    form.locator("[name=phone]").fill("072-620-1700")
    page.click("#register-button")
    expect(page.locator("#registered-card")).to_contain_text("利用者番号")
    page.click("#issue-password")
    expect(page.locator("#temporary-password")).to_contain_text("仮パスワード: ")
    issued = page.locator("#temporary-password").inner_text().removeprefix("仮パスワード: ")
    page.fill("#renew-card-number", "1000000003")
    page.click("#renew-card-form button")
    expect(page.locator("#renewed-card")).to_contain_text("新しい有効期限")
    _no_violations(page)

    # STAFF-1/SVC-3: the calendar; closing a day says so and the day reads 休館.
    page.click("nav [data-view=calendar]")
    # AUTH-5: the temporary password was for that moment: moving on forgets it.
    assert issued and issued not in page.content()
    day = page.locator("li.calendar-day").nth(8)
    date = day.get_attribute("data-day")
    was_open = "開館 " in day.inner_text()
    day.locator("button.toggle-day").click()
    expect(page.locator("#message")).to_contain_text(f"{date} を{'休館' if was_open else '開館'}")
    expect(page.locator(f"li.calendar-day[data-day='{date}']")).to_contain_text(
        "休館" if was_open else "開館"
    )
    _no_violations(page)


def test_a_transit_received_at_the_wrong_library_is_refused(page: Any) -> None:
    # STAFF-4: the refusal names the library the copy is going to.
    from playwright.sync_api import expect

    page.select_option("#library", label="北図書館")
    page.click("nav [data-view=transits]")
    coming = page.locator("#transits-table tbody tr").first
    expect(coming).to_contain_text("予約 (北図書館)")
    barcode = str(coming.get_attribute("data-barcode"))
    page.select_option("#library", label="中央図書館")
    page.click("nav [data-view=counter]")
    _scan(page, "receive", barcode)
    refused = page.locator(".scan-result").first
    expect(refused).to_contain_text("回送受取できません")
    expect(refused).to_contain_text("北図書館へ回送してください")
    expect(refused).to_have_class("scan-result ng")
    page.select_option("#library", label="北図書館")
    _scan(page, "receive", barcode)
    expect(page.locator(".scan-result").first).to_contain_text("予約棚")
    expect(page.locator("#slip-title")).to_have_text("予約票")


def _staff_api(server: str, operation: str, variables: dict[str, Any]) -> dict[str, Any]:
    """One staff-dashboard operation sent by the demo's admin through the API (as another
    clerk's desk would), by its trusted document's text."""
    import httpx

    docs = Path(__file__).resolve().parents[2] / "clients" / "staff-dashboard"
    with httpx.Client(base_url=server, headers={"X-Hondana-Client": "staff-dashboard"}) as api:
        for name, values in (
            ("StaffLogin", {"username": "admin", "password": "admin2026x"}),
            (operation, variables),
        ):
            text = (docs / f"{name}.graphql").read_text(encoding="utf-8")
            answer = api.post("/graphql", json={"query": text, "variables": values})
            answer.raise_for_status()
    data: dict[str, Any] = answer.json()["data"]
    return data


def test_a_web_password_application_is_handed_over_at_the_desk(page: Any, server: str) -> None:
    # AUTH-3: the demo's web password application from a card with no address on file waits
    # in 申請; approving it shows the temporary password once, with what to check before
    # handing it over; AUTH-5: the patron logs in with it and must change it first. APP-1:
    # every kind has the guide's name, e-mail only where the application has one, a
    # rejection needs a note, and the API's refusals are shown in Japanese.
    from playwright.sync_api import expect

    page.click("nav [data-view=applications]")
    expect(page.locator("#applications-heading")).to_be_focused()
    rows = page.locator("#applications-table tbody tr")
    password_row = rows.filter(has_text="1000000009")
    expect(password_row).to_contain_text("パスワード新規発行")
    expect(password_row).to_contain_text("小林 七海")
    expect(password_row).to_contain_text("1985-04-02")
    expect(password_row.locator("td.email")).to_have_text("—")
    renewal_row = rows.filter(has_text="1000000003")
    expect(renewal_row).to_contain_text("有効期限の更新")
    expect(renewal_row.locator("td.email")).to_have_text("patron3@example.jp")
    assert "NEW_REGISTRATION" not in page.locator("#applications-view").inner_text()
    _no_violations(page)

    # APP-1: rejecting needs a note; another clerk decides the renewal meanwhile, and the
    # API's refusal comes back in Japanese.
    renewal_row.locator("button.reject").click()
    expect(page.locator("#message")).to_contain_text("却下の理由を入力してください")
    queue = _staff_api(server, "ApplicationsQueue", {"state": "PENDING"})["applications"]
    renewal = next(a for a in queue if a["kind"] == "CARD_RENEWAL")
    decided = _staff_api(
        server,
        "DecideApplication",
        {"applicationId": renewal["id"], "approve": False, "note": "重複"},
    )
    assert decided["decideApplication"]["errors"] == []
    renewal_row.locator("input.note").fill("本人確認できず")
    renewal_row.locator("button.reject").click()
    expect(page.locator("#message")).to_contain_text("この申請はすでに処理済みです。")
    expect(rows.filter(has_text="1000000003")).to_have_count(0)  # the queue is read again

    # Keyboard: the approve button is reached and pressed without a mouse.
    password_row.locator("button.approve").focus()
    page.keyboard.press("Enter")
    issued = page.locator("#issued-password")
    expect(issued).to_be_visible()
    expect(issued).to_be_focused()
    expect(issued).to_contain_text("小林 七海")
    expect(issued).to_contain_text("利用カードと本人確認書類")
    expect(issued).to_contain_text("初めてログインしたときに")
    temporary = page.locator("#issued-password-value").inner_text().strip()
    assert len(temporary) >= 6
    assert temporary not in page.locator("#message").inner_text()
    expect(rows.filter(has_text="1000000009")).to_have_count(0)
    _no_violations(page)
    page.keyboard.press("Tab")
    expect(page.locator("#dismiss-password")).to_be_focused()
    page.keyboard.press("Enter")
    expect(issued).to_be_hidden()
    assert temporary not in page.content()  # shown once: gone from the page
    page.click("nav [data-view=counter]")
    page.click("nav [data-view=applications]")
    expect(issued).to_be_hidden()
    assert temporary not in page.content()

    # AUTH-5: the patron logs in on the OPAC with it and is sent to change it.
    opac = page.context.browser.new_context(base_url=server, locale="ja-JP").new_page()
    opac.goto("/login")
    opac.fill("#card-number", "1000000009")
    opac.fill("#password", temporary)
    opac.click("#login-button")
    expect(opac.locator("main h1")).to_have_text("パスワード変更")
    expect(opac.locator("#forced-change")).to_be_visible()
    opac.context.close()


def test_the_applications_view_needs_the_patrons_role(page: Any) -> None:
    # STAFF-1: `applications` needs PATRONS (or ADMIN); a counter-only clerk is not offered
    # 申請, and the desk chief, who has it, is.
    from playwright.sync_api import expect

    expect(page.locator("nav [data-view=applications]")).to_be_visible()
    page.click("#logout")
    page.fill("#username", "counter")
    page.fill("#password", "counter2026")
    page.click("#login-button")
    expect(page.locator("#who")).to_contain_text("窓口 太郎")
    expect(page.locator("nav [data-view=counter]")).to_be_visible()
    expect(page.locator("nav [data-view=applications]")).to_be_hidden()


def test_a_temporary_password_is_forgotten_when_the_clerk_moves_on(page: Any, server: str) -> None:
    # AUTH-3 end to end: a card registered at the desk with no e-mail address; its holder
    # applies for a password on the OPAC; the clerk approves it in 申請 and goes to another
    # view without dismissing: the password is gone from the page, never to be shown again.
    from playwright.sync_api import expect

    page.click("nav [data-view=register]")
    form = page.locator("#register-form")
    form.locator("[name=name]").fill("窓口 申込子")
    form.locator("[name=birthDate]").fill("1990-01-10")
    form.locator("[name=phone]").fill("072-620-1701")
    page.click("#register-button")
    expect(page.locator("#registered-card")).to_contain_text("利用者番号")
    card = page.locator("#registered-card").inner_text().split("利用者番号 ")[1].split()[0]

    opac = page.context.browser.new_context(base_url=server, locale="ja-JP").new_page()
    opac.goto("/password/apply")
    opac.fill("#apply-card", card)
    opac.fill("#apply-birth", "1990-01-10")
    opac.fill("#apply-email", "moushikomi@example.jp")
    opac.click("#apply-password-form button[type=submit]")
    expect(opac.locator("#apply-password-form .message")).to_be_visible()
    opac.context.close()

    page.click("nav [data-view=applications]")
    mine = page.locator("#applications-table tbody tr").filter(has_text=card)
    expect(mine).to_contain_text("パスワード新規発行")
    expect(mine.locator("td.email")).to_have_text("—")  # the typed address is never kept
    mine.locator("button.approve").click()
    expect(page.locator("#issued-password")).to_be_visible()
    temporary = page.locator("#issued-password-value").inner_text().strip()
    assert temporary and temporary in page.content()
    page.click("nav [data-view=calendar]")
    page.click("nav [data-view=applications]")
    expect(page.locator("#issued-password")).to_be_hidden()
    assert temporary not in page.content()


# The page's fetch, made to answer a card lookup (DeskPatron: a card number, no barcode)
# late, as a busy server would while the clerk's scanner reads on.
SLOW_CARD_LOOKUPS = """() => {
  const real = window.fetch;
  window.fetch = async (url, init) => {
    const body = String(init?.body ?? "");
    if (body.includes('"cardNumber"') && !body.includes('"barcode"')) {
      await new Promise((done) => setTimeout(done, 1500));
    }
    return real(url, init);
  };
}"""


def test_a_book_scanned_while_the_card_loads_goes_to_that_card(page: Any, server: str) -> None:
    # LOAN-1 / STAFF-4 at a real counter: the scanner reads a card and then a book faster
    # than the card's lookup answers. The book is for the card just read, never for the
    # patron before it; after an unknown card it is for nobody.
    from playwright.sync_api import expect

    found = _staff_api(server, "CatalogueSearch", {"query": "日本", "first": 50})["search"]
    barcode = next(
        copy["barcode"]
        for edge in found["edges"]
        for copy in edge["node"]["copies"]
        if copy["status"] == "AVAILABLE" and copy["library"]["name"] == "中央図書館"
    )
    page.evaluate(SLOW_CARD_LOOKUPS)
    _scan(page, "patron", "1000000001")
    expect(page.locator("#patron-name")).to_contain_text("山田 花子")
    _scan(page, "patron", "1000000004")  # 10 days overdue: a check-out warns (STAFF-4)
    _scan(page, "checkout", barcode)
    result = page.locator(".scan-result").first
    expect(result).to_contain_text("10日過ぎた資料があります")
    expect(result).to_contain_text(barcode)
    expect(page.locator("#patron-name")).to_contain_text("高橋 三郎")
    expect(page.locator(".scan-result").filter(has_text="貸出: ")).to_have_count(0)

    _scan(page, "patron", "1999999999")  # no such card
    _scan(page, "checkout", barcode)
    expect(page.locator(".scan-result").first).to_contain_text(
        "先に利用者カードを読み取ってください"
    )
    expect(page.locator(".scan-result").filter(has_text="貸出: ")).to_have_count(0)
    expect(page.locator("input[name=mode][value=patron]")).to_be_checked()  # read a card next


def test_a_login_before_the_operations_list_arrives_waits_for_it(server: str) -> None:
    # CI failed here once: on a slow machine the clerk (Playwright) pressed ログイン before
    # /staff/operations.json had arrived, the dashboard sent StaffLogin with no documentId,
    # and the desk read 「リクエストの形式が正しくありません。」. The list is held back here
    # until after the click: the login must wait for it, not fail.
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(locale="ja-JP")
        held: list[Any] = []
        page.route("**/staff/operations.json", lambda route: held.append(route))
        page.goto(f"{server}/staff/", wait_until="domcontentloaded")
        page.fill("#username", "chief")
        page.fill("#password", "chief2026")
        page.click("#login-button")
        while not held:
            page.wait_for_timeout(50)
        page.wait_for_timeout(300)  # the click's request, if it does not wait, has gone
        for route in held:
            route.continue_()
        expect(page.locator("#who")).to_contain_text("窓口 主任")
        expect(page.locator("#message")).not_to_contain_text("リクエストの形式")
        browser.close()
