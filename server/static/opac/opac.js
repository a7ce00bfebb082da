// Reference web OPAC: plain JavaScript, no build step. Every request is one of the
// clients/web-opac operations, sent by its trusted-document id (docs/frontend.md).

const $ = (id) => document.getElementById(id);
let operations = {};
let lastSearch = null;

const STATES = { WAITING: "順番待ち", IN_TRANSIT: "配送中", READY: "受取可", COLLECTED: "受取済",
  CANCELLED: "取消", EXPIRED: "期限切れ" };

async function call(name, variables = {}) {
  const response = await fetch("/graphql", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-Hondana-Client": "web-opac" },
    body: JSON.stringify({ documentId: operations[name], variables }),
  });
  const body = await response.json();
  if (body.errors && body.errors.length) {
    const error = body.errors[0];
    if (["UNAUTHENTICATED", "SESSION_EXPIRED"].includes(error.extensions?.code)) setPatron(null);
    throw new Error(error.message);
  }
  return body.data;
}

function say(text, ok = false) {
  $("message").textContent = text;
  $("message").className = ok ? "ok" : "";
}

function el(tag, { dataset = {}, ...props } = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  Object.assign(node.dataset, dataset);
  for (const child of children) node.append(child);
  return node;
}

function show(view) {
  for (const section of document.querySelectorAll("main > section")) {
    if (section.id !== "login-view") section.hidden = section.id !== `${view}-view`;
  }
}

function setPatron(patron) {
  document.body.className = patron ? "patron" : "anonymous";
  $("who").textContent = patron ? `${patron.name} さん` : "";
}

function payloadErrors(errors) {
  if (errors && errors.length) throw new Error(errors.map((e) => e.message).join(" / "));
}

async function guarded(action) {
  try {
    await action();
  } catch (error) {
    say(error.message);
  }
}

function availability(record) {
  const on = record.availability.reduce((n, a) => n + a.available, 0);
  const all = record.availability.reduce((n, a) => n + a.copies, 0);
  return `所蔵 ${all} 冊・貸出可 ${on} 冊`;
}

function resultItem(record) {
  const item = el("li", { className: "result" });
  const title = el("span", { className: "title", textContent: record.title });
  title.addEventListener("click", () => guarded(() => openRecord(record.id)));
  item.append(title, el("div", { className: "meta",
    textContent: [record.responsibility, record.publisher, record.year, availability(record)]
      .filter(Boolean).join(" ／ ") }));
  if (record.holdable) {
    const add = el("button", { type: "button", className: "action needs-login add-to-basket",
      textContent: "予約かごに入れる" });
    add.addEventListener("click", () => guarded(() => addToBasket(record.id)));
    item.append(add);
  }
  return item;
}

async function search(after = null) {
  const query = $("query").value;
  const variables = { query, sort: $("sort").value, first: 20, after };
  const { search: found } = await call("Search", variables);
  if (!after) $("results").replaceChildren();
  $("result-count").textContent = `${found.totalCount} 件`;
  for (const edge of found.edges) $("results").append(resultItem(edge.node));
  $("more").hidden = !found.pageInfo.hasNextPage;
  lastSearch = found.pageInfo.endCursor;
  show("search");
}

async function openRecord(id) {
  const { record } = await call("RecordDetail", { id });
  const view = $("record-view");
  view.replaceChildren(
    el("h2", { textContent: record.title }),
    el("p", { className: "meta", textContent: [record.titleReading, record.responsibility,
      record.publisher, record.year, record.isbn && `ISBN ${record.isbn}`].filter(Boolean).join(" ／ ") }),
    el("ul", {}, ...record.copies.map((c) => el("li", {
      textContent: `${c.library.name} ${c.shelfMark ?? ""} ${c.barcode} ${c.status}${c.referenceOnly ? " (禁帯出)" : ""}` }))),
  );
  if (record.holdable) {
    const add = el("button", { type: "button", className: "needs-login add-to-basket", textContent: "予約かごに入れる" });
    add.addEventListener("click", () => guarded(() => addToBasket(record.id)));
    view.append(add);
  }
  show("record");
}

async function addToBasket(recordId) {
  const { addToBasket: added } = await call("AddToBasket", { recordId });
  payloadErrors(added.errors);
  say(`「${added.entry.record.title}」を予約かごに入れました。`, true);
}

async function showBasket() {
  const { myBasket, libraries } = await call("MyBasket");
  $("basket").replaceChildren(...myBasket.map((entry) => {
    const remove = el("button", { type: "button", className: "action", textContent: "削除" });
    remove.addEventListener("click", () => guarded(async () => {
      payloadErrors((await call("RemoveFromBasket", { basketEntryIds: [entry.id] })).removeFromBasket.errors);
      await showBasket();
    }));
    return el("li", { className: "basket-entry", dataset: { id: entry.id } }, entry.record.title, remove);
  }));
  const current = $("pickup").value;
  $("pickup").replaceChildren(...libraries.filter((l) => l.takesHolds)
    .map((l) => el("option", { value: l.id, textContent: l.name })));
  if (current) $("pickup").value = current;
  $("preview-result").replaceChildren();
  $("place").hidden = true;
  show("basket");
}

function placement(payload) {
  payloadErrors(payload.errors);
  return payload.results.map((r) => el("li", { className: r.ok ? "ok" : "refused",
    textContent: `${r.record?.title ?? ""}: ${r.ok ? (r.hold ? `予約しました (${r.hold.queuePosition ?? "-"} 番目)` : "予約できます")
      : r.errors.map((e) => e.message).join(" / ")}` }));
}

function basketIds() {
  return [...document.querySelectorAll(".basket-entry")].map((li) => li.dataset.id);
}

async function preview() {
  const { previewHolds } = await call("PreviewHolds", { basketEntryIds: basketIds(), pickupLibraryId: $("pickup").value });
  $("preview-result").replaceChildren(el("ul", {}, ...placement(previewHolds)));
  $("place").hidden = !previewHolds.results.some((r) => r.ok);
}

async function place() {
  const { placeHolds } = await call("PlaceHolds", { basketEntryIds: basketIds(), pickupLibraryId: $("pickup").value });
  const lines = placement(placeHolds);
  await showBasket();
  $("preview-result").replaceChildren(el("ul", { id: "placed" }, ...lines));
  say("予約の結果は下のとおりです。", true);
}

async function showHolds() {
  const { myHolds } = await call("MyHolds");
  $("holds").replaceChildren(...myHolds.map((h) => el("li", { className: "hold" },
    el("span", { className: "title", textContent: h.record.title }),
    el("div", { className: "meta", textContent: `${STATES[h.state] ?? h.state}` +
      `${h.queuePosition ? `・${h.queuePosition} / ${h.queueLength} 番目` : ""}` +
      `・受取館 ${h.pickupLibrary.name}${h.pickupDeadline ? `・取置期限 ${h.pickupDeadline}` : ""}` }))));
  show("holds");
}

async function showLoans() {
  const { myLoans } = await call("MyLoans");
  $("loans").replaceChildren(...myLoans.map((loan) => {
    const item = el("li", { className: "loan", dataset: { id: loan.id } },
      el("span", { className: "title", textContent: loan.record.title }),
      el("div", { className: "meta due", textContent: `返却期限 ${loan.dueOn}（延長 ${loan.renewals} 回）` }));
    if (loan.renewable) {
      const renew = el("button", { type: "button", className: "action renew", textContent: "貸出延長" });
      renew.addEventListener("click", () => guarded(() => renewLoan(loan.id)));
      item.append(renew);
    }
    return item;
  }));
  show("loans");
}

async function renewLoan(loanId) {
  const { renewLoans } = await call("RenewLoans", { loanIds: [loanId] });
  payloadErrors(renewLoans.errors);
  const [result] = renewLoans.results;
  payloadErrors(result.errors);
  await showLoans();
  say(`延長しました。新しい返却期限は ${result.loan.dueOn} です。`, true);
}

async function start() {
  operations = await (await fetch("/opac/operations.json")).json();
  setPatron(null);
  $("search-form").addEventListener("submit", (e) => { e.preventDefault(); guarded(() => search()); });
  $("more").addEventListener("click", () => guarded(() => search(lastSearch)));
  $("login-form").addEventListener("submit", (e) => {
    e.preventDefault();
    guarded(async () => {
      const { login } = await call("Login", { cardNumber: $("card-number").value, password: $("password").value });
      payloadErrors(login.errors);
      setPatron(login.patron);
      say(login.mustChangePassword ? "仮パスワードです。パスワードを変更してください。" : "ログインしました。", true);
    });
  });
  $("logout").addEventListener("click", () => guarded(async () => {
    await call("Logout");
    setPatron(null);
    say("ログアウトしました。", true);
  }));
  const views = { search: async () => show("search"), basket: showBasket, holds: showHolds, loans: showLoans };
  for (const button of document.querySelectorAll("nav [data-view]")) {
    button.addEventListener("click", () => guarded(views[button.dataset.view]));
  }
  $("preview").addEventListener("click", () => guarded(preview));
  $("place").addEventListener("click", () => guarded(place));
  try {
    setPatron((await call("Me")).me);
  } catch {
    setPatron(null);
  }
}

start();
