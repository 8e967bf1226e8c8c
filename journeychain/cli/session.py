"""What every command of `journey` shares: the session (global options, the connection, output),
the local journey records and the argument helpers. Every command group imports this module;
it imports none of them."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import typer
from eth_account.signers.local import LocalAccount
from rich.console import Console, RenderableType

from journeychain.accounts import load_account, resolve_address
from journeychain.amounts import tokens
from journeychain.chain import Chain, connect, write_private
from journeychain.client import Customer, JourneyClient
from journeychain.deployments import Deployment, DeploymentKey, load_deployment
from journeychain.encoding import journey_id
from journeychain.errors import AccountError, ConfigError
from journeychain.jsonfile import read_json_object
from journeychain.names import AddressBook, Names, org_key
from journeychain.tx import Receipt

# --- the session: global options and what commands share -----------------------------


@dataclass
class Session:
    """The global options and the connection, built on first use (every command group uses it)."""

    rpc: str | None = None
    account_name: str | None = None
    json: bool = False
    _chain: Chain | None = None
    _deployment: Deployment | None = None
    _client: JourneyClient | None = None
    _accounts: dict[str, LocalAccount] = field(default_factory=dict)
    _names: Names | None = None

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
        """An address from an address, a keystore alias, dev:N or a name in the address book."""
        try:
            return resolve_address(name, self.chain)
        except ConfigError:
            named = self.address_book.names().address_of(name)
            if named is None:
                raise
            return named

    @property
    def book(self) -> JourneyBook:
        return JourneyBook(self.deployment.key)

    @property
    def address_book(self) -> AddressBook:
        """The names given to this chain's addresses ($JOURNEY_HOME/names.json)."""
        return AddressBook(self.chain.chain_id)

    @property
    def names(self) -> Names:
        """Who is who, for tables and timelines: the address book's names, and the short names of
        the deployment's organisations (under "org:N")."""
        if self._names is None:
            names = self.address_book.names()
            for org in self.reader.organisations():
                names[org_key(org["org"])] = org["name"]
            self._names = names
        return self._names

    # --- output
    def emit(self, data: Any, human: RenderableType | None = None) -> None:
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

    Kept in $JOURNEY_HOME/journeys.json under the deployment they were opened on (its key:
    "31337:0xENGINE@0xBLOCKHASH"), so that later commands accept the reference and customer
    commands find the profile hash. A recreated local chain starts clean, and the records of the
    chain before it stay in the file under their own key. Records kept under the chain id alone
    (before deployments were told apart) stay where they are and are read where the deployment
    has no record of its own. No personal data: the profile is a salted hash.
    """

    def __init__(self, deployment: DeploymentKey | int):
        from journeychain.chain import journey_home

        self.path = journey_home() / "journeys.json"
        self.key = str(deployment)
        #: where records kept per chain id alone are (read only)
        self.legacy = str(deployment.chain_id) if isinstance(deployment, DeploymentKey) else None

    def _all(self) -> dict[str, Any]:
        """Every chain's records; a file that is not a journeys file is refused, and left as it is."""
        return read_json_object(
            self.path,
            "the journeys' records",
            "a journeys file",
            lambda data: all(
                isinstance(records, dict) and all(isinstance(r, dict) for r in records.values())
                for records in data.values()
            ),
            "records by deployment and journey",
        )

    def records(self) -> dict[str, dict[str, str]]:
        """This deployment's records by journey id, over those kept per chain id alone."""
        data = self._all()
        records = dict(data.get(self.legacy, {})) if self.legacy else {}
        return records | data.get(self.key, {})

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
        raise ConfigError(f"{text!r} JIT is more than {what} ({tokens(limit)})")
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


def _short(address: str | None) -> str:
    return f"{address[:6]}…{address[-4:]}" if address else "-"


def _duration(seconds: int) -> str:
    if not seconds:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
