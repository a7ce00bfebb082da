// 電子書籍: loans (read, return) and holds (borrow when ready, cancel); EBOOK rules.

import { call, check } from "../api.js";
import { button, el, guarded, jaDateTime, link, messageBox, page, show } from "../dom.js";
import { EBOOK_HOLD_STATE, word } from "../words.js";

export async function ebooksView({ main }) {
  const { myEbookLoans, myEbookHolds } = await call("MyEbooks");
  const refresh = async (text) => {
    await ebooksView({ main });
    show(main.querySelector(".message"), text, true);
  };
  const top = messageBox();
  const loans = myEbookLoans.map((loan) => {
    const box = messageBox();
    return el("li", { className: "ebook-loan" }, link(`/record/${encodeURIComponent(loan.record.id)}`, loan.record.title, { className: "title" }),
      el("div", { className: "meta" }, `返却期限 ${jaDateTime(loan.dueAt)}（自動的に返却されます）`),
      button("読む", () => guarded(box, async () => {
        const { ebookReadingLink } = await call("EbookReadingLink", { loanId: loan.id });
        check(ebookReadingLink.errors);
        box.replaceChildren(el("a", { href: ebookReadingLink.link.url, target: "_blank", rel: "noopener", className: "reading-link" }, `「${loan.record.title}」を開く`));
      }), { className: "read", attrs: { "aria-label": `${loan.record.title} を読む` } }),
      button("返却", () => guarded(box, async () => {
        check((await call("ReturnEbook", { loanId: loan.id })).returnEbook.errors);
        await refresh(`「${loan.record.title}」を返却しました。`);
      }), { className: "secondary", attrs: { "aria-label": `${loan.record.title} を返却` } }), box);
  });
  const holds = myEbookHolds.map((hold) => {
    const box = messageBox();
    return el("li", { className: "ebook-hold" }, link(`/record/${encodeURIComponent(hold.record.id)}`, hold.record.title, { className: "title" }),
      el("div", { className: "meta" }, `状態: ${word(EBOOK_HOLD_STATE, hold.state)}${hold.expiresAt ? `・${jaDateTime(hold.expiresAt)} まで取り置き` : ""}`),
      hold.state === "READY" ? button("借りる", () => guarded(box, async () => {
        check((await call("BorrowEbook", { recordId: hold.record.id })).borrowEbook.errors);
        await refresh(`「${hold.record.title}」を借りました。`);
      })) : null,
      button("予約取消", () => guarded(box, async () => {
        check((await call("CancelEbookHold", { holdId: hold.id })).cancelEbookHold.errors);
        await refresh(`「${hold.record.title}」の予約を取り消しました。`);
      }), { className: "secondary", attrs: { "aria-label": `${hold.record.title} の予約取消` } }), box);
  });
  page(main, "電子書籍", top,
    el("p", {}, "電子書籍は1人3点まで借りられ、15日で自動的に返却されます。予約も3点までです。電子書籍は予約かごには入りません。資料詳細の画面から借りる・予約するができます。"),
    el("h2", {}, "借りている電子書籍"), loans.length ? el("ul", { id: "ebook-loans", className: "plain" }, ...loans) : el("p", {}, "ありません。"),
    el("h2", {}, "予約している電子書籍"), holds.length ? el("ul", { id: "ebook-holds", className: "plain" }, ...holds) : el("p", {}, "ありません。"));
}
