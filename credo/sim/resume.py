"""What ``generate`` keeps as each source is finished, so that a stopped run goes on from there.

A million persons take hours to generate on a small machine, longer than the process may live.
After each source, ``out/.generate/`` holds what the sources after it need: the truth rows of
every finished source (Arrow IPC files, merged into ``truth/records.parquet`` at the end), the
population-wide arrays sources pass on (``ctx.shared``), the noise ledger, and each finished
source's figures for the manifest. ``state.json`` is replaced last, so it never names a part
that is not whole. A run resumes only from the state of the same arguments and the same
generator code (a digest of ``credo/sim`` and the shipped mappings): anything else would mix
two populations (docs/decisions/0992).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from credo.errors import ConfigError
from credo.sim.frame import InvalidRow
from credo.sim.noise import NoiseLedger

__all__ = ["PART_OPTIONS", "Checkpoint", "Finished", "code_digest"]

STATE_VERSION = 1
#: The truth parts compressed: at 1M persons they hold ~230M rows of ids, ~20 GB as plain
#: Arrow strings, beside a population and a store on the same disk.
PART_OPTIONS = pa.ipc.IpcWriteOptions(compression="zstd")


def code_digest() -> str:
    """The generator's code and shipped mappings, hashed: a resumed run must draw and write
    exactly as the run that stopped."""
    h = hashlib.sha256()
    root = resources.files("credo")
    for folder in ("sim", "mappings"):
        base = Path(str(root / folder))
        for path in sorted(base.rglob("*")):
            if path.suffix in (".py", ".yaml") and path.is_file():
                h.update(path.relative_to(base.parent).as_posix().encode() + b"\0")
                h.update(path.read_bytes() + b"\0")
    return "sha256:" + h.hexdigest()


@dataclass(frozen=True)
class Finished:
    """A source whose file and truth rows are whole: what the manifest needs of it."""

    source: str
    file_name: str  # the source file, relative to the population folder
    format: str
    encoding: str
    delimiter: str
    rows: int
    bytes: int  # the file's size when it was finished; a resume checks it is unchanged
    invalid: list[InvalidRow]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Finished:
        return cls(**{**d, "invalid": [InvalidRow(**r) for r in d["invalid"]]})


class Checkpoint:
    """``out/.generate``: written as sources finish, read back by a resumed run."""

    def __init__(self, out: Path, arguments: dict[str, Any]) -> None:
        self.folder = out / ".generate"
        self.out = out
        self.key = {"state_version": STATE_VERSION, "code": code_digest(), **arguments}
        self.finished: list[Finished] = []
        self.ledger = NoiseLedger()
        self.shared: dict[str, np.ndarray] = {}

    def start(self, resume: bool) -> None:
        """Take up the state a run of the same key left (``resume``), or start clean."""
        state = self._read() if resume else None
        if state is None or state.get("key") != self.key:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder.mkdir(parents=True)
            return
        for entry in state["finished"]:
            done = Finished.from_dict(entry)
            path = self.out / done.file_name
            if not path.is_file() or path.stat().st_size != done.bytes:
                raise ConfigError(
                    f"{path}: changed since generation stopped ({done.bytes} bytes then); "
                    "generate again without resuming"
                )
            self.finished.append(done)
        counts = state["ledger"]
        self.ledger = NoiseLedger(dict(counts["eligible"]), dict(counts["applied"]))
        for key in state["shared"]:
            self.shared[key] = np.load(self.folder / f"shared-{key}.npy", allow_pickle=False)

    def done(self, source: str) -> Finished | None:
        return next((f for f in self.finished if f.source == source), None)

    def records_part(self, source: str) -> Path:
        return self.folder / f"records-{source}.arrow"

    def finish(self, done: Finished, ledger: NoiseLedger, shared: dict[str, np.ndarray]) -> None:
        """Record ``done`` once its file and truth part are closed: arrays first, the state
        last, each through a temporary name, so a process stopped at any moment leaves a
        consistent state."""
        for key, values in shared.items():
            tmp = self.folder / f"shared-{key}.npy.partial"
            with tmp.open("wb") as f:
                np.save(f, values, allow_pickle=False)
            tmp.replace(self.folder / f"shared-{key}.npy")
        self.finished.append(done)
        state = {
            "key": self.key,
            "finished": [f.to_dict() for f in self.finished],
            "ledger": {"eligible": ledger.eligible, "applied": ledger.applied},
            "shared": sorted(shared),
        }
        tmp = self.folder / "state.json.partial"
        tmp.write_text(json.dumps(state, ensure_ascii=False, indent=1) + "\n", "utf-8")
        tmp.replace(self.folder / "state.json")

    def records(self, sources: tuple[str, ...]) -> Iterator[pa.Table]:
        """Every source's truth rows, in build order, a slice of persons at a time (read into
        memory, not mapped: the caller may hold the last of them after the file is closed)."""
        for source in sources:
            with pa.OSFile(str(self.records_part(source)), "rb") as f:
                reader = pa.ipc.open_file(f)
                if reader.num_record_batches == 0:
                    yield reader.schema.empty_table()
                for i in range(reader.num_record_batches):
                    yield pa.Table.from_batches([reader.get_batch(i)])

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def _read(self) -> dict[str, Any] | None:
        path = self.folder / "state.json"
        try:
            state: dict[str, Any] = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path}: unreadable generation state: {exc}") from exc
        return state
