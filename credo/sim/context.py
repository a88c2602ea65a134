"""What every source generator is given: the persons, the window, the noise settings, and its
own random stream.

Each source draws from a generator seeded by the run's seed and the source's name, so changing
one source's behaviour does not reshuffle the others.

A large population is built in slices of persons (decision 0970): ``persons`` is then one slice
(indices are the slice's own, from 0), ``population`` the whole, ``first_person`` where the
slice starts in it, ``first_row`` how many rows earlier slices wrote to this source's file (so
record ids go on counting), and ``carry`` what a source keeps from one slice to the next.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

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
    #: The whole population when ``persons`` is one slice of it; ``None``: they are the same.
    population: Persons | None = None
    first_person: int = 0
    first_row: int = 0
    slice_index: int = 0
    carry: dict[str, Any] = field(default_factory=dict)

    @property
    def everyone(self) -> Persons:
        """The whole population (for population-wide figures and links across slices)."""
        return self.population if self.population is not None else self.persons

    def rng(self, stream: str) -> np.random.Generator:
        """An independent generator per named stream, stable across code changes elsewhere.
        The first slice keeps the unsliced stream, so a population of one slice is what it
        was before slicing; every later slice draws from a stream of its own."""
        key = [self.seed, zlib.crc32(stream.encode())]
        return np.random.default_rng([*key, self.slice_index] if self.slice_index else key)

    def identifiers(self, idx: IntArray, when: DateArray, rng: np.random.Generator) -> Identifiers:
        return Identifiers(self.persons, idx, when, self.config, self.ledger, rng)


def order_by(*keys: npt.NDArray[np.generic]) -> IntArray:
    """Row order sorting by the first key, then the next (np.lexsort wants them reversed)."""
    return np.lexsort(tuple(reversed(keys))).astype(np.int64)
