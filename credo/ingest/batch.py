"""Loading a generated population (or any folder laid out the same way) source by source.

A population folder has ``manifest.json`` listing each source's file and mapping. Each file is
its own atomic load; a file already loaded adds nothing, so rerunning a batch after a crash
loads exactly what is missing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from credo.errors import InputError
from credo.ingest.loader import LoadReport, Progress, ingest
from credo.ingest.mapping import load_mapping
from credo.ingest.validate import Withheld
from credo.store.db import Store

__all__ = ["ingest_population"]


def ingest_population(
    store: Store,
    folder: Path,
    *,
    max_reject_rate: float | None = None,
    on_file: Callable[[str, int, int], None] | None = None,
    progress: Progress | None = None,
    withheld: Withheld | None = None,
) -> list[LoadReport]:
    manifest_path = folder / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        files = [{"source": k, **v} for k, v in manifest["sources"].items()]
    except FileNotFoundError:
        raise InputError(f"{folder}: no manifest.json; ingest files one by one") from None
    except (ValueError, KeyError) as exc:
        raise InputError(f"{manifest_path}: not a Credo manifest ({exc})") from None
    reports = []
    for i, entry in enumerate(files):
        if on_file is not None:
            on_file(entry["source"], i, len(files))
        if entry.get("rows", 1) == 0:
            continue  # a tiny population can leave a source with nothing to say
        mapping = load_mapping(folder / entry["mapping"])
        reports.append(
            ingest(
                store,
                folder / entry["file"],
                entry["source"],
                mapping,
                max_reject_rate=max_reject_rate,
                progress=progress,
                withheld=withheld,
            )
        )
    return reports
