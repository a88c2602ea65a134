"""The fairness gate: a card whose adverse impact ratio falls under the threshold at any cut
(every product cut, with ``products_cuts``) is refused unless someone overrides it on the
record: who (the actor), when (the entry's time) and why, in the audit log (decision 0903).
"""

from __future__ import annotations

from typing import Any

from credo.errors import AccessError
from credo.fairness.audit import Audit
from credo.fairness.inputs import CutSpec
from credo.policy.products import ProductsPolicy
from credo.store.audit import AuditEntry
from credo.store.db import Store

__all__ = ["GateError", "gate", "product_cuts"]


class GateError(AccessError):
    """The audit found an adverse impact ratio under the threshold and nobody overrode it."""


def product_cuts(products: ProductsPolicy) -> list[CutSpec]:
    """One score cut per distinct ``min_score`` of any product rule, highest first."""
    scores = sorted({rule.min_score for p in products.products for rule in p.rules}, reverse=True)
    return [CutSpec("score", score=float(s)) for s in scores]


def _worst(audit: Audit) -> dict[str, Any]:
    return min(audit.flags, key=lambda f: float(f["air"]))


def gate(audit: Audit, store: Store | None = None, why: str | None = None) -> int | None:
    """``None`` when no ratio is under the threshold; else the override's audit-log number.

    Without ``why`` (or without a store to record it in) a flagged card is refused.
    """
    if not audit.flags:
        return None
    worst = _worst(audit)
    if why is None or not why.strip() or store is None:
        raise GateError(
            f"model {audit.model_id} has {len(audit.flags)} adverse impact ratio(s) under"
            f" {audit.settings.air_threshold:g} (lowest {worst['air']:.3f}: {worst['attribute']}"
            f" = {worst['group']} at {worst['cut']}); not cleared for use",
            hint="fix the card, or override on the record with --override-why TEXT and --db",
        )
    entry = AuditEntry(
        store.settings.actor,
        "fairness_override",
        target=f"model:{audit.model_id}",
        purpose=why.strip(),
        details={
            "air_threshold": audit.settings.air_threshold,
            "flags": audit.flags,
            "cuts": [c["label"] for c in audit.cuts],
        },
    )
    with store.write(entry):
        pass  # the override is the record: the entry commits with no other data
    return int(store.scalar("SELECT max(seq) FROM audit_log"))
