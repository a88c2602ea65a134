"""The simulation lab: a population over months under several policies, measured alike.

:func:`simulate` runs it (:mod:`credo.lab.dynamics` says what happens in a month),
:class:`LabPolicy` and :class:`World` are its two sides, :func:`load_policy` reads a preset or a
YAML file. See docs/lab.md.
"""

from typing import TYPE_CHECKING

from credo._lazy import lazy_exports

if TYPE_CHECKING:
    from credo.lab.policy import PRESETS, LabPolicy, World, load_policy
    from credo.lab.run import LabRun, simulate

_WHERE = {
    "PRESETS": "policy",
    "LabPolicy": "policy",
    "World": "policy",
    "load_policy": "policy",
    "LabRun": "run",
    "simulate": "run",
}

__getattr__ = lazy_exports("credo.lab", _WHERE)

__all__ = ["PRESETS", "LabPolicy", "LabRun", "World", "load_policy", "simulate"]
