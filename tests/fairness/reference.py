"""The dict reader of protected attributes and the gate built on it, as they were before
decision 0996 moved every reader to ``read_protected_columns``: kept here, verbatim but for
the search for alternatives the gate's reference leaves out, as the reference the column
reader and the gate are checked against (``test_bureau.py``)."""

from __future__ import annotations

import datetime as dt

import numpy as np

from credo.errors import InputError
from credo.fairness.audit import audit_scores
from credo.fairness.bureau import _released, release_report
from credo.fairness.gate import gate, product_cuts
from credo.fairness.inputs import MISSING
from credo.fairness.protected import _FOUND, PROTECTED_TABLE, protected_loaded
from credo.policy.products import ProductsPolicy
from credo.store.audit import AuditEntry
from credo.store.db import Store
from credo.store.rows import rows


def read_protected(
    store: Store, persons: list[str] | None, *, purpose: str, actor: str | None = None
) -> dict[str, dict[str, str]]:
    """Per attribute, each person's value (decrypted), for ``persons`` (all when ``None``):
    every value held fetched as one dict per row, the persons kept in Python, the read
    audited first."""
    if not purpose.strip():
        raise InputError("a read of protected attributes needs a purpose")
    found = rows(store.con, _FOUND)
    wanted = None if persons is None else set(persons)
    keep = [r for r in found if r["owners"] == 1 and (wanted is None or r["person_id"] in wanted)]
    ambiguous = len({(r["person_id"], r["attribute"]) for r in found if r["owners"] > 1})
    attributes = sorted({r["attribute"] for r in keep})
    store.audit(
        AuditEntry(
            actor or store.settings.actor,
            "protected_read",
            target=PROTECTED_TABLE,
            purpose=purpose.strip(),
            details={
                "attributes": attributes,
                "persons": len({r["person_id"] for r in keep}),
                "ambiguous_identifiers": ambiguous,
            },
        )
    )
    out: dict[str, dict[str, str]] = {name: {} for name in attributes}
    for r in keep:
        kind = f"protected:{r['attribute']}"
        out[r["attribute"]][r["person_id"]] = store.keys.decrypt(kind, bytes(r["ciphertext"]))
    return out


def gate_run(
    store: Store,
    as_of: dt.date,
    model_id: str,
    policy: str,
    persons: list[str],
    scores: np.ndarray,
    why: str | None,
    products: ProductsPolicy,
) -> list[AuditEntry]:
    """``credo.fairness.bureau.gate_run`` before decision 0996, without the search for
    alternatives (no ``rules`` or ``training``): a Python string per person, a dict entry per
    person and attribute."""
    if not protected_loaded(store):
        return []
    offers = products
    shelf = f"{offers.name} {offers.version}"
    cleared = _released(store, "fairness_override", model_id, policy, shelf)
    released = _released(store, "fairness.release", model_id, policy, shelf)
    if cleared and released:
        return []
    found = read_protected(
        store, persons, purpose=f"fairness gate of the monthly run of {as_of} ({model_id})"
    )
    if not found or not len(scores):
        return []
    groups = {
        name: np.array([values.get(p) or MISSING for p in persons], dtype=np.str_)
        for name, values in found.items()
    }
    cuts = product_cuts(offers)
    report = audit_scores(model_id, scores, np.zeros(len(scores)), None, groups, cuts)
    entries = []
    if report.flags and not cleared and (why is None or not why.strip()):
        gate(report)  # raises GateError naming the lowest ratio
    if not released:
        details = release_report(report, as_of, policy, shelf)
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
