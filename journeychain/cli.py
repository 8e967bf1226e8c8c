"""The `journey` command line: every operation of journeychain, one command each."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import typer
from eth_account.signers.local import LocalAccount
from rich import box
from rich.console import Console
from rich.table import Table
from typer import _click
from typer.core import TyperGroup

from journeychain import __version__
from journeychain.accounts import (
    ask_secret,
    create_account,
    get_password,
    import_account,
    list_accounts,
    load_account,
    resolve_address,
)
from journeychain.chain import Chain, connect, run_foreground, stop_background, write_private
from journeychain.client import Customer, JourneyClient, role_id
from journeychain.customer import CustomerRequest, CustomerSecret, read_signed, sign_request, signed_document
from journeychain.deployments import Deployment, deploy, deployment_file, load_deployment
from journeychain.encoding import journey_id, new_salt, profile_hash
from journeychain.errors import AccountError, ConfigError, JourneyError
from journeychain.playbook import load_playbook, parse_duration
from journeychain.reverts import tokens, when
from journeychain.tx import Receipt
from journeychain.vault import Vault

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

[bold]Output[/bold]: tables for people, --json for programs. Exit codes:
0 done, 1 failed, 2 bad input (argument, unknown name, wrong password,
no deployment, corrupt local file), 3 refused by a rule of the contracts,
4 chain unreachable. --json goes before or after the command.
"""


# --- one place where failures become a sentence and an exit code ---------------------


def _fail(message: str, code: int) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(code)


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


def _group(name: str, panel: str, help: str) -> typer.Typer:
    """A group of commands, `journey <name> ...`, listed under `panel` in the help."""
    group = typer.Typer(help=help, no_args_is_help=True)
    app.add_typer(group, name=name, rich_help_panel=panel)
    return group


# --- the session: global options and what commands share -----------------------------


@dataclass
class Session:
    """The global options and the connection, built on first use (commands_ops uses it too)."""

    rpc: str | None = None
    account_name: str | None = None
    json: bool = False
    _chain: Chain | None = None
    _deployment: Deployment | None = None
    _client: JourneyClient | None = None
    _accounts: dict[str, LocalAccount] = field(default_factory=dict)

    @property
    def chain(self) -> Chain:
        if self._chain is None:
            self._chain = connect(self.rpc)
        return self._chain

    @property
    def deployment(self) -> Deployment:
        if self._deployment is None:
            self._deployment = load_deployment(self.chain)
        return self._deployment

    def account(self, name: str | None = None) -> LocalAccount:
        """The account named `name`, else the --account one (or $JOURNEY_ACCOUNT, or dev:0 locally)."""
        name = name or self.account_name or os.environ.get("JOURNEY_ACCOUNT")
        if not name:
            if not self.chain.is_local:
                raise AccountError("no account: pass --account NAME or set JOURNEY_ACCOUNT")
            name = "dev:0"
        if name not in self._accounts:
            self._accounts[name] = load_account(name, self.chain)
        return self._accounts[name]

    @property
    def reader(self) -> JourneyClient:
        """A client for reads (no account unlocked)."""
        if self._client is None:
            self._client = JourneyClient(self.chain, self.deployment, None, labels=self.book.labels())
        return self._client

    def client(self, name: str | None = None) -> JourneyClient:
        """A client acting as the account `name` (default: the --account one)."""
        return self.reader.with_account(self.account(name))

    def address(self, name: str) -> str:
        """An address from an address, a keystore alias or dev:N."""
        return resolve_address(name, self.chain)

    @property
    def book(self) -> JourneyBook:
        return JourneyBook(self.chain.chain_id)

    # --- output
    def emit(self, data: Any, human: str | Table | None = None) -> None:
        """Prints `data` as JSON with --json, else `human` (a sentence or a table) for people."""
        if self.json:
            print(json.dumps(data, indent=2, default=_json_default))
        elif human is not None:
            Console().print(human, soft_wrap=True)

    def note(self, message: str) -> None:
        """A progress note, on stderr (never mixed into --json output)."""
        Console(stderr=True).print(message, style="dim", soft_wrap=True)


def _json_default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if hasattr(value, "as_dict"):
        return value.as_dict()
    return str(value)


def session(ctx: typer.Context) -> Session:
    """The session of the running command (for commands defined elsewhere)."""
    root = ctx.find_root()
    if not isinstance(root.obj, Session):
        root.obj = Session()
    return root.obj


class JourneyBook:
    """Local records of the journeys opened here: reference, customer signer and profile hash.

    Kept in $JOURNEY_HOME/journeys.json, per chain, so that later commands accept the
    reference and customer commands find the profile hash. No personal data: the profile
    is a salted hash.
    """

    def __init__(self, chain_id: int):
        from journeychain.chain import journey_home

        self.path = journey_home() / "journeys.json"
        self.key = str(chain_id)

    def _all(self) -> dict[str, Any]:
        """Every chain's records; a file that is not a journeys file is refused, and left as it is."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise ConfigError(f"cannot read the journeys' records {self.path}: {reason}") from None
        try:
            data = json.loads(text)
        except ValueError as exc:
            line = getattr(exc, "lineno", "?")
            raise self._corrupt(f"not JSON: {getattr(exc, 'msg', exc)} at line {line}") from None
        if not isinstance(data, dict) or not all(
            isinstance(records, dict) and all(isinstance(r, dict) for r in records.values())
            for records in data.values()
        ):
            raise self._corrupt("not records by chain and journey")
        return data

    def _corrupt(self, reason: str) -> ConfigError:
        return ConfigError(
            f"{self.path} is not a journeys file ({reason}): it is left as it is; fix it or move it aside"
        )

    def records(self) -> dict[str, dict[str, str]]:
        return self._all().get(self.key, {})

    def labels(self) -> dict[str, str]:
        return {jid: r["reference"] for jid, r in self.records().items() if r.get("reference")}

    def get(self, jid: bytes) -> dict[str, str] | None:
        return self.records().get("0x" + jid.hex())

    def put(self, jid: bytes, record: dict[str, str]) -> None:
        data = self._all()
        data.setdefault(self.key, {})["0x" + jid.hex()] = record
        write_private(self.path, json.dumps(data, indent=2))  # 0600, replaced whole


def _receipt_note(receipt: Receipt) -> str:
    return f"[dim](tx {receipt.tx_hash[:10]}…, block {receipt.block}, gas {receipt.gas_used:,})[/dim]"


#: The most tokens (in units of 10**-18) a journey's pool holds (the engine keeps it in 96 bits),
#: and the most any amount of the token can be (256 bits).
MAX_POOL = 2**96 - 1
MAX_TOKENS = 2**256 - 1
#: Playbooks are numbered from 1 in 16 bits.
PLAYBOOK_MAX = 2**16 - 1


def _amount(text: str, limit: int = MAX_TOKENS, what: str = "the token can count") -> int:
    """Tokens (18 decimals) from '1000' or '12.5': positive, finite and at most `limit` units."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise ConfigError(f"{text!r} is not an amount of tokens (e.g. 1000 or 12.5)")
    if value <= 0:
        raise ConfigError(f"{text!r} is not a positive amount with at most 18 decimals")
    if value > Decimal(limit) / 10**18:
        raise ConfigError(f"{text!r} tokens is more than {what} ({tokens(limit)} tokens)")
    wei = value.scaleb(18)
    if wei != wei.to_integral_value():
        raise ConfigError(f"{text!r} is not a positive amount with at most 18 decimals")
    return int(wei)


def _fields(raw: list[str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for item in raw:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--field {item!r} must be name=value (e.g. --field customer_goals='grow 20%')")
        if key.strip() in fields:
            raise ConfigError(f"--field {key.strip()!r} is given twice")
        fields[key.strip()] = value
    return fields


def _profile(hex_text: str) -> bytes:
    raw = hex_text.removeprefix("0x")
    try:
        value = bytes.fromhex(raw)
    except ValueError:
        value = b""
    if len(value) != 32:
        raise ConfigError(f"{hex_text!r} is not a profile hash (0x and 64 hex digits)")
    return value


def _customer(s: Session, journey: str, name: str, profile_hex: str | None) -> Customer:
    key = s.account(name)
    if profile_hex:
        return Customer(key, _profile(profile_hex))
    record = s.book.get(journey_id(journey))
    if record is None or "profile" not in record:
        raise ConfigError(f"no local record of journey {journey}'s customer profile: pass --profile-hash")
    return Customer(key, _profile(record["profile"]))


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


# --- the chain and deployments ------------------------------------------------------------


@app.command("chain", rich_help_panel="Set up")
def chain_cmd(
    stop: Annotated[bool, typer.Option("--stop", help="Stop the background local chain instead.")] = False,
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8545,
) -> None:
    """Run the embedded local chain (anvil) in the foreground; Ctrl-C stops it.

    Its state is kept in $JOURNEY_HOME/chain, so the next start sees the same chain.
    Other commands start it in the background on their own when nothing answers at
    127.0.0.1:8545; `journey chain --stop` stops that background chain.
    """
    if stop:
        pid = stop_background()
        print("stopped the local chain" + (f" (pid {pid})" if pid else ": none was running"))
        return
    print(f"local chain on http://127.0.0.1:{port} (Ctrl-C stops it)", file=sys.stderr)
    run_foreground(port)


@app.command("deploy", rich_help_panel="Set up")
def deploy_cmd(ctx: typer.Context) -> None:
    """Deploy the contracts (token, engine, attestation registry, customer voice).

    The deployer becomes ADMIN and the token's minter; the engine's rulebook is the hash
    of playbooks/rulebook.md. The addresses go to deployments/<chain id>.json, where
    every later command finds them.
    """
    s = session(ctx)
    account = s.account()
    with Console(stderr=True).status("deploying...") as status:
        deployment = deploy(s.chain, account, progress=lambda m: status.update(m))
    table = Table(title=f"deployment on chain {deployment.chain_id}", show_header=False)
    for key in ("engine", "voice", "registry", "token", "deployer", "block", "compiler"):
        table.add_row(key, str(getattr(deployment, key)))
    table.add_row("file", str(deployment_file(deployment.chain_id)))
    s.emit(deployment.as_dict(), table)


# --- accounts --------------------------------------------------------------------------

accounts_app = _group(
    "accounts", "Set up", "Keystore accounts: encrypted key files in $JOURNEY_HOME/keystore."
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


# --- participants and the rulebook -------------------------------------------------------

participant_app = _group(
    "participant", "Set up", "Participants: addresses with a role, acting for a team or a vendor."
)


@participant_app.command("add")
def participant_add(
    ctx: typer.Context,
    address: Annotated[str, typer.Argument(help="Address, keystore alias or dev:N.")],
    role: Annotated[
        str,
        typer.Argument(
            help="MARKETING, SALES, SUCCESS, VENDOR, VERIFIER, FUNDER, ARBITER, ADMIN "
            "or a role a playbook defines."
        ),
    ],
    org: Annotated[
        str | None,
        typer.Option(
            help="The organisation it acts for (name or number), needed the first time; a new name "
            "registers the organisation."
        ),
    ] = None,
    vendor: Annotated[
        bool, typer.Option("--vendor", help="A new --org is an outside firm, not a company unit.")
    ] = False,
) -> None:
    """Grant ROLE to ADDRESS (as ADMIN), in organisation --org. A participant belongs to one
    organisation for good and must then accept the rulebook."""
    s = session(ctx)
    role_id(role)  # a bad role is refused before connecting
    target = s.address(address)
    client = s.client()
    org_id: int | None = None
    if org is not None:
        try:
            org_id = client.organisation_id(org)
        except ConfigError:
            if org.isdigit():
                raise
            org_id, _ = client.register_organisation(org, vendor=vendor)
            s.note(f"organisation {org_id} ({org}) registered")
    receipt = client.grant_role(target, role, org=org_id)
    where = f" of {org}" if org else ""
    s.emit(
        {"address": target, "role": role.upper(), "org": org} | receipt.as_dict(),
        f"{target} is now {role.upper()}{where} {_receipt_note(receipt)}",
    )


org_app = _group("org", "Set up", "Organisations: the company's units and the outside firms.")


@org_app.command("add")
def org_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A short name (no personal data), up to 32 bytes.")],
    vendor: Annotated[bool, typer.Option("--vendor", help="An outside firm, not a company unit.")] = False,
) -> None:
    """Register an organisation (as ADMIN)."""
    s = session(ctx)
    org, receipt = s.client().register_organisation(name, vendor=vendor)
    kind = "vendor firm" if vendor else "company unit"
    s.emit(
        {"org": org, "name": name, "kind": kind} | receipt.as_dict(),
        f"organisation {org} ({name}, {kind}) registered {_receipt_note(receipt)}",
    )


@org_app.command("list")
def org_list(ctx: typer.Context) -> None:
    """Every organisation, by number."""
    s = session(ctx)
    orgs = s.reader.organisations()
    table = Table("org", "name", "kind")
    for o in orgs:
        table.add_row(str(o["org"]), o["name"], o["kind"])
    s.emit(orgs, table)


role_app = _group("role", "Set up", "Roles a playbook may name beyond the defaults.")


@role_app.command("define")
def role_define(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="The role's name, e.g. SUPPORT.")]
) -> None:
    """Define a role (as ADMIN); its id is keccak256 of its name. `playbook publish` defines the
    roles a playbook declares under `roles:` itself."""
    role_id(name)  # a bad name is refused before connecting
    if name.upper() in ("ADMIN", "CUSTOMER"):
        raise ConfigError(f"{name.upper()} is a role of its own, never defined: choose another name")
    s = session(ctx)
    receipt = s.client().define_role(name)
    s.emit(
        {"role": name.upper()} | receipt.as_dict(), f"role {name.upper()} defined {_receipt_note(receipt)}"
    )


@participant_app.command("show")
def participant_show(
    ctx: typer.Context, address: Annotated[str, typer.Argument(help="Address or alias.")]
) -> None:
    """A participant's roles, rulebook acceptance, breaches, credit and rating."""
    s = session(ctx)
    c = s.reader
    target = s.address(address)
    info = c.participant(target)
    rating = c.rating_of(target)
    info |= {
        "breaches": c.breach_count(target),
        "credit": c.credit_of(target),
        "balance": c.balance_of(target),
        "ratings": rating.count,
        "average_rating": rating.average,
    }
    table = Table(show_header=False, title=target)
    for key, value in info.items():
        shown = tokens(value) if key in ("credit", "balance") else value
        table.add_row(key, ", ".join(value) if isinstance(value, list) else str(shown))
    s.emit(info, table)


rulebook_app = _group("rulebook", "Set up", "The rulebook: the consensus rules every participant accepts.")


@rulebook_app.command("accept")
def rulebook_accept(
    ctx: typer.Context,
    by_signature: Annotated[
        bool, typer.Option("--by-signature", help="Sign the acceptance (EIP-712); --relay sends it.")
    ] = False,
    relay: Annotated[
        str | None, typer.Option("--relay", help="With --by-signature: the account that sends it.")
    ] = None,
) -> None:
    """Accept the rulebook in force, as --account (required before acting)."""
    s = session(ctx)
    who: str
    if by_signature:
        participant = s.account()
        receipt = s.client(relay or "dev:0").accept_rulebook_by_signature(participant)
        who = participant.address
    else:
        client = s.client()
        receipt = client.accept_rulebook()
        who = client.address
    version, _ = s.reader.rulebook()
    s.emit(
        {"account": who, "version": version} | receipt.as_dict(),
        f"{who} accepted rulebook version {version} {_receipt_note(receipt)}",
    )


@rulebook_app.command("show")
def rulebook_show(ctx: typer.Context) -> None:
    """The rulebook version and hash in force."""
    s = session(ctx)
    version, digest = s.reader.rulebook()
    s.emit({"version": version, "hash": digest}, f"rulebook version {version}: {digest}")


# --- playbooks -----------------------------------------------------------------------

playbook_app = _group("playbook", "Set up", "Playbooks: published, immutable templates of a journey's steps.")


@playbook_app.command("publish")
def playbook_publish(
    ctx: typer.Context, file: Annotated[Path, typer.Argument(help="A playbook YAML file.")]
) -> None:
    """Validate a playbook YAML file and publish it (as ADMIN)."""
    s = session(ctx)
    playbook = load_playbook(file)
    playbook_id, receipt = s.client().publish_playbook(playbook)
    s.emit(
        {"playbook_id": playbook_id, "name": playbook.name} | receipt.as_dict(),
        f"playbook {playbook.name!r} published as playbook {playbook_id} {_receipt_note(receipt)}",
    )


@playbook_app.command("show")
def playbook_show(
    ctx: typer.Context,
    playbook_id: Annotated[
        int | None, typer.Argument(help="Its number (omit: all).", min=1, max=PLAYBOOK_MAX)
    ] = None,
) -> None:
    """Show a published playbook's steps, or list every playbook."""
    s = session(ctx)
    c = s.reader
    if playbook_id is None:
        published = [c.playbook(i) for i in range(1, c.playbook_count() + 1)]
        table = Table("id", "name", "version", "steps")
        for entry in published:
            book = entry.playbook
            table.add_row(str(entry.playbook_id), book.name, str(book.version), str(len(book.steps)))
        s.emit([entry.as_dict() for entry in published], table if published else "no playbook published yet")
        return
    shown = c.playbook(playbook_id)
    p = shown.playbook
    table = Table(
        "step", "role", "sla", "share", "penalty", "requires",
        title=f"playbook {playbook_id}: {p.name} v{p.version} (booking: step {p.commit_step})",
        caption="requires: fields, then attestations (marked @)",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )  # fmt: skip
    table.columns[5].min_width = 20
    for column in table.columns[:5]:
        column.no_wrap = True
    for i, step in enumerate(p.steps):
        table.add_row(
            f"{i} {step.name}",
            step.role,
            _duration(step.sla),
            f"{step.share_bps / 100:g}%",
            f"{step.penalty_bps / 100:g}%",
            "\n".join([*step.fields, *(f"@{a}" for a in step.attestations)]),
        )
    s.emit(shown.as_dict(), table)


def _short(address: str | None) -> str:
    return f"{address[:6]}…{address[-4:]}" if address else "-"


def _duration(seconds: int) -> str:
    if not seconds:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


# --- journeys ----------------------------------------------------------------------------


@app.command("open", rich_help_panel="Journeys")
def open_cmd(
    ctx: typer.Context,
    reference: Annotated[str, typer.Argument(help="The journey's external reference (a CRM id, say).")],
    customer: Annotated[str, typer.Option(help="The customer's signing account: alias, address or dev:N.")],
    profile: Annotated[
        str | None, typer.Option(help="The customer's profile (personal data: only a salted hash is kept).")
    ] = None,
    profile_hash_hex: Annotated[
        str | None, typer.Option("--profile-hash", help="The customer's profile hash, made elsewhere.")
    ] = None,
    funder: Annotated[
        str, typer.Option(help="The journey's funder, who alone may fund its pool: alias, address or dev:N.")
    ] = "",
    playbook: Annotated[int, typer.Option(help="The playbook to run.", min=1, max=PLAYBOOK_MAX)] = 1,
    assign: Annotated[
        str | None, typer.Option(help="Who owns the first step (default: your organisation).")
    ] = None,
) -> None:
    """Open a journey for a customer: the chain sees only a commitment to the customer. --funder
    names the one participant who may fund it."""
    s = session(ctx)
    if profile and profile_hash_hex:
        raise ConfigError("give --profile or --profile-hash, not both")
    profile_bytes = (
        _profile(profile_hash_hex) if profile_hash_hex else profile_hash(profile or "", new_salt())
    )
    if not funder:
        raise ConfigError("name the journey's funder: --funder ACCOUNT")
    signer = s.address(customer)
    assignee = s.address(assign) if assign else None
    opened = s.client().open_journey(
        reference, signer, profile_bytes, playbook, assignee, funder=s.address(funder)
    )
    s.book.put(
        journey_id(reference),
        {"reference": reference, "customer": signer, "profile": opened.profile, "playbook": str(playbook)},
    )
    deadline = f", first deadline {when(opened.deadline)}" if opened.deadline else ""
    s.emit(
        opened.as_dict(),
        f"journey {reference} opened ({opened.journey_id[:12]}…, playbook {playbook}{deadline}) "
        f"{_receipt_note(opened.receipt)}",
    )


step_app = _group("step", "Journeys", "Steps of a journey.")


@step_app.command("complete")
def step_complete(
    ctx: typer.Context,
    journey: Annotated[str, typer.Argument(help="The journey: its reference or 0x id.")],
    field_args: Annotated[
        list[str] | None, typer.Option("--field", "-f", help="name=value evidence; repeat for each field.")
    ] = None,
    assign: Annotated[str | None, typer.Option(help="The participant who owns the next step.")] = None,
    org: Annotated[
        str | None,
        typer.Option(
            help="The organisation that owns the next step (name or number); default: yours, "
            "when you hold the next step's role."
        ),
    ] = None,
) -> None:
    """Complete the journey's current step with its evidence, and name who owns the next step
    (--assign a participant, or --org an organisation).

    Each --field value is committed with a fresh salt: the chain sees the commitment only.
    The values and salts go to the evidence vault ($JOURNEY_HOME/vault.sqlite), from which
    `journey prove` discloses one field and `journey forget` erases them; they are not
    printed.
    """
    s = session(ctx)
    fields = _fields(field_args or [])
    assignee = s.address(assign) if assign else None
    with Vault() as vault:
        result = s.client().complete_step(journey, fields, assignee, vault=vault, org=org)
    data = result.as_dict()
    data["fields"] = [{"name": f.name, "commitment": f.commitment} for f in result.fields]
    late = " [red](late: breach recorded)[/red]" if result.late else ""
    nxt = f"; next deadline {when(result.next_deadline)}" if result.next_deadline else ""
    s.emit(
        data,
        f"journey {journey}: step {result.step} ({result.step_name}) completed{late}{nxt} "
        f"{_receipt_note(result.receipt)}",
    )


@app.command("attest", rich_help_panel="Journeys")
def attest_cmd(
    ctx: typer.Context,
    journey: Annotated[str, typer.Argument(help="The journey whose customer (or itself) is attested.")],
    schema: Annotated[
        str, typer.Argument(help="What is attested, e.g. identity_verified or value_delivered.")
    ],
    expires_in: Annotated[
        str | None, typer.Option(help="Valid for this long (e.g. 30d); default: never expires.")
    ] = None,
    step: Annotated[
        str | None, typer.Option(help="For a per-step schema: the step (default: the current one).")
    ] = None,
) -> None:
    """Attest SCHEMA about a journey (as a verifier holding the schema's role): about its
    customer, the journey itself or one step, as the schema says (value_delivered: the journey)."""
    s = session(ctx)
    client = s.client()
    lifetime = parse_duration(expires_in, "--expires-in") if expires_in is not None else 0
    if expires_in is not None and lifetime == 0:
        raise ConfigError(
            f"--expires-in: {expires_in!r} is no time at all (omit it for an attestation that never expires)"
        )
    expiry = s.chain.now() + lifetime if lifetime else 0
    if schema == "value_delivered":
        uid, receipt = client.attest_value_delivered(journey, expiry)
    else:
        uid, receipt = client.attest_about(journey, schema, step, expiry)
    s.emit(
        {"uid": uid, "schema": schema, "expiry": expiry} | receipt.as_dict(),
        f"attested {schema} for journey {journey}: {uid} {_receipt_note(receipt)}",
    )


schema_app = _group(
    "schema",
    "Journeys",
    "Attestation schemas: the role their verifiers hold and what they are about.",
)


@schema_app.command("add")
def schema_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Its short name (at most 30 bytes), e.g. parts_certified.")],
    role: Annotated[str, typer.Option(help="The role its verifiers hold.")] = "VERIFIER",
    subject: Annotated[str, typer.Option(help="customer, journey or step.")] = "customer",
) -> None:
    """Register an attestation schema (as ADMIN); it never changes afterwards.
    `journey playbook publish` registers the schemas a playbook declares by itself."""
    s = session(ctx)
    receipt = s.client().register_schema(name, role, subject.lower())
    s.emit(
        {"schema": name, "role": role.upper(), "subject": subject.lower()} | receipt.as_dict(),
        f"schema {name}: attested by {role.upper()} about the {subject.lower()} {_receipt_note(receipt)}",
    )


@schema_app.command("list")
def schema_list(ctx: typer.Context) -> None:
    """The registered attestation schemas."""
    s = session(ctx)
    schemas = s.client().schemas()
    table = Table("schema", "verifiers", "about", title="attestation schemas")
    for schema in schemas:
        table.add_row(schema.name, schema.role, schema.subject)
    s.emit([{"schema": x.name, "role": x.role, "subject": x.subject} for x in schemas], table)


# A negative amount is an argument to refuse with a sentence, not an unknown option.
@app.command("fund", rich_help_panel="Journeys", context_settings={"ignore_unknown_options": True})
def fund_cmd(
    ctx: typer.Context,
    journey: Annotated[str, typer.Argument(help="The journey.")],
    amount: Annotated[str, typer.Argument(help="Tokens to escrow, e.g. 1000 or 12.5.")],
    permit: Annotated[
        bool, typer.Option("--permit", help="Use an EIP-2612 permit instead of approve.")
    ] = False,
) -> None:
    """Escrow AMOUNT incentive tokens in the journey's pool (as FUNDER)."""
    s = session(ctx)
    value = _amount(amount, MAX_POOL, "a journey's pool can hold")
    receipt = s.client().fund(journey, value, permit=permit)
    pool = receipt.events["PoolFunded"][0]["pool"]
    s.emit(
        {"journey": journey, "amount": value, "pool": pool} | receipt.as_dict(),
        f"journey {journey}: pool funded with {tokens(value)}, now {tokens(pool)} {_receipt_note(receipt)}",
    )


breach_app = _group("breach", "Journeys", "SLA breaches.")


@breach_app.command("flag")
def breach_flag(ctx: typer.Context, journey: Annotated[str, typer.Argument(help="The journey.")]) -> None:
    """Flag the current step's passed deadline (anyone may): the breach is recorded for good."""
    s = session(ctx)
    receipt = s.client().flag_breach(journey)
    event = receipt.events["BreachRecorded"][0]
    against = event["assignee"] if int(event["assignee"], 16) else f"organisation {event['org']}"
    s.emit(
        {"journey": journey, "step": event["step"], "assignee": event["assignee"]} | receipt.as_dict(),
        f"journey {journey}: breach of step {event['step']} recorded against {against} "
        + _receipt_note(receipt),
    )


@app.command("escalate", rich_help_panel="Journeys")
def escalate_cmd(
    ctx: typer.Context,
    journey: Annotated[str, typer.Argument(help="The journey.")],
    assign: Annotated[str, typer.Option(help="The new assignee: address, alias or dev:N.")],
) -> None:
    """Reassign a late step to another holder of its role, with a new deadline (as ADMIN, or as
    whoever completed the step before it). The breach stays on the step."""
    s = session(ctx)
    receipt = s.client().escalate(journey, s.address(assign))
    event = receipt.events["Escalated"][0]
    s.emit(
        {"journey": journey, "step": event["step"], "to": event["to"], "deadline": event["deadline"]}
        | receipt.as_dict(),
        f"journey {journey}: step {event['step']} escalated to {event['to']}, deadline "
        f"{when(event['deadline']) if event['deadline'] else 'none'} {_receipt_note(receipt)}",
    )


customer_app = _group(
    "customer",
    "The customer and disputes",
    "The customer's voice: signed by the customer, relayed by anyone (--account).",
)

CustomerOpt = Annotated[
    str, typer.Option("--customer", help="The customer's signing account (keystore or dev:N).")
]
ProfileOpt = Annotated[
    str | None,
    typer.Option("--profile-hash", help="The customer's profile hash (default: the local record)."),
]


@customer_app.command("confirm")
def customer_confirm(
    ctx: typer.Context,
    journey: Annotated[str, typer.Argument(help="The journey.")],
    customer: CustomerOpt,
    profile_hex: ProfileOpt = None,
) -> None:
    """The customer confirms that value was delivered: every step owner is credited."""
    s = session(ctx)
    who = _customer(s, journey, customer, profile_hex)
    client = s.client()
    receipt = client.customer_confirm(journey, who)
    paid = receipt.events["ValueConfirmed"][0]
    credited = client.payouts(journey, receipt)
    table = Table("owner", "credited", title=f"journey {journey}: value confirmed")
    for owner, amount in credited:
        table.add_row(owner, tokens(amount))
    table.caption = f"forfeited {tokens(paid['forfeited'])}, remainder {tokens(paid['remainder'])}"
    data = {
        "journey": journey,
        "owners": [owner for owner, _ in credited],
        "amounts": [amount for _, amount in credited],
        "forfeited": paid["forfeited"],
        "remainder": paid["remainder"],
    }
    s.emit(data | receipt.as_dict(), table)


@customer_app.command("dispute")
def customer_dispute(
    ctx: typer.Context,
    journey: Annotated[str, typer.Argument(help="The journey.")],
    step: Annotated[str, typer.Argument(help="The disputed step: number or name.")],
    customer: CustomerOpt,
    reason: Annotated[
        str, typer.Option(help="Why (kept in the evidence vault; only a salted commitment goes on chain).")
    ] = "",
    profile_hex: ProfileOpt = None,
) -> None:
    """The customer disputes a completed step: payouts are held until an arbiter resolves it.

    The reason is committed with a fresh salt: the chain sees the commitment only. The text
    and salt go to the evidence vault, from which `journey prove JOURNEY STEP dispute_reason`
    discloses it and `journey forget` erases it; they are not printed.
    """
    s = session(ctx)
    who = _customer(s, journey, customer, profile_hex)
    with Vault() as vault:
        result = s.client().customer_dispute(journey, who, step, reason, vault=vault)
    receipt = result.receipt
    event = receipt.events["Disputed"][0]
    s.emit(
        {"journey": journey, "step": event["step"], "reason": result.commitment} | receipt.as_dict(),
        f"journey {journey}: step {event['step']} disputed; payouts held {_receipt_note(receipt)}",
    )


@customer_app.command("rate", context_settings={"ignore_unknown_options": True})
def customer_rate(
    ctx: typer.Context,
    journey: Annotated[str, typer.Argument(help="The journey.")],
    step: Annotated[str, typer.Argument(help="The rated step: number or name.")],
    score: Annotated[int, typer.Argument(help="1 to 5.")],
    customer: CustomerOpt,
    comment: Annotated[
        str,
        typer.Option(help="A comment (kept in the evidence vault; only a salted commitment goes on chain)."),
    ] = "",
    profile_hex: ProfileOpt = None,
) -> None:
    """The customer rates a step's owner, 1 to 5, once value is confirmed.

    The comment is kept like a dispute's reason: its commitment on chain, its text and salt
    in the evidence vault (`journey prove JOURNEY STEP rating_comment`, `journey forget`).
    """
    s = session(ctx)
    if not 1 <= score <= 5:
        raise ConfigError(f"a rating is a score from 1 to 5, not {score}")
    who = _customer(s, journey, customer, profile_hex)
    with Vault() as vault:
        result = s.client().customer_rate(journey, who, step, score, comment, vault=vault)
    receipt = result.receipt
    event = receipt.events["Rated"][0]
    s.emit(
        {
            "journey": journey,
            "step": event["step"],
            "owner": event["owner"],
            "score": score,
            "comment": result.commitment,
        }
        | receipt.as_dict(),
        f"journey {journey}: step {event['step']} ({event['owner']}) rated {score}/5 "
        + _receipt_note(receipt),
    )


# --- the customer's own device: a secret, requests and signatures ---------------------------

secret_app = typer.Typer(no_args_is_help=True, help="The customer's one secret (kept by the customer).")
customer_app.add_typer(secret_app, name="secret")


def _secret(path: Path) -> CustomerSecret:
    return CustomerSecret.load(path, get_password(f"password of the customer secret {path}"))


@secret_app.command("new")
def customer_secret_new(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Where to keep it (an encrypted keystore file).")],
) -> None:
    """Create the customer's secret, encrypted with a password ($JOURNEY_PASSWORD or asked for).

    Every journey's signing key and profile salt are derived from it: the chain cannot link
    two journeys of one customer, and the operator chooses neither half of the commitment."""
    s = session(ctx)
    CustomerSecret.create().save(file, get_password("password for the new customer secret", confirm=True))
    s.emit({"file": str(file)}, f"customer secret written to {file} (keep it, and its password, safe)")


@customer_app.command("join")
def customer_join(
    ctx: typer.Context,
    journey: Annotated[str, typer.Argument(help="The journey's reference, as the operator gives it.")],
    secret: Annotated[Path, typer.Option("--secret", help="The customer's secret file.")],
    profile: Annotated[str, typer.Option(help="The customer's profile (only its salted hash leaves).")],
) -> None:
    """On the customer's device: the signer and profile hash to give the operator, who opens
    the journey with `journey open REF --customer SIGNER --profile-hash HASH`."""
    s = session(ctx)
    joined = _secret(secret).join(journey, profile)
    s.emit(
        {"journey": journey, **joined},
        f"journey {journey}: --customer {joined['signer']} --profile-hash {joined['profile']}",
    )


def _request_customer(
    s: Session, journey: str, signer: str | None, profile_hex: str | None
) -> tuple[str, bytes]:
    """The signer and profile hash of the journey's customer: given, or the local record."""
    record = s.book.get(journey_id(journey)) or {}
    who = signer or record.get("customer")
    hashed = profile_hex or record.get("profile")
    if not who or not hashed:
        raise ConfigError(
            f"no local record of journey {journey}'s customer: pass --signer and --profile-hash"
        )
    return resolve_address(who), _profile(hashed)


@customer_app.command("request")
def customer_request(
    ctx: typer.Context,
    action: Annotated[str, typer.Argument(help="confirm, dispute or rate.")],
    journey: Annotated[str, typer.Argument(help="The journey.")],
    step: Annotated[str | None, typer.Argument(help="The step disputed or rated: number or name.")] = None,
    score: Annotated[int | None, typer.Option(help="A rating's score, 1 to 5.")] = None,
    reason: Annotated[
        str, typer.Option(help="A dispute's reason (the vault keeps it; a commitment goes).")
    ] = "",
    comment: Annotated[str, typer.Option(help="A rating's comment (kept like a reason).")] = "",
    signer: Annotated[
        str | None, typer.Option(help="The customer's signer (default: the local record).")
    ] = None,
    profile_hex: ProfileOpt = None,
    valid: Annotated[str, typer.Option(help="How long the customer has to sign, e.g. 24h.")] = "24h",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the request here.")] = None,
) -> None:
    """Write what the customer signs on its own device: EIP-712 typed data (JSON, and a
    journeychain:sign link a page or a wallet opens). Nothing is sent. A step completed before
    the customer signs makes the request stale: make a new one."""
    s = session(ctx)
    who, hashed = _request_customer(s, journey, signer, profile_hex)
    with Vault() as vault:
        request = s.client().customer_request(
            journey,
            action,
            who,
            hashed,
            step,
            reason=reason,
            score=score,
            comment=comment,
            vault=vault,
            lifetime=parse_duration(valid, "--valid"),
        )
    text = request.to_json()
    if out is not None:
        out.write_text(text + "\n", encoding="utf-8")
    s.emit(
        request.as_dict(),
        f"journey {journey}: {action} request for {who}"
        + (f" written to {out}" if out else "")
        + f"\n{request.url}",
    )


@customer_app.command("sign")
def customer_sign(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The request file the operator sent.")],
    secret: Annotated[Path, typer.Option("--secret", help="The customer's secret file.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the signed request here.")] = None,
) -> None:
    """On the customer's device: sign a request with this journey's key (derived from the
    secret). A request for a signer that is not this customer's is refused."""
    s = session(ctx)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the request {file}: {exc}") from None
    request = CustomerRequest.from_dict(data, str(file))
    key = _secret(secret).key_for(bytes.fromhex(request.journey.removeprefix("0x")))
    signature = sign_request(request, key)
    document = signed_document(request, signature)
    if out is not None:
        out.write_text(document + "\n", encoding="utf-8")
    s.emit(
        {"signature": signature, "signer": key.address, "file": str(out) if out else None},
        f"signed by {key.address}" + (f"; hand {out} back to the operator" if out else f": {signature}"),
    )


@customer_app.command("submit")
def customer_submit(
    ctx: typer.Context,
    journey: Annotated[str, typer.Argument(help="The journey.")],
    signed: Annotated[str, typer.Argument(help="The signed request file, or a 0x signature.")],
    request_file: Annotated[
        Path | None, typer.Option("--request", help="The request the 0x signature is over.")
    ] = None,
) -> None:
    """Relay a signature the customer made on its own device (its wallet, a page, or
    `journey customer sign`); the relaying account pays the gas."""
    s = session(ctx)
    if signed.startswith("0x"):
        if request_file is None:
            raise ConfigError("a bare signature needs the request it signs: --request FILE")
        try:
            data = json.loads(request_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read the request {request_file}: {exc}") from None
        request, signature = CustomerRequest.from_dict(data, str(request_file)), signed
    else:
        try:
            text = Path(signed).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read {signed}: {exc.strerror}") from None
        request, signature = read_signed(text, signed)
    client = s.client()
    if request.journey != "0x" + client.journey_id(journey).hex():
        raise ConfigError(f"{signed} is a request about another journey, not {journey}")
    with Vault() as vault:
        receipt = client.submit_customer_signature(request, signature, vault=vault)
    s.emit(
        {"journey": journey, "action": request.action, "signer": request.signer} | receipt.as_dict(),
        f"journey {journey}: the customer's {request.action} relayed {_receipt_note(receipt)}",
    )


@app.command("resolve", rich_help_panel="The customer and disputes")
def resolve_cmd(
    ctx: typer.Context,
    journey: Annotated[str, typer.Argument(help="The journey.")],
    upheld: Annotated[bool, typer.Option("--upheld/--rejected", help="Whether the customer was right.")],
) -> None:
    """Resolve a journey's open dispute (as an ARBITER that owned no step of it and does not fund
    it), within the playbook's dispute window."""
    s = session(ctx)
    receipt = s.client().resolve_dispute(journey, upheld)
    verdict = "upheld" if upheld else "rejected"
    s.emit(
        {"journey": journey, "upheld": upheld} | receipt.as_dict(),
        f"journey {journey}: dispute {verdict} {_receipt_note(receipt)}",
    )


@app.command("close-dispute", rich_help_panel="The customer and disputes")
def close_dispute_cmd(
    ctx: typer.Context, journey: Annotated[str, typer.Argument(help="The journey.")]
) -> None:
    """Close a dispute left past the arbiter's window, by the playbook's fallback (anyone may)."""
    s = session(ctx)
    receipt = s.client().close_dispute(journey)
    outcome = "pool refunded" if "JourneyClosed" in receipt.events else "dispute rejected"
    s.emit(
        {"journey": journey, "outcome": outcome} | receipt.as_dict(),
        f"journey {journey}: dispute closed by the playbook's fallback, {outcome} {_receipt_note(receipt)}",
    )


@app.command("expire", rich_help_panel="Journeys")
def expire_cmd(ctx: typer.Context, journey: Annotated[str, typer.Argument(help="The journey.")]) -> None:
    """Expire a journey whose customer deadline passed unconfirmed: the pool returns to the funder."""
    s = session(ctx)
    receipt = s.client().expire(journey)
    s.emit({"journey": journey} | receipt.as_dict(), f"journey {journey} expired {_receipt_note(receipt)}")


@app.command("cancel", rich_help_panel="Journeys")
def cancel_cmd(ctx: typer.Context, journey: Annotated[str, typer.Argument(help="The journey.")]) -> None:
    """Cancel a journey before it is booked (as ADMIN): the pool returns to the funder."""
    s = session(ctx)
    receipt = s.client().cancel(journey)
    s.emit({"journey": journey} | receipt.as_dict(), f"journey {journey} cancelled {_receipt_note(receipt)}")


@app.command("mint", rich_help_panel="Set up", context_settings={"ignore_unknown_options": True})
def mint_cmd(
    ctx: typer.Context,
    to: Annotated[str, typer.Argument(help="Address, alias or dev:N.")],
    amount: Annotated[str, typer.Argument(help="Tokens, e.g. 10000.")],
) -> None:
    """Mint incentive tokens to a funder (as the token's minter, the deployer)."""
    s = session(ctx)
    target, value = s.address(to), _amount(amount)
    receipt = s.client().mint(target, value)
    s.emit(
        {"to": target, "amount": value} | receipt.as_dict(),
        f"minted {tokens(value)} to {target} {_receipt_note(receipt)}",
    )


@app.command("claim", rich_help_panel="Payouts")
def claim_cmd(ctx: typer.Context) -> None:
    """Claim all of --account's credit, from any number of journeys, in one transfer."""
    s = session(ctx)
    client = s.client()
    amount, receipt = client.claim()
    s.emit(
        {"account": client.address, "amount": amount} | receipt.as_dict(),
        f"{client.address} claimed {tokens(amount)} {_receipt_note(receipt)}",
    )


@app.command("list", rich_help_panel="Journeys")
def list_cmd(
    ctx: typer.Context,
    playbook: Annotated[
        int | None, typer.Option(help="Only this playbook's.", min=1, max=PLAYBOOK_MAX)
    ] = None,
) -> None:
    """List the journeys of this deployment with where each stands."""
    s = session(ctx)
    c = s.reader
    rows = []
    for entry in c.journeys(playbook):
        state = c.journey(entry.journey_id)
        rows.append(state.as_dict() | {"opened_block": entry.block})
    table = Table(
        "journey", "pb", "step", "status", "assignee", "deadline", "pool", "breached", box=box.SIMPLE_HEAD
    )
    table.columns[0].no_wrap = table.columns[2].no_wrap = table.columns[3].no_wrap = True
    for r in rows:
        table.add_row(
            r["reference"] or r["journey_id"][:10] + "…",
            str(r["playbook_id"]),
            f"{r['step']} {r['step_name'] or '(done)'}",
            r["status"],
            _short(r["assignee"]),
            when(r["deadline"])[:16] if r["deadline"] else "-",
            tokens(r["pool"]),
            ", ".join(map(str, r["breached_steps"])) or "-",
        )
    s.emit(rows, table if rows else "no journeys yet")


def main() -> None:
    """The `journey` command."""
    app()


# The operations commands (demo, keeper, status, prove, forget) live in commands_ops; it
# imports this module's `session` lazily, so importing it last is safe.
import journeychain.commands_ops as commands_ops  # noqa: E402

commands_ops.register(app)
