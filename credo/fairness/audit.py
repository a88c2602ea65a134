"""The fairness audit: whom a scorecard approves, per protected attribute, group and cut.

``audit`` scores a table with the points table (the same NumPy path as ``score-table``), then
for each attribute reports per group its score profile (mean, standardised difference, AUC,
calibration by band) and, per cut, the approval figures of :mod:`credo.fairness.metrics`.
Groups smaller than ``small_group`` get bootstrap intervals. ``report.json``'s schema is in
docs/fairness.md.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from credo.fairness.inputs import CutSpec
from credo.fairness.metrics import (
    GroupAtCut,
    calibration_by_band,
    cut_for_share,
    groups_at_cut,
    standardised_mean_difference,
    within_group_auc,
)
from credo.models.table import ScorecardModel

__all__ = [
    "FORMAT",
    "Audit",
    "AuditSettings",
    "audit",
    "audit_scores",
    "cut_scores",
    "group_profiles",
]

FORMAT = "credo.fairness.audit"
#: The four-fifths rule: an adverse impact ratio under this is flagged.
AIR_THRESHOLD = 0.8


@dataclass(frozen=True)
class AuditSettings:
    """How intervals and bands are drawn; all of it is written into the report."""

    small_group: int = 1000
    bootstrap: int = 2000
    seed: int = 0
    band_width: float = 50.0
    air_threshold: float = AIR_THRESHOLD


@dataclass
class Audit:
    """The audit's figures; ``to_dict`` is ``report.json``."""

    model_id: str
    rows: int
    bad_rows: int | None
    auc: float | None
    settings: AuditSettings
    cuts: list[dict[str, Any]]
    attributes: list[dict[str, Any]]
    flags: list[dict[str, Any]]
    proxies: dict[str, Any] | None = field(default=None)
    as_of: str | None = field(default=None)
    """Set when the bureau's monthly scores were audited: their month-end and score run."""
    run_id: str | None = field(default=None)
    outcome_window: dict[str, Any] | None = field(default=None)
    """With ``as_of``: the outcome window after the month (months, end, whether observed)."""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return {"format": FORMAT, "format_version": 1, **data}


def cut_scores(scores: NDArray[np.float64], cuts: list[CutSpec]) -> list[float]:
    """The score each cut approves at or above."""
    return [
        cut_for_share(scores, spec.share) if spec.share is not None else float(spec.score or 0)
        for spec in cuts
    ]


def group_profiles(
    scores: NDArray[np.float64],
    p_bad: NDArray[np.float64],
    good: NDArray[np.bool_],
    groups: NDArray[np.str_],
    band_width: float,
) -> list[dict[str, Any]]:
    """Per group, what does not depend on a cut: score mean, SMD, AUC, calibration."""
    out = []
    for name in np.unique(groups).tolist():
        inside = groups == name
        out.append(
            {
                "group": name,
                "n": int(inside.sum()),
                "bad_rows": int((~good[inside]).sum()),
                "mean_score": float(scores[inside].mean()),
                "smd": standardised_mean_difference(scores, inside),
                "auc": within_group_auc(scores[inside], good[inside]),
                "calibration": calibration_by_band(
                    scores[inside], p_bad[inside], good[inside], band_width
                ),
            }
        )
    return out


def _interval(draws: NDArray[np.float64]) -> list[float] | None:
    finite = draws[np.isfinite(draws)]
    if len(finite) == 0:
        return None
    low, high = np.quantile(finite, [0.025, 0.975])
    return [float(low), float(high)]


def _intervals(
    row: GroupAtCut, ref: GroupAtCut, rng: np.random.Generator, draws: int
) -> dict[str, list[float] | None]:
    """95% percentile intervals; resampling 0/1 outcomes is exactly a binomial draw."""
    rate = rng.binomial(row.n, row.approval_rate, draws) / row.n
    ref_rate = rng.binomial(ref.n, ref.approval_rate, draws) / ref.n
    with np.errstate(divide="ignore", invalid="ignore"):
        air = np.where(ref_rate > 0, rate / np.where(ref_rate > 0, ref_rate, 1.0), np.nan)
    out = {"approval_rate": _interval(rate), "air": _interval(air), "tpr": None}
    if row.tpr is not None:
        out["tpr"] = _interval(rng.binomial(row.goods, row.tpr, draws) / row.goods)
    return out


def _attribute_at_cut(
    scores: NDArray[np.float64],
    good: NDArray[np.bool_],
    groups: NDArray[np.str_],
    cut: float,
    settings: AuditSettings,
    stream: list[int],
) -> dict[str, Any]:
    reference, rows = groups_at_cut(scores, good, groups, cut)
    ref = next(r for r in rows if r.group == reference)
    listed = []
    for index, row in enumerate(rows):
        entry: dict[str, Any] = asdict(row)
        entry["intervals"] = None
        if row.n < settings.small_group:
            rng = np.random.default_rng([settings.seed, *stream, index])
            entry["intervals"] = _intervals(row, ref, rng, settings.bootstrap)
        listed.append(entry)
    airs = [r.air for r in rows if r.air is not None]
    return {
        "reference_group": reference,
        "min_air": min(airs) if airs else None,
        "groups": listed,
    }


def audit(
    model: ScorecardModel,
    data: object,
    y_bad: NDArray[np.int64],
    protected: dict[str, NDArray[np.str_]],
    cuts: list[CutSpec],
    settings: AuditSettings | None = None,
) -> Audit:
    """Audit ``model`` on ``data`` (outcome ``y_bad``: 1 bad) for each protected attribute."""
    return audit_scores(
        model.model_id,
        model.score(data),
        model.predict_bad_probability(data),
        np.asarray(y_bad, dtype=np.int64) == 0,
        protected,
        cuts,
        settings,
    )


_OUTCOME_FIELDS = ("tpr", "tpr_gap", "fpr", "goods", "bads")


def audit_scores(
    model_id: str,
    scores: NDArray[np.float64],
    p_bad: NDArray[np.float64],
    good: NDArray[np.bool_] | None,
    protected: dict[str, NDArray[np.str_]],
    cuts: list[CutSpec],
    settings: AuditSettings | None = None,
) -> Audit:
    """The audit of scores already made (the bureau's monthly snapshots, or a card's).

    ``good`` is ``None`` when outcomes are not observed yet (a recent month): approval rates
    and adverse impact ratios stand; TPR, FPR, AUC and calibration are then ``None``/empty.
    """
    settings = settings or AuditSettings()
    known = good is not None
    good = good if good is not None else np.ones(len(scores), dtype=np.bool_)
    at = cut_scores(scores, cuts)
    cut_rows = [
        {
            "label": spec.label,
            "kind": spec.kind,
            "share": None if spec.share is None else float(spec.share),
            "score": score,
            "approval_rate": float((scores >= score).mean()),
        }
        for spec, score in zip(cuts, at, strict=True)
    ]
    attributes: list[dict[str, Any]] = []
    flags: list[dict[str, Any]] = []
    for a_index, (name, groups) in enumerate(protected.items()):
        per_cut = []
        for c_index, score in enumerate(at):
            figures = _attribute_at_cut(scores, good, groups, score, settings, [a_index, c_index])
            if not known:
                for g in figures["groups"]:
                    g.update(dict.fromkeys(_OUTCOME_FIELDS))
                    if g["intervals"] is not None:
                        g["intervals"]["tpr"] = None
            per_cut.append({"cut": cut_rows[c_index]["label"], "score": score, **figures})
            flags.extend(
                {
                    "attribute": name,
                    "cut": cut_rows[c_index]["label"],
                    "group": g["group"],
                    "air": g["air"],
                }
                for g in figures["groups"]
                if g["air"] is not None and g["air"] < settings.air_threshold
            )
        profiles = group_profiles(scores, p_bad, good, groups, settings.band_width)
        if not known:
            for p in profiles:
                p.update(bad_rows=None, auc=None, calibration=[])
        attributes.append({"name": name, "groups": profiles, "cuts": per_cut})
    return Audit(
        model_id=model_id,
        rows=len(scores),
        bad_rows=int((~good).sum()) if known else None,
        auc=within_group_auc(scores, good) if known else None,
        settings=settings,
        cuts=cut_rows,
        attributes=attributes,
        flags=flags,
    )
