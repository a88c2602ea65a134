"""The resolve and review commands, through Typer's runner on the ``credo`` app."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from credo.cli import app
from credo.store.db import Store


def test_explain_and_review_commands(resolved_store: Store) -> None:
    db = str(resolved_store.path)
    person = resolved_store.scalar("SELECT person_id FROM identity_records ORDER BY 1 LIMIT 1")
    resolved_store.close()  # the command opens the file itself
    runner = CliRunner()
    shown = runner.invoke(app, ["resolve", "--explain", person, "--db", db, "--json"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    assert data["person_id"] == person and data["records"]
    listed = runner.invoke(app, ["review", "list", "--db", db, "--json"])
    assert listed.exit_code == 0, listed.output
    missing = runner.invoke(app, ["resolve", "--explain", "CP999999999", "--db", db])
    assert missing.exit_code == 4
    again = runner.invoke(app, ["resolve", "--db", db])
    assert again.exit_code == 0 and "0 new" in again.output, again.output
