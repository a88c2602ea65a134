"""Identity resolution end to end: real DuckDB file, real Splink, generated ground truth."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from credo.errors import ConfigError, ConflictError
from credo.identity import (
    accept_review,
    add_review,
    explain_person,
    list_reviews,
    reject_review,
    resolve,
)
from credo.identity.linkage import SETTINGS_VERSION
from credo.identity.records import event_record_key_sql
from credo.store.audit import verify
from credo.store.db import Store

from .conftest import FIRST_SOURCES, Loaded, copy_db, load_sources


def _truth(store: Store, loaded: Loaded) -> dict[str, str]:
    """record id -> true person id (a record's events all belong to one person)."""
    rows = store.con.execute(
        f"""
        SELECT {event_record_key_sql("e")} AS record_id, min(t.person_id), max(t.person_id)
        FROM events e JOIN read_parquet(?) t USING (source, source_record_id)
        GROUP BY 1
        """,
        [str(loaded.population.truth_records)],
    ).fetchall()
    assert all(lo == hi for _r, lo, hi in rows), "a record tuple shared by two true persons"
    return {r: lo for r, lo, _hi in rows}


def _assigned(store: Store) -> dict[str, str]:
    return dict(store.con.execute("SELECT record_id, person_id FROM identity_records").fetchall())


def _pair_counts(groups: dict[str, list[str]]) -> int:
    return sum(len(v) * (len(v) - 1) // 2 for v in groups.values())


def _precision_recall(assigned: dict[str, str], truth: dict[str, str]) -> tuple[float, float]:
    both: dict[tuple[str, str], list[str]] = {}
    pred: dict[str, list[str]] = {}
    true: dict[str, list[str]] = {}
    for record, person in assigned.items():
        t = truth[record]
        both.setdefault((person, t), []).append(record)
        pred.setdefault(person, []).append(record)
        true.setdefault(t, []).append(record)
    tp = _pair_counts({str(k): v for k, v in both.items()})
    return tp / _pair_counts(pred), tp / _pair_counts(true)


def test_precision_and_recall_against_truth(resolved_store: Store, loaded: Loaded) -> None:
    precision, recall = _precision_recall(_assigned(resolved_store), _truth(resolved_store, loaded))
    assert precision >= 0.995, precision
    assert recall >= 0.95, recall


def test_event_persons_complete_and_consistent(resolved_store: Store) -> None:
    con = resolved_store.con
    with_identity = con.execute(
        "SELECT count(*) FROM events WHERE coalesce(subject_ref, name, national_id_hash, "
        "phone_hash) IS NOT NULL"
    ).fetchall()[0][0]
    subjects = con.execute(
        "SELECT count(*), count(DISTINCT event_id) FROM event_persons WHERE role = 'subject'"
    ).fetchall()[0]
    assert subjects == (with_identity, with_identity)
    orphans = con.execute(
        "SELECT count(*) FROM event_persons ep ANTI JOIN persons p USING (person_id)"
    ).fetchall()[0][0]
    assert orphans == 0
    inactive = con.execute(
        "SELECT count(*) FROM event_persons ep JOIN persons p USING (person_id) "
        "WHERE p.status <> 'active'"
    ).fetchall()[0][0]
    assert inactive == 0
    counterparts = con.execute(
        "SELECT count(*) FROM event_persons WHERE role = 'counterpart'"
    ).fetchall()[0][0]
    connections = con.execute(
        "SELECT count(*) FROM events WHERE event_type = 'connection'"
    ).fetchall()[0][0]
    assert counterparts >= 0.9 * connections
    assert verify(con).ok


def test_ids_are_identical_across_runs(loaded: Loaded, tmp_path: Path) -> None:
    results = []
    for name in ("a", "b"):
        with Store.open(copy_db(loaded.db, tmp_path / name)) as store:
            first = resolve(store)
            again = resolve(store)
            assert (again.new_persons, again.merges, again.splits) == (0, 0, 0)
            assert not again.trained and again.model_id == first.model_id
            results.append((first.model_id, _assigned(store)))
    assert results[0] == results[1]


def test_incremental_load_keeps_existing_ids(partly_loaded: Loaded, tmp_path: Path) -> None:
    with Store.open(copy_db(partly_loaded.db, tmp_path)) as store:
        resolve(store)
        before = _assigned(store)
        rest = tuple(
            s
            for s in ("alipay_payments", "city_utilities", "social_graph", "consents")
            if s not in FIRST_SOURCES
        )
        load_sources(store, partly_loaded.population, rest)
        report = resolve(store)
        after = _assigned(store)
        # new records; since decision 0303 the few that carry only a name or a name and an
        # address join the one person they can be, so new persons need not appear here
        assert report.new_records > 0
        merged = {
            old: new
            for new, olds in store.con.execute(
                "SELECT person_id, other_person_ids FROM identity_changes WHERE kind = 'merge'"
            ).fetchall()
            for old in olds
        }
        for record, old in before.items():
            assert after[record] == old or merged.get(old) == after[record], record
        # a load adds evidence: persons merge, none is split or renumbered
        assert report.splits == 0
        assert set(after.values()) >= {p for p in before.values() if p not in merged}
        # the new sources join persons that were apart: merges, each with its evidence
        assert report.merges > 0
        evidence = store.con.execute(
            "SELECT evidence FROM identity_changes WHERE kind = 'merge' LIMIT 1"
        ).fetchall()[0][0]
        assert '"links"' in evidence and '"rule"' in evidence
        statuses = dict(
            store.con.execute(
                "SELECT person_id, status FROM persons WHERE person_id IN "
                "(SELECT unnest(other_person_ids) FROM identity_changes WHERE kind = 'merge')"
            ).fetchall()
        )
        assert set(statuses.values()) == {"merged"}
        assert verify(store.con).ok


def test_twins_are_not_merged(resolved_store: Store, loaded: Loaded) -> None:
    twins = duckdb.sql(
        f"SELECT person_id, twin_of FROM read_parquet('{loaded.population.truth_persons}') "
        "WHERE is_twin"
    ).fetchall()
    assert len(twins) >= 10
    truth = _truth(resolved_store, loaded)
    persons_of: dict[str, set[str]] = {}
    for record, person in _assigned(resolved_store).items():
        persons_of.setdefault(truth[record], set()).add(person)
    for a, b in twins:
        assert not (persons_of.get(a, set()) & persons_of.get(b, set())), (a, b)


def test_hanzi_and_pinyin_records_are_linked(resolved_store: Store, loaded: Loaded) -> None:
    truth = _truth(resolved_store, loaded)
    assigned = _assigned(resolved_store)
    rows = resolved_store.con.execute(
        "SELECT record_id, source, name FROM identity_records WHERE name IS NOT NULL"
    ).fetchall()
    hanzi = {truth[r]: assigned[r] for r, s, n in rows if s == "identity_registry"}
    bank = [(truth[r], assigned[r]) for r, s, n in rows if s == "bank_loans"]
    same = sum(hanzi.get(t) == p for t, p in bank if t in hanzi)
    assert bank and same / len([t for t, _ in bank if t in hanzi]) >= 0.99
    # and the model itself sees the pinyin: links scored on the name through pinyin
    levels = {
        c.level
        for person in {assigned[r] for r, s, _ in rows if s == "bank_loans"}
        for link in explain_person(resolved_store, person).links
        for c in link.comparisons
        if c.comparison == "name"
    }
    assert "same pinyin, any order" in levels


def test_explanation_lists_records_links_and_weights(resolved_store: Store) -> None:
    person = resolved_store.scalar(
        "SELECT person_id FROM identity_records GROUP BY 1 HAVING count(DISTINCT source) >= 4 "
        "ORDER BY 1 LIMIT 1"
    )
    ex = explain_person(resolved_store, person)
    assert ex.status == "active" and len(ex.records) >= 4
    assert len(ex.links) == len(ex.records) - 1  # a spanning tree: exactly the evidence
    model_links = [link for link in ex.links if link.rule == "model"]
    assert model_links
    for link in model_links:
        assert link.match_weight is not None
        named = {c.comparison for c in link.comparisons}
        assert {"name", "birth_date", "phone", "address", "national_id"} <= named
        prior = link.match_weight - sum(c.weight for c in link.comparisons)
        assert prior < 0  # the weights of the comparisons add up to the match weight
    assert all(r.events >= 1 for r in ex.records)


def test_accepting_a_pair_that_cannot_be_one_person_is_refused(resolved_store: Store) -> None:
    """An acceptance the clustering would never honour is refused when it is made, and
    changes nothing; a rejected pair between the two persons is refused the same way."""
    store = resolved_store
    (a, pa_), (b, pb) = store.con.execute(
        "SELECT min(record_id), person_id FROM identity_records WHERE id_sex IS NOT NULL "
        "GROUP BY person_id HAVING count(DISTINCT national_id_hash) = 1 ORDER BY 1 LIMIT 2"
    ).fetchall()
    item = add_review(store, a, b, "an operator thinks these are one person")
    with pytest.raises(ConflictError, match="hold different verified national ids"):
        accept_review(store, item.review_id, actor="reviewer")
    assert [i.status for i in list_reviews(store, None, 1000) if i.review_id == item.review_id] == [
        "pending"
    ]
    resolve(store)
    persons = _assigned(store)
    assert persons[a] == pa_ and persons[b] == pb

    # two persons without verified ids, kept apart by a rejected pair of their records: a
    # pair of their other records may not be accepted either
    (c, e), (d, f) = store.con.execute(
        "SELECT min(record_id), max(record_id) FROM identity_records GROUP BY person_id "
        "HAVING count(id_sex) = 0 AND count(*) >= 2 ORDER BY 1 LIMIT 2"
    ).fetchall()
    reject_review(store, add_review(store, c, d, "not the same").review_id, actor="reviewer")
    again = add_review(store, e, f, "an operator thinks these are one person")
    with pytest.raises(ConflictError, match="was rejected"):
        accept_review(store, again.review_id, actor="reviewer")


def test_review_decisions_are_remembered(resolved_store: Store) -> None:
    store = resolved_store
    # a pair the model linked on its own: rejecting it splits the person, for good
    left, right = store.con.execute(
        "SELECT record_l, record_r FROM identity_links WHERE rule = 'model' "
        "ORDER BY match_weight, record_l LIMIT 1"
    ).fetchall()[0]
    item = add_review(store, left, right, "this isn't me (dispute)")
    assert item.same_person_now
    reject_review(store, item.review_id, note="different persons")
    report = resolve(store)
    assert report.splits >= 1
    for _ in range(2):
        persons = _assigned(store)
        assert persons[left] != persons[right]
        resolve(store)
    split = store.con.execute(
        "SELECT count(*) FROM identity_changes WHERE kind = 'split'"
    ).fetchall()[0][0]
    assert split >= 1

    pending = list_reviews(store)
    if not pending:  # a small population can leave the review band empty: ask for one
        # about two persons that may be one: neither holds a verified national id (two that
        # do would be refused, see the test below), nor a rejected pair between them
        (a,), (b,) = store.con.execute(
            "SELECT min(record_id) FROM identity_records GROUP BY person_id "
            "HAVING count(id_sex) = 0 AND NOT list_contains(list(record_id), ?) "
            "AND NOT list_contains(list(record_id), ?) ORDER BY 1 LIMIT 2",
            [left, right],
        ).fetchall()
        add_review(store, a, b, "an operator thinks these are one person")
        pending = list_reviews(store)
    chosen = pending[0]
    assert not chosen.same_person_now
    accept_review(store, chosen.review_id, actor="reviewer", note="same person")
    resolve(store)
    resolve(store)
    persons = _assigned(store)
    assert persons[chosen.record_l] == persons[chosen.record_r]
    assert [
        i.status for i in list_reviews(store, None, 1000) if i.review_id == chosen.review_id
    ] == ["accepted"]
    with pytest.raises(Exception, match="already accepted"):
        reject_review(store, chosen.review_id)
    assert verify(store.con).ok


def test_a_model_of_older_settings_is_refused_until_retrained(
    loaded: Loaded, tmp_path: Path
) -> None:
    """A store whose active model predates the settings (decision 0997 changed the blocking)
    is not silently reinterpreted; ``--train`` replaces it without reading it."""
    with Store.open(copy_db(loaded.db, tmp_path / "old")) as store:
        first = resolve(store)
        store.con.execute(
            "UPDATE identity_models SET model = replace(model, ?, '\"credo-linkage-0\"') "
            "WHERE active",
            [f'"{SETTINGS_VERSION}"'],
        )
        with pytest.raises(ConfigError, match="credo-linkage-0") as refused:
            resolve(store)
        assert "--train" in str(refused.value.hint)
        again = resolve(store, train=True)
        assert again.trained and again.model_id == first.model_id
        assert (again.new_persons, again.merges, again.splits) == (0, 0, 0)
