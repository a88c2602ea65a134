"""How sources get a person's identifiers wrong, at controlled and recorded rates.

Identity resolution is only tested by data that disagrees with itself in the ways real
sources do: a mistyped name, a blank phone, day and month swapped in a birth date, a second
phone, an old address, a name in pinyin here and Hanzi there. ``Identifiers`` renders one
batch of records' identifiers and tags every record with the noise applied to it; the
``NoiseLedger`` counts, per kind, how many records could have received it and how many did,
so the manifest states the realised rates next to the configured ones.

``HARDNESS`` names three presets (``credo generate --identity-hardness``): *realistic* is the
default configuration, *easy* has less of everything, *hard* adds the phenomena that made
identity resolution fail on data nobody here generated (issue 19): namesakes with common
names, twins, names in the other script (pinyin in either order, with or without spaces),
married names, many records without id or phone, typos in dates as well as names. The knobs
*realistic* leaves at zero draw no random numbers, so its files are what they were.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from credo.sim import names
from credo.sim.draws import IntArray
from credo.sim.persons import BoolArray, ObjArray, Persons
from credo.sim.places import REGIONS
from credo.sim.window import DateArray, month_parts

__all__ = ["HARDNESS", "Hardness", "Identifiers", "NoiseConfig", "NoiseLedger", "add_namesakes"]


@dataclass(frozen=True)
class NoiseConfig:
    """Rates of identifier noise. Per-record rates apply to the records eligible for them."""

    name_typo: float = 0.02  # one character substituted or two transposed
    missing_field: float = 0.02  # each optional identifier left blank
    dob_day_month_swap: float = 0.02  # of dates whose day is 12 or less and differs from month
    phone_format_variant: float = 0.10  # "+86 138..." where the source allows it
    address_format_variant: float = 0.10  # province and city left out
    pinyin_order_swap: float = 0.10  # of bank accounts: given name written first
    second_phone_use: float = 0.5  # of records of a person who has a second phone
    # per person
    second_phone_persons: float = 0.05
    mover_persons: float = 0.08
    surname_change_persons: float = 0.01
    twin_persons: float = 0.005
    # harder identity phenomena (issue 19); zero in the realistic preset
    script_variant: float = 0.0  # of Chinese names: written in the other script
    dob_digit_typo: float = 0.0  # of dates: one digit mistyped (still a valid date)
    missing_contact: float = 0.0  # national id and phone blank, on top of missing_field
    namesake_persons: float = 0.0  # per person: another person's full name

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass
class NoiseLedger:
    eligible: dict[str, int] = field(default_factory=dict)
    applied: dict[str, int] = field(default_factory=dict)

    def note(self, kind: str, eligible: int, applied: int) -> None:
        self.eligible[kind] = self.eligible.get(kind, 0) + eligible
        self.applied[kind] = self.applied.get(kind, 0) + applied

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return {
            k: {
                "eligible": self.eligible[k],
                "applied": self.applied[k],
                "rate": round(self.applied[k] / self.eligible[k], 6) if self.eligible[k] else 0.0,
            }
            for k in sorted(self.eligible)
        }


Hardness = Literal["easy", "realistic", "hard"]

HARDNESS: dict[Hardness, NoiseConfig] = {
    "easy": NoiseConfig(
        name_typo=0.005, missing_field=0.005, dob_day_month_swap=0.005,
        phone_format_variant=0.05, address_format_variant=0.05, pinyin_order_swap=0.05,
        second_phone_persons=0.02, mover_persons=0.04, surname_change_persons=0.005,
        twin_persons=0.002,
    ),
    "realistic": NoiseConfig(),
    "hard": NoiseConfig(
        name_typo=0.05, missing_field=0.05, dob_day_month_swap=0.05,
        phone_format_variant=0.2, address_format_variant=0.2, pinyin_order_swap=0.3,
        second_phone_persons=0.1, mover_persons=0.15, surname_change_persons=0.04,
        twin_persons=0.03, script_variant=0.15, dob_digit_typo=0.01, missing_contact=0.25,
        namesake_persons=0.05,
    ),
}  # fmt: skip


def add_namesakes(persons: Persons, rate: float, rng: np.random.Generator) -> None:
    """Give a share ``rate`` of Chinese persons the full name of another Chinese person,
    drawn from the population (so common surnames and given names most often). Twins and
    persons who change their surname keep their own names."""
    p = persons
    chinese = np.flatnonzero(p.chinese)
    free = np.flatnonzero(p.chinese & (p.twin_of < 0) & np.isnat(p.name_changed_on))
    count = min(round(p.n * rate), len(free))
    if count == 0 or len(chinese) < 2:
        return
    takers = rng.choice(free, size=count, replace=False)
    givers = rng.choice(chinese, size=count)
    for i, j in zip(takers.tolist(), givers.tolist(), strict=True):
        if i != j:
            p.family[i], p.given[i] = p.family[j], p.given[j]
            p.family_latin[i], p.given_latin[i] = p.family_latin[j], p.given_latin[j]


NameStyle = Literal["native", "latin", "upper"]


class Identifiers:
    """Identifiers of one batch of records (person ``idx[k]`` seen on ``when[k]``), with noise."""

    def __init__(
        self,
        persons: Persons,
        idx: IntArray,
        when: DateArray,
        config: NoiseConfig,
        ledger: NoiseLedger,
        rng: np.random.Generator,
    ) -> None:
        self.persons = persons
        self.idx = idx
        self.when = when
        self.config = config
        self.ledger = ledger
        self.rng = rng
        self.tags: dict[int, list[str]] = {}  # row -> noise kinds; most rows have none

    def __len__(self) -> int:
        return len(self.idx)

    def tag(self, rows: IntArray, kind: str) -> None:
        for r in rows.tolist():
            self.tags.setdefault(r, []).append(kind)

    def noise(self) -> list[str]:
        out = [""] * len(self.idx)
        for r, kinds in self.tags.items():
            out[r] = ",".join(kinds)
        return out

    def _apply(self, kind: str, eligible: BoolArray, rate: float) -> IntArray:
        hit = eligible & (self.rng.random(len(self.idx)) < rate)
        rows = np.flatnonzero(hit).astype(np.int64)
        self.ledger.note(kind, int(eligible.sum()), len(rows))
        self.tag(rows, kind)
        return rows

    def _blank(self, values: ObjArray, field_name: str) -> ObjArray:
        present = np.array([v is not None for v in values.tolist()], dtype=bool)
        rate = self.config.missing_field
        if field_name in ("phone", "national_id"):
            rate += self.config.missing_contact
        rows = self._apply(f"missing_{field_name}", present, rate)
        values[rows] = None
        return values

    def name(
        self,
        style: NameStyle = "native",
        *,
        swapped: BoolArray | None = None,
        typos: bool = True,
        missing: bool = False,
    ) -> ObjArray:
        """Full names as of each record's date (a changed surname shows after the change)."""
        p = self.persons
        fam, fam_latin, old = p.family_at(self.idx, self.when)
        self.tag(np.flatnonzero(old).astype(np.int64), "previous_surname")
        if style == "native":
            out = p.native_name(fam, self.idx)
        else:
            out = p.latin_name(fam_latin, self.idx)
            if style == "upper":
                swap = swapped if swapped is not None else np.zeros(len(self.idx), dtype=bool)
                chinese = p.chinese[self.idx]
                out = np.array(
                    [
                        names.pinyin_upper(f, p.given_latin[i], bool(s)) if c else str(o).upper()
                        for f, i, s, c, o in zip(
                            fam_latin.tolist(),
                            self.idx.tolist(),
                            swap.tolist(),
                            chinese.tolist(),
                            out.tolist(),
                            strict=True,
                        )
                    ],
                    dtype=object,
                )
                rows = np.flatnonzero(swap & chinese).astype(np.int64)
                self.ledger.note("pinyin_order_swap", int(chinese.sum()), len(rows))
                self.tag(rows, "pinyin_order_swap")
        if self.config.script_variant > 0:
            out = self._other_script(out, style, fam, fam_latin)
        if typos:
            rows = self._apply("name_typo", np.ones(len(out), dtype=bool), self.config.name_typo)
            for r in rows.tolist():
                v = str(out[r])
                hanzi = style == "native" and bool(p.chinese[self.idx[r]])
                out[r] = names.hanzi_typo(v, self.rng) if hanzi else names.latin_typo(v, self.rng)
        return self._blank(out, "name") if missing else out

    def _other_script(
        self, out: ObjArray, style: NameStyle, fam: ObjArray, fam_latin: ObjArray
    ) -> ObjArray:
        """Chinese names in the other script: Hanzi where the source writes pinyin; pinyin
        where it writes Hanzi, family or given name first, with or without a space, in
        capitals or not."""
        p = self.persons
        rows = self._apply("script_variant", p.chinese[self.idx], self.config.script_variant)
        out = out.copy()
        for r in rows.tolist():
            i = int(self.idx[r])
            if style != "native":
                out[r] = str(fam[r]) + p.given[i]
                continue
            parts = [str(fam_latin[r]), str(p.given_latin[i])]
            flips = self.rng.random(3) < 0.5
            if flips[0]:
                parts.reverse()
            name = ("" if flips[1] else " ").join(parts)
            out[r] = name.upper() if flips[2] else name
        return out

    def phone(self, *, variants: bool = False, missing: bool = True) -> ObjArray:
        """The primary phone, or the second one for those who have it, sometimes as +86."""
        p = self.persons
        second = p.phone2[self.idx]
        has2 = np.array([v is not None for v in second.tolist()], dtype=bool)
        rows = self._apply("second_phone", has2, self.config.second_phone_use)
        out = p.phone[self.idx].copy()
        out[rows] = second[rows]
        if variants:
            rows = self._apply(
                "phone_format", np.ones(len(out), dtype=bool), self.config.phone_format_variant
            )
            for r in rows.tolist():
                out[r] = f"+86 {out[r]}" if r % 2 else f"+86-{out[r]}"
        return self._blank(out, "phone") if missing else out

    def birth(self, *, swaps: bool = True, missing: bool = True) -> DateArray:
        out = self.persons.birth[self.idx].copy()
        if swaps:
            y, m, d = month_parts(out)
            rows = self._apply(
                "dob_day_month_swap", (d <= 12) & (d != m), self.config.dob_day_month_swap
            )
            years = (y[rows] - 1970).astype("datetime64[Y]")
            out[rows] = (
                years.astype("datetime64[M]") + (d[rows] - 1).astype("timedelta64[M]")
            ).astype("datetime64[D]") + (m[rows] - 1).astype("timedelta64[D]")
        if swaps and self.config.dob_digit_typo > 0:
            rows = self._apply("dob_digit_typo", ~np.isnat(out), self.config.dob_digit_typo)
            for r in rows.tolist():
                out[r] = _digit_typo(out[r], self.rng)
        if missing:
            rows = self._apply(
                "missing_birth_date", np.ones(len(out), dtype=bool), self.config.missing_field
            )
            out[rows] = np.datetime64("NaT")
        return out

    def address(self, *, variants: bool = True, missing: bool = True) -> ObjArray:
        """The address lived at on the record's date (movers show the old one before)."""
        region, out = self.persons.home_at(self.idx, self.when)
        out = out.copy()
        if variants:
            rows = self._apply(
                "address_format", np.ones(len(out), dtype=bool), self.config.address_format_variant
            )
            for r in rows.tolist():
                reg = REGIONS[int(region[r])]
                out[r] = str(out[r]).removeprefix(reg.province).removeprefix(reg.city)
        return self._blank(out, "address") if missing else out

    def national_id(self, *, missing: bool = True) -> ObjArray:
        out = self.persons.national_id[self.idx].copy()
        return self._blank(out, "national_id") if missing else out

    def sex(self) -> BoolArray:
        """Whether each record's person is female."""
        return np.asarray(self.persons.female[self.idx], dtype=bool)


def _digit_typo(day: np.datetime64, rng: np.random.Generator) -> np.datetime64:
    """The date with one digit of its ``YYYYMMDD`` changed, still a valid date."""
    text = str(day).replace("-", "")
    while True:
        pos = int(rng.integers(2, 8))
        digit = str(int(rng.integers(0, 10)))
        typed = text[:pos] + digit + text[pos + 1 :]
        if typed == text:
            continue
        try:
            return np.datetime64(dt.date(int(typed[:4]), int(typed[4:6]), int(typed[6:])), "D")
        except ValueError:
            continue
