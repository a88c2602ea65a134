"""city_utilities: a city's bill register (CSV in GB18030, Chinese headers).

Quirks: the file is GB18030, not UTF-8 (as exports from Chinese municipal systems are); the
headers are Chinese; dates are dd/mm/yyyy; the bill kind is a Chinese label (电费, 水费, 房租,
...) that the mapping folds into Credo's kinds; the paid date is empty while a bill is unpaid.
Punctuality follows the latent creditworthiness; the address is the one lived at when the
bill was issued, so movers show both.
"""

from __future__ import annotations

import numpy as np

from credo.sim.context import Context, order_by
from credo.sim.draws import calibrated
from credo.sim.frame import SourceFrame
from credo.sim.places import REGIONS
from credo.sim.window import DateArray, format_times, month_parts

__all__ = ["KINDS", "build"]

# label: (Credo bill kind, code in the bill number, share of persons, months between bills,
#         days from issue to due date, typical amount in yuan)
KINDS: dict[str, tuple[str, str, float, int, int, float]] = {
    "电费": ("utility", "E", 0.60, 1, 15, 120.0),
    "水费": ("utility", "W", 0.60, 2, 15, 60.0),
    "燃气费": ("utility", "G", 0.30, 1, 15, 70.0),
    "房租": ("rent", "R", 0.25, 1, 5, 0.0),  # rent scales with income instead
    "话费": ("phone", "T", 0.70, 1, 15, 80.0),
    "交通罚款": ("traffic_fine", "F", 0.0, 0, 15, 0.0),  # vehicle owners, at random
    "个人所得税": ("tax", "X", 0.10, 0, 30, 0.0),  # once, income based
}
_NOTES = ("", "", "", "", "预存抵扣", "分期", "已催缴")


def build(ctx: Context) -> SourceFrame:
    rng = ctx.rng("city_utilities")
    p, w = ctx.persons, ctx.window
    months = w.month_starts()
    household = rng.random(p.n)  # electricity and water go together
    person_parts: list[np.ndarray] = []
    label_parts: list[np.ndarray] = []
    issue_parts: list[DateArray] = []
    amount_parts: list[np.ndarray] = []
    for kind_label, (_kind, _code, share, every, due_in, typical) in KINDS.items():
        if every:
            holders = np.flatnonzero(
                (household if kind_label in ("电费", "水费") else rng.random(p.n)) < share
            )
            dom = rng.integers(1, 29, size=len(holders))
            phase = rng.integers(0, every, size=len(holders))
            m_idx = np.tile(np.arange(len(months)), len(holders))
            who = np.repeat(np.arange(len(holders)), len(months))
            keep = (m_idx + phase[who]) % every == 0
            m_idx, who = m_idx[keep], who[keep]
            issue = months[m_idx] + (dom[who] - 1).astype("timedelta64[D]")
            person = holders[who]
        elif kind_label == "交通罚款":
            drivers = np.flatnonzero(np.array([v is not None for v in p.vehicle.tolist()]))
            per_year = np.clip(0.5 - 0.3 * p.latent[drivers], 0.05, 1.5)
            counts = rng.poisson(per_year * w.months / 12)
            person = np.repeat(drivers, counts)
            issue = w.random_days(rng, len(person), tail=due_in)
        else:
            person = np.flatnonzero(rng.random(p.n) < share * w.months / 12)
            issue = w.random_days(rng, len(person), tail=due_in)
        ok = (issue >= w.first) & (issue + np.timedelta64(due_in, "D") <= w.last)
        ok &= p.arrived(person, issue)
        person, issue = person[ok], issue[ok]
        if kind_label == "房租":
            base = np.clip(p.income[person] * 0.3, 800, 12000)
        elif kind_label == "交通罚款":
            base = rng.choice([50.0, 100.0, 200.0], size=len(person))
        elif kind_label == "个人所得税":
            base = np.maximum(p.income[person] - 5000, 200) * 0.3
        else:
            _, m, _ = month_parts(issue)
            season = np.where(np.isin(m, [1, 2, 7, 8]), 1.5, 1.0) if kind_label == "电费" else 1.0
            base = typical * season * (p.income[person] / 6000) ** 0.3
        noisy = kind_label not in ("房租", "交通罚款")
        fen = np.round(base * (rng.lognormal(-0.1, 0.35, len(person)) if noisy else 1.0) * 100)
        person_parts.append(person)
        label_parts.append(np.full(len(person), kind_label, dtype=object))
        issue_parts.append(issue)
        amount_parts.append(np.maximum(fen, 100).astype(np.int64))

    person = np.concatenate(person_parts).astype(np.int64)
    label = np.concatenate(label_parts)
    issue = np.concatenate(issue_parts).astype("datetime64[D]")
    fen = np.concatenate(amount_parts)
    order = order_by(issue, person, label.astype(str))
    person, label, issue, fen = person[order], label[order], issue[order], fen[order]
    n = len(person)
    lag = np.array([KINDS[str(x)][4] for x in label.tolist()], dtype=np.int64)
    due = issue + lag.astype("timedelta64[D]")
    z = p.latent[person]
    late = rng.random(n) < calibrated(-1.3 * z, 0.10)
    unpaid = rng.random(n) < calibrated(-1.6 * z, 0.02)
    early = (rng.random(n) * lag).astype(np.int64) + 1
    overdue = rng.geometric(0.08, size=n)
    paid = np.where(
        late, due + overdue.astype("timedelta64[D]"), issue + early.astype("timedelta64[D]")
    )
    paid[unpaid | (paid > w.last)] = np.datetime64("NaT")

    ident = ctx.identifiers(person, issue, rng)
    month_text = format_times(issue, "%Y%m")
    codes = [KINDS[str(x)][1] for x in label.tolist()]
    region, _ = p.home_at(person, issue)
    office = [f"{REGIONS[r].city}{REGIONS[r].district}营业厅" for r in region.tolist()]
    return SourceFrame(
        source="city_utilities",
        file_name="bills.csv",
        format="csv",
        encoding="gb18030",
        columns={
            "账单编号": [
                f"{m}{c}{ctx.first_row + k + 1:09d}"
                for k, (m, c) in enumerate(zip(month_text, codes, strict=True))
            ],
            "类别": label,
            "户名": ident.name("native", missing=True),
            "联系电话": ident.phone(),
            "住址": ident.address(),
            "出账日期": format_times(issue, "%d/%m/%Y"),
            "应缴金额": [f"{v // 100}.{v % 100:02d}" for v in fen.tolist()],
            "缴费截止日": format_times(due, "%d/%m/%Y"),
            "缴费日期": format_times(paid, "%d/%m/%Y"),
            "营业厅": office,
            "备注": np.array(_NOTES, dtype=object)[rng.integers(0, len(_NOTES), size=n)],
        },
        record_id="账单编号",
        person=person,
        noise=ident.noise(),
    )
