"""civic_conduct: conduct records for a points regime, Suining style (CSV, ';'-delimited).

Quirks: column names are pinyin initials, as in many Chinese government exports
(jlbh 记录编号, xm 姓名, sfzh 身份证号, xwlb 行为类别, mtbd 媒体报道, rdjg 认定机关, wh 文号,
rdrq 认定日期, bz 备注);
a semicolon delimiter; the conduct category and "reported by media" (是/否) in Chinese;
dates as YYYYMMDD. Records are rare (a few percent of persons), commoner in Suining, the
pilot city; good deeds lean to the creditworthy and convictions the other way — the
regime's premise, which Credo's fairness audits exist to question.
"""

from __future__ import annotations

import numpy as np

from credo.sim.context import Context, order_by
from credo.sim.draws import calibrated
from credo.sim.frame import SourceFrame
from credo.sim.places import REGIONS
from credo.sim.window import format_times

__all__ = ["KINDS", "build"]

# label: (Credo conduct kind, share of persons with one in a year, latent slope, department,
#         its abbreviation in document numbers, share reported by media)
KINDS: dict[str, tuple[str, float, float, str, str, float]] = {
    "赡养老人": ("elder_care", 0.012, 0.5, "民政局", "民", 0.10),
    "扶贫济困": ("helping_poor", 0.010, 0.5, "民政局", "民", 0.40),
    "志愿服务": ("volunteering", 0.015, 0.4, "精神文明建设办公室", "文明", 0.10),
    "无偿献血": ("blood_donation", 0.008, 0.2, "中心血站", "血", 0.0),
    "醉酒驾驶": ("drunk_driving", 0.004, -0.6, "公安局交通警察支队", "公交", 0.05),
    "行贿": ("bribery", 0.001, -0.6, "纪律检查委员会", "纪", 0.20),
    "诈骗": ("fraud", 0.001, -1.0, "人民法院", "法", 0.10),
    "交通违法": ("traffic_violation", 0.015, -0.4, "公安局交通警察支队", "公交", 0.0),
}
_NOTES = ("", "", "", "经核实;已公示", "群众举报", "社区推荐")


def build(ctx: Context) -> SourceFrame:
    rng = ctx.rng("civic_conduct")
    p, w = ctx.persons, ctx.window
    suining = np.array([REGIONS[r].city == "遂宁市" for r in p.home.tolist()])
    person_parts, label_parts = [], []
    for kind_label, (_kind, share, slope, *_rest) in KINDS.items():
        logit = slope * p.latent + 1.0 * suining
        hit = rng.random(p.n) < calibrated(logit, min(0.5, share * w.months / 12))
        person_parts.append(np.flatnonzero(hit))
        label_parts.append(np.full(int(hit.sum()), kind_label, dtype=object))
    person = np.concatenate(person_parts).astype(np.int64)
    label = np.concatenate(label_parts)
    day = w.random_days(rng, len(person))
    order = order_by(day, person, label.astype(str))
    person, label, day = person[order], label[order], day[order]
    n = len(person)

    media = np.array([KINDS[str(x)][5] for x in label.tolist()]) > rng.random(n)
    region, _ = p.home_at(person, day)
    dept = [KINDS[str(x)][3] for x in label.tolist()]
    authority = [
        f"{REGIONS[r].city}{d}"
        if d in ("公安局交通警察支队", "中心血站")
        else f"{REGIONS[r].city}{REGIONS[r].district}{d}"
        for r, d in zip(region.tolist(), dept, strict=True)
    ]
    years = format_times(day, "%Y")
    refs = [
        f"{REGIONS[r].city[0]}{KINDS[str(x)][4]}〔{y}〕{int(k)}号"
        for r, x, y, k in zip(
            region.tolist(), label.tolist(), years, rng.integers(1, 400, size=n), strict=True
        )
    ]
    ident = ctx.identifiers(person, day, rng)
    return SourceFrame(
        source="civic_conduct",
        file_name="conduct.csv",
        format="csv",
        delimiter=";",
        columns={
            "jlbh": [f"XY{y}{ctx.first_row + k + 1:07d}" for k, y in enumerate(years)],
            "xm": ident.name("native"),
            "sfzh": ident.national_id(missing=False),
            "xwlb": label,
            "mtbd": np.where(media, "是", "否").astype(object),
            "rdjg": authority,
            "wh": refs,
            "rdrq": format_times(day, "%Y%m%d"),
            "bz": np.array(_NOTES, dtype=object)[rng.integers(0, len(_NOTES), size=n)],
        },
        record_id="jlbh",
        person=person,
        noise=ident.noise(),
    )
