"""The vault's ciphertexts are stored uncompressed (migration 19, decision 0987): the rebuild
keeps every row, in order, and a store opened after it still decrypts what it held."""

from __future__ import annotations

import os

import duckdb

from credo.settings import Settings
from credo.store import db as store_db
from credo.store.crypto import IdentifierKeys, load_or_create_secret
from credo.store.db import Store
from credo.store.schema import SCHEMA_VERSION


def _ciphertext_ddl(con: duckdb.DuckDBPyConnection) -> str:
    (sql,) = con.execute(
        "SELECT sql FROM duckdb_tables() WHERE table_name = 'pii_vault'"
    ).fetchone() or ("",)
    return str(sql)


def test_migration_19_keeps_the_vault_and_stores_ciphertexts_uncompressed(
    settings: Settings,
) -> None:
    secret = load_or_create_secret(settings.resolved_key_file, settings.secret_key, create=True)
    keys = IdentifierKeys.from_secret(secret)
    con = duckdb.connect(str(settings.db))
    store_db._migrate(con, settings.db, upto=18)
    phones = [f"1300000{i:04d}" for i in range(3000)]
    rows = [
        ("phone", os.urandom(16).hex(), keys.encrypt("phone", p), i % 7 + 1)
        for i, p in enumerate(phones)
    ]
    con.execute(
        "INSERT INTO pii_vault SELECT unnest(?), unnest(?), unnest(?), unnest(?)",
        [list(col) for col in zip(*rows, strict=True)],
    )
    assert "USING COMPRESSION" not in _ciphertext_ddl(con)
    con.close()
    with Store.open(settings) as store:
        assert store.schema_version() == SCHEMA_VERSION >= 19
        assert "ciphertext BLOB USING COMPRESSION Uncompressed" in _ciphertext_ddl(store.con)
        kept = store.con.execute("SELECT kind, hash, ciphertext, first_load_id FROM pii_vault")
        assert [tuple(r) for r in kept.fetchall()] == rows  # every row, in order
        store.con.execute("CHECKPOINT")
        used = store.con.execute(
            "SELECT DISTINCT compression FROM pragma_storage_info('pii_vault') "
            "WHERE column_name = 'ciphertext' AND segment_type <> 'VALIDITY'"
        ).fetchall()
        assert used == [("Uncompressed",)]
        plain = [store.keys.decrypt("phone", bytes(c)) for (_, _, c, _) in rows]
        assert plain == phones


def test_a_rewrite_keeps_the_ciphertexts_uncompressed(settings: Settings) -> None:
    """``credo compact`` copies the database (``COPY FROM DATABASE``): the copy must keep the
    column's declared compression, or the first erasure would undo migration 19."""
    with Store.open(settings) as store:
        cipher = store.keys.encrypt("phone", "13000000001")
        store.con.execute("INSERT INTO pii_vault VALUES ('phone', 'h1', ?, 1)", [cipher])
        store.rewrite()
    with Store.open(settings) as store:
        assert "ciphertext BLOB USING COMPRESSION Uncompressed" in _ciphertext_ddl(store.con)
        (got,) = store.con.execute("SELECT ciphertext FROM pii_vault").fetchone() or (b"",)
        assert store.keys.decrypt("phone", bytes(got)) == "13000000001"
