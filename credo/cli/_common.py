"""What every ``credo`` command shares: consoles, common options, dates, the error edge.

Every command turns a ``CredoError`` into the same one line (and hint) and its exit code, opens
the store from the same settings, parses dates the same way, and prints JSON the same way.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console

from credo.errors import CredoError

if TYPE_CHECKING:
    from credo.settings import Settings
    from credo.store.db import Store

__all__ = [
    "DbOpt",
    "JsonOpt",
    "emit_json",
    "err",
    "open_store",
    "out",
    "parse_date",
    "parse_timestamp",
    "print_error",
    "settings_for",
    "steps",
    "user_errors",
]


def _console(stderr: bool = False) -> Console:
    """A terminal's own width; written to a file or a pipe (and no ``COLUMNS`` set), lines as
    long as their content, so tables and ``--json`` are never cut or wrapped at 80 columns."""
    console = Console(stderr=stderr)
    if console.is_terminal or "COLUMNS" in os.environ:
        return console
    return Console(stderr=stderr, width=100_000)


out = _console()
err = _console(stderr=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
DbOpt = Annotated[
    Path | None, typer.Option("--db", help="Database file (default: $CREDO_DB or credo.duckdb).")
]
#: The fairness gate's two options, the same on every command that writes a run (decision 0907).
OverrideWhyOpt = Annotated[
    str | None,
    typer.Option(
        help="Put the card in use although the fairness gate flags it (an adverse impact"
        " ratio under 0.8 at a product cut): why, recorded in the audit log."
    ),
]
GateProductsOpt = Annotated[
    Path | None,
    typer.Option(help="Products whose cuts the fairness gate audits (default products.yaml)."),
]

F = TypeVar("F", bound=Callable[..., Any])


def print_error(exc: CredoError) -> None:
    err.print(f"[red]error:[/] {exc.message}", highlight=False, soft_wrap=True)
    if exc.hint:
        err.print(f"  hint: {exc.hint}", highlight=False, soft_wrap=True)


def user_errors(command: F) -> F:
    """A ``CredoError`` ends the command with one line (and a hint) and its exit code."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except CredoError as exc:
            print_error(exc)
            raise typer.Exit(exc.exit_code) from None

    return wrapper  # type: ignore[return-value]


def settings_for(db: Path | None = None, **overrides: Any) -> Settings:
    from credo.settings import Settings

    values = {k: v for k, v in overrides.items() if v is not None}
    if db is not None:
        values["db"] = db
    try:
        return Settings(**values)
    except Exception as exc:  # pydantic's ValidationError: a bad CREDO_* value
        raise CredoError(f"invalid settings: {exc}") from None


def open_store(db: Path | None, *, create: bool = False) -> Store:
    from credo.store.db import Store

    return Store.open(settings_for(db), create=create)


def emit_json(data: Any) -> None:
    out.print_json(json.dumps(data, ensure_ascii=False, default=str))


def parse_date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date like 2026-10-31", param_hint=option
        ) from None


def parse_timestamp(text: str | None) -> dt.datetime | None:
    """The ``--known-at`` data watermark, if given."""
    if text is None:
        return None
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a timestamp", param_hint="--known-at") from None


@contextmanager
def steps(enabled: bool) -> Iterator[Callable[[str], None]]:
    """A spinner naming the current step; silent for --json and when not a terminal."""
    if not enabled or not err.is_terminal:
        yield lambda _name: None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task("starting")
        yield lambda name: progress.update(task, description=name)
