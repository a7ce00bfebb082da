// My本棚: up to 5 bookshelves of up to 100 titles each (SHELF rules).

import { call, check } from "../api.js";
import { button, el, field, form, guarded, input, link, messageBox, page, select, show } from "../dom.js";

function shelfSection(shelf, shelves, refresh) {
  const box = messageBox();
  const chosen = () => [...document.querySelectorAll(`#shelf-${CSS.escape(shelf.id)} input[name=entry]:checked`)].map((c) => c.value);
  const others = shelves.filter((s) => s.id !== shelf.id);
  const target = select("to", others.map((s) => [s.id, s.name]));
  const name = input("name", { value: shelf.name, maxLength: 50 });
  const act = (fn) => () => guarded(box, fn);
  return el("section", { className: "shelf", id: `shelf-${shelf.id}`, attrs: { "aria-label": shelf.name } },
    el("h2", {}, `${shelf.name}（${shelf.entries.length} 冊）`),
    shelf.entries.length ? el("ul", { className: "plain" }, ...shelf.entries.map((e) => el("li", {},
      el("input", { type: "checkbox", name: "entry", value: e.id, id: `entry-${e.id}`, attrs: { "aria-label": `${e.record.title} を選択` } }), " ",
      link(`/record/${encodeURIComponent(e.record.id)}`, e.record.title)))) : el("p", {}, "まだ資料が入っていません。資料詳細の画面から入れられます。"),
    el("div", { className: "actions" },
      button("選択した資料を本棚から削除", act(async () => {
        const ids = chosen();
        if (!ids.length) return show(box, "資料にチェックを入れてください。", false);
        check((await call("RemoveFromBookshelf", { entryIds: ids })).removeFromBookshelf.errors);
        await refresh(shelf.id, `${ids.length} 冊を削除しました。`);
      }), { className: "secondary" }),
      others.length ? el("span", { className: "inline" }, field("移動先", target),
        button("選択した資料を移動", act(async () => {
          const ids = chosen();
          if (!ids.length) return show(box, "資料にチェックを入れてください。", false);
          check((await call("MoveBookshelfEntries", { entryIds: ids, toBookshelfId: target.value })).moveBookshelfEntries.errors);
          await refresh(shelf.id, `${ids.length} 冊を移動しました。`);
        }))) : null,
      el("span", { className: "inline" }, field("本棚の名前", name),
        button("名前を変更", act(async () => {
          check((await call("RenameBookshelf", { bookshelfId: shelf.id, name: name.value })).renameBookshelf.errors);
          await refresh(shelf.id, "名前を変更しました。");
        }))),
      button("この本棚を削除", act(async () => {
        check((await call("DeleteBookshelf", { bookshelfId: shelf.id })).deleteBookshelf.errors);
        await refresh(null, `本棚「${shelf.name}」を削除しました。`);
      }), { className: "danger" })),
    box);
}

export async function shelvesView({ main }) {
  const { myBookshelves } = await call("MyBookshelves");
  const box = messageBox();
  const refresh = async (shelfId, text) => {
    await shelvesView({ main });
    const target = (shelfId && main.querySelector(`#shelf-${CSS.escape(shelfId)} > .message`)) || main.querySelector("#shelf-create .message");
    show(target, text, true);
  };
  const create = form({ id: "shelf-create" }, [
    field("新しい本棚の名前", input("name", { required: true, maxLength: 50, id: "shelf-name" })), box,
    el("p", {}, el("button", { type: "submit" }, "本棚を作る")),
  ], async (data) => {
    const { createBookshelf } = await call("CreateBookshelf", { name: data.get("name") });
    check(createBookshelf.errors);
    await refresh(createBookshelf.bookshelf.id, `本棚「${createBookshelf.bookshelf.name}」を作りました。`);
  }, box);
  page(main, "My本棚", el("p", {}, "本棚は5つまで、1つの本棚に100冊まで入ります。"), create,
    ...myBookshelves.map((s) => shelfSection(s, myBookshelves, refresh)));
}
