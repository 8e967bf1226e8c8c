"""`journey serve`: the HTTP service, and its integrations' tokens."""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer
from eth_account.signers.local import LocalAccount

from journeychain.cli.session import Session, session
from journeychain.errors import ConfigError

serve_app = typer.Typer(no_args_is_help=False)
token_app = typer.Typer(help="The integrations that may call the service, each with its own API token.")
serve_app.add_typer(token_app, name="token")

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database",
        help="SQLAlchemy URL of the service's database (default: sqlite in $JOURNEY_HOME/service.sqlite; "
        "postgresql://user@host/db for a server).",
        envvar="JOURNEY_SERVICE_DATABASE",
    ),
]


def _store(database: str | None):
    from journeychain.service.store import Store

    return Store(database)


@serve_app.callback(invoke_without_command=True)
def serve_cmd(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8080,
    database: DatabaseOption = None,
    keeper_interval: Annotated[
        float,
        typer.Option(help="Seconds between the keeper's rounds inside the service (0: no keeper).", min=0),
    ] = 15.0,
    notify_interval: Annotated[
        float, typer.Option(help="Seconds between reading the chain's events for notifications.", min=0.1)
    ] = 2.0,
    confirmations: Annotated[
        int,
        typer.Option(
            help="Blocks behind the chain's head that notifications read its events (reorg safety).", min=0
        ),
    ] = 0,
) -> None:
    """Run the journey service: an HTTP API (docs at /docs, OpenAPI at /openapi.json) that CRMs
    call to open journeys and complete steps, with idempotent, authenticated writes answered
    at once as jobs, and notifications out.

    It signs as the accounts its integrations are bound to (`journey serve token add NAME --as
    ACCOUNT`; keystore passwords from $JOURNEY_PASSWORD) and runs the keeper as --account. Every
    write is recorded in the database before it is sent: a restarted service finishes what it
    had accepted, and sends nothing twice.
    """
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    from journeychain.service.app import create_app, pages_router
    from journeychain.service.service import Service, Settings

    s = session(ctx)
    store = _store(database)
    accounts: dict[str, LocalAccount] = {}
    for integration in store.integrations():
        for bound in integration.accounts:
            key = s.account(bound["name"])
            accounts[str(key.address)] = key
    keeper = s.account() if keeper_interval else None
    settings = Settings(
        keeper_interval=keeper_interval or None, notify_interval=notify_interval, confirmations=confirmations
    )
    service = Service(s.chain, s.deployment, store, accounts, keeper, settings)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    s.note(
        f"journey service for {s.deployment.engine} on chain {s.chain.chain_id}: http://{host}:{port} "
        f"(docs at /docs); database {store.url}; {len(accounts)} account(s) to sign with"
    )
    service.start()
    try:
        pages = pages_router(service, keeper or s.account(), dict(s.names))
        uvicorn.run(create_app(service, pages), host=host, port=port, log_level="warning")
    finally:
        service.stop()


@token_app.command("add")
def token_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The integration's name, e.g. salesforce.")],
    accounts: Annotated[
        list[str], typer.Option("--as", help="An account it may act as (repeat): alias, address or dev:N.")
    ],
    webhook_secret: Annotated[
        bool, typer.Option("--webhook-secret", help="Also give it an HMAC secret to sign webhooks with.")
    ] = False,
    database: DatabaseOption = None,
) -> None:
    """Add an integration bound to the accounts it may act as; prints its API token (and webhook
    secret) once: only the token's SHA-256 is kept."""
    from journeychain.service.auth import new_secret, new_token, token_hash

    s = session(ctx)
    clean = name.strip()
    if not clean or len(clean) > 64 or not clean.replace("-", "").replace("_", "").isalnum():
        raise ConfigError(f"integration name {name!r} must be 1 to 64 letters, digits, '-' or '_'")
    bound = [{"name": a, "address": s.address(a)} for a in dict.fromkeys(accounts)]
    token = new_token()
    secret = new_secret() if webhook_secret else None
    if not _store(database).add_integration(clean, token_hash(token), bound, secret):
        raise ConfigError(f"integration {clean!r} exists already: remove it first to give it a new token")
    data = {"integration": clean, "token": token, "accounts": bound} | (
        {"webhook_secret": secret} if secret else {}
    )
    human = (
        f"integration {clean} may act as {', '.join(b['name'] for b in bound)}\ntoken (shown once): {token}"
    )
    if secret:
        human += f"\nwebhook secret (shown once): {secret}"
    _emit(s, data, human)


@token_app.command("list")
def token_list(ctx: typer.Context, database: DatabaseOption = None) -> None:
    """The integrations and the accounts each may act as (never their tokens)."""
    s = session(ctx)
    found = _store(database).integrations()
    data = [
        {
            "integration": i.name,
            "accounts": i.accounts,
            "webhook_secret": bool(i.hmac_secret),
            "created_at": i.created_at,
        }
        for i in found
    ]
    lines = [
        f"{i.name}: {', '.join(a['name'] for a in i.accounts)}"
        + (" (signed webhooks)" if i.hmac_secret else "")
        for i in found
    ]
    _emit(s, data, "\n".join(lines) or "no integrations yet (`journey serve token add NAME --as ACCOUNT`)")


@token_app.command("remove")
def token_remove(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The integration.")],
    database: DatabaseOption = None,
) -> None:
    """Remove an integration: its token and webhook secret stop working at once."""
    s = session(ctx)
    if not _store(database).remove_integration(name):
        raise ConfigError(f"there is no integration {name!r} (see `journey serve token list`)")
    _emit(s, {"integration": name, "removed": True}, f"integration {name} removed")


def _emit(s: Session, data: object, human: str) -> None:
    if s.json:
        s.emit(data)
    else:
        print(human)
