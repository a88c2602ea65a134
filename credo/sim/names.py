"""Personal names: Hanzi with their pinyin, and Latin-script names.

A built-in table (surnames by frequency, given-name characters by sex) keeps the generator
free of a dictionary dependency and makes every pinyin spelling deliberate: polyphonic
characters (乐, 长, 重, ...) are left out of the given-name pool, and the surnames whose
reading differs from the everyday one (单 Shan, 解 Xie, 曾 Zeng) are spelled as surnames.
Homophone surnames (王/汪, 徐/许, 江/姜/蒋) are kept on purpose: they collide in pinyin, which
is exactly what identity resolution must cope with.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "FEMALE_GIVEN",
    "LATIN_FAMILY",
    "LATIN_GIVEN_FEMALE",
    "LATIN_GIVEN_MALE",
    "MALE_GIVEN",
    "SURNAMES",
    "hanzi_typo",
    "latin_typo",
    "pinyin_of",
    "pinyin_upper",
]

# (surname, pinyin, weight ~ share of the population in per mille)
SURNAMES: tuple[tuple[str, str, float], ...] = (
    ("王", "Wang", 71), ("李", "Li", 70), ("张", "Zhang", 68), ("刘", "Liu", 54),
    ("陈", "Chen", 45), ("杨", "Yang", 31), ("黄", "Huang", 22), ("赵", "Zhao", 21),
    ("吴", "Wu", 20), ("周", "Zhou", 19), ("徐", "Xu", 15), ("孙", "Sun", 14),
    ("马", "Ma", 13), ("朱", "Zhu", 13), ("胡", "Hu", 12), ("郭", "Guo", 11),
    ("何", "He", 11), ("林", "Lin", 10), ("高", "Gao", 10), ("罗", "Luo", 9),
    ("郑", "Zheng", 9), ("梁", "Liang", 8), ("谢", "Xie", 8), ("宋", "Song", 7),
    ("唐", "Tang", 7), ("许", "Xu", 7), ("邓", "Deng", 6), ("韩", "Han", 6),
    ("冯", "Feng", 6), ("曹", "Cao", 6), ("彭", "Peng", 5), ("曾", "Zeng", 5),
    ("肖", "Xiao", 5), ("田", "Tian", 5), ("董", "Dong", 5), ("潘", "Pan", 4),
    ("袁", "Yuan", 4), ("蔡", "Cai", 4), ("蒋", "Jiang", 4), ("余", "Yu", 4),
    ("于", "Yu", 4), ("杜", "Du", 4), ("叶", "Ye", 4), ("程", "Cheng", 4),
    ("魏", "Wei", 3), ("苏", "Su", 3), ("吕", "Lyu", 3), ("丁", "Ding", 3),
    ("任", "Ren", 3), ("卢", "Lu", 3), ("姚", "Yao", 3), ("沈", "Shen", 3),
    ("钟", "Zhong", 3), ("姜", "Jiang", 3), ("崔", "Cui", 3), ("谭", "Tan", 3),
    ("陆", "Lu", 3), ("范", "Fan", 2), ("汪", "Wang", 2), ("廖", "Liao", 2),
    ("石", "Shi", 2), ("金", "Jin", 2), ("韦", "Wei", 2), ("贾", "Jia", 2),
    ("夏", "Xia", 2), ("付", "Fu", 2), ("方", "Fang", 2), ("邹", "Zou", 2),
    ("熊", "Xiong", 2), ("白", "Bai", 2), ("孟", "Meng", 2), ("秦", "Qin", 2),
    ("邱", "Qiu", 2), ("侯", "Hou", 2), ("江", "Jiang", 2), ("尹", "Yin", 2),
    ("薛", "Xue", 2), ("闫", "Yan", 2), ("段", "Duan", 2), ("雷", "Lei", 2),
    ("龙", "Long", 1), ("黎", "Li", 1), ("史", "Shi", 1), ("陶", "Tao", 1),
    ("贺", "He", 1), ("毛", "Mao", 1), ("郝", "Hao", 1), ("顾", "Gu", 1),
    ("龚", "Gong", 1), ("邵", "Shao", 1), ("万", "Wan", 1), ("覃", "Qin", 1),
    ("武", "Wu", 1), ("钱", "Qian", 1), ("戴", "Dai", 1), ("严", "Yan", 1),
    ("欧阳", "Ouyang", 0.5), ("司马", "Sima", 0.2), ("单", "Shan", 0.3), ("解", "Xie", 0.2),
)  # fmt: skip

MALE_GIVEN: tuple[tuple[str, str], ...] = (
    ("伟", "wei"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("勇", "yong"),
    ("杰", "jie"), ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("刚", "gang"),
    ("平", "ping"), ("辉", "hui"), ("鹏", "peng"), ("华", "hua"), ("飞", "fei"),
    ("鑫", "xin"), ("波", "bo"), ("斌", "bin"), ("宇", "yu"), ("浩", "hao"),
    ("凯", "kai"), ("健", "jian"), ("俊", "jun"), ("帆", "fan"), ("建", "jian"),
    ("国", "guo"), ("志", "zhi"), ("东", "dong"), ("文", "wen"), ("博", "bo"),
    ("子", "zi"), ("轩", "xuan"), ("然", "ran"), ("晨", "chen"), ("阳", "yang"),
    ("峰", "feng"), ("成", "cheng"), ("龙", "long"), ("海", "hai"), ("林", "lin"),
    ("亮", "liang"), ("新", "xin"), ("春", "chun"), ("永", "yong"), ("天", "tian"),
    ("嘉", "jia"), ("家", "jia"), ("泽", "ze"), ("睿", "rui"), ("航", "hang"),
)  # fmt: skip

FEMALE_GIVEN: tuple[tuple[str, str], ...] = (
    ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("艳", "yan"), ("娟", "juan"), ("霞", "xia"), ("秀", "xiu"), ("英", "ying"),
    ("玲", "ling"), ("婷", "ting"), ("雪", "xue"), ("慧", "hui"), ("莉", "li"),
    ("燕", "yan"), ("红", "hong"), ("梅", "mei"), ("琳", "lin"), ("欣", "xin"),
    ("怡", "yi"), ("佳", "jia"), ("颖", "ying"), ("倩", "qian"), ("晶", "jing"),
    ("琴", "qin"), ("云", "yun"), ("洁", "jie"), ("萍", "ping"), ("丹", "dan"),
    ("璐", "lu"), ("瑶", "yao"), ("雨", "yu"), ("涵", "han"), ("诗", "shi"),
    ("梦", "meng"), ("悦", "yue"), ("思", "si"), ("彤", "tong"), ("蕾", "lei"),
    ("小", "xiao"), ("晓", "xiao"), ("玉", "yu"), ("月", "yue"), ("兰", "lan"),
    ("凤", "feng"), ("桂", "gui"), ("秋", "qiu"), ("紫", "zi"), ("一", "yi"),
)  # fmt: skip

LATIN_GIVEN_MALE = (
    "John", "David", "Michael", "James", "Thomas", "Daniel", "Lucas", "Pierre", "Ivan",
    "Carlos", "Ahmed", "Hiroshi", "Minjun", "Paolo", "Erik", "Andrei", "Omar", "Luca",
)  # fmt: skip
LATIN_GIVEN_FEMALE = (
    "Mary", "Anna", "Sarah", "Emma", "Sophie", "Olga", "Maria", "Fatima", "Yuki", "Jiwoo",
    "Laura", "Elena", "Chloé", "Ingrid", "Aisha", "Julia", "Natalia", "Hana",
)  # fmt: skip
LATIN_FAMILY = (
    "Smith", "Johnson", "Brown", "Miller", "Müller", "Schmidt", "Martin", "Dubois", "Garcia",
    "Silva", "Rossi", "Ivanov", "Petrov", "Kim", "Lee", "Park", "Tanaka", "Sato", "Nguyen",
    "Khan", "Ali", "Johansson", "Kowalski", "O'Brien", "Novák", "Fernández",
)  # fmt: skip

_GIVEN_PINYIN = dict(MALE_GIVEN) | dict(FEMALE_GIVEN)
_SURNAME_PINYIN = {s: p for s, p, _ in SURNAMES}
_ALL_GIVEN_CHARS = tuple(sorted(_GIVEN_PINYIN))
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _join_syllables(syllables: list[str]) -> str:
    """Join pinyin syllables as one word, with the apostrophe before a, o, e (Xi'an rule)."""
    out = syllables[0]
    for s in syllables[1:]:
        out += ("'" + s) if s[0] in "aoe" else s
    return out


def pinyin_of(family: str, given: str) -> tuple[str, str]:
    """Pinyin of a Hanzi family and given name, each capitalised: ('Zhang', 'Xiaoming')."""
    fam = _SURNAME_PINYIN[family]
    giv = _join_syllables([_GIVEN_PINYIN[c] for c in given]).capitalize()
    return fam, giv


def pinyin_upper(family_latin: str, given_latin: str, swapped: bool) -> str:
    """A bank's upper-case spelling, family first unless the clerk swapped the order."""
    parts = (given_latin, family_latin) if swapped else (family_latin, given_latin)
    return " ".join(parts).upper()


def hanzi_typo(name: str, rng: np.random.Generator) -> str:
    """One character substituted (a wrong pick from an input method) or two swapped."""
    if len(name) >= 3 and rng.random() < 0.3:
        chars = list(name)
        i = len(name) - 2  # swap the two given-name characters
        chars[i], chars[i + 1] = chars[i + 1], chars[i]
        if "".join(chars) != name:
            return "".join(chars)
    pos = int(rng.integers(0, len(name)))
    while True:
        new = _ALL_GIVEN_CHARS[int(rng.integers(0, len(_ALL_GIVEN_CHARS)))]
        if new != name[pos]:
            return name[:pos] + new + name[pos + 1 :]


def latin_typo(name: str, rng: np.random.Generator) -> str:
    """One letter substituted or two adjacent letters transposed; spaces are kept."""
    letters = [i for i, c in enumerate(name) if c.isalpha()]
    if len(letters) < 2:
        return name + "e"
    if rng.random() < 0.5:
        i = letters[int(rng.integers(0, len(letters) - 1))]
        j = i + 1
        if j < len(name) and name[j].isalpha() and name[i].lower() != name[j].lower():
            return name[:i] + name[j] + name[i] + name[j + 1 :]
    i = letters[int(rng.integers(0, len(letters)))]
    while True:
        c = _LETTERS[int(rng.integers(0, 26))]
        if c != name[i].lower():
            c = c.upper() if name[i].isupper() else c
            return name[:i] + c + name[i + 1 :]
