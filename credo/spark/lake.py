"""The lake: the store's scoring inputs as Parquet files any engine reads, with a manifest.

Layout of a lake folder (docs/decisions/0810-the-lake.md)::

    manifest.json                       lake version, store schema, watermark, digests
    events/<type>/month=YYYY-MM/*.parquet   each event type's own table, by month occurred
    event_persons/data.parquet          which person an event is about, in which role
    persons/data.parquet
    restrictions/data.parquet           restrict/lift actions: restricted persons are held
    history/score_runs.parquet          the store's monthly runs (a Spark run's previous run)
    history/score_snapshots/run_id=<id>/*.parquet   their ``person_id, score``
    model/points-table.json, points.parquet     the points table (document, and as rows)
    policy/<name>.yaml                  the scoring policy, byte for byte
    runs/<run>/run.json, snapshots/part-NNNNN.parquet   what a Spark run wrote back, one file
                                        per partition of persons (decision 0813)

Every file is listed in the manifest with its SHA-256, so a reader can tell the content it
computed from; a run records the digest of the manifest it read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from credo.errors import ConfigError, InputError, IntegrityError
from credo.policy.schema import LoadedPolicy, load_policy
from credo.scoring.policy_rules import resolve_policy
from credo.scoring.registry import ModelRef, load_model
from credo.scoring.runs import latest_known_at
from credo.sql import ident, literal
from credo.store.audit import AuditEntry
from credo.store.db import Store, utcnow
from credo.store.schema import EVENT_TABLES, SCHEMA_VERSION, hashes_as_text_sql

__all__ = [
    "LAKE_VERSION",
    "Lake",
    "Manifest",
    "export_lake",
    "file_digest",
    "parts_digest",
    "read_snapshots",
    "snapshot_parts",
    "snapshots_digest",
]

LAKE_VERSION = 1
MANIFEST = "manifest.json"


def file_digest(path: Path) -> str:
    """``sha256:<hex>`` of a file's bytes, read in blocks (event files can be large)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return "sha256:" + digest.hexdigest()


def snapshot_parts(folder: Path) -> list[Path]:
    """The part files of a run's ``snapshots`` folder, in partition order."""
    return sorted(folder.glob("part-*.parquet"))


def parts_digest(parts: list[tuple[str, str]]) -> str:
    """One digest for a run's part files from each one's name and :func:`file_digest`: the
    executors digest the files they write, the driver combines them without reading one."""
    lines = "".join(f"{name} {digest}\n" for name, digest in sorted(parts))
    return "sha256:" + hashlib.sha256(lines.encode()).hexdigest()


def snapshots_digest(folder: Path) -> str:
    """:func:`parts_digest` of the files in ``folder`` as they are now (a check on import)."""
    return parts_digest([(p.name, file_digest(p)) for p in snapshot_parts(folder)])


def read_snapshots(folder: Path) -> pa.Table:
    """A run's snapshot rows from its part files, in ``person_id`` order as one file had them
    (each part is sorted; the parts split persons by hash). For checks and import: the whole
    run in one process."""
    parts = snapshot_parts(folder)
    if not parts:
        raise InputError(f"{folder}: no snapshot files (part-*.parquet)")
    table = pa.concat_tables([pq.read_table(p) for p in parts])
    return table.take(pc.sort_indices(table, [("person_id", "ascending")]))


@dataclass(frozen=True)
class Manifest:
    """What a lake holds: enough to know what a run computed from, and to check it."""

    lake_version: int
    store_schema: int
    known_at: dt.datetime
    exported_at: dt.datetime
    model_id: str
    policy_name: str
    policy_file: str
    files: dict[str, str]

    def to_json(self) -> str:
        data: dict[str, Any] = {
            "lake_version": self.lake_version,
            "store_schema": self.store_schema,
            "known_at": self.known_at.isoformat(),
            "exported_at": self.exported_at.isoformat(),
            "model_id": self.model_id,
            "policy_name": self.policy_name,
            "policy_file": self.policy_file,
            "files": self.files,
        }
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str) -> Manifest:
        try:
            data = json.loads(text)
            version = int(data["lake_version"])
            if version != LAKE_VERSION:
                raise ConfigError(
                    f"{source}: lake_version {version}; this Credo reads version {LAKE_VERSION}",
                    hint="export the lake again with this version's 'credo export --lake'",
                )
            return cls(
                lake_version=version,
                store_schema=int(data["store_schema"]),
                known_at=dt.datetime.fromisoformat(data["known_at"]),
                exported_at=dt.datetime.fromisoformat(data["exported_at"]),
                model_id=str(data["model_id"]),
                policy_name=str(data["policy_name"]),
                policy_file=str(data["policy_file"]),
                files={str(k): str(v) for k, v in dict(data["files"]).items()},
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(
                f"{source}: not a lake manifest ({type(exc).__name__}: {exc})",
                hint="export the lake with 'credo export --lake DIR'",
            ) from None


@dataclass(frozen=True)
class Lake:
    """A lake folder; :meth:`open` checks that it has a readable manifest."""

    root: Path
    manifest: Manifest
    manifest_digest: str

    @classmethod
    def open(cls, root: Path) -> Lake:
        path = root / MANIFEST
        if not path.is_file():
            raise InputError(
                f"{path}: no lake manifest", hint="export one with 'credo export --lake DIR'"
            )
        manifest = Manifest.from_json(path.read_text("utf-8"), str(path))
        return cls(root, manifest, file_digest(path))

    def event_folder(self, event_type: str) -> Path:
        return self.root / "events" / event_type

    @property
    def model_file(self) -> Path:
        return self.root / "model" / "points-table.json"

    def policy(self) -> LoadedPolicy:
        return load_policy(self.root / self.manifest.policy_file)

    def verify(self) -> None:
        """Every listed file is there with its digest (an integrity error names the first not)."""
        for name, digest in sorted(self.manifest.files.items()):
            path = self.root / name
            if not path.is_file() or file_digest(path) != digest:
                raise IntegrityError(
                    f"{path}: missing or changed since the lake was exported",
                    hint="export the lake again",
                )


def _copy(store: Store, query: str, target: Path, *, partition: str | None = None) -> None:
    """One Parquet file (or a folder of files partitioned by ``partition``) from ``query``."""
    options = "FORMAT PARQUET"
    if partition is not None:
        options += f", PARTITION_BY ({partition}), FILENAME_PATTERN 'part-{{i}}'"
    store.con.execute(f"COPY ({query}) TO {literal(str(target))} ({options})")


def _export_events(store: Store, root: Path) -> None:
    """Each event type's table by month occurred; an empty type still writes its schema."""
    for event_type, table in EVENT_TABLES.items():
        folder = root / "events" / event_type
        folder.mkdir(parents=True)
        # The identifier hashes leave as the text the store's ``events`` view gives: the event
        # tables hold them as UHUGEINT (migration 18), which neither Arrow nor Spark carries.
        query = (
            f"SELECT * {hashes_as_text_sql(table)}, strftime(occurred_at, '%Y-%m') AS month"
            f" FROM {ident(table)}"
        )
        count = store.scalar(f"SELECT count(*) FROM {ident(table)}")
        if count:
            _copy(store, query + " ORDER BY event_id", folder, partition="month")
        else:
            (folder / "month=0000-00").mkdir()
            _copy(store, query + " LIMIT 0", folder / "month=0000-00" / "part-0.parquet")


def _export_history(store: Store, root: Path) -> None:
    """The monthly runs and their scores: a Spark run's trend and contacts' scores read them."""
    folder = root / "history"
    folder.mkdir()
    runs = "SELECT * FROM score_runs WHERE kind = 'monthly' ORDER BY seq"
    _copy(store, runs, folder / "score_runs.parquet")
    scores = (
        "SELECT s.run_id, s.person_id, s.score FROM score_snapshots s"
        " JOIN score_runs r ON r.run_id = s.run_id AND r.kind = 'monthly'"
    )
    if store.scalar(f"SELECT count(*) FROM ({scores}) x"):
        _copy(
            store,
            scores + " ORDER BY s.run_id, s.person_id",
            folder / "score_snapshots",
            partition="run_id",
        )
    else:
        (folder / "score_snapshots" / "run_id=none").mkdir(parents=True)
        _copy(store, scores + " LIMIT 0", folder / "score_snapshots" / "run_id=none" / "p.parquet")


def export_lake(
    store: Store,
    root: Path,
    *,
    model: ModelRef = None,
    policy: LoadedPolicy | str | None = None,
) -> Manifest:
    """Write the store's scoring inputs to a new lake folder ``root`` (it must not hold one)."""
    if root.exists() and any(root.iterdir()):
        raise ConfigError(f"{root}: not empty", hint="export a lake into a new folder")
    loaded = resolve_policy(policy)
    scorecard = load_model(store, model)
    root.mkdir(parents=True, exist_ok=True)
    _export_events(store, root)
    for folder in ("event_persons", "persons"):
        (root / folder).mkdir()
    _copy(
        store,
        "SELECT * FROM event_persons ORDER BY event_id, role, person_id",
        root / "event_persons" / "data.parquet",
    )
    _copy(store, "SELECT * FROM persons ORDER BY person_id", root / "persons" / "data.parquet")
    (root / "restrictions").mkdir()
    _copy(
        store,
        "SELECT * FROM restrictions ORDER BY person_id, changed_at",
        root / "restrictions" / "data.parquet",
    )
    _export_history(store, root)
    (root / "model").mkdir()
    scorecard.save(root / "model" / "points-table.json")
    points = pa.Table.from_pylist([r.model_dump() for r in scorecard.table.rows])
    pq.write_table(points, root / "model" / "points.parquet")
    (root / "policy").mkdir()
    policy_file = f"policy/{loaded.name}.yaml"
    shutil.copyfile(loaded.path, root / policy_file)
    files = {
        p.relative_to(root).as_posix(): file_digest(p)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
    manifest = Manifest(
        lake_version=LAKE_VERSION,
        store_schema=SCHEMA_VERSION,
        known_at=latest_known_at(store),
        exported_at=utcnow(),
        model_id=scorecard.model_id,
        policy_name=loaded.name,
        policy_file=policy_file,
        files=files,
    )
    (root / MANIFEST).write_text(manifest.to_json(), "utf-8")
    # The lake holds personal data outside the store: who copied it where is on the record.
    store.audit(
        AuditEntry(
            store.settings.actor,
            "export_lake",
            target=f"lake:{root}",
            purpose="scoring on Spark",
            details={"known_at": manifest.known_at, "files": len(files)},
        )
    )
    return manifest
