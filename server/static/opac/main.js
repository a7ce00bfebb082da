// The reference web OPAC: plain ES modules, no build step. Real URLs (history API): each
// view has its address, Back and reload work, and a record link can be shared.

import { $ } from "./dom.js";
import { loadPatron, logout, state, whenLoggedOut } from "./session.js";
import { loginView, passwordChangeView } from "./views/login.js";
import { searchView } from "./views/search.js";
import { recordView } from "./views/record.js";
import { basketView } from "./views/basket.js";
import { holdsView } from "./views/holds.js";
import { loansView } from "./views/loans.js";
import { accountView, myMenuView } from "./views/account.js";
import { shelvesView } from "./views/shelves.js";
import { historyView } from "./views/history.js";
import { arrivalsView } from "./views/arrivals.js";
import { ebooksView } from "./views/ebooks.js";
import { applyPasswordView, applicationView, calendarView, resetPasswordView } from "./views/public.js";

// [pattern, view, needs a patron logged in]
const ROUTES = [
  [/^\/$/, searchView, false],
  [/^\/search$/, searchView, false],
  [/^\/record\/([^/]+)$/, recordView, false],
  [/^\/login$/, loginView, false],
  [/^\/password\/apply$/, applyPasswordView, false],
  [/^\/password\/reset$/, resetPasswordView, false],
  [/^\/apply$/, applicationView, false],
  [/^\/calendar$/, calendarView, false],
  [/^\/arrivals$/, arrivalsView, false],
  [/^\/my$/, myMenuView, true],
  [/^\/my\/basket$/, basketView, true],
  [/^\/my\/holds$/, holdsView, true],
  [/^\/my\/loans$/, loansView, true],
  [/^\/my\/password$/, passwordChangeView, true],
  [/^\/my\/account$/, accountView, true],
  [/^\/my\/shelves$/, shelvesView, true],
  [/^\/my\/history$/, historyView, true],
  [/^\/my\/ebooks$/, ebooksView, true],
];

let rendering = 0;

/** Render the view the address names (messages of the previous page go with it). */
export async function render(focus = true) {
  const { pathname, search } = window.location;
  const main = $("main");
  const ticket = ++rendering;
  const [pattern, view, needsLogin] = ROUTES.find(([p]) => p.test(pathname)) ?? [];
  const params = pattern ? pathname.match(pattern).slice(1).map(decodeURIComponent) : [];
  const ctx = { main, params, query: new URLSearchParams(search), navigate, isCurrent: () => ticket === rendering };
  main.replaceChildren();
  main.setAttribute("aria-busy", "true");
  try {
    if (!view) {
      main.append(Object.assign(document.createElement("h1"), { textContent: "ページが見つかりません" }));
      document.title = "ページが見つかりません｜図書館蔵書検索";
    } else if (needsLogin && !state.patron) {
      await loginView({ ...ctx, next: pathname + search });
    } else if (needsLogin && state.patron.mustChangePassword && view !== passwordChangeView) {
      await passwordChangeView({ ...ctx, forced: true });
    } else {
      await view(ctx);
    }
  } catch (error) {
    if (ticket !== rendering) return;
    main.replaceChildren(Object.assign(document.createElement("h1"), { textContent: "表示できません" }),
      Object.assign(document.createElement("p"), { className: "message refused", textContent: `✕ ${error.message}` }));
  } finally {
    main.removeAttribute("aria-busy");
  }
  if (focus && ticket === rendering) main.querySelector("h1")?.focus({ preventScroll: false });
  for (const a of document.querySelectorAll("nav a")) {
    if (a.getAttribute("href") === pathname) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

export function navigate(href, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", href);
  else history.pushState(null, "", href);
  return render();
}

document.addEventListener("click", (event) => {
  const a = event.target.closest("a[data-link]");
  if (!a || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  navigate(a.getAttribute("href"));
});
window.addEventListener("popstate", () => render());
$("logout").addEventListener("click", () => logout("manual"));
whenLoggedOut((reason) => {
  history.pushState(null, "", "/login");
  render(false).then(() => {
    const box = document.querySelector("#main .message");
    if (box) {
      box.className = "message ok";
      box.textContent = reason === "manual" ? "✓ ログアウトしました。"
        : "✓ 15分間操作がなかったため、自動的にログオフしました。再度ログインしてください。";
    }
  });
});

await loadPatron();
await render(false);
