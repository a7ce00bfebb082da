// 読書記録: returned loans, kept only when the patron opted in.

import { call } from "../api.js";
import { el, jaDate, link, page } from "../dom.js";

export async function historyView({ main }) {
  const [{ myReadingHistory }, { me }] = await Promise.all([call("MyReadingHistory"), call("MyPreferences")]);
  const note = me.keepReadingHistory
    ? el("p", {}, "返却した資料の記録です。記録をやめると消去されます（", link("/my/account", "利用者情報"), "）。")
    : el("p", { id: "history-off" }, "読書記録は残さない設定です。残すには", link("/my/account", "利用者情報"), "で「読書記録」を選んでください。");
  page(main, "読書記録", note,
    myReadingHistory.length ? el("ul", { id: "history", className: "plain" }, ...myReadingHistory.map((l) => el("li", {},
      link(`/record/${encodeURIComponent(l.record.id)}`, l.record.title), el("span", { className: "meta" }, ` ${l.record.responsibility ?? ""} 返却日 ${jaDate(l.returnedAt)}`))))
      : el("p", {}, "記録はありません。"));
}
