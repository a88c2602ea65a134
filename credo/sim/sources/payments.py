"""alipay_payments: a wallet's transaction export (CSV, UTF-8).

Quirks: amounts in fen (integer), "YYYY/MM/DD HH:MM" times, ISO 18245 merchant category
codes that the mapping folds into Credo's categories, channel codes, the wallet's own user id
(2088...), phones sometimes written "+86 ...", and a free-text memo with commas and quotes.
Spending volume grows with income and is steadier for higher incomes (a gamma-mixed Poisson
count per month whose shape rises with income).
"""

from __future__ import annotations

import numpy as np

from credo.sim.context import Context, order_by
from credo.sim.frame import SourceFrame
from credo.sim.window import format_times

__all__ = ["CHANNELS", "MCC", "build"]

# category: (merchant category codes, share of transactions, typical amount in yuan)
MCC: dict[str, tuple[tuple[str, ...], float, float]] = {
    "grocery": (("5411", "5499"), 0.22, 60),
    "dining": (("5812", "5814"), 0.25, 45),
    "transport": (("4111", "4121", "5541"), 0.15, 18),
    "travel": (("4511", "4722", "7011"), 0.03, 900),
    "utilities": (("4900", "4814"), 0.04, 150),
    "education": (("8220", "8299"), 0.02, 600),
    "healthcare": (("8062", "5912"), 0.04, 180),
    "entertainment": (("7832", "7996"), 0.06, 90),
    "luxury": (("5944", "5681"), 0.01, 3500),
    "online_shopping": (("5964", "5969"), 0.14, 160),
    "charity": (("8398",), 0.01, 50),
    "other": (("5999", "7299"), 0.03, 80),
}
CHANNELS = {"QR": "qr", "APP": "online", "POS": "in_store", "CARD": "card", "TRANSFER": "transfer"}
_MERCHANTS = {
    "grocery": ("永辉超市", "盒马鲜生", "物美超市", "社区菜市场"),
    "dining": ("海底捞", "肯德基", "沙县小吃", "瑞幸咖啡", "喜茶"),
    "transport": ("滴滴出行", "地铁乘车码", "中国石化加油站"),
    "travel": ("中国国际航空", "携程旅行", "如家酒店"),
    "utilities": ("国家电网", "中国移动"),
    "education": ("新东方", "学而思"),
    "healthcare": ("人民医院", "大参林药房"),
    "entertainment": ("万达影城", "欢乐谷"),
    "luxury": ("周大福", "老凤祥"),
    "online_shopping": ("淘宝", "天猫", "拼多多"),
    "charity": ("壹基金", "中国扶贫基金会"),
    "other": ("便利店", "快递驿站"),
}
_MEMOS = ("生日礼物", "房租,三月", 'AA "聚餐"', "还钱", "红包", "代付, 谢谢")


def build(ctx: Context) -> SourceFrame:
    rng = ctx.rng("alipay_payments")
    p, w = ctx.persons, ctx.window
    users = np.flatnonzero(rng.random(p.n) < 0.92)
    rel_income = p.income[users] / np.median(ctx.everyone.income)
    rate = np.clip(2.0 * rel_income**0.5, 0.3, 10.0)  # transactions per month
    shape = 0.6 + 4.0 * np.clip(rel_income, 0.0, 2.0)  # regularity rises with income
    months = w.month_starts()
    lo = np.maximum(months, w.first)
    hi = np.minimum(np.append(months[1:], months[-1] + np.timedelta64(31, "D")), w.last + 1)
    span = (hi - lo).astype(np.int64)
    intensity = rng.gamma(shape[:, None], 1.0 / shape[:, None], size=(len(users), len(months)))
    counts = rng.poisson(rate[:, None] * intensity * (span / 30.44)[None, :])
    person = np.repeat(np.repeat(users, len(months)), counts.ravel())
    month = np.repeat(np.tile(np.arange(len(months)), len(users)), counts.ravel())
    days = lo[month] + (rng.random(len(month)) * span[month]).astype("timedelta64[D]")
    on_file = p.arrived(person, days)  # nothing before a person's file opens
    person, days = person[on_file], days[on_file]
    times = w.times_on(rng, days)

    order = order_by(times, person)
    person, times = person[order], times[order]
    n = len(person)
    cats = list(MCC)
    base = np.array([MCC[c][1] for c in cats])
    rich = np.clip(p.income[person] / np.median(ctx.everyone.income), 0.2, 8.0)
    # luxury and travel take a larger share of richer people's transactions
    tilt = np.array([1.0 if c not in ("luxury", "travel") else 0.0 for c in cats])
    weights = base[None, :] * np.where(tilt[None, :] == 1.0, 1.0, rich[:, None] ** 1.2)
    cum = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
    cat = np.minimum((cum < rng.random(n)[:, None]).sum(axis=1), len(cats) - 1)
    typical = np.array([MCC[c][2] for c in cats])[cat] * rich**0.35
    fen = np.maximum(100, np.round(typical * rng.lognormal(-0.25, 0.7, size=n) * 100))
    codes = [MCC[cats[c]][0] for c in cat.tolist()]
    pick = rng.integers(0, 6, size=n).tolist()
    mcc = [c[k % len(c)] for c, k in zip(codes, pick, strict=True)]
    merchants = [_MERCHANTS[cats[c]] for c in cat.tolist()]
    merchant = [m[k % len(m)] for m, k in zip(merchants, pick, strict=True)]
    chan_codes = np.array(list(CHANNELS), dtype=object)
    channel = chan_codes[rng.choice(5, size=n, p=[0.55, 0.1, 0.2, 0.1, 0.05])]
    channel[cat == cats.index("online_shopping")] = "APP"
    channel[cat == cats.index("charity")] = "TRANSFER"
    memo = np.full(n, "", dtype=object)
    with_memo = np.flatnonzero(rng.random(n) < 0.06)
    memo[with_memo] = np.array(_MEMOS, dtype=object)[rng.integers(0, len(_MEMOS), len(with_memo))]

    ident = ctx.identifiers(person, days[order], rng)
    day_text = format_times(times, "%Y%m%d")
    return SourceFrame(
        source="alipay_payments",
        file_name="payments.csv",
        format="csv",
        columns={
            "txn_id": [f"{d}22001{ctx.first_row + k + 1:015d}" for k, d in enumerate(day_text)],
            "txn_time": format_times(times, "%Y/%m/%d %H:%M"),
            "user_id": p.alipay_uid[person],
            "user_name": ident.name("native", missing=True),
            "user_mobile": ident.phone(variants=True),
            "amount_fen": fen.astype(np.int64),
            "mcc": mcc,
            "merchant_name": merchant,
            "channel": channel,
            "memo": memo,
        },
        record_id="txn_id",
        person=person.astype(np.int64),
        noise=ident.noise(),
    )
