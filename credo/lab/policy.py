"""What a simulated policy decides, and the world it acts on.

A lab policy is the handful of levers the article argues about: how much a person's contacts
count, what a court listing does to the score and how soon a fixed listing stops counting, the
dispute deadline, and which scores earn a perk (deposit waived) or a decline. Named presets ship
for the comparisons in docs/lab.md; any other policy is a YAML file with the same keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from credo.errors import ConfigError

__all__ = ["BANDS", "PRESETS", "LabPolicy", "World", "load_policy"]

#: Zhima's five bands (policies/zhima.yaml): lower bound of each, and its name.
BANDS = ((350, "poor"), (550, "fair"), (600, "good"), (650, "very good"), (700, "excellent"))


class LabPolicy(BaseModel):
    """The levers of one policy; every field has the value of the default ``score`` preset."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    connections_weight: float = Field(default=0.15, ge=0, le=1)
    listed_contact_penalty: float = Field(default=400.0, ge=0)
    court_cap: float = Field(default=549.0, ge=350, le=950)
    cap_lift: Literal["at-once", "3-working-days", "next-month"] = "at-once"
    dispute_deadline_days: int = Field(default=30, ge=1, le=365)
    perk_score: float = 650.0
    perk_gain_months: float = Field(default=2.0, ge=0)
    decline_score: float = 550.0
    decline_loss_months: float = Field(default=3.0, ge=0)


PRESETS = {
    "score": LabPolicy(name="score"),
    "no-connections": LabPolicy(name="no-connections", connections_weight=0.0),
    "cap-3-working-days": LabPolicy(name="cap-3-working-days", cap_lift="3-working-days"),
    "cap-next-month": LabPolicy(name="cap-next-month", cap_lift="next-month"),
    "suining-2010": LabPolicy(
        name="suining-2010",
        connections_weight=0.0,
        court_cap=350.0,
        cap_lift="next-month",
        dispute_deadline_days=90,
        decline_score=600.0,
    ),
}


def load_policy(name_or_path: str) -> LabPolicy:
    """A preset by name, or a YAML file of :class:`LabPolicy` keys."""
    if name_or_path in PRESETS:
        return PRESETS[name_or_path]
    path = Path(name_or_path)
    if not path.is_file():
        raise ConfigError(
            f"no lab policy {name_or_path!r}",
            hint=f"name a preset ({', '.join(PRESETS)}) or a YAML file",
        )
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read lab policy {str(path)!r}: {exc}") from None
    if isinstance(document, dict):
        document.setdefault("name", path.stem)
    try:
        return LabPolicy.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "(top)"
        raise ConfigError(f"lab policy {str(path)!r}, key {key!r}: {first['msg']}") from None


@dataclass(frozen=True)
class World:
    """The population's side, the same under every policy.

    group_shares: protected groups and their shares; the second and later groups start with
    ``capacity_gap`` less capacity (in standard deviations), the structural gap under study.
    contacts, homophily: contacts per person and the chance a first contact is in one's group.
    listing_rate: monthly chance of a (true) court listing at average risk; wrong_share: the share
    of all listings that are wrong; dispute_share: the share of wrong listings that are disputed
    (and fixed within the deadline); the rest are never fixed. listing_days: how long a listing
    lasts. rewire_rate: monthly chance that a person reviews their contacts.
    """

    group_shares: tuple[tuple[str, float], ...] = (("a", 0.7), ("b", 0.3))
    capacity_gap: float = 0.5
    contacts: int = 8
    homophily: float = 0.8
    listing_rate: float = 0.01
    wrong_share: float = 0.1
    dispute_share: float = 0.6
    listing_days: int = 365
    rewire_rate: float = 0.1
