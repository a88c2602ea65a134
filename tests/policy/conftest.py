"""The loaded population of the scoring tests, shared here."""

from scoring.conftest import loaded, population_db

__all__ = ["loaded", "population_db"]
