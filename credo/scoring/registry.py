"""Trained points tables: a JSON file per model beside the database, and a row in ``models``.

The file is what is published (``<db dir>/models/<version>.<content hash>.json``); the row holds
the same document, so a snapshot's ``model_id`` resolves inside the database even if files move,
and a replay never depends on a directory listing. Files are named by content and never
overwritten: training again at the same date writes a second file beside the first, so the
model that made earlier runs stays as it was (docs/decisions/0532).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from credo.errors import ConflictError, NotFoundError
from credo.models.table import ScorecardModel
from credo.store.audit import AuditEntry
from credo.store.db import Store, utcnow
from credo.store.rows import insert, one, value

__all__ = [
    "ModelRef",
    "fit_file",
    "load_model",
    "model_dir",
    "model_file",
    "read_fit",
    "register_model",
]

ModelRef = ScorecardModel | str | Path | None


def model_dir(store: Store) -> Path:
    return store.path.parent / "models"


def model_file(store: Store, model: ScorecardModel) -> Path:
    """Where ``model`` is published: its version, then its content hash."""
    digest = model.model_id.removeprefix("sha256:")
    return model_dir(store) / f"{model.table.model_version}.{digest}.json"


def fit_file(path: Path) -> Path:
    """The fit summary's file beside a model file (docs/decisions/0536)."""
    return path.with_name(path.name.removesuffix(".json") + ".fit.json")


def read_fit(store: Store, model: ScorecardModel) -> dict[str, Any] | None:
    """The fit summary recorded when ``model`` was registered (in the audit entry, so it
    travels with the database; the file beside the model publishes the same), if any."""
    row = one(
        store.con,
        "SELECT details FROM audit_log WHERE action = 'register_model' AND target = ?"
        " ORDER BY seq LIMIT 1",
        [f"model:{model.model_id}"],
    )
    details = json.loads(row["details"]) if row and row["details"] else {}
    fit: dict[str, Any] | None = details.get("fit")
    return fit


def _publish(path: Path, text: str) -> None:
    """Write the file once: the same content again is a no-op; other content is refused."""
    try:
        with path.open("x", encoding="utf-8") as out:
            out.write(text)
    except FileExistsError:
        if path.read_text(encoding="utf-8") != text:
            raise ConflictError(
                f"file {str(path)!r} exists with other content; a model file is never overwritten",
                hint="restore the file from the models table or move the altered copy away",
            ) from None


def register_model(
    store: Store,
    model: ScorecardModel,
    *,
    trained_as_of: dt.date,
    known_at: dt.datetime,
    policy_name: str,
    policy_version: str,
    outcome: str,
    fit: dict[str, Any] | None = None,
) -> Path:
    """Write the points table file (and its fit summary beside it) and record it; registering
    the same table twice is a no-op."""
    model_dir(store).mkdir(exist_ok=True)
    path = model_file(store, model)
    _publish(path, model.to_json())
    if fit is not None:
        _publish(fit_file(path), json.dumps(fit, indent=2, sort_keys=True) + "\n")
    known = store.scalar("SELECT count(*) FROM models WHERE model_id = ?", [model.model_id])
    if known:
        return path
    entry = AuditEntry(
        store.settings.actor,
        "register_model",
        target=f"model:{model.model_id}",
        purpose="model training",
        details={"model_version": model.table.model_version, "as_of": trained_as_of, "fit": fit},
    )
    with store.write(entry) as con:
        insert(
            con,
            "models",
            {
                "model_id": model.model_id,
                "seq": value(con, "SELECT coalesce(max(seq), 0) + 1 FROM models"),
                "model_version": model.table.model_version,
                "trained_as_of": trained_as_of,
                "known_at": known_at,
                "policy_name": policy_name,
                "policy_version": policy_version,
                "outcome": outcome,
                "document": model.to_json(),
                "created_at": utcnow(),
            },
        )
    return path


def load_model(store: Store, ref: ModelRef = None) -> ScorecardModel:
    """A model object, a file path, a model id or version in ``models``, or None for the latest."""
    if isinstance(ref, ScorecardModel):
        return ref
    if ref is not None and (isinstance(ref, Path) or str(ref).endswith(".json")):
        return ScorecardModel.load(ref)
    if ref is None:
        row = one(store.con, "SELECT document, model_id FROM models ORDER BY seq DESC LIMIT 1")
    else:
        row = one(
            store.con,
            "SELECT document, model_id FROM models WHERE model_id = ? OR model_version = ?"
            " ORDER BY seq DESC LIMIT 1",
            [str(ref), str(ref)],
        )
    if row is None:
        what = "no model has been trained" if ref is None else f"no model {str(ref)!r}"
        raise NotFoundError(what, hint="train one with 'credo train --as-of DATE'")
    return ScorecardModel.from_json(row["document"], source=f"model {row['model_id']}")
