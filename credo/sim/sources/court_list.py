"""court_list: the list of dishonest judgment defaulters (CSV, the public query's field names).

Quirks: the field names of the SPC query API (RULES.md §2.3: iname, caseCode, cardNum, ...),
dates as 2026年03月05日, sex as 男/女, performance status as Chinese text. Here ``cardNum`` is
the full identity number (the public site masks it; the feed to credit agencies does not).
About 1.5% of persons are listed, more often those with low creditworthiness and those whose
bank loan defaulted. A listing that is later satisfied appears again as its own record
(same case number, status 全部已履行, a performance date), as the list publishes updates.
"""

from __future__ import annotations

import numpy as np

from credo.sim.context import Context, order_by
from credo.sim.draws import calibrated
from credo.sim.frame import SourceFrame
from credo.sim.places import REGIONS
from credo.sim.window import format_times

__all__ = ["CONDUCT", "LISTED_SHARE", "PERFORMANCE", "build"]

LISTED_SHARE = 0.015
PERFORMANCE = {"全部未履行": "listed", "部分未履行": "listed", "全部已履行": "satisfied"}
CONDUCT = (
    "有履行能力而拒不履行生效法律文书确定义务",
    "违反财产报告制度",
    "违反限制消费令",
    "以伪造证据、暴力、威胁等方法妨碍、抗拒执行",
    "以虚假诉讼、虚假仲裁或者以隐匿、转移财产等方法规避执行",
)
_PROVINCE_ABBR = {"11": "京", "31": "沪", "44": "粤", "51": "川", "33": "浙", "32": "苏",
                  "42": "鄂", "61": "陕", "41": "豫", "37": "鲁", "50": "渝"}  # fmt: skip


def build(ctx: Context) -> SourceFrame:
    rng = ctx.rng("court_list")
    p, w = ctx.persons, ctx.window
    defaulted = ctx.shared.get("defaulted", np.zeros(p.n, dtype=bool))
    listed_p = calibrated(-1.4 * p.latent + 2.5 * defaulted, LISTED_SHARE)
    person = np.flatnonzero(rng.random(p.n) < listed_p)
    k = len(person)
    filed = p.on_file(person, w.random_days(rng, k, tail=max(1, w.days // 5)), w)
    published = filed + rng.integers(0, 15, size=k).astype("timedelta64[D]")
    published = np.minimum(published, w.last)
    satisfied_p = calibrated(0.8 * p.latent[person], 0.3)
    later = published + rng.integers(10, 200, size=k).astype("timedelta64[D]")
    satisfied = (rng.random(k) < satisfied_p) & (later <= w.last)
    amount_fen = (np.round(rng.lognormal(np.log(40_000), 1.0, size=k)) * 100).astype(np.int64)
    performed_part = (rng.random(k) < 0.2) & ~satisfied

    year = [str(d) for d in format_times(filed, "%Y")]
    region = p.home[person]
    case = [
        f"({y}){_PROVINCE_ABBR[REGIONS[r].code[:2]]}{REGIONS[r].code[2:]}执{int(c)}号"
        for y, r, c in zip(year, region.tolist(), rng.integers(100, 9999, size=k), strict=True)
    ]
    gist = [
        f"({int(y) - 1}){_PROVINCE_ABBR[REGIONS[r].code[:2]]}{REGIONS[r].code[2:]}民初{int(c)}号"
        for y, r, c in zip(year, region.tolist(), rng.integers(100, 9999, size=k), strict=True)
    ]
    conduct = np.array(CONDUCT, dtype=object)[
        rng.choice(len(CONDUCT), size=k, p=[0.7, 0.1, 0.1, 0.05, 0.05])
    ]

    # one row per listing, one more per satisfied listing
    src = np.concatenate([np.arange(k), np.flatnonzero(satisfied)])
    is_update = np.concatenate([np.zeros(k, dtype=bool), np.ones(int(satisfied.sum()), dtype=bool)])
    row_published = np.where(is_update, later[src], published[src])
    order = order_by(row_published, src)
    src, is_update, row_published = src[order], is_update[order], row_published[order]
    who = person[src]
    n = len(src)
    status = np.where(
        is_update, "全部已履行", np.where(performed_part[src], "部分未履行", "全部未履行")
    )
    perform_date = np.where(is_update, later[src], np.datetime64("NaT"))
    performed = np.where(
        is_update, amount_fen[src], np.where(performed_part[src], amount_fen[src] // 4, 0)
    )

    def yuan(fen: np.ndarray) -> list[str]:
        return [f"{v // 100}.{v % 100:02d}" for v in fen.astype(np.int64).tolist()]

    ident = ctx.identifiers(who, row_published, rng)
    courts = [f"{REGIONS[r].city}{REGIONS[r].district}人民法院" for r in region[src].tolist()]
    return SourceFrame(
        source="court_list",
        file_name="dishonest.csv",
        format="csv",
        columns={
            "id": [
                str(7_100_000 + 17 * (ctx.first_row + j) + int(x))
                for j, x in enumerate(rng.integers(0, 17, size=n))
            ],
            "iname": ident.name("native", typos=False),
            "caseCode": [case[s] for s in src.tolist()],
            "age": p.age_on(who, w.end),
            "sex": np.where(ident.sex(), "女", "男"),
            "cardNum": ident.national_id(missing=False),
            "businessEntity": [""] * n,
            "courtName": courts,
            "areaName": [REGIONS[r].province or REGIONS[r].city for r in region[src].tolist()],
            "gistId": [gist[s] for s in src.tolist()],
            "gistUnit": courts,
            "duty": [f"偿还借款本金{v}元及利息" for v in yuan(amount_fen[src])],
            "dutyAmount": yuan(amount_fen[src]),
            "performance": status,
            "performedPart": yuan(performed),
            "unperformPart": yuan(amount_fen[src] - performed),
            "disruptTypeName": conduct[src],
            "regDate": format_times(filed[src], "%Y年%m月%d日"),
            "publishDate": format_times(row_published, "%Y年%m月%d日"),
            "performDate": format_times(perform_date.astype("datetime64[D]"), "%Y年%m月%d日"),
        },
        record_id="id",
        person=who.astype(np.int64),
        noise=ident.noise(),
    )
