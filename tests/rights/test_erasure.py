"""Erasure by design over a population resolved by the real identity resolution (Splink):
the person's identity records, links and identifier ciphertexts go with their events; text
the audit chain must keep is sealed under the person's key and unreadable once it is
destroyed; ``credo compact`` leaves no byte of them in the file; ``credo audit verify`` passes.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from support import run_cli

from credo.fairness.protected import load_protected
from credo.identity.resolution import resolve
from credo.ingest.batch import ingest_population
from credo.rights.disputes import open_dispute, resolve_dispute
from credo.rights.erasure import erase
from credo.settings import Settings
from credo.sim import generate
from credo.store.audit import verify
from credo.store.db import Store
from credo.store.person_keys import ERASED, unseal
from credo.store.rows import rows, value


@pytest.fixture(scope="module")
def resolved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("erasure")
    generate(150, 6, 3, root / "pop")
    db = root / "template.duckdb"
    with Store.open(Settings(db=db)) as store:
        ingest_population(store, root / "pop", max_reject_rate=0.05)
        resolve(store)
    return db


@pytest.fixture
def settings(resolved: Path, tmp_path: Path) -> Settings:
    db = tmp_path / "credo.duckdb"
    shutil.copy(resolved, db)
    shutil.copy(resolved.with_suffix(".key"), db.with_suffix(".key"))
    return Settings(db=db)


def _most_recorded(store: Store) -> str:
    """The person with the most records of their own: names in several spellings, ids."""
    person: str = value(
        store.con,
        "SELECT person_id FROM identity_records GROUP BY person_id"
        " ORDER BY count(*) DESC, person_id LIMIT 1",
    )
    return person


def _traces(store: Store, person: str) -> list[str]:
    """What identifies the person in the file's bytes: their names (those no one else's record
    contains), identifier hashes and the identifiers in clear."""
    names = [r["name"] for r in rows(
        store.con,
        "SELECT DISTINCT r.name FROM identity_records r WHERE r.person_id = ? AND r.name"
        " IS NOT NULL AND NOT EXISTS (SELECT 1 FROM identity_records o WHERE o.person_id <> ?"
        " AND contains(o.name, r.name))",
        [person, person],
    )]  # fmt: skip
    hashes = [r["h"] for r in rows(
        store.con,
        "SELECT DISTINCT national_id_hash AS h FROM identity_records WHERE person_id = ?"
        " AND national_id_hash IS NOT NULL AND national_id_hash NOT IN (SELECT national_id_hash"
        " FROM identity_records WHERE person_id <> ? AND national_id_hash IS NOT NULL)",
        [person, person],
    )]  # fmt: skip
    clear = [store.keys.decrypt("national_id", bytes(r["ciphertext"])) for r in rows(
        store.con, "SELECT ciphertext FROM pii_vault WHERE kind = 'national_id'"
        " AND hash IN (SELECT unnest(?::VARCHAR[]))", [hashes],
    )]  # fmt: skip
    return names + hashes + clear


def _in_file(path: Path, traces: list[str]) -> list[str]:
    data = path.read_bytes()
    return [t for t in traces if t.encode() in data]


def test_R_GDPR_4_crypto_shredding_leaves_sealed_audit_text_unreadable(
    settings: Settings,
) -> None:
    with Store.open(settings) as store:
        person = _most_recorded(store)
        traces = _traces(store, person)
        names = [t for t in traces if not t.isascii() or " " in t]
        assert names and len(traces) > len(names), "names, hashes and an id to look for"
        event_id = value(
            store.con,
            "SELECT min(event_id) FROM event_persons WHERE person_id = ? AND role = 'subject'",
            [person],
        )
        note = f"{names[0]} phoned: the bill was paid"
        dispute = open_dispute(store, person, event_id, "paid on time")
        resolve_dispute(store, dispute.dispute_id, "reject", note=note)
        logged = "SELECT details FROM audit_log WHERE action = 'dispute.reject'"
        (details,) = [json.loads(d) for (d,) in store.con.execute(logged).fetchall()]
        assert note not in json.dumps(details, ensure_ascii=False)  # sealed, not in clear
        assert unseal(store.con, store.keys, person, details)["note"] == note
        store.con.execute("CHECKPOINT")
    assert _in_file(settings.db, traces), "the person is in the file's bytes before erasure"

    with Store.open(settings) as store:
        request = erase(store, person, actor="admin")
        assert request.status == "done"
        removed = request.removed
        assert removed["identity_records"] > 0 and removed["identity_links"] > 0
        assert removed["identifiers"] > 0 and removed["key"] == 1
        left = value(
            store.con, "SELECT count(*) FROM identity_records WHERE person_id = ?", [person]
        )
        assert left == 0
        assert unseal(store.con, store.keys, person, details) == {"dispute_id":
            dispute.dispute_id, "action": None} | ERASED  # fmt: skip
        assert verify(store.con).ok
    # Deleted and checkpointed, the rows are still in free blocks (measured in 0643): rewrite.
    compacted = run_cli("compact", "--json", db=settings.db)
    assert compacted.returncode == 0, compacted.stderr
    assert _in_file(settings.db, [*traces, note]) == []
    verified = run_cli("audit", "verify", "--json", db=settings.db)
    assert verified.returncode == 0 and json.loads(verified.stdout)["ok"] is True
    with Store.open(settings) as store:  # the rewritten file is a whole database
        assert store.scalar("SELECT count(*) FROM events") > 0
        assert store.scalar("SELECT status FROM persons WHERE person_id = ?", [person]) == (
            "erased"
        )


def test_R_GDPR_4_erasure_takes_the_persons_protected_attributes(
    settings: Settings, resolved: Path
) -> None:
    """Protected attributes (SPEC S11) are keyed by the person's identifier hashes: erasure
    removes the person's rows and no one else's."""
    with Store.open(settings) as store:
        load_protected(store, resolved.parent / "pop" / "protected" / "protected.csv")
        person = _most_recorded(store)
        own = (
            "SELECT count(*) FROM protected_attributes WHERE id_hash IN (SELECT national_id_hash"
            " FROM identity_records WHERE person_id = ?)"
        )
        mine = store.scalar(own, [person])
        total = store.scalar("SELECT count(*) FROM protected_attributes")
        assert mine > 0
        request = erase(store, person, actor="admin")
        assert request.removed["protected"] == mine
        assert store.scalar("SELECT count(*) FROM protected_attributes") == total - mine
        assert verify(store.con).ok
