"""Jurisdiction profiles: the deadlines, clocks and rights of RULES.md as policy settings.

``policies/rules/us-fcra.yaml``, ``eu-gdpr.yaml`` and ``cn-crr.yaml`` hold each jurisdiction's
figures; ``default.yaml`` names no figures of its own but ``strictest_of`` a list of profiles,
and is derived from them field by field (the shortest deadline, the shortest retention, the
most free reports, only the purposes every profile permits, every protected basis any profile
names), so the default cannot drift from the profiles it combines. Each numeric field says in
its schema which way is stricter (``stricter: min`` or ``max``).

The active profile is the ``rules_profile`` setting (:func:`active_rules`). Every problem is a
``ConfigError`` naming the file and the key, as for the other policy files.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from credo.errors import ConfigError
from credo.policy.schema import config_error, policy_dirs, read_yaml_document
from credo.purposes import REPORT_PURPOSES
from credo.settings import Settings

__all__ = [
    "PROTECTED_BASES",
    "REPORT_PURPOSE_CODES",
    "ConsentRules",
    "CourtListRules",
    "DisputeRules",
    "NoticeRules",
    "ReportRules",
    "RetentionRules",
    "RulesProfile",
    "active_rules",
    "load_rules",
]

REPORT_PURPOSE_CODES: tuple[str, ...] = REPORT_PURPOSES
"""Every purpose code a profile may permit (R-FCRA-12's list, kept once in
:mod:`credo.purposes`); which ones it permits is policy."""


def _known_purpose(purpose: str) -> str:
    if purpose not in REPORT_PURPOSES:
        raise ValueError(f"unknown purpose {purpose!r}; one of {', '.join(REPORT_PURPOSES)}")
    return purpose


Purpose = Annotated[str, AfterValidator(_known_purpose)]

ProtectedBasis = Literal[
    "race",
    "colour",
    "ethnicity",
    "national_origin",
    "religion",
    "sex",
    "marital_status",
    "age",
    "health",
    "sex_life",
    "political_opinion",
    "trade_union",
    "genes",
    "biometrics",
    "public_assistance",
    "rights_exercised",
]
PROTECTED_BASES: tuple[ProtectedBasis, ...] = get_args(ProtectedBasis)
"""Attributes a policy or feature may key on only where the profile allows it (R-ECOA-1,
R-CRR-4, R-GDPR-6's special categories)."""

RetentionClock = Literal["occurrence", "first_delinquency", "end_of_event"]
_CLOCK_ORDER: tuple[str, ...] = get_args(RetentionClock)
"""Clocks by when they start: the date of the item, DOFD + grace (R-FCRA-11), the end of the
bad act (R-CRR-1). The earlier a clock starts, the sooner an item ages out: the stricter."""


def _min(default: int, **limits: Any) -> Any:
    """A field where the smaller value is the stricter rule (a deadline, a retention time)."""
    return Field(default, json_schema_extra={"stricter": "min"}, **limits)


def _max(default: int, **limits: Any) -> Any:
    """A field where the larger value is the stricter rule (free reports, look-back)."""
    return Field(default, json_schema_extra={"stricter": "max"}, **limits)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DisputeRules(_Strict):
    """R-FCRA-3/4/8, R-CRR-3, R-GDPR-1: how long a dispute may stay open and who is told."""

    days: int = _min(30, ge=1, le=90)
    extension_days: int = _min(15, ge=0, le=60)
    furnisher_notice_business_days: int = _min(5, ge=1, le=30)
    result_notice_business_days: int = _min(5, ge=1, le=30)
    notify_months: int = _max(6, ge=1, le=24)
    """Partners that got a decision or report this far back hear of a correction (R-BL-6)."""
    fix_working_days: int = _min(3, ge=1, le=30)
    """R-BL-4: a correction's fix (the item amended and the person re-scored) is due this many
    working days after the dispute is decided for the person."""


class RetentionRules(_Strict):
    """R-FCRA-10/11, R-CRR-1, R-GDPR-4: how long adverse items count, and from when."""

    adverse_years: int = _min(7, ge=1, le=30)
    bankruptcy_years: int = _min(10, ge=1, le=30)
    clock: RetentionClock = "occurrence"
    delinquency_grace_days: int = _min(180, ge=0, le=365)
    """R-FCRA-11: the clock of a charge-off starts this long after the first delinquency."""
    public_register_cap: bool = False
    """R-GDPR-4 (SCHUFA): a copy of a public register is kept no longer than the register."""
    judgment_limitation_years: int = _min(0, ge=0, le=30)
    """R-FCRA-10: a judgment is kept ``adverse_years`` or the statute of limitations, whichever
    is longer; 0: no longer statute is set (the operator sets the state's figure)."""
    public_register_months: int = _min(6, ge=0, le=120)
    """R-GDPR-4: how long the register keeps a record after it ends (Germany's insolvency
    register: 6 months); with the cap, Credo's copy ages out then."""


class NoticeRules(_Strict):
    """R-ECOA-2/3, R-FCRA-13/14, R-GDPR-1: notice deadlines and what a notice carries."""

    action_days: int = _min(30, ge=1, le=90)
    free_report_after_notice_days: int = _max(60, ge=0, le=365)
    request_response_days: int = _min(30, ge=1, le=92)
    request_extension_days: int = _min(60, ge=0, le=92)
    max_key_factors: int = _min(4, ge=1, le=4)


class ReportRules(_Strict):
    """R-FCRA-1/2/12, R-CRR-2: permissible purposes, free reports and inquiry look-back."""

    purposes: tuple[Purpose, ...] = Field(min_length=1)
    free_per_year: int = _max(1, ge=0, le=12)
    free_within_days: int = _min(15, ge=1, le=60)
    inquiry_lookback_days: int = _max(365, ge=30, le=3650)
    employment_lookback_days: int = _max(730, ge=30, le=3650)


class CourtListRules(_Strict):
    """R-BL-2/3/4: the court list's term, grace and removal deadline."""

    term_years: int = _min(2, ge=1, le=5)
    grace_months: int = _max(1, ge=0, le=3)
    remove_within_working_days: int = _min(3, ge=1, le=30)


class FraudAlertRules(_Strict):
    """R-FCRA-16: the nationwide bureaus an alert placed here is referred to, and by when."""

    refer_to: tuple[str, ...] = ()
    refer_within_business_days: int = _min(1, ge=1, le=15)


class ConsentRules(_Strict):
    """R-PIPL-3, R-CRR-4: which disclosures and uses need a consent of their own. ``True`` is
    the stricter rule (the strictest default requires what any profile requires)."""

    sensitive_separate: bool = False
    """R-PIPL-3 (PIPL Arts. 23, 28, 29): a partner gets sensitive data (financial accounts) only
    with a separate consent for that partner and purpose, on top of the ordinary one."""
    assets_written: bool = False
    """R-CRR-4 (Regulation Art. 14): asset data (tax paid, vehicles) is used in scores only with
    the person's written consent after being told the consequences; without it it is withheld."""


class RulesProfile(_Strict):
    kind: Literal["rules"]
    name: str = Field(min_length=1)
    version: str = Field(min_length=1)
    description: str = ""
    jurisdiction: str = Field(min_length=1)
    disputes: DisputeRules
    retention: RetentionRules
    notices: NoticeRules
    reports: ReportRules
    court_list: CourtListRules = CourtListRules()
    fraud_alerts: FraudAlertRules = FraudAlertRules()
    consents: ConsentRules = ConsentRules()
    protected_bases: tuple[ProtectedBasis, ...] = PROTECTED_BASES
    allowed_bases: tuple[ProtectedBasis, ...] = ()
    """Protected bases this profile lets a policy key on (e.g. age in a sound system)."""
    digest: str = ""

    @model_validator(mode="after")
    def _allowed_are_protected(self) -> RulesProfile:
        for i, basis in enumerate(self.allowed_bases):
            if basis not in self.protected_bases:
                raise ValueError(f"allowed_bases[{i}]: {basis!r} is not a protected basis here")
        return self

    def forbidden_bases(self) -> frozenset[str]:
        """What a policy or feature may not key on under this profile."""
        return frozenset(self.protected_bases) - frozenset(self.allowed_bases)


def _strictest(values: list[Any], model: type[BaseModel], field: str) -> Any:
    """The strictest of one field's values across profiles, by the field's declared direction."""
    if isinstance(values[0], BaseModel):
        sub = type(values[0])
        return {f: _strictest([getattr(v, f) for v in values], sub, f) for f in sub.model_fields}
    extra = model.model_fields[field].json_schema_extra
    direction = extra.get("stricter") if isinstance(extra, dict) else None
    if direction == "min":
        return min(values)
    if direction == "max":
        return max(values)
    if isinstance(values[0], bool):
        return any(values)
    if isinstance(values[0], tuple) and field in ("purposes", "allowed_bases"):
        return tuple(v for v in values[0] if all(v in other for other in values))
    if isinstance(values[0], tuple):
        return tuple(dict.fromkeys(v for tup in values for v in tup))
    if field == "clock":  # the clock that starts first runs out first
        return min(values, key=_CLOCK_ORDER.index)
    return values[0]


def _combine(document: dict[str, Any], path: Path) -> dict[str, Any]:
    """A ``strictest_of`` document filled in from the profiles it names."""
    names = document.pop("strictest_of")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise ConfigError(
            f"rules file {str(path)!r}, key 'strictest_of': give a list of profile names"
        )
    profiles = [load_rules(n) for n in names]
    combined = {
        f: _strictest([getattr(p, f) for p in profiles], RulesProfile, f)
        for f in (
            "disputes",
            "retention",
            "notices",
            "reports",
            "court_list",
            "fraud_alerts",
            "consents",
        )
    }
    combined["protected_bases"] = _strictest(
        [p.protected_bases for p in profiles], RulesProfile, "protected_bases"
    )
    combined["allowed_bases"] = _strictest(
        [p.allowed_bases for p in profiles], RulesProfile, "allowed_bases"
    )
    return {**combined, **document}


def _resolve(name: str | Path) -> Path:
    path = Path(name)
    if path.suffix in (".yaml", ".yml"):
        if not path.exists():
            raise ConfigError(f"rules file {str(path)!r} does not exist")
        return path
    for folder in policy_dirs():
        candidate = folder / "rules" / f"{name}.yaml"
        if candidate.exists():
            return candidate
    raise ConfigError(
        f"no rules profile named {str(name)!r}",
        hint="one of us-fcra, eu-gdpr, cn-crr, default, or a path to a YAML file",
    )


@functools.cache
def _load(path: Path, mtime_ns: int) -> RulesProfile:
    raw, document = read_yaml_document(path, "rules")
    if document.get("kind") != "rules":
        raise ConfigError(f"rules file {str(path)!r}, key 'kind': must be 'rules'")
    if "strictest_of" in document:
        document = _combine(document, path)
    document["digest"] = "sha256:" + hashlib.sha256(raw).hexdigest()[:16]
    try:
        return RulesProfile.model_validate(document)
    except ValidationError as exc:
        raise config_error(exc, "rules", path) from None


def load_rules(name: str | Path = "default") -> RulesProfile:
    """Read and check a jurisdiction profile by name (``us-fcra``) or path; cached per file
    version, since disputes and reports consult it on every request."""
    path = _resolve(name).resolve()
    return _load(path, path.stat().st_mtime_ns)


def active_rules(settings: Settings) -> RulesProfile:
    """The profile this installation keeps (the ``rules_profile`` setting)."""
    return load_rules(settings.rules_profile)
