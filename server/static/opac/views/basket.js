// 予約かご → 予約内容確認 → 予約結果: the two-step hold (BASKET-1, HOLD-2).

import { call, check } from "../api.js";
import { announce, button, el, field, guarded, link, messageBox, page, select, show } from "../dom.js";
import { HOLD_STATE, MATERIAL, word } from "../words.js";
import { forgetBasket } from "./common.js";

function resultList(payload, placed) {
  return el("ul", { id: placed ? "placed" : "preview-list", className: "outcomes" }, ...payload.results.map((r) => {
    const text = r.ok
      ? (placed ? `予約しました（${word(HOLD_STATE, r.hold.state)}${r.hold.queuePosition ? `・${r.hold.queuePosition} 番目` : ""}）` : "予約できます")
      : r.errors.map((e) => e.message).join(" / ");
    return el("li", { className: r.ok ? "ok" : "refused" },
      el("span", { className: "mark", attrs: { "aria-hidden": "true" } }, r.ok ? "✓" : "✕"),
      el("strong", {}, r.record?.title ?? ""), ` — ${r.ok ? "" : "予約できません: "}${text}`);
  }));
}

export async function basketView(ctx) {
  const { main } = ctx;
  const [{ myBasket, libraries, me }, { myBookshelves }] = await Promise.all([call("MyBasket"), call("MyBookshelves")]);
  forgetBasket();
  const box = messageBox();
  if (!myBasket.length) {
    page(main, "予約かご", el("p", {}, "予約かごは空です。"), link("/search", "資料を検索する"));
    return;
  }
  const rows = myBasket.map((entry) => el("li", { className: "basket-entry", dataset: { id: entry.id } },
    el("label", { className: "check" },
      el("input", { type: "checkbox", name: "entry", value: entry.id, checked: true }),
      el("span", {}, entry.record.title)),
    el("span", { className: "meta" }, ` ${[word(MATERIAL, entry.record.materialType), entry.record.responsibility, entry.record.year].filter(Boolean).join(" ／ ")}`),
    " ", link(`/record/${encodeURIComponent(entry.record.id)}`, "詳細", { attrs: { "aria-label": `${entry.record.title} の詳細` } })));
  const pickup = select("pickup", libraries.filter((l) => l.takesHolds).map((l) => [l.id, l.name]), me.defaultPickupLibrary?.id);
  pickup.id = "pickup";
  const chosen = () => [...main.querySelectorAll("input[name=entry]:checked")].map((c) => c.value);
  const confirm = button("予約", () => guarded(box, async () => {
    const ids = chosen();
    if (!ids.length) return show(box, "予約する資料にチェックを入れてください。", false);
    const { previewHolds } = await call("PreviewHolds", { basketEntryIds: ids, pickupLibraryId: pickup.value });
    check(previewHolds.errors);
    previewStep(ctx, ids, previewHolds);
  }), { id: "preview" });
  const remove = button("チェックした資料をかごから削除", () => guarded(box, async () => {
    const ids = chosen();
    if (!ids.length) return show(box, "削除する資料にチェックを入れてください。", false);
    const { removeFromBasket } = await call("RemoveFromBasket", { basketEntryIds: ids });
    check(removeFromBasket.errors);
    await basketView(ctx);
    show(main.querySelector(".message"), `${removeFromBasket.removed} 件を予約かごから削除しました。`, true);
  }), { id: "remove-selected", className: "secondary" });
  page(main, "予約かご",
    el("p", {}, `予約したい資料にチェックを入れ、受取館を選んで「予約」を押してください。（${myBasket.length} 件／100件まで）`),
    el("ul", { id: "basket", className: "plain" }, ...rows),
    field("受取館", pickup), box, el("p", { className: "actions" }, confirm, remove),
    myBookshelves.length ? toShelf(myBookshelves, chosen) : null);
}

/** My本棚 from the basket: the checked titles go to a bookshelf (they stay in the basket). */
function toShelf(shelves, chosen) {
  const box = messageBox();
  const shelf = select("shelf", shelves.map((s) => [s.id, s.name]), undefined, { id: "basket-shelf" });
  return el("div", { className: "actions" }, field("本棚", shelf),
    button("チェックした資料を本棚に入れる", () => guarded(box, async () => {
      const ids = chosen();
      if (!ids.length) return show(box, "本棚に入れる資料にチェックを入れてください。", false);
      const { addToBookshelf } = await call("AddToBookshelf", { bookshelfId: shelf.value, basketEntryIds: ids });
      check(addToBookshelf.errors);
      show(box, `本棚「${addToBookshelf.bookshelf.name}」に入れました。`, true);
    }), { id: "basket-to-shelf", className: "secondary" }), box);
}

function previewStep(ctx, ids, preview) {
  const { main } = ctx;
  const box = messageBox();
  const pickupId = preview.pickupLibrary?.id;
  const place = button("予約する", () => guarded(box, async () => {
    const { placeHolds } = await call("PlaceHolds", { basketEntryIds: ids, pickupLibraryId: pickupId });
    check(placeHolds.errors);
    forgetBasket();
    const placed = placeHolds.results.filter((r) => r.ok).length;
    page(main, "予約結果",
      el("p", {}, `受取館: ${placeHolds.pickupLibrary?.name ?? ""}`),
      resultList(placeHolds, true),
      el("p", { className: `message ${placed ? "ok" : "refused"}` }, placed ? `✓ ${placed} 件の予約が完了しました。` : "✕ 予約できた資料はありません。"),
      el("p", {}, link("/my/holds", "予約状況を見る"), " ", link("/my/basket", "予約かごに戻る")));
    announce(`${placed} 件の予約が完了しました`);
    main.querySelector("h1").focus();
  }), { id: "place", disabled: !preview.results.some((r) => r.ok) });
  const back = button("戻る", () => basketView(ctx), { className: "secondary", id: "back-to-basket" });
  page(main, "予約内容確認",
    el("p", {}, `受取館: ${preview.pickupLibrary?.name ?? ""}`),
    resultList(preview, false),
    el("p", {}, "「予約する」を押すと予約が完了します。予約かごに入れただけでは予約は完了していません。"),
    box, el("p", { className: "actions" }, place, back));
  main.querySelector("h1").focus();
}
