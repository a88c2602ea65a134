"""The linkage model in the store: the active one, its export, and which one a run uses.

``identity_models`` keeps every model a run used, by content id; exactly one is active, the one
the last run used. A run takes the model it is given, else the active one, else trains one
(which needs ``MIN_TRAINING_RECORDS`` source records).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from credo.errors import ConfigError, NotFoundError
from credo.identity.linkage_model import LinkageModel
from credo.store.db import Store
from credo.store.rows import insert, one, value

__all__ = ["MIN_TRAINING_RECORDS", "activate", "active_model", "choose_model", "export_model"]

MIN_TRAINING_RECORDS = 200


def active_model(store: Store) -> LinkageModel | None:
    row = one(
        store.con,
        "SELECT model_id, model FROM identity_models WHERE active ORDER BY saved_at DESC LIMIT 1",
    )
    if row is None:
        return None
    return LinkageModel.from_json(row["model"], f"stored model {row['model_id']}")


def export_model(store: Store, path: Path) -> str:
    model = active_model(store)
    if model is None:
        raise NotFoundError("no linkage model yet", hint="run 'credo resolve' first")
    model.save(path)
    return model.model_id


def choose_model(
    store: Store, records: int, train: bool, model: LinkageModel | None
) -> tuple[LinkageModel | None, bool]:
    """The model a run uses and whether it must train one first (then the model is None)."""
    if model is not None:
        return model, False
    # a run that trains does not read the active model: one of an older settings version
    # cannot be read, and retraining is how a store moves past it
    current = None if train else active_model(store)
    if current is not None:
        return current, False
    if records < MIN_TRAINING_RECORDS:
        raise ConfigError(
            f"only {records} source records: too few to train a linkage model "
            f"(at least {MIN_TRAINING_RECORDS})",
            hint="load more data, or give a trained model with --model",
        )
    return None, True


def activate(tx: duckdb.DuckDBPyConnection, model: LinkageModel, now: dt.datetime) -> None:
    """Make ``model`` the active one, saving it first if the store has not seen it."""
    model_id = model.model_id
    if value(tx, "SELECT count(*) FROM identity_models WHERE model_id = ?", [model_id]):
        tx.execute("UPDATE identity_models SET active = (model_id = ?)", [model_id])
        return
    tx.execute("UPDATE identity_models SET active = false WHERE active")
    insert(
        tx,
        "identity_models",
        {
            "model_id": model_id,
            "settings_version": model.settings_version,
            "model": model.to_json(),
            "trained_at": model.trained_at,
            "saved_at": now,
            "active": True,
        },
    )
