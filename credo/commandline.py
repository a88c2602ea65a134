"""What every ``credo`` command module shares: consoles, common options, the error edge.

The commands live beside their libraries (``credo.models.commands``, ``credo.scoring.commands``,
...), and all of them turn a ``CredoError`` into the same one line and exit code, open the
store from the same settings, and print JSON the same way.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
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
    "print_error",
    "settings_for",
    "user_errors",
]

out = Console()
err = Console(stderr=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
DbOpt = Annotated[
    Path | None, typer.Option("--db", help="Database file (default: $CREDO_DB or credo.duckdb).")
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
