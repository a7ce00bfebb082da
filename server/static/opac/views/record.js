// 資料詳細: the record's own page (shareable /record/<id>), with every copy.

import { call, check } from "../api.js";
import { button, el, field, guarded, jaDate, jaDateTime, link, messageBox, page, select, show } from "../dom.js";
import { COPY_STATUS, MATERIAL, word } from "../words.js";
import { state } from "../session.js";
import { basketButton } from "./common.js";

function details(r) {
  const rows = [
    ["著者", r.responsibility], ["読み", r.titleReading], ["出版者", r.publisher], ["出版年", r.year],
    ["資料種別", word(MATERIAL, r.materialType)], ["シリーズ", [r.series, r.volume].filter(Boolean).join(" ")],
    ["ISBN", r.isbn], ["分類", r.subjectClass], ["件名", r.subjects.join("、")], ["予約件数", `${r.holdCount} 件`],
  ].filter(([, v]) => v !== null && v !== undefined && v !== "");
  return el("dl", { className: "details" }, ...rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, String(v))]));
}

function table(caption, head, rows, id) {
  return el("table", { id },
    el("caption", {}, caption),
    el("thead", {}, el("tr", {}, ...head.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, ...rows.map((cells) => el("tr", {}, ...cells.map((c, i) =>
      i === 0 ? el("th", { scope: "row" }, c) : el("td", {}, c))))));
}

function copiesTable(r) {
  return table("所蔵一覧", ["所蔵館", "請求記号", "配架場所", "状態", "返却期限", "備考"], r.copies.map((c) => [
    c.library.name, c.callNumber ?? "", c.shelfLocation ?? "", word(COPY_STATUS, c.status),
    c.dueOn ? jaDate(c.dueOn) : "", c.referenceOnly ? "禁帯出" : ""]), "copies");
}

function availabilityTable(r) {
  return table("館別の所蔵状況", ["所蔵館", "所蔵数", "在架数"],
    r.availability.map((a) => [a.library.name, `${a.copies} 冊`, `${a.available} 冊`]), "availability");
}

async function shelfPicker(record) {
  const { myBookshelves } = await call("MyBookshelves");
  const box = messageBox();
  if (!myBookshelves.length) {
    return el("p", { className: "shelf-add" }, link("/my/shelves", "本棚を作ると、お気に入りの資料を入れておけます"));
  }
  const picker = select("shelf", myBookshelves.map((s) => [s.id, s.name]));
  picker.id = "shelf-picker";
  return el("div", { className: "shelf-add" }, field("本棚", picker),
    button("本棚に入れる", () => guarded(box, async () => {
      const { addToBookshelf } = await call("AddToBookshelf", { bookshelfId: picker.value, recordIds: [record.id] });
      check(addToBookshelf.errors);
      show(box, `本棚「${addToBookshelf.bookshelf.name}」に入れました。`, true);
    }), { id: "add-to-shelf" }), box);
}

function ebookActions(record) {
  const box = messageBox();
  const result = (payload, text) => {
    check(payload.errors);
    if (payload.link) {
      show(box, `${text} 返却期限 ${jaDateTime(payload.loan.dueAt)}`, true);
      box.append(" ", el("a", { href: payload.link.url, target: "_blank", rel: "noopener" }, "読む"));
    } else {
      show(box, text, true);
    }
  };
  return el("div", { className: "ebook-actions needs-login" },
    button("電子書籍を借りる", () => guarded(box, async () =>
      result((await call("BorrowEbook", { recordId: record.id })).borrowEbook, "貸出しました。")), { id: "borrow-ebook" }),
    button("電子書籍を予約する", () => guarded(box, async () =>
      result((await call("PlaceEbookHold", { recordId: record.id })).placeEbookHold, "予約しました。")), { id: "hold-ebook" }),
    box);
}

export async function recordView({ main, params: [id] }) {
  const { record } = await call("RecordDetail", { id });
  if (!record) {
    page(main, "資料が見つかりません", el("p", {}, "この資料は見つかりませんでした。"), link("/search", "資料検索へ"));
    return;
  }
  const parts = [details(record)];
  if (record.holdable) parts.push(basketButton(record));
  if (record.materialType === "EBOOK") parts.push(ebookActions(record));
  if (state.patron && !state.patron.mustChangePassword) parts.push(await shelfPicker(record));
  if (record.availability.length) parts.push(availabilityTable(record));
  if (record.copies.length) parts.push(copiesTable(record));
  page(main, record.title, ...parts);
}
