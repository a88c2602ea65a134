"""How sources get a person's identifiers wrong, at controlled and recorded rates.

Identity resolution is only tested by data that disagrees with itself in the ways real
sources do: a mistyped name, a blank phone, day and month swapped in a birth date, a second
phone, an old address, a name in pinyin here and Hanzi there. ``Identifiers`` renders one
batch of records' identifiers and tags every record with the noise applied to it; the
``NoiseLedger`` counts, per kind, how many records could have received it and how many did,
so the manifest states the realised rates next to the configured ones.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from credo.sim import names
from credo.sim.draws import IntArray
from credo.sim.persons import BoolArray, ObjArray, Persons
from credo.sim.places import REGIONS
from credo.sim.window import DateArray, month_parts

__all__ = ["Identifiers", "NoiseConfig", "NoiseLedger"]


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
        rows = self._apply(f"missing_{field_name}", present, self.config.missing_field)
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
        if typos:
            rows = self._apply("name_typo", np.ones(len(out), dtype=bool), self.config.name_typo)
            for r in rows.tolist():
                v = str(out[r])
                hanzi = style == "native" and bool(p.chinese[self.idx[r]])
                out[r] = names.hanzi_typo(v, self.rng) if hanzi else names.latin_typo(v, self.rng)
        return self._blank(out, "name") if missing else out

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
