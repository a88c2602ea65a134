"""Partner decisions (SPEC S7), each behind the person's consent; risk reports and outcomes
are :mod:`credo.rights.reports`.

Every disclosure is checked in the same order: the partner's consent from the person for this
partner and purpose (R-PIPL-3), then the freeze (R-FCRA-15); only then is anything read. Each
decision is stored with what it used (score, snapshot, policy versions) and is an inquiry the
person sees.

A decision reads four things about the person through a :class:`Reads`: the store itself, or
:class:`CachedReads`, which remembers them until the store's ``data_version`` moves (the server,
the database's only writer, decides from memory). :func:`decide_many` decides a batch and
commits the accepted ones in one transaction, each with its own audit entry (the server's
group commit, docs/decisions/0610); :func:`decide` is the same for one.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import duckdb

from credo.errors import CredoError, FrozenError
from credo.policy.products import Product, ProductsPolicy
from credo.policy.rules import active_rules
from credo.rights.consent import (
    RESTRICTED,
    active_consent,
    birth_date,
    consent_refused,
    is_frozen,
    is_minor,
    is_restricted,
    minor_refused,
)
from credo.rights.fraud_alerts import ALERT_REASONS, alerts_in_force
from credo.rights.notices import factor_reasons
from credo.scoring.latest import LatestSnapshot, latest_snapshot
from credo.store.audit import AuditEntry
from credo.store.db import Store, new_id, now_or
from credo.store.rows import rows

__all__ = ["CachedReads", "Decision", "DecisionInput", "Reads", "decide", "decide_many",
           "open_disputed_items"]  # fmt: skip


@dataclass(frozen=True)
class Decision:
    decision_id: str
    person: str
    product: str
    outcome: str
    terms: dict[str, Any]
    reasons: list[dict[str, str]]
    score: float | None
    band: str | None
    run_id: str | None
    scoring_policy: str | None
    products_version: str
    disputed_items: list[dict[str, Any]] = field(default_factory=list)
    decided_at: dt.datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def open_disputed_items(store: Store, person_id: str) -> list[dict[str, Any]]:
    """Items under dispute, shown as such to partners (R-FCRA-9)."""
    # Most persons have none: ask the small disputes table first, join events only if needed.
    if not store.scalar(
        "SELECT count(*) FROM disputes WHERE person_id = ? AND status = 'open'", [person_id]
    ):
        return []
    return rows(
        store.con,
        "SELECT d.dispute_id, e.event_type, d.target_source AS source,"
        " d.target_record_id AS record_id, d.opened_at AS since"
        " FROM disputes d JOIN events e ON e.event_id = d.event_id"
        " WHERE d.person_id = ? AND d.status = 'open' ORDER BY d.opened_at",
        [person_id],
    )


@dataclass(frozen=True)
class DecisionInput:
    """What a partner asks: a product for a person, with the consent reference it was given."""

    partner_id: str
    person_id: str
    product: str
    consent_id: str


class Reads:
    """What a decision reads about a person, straight from the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def consent(self, person_id: str, partner_id: str, purpose: str) -> str | None:
        return active_consent(self.store, person_id, partner_id, purpose)

    def frozen(self, person_id: str) -> bool:
        return is_frozen(self.store, person_id)

    def restricted(self, person_id: str) -> bool:
        return is_restricted(self.store, person_id)

    def born(self, person_id: str) -> dt.date | None:
        return birth_date(self.store, person_id)

    def alerts(self, person_id: str) -> tuple[str, ...]:
        """Kinds of fraud or active-duty alert in force (R-FCRA-16)."""
        return tuple(a.kind for a in alerts_in_force(self.store, person_id))

    def snapshot(self, person_id: str) -> LatestSnapshot | None:
        return latest_snapshot(self.store, person_id)

    def disputed(self, person_id: str) -> list[dict[str, Any]]:
        return open_disputed_items(self.store, person_id)

    def factors(self, person_id: str, run_id: str) -> tuple[str, ...]:
        """The score's reason codes, most points lost first (the adverse factors)."""
        codes = self.store.scalar(
            "SELECT reason_codes FROM score_snapshots WHERE run_id = ? AND person_id = ?",
            [run_id, person_id],
        )
        return tuple(codes or ())

    def wrote_decisions(self, before: int) -> None:
        """Told after :func:`decide_many` committed (``before``: the store's ``data_version``
        just before); nothing to do without a cache."""


class CachedReads(Reads):
    """The same answers, remembered until the store's ``data_version`` moves.

    Correct while every write to the database goes through ``Store.write``/``write_many`` on
    this store, which bump ``data_version``: true in ``credo serve``, which holds DuckDB's file
    lock (no other process can write) and serialises every use of the store under one lock.
    Any write empties the cache (consent, freeze, score, dispute: whatever it changed), except
    the decisions' own, which touch none of what is cached. Bounded: emptied at ``limit``
    entries.
    """

    def __init__(self, store: Store, limit: int = 100_000) -> None:
        super().__init__(store)
        self.limit = limit
        self._version = store.data_version
        self._memo: dict[tuple[str, ...], Any] = {}

    def _get(self, key: tuple[str, ...], read: Any) -> Any:
        if self._version != self.store.data_version:
            self._memo.clear()
            self._version = self.store.data_version
        try:
            return self._memo[key]
        except KeyError:
            if len(self._memo) >= self.limit:
                self._memo.clear()
            value = self._memo[key] = read()
            return value

    def consent(self, person_id: str, partner_id: str, purpose: str) -> str | None:
        return self._get(  # type: ignore[no-any-return]
            ("consent", person_id, partner_id, purpose),
            lambda: super(CachedReads, self).consent(person_id, partner_id, purpose),
        )

    def frozen(self, person_id: str) -> bool:
        return self._get(  # type: ignore[no-any-return]
            ("frozen", person_id), lambda: super(CachedReads, self).frozen(person_id)
        )

    def restricted(self, person_id: str) -> bool:
        return self._get(  # type: ignore[no-any-return]
            ("restricted", person_id), lambda: super(CachedReads, self).restricted(person_id)
        )

    def born(self, person_id: str) -> dt.date | None:
        return self._get(  # type: ignore[no-any-return]
            ("born", person_id), lambda: super(CachedReads, self).born(person_id)
        )

    def alerts(self, person_id: str) -> tuple[str, ...]:
        return self._get(  # type: ignore[no-any-return]
            ("alerts", person_id), lambda: super(CachedReads, self).alerts(person_id)
        )

    def snapshot(self, person_id: str) -> LatestSnapshot | None:
        return self._get(  # type: ignore[no-any-return]
            ("snapshot", person_id), lambda: super(CachedReads, self).snapshot(person_id)
        )

    def disputed(self, person_id: str) -> list[dict[str, Any]]:
        return self._get(  # type: ignore[no-any-return]
            ("disputed", person_id), lambda: super(CachedReads, self).disputed(person_id)
        )

    def factors(self, person_id: str, run_id: str) -> tuple[str, ...]:
        return self._get(  # type: ignore[no-any-return]
            ("factors", person_id, run_id),
            lambda: super(CachedReads, self).factors(person_id, run_id),
        )

    def wrote_decisions(self, before: int) -> None:
        # Only when nothing else wrote since the cache was last current: then the bump was
        # the decisions' own (decisions and inquiries, which no cached answer reads).
        if self._version == before:
            self._version = self.store.data_version


def decide(
    store: Store,
    partner_id: str,
    person_id: str,
    product_name: str,
    consent_id: str,
    products: ProductsPolicy,
    *,
    now: dt.datetime | None = None,
) -> Decision:
    result = decide_many(
        store,
        [DecisionInput(partner_id, person_id, product_name, consent_id)],
        products,
        now=now,
    )[0]
    if isinstance(result, CredoError):
        raise result
    return result


def decide_many(
    store: Store,
    asks: Sequence[DecisionInput],
    products: ProductsPolicy,
    reads: Reads | None = None,
    *,
    now: dt.datetime | None = None,
    journal: bool = False,
) -> list[Decision | CredoError]:
    """Decide each ask in order and commit the accepted ones in one transaction, each with its
    own audit entry; a refused ask (no consent, frozen, unknown product) is its error in the
    list. If the commit fails it raises, and no decision of the batch is stored.

    With ``journal`` the batch is made durable in the store's journal and reaches the
    database at its next ``apply_journal`` (the server, docs/decisions/0612)."""
    reads = reads or Reads(store)
    max_factors = active_rules(store.settings).notices.max_key_factors
    results: list[Decision | CredoError] = []
    accepted: list[tuple[Decision, DecisionInput, str]] = []
    for ask in asks:
        try:
            decision, purpose = _evaluate(reads, ask, products, max_factors, now)
        except CredoError as exc:
            results.append(exc)
            continue
        results.append(decision)
        accepted.append((decision, ask, purpose))
    if accepted:
        entries = [_entry(d, ask, purpose) for d, ask, purpose in accepted]
        tables = _decision_rows(accepted)
        if journal:
            store.write_journaled(entries, tables)
        else:
            before = store.data_version
            with store.write_many(entries) as con:
                for table, batch in tables.items():
                    _unnest_insert(con, table, batch)
            reads.wrote_decisions(before)
    return results


def _entry(d: Decision, ask: DecisionInput, purpose: str) -> AuditEntry:
    return AuditEntry(
        f"partner:{ask.partner_id}", "decision", f"person:{ask.person_id}", purpose,
        {"decision_id": d.decision_id, "product": d.product, "outcome": d.outcome,
         "run_id": d.run_id, "consent_id": ask.consent_id},
    )  # fmt: skip


def _evaluate(
    reads: Reads,
    ask: DecisionInput,
    products: ProductsPolicy,
    max_factors: int,
    now: dt.datetime | None,
) -> tuple[Decision, str]:
    """The decision and its purpose; consent first, then the freeze, then anything else."""
    product = products.product(ask.product)
    active = reads.consent(ask.person_id, ask.partner_id, product.purpose)
    if active is None or active != ask.consent_id:
        raise consent_refused(ask.partner_id, product.purpose, ask.consent_id, active)
    if reads.frozen(ask.person_id):
        raise FrozenError(
            "the person has frozen their file: no new decisions or reports",
            hint="the person can lift the freeze",
        )
    if reads.restricted(ask.person_id):
        raise FrozenError(RESTRICTED, hint="the person can lift the restriction")
    at = now_or(now)
    if is_minor(reads.born(ask.person_id), at.date()):
        raise minor_refused()
    snap = reads.snapshot(ask.person_id)
    outcome, terms, reasons = _outcome(reads, ask, product, snap, max_factors)
    alerts = reads.alerts(ask.person_id)
    if alerts:  # after the product's rule and the factors: reasons[0] stays the rule
        reasons = [*reasons, *(ALERT_REASONS[k] for k in alerts)]
    decision = Decision(
        decision_id=new_id("dec"),
        person=ask.person_id,
        product=product.name,
        outcome=outcome,
        terms=terms,
        reasons=reasons,
        score=snap.score if snap else None,
        band=snap.band if snap else None,
        run_id=snap.run_id if snap else None,
        scoring_policy=snap.scoring_policy if snap else None,
        products_version=f"{products.name} {products.version} {products.digest}",
        disputed_items=list(reads.disputed(ask.person_id)),
        decided_at=at,
    )
    return decision, product.purpose


def _outcome(
    reads: Reads,
    ask: DecisionInput,
    product: Product,
    snap: LatestSnapshot | None,
    max_factors: int,
) -> tuple[str, dict[str, Any], list[dict[str, str]]]:
    """Outcome, terms and reasons; an adverse offer (declined, or any rule but the best)
    names the score's factors after the product's rule (R-ECOA-4: never the threshold alone)."""
    if snap is None:
        return "declined", {}, [{"code": "no_score", "text": "no score on file for this person"}]
    if product.restricted and snap.court_listings:
        text = (
            "on the court's list of judgment defaulters ("
            + "; ".join(snap.court_listings)
            + f"): {product.name} is restricted while listed"
        )
        return "declined", {}, [{"code": "court_list", "text": text}]
    offer = product.offer(snap.score)
    reasons = [{"code": "score", "text": offer.reason}]
    if offer.outcome == "declined" or (product.rules and offer is not product.rules[0]):
        reasons += factor_reasons(reads.factors(ask.person_id, snap.run_id), max_factors)
    return offer.outcome, dict(offer.terms), reasons


# The hot path's rows are lists (cheaper to build than mappings, and what the journal holds), in
# the table's column order; these name that order, and the insert below names its columns.
_COLUMNS = {
    "decisions": ("decision_id", "partner_id", "person_id", "product", "outcome", "terms",
                  "reasons", "score", "band", "run_id", "scoring_policy", "products_version",
                  "consent_id", "decided_at"),
    "inquiries": ("inquiry_id", "person_id", "partner_id", "kind", "purpose", "disclosed",
                  "ref_id", "inquired_at"),
}  # fmt: skip


def _unnest_insert(con: duckdb.DuckDBPyConnection, table: str, batch: list[list[Any]]) -> None:
    """Insert rows as one column list per column, unnested in lockstep: one statement to
    prepare for the whole batch, where a VALUES list grows with each row."""
    columns = [list(c) for c in zip(*batch, strict=True)]
    names = ", ".join(_COLUMNS[table])
    unnest = ", ".join(["unnest(?)"] * len(columns))
    con.execute(f"INSERT INTO {table} ({names}) SELECT {unnest}", columns)


# One encoder for the hot path (``json.dumps`` with options builds one per call).
_JSON = json.JSONEncoder(ensure_ascii=False, default=str)


def _decision_rows(
    accepted: list[tuple[Decision, DecisionInput, str]],
) -> dict[str, list[list[Any]]]:
    """The ``decisions`` and ``inquiries`` rows of a batch: each decision is an inquiry too."""
    decisions: list[list[Any]] = []
    inquiries: list[list[Any]] = []
    for d, ask, purpose in accepted:
        decisions.append(
            [d.decision_id, ask.partner_id, d.person, d.product, d.outcome, _JSON.encode(d.terms),
             _JSON.encode(d.reasons), d.score, d.band, d.run_id,
             d.scoring_policy, d.products_version, ask.consent_id, d.decided_at]
        )  # fmt: skip
        disclosed = {"product": d.product, "outcome": d.outcome, "band": d.band}
        inquiries.append(
            [new_id("inq"), d.person, ask.partner_id, "decision", purpose,
             _JSON.encode(disclosed), d.decision_id, d.decided_at]
        )  # fmt: skip
    return {"decisions": decisions, "inquiries": inquiries}
