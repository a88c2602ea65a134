"""The service: ``credo serve``, and ``credo disputes`` (list, resolve, expire, deliver).

FastAPI and uvicorn load inside ``serve``. While ``credo serve`` holds the database, the dispute
commands fail with "in use" and the operator uses the admin API instead (``/admin/disputes``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from credo.cli._common import (
    DbOpt,
    JsonOpt,
    emit_json,
    err,
    out,
    settings_for,
    user_errors,
)
from credo.cli._server import store_or_server

if TYPE_CHECKING:
    from credo.store.db import Store

__all__ = ["disputes_app", "serve"]

disputes_app = typer.Typer(
    help="Disputes: list, resolve, expire overdue ones.", no_args_is_help=True
)


@user_errors
def serve(
    db: DbOpt = None,
    host: Annotated[str | None, typer.Option(help="Address (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8650).")] = None,
) -> None:
    """Serve the partner, person and admin API (one process holds the database)."""
    import uvicorn

    from credo.api.app import create_app
    from credo.api.protocol import CredoHttp
    from credo.api.service import load_admin_token
    from credo.api.settings import ApiSettings

    settings = settings_for(db)
    overrides: dict[str, Any] = {
        k: v for k, v in {"host": host, "port": port}.items() if v is not None
    }
    api = ApiSettings(**overrides)
    load_admin_token(settings, api)  # create the token file before the first request
    where = api.admin_token_file or settings.db.with_suffix(".admin-token")
    err.print(f"admin token: {'CREDO_API_ADMIN_TOKEN' if api.admin_token else where}")
    uvicorn.run(
        create_app(settings, api),
        host=api.host,
        port=api.port,
        workers=1,
        access_log=api.access_log,
        http=CredoHttp,  # what the server refuses itself is answered in the error shape
    )


def _print(data: Any, as_json: bool) -> None:
    if as_json:
        emit_json(data)
    else:
        for item in data if isinstance(data, list) else [data]:
            out.print(
                f"{item['dispute_id']}  {item['status']:9}  person {item['person_id']}  event "
                f"{item['event_id']}  due {str(item['due_at'])[:10]}  {item['statement']}",
                highlight=False,
            )


@disputes_app.command("list")
@user_errors
def list_(
    db: DbOpt = None,
    status: Annotated[str | None, typer.Option(help="open, corrected, verified, expired")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Disputes, oldest first (open ones are due within 30 days)."""
    from credo.rights.disputes import list_disputes

    found = store_or_server(
        db,
        lambda store: [d.to_dict() for d in list_disputes(store, status=status)],
        lambda admin: admin.disputes(status),
    )
    _print(found, as_json)


@disputes_app.command()
@user_errors
def resolve(
    dispute_id: str,
    decision: Annotated[str, typer.Option(help="correct (the person is right) or reject")],
    retract: Annotated[bool, typer.Option(help="Retract the item instead of amending it.")] = False,
    amend: Annotated[list[str] | None, typer.Option(help="FIELD=VALUE to amend (repeat).")] = None,
    note: Annotated[str | None, typer.Option(help="Why.")] = None,
    operator: Annotated[
        str | None, typer.Option(help="Who decides (an appeal needs another than the first).")
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Resolve a dispute: a correction event, an immediate re-score, partner notices."""
    from credo.rights.disputes import resolve_dispute

    if decision not in ("correct", "reject"):
        raise typer.BadParameter("correct or reject", param_hint="--decision")
    amendment = dict(a.split("=", 1) for a in amend or [] if "=" in a) or None
    verdict: Literal["correct", "reject"] = "correct" if decision == "correct" else "reject"
    action: Literal["amend", "retract"] = "retract" if retract else "amend"

    def local(store: Store) -> dict[str, Any]:
        actor = f"operator:{operator}" if operator else store.settings.actor
        return resolve_dispute(store, dispute_id, verdict, action=action, amendment=amendment,
                               note=note, actor=actor).to_dict()  # fmt: skip

    # beside a running server, through its API (the same call the console makes)
    found = store_or_server(
        db,
        local,
        lambda admin: admin.resolve_dispute(
            dispute_id, verdict, action, amendment, note, operator=operator
        ),
    )
    _print(found, as_json)


@disputes_app.command()
@user_errors
def expire(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Retract every item whose dispute passed 30 days unverified (run daily)."""
    from credo.rights.disputes import expire_disputes

    found = store_or_server(
        db,
        lambda store: [d.to_dict() for d in expire_disputes(store)],
        lambda admin: admin.expire_disputes(),
    )
    _print(found, as_json)


@disputes_app.command("furnisher-notices")
@user_errors
def furnisher_notices_(
    source: Annotated[str | None, typer.Argument(help="Only this source's notices.")] = None,
    export: Annotated[
        Path | None,
        typer.Option(help="Write SOURCE's pending notices as JSON lines to a new file here."),
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Dispute notices for furnishers that load files (R-FCRA-4): list what is pending, or
    export a source's to hand over (each notice leaves once; audited)."""
    from credo.rights.furnishers import export_furnisher_notices, furnisher_notices

    if export is not None and source is None:
        raise typer.BadParameter("name the SOURCE to export", param_hint="SOURCE")
    if export is not None:
        assert source is not None
        target = export
        done = store_or_server(
            db,
            lambda store: export_furnisher_notices(
                store, source, target, actor=store.settings.actor
            ).to_dict(),
            lambda admin: admin.export_furnisher_notices(source),
        )
        if as_json:
            emit_json(done)
            return
        out.print(f"{done['notices']} notice(s) of {source} exported to {done['file']}")
        return
    found = store_or_server(
        db,
        lambda store: furnisher_notices(store, source=source),
        lambda admin: admin.furnisher_notices(source),
    )
    if as_json:
        emit_json(found)
        return
    for n in found:
        late = " OVERDUE" if n["overdue"] else ""
        out.print(f"{n['notice_id']}  {n['source']}  {n['dispute_id']}  due {n['due_at']}{late}")
    if not found:
        out.print("no pending notices")


@disputes_app.command()
@user_errors
def deliver(db: DbOpt = None) -> None:
    """Deliver due partner notices (webhooks) once, with retries left for later."""
    from credo.webhooks import deliver_webhooks

    def local(store: Store) -> dict[str, int]:
        report = deliver_webhooks(store)
        return {"delivered": report.delivered, "failed": report.failed}

    done = store_or_server(db, local, lambda admin: admin.deliver())
    out.print(f"delivered {done['delivered']}, failed {done['failed']}")
