"""bank_loans: a lender's account-event extract (Parquet, typed columns).

Quirks: upper-case bank column names, the event kind as a code (OPN, INS, DEF, CLS) from which
the mapping derives both the event type and the loan event, names in upper-case pinyin as
written at account opening (so a later surname change does not show, and some clerks wrote
the given name first), birth dates as "YYYYMMDD" text, sex as "1"/"2", amounts as
DECIMAL(18,2) and dates as Parquet dates.

Repayment follows the latent creditworthiness: the chance that a loan goes bad (three missed
instalments, then a charge-off 90 days after the first) and the chance of paying an
instalment late both fall with it. Bad loans go bad early in their life, as default curves
do: the first missed instalment falls at a Beta(1.2, 3) share of the term (a third within its
first 15%), so a new borrower's first months carry most of the risk. A missed instalment is
reported once it is 30 days past due, so arrears show on the file before the charge-off. Loans
opened before the window report only the instalments that fall inside it. In a steady
population (credo.sim.arrivals) a person's loans open after they arrive, and borrowers take
more loans over the years.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pyarrow as pa

from credo.sim.context import Context, order_by
from credo.sim.draws import calibrated
from credo.sim.frame import SourceFrame
from credo.sim.window import DateArray, add_months, format_times

__all__ = ["EVENT_CODES", "build"]

EVENT_CODES = {"OPN": "opened", "INS": "instalment", "DEF": "default", "CLS": "closed"}
_PRODUCTS = {  # product: (terms in months, principal as a multiple of monthly income)
    "CONSUMER": ((6, 12, 24, 36), 3.0),
    "CARD_INST": ((3, 6, 12), 0.8),
    "AUTO": ((36, 60), 15.0),
}
_EPOCH = dt.date(1970, 1, 1)
_REPORTED_AFTER = 30  # days past due at which a missed instalment is reported (first bucket)


def _day(d: dt.date) -> int:
    return (d - _EPOCH).days


def _dates(days: list[int | None]) -> DateArray:
    out = np.full(len(days), np.datetime64("NaT"), dtype="datetime64[D]")
    for k, d in enumerate(days):
        if d is not None:
            out[k] = np.datetime64(d, "D")
    return out


def build(ctx: Context) -> SourceFrame:
    rng = ctx.rng("bank_loans")
    p, w = ctx.persons, ctx.window
    z = p.latent
    borrower = rng.random(p.n) < (0.35 if ctx.arrivals is None else ctx.arrivals.borrowers)
    owners = np.sort(
        np.concatenate(
            [np.flatnonzero(borrower), np.flatnonzero(borrower & (rng.random(p.n) < 0.12))]
        )
    )
    if ctx.arrivals is not None:  # a steady population: borrowers keep borrowing
        borrowers = np.unique(owners)
        years = (w.last - p.arrived_on[borrowers]).astype(np.int64) / 365.25
        more = ctx.rng("bank_loans/arrivals").poisson(ctx.arrivals.loans_per_year * years)
        owners = np.sort(np.concatenate([owners, np.repeat(borrowers, more)]))
    arrived: list[dt.date] = p.arrived_on[owners].astype(object).tolist()
    loans = len(owners)
    rich = p.income[owners]
    product = np.where(
        (rich > 9000) & (rng.random(loans) < 0.25),
        "AUTO",
        np.where(rng.random(loans) < 0.6, "CONSUMER", "CARD_INST"),
    )
    term = np.array(
        [
            _PRODUCTS[str(pr)][0][int(k) % len(_PRODUCTS[str(pr)][0])]
            for pr, k in zip(product, rng.integers(0, 12, size=loans), strict=True)
        ]
    )
    multiple = np.array([_PRODUCTS[str(pr)][1] for pr in product])
    principal_fen = (
        np.round(rich * multiple * rng.lognormal(0.0, 0.4, size=loans) / 100) * 10_000
    ).astype(np.int64)
    apr = np.clip(0.12 - 0.03 * z[owners] + rng.normal(0, 0.01, size=loans), 0.04, 0.24)
    burden = np.log(principal_fen / 100 / (rich * term))
    p_bad = calibrated(-1.7 * z[owners] + 0.3 * burden, 0.07)
    bad = rng.random(loans) < p_bad
    p_late = calibrated(-1.3 * z[owners], 0.07)
    first_bad = (rng.beta(1.2, 3.0, size=loans) * term).astype(np.int64) + 1
    early = ~bad & (rng.random(loans) < 0.05)
    early_at = (rng.random(loans) * term).astype(np.int64) + 1

    start, end = _day(w.start), _day(w.end)
    ev_loan: list[int] = []
    ev_seq: list[int] = []
    ev_code: list[str] = []
    ev_day: list[int] = []
    ev_amount: list[int | None] = []
    ev_term: list[int | None] = []
    ev_due: list[int | None] = []
    ev_paid: list[int | None] = []
    ev_dpd: list[int | None] = []
    opened_day = np.zeros(loans, dtype=np.int64)
    defaulted = np.zeros(p.n, dtype=bool)

    def emit(
        loan: int,
        seq: int,
        code: str,
        day: int,
        amount: int | None,
        due: int | None = None,
        paid: int | None = None,
        dpd: int | None = None,
    ) -> None:
        if start <= day <= end:
            ev_loan.append(loan)
            ev_seq.append(seq)
            ev_code.append(code)
            ev_day.append(day)
            ev_amount.append(amount)
            ev_term.append(int(term[loan]) if code == "OPN" else None)
            ev_due.append(due)
            ev_paid.append(paid)
            ev_dpd.append(dpd)

    for i in range(loans):
        t = int(term[i])
        # opened up to a term before the window, or after the person's file opened
        earliest = arrived[i] if arrived[i] > w.start else add_months(w.start, 1 - t)
        span = max(1, (w.end - earliest).days - 10)
        opened = earliest + dt.timedelta(days=int(rng.integers(0, span)))
        opened_day[i] = _day(opened)
        instalment = round(principal_fen[i] * (1 + apr[i] * t / 12) / t)
        emit(i, 0, "OPN", _day(opened), int(principal_fen[i]))
        default_day = None
        if bad[i]:
            default_day = _day(add_months(opened, int(first_bad[i]))) + 90
        for k in range(1, t + 1):
            due = _day(add_months(opened, k))
            if due > end:
                break
            if default_day is not None and k >= first_bad[i]:
                if due >= default_day:
                    break
                post = min(due + _REPORTED_AFTER, end)  # as it is missed, not at the charge-off
                emit(i, k, "INS", post, instalment, due, None, post - due)
                continue
            dpd = 0
            if rng.random() < p_late[i]:
                dpd = int(rng.integers(30, 76)) if rng.random() < 0.12 else int(rng.geometric(0.15))
                dpd = min(dpd, 89)
            paid = due + dpd if dpd else due - int(rng.integers(0, 6))
            if paid > end:  # still unpaid when the extract was taken
                emit(i, k, "INS", end, instalment, due, None, end - due)
                continue
            emit(i, k, "INS", paid, instalment, due, paid, dpd)
            if k == t or (early[i] and k == early_at[i]):
                remaining = round(principal_fen[i] * (t - k) / t)
                emit(i, t + 1, "CLS", paid, remaining if k < t else None)
                break
        if default_day is not None and default_day <= end:
            outstanding = instalment * (t - int(first_bad[i]) + 1)
            due0 = _day(add_months(opened, int(first_bad[i])))
            emit(i, t + 2, "DEF", default_day, outstanding, due0, None, 90)
            if default_day >= start:
                defaulted[owners[i]] = True
    ctx.shared["defaulted"] = defaulted

    loan = np.array(ev_loan, dtype=np.int64)
    seq = np.array(ev_seq, dtype=np.int64)
    day = np.array(ev_day, dtype=np.int64).astype("datetime64[D]")
    code = np.array(ev_code, dtype=object)
    night = np.isin(code, ["INS", "DEF"])  # batch postings run at night
    hour = np.where(night, rng.integers(1, 5, size=len(loan)), rng.integers(9, 18, size=len(loan)))
    secs = hour * 3600 + rng.integers(0, 3600, size=len(loan))
    posted = day.astype("datetime64[s]") + secs.astype("timedelta64[s]")
    order = order_by(posted, loan, seq)
    loan, seq, code, posted = loan[order], seq[order], code[order], posted[order]
    ids = order.tolist()
    person = owners[loan]
    # numbers go on counting across slices of persons (credo.sim.context)
    first_loan = ctx.carry.get("bank_loans.loans", 0)
    ctx.carry["bank_loans.loans"] = first_loan + loans
    branch = [3000 + (int(o) + ctx.first_person) % 7 for o in person.tolist()]
    account = [
        f"LN{b}{first_loan + li + 1:09d}" for li, b in zip(loan.tolist(), branch, strict=True)
    ]
    # the name and birth date as the customer gave them when the account was opened
    ident = ctx.identifiers(person, opened_day[loan].astype("datetime64[D]"), rng)
    swapped = rng.random(loans) < ctx.config.pinyin_order_swap
    cust = rng.permutation(p.n)
    amounts = [None if ev_amount[k] is None else Decimal(ev_amount[k] or 0).scaleb(-2) for k in ids]
    birth = ident.birth()
    return SourceFrame(
        source="bank_loans",
        file_name="loans.parquet",
        format="parquet",
        columns={
            "REC_ID": [f"{a}-{s:03d}" for a, s in zip(account, seq.tolist(), strict=True)],
            "ACCT_NO": account,
            "EVT_CD": code,
            "POST_TS": posted,
            "CUST_NO": [
                f"C{int(cust[i]) + ctx.first_person + 10_000_001:09d}" for i in person.tolist()
            ],
            "CUST_NAME": ident.name("upper", swapped=swapped[loan]),
            "ID_NO": ident.national_id(missing=False),
            "BIRTH_DT": format_times(birth, "%Y%m%d"),
            "GENDER": np.where(ident.sex(), "2", "1"),
            "PRODUCT": product[loan],
            "PRINCIPAL": amounts,
            "TERM_M": [ev_term[k] for k in ids],
            "DUE_DT": _dates([ev_due[k] for k in ids]),
            "PAID_DT": _dates([ev_paid[k] for k in ids]),
            "DPD": [ev_dpd[k] for k in ids],
            "BRANCH": [str(b) for b in branch],
        },
        record_id="REC_ID",
        person=person.astype(np.int64),
        noise=ident.noise(),
        arrow_types={
            "REC_ID": pa.string(),
            "ACCT_NO": pa.string(),
            "EVT_CD": pa.string(),
            "POST_TS": pa.timestamp("ms"),
            "CUST_NO": pa.string(),
            "CUST_NAME": pa.string(),
            "ID_NO": pa.string(),
            "BIRTH_DT": pa.string(),
            "GENDER": pa.string(),
            "PRODUCT": pa.string(),
            "PRINCIPAL": pa.decimal128(18, 2),
            "TERM_M": pa.int32(),
            "DUE_DT": pa.date32(),
            "PAID_DT": pa.date32(),
            "DPD": pa.int32(),
            "BRANCH": pa.string(),
        },
    )
