// Pages for everyone: password application and re-issue (AUTH-2/3), web applications
// (APP-1) and the library calendar.

import { call, check } from "../api.js";
import { el, field, form, input, jaDate, messageBox, page, select, show, ymd } from "../dom.js";
import { APPLICATION_KIND } from "../words.js";

function requestForm(id, fields, label, send) {
  const box = messageBox();
  const f = form({ id, className: "stack" }, [...fields, box, el("p", {}, el("button", { type: "submit" }, label))],
    async (data) => {
      const payload = await send(data);
      check(payload.errors);
      f.reset();
      show(box, payload.message ?? "受け付けました。結果はメールでお知らせします。", true);
    }, box);
  return f;
}

export async function applyPasswordView({ main }) {
  page(main, "パスワードの申込",
    el("p", {}, "利用者番号・生年月日・メールアドレスを入力してください（中学生以上）。登録いただいているメールアドレスに仮パスワードをお送りします。メールアドレスを登録していない方には、図書館の窓口で仮パスワードをお渡しします（利用カードと本人確認ができるものをお持ちください）。仮パスワードのままではWebサービスを利用できません。ログイン後に変更してください。"),
    requestForm("apply-password-form", [
      field("利用者番号", input("cardNumber", { required: true, inputMode: "numeric", autocomplete: "username", id: "apply-card" })),
      field("生年月日", input("birthDate", { type: "date", required: true, id: "apply-birth" })),
      field("メールアドレス", input("email", { type: "email", required: true, autocomplete: "email", id: "apply-email" })),
    ], "申し込む", async (d) => (await call("ApplyForPassword", {
      cardNumber: d.get("cardNumber"), birthDate: d.get("birthDate"), email: d.get("email") })).applyForPassword));
}

export async function resetPasswordView({ main }) {
  page(main, "パスワードの再発行",
    el("p", {}, "パスワードを忘れたときは、利用者番号と登録いただいているメールアドレスを入力してください。"),
    requestForm("reset-password-form", [
      field("利用者番号", input("cardNumber", { required: true, inputMode: "numeric", autocomplete: "username", id: "reset-card" })),
      field("メールアドレス", input("email", { type: "email", required: true, autocomplete: "email", id: "reset-email" })),
    ], "再発行を申請する", async (d) => (await call("RequestPasswordReset", {
      cardNumber: d.get("cardNumber"), email: d.get("email") })).requestPasswordReset));
}

export async function applicationView({ main }) {
  page(main, "web申請",
    el("p", {}, "新規登録・再発行・記載事項変更・有効期限の更新・利用者番号の通知を申請できます。結果はメールでお知らせします。"),
    requestForm("application-form", [
      field("申請の種類", select("kind", Object.entries(APPLICATION_KIND))),
      field("氏名", input("name", { required: true, autocomplete: "name", id: "app-name" })),
      field("生年月日", input("birthDate", { type: "date", required: true, id: "app-birth" })),
      field("メールアドレス", input("email", { type: "email", required: true, autocomplete: "email", id: "app-email" })),
      field("利用者番号", input("cardNumber", { inputMode: "numeric", id: "app-card" }), "再発行・記載事項変更・更新のときに必要です"),
      field("住所・変更内容など", el("textarea", { name: "details", maxLength: 1000, rows: 4, id: "app-details" })),
    ], "申請する", async (d) => (await call("SubmitApplication", { input: {
      kind: d.get("kind"), name: d.get("name"), birthDate: d.get("birthDate"), email: d.get("email"),
      cardNumber: d.get("cardNumber") || null, details: d.get("details") || null } })).submitApplication));
}

const WEEKDAYS = ["日", "月", "火", "水", "木", "金", "土"];

function monthTable(library, first, open) {
  const days = new Date(first.getFullYear(), first.getMonth() + 1, 0).getDate();
  const cells = Array.from({ length: first.getDay() }, () => el("td", {}));
  for (let d = 1; d <= days; d++) {
    const iso = ymd(new Date(Date.UTC(first.getFullYear(), first.getMonth(), d)));
    const isOpen = open.has(iso);
    cells.push(el("td", { className: isOpen ? "open" : "closed" }, el("span", {}, String(d)), el("span", { className: "day-state" }, isOpen ? "開館" : "休館")));
  }
  const rows = [];
  for (let i = 0; i < cells.length; i += 7) rows.push(el("tr", {}, ...cells.slice(i, i + 7)));
  return el("table", { className: "calendar" },
    el("caption", {}, `${library.name} ${first.getFullYear()}年${first.getMonth() + 1}月`),
    el("thead", {}, el("tr", {}, ...WEEKDAYS.map((w) => el("th", { scope: "col" }, w)))),
    el("tbody", {}, ...rows));
}

export async function calendarView({ main, query, navigate }) {
  const now = new Date();
  const [y, m] = (query.get("month") || `${now.getFullYear()}-${now.getMonth() + 1}`).split("-").map(Number);
  const first = new Date(y, m - 1, 1);
  const from = ymd(new Date(Date.UTC(y, m - 1, 1)));
  const to = ymd(new Date(Date.UTC(y, m, 0)));
  const { libraries } = await call("Libraries", { from, to });
  const chosen = libraries.find((l) => l.id === query.get("lib")) ?? libraries[0];
  const picker = el("form", { id: "calendar-form" },
    field("図書館", select("lib", libraries.map((l) => [l.id, l.name]), chosen.id)),
    field("月", input("month", { type: "month", value: `${y}-${String(m).padStart(2, "0")}`, id: "calendar-month" })),
    el("p", {}, el("button", { type: "submit" }, "表示")));
  picker.addEventListener("submit", (e) => {
    e.preventDefault();
    const d = new FormData(picker);
    const [yy, mm] = String(d.get("month") || `${y}-${m}`).split("-");
    navigate(`/calendar?lib=${encodeURIComponent(d.get("lib"))}&month=${Number(yy)}-${Number(mm)}`);
  });
  page(main, "図書館カレンダー", picker,
    el("p", {}, `開館日 ${chosen.openingDays.length} 日（${jaDate(from)}〜${jaDate(to)}）`),
    monthTable(chosen, first, new Set(chosen.openingDays)));
}
