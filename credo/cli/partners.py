"""``credo partners``: register partners and give them API keys (add, list, keys create/revoke).

Each command works on the database, or through ``credo serve`` while it holds the database
(``credo.cli._server``). A key and a webhook secret are printed once: only their hashes or
ciphertexts are stored.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from credo.cli._common import DbOpt, JsonOpt, emit_json, out, user_errors
from credo.cli._server import store_or_server

__all__ = ["partners_app"]

partners_app = typer.Typer(
    help="Partners and their API keys: add, list, keys create/revoke.", no_args_is_help=True
)
keys_app = typer.Typer(help="A partner's API keys: create, revoke.", no_args_is_help=True)
partners_app.add_typer(keys_app, name="keys")

ScopeOpt = Annotated[
    list[str] | None,
    typer.Option("--scope", help="decisions, reports or outcomes (repeat; default: all three)."),
]


@partners_app.command("add")
@user_errors
def add(
    partner_id: Annotated[str, typer.Argument(help="Short id: letters, digits, '-' and '_'.")],
    name: Annotated[str, typer.Argument(help="The partner's name, as persons will read it.")],
    webhook_url: Annotated[
        str | None, typer.Option(help="Where Credo sends notices (http or https).")
    ] = None,
    jurisdiction: Annotated[
        str | None,
        typer.Option(help="The rules profile its requests follow (us-fcra, eu-gdpr, cn-crr)."),
    ] = None,
    address: Annotated[str | None, typer.Option(help="Postal address its notices give.")] = None,
    phone: Annotated[str | None, typer.Option(help="Phone number its notices give.")] = None,
    agency: Annotated[
        str | None, typer.Option(help="The body that supervises it, named in its notices.")
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a partner; prints its webhook secret (shown only now)."""
    from credo.access import create_partner

    def local(store: Any) -> dict[str, Any]:
        p = create_partner(store, partner_id, name, webhook_url=webhook_url,
                           jurisdiction=jurisdiction, address=address, phone=phone,
                           agency=agency, actor=store.settings.actor)  # fmt: skip
        return {"partner_id": p.partner_id, "name": p.name, "webhook_url": p.webhook_url,
                "jurisdiction": p.jurisdiction, "webhook_secret": p.webhook_secret}  # fmt: skip

    made = store_or_server(
        db,
        local,
        lambda admin: dict(
            admin.add_partner(
                partner_id,
                name,
                webhook_url,
                jurisdiction,
                address=address,
                phone=phone,
                agency=agency,
            )
        ),
    )
    if as_json:
        emit_json(made)
        return
    out.print(f"partner {made['partner_id']} ({made['name']}) registered.", highlight=False)
    secret = made["webhook_secret"]
    out.print(f"webhook secret (shown once): {secret}", highlight=False, soft_wrap=True)
    out.print(f"next: credo partners keys create {made['partner_id']}", highlight=False)


@partners_app.command("list")
@user_errors
def list_(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Every partner and its API keys (ids and scopes; never a secret)."""
    from credo.access import list_partners

    found = store_or_server(db, list_partners, lambda admin: admin.partners())
    if as_json:
        emit_json(found)
        return
    table = Table("partner", "name", "webhook", "active keys (scopes)", "revoked keys")
    for p in found:
        active = [k for k in p["keys"] if k["revoked_at"] is None]
        table.add_row(
            p["partner_id"],
            p["name"],
            p["webhook_url"] or "-",
            "\n".join(f"{k['key_id']} ({', '.join(k['scopes'])})" for k in active) or "-",
            str(len(p["keys"]) - len(active)),
        )
    out.print(table if found else "No partners yet: credo partners add ID NAME")


@keys_app.command("create")
@user_errors
def create(
    partner_id: str,
    scope: ScopeOpt = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only the key (for KEY=$(...)).")
    ] = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A new API key for the partner; prints the key (shown only now)."""
    from credo.access import SCOPES, create_key

    scopes = list(scope or SCOPES)

    def local(store: Any) -> dict[str, Any]:
        k = create_key(store, partner_id, scopes, actor=store.settings.actor)
        return {"key_id": k.key_id, "partner_id": k.partner_id, "scopes": list(k.scopes),
                "key": k.key}  # fmt: skip

    made = store_or_server(
        db,
        local,
        lambda admin: dict(admin.create_key(partner_id, scopes)),  # type: ignore[arg-type]
    )
    if as_json:
        emit_json(made)
        return
    if quiet:
        print(made["key"])
        return
    out.print(
        f"key {made['key_id']} for {made['partner_id']} ({', '.join(made['scopes'])}); "
        f"the key (shown once):\n{made['key']}",
        highlight=False,
        soft_wrap=True,
    )


@keys_app.command("revoke")
@user_errors
def revoke(key_id: str, db: DbOpt = None) -> None:
    """Revoke an API key at once; calls with it are refused from now on."""
    from credo.access import revoke_key

    store_or_server(
        db,
        lambda store: revoke_key(store, key_id, actor=store.settings.actor),
        lambda admin: admin.revoke_key(key_id),
    )
    out.print(f"key {key_id} revoked.", highlight=False)
