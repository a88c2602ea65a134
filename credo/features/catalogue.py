"""The feature catalogue: every input of the monthly score, in words a person understands.

Each :class:`Feature` names its dimension (Zhima's five), says what it measures and which way is
better, and carries two pieces of SQL: the aggregate that computes it over a person's known
events, and the predicate that picks the events behind it (shown by ``explain``). Each feature
reads one event type (``events``): its aggregate sees one row per known, corrected event of that
type only, aliased ``k`` (:mod:`credo.features.sql` runs one pass per type), and ``outer`` turns
the per-person result into the feature, knowing that a person with no such events has no row.
The ``network`` features are computed from the contact graph instead (``n.<name>``).

Windows: recent behaviour is read over 12 or 24 months; negative items (defaults, unpaid bills,
damages) count back to the retention cut-off (7 years by default) and no further.

One module, over 400 lines, on purpose: the catalogue is one table of data (``CATALOGUE``, half
the file) with the few windows and predicates its rows share; a reader reviews it as one list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, get_args

from credo.features.pit import PointInTime
from credo.ingest.events import MerchantCategory
from credo.sql import Dialect

__all__ = [
    "CATALOGUE",
    "DELINQUENT_DAYS",
    "DIMENSIONS",
    "FIRST_EVENT",
    "Ctx",
    "Feature",
    "actionable",
    "feature",
]

#: Zhima's five dimensions, as named by credo.models.DIMENSIONS (kept equal by a test).
DIMENSIONS = ("credit_history", "behaviour", "fulfilment_capacity", "identity", "connections")
Direction = Literal["ascending", "descending", "none"]
#: An unpaid bill counts against a person once it is this many days past due (bureau practice).
DELINQUENT_DAYS = 30


@dataclass(frozen=True)
class Ctx:
    """Literals and helpers for one point in time in one dialect."""

    d: Dialect
    pit: PointInTime

    @property
    def as_of(self) -> str:
        return self.d.date(self.pit.as_of)

    @property
    def cutoff(self) -> str:
        return self.d.date(self.pit.retention_cutoff)

    def days_before(self, days: int) -> str:
        return self.d.date(self.pit.as_of - dt.timedelta(days=days))

    def since(self, months: int) -> str:
        """First day of the window of ``months`` months that ends on the as-of date."""
        return self.d.date(self.pit.since(months))

    def share(self, condition: str, of: str) -> str:
        """Share of the rows matching ``of`` that also match ``condition`` (NULL if none)."""
        one, zero = self.d.number("1.0"), self.d.number("0.0")
        return f"avg(CASE WHEN {of} THEN CASE WHEN {condition} THEN {one} ELSE {zero} END END)"

    def count(self, condition: str) -> str:
        return f"sum(CASE WHEN {condition} THEN 1 ELSE 0 END)"

    def latest(self, value: str, condition: str) -> str:
        """``value`` on the latest matching event (ties: the higher event id)."""
        return f"{self.d.latest(value, 'k.occurred_at', 'k.event_id')} FILTER (WHERE {condition})"

    def months_to_as_of(self, start: str) -> str:
        return self.d.months_between(start, self.as_of)

    def count_months(self, condition: str, timestamp: str) -> str:
        """Distinct calendar months of ``timestamp`` over the rows matching ``condition``, which
        must keep them within 63 months before the as-of month: one bit per month back from
        the as-of month, OR-ed, then counted. Equal to ``count(DISTINCT month)`` and far
        cheaper: ``count(DISTINCT CASE ...)`` hashes every row, matching or not."""
        as_of = self.pit.as_of.year * 12 + self.pit.as_of.month
        bit = self.d.shift_left("CAST(1 AS BIGINT)", f"{as_of} - {self.d.month_key(timestamp)}")
        return f"coalesce(bit_count(bit_or(CASE WHEN {condition} THEN {bit} END)), 0)"


Sql = Callable[[Ctx], str]
Outer = Callable[[Ctx, str], str]
#: The activity row's first known event of any type (``min(occurred_at)`` over every pass).
FIRST_EVENT = "a.first_event_at"


def _as_is(c: Ctx, value: str) -> str:
    return value


def _zero_if_none(c: Ctx, value: str) -> str:
    """Counts and sums: a person with no events of the type has none, not an unknown."""
    return f"coalesce({value}, 0)"


@dataclass(frozen=True)
class Feature:
    """``expression`` aggregates the rows of one event type (``events``) per person; ``outer``
    maps that aggregate (NULL for a person with no such event) to the feature's value."""

    name: str
    dimension: str
    description: str
    direction: Direction
    events: str
    expression: Sql
    evidence: Sql
    kind: Literal["numeric", "categorical"] = "numeric"
    block: Literal["activity", "network"] = "activity"
    outer: Outer = _as_is
    #: Whether "how to improve" may suggest it: an action the person can take. Who they are or
    #: how long they have been somewhere (education, tenure, file age), their means, and what
    #: their contacts did are not (issue 14, docs/decisions/0534).
    actionable: bool = True
    #: How long one of its events counts against the person: months after it (its due date for
    #: instalments), or "retention" (the policy's retention years); None: not a negative item.
    counts_months: int | Literal["retention"] | None = None


# -- the event sets features read (each within its feature's event type) ----------------------
def _instalments_24m(c: Ctx) -> str:
    return (
        f"k.loan_event = 'instalment' AND k.due_date >= {c.since(24)} AND k.due_date <= {c.as_of}"
    )


def _arrears_24m(c: Ctx) -> str:
    return (
        f"k.loan_event IN ('instalment', 'default')"
        f" AND k.due_date >= {c.since(24)} AND k.due_date <= {c.as_of}"
    )


def _every(c: Ctx) -> str:
    return "TRUE"


def _defaults_retained(c: Ctx) -> str:
    return f"k.loan_event = 'default' AND k.occurred_at >= {c.cutoff}"


def _last_12m(c: Ctx) -> str:
    return f"k.occurred_at >= {c.since(12)}"


def _last_24m(c: Ctx) -> str:
    return f"k.occurred_at >= {c.since(24)}"


def _file_months(c: Ctx, cap: int) -> str:
    """Calendar months the person's file has been open (first known event of any type), 1 to
    ``cap``: a share of months is taken over these, so a young file is not read as an irregular
    one."""
    one, months = c.d.number("1.0"), c.months_to_as_of(FIRST_EVENT)
    return f"least({c.d.number(f'{cap}.0')}, greatest({one}, {months} + {one}))"


def _rentals_retained(c: Ctx) -> str:
    return f"k.occurred_at >= {c.cutoff} AND k.unpaid_amount > 0"


def _household_bills_24m(c: Ctx) -> str:
    return (
        f"k.bill_kind IN ('utility', 'rent', 'phone')"
        f" AND k.due_date >= {c.since(24)} AND k.due_date < {c.as_of}"
    )


def _unpaid_bills(c: Ctx) -> str:
    """Bills 30+ days past due and unpaid on the as-of date: a bill a few days late at a
    month-end is paid by the next one, and counting it made the score swing both months."""
    return (
        f"k.due_date <= {c.days_before(DELINQUENT_DAYS)}"
        f" AND k.due_date >= {c.cutoff} AND (k.paid_date IS NULL OR k.paid_date > {c.as_of})"
    )


def _attribute(name: str) -> Sql:
    return lambda c: f"k.attribute = '{name}'"


def _added_12m(c: Ctx) -> str:
    return f"k.connection_action = 'added' AND k.occurred_at >= {c.since(12)}"


def _unpaid_at_as_of(c: Ctx) -> str:
    return f"(k.paid_date IS NULL OR k.paid_date > {c.as_of})"


def _days_past_due(c: Ctx) -> str:
    """Arrears as they stood on the as-of date: an unpaid instalment keeps ageing."""
    late = c.d.days_between("k.due_date", c.as_of)
    dpd = "coalesce(k.days_past_due, 0)"
    return f"CASE WHEN {_unpaid_at_as_of(c)} THEN greatest({dpd}, {late}) ELSE {dpd} END"


def _spend(condition: Sql, column: str = "k.amount") -> Sql:
    # Summed as exact decimals, cast once: a sum of doubles depends on the order in which
    # DuckDB's threads add their partial sums, and replays must match to the last bit.
    return lambda c: f"CAST(sum(CASE WHEN {condition(c)} THEN {column} END) AS DOUBLE)"


#: The merchant categories a loaded payment can carry (the ingest model's list).
MERCHANT_CATEGORIES: tuple[str, ...] = get_args(MerchantCategory)
#: Those given one bit each by :func:`_categories`. Not ``healthcare``: a feature whose SQL
#: names it reads health data (``credo.policy.bases.VALUE_BASES``) and training refuses it; its
#: payments (kept only where a profile allows health data) are counted with the off-list ones.
CATEGORY_BITS: tuple[str, ...] = tuple(v for v in MERCHANT_CATEGORIES if v != "healthcare")


def _categories(c: Ctx) -> str:
    """``count(DISTINCT merchant_category)`` over the last 12 months, exactly, without the
    distinct aggregate's hash of every payment (~1 CPU-s of the 2 of the payments pass at 10M
    events; docs/decisions/0980): the listed categories as one bit each, OR-ed and counted, plus
    the distinct values outside that list (an amendment's, a service's), collected apart."""
    window = _last_12m(c)
    bits = " ".join(f"WHEN {c.d.string(v)} THEN {1 << i}" for i, v in enumerate(CATEGORY_BITS))
    known = ", ".join(c.d.string(v) for v in CATEGORY_BITS)
    mask = f"coalesce(bit_count(bit_or(CASE WHEN {window} THEN CASE k.merchant_category {bits}"
    mask += " END END)), 0)"
    others = c.d.distinct_where(
        "k.merchant_category", f"{window} AND k.merchant_category NOT IN ({known})"
    )
    return f"CAST({mask} + {others} AS BIGINT)"


def _luxury_12m(c: Ctx) -> str:
    return f"{_last_12m(c)} AND k.merchant_category IN ('luxury', 'entertainment')"


def _regularity(c: Ctx, months: str) -> str:
    return f"least({c.d.number('1.0')}, coalesce({months}, 0) / {_file_months(c, 24)})"


CATALOGUE: tuple[Feature, ...] = (
    # -- credit history: loans and their repayment -------------------------------------------
    Feature(
        "instalments_on_time_share_24m",
        "credit_history",
        "share of loan instalments due in the last 24 months that you paid on time",
        "ascending",
        "loan",
        lambda c: c.share(
            f"coalesce(k.days_past_due, 0) = 0 AND NOT {_unpaid_at_as_of(c)}",
            _instalments_24m(c),
        ),
        _instalments_24m,
        counts_months=24,
    ),
    Feature(
        "worst_days_past_due_24m",
        "credit_history",
        "the most days a loan payment was overdue in the last 24 months",
        "descending",
        "loan",
        lambda c: f"max(CASE WHEN {_arrears_24m(c)} THEN {_days_past_due(c)} END)",
        _arrears_24m,
        counts_months=24,
    ),
    Feature(
        "months_since_oldest_account",
        "credit_history",
        "months since your oldest loan account was first reported",
        "ascending",
        "loan",
        lambda c: c.months_to_as_of("min(k.occurred_at)"),
        _every,
        actionable=False,
    ),
    Feature(
        "loan_defaults",
        "credit_history",
        "loans you defaulted on (counted for the retention period, 7 years by default)",
        "descending",
        "loan",
        lambda c: c.count(_defaults_retained(c)),
        _defaults_retained,
        outer=_zero_if_none,
        counts_months="retention",
    ),
    # -- behaviour and preferences: spending and rentals -------------------------------------
    Feature(
        "spending_regularity_24m",
        "behaviour",
        "share of the last 24 months (or of the months since your file opened, if fewer) in"
        " which you made payments",
        "ascending",
        "payment",
        lambda c: c.count_months(_last_24m(c), "k.occurred_at"),
        _last_24m,
        outer=_regularity,
    ),
    Feature(
        "spending_categories_12m",
        "behaviour",
        "number of different kinds of shops and services you paid in the last 12 months",
        "ascending",
        "payment",
        _categories,
        _last_12m,
        outer=_zero_if_none,
    ),
    Feature(
        "luxury_spending_share_12m",
        "behaviour",
        "share of your spending in the last 12 months on luxury goods and entertainment",
        "descending",
        "payment",
        lambda c: f"{_spend(_luxury_12m)(c)} / nullif({_spend(_last_12m)(c)}, 0)",
        _last_12m,
        counts_months=12,
    ),
    Feature(
        "rentals_returned_on_time_share_24m",
        "behaviour",
        "share of rentals (bikes, power banks, cars, ...) you returned on time in 24 months",
        "ascending",
        "rental",
        lambda c: c.share("k.returned_on_time", _last_24m(c)),
        _last_24m,
        counts_months=24,
    ),
    # -- fulfilment capacity: bills, damages, means -------------------------------------------
    Feature(
        "bills_paid_on_time_share_24m",
        "fulfilment_capacity",
        "share of utility, rent and phone bills due in the last 24 months you paid by the due date",
        "ascending",
        "bill",
        lambda c: c.share(
            f"k.paid_date IS NOT NULL AND k.paid_date <= k.due_date AND k.paid_date <= {c.as_of}",
            _household_bills_24m(c),
        ),
        _household_bills_24m,
        counts_months=24,
    ),
    Feature(
        "unpaid_bills",
        "fulfilment_capacity",
        "bills 30 or more days past their due date and still unpaid (within the retention period)",
        "descending",
        "bill",
        lambda c: c.count(_unpaid_bills(c)),
        _unpaid_bills,
        outer=_zero_if_none,
        counts_months="retention",
    ),
    Feature(
        "unpaid_partner_damages",
        "fulfilment_capacity",
        "amount you owe rental partners for damage or unpaid rentals (within the retention period)",
        "descending",
        "rental",
        _spend(_rentals_retained, "k.unpaid_amount"),
        _rentals_retained,
        outer=_zero_if_none,
        counts_months="retention",
    ),
    Feature(
        "monthly_spending_12m",
        "fulfilment_capacity",
        "your average monthly spending over the last 12 months",
        "ascending",
        "payment",
        _spend(_last_12m),
        _last_12m,
        outer=lambda c, v: f"coalesce({v}, 0) / {c.d.number('12.0')}",
        actionable=False,
    ),
    # -- identity characteristics -------------------------------------------------------------
    Feature(
        "identity_verified",
        "identity",
        "whether your identity was verified by a registry (1) or not (0)",
        "ascending",
        "attribute",
        lambda c: f"max(CASE WHEN {_attribute('verified_identity')(c)} THEN 1 ELSE 0 END)",
        _attribute("verified_identity"),
        outer=_zero_if_none,
    ),
    Feature(
        "education",
        "identity",
        "your highest education, as a registry reported it",
        "none",
        "attribute",
        lambda c: c.latest("k.attribute_value", _attribute("education")(c)),
        _attribute("education"),
        kind="categorical",
        actionable=False,
    ),
    Feature(
        "months_at_current_address",
        "identity",
        "months since a registry first reported your current address",
        "ascending",
        "attribute",
        lambda c: c.months_to_as_of(
            f"max(CASE WHEN {_attribute('address')(c)} THEN k.occurred_at END)"
        ),
        _attribute("address"),
        actionable=False,
    ),
    Feature(
        "months_with_employer",
        "identity",
        "months with your current employer",
        "ascending",
        "attribute",
        lambda c: (
            f"TRY_CAST({c.latest('k.attribute_value', _attribute('tenure')(c))} AS BIGINT)"
            f" + {c.months_to_as_of(c.latest('k.occurred_at', _attribute('tenure')(c)))}"
        ),
        _attribute("tenure"),
        actionable=False,
    ),
    # -- connections ----------------------------------------------------------------------------
    Feature(
        "contacts",
        "connections",
        "number of people in your contact list",
        "ascending",
        "connection",
        lambda c: "coalesce(n.contacts, 0)",
        _every,
        block="network",
    ),
    Feature(
        "contacts_mean_score_last_month",
        "connections",
        "the average score of your contacts last month",
        "ascending",
        "connection",
        lambda c: "n.contacts_mean_score_last_month",
        _every,
        block="network",
        actionable=False,
    ),
    Feature(
        "contacts_listed_share",
        "connections",
        "share of your contacts on the court's list of judgment defaulters",
        "descending",
        "connection",
        lambda c: "n.contacts_listed_share",
        _every,
        block="network",
        actionable=False,
    ),
    Feature(
        "contacts_added_12m",
        "connections",
        "contacts you added in the last 12 months",
        "none",
        "connection",
        lambda c: c.count(_added_12m(c)),
        _added_12m,
        outer=_zero_if_none,
    ),
)


def actionable(name: str) -> bool:
    """Whether "how to improve" may suggest ``name`` (a feature outside the catalogue may)."""
    return next((f.actionable for f in CATALOGUE if f.name == name), True)


def feature(name: str) -> Feature:
    for f in CATALOGUE:
        if f.name == name:
            return f
    raise KeyError(name)
