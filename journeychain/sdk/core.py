"""The client's core: what every part of JourneyClient shares.

One core per account: the chain, the deployment, the contracts, the sender, the revert
decoder and the caches (journey references, published playbooks, role names). Every part
(`client.participants`, `client.journeys`, ...) holds the core and finds its siblings on it,
the way `w3.eth` and `w3.net` share one `Web3`.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import filter_abi_by_type, keccak, to_checksum_address
from web3.exceptions import ContractCustomError, ContractLogicError, Web3RPCError

from journeychain.artifacts import Build, load_build
from journeychain.calendar import Calendar
from journeychain.chain import Chain
from journeychain.deployments import Deployment
from journeychain.encoding import journey_id
from journeychain.errors import AccountError
from journeychain.journal import Intent
from journeychain.playbook import Playbook
from journeychain.reverts import Context, Decoder
from journeychain.sdk.types import SIGNATURE_LIFETIME, PublishedPlaybook, _canonical
from journeychain.sender import Sender
from journeychain.timeline import block_ranges
from journeychain.tx import Receipt

if TYPE_CHECKING:
    from journeychain.sdk.attestations import Attestations
    from journeychain.sdk.incentives import Incentives
    from journeychain.sdk.journeys import Journeys
    from journeychain.sdk.participants import Participants
    from journeychain.sdk.playbooks import Playbooks
    from journeychain.sdk.voice import Voice


class Core:
    """The shared state of one client acting as `account` (reads need no account), and the
    plumbing every part sends and reads through."""

    # the parts, attached by JourneyClient (each holds this core)
    participants: Participants
    playbooks: Playbooks
    journeys: Journeys
    attestations: Attestations
    incentives: Incentives
    customer: Voice

    def __init__(
        self,
        chain: Chain,
        deployment: Deployment,
        account: LocalAccount | None = None,
        *,
        labels: dict[str, str] | None = None,
        build: Build | None = None,
    ):
        self.chain = chain
        self.deployment = deployment
        self.account = account
        self.build = build or load_build()
        w3 = chain.w3
        self._engine = w3.eth.contract(address=deployment.engine, abi=self.build["JourneyEngine"].abi)
        self._directory = w3.eth.contract(address=deployment.directory, abi=self.build["Directory"].abi)
        self._voice = w3.eth.contract(address=deployment.voice, abi=self.build["CustomerVoice"].abi)
        self._registry = w3.eth.contract(
            address=deployment.registry, abi=self.build["AttestationRegistry"].abi
        )
        self._publisher = w3.eth.contract(
            address=deployment.publisher, abi=self.build["PlaybookPublisher"].abi
        )
        self._token = w3.eth.contract(address=deployment.token, abi=self.build["JourneyToken"].abi)
        self.decoder = Decoder(self.build.all_abis())
        self.context: Context = _Context(self)
        self._labels: dict[bytes, str] = {}
        for jid, reference in (labels or {}).items():
            self._labels[bytes.fromhex(jid.removeprefix("0x"))] = reference
        self._playbooks: dict[int, PublishedPlaybook] = {}
        self._calendar_contract: Any = None
        self._calendar_cache: dict[int, Calendar] = {}
        self._role_names: dict[bytes, str] = {}
        self._events = self._event_table()

    @property
    def address(self) -> str:
        return self._signer().address

    def with_account(self, account: LocalAccount) -> Core:
        """The same core acting as another account (shares caches and labels); its parts are
        attached afresh by JourneyClient."""
        other = copy.copy(self)
        other.account = account
        other.context = _Context(other)
        return other

    def _signer(self) -> LocalAccount:
        if self.account is None:
            raise AccountError("this action needs an account: pass --account NAME or set JOURNEY_ACCOUNT")
        return self.account

    def _sender(self) -> Sender:
        return Sender(self.chain, self._signer(), self.decoder, self.context)

    def _send(self, call: Any, intent: Intent | None = None) -> Receipt:
        receipt = self._sender().send(call, intent=intent)
        receipt.events = self._decode_events(receipt.raw)
        return receipt

    def _call(self, call: Any) -> Any:
        try:
            return call.call()
        except (ContractCustomError, ContractLogicError, Web3RPCError) as exc:
            refusal = Sender(
                self.chain, self.account or Account.create(), self.decoder, self.context
            ).refusal(exc)
            if refusal is not None:
                raise refusal from None
            raise

    def _event_table(self) -> dict[tuple[str, bytes], Any]:
        table: dict[tuple[str, bytes], Any] = {}
        contracts = (self._engine, self._directory, self._voice, self._registry, self._publisher, self._token)
        for contract in contracts:
            for entry in filter_abi_by_type("event", contract.abi):
                types = ",".join(_canonical(i) for i in entry["inputs"])
                table[(contract.address, keccak(text=f"{entry['name']}({types})"))] = (
                    contract,
                    entry["name"],
                )
        return table

    def _decode_events(self, receipt: Any) -> dict[str, list[dict[str, Any]]]:
        events: dict[str, list[dict[str, Any]]] = {}
        for log in receipt["logs"]:
            if not log["topics"]:
                continue
            found = self._events.get((to_checksum_address(log["address"]), bytes(log["topics"][0])))
            if found is None:
                continue
            contract, name = found
            decoded = contract.events[name]().process_log(log)
            events.setdefault(name, []).append(dict(decoded["args"]))
        return events

    def _logs(self, event: Any, filters: dict[str, Any] | None) -> list[Any]:
        """An event's logs since the deployment, fetched a block range at a time."""
        logs: list[Any] = []
        for start, end in block_ranges(self.deployment.block, self.chain.w3.eth.block_number):
            logs += event.get_logs(from_block=start, to_block=end, argument_filters=filters)
        return logs

    def journey_id(self, journey: str | bytes) -> bytes:
        """A journey's id from its reference or its 0x id; remembers the reference for messages."""
        if isinstance(journey, (bytes, bytearray)):
            return bytes(journey)
        jid = journey_id(journey)
        if not (journey.startswith("0x") and len(journey) == 66):
            self._labels.setdefault(jid, journey)
        return jid

    def label(self, journey: bytes) -> str:
        reference = self._labels.get(bytes(journey))
        return reference if reference else "0x" + bytes(journey).hex()[:12] + "…"

    def reference(self, journey: bytes) -> str | None:
        return self._labels.get(bytes(journey))

    def _deadline(self) -> int:
        return self.chain.now() + SIGNATURE_LIFETIME


class FromCore:
    """An attribute of a client or a part read from the shared core, as it is when read (a
    contract is bound at first use): `part._engine` is `part._core._engine`."""

    def __init__(self, name: str, doc: str | None = None):
        self.name = name
        self.__doc__ = doc

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        return self if obj is None else getattr(obj._core, self.name)


class Part:
    """One concern of the client (one contract's, mostly) over the shared core: the chain, the
    contracts and the sender as the core holds them; a sibling part as `self._core.journeys`."""

    def __init__(self, core: Core):
        self._core = core

    @property
    def chain(self) -> Chain:
        return self._core.chain

    @property
    def address(self) -> str:
        return self._core.address

    _engine = FromCore("_engine")
    _directory = FromCore("_directory")
    _voice = FromCore("_voice")
    _registry = FromCore("_registry")

    @property
    def _calendars(self) -> Any:
        """The engine's calendars (its address read once, on first use)."""
        core = self._core
        if core._calendar_contract is None:
            address = core._engine.functions.calendars().call()
            core._calendar_contract = core.chain.w3.eth.contract(
                address=address, abi=core.build["Calendars"].abi
            )
        return core._calendar_contract

    _publisher = FromCore("_publisher")
    _token = FromCore("_token")

    @property
    def _playbooks(self) -> dict[int, PublishedPlaybook]:
        return self._core._playbooks

    def _signer(self) -> LocalAccount:
        return self._core._signer()

    def _sender(self) -> Sender:
        return self._core._sender()

    def _send(self, call: Any, intent: Intent | None = None) -> Receipt:
        return self._core._send(call, intent)

    def _call(self, call: Any) -> Any:
        return self._core._call(call)

    def _logs(self, event: Any, filters: dict[str, Any] | None) -> list[Any]:
        return self._core._logs(event, filters)

    def _deadline(self) -> int:
        return self._core._deadline()

    def journey_id(self, journey: str | bytes) -> bytes:
        return self._core.journey_id(journey)

    def reference(self, journey: bytes) -> str | None:
        return self._core.reference(journey)


class _Context(Context):
    """What the core knows to name journeys, steps, organisations and roles in a refusal."""

    def __init__(self, core: Core):
        self.core = core

    def journey(self, journey_id: bytes) -> str:
        return self.core.label(journey_id)

    def _playbook(self, journey_id: bytes) -> Playbook | None:
        try:
            pid = self.core._engine.functions.journey(journey_id).call()[0]
            return self.core.playbooks.playbook(pid).playbook
        except Exception:  # no such journey or playbook: describe the step by number
            return None

    def step(self, journey_id: bytes, step: int) -> str:
        playbook = self._playbook(journey_id)
        if playbook and step < len(playbook.steps):
            return f"step {step} ({playbook.steps[step].name})"
        return f"step {step}"

    def is_commit_step(self, journey_id: bytes, step: int) -> bool:
        playbook = self._playbook(journey_id)
        return playbook is not None and playbook.commit_step == step

    def organisation(self, org: int) -> str:
        try:
            return f"organisation {self.core.participants.organisation(org)['name']}"
        except Exception:  # unreachable node or no such organisation: the number will do
            return f"organisation {org}"

    def role(self, role: bytes) -> str:
        return self.core.participants.role_names().get(bytes(role)) or super().role(role)
