"""Synthetic populations: persons with a latent creditworthiness, the sources that report on
them (each in its own layout, with the mapping Credo ships for it), and the ground truth.
"""

from credo.identifiers import gb11643_check_digit, is_valid_gb11643
from credo.sim.arrivals import Arrivals
from credo.sim.noise import HARDNESS, Hardness, NoiseConfig
from credo.sim.population import GenerationSummary, SourceFile, compress_population, generate

__all__ = [
    "HARDNESS",
    "Arrivals",
    "GenerationSummary",
    "Hardness",
    "NoiseConfig",
    "SourceFile",
    "compress_population",
    "gb11643_check_digit",
    "generate",
    "is_valid_gb11643",
]
