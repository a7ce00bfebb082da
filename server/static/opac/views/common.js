// Pieces several views share: adding to the basket, availability lines.

import { call, check } from "../api.js";
import { announce, button, messageBox, show, el, guarded } from "../dom.js";
import { state } from "../session.js";

let basketLoaded = false;

async function basketRecords() {
  if (!basketLoaded) {
    const { myBasket } = await call("MyBasket");
    state.basket.clear();
    for (const entry of myBasket) state.basket.add(entry.record.id);
    basketLoaded = true;
  }
  return state.basket;
}

export function forgetBasket() {
  basketLoaded = false;
}

/** The 予約かごに入れる button with its own message next to it. */
export function basketButton(record) {
  const box = messageBox();
  const add = button("予約かごに入れる", () => guarded(box, async () => {
    const inBasket = await basketRecords();
    if (inBasket.has(record.id)) {
      show(box, `「${record.title}」はすでに予約かごに入っています。`, false);
      return;
    }
    const { addToBasket } = await call("AddToBasket", { recordId: record.id });
    check(addToBasket.errors);
    inBasket.add(record.id);
    show(box, `「${record.title}」を予約かごに入れました。`, true);
  }), { className: "add-to-basket needs-login" });
  return el("div", { className: "basket-action" }, add, box);
}

export function availabilityText(record) {
  const on = record.availability.reduce((n, a) => n + a.available, 0);
  const all = record.availability.reduce((n, a) => n + a.copies, 0);
  return `所蔵 ${all} 冊・在架 ${on} 冊`;
}

/** 次の20件を表示 after `list`: `next(cursor)` answers the next connection page. */
export function moreButton(box, list, connection, next, item) {
  if (!connection.pageInfo.hasNextPage) return;
  let cursor = connection.pageInfo.endCursor;
  const more = button("次の20件を表示", () => guarded(box, async () => {
    const page = await next(cursor);
    list.append(...page.edges.map((e) => item(e.node)));
    cursor = page.pageInfo.endCursor;
    more.hidden = !page.pageInfo.hasNextPage;
    announce(`${list.children.length} 件目まで表示しています`);
  }), { className: "more" });
  list.after(more);
}
