"""The access and portability export (RULES R-GDPR-2, R-GDPR-2a, R-PIPL-4) and the sealed
bundle for a regulator, through the HTTP API over the scored population."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import replace
from typing import Any

import numpy as np

from credo.ingest.events import EVENT_MODELS
from credo.policy.rules import active_rules
from credo.rights.export import canonical
from credo.scoring.registry import load_model

from .conftest import World, sign_in


def _export(world: World) -> dict[str, Any]:
    r = world.client.get("/v1/me/export", headers=world.session)
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"] == (
        f'attachment; filename="credo-export-{world.person}.json"'
    )
    found: dict[str, Any] = json.loads(r.content)
    return found


def _decide(world: World) -> None:
    consent = world.grant("rental")
    body = {"person": world.person, "product": "bike_rental", "consent": consent}
    r = world.client.post("/v1/decisions", json=body, headers=world.as_partner("decisions"))
    assert r.status_code == 200, r.text


def _years_after(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def test_R_GDPR_2_the_export_names_purposes_recipients_retention_and_sources(
    world: World,
) -> None:
    _decide(world)
    export = _export(world)
    assert export["format"] == "credo-export" and export["version"] == 1
    assert export["person"] == world.person
    assert {"credit_scoring", "tenancy"} <= {p["purpose"] for p in export["purposes"]}
    (recipient,) = export["recipients"]
    assert recipient["partner"] == "skyair" and recipient["name"] == "Sky Air"
    assert recipient["received"] == ["decision"] and recipient["times"] == 1
    assert recipient["purposes"] == ["rental"]

    events = export["data"]["events"]
    assert events and len(export["retention"]["items"]) == len(events)
    sources = {s["source"]: s["events"] for s in export["sources"]}
    assert sum(sources.values()) == len(events)
    # Retention, recomputed here: under the default profile an adverse item is kept
    # adverse_years from the day it happened; a bill paid 30+ days late is adverse.
    years = active_rules(world.client.app.state.service.store.settings).retention.adverse_years  # type: ignore[attr-defined]
    kept = {i["event_id"]: i for i in export["retention"]["items"]}
    late = on_time = 0
    for e in events:
        if e["event_type"] != "bill" or e.get("corrected"):
            continue
        due, paid = e.get("due_date"), e.get("paid_date")
        item = kept[e["event_id"]]
        if due and (paid is None or (dt.date.fromisoformat(paid) -
                                     dt.date.fromisoformat(due)).days >= 30):  # fmt: skip
            late += 1
            occurred = dt.date.fromisoformat(e["occurred_at"][:10])
            assert item["adverse"] and item["kept_until"] == str(_years_after(occurred, years))
        else:
            on_time += 1
            assert not item["adverse"] and item["kept_until"] is None
    assert on_time > 0
    automated = export["automated_decision_making"]
    assert automated["exists"] and "points table" in automated["logic"]
    assert automated["score"] == export["data"]["scores"][-1]["score"]
    assert automated["contributions"] == export["data"]["points_table"]
    tracked = world.client.get("/v1/me/requests", headers=world.session).json()
    assert [(t["kind"], t["status"]) for t in tracked] == [("access", "done")]


def _representative(row: dict[str, Any]) -> Any:
    """A value that falls in this bin of the points table."""
    if row["kind"] == "categories":
        return row["categories"][0]
    if row["lower"] is not None:
        return row["lower"]
    if row["upper"] is None:  # the missing bin: no value at all
        return None
    return row["upper"] - 1


def test_R_GDPR_2a_counterfactuals_are_what_the_model_gives_and_the_regulator_gets_a_seal(
    world: World,
) -> None:
    c = world.client
    svc = c.app.state.service  # type: ignore[attr-defined]
    (person,) = svc.run(svc.store.con.execute, "SELECT person_id FROM score_snapshots WHERE NOT"
                        " not_enough_history AND len(court_listings) = 0 AND len(improve_codes) > 1"
                        " ORDER BY score, person_id LIMIT 1").fetchone()  # fmt: skip
    world = replace(world, person=person, session=sign_in(c, world.admin, person))
    export = _export(world)
    automated = export["automated_decision_making"]
    model = svc.run(load_model, svc.store, automated["model_id"])
    values = {f["feature"]: f["value"] for f in automated["contributions"]}

    def columns(vals: dict[str, Any]) -> dict[str, np.ndarray]:
        return {
            k: np.array([v], dtype=object if v is None or isinstance(v, str) else float)
            for k, v in vals.items()
        }

    assert float(model.score(columns(values))[0]) == automated["score"]
    assert automated["counterfactuals"], "a well-scored person still has something to gain"
    for cf in automated["counterfactuals"]:
        rows = {r["description"]: r for r in model.to_dict()["rows"]
                if r["feature"] == cf["feature"]}  # fmt: skip
        moved = values | {cf["feature"]: _representative(rows[cf["if"]])}
        assert float(model.score(columns(moved))[0]) == cf["score_would_be"], cf
        assert cf["score_would_be"] > cf["score_now"]
        assert cf["text"].startswith(f"If {cf['description']} were {cf['if']}")
    # The person's export holds their own rows, not the whole table (the trade secret) ...
    assert "model" not in export and len(automated["contributions"]) == len(model.features)

    r = c.get(f"/admin/persons/{world.person}/regulator-bundle", headers=world.admin)
    assert r.status_code == 200, r.text
    bundle = r.json()
    content = bundle["content"]
    assert content["model"]["rows"] == model.to_dict()["rows"]  # ... the regulator's does
    digest = hashlib.sha256(canonical(content)).hexdigest()
    assert bundle["seal"]["sha256"] == digest
    (details,) = svc.run(svc.store.con.execute, "SELECT details FROM audit_log"
                         " WHERE action = 'regulator.bundle'").fetchone()  # fmt: skip
    assert json.loads(details)["sha256"] == digest
    content["model"]["rows"][0]["points"] += 1
    assert hashlib.sha256(canonical(content)).hexdigest() != digest  # a change is seen


def test_R_PIPL_4_the_export_is_a_portable_file_of_the_persons_data(world: World) -> None:
    export = _export(world)
    file = world.client.get("/v1/me/file", headers=world.session).json()
    assert [e["event_id"] for e in export["data"]["events"]] == [
        e["event_id"] for e in file["events"]
    ]
    # Machine-readable in the format Credo itself loads: each event validates as its type.
    hidden = {"event_id", "event_type", "source", "recorded_at", "dispute", "corrected",
              "national_id_given", "phone_given", "person_id"}  # fmt: skip
    for e in export["data"]["events"]:
        model = EVENT_MODELS[e["event_type"]]
        fields = {k: v for k, v in e.items() if k not in hidden and k in model.model_fields}
        model.model_validate(fields)
    key = ("run_id", "as_of", "score", "band", "reasons")
    assert [[s[k] for k in key] for s in export["data"]["scores"]] == [
        [s[k] for k in key] for s in file["scores"]
    ]
    assert export["data"]["consents"] == file["consents"]
