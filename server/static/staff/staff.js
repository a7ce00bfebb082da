// Reference staff dashboard: plain JavaScript, no build step. Every request is one of the
// clients/staff-dashboard operations, sent by its trusted-document id (docs/frontend.md).
// The counter screen is made for a barcode scanner: focus stays in one scan field, Enter
// submits, every scan leaves a visible line in the log (no sound).

const $ = (id) => document.getElementById(id);
// The operation ids, fetched once. Every call waits for them: a clerk (or a test) may press
// ログイン before the list has arrived, and a request without its id is refused as malformed.
let operations = null;
let staff = null;
let patron = null; // the patron at the counter (DeskPatron)
let pendingCheckout = null; // a check-out waiting for an override
// Scans run one at a time, in the order they were read: a scanner reads a card and then a
// book faster than the card's lookup answers, and the book is for that card.
let scans = Promise.resolve();

const HOLD_STATES = { WAITING: "順番待ち", IN_TRANSIT: "回送中", READY: "確保済み",
  COLLECTED: "受取済", CANCELLED: "取消", EXPIRED: "期限切れ" };

function operationIds() {
  operations ??= fetch("/staff/operations.json").then((response) => response.json())
    .catch((error) => {
      operations = null; // a failed fetch is tried again by the next call, not kept
      throw error;
    });
  return operations;
}

async function call(name, variables = {}) {
  const ids = await operationIds();
  const response = await fetch("/graphql", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-Hondana-Client": "staff-dashboard" },
    body: JSON.stringify({ documentId: ids[name], variables }),
  });
  const body = await response.json();
  if (body.errors && body.errors.length) {
    const error = body.errors[0];
    if (["UNAUTHENTICATED", "SESSION_EXPIRED"].includes(error.extensions?.code)) setStaff(null);
    throw new Error(error.message);
  }
  return body.data;
}

function el(tag, { dataset = {}, ...props } = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  Object.assign(node.dataset, dataset);
  for (const child of children) node.append(child);
  return node;
}

function say(text, ok = false) {
  $("message").textContent = text;
  $("message").className = ok ? "ok" : "ng";
}

function messages(errors) {
  return errors.map((e) => e.message).join(" / ");
}

async function guarded(action) {
  try {
    await action();
  } catch (error) {
    say(error.message);
  }
}

function library() {
  return $("library").value;
}

function libraryName() {
  return $("library").selectedOptions[0]?.textContent ?? "";
}

// A temporary password is shown once: leaving the view that issued it forgets it (AUTH-3,
// AUTH-5), at the applications queue as at registration, from the moment the clerk moves.
function forgetSecretsLeaving(view) {
  if (view !== "applications") forgetPassword();
  if (view !== "register") $("temporary-password").textContent = "";
}

function show(view) {
  forgetSecretsLeaving(view);
  for (const section of document.querySelectorAll("main > section")) {
    if (section.id !== "slip") section.hidden = section.id !== `${view}-view`;
  }
  if (view === "counter") $("scan").focus();
}

// A view's roles (data-roles, space separated) as the API checks them: any one, or ADMIN.
function hasRole(roles) {
  if (!staff) return false;
  if (!roles) return true;
  return staff.roles.includes("ADMIN") || roles.split(" ").some((r) => staff.roles.includes(r));
}

function setStaff(me) {
  staff = me;
  document.body.className = me ? "staff" : "anonymous";
  $("who").textContent = me ? `${me.name} (${me.roles.join("・")})` : "";
  for (const button of document.querySelectorAll("nav [data-roles]")) {
    button.hidden = !hasRole(button.dataset.roles);
  }
  if (!me) show("login");
}

function canOverride() {
  return staff && (staff.roles.includes("OVERRIDE") || staff.roles.includes("ADMIN"));
}

// ---- the scan log and slips ------------------------------------------------------------

function logScan(text, ok) {
  const line = el("li", { className: `scan-result ${ok ? "ok" : "ng"}`,
    textContent: `${ok ? "○" : "×"} ${text}` });
  $("scan-log").prepend(line);
  say(text, ok);
}

function slip(title, rows) {
  $("slip-title").textContent = title;
  $("slip-body").replaceChildren(...rows.flatMap(([term, value]) => [
    el("dt", { textContent: term }), el("dd", { textContent: value ?? "" })]));
  $("slip").hidden = false;
}

function copySlip(result) {
  const { copy, hold, destination } = result;
  const call = copy.callNumber ?? "";
  if (hold && hold.state === "READY") {
    slip("予約票", [["書名", copy.record.title], ["請求記号", call], ["バーコード", copy.barcode],
      ["利用者番号", hold.patron?.cardNumber], ["受取館", hold.pickupLibrary.name],
      ["取置期限", hold.pickupDeadline]]);
  } else if (copy.status === "IN_TRANSIT") {
    slip("回送票", [["書名", copy.record.title], ["請求記号", call], ["バーコード", copy.barcode],
      ["回送先", destination?.name], ["発送館", libraryName()],
      ["受取館", hold?.pickupLibrary.name ?? ""]]);
  }
}

// ---- the counter -----------------------------------------------------------------------

function mode() {
  return document.querySelector("input[name=mode]:checked").value;
}

function setMode(value) {
  document.querySelector(`input[name=mode][value=${value}]`).checked = true;
}

// The mode is taken when the code is read. A card read switches to 貸出 at once, so the
// books read after it are check-outs even while the card is still being looked up.
function queueScan(code) {
  const action = { patron: loadPatron, checkout: checkOut, checkin: checkIn, receive }[mode()];
  if (action === loadPatron) setMode("checkout");
  scans = scans.then(() => guarded(() => action(code).catch((error) => logScan(error.message, false))));
}

async function loadPatron(cardNumber) {
  // Until this card is known, nothing read after it goes to the patron before it.
  patron = null;
  pendingCheckout = null;
  $("override").hidden = true;
  $("patron-panel").hidden = true;
  let deskPatron;
  try {
    ({ deskPatron } = await call("DeskPatron", { cardNumber }));
  } catch (error) {
    setMode("patron"); // an unknown card: the next code read is taken as a card again
    throw error;
  }
  patron = deskPatron;
  renderPatron();
  logScan(`利用者 ${deskPatron.patron.name} (${cardNumber})`, true);
}

async function refreshPatron() {
  if (!patron) return;
  patron = (await call("DeskPatron", { cardNumber: patron.patron.cardNumber })).deskPatron;
  renderPatron();
}

function loanItem(loan) {
  const renew = el("button", { type: "button", className: "renew", textContent: "延長" });
  renew.addEventListener("click", () => guarded(() => renewLoan(loan)));
  const late = loan.daysOverdue > 0 ? ` 延滞 ${loan.daysOverdue} 日` : "";
  return el("li", { className: "loan", dataset: { id: loan.id, barcode: loan.copy.barcode } },
    el("span", { className: "due", textContent: `返却期限 ${loan.dueOn}${late} 延長 ${loan.renewals} 回` }),
    ` ${loan.record.title} (${loan.copy.barcode}) `, renew);
}

function holdItem(hold) {
  const cancel = el("button", { type: "button", className: "cancel-hold", textContent: "取消" });
  cancel.addEventListener("click", () => guarded(() => cancelHold(hold)));
  const move = el("select", { className: "move-hold", ariaLabel: "受取館の変更" },
    el("option", { value: "", textContent: "受取館を変更…" }),
    ...[...$("library").options].map((o) => el("option", { value: o.value, textContent: o.textContent })));
  move.addEventListener("change", () => guarded(() => moveHold(hold, move.value)));
  const place = hold.queuePosition ? ` ${hold.queuePosition} 番目` : "";
  return el("li", { className: "hold", dataset: { id: hold.id } },
    el("span", { className: "state", textContent: HOLD_STATES[hold.state] + place }),
    ` ${hold.record.title} (受取館 ${hold.pickupLibrary.name}${hold.pickupDeadline ? `・取置期限 ${hold.pickupDeadline}` : ""}) `,
    cancel, move);
}

function renderPatron() {
  const { patron: p, loans, holds, blocks, daysOverdue } = patron;
  $("patron-panel").hidden = false;
  $("patron-name").textContent = `${p.name} さん (${p.cardNumber})`;
  $("patron-facts").textContent = [`有効期限 ${p.cardExpiresOn}`, p.phone && `電話 ${p.phone}`,
    daysOverdue > 0 ? `延滞 ${daysOverdue} 日` : "延滞なし"].filter(Boolean).join("・");
  $("patron-blocks").replaceChildren(...blocks.map((b) => el("li", { textContent: b.message })));
  $("patron-loans").replaceChildren(...loans.map(loanItem));
  $("patron-holds").replaceChildren(...holds.map(holdItem));
}

async function checkOut(barcode, override = false) {
  if (!patron) {
    logScan("先に利用者カードを読み取ってください。", false);
    return;
  }
  const variables = { barcode, libraryId: library(), cardNumber: patron.patron.cardNumber };
  if (override) Object.assign(variables, { override: true, overrideReason: $("override-reason").value });
  const { checkOut: result } = await call("CheckOut", variables);
  if (result.errors.length) {
    const warning = result.errors.some((e) => e.rule === "STAFF-4");
    logScan(`貸出できません: ${barcode} ${messages(result.errors)}`, false);
    pendingCheckout = warning && canOverride() ? barcode : null;
    $("override").hidden = !pendingCheckout;
    return;
  }
  pendingCheckout = null;
  $("override").hidden = true;
  const { loan } = result;
  logScan(`貸出: ${loan.record.title} 返却期限 ${loan.dueOn}`, true);
  slip("貸出票 (返却期限のお知らせ)", [["利用者番号", patron.patron.cardNumber],
    ["書名", loan.record.title], ["請求記号", loan.copy.callNumber], ["返却期限", loan.dueOn],
    ["貸出館", libraryName()]]);
  await refreshPatron();
}

async function copyMove(name, variables, verb) {
  const result = (await call(name, variables))[name.charAt(0).toLowerCase() + name.slice(1)];
  if (result.errors.length) {
    logScan(`${verb}できません: ${variables.barcode} ${messages(result.errors)}`, false);
    return null;
  }
  logScan(`${verb}: ${result.copy.record.title} — ${result.instruction}`, true);
  copySlip(result);
  return result;
}

async function checkIn(barcode) {
  await copyMove("CheckIn", { barcode, libraryId: library() }, "返却");
  await refreshPatron();
}

async function receive(barcode) {
  await copyMove("ReceiveTransit", { barcode, libraryId: library() }, "回送受取");
}

async function renewLoan(loan) {
  const { renewLoanFor } = await call("RenewLoanFor",
    { cardNumber: patron.patron.cardNumber, loanId: loan.id });
  if (renewLoanFor.errors.length) throw new Error(messages(renewLoanFor.errors));
  await refreshPatron();
  say(`延長しました: ${renewLoanFor.loan.record.title} 返却期限 ${renewLoanFor.loan.dueOn}`, true);
}

function reason() {
  const text = $("desk-reason").value.trim();
  if (!text) throw new Error("理由を入力してください。");
  return text;
}

async function cancelHold(hold) {
  const { cancelHoldFor } = await call("CancelHoldFor", { holdId: hold.id, reason: reason() });
  if (cancelHoldFor.errors.length) throw new Error(messages(cancelHoldFor.errors));
  await refreshPatron();
  say(`予約を取り消しました: ${hold.record.title}`, true);
}

async function moveHold(hold, libraryId) {
  if (!libraryId) return;
  const { moveHoldFor } = await call("MoveHoldFor",
    { holdId: hold.id, pickupLibraryId: libraryId, reason: reason() });
  if (moveHoldFor.errors.length) throw new Error(messages(moveHoldFor.errors));
  await refreshPatron();
  say(`受取館を ${moveHoldFor.hold.pickupLibrary.name} に変更しました。`, true);
}

// ---- the lists -------------------------------------------------------------------------

function row(...cells) {
  return el("tr", {}, ...cells.map((c) => (c instanceof Node ? el("td", {}, c) : el("td", { textContent: c ?? "" }))));
}

async function showShelf() {
  const { holdShelf } = await call("HoldShelf", { libraryId: library() });
  const { expiredHolds } = await call("ExpiredHolds", { libraryId: library() });
  $("shelf-table").tBodies[0].replaceChildren(...holdShelf.map((h) => row(h.pickupDeadline,
    h.record.title, h.copy?.callNumber, h.copy?.barcode, h.patron.cardNumber)));
  $("expired-table").tBodies[0].replaceChildren(...expiredHolds.map((h) => row(h.pickupDeadline,
    h.record.title, h.copy?.barcode, h.patron.cardNumber)));
  show("shelf");
}

async function showPull() {
  const { pullList } = await call("PullList", { libraryId: library() });
  $("pull-table").tBodies[0].replaceChildren(...pullList.map((item) => {
    const pulled = el("button", { type: "button", className: "pulled", textContent: "取出済" });
    pulled.addEventListener("click", () => guarded(async () => {
      if (await copyMove("MarkPulled", { barcode: item.copy.barcode }, "取出")) await showPull();
    }));
    const tr = row(item.copy.callNumber, item.copy.shelfLocation, item.record.title,
      item.copy.barcode, item.firstHold?.pickupLibrary.name, item.firstHold?.patron.cardNumber, pulled);
    tr.dataset.barcode = item.copy.barcode;
    return tr;
  }));
  show("pull");
}

async function showTransits() {
  const { transitsExpected } = await call("TransitsExpected", { libraryId: library() });
  $("transits-table").tBodies[0].replaceChildren(...transitsExpected.map((t) => {
    const tr = row(t.copy.record.title, t.copy.callNumber, t.copy.barcode,
      t.hold ? `予約 (${t.hold.pickupLibrary.name})` : "所蔵館へ返送");
    tr.dataset.barcode = t.copy.barcode;
    return tr;
  }));
  show("transits");
}

async function showCalls() {
  const { callList } = await call("CallList", { libraryId: library() });
  $("calls-table").tBodies[0].replaceChildren(...callList.map((h) => {
    const outcome = el("input", { className: "outcome", ariaLabel: "連絡の結果", value: "本人に連絡済み" });
    const done = el("button", { type: "button", className: "called", textContent: "連絡済" });
    done.addEventListener("click", () => guarded(async () => {
      const { markCalled } = await call("MarkCalled", { holdId: h.id, outcome: outcome.value });
      if (markCalled.errors.length) throw new Error(messages(markCalled.errors));
      say("連絡済にしました。", true);
      await showCalls();
    }));
    return row(`${h.patron.name} (${h.patron.cardNumber})`, h.patron.phone, h.record.title,
      h.pickupDeadline, el("span", {}, outcome, done));
  }));
  show("calls");
}

// ---- patrons ---------------------------------------------------------------------------

let registeredCard = null;

async function registerPatron(form) {
  const data = new FormData(form);
  const text = (name) => (data.get(name) || "").trim() || null;
  const details = { name: text("name"), nameKana: text("nameKana"), birthDate: text("birthDate"),
    address: text("address"), phone: text("phone"), email: text("email"),
    guardianConsent: data.get("guardianConsent") === "on", contactMethod: data.get("contactMethod") };
  const { registerPatron: result } = await call("RegisterPatron", { details,
    cardKind: data.get("cardKind"), cardNumber: text("cardNumber"), cardExpiresOn: text("cardExpiresOn") });
  if (result.errors.length) throw new Error(messages(result.errors));
  registeredCard = result.patron;
  $("registered").hidden = false;
  $("registered-card").textContent =
    `登録しました: ${result.patron.name} 利用者番号 ${result.patron.cardNumber} 有効期限 ${result.patron.cardExpiresOn}`;
  $("temporary-password").textContent = "";
  say("利用者を登録しました。", true);
}

async function issuePassword() {
  const { issuePassword: result } = await call("IssuePassword", {
    cardNumber: registeredCard.cardNumber, guardianConsent: registeredCard.guardianConsent, proxy: false });
  if (result.errors.length) throw new Error(messages(result.errors));
  $("temporary-password").textContent = `仮パスワード: ${result.temporaryPassword}`;
  say("仮パスワードを発行しました。", true);
}

async function renewCard(cardNumber) {
  const { renewCard: result } = await call("RenewCard", { cardNumber });
  if (result.errors.length) throw new Error(messages(result.errors));
  $("renewed-card").textContent = `更新しました: ${result.patron.name} 新しい有効期限 ${result.patron.cardExpiresOn}`;
  say("利用カードを更新しました。", true);
}

// ---- applications (申請) -----------------------------------------------------------------

// Every kind in the guide's words (never a raw enum value on screen).
const APPLICATION_KIND = { NEW_REGISTRATION: "新規登録", CARD_REISSUE: "再発行",
  DETAILS_CHANGE: "記載事項変更", CARD_RENEWAL: "有効期限の更新",
  CARD_NUMBER_NOTICE: "利用者番号の通知", PASSWORD_ISSUE: "パスワード新規発行" };
// Kinds that act on an existing card: when the applicant's card number and birth date
// matched none, the clerk names the card they identified (APP-1).
const ACTS_ON_A_CARD = new Set(["CARD_REISSUE", "DETAILS_CHANGE", "CARD_RENEWAL", "CARD_NUMBER_NOTICE"]);

const kindName = (kind) => APPLICATION_KIND[kind] ?? "その他の申請";

function when(iso) {
  return new Date(iso).toLocaleString("ja-JP", { timeZone: "Asia/Tokyo", year: "numeric",
    month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
}

function forgetPassword() {
  $("issued-password-value").textContent = "";
  $("issued-password-for").textContent = "";
  $("issued-password").hidden = true;
}

function showIssuedPassword(application, password) {
  $("issued-password-for").textContent =
    `${application.name} さん (利用者番号 ${application.cardNumber ?? ""}) の仮パスワードです。`;
  $("issued-password-value").textContent = password;
  $("issued-password").hidden = false;
  $("issued-password").focus();
}

function cardCell(a) {
  const given = a.cardNumber ?? "—";
  if (a.matchedPatron) return `${given} (番号と生年月日が一致)`;
  if (!ACTS_ON_A_CARD.has(a.kind)) return given;
  const card = el("input", { className: "card", inputMode: "numeric", autocomplete: "off",
    ariaLabel: `${a.name} さんの確認した利用者番号` });
  return el("span", {}, `${given} (一致する利用者なし) `, card);
}

function applicationRow(a) {
  const who = `${a.name} さんの${kindName(a.kind)}`;
  const note = el("input", { className: "note", maxLength: 1000, ariaLabel: `${who}へのメモ (却下の理由)` });
  const approve = el("button", { type: "button", className: "approve", textContent: "承認",
    ariaLabel: `承認: ${who}` });
  const reject = el("button", { type: "button", className: "reject", textContent: "却下",
    ariaLabel: `却下: ${who}` });
  const tr = row(when(a.createdAt), kindName(a.kind), a.name, cardCell(a), a.birthDate, a.email ?? "—",
    a.details ?? "", el("span", { className: "decide" }, note, approve, reject));
  tr.cells[5].className = "email";
  tr.dataset.id = a.id;
  approve.addEventListener("click", () => guarded(() => decideApplication(a, true, tr)));
  reject.addEventListener("click", () => guarded(() => decideApplication(a, false, tr)));
  return tr;
}

async function loadApplications() {
  const { applications } = await call("ApplicationsQueue", { state: "PENDING" });
  $("applications-table").tBodies[0].replaceChildren(...applications.map(applicationRow));
  $("applications-count").textContent = applications.length
    ? `未処理の申請は ${applications.length} 件です。` : "未処理の申請はありません。";
}

async function showApplications() {
  await loadApplications();
  show("applications");
  $("applications-heading").focus();
}

async function decideApplication(a, approve, tr) {
  const note = tr.querySelector("input.note").value.trim() || null;
  if (!approve && !note) {
    tr.querySelector("input.note").focus();
    throw new Error("却下の理由を入力してください。");
  }
  const cardNumber = tr.querySelector("input.card")?.value.trim() || null;
  const { decideApplication: result } = await call("DecideApplication",
    { applicationId: a.id, approve, note, cardNumber });
  if (result.errors.length) {
    // Decided or gone meanwhile (another desk): the queue is read again.
    if (result.errors.some((e) => e.code === "ALREADY_DECIDED" || (e.code === "NOT_FOUND" && e.field === "applicationId"))) {
      await loadApplications();
    }
    throw new Error(`${kindName(a.kind)} (${a.name} さん): ${messages(result.errors)}`);
  }
  await loadApplications();
  say(`${approve ? "承認" : "却下"}しました: ${kindName(a.kind)} (${a.name} さん)`, true);
  if (result.temporaryPassword) showIssuedPassword(a, result.temporaryPassword);
  else $("applications-heading").focus();
}

// ---- the calendar ----------------------------------------------------------------------

function isoDay(date) {
  return date.toLocaleDateString("sv-SE", { timeZone: "Asia/Tokyo" });
}

async function showCalendar() {
  const today = new Date();
  const days = [...Array(14).keys()].map((n) => isoDay(new Date(today.getTime() + n * 86400000)));
  const { libraries } = await call("Calendar", { from: days[0], to: days[13] });
  const mine = libraries.find((l) => l.id === library());
  const open = new Set(mine.openingDays);
  $("calendar-days").replaceChildren(...days.map((day) => {
    const toggle = el("button", { type: "button", className: "toggle-day",
      textContent: open.has(day) ? "休館にする" : "開館にする" });
    toggle.addEventListener("click", () => guarded(async () => {
      await call("SetCalendarDay", { libraryId: library(), day, open: !open.has(day), note: null });
      say(`${day} を${open.has(day) ? "休館" : "開館"}にしました。`, true);
      await showCalendar();
    }));
    return el("li", { className: "calendar-day", dataset: { day } },
      `${day} ${open.has(day) ? "開館" : "休館"} `, toggle);
  }));
  show("calendar");
}

// ---- start -----------------------------------------------------------------------------

async function start() {
  try {
    const { staffMe, libraries } = await call("StaffMe");
    $("library").replaceChildren(...libraries.map((l) => el("option", { value: l.id, textContent: l.name })));
    setStaff(staffMe);
    if (staffMe) show("counter");
  } catch {
    setStaff(null);
  }
}

const VIEWS = { counter: async () => show("counter"), shelf: showShelf, pull: showPull,
  transits: showTransits, calls: showCalls, register: async () => show("register"),
  applications: showApplications, calendar: showCalendar };

for (const button of document.querySelectorAll("nav [data-view]")) {
  button.addEventListener("click", () => {
    forgetSecretsLeaving(button.dataset.view);
    guarded(() => VIEWS[button.dataset.view]());
  });
}

$("login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  guarded(async () => {
    const { staffLogin } = await call("StaffLogin", { username: $("username").value, password: $("password").value });
    if (staffLogin.errors.length) throw new Error(messages(staffLogin.errors));
    $("password").value = "";
    await start();
    say(`${staffLogin.staff.name} さん、ログインしました。`, true);
  });
});

$("logout").addEventListener("click", () => guarded(async () => {
  await call("Logout");
  setStaff(null);
}));

$("scan-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const code = $("scan").value.trim();
  $("scan").value = "";
  $("scan").focus();
  if (code) queueScan(code);
});

// Focus returns to the scan field after any click on the counter screen outside a field.
$("counter-view").addEventListener("click", (event) => {
  if (!["INPUT", "SELECT", "TEXTAREA"].includes(event.target.tagName)) $("scan").focus();
});
for (const radio of document.querySelectorAll("input[name=mode]")) {
  radio.addEventListener("change", () => $("scan").focus());
}

$("override-button").addEventListener("click", () => guarded(async () => {
  if (pendingCheckout) await checkOut(pendingCheckout, true);
  $("scan").focus();
}));

$("register-form").addEventListener("submit", (event) => {
  event.preventDefault();
  guarded(() => registerPatron(event.target));
});
$("issue-password").addEventListener("click", () => guarded(issuePassword));
$("renew-card-form").addEventListener("submit", (event) => {
  event.preventDefault();
  guarded(() => renewCard($("renew-card-number").value.trim()));
});
$("print-slip").addEventListener("click", () => window.print());
$("dismiss-password").addEventListener("click", () => {
  forgetPassword();
  $("applications-heading").focus();
});
$("library").addEventListener("change", () => $("scan").focus());

start();
