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
from credo.rights.consent import (
    BIRTH_DATES,
    RESTRICTED,
    RESTRICTED_PERSONS,
    active_consent,
    birth_date,
    consent_refused,
    is_frozen,
    is_minor,
    is_restricted,
    minor_refused,
)
from credo.rights.fraud_alerts import (
    ALERT_REASONS,
    VERIFIED,
    VERIFY_REQUIRED,
    IdentityVerification,
    alerts_in_force,
    verification_missing,
)
from credo.rights.jurisdiction import partner_rules
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


_ALERTS = (
    "SELECT person_id, kind, placed_at, expires_at, phone FROM fraud_alerts"
    " WHERE removed_at IS NULL{where} ORDER BY person_id, placed_at"
)


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
        " d.target_record_id AS record_id, d.opened_at AS since,"
        " 'XB' AS compliance_code"  # Metro 2: disputed, under investigation (R-FCRA-17)
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
    verification: IdentityVerification | None = None
    """How the partner verified the person's identity (needed for credit under an alert)."""


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

    def alert_phones(self, person_id: str) -> tuple[str, ...]:
        """The numbers the person gave with their alerts in force, to be called on (605A(h))."""
        return tuple(a.phone for a in alerts_in_force(self.store, person_id) if a.phone)

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

    def max_factors(self, partner_id: str) -> int:
        """How many key factors a notice to this partner's customers names (its jurisdiction's
        profile, decision 0648)."""
        return partner_rules(self.store, partner_id).notices.max_key_factors

    def wrote_decisions(self, before: int) -> None:
        """Told after :func:`decide_many` committed (``before``: the store's ``data_version``
        just before); nothing to do without a cache."""


# Writes about one person that change, for that person only, what a decision reads (consent,
# freeze, an opened dispute), and writes that change nothing a decision reads. Any other write
# (a scoring run, a correction, a court feed, a linkage) makes the cache reload everything.
_ABOUT_THE_PERSON = frozenset({"consent.grant", "consent.revoke", "consent.enrol",
                               "consent.leave", "file.freeze", "file.unfreeze", "dispute.open",
                               "outcome", "review.request", "processing.restrict",
                               "processing.lift", "fraud_alert.place",
                               "fraud_alert.remove", "objection.request",
                               "objection.rejected"})  # fmt: skip
_ADDS_EVENTS = frozenset({"outcome"})
"""Of those, the writes that add an event that may carry a birth date: a partner's outcome (a
consent is an event too, but ``record_consent`` writes no identity fields)."""
_NOT_READ = frozenset({"decision", "partner.create", "api_key.create", "api_key.revoke",
                       "login_code.issue", "session.start", "sessions.end",
                       "request.access", "request.extend", "regulator.bundle",
                       "dispute.fixed", "fraud_alert.referrals.export",
                       # what no decision reads: sensitive data goes only into reports, and
                       # asset data reaches a decision through the next run's score
                       "consent.grant_sensitive", "consent.revoke_sensitive",
                       "consent.grant_assets", "consent.revoke_assets"})  # fmt: skip

# What decisions read, for every person or for one (``{where}``): the same order as the reads
# one at a time above (newest grant or revoke per partner and purpose, newest freeze action,
# newest run by date then ``seq``).
_CONSENTS = (
    "SELECT p.person_id, e.partner, e.purpose, e.source_record_id FROM events e"
    " JOIN event_persons p ON p.event_id = e.event_id AND p.role = 'subject'"
    " WHERE e.event_type = 'consent' AND e.consent_action IN ('grant', 'revoke'){where}"
    " QUALIFY row_number() OVER (PARTITION BY p.person_id, e.partner, e.purpose"
    " ORDER BY e.occurred_at DESC, e.event_id DESC) = 1 AND e.consent_action = 'grant'"
)
_FROZEN = (
    "SELECT person_id FROM freezes WHERE true{where} QUALIFY row_number() OVER"
    " (PARTITION BY person_id ORDER BY changed_at DESC, rowid DESC) = 1 AND action = 'freeze'"
)
_RUNS = (
    "SELECT run_id, as_of, known_at, model_id, policy_name, policy_version, previous_run_id,"
    " kind FROM score_runs"
)
_SNAPSHOTS = (
    "SELECT s.person_id, s.run_id, s.score, s.band, s.court_listings, s.reason_codes"
    " FROM score_snapshots s JOIN score_runs r ON r.run_id = s.run_id WHERE true{where}"
    " QUALIFY row_number() OVER (PARTITION BY s.person_id ORDER BY r.as_of DESC, r.seq DESC) = 1"
)
_DISPUTED_PERSONS = "SELECT DISTINCT person_id FROM disputes WHERE status = 'open'{where}"


class CachedReads(Reads):
    """The same answers, for every person, from memory.

    A bureau's decisions spread over millions of persons, so remembering answers one person at
    a time misses nearly always, and a read of one person's events scans them all (DuckDB has
    no index to look one person up: the birth date was 0.1-0.4 s a decision at 100,000
    persons). Instead the first decision loads what decisions read about everyone in a few
    set-based queries (consents, freezes, restrictions, birth dates, alerts, the latest
    snapshots with their reason codes, who has an open dispute), and each decision is then a
    few dictionary look-ups.

    Correct while every write to the database goes through ``Store.write``/``write_many`` on
    this store, which bump ``data_version`` and keep the write's audit entries: true in
    ``credo serve``, which holds DuckDB's file lock (no other process can write) and
    serialises every use of the store under one lock. Before each read the writes since the
    last are looked at: one about a person (a consent, a freeze, a dispute opened) reloads that
    person alone, one that changes nothing read here (a partner, a key) is skipped, and any
    other write (a scoring run, a correction, a court feed) reloads everything. So a revoke or
    a freeze applies to the very next decision. Decisions' own writes touch nothing read here.
    """

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self._version = store.data_version
        self._loaded = False
        self._consents: dict[str, dict[tuple[str, str], str]] = {}
        self._frozen: set[str] = set()
        self._restricted: set[str] = set()
        self._born: dict[str, dt.date] = {}
        self._alerts: dict[str, list[tuple[str, dt.datetime, dt.datetime, str | None]]] = {}
        self._snapshots: dict[str, tuple[LatestSnapshot, tuple[str, ...]]] = {}
        self._disputed: set[str] = set()
        self._max_factors: dict[str, int] = {}  # a partner's jurisdiction is set at creation

    def warm(self) -> None:
        """Load now (the server, before it answers), not on the first decision."""
        self._current()

    def _current(self) -> None:
        """Bring the cache up to the store's writes (see the class's docstring)."""
        if self._loaded and self._version != self.store.data_version:
            persons: dict[str, bool] = {}  # person -> whether their events changed
            seen = [(v, e) for v, e in self.store.writes if v > self._version]
            if len(seen) != self.store.data_version - self._version:
                self._loaded = False  # more writes than the store keeps: reload everything
            for _, entries in seen:
                if not entries or not self._loaded:
                    self._loaded = False
                    break
                for entry in entries:
                    if entry.action in _NOT_READ:
                        continue
                    target = entry.target or ""
                    if entry.action not in _ABOUT_THE_PERSON or not target.startswith("person:"):
                        self._loaded = False
                        break
                    person_id = target.removeprefix("person:")
                    persons[person_id] = persons.get(person_id, False) or (
                        entry.action in _ADDS_EVENTS
                    )
            if self._loaded:
                for person_id, events in persons.items():
                    self._load(person_id, events=events)
        self._version = self.store.data_version
        if not self._loaded:
            self._load(None)
            self._loaded = True

    def _load(self, person_id: str | None, *, events: bool = True) -> None:
        """Everyone's reads (``None``), or one person's, replacing what was held; a person's
        birth date (a scan of all events) only when a write added events about them."""
        con = self.store.con
        args = [] if person_id is None else [person_id]
        if person_id is None:
            for held in (self._consents, self._frozen, self._restricted, self._born,
                         self._alerts, self._snapshots, self._disputed,
                         self._max_factors):  # fmt: skip
                held.clear()
        else:
            self._consents.pop(person_id, None)
            self._frozen.discard(person_id)
            self._restricted.discard(person_id)
            self._alerts.pop(person_id, None)
            self._snapshots.pop(person_id, None)
            self._disputed.discard(person_id)
            if events:
                self._born.pop(person_id, None)

        def sql(template: str, column: str) -> str:
            return template.format(where="" if person_id is None else f" AND {column} = ?")

        for p, partner, purpose, ref in con.execute(sql(_CONSENTS, "p.person_id"), args).fetchall():
            self._consents.setdefault(p, {})[(partner, purpose)] = ref
        self._frozen.update(r[0] for r in con.execute(sql(_FROZEN, "person_id"), args).fetchall())
        self._restricted.update(
            r[0] for r in con.execute(sql(RESTRICTED_PERSONS, "person_id"), args).fetchall()
        )
        if person_id is None or events:
            for p, born in con.execute(sql(BIRTH_DATES, "p.person_id"), args).fetchall():
                self._born[p] = born
        for p, kind, placed, expires, phone in con.execute(
            sql(_ALERTS, "person_id"), args
        ).fetchall():
            self._alerts.setdefault(p, []).append((str(kind), placed, expires, phone))
        runs = {r[0]: r for r in con.execute(_RUNS).fetchall()}
        for p, run_id, score, band, listings, codes in con.execute(
            sql(_SNAPSHOTS, "s.person_id"), args
        ).fetchall():
            run = runs[run_id]
            snap = LatestSnapshot(
                run_id=run[0], as_of=run[1], known_at=run[2], score=float(score), band=band,
                court_listings=tuple(listings), model_id=run[3], policy_name=run[4],
                policy_version=run[5], previous_run_id=run[6], kind=run[7],
            )  # fmt: skip
            self._snapshots[p] = (snap, tuple(codes or ()))
        self._disputed.update(
            r[0] for r in con.execute(sql(_DISPUTED_PERSONS, "person_id"), args).fetchall()
        )

    def consent(self, person_id: str, partner_id: str, purpose: str) -> str | None:
        self._current()
        return self._consents.get(person_id, {}).get((partner_id, purpose))

    def frozen(self, person_id: str) -> bool:
        self._current()
        return person_id in self._frozen

    def restricted(self, person_id: str) -> bool:
        self._current()
        return person_id in self._restricted

    def born(self, person_id: str) -> dt.date | None:
        self._current()
        return self._born.get(person_id)

    def alerts(self, person_id: str) -> tuple[str, ...]:
        # Alerts end on schedule, not by a write: hold their periods, decide in force now.
        self._current()
        at = now_or(None)
        held = self._alerts.get(person_id, ())
        return tuple(kind for kind, placed, expires, _ in held if placed <= at < expires)

    def alert_phones(self, person_id: str) -> tuple[str, ...]:
        self._current()
        at = now_or(None)
        held = self._alerts.get(person_id, ())
        return tuple(p for _, placed, expires, p in held if p and placed <= at < expires)

    def max_factors(self, partner_id: str) -> int:
        self._current()
        if partner_id not in self._max_factors:
            self._max_factors[partner_id] = super().max_factors(partner_id)
        return self._max_factors[partner_id]

    def snapshot(self, person_id: str) -> LatestSnapshot | None:
        self._current()
        held = self._snapshots.get(person_id)
        return None if held is None else held[0]

    def disputed(self, person_id: str) -> list[dict[str, Any]]:
        self._current()
        # Few persons have an open dispute: their items are read when asked.
        return super().disputed(person_id) if person_id in self._disputed else []

    def factors(self, person_id: str, run_id: str) -> tuple[str, ...]:
        self._current()
        held = self._snapshots.get(person_id)
        if held is not None and held[0].run_id == run_id:
            return held[1]
        return super().factors(person_id, run_id)

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
    results: list[Decision | CredoError] = []
    accepted: list[tuple[Decision, DecisionInput, str]] = []
    for ask in asks:
        try:
            decision, purpose = _evaluate(
                reads, ask, products, reads.max_factors(ask.partner_id), now
            )
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
    details: dict[str, Any] = {
        "decision_id": d.decision_id, "product": d.product, "outcome": d.outcome,
        "run_id": d.run_id, "consent_id": ask.consent_id,
    }  # fmt: skip
    if (v := ask.verification) is not None:  # the number called stays out of the audit chain,
        # which outlives an erasure (it holds no personal data in clear: decision 0643)
        details["identity_verification"] = {
            "method": v.method, "reference": v.reference, "phone_checked": v.phone is not None,
        }  # fmt: skip
    return AuditEntry(
        f"partner:{ask.partner_id}", "decision", f"person:{ask.person_id}", purpose, details
    )


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
        if outcome != "declined":  # credit is extended only to a person verified (605A(h))
            missing = verification_missing(
                product.purpose, reads.alert_phones(ask.person_id), ask.verification
            )
            if missing is not None:
                outcome, terms = "verification_required", {}
                reasons = [*reasons, {"code": VERIFY_REQUIRED, "text": missing}]
            elif ask.verification is not None:
                v = ask.verification
                text = f"the partner verified the person's identity: {v.method}, ref {v.reference}"
                reasons = [*reasons, {"code": VERIFIED, "text": text}]
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
