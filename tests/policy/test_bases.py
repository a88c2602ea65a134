"""Prohibited bases (RULES R-ECOA-1, R-CRR-4, R-GDPR-6): a points regime keyed on a protected
attribute is refused at load, naming the file and the key, unless the profile allows it; the
feature catalogue reads none, and a feature that did would be found."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from credo.errors import ConfigError
from credo.features.catalogue import CATALOGUE
from credo.ingest.loader import ingest
from credo.policy import load_policy, load_rules
from credo.policy.bases import protected_features, withheld_for
from credo.policy.schema import policy_dirs
from credo.settings import Settings
from credo.store.db import Store

SHIPPED = Path(__file__).resolve().parents[2] / "policies"


def _regime(tmp_path: Path, when: dict[str, Any], event_type: str = "conduct") -> Path:
    document = yaml.safe_load((SHIPPED / "suining-2010.yaml").read_text("utf-8"))
    document["event_type"] = event_type
    document["rules"].insert(0, {"name": "keyed", "when": when, "points": -30})
    path = tmp_path / "regime.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def _profile(tmp_path: Path, allowed: list[str]) -> Path:
    document = yaml.safe_load((SHIPPED / "rules" / "us-fcra.yaml").read_text("utf-8"))
    document["allowed_bases"] = allowed
    path = tmp_path / "allowing.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def test_R_ECOA_1_a_regime_rule_keyed_on_sex_fails_to_load(tmp_path: Path) -> None:
    path = _regime(tmp_path, {"sex": "F"})
    with pytest.raises(ConfigError) as caught:
        load_policy(path)
    message = str(caught.value)
    assert f"policy file '{path}', key 'rules[0].when.sex'" in message
    assert "protected basis 'sex'" in message and "'default' forbids" in message
    with pytest.raises(ConfigError, match="protected basis 'sex'"):
        load_policy(path, rules=load_rules("us-fcra"))
    allowing = load_rules(_profile(tmp_path, ["sex"]))
    assert load_policy(path, rules=allowing).policy.rules[0].when == {"sex": "F"}


def test_R_ECOA_1_age_by_birth_date_is_a_protected_basis_too(tmp_path: Path) -> None:
    path = _regime(tmp_path, {"birth_date": "1960-01-01"})
    with pytest.raises(ConfigError, match=r"rules\[0\]\.when\.birth_date.*'age'"):
        load_policy(path, rules=load_rules("us-fcra"))


def test_R_CRR_4_a_rule_keyed_on_healthcare_spending_fails_to_load(tmp_path: Path) -> None:
    path = _regime(tmp_path, {"merchant_category": "healthcare"}, event_type="payment")
    with pytest.raises(ConfigError, match=r"when\.merchant_category.*'health'.*'cn-crr'"):
        load_policy(path, rules=load_rules("cn-crr"))
    dining = _regime(tmp_path, {"merchant_category": "dining"}, event_type="payment")
    assert load_policy(dining, rules=load_rules("cn-crr")).name == "suining-2010"


def test_the_shipped_policies_key_on_no_protected_basis() -> None:
    assert load_policy("suining-2010").name == "suining-2010"
    assert load_policy("zhima").name == "zhima"


def _sql(condition: str) -> Callable[[Any], str]:
    return lambda _c: f"count(CASE WHEN {condition} THEN 1 END)"


def test_R_GDPR_6_no_feature_reads_a_special_category_and_one_that_did_is_found() -> None:
    strictest = load_rules()
    assert protected_features(CATALOGUE, strictest) == {}
    base = CATALOGUE[0]
    by_sex = dataclasses.replace(base, name="women", expression=_sql("k.sex = 'F'"))
    clinic = dataclasses.replace(
        base, name="clinic_spend", expression=_sql("k.merchant_category = 'healthcare'")
    )
    found = protected_features([base, by_sex, clinic], strictest)
    assert found == {"women": "sex", "clinic_spend": "health"}
    assert protected_features([by_sex, clinic], load_rules("cn-crr")) == {"clinic_spend": "health"}


def _wallet(tmp_path: Path) -> Path:
    """Three wallet payments: a pharmacy, a hospital and a grocer (ISO 18245 codes)."""
    feed = tmp_path / "wallet.csv"
    feed.write_text(
        "txn_id,txn_time,user_id,user_name,user_mobile,amount_fen,mcc,channel,merchant_name,memo\n"
        "t1,2026/05/01 10:00,u1,王芳,13800000001,12000,5912,QR,康泰药房,\n"
        "t2,2026/05/02 10:00,u1,王芳,13800000001,98000,8062,CARD,市第一医院,\n"
        "t3,2026/05/03 10:00,u1,王芳,13800000001,3000,5411,QR,超市,\n",
        encoding="utf-8",
    )
    return feed


def _categories(settings: Settings, feed: Path) -> list[str]:
    with Store.open(settings) as store:
        report = ingest(store, feed, "alipay_payments", withheld=withheld_for(settings))
        assert (report.rows_accepted, report.rows_rejected) == (3, 0)
        found = store.con.execute(
            "SELECT merchant_category FROM events ORDER BY source_record_id"
        ).fetchall()
        return [r for (r,) in found]


def test_R_CRR_4_healthcare_spending_is_never_stored_unless_the_profile_allows_it(
    tmp_path: Path,
) -> None:
    """Under cn-crr (health: never collected) the payments load as spending, but the store
    never learns they were medical; a profile that allows health keeps the category."""
    feed = _wallet(tmp_path)
    db = tmp_path / "cn.duckdb"
    assert _categories(Settings(db=db, rules_profile="cn-crr"), feed) == [
        "other", "other", "grocery"
    ]  # fmt: skip
    stored = db.read_bytes()  # nor anything else naming the clinic or the pharmacy
    assert "医院".encode() not in stored and "药房".encode() not in stored
    allowed = yaml.safe_load((policy_dirs()[0] / "rules" / "cn-crr.yaml").read_text("utf-8"))
    allowed |= {"name": "cn-crr-health", "allowed_bases": ["health"]}
    profile = tmp_path / "cn-crr-health.yaml"
    profile.write_text(yaml.safe_dump(allowed, allow_unicode=True), encoding="utf-8")
    kept = Settings(db=tmp_path / "kept.duckdb", rules_profile=str(profile))
    assert _categories(kept, feed) == ["healthcare", "healthcare", "grocery"]
