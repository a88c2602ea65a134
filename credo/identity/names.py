"""Name keys that let a Hanzi name meet its pinyin, in either order, with or without case.

Sources write one person's name as 张晓明, "Zhang Xiaoming", "ZHANG XIAOMING" or, when a clerk
put the given name first, "XIAOMING ZHANG". Linkage compares three forms of each distinct
name, computed once per distinct name (not per record):

- ``exact``: the name as written, Unicode-normalised and case-folded (a Hanzi match is
  stronger evidence than a pinyin match, because homophone surnames such as 王/汪 collide
  in pinyin);
- ``ordered``: pinyin (or folded Latin) tokens, family name first for Hanzi names;
- ``key``: the same tokens sorted, so that the given/family order does not matter.

Hanzi are read with ``pypinyin``; surnames whose reading differs from the everyday one (单
Shan, 曾 Zeng, 解 Xie, ...) and compound surnames (欧阳, 司马, ...) are handled here because a
plain character-by-character reading gets them wrong.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from pypinyin import lazy_pinyin

__all__ = ["NameForms", "name_forms"]

_COMPOUND = (
    "欧阳", "司马", "诸葛", "上官", "司徒", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙",
    "宇文", "令狐", "夏侯", "端木", "独孤", "南宫", "西门", "万俟", "闻人", "轩辕", "澹台",
    "呼延", "申屠", "太史", "百里", "钟离", "第五", "司空", "微生",
)  # fmt: skip
COMPOUND_SURNAMES = frozenset(_COMPOUND)
# Surnames read differently from the same character elsewhere (as written in passports).
SURNAME_READINGS = {
    "单": "shan", "曾": "zeng", "解": "xie", "仇": "qiu", "区": "ou", "朴": "piao",
    "查": "zha", "盖": "ge", "乐": "yue", "覃": "qin", "翟": "zhai", "缪": "miao",
    "召": "shao", "繁": "po", "种": "chong", "秘": "bi", "冼": "xian", "尉迟": "yuchi",
    "长孙": "zhangsun", "万俟": "moqi", "重": "chong", "藏": "zang", "员": "yun",
}  # fmt: skip

_HAN = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff·•・\s]+$")
_SEPARATORS = re.compile(r"[\s·•・.,\-_/]+")
_DROP = re.compile(r"['’`]")


@dataclass(frozen=True)
class NameForms:
    exact: str
    ordered: str
    key: str
    hanzi: bool


def _fold_latin(text: str) -> str:
    """Lower-case ASCII letters: 'Müller' -> 'muller'."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return plain


@lru_cache(maxsize=1 << 18)
def _reading(part: str) -> str:
    """The pinyin of a family or given name, once per distinct part: given names and
    surnames repeat far more than whole names do (a run reads 141k distinct names at 20,000
    hard-preset persons)."""
    return "".join(lazy_pinyin(part))


def _pinyin_tokens(name: str) -> list[str]:
    parts = [p for p in _SEPARATORS.split(name) if p]
    if len(parts) > 1:  # a minority name written with a middle dot: each part is a token
        return [_reading(p) for p in parts]
    family = name[:2] if name[:2] in COMPOUND_SURNAMES else name[:1]
    given = name[len(family) :]
    fam = SURNAME_READINGS.get(family) or _reading(family)
    tokens = [fam]
    if given:
        tokens.append(_reading(given))
    return tokens


def _norm_token(token: str) -> str:
    token = _DROP.sub("", token)
    # pypinyin writes Lü as "lv"; passports and banks write "lyu": keep one spelling.
    return token.replace("lyu", "lv").replace("nyu", "nv")


@lru_cache(maxsize=1 << 16)
def name_forms(name: str) -> NameForms | None:
    """The three comparison forms of one name, or None for a blank name."""
    text = unicodedata.normalize("NFKC", name).strip()
    if not text:
        return None
    exact = " ".join(text.casefold().split())
    hanzi = bool(_HAN.match(text))
    if hanzi:
        raw = _pinyin_tokens(text.replace(" ", ""))
        exact = exact.replace(" ", "")
    else:
        raw = [p for p in _SEPARATORS.split(_fold_latin(text)) if p]
    tokens = [t for t in (_norm_token(_fold_latin(r)) for r in raw) if t]
    if not tokens:
        return NameForms(exact, exact, exact, hanzi)
    return NameForms(exact, " ".join(tokens), " ".join(sorted(tokens)), hanzi)
