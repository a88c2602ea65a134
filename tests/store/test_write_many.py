"""``Store.write_many``: a batch of writes with one audit entry each, in one transaction."""

from __future__ import annotations

import pytest

from credo.store.audit import AuditEntry, verify
from credo.store.db import Store


def commit_entries(store: Store, entries: list[AuditEntry]) -> None:
    """A write transaction that changes no table: only its audit entries are committed."""
    with store.write_many(entries):
        return


def _entries(n: int, action: str = "test.write") -> list[AuditEntry]:
    return [AuditEntry("tester", action, f"item:{i}", "testing", {"i": i}) for i in range(n)]


def test_a_batch_chains_one_entry_per_write_and_commits_once(store: Store) -> None:
    commit_entries(store, [AuditEntry("tester", "test.first")])
    with store.write_many(_entries(5)) as con:
        con.execute("CREATE TABLE items (i INTEGER)")
        con.execute("INSERT INTO items SELECT range FROM range(5)")
    rows = store.con.execute(
        "SELECT seq, logged_at, details FROM audit_log WHERE action = 'test.write' ORDER BY seq"
    ).fetchall()
    assert [r[0] for r in rows] == [2, 3, 4, 5, 6]
    assert [r[2] for r in rows] == [f'{{"i":{i}}}' for i in range(5)]
    assert len({r[1] for r in rows}) == 1  # one transaction, one time
    assert store.scalar("SELECT value FROM meta WHERE key = 'audit_head'").startswith("6:")
    report = verify(store.con)
    assert report.ok and report.entries == 6


def test_a_failed_batch_stores_nothing_and_the_chain_goes_on(store: Store) -> None:
    commit_entries(store, [AuditEntry("tester", "test.first")])
    with pytest.raises(RuntimeError), store.write_many(_entries(3)) as con:
        con.execute("CREATE TABLE items (i INTEGER)")
        raise RuntimeError("boom")
    assert store.scalar("SELECT count(*) FROM audit_log") == 1
    # The remembered head was forgotten with the rollback: the next entry is number 2.
    commit_entries(store, _entries(2))
    assert [r[0] for r in store.con.execute("SELECT seq FROM audit_log ORDER BY seq").fetchall()] \
        == [1, 2, 3]  # fmt: skip
    assert verify(store.con).ok


def test_data_version_moves_with_writes_not_with_audit_entries_alone(store: Store) -> None:
    start = store.data_version
    store.audit(AuditEntry("tester", "test.read", "item:1", "testing"))
    assert store.data_version == start
    commit_entries(store, [AuditEntry("tester", "test.write")])
    assert store.data_version == start + 1
    commit_entries(store, _entries(2))
    assert store.data_version == start + 2


def test_the_head_survives_reopening(store: Store) -> None:
    commit_entries(store, _entries(3))
    store.close()
    with Store.open(store.settings) as again:
        commit_entries(again, [AuditEntry("tester", "test.again")])
        report = verify(again.con)
    assert report.ok and report.entries == 4


def test_verify_after_walks_only_what_was_appended(store: Store) -> None:
    commit_entries(store, _entries(4))
    whole = verify(store.con)
    assert whole.ok and whole.entries == 4
    commit_entries(store, _entries(3))
    tail = verify(store.con, after=(whole.entries, whole.head))
    assert tail.ok and tail.entries == 7 and tail.head == verify(store.con).head
    # An entry appended after the mark and then edited is caught by the short walk...
    store.con.execute("UPDATE audit_log SET actor = 'someone else' WHERE seq = 6")
    report = verify(store.con, after=(whole.entries, whole.head))
    assert report.broken_at == 6 and "content does not match" in (report.problem or "")
    # ...an edit before the mark only by a whole walk, which is why the console offers one.
    store.con.execute("UPDATE audit_log SET actor = 'tester' WHERE seq = 6")
    store.con.execute("UPDATE audit_log SET actor = 'someone else' WHERE seq = 2")
    assert verify(store.con, after=(whole.entries, whole.head)).ok
    assert verify(store.con).broken_at == 2
