"""The `journey` command line: every operation of journeychain, one command each.

This module builds the app: the manual, the one place where failures become a sentence and
an exit code, the global options, and every command and group in the order `journey --help`
lists them. The commands live one module per group (accounts, participants, playbooks,
journeys, customer, settlement, ops, indexed); each imports `journeychain.cli.session`, none
imports this module.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Annotated

import requests
import typer
from typer import _click
from typer.core import TyperGroup
from web3.exceptions import ProviderConnectionError

from journeychain import __version__
from journeychain.chain import last_endpoint
from journeychain.cli import (
    accounts,
    customer,
    indexed,
    journeys,
    ops,
    participants,
    playbooks,
    serve,
    settlement,
)
from journeychain.cli.session import JourneyBook, Session, session
from journeychain.errors import ChainError, JourneyError

__all__ = ["MANUAL", "JourneyBook", "Session", "app", "main", "session"]

MANUAL = """\
journeychain enforces a customer journey that crosses company silos
(Marketing -> Sales -> Customer Success -> vendors -> the customer) as a
chain of linked, timed steps on an EVM chain: deadlines, complete bookings,
escrowed incentives paid only once the customer confirms value.

[bold]A first journey on the local chain[/bold] (started on first use):

  journey deploy
  journey playbook publish playbooks/default.yaml
  journey participant add dev:1 MARKETING --org Marketing
  journey participant add dev:2 SALES --org Sales
  journey participant add dev:3 SUCCESS --org Success
  journey participant add dev:4 VENDOR --org Devices --vendor
  journey participant add dev:5 VERIFIER --org Verifiers --vendor
  journey participant add dev:6 FUNDER --org Finance
  journey -a dev:1 rulebook accept        (and so on for dev:2 to dev:6)
  journey mint dev:6 10000
  journey -a dev:1 open OPP-1 --customer dev:9 --profile "Ada, London" --funder dev:6
  journey -a dev:1 step complete OPP-1 --assign dev:2
  journey -a dev:2 step complete OPP-1
  journey -a dev:6 fund OPP-1 1000
  journey -a dev:5 attest OPP-1 identity_verified
  journey -a dev:2 step complete OPP-1 -f customer_goals="grow 20%"
        -f success_criteria="live in May" -f decision_maker=COO
        -f contract_value=120000 --org Success
  journey -a dev:3 step complete OPP-1 --org Devices
  journey -a dev:4 step complete OPP-1
  journey -a dev:7 customer confirm OPP-1 --customer dev:9
  journey -a dev:4 claim
  journey list

[bold]Accounts[/bold]: --account is a keystore alias (`journey accounts new`),
an address, or dev:0..dev:9 on a local chain. Default: $JOURNEY_ACCOUNT,
else dev:0 on a local chain. Passwords: a prompt or $JOURNEY_PASSWORD.

[bold]Chains[/bold]: --rpc URL (or $JOURNEY_RPC) is any EVM JSON-RPC endpoint;
default: the local chain at 127.0.0.1:8545. Deployments are read from
deployments/<chain id>.json; keys and local records from $JOURNEY_HOME.

[bold]Names[/bold]: `journey participant name ADDRESS "Sales rep A"` names an
address in a local address book ($JOURNEY_HOME/names.json, per chain): tables
and timelines show the name, and commands take it as an account. `journey list`
filters by --status, --overdue, --assignee and --playbook.

[bold]Output[/bold]: tables for people, --json for programs. Exit codes:
0 done, 1 failed (a transaction the node refused: too little ether for its
gas, a nonce or fees it will not take), 2 bad input (argument, unknown name,
wrong password, no deployment, corrupt local file), 3 refused by a rule of
the contracts, 4 chain unreachable. --json goes before or after the command.
"""


# --- one place where failures become a sentence and an exit code ---------------------


def _fail(message: str, code: int) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(code)


#: what the transport raises when the node stops answering in the middle of a command
TRANSPORT_ERRORS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    ProviderConnectionError,
    ConnectionError,
)


def lost_node(exc: BaseException) -> str:
    """One sentence for a node that stopped answering, naming it when the error does."""
    found = re.search(r"host='([^']+)', port=(\d+)", str(exc))
    endpoint = f"http://{found[1]}:{found[2]}" if found else last_endpoint()
    where = f" at {endpoint}" if endpoint else ""
    return (
        f"lost the chain{where}: the node stopped answering ({type(exc).__name__}): start it again "
        "and run the command again"
    )


def _json_first(args: list[str]) -> list[str]:
    """`--json` is a global option, taken after the command as well (`journey status OPP-1
    --json`): every `--json` before a `--` moves to the front."""
    end = args.index("--") if "--" in args else len(args)
    head = [a for a in args[:end] if a != "--json"]
    if len(head) == end:
        return args
    return ["--json", *head, *args[end:]]


class JourneyGroup(TyperGroup):
    """Runs a command; any JourneyError ends with its one sentence and its exit code."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        args = _json_first(list(sys.argv[1:] if args is None else args))
        try:
            result = super().main(
                args=args, prog_name=prog_name, complete_var=complete_var, standalone_mode=False, **extra
            )
        except JourneyError as exc:
            _fail(str(exc), exc.exit_code)
        except _click.exceptions.NoArgsIsHelpError as exc:  # `journey` or `journey step` alone: the manual
            if exc.format_message().strip():
                print(exc.format_message())
            sys.exit(0)
        except _click.exceptions.ClickException as exc:
            message = exc.format_message().strip().rstrip(".")
            if isinstance(exc, _click.exceptions.UsageError):
                command = " ".join(["journey", *(exc.ctx.command_path.split()[1:] if exc.ctx else [])])
                message += f" (see `{command} --help`)"
            _fail(message, 2 if exc.exit_code == 2 else exc.exit_code)
        except (typer.Abort, KeyboardInterrupt):
            _fail("aborted", 130)
        except TRANSPORT_ERRORS as exc:  # the node went away in the middle of a command
            _fail(lost_node(exc), ChainError.exit_code)
        except Exception as exc:  # the last resort: still one sentence, the traceback on request
            if os.environ.get("JOURNEY_DEBUG"):
                raise
            _fail(f"unexpected failure: {type(exc).__name__}: {exc} (set JOURNEY_DEBUG=1 for details)", 1)
        sys.exit(result if isinstance(result, int) else 0)


app = typer.Typer(
    cls=JourneyGroup,
    help=MANUAL,
    rich_markup_mode="rich",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


# --- global options ------------------------------------------------------------------


def _version(value: bool) -> None:
    if value:
        print(f"journey {__version__}")
        raise typer.Exit()


@app.callback()
def _global(
    ctx: typer.Context,
    rpc: Annotated[
        str | None,
        typer.Option("--rpc", help="JSON-RPC endpoint (default: $JOURNEY_RPC, else the local chain)."),
    ] = None,
    account: Annotated[
        str | None,
        typer.Option(
            "--account", "-a", help="Who signs: keystore alias, address or dev:N.", envvar="JOURNEY_ACCOUNT"
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON for programs instead of tables.")
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    ctx.obj = Session(rpc=rpc, account_name=account, json=as_json)


# --- the commands, in the order `journey --help` lists them ------------------------------
# Each panel lists its commands in the order they are added, then its groups in theirs.

#: A negative amount is an argument to refuse with a sentence, not an unknown option.
_AMOUNT = {"ignore_unknown_options": True}

app.command("deploy", rich_help_panel="Set up")(ops.deploy_cmd)
app.command("open", rich_help_panel="Journeys")(journeys.open_cmd)
app.command("attest", rich_help_panel="Journeys")(journeys.attest_cmd)
app.command("fund", rich_help_panel="Journeys", context_settings=_AMOUNT)(journeys.fund_cmd)
app.command("escalate", rich_help_panel="Journeys")(journeys.escalate_cmd)
app.command("resolve", rich_help_panel="The customer and disputes")(customer.resolve_cmd)
app.command("close-dispute", rich_help_panel="The customer and disputes")(customer.close_dispute_cmd)
app.command("expire", rich_help_panel="Journeys")(journeys.expire_cmd)
app.command("cancel", rich_help_panel="Journeys")(journeys.cancel_cmd)
app.command("mint", rich_help_panel="Set up", context_settings=_AMOUNT)(ops.mint_cmd)
app.command("release", rich_help_panel="Payouts")(settlement.release_cmd)
app.command("confirm-by-attestation", rich_help_panel="Payouts")(settlement.confirm_by_attestation_cmd)
app.command("claim", rich_help_panel="Payouts")(journeys.claim_cmd)
app.command("list", rich_help_panel="Journeys")(journeys.list_cmd)
app.command("demo", rich_help_panel="Start here")(ops.demo_cmd)
app.command("status", rich_help_panel="Journeys")(journeys.status_cmd)
app.command("keeper", rich_help_panel="Operations")(ops.keeper_cmd)
app.command("prove", rich_help_panel="Evidence")(ops.prove_cmd)
app.command("forget", rich_help_panel="Evidence")(ops.forget_cmd)
app.command("report", rich_help_panel="Operations")(indexed.report_cmd)
app.command("reconcile", rich_help_panel="Evidence")(ops.reconcile_cmd)

app.add_typer(ops.chain_app, name="chain", rich_help_panel="Set up")
app.add_typer(accounts.accounts_app, name="accounts", rich_help_panel="Set up")
app.add_typer(participants.participant_app, name="participant", rich_help_panel="Set up")
app.add_typer(participants.org_app, name="org", rich_help_panel="Set up")
app.add_typer(participants.role_app, name="role", rich_help_panel="Set up")
app.add_typer(participants.rulebook_app, name="rulebook", rich_help_panel="Set up")
app.add_typer(playbooks.playbook_app, name="playbook", rich_help_panel="Set up")
app.add_typer(journeys.step_app, name="step", rich_help_panel="Journeys")
app.add_typer(playbooks.schema_app, name="schema", rich_help_panel="Journeys")
app.add_typer(journeys.breach_app, name="breach", rich_help_panel="Journeys")
app.add_typer(journeys.budget_app, name="budget", rich_help_panel="Journeys")
app.add_typer(customer.customer_app, name="customer", rich_help_panel="The customer and disputes")
app.add_typer(serve.serve_app, name="serve", rich_help_panel="Operations")
app.add_typer(indexed.index_app, name="index", rich_help_panel="Operations")


def main() -> None:
    """The `journey` command."""
    app()
