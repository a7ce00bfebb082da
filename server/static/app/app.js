// The smartphone app (スマホde貸出): an installable PWA on the clients/smartphone
// operations with bearer delivery. The token lives only in this module's memory: never in
// localStorage, sessionStorage, a cookie or the service worker's cache.

const HOLD_STATE = { WAITING: "確保待ち", IN_TRANSIT: "回送中", READY: "貸出可能", COLLECTED: "受取済", CANCELLED: "取消済", EXPIRED: "期限切れ" };
const NOT_RENEWABLE = { HELD_BY_OTHERS: "予約が入っているため延長できません", OVERDUE: "延滞しているため延長できません",
  RENEWAL_LIMIT: "1回延長されているため延長できません", BOOKMOBILE: "移動図書館で借りた資料は延長できません",
  ART_REPRODUCTION: "複製画は延長できません", INTER_LIBRARY: "市外の図書館から取り寄せた資料は延長できません" };
const REFRESH_BEFORE_MS = 10_000; // a new card code this long before the current one expires
const REFRESH_EVERY_MS = 50_000; // and at least this often: a code is meant to be about a minute old at most

let token = null;
let operations = null;
let cardTimer = null;
const $ = (id) => document.getElementById(id);
const main = $("main");

function el(tag, props = {}, ...children) {
  const { dataset = {}, attrs = {}, ...rest } = props;
  const node = Object.assign(document.createElement(tag), rest);
  Object.assign(node.dataset, dataset);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}
const jaDate = (iso) => { const [y, m, d] = iso.slice(0, 10).split("-").map(Number); return `${y}年${m}月${d}日`; };

class Failure extends Error {
  constructor(message, code) { super(message); this.code = code; }
}

async function call(name, variables = {}) {
  operations ??= await (await fetch("/app/operations.json")).json();
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch("/graphql", { method: "POST", credentials: "omit", headers,
    body: JSON.stringify({ documentId: operations[name], variables }) });
  const body = await response.json().catch(() => ({ errors: [{ message: "ただいま利用できません。", extensions: { code: "UNAVAILABLE" } }] }));
  if (body.errors?.length) {
    const code = body.errors[0].extensions?.code;
    if (token && ["UNAUTHENTICATED", "SESSION_EXPIRED"].includes(code)) signOut("ログインの有効期限が切れました。もう一度ログインしてください。");
    throw new Failure(body.errors[0].message, code);
  }
  return body.data;
}

function check(errors) {
  if (errors?.length) throw new Failure(errors.map((e) => e.message).join(" / "), errors[0].code);
}

function box() {
  return el("div", { className: "message", attrs: { role: "status", "aria-live": "polite" } });
}
function show(target, text, ok) {
  target.className = `message ${ok ? "ok" : "refused"}`;
  target.replaceChildren(el("span", { className: "mark", attrs: { "aria-hidden": "true" } }, ok ? "✓" : "✕"),
    el("span", { className: "visually-hidden" }, ok ? "完了: " : "エラー: "), text);
}
async function guarded(target, action) {
  try { await action(); } catch (error) { if (target.isConnected) show(target, error.message, false); }
}
function screen(title, ...children) {
  clearTimeout(cardTimer);
  document.title = `${title}｜スマホde貸出`;
  const h1 = el("h1", { tabIndex: -1 }, title);
  main.replaceChildren(h1, ...children);
  h1.focus();
  for (const b of document.querySelectorAll("[data-tab]")) b.setAttribute("aria-current", String(b.dataset.tab === current));
}
const button = (text, onclick, props = {}) => { const b = el("button", { type: "button", ...props }, text); b.addEventListener("click", onclick); return b; };
const labelled = (text, control) => el("p", { className: "field" }, el("label", { htmlFor: control.id }, text), control);

let current = "card";

function signOut(text) {
  token = null;
  clearTimeout(cardTimer);
  document.body.className = "anonymous";
  main.replaceChildren();
  loginScreen();
  if (text) show(main.querySelector(".message"), text, true);
}

function loginScreen() {
  const msg = box();
  const card = el("input", { id: "card-number", name: "cardNumber", autocomplete: "username", inputMode: "numeric", required: true });
  const pass = el("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const f = el("form", { id: "login-form" }, labelled("利用者番号", card), labelled("パスワード", pass), msg,
    el("button", { type: "submit", id: "login-button" }, "ログイン"));
  f.addEventListener("submit", (e) => {
    e.preventDefault();
    guarded(msg, async () => {
      const { login } = await call("Login", { cardNumber: card.value, password: pass.value });
      check(login.errors);
      token = login.accessToken;
      f.reset();
      document.body.className = "patron";
      if (login.mustChangePassword) passwordScreen();
      else open("card");
    });
  });
  screen("ログイン", f);
}

function passwordScreen() {
  const msg = box();
  const mk = (id, label) => labelled(label, el("input", { id, name: id, type: "password", autocomplete: id === "current" ? "current-password" : "new-password", required: true }));
  const f = el("form", { id: "password-form" }, mk("current", "現在のパスワード（仮パスワード）"), mk("fresh", "新しいパスワード（英数字6から10桁）"), mk("confirm", "確認パスワード"), msg,
    el("button", { type: "submit", id: "password-button" }, "更新"));
  f.addEventListener("submit", (e) => {
    e.preventDefault();
    guarded(msg, async () => {
      if (f.fresh.value !== f.confirm.value) return show(msg, "新しいパスワードと確認パスワードが一致しません。", false);
      const { changePassword } = await call("ChangePassword", { currentPassword: f.current.value, newPassword: f.fresh.value });
      check(changePassword.errors);
      if (changePassword.accessToken) token = changePassword.accessToken;
      f.reset();
      await open("card");
      show(main.querySelector(".message"), "パスワードを変更しました。", true);
    });
  });
  screen("パスワード変更", el("p", { className: "message refused", id: "forced-change" }, "✕ 仮パスワードのままでは利用できません。パスワードを変更してください。"), f);
}

async function cardScreen() {
  const msg = box();
  const img = el("img", { id: "card-qr", alt: "利用カードのQRコード（カウンターで読み取ります）", width: 264, height: 264 });
  const info = el("p", { id: "card-info" });
  screen("デジタル利用カード", msg, el("div", { className: "qr" }, img), info,
    el("p", { className: "hint" }, "カウンターでこのQRコードを読み取ってもらうと貸出ができます。コードは約1分ごとに自動で新しくなります。"),
    button("コードを更新", () => guarded(msg, refresh), { id: "card-refresh", className: "secondary" }));
  async function refresh() {
    clearTimeout(cardTimer);
    const { myCard } = await call("MyCard");
    if (!img.isConnected) return;
    img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(myCard.qrSvg)}`;
    img.dataset.code = myCard.code;
    const until = new Date(myCard.expiresAt);
    info.textContent = `利用者番号 ${myCard.cardNumber}・${String(until.getHours()).padStart(2, "0")}:${String(until.getMinutes()).padStart(2, "0")}:${String(until.getSeconds()).padStart(2, "0")} まで有効`;
    const wait = Math.max(1000, Math.min(REFRESH_EVERY_MS, until.getTime() - Date.now() - REFRESH_BEFORE_MS));
    cardTimer = setTimeout(() => guarded(msg, refresh), wait);
  }
  await guarded(msg, refresh);
}

async function searchScreen(query = "") {
  const msg = box();
  const q = el("input", { id: "query", name: "query", type: "search", value: query, enterKeyHint: "search" });
  const list = el("ul", { id: "results", className: "plain" });
  const count = el("p", { id: "result-count" });
  const f = el("form", { id: "search-form", role: "search" }, labelled("キーワード", q), el("button", { type: "submit", id: "search-button" }, "検索"));
  f.addEventListener("submit", (e) => {
    e.preventDefault();
    guarded(msg, async () => {
      const { search } = await call("SearchCompact", { query: q.value, first: 20 });
      count.textContent = `${search.totalCount} 件見つかりました`;
      $("announce").textContent = count.textContent;
      list.replaceChildren(...search.edges.map(({ node }) => {
        const out = box();
        return el("li", { className: "result" }, el("strong", { className: "title" }, node.title),
          el("div", { className: "meta" }, [node.responsibility, node.year].filter(Boolean).join(" ／ ")),
          node.holdable ? button("予約する", () => guarded(out, () => holdFlow(node, out)), { className: "hold" }) : null, out);
      }));
    });
  });
  screen("資料検索", f, msg, count, list);
}

/** 予約内容確認 then 予約結果, for one title (through the basket, as the API asks). */
async function holdFlow(record, out) {
  const { addToBasket } = await call("AddToBasket", { recordId: record.id });
  check(addToBasket.errors);
  const entry = addToBasket.entry.id;
  const { libraries, me } = await call("Libraries");
  const pickup = el("select", { id: `pickup-${entry}`, name: "pickup" },
    ...libraries.filter((l) => l.takesHolds).map((l) => el("option", { value: l.id }, l.name)));
  if (me.defaultPickupLibrary) pickup.value = me.defaultPickupLibrary.id;
  const { previewHolds } = await call("PreviewHolds", { basketEntryIds: [entry], pickupLibraryId: pickup.value });
  check(previewHolds.errors);
  const [result] = previewHolds.results;
  if (!result.ok) { check(result.errors); }
  out.className = "message confirm";
  out.replaceChildren(el("p", {}, "予約内容確認: この資料を予約できます。受取館を選んで「予約を確定」を押してください。"),
    labelled("受取館", pickup),
    button("予約を確定", () => guarded(out, async () => {
      const { placeHolds } = await call("PlaceHolds", { basketEntryIds: [entry], pickupLibraryId: pickup.value });
      check(placeHolds.errors);
      const [placed] = placeHolds.results;
      check(placed.errors);
      show(out, `予約しました（${HOLD_STATE[placed.hold.state] ?? ""}・${placed.hold.queuePosition ?? "-"} 番目）`, true);
    }), { className: "place" }));
}

async function holdsScreen() {
  const msg = box();
  const { myHolds } = await call("MyHoldsCompact");
  const active = myHolds.filter((h) => ["WAITING", "IN_TRANSIT", "READY"].includes(h.state));
  screen("予約状況", msg, active.length ? el("ul", { id: "holds", className: "plain" }, ...active.map((h) => {
    const out = box();
    return el("li", { className: "hold" }, el("strong", {}, h.record.title),
      el("div", { className: "meta" }, [HOLD_STATE[h.state] ?? "—", h.queuePosition ? `${h.queuePosition} 番目` : null,
        h.pickupDeadline ? `予約有効期限 ${jaDate(h.pickupDeadline)}` : null].filter(Boolean).join("・")),
      h.state === "WAITING" ? button("予約取消", () => guarded(out, async () => {
        const { cancelHold } = await call("CancelHold", { holdId: h.id });
        check(cancelHold.errors);
        await holdsScreen();
        show(main.querySelector(".message"), `「${h.record.title}」の予約を取り消しました。`, true);
      }), { className: "secondary" }) : null, out);
  })) : el("p", {}, "予約している資料はありません。"));
}

async function loansScreen() {
  const msg = box();
  const { myLoans } = await call("MyLoansCompact");
  screen("貸出状況", msg, myLoans.length ? el("ul", { id: "loans", className: "plain" }, ...myLoans.map((loan) => {
    const out = box();
    return el("li", { className: `loan${loan.daysOverdue ? " overdue" : ""}`, dataset: { id: loan.id } }, el("strong", {}, loan.record.title),
      el("div", { className: "meta due" }, `返却期限 ${jaDate(loan.dueOn)}`),
      loan.daysOverdue ? el("p", { className: "overdue-mark" }, `⚠ 延滞 ${loan.daysOverdue} 日`) : null,
      loan.renewable ? button("延長", () => guarded(out, async () => {
        const { renewLoans } = await call("RenewLoans", { loanIds: [loan.id] });
        check(renewLoans.errors);
        const [r] = renewLoans.results;
        check(r.errors);
        await loansScreen();
        show(main.querySelector(`li.loan[data-id="${loan.id}"] .message`), `延長しました。新しい返却期限は ${jaDate(r.loan.dueOn)} です。`, true);
      }), { className: "renew" }) : el("p", { className: "not-renewable" }, NOT_RENEWABLE[loan.renewalBlockedBy] ?? "延長できません"), out);
  })) : el("p", {}, "借りている資料はありません。"));
}

const SCREENS = { card: cardScreen, search: () => searchScreen(), holds: holdsScreen, loans: loansScreen };

async function open(tab) {
  current = tab;
  try {
    await SCREENS[tab]();
  } catch (error) {
    if (error.code === "TEMPORARY_PASSWORD") return passwordScreen();
    if (!token) return;
    const msg = box();
    screen("表示できません", msg);
    show(msg, error.message, false);
  }
}

for (const b of document.querySelectorAll("[data-tab]")) b.addEventListener("click", () => open(b.dataset.tab));
$("logout").addEventListener("click", async () => {
  try { if (token) await call("Logout"); } catch { /* the session may be gone already */ }
  signOut("ログアウトしました。");
});
if ("serviceWorker" in navigator) navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" });
loginScreen();
