"""What every source generator is given: the persons, the window, the noise settings, and its
own random stream.

Each source draws from a generator seeded by the run's seed and the source's name, so changing
one source's behaviour does not reshuffle the others.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from credo.sim.arrivals import Arrivals
from credo.sim.draws import IntArray
from credo.sim.noise import Identifiers, NoiseConfig, NoiseLedger
from credo.sim.persons import Persons
from credo.sim.window import DateArray, Window

__all__ = ["Context", "order_by"]


@dataclass(frozen=True)
class Context:
    persons: Persons
    window: Window
    seed: int
    config: NoiseConfig
    ledger: NoiseLedger
    shared: dict[str, npt.NDArray[np.bool_]] = field(default_factory=dict)
    #: A steady population (files opening every month), or ``None``: everyone on file throughout.
    arrivals: Arrivals | None = None

    def rng(self, stream: str) -> np.random.Generator:
        """An independent generator per named stream, stable across code changes elsewhere."""
        return np.random.default_rng([self.seed, zlib.crc32(stream.encode())])

    def identifiers(self, idx: IntArray, when: DateArray, rng: np.random.Generator) -> Identifiers:
        return Identifiers(self.persons, idx, when, self.config, self.ledger, rng)


def order_by(*keys: npt.NDArray[np.generic]) -> IntArray:
    """Row order sorting by the first key, then the next (np.lexsort wants them reversed)."""
    return np.lexsort(tuple(reversed(keys))).astype(np.int64)
