// 資料検索: simple and advanced search, facets, results with links to each record.

import { call } from "../api.js";
import { announce, el, field, guarded, input, link, messageBox, page, select } from "../dom.js";
import { MATERIAL, word } from "../words.js";
import { availabilityText, basketButton, moreButton } from "./common.js";

const FIELDS = [["title", "書名"], ["author", "著者名"], ["publisher", "出版者"], ["subject", "件名・分類"], ["isbn", "ISBN"]];
const SORTS = [["RELEVANCE", "適合順"], ["NEWEST", "出版年の新しい順"], ["TITLE", "書名順"]];
let libraries = null;

async function libraryList() {
  if (!libraries) {
    const today = new Date().toISOString().slice(0, 10);
    libraries = (await call("Libraries", { from: today, to: today })).libraries;
  }
  return libraries;
}

function variables(q) {
  const fields = Object.fromEntries(FIELDS.map(([k]) => [k, q.get(k) || null]).filter(([, v]) => v));
  const types = q.getAll("type");
  const filters = {
    materialTypes: types.length ? types : null,
    libraryId: q.get("lib") || null,
    availableOnly: q.get("avail") === "1",
    yearFrom: q.get("from") ? Number(q.get("from")) : null,
    yearTo: q.get("to") ? Number(q.get("to")) : null,
  };
  return { query: q.get("q") ?? "", fields: Object.keys(fields).length ? fields : null, filters,
    sort: q.get("sort") || "RELEVANCE", first: 20, after: null };
}

function searchForm(q, libs, navigate) {
  const advanced = el("details", { className: "advanced", open: FIELDS.some(([k]) => q.get(k)) || q.has("type") || q.has("lib") || q.has("from") || q.has("to") },
    el("summary", {}, "詳細検索"),
    ...FIELDS.map(([k, label]) => field(label, input(k, { value: q.get(k) ?? "", id: `adv-${k}` }))),
    el("fieldset", {}, el("legend", {}, "資料種別"),
      ...Object.entries(MATERIAL).map(([v, t]) => el("label", { className: "check" },
        input("type", { type: "checkbox", value: v, checked: q.getAll("type").includes(v) }), t))),
    field("所蔵館", select("lib", [["", "すべての館"], ...libs.map((l) => [l.id, l.name])], q.get("lib") ?? "")),
    field("出版年（から）", input("from", { type: "number", value: q.get("from") ?? "", inputMode: "numeric", id: "year-from" })),
    field("出版年（まで）", input("to", { type: "number", value: q.get("to") ?? "", inputMode: "numeric", id: "year-to" })),
    el("label", { className: "check" }, input("avail", { type: "checkbox", value: "1", checked: q.get("avail") === "1" }), "在架の資料のみ"));
  const f = el("form", { id: "search-form", role: "search" },
    el("p", { className: "field wide" },
      el("label", { htmlFor: "query" }, "キーワード"),
      input("q", { id: "query", type: "search", value: q.get("q") ?? "", placeholder: "書名・著者名・ISBN など" })),
    field("並び順", select("sort", SORTS, q.get("sort") || "RELEVANCE", { id: "sort" })),
    el("p", {}, el("button", { type: "submit", id: "search-button" }, "検索")),
    advanced);
  f.addEventListener("submit", (event) => {
    event.preventDefault();
    const params = new URLSearchParams();
    for (const [k, v] of new FormData(f)) if (v) params.append(k, v);
    navigate(`/search?${params}`);
  });
  return f;
}

function resultItem(record) {
  return el("li", { className: "result" },
    link(`/record/${encodeURIComponent(record.id)}`, record.title, { className: "title" }),
    el("div", { className: "meta" }, [word(MATERIAL, record.materialType), record.responsibility, record.publisher,
      record.year, availabilityText(record)].filter(Boolean).join(" ／ ")),
    record.holdable ? basketButton(record) : null);
}

function facets(found, q) {
  const narrow = (key, value) => {
    const p = new URLSearchParams(q);
    p.delete(key);
    p.append(key, value);
    return `/search?${p}`;
  };
  return el("aside", { className: "facets", attrs: { "aria-label": "絞り込み" } },
    el("h2", {}, "絞り込み"),
    el("h3", {}, "資料種別"),
    el("ul", {}, ...found.materialTypeFacets.map((f) => el("li", {},
      link(narrow("type", f.materialType), `${word(MATERIAL, f.materialType)} (${f.count})`)))),
    el("h3", {}, "所蔵館"),
    el("ul", {}, ...found.libraryFacets.map((f) => el("li", {},
      link(narrow("lib", f.library.id), `${f.library.name} (${f.count})`)))));
}

export async function searchView({ main, query: q, navigate, isCurrent }) {
  const libs = await libraryList();
  const box = messageBox();
  const count = el("p", { id: "result-count" });
  const results = el("ol", { id: "results" });
  const searched = [...q.keys()].length > 0;
  page(main, searched ? "検索結果" : "資料検索", searchForm(q, libs, navigate), box, count);
  if (!searched) return;
  const vars = variables(q);
  await guarded(box, async () => {
    const { search: found } = await call("Search", vars);
    if (!isCurrent()) return;
    count.textContent = `${found.totalCount} 件見つかりました`;
    announce(count.textContent);
    results.append(...found.edges.map((e) => resultItem(e.node)));
    const layout = el("div", { className: "results-layout" }, el("div", {}, results), facets(found, q));
    main.append(layout);
    moreButton(box, results, found, async (after) => (await call("Search", { ...vars, after })).search, resultItem);
  });
}
