"""The true population: who each person is, where they live, and how creditworthy they are.

Creditworthiness is one latent value per person: a standard normal whose good side is
stretched (``GOOD_TAIL``), because the most reliable people are further from the average than
the least reliable are, and the sources' positive signals follow it there. Income, education,
whether a person is employed and how long they have stayed with their employer all rise with it.

Everything a source later reports about a person is derived from these arrays (one entry per
person), so the truth tables and the sources cannot disagree. Identity quirks that belong to
the person rather than to one record — a second phone, a move, a changed surname, a twin —
are decided here; per-record noise is applied when a source renders identifiers (noise.py).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from credo.identifiers import gb11643_check_digits
from credo.sim import names
from credo.sim.draws import FloatArray, IntArray, calibrated, unique_ints
from credo.sim.places import REGIONS, format_address
from credo.sim.protected import ProtectedLinks, draw_protected
from credo.sim.window import DateArray, Window, month_parts

__all__ = ["EDUCATION", "GOOD_TAIL", "OCCUPATIONS", "Persons", "generate_persons"]

ObjArray = npt.NDArray[np.object_]
BoolArray = npt.NDArray[np.bool_]

EDUCATION = (
    "junior_secondary",
    "senior_secondary",
    "vocational",
    "bachelor",
    "master",
    "doctorate",
)
# (occupation, income tier 0-2)
OCCUPATIONS = (
    ("delivery_rider", 0), ("factory_worker", 0), ("farmer", 0), ("driver", 0), ("chef", 0),
    ("sales", 1), ("teacher", 1), ("nurse", 1), ("accountant", 1), ("civil_servant", 1),
    ("self_employed", 1), ("software_engineer", 2), ("doctor", 2), ("lawyer", 2), ("manager", 2),
)  # fmt: skip
EMPLOYERS = (
    "华为技术有限公司", "阿里巴巴(中国)有限公司", "腾讯科技(深圳)有限公司", "中国工商银行",
    "国家电网有限公司", "比亚迪股份有限公司", "北京三快在线科技有限公司", "京东集团",
    "顺丰速运有限公司", "中铁建工集团有限公司", "遂宁市第一中学", "四川美丰化工股份有限公司",
    "海底捞餐饮股份有限公司", "成都市第三人民医院", "小米科技有限责任公司", "中国移动通信集团",
    "字节跳动有限公司", "遂宁市船山区人民政府", "上海汽车集团股份有限公司", "个体经营",
)  # fmt: skip
#: Stretch of the latent creditworthiness above its median: ``z + GOOD_TAIL * max(z, 0) ** 2``.
GOOD_TAIL = 0.25
# Numeric nationality codes used in foreigners' permanent-residence numbers (leading 9).
_NATIONALITY = ("840", "826", "276", "250", "410", "392", "643", "380", "124", "036")


@dataclass(frozen=True)
class Persons:
    """Column arrays, one entry per person; index ``i`` is person ``person_id[i]``."""

    person_id: ObjArray
    chinese: BoolArray
    female: BoolArray
    birth: DateArray
    family: ObjArray  # current family name, native script
    given: ObjArray
    family_latin: ObjArray  # pinyin for Chinese persons
    given_latin: ObjArray
    prev_family: ObjArray  # before a surname change, else None
    prev_family_latin: ObjArray
    name_changed_on: DateArray  # NaT when never changed
    national_id: ObjArray
    birth_region: IntArray
    phone: ObjArray
    phone2: ObjArray  # None for most
    home: IntArray  # region index now
    address: ObjArray
    prev_home: IntArray  # -1 when the person did not move in the window
    prev_address: ObjArray
    moved_on: DateArray
    latent: FloatArray  # latent creditworthiness (standard normal below 0, GOOD_TAIL above)
    income: FloatArray  # monthly income in yuan
    twin_of: IntArray  # index of the other twin, -1 for most
    alipay_uid: ObjArray
    education: ObjArray
    occupation: ObjArray
    employer: ObjArray  # None when not employed
    employed_months: IntArray  # tenure with the employer at the window end, 0 when none
    vehicle: ObjArray  # plate, or None
    ethnicity: ObjArray  # protected: han, minority, foreign (credo.sim.protected)
    hukou: ObjArray  # protected: urban, rural, none
    contact_rate: FloatArray  # multiplies the contacts a person starts (social_graph)
    #: First day on file (credo.sim.arrivals); the window's first day for everyone by default.
    arrived_on: DateArray

    @property
    def n(self) -> int:
        return len(self.person_id)

    def arrived(self, idx: IntArray, when: DateArray) -> BoolArray:
        """Whether each person was on file on each date (a source records nothing before)."""
        return np.asarray(when >= self.arrived_on[idx], dtype=np.bool_)

    def on_file(self, idx: IntArray, days: DateArray, window: Window) -> DateArray:
        """Days drawn over the window, moved into each person's own time on file: the same
        share of the way from their arrival to the window's end (unchanged for persons on file
        from the start)."""
        arrived = self.arrived_on[idx]
        span = (window.last - window.first).astype(np.int64)
        own = (window.last - arrived).astype(np.int64)
        offset = (days - window.first).astype(np.int64)
        moved = arrived + (offset * own // max(1, int(span))).astype("timedelta64[D]")
        return np.asarray(moved, dtype="datetime64[D]")

    def native_name(self, family: ObjArray, idx: IntArray) -> ObjArray:
        """Full names in the person's script: 张晓明, or 'Anna Müller' (given name first)."""
        out = np.empty(len(idx), dtype=object)
        for k, (i, fam) in enumerate(zip(idx.tolist(), family.tolist(), strict=True)):
            out[k] = fam + self.given[i] if self.chinese[i] else f"{self.given[i]} {fam}"
        return out

    def latin_name(self, family_latin: ObjArray, idx: IntArray) -> ObjArray:
        """Names in Latin script: pinyin family first ('Zhang Xiaoming'), others given first."""
        out = np.empty(len(idx), dtype=object)
        for k, (i, fam) in enumerate(zip(idx.tolist(), family_latin.tolist(), strict=True)):
            giv = self.given_latin[i]
            out[k] = f"{fam} {giv}" if self.chinese[i] else f"{giv} {fam}"
        return out

    def family_at(self, idx: IntArray, when: DateArray) -> tuple[ObjArray, ObjArray, BoolArray]:
        """Family name (native, Latin) in use on each date, and whether it is the one used
        before a change (which the truth table lists as ``previous_family_name``)."""
        changed_on = self.name_changed_on[idx]
        new = ~np.isnat(changed_on) & (when >= changed_on)
        old = ~np.isnat(changed_on) & ~new
        fam = np.where(old, self.prev_family[idx], self.family[idx])
        lat = np.where(old, self.prev_family_latin[idx], self.family_latin[idx])
        return fam, lat, old

    def home_at(self, idx: IntArray, when: DateArray) -> tuple[IntArray, ObjArray]:
        """Region and address where each person lived on each date."""
        moved_on = self.moved_on[idx]
        before = ~np.isnat(moved_on) & (when < moved_on)
        region = np.where(before, self.prev_home[idx], self.home[idx])
        address = np.where(before, self.prev_address[idx], self.address[idx])
        return region, address

    def age_on(self, idx: IntArray, day: dt.date) -> IntArray:
        y, m, d = month_parts(self.birth[idx])
        before = (m > day.month) | ((m == day.month) & (d > day.day))
        return np.asarray(day.year - y - before.astype(np.int64), dtype=np.int64)


def _choose(rng: np.random.Generator, options: int, size: int, weights: FloatArray) -> IntArray:
    return rng.choice(options, size=size, p=weights / weights.sum()).astype(np.int64)


def _names(
    rng: np.random.Generator, chinese: BoolArray, female: BoolArray
) -> tuple[ObjArray, ObjArray, ObjArray, ObjArray]:
    n = len(chinese)
    sur_w = np.array([w for _, _, w in names.SURNAMES], dtype=np.float64)
    sur = _choose(rng, len(names.SURNAMES), n, sur_w)
    two_chars = rng.random(n) < 0.72
    cross = rng.random(n) < 0.08  # a "male" character in a woman's name, or the reverse
    g1 = rng.integers(0, 50, size=n)
    g2 = rng.integers(0, 50, size=n)
    lat_given = rng.integers(0, len(names.LATIN_GIVEN_MALE), size=n)
    lat_family = rng.integers(0, len(names.LATIN_FAMILY), size=n)
    family = np.empty(n, dtype=object)
    given = np.empty(n, dtype=object)
    family_latin = np.empty(n, dtype=object)
    given_latin = np.empty(n, dtype=object)
    for i in range(n):
        if chinese[i]:
            pool = names.FEMALE_GIVEN if bool(female[i]) != bool(cross[i]) else names.MALE_GIVEN
            fam = names.SURNAMES[sur[i]][0]
            giv = pool[g1[i]][0] + (pool[g2[i]][0] if two_chars[i] else "")
            family[i], given[i] = fam, giv
            family_latin[i], given_latin[i] = names.pinyin_of(fam, giv)
        else:
            pool_l = names.LATIN_GIVEN_FEMALE if female[i] else names.LATIN_GIVEN_MALE
            family[i] = family_latin[i] = names.LATIN_FAMILY[lat_family[i]]
            given[i] = given_latin[i] = pool_l[lat_given[i]]
    return family, given, family_latin, given_latin


def _national_ids(
    rng: np.random.Generator,
    chinese: BoolArray,
    female: BoolArray,
    birth: DateArray,
    birth_region: IntArray,
    nationality: IntArray,
) -> ObjArray:
    """18-digit GB 11643 numbers: region, birth date, sequence (odd for men), check digit."""
    n = len(chinese)
    y, m, d = month_parts(birth)
    prefixes = [
        REGIONS[birth_region[i]].code
        if chinese[i]
        else "9" + REGIONS[birth_region[i]].code[:2] + _NATIONALITY[nationality[i]]
        for i in range(n)
    ]
    dob = [f"{y[i]:04d}{m[i]:02d}{d[i]:02d}" for i in range(n)]
    parity = np.where(female, 0, 1)

    def sequences(size: int, par: IntArray) -> IntArray:
        # 001-999 with the last digit's parity telling the sex; 000 is never issued
        return np.asarray(rng.integers(1, 500, size=size) * 2 - 1 + (1 - par), dtype=np.int64)

    seq = sequences(n, parity)
    while True:
        first17 = [f"{prefixes[i]}{dob[i]}{seq[i]:03d}" for i in range(n)]
        _, first = np.unique(np.array(first17, dtype=object), return_index=True)
        dup = np.ones(n, dtype=bool)
        dup[first] = False
        if not dup.any():
            break
        seq[dup] = sequences(int(dup.sum()), parity[dup])
    digits = (
        np.frombuffer("".join(first17).encode("ascii"), dtype=np.uint8).reshape(n, 17) - 48
    ).astype(np.int64)
    checks = gb11643_check_digits(digits)
    return np.array([f + c for f, c in zip(first17, checks, strict=True)], dtype=object)


def _phones(rng: np.random.Generator, n: int) -> ObjArray:
    """Distinct mainland mobile numbers, 1[3-9] followed by nine digits."""
    second = rng.choice(np.arange(3, 10), size=n, p=[0.3, 0.1, 0.25, 0.05, 0.1, 0.1, 0.1])
    rest = unique_ints(rng, n, 0, 10**9)
    numbers = 10**10 + second * 10**9 + rest
    # distinct rests make distinct numbers; a collision of full numbers needs equal rests
    return np.array([str(v) for v in numbers.tolist()], dtype=object)


def generate_persons(
    rng: np.random.Generator,
    people: int,
    window: Window,
    *,
    twin_rate: float,
    second_phone_rate: float,
    mover_rate: float,
    surname_change_rate: float,
    links: ProtectedLinks | None = None,
    protected_rng: np.random.Generator | None = None,
) -> Persons:
    """The persons; ``links`` bend income, education and contacts by protected attribute,
    drawn from ``protected_rng`` (a stream apart, so the other draws do not move)."""
    n = people
    links = links or ProtectedLinks()
    chinese = rng.random(n) < 0.85
    female = rng.random(n) < 0.5
    ages = 18 + 57.99 * rng.beta(1.4, 1.9, size=n)
    birth = window.last - (ages * 365.2425).astype(np.int64).astype("timedelta64[D]")
    family, given, family_latin, given_latin = _names(rng, chinese, female)
    region_w = np.array([r.weight for r in REGIONS], dtype=np.float64)
    home = _choose(rng, len(REGIONS), n, region_w)
    birth_region = np.where(rng.random(n) < 0.65, home, _choose(rng, len(REGIONS), n, region_w))
    nationality = rng.integers(0, len(_NATIONALITY), size=n)

    latent = rng.standard_normal(n)
    twin_of = np.full(n, -1, dtype=np.int64)
    pairs = round(n * twin_rate / 2)
    candidates = np.flatnonzero(chinese)
    if pairs and len(candidates) >= 2 * pairs:
        picked = rng.choice(candidates, size=2 * pairs, replace=False)
        for a, b in zip(picked[:pairs].tolist(), picked[pairs:].tolist(), strict=True):
            twin_of[a], twin_of[b] = b, a
            family[b], family_latin[b] = family[a], family_latin[a]
            birth[b], birth_region[b], home[b] = birth[a], birth_region[a], home[a]
            latent[b] = 0.6 * latent[a] + 0.8 * latent[b]
            while given[b] == given[a]:
                g = names.FEMALE_GIVEN if female[b] else names.MALE_GIVEN
                given[b] = g[int(rng.integers(0, 50))][0] + g[int(rng.integers(0, 50))][0]
            family_latin[b], given_latin[b] = names.pinyin_of(family[b], given[b])
    twins = twin_of >= 0
    # The good side has the longer tail: the steadiest payers are further above the average
    # than the least reliable are below it (a standard normal, stretched above its median).
    latent = latent + GOOD_TAIL * np.maximum(latent, 0.0) ** 2

    national_id = _national_ids(rng, chinese, female, birth, birth_region, nationality)
    phone = _phones(rng, n)
    phone2 = np.full(n, None, dtype=object)
    has2 = rng.random(n) < second_phone_rate
    extra = _phones(rng, n)
    taken = set(phone.tolist())
    for i in np.flatnonzero(has2).tolist():
        if extra[i] not in taken:
            phone2[i] = extra[i]
            taken.add(extra[i])

    address = np.array([format_address(REGIONS[h], rng) for h in home.tolist()], dtype=object)
    for i in np.flatnonzero(twins).tolist():
        if i > twin_of[i]:
            address[i] = address[twin_of[i]]
    movers = (rng.random(n) < mover_rate) & ~twins
    prev_home = np.where(
        movers,
        np.where(rng.random(n) < 0.5, home, _choose(rng, len(REGIONS), n, region_w)),
        -1,
    )
    prev_address = np.full(n, None, dtype=object)
    for i in np.flatnonzero(movers).tolist():
        prev_address[i] = format_address(REGIONS[prev_home[i]], rng)
    moved_on = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    moved_on[movers] = window.random_days(rng, int(movers.sum()), lead=20, tail=20)

    changers = (rng.random(n) < surname_change_rate * np.where(female, 1.6, 0.4)) & ~twins
    prev_family = np.full(n, None, dtype=object)
    prev_family_latin = np.full(n, None, dtype=object)
    changed_on = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    changed_on[changers] = window.random_days(rng, int(changers.sum()), lead=20, tail=20)
    for i in np.flatnonzero(changers).tolist():
        prev_family[i], prev_family_latin[i] = family[i], family_latin[i]
        while family[i] == prev_family[i]:
            if chinese[i]:
                s = names.SURNAMES[int(rng.integers(0, 40))][0]
                family[i] = s
                family_latin[i] = names.pinyin_of(s, given[i])[0]
            else:
                family[i] = family_latin[i] = names.LATIN_FAMILY[
                    int(rng.integers(0, len(names.LATIN_FAMILY)))
                ]

    ethnicity, hukou = draw_protected(protected_rng or np.random.default_rng(0), chinese, links)
    age_years = (window.last - birth).astype(np.int64) / 365.2425
    log_income = (
        8.45 + 0.35 * latent + 0.3 * rng.standard_normal(n) - 0.0005 * (age_years - 42) ** 2
    ) + links.log_income_shift(female, ethnicity, hukou)
    income = np.round(np.exp(log_income), 0).astype(np.float64)
    edu_score = (
        0.9 * (log_income - 8.45) / 0.46
        + 0.5 * rng.standard_normal(n)
        + links.education_shift(ethnicity, hukou)
    )
    edu_idx = np.clip(np.digitize(edu_score, [-1.4, -0.5, 0.1, 1.0, 1.9]), 0, 5)
    education = np.array([EDUCATION[i] for i in edu_idx.tolist()], dtype=object)
    tier = np.clip(np.digitize(log_income, [8.2, 8.8]), 0, 2)
    occupation = np.empty(n, dtype=object)
    by_tier = {t: [o for o, ot in OCCUPATIONS if ot == t] for t in range(3)}
    employed = (rng.random(n) < calibrated(0.8 * latent, 0.82)) & (age_years < 62)
    employer = np.full(n, None, dtype=object)
    employed_months = np.zeros(n, dtype=np.int64)
    for i in range(n):
        if age_years[i] >= 62:
            occupation[i] = "retired"
        elif age_years[i] < 23 and rng.random() < 0.5:
            occupation[i] = "student"
        else:
            pool = by_tier[int(tier[i])]
            occupation[i] = pool[int(rng.integers(0, len(pool)))]
        if employed[i] and occupation[i] not in ("student", "retired", "farmer"):
            employer[i] = EMPLOYERS[int(rng.integers(0, len(EMPLOYERS)))]
            work_years = max(1.0, age_years[i] - 20)
            # steadier people stay longer: a share of the working years (up to 20), uniform
            # for an average person and tilted by creditworthiness
            stay = 1.0 / (1.0 + math.exp(-(1.2 * latent[i] + rng.logistic())))
            employed_months[i] = 1 + int(stay * min(work_years, 20) * 12)
    has_vehicle = rng.random(n) < np.clip((log_income - 7.9) / 2.0, 0.03, 0.7)
    vehicle = np.full(n, None, dtype=object)
    plate_chars = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
    for i in np.flatnonzero(has_vehicle).tolist():
        tail = "".join(plate_chars[int(k)] for k in rng.integers(0, len(plate_chars), size=5))
        vehicle[i] = REGIONS[home[i]].plate + tail

    uid = unique_ints(rng, n, 0, 10**12)
    return Persons(
        person_id=np.array([f"P{i + 1:07d}" for i in range(n)], dtype=object),
        chinese=chinese,
        female=female,
        birth=birth,
        family=family,
        given=given,
        family_latin=family_latin,
        given_latin=given_latin,
        prev_family=prev_family,
        prev_family_latin=prev_family_latin,
        name_changed_on=changed_on,
        national_id=national_id,
        birth_region=birth_region,
        phone=phone,
        phone2=phone2,
        home=home,
        address=address,
        prev_home=prev_home,
        prev_address=prev_address,
        moved_on=moved_on,
        latent=latent,
        income=income,
        twin_of=twin_of,
        alipay_uid=np.array([f"2088{v:012d}" for v in uid.tolist()], dtype=object),
        education=education,
        occupation=occupation,
        employer=employer,
        employed_months=employed_months,
        vehicle=vehicle,
        ethnicity=ethnicity,
        hukou=hukou,
        contact_rate=np.where(hukou == "rural", links.rural_contacts, 1.0),
        arrived_on=np.full(n, window.first, dtype="datetime64[D]"),
    )
