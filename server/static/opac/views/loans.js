// 貸出状況: due dates, overdue marked, renewal (LOAN-2) with the reason when it cannot be.

import { call, check } from "../api.js";
import { el, form, jaDate, link, messageBox, page, show } from "../dom.js";
import { NOT_RENEWABLE } from "../words.js";

function loanItem(loan) {
  const overdue = loan.daysOverdue > 0;
  const box = messageBox();
  const choose = loan.renewable
    ? el("input", { type: "checkbox", name: "loan", value: loan.id, id: `renew-${loan.id}` })
    : null;
  const title = choose ? el("label", { htmlFor: choose.id, className: "title" }, loan.record.title)
    : link(`/record/${encodeURIComponent(loan.record.id)}`, loan.record.title, { className: "title" });
  return el("li", { className: `loan${overdue ? " overdue" : ""}`, dataset: { id: loan.id } },
    choose, title,
    el("div", { className: "meta due" }, `返却期限 ${jaDate(loan.dueOn)}（延長 ${loan.renewals} 回）・${loan.copy.library.name}`),
    overdue ? el("p", { className: "overdue-mark" }, el("span", { attrs: { "aria-hidden": "true" } }, "⚠ "), `延滞 ${loan.daysOverdue} 日 — 返却期限を過ぎています。至急ご返却ください。`) : null,
    loan.renewable ? null : el("p", { className: "not-renewable" }, NOT_RENEWABLE[loan.renewalBlockedBy] ?? "この資料は延長できません"),
    box);
}

export async function loansView({ main }) {
  const { myLoans } = await call("MyLoans");
  const box = messageBox();
  if (!myLoans.length) {
    page(main, "貸出状況", el("p", {}, "借りている資料はありません。"));
    return;
  }
  const f = form({ id: "renew-form" }, [
    el("ul", { id: "loans", className: "plain" }, ...myLoans.map(loanItem)), box,
    el("p", {}, el("button", { type: "submit", id: "renew" }, "貸出延長")),
  ], async (data) => {
    const loanIds = data.getAll("loan");
    if (!loanIds.length) return show(box, "延長したい資料にチェックを入れてください。", false);
    const { renewLoans } = await call("RenewLoans", { loanIds });
    check(renewLoans.errors);
    await loansView({ main });
    for (const r of renewLoans.results) {
      const target = main.querySelector(`li.loan[data-id="${r.loanId}"] .message`);
      if (target) show(target, r.renewed ? `延長しました。新しい返却期限は ${jaDate(r.loan.dueOn)} です。` : r.errors.map((e) => e.message).join(" / "), r.renewed);
    }
  }, box);
  page(main, "貸出状況",
    el("p", {}, "延長したい資料にチェックを入れ、「貸出延長」を押してください。延長期間は手続きをした日から15日間です。"), f);
}
