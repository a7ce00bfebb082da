// 予約状況: each hold's state in the guide's words, cancel, change pickup, pause (HOLD-6).

import { call, check } from "../api.js";
import { button, el, field, guarded, input, jaDate, link, messageBox, page, select, show, ymd } from "../dom.js";
import { HOLD_STATE, word } from "../words.js";

function holdItem(hold, libraries, refresh) {
  const box = messageBox();
  const facts = [`状態: ${word(HOLD_STATE, hold.state)}`,
    hold.queuePosition ? `順位: ${hold.queuePosition} 番目／${hold.queueLength} 件` : null,
    `受取館: ${hold.pickupLibrary.name}`,
    hold.pickupDeadline ? `予約有効期限: ${jaDate(hold.pickupDeadline)}` : null,
    hold.pausedUntil ? `保留中: ${jaDate(hold.pausedUntil)} まで` : null,
    `予約日: ${jaDate(hold.placedAt)}`].filter(Boolean);
  const item = el("li", { className: "hold", dataset: { id: hold.id, state: hold.state } },
    link(`/record/${encodeURIComponent(hold.record.id)}`, hold.record.title, { className: "title" }),
    el("div", { className: "meta" }, facts.join("・")));
  if (!hold.canModify) {
    item.append(el("p", { className: "hint" }, "「貸出可能」「回送中」の予約は変更・取消できません。"));
  } else {
    const pickup = select("pickup", libraries.filter((l) => l.takesHolds).map((l) => [l.id, l.name]), hold.pickupLibrary.id);
    const day = (n) => ymd(new Date(Date.now() + n * 86400000));
    const until = input("until", { type: "date", min: day(1), max: day(365) }); // HOLD-6: up to a year
    const label = hold.record.title;
    item.append(el("div", { className: "hold-actions" },
      button("予約取消", () => guarded(box, async () => {
        const { cancelHold } = await call("CancelHold", { holdId: hold.id });
        check(cancelHold.errors);
        await refresh(`「${label}」の予約を取り消しました。`, hold.id);
      }), { className: "cancel danger", attrs: { "aria-label": `${label} の予約取消` } }),
      el("span", { className: "inline" }, field("受取館", pickup),
        button("受取館を変更", () => guarded(box, async () => {
          const { changeHoldPickup } = await call("ChangeHoldPickup", { holdId: hold.id, pickupLibraryId: pickup.value });
          check(changeHoldPickup.errors);
          await refresh(`受取館を${changeHoldPickup.hold.pickupLibrary.name}に変更しました。`, hold.id);
        }), { className: "change-pickup", attrs: { "aria-label": `${label} の受取館を変更` } })),
      el("span", { className: "inline" }, field("保留する期限", until, "空欄なら保留を解除"),
        button("保留", () => guarded(box, async () => {
          const { pauseHold } = await call("PauseHold", { holdId: hold.id, until: until.value || null });
          check(pauseHold.errors);
          await refresh(pauseHold.hold.pausedUntil ? `${jaDate(pauseHold.hold.pausedUntil)} まで保留しました。` : "保留を解除しました。", hold.id);
        }), { className: "pause", attrs: { "aria-label": `${label} を保留` } }))));
  }
  item.append(box);
  return item;
}

export async function holdsView({ main }) {
  const { myHolds, libraries } = await call("MyHolds");
  const top = messageBox();
  const refresh = async (text, holdId) => {
    await holdsView({ main });
    const target = main.querySelector(`li.hold[data-id="${holdId}"] .message`) ?? main.querySelector(".message");
    show(target, text, true);
  };
  const active = myHolds.filter((h) => ["WAITING", "IN_TRANSIT", "READY"].includes(h.state));
  page(main, "予約状況", top,
    active.length ? el("ul", { id: "holds", className: "plain" }, ...active.map((h) => holdItem(h, libraries, refresh)))
      : el("p", {}, "予約している資料はありません。"),
    el("p", { className: "hint" }, "「貸出可能」の資料は、予約有効期限日までに開館日を確認のうえ受取館でお受け取りください。", link("/calendar", "図書館カレンダー")));
}
