"""Protected attributes on the bureau: their own source, their own table, encrypted values.

SPEC S11: sex, ethnicity and the like are held apart from everything a model reads. A file of
protected attributes is loaded by :func:`load_protected` (never by ``credo ingest``: it is not a
source of events), keyed by a person's identifier as a keyed hash (as identifiers are) and
with each value encrypted under the database's identifier key, the attribute's name bound in as
associated data. The table is named only in the migration (``PROTECTED_TABLES``) and here, and the
feature SQL refuses to read it (``credo.features.sql``; tests prove both). :func:`read_protected`
is the only reader, and every read is an audit-log entry saying who read what, and why.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb

from credo.errors import InputError
from credo.store.audit import AuditEntry
from credo.store.db import Store, utcnow
from credo.store.rows import rows
from credo.store.schema import PROTECTED_TABLES

__all__ = [
    "ID_KINDS",
    "PROTECTED_TABLE",
    "ProtectedLoad",
    "load_protected",
    "protected_loaded",
    "read_protected",
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


def _parse(path: Path, id_column: str) -> tuple[bytes, list[str], list[dict[str, str]]]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {str(path)!r}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{str(path)!r} is not UTF-8 (byte {exc.start})") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
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
    records: list[dict[str, str]] = []
    seen: dict[str, int] = {}
    for row_no, record in enumerate(reader, start=2):  # row 1 is the header
        if None in record or any(v is None for v in record.values()):
            raise InputError(f"{str(path)!r}, row {row_no}: wrong number of fields")
        for field, value in record.items():
            if _CONTROL.search(value):
                raise InputError(
                    f"{str(path)!r}, row {row_no}, field {field!r}: control character in value"
                )
        key = record[id_column].strip()
        if not key:
            raise InputError(f"{str(path)!r}, row {row_no}, field {id_column!r}: blank id")
        if key in seen:
            raise InputError(
                f"{str(path)!r}, row {row_no}, field {id_column!r}: id also in row {seen[key]}",
                hint="each person needs one row of protected attributes",
            )
        seen[key] = row_no
        records.append(record)
    if not records:
        raise InputError(f"{str(path)!r} has no rows")
    return raw, attributes, records


def load_protected(
    store: Store, path: Path, *, id_column: str = "national_id", id_kind: str = "national_id"
) -> ProtectedLoad:
    """Load one CSV of protected attributes, wholly or not at all; loading it again adds
    nothing. A later file's value for the same person and attribute replaces the earlier one.
    Blank values are kept as blank (people who did not say are a group the audit shows)."""
    if id_kind not in ID_KINDS:
        raise InputError(
            f"unknown identifier kind {id_kind!r}", hint=f"one of {', '.join(ID_KINDS)}"
        )
    raw, attributes, records = _parse(path, id_column)
    digest = hashlib.sha256(raw).hexdigest()
    before = rows(
        store.con,
        "SELECT load_id, rows_loaded, attributes FROM protected_loads WHERE content_hash = ?",
        [digest],
    )
    if before:
        first = before[0]
        return ProtectedLoad(
            int(first["load_id"]), path.name, int(first["rows_loaded"]), list(first["attributes"]),
            new=False,
        )  # fmt: skip
    keys = store.keys
    values = [
        (
            keys.hash(id_kind, r[id_column].strip()),
            name,
            keys.encrypt(f"protected:{name}", r[name], normalize=False),
        )
        for r in records
        for name in attributes
    ]
    entry = AuditEntry(
        store.settings.actor,
        "protected_load",
        target=PROTECTED_TABLE,
        details={"file": path.name, "rows": len(records), "attributes": attributes},
    )
    with store.write(entry) as con:
        load_id = int(
            con.execute("SELECT coalesce(max(load_id), 0) + 1 FROM protected_loads").fetchall()[0][
                0
            ]
        )
        con.execute(
            "INSERT INTO protected_loads VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [load_id, path.name, digest, id_kind, attributes, len(records), utcnow(),
             store.settings.actor],
        )  # fmt: skip
        con.execute("CREATE TEMP TABLE _protected_new (id_hash VARCHAR, attribute VARCHAR,"
                    " ciphertext BLOB)")  # fmt: skip
        try:
            con.executemany("INSERT INTO _protected_new VALUES (?, ?, ?)", values)
            con.execute(
                f"DELETE FROM {PROTECTED_TABLE} WHERE (id_hash, attribute) IN"
                " (SELECT id_hash, attribute FROM _protected_new)"
            )
            con.execute(
                f"INSERT INTO {PROTECTED_TABLE} SELECT id_hash, attribute, ciphertext, ?"
                " FROM _protected_new",
                [load_id],
            )
        finally:
            con.execute("DROP TABLE _protected_new")
    return ProtectedLoad(load_id, path.name, len(records), attributes, new=True)


def forget_protected(con: duckdb.DuckDBPyConnection, hashes: str) -> int:
    """Delete the values held for the identifier hashes the query ``hashes`` gives, inside the
    caller's transaction (an erasure, GDPR Art. 17): deleting reads nothing out."""
    result = con.execute(f"DELETE FROM {PROTECTED_TABLE} WHERE id_hash IN ({hashes})").fetchall()
    return int(result[0][0]) if result else 0


def protected_loaded(store: Store) -> bool:
    """Whether any protected attribute is held (nothing is decrypted, nothing to audit)."""
    return bool(store.scalar(f"SELECT count(*) FROM {PROTECTED_TABLES[1]}"))


def read_protected(
    store: Store, persons: list[str] | None, *, purpose: str, actor: str | None = None
) -> dict[str, dict[str, str]]:
    """Per attribute, each person's value (decrypted), for ``persons`` (all when ``None``).

    The read is recorded first, in the audit log, with who reads, why, which attributes and
    how many persons. A person is found through the identifier hash the events linked to them
    carry; an identifier linked to two persons is left out (counted in the entry), as the
    audit cannot tell whose it is.
    """
    if not purpose.strip():
        raise InputError("a read of protected attributes needs a purpose")
    found = rows(
        store.con,
        f"""
        WITH ids AS (
            SELECT l.id_kind, a.id_hash, a.attribute, a.ciphertext
            FROM {PROTECTED_TABLE} a JOIN protected_loads l ON l.load_id = a.load_id
        ),
        owners AS (
            SELECT 'national_id' AS id_kind, e.national_id_hash AS id_hash, p.person_id
            FROM events e JOIN event_persons p ON p.event_id = e.event_id AND p.role = 'subject'
            WHERE e.national_id_hash IN (
                SELECT id_hash FROM ids WHERE id_kind = 'national_id'
            )
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
        SELECT s.person_id, s.owners, i.attribute, i.ciphertext
        FROM ids i JOIN single s ON s.id_kind = i.id_kind AND s.id_hash = i.id_hash
        """,
    )
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
