"""The ``credo`` command: a thin adapter that parses, calls the library, and reports.

One module per command group (``database``, ``ingest``, ``identity``, ``train``, ``models``,
``scoring``, ``service``, ``demo``); this module lists every command once, in the order
``credo --help`` shows them. No library module imports this package.

A ``CredoError`` becomes one line on stderr ("error: ...", with what to do) and the exit code
its class carries (see ``credo --help``); ``--json`` prints machine-readable results instead
of tables.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType
from typing import Annotated

import typer
from typer.exceptions import TyperException

from credo import __version__
from credo.cli import (
    database,
    demo,
    identity,
    ingest,
    lake,
    models,
    partners,
    scoring,
    service,
    train,
)
from credo.cli import fairness as fairness_cli
from credo.cli import simulate as simulate_cli
from credo.cli._common import out, print_error
from credo.errors import CredoError

__all__ = ["app", "main"]

EXIT_CODES = """Exit codes: 0 ok; 1 failure; 2 bad setting, mapping or policy file (or usage);
3 a data file or request Credo cannot accept; 4 not found; 5 conflict (a record id reused
with other values); 6 the database cannot be used (locked, newer schema); 7 tamper evidence
(audit chain broken); 8 model error; 9 refused by the service's rules (credentials,
scope, consent, frozen file)."""

app = typer.Typer(
    name="credo",
    help="Credo: an open-source credit-and-trust scoring platform.\n\n" + EXIT_CODES,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Show the version and exit.")] = False,
) -> None:
    if version:
        out.print(f"credo {__version__}")
        raise typer.Exit()


app.command("init")(database.init)
app.command("generate")(ingest.generate)
app.command("ingest")(ingest.ingest)
app.command("quarantine")(ingest.quarantine)
app.command("status")(database.status)
app.command("compact")(database.compact)
app.command("retention")(database.retention)
app.command("demo")(demo.demo)
app.command("train")(train.train)
app.command("resolve")(identity.resolve)
app.command("score-table")(models.score_table)
app.command("validate")(models.validate)
app.command("score")(scoring.score)
app.command("rescore")(scoring.rescore)
app.command("explain")(scoring.explain)
app.command("serve")(service.serve)
app.command("fairness")(fairness_cli.fairness)
app.command("simulate")(simulate_cli.simulate)
app.command("export")(lake.export_lake)
app.command("import")(lake.import_lake)
app.add_typer(database.audit_app, name="audit")
app.add_typer(identity.review_app, name="review")
app.add_typer(service.disputes_app, name="disputes")
app.add_typer(partners.partners_app, name="partners")


def _stop(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> None:
    """Entry point: a usage error (exit 2) and a CredoError are the same ``error:`` and
    ``hint:`` lines docs/cli.md promises, never a box drawn around them.

    SIGTERM stops a command as Ctrl-C does, with exit code 130 (decision 0989): DuckDB's
    client checks for a raised signal while a statement runs and stops it (in under a second,
    measured on an insert), the open transaction rolls back and scratch files are removed on
    the way out. Without it, ``kill`` ends the process where it stands; and a load started as a
    background job of a script ignores SIGINT (the shell set it so), which is why Ctrl-C and
    ``kill -INT`` seemed not to stop an insert at 1M persons."""
    signal.signal(signal.SIGTERM, _stop)
    try:
        code = app(standalone_mode=False)
    except TyperException as exc:  # click's usage errors, as Typer raises them
        # Typer has already printed the help for a bare command group (as it does itself).
        if type(exc).__name__ != "NoArgsIsHelpError":
            ctx = getattr(exc, "ctx", None)
            command = ctx.command_path if ctx is not None else "credo"
            print_error(CredoError(exc.format_message(), hint=f"see '{command} --help'"))
        sys.exit(exc.exit_code)
    except typer.Abort:
        print_error(CredoError("aborted"))
        sys.exit(1)
    except RuntimeError as exc:  # DuckDB's client turns an interrupt in a statement into this
        if str(exc) != "Query interrupted":
            raise
        sys.exit(130)  # as Typer ends on KeyboardInterrupt
    except CredoError as exc:
        print_error(exc)
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else 0)
