"""docs/partners.md's quickstart, run as written against a live ``credo serve``: a new partner
gets from nothing to a decision, a report and an outcome in at most five commands, with curl
and with the shipped client; the ``credo partners`` commands go through the running server."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from credo.client import AdminClient, PartnerClient, PersonClient
from credo.settings import Settings
from credo.store.db import Store
from credo.store.rows import rows

from .conftest import ADMIN, scored_persons
from .test_crash import server

pytestmark = pytest.mark.slow
DOC = Path(__file__).resolve().parents[2] / "docs" / "partners.md"


def _block(name: str) -> str:
    """The code block right after ``<!-- NAME`` in the doc."""
    text = DOC.read_text(encoding="utf-8")
    found = re.search(rf"<!-- {re.escape(name)}[ :>].*?```\w+\n(.*?)```", text, flags=re.S)
    assert found, name
    return found.group(1)


def _bash(script: str, cwd: Path, **env: str) -> str:
    # ``credo`` as a user has it on PATH: this interpreter's package
    prelude = f'credo() {{ "{sys.executable}" -m credo "$@"; }}\nset -euo pipefail\n'
    full = {**os.environ, "CREDO_API_ADMIN_TOKEN": ADMIN, "NO_COLOR": "1", **env}
    proc = subprocess.run(
        ["bash", "-c", prelude + script], cwd=cwd, env=full, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, f"{script}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _grant(url: str, person: str, partner: str, purpose: str) -> str:
    with AdminClient(url, token=ADMIN) as operator, PersonClient(url) as me:
        me.sign_in(person, operator.login_code(person))
        return me.grant(partner, purpose)


def _answers(text: str) -> list[dict[str, object]]:
    decoder, found, at = json.JSONDecoder(), [], 0
    while at < len(text.rstrip()):
        value, at = decoder.raw_decode(text, at)
        found.append(value)
    return found


def _commands(script: str) -> int:
    return len(re.findall(r"^(?:\w+=\$\()?(?:credo|curl) ", script, flags=re.M))


def test_curl_quickstart_in_five_commands(db: Path, tmp_path: Path) -> None:
    person = scored_persons(db, 1)[0]
    operator, partner = _block("quickstart-operator"), _block("quickstart-partner")
    assert _commands(operator) + _commands(partner) <= 5
    with server(db) as (url, _proc):
        key = _bash(operator + 'printf %s "$KEY"', tmp_path, CREDO_DB=str(db)).splitlines()[-1]
        assert key.startswith("credo_")
        consent = _grant(url, person, "acme_bank", "credit_transaction")
        answers = _bash(partner, tmp_path, CREDO=url, KEY=key, PERSON=person, CONSENT=consent)
    decision = json.loads((tmp_path / "decision.json").read_text())
    assert decision["person"] == person and decision["outcome"] in ("approved", "declined")
    shown, report, outcome = _answers(answers)  # curl prints each answer without a newline
    assert shown == decision
    assert report["purpose"] == "credit_transaction" and report["person"] == person
    assert outcome["source"] == "partner:acme_bank"
    with Store.open(Settings(db=db), create=False) as store:
        kinds = rows(
            store.con,
            "SELECT kind, purpose FROM inquiries WHERE partner_id = 'acme_bank' ORDER BY kind",
        )
    assert kinds == [
        {"kind": "decision", "purpose": "credit_transaction"},
        {"kind": "report", "purpose": "credit_transaction"},
    ]


def test_python_quickstart(db: Path) -> None:
    person = scored_persons(db, 1)[0]
    with server(db) as (url, _proc):
        scope: dict[str, object] = {"CREDO": url, "ADMIN_TOKEN": ADMIN, "PERSON": person}
        exec(_block("quickstart-python-operator"), scope)
        scope["RENTAL_CONSENT"] = _grant(url, person, "acme_rentals", "rental")
        _grant(url, person, "acme_rentals", "credit_transaction")
        exec(_block("quickstart-python-partner"), scope)
        for client in ("operator", "acme"):  # the doc leaves closing to the reader's program
            closing = scope[client]
            assert isinstance(closing, AdminClient | PartnerClient)
            closing.close()
    decision = scope["decision"]
    assert isinstance(decision, dict) and decision["product"] == "car_rental"
    report = scope["report"]
    assert isinstance(report, dict) and report["person"] == person
