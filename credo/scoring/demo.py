"""``run_demo_scoring``: train on the loaded history, score the last months, summarise.

Called by ``credo demo`` after ingest and identity resolution. The demo generates
``HISTORY_MONTHS`` of history before the months it scores, of a steady population: files open
and users enrol in every month (credo.sim.arrivals, docs/decisions/0538). With that history,
training stacks up to ``VINTAGES`` monthly observation dates ending ``outcome_months`` before
the out-of-time holdout: the ``HOLDOUT_VINTAGES`` monthly observation dates ending
``outcome_months`` before the last month-end (their outcome windows observed, and all opening
after the last training outcome window closes: docs/decisions/0539). The scale is anchored on
the population of the last year's month-ends (``ANCHOR_MONTHS``), the persons it scores now,
not on a vintage a year older (docs/decisions/0537). The fit summary, in time and out of
time, is kept beside the model (docs/decisions/0536). With a history too short for an honest
holdout, the vintages end ``outcome_months`` before the last month-end and none is held out;
with a very short one, one observation date, the window shrinking to half the history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import duckdb

from credo.errors import InputError
from credo.features import months_before
from credo.policy.schema import LoadedPolicy, ScoringPolicy, load_policy
from credo.scoring.explain import explain_score
from credo.scoring.monthly import score
from credo.scoring.train import TrainingResult, train_model
from credo.store.db import Store
from credo.store.rows import one

__all__ = [
    "ANCHOR_MONTHS",
    "HISTORY_MONTHS",
    "HOLDOUT_VINTAGES",
    "DemoPlan",
    "DemoResult",
    "month_ends",
    "plan_demo",
    "run_demo_scoring",
    "summarise_demo",
    "train_demo",
]

#: Months generated before the scored ones, so the first scored month already has mature files.
HISTORY_MONTHS = 48
#: Observation months stacked for training (at most), and those held out after them.
VINTAGES = 36
HOLDOUT_VINTAGES = 3
#: Months before the last month-end whose populations anchor the scale: the last year's
#: month-ends (features only, no outcome needed; docs/decisions/0537).
ANCHOR_MONTHS = tuple(range(11, -1, -1))
#: Months of history a vintage needs before it (files old enough to be scored in full).
_MATURE = 6


@dataclass(frozen=True)
class DemoResult:
    model_id: str
    trained_as_of: dt.date
    outcome_months: int
    months: list[dt.date]
    observed_month: dt.date | None
    """The latest month-end scored whose outcome window is observed (the fairness audit's
    TPR, AUC and calibration need one): scored before ``months`` when it is earlier."""
    runs: list[str]
    persons: int
    bands: dict[str, int]
    share_below_550: float
    top_reasons: list[tuple[str, int]]
    example: dict[str, Any]
    vintages: list[dt.date]
    training_rows: int
    training_bads: int
    fit: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _month_end(day: dt.date) -> dt.date:
    following = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def month_ends(last: dt.date, months: int) -> list[dt.date]:
    """The ``months`` month-ends up to ``last`` (itself a month-end), oldest first."""
    return [_month_end(months_before(last, k)) for k in range(months - 1, -1, -1)]


def _training_plan(end: dt.date, history: int, outcome: int) -> tuple[dt.date, int, dt.date | None]:
    """The last observation date, how many monthly vintages end there, and the last of the
    ``HOLDOUT_VINTAGES`` out-of-time dates (``outcome`` months before ``end``, so every
    holdout outcome is observed).

    The holdout is honest: the last training date is ``outcome`` months before the first
    holdout date, so no training outcome window reaches into the holdout's
    (docs/decisions/0539)."""
    holdout = _month_end(months_before(end, outcome))
    last = 2 * outcome + HOLDOUT_VINTAGES - 1  # months from the last training date to ``end``
    vintages = min(VINTAGES, history - last - _MATURE + 1)
    if vintages >= 1:
        return _month_end(months_before(end, last)), vintages, holdout
    # Too short for an honest holdout: the vintages end at its date, and none is held out.
    return holdout, max(1, min(VINTAGES, history - outcome - _MATURE + 1)), None


@dataclass(frozen=True)
class DemoPlan:
    """What the demo trains and scores, read off the loaded events: the same for the whole
    demo and for its steps run one process at a time (``benchmarks/demo/steps.py``)."""

    policy: LoadedPolicy
    first: dt.date
    end: dt.date
    outcome_months: int
    trained_as_of: dt.date
    vintages: int
    holdout: dt.date | None
    scored: list[dt.date]
    observed: dt.date
    early: list[dt.date]
    """The observed month-end scored before ``scored`` (none if it is among them or before the
    events begin)."""

    @property
    def runs(self) -> list[dt.date]:
        """Every month-end scored, in the order the demo scores them (each run's trend looks
        back at the run before it)."""
        return self.early + self.scored


def plan_demo(store: Store, months: int = 12, *, policy: str = "zhima") -> DemoPlan:
    """The training dates and the month-ends to score, from the events loaded."""
    loaded = load_policy(policy)
    rules = loaded.policy
    assert isinstance(rules, ScoringPolicy)
    span = one(
        store.con,
        "SELECT min(occurred_at) AS first, max(occurred_at) AS last FROM events"
        " WHERE event_type <> 'correction'",
    )
    if span is None or span["first"] is None:
        raise InputError("no events to score: load a population first")
    first, last = span["first"].date(), span["last"].date()
    end = _month_end(last)
    if end != last:
        end = _month_end(months_before(end, 1))  # the last complete month
    history = (end.year - first.year) * 12 + end.month - first.month
    outcome = max(1, min(rules.outcome.months, history // 2))
    trained_as_of, vintages, holdout = _training_plan(end, history, outcome)
    scored = month_ends(end, months)
    observed = _month_end(months_before(end, rules.outcome.months))
    early = [observed] if observed < scored[0] and observed >= _month_end(first) else []
    return DemoPlan(
        loaded, first, end, outcome, trained_as_of, vintages, holdout, scored, observed, early
    )


def train_demo(store: Store, plan: DemoPlan) -> TrainingResult:
    """Train and register the demo's scorecard as ``plan`` says."""
    return train_model(
        store,
        plan.trained_as_of,
        policy=plan.policy,
        outcome_months=plan.outcome_months,
        vintages=plan.vintages,
        holdout=plan.holdout,
        holdout_vintages=HOLDOUT_VINTAGES,
        balance_vintages=True,
        anchor_dates=None
        if plan.holdout is None
        else [_month_end(months_before(plan.end, k)) for k in ANCHOR_MONTHS],
    )


def _top_reasons(con: duckdb.DuckDBPyConnection, run_id: str, k: int = 5) -> list[tuple[str, int]]:
    """The run's ``k`` most given reason codes with their counts, ties in the order the codes
    first appear (persons in id order, each one's codes in order): ``Counter.most_common``
    over the snapshots, counted in SQL (decision 0995)."""
    found = con.execute(
        "SELECT code, count(*) AS n FROM (SELECT row_number() OVER (ORDER BY person_id) AS rn,"
        "   unnest(reason_codes) AS code, unnest(range(len(reason_codes))) AS i"
        "   FROM score_snapshots WHERE run_id = ?)"
        " GROUP BY code ORDER BY n DESC, min({'rn': rn, 'i': i}) LIMIT ?",
        [run_id, k],
    ).fetchall()
    return [(str(code), int(n)) for code, n in found]


def summarise_demo(
    store: Store,
    plan: DemoPlan,
    trained: TrainingResult,
    runs: Sequence[tuple[dt.date, str]],
    *,
    example_person: str | None = None,
) -> DemoResult:
    """Bands, reasons and an explained person from the last run; ``runs`` are the (month-end,
    run id) of every run in ``plan.runs`` order, the early one included."""
    rules = plan.policy.policy
    assert isinstance(rules, ScoringPolicy)
    reported = list(runs)[len(plan.early) :]
    run = [reported[-1][1]]
    persons, below, first_person, first_explained = store.con.execute(
        "SELECT count(*), count(*) FILTER (WHERE score < ?), min(person_id),"
        " min(person_id) FILTER (WHERE len(reason_codes) > 0)"
        " FROM score_snapshots WHERE run_id = ?",
        [rules.calibration.score, *run],
    ).fetchall()[0]
    bands = dict(
        store.con.execute(
            "SELECT band, count(*) FROM score_snapshots WHERE run_id = ? GROUP BY band", run
        ).fetchall()
    )
    person = example_person or first_explained or first_person
    example = explain_score(store, person, plan.end).to_dict() if person else {}
    return DemoResult(
        model_id=trained.model.model_id,
        trained_as_of=plan.trained_as_of,
        outcome_months=plan.outcome_months,
        months=[as_of for as_of, _ in reported],
        observed_month=plan.observed if plan.early or plan.observed in plan.scored else None,
        runs=[run_id for _, run_id in reported],
        persons=persons,
        bands={b.name: bands.get(b.name, 0) for b in rules.bands},
        share_below_550=round(below / persons, 4) if persons else 0.0,
        top_reasons=_top_reasons(store.con, run[0]),
        example=example,
        vintages=trained.vintages,
        training_rows=trained.rows,
        training_bads=trained.bad_rows,
        fit=trained.fit,
    )


def run_demo_scoring(
    store: Store,
    months: int = 12,
    *,
    policy: str = "zhima",
    example_person: str | None = None,
    override_why: str | None = None,
) -> DemoResult:
    """Train, then score the last ``months`` month-ends, and first the month-end whose outcome
    window the events just cover (so the fairness audit has outcomes to measure TPR, AUC and
    calibration; decision 0908); ``override_why`` passes the fairness gate on the record if
    the card is flagged (the demo says why)."""
    plan = plan_demo(store, months, policy=policy)
    trained = train_demo(store, plan)
    runs = [
        score(store, m, trained.model, plan.policy, override_why=override_why) for m in plan.runs
    ]
    done = [(r.as_of, r.run_id) for r in runs]
    return summarise_demo(store, plan, trained, done, example_person=example_person)
