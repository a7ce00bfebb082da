// The guide's words for states and actions (never a raw enum value on screen).

export const HOLD_STATE = { WAITING: "確保待ち", IN_TRANSIT: "回送中", READY: "貸出可能",
  COLLECTED: "受取済", CANCELLED: "取消済", EXPIRED: "期限切れ" };
export const EBOOK_HOLD_STATE = { WAITING: "確保待ち", READY: "貸出可能" };
export const COPY_STATUS = { AVAILABLE: "在架", ON_LOAN: "貸出中", IN_TRANSIT: "回送中",
  ON_HOLD_SHELF: "予約取置中", MISSING: "所在不明", WITHDRAWN: "除籍" };
export const MATERIAL = { BOOK: "図書", MAGAZINE: "雑誌", CD: "CD", CASSETTE: "カセットテープ",
  VIDEO: "ビデオテープ", ART_REPRODUCTION: "複製画", EBOOK: "電子書籍" };
export const CONTACT = { PHONE: "電話", EMAIL: "メール", NONE: "連絡不要" };
/** Why a loan cannot be renewed (the guide's list under 下記の資料は延長できません). */
export const NOT_RENEWABLE = {
  HELD_BY_OTHERS: "予約が入っているため延長できません",
  OVERDUE: "延滞しているため延長できません",
  RENEWAL_LIMIT: "1回延長されているため延長できません",
  BOOKMOBILE: "移動図書館ともしび号で借りた資料は延長できません",
  ART_REPRODUCTION: "複製画は延長できません",
  INTER_LIBRARY: "茨木市外の図書館から取り寄せた資料は延長できません",
};
export const APPLICATION_KIND = { NEW_REGISTRATION: "新規登録", CARD_REISSUE: "再発行",
  DETAILS_CHANGE: "記載事項変更", CARD_RENEWAL: "有効期限の更新", CARD_NUMBER_NOTICE: "利用者番号の通知" };
export const word = (table, value) => table[value] ?? "—";
