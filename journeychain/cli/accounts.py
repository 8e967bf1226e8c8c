"""`journey accounts`: keystore accounts."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer
from rich.table import Table

from journeychain.accounts import ask_secret, create_account, get_password, import_account, list_accounts
from journeychain.cli.session import session
from journeychain.errors import ConfigError

# --- accounts --------------------------------------------------------------------------

accounts_app = typer.Typer(
    help="Keystore accounts: encrypted key files in $JOURNEY_HOME/keystore.", no_args_is_help=True
)


@accounts_app.command("new")
def accounts_new(
    ctx: typer.Context, alias: Annotated[str, typer.Argument(help="A name for the account.")]
) -> None:
    """Create a new key, encrypted with a password (prompt or $JOURNEY_PASSWORD)."""
    entry = create_account(alias, get_password(f"new password for {alias}", confirm=True))
    session(ctx).emit(
        {"alias": entry.alias, "address": entry.address}, f"account {entry.alias}: {entry.address}"
    )


@accounts_app.command("import")
def accounts_import(
    ctx: typer.Context,
    alias: Annotated[str, typer.Argument(help="A name for the account.")],
    stdin: Annotated[bool, typer.Option("--stdin", help="Read the private key from standard input.")] = False,
    key_env: Annotated[
        str | None, typer.Option("--key-env", help="Read the private key from this environment variable.")
    ] = None,
) -> None:
    """Import a private key (from a prompt, --stdin or --key-env; never as an argument)."""
    if key_env:
        key = os.environ.get(key_env)
        if not key:
            raise ConfigError(f"the environment variable {key_env} is not set")
    elif stdin:
        key = sys.stdin.readline().strip()
        if not key:
            raise ConfigError("no private key on standard input")
    else:
        key = ask_secret("private key", "pass it with --stdin or --key-env")
    entry = import_account(alias, key, get_password(f"new password for {alias}", confirm=True))
    session(ctx).emit(
        {"alias": entry.alias, "address": entry.address}, f"account {entry.alias}: {entry.address}"
    )


@accounts_app.command("list")
def accounts_list(ctx: typer.Context) -> None:
    """List the keystore accounts."""
    entries = list_accounts()
    table = Table("alias", "address", "file")
    for e in entries:
        table.add_row(e.alias, e.address, str(e.path))
    data = [{"alias": e.alias, "address": e.address, "path": str(e.path)} for e in entries]
    session(ctx).emit(data, table if entries else "no accounts yet: `journey accounts new NAME`")
