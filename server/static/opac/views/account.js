// Myライブラリ menu and 利用者情報 (contact method, e-mail, pickup, reminder, new arrivals,
// reading history; PREF-1..6).

import { call, check } from "../api.js";
import { el, field, form, input, jaDate, link, messageBox, page, select, show } from "../dom.js";
import { CONTACT } from "../words.js";
import { state } from "../session.js";

export async function myMenuView({ main }) {
  const items = [["/my/loans", "借りている資料（貸出状況・延長）"], ["/my/holds", "予約した資料（予約状況・取消・受取館変更）"],
    ["/my/basket", "予約かご"], ["/my/ebooks", "電子書籍"], ["/my/shelves", "My本棚"], ["/my/history", "読書記録"],
    ["/my/account", "利用者情報（連絡方法・メールアドレス・受取館・お知らせメール）"], ["/my/password", "パスワードの変更"]];
  page(main, "Myライブラリ", messageBox(),
    el("p", {}, `${state.patron.name} さん（利用カードの有効期限 ${jaDate(state.patron.cardExpiresOn)}）`),
    el("ul", { className: "menu" }, ...items.map(([href, text]) => el("li", {}, link(href, text)))));
}

const split = (text) => (text ?? "").split(/[,、\s]+/).map((s) => s.trim()).filter(Boolean);

export async function accountView({ main }) {
  const { me, libraries } = await call("MyPreferences");
  const box = messageBox();
  const contact = el("fieldset", { id: "contact" }, el("legend", {}, "予約連絡方法"),
    ...Object.entries(CONTACT).map(([v, t]) => el("label", { className: "check" },
      input("contactMethod", { type: "radio", value: v, checked: me.contactMethod === v }), t)));
  const failure = (text) => (text ? el("span", { className: "hint refused" }, `このアドレスにはメールが届きません: ${text}`) : null);
  const f = form({ id: "account-form", className: "stack" }, [
    contact,
    field("Email1", input("email1", { type: "email", value: me.email1 ?? "", autocomplete: "email", id: "email1" })), failure(me.email1Failure),
    field("Email2", input("email2", { type: "email", value: me.email2 ?? "", id: "email2" })), failure(me.email2Failure),
    field("現在のパスワード", input("currentPassword", { type: "password", autocomplete: "current-password", id: "account-password" }), "メールアドレスを変更するときに必要です"),
    field("予約受取館", select("pickup", [["", "指定しない"], ...libraries.filter((l) => l.takesHolds).map((l) => [l.id, l.name])], me.defaultPickupLibrary?.id ?? "")),
    el("fieldset", {}, el("legend", {}, "返却期限通知メール"),
      el("label", { className: "check" }, input("dueReminder", { type: "checkbox", checked: me.dueReminder, id: "due-reminder" }), "返却期限が近づいたらメールで知らせる"),
      field("何日前に知らせるか", input("dueReminderDays", { type: "number", min: 1, max: 14, value: me.dueReminderDays ?? 2, id: "due-days" }))),
    el("fieldset", {}, el("legend", {}, "新着図書お知らせサービス"),
      field("分類（例: 913）", input("subjectClasses", { value: me.newArrivalFields.subjectClasses.join(", "), id: "sdi-classes" }), "複数のときは「,」で区切ります"),
      field("キーワード", input("keywords", { value: me.newArrivalFields.keywords.join(", "), id: "sdi-keywords" })),
      field("著者", input("authors", { value: me.newArrivalFields.authors.join(", "), id: "sdi-authors" }))),
    el("fieldset", {}, el("legend", {}, "読書記録"),
      el("label", { className: "check" }, input("keepReadingHistory", { type: "checkbox", checked: me.keepReadingHistory, id: "keep-history" }), "返却した資料を読書記録として残す（外すと記録は消去されます）")),
    box,
    el("p", {}, el("button", { type: "submit", id: "account-button" }, "更新")),
  ], async (data) => {
    const email1 = data.get("email1") || null;
    const email2 = data.get("email2") || null;
    const changed = email1 !== (me.email1 ?? null) || email2 !== (me.email2 ?? null);
    const inputData = {
      contactMethod: data.get("contactMethod"),
      defaultPickupLibraryId: data.get("pickup") || null,
      dueReminder: data.get("dueReminder") === "on",
      dueReminderDays: Number(data.get("dueReminderDays")) || null,
      keepReadingHistory: data.get("keepReadingHistory") === "on",
      newArrivalFields: { subjectClasses: split(data.get("subjectClasses")), keywords: split(data.get("keywords")), authors: split(data.get("authors")) },
    };
    if (changed) Object.assign(inputData, { email1: email1 ?? "", email2: email2 ?? "", currentPassword: data.get("currentPassword") || null });
    const { updatePreferences } = await call("UpdatePreferences", { input: inputData });
    check(updatePreferences.errors);
    Object.assign(me, updatePreferences.patron);
    f.querySelector("[name=currentPassword]").value = "";
    show(box, "変更申込を受付しました。", true);
  }, box);
  page(main, "利用者情報", f);
}
