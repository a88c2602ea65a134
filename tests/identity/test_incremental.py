"""Incremental resolution and retracted events, on a real store with real Splink.

A *bridge* is one new source record that the exact rule ties to one existing person (same
verified national id, no date of birth) and the model ties to another (same name, phone and
address): it must merge the two, once, with its links as the evidence, and leave every other
person's id alone. Retracted, the same record must link nobody.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import credo.identity.resolution as resolution
from credo.identity import reject_review, resolve
from credo.identity.delta import LINKAGE_COLUMNS
from credo.identity.linkage import PAIRS_TABLE, predict_pairs, score_new_pairs, splink_connection
from credo.identity.records import event_record_key_sql
from credo.identity.rules import persons_with_two_verified_ids
from credo.identity.stored_model import active_model
from credo.store.db import Store
from credo.store.rows import registered
from credo.store.schema import (
    EVENT_TYPES,
    event_table,
    hashes_as_numbers_sql,
    hashes_as_text_sql,
    stored_hashes,
)

from .conftest import FIRST_SOURCES, Loaded, copy_db, load_sources
from .test_resolve import _assigned, _precision_recall, _truth

BRIDGE_SOURCE = "test_bridge"


def _next_event_id(store: Store) -> int:
    return int(store.scalar("SELECT coalesce(max(event_id), 0) + 1 FROM events"))


def _insert_event(store: Store, event_type: str, source_record_id: str, **fields: Any) -> int:
    """One event written straight into the store, as a load of a new source would."""
    event_id = _next_event_id(store)
    values: dict[str, Any] = {
        "event_id": event_id,
        "source": BRIDGE_SOURCE,
        "load_id": 0,
        "row_no": event_id,
        "recorded_at": dt.datetime(2026, 11, 1),
        "source_record_id": source_record_id,
        "occurred_at": dt.datetime(2026, 10, 1),
        **fields,
    }
    names = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    store.con.execute(
        f"INSERT INTO {event_table(event_type)} ({names}) VALUES ({marks})",
        list(stored_hashes(values).values()),
    )
    return event_id


# a phone hash with leading zeros: the events view must give it back as the same 32 characters
LONE = {
    "name": "桥测试",
    "phone_hash": "0000000000000000000000000000b0e1",
    "address": "测试省测试市桥路1号",
}


def _lone_person(store: Store) -> tuple[str, str]:
    """Add a record sharing only sex and date of birth with a person the id rule built, and
    resolve it as a person of its own; that person's national id hash and id."""
    nid, person_b, sex, birth = store.con.execute(
        "SELECT r.national_id_hash, r.person_id, r.sex, r.birth_date FROM identity_links l "
        "JOIN identity_records r ON r.record_id = l.record_l "
        "WHERE l.rule = 'national_id' AND r.sex IS NOT NULL AND r.birth_date IS NOT NULL "
        "ORDER BY r.record_id LIMIT 1"
    ).fetchall()[0]
    _insert_event(
        store, "attribute", "lone-1", **LONE, sex=sex, birth_date=birth,
        attribute="note", attribute_value="lone",
    )  # fmt: skip
    assert resolve(store, incremental=True).new_persons == 1
    return str(nid), str(person_b)


def _bridge(store: Store, *, retracted: bool = False) -> tuple[str, str]:
    """Add a record bridging two resolved persons; their ids (model side, id-rule side).

    The two may be one person for all their records say (person A has no national id, and
    the sex and date of birth of B), else the clustering would refuse the bridge
    (``test_bridge_between_contradicting_persons_is_refused``)."""
    nid, person_b = _lone_person(store)
    name, phone, address, sex, person_a = store.con.execute(
        "SELECT name, phone_hash, address, sex, person_id FROM identity_records "
        "WHERE phone_hash = ?",
        [LONE["phone_hash"]],
    ).fetchall()[0]
    _insert_event(
        store,
        "attribute",
        "bridge-1",
        name=name,
        phone_hash=phone,
        address=address,
        sex=sex,
        national_id_hash=nid,
        attribute="note",
        attribute_value="bridge",
    )
    if retracted:
        _insert_event(
            store,
            "correction",
            "bridge-1-retraction",
            target_source=BRIDGE_SOURCE,
            target_record_id="bridge-1",
            correction_action="retract",
            reason="not this person's record",
        )
    return str(person_a), str(person_b)


def _run_bridge(loaded: Loaded, to: Path) -> tuple[dict[str, str], dict[str, str], list[Any]]:
    with Store.open(copy_db(loaded.db, to)) as store:
        resolve(store)
        person_a, person_b = _bridge(store)
        before = _assigned(store)
        report = resolve(store, incremental=True)
        assert report.mode == "incremental" and report.full_because is None
        assert (report.new_records, report.merges, report.splits) == (1, 1, 0)
        # it read the bridge and the persons around it, not every record (decision 0305)
        assert report.records_read < report.records / 10
        after = _assigned(store)
        changes = store.con.execute(
            "SELECT kind, person_id, other_person_ids, evidence FROM identity_changes "
            "WHERE run_id = ? ORDER BY change_id",
            [report.run_id],
        ).fetchall()
        # a full run over the same records finds the same persons
        again = resolve(store)
        assert (again.mode, again.new_persons, again.merges, again.splits) == ("full", 0, 0, 0)
        assert _assigned(store) == after
    assert len(changes) == 1
    kind, survivor, others, evidence = changes[0]
    assert kind == "merge" and {survivor, *others} == {person_a, person_b}
    bridge = (set(after) - set(before)).pop()
    links = json.loads(evidence)["links"]
    assert {link["rule"] for link in links} == {"national_id", "model"}
    assert all(bridge in (link["record_l"], link["record_r"]) for link in links)
    # nobody else moved: each old record keeps its person, or follows it into the survivor
    for record, old in before.items():
        assert after[record] == (survivor if old in others else old), record
    return before, after, changes


def test_bridging_record_merges_two_persons_once_and_deterministically(
    loaded: Loaded, tmp_path: Path
) -> None:
    first = _run_bridge(loaded, tmp_path / "a")
    second = _run_bridge(loaded, tmp_path / "b")
    assert first[1] == second[1]
    assert [c[:3] for c in first[2]] == [c[:3] for c in second[2]]


def test_retracted_event_links_nobody(resolved_store: Store) -> None:
    store = resolved_store
    person_a, person_b = _bridge(store, retracted=True)
    before = _assigned(store)
    report = resolve(store, incremental=True)
    assert (report.new_records, report.merges) == (0, 0)
    assert _assigned(store) == before  # the bridge gave no record: nothing moved
    bridged = store.con.execute(
        "SELECT count(*) FROM event_persons p JOIN events e USING (event_id) "
        "WHERE e.source = ? AND e.source_record_id = 'bridge-1'",
        [BRIDGE_SOURCE],
    ).fetchall()[0][0]
    assert bridged == 0
    assert person_a != person_b and {person_a, person_b} <= set(before.values())


def test_retraction_after_a_merge_undoes_it_in_a_full_run(resolved_store: Store) -> None:
    store = resolved_store
    person_a, person_b = _bridge(store)
    before = _assigned(store)
    assert resolve(store, incremental=True).merges == 1
    _insert_event(
        store,
        "correction",
        "bridge-1-retraction",
        target_source=BRIDGE_SOURCE,
        target_record_id="bridge-1",
        correction_action="retract",
        reason="not this person's record",
    )
    report = resolve(store, incremental=True)
    assert report.mode == "full" and "gone" in str(report.full_because)
    assert report.splits == 1
    after = _assigned(store)
    assert len(after) == len(before)  # the bridge's record is gone
    apart = [
        {after[r] for r, p in before.items() if p == person} for person in (person_a, person_b)
    ]
    assert not apart[0] & apart[1]


def test_incremental_load_scores_only_new_records(partly_loaded: Loaded, tmp_path: Path) -> None:
    with Store.open(copy_db(partly_loaded.db, tmp_path)) as store:
        first = resolve(store, incremental=True)
        assert first.mode == "full" and first.full_because == "no earlier run"
        before = _assigned(store)
        rest = ("alipay_payments", "city_utilities", "social_graph", "consents")
        load_sources(
            store, partly_loaded.population, tuple(s for s in rest if s not in FIRST_SOURCES)
        )
        report = resolve(store, incremental=True)
        assert report.mode == "incremental" and report.splits == 0
        assert report.scored_pairs > 0
        after = _assigned(store)
        merged = {
            old: new
            for new, olds in store.con.execute(
                "SELECT person_id, other_person_ids FROM identity_changes WHERE kind = 'merge'"
            ).fetchall()
            for old in olds
        }
        for record, old in before.items():
            assert after[record] in (old, merged.get(old)), record
        precision, recall = _precision_recall(after, _truth(store, partly_loaded))
        assert precision >= 0.995, precision
        assert recall >= 0.95, recall
        # the full run scores every pair again, the incremental one only the new records'
        full = resolve(store)
        assert report.scored_pairs < full.scored_pairs


def test_a_review_decision_makes_the_next_run_full(resolved_store: Store) -> None:
    store = resolved_store
    item = store.con.execute(
        "SELECT review_id FROM identity_reviews WHERE status = 'pending' ORDER BY 1 LIMIT 1"
    ).fetchall()
    if not item:
        from credo.identity import add_review

        (a,), (b,) = store.con.execute(
            "SELECT min(record_id) FROM identity_records GROUP BY person_id ORDER BY 1 LIMIT 2"
        ).fetchall()
        review_id = add_review(store, a, b, "an operator asks").review_id
    else:
        review_id = item[0][0]
    assert resolve(store, incremental=True).mode == "incremental"
    reject_review(store, review_id)
    report = resolve(store, incremental=True)
    assert report.mode == "full" and "review" in str(report.full_because)
    assert resolve(store, incremental=True).mode == "incremental"


def test_service_events_keep_their_person(resolved_store: Store) -> None:
    """An event written for a known person carries no identity: resolving must not drop it."""
    store = resolved_store
    person = store.scalar("SELECT min(person_id) FROM identity_records")
    event_id = _insert_event(store, "consent", "consent-1", consent_action="grant")
    store.con.execute(
        "INSERT INTO event_persons VALUES (?, 'subject', ?, now()::TIMESTAMP)", [event_id, person]
    )
    resolve(store)
    kept = store.con.execute(
        "SELECT person_id FROM event_persons WHERE event_id = ?", [event_id]
    ).fetchall()
    assert kept == [(person,)]


def test_bridge_between_contradicting_persons_is_refused(resolved_store: Store) -> None:
    # the bridge carries person A's name, phone and address and person B's verified id: the
    # model ties it to A, the id rule to B, and A's own verified id differs from B's
    store = resolved_store
    name, phone, address, sex, person_a, id_a = store.con.execute(
        "SELECT r.name, r.phone_hash, r.address, r.sex, r.person_id, l.national_id_hash "
        "FROM identity_records r JOIN identity_records l USING (person_id) "
        "WHERE r.phone_hash IS NOT NULL AND r.national_id_hash IS NULL AND r.name IS NOT NULL "
        "AND r.address IS NOT NULL AND l.national_id_hash IS NOT NULL "
        "ORDER BY r.record_id, l.record_id LIMIT 1"
    ).fetchall()[0]
    id_b, person_b = store.con.execute(
        "SELECT r.national_id_hash, r.person_id FROM identity_links l "
        "JOIN identity_records r ON r.record_id = l.record_l "
        "WHERE l.rule = 'national_id' AND r.person_id <> ? AND r.national_id_hash <> ? "
        "ORDER BY r.record_id LIMIT 1",
        [person_a, id_a],
    ).fetchall()[0]
    before = _assigned(store)
    _insert_event(
        store, "attribute", "bridge-1", name=name, phone_hash=phone, address=address, sex=sex,
        national_id_hash=id_b, attribute="note", attribute_value="bridge",
    )  # fmt: skip
    report = resolve(store, incremental=True)
    assert (report.mode, report.merges, report.new_persons) == ("incremental", 0, 0)
    assert report.refused_links >= 1
    after = _assigned(store)
    assert {r: (p, after[r]) for r, p in before.items() if after[r] != p} == {}  # none moved
    assert persons_with_two_verified_ids(store) == []
    # a full run may let the bridge take a record or two, never both ids
    full = resolve(store)
    assert full.mode == "full" and full.refused_links >= 1
    assert persons_with_two_verified_ids(store) == []
    assert person_a != person_b


def _hold_back(store: Store, share: float) -> tuple[int, dict[str, pa.Table]]:
    """Take out the events of about ``share`` of the source records (chosen by their origin, so
    by what the data says), as a later load would bring them; how many records, and the rows
    per event table."""
    key = event_record_key_sql("e")
    chosen = (
        f"WITH r AS (SELECT {key} AS k, min(source || '/' || source_record_id) AS origin "
        "FROM events e WHERE e.name IS NOT NULL GROUP BY 1), "
        f"c AS (SELECT k FROM r ORDER BY md5(origin) LIMIT (SELECT ceil(count(*) * {share}) "
        "FROM r)) "
        f"SELECT e.source, e.source_record_id FROM events e JOIN c ON c.k = {key}"
    )
    count = int(store.scalar(f"SELECT count(DISTINCT {key}) FROM events e WHERE "
                             f"(source, source_record_id) IN ({chosen})"))  # fmt: skip
    held: dict[str, pa.Table] = {}
    for event_type in EVENT_TYPES:
        table = event_table(event_type)
        where = f"(source, source_record_id) IN ({chosen})"
        held[table] = store.con.sql(
            f"SELECT * {hashes_as_text_sql(table)} FROM {table} WHERE {where}"
        ).to_arrow_table()
    for table, rows_held in held.items():
        with registered(store.con, "credo_held", rows_held):
            store.con.execute(
                f"DELETE FROM {table} WHERE (source, source_record_id) IN "
                "(SELECT source, source_record_id FROM credo_held)"
            )
    return count, held


def _put_back(store: Store, held: dict[str, pa.Table]) -> None:
    """Load the held events again, numbered after every stored event as a load numbers them."""
    for table, rows_held in held.items():
        with registered(store.con, "credo_held", rows_held):
            base = _next_event_id(store) - 1
            store.con.execute(
                f"INSERT INTO {table} SELECT * REPLACE ({base} + row_number() OVER "
                "(ORDER BY event_id) AS event_id) FROM (SELECT * "
                f"{hashes_as_numbers_sql(table)} FROM credo_held) h"
            )


def _row_versions(store: Store) -> tuple[dict[str, tuple[Any, ...]], dict[Any, tuple[Any, ...]]]:
    """Each identity record and each event's person row, with the row's DuckDB ``rowid``: a
    rewritten row (deleted and inserted again) gets another rowid."""
    records = {
        r[0]: r[1:]
        for r in store.con.execute(
            "SELECT record_id, rowid, person_id, first_seen_at FROM identity_records"
        ).fetchall()
    }
    placed = {
        (r[0], r[1]): r[2:]
        for r in store.con.execute(
            "SELECT event_id, role, rowid, person_id, linked_at FROM event_persons"
        ).fetchall()
    }
    return records, placed


def _partition(assigned: dict[str, str]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for record, person in assigned.items():
        groups.setdefault(person, set()).add(record)
    return {frozenset(g) for g in groups.values()}


def test_incremental_run_rewrites_only_the_rows_that_changed(
    loaded: Loaded, tmp_path: Path
) -> None:
    """1% new records: every identity record and event row whose person did not change keeps
    its row (same rowid, same linked_at), and the persons are those of a full run."""
    with Store.open(copy_db(loaded.db, tmp_path / "incremental")) as store:
        new, held = _hold_back(store, 0.01)
        first = resolve(store)
        records_before, placed_before = _row_versions(store)
        _put_back(store, held)
        report = resolve(store, incremental=True)
        assert report.mode == "incremental" and report.new_records == new > 0
        assert report.records_read < report.records  # the new records' neighbourhood only
        records_after, placed_after = _row_versions(store)
        assert len(records_after) == first.records + new
        kept = [r for r, (_, p, _) in records_before.items() if records_after[r][1] == p]
        assert len(kept) >= 0.95 * len(records_before)
        assert all(records_after[r] == records_before[r] for r in kept)
        kept_events = [k for k, (_, p, _) in placed_before.items() if placed_after[k][1] == p]
        assert len(kept_events) >= 0.95 * len(placed_before)
        assert all(placed_after[k] == placed_before[k] for k in kept_events)
        incremental = _assigned(store)
        # a full run over the same records and model moves nobody, so rewrites no row
        again = resolve(store)
        assert (again.mode, again.new_persons, again.merges, again.splits) == ("full", 0, 0, 0)
        assert _row_versions(store) == (records_after, placed_after)
        model = active_model(store)
    # and a full run from scratch, with the same model, finds the same persons
    assert model is not None
    with Store.open(copy_db(loaded.db, tmp_path / "full")) as store:
        resolve(store, model=model)
        assert _partition(_assigned(store)) == _partition(incremental)


def _identity_state(store: Store) -> tuple[Any, ...]:
    """Everything a run decides: persons, links, reviews, merges and splits, event persons."""
    queries = (
        "SELECT record_id, person_id FROM identity_records",
        "SELECT record_l, record_r, rule, match_weight, comparisons FROM identity_links",
        "SELECT record_l, record_r, reason, match_weight, comparisons, status "
        "FROM identity_reviews",
        "SELECT kind, person_id, other_person_ids, evidence FROM identity_changes",
        "SELECT event_id, role, person_id FROM event_persons",
        "SELECT person_id, status FROM persons",
    )
    return tuple(sorted(map(str, store.con.execute(q).fetchall())) for q in queries)


def _splink_pairs(
    con: Any, records: pa.Table, model: dict[str, Any], min_weight: float, new: list[bool]
) -> int:
    return predict_pairs(con, records, model, min_weight, new=new)


def test_an_incremental_run_reads_one_link_per_person_and_decides_as_with_every_pair(
    loaded: Loaded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scoring in SQL and keeping the strongest pair per new record and known person
    (decision 0306) reads fewer records, and finds what Splink's every pair finds."""
    stores = {}
    for name in ("every_pair", "strongest"):
        settings = copy_db(loaded.db, tmp_path / name)
        with Store.open(settings) as store:
            _new, held = _hold_back(store, 0.02)
            resolve(store)
            _put_back(store, held)
        stores[name] = settings
    with monkeypatch.context() as patch:
        patch.setattr(resolution, "score_new_pairs", _splink_pairs)
        patch.setattr(resolution, "keep_strongest", lambda *_args: 0)
        with Store.open(stores["every_pair"]) as store:
            every = resolve(store, incremental=True)
            expected = _identity_state(store)
    with Store.open(stores["strongest"]) as store:
        strongest = resolve(store, incremental=True)
        found = _identity_state(store)
    assert every.mode == strongest.mode == "incremental"
    assert strongest.scored_pairs == every.scored_pairs > 0
    assert (strongest.merges, strongest.new_persons) == (every.merges, every.new_persons)
    assert strongest.records_read < every.records_read
    assert found == expected


def test_pairs_scored_in_sql_are_splinks_bit_for_bit(resolved_store: Store) -> None:
    """``score_new_pairs`` gives the pairs and weights Splink's ``predict_within`` and
    ``predict_between`` give, for any records flagged new."""
    model = active_model(resolved_store)
    assert model is not None
    columns = ", ".join(LINKAGE_COLUMNS)
    records = resolved_store.con.sql(
        f"SELECT {columns} FROM identity_records ORDER BY record_id"
    ).to_arrow_table()
    origins = resolved_store.con.sql(
        "SELECT md5(origin) AS h FROM identity_records ORDER BY record_id"
    ).to_arrow_table()
    new = [h < "0c" for h in origins.column("h").to_pylist()]  # about 5%, by what the data says
    assert 0 < sum(new) < len(new)
    tables = []
    for scorer in (_splink_pairs, score_new_pairs):
        with splink_connection("1GB", 2) as lcon:
            scorer(lcon, records, model.splink, model.review_weight, new)
            tables.append(lcon.sql(f"SELECT * FROM {PAIRS_TABLE} ORDER BY a, b").to_arrow_table())
    assert tables[0].num_rows > 0
    assert tables[1].equals(tables[0])
