"""rental_partners: rental outcomes reported by several partners (JSON Lines, camelCase keys).

Quirks: one file from six partners; item codes of their own ("powerbank"); deposit as
FREE/PAID, returned on time as Y/N, damage as 0/1, unpaid amounts in yuan as JSON numbers,
ISO times without a zone. Whether the deposit was waived, the item came back on time or
damaged, and whether damage stayed unpaid all follow the latent creditworthiness.

This source also carries the deliberately invalid rows (about 0.2% of rows, at least one of
each kind): a negative unpaid amount, an unknown item ("scooter"), an impossible date and a
date in the future. The manifest lists them; a loader must quarantine exactly these.
"""

from __future__ import annotations

import numpy as np

from credo.sim.context import Context, order_by
from credo.sim.draws import calibrated
from credo.sim.frame import InvalidRow, SourceFrame
from credo.sim.places import REGIONS
from credo.sim.window import format_times

__all__ = ["INVALID_KINDS", "INVALID_RATE", "ITEMS", "build"]

# item code: (Credo item, partner, rentals per person-month, minutes (min, max),
#             unpaid amount range in yuan when it is not settled)
ITEMS: dict[str, tuple[str, str, float, tuple[int, int], tuple[float, float]]] = {
    "bike": ("bike", "hellobike", 0.25, (5, 60), (2.0, 60.0)),
    "powerbank": ("power_bank", "jiedian", 0.10, (30, 300), (99.0, 99.0)),
    "umbrella": ("umbrella", "mosi", 0.03, (60, 1440), (39.0, 39.0)),
    "hotel": ("hotel", "huazhu", 0.04, (1440, 5760), (100.0, 900.0)),
    "car": ("car", "evcard", 0.02, (120, 4320), (150.0, 3000.0)),
    "camera": ("camera", "zuji", 0.01, (2880, 10080), (200.0, 2500.0)),
}
INVALID_RATE = 0.002
INVALID_KINDS = ("negative_unpaid_amount", "unknown_item", "malformed_date", "future_date")


def build(ctx: Context) -> SourceFrame:
    rng = ctx.rng("rental_partners")
    p, w = ctx.persons, ctx.window
    codes = list(ITEMS)
    scale = (p.income / np.median(ctx.everyone.income)) ** 0.3 * w.months
    counts = rng.poisson(np.array([ITEMS[c][2] for c in codes])[None, :] * scale[:, None])
    person = np.repeat(np.repeat(np.arange(p.n), len(codes)), counts.ravel())
    item = np.repeat(np.tile(np.arange(len(codes)), p.n), counts.ravel())
    lo = np.array([ITEMS[c][3][0] for c in codes])[item]
    hi = np.array([ITEMS[c][3][1] for c in codes])[item]
    start = w.times_on(rng, w.random_days(rng, len(person)))
    minutes = lo + (rng.random(len(person)) * (hi - lo + 1)).astype(np.int64)
    end = start + (minutes * 60).astype("timedelta64[s]")
    ok = (end <= w.last_second) & p.arrived(person, start.astype("datetime64[D]"))
    person, item, start, end = person[ok], item[ok], start[ok], end[ok]
    order = order_by(end, person)
    person, item, start, end = person[order], item[order], start[order], end[order]
    n = len(person)

    z = p.latent[person]
    waived = rng.random(n) < calibrated(1.5 * z, 0.6)
    on_time = rng.random(n) < calibrated(1.0 * z, 0.93)
    damaged = rng.random(n) < calibrated(-0.7 * z, 0.015)
    unsettled = (~on_time | damaged) & (rng.random(n) < calibrated(-1.2 * z, 0.3))
    u_lo = np.array([ITEMS[c][4][0] for c in codes])[item]
    u_hi = np.array([ITEMS[c][4][1] for c in codes])[item]
    unpaid_fen = np.where(unsettled, np.round((u_lo + rng.random(n) * (u_hi - u_lo)) * 100), 0)

    item_code = np.array(codes, dtype=object)[item]
    partner = np.array([ITEMS[c][1] for c in codes], dtype=object)[item]
    end_text = format_times(end, "%Y-%m-%dT%H:%M:%S")
    unpaid: list[float] = [v / 100 for v in unpaid_fen.astype(np.int64).tolist()]
    order_no = [f"{partner[k][:2].upper()}{ctx.first_row + k + 1:010d}" for k in range(n)]

    invalid: list[InvalidRow] = []
    if n >= 20:
        k_bad = max(len(INVALID_KINDS), round(INVALID_RATE * n))
        rows = np.sort(rng.choice(n, size=k_bad, replace=False))
        for j, r in enumerate(rows.tolist()):
            kind = INVALID_KINDS[j % len(INVALID_KINDS)]
            if kind == "negative_unpaid_amount":
                unpaid[r] = -round(float(rng.uniform(5, 50)), 2)
                column, field, value = "unpaidYuan", "unpaid_amount", repr(unpaid[r])
                reason = "money must not be negative"
            elif kind == "unknown_item":
                item_code[r], partner[r] = "scooter", "hellobike"
                column, field, value = "item", "item", "scooter"
                reason = "not a known rental item"
            elif kind == "malformed_date":
                t = str(end_text[r])
                end_text[r] = f"{t[:4]}-02-30{t[10:]}"
                column, field, value = "endTime", "occurred_at", str(end_text[r])
                reason = "not a valid date"
            else:
                t = str(end_text[r])
                end_text[r] = f"2099{t[4:]}"
                column, field, value = "endTime", "occurred_at", str(end_text[r])
                reason = "date in the future"
            invalid.append(InvalidRow(r + 1, order_no[r], field, column, value, reason))

    ident = ctx.identifiers(person, end.astype("datetime64[D]"), rng)
    region, _ = p.home_at(person, start.astype("datetime64[D]"))
    return SourceFrame(
        source="rental_partners",
        file_name="orders.jsonl",
        format="jsonl",
        columns={
            "orderNo": order_no,
            "partner": partner,
            "item": item_code,
            "mobile": ident.phone(missing=False),
            "realName": ident.name("native", missing=True),
            "startTime": format_times(start, "%Y-%m-%dT%H:%M:%S"),
            "endTime": end_text,
            "depositMode": np.where(waived, "FREE", "PAID").astype(object),
            "onTime": np.where(on_time, "Y", "N").astype(object),
            "damaged": damaged.astype(np.int64),
            "unpaidYuan": unpaid,
            "city": [REGIONS[r].city for r in region.tolist()],
        },
        record_id="orderNo",
        person=person.astype(np.int64),
        noise=ident.noise(),
        invalid=invalid,
    )
