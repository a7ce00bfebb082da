// 新着図書: titles added recently, optionally by classification.

import { call } from "../api.js";
import { announce, el, field, guarded, input, link, messageBox, page, select, ymd } from "../dom.js";
import { moreButton } from "./common.js";
import { MATERIAL, word } from "../words.js";

export async function arrivalsView({ main, query, navigate }) {
  const days = query.get("days") || "30";
  const cls = query.get("class") || "";
  const since = ymd(new Date(Date.now() - Number(days) * 86400000));
  const box = messageBox();
  const f = el("form", { id: "arrivals-form" },
    field("期間", select("days", [["7", "1週間"], ["30", "1か月"], ["90", "3か月"]], days)),
    field("分類（例: 913）", input("class", { value: cls, id: "arrivals-class" })),
    el("p", {}, el("button", { type: "submit" }, "表示")));
  f.addEventListener("submit", (e) => {
    e.preventDefault();
    const p = new URLSearchParams(new FormData(f));
    navigate(`/arrivals?${p}`);
  });
  const list = el("ol", { id: "arrivals" });
  const count = el("p", { id: "arrivals-count" });
  page(main, "新着図書", f, box, count, list);
  const vars = { since, subjectClasses: cls ? [cls] : null, first: 20, after: null };
  const item = (r) => el("li", {}, link(`/record/${encodeURIComponent(r.id)}`, r.title, { className: "title" }),
    el("div", { className: "meta" }, [word(MATERIAL, r.materialType), r.responsibility, r.publisher, r.year].filter(Boolean).join(" ／ ")));
  await guarded(box, async () => {
    const { newArrivals } = await call("NewArrivals", vars);
    count.textContent = `${newArrivals.totalCount} 件`;
    announce(`新着図書 ${newArrivals.totalCount} 件`);
    list.append(...newArrivals.edges.map((e) => item(e.node)));
    moreButton(box, list, newArrivals, async (after) => (await call("NewArrivals", { ...vars, after })).newArrivals, item);
  });
}
