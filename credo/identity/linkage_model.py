"""A trained linkage model as one versioned JSON document (never a pickle).

The document holds Credo's own header (format, linkage-settings version, the two thresholds,
when and on how many records it was trained) and Splink's complete settings with the
estimated m and u probabilities, so a model file alone reproduces every match weight. Its id
is a digest of its content: the same model always has the same id, and a person's
explanation names the model that weighed their links.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from credo.errors import ConfigError
from credo.identity.linkage import SETTINGS_VERSION

__all__ = [
    "DEFAULT_MATCH_WEIGHT",
    "DEFAULT_REVIEW_WEIGHT",
    "FORMAT",
    "LinkageModel",
]

FORMAT = "credo-linkage-model/1"
DEFAULT_MATCH_WEIGHT = 6.0
"""Auto-merge at match weight 6 (probability 0.985): chosen for precision on the synthetic
benchmark, where it keeps pairwise precision above 0.999 (benchmarks/linkage)."""
DEFAULT_REVIEW_WEIGHT = 2.0
"""Pairs from weight 2 up to the match threshold go to review instead of being merged."""


@dataclass(frozen=True)
class LinkageModel:
    splink: dict[str, Any]
    match_weight: float = DEFAULT_MATCH_WEIGHT
    review_weight: float = DEFAULT_REVIEW_WEIGHT
    settings_version: str = SETTINGS_VERSION
    trained_at: str | None = None
    trained_on_records: int | None = None

    def __post_init__(self) -> None:
        if self.review_weight > self.match_weight:
            raise ConfigError(
                f"review threshold {self.review_weight} is above the match threshold "
                f"{self.match_weight}"
            )

    @property
    def model_id(self) -> str:
        """A digest of what decides a weight (not of when it was trained)."""
        core = {k: v for k, v in self.to_dict().items() if k not in ("trained_at",)}
        text = json.dumps(core, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return f"lm-{hashlib.sha256(text.encode()).hexdigest()[:16]}"

    def with_thresholds(self, match_weight: float, review_weight: float) -> LinkageModel:
        return replace(self, match_weight=match_weight, review_weight=review_weight)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "settings_version": self.settings_version,
            "match_weight_threshold": self.match_weight,
            "review_weight_threshold": self.review_weight,
            "trained_at": self.trained_at,
            "trained_on_records": self.trained_on_records,
            "splink": self.splink,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False, indent=1)

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "model") -> LinkageModel:
        if data.get("format") != FORMAT:
            raise ConfigError(f"{where} is not a Credo linkage model (format {FORMAT})")
        if data.get("settings_version") != SETTINGS_VERSION:
            raise ConfigError(
                f"{where} was trained with linkage settings {data.get('settings_version')!r}; "
                f"this Credo uses {SETTINGS_VERSION!r}",
                hint="retrain with 'credo resolve --train'",
            )
        try:
            return cls(
                splink=dict(data["splink"]),
                match_weight=float(data["match_weight_threshold"]),
                review_weight=float(data["review_weight_threshold"]),
                trained_at=data.get("trained_at"),
                trained_on_records=data.get("trained_on_records"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{where} is incomplete: {exc}") from None

    @classmethod
    def from_json(cls, text: str, where: str = "model") -> LinkageModel:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{where} is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{where} is not a Credo linkage model")
        return cls.from_dict(data, where)

    @classmethod
    def load(cls, path: Path) -> LinkageModel:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read linkage model {str(path)!r}: {exc}") from None
        return cls.from_json(text, repr(str(path)))

    def save(self, path: Path) -> None:
        path.write_text(self.to_json() + "\n", encoding="utf-8")
