"""Human messages for every error code, in Japanese (default) and English.

Front ends branch on codes; these messages are what a patron reads when a front end shows
the server's words. ``{param}`` placeholders come from the violation's params.
"""

from __future__ import annotations

from policies.errors import ErrorCode
from resolvers.shared.context import Locale

C = ErrorCode
MESSAGES: dict[ErrorCode, tuple[str, str]] = {
    C.BAD_REQUEST: ("リクエストの形式が正しくありません。", "The request is malformed."),
    C.UNSUPPORTED_MEDIA_TYPE: (
        "Content-Type は application/json にしてください。",
        "Send the request as application/json.",
    ),
    C.PAYLOAD_TOO_LARGE: ("リクエストが大きすぎます。", "The request is too large."),
    C.CSRF_REQUIRED: (
        "X-Hondana-Client ヘッダーが必要です。",
        "Cookie sessions need the X-Hondana-Client header.",
    ),
    C.INVALID_INPUT: ("入力内容が正しくありません。", "The input is not valid."),
    C.INVALID_QUERY: (
        "問い合わせ(クエリ)が正しくありません。",
        "The GraphQL document is not valid.",
    ),
    C.NOT_FOUND: ("見つかりません。", "Not found."),
    C.TRUSTED_DOCUMENT_REQUIRED: (
        "この操作は登録された文書IDでのみ実行できます。",
        "Send a registered document id (`documentId`), not query text.",
    ),
    C.ONE_CREDENTIAL_ATTEMPT: (
        "ログインやパスワードの操作は1回のリクエストに1つだけです。",
        "One login or password request per request.",
    ),
    C.BATCHING_DISABLED: (
        "1回のリクエストで送れる操作は1つだけです。",
        "Batched requests are not accepted: send one operation per request.",
    ),
    C.QUERY_TOO_DEEP: (
        "問い合わせの入れ子が深すぎます(最大{max}段)。",
        "The query is nested too deeply (at most {max} levels).",
    ),
    C.TOO_MANY_ALIASES: (
        "問い合わせの別名が多すぎます(最大{max}個)。",
        "The query uses too many aliases (at most {max}).",
    ),
    C.TOO_MANY_TOKENS: (
        "問い合わせが長すぎます(最大{max}トークン)。",
        "The query is too long (at most {max} tokens).",
    ),
    C.QUERY_TOO_COMPLEX: (
        "問い合わせで取得する項目が多すぎます(フラグメントを展開して最大{max}項目)。",
        "The query selects too many fields (at most {max}, fragments expanded).",
    ),
    C.PAGE_SIZE_OUT_OF_RANGE: (
        "一度に取得できる件数は1~{max}件です。",
        "A page holds 1 to {max} items.",
    ),
    C.EXECUTION_TIMEOUT: (
        "処理に時間がかかりすぎたため中断しました。条件を絞って再度お試しください。",
        "The request took too long and was stopped. Please narrow it and try again.",
    ),
    C.SERVICE_UNAVAILABLE: (
        "ただいま混み合っているか、一時的に利用できません。しばらくしてから再度お試しください。",
        "The service is briefly unavailable. Please try again in a few seconds.",
    ),
    C.UNKNOWN_DOCUMENT: ("登録されていない文書IDです。", "Unknown document id."),
    C.INTROSPECTION_DISABLED: (
        "スキーマの照会はできません。",
        "Schema introspection is turned off.",
    ),
    C.RECORD_IN_USE: (
        "貸出・予約の履歴がある資料は削除できません。所蔵資料を除籍してください。",
        "A title with loans or holds on record cannot be deleted; withdraw its copies instead.",
    ),
    C.DEV_CLOCK_DISABLED: (
        "開発用の時計と定期処理の即時実行は、本番環境では使えません。",
        "The development clock and running scans on demand are turned off in production.",
    ),
    C.INTERNAL_ERROR: (
        "システムエラーが発生しました。しばらくしてから再度お試しください。",
        "Something went wrong on our side. Please try again later.",
    ),
    C.MAINTENANCE: (
        "ただいまメンテナンス中です(3時50分~4時20分)。しばらくしてからご利用ください。",
        "The service is under daily maintenance (03:50-04:20 JST). Please try again shortly.",
    ),
    C.UNAUTHENTICATED: ("ログインしてください。", "Please log in."),
    C.SESSION_EXPIRED: (
        "ログイン後、{idle_minutes}分間入力がなかったため、自動的にログオフしました。"
        "再度ログインしてください。",
        "You were logged off after {idle_minutes} minutes without input. Please log in again.",
    ),
    C.INVALID_CREDENTIALS: (
        "利用者番号またはパスワードが正しくありません。",
        "The card number or password is incorrect.",
    ),
    C.ACCOUNT_LOCKED: (
        "ログインの失敗が続いたため、一時的にログインできません。{wait_ja}後に再度お試しください。",
        "Too many failed logins. Please try again in {wait_en}.",
    ),
    C.TEMPORARY_PASSWORD: (
        "仮パスワードのままではご利用になれません。パスワードを変更してください。",
        "You are using a temporary password. Please change your password first.",
    ),
    C.INVALID_PASSWORD: (
        "このパスワードは使えません({reason})。英数字6~10桁で、推測されにくいものにしてください。",
        "This password cannot be used ({reason}). Use 6 to 10 letters or digits, hard to guess.",
    ),
    C.WRONG_CURRENT_PASSWORD: (
        "現在のパスワードが正しくありません。",
        "The current password is incorrect.",
    ),
    C.TOO_YOUNG: (
        "パスワードは茨木市立図書館の利用カードをお持ちの小学生以上の方に発行しています。",
        "Passwords are issued to card holders from elementary-school age.",
    ),
    C.GUARDIAN_CONSENT_REQUIRED: (
        "小学生の方は保護者の方の同意が必要です。「パスワード申込書」に保護者の方のサインを"
        "いただいてください。",
        "Elementary-school pupils need a guardian's consent: a guardian signs the application.",
    ),
    C.COUNTER_ONLY: (
        "この手続きは図書館の窓口でお願いします。利用カードと本人確認ができるもの"
        "(運転免許証、健康保険資格確認証、学生証など)をお持ちください。",
        "Please do this at the library counter; bring your card and proof of identity "
        "(driving licence, health insurance certificate, student card...).",
    ),
    C.CARD_CODE_INVALID: (
        "この利用カードのコードは読み取れません。",
        "This card code is not valid.",
    ),
    C.CARD_CODE_EXPIRED: (
        "コードの有効期限が切れています。アプリで新しいコードを表示してください。",
        "This card code has expired. Show a fresh code in the app.",
    ),
    C.CARD_CODE_USED: (
        "このコードはすでに使われています。アプリで新しいコードを表示してください。",
        "This card code was already used. Show a fresh code in the app.",
    ),
    C.ALREADY_DECIDED: ("この申請はすでに処理済みです。", "This application was already decided."),
    C.PASSWORD_ALREADY_ISSUED: (
        "この利用カードにはすでにパスワードが発行されているため、この申請は承認できません。",
        "This card already has a password, so the application cannot be approved.",
    ),
    C.PASSWORD_INVALIDATED: (
        "この利用カードのパスワードは窓口で無効にされているため、この申請は承認できません。",
        "This card's password was invalidated at the counter, so the application cannot be "
        "approved.",
    ),
    C.EBOOK_LOAN_LIMIT: (
        "電子書籍の貸出は1人3点までです。お借りの電子書籍を返却してからお借りください。",
        "You can borrow at most 3 e-books; return one first.",
    ),
    C.EBOOK_HOLD_LIMIT: (
        "電子書籍の予約は1人3点までです。ほかの予約を取り消すか、受け取ってから予約してください。",
        "You can hold at most 3 e-books; cancel or borrow one of your holds first.",
    ),
    C.EBOOK_UNAVAILABLE: (
        "いま貸出できるライセンスがありません。予約してください。",
        "No licence is free now; please place a hold.",
    ),
    C.EBOOK_AVAILABLE: (
        "この電子書籍はいま借りられます。予約せずにお借りください。",
        "This e-book is available now; borrow it instead of holding it.",
    ),
    C.RATE_LIMITED: (
        "申込みが続いたため、しばらく受け付けられません。{wait_ja}後に再度お試しください。",
        "Too many requests. Please try again in {wait_en}.",
    ),
    C.FORBIDDEN: ("この操作は許可されていません。", "You are not allowed to do this."),
    C.CARD_EXPIRED: (
        "利用カードの有効期限が切れています。カウンターまたはweb申請で更新してください。",
        "Your library card has expired. Please renew it at the counter or by web application.",
    ),
    C.OVERDUE_BLOCK: (
        "返却期限を過ぎた資料があるため、新しい予約はできません。"
        "資料をご返却いただくと、予約できるようになります。",
        "You have overdue items, so you cannot place holds. Once they are returned, you can.",
    ),
    C.EMAIL_REQUIRED: (
        "連絡方法を「メール」にするには、メールアドレスの登録が必要です。Email1欄に"
        "メールアドレスを入力してください。",
        "Register an e-mail address (Email1) to be contacted by e-mail.",
    ),
    C.INVALID_EMAIL: (
        "メールアドレスが正しくありません。アドレスが間違っていると、すべてのメールが届きません。",
        "This e-mail address is not valid; a wrong address loses every mail.",
    ),
    C.SHELF_LIMIT: (
        "「本棚」は5種類まで作れます。不要な本棚を削除してから作成してください。",
        "You can keep at most 5 bookshelves; delete one first.",
    ),
    C.SHELF_FULL: (
        "1つの本棚には100冊まで入ります。別の本棚に入れるか、不要な資料を外してください。",
        "A bookshelf holds at most 100 titles; use another shelf or remove some.",
    ),
    C.NAME_TAKEN: (
        "同じ名前の本棚がすでにあります。別の名前にしてください。",
        "You already have a bookshelf with this name; choose another name.",
    ),
    C.BASKET_FULL: (
        "予約かごには100件までためておくことができます。予約するか、不要な資料を外してから"
        "入れてください。",
        "The basket holds at most 100 titles; place holds or remove some first.",
    ),
    C.EBOOK_NOT_ALLOWED: (
        "電子書籍はご利用になれません。利用カードをお持ちでパスワードをご登録の、"
        "小学生以上の方がご利用いただけます。",
        "E-books are not available to you: they are for card holders with a registered "
        "password, from elementary-school age.",
    ),
    C.NOT_HOLDABLE: (
        "この資料は予約できません(禁帯出資料・複製画、茨木市立図書館所蔵でない資料)。"
        "館内でのご利用は図書館にお問い合わせください。",
        "This title cannot be reserved (reference-only, an art reproduction, or not owned by "
        "the city library). Please ask the library about using it there.",
    ),
    C.HOLD_LIMIT: (
        "予約できる件数の上限に達しています(図書20冊、CD・カセットテープ8タイトル、"
        "ビデオ4タイトル)。受け取りや取消で予約が減ってから予約してください。",
        "You have reached the hold limit (20 books, 8 CDs and cassettes, 4 videos); place "
        "this hold once one of yours is collected or cancelled.",
    ),
    C.ALREADY_HELD: (
        "この資料はすでに予約しています(同じ資料に同じ方の予約を2件以上かけることはできません)。"
        "「予約状況」でご確認ください。",
        "You have already reserved this title; see your hold list.",
    ),
    C.ALREADY_ON_LOAN: (
        "この資料はあなたが借りているため、予約できません(自分が借りている資料に予約を"
        "かけることはできません)。「借りている資料」から延長できます。",
        "You have this title on loan yourself, so you cannot hold it; you may renew the loan "
        "instead.",
    ),
    C.HOLD_NOT_MODIFIABLE: (
        "「貸出可能」「回送中」の予約は変更・取り消しができません(できるのは「確保待ち」の"
        "予約だけです)。図書館まで電話してください。",
        "Only a waiting hold can be changed; this one is ready or in transit. Please call "
        "the library.",
    ),
    C.INVALID_PICKUP_LIBRARY: (
        "この受取館は選べません。予約資料を受け取れる図書館を受取館に選んでください。",
        "Holds cannot be collected at this library; choose another pickup library.",
    ),
    C.DUPLICATE_ID: ("同じ項目が2回指定されています。", "The same item was given twice."),
    C.TOO_MANY_ITEMS: ("一度に指定できるのは100件までです。", "At most 100 items at a time."),
    C.LOAN_LIMIT: ("貸出できる冊数の上限に達しています。", "The loan limit has been reached."),
    C.NOT_LOANABLE: ("この資料は貸出できません。", "This item cannot be lent."),
    C.COPY_UNAVAILABLE: (
        "この資料はいま貸出できる状態ではありません。",
        "This copy is not available now.",
    ),
    C.HELD_FOR_ANOTHER: (
        "この資料は他の方の予約のために確保されています。",
        "This copy is being kept for another patron's hold.",
    ),
    C.NOT_ON_LOAN: ("この資料は貸出中ではありません。", "This copy is not on loan."),
    C.NOT_IN_TRANSIT: ("この資料は回送中ではありません。", "This copy is not in transit."),
    C.NO_WAITING_HOLD: (
        "この資料を待っている予約はありません。",
        "No waiting hold needs this copy.",
    ),
    C.WRONG_LIBRARY: (
        "この資料の行き先は{library}です。{library}へ回送してください。",
        "This copy is going to {library}. Please send it there.",
    ),
    C.PATRON_OVERDUE: (
        "この利用者には返却期限を{days_overdue}日過ぎた資料があります。",
        "This patron has an item {days_overdue} days overdue.",
    ),
    C.WANTED_BY_HOLD: (
        "この資料には他の方の予約があります。",
        "Another patron's hold is waiting for this title.",
    ),
    C.CARD_EXPIRING_SOON: (
        "利用カードの有効期限が{expires_on}に切れます。更新をご案内ください。",
        "The library card expires on {expires_on}. Please offer a renewal.",
    ),
    C.REASON_REQUIRED: ("理由を入力してください。", "Please give a reason."),
    C.CARD_NUMBER_TAKEN: (
        "この利用者番号はすでに使われています。",
        "This card number is already in use.",
    ),
    C.HELD_BY_OTHERS: (
        "予約が入っている資料のため延長できません。返却期限までにご返却ください。",
        "Someone has reserved this title, so it cannot be renewed; please return it by its "
        "due date.",
    ),
    C.OVERDUE: (
        "返却期限を過ぎているため延長できません。お早めにご返却ください。",
        "Overdue loans cannot be renewed; please return it soon.",
    ),
    C.RENEWAL_LIMIT: (
        "延長は1回までです。この資料はすでに延長しています。返却期限までにご返却ください。",
        "This loan has already been renewed once; please return it by its due date.",
    ),
    C.RENEWAL_NO_CHANGE: (
        "いま延長しても返却期限は変わりません。延長の回数は使われていません。"
        "返却期限が近づいてから延長してください。",
        "Renewing now would not move the due date; your one renewal is kept. "
        "Please renew closer to the due date.",
    ),
    C.BOOKMOBILE: (
        "移動図書館ともしび号で借りられた資料は延長できません。返却期限までにご返却ください。",
        "Bookmobile loans cannot be renewed; please return it by its due date.",
    ),
    C.ART_REPRODUCTION: (
        "複製画は延長できません。返却期限までにご返却ください。",
        "Art reproductions cannot be renewed; please return it by its due date.",
    ),
    C.INTER_LIBRARY: (
        "茨木市外の図書館から取り寄せた資料は延長できません。返却期限までにご返却ください。",
        "Items borrowed from libraries outside the city cannot be renewed; please return it "
        "by its due date.",
    ),
}


# Finer wording for one code in one situation, picked by the violation's ``variant`` (or
# ``reason``) param: the code stays the contract, the words follow the guide's situation.
VARIANTS: dict[tuple[ErrorCode, str], tuple[str, str]] = {
    (C.EBOOK_NOT_ALLOWED, "BASKET"): (
        "電子書籍は「予約かご」には入りません。資料詳細画面から直接お借りいただくか、"
        "貸出中の場合は直接予約してください。",
        "E-books do not go in the basket: borrow one directly from its page, or hold it "
        "there when all its licences are out.",
    ),
    (C.EBOOK_NOT_ALLOWED, "PASSWORD"): (
        "電子書籍は、利用カードをお持ちでパスワードをご登録の方がご利用いただけます。"
        "仮パスワードの方はパスワードを変更してください。",
        "E-books need a registered password; if yours is temporary, please change it first.",
    ),
    (C.EBOOK_NOT_ALLOWED, "WIDE_AREA"): (
        "広域利用カードでは電子書籍をご利用いただけません。",
        "E-books cannot be used with a wide-area card.",
    ),
    (C.EBOOK_NOT_ALLOWED, "AGE"): (
        "電子書籍は小学生以上の方がご利用いただけます。",
        "E-books are available from elementary-school age.",
    ),
    (C.OVERDUE_BLOCK, "COLLECT"): (
        "返却期日後4日を過ぎた資料があるため、予約資料の受取・貸出ができません。"
        "資料をご返却いただくと、受け取れるようになります。",
        "An item is more than 4 days overdue, so ready holds cannot be collected or lent. "
        "Once it is returned, they can.",
    ),
}


# The ``reason`` of INVALID_PASSWORD (policies.accounts.PasswordProblem), for people.
PASSWORD_REASONS: dict[str, tuple[str, str]] = {
    "TOO_SHORT": ("6文字未満です", "shorter than 6 characters"),
    "TOO_LONG": ("10文字を超えています", "longer than 10 characters"),
    "INVALID_CHARACTERS": ("半角英数字以外の文字があります", "only ASCII letters and digits"),
    "CARD_NUMBER": ("利用者番号が含まれています", "it contains the card number"),
    "BIRTH_DATE": ("生年月日が含まれています", "it contains the birth date"),
    "REPEATED_CHARACTER": ("同じ文字の繰り返しです", "one character repeated"),
    "SEQUENCE": ("連続した文字です", "a run such as 123456"),
    "COMMON": ("よく使われるパスワードです", "a commonly used password"),
    "PERSONAL_DATA": ("お名前の読みか電話番号を含みます", "it contains your name or phone"),
    "SAME_AS_CURRENT": ("現在のパスワードと同じです", "same as the current password"),
}


class _Params(dict[str, object]):
    """Format parameters where a missing one reads as empty rather than failing."""

    def __missing__(self, key: str) -> str:
        if key == "idle_minutes":
            return "15"  # AUTH-10's default, for a caller that did not say
        if key.startswith("wait_"):
            return _wait(self.get("retry_after"), english=key == "wait_en")
        return ""


def _wait(seconds: object, *, english: bool) -> str:
    """``retry_after`` as people say it: minutes from a minute on (15分, not 900秒)."""
    if not isinstance(seconds, int):
        return "しばらく" if not english else "a while"
    if seconds >= 60:
        minutes = -(-seconds // 60)
        return f"{minutes} minutes" if english else f"{minutes}分"
    return f"{seconds} seconds" if english else f"{seconds}秒"


def message(code: ErrorCode, locale: Locale, params: dict[str, object] | None = None) -> str:
    """The message for ``code`` in ``locale``, with ``params`` filled in where it has them."""
    variant = (params or {}).get("variant") or (params or {}).get("reason")
    ja, en = VARIANTS.get((code, str(variant)), MESSAGES[code])
    english = locale == "en"
    values = _Params(params or {})
    reason = values.get("reason")
    if isinstance(reason, str) and reason in PASSWORD_REASONS:
        values["reason"] = PASSWORD_REASONS[reason][1 if english else 0]
    return (en if english else ja).format_map(values)
