"""The resolve and review commands, through Typer's runner (the lead registers them)."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from credo.identity.commands import app, review_app
from credo.store.db import Store


def _root() -> typer.Typer:
    root = typer.Typer()
    root.registered_commands.extend(app.registered_commands)
    root.add_typer(review_app, name="review")
    return root


def test_explain_and_review_commands(resolved_store: Store) -> None:
    db = str(resolved_store.path)
    person = resolved_store.scalar("SELECT person_id FROM identity_records ORDER BY 1 LIMIT 1")
    resolved_store.close()  # the command opens the file itself
    runner = CliRunner()
    shown = runner.invoke(_root(), ["resolve", "--explain", person, "--db", db, "--json"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    assert data["person_id"] == person and data["records"]
    listed = runner.invoke(_root(), ["review", "list", "--db", db, "--json"])
    assert listed.exit_code == 0, listed.output
    missing = runner.invoke(_root(), ["resolve", "--explain", "CP999999999", "--db", db])
    assert missing.exit_code == 4
    again = runner.invoke(_root(), ["resolve", "--db", db])
    assert again.exit_code == 0 and "0 new" in again.output, again.output
