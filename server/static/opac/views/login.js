// Log in, and the password change (forced while the password is temporary, AUTH-5).

import { call, check } from "../api.js";
import { el, field, form, input, link, messageBox, page, show } from "../dom.js";
import { setPatron, state } from "../session.js";

export async function loginView({ main, next, navigate }) {
  const box = messageBox();
  const f = form({ id: "login-form", className: "stack" }, [
    field("利用者番号", input("cardNumber", { id: "card-number", autocomplete: "username", required: true, inputMode: "numeric" })),
    field("パスワード", input("password", { id: "password", type: "password", autocomplete: "current-password", required: true })),
    box,
    el("p", {}, el("button", { type: "submit", id: "login-button" }, "ログイン")),
  ], async (data) => {
    const { login } = await call("Login", { cardNumber: data.get("cardNumber"), password: data.get("password") });
    check(login.errors);
    f.reset();
    setPatron(login.patron);
    if (login.mustChangePassword) await navigate("/my/password", { replace: true });
    else await navigate(next && next !== "/login" ? next : "/my", { replace: true });
  }, box);
  page(main, "ログイン",
    el("p", {}, "利用者番号とパスワードを入力してください。予約・貸出状況の確認にはログインが必要です。"),
    f,
    el("ul", { className: "links" },
      el("li", {}, link("/password/apply", "パスワードの申込（初めての方）")),
      el("li", {}, link("/password/reset", "パスワードを忘れたとき（再発行）"))));
}

export async function passwordChangeView({ main, forced, navigate }) {
  const box = messageBox();
  const current = input("currentPassword", { id: "current-password", type: "password", autocomplete: "current-password", required: true });
  const fresh = input("newPassword", { id: "new-password", type: "password", autocomplete: "new-password", required: true });
  const confirm = input("confirmPassword", { id: "confirm-password", type: "password", autocomplete: "new-password", required: true });
  const f = form({ id: "password-form", className: "stack" }, [
    field("現在のパスワード", current),
    field("新しいパスワード", fresh, "英数字6から10桁"),
    field("確認パスワード", confirm),
    box,
    el("p", {}, el("button", { type: "submit", id: "password-button" }, "更新")),
  ], async (data) => {
    if (data.get("newPassword") !== data.get("confirmPassword")) {
      show(box, "新しいパスワードと確認パスワードが一致しません。", false);
      return;
    }
    const { changePassword } = await call("ChangePassword", {
      currentPassword: data.get("currentPassword"), newPassword: data.get("newPassword") });
    check(changePassword.errors);
    f.reset();
    const wasForced = state.patron.mustChangePassword;
    setPatron({ ...state.patron, mustChangePassword: false, passwordState: changePassword.patron.passwordState });
    if (wasForced) {
      await navigate("/my", { replace: true });
      const note = main.querySelector(".message");
      if (note) show(note, "パスワードを変更しました。Webサービスをご利用いただけます。", true);
    } else {
      show(box, "パスワードを変更しました。", true);
    }
  }, box);
  const intro = forced || state.patron?.mustChangePassword
    ? el("p", { className: "message refused", id: "forced-change" }, "✕ 仮パスワードのままでは、予約・貸出状況の確認・延長などのWebサービスを利用できません。パスワードを変更してください。")
    : el("p", {}, "現在のパスワードと新しいパスワードを入力し、「更新」を押してください。");
  page(main, "パスワード変更", intro, f);
}
