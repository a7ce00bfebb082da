// Small DOM helpers shared by the views.

export const $ = (id) => document.getElementById(id);

/** An element with properties (dataset, attrs) and children (nodes or strings). */
export function el(tag, props = {}, ...children) {
  const { dataset = {}, attrs = {}, ...rest } = props;
  const node = Object.assign(document.createElement(tag), rest);
  Object.assign(node.dataset, dataset);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const child of children.flat()) if (child !== null && child !== undefined && child !== false) node.append(child);
  return node;
}

/** A link handled by the router (a real href: opens in a new tab, shareable). */
export const link = (href, text, props = {}) => el("a", { href, dataset: { link: "" }, ...props }, text);

export const button = (text, onclick, props = {}) => {
  const b = el("button", { type: "button", ...props }, text);
  b.addEventListener("click", onclick);
  return b;
};

/** A labelled form control in a <p>. */
export function field(label, control, hint) {
  control.id ||= `f-${Math.random().toString(36).slice(2, 9)}`;
  const parts = [el("label", { htmlFor: control.id }, label), control];
  if (hint) {
    const hintId = `${control.id}-hint`;
    control.setAttribute("aria-describedby", hintId);
    parts.push(el("span", { id: hintId, className: "hint" }, hint));
  }
  return el("p", { className: "field" }, ...parts);
}

export const input = (name, props = {}) => el("input", { name, ...props });

export function select(name, options, value, props = {}) {
  const s = el("select", { name, ...props }, ...options.map(([v, t]) => el("option", { value: v }, t)));
  if (value !== undefined && value !== null) s.value = value;
  return s;
}

/** An empty message box placed next to what it is about; `show` fills it. */
export function messageBox() {
  return el("div", { className: "message", attrs: { role: "status", "aria-live": "polite" } });
}

/** Success and refusal differ by mark and words as well as colour. */
export function show(box, text, ok) {
  box.className = `message ${ok ? "ok" : "refused"}`;
  box.replaceChildren(el("span", { className: "mark", attrs: { "aria-hidden": "true" } }, ok ? "✓" : "✕"),
    el("span", { className: "visually-hidden" }, ok ? "完了: " : "エラー: "), text);
}

export const clear = (box) => { box.className = "message"; box.replaceChildren(); };

/** Run an action; its failure is shown in `box`. */
export async function guarded(box, action) {
  try {
    await action();
  } catch (error) {
    if (box?.isConnected) show(box, error.message, false);
    else throw error;
  }
}

export function announce(text) {
  const live = $("announce");
  live.textContent = "";
  setTimeout(() => { live.textContent = text; }, 50);
}

export const ymd = (d) => d.toISOString().slice(0, 10);
/** 2026-12-03 → 2026年12月3日 */
export function jaDate(iso) {
  if (!iso) return "";
  const [y, m, d] = iso.slice(0, 10).split("-").map(Number);
  return `${y}年${m}月${d}日`;
}
export function jaDateTime(iso) {
  if (!iso) return "";
  const t = new Date(iso);
  return `${t.getFullYear()}年${t.getMonth() + 1}月${t.getDate()}日 ${String(t.getHours()).padStart(2, "0")}:${String(t.getMinutes()).padStart(2, "0")}`;
}

/** Start a view: its page title, its one h1, its content. */
export function page(main, title, ...children) {
  document.title = `${title}｜図書館蔵書検索`;
  main.replaceChildren(el("h1", { tabIndex: -1 }, title), ...children);
}

/** A form whose submit runs `action` with its values; failures go to its message box. */
export function form(props, children, action, box) {
  const f = el("form", { noValidate: false, ...props }, ...children);
  f.addEventListener("submit", (event) => {
    event.preventDefault();
    const submit = f.querySelector("[type=submit]");
    if (submit) submit.disabled = true;
    guarded(box, () => action(new FormData(f))).finally(() => { if (submit) submit.disabled = false; });
  });
  return f;
}
