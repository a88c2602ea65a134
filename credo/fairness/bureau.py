"""The audit of the bureau's own monthly scores, at every product cut (SPEC S11, issue 18 item 3).

``credo fairness --as-of DATE`` audits the snapshots of that month-end's scoring run: the scores
a partner's decision would have used, against the protected attributes loaded with
``credo fairness --load-protected`` and read (audited) through :func:`read_protected_columns`.
The cuts are every rule floor of the products file. Outcomes are the scoring policy's own (a
default or 90+ days past due within the outcome window): where the window after the month is
not yet observed, approval figures and ratios stand alone and the outcome figures are left
empty; ``credo fairness --as-of observed`` audits the latest scored month whose window is
observed (:func:`observed_month`), where true-positive rates, AUC within group and calibration
appear.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np

from credo.errors import CredoError, InputError, NotFoundError
from credo.fairness.audit import Audit, AuditSettings, audit_scores
from credo.fairness.gate import gate, product_cuts
from credo.fairness.inputs import MISSING, CutSpec
from credo.fairness.protected import (
    ProtectedColumn,
    protected_loaded,
    read_protected_columns,
)
from credo.features import PointInTime, months_before, outcome_sql
from credo.models.table import ScorecardModel
from credo.policy.products import ProductsPolicy, load_products
from credo.policy.schema import LoadedPolicy, Outcome, ScoringPolicy, load_policy
from credo.store.audit import AuditEntry
from credo.store.db import Store
from credo.store.rows import one, rows

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "MonthScores",
    "audit_month",
    "gate_run",
    "gate_snapshots",
    "month_scores",
    "observed_month",
    "release_report",
    "release_reports",
    "search_alternatives",
]

ALTERNATIVES_SAMPLE = 5000
"""Rows the release's search for less discriminatory alternatives refits on at most: each
refit of the card is linear in the rows, and the search refits it a few dozen times."""


@dataclass(frozen=True)
class MonthScores:
    """One month's monthly run: the scores, in person id order (``_PERSONS`` gives each
    person's position), and the card that made them. The persons stay in the database: no
    Python string per person (decision 0994)."""

    run_id: str
    as_of: dt.date
    scores: np.ndarray
    """The published scores: what a partner's product compares with its cut (caps included)."""
    model_scores: np.ndarray
    """The card's own scores, before caps: their implied bad rate is the card's prediction."""
    model: ScorecardModel
    policy_name: str


def month_scores(store: Store, as_of: dt.date) -> MonthScores:
    """The latest monthly run at ``as_of`` made by a scorecard (not a points regime)."""
    run = one(
        store.con,
        "SELECT r.run_id, r.policy_name, m.document FROM score_runs r"
        " JOIN models m ON m.model_id = r.model_id"
        " WHERE r.kind = 'monthly' AND r.as_of = ? ORDER BY r.seq DESC LIMIT 1",
        [as_of],
    )
    if run is None:
        raise NotFoundError(
            f"no monthly scoring run at {as_of}",
            hint=f"run 'credo score --as-of {as_of}' first, or pick a month that was scored",
        )
    snaps = store.con.execute(
        "SELECT score, coalesce(model_score, score) AS model_score FROM score_snapshots"
        " WHERE run_id = ? ORDER BY person_id",
        [run["run_id"]],
    ).fetchnumpy()
    if not len(snaps["score"]):
        raise InputError(f"the scoring run of {as_of} scored nobody; nothing to audit")
    return MonthScores(
        run_id=str(run["run_id"]),
        as_of=as_of,
        scores=np.asarray(snaps["score"], dtype=np.float64),
        model_scores=np.asarray(snaps["model_score"], dtype=np.float64),
        model=ScorecardModel.from_json(str(run["document"]), source=f"model of {run['run_id']}"),
        policy_name=str(run["policy_name"]),
    )


_PERSONS = (
    "SELECT person_id, row_number() OVER (ORDER BY person_id) - 1 AS pos"
    " FROM score_snapshots WHERE run_id = ?"
)
"""A run's persons with their positions in :class:`MonthScores` (person id order)."""


def _outcome_rules(policy_name: str) -> tuple[Outcome, int]:
    """The scoring policy's outcome definition and retention (the defaults for a policy no
    longer shipped)."""
    try:
        policy = load_policy(policy_name).policy
    except CredoError:
        policy = None
    if isinstance(policy, ScoringPolicy):
        return policy.outcome, policy.retention_years
    return Outcome(), 7


def _last_event(store: Store) -> tuple[dt.date, dt.datetime] | None:
    seen = one(store.con, "SELECT max(occurred_at) AS last, max(recorded_at) AS known FROM events")
    if seen is None or seen["last"] is None:
        return None
    return seen["last"].date(), seen["known"]


def _window(as_of: dt.date, outcome: Outcome, last: tuple[dt.date, Any] | None) -> dict[str, Any]:
    """The outcome window after ``as_of`` (``report.json``'s ``outcome_window``): its length in
    months, the day it ends, and whether the events held (``last``) reach that day."""
    ends = months_before(as_of, -outcome.months)
    return {
        "months": outcome.months,
        "ends": ends.isoformat(),
        "observed": last is not None and last[0] >= ends,
    }


def observed_month(store: Store) -> dt.date:
    """The latest month-end with a monthly scorecard run whose outcome window is observed in
    full: the month whose audit has true-positive rates, AUC within group and calibration."""
    runs = rows(
        store.con,
        "SELECT DISTINCT as_of, policy_name FROM score_runs"
        " WHERE kind = 'monthly' AND model_id IS NOT NULL ORDER BY as_of DESC",
    )
    if not runs:
        raise NotFoundError("no monthly scoring run to audit", hint="run 'credo score' first")
    last = _last_event(store)
    outcomes = {name: _outcome_rules(name)[0] for name in {str(r["policy_name"]) for r in runs}}
    for run in runs:
        if _window(run["as_of"], outcomes[str(run["policy_name"])], last)["observed"]:
            return dt.date.fromisoformat(str(run["as_of"]))
    first = runs[-1]
    window = _window(first["as_of"], outcomes[str(first["policy_name"])], last)
    raise NotFoundError(
        f"no scored month has its outcome window observed: the earliest, {first['as_of']},"
        f" needs events up to {window['ends']} ({window['months']} months after it)",
        hint="score an earlier month-end (credo score --as-of D), or audit without outcomes",
    )


def _outcomes(store: Store, month: MonthScores) -> tuple[np.ndarray | None, dict[str, Any]]:
    """Each person's good (True) or bad, when the policy's outcome window after the month has
    been observed in full (``None`` before then); and the window."""
    outcome, retention = _outcome_rules(month.policy_name)
    last = _last_event(store)
    window = _window(month.as_of, outcome, last)
    if last is None or not window["observed"]:
        return None, window
    pit = PointInTime(month.as_of, last[1], retention)
    sql = outcome_sql(pit, outcome.months, min_days_past_due=outcome.min_days_past_due)
    good = np.ones(len(month.scores), dtype=np.bool_)
    bad = store.con.execute(
        f"SELECT w.pos FROM ({_PERSONS}) w JOIN ({sql}) o USING (person_id) WHERE o.bad = 1",
        [month.run_id],
    ).fetchnumpy()["pos"]
    good[np.asarray(bad, dtype=np.int64)] = False
    return good, window


def _labels(column: ProtectedColumn) -> np.ndarray:
    """Each person's group: their value, ``MISSING`` where none is held or it is blank; as
    wide a string array as its longest label (what ``np.array`` of the labels gives)."""
    labels = np.array([v or MISSING for v in column.values] + [MISSING], dtype=object)
    picked: np.ndarray = labels[column.codes].astype(np.str_)  # code -1 is the last: MISSING
    return picked


_WANTED = "_fairness_persons"


def _groups(store: Store, persons: Any, purpose: str) -> dict[str, np.ndarray]:
    """Each protected attribute's groups (:func:`_labels`) for ``persons``: an Arrow table or
    NumPy columns, ``person_id`` and ``pos`` (0 to n-1, the order of the groups), registered
    with DuckDB so the read matches them in SQL: no Python string or dict per person
    (decision 0996)."""
    store.con.register(_WANTED, persons)
    try:
        found = read_protected_columns(
            store, f"SELECT person_id, pos FROM {_WANTED}", purpose=purpose
        )
    finally:
        store.con.unregister(_WANTED)
    return {name: _labels(column) for name, column in found.items()}


def audit_month(
    store: Store,
    as_of: dt.date,
    products: ProductsPolicy,
    settings: AuditSettings | None = None,
    *,
    actor: str | None = None,
) -> Audit:
    """The audit of the monthly scores at ``as_of`` at every product cut of ``products``;
    ``actor`` is who reads the protected attributes (the store's actor by default)."""
    month = month_scores(store, as_of)
    cuts = product_cuts(products)
    if not cuts:
        raise InputError(f"products file {products.name!r} has no rule with a min_score to audit")
    found = read_protected_columns(
        store, _PERSONS, [month.run_id], purpose=f"fairness audit of the scores of {as_of}",
        actor=actor,
    )  # fmt: skip
    if not found:
        raise InputError(
            "no protected attributes are loaded for the persons scored",
            hint="load them with 'credo fairness --load-protected FILE' first",
        )
    groups = {name: _labels(column) for name, column in found.items()}
    p_bad = month.model.probability_from_points(month.model_scores)
    good, window = _outcomes(store, month)
    report = audit_scores(month.model.model_id, month.scores, p_bad, good, groups, cuts, settings)
    report.as_of = as_of.isoformat()
    report.run_id = month.run_id
    report.outcome_window = window
    return report


def _released(store: Store, action: str, model_id: str, policy: str, shelf: str) -> bool:
    return bool(
        store.scalar(
            "SELECT count(*) FROM audit_log WHERE action = ? AND target = ?"
            " AND json_extract_string(details, '$.policy') = ?"
            " AND json_extract_string(details, '$.products') = ?",
            [action, f"model:{model_id}", policy, shelf],
        )
    )


def release_report(report: Audit, as_of: dt.date, policy: str, shelf: str) -> dict[str, Any]:
    """What the audit log keeps of a release's fairness audit (RULES R-ECOA-6): every group's
    adverse impact ratio at every product cut, and the flags under the threshold."""
    return {
        "as_of": as_of.isoformat(),
        "policy": policy,
        "products": shelf,
        "air_threshold": report.settings.air_threshold,
        "rows": report.rows,
        "cuts": [{k: c[k] for k in ("label", "score", "approval_rate")} for c in report.cuts],
        "air": [
            {"attribute": a["name"], "cut": c["cut"], "group": g["group"], "air": g["air"]}
            for a in report.attributes
            for c in a["cuts"]
            for g in c["groups"]
        ],
        "flags": report.flags,
    }


def release_reports(store: Store, model_id: str) -> list[dict[str, Any]]:
    """The fairness reports of a model's releases (one per scoring policy and products file it
    was put in use under), oldest first."""
    found = rows(
        store.con,
        "SELECT seq, logged_at, details FROM audit_log WHERE action = 'fairness.release'"
        " AND target = ? ORDER BY seq",
        [f"model:{model_id}"],
    )
    return [{"seq": r["seq"], "logged_at": r["logged_at"], **json.loads(r["details"])}
            for r in found]  # fmt: skip


def _observed_month_end(last: dt.date, months: int) -> dt.date:
    """The latest month-end whose outcome window of ``months`` the events (up to ``last``)
    cover in full: it needs no scoring run of its own (the first release of a bureau is its
    first run)."""
    end = last if (last + dt.timedelta(days=1)).day == 1 else last.replace(day=1) - _DAY
    while months_before(end, -months) > last:
        end = end.replace(day=1) - _DAY
    return end


_DAY = dt.timedelta(days=1)


def search_alternatives(
    store: Store,
    model_id: str,
    rules: ScoringPolicy,
    training: Callable[..., Any],
    cuts: list[CutSpec],
    scores: np.ndarray,
    *,
    sample: int = ALTERNATIVES_SAMPLE,
    max_auc_loss: float = 0.01,
) -> dict[str, Any]:
    """The search for less discriminatory alternatives of a release (RULES R-ECOA-6): on the
    latest month-end whose outcome window the events cover, the card refit without each feature and
    greedily without more while the AUC stays within ``max_auc_loss``
    (:func:`credo.fairness.proxies.proxy_report`), on at most ``sample`` of that month's
    development rows (performing persons, drawn by a fixed seed). Each product cut is compared
    at the share it approves of the release's ``scores`` (a refit card has its own scale, so
    variants are compared at equal approval rates). What was searched and what was found;
    ``searched: false`` with the reason when there is nothing to search on."""
    from credo.fairness.proxies import proxy_report
    from credo.features import CATALOGUE

    document = store.scalar("SELECT document FROM models WHERE model_id = ?", [model_id])
    if document is None:
        return {"searched": False, "reason": f"model {model_id} is not in the database"}
    model = ScorecardModel.from_json(str(document), source=f"model {model_id}")
    last = _last_event(store)
    if last is None:
        return {"searched": False, "reason": "no events"}
    month = _observed_month_end(last[0], rules.outcome.months)
    wanted = set(model.features)
    table = training(
        store, month, policy=rules, known_at=last[1],
        features=[f for f in CATALOGUE if f.name in wanted],
    )  # fmt: skip
    keep = np.flatnonzero(table.performing)
    if len(keep) > sample:
        keep = np.sort(np.random.default_rng(0).choice(keep, sample, replace=False))
    persons = {"person_id": table.persons[keep], "pos": np.arange(len(keep), dtype=np.int64)}
    groups = _groups(store, persons, f"search for less discriminatory alternatives to {model_id}")
    y = table.bad[keep]
    if not groups or len(np.unique(y)) < 2:
        return {"searched": False, "month": month.isoformat(), "rows": len(keep),
                "reason": "no protected attributes or no defaults among the rows"}  # fmt: skip
    data = {name: column[keep] for name, column in table.features.items() if name in wanted}
    shares = {}
    for cut in cuts:
        approved = Fraction(float(np.mean(scores >= cut.score))).limit_denominator(10_000)
        if approved > 0:
            shares[cut.label] = CutSpec("share", share=approved)
    proxies = proxy_report(
        model, data, y, groups, list(shares.values()), max_auc_loss=max_auc_loss, keep_bins=True
    ).to_dict()
    return {
        "searched": True,
        "month": month.isoformat(),
        "rows": len(keep),
        "of_rows": int(table.performing.sum()),
        "features": list(model.features),
        "product_cuts": {label: c.label for label, c in shares.items()},
        "method": "greedy backward elimination; each variant, the baseline included, refit"
        " on the card's bins (weights of evidence, logistic regression) on the same rows",
        **proxies,
        "strength": proxies["strength"][:10],
        "found": len(proxies["alternatives"]) > 0,
    }


def gate_run(
    store: Store,
    as_of: dt.date,
    model_id: str,
    policy: str,
    persons: pa.Array | pa.ChunkedArray,
    scores: np.ndarray,
    why: str | None,
    products: ProductsPolicy | None = None,
    rules: ScoringPolicy | None = None,
    training: Callable[..., Any] | None = None,
) -> list[AuditEntry]:
    """The fairness gate on putting a card and a scoring policy in use (decision 0905), and the
    release's fairness report (RULES R-ECOA-6, decision 0674).

    Before a monthly run is written, its scores are audited at every product cut against the
    protected attributes the bureau holds. The first run of a model under a scoring policy and
    products file records the audit's ratios as a ``fairness.release`` entry. A ratio under the
    threshold refuses the run (``GateError``, nothing written) unless ``why`` is given: then a
    ``fairness_override`` entry (who, when, why, the flags) commits with the run. A model and
    policy overridden once stay cleared for later months under the same products file. Without
    protected attributes loaded there is nothing to audit and the run goes ahead.

    ``persons`` are the scored persons' ids in the order of ``scores``, as an Arrow column:
    DuckDB matches them to the attributes, with no Python string per person (decision 0996).
    """
    if not protected_loaded(store):
        return []
    offers = products or load_products("products")
    shelf = f"{offers.name} {offers.version}"
    cleared = _released(store, "fairness_override", model_id, policy, shelf)
    released = _released(store, "fairness.release", model_id, policy, shelf)
    if cleared and released:
        return []
    import pyarrow as pa  # here, not at the top: the audit's path loads no pyarrow

    wanted = pa.Table.from_arrays(
        [persons, pa.array(np.arange(len(persons), dtype=np.int64))], names=["person_id", "pos"]
    )
    groups = _groups(store, wanted, f"fairness gate of the monthly run of {as_of} ({model_id})")
    if not groups or not len(scores):
        return []
    cuts = product_cuts(offers)
    report = audit_scores(model_id, scores, np.zeros(len(scores)), None, groups, cuts)
    entries = []
    if report.flags and not cleared and (why is None or not why.strip()):
        gate(report)  # raises GateError naming the lowest ratio
    if not released:
        details = release_report(report, as_of, policy, shelf)
        if rules is not None and training is not None:  # a scorecard's release: search for a
            # less discriminatory card, refit on ``training`` (credo.scoring.train.training_table,
            # given by the run: fairness is below scoring)
            details["alternatives"] = search_alternatives(
                store, model_id, rules, training, cuts, scores
            )
        entries.append(AuditEntry(
            store.settings.actor, "fairness.release", target=f"model:{model_id}",
            purpose="fairness report of a model release",
            details=details,
        ))  # fmt: skip
    if report.flags and not cleared:
        entries.append(AuditEntry(
            store.settings.actor,
            "fairness_override",
            target=f"model:{model_id}",
            purpose=str(why).strip(),
            details={
                "as_of": as_of.isoformat(),
                "policy": policy,
                "products": shelf,
                "air_threshold": report.settings.air_threshold,
                "flags": report.flags,
                "cuts": [c["label"] for c in report.cuts],
            },
        ))  # fmt: skip
    return entries


def gate_snapshots(
    store: Store,
    as_of: dt.date,
    model_id: str,
    loaded: LoadedPolicy,
    snapshots: pa.Table,
    why: str | None,
    products: ProductsPolicy | None = None,
    rules: ScoringPolicy | None = None,
    training: Callable[..., Any] | None = None,
) -> list[AuditEntry]:
    """The gate on a monthly run's snapshot rows, whichever engine computed them (DuckDB's
    run, or Spark's imported from the lake): the audit entries to commit with the run
    (the override, if one was needed), or ``GateError`` if a flag has no reason. A release
    searches for less discriminatory alternatives when the run gives its scoring ``rules``
    and ``training`` (the training table)."""
    return gate_run(
        store,
        as_of,
        model_id,
        f"{loaded.name} {loaded.version}",
        snapshots.column("person_id"),
        np.asarray(snapshots.column("score").to_numpy(zero_copy_only=False), dtype=np.float64),
        why,
        products,
        rules,
        training,
    )
