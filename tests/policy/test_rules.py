"""Jurisdiction profiles: they load, bad files name the key, the default is the strictest of
the three, and the deadlines they set are the ones disputes and reports keep (RULES.md)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from credo.errors import ConfigError, ForbiddenError, InputError
from credo.ingest.events import BillEvent
from credo.policy.rules import RulesProfile, load_rules
from credo.rights import expire_disputes, open_dispute, risk_report
from credo.rights.audited import append_event
from credo.settings import Settings
from credo.store.audit import AuditEntry
from credo.store.db import Store

JURISDICTIONS = ("us-fcra", "eu-gdpr", "cn-crr")
OPENED = dt.datetime(2026, 9, 1, 10)
SHIPPED = Path(__file__).resolve().parents[2] / "policies" / "rules"


def test_shipped_profiles_load_with_their_figures() -> None:
    us, eu, cn = (load_rules(n) for n in JURISDICTIONS)
    assert (us.disputes.days, us.disputes.extension_days) == (30, 15)
    assert (eu.disputes.days, eu.disputes.extension_days) == (30, 60)
    assert (cn.disputes.days, cn.disputes.extension_days) == (20, 0)
    assert (us.retention.clock, cn.retention.clock) == ("first_delinquency", "end_of_event")
    assert (us.reports.free_per_year, cn.reports.free_per_year) == (1, 2)


def _numeric_fields(profile: BaseModel, prefix: str = "") -> dict[str, tuple[str, Any]]:
    """Every field that declares which way is stricter: {dotted key: (direction, value)}."""
    out: dict[str, tuple[str, Any]] = {}
    for name, field in type(profile).model_fields.items():
        value = getattr(profile, name)
        if isinstance(value, BaseModel):
            out |= _numeric_fields(value, f"{prefix}{name}.")
        elif isinstance(field.json_schema_extra, dict) and "stricter" in field.json_schema_extra:
            out[prefix + name] = (str(field.json_schema_extra["stricter"]), value)
    return out


def test_the_default_is_the_strictest_of_the_jurisdictions_setting_by_setting() -> None:
    default = _numeric_fields(load_rules("default"))
    each = [_numeric_fields(load_rules(n)) for n in JURISDICTIONS]
    assert len(default) >= 15
    for key, (direction, value) in default.items():
        pick = min if direction == "min" else max
        assert value == pick(e[key][1] for e in each), key
    d = load_rules("default")
    assert d.retention.clock == "occurrence" and d.retention.public_register_cap
    assert set(d.protected_bases) == set().union(*(load_rules(n).protected_bases
                                                   for n in JURISDICTIONS))  # fmt: skip
    assert {"sex", "religion", "health", "ethnicity"} <= d.forbidden_bases()


def _write(path: Path, **patch: Any) -> Path:
    """us-fcra.yaml with top-level sections merged with ``patch`` (a section set to None
    is replaced outright)."""
    document = yaml.safe_load((SHIPPED / "us-fcra.yaml").read_text("utf-8"))
    for key, value in patch.items():
        old = document.get(key)
        document[key] = {**old, **value} if isinstance(old, dict) else value
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("patch", "key"),
    [
        ({"disputes": {"days": 0}}, "disputes.days"),
        ({"disputes": {"ratio": 2}}, "disputes.ratio"),
        ({"reports": {"purposes": ["gossip"]}}, "reports.purposes[0]"),
        ({"notices": {"max_key_factors": 9}}, "notices.max_key_factors"),
        ({"protected_bases": ["religion"], "allowed_bases": ["sex"]}, "allowed_bases[0]"),
        ({"retention": {"clock": "whenever"}}, "retention.clock"),
    ],
)
def test_a_bad_profile_names_the_file_and_the_key(
    tmp_path: Path, patch: dict[str, Any], key: str
) -> None:
    path = _write(tmp_path / "bad.yaml", **patch)
    with pytest.raises(ConfigError) as caught:
        load_rules(path)
    assert f"rules file '{path}', key '{key}'" in str(caught.value)


def test_an_unknown_profile_and_a_wrong_kind_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no rules profile named 'xx-none'"):
        load_rules("xx-none")
    path = tmp_path / "r.yaml"
    path.write_text("kind: scoring\nname: x\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="key 'kind'"):
        load_rules(path)
    assert isinstance(load_rules(), RulesProfile)


def _store_with_a_bill(tmp_path: Path, profile: str) -> tuple[Store, int]:
    store = Store.open(Settings(db=tmp_path / f"{profile}.duckdb", rules_profile=profile))
    bill = BillEvent(
        source_record_id="b1", occurred_at=dt.datetime(2026, 8, 1), bill_kind="utility",
        amount=Decimal("10"), due_date=dt.date(2026, 8, 10),
    )  # fmt: skip
    with store.write(AuditEntry("test", "ingest")) as con:
        event_id = append_event(con, bill, source="power", person_id="P1", recorded_at=OPENED)
    return store, event_id


def _dispute_deadline_is_the_profiles(tmp_path: Path, profile: str, days: int) -> None:
    store, event_id = _store_with_a_bill(tmp_path, profile)
    with store:
        dispute = open_dispute(store, "P1", event_id, "not mine", now=OPENED)
        assert dispute.due_at == OPENED + dt.timedelta(days=days)
        assert expire_disputes(store, now=OPENED + dt.timedelta(days=days - 1)) == []
        (expired,) = expire_disputes(store, now=OPENED + dt.timedelta(days=days, seconds=1))
        assert expired.status == "expired" and f"within {days} days" in (expired.note or "")


def test_R_FCRA_3_a_dispute_is_closed_within_30_days(tmp_path: Path) -> None:
    _dispute_deadline_is_the_profiles(tmp_path, "us-fcra", 30)


def test_R_CRR_3_an_objection_is_answered_within_20_days(tmp_path: Path) -> None:
    _dispute_deadline_is_the_profiles(tmp_path, "cn-crr", 20)


def test_R_FCRA_6_an_item_not_verified_by_the_deadline_is_retracted(tmp_path: Path) -> None:
    store, event_id = _store_with_a_bill(tmp_path, "default")
    with store:
        open_dispute(store, "P1", event_id, "not mine", now=OPENED)
        (expired,) = expire_disputes(store, now=OPENED + dt.timedelta(days=21))
        retracted = store.scalar(
            "SELECT correction_action FROM events WHERE event_id = ?",
            [expired.correction_event_id],
        )
        assert retracted == "retract"


def test_R_FCRA_12_a_report_needs_a_purpose_the_profile_permits(tmp_path: Path) -> None:
    narrow = _write(tmp_path / "narrow.yaml", reports={"purposes": ["court_order"]})
    with Store.open(Settings(db=tmp_path / "r.duckdb", rules_profile=str(narrow))) as store:
        for purpose in ("employment", "marketing"):
            with pytest.raises(InputError, match=f"'{purpose}' is not a permissible purpose"):
                risk_report(store, "skyair", "P1", purpose)
        with pytest.raises(ForbiddenError, match="consent"):  # permitted: on to consent
            risk_report(store, "skyair", "P1", "court_order")
        assert store.scalar("SELECT count(*) FROM inquiries") == 0
