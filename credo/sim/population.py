"""A synthetic population and its sources: the data Credo's demo, tests and benchmarks run on.

``generate`` draws persons with a latent creditworthiness, lets it drive what nine sources
record about them over a window of months, and writes each source in its own layout next to
the mapping Credo ships for it, plus the ground truth (who every record really is) and a
manifest (arguments, files, row counts, noise rates, and the rows made invalid on purpose).

The output is a pure function of the arguments: every random draw comes from a generator
seeded by ``seed`` (one stream per source), no wall clock is read, and files are written
with fixed settings, so the same arguments give byte-identical files on the same library
versions.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from credo.errors import ConfigError
from credo.sim.arrivals import Arrivals, draw_arrivals
from credo.sim.context import Context
from credo.sim.frame import FrameWriter, InvalidRow, ParquetParts, SourceFrame, gzip_writer
from credo.sim.noise import NoiseConfig, NoiseLedger, add_namesakes
from credo.sim.persons import Persons, generate_persons
from credo.sim.places import REGIONS
from credo.sim.protected import ProtectedLinks, age_band
from credo.sim.resume import PART_OPTIONS, Checkpoint, Finished
from credo.sim.sources import BUILDERS, SOURCES
from credo.sim.window import Window

__all__ = [
    "DEFAULT_END",
    "SLICE_PEOPLE",
    "GenerationSummary",
    "SourceFile",
    "compress_population",
    "generate",
]

DEFAULT_END = dt.date(2026, 10, 31)
MANIFEST_VERSION = 1
#: Persons built at a time (decision 0970). The demo's default 10,000 persons are one slice,
#: so its files are those of the unsliced generator; the peak stays about that of 10,000
#: persons' largest source, plus the population's own columns, whatever the size.
SLICE_PEOPLE = 10_000


@dataclass(frozen=True)
class SourceFile:
    source: str
    path: Path
    mapping: Path
    format: str
    rows: int

    def to_dict(self, root: Path) -> dict[str, Any]:
        return {
            "source": self.source,
            "path": self.path.relative_to(root).as_posix(),
            "mapping": self.mapping.relative_to(root).as_posix(),
            "format": self.format,
            "rows": self.rows,
        }


@dataclass(frozen=True)
class GenerationSummary:
    """What ``generate`` wrote: per-source files and row counts, truth and manifest paths."""

    out: Path
    people: int
    months: int
    seed: int
    start: dt.date
    end: dt.date
    persons: int
    files: tuple[SourceFile, ...]
    truth_persons: Path
    truth_records: Path
    manifest: Path
    invalid_rows: int

    @property
    def rows(self) -> dict[str, int]:
        return {f.source: f.rows for f in self.files}

    @property
    def total_rows(self) -> int:
        return sum(f.rows for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "people": self.people,
            "months": self.months,
            "seed": self.seed,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "persons": self.persons,
            "files": [f.to_dict(self.out) for f in self.files],
            "rows": self.rows,
            "total_rows": self.total_rows,
            "truth_persons": str(self.truth_persons),
            "truth_records": str(self.truth_records),
            "manifest": str(self.manifest),
            "invalid_rows": self.invalid_rows,
        }


def shipped_mapping_text(source: str) -> bytes:
    """The bytes of the mapping Credo ships for a synthetic source."""
    return (resources.files("credo") / "mappings" / f"{source}.yaml").read_bytes()


def generate(
    people: int,
    months: int,
    seed: int,
    out: Path,
    end: dt.date = DEFAULT_END,
    *,
    noise: NoiseConfig | None = None,
    links: ProtectedLinks | None = None,
    arrivals: Arrivals | None = None,
    slice_people: int = SLICE_PEOPLE,
    compress: bool = False,
    resume: bool = False,
) -> GenerationSummary:
    """Write ``people`` persons and ``months`` months of events (ending on ``end``) to ``out``,
    and their protected attributes apart, in ``protected/protected.csv`` (not a source of
    events: ``credo fairness --load-protected`` loads it into the bureau's own table).
    ``arrivals``: a steady population whose files open in every month (credo.sim.arrivals);
    ``None`` keeps everyone on file throughout the window. ``slice_people``: persons built
    at a time (decision 0970); a population of more persons than that is built in slices,
    each drawing from its own random streams, so its files depend on it too (the manifest
    then records it). ``compress``: every CSV and JSON Lines source file is written gzipped
    (``payments.csv.gz``; the manifest names those files), its text the same bytes as
    uncompressed (decision 0123); Parquet sources are compressed inside already. ``resume``:
    go on from the sources a stopped run of the same arguments and code finished (kept in
    ``out/.generate``, removed once the run is whole; decision 0992); the files are the same
    bytes as an uninterrupted run's."""
    if people < 1:
        raise ConfigError(f"people must be at least 1, got {people}")
    if months < 1 or months > 600:
        raise ConfigError(f"months must be between 1 and 600, got {months}")
    if seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed}")
    config = noise or NoiseConfig()
    window = Window.ending(end, months)
    persons = generate_persons(
        np.random.default_rng([seed, 0]),
        people,
        window,
        twin_rate=config.twin_persons,
        second_phone_rate=config.second_phone_persons,
        mover_rate=config.mover_persons,
        surname_change_rate=config.surname_change_persons,
        links=links or ProtectedLinks(),
        protected_rng=np.random.default_rng([seed, 23]),
    )
    add_namesakes(persons, config.namesake_persons, np.random.default_rng([seed, 19]))
    if arrivals is not None:
        arrived = draw_arrivals(np.random.default_rng([seed, 29]), people, window, arrivals.present)
        persons = dataclasses.replace(persons, arrived_on=arrived)
    size = max(1, slice_people)
    starts = range(0, persons.n, size)
    out.mkdir(parents=True, exist_ok=True)
    checkpoint = Checkpoint(
        out,
        {
            "people": people,
            "months": months,
            "seed": seed,
            "end": end.isoformat(),
            "noise": config.to_dict(),
            "links": (links or ProtectedLinks()).to_dict(),
            "arrivals": None if arrivals is None else arrivals.to_dict(),
            "slice_people": size,
            "compress": compress,
        },
    )
    checkpoint.start(resume)
    ledger = checkpoint.ledger
    # population-wide arrays sources pass on (defaulted)
    shared: dict[str, np.ndarray] = checkpoint.shared
    truth = out / "truth"
    truth.mkdir(exist_ok=True)
    persons_path, records_path = truth / "persons.parquet", truth / "records.parquet"
    frames: list[Finished] = []
    files: list[SourceFile] = []
    for source in SOURCES:
        folder = out / source
        folder.mkdir(exist_ok=True)
        mapping = folder / "mapping.yaml"
        mapping.write_bytes(shipped_mapping_text(source))
        finished = checkpoint.done(source)
        if finished is None:
            finished = _build_source(
                source, persons, window, seed, config, ledger, shared, arrivals, starts, size,
                folder, compress, checkpoint,
            )  # fmt: skip
        frames.append(finished)
        files.append(
            SourceFile(source, out / finished.file_name, mapping, finished.format, finished.rows)
        )
    with ParquetParts(records_path) as records:  # the truth parts as one file (0992)
        for table in checkpoint.records(SOURCES):
            records.write(table)

    defaulted = shared.get("defaulted", np.zeros(persons.n, dtype=bool))
    with ParquetParts(persons_path) as persons_file:  # a slice at a time, as one table
        for lo in starts:
            hi = min(persons.n, lo + size)
            persons_file.write(_persons_table(persons, defaulted, lo, hi))
    protected_path = _write_protected(persons, window, out, size)

    invalid = [
        {"source": f.source, "file": sf.path.relative_to(out).as_posix()} | row.to_dict()
        for f, sf in zip(frames, files, strict=True)
        for row in f.invalid
    ]
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "generator": "credo.sim.population.generate",
        "arguments": {"people": people, "months": months, "seed": seed, "end": end.isoformat()}
        | ({} if arrivals is None else {"arrivals": arrivals.to_dict()})
        | ({"slice_people": size} if len(starts) > 1 else {})
        | ({"compress": True} if compress else {}),
        "window": {"start": window.start.isoformat(), "end": window.end.isoformat()},
        "persons": persons.n,
        "sources": {
            f.source: {
                "file": sf.path.relative_to(out).as_posix(),
                "mapping": sf.mapping.relative_to(out).as_posix(),
                "format": f.format,
                "encoding": f.encoding,
                **({"delimiter": f.delimiter} if f.format == "csv" else {}),
                "rows": f.rows,
                "invalid_rows": len(f.invalid),
            }
            for f, sf in zip(frames, files, strict=True)
        },
        "truth": {
            "persons": persons_path.relative_to(out).as_posix(),
            "records": records_path.relative_to(out).as_posix(),
        },
        "protected": {
            "file": protected_path.relative_to(out).as_posix(),
            "id_column": "national_id",
            "attributes": list(PROTECTED_COLUMNS),
            "links": (links or ProtectedLinks()).to_dict(),
        },
        "noise": {
            "config": config.to_dict(),
            "records": ledger.to_dict(),
            "persons": _person_noise(persons),
        },
        "invalid_rows": invalid,
    }
    manifest_path = out / "manifest.json"
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", "utf-8")
    checkpoint.remove()  # the run is whole: nothing to resume
    return GenerationSummary(
        out=out,
        people=people,
        months=months,
        seed=seed,
        start=window.start,
        end=window.end,
        persons=persons.n,
        files=tuple(files),
        truth_persons=persons_path,
        truth_records=records_path,
        manifest=manifest_path,
        invalid_rows=len(invalid),
    )


def _build_source(
    source: str,
    persons: Persons,
    window: Window,
    seed: int,
    config: NoiseConfig,
    ledger: NoiseLedger,
    shared: dict[str, np.ndarray],
    arrivals: Arrivals | None,
    starts: range,
    size: int,
    folder: Path,
    compress: bool,
    checkpoint: Checkpoint,
) -> Finished:
    """Write one source's file a slice of persons at a time, its truth rows to the checkpoint's
    part, and record it as finished."""
    carry: dict[str, Any] = {}
    written: _Written | None = None
    writer: FrameWriter | None = None
    part = checkpoint.records_part(source)
    with part.open("wb") as sink:
        records: pa.ipc.RecordBatchWriter | None = None
        # One slice of persons at a time: only its frame is held (decision 0970).
        for k, lo in enumerate(starts):
            hi = min(persons.n, lo + size)
            ctx = Context(
                _slice(persons, lo, hi) if len(starts) > 1 else persons,
                window,
                seed,
                config,
                ledger,
                shared={key: v[lo:hi] for key, v in shared.items()},
                arrivals=arrivals,
                population=persons if len(starts) > 1 else None,
                first_person=lo,
                first_row=written.rows if written else 0,
                slice_index=k,
                carry=carry,
            )
            frame = BUILDERS[source](ctx)
            for key, v in ctx.shared.items():
                shared.setdefault(key, np.zeros(persons.n, dtype=v.dtype))[lo:hi] = v
            frame.person = frame.person + lo
            if writer is None:
                gz = compress and frame.format != "parquet"
                name = frame.file_name + (".gz" if gz else "")
                writer = FrameWriter(folder / name, compress=gz)
            writer.write(frame)
            # Only the truth about each row outlives the frame: holding every source's
            # columns until the end was most of the generator's peak (benchmarks/demo).
            table = _records_table(persons, frame, first_row=ctx.first_row)
            if records is None:
                records = pa.ipc.new_file(sink, table.schema, options=PART_OPTIONS)
            records.write_table(table)
            written = _Written.of(frame, ctx.first_row, written)
            del frame, ctx, table
        assert writer is not None and written is not None and records is not None
        writer.close()
        records.close()
    finished = Finished(
        source,
        writer.path.relative_to(folder.parent).as_posix(),
        written.format,
        written.encoding,
        written.delimiter,
        written.rows,
        writer.path.stat().st_size,
        written.invalid,
    )
    checkpoint.finish(finished, ledger, shared)
    return finished


def compress_population(out: Path) -> list[Path]:
    """Gzip the CSV and JSON Lines sources of a population ``generate`` wrote plain, one file
    at a time, each plain file removed once its ``.gz`` is whole, and name them in the
    manifest: the folder then holds what ``generate(..., compress=True)`` writes, byte for byte.

    A population too large to keep as text beside its store (1M persons: about 30 GB) can be
    generated plain, then packed without generating it again (docs/decisions/0123)."""
    manifest_path = out / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{manifest_path}: not a generated population's manifest: {exc}") from exc
    renamed: dict[str, str] = {}
    packed: list[Path] = []
    for entry in manifest["sources"].values():
        name = entry["file"]
        if entry["format"] == "parquet" or name.endswith(".gz"):
            continue
        plain, target = out / name, out / (name + ".gz")
        partial = target.with_name(target.name + ".partial")
        with (
            plain.open("rb") as src,
            partial.open("wb") as raw,
            gzip_writer(target, raw) as gz,
        ):
            shutil.copyfileobj(src, gz, 16 << 20)
            gz.flush()  # the generator's text wrapper flushes once as it closes
        partial.replace(target)
        plain.unlink()
        renamed[name] = entry["file"] = name + ".gz"
        packed.append(target)
    for row in manifest["invalid_rows"]:
        row["file"] = renamed.get(row["file"], row["file"])
    manifest["arguments"]["compress"] = True
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", "utf-8")
    return packed


@dataclass(frozen=True)
class _Written:
    """What the manifest needs of a source once its file is written (not its columns)."""

    source: str
    file_name: str
    format: str
    encoding: str
    delimiter: str
    rows: int
    invalid: list[InvalidRow]

    @classmethod
    def of(cls, f: SourceFrame, first_row: int = 0, before: _Written | None = None) -> _Written:
        """The frame's figures, its invalid rows numbered in the whole file, added to those of
        the slices ``before`` it."""
        invalid = [dataclasses.replace(r, row=r.row + first_row) for r in f.invalid]
        if before is None:
            return cls(f.source, f.file_name, f.format, f.encoding, f.delimiter, len(f), invalid)
        return dataclasses.replace(
            before, rows=before.rows + len(f), invalid=before.invalid + invalid
        )


def _slice(p: Persons, lo: int, hi: int) -> Persons:
    """Persons ``lo`` to ``hi`` as a ``Persons`` of their own (views, not copies). ``twin_of``
    keeps its population-wide indices; the sources do not read it."""
    return Persons(**{f.name: getattr(p, f.name)[lo:hi] for f in dataclasses.fields(p)})


def _person_noise(p: Persons) -> dict[str, dict[str, Any]]:
    counts = {
        "second_phone": sum(v is not None for v in p.phone2.tolist()),
        "mover": int((~np.isnat(p.moved_on)).sum()),
        "surname_change": int((~np.isnat(p.name_changed_on)).sum()),
        "twin": int((p.twin_of >= 0).sum()),
    }
    return {k: {"persons": v, "rate": round(v / p.n, 6)} for k, v in counts.items()}


def _dates(values: np.ndarray) -> pa.Array:
    return pa.array(values, type=pa.date32(), mask=np.isnat(values))


#: The columns of ``protected/protected.csv`` after the identifier.
PROTECTED_COLUMNS = ("sex", "ethnicity", "hukou", "age_band")


def _write_protected(p: Persons, window: Window, out: Path, size: int) -> Path:
    """One row per person, keyed by national id as a registry would give it; ``size``
    persons at a time."""
    folder = out / "protected"
    folder.mkdir(exist_ok=True)
    path = folder / "protected.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["national_id", *PROTECTED_COLUMNS])
        for lo in range(0, p.n, size):
            s = slice(lo, lo + size)
            ages = (window.last - p.birth[s]).astype(np.int64) / 365.2425
            columns = (
                p.national_id[s],
                np.where(p.female[s], "female", "male"),
                p.ethnicity[s],
                p.hukou[s],
                age_band(ages),
            )
            writer.writerows(zip(*(c.tolist() for c in columns), strict=True))
    return path


def _persons_table(everyone: Persons, defaulted: np.ndarray, lo: int, hi: int) -> pa.Table:
    """The truth about persons ``lo`` to ``hi``."""
    p, defaulted = _slice(everyone, lo, hi), defaulted[lo:hi]
    idx = np.arange(p.n)
    name = p.native_name(p.family, idx)
    latin = p.latin_name(p.family_latin, idx)
    region = [REGIONS[r] for r in p.home.tolist()]
    return pa.table(
        {
            "person_id": pa.array(p.person_id.tolist(), pa.string()),
            "name": pa.array(name.tolist(), pa.string()),
            "family_name": pa.array(p.family.tolist(), pa.string()),
            "given_name": pa.array(p.given.tolist(), pa.string()),
            "pinyin": pa.array(
                [str(v) if c else None for v, c in zip(latin, p.chinese, strict=True)], pa.string()
            ),
            "name_latin": pa.array(latin.tolist(), pa.string()),
            "script": pa.array(np.where(p.chinese, "hanzi", "latin").tolist(), pa.string()),
            "previous_family_name": pa.array(p.prev_family.tolist(), pa.string()),
            "name_changed_on": _dates(p.name_changed_on),
            "birth_date": _dates(p.birth),
            "sex": pa.array(np.where(p.female, "F", "M").tolist(), pa.string()),
            "national_id": pa.array(p.national_id.tolist(), pa.string()),
            "birth_region_code": pa.array(
                [REGIONS[r].code for r in p.birth_region.tolist()], pa.string()
            ),
            "phone": pa.array(p.phone.tolist(), pa.string()),
            "phone2": pa.array(p.phone2.tolist(), pa.string()),
            "address": pa.array(p.address.tolist(), pa.string()),
            "province": pa.array([r.province or r.city for r in region], pa.string()),
            "city": pa.array([r.city for r in region], pa.string()),
            "district": pa.array([r.district for r in region], pa.string()),
            "region_code": pa.array([r.code for r in region], pa.string()),
            "previous_address": pa.array(p.prev_address.tolist(), pa.string()),
            "moved_on": _dates(p.moved_on),
            "latent_creditworthiness": pa.array(p.latent, pa.float64()),
            "monthly_income": pa.array(p.income, pa.float64()),
            "is_twin": pa.array((p.twin_of >= 0).tolist(), pa.bool_()),
            "twin_of": pa.array(  # a population-wide index
                [everyone.person_id[t] if t >= 0 else None for t in p.twin_of.tolist()],
                pa.string(),
            ),
            "education": pa.array(p.education.tolist(), pa.string()),
            "occupation": pa.array(p.occupation.tolist(), pa.string()),
            "employer": pa.array(p.employer.tolist(), pa.string()),
            "vehicle": pa.array(p.vehicle.tolist(), pa.string()),
            "alipay_user_id": pa.array(p.alipay_uid.tolist(), pa.string()),
            "defaulted_in_window": pa.array(defaulted.tolist(), pa.bool_()),
            "arrived_on": _dates(p.arrived_on),  # first day on file (credo.sim.arrivals)
        }
    )


def _records_table(p: Persons, f: SourceFrame, first_row: int = 0) -> pa.Table:
    """The ground truth of one source's rows: who each is about, its noise, what is invalid.
    ``first_row``: rows of the file written before this frame (slices of persons)."""
    n = len(f)
    bad = {r.row: r.field for r in f.invalid}
    source = [f.source] * n
    record = f.record_ids()
    rows = list(range(first_row + 1, first_row + n + 1))
    person = p.person_id[f.person].tolist()
    counterpart = p.person_id[f.counterpart].tolist() if f.counterpart is not None else [None] * n
    noise = f.noise
    invalid = [bad.get(r) for r in range(1, n + 1)]
    return pa.table(
        {
            "source": pa.array(source, pa.string()),
            "source_record_id": pa.array(record, pa.string()),
            "row": pa.array(rows, pa.int64()),
            "person_id": pa.array(person, pa.string()),
            "counterpart_person_id": pa.array(counterpart, pa.string()),
            "noise": pa.array(noise, pa.string()),
            "invalid_field": pa.array(invalid, pa.string()),
        }
    )
