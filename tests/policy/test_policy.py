"""Policy files: schema errors name the file and key; points regimes are data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from scoring.conftest import add_events

from credo.errors import ConfigError
from credo.policy import PointsRegime, ScoringPolicy, load_policy
from credo.scoring import score
from credo.store.audit import AuditEntry
from credo.store.db import Store

AT = dt.datetime(2026, 6, 1)


def test_shipped_policies_load() -> None:
    zhima = load_policy("zhima").policy
    assert isinstance(zhima, ScoringPolicy)
    assert [zhima.band(s) for s in (350, 549, 550, 599, 600, 650, 700, 950)] == [
        "poor",
        "poor",
        "fair",
        "fair",
        "good",
        "very good",
        "excellent",
        "excellent",
    ]
    suining = load_policy("suining-2010").policy
    assert isinstance(suining, PointsRegime)
    assert [suining.grade(b) for b in (1000, 970, 969, 850, 849, 600, 599)] == list("AABBCCD")


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"bands": [{"name": "all", "min": 350, "max": 900}]}, "bands"),
        ({"court_list": {"cap": "high"}}, "court_list.cap"),
        ({"max_reasons": 7}, "max_reasons"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_policy_errors_name_file_and_key(
    tmp_path: Path, change: dict[str, object], key: str
) -> None:
    document = yaml.safe_load(Path(load_policy("zhima").path).read_text(encoding="utf-8"))
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(document | change), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_policy(path)
    assert str(path) in str(info.value) and key in str(info.value)


def test_a_rule_on_an_unknown_field_is_named(tmp_path: Path) -> None:
    document = yaml.safe_load(Path(load_policy("suining-2010").path).read_text(encoding="utf-8"))
    document["rules"][1]["when"] = {"political_views": "dissent"}
    path = tmp_path / "regime.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"rules\[1\]\.when\.political_views"):
        load_policy(path)


def _conduct(person: str, kind: str, media: bool = False) -> dict[str, object]:
    return {
        "person_id": person,
        "event_type": "conduct",
        "occurred_at": AT,
        "conduct_kind": kind,
        "authority": "遂宁市民政局",
        "reference": f"遂民〔2026〕{kind}号",
        "reported_by_media": media,
    }


def _person_without_conduct(store: Store) -> str:
    person = store.con.execute(
        "SELECT p.person_id FROM persons p WHERE p.person_id NOT IN (SELECT ep.person_id FROM"
        " event_persons ep JOIN events e USING (event_id) WHERE e.event_type = 'conduct')"
        " AND p.person_id IN (SELECT ep.person_id FROM event_persons ep JOIN events e"
        " USING (event_id) WHERE e.consent_action = 'enrol' AND e.occurred_at < ?)"
        " ORDER BY 1 LIMIT 1",
        [AT],
    ).fetchall()
    return str(person[0][0])


def test_suining_ledger_names_every_event_and_rule(loaded: Store, tmp_path: Path) -> None:
    person = _person_without_conduct(loaded)
    ids = add_events(
        loaded,
        [
            _conduct(person, "elder_care"),
            _conduct(person, "helping_poor", media=True),
            _conduct(person, "helping_poor"),
            _conduct(person, "drunk_driving"),
            _conduct(person, "volunteering"),
        ],
        dt.datetime(2026, 6, 2),
    )
    run = score(loaded, dt.date(2026, 10, 31), policy="suining-2010")
    ledger = loaded.con.execute(
        "SELECT event_id, rule, points FROM points_ledger WHERE run_id = ? AND person_id = ?"
        " ORDER BY event_id",
        [run.run_id, person],
    ).fetchall()
    assert ledger == [
        (ids[0], "elder_care", 50),
        (ids[1], "helping_poor_media", 15),
        (ids[2], "helping_poor", 10),
        (ids[3], "drunk_driving", -50),
    ]
    balance = loaded.con.execute(
        "SELECT balance, grade FROM points_balances WHERE run_id = ? AND person_id = ?",
        [run.run_id, person],
    ).fetchall()
    assert balance == [(1025, "A")]

    # A new regime is a new file: volunteering counts, grades differ.
    other = {
        "kind": "points_regime",
        "name": "test-regime",
        "version": "1",
        "start": 100,
        "rules": [
            {"name": "volunteer", "when": {"conduct_kind": "volunteering"}, "points": 7},
            {"name": "drink", "when": {"conduct_kind": "drunk_driving"}, "points": -20},
        ],
        "grades": [{"grade": "good", "min": 100}, {"grade": "bad"}],
    }
    path = tmp_path / "test-regime.yaml"
    path.write_text(yaml.safe_dump(other), encoding="utf-8")
    second = score(loaded, dt.date(2026, 10, 31), policy=str(path))
    assert loaded.con.execute(
        "SELECT balance, grade FROM points_balances WHERE run_id = ? AND person_id = ?",
        [second.run_id, person],
    ).fetchall() == [(87, "bad")]


def test_only_enrolled_persons_get_a_balance(loaded: Store) -> None:
    with loaded.write(AuditEntry("test", "new_person")) as con:
        con.execute("INSERT INTO persons VALUES ('NOBODY', ?, 'active')", [AT])
    add_events(loaded, [_conduct("NOBODY", "elder_care")], AT)
    run = score(loaded, dt.date(2026, 10, 31), policy="suining-2010")
    assert not loaded.scalar(
        "SELECT count(*) FROM points_balances WHERE run_id = ? AND person_id = 'NOBODY'",
        [run.run_id],
    )
