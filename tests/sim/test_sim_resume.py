"""A generation stopped part-way goes on where it stopped (decision 0992): whichever source it
stopped in, the resumed run's files are the uninterrupted run's, byte for byte, and a state that
is not this run's is never taken up."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sim_reference import tree_bytes

import credo.sim.population as population
from credo.errors import ConfigError
from credo.sim import Arrivals, generate
from credo.sim.context import Context
from credo.sim.frame import SourceFrame
from credo.sim.protected import DEMO_LINKS
from credo.sim.sources import BUILDERS, SOURCES

ARGS: dict[str, Any] = {
    "people": 500,
    "months": 12,
    "seed": 11,
    "links": DEMO_LINKS,
    "arrivals": Arrivals(),
    "slice_people": 200,  # three slices, the last one short
    "compress": True,
}


class Stopped(Exception):
    """Stands for the process being killed."""


@pytest.fixture(scope="module")
def whole(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("whole")
    generate(out=out, **ARGS)
    return tree_bytes(out)


def _stop_in(source: str, at_slice: int) -> Callable[[Context], SourceFrame]:
    build = BUILDERS[source]

    def stopping(ctx: Context) -> SourceFrame:
        if ctx.slice_index == at_slice:
            raise Stopped(source)
        return build(ctx)

    return stopping


@pytest.fixture
def stop(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str, int], None]]:
    def arm(source: str, at_slice: int) -> None:
        monkeypatch.setitem(BUILDERS, source, _stop_in(source, at_slice))

    yield arm
    monkeypatch.undo()


@pytest.mark.parametrize("source", SOURCES)
def test_a_run_stopped_in_any_source_resumes_to_the_same_bytes(
    tmp_path: Path,
    whole: dict[str, bytes],
    stop: Callable[[str, int], None],
    monkeypatch: pytest.MonkeyPatch,
    source: str,
) -> None:
    stop(source, 1)  # mid-source: its file and truth part are half written
    with pytest.raises(Stopped):
        generate(out=tmp_path, **ARGS)
    state_file = tmp_path / ".generate" / "state.json"
    state = json.loads(state_file.read_text("utf-8")) if state_file.exists() else {"finished": []}
    finished = [f["source"] for f in state["finished"]]
    assert finished == list(SOURCES[: SOURCES.index(source)])
    monkeypatch.undo()

    built: list[str] = []
    for name, build in list(BUILDERS.items()):

        def counting(ctx: Context, name: str = name, build: Any = build) -> SourceFrame:
            built.append(name)
            return build(ctx)

        monkeypatch.setitem(BUILDERS, name, counting)
    generate(out=tmp_path, resume=True, **ARGS)
    assert set(built) == set(SOURCES[SOURCES.index(source) :])  # finished ones not rebuilt
    assert tree_bytes(tmp_path) == whole


def test_a_run_stopped_after_every_source_writes_only_the_rest(
    tmp_path: Path, whole: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    def killed(*args: object) -> Path:
        raise Stopped("protected")

    monkeypatch.setattr(population, "_write_protected", killed)
    with pytest.raises(Stopped):
        generate(out=tmp_path, **ARGS)
    monkeypatch.undo()
    for name in SOURCES:
        monkeypatch.setitem(BUILDERS, name, _stop_in(name, 0))  # any rebuild would stop
    generate(out=tmp_path, resume=True, **ARGS)
    assert tree_bytes(tmp_path) == whole


def test_the_state_of_other_arguments_is_not_taken_up(
    tmp_path: Path, stop: Callable[[str, int], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    stop("city_utilities", 0)
    with pytest.raises(Stopped):
        generate(out=tmp_path, **(ARGS | {"seed": 12}))
    monkeypatch.undo()
    generate(out=tmp_path, resume=True, **ARGS)
    fresh = tmp_path.parent / "fresh"
    generate(out=fresh, **ARGS)
    assert tree_bytes(tmp_path) == tree_bytes(fresh)


def test_without_resume_a_stopped_run_starts_over(
    tmp_path: Path,
    whole: dict[str, bytes],
    stop: Callable[[str, int], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stop("rental_partners", 1)
    with pytest.raises(Stopped):
        generate(out=tmp_path, **ARGS)
    monkeypatch.undo()
    built: list[str] = []
    build = BUILDERS["alipay_payments"]

    def counting(ctx: Context) -> SourceFrame:
        built.append("alipay_payments")
        return build(ctx)

    monkeypatch.setitem(BUILDERS, "alipay_payments", counting)
    generate(out=tmp_path, **ARGS)
    assert built  # the finished sources were built again
    assert tree_bytes(tmp_path) == whole
    assert not (tmp_path / ".generate").exists()


def test_a_finished_file_changed_since_is_named_and_nothing_is_written(
    tmp_path: Path, stop: Callable[[str, int], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    stop("city_utilities", 0)
    with pytest.raises(Stopped):
        generate(out=tmp_path, **ARGS)
    monkeypatch.undo()
    loans = next((tmp_path / "bank_loans").glob("loans.*"))
    loans.write_bytes(loans.read_bytes()[:-10])
    before = tree_bytes(tmp_path)
    with pytest.raises(ConfigError, match=r"bank_loans/loans\..*changed since generation stopped"):
        generate(out=tmp_path, resume=True, **ARGS)
    assert tree_bytes(tmp_path) == before


def test_credo_generate_resume_goes_on_from_the_stopped_run(
    tmp_path: Path, stop: Callable[[str, int], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    from support import run_cli

    from credo.sim import HARDNESS

    args: dict[str, Any] = {"people": 300, "months": 6, "seed": 7, "noise": HARDNESS["realistic"]}
    out = tmp_path / "pop"
    stop("city_utilities", 0)
    with pytest.raises(Stopped):
        generate(out=out, **args)
    monkeypatch.undo()
    payments = out / "alipay_payments" / "payments.csv"
    written = payments.stat().st_mtime_ns
    run_cli(
        "generate", "--out", str(out), "--people", "300", "--months", "6", "--resume", check=True
    )
    assert payments.stat().st_mtime_ns == written  # finished before the stop: not written again
    fresh = tmp_path / "fresh"
    generate(out=fresh, **args)
    assert tree_bytes(out) == tree_bytes(fresh)
