"""Points regimes made visible (issue 14, item 8; docs/decisions/0535): a person's balance, grade
and ledger, each entry naming the event and the rule, from the library, ``credo explain`` and the
regime run's output."""

from __future__ import annotations

import datetime as dt
import json

from typer.testing import CliRunner

from credo.cli import app
from credo.scoring import score, train_model
from credo.scoring.standing import lowest_standings, regime_standings
from credo.store.db import Store
from credo.store.rows import rows

from .conftest import END

OBS = dt.date(2025, 10, 31)
runner = CliRunner()


def test_a_persons_balance_grade_and_ledger_name_event_and_rule(loaded: Store) -> None:
    train_model(loaded, OBS)
    score(loaded, END)
    db = str(loaded.path)
    loaded.con.execute("CHECKPOINT")
    ran = runner.invoke(app, ["score", "--as-of", str(END), "--policy", "suining-2010",
                              "--db", db, "--json"])  # fmt: skip
    assert ran.exit_code == 0, ran.output
    run = json.loads(ran.output)
    lowest = run["lowest_balances"]
    assert lowest and all(s["ledger"] for s in lowest)
    assert [s["balance"] for s in lowest] == sorted(s["balance"] for s in lowest)
    entries = rows(
        loaded.con,
        "SELECT person_id, sum(points) AS total, count(*) AS n FROM points_ledger"
        " WHERE run_id = ? GROUP BY 1 ORDER BY 2, 1 LIMIT 1",
        [run["run_id"]],
    )
    person = entries[0]["person_id"]
    (standing,) = regime_standings(loaded, person)
    assert standing.regime == "suining-2010" and standing.run_id == run["run_id"]
    assert standing.balance == 1000 + entries[0]["total"] == lowest[0]["balance"]
    assert len(standing.ledger) == entries[0]["n"]
    for entry in standing.ledger:
        assert entry["event_type"] == "conduct" and entry["rule"] and entry["rule_text"]
        assert entry["points"] in (-50, 10, 15, 50)
    assert standing.grade == {True: "B", False: "A"}[standing.balance < 970]
    assert lowest_standings(loaded, run["run_id"], 1)[0].to_dict() == standing.to_dict()

    shown = runner.invoke(app, ["explain", person, "--db", db])
    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.output.split())
    assert f"under suining-2010 as of {END}: balance {standing.balance:,} (start 1000)" in text
    for entry in standing.ledger:
        assert (
            f"{entry['points']:+d} {entry['rule']} ({entry['rule_text']}): conduct event"
            f" {entry['event_id']}, {entry['source']} record {entry['source_record_id']}"
        ) in text
    # The run's own output names the lowest balances with their ledgers.
    again = runner.invoke(app, ["score", "--as-of", str(END), "--policy", "suining-2010",
                                "--db", db])  # fmt: skip
    printed = " ".join(again.output.split())
    assert "Lowest balances with their ledgers:" in printed
    assert f"{person} under suining-2010 as of {END}: balance {standing.balance:,}" in printed
