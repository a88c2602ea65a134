"""Protected attributes on the bureau: their own source, their own table, encrypted values.

SPEC S11: sex, ethnicity and the like are held apart from everything a model reads. A file of
protected attributes is loaded by :func:`load_protected` (never by ``credo ingest``: it is not a
source of events), keyed by a person's identifier as a keyed hash (as identifiers are) and
with each value encrypted under the database's identifier key, the attribute's name bound in as
associated data. The table is named only in the migration (``PROTECTED_TABLES``) and here, and the
feature SQL refuses to read it (``credo.features.sql``; tests prove both).
:func:`read_protected_columns` is the only reader (the persons matched in SQL, the values
answered as arrays), and every read is an audit-log entry saying who read what, and why.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from credo.errors import InputError
from credo.store.audit import AuditEntry
from credo.store.db import Store, utcnow
from credo.store.rows import rows
from credo.store.schema import PROTECTED_TABLES

__all__ = [
    "ID_KINDS",
    "PROTECTED_TABLE",
    "ProtectedColumn",
    "ProtectedLoad",
    "load_protected",
    "protected_loaded",
    "read_protected_columns",
]

#: The one table holding protected attributes (migration 11).
PROTECTED_TABLE = PROTECTED_TABLES[0]
#: Identifier kinds a protected file may be keyed by, and the events column holding their hash.
ID_KINDS = {"national_id": "national_id_hash", "phone": "phone_hash"}
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class ProtectedLoad:
    """What a load did: ``new`` is false when the same file was loaded before (nothing added)."""

    load_id: int
    file: str
    rows: int
    attributes: list[str]
    new: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_BATCH = 65_536
"""Rows parsed, staged and encrypted at a time: what a load holds as Python objects at once,
whatever the file's length (decision 0993)."""
_STAGED = "_protected_rows"


def _read(path: Path) -> bytes:
    """The file's bytes, checked to be UTF-8 a slice at a time (no copy of the whole text)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {str(path)!r}: {exc.strerror}") from None
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    try:
        for start in range(0, len(raw), 1 << 20):
            decoder.decode(raw[start : start + (1 << 20)])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        try:  # the whole file decoded, only to name the byte the way a plain read does
            raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(f"{str(path)!r} is not UTF-8 (byte {exc.start})") from None
    return raw


def _stage(con: duckdb.DuckDBPyConnection, columns: list[list[Any]], width: int) -> None:
    """Append the rows gathered so far (index, row number, id, values) to ``_STAGED`` and
    empty the lists for the next batch."""
    if not columns[0]:
        return
    names = ["idx", "row_no", "id", *(f"v{k}" for k in range(width))]
    arrays = [np.array(c, dtype=np.int64 if k < 2 else object) for k, c in enumerate(columns)]
    _append(con, _STAGED, dict(zip(names, arrays, strict=True)))
    for column in columns:
        column.clear()


def _duplicate(con: duckdb.DuckDBPyConnection, path: Path, id_column: str) -> InputError | None:
    """The error for the first staged row whose id an earlier row has, if any."""
    found = con.execute(
        f"SELECT row_no, first FROM (SELECT row_no, min(row_no) OVER (PARTITION BY id) AS first"
        f" FROM {_STAGED}) WHERE row_no > first ORDER BY row_no LIMIT 1"
    ).fetchall()
    if not found:
        return None
    row_no, first = found[0]
    return InputError(
        f"{str(path)!r}, row {row_no}, field {id_column!r}: id also in row {first}",
        hint="each person needs one row of protected attributes",
    )


def _parse(
    con: duckdb.DuckDBPyConnection, path: Path, id_column: str
) -> tuple[bytes, list[str], int]:
    """Check the file and stage its rows in the temporary table ``_STAGED`` (the caller drops
    it): its bytes, its attributes, its rows. A bad row is refused as the first one the file
    holds (a repeated id included), whichever check finds it."""
    raw = _read(path)
    reader = csv.DictReader(io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8-sig", newline=""))
    header = list(reader.fieldnames or [])
    if id_column not in header:
        raise InputError(
            f"{str(path)!r} has no id column {id_column!r}",
            hint=f"columns found: {', '.join(header) or 'none'}; pass --id COLUMN",
        )
    attributes = [c for c in header if c != id_column]
    if not attributes:
        raise InputError(f"{str(path)!r} has no protected attribute column besides {id_column!r}")
    for name in attributes:
        if not _NAME.match(name):
            raise InputError(
                f"{str(path)!r}: column {name!r} is not an attribute name",
                hint="use lower-case letters, digits and underscores, starting with a letter",
            )
    values = ", ".join(f"v{k} VARCHAR" for k in range(len(attributes)))
    con.execute(f"CREATE TEMP TABLE {_STAGED} (idx BIGINT, row_no BIGINT, id VARCHAR, {values})")
    columns: list[list[Any]] = [[] for _ in range(3 + len(attributes))]
    index, row_no_of, ids, *kept = columns
    count = 0
    for row_no, record in enumerate(reader, start=2):  # row 1 is the header
        problem = _problem(path, row_no, record, id_column)
        if problem is not None:
            _stage(con, columns, len(attributes))  # an earlier repeated id comes first
            raise _duplicate(con, path, id_column) or problem
        index.append(count)
        row_no_of.append(row_no)
        ids.append(record[id_column].strip())
        for column, name in zip(kept, attributes, strict=True):
            column.append(record[name])
        count += 1
        if len(index) == _BATCH:
            _stage(con, columns, len(attributes))
    _stage(con, columns, len(attributes))
    repeated = _duplicate(con, path, id_column)
    if repeated is not None:
        raise repeated
    if not count:
        raise InputError(f"{str(path)!r} has no rows")
    return raw, attributes, count


def _problem(path: Path, row_no: int, record: dict[Any, Any], id_column: str) -> InputError | None:
    """What is wrong with one row on its own (a repeated id is found in SQL), or ``None``."""
    if None in record or any(v is None for v in record.values()):
        return InputError(f"{str(path)!r}, row {row_no}: wrong number of fields")
    for field, value in record.items():
        if _CONTROL.search(value):
            return InputError(
                f"{str(path)!r}, row {row_no}, field {field!r}: control character in value"
            )
    if not record[id_column].strip():
        return InputError(f"{str(path)!r}, row {row_no}, field {id_column!r}: blank id")
    return None


def load_protected(
    store: Store, path: Path, *, id_column: str = "national_id", id_kind: str = "national_id"
) -> ProtectedLoad:
    """Load one CSV of protected attributes, wholly or not at all; loading it again adds
    nothing. A later file's value for the same person and attribute replaces the earlier one.
    Blank values are kept as blank (people who did not say are a group the audit shows).

    The rows pass through a temporary table a batch at a time, each identifier is hashed once
    in SQL and each value encrypted as its batch is inserted, so the Python objects held at
    once stay a batch's whatever the file's length (decision 0993)."""
    if id_kind not in ID_KINDS:
        raise InputError(
            f"unknown identifier kind {id_kind!r}", hint=f"one of {', '.join(ID_KINDS)}"
        )
    con = store.con
    try:
        raw, attributes, count = _parse(con, path, id_column)
        digest = hashlib.sha256(raw).hexdigest()
        del raw
        before = rows(
            con,
            "SELECT load_id, rows_loaded, attributes FROM protected_loads WHERE content_hash = ?",
            [digest],
        )
        if before:
            first = before[0]
            return ProtectedLoad(
                int(first["load_id"]), path.name, int(first["rows_loaded"]),
                list(first["attributes"]), new=False,
            )  # fmt: skip
        entry = AuditEntry(
            store.settings.actor,
            "protected_load",
            target=PROTECTED_TABLE,
            details={"file": path.name, "rows": count, "attributes": attributes},
        )
        _encrypt(store, attributes, count)
        with store.write(entry) as tx:
            load_id = int(
                tx.execute("SELECT coalesce(max(load_id), 0) + 1 FROM protected_loads").fetchall()[
                    0
                ][0]
            )
            tx.execute(
                "INSERT INTO protected_loads VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [load_id, path.name, digest, id_kind, attributes, count, utcnow(),
                 store.settings.actor],
            )  # fmt: skip
            _replace(store, tx, id_kind, load_id)
        return ProtectedLoad(load_id, path.name, count, attributes, new=True)
    finally:  # after the transaction: statements in a failed one would fail too
        for table in (_STAGED, "_protected_new", "_protected_hashed"):
            con.execute(f"DROP TABLE IF EXISTS {table}")


def _encrypt(store: Store, attributes: list[str], count: int) -> None:
    """Encrypt the staged values a batch at a time into the temporary ``_protected_new``.

    Outside the write's transaction, each insert its own: inside one, DuckDB kept every
    batch's Python ciphertexts alive until the commit (Python's peak grew with the rows)."""
    con = store.con
    con.execute("CREATE TEMP TABLE _protected_new (idx BIGINT, attribute VARCHAR, ciphertext BLOB)")
    for start in range(0, count, _BATCH):
        batch = con.execute(
            f"SELECT idx, * EXCLUDE (idx, row_no, id) FROM {_STAGED}"
            " WHERE idx >= ? AND idx < ? ORDER BY idx",
            [start, start + _BATCH],
        ).fetchnumpy()
        for k, name in enumerate(attributes):
            plain = batch[f"v{k}"].tolist()
            kind = f"protected:{name}"
            sealed = store.keys.encrypt_many([kind] * len(plain), plain, normalized=True)
            cipher = np.empty(len(sealed), dtype=object)
            cipher[:] = sealed
            _append(
                con,
                "_protected_new",
                {
                    "idx": batch["idx"],
                    "attribute": np.full(len(plain), name, dtype=object),
                    "ciphertext": cipher,
                },
            )


def _replace(store: Store, tx: duckdb.DuckDBPyConnection, id_kind: str, load_id: int) -> None:
    """Replace each person's values for the file's attributes by the encrypted ones, inside
    the caller's transaction."""
    hashed, params = store.keys.hash_sql(id_kind, "s.id")  # one HMAC per person, in SQL
    tx.execute(
        f"CREATE TEMP TABLE _protected_hashed AS SELECT {hashed} AS id_hash, n.attribute,"
        f" n.ciphertext FROM _protected_new n JOIN {_STAGED} s USING (idx)",
        params,
    )
    tx.execute(
        f"DELETE FROM {PROTECTED_TABLE} WHERE (id_hash, attribute) IN"
        " (SELECT id_hash, attribute FROM _protected_hashed)"
    )
    tx.execute(
        f"INSERT INTO {PROTECTED_TABLE} SELECT id_hash, attribute, ciphertext, ?"
        " FROM _protected_hashed",
        [load_id],
    )


def _append(con: duckdb.DuckDBPyConnection, table: str, batch: dict[str, np.ndarray]) -> None:
    """Insert the rows of NumPy columns into ``table`` (columns in its order). NumPy, not
    Arrow: building an Arrow array from Python objects imports pandas (decision 0984)."""
    con.register("_protected_batch", batch)
    try:
        con.execute(f"INSERT INTO {table} SELECT * FROM _protected_batch")
    finally:
        con.unregister("_protected_batch")


def forget_protected(con: duckdb.DuckDBPyConnection, hashes: str) -> int:
    """Delete the values held for the identifier hashes the query ``hashes`` gives, inside the
    caller's transaction (an erasure, GDPR Art. 17): deleting reads nothing out."""
    result = con.execute(f"DELETE FROM {PROTECTED_TABLE} WHERE id_hash IN ({hashes})").fetchall()
    return int(result[0][0]) if result else 0


def protected_loaded(store: Store) -> bool:
    """Whether any protected attribute is held (nothing is decrypted, nothing to audit)."""
    return bool(store.scalar(f"SELECT count(*) FROM {PROTECTED_TABLES[1]}"))


_FOUND = f"""
    WITH ids AS (
        SELECT l.id_kind, a.id_hash, a.attribute, a.ciphertext
        FROM {PROTECTED_TABLE} a JOIN protected_loads l ON l.load_id = a.load_id
    ),
    owners AS (
        SELECT 'national_id' AS id_kind, e.national_id_hash AS id_hash, p.person_id
        FROM events e JOIN event_persons p ON p.event_id = e.event_id AND p.role = 'subject'
        WHERE e.national_id_hash IN (SELECT id_hash FROM ids WHERE id_kind = 'national_id')
        UNION
        SELECT 'phone', e.phone_hash, p.person_id
        FROM events e JOIN event_persons p ON p.event_id = e.event_id AND p.role = 'subject'
        WHERE e.phone_hash IN (SELECT id_hash FROM ids WHERE id_kind = 'phone')
    ),
    single AS (
        SELECT id_kind, id_hash, any_value(person_id) AS person_id,
            count(DISTINCT person_id) AS owners
        FROM owners GROUP BY id_kind, id_hash
    )
    SELECT s.person_id, s.owners, i.attribute, i.id_hash, i.ciphertext
    FROM ids i JOIN single s ON s.id_kind = i.id_kind AND s.id_hash = i.id_hash
"""
"""Every value held, with the person its identifier hash is linked to (``owners`` of them: an
identifier linked to two persons cannot be attributed)."""


@dataclass(frozen=True)
class ProtectedColumn:
    """One attribute's values for a list of persons: ``codes[i]`` indexes ``values`` for the
    i-th person, -1 where none is held. Arrays, not one Python object per person."""

    codes: np.ndarray
    values: list[str]


def read_protected_columns(
    store: Store,
    persons: str,
    params: list[Any] | None = None,
    *,
    purpose: str,
    actor: str | None = None,
) -> dict[str, ProtectedColumn]:
    """Per attribute (in name order), the values held for the persons the query ``persons``
    gives, each with its position (columns ``person_id`` and ``pos``, positions 0 to n-1), as
    codes in position order (decision 0994).

    The read is recorded first, in the audit log, with who reads, why, which attributes and
    how many persons. A person is found through the identifier hash the events linked to them
    carry; an identifier linked to two persons is left out (counted in the entry), as the
    audit cannot tell whose it is. The persons are matched in SQL and the values decrypted a
    batch at a time. Where a person holds two values of an attribute (two of their
    identifiers loaded), the one under the larger identifier hash is kept. The dict reader
    this replaced (``read_protected``, decision 0996) is kept in the tests as the reference."""
    if not purpose.strip():
        raise InputError("a read of protected attributes needs a purpose")
    con = store.con
    try:
        con.execute(f"CREATE TEMP TABLE _protected_wanted AS {persons}", params or [])
        con.execute(f"CREATE TEMP TABLE _protected_found AS {_FOUND}")
        n, ambiguous, named, counted = con.execute(
            "SELECT (SELECT count(*) FROM _protected_wanted), a.n, k.names, k.persons"
            " FROM (SELECT count(*) AS n FROM (SELECT DISTINCT person_id, attribute"
            "  FROM _protected_found WHERE owners > 1)) a,"
            " (SELECT list(DISTINCT attribute ORDER BY attribute) AS names,"
            "  count(DISTINCT f.person_id) AS persons"
            "  FROM _protected_found f JOIN _protected_wanted w USING (person_id)"
            "  WHERE f.owners = 1) k"
        ).fetchall()[0]
        _audit_read(store, actor, purpose, list(named or []), int(counted), int(ambiguous))
        return {name: _column(store, name, int(n)) for name in named or []}
    finally:
        con.execute("DROP TABLE IF EXISTS _protected_found")
        con.execute("DROP TABLE IF EXISTS _protected_wanted")


def _audit_read(
    store: Store,
    actor: str | None,
    purpose: str,
    attributes: list[str],
    persons: int,
    ambiguous: int,
) -> None:
    """The audit entry a read writes before any value is decrypted."""
    store.audit(
        AuditEntry(
            actor or store.settings.actor,
            "protected_read",
            target=PROTECTED_TABLE,
            purpose=purpose.strip(),
            details={
                "attributes": attributes,
                "persons": persons,
                "ambiguous_identifiers": ambiguous,
            },
        )
    )


def _column(store: Store, attribute: str, n: int) -> ProtectedColumn:
    """One attribute's codes for the ``n`` wanted persons, decrypted a batch at a time."""
    found = store.con.execute(
        "SELECT w.pos, f.ciphertext FROM _protected_found f JOIN _protected_wanted w"
        " USING (person_id) WHERE f.owners = 1 AND f.attribute = ? ORDER BY w.pos, f.id_hash",
        [attribute],
    )
    codes = np.full(n, -1, dtype=np.int32)
    known: dict[str, int] = {}
    decrypt, kind = store.keys.decrypt, f"protected:{attribute}"
    while batch := found.fetchmany(_BATCH):
        for pos, blob in batch:  # in order: the last of a person's values stands
            codes[pos] = known.setdefault(decrypt(kind, bytes(blob)), len(known))
    return ProtectedColumn(codes, list(known))
