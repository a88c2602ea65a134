"""Prohibited bases (RULES R-ECOA-1, R-CRR-4, R-GDPR-6): what a policy or feature may not key on.

An event field can reveal a protected attribute by itself (``sex``; ``birth_date`` is age) or
by one of its values (a payment's ``merchant_category: healthcare`` is health data). A points
regime whose rule matches on such a field or value is refused at load, naming the file and the
key, unless the active rules profile lists the basis in ``allowed_bases``; a feature whose SQL
reads one is reported by :func:`protected_features` so training can refuse it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from pathlib import Path

from credo.errors import ConfigError
from credo.features.catalogue import Ctx, Feature
from credo.features.pit import PointInTime
from credo.policy.rules import RulesProfile, active_rules
from credo.policy.schema import PointsRegime, ScoringPolicy
from credo.settings import Settings
from credo.sql.dialects import dialect

__all__ = [
    "FIELD_BASES",
    "GENERIC_VALUES",
    "VALUE_BASES",
    "check_policy_bases",
    "protected_features",
    "refuse_protected_features",
    "withheld_for",
    "withheld_values",
]

FIELD_BASES: dict[str, str] = {"sex": "sex", "birth_date": "age"}
"""Event fields that are a protected attribute whatever their value."""

VALUE_BASES: dict[tuple[str, str], str] = {("merchant_category", "healthcare"): "health"}
"""Event field values that reveal a protected attribute (healthcare spending is health data)."""


GENERIC_VALUES: dict[str, str] = {"merchant_category": "other"}
"""What a withheld value is stored as: the field's catch-all, so the event still counts (a
payment is still spending) but the protected fact it revealed never enters the store."""


def withheld_values(rules: RulesProfile) -> dict[str, dict[str, str]]:
    """{field: {value: stored instead}} for every value that reveals a basis the profile
    forbids: ingest stores the generic value instead (R-CRR-4: health data is never collected;
    GDPR Art. 9 without explicit consent). A profile whose ``allowed_bases`` lists the basis
    keeps the value."""
    forbidden = rules.forbidden_bases()
    out: dict[str, dict[str, str]] = {}
    for (field, value), basis in VALUE_BASES.items():
        if basis in forbidden:
            out.setdefault(field, {})[value] = GENERIC_VALUES[field]
    return out


def withheld_for(settings: Settings) -> dict[str, dict[str, str]]:
    """:func:`withheld_values` of the installation's rules profile: what ``ingest`` is given."""
    return withheld_values(active_rules(settings))


def _bases_of(field: str, value: object) -> str | None:
    return FIELD_BASES.get(field) or VALUE_BASES.get((field, str(value)))


def check_policy_bases(
    policy: ScoringPolicy | PointsRegime, rules: RulesProfile, path: str | Path
) -> None:
    """Refuse a regime rule keyed on a basis the profile forbids."""
    if not isinstance(policy, PointsRegime):
        return
    forbidden = rules.forbidden_bases()
    for i, rule in enumerate(policy.rules):
        for field, value in rule.when.items():
            basis = _bases_of(field, value)
            if basis is not None and basis in forbidden:
                raise ConfigError(
                    f"policy file {str(path)!r}, key 'rules[{i}].when.{field}': keys on the "
                    f"protected basis {basis!r}, which rules profile {rules.name!r} forbids",
                    hint="remove the condition, or use a profile whose allowed_bases lists it",
                )


def protected_features(features: Iterable[Feature], rules: RulesProfile) -> dict[str, str]:
    """Features whose SQL reads a basis the profile forbids: {feature name: basis}."""
    forbidden = rules.forbidden_bases()
    c = Ctx(dialect("duckdb"), PointInTime(dt.date(2026, 1, 31), dt.datetime(2026, 2, 1)))
    found: dict[str, str] = {}
    for feature in features:
        sql = feature.expression(c) + " " + feature.evidence(c)
        for field, basis in FIELD_BASES.items():
            if basis in forbidden and re.search(rf"\b{field}\b", sql):
                found[feature.name] = basis
        for (field, value), basis in VALUE_BASES.items():
            if basis in forbidden and re.search(rf"\b{field}\b[^;]*'{value}'", sql):
                found[feature.name] = basis
    return found


def refuse_protected_features(features: Iterable[Feature], rules: RulesProfile) -> None:
    """Refuse to train on features that read a basis the profile forbids (R-ECOA-1), naming
    each feature and its basis, before anything is read or fitted."""
    found = protected_features(features, rules)
    if found:
        named = ", ".join(f"{name!r} ({basis})" for name, basis in sorted(found.items()))
        raise ConfigError(
            f"feature {named} reads a protected basis that rules profile {rules.name!r}"
            " forbids: no model is trained on it",
            hint="drop the feature, or use a profile whose allowed_bases lists the basis",
        )
