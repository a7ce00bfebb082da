"""Folding and index keys (SEARCH-2 in docs/search.md): pure functions, no database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policies.folding import fold, grams, query_terms, title_key
from policies.isbn import isbn13
from policies.variants import VARIANT_KANJI, jis0208

FIRST_ROUND = (  # the hand list the first round folded, pair by pair (old, new)
    "亞亜惡悪壓圧圍囲醫医爲為壹壱稻稲飮飲隱隠營営榮栄衞衛驛駅圓円鹽塩緣縁艷艶應応歐欧毆殴"
    "櫻桜奧奥假仮價価畫画會会囘回壞壊懷懐繪絵擴拡殼殻覺覚學学嶽岳樂楽渴渇卷巻陷陥勸勧寬寛"
    "歡歓觀観關関顏顔歸帰氣気龜亀僞偽戲戯犧犠舊旧據拠擧挙峽峡挾挟狹狭曉暁區区驅駆勳勲徑径"
    "惠恵溪渓經経繼継莖茎螢蛍輕軽鷄鶏藝芸缺欠儉倹劍剣圈圏檢検權権獻献縣県險険顯顕驗験嚴厳"
    "效効廣広恆恒鑛鉱號号國国濟済碎砕齋斎劑剤雜雑參参慘惨棧桟蠶蚕贊賛殘残絲糸齒歯兒児辭辞"
    "濕湿實実寫写釋釈壽寿收収從従澁渋獸獣縱縦肅粛處処緖緒敍叙將将燒焼稱称證証乘乗剩剰壤壌"
    "孃嬢條条淨浄疊畳穰穣讓譲釀醸觸触寢寝愼慎眞真盡尽圖図粹粋醉酔穗穂隨随髓髄數数樞枢聲声"
    "靜静齊斉攝摂竊窃專専戰戦淺浅潛潜纖繊踐践錢銭禪禅雙双壯壮搜捜插挿爭争總総聰聡莊荘裝装"
    "騷騒藏蔵臟臓卽即屬属續続墮堕體体對対帶帯滯滞臺台瀧滝擇択澤沢單単擔担膽胆團団彈弾斷断"
    "癡痴遲遅晝昼蟲虫鑄鋳廳庁聽聴敕勅鎭鎮遞逓鐵鉄轉転點点傳伝黨党盜盗燈灯當当鬪闘德徳獨独"
    "讀読屆届繩縄貳弐惱悩腦脳霸覇廢廃拜拝賣売麥麦發発髮髪拔抜蠻蛮祕秘濱浜濵浜拂払佛仏竝並"
    "變変邊辺邉辺辨弁瓣弁辯弁舖舗寶宝豐豊沒没飜翻每毎萬万滿満默黙彌弥譯訳藥薬與与豫予餘余"
    "譽誉搖揺樣様謠謡來来賴頼亂乱覽覧龍竜兩両獵猟綠緑壘塁淚涙勵励禮礼靈霊齡齢戀恋爐炉勞労"
    "樓楼祿禄錄録灣湾髙高﨑崎嶋島增増黑黒靑青淸清瀨瀬冨富𠮷吉"
)


@pytest.mark.parametrize(
    ("variants", "folded"),
    [
        (
            ["コンピューター", "コンピュータ", "ｺﾝﾋﾟｭｰﾀｰ", "こんぴゅーたー", "コンピユータ"],
            "こんぴゆた",
        ),
        (["ヴァイオリン", "バイオリン", "ｳﾞｧｲｵﾘﾝ"], "ばいおりん"),
        (["國學院", "国学院"], "国学院"),
        (["渡邊", "渡邉", "渡辺"], "渡辺"),
        (["髙橋", "高橋"], "高橋"),
        (["佐々木", "佐佐木"], "佐佐木"),
        (["Tōkyō", "Tokyo", "TOKYO", "toukyou", "tookyoo", "Ｔｏｋｙｏ"], "tokyo"),
        (["Shin'ichi", "Shinʼichi", "shinichi"], "shinichi"),
        (["ヴェ－バ－", "ヴェーバー", "ベーバー"], "べば"),
        # a reading typed in kana meets one spelt from Hepburn (ō = おう = おお, zu, o)
        (["とうきょう", "トウキョウ", "とおきょお", "トーキョー", "ときょ"], "ときよ"),
        (["おおかわ", "オウカワ"], "おかわ"),
        (["つづき", "つずき"], "つずき"),
        (["ちぢみ", "ちじみ"], "ちじみ"),
        (["ほんをよむ", "ほんおよむ"], "ほんおよむ"),
    ],
)
def test_variant_spellings_fold_to_one_form(variants: list[str], folded: str) -> None:
    # SEARCH-2: width, kana, small kana, long vowels, ヴ, old kanji, 々, macrons, case.
    assert {fold(v) for v in variants} == {folded}


def test_variant_table_maps_single_characters_to_different_ones() -> None:
    # SEARCH-2: every entry is one character to another single character, a JIS X 0208
    # one (what an IME types), and folding is stable.
    assert len(VARIANT_KANJI) > 1000
    assert all(len(k) == len(v) == 1 and k != v for k, v in VARIANT_KANJI.items())
    assert all(v not in VARIANT_KANJI for v in VARIANT_KANJI.values())
    assert all(jis0208(v) for v in VARIANT_KANJI.values())


def test_first_round_old_kanji_still_fold() -> None:
    # SEARCH-2: every old/new pair the first round's hand list folded still meets.
    pairs = [(FIRST_ROUND[i], FIRST_ROUND[i + 1]) for i in range(0, len(FIRST_ROUND), 2)]
    assert len(pairs) > 280
    assert [(old, new) for old, new in pairs if fold(old) != fold(new)] == []


@pytest.mark.parametrize(
    ("held", "typed"),
    [
        ("調查", "調査"),
        ("記錄", "記録"),
        ("解說", "解説"),
        ("江戶", "江戸"),
        ("稅", "税"),
        ("森鷗外", "森鴎外"),
        ("國學院", "国学院"),
        ("特别", "特別"),  # a Chinese form LC sometimes records, folded through OpenCC's ST table
        ("敎育", "教育"),
    ],
)
def test_variant_forms_fold_to_the_standard_japanese_form(held: str, typed: str) -> None:
    # SEARCH-2: OpenCC's JPShinjitaiCharactersRev (old and Chinese forms -> shinjitai).
    assert fold(held) == fold(typed) == typed


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("防禦", "防御"),  # 1956 substitutions join different characters: dropped
        ("聯合", "連合"),
        ("濾過", "沪过"),  # OpenCC's 濾→沪 is a Chinese simplification: dropped
        ("机", "機"),  # Japanese characters in their own right are never read as Chinese
        ("叶", "葉"),
    ],
)
def test_unsafe_mappings_are_dropped(a: str, b: str) -> None:
    # SEARCH-2: the reductions documented in policies/variants.py.
    assert fold(a) != fold(b)


def test_dakuten_and_handakuten_survive_folding() -> None:
    # SEARCH-2: が is not か, ぱ is not は (only Latin diacritics are dropped).
    assert fold("がぱ") == "がぱ" and fold("かは") == "かは"


def test_grams_are_characters_pairs_and_words() -> None:
    # SEARCH-1: kana/kanji by character and pair, other scripts by word.
    assert grams(fold("吾輩は猫 Natsume Sōseki")) == {
        "吾",
        "輩",
        "は",
        "猫",
        "吾輩",
        "輩は",
        "は猫",
        "natsume",
        "soseki",
    }


def test_query_terms() -> None:
    # SEARCH-1/3: ISBNs recognised with or without hyphens; a trailing * asks for a prefix.
    terms = query_terms("4-87088-916-1 日本史 toky* 本")
    assert [(t.text, t.isbn, t.cjk, t.prefix) for t in terms] == [
        ("9784870889163", True, False, False),
        ("日本史", False, True, False),
        ("toky", False, False, True),
        ("本", False, True, False),
    ]
    assert query_terms("%_\\ '\" \x00") == []
    assert [t.index_grams() for t in query_terms("図書館")] == [["図書", "書館"]]


@pytest.mark.parametrize(
    ("raw", "isbn"),
    [
        ("4-87088-916-1", "9784870889163"),
        ("4870889161", "9784870889163"),
        ("978-4-87088-916-3", "9784870889163"),
        ("4-10-101003-X", "9784101010038"),
        ("4-87088-916-2", None),  # bad check digit
        ("12345", None),
    ],
)
def test_isbn_10_and_13_are_one_form(raw: str, isbn: str | None) -> None:
    # SEARCH-2: ISBN-10 = ISBN-13, with or without hyphens.
    assert isbn13(raw) == isbn


def test_title_key_prefers_the_reading() -> None:
    # SEARCH-5: Japanese titles sort by their romanised reading.
    assert title_key("東京物語", "Tōkyō monogatari") == "tokyo monogatari"
    assert title_key("Kokoro", None) == "kokoro"


@given(st.text(max_size=60))
def test_fold_is_idempotent_and_never_fails(text: str) -> None:
    # SEARCH-6: any text folds, and folding twice changes nothing more.
    once = fold(text)
    assert fold(once) == once
    for term in query_terms(text):
        assert term.text and term.index_grams()


def test_a_long_run_is_looked_up_by_some_of_its_pairs() -> None:
    # SEARCH-1: a reading typed in full (30 kana) needs 7 bitmaps, not 29; the first and
    # last pairs are among them, and the text check keeps the result exact.
    [term] = query_terms("ぎょうせいそしきていいんかんりきゅうよかんけいしりょうしゅう")
    picked = term.index_grams()
    assert len(picked) <= 7 and not term.exact
    assert picked[0] == term.text[:2] and picked[-1] == term.text[-2:]
    assert all(p in term.text for p in picked)
    [short] = query_terms("日本の歴史")
    assert short.index_grams() == ["日本", "本の", "の歴", "歴史"]
