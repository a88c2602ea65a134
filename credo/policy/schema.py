"""Policy files: what an operator decides, as versioned, schema-checked YAML (SPEC S3, S5, S6).

Two kinds. A **scoring** policy (``policies/zhima.yaml``) holds the bands, the retention limit,
the "not enough history" rule, the court-list cap, the weight of the connections dimension and
the calibration of the scale. A **points regime**
(``policies/suining-2010.yaml``) holds a starting balance, rules matching events to points and
grade thresholds: a new regime is a new file, never new code.

Every problem is a ``ConfigError`` naming the file and the key (``bands[2].min``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
import yaml
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from credo.errors import ConfigError
from credo.ingest.events import FIELDS

if TYPE_CHECKING:
    from credo.policy.rules import RulesProfile

__all__ = [
    "Band",
    "CourtList",
    "Grade",
    "LoadedPolicy",
    "PointsRegime",
    "Policy",
    "Rule",
    "ScoringPolicy",
    "Training",
    "config_error",
    "load_policy",
    "policy_dirs",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Band(_Strict):
    name: str = Field(min_length=1)
    min: int
    max: int


class CourtList(_Strict):
    """While listed, the score is capped (SPEC S6). Which products are declined while listed
    is the products policy's (``restricted`` in :mod:`credo.policy.products`)."""

    cap: int = 549


class NotEnoughHistory(_Strict):
    """Fewer events or months than ``min_events``/``min_months`` gets ``score`` and the reason
    "not enough history". Above that, the model score counts in proportion to the evidence,
    ``min(1, months / full_months, events / full_events)``, and the rest stays at ``score``:
    a file that just crossed the line moves off 550 a step at a time, not by a band at once."""

    score: int = 550
    min_events: int = Field(default=5, ge=0)
    min_months: int = Field(default=3, ge=0)
    full_months: int = Field(default=12, ge=1)
    full_events: int = Field(default=20, ge=1)

    def credibility(
        self, events: NDArray[np.float64], months: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """The weight of the model score per person: 0 for a thin file, 1 for a full one."""
        thin = (events < self.min_events) | (months < self.min_months)
        weight = np.minimum(1.0, np.minimum(months / self.full_months, events / self.full_events))
        return np.where(thin, 0.0, weight)


class Alerts(_Strict):
    """A scheduled score that moved ``score_change_points`` or more since the previous one
    alerts the person, whatever the direction (issue 14, docs/decisions/0533)."""

    score_change_points: int = Field(default=20, ge=1)


class Calibration(_Strict):
    """Training shifts the scale so that ``share_below`` of scored persons fall below ``score``;
    ``pdo`` points double the odds of repaying."""

    score: int = 550
    share_below: float = Field(default=0.05, gt=0, lt=1)
    pdo: float = Field(default=20.0, gt=0)


class Training(_Strict):
    """Binning when training on the bureau's own events. Bads are rare (about 1 in 25 of the
    persons with loans in the synthetic population), so a bin with no bad in it would get an
    extreme weight of evidence and a person crossing its edge would jump by a band: every bin's
    evidence is shrunk towards the average by ``woe_prior_bads`` bads' worth of the average
    bad rate (a Beta prior), as bureaus require a minimum number of bads behind a bin."""

    max_bins: int = Field(default=6, ge=2, le=20)
    min_bin_size: float = Field(default=0.05, gt=0, lt=0.5)
    woe_prior_bads: float = Field(default=3.0, gt=0)


class Outcome(_Strict):
    """What "bad" means when training on the bureau's own events."""

    months: int = Field(default=12, ge=1, le=60)
    min_days_past_due: int = Field(default=90, ge=1)


class ScoringPolicy(_Strict):
    kind: Literal["scoring"]
    name: str = Field(min_length=1)
    version: str = Field(min_length=1)
    description: str = ""
    min_score: int = 350
    max_score: int = 950
    bands: list[Band] = Field(min_length=1)
    retention_years: int = Field(default=7, ge=1, le=30)
    max_reasons: int = Field(default=4, ge=1, le=4)
    not_enough_history: NotEnoughHistory = NotEnoughHistory()
    court_list: CourtList = CourtList()
    connections_weight: float = Field(default=1.0, ge=0.0, le=1.0)
    calibration: Calibration = Calibration()
    outcome: Outcome = Outcome()
    training: Training = Training()
    alerts: Alerts = Alerts()

    @model_validator(mode="after")
    def _bands_cover_the_range(self) -> ScoringPolicy:
        expected = self.min_score
        for i, band in enumerate(self.bands):
            if band.min != expected:
                raise ValueError(f"bands[{i}].min: is {band.min}, expected {expected} (no gaps)")
            if band.max < band.min:
                raise ValueError(f"bands[{i}].max: is below its min")
            expected = band.max + 1
        if expected != self.max_score + 1:
            raise ValueError(f"bands: the last band must end at max_score {self.max_score}")
        return self

    def band(self, score: float) -> str:
        for b in self.bands:
            if score < b.max + 1:
                return b.name
        return self.bands[-1].name


Value = str | bool | int


class Rule(_Strict):
    """Points for every event whose fields equal ``when``; the first matching rule wins."""

    name: str = Field(min_length=1)
    description: str = ""
    when: dict[str, Value] = Field(min_length=1)
    points: int

    @model_validator(mode="after")
    def _fields_exist(self) -> Rule:
        for key in self.when:
            if key not in FIELDS:
                raise ValueError(f"when.{key}: not an event field")
        return self


class Grade(_Strict):
    grade: str = Field(min_length=1)
    min: int | None = None  # None: everything below the previous grade
    consequences: str = ""


class PointsRegime(_Strict):
    kind: Literal["points_regime"]
    name: str = Field(min_length=1)
    version: str = Field(min_length=1)
    description: str = ""
    source: str = ""
    event_type: str = "conduct"
    start: int
    retention_years: int | None = Field(default=None, ge=1)
    rules: list[Rule] = Field(min_length=1)
    grades: list[Grade] = Field(min_length=1)

    @model_validator(mode="after")
    def _grades_descend(self) -> PointsRegime:
        floors = [g.min for g in self.grades]
        if floors[-1] is not None or any(f is None for f in floors[:-1]):
            raise ValueError("grades: every grade but the last needs a min; the last has none")
        numbers = [f for f in floors[:-1] if f is not None]
        if numbers != sorted(numbers, reverse=True) or len(set(numbers)) != len(numbers):
            raise ValueError("grades: min must strictly decrease from the first grade")
        return self

    def grade(self, balance: int) -> str:
        for g in self.grades:
            if g.min is None or balance >= g.min:
                return g.grade
        return self.grades[-1].grade


Policy = Annotated[ScoringPolicy | PointsRegime, Field(discriminator="kind")]


class LoadedPolicy(BaseModel):
    """A policy with where it came from and the digest of its text (recorded with scores)."""

    model_config = ConfigDict(frozen=True)

    policy: ScoringPolicy | PointsRegime
    path: str
    digest: str

    @property
    def name(self) -> str:
        return self.policy.name

    @property
    def version(self) -> str:
        return self.policy.version


_POLICY: TypeAdapter[ScoringPolicy | PointsRegime] = TypeAdapter(Policy)
_KINDS = frozenset({"scoring", "points_regime"})


def policy_dirs() -> list[Path]:
    """Where named policies are found: ``./policies``, then the ones shipped with Credo."""
    shipped = Path(__file__).resolve().parent.parent.parent / "policies"
    return [Path.cwd() / "policies", shipped]


def _resolve(name: str | Path) -> Path:
    path = Path(name)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.exists():
            raise ConfigError(f"policy file {str(path)!r} does not exist")
        return path
    for folder in policy_dirs():
        for suffix in (".yaml", ".yml"):
            candidate = folder / f"{name}{suffix}"
            if candidate.exists():
                return candidate
    raise ConfigError(
        f"no policy named {str(name)!r}",
        hint="give a path to a YAML file, or a name in " + ", ".join(map(str, policy_dirs())),
    )


def _key(loc: tuple[int | str, ...], tags: frozenset[str]) -> str:
    """Pydantic's location as the file's key, ``bands[2].min``; a leading union tag (the
    policy's ``kind``) is not a key."""
    parts = loc[1:] if loc and loc[0] in tags else loc
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "the top level"


def config_error(
    exc: ValidationError, what: str, path: Path, *, tags: frozenset[str] = frozenset()
) -> ConfigError:
    """The first problem of a policy-like file as a ``ConfigError`` naming the file and the
    key; a validator may name its own key first (``"bands[0].min: is 360, expected 350"``)."""
    first = exc.errors()[0]
    where = _key(first["loc"], tags)
    message = str(first["msg"]).removeprefix("Value error, ")
    head, sep, rest = message.partition(": ")
    if sep and " " not in head:
        where = head if where == "the top level" else f"{where}.{head}"
        message = rest
    return ConfigError(
        f"{what} file {str(path)!r}, key {where!r}: {message}",
        hint=f"{exc.error_count()} problem(s) in all",
    )


def read_yaml_document(path: Path, what: str) -> tuple[bytes, dict[str, Any]]:
    """The bytes (for the digest) and the top-level mapping of a policy-like YAML file."""
    try:
        raw = path.read_bytes()
        document: Any = yaml.safe_load(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {what} file {str(path)!r}: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{what} file {str(path)!r} is not valid YAML: {exc}") from None
    if not isinstance(document, dict):
        raise ConfigError(f"{what} file {str(path)!r}: expected a mapping at the top level")
    return raw, document


def load_policy(name: str | Path, *, rules: RulesProfile | None = None) -> LoadedPolicy:
    """Read and check a policy by file path or name (``zhima``, ``suining-2010``); a regime
    keyed on a basis the rules profile forbids is refused. Without a profile, the strictest
    (``default``) applies: a regime that needs an allowed basis must be loaded with its own."""
    from credo.policy.bases import check_policy_bases
    from credo.policy.rules import load_rules

    path = _resolve(name)
    raw, document = read_yaml_document(path, "policy")
    if document.get("kind") not in ("scoring", "points_regime"):
        raise ConfigError(
            f"policy file {str(path)!r}, key 'kind': must be 'scoring' or 'points_regime'"
        )
    try:
        policy = _POLICY.validate_python(document)
    except ValidationError as exc:
        raise config_error(exc, "policy", path, tags=_KINDS) from None
    check_policy_bases(policy, rules or load_rules(), path)
    digest = "sha256:" + hashlib.sha256(raw).hexdigest()[:16]
    return LoadedPolicy(policy=policy, path=str(path), digest=digest)
