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
        "一定時間操作がなかったため、ログオフしました。再度ログインしてください。",
        "You were logged off after a period of inactivity. Please log in again.",
    ),
    C.INVALID_CREDENTIALS: (
        "利用者番号またはパスワードが正しくありません。",
        "The card number or password is incorrect.",
    ),
    C.ACCOUNT_LOCKED: (
        "ログインの失敗が続いたため、一時的にログインできません。{retry_after}秒後に再度お試しください。",
        "Too many failed logins. Please try again in {retry_after} seconds.",
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
        "パスワードは小学生以上の方に発行しています。",
        "Passwords are issued from elementary-school age.",
    ),
    C.GUARDIAN_CONSENT_REQUIRED: (
        "小学生の方は保護者の方の同意が必要です。",
        "Elementary-school pupils need a guardian's consent.",
    ),
    C.COUNTER_ONLY: (
        "この手続きは図書館の窓口でお願いします。",
        "Please do this at the library counter.",
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
    C.EBOOK_LOAN_LIMIT: ("電子書籍は3点まで借りられます。", "You can borrow at most 3 e-books."),
    C.EBOOK_HOLD_LIMIT: ("電子書籍の予約は3点までです。", "You can hold at most 3 e-books."),
    C.EBOOK_UNAVAILABLE: (
        "いま貸出できるライセンスがありません。予約してください。",
        "No licence is free now; please place a hold.",
    ),
    C.EBOOK_AVAILABLE: (
        "この電子書籍はいま借りられます。予約せずにお借りください。",
        "This e-book is available now; borrow it instead of holding it.",
    ),
    C.RATE_LIMITED: (
        "申込みが続いたため、しばらく受け付けられません。{retry_after}秒後に再度お試しください。",
        "Too many requests. Please try again in {retry_after} seconds.",
    ),
    C.FORBIDDEN: ("この操作は許可されていません。", "You are not allowed to do this."),
    C.CARD_EXPIRED: (
        "利用カードの有効期限が切れています。カウンターまたはweb申請で更新してください。",
        "Your library card has expired. Please renew it at the counter or by web application.",
    ),
    C.OVERDUE_BLOCK: (
        "返却期限を過ぎた資料があるため、予約できません。資料を返却してください。",
        "You have overdue items, so you cannot place or collect holds. Please return them.",
    ),
    C.EMAIL_REQUIRED: (
        "メールで連絡を受けるには、メールアドレスの登録が必要です。",
        "Register an e-mail address to be contacted by e-mail.",
    ),
    C.INVALID_EMAIL: (
        "メールアドレスが正しくありません。アドレスが間違っていると、すべてのメールが届きません。",
        "This e-mail address is not valid; a wrong address loses every mail.",
    ),
    C.SHELF_LIMIT: ("本棚は5つまでしか作れません。", "You can keep at most 5 bookshelves."),
    C.SHELF_FULL: (
        "1つの本棚には100冊までしか入りません。",
        "A bookshelf holds at most 100 titles.",
    ),
    C.NAME_TAKEN: (
        "同じ名前の本棚がすでにあります。",
        "You already have a bookshelf with this name.",
    ),
    C.BASKET_FULL: (
        "予約かごには100件までしか入れられません。",
        "The basket holds at most 100 titles.",
    ),
    C.EBOOK_NOT_ALLOWED: ("電子書籍はご利用になれません。", "E-books are not available to you."),
    C.NOT_HOLDABLE: ("この資料は予約できません。", "This title cannot be reserved."),
    C.HOLD_LIMIT: ("予約できる件数の上限に達しています。", "You have reached the hold limit."),
    C.ALREADY_HELD: ("この資料はすでに予約しています。", "You have already reserved this title."),
    C.ALREADY_ON_LOAN: ("この資料は借りています。", "You already have this title on loan."),
    C.HOLD_NOT_MODIFIABLE: (
        "この予約は変更・取消できません。図書館にお問い合わせください。",
        "This hold can no longer be changed. Please call the library.",
    ),
    C.INVALID_PICKUP_LIBRARY: (
        "この受取館は選べません。",
        "Holds cannot be collected at this library.",
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
    C.HELD_BY_OTHERS: (
        "予約が入っているため延長できません。",
        "Someone has reserved this title, so it cannot be renewed.",
    ),
    C.OVERDUE: ("返却期限を過ぎているため延長できません。", "Overdue loans cannot be renewed."),
    C.RENEWAL_LIMIT: ("延長は1回までです。", "This loan has already been renewed."),
    C.BOOKMOBILE: (
        "移動図書館で借りた資料は延長できません。",
        "Bookmobile loans cannot be renewed.",
    ),
    C.ART_REPRODUCTION: ("複製画は延長できません。", "Art reproductions cannot be renewed."),
    C.INTER_LIBRARY: (
        "他市から借用した資料は延長できません。",
        "Items borrowed from other cities cannot be renewed.",
    ),
}


# The ``reason`` of INVALID_PASSWORD (policies.accounts.PasswordProblem), for people.
PASSWORD_REASONS: dict[str, tuple[str, str]] = {
    "TOO_SHORT": ("6文字未満です", "shorter than 6 characters"),
    "TOO_LONG": ("10文字を超えています", "longer than 10 characters"),
    "INVALID_CHARACTERS": ("半角英数字以外の文字があります", "only ASCII letters and digits"),
    "CARD_NUMBER": ("利用者番号と同じです", "same as the card number"),
    "BIRTH_DATE": ("生年月日です", "it is the birth date"),
    "REPEATED_CHARACTER": ("同じ文字の繰り返しです", "one character repeated"),
    "SEQUENCE": ("連続した文字です", "a run such as 123456"),
    "COMMON": ("よく使われるパスワードです", "a commonly used password"),
    "SAME_AS_CURRENT": ("現在のパスワードと同じです", "same as the current password"),
}


class _Params(dict[str, object]):
    """Format parameters where a missing one reads as empty rather than failing."""

    def __missing__(self, key: str) -> str:
        return ""


def message(code: ErrorCode, locale: Locale, params: dict[str, object] | None = None) -> str:
    """The message for ``code`` in ``locale``, with ``params`` filled in where it has them."""
    ja, en = MESSAGES[code]
    english = locale == "en"
    values = _Params(params or {})
    reason = values.get("reason")
    if isinstance(reason, str) and reason in PASSWORD_REASONS:
        values["reason"] = PASSWORD_REASONS[reason][1 if english else 0]
    return (en if english else ja).format_map(values)
