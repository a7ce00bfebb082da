// Who is logged in, and the safe and idle logouts (AUTH-10): both clear every personal
// element and every filled-in field.

import { call, onSessionLost } from "./api.js";
import { $ } from "./dom.js";

export const IDLE_MS = 15 * 60 * 1000; // the guide: 15分間入力がない場合は、自動的にログオフ
export const state = { patron: null, basket: new Set() };
let idleTimer = null;
let afterLogout = () => {};

export function setPatron(patron) {
  state.patron = patron;
  document.body.classList.toggle("patron", Boolean(patron));
  document.body.classList.toggle("anonymous", !patron);
  $("who").textContent = patron ? `${patron.name} さん` : "";
  if (!patron) state.basket.clear();
  restartIdle();
}

/** The views' way to leave: renders the page the router decides after a logout. */
export function whenLoggedOut(callback) {
  afterLogout = callback;
}

function wipe() {
  setPatron(null);
  for (const form of document.forms) form.reset();
  for (const field of document.querySelectorAll("input, textarea")) field.value = "";
  $("main").replaceChildren();
}

export async function logout(reason) {
  try {
    if (state.patron) await call("Logout");
  } catch {
    // The session may be gone already; the page is cleared all the same.
  }
  wipe();
  afterLogout(reason);
}

function restartIdle() {
  clearTimeout(idleTimer);
  if (state.patron) idleTimer = setTimeout(() => logout("idle"), IDLE_MS);
}

for (const type of ["keydown", "pointerdown", "input"]) {
  document.addEventListener(type, () => { if (state.patron) restartIdle(); }, { capture: true, passive: true });
}
onSessionLost((code) => {
  if (state.patron) {
    wipe();
    afterLogout(code === "SESSION_EXPIRED" ? "idle" : "lost");
  }
});

export async function loadPatron() {
  try {
    setPatron((await call("Me")).me);
  } catch {
    setPatron(null);
  }
}
