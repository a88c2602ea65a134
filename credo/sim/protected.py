"""Protected attributes of the synthetic population, and how they bend its features.

Issue 18 item 5: the demo's fairness audit needs something to find. Each person gets a sex
(already drawn with their name and national id), an ethnicity, a hukou (household registration)
and an age band. None of them is a feature or moves the latent creditworthiness that decides
who repays; :class:`ProtectedLinks` says how much each shifts what sources report instead —
income (hence spending, bills, loan sizes), education, and how many contacts a person has —
which is how a scorecard comes to approve groups at different rates without reading the
attribute: through proxies. Setting every link to zero gives a population whose features are
independent of the attributes given creditworthiness and age; that is the default, and the demo
generates with :data:`DEMO_LINKS`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["AGE_BANDS", "DEMO_LINKS", "ProtectedLinks", "age_band", "draw_protected"]

ObjArray = npt.NDArray[np.object_]
#: Age bands, by the lower bound of each (years at the window's end).
AGE_BANDS = ((18, "18-24"), (25, "25-34"), (35, "35-44"), (45, "45-54"), (55, "55-64"), (65, "65+"))


@dataclass(frozen=True)
class ProtectedLinks:
    """Shares of each group and the links from each attribute to features (generator knobs).

    Income shifts are on the natural log of monthly income (-0.2 is about 18% less); education
    shifts are on the standardised education score before it is cut into levels (about one level
    per unit); ``rural_contacts`` multiplies the contacts a rural person starts. The defaults
    link nothing (so a population is what it was before protected attributes existed);
    :data:`DEMO_LINKS` is what the demo generates with.
    """

    minority_share: float = 0.09
    rural_share: float = 0.35
    female_log_income: float = 0.0
    minority_log_income: float = 0.0
    minority_education: float = 0.0
    rural_log_income: float = 0.0
    rural_education: float = 0.0
    rural_contacts: float = 1.0

    def __post_init__(self) -> None:
        for name in ("minority_share", "rural_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {getattr(self, name)}")
        if self.rural_contacts <= 0:
            raise ValueError(f"rural_contacts must be above 0, got {self.rural_contacts}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def log_income_shift(
        self, female: npt.NDArray[np.bool_], ethnicity: ObjArray, hukou: ObjArray
    ) -> npt.NDArray[np.float64]:
        shift = (
            self.female_log_income * female.astype(np.float64)
            + self.minority_log_income * (ethnicity == "minority").astype(np.float64)
            + self.rural_log_income * (hukou == "rural").astype(np.float64)
        )
        return np.asarray(shift, dtype=np.float64)

    def education_shift(self, ethnicity: ObjArray, hukou: ObjArray) -> npt.NDArray[np.float64]:
        shift = self.minority_education * (ethnicity == "minority").astype(np.float64)
        shift = shift + self.rural_education * (hukou == "rural").astype(np.float64)
        return np.asarray(shift, dtype=np.float64)


#: The demo's links: lower incomes for women, minorities and rural hukou, less schooling for
#: minorities and rural hukou, fewer contacts in the countryside; its audit finds the proxies.
DEMO_LINKS = ProtectedLinks(
    female_log_income=-0.10,
    minority_log_income=-0.10,
    minority_education=-0.40,
    rural_log_income=-0.25,
    rural_education=-0.50,
    rural_contacts=0.6,
)


def draw_protected(
    rng: np.random.Generator, chinese: npt.NDArray[np.bool_], links: ProtectedLinks
) -> tuple[ObjArray, ObjArray]:
    """Ethnicity (han, minority; foreign for foreign nationals) and hukou (urban, rural; none
    for foreign nationals), from a stream of their own so every other draw stays as it was."""
    n = len(chinese)
    minority = rng.random(n) < links.minority_share
    rural = rng.random(n) < links.rural_share
    ethnicity = np.where(chinese, np.where(minority, "minority", "han"), "foreign").astype(object)
    hukou = np.where(chinese, np.where(rural, "rural", "urban"), "none").astype(object)
    return ethnicity, hukou


def age_band(ages: npt.NDArray[np.float64]) -> ObjArray:
    """The band of each age in years."""
    lows = np.array([low for low, _ in AGE_BANDS])
    names = np.array([name for _, name in AGE_BANDS], dtype=object)
    return names[np.clip(np.searchsorted(lows, np.floor(ages), side="right") - 1, 0, None)]
