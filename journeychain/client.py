"""JourneyClient: every operation of the contracts as one typed method, signed locally.

    chain = connect()                                  # or connect("https://...")
    client = JourneyClient(chain, load_deployment(chain), load_account("dev:1", chain))
    opened = client.open_journey("OPP-1", customer=customer.address, profile=profile)
    client.complete_step("OPP-1", {"customer_goals": "..."}, assign=sales_rep)

Journeys are named by their reference (a CRM id, say: the journey id is derived from
it) or by their 0x id. A refusal raises its rule's exception (journeychain.errors) with
one plain sentence, before anything is sent. Every transaction returns a Receipt with
the gas it used and its decoded events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import ABIComponent
from eth_utils import filter_abi_by_type, keccak, to_checksum_address
from web3.exceptions import ContractCustomError, ContractLogicError, Web3RPCError

from journeychain.accounts import checksum
from journeychain.artifacts import Build, load_build
from journeychain.chain import Chain
from journeychain.customer import ACTIONS, CustomerRequest, build_typed_data, recover_signer
from journeychain.deployments import Deployment
from journeychain.encoding import (
    ZERO32,
    commit,
    customer_commitment,
    customer_subject,
    evidence_hash,
    field_pairs,
    from_short_name,
    genesis_head,
    journey_id,
    new_salt,
    next_head,
    short_name,
    step_subject,
)
from journeychain.errors import (
    AccountError,
    ConfigError,
    FundingError,
    PlaybookError,
    RuleError,
    SignatureError,
)
from journeychain.playbook import (
    CUSTOMER,
    DEFAULT_ROLES,
    DISPUTE_FALLBACKS,
    PENALTY_TO,
    SUBJECTS,
    Playbook,
    Schema,
    Step,
    check_evidence,
    check_evidence_keys,
    role_id,
    schema_name,
    with_optional_fields,
)
from journeychain.reverts import ATTESTATION_STATES, STATUSES, Context, Decoder, tokens
from journeychain.signing import customer_signature, permit_signature, sign_typed
from journeychain.timeline import block_ranges
from journeychain.tx import Receipt, Sender

ZERO = "0x" + "00" * 20
PARTICIPANT_ROLES = (*DEFAULT_ROLES, "ADMIN")
SIGNATURE_LIFETIME = 3600
VALUE_DELIVERED = "value_delivered"
ORG_KINDS = ("unit", "vendor")

__all__ = ["JourneyClient", "role_id"]


def _b32(value: Any) -> bytes:
    """32 bytes from bytes or 0x hex (as typed data carries them)."""
    return (
        bytes(value)
        if isinstance(value, (bytes, bytearray))
        else bytes.fromhex(str(value).removeprefix("0x"))
    )


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def _address_or_none(value: str) -> str | None:
    return None if int(value, 16) == 0 else to_checksum_address(value)


# --- what the client returns ------------------------------------------------------


@dataclass
class PublishedPlaybook:
    """A playbook as published on chain, with its number."""

    playbook_id: int
    playbook: Playbook
    block: int

    def as_dict(self) -> dict[str, Any]:
        p = self.playbook
        return {
            "playbook_id": self.playbook_id,
            "name": p.name,
            "version": p.version,
            "commit_step": p.commit_step,
            "fund_before_commit": p.fund_before_commit,
            "penalty_to": p.penalty_to,
            "confirm_window": p.confirm_window,
            "verifier_may_confirm": p.verifier_may_confirm,
            "dispute_window": p.dispute_window,
            "dispute_fallback": p.dispute_fallback,
            "steps": [
                {
                    "index": i,
                    "name": s.name,
                    "role": s.role,
                    "sla": s.sla,
                    "share_bps": s.share_bps,
                    "penalty_bps": s.penalty_bps,
                    "fields": list(s.fields),
                    "optional_fields": list(s.optional_fields),
                    "attestations": list(s.attestations),
                }
                for i, s in enumerate(p.steps)
            ],
        }


@dataclass
class JourneyState:
    """Where a journey stands."""

    journey_id: str
    reference: str | None
    playbook_id: int
    step: int
    step_name: str | None
    status: str
    assignee: str | None
    org: int | None
    deadline: int
    breached_steps: list[int]
    flagged: bool
    pool: int
    funder: str | None
    customer: str
    head: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class OpenedJourney:
    journey_id: str
    reference: str
    playbook_id: int
    customer: str
    signer: str
    profile: str
    deadline: int
    receipt: Receipt

    def as_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if k != "receipt"}
        return data | self.receipt.as_dict()


class EvidenceStore(Protocol):
    """Where the values and salts behind a step's commitments are kept (the vault)."""

    def prepare_step(self, chain_id: int, journey: bytes, step: int, fields: dict[str, str]) -> Any: ...

    def confirm(self, evidence: Any, tx_hash: bytes | str, block: int | None = None) -> None: ...

    def discard(self, evidence: Any) -> None: ...


class StatementStore(Protocol):
    """Where the texts and salts behind the customer's statement commitments are kept (the vault)."""

    def prepare_statement(self, chain_id: int, journey: bytes, step: int, kind: str, text: str) -> Any: ...

    def confirm_statement(self, statement: Any, tx_hash: bytes | str, block: int | None = None) -> None: ...

    def discard_statement(self, statement: Any) -> None: ...


@dataclass
class FieldEvidence:
    """One field of a step: its value and salt (kept off chain) and its commitment (on chain)."""

    name: str
    value: str
    salt: str
    commitment: str


@dataclass
class StepResult:
    """A completed step, with the evidence the chain does not hold (values and salts)."""

    journey_id: str
    reference: str | None
    step: int
    step_name: str | None
    by: str
    late: bool
    evidence_hash: str
    fields: list[FieldEvidence]
    next_assignee: str | None
    next_org: int | None
    next_deadline: int
    receipt: Receipt

    def as_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if k != "receipt"}
        return data | self.receipt.as_dict()


@dataclass
class StatementResult:
    """The customer's dispute reason or rating comment as sent: its commitment (on chain) and,
    when it was given as text, the text and salt that open it (kept off chain)."""

    journey_id: str
    reference: str | None
    step: int
    kind: str
    text: str | None
    salt: str | None
    commitment: str
    receipt: Receipt

    def as_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if k != "receipt"}
        return data | self.receipt.as_dict()


@dataclass(frozen=True)
class StepRecord:
    """What a completed step left in the journey's rolling hash."""

    by: str
    late: bool
    evidence: bytes

    def as_tuple(self) -> tuple:
        return (self.by, self.late, self.evidence)


@dataclass
class Customer:
    """A customer's signing key and the profile hash its commitment binds."""

    key: LocalAccount
    profile: bytes

    @property
    def address(self) -> str:
        return self.key.address

    @property
    def commitment(self) -> bytes:
        """The journey's customer on chain (16 bytes)."""
        return customer_commitment(self.key.address, self.profile)

    @property
    def subject(self) -> bytes:
        """The customer as the subject of attestations (its commitment, zero-padded to 32 bytes)."""
        return customer_subject(self.commitment)


@dataclass
class Rating:
    count: int
    total: int

    @property
    def average(self) -> float | None:
        return self.total / self.count if self.count else None


@dataclass
class JourneyEntry:
    """A journey found in the JourneyOpened events."""

    journey_id: str
    playbook_id: int
    opener: str
    block: int
    reference: str | None = None


# --- the client ---------------------------------------------------------------------


class _Context(Context):
    def __init__(self, client: JourneyClient):
        self.client = client

    def journey(self, journey_id: bytes) -> str:
        return self.client.label(journey_id)

    def _playbook(self, journey_id: bytes) -> Playbook | None:
        try:
            pid = self.client._engine.functions.journey(journey_id).call()[0]
            return self.client.playbook(pid).playbook
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
            return f"organisation {self.client.organisation(org)['name']}"
        except Exception:  # unreachable node or no such organisation: the number will do
            return f"organisation {org}"

    def role(self, role: bytes) -> str:
        return self.client.role_names().get(bytes(role)) or super().role(role)


class JourneyClient:
    """Drives the deployed contracts as `account`; reads need no account."""

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
        self.context = _Context(self)
        self._labels: dict[bytes, str] = {}
        for jid, reference in (labels or {}).items():
            self._labels[bytes.fromhex(jid.removeprefix("0x"))] = reference
        self._playbooks: dict[int, PublishedPlaybook] = {}
        self._role_names: dict[bytes, str] = {}
        self._events = self._event_table()

    # --- plumbing -----------------------------------------------------------------
    @property
    def address(self) -> str:
        return self._signer().address

    @property
    def engine(self):
        """The engine as a web3 contract (for reads the client does not wrap)."""
        return self._engine

    @property
    def directory(self):
        """The directory (organisations, participants, roles, the rulebook) as a web3 contract."""
        return self._directory

    @property
    def voice(self):
        return self._voice

    @property
    def registry(self):
        return self._registry

    @property
    def token(self):
        return self._token

    def with_account(self, account: LocalAccount) -> JourneyClient:
        """The same client acting as another account (shares caches and labels)."""
        other = JourneyClient.__new__(JourneyClient)
        other.__dict__.update(self.__dict__)
        other.account = account
        other.context = _Context(other)
        return other

    def _signer(self) -> LocalAccount:
        if self.account is None:
            raise AccountError("this action needs an account: pass --account NAME or set JOURNEY_ACCOUNT")
        return self.account

    def _sender(self) -> Sender:
        return Sender(self.chain, self._signer(), self.decoder, self.context)

    def _send(self, call: Any) -> Receipt:
        receipt = self._sender().send(call)
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

    # --- organisations, participants, roles and the rulebook -----------------------------
    def register_organisation(self, name: str, vendor: bool = False) -> tuple[int, Receipt]:
        """Registers an organisation (ADMIN): a company unit, or an outside vendor firm; returns its
        number."""
        receipt = self._send(
            self._directory.functions.registerOrganisation(short_name(name), 1 if vendor else 0)
        )
        return int(receipt.events["OrganisationRegistered"][0]["org"]), receipt

    def organisations(self) -> list[dict[str, Any]]:
        """Every organisation, by number: its name and kind."""
        count = int(self._directory.functions.organisationCount().call())
        out = []
        for org in range(1, count + 1):
            name, kind = self._directory.functions.organisation(org).call()
            out.append({"org": org, "name": from_short_name(name), "kind": ORG_KINDS[kind]})
        return out

    def organisation(self, org: int) -> dict[str, Any]:
        name, kind = self._directory.functions.organisation(int(org)).call()
        if int.from_bytes(bytes(name), "big") == 0:
            raise ConfigError(f"there is no organisation {org} (see `journey org list`)")
        return {"org": int(org), "name": from_short_name(name), "kind": ORG_KINDS[kind]}

    def organisation_id(self, org: int | str) -> int:
        """An organisation's number from its number or its name."""
        if isinstance(org, int) or (isinstance(org, str) and org.isdigit()):
            return self.organisation(int(org))["org"]
        for entry in self.organisations():
            if entry["name"] == org:
                return int(entry["org"])
        raise ConfigError(f"there is no organisation named {org!r} (see `journey org list`)")

    def add_member(self, org: int | str, account: str) -> Receipt:
        """Makes `account` a participant of organisation `org` (ADMIN), for good."""
        return self._send(self._directory.functions.addMember(self.organisation_id(org), checksum(account)))

    def define_role(self, name: str) -> Receipt:
        """Defines a role a playbook may name (ADMIN); its id is keccak256 of the name."""
        receipt = self._send(self._directory.functions.defineRole(short_name(name.upper())))
        self._role_names.clear()
        return receipt

    def role_names(self) -> dict[bytes, str]:
        """Every defined role's id and name (from RoleDefined events)."""
        if not self._role_names:
            logs = self._logs(self._directory.events.RoleDefined, None)
            self._role_names = {bytes(e["args"]["role"]): from_short_name(e["args"]["name"]) for e in logs}
            self._role_names[role_id(CUSTOMER)] = CUSTOMER
        return self._role_names

    def _role_name(self, role: bytes) -> str:
        return self.role_names().get(role) or "0x" + role.hex()

    def grant_role(self, account: str, role: str, org: int | str | None = None) -> Receipt:
        """Grants `role` to `account` (ADMIN), first making it a participant of `org` when given.
        It must then accept the rulebook."""
        rid = role_id(role)
        if not self._directory.functions.isRole(rid).call():
            names = [n for n in self.role_names().values() if n not in (CUSTOMER, "ADMIN")] + ["ADMIN"]
            raise ConfigError(
                f"unknown role {role.upper()!r} (one of {', '.join(names)}; "
                f"`journey role define {role.upper()}` adds one)"
            )
        if org is not None:
            org_id = self.organisation_id(org)
            _, _, current = self.participant_record(account)
            if current != org_id:
                self.add_member(org_id, account)
        return self._send(self._directory.functions.grantRole(rid, checksum(account)))

    add_participant = grant_role

    def has_role(self, account: str, role: str) -> bool:
        return bool(self._directory.functions.hasRole(role_id(role), checksum(account)).call())

    def roles_of(self, account: str) -> list[str]:
        names = [n for n in self.role_names().values() if n != CUSTOMER]
        return [r for r in names if self.has_role(account, r)]

    def rulebook(self) -> tuple[int, str]:
        """The rulebook in force: (version, hash)."""
        version, digest = self._directory.functions.rulebook().call()
        return int(version), _hex(digest)

    def participant_record(self, account: str) -> tuple[int, int, int]:
        """(number, rulebook version accepted, organisation) of `account` (zeros: none)."""
        pid, accepted, org = self._directory.functions.participant(checksum(account)).call()
        return int(pid), int(accepted), int(org)

    def participant(self, account: str) -> dict[str, Any]:
        pid, accepted, org = self.participant_record(account)
        return {
            "address": checksum(account),
            "id": pid,
            "accepted": accepted,
            "org": org or None,
            "roles": self.roles_of(account),
        }

    def accept_rulebook(self) -> Receipt:
        """Accepts the rulebook in force, as the client's account."""
        return self._send(self._directory.functions.acceptRulebook())

    def accept_rulebook_by_signature(self, participant: LocalAccount, deadline: int | None = None) -> Receipt:
        """`participant` signs its acceptance (EIP-712); the client's account relays it."""
        version, digest = self.rulebook()
        deadline = deadline or self._deadline()
        message = {
            "account": participant.address,
            "version": version,
            "rulebook": bytes.fromhex(digest[2:]),
            "deadline": deadline,
        }
        signature = sign_typed(
            participant.key, self.chain.chain_id, self._voice.address, "AcceptRulebook", message
        )
        return self._send(
            self._voice.functions.acceptRulebook(participant.address, version, deadline, signature)
        )

    # --- playbooks -----------------------------------------------------------------
    def publish_playbook(self, playbook: Playbook) -> tuple[int, Receipt]:
        """Publishes a playbook (ADMIN), defining first the roles it declares that are not
        defined yet; returns its number and the receipt."""
        for name in playbook.roles:
            if not self._directory.functions.isRole(role_id(name)).call():
                self.define_role(name)
        for schema in playbook.schemas:
            self._ensure_schema(schema)
        receipt = self._send(self._publisher.functions.publishPlaybook(*playbook.publish_args()))
        playbook_id = int(receipt.events["PlaybookPublished"][0]["playbookId"])
        self._playbooks[playbook_id] = PublishedPlaybook(playbook_id, playbook, receipt.block)
        return playbook_id, receipt

    def playbook_count(self) -> int:
        return int(self._engine.functions.playbookCount().call())

    def playbook(self, playbook_id: int) -> PublishedPlaybook:
        """A published playbook, rebuilt from its PlaybookPublished event."""
        if playbook_id in self._playbooks:
            return self._playbooks[playbook_id]
        self._call(self._engine.functions.playbook(playbook_id))  # UnknownPlaybook if it is not there
        logs = self._logs(self._publisher.events.PlaybookPublished, {"playbookId": playbook_id})
        if not logs:
            raise ConfigError(f"playbook {playbook_id} exists but its PlaybookPublished event was not found")
        log = logs[0]
        args = log["args"]
        steps = tuple(
            Step(
                name=from_short_name(_field(s, "name", 0)),
                role=self.role_names().get(
                    bytes(_field(s, "role", 1)), "0x" + bytes(_field(s, "role", 1)).hex()
                ),
                sla=int(_field(s, "sla", 2)),
                share_bps=int(_field(s, "shareBps", 3)),
                penalty_bps=int(_field(s, "penaltyBps", 4)),
                fields=tuple(from_short_name(f) for f in _field(s, "fields", 5)),
                attestations=tuple(from_short_name(a) for a in _field(s, "attestations", 6)),
            )
            for s in args["steps"]
        )
        opts = args["options"]
        playbook = Playbook(
            name=from_short_name(args["name"]),
            version=int(args["version"]),
            steps=steps,
            commit_step=int(_field(opts, "commitStep", 0)),
            fund_before_commit=bool(_field(opts, "fundBeforeCommit", 1)),
            penalty_to=PENALTY_TO[_field(opts, "penaltyTo", 2)],
            confirm_window=int(_field(opts, "confirmWindow", 3)),
            verifier_may_confirm=bool(_field(opts, "verifierMayConfirm", 4)),
            dispute_window=int(_field(opts, "disputeWindow", 5)),
            dispute_fallback=DISPUTE_FALLBACKS[int(bool(_field(opts, "refundOnTimeout", 6)))],
            roles=tuple(
                r
                for r in (self.role_names().get(bytes(_field(s, "role", 1))) for s in args["steps"])
                if r and r not in DEFAULT_ROLES and r != CUSTOMER
            ),
            schemas=tuple(
                self.schema(name) for name in dict.fromkeys(a for st in steps for a in st.attestations)
            ),
            source=f"playbook {playbook_id}",
        )
        playbook = with_optional_fields(playbook)  # off chain: from the playbook's own YAML file
        published = PublishedPlaybook(playbook_id, playbook, int(log["blockNumber"]))
        self._playbooks[playbook_id] = published
        return published

    def step_index(self, journey: str | bytes, step: int | str) -> int:
        """A step number from a number or a step name of the journey's playbook."""
        playbook = self.playbook(self.journey(journey).playbook_id).playbook
        if isinstance(step, int) or (isinstance(step, str) and step.isdigit()):
            if not 0 <= int(step) < len(playbook.steps):
                raise ConfigError(
                    f"playbook {playbook.name!r} has no step {step}: its steps run from 0 to "
                    f"{len(playbook.steps) - 1}"
                )
            return int(step)
        return playbook.step_index(step)

    # --- journeys --------------------------------------------------------------------
    def open_journey(
        self,
        reference: str,
        customer: str,
        profile: bytes,
        playbook_id: int = 1,
        assignee: str | None = None,
        *,
        funder: str,
    ) -> OpenedJourney:
        """Opens a journey for the customer whose signing address is `customer` and profile hash
        `profile`, funded by `funder` alone. The first step is owned by the opener's
        organisation, or by `assignee`."""
        jid = self.journey_id(reference)
        signer = checksum(customer)
        profile = bytes(profile)
        if len(profile) != 32:
            raise ConfigError("a profile hash is 32 bytes (64 hex digits)")
        commitment = customer_commitment(signer, profile)
        receipt = self._send(
            self._engine.functions.openJourney(
                jid, playbook_id, commitment, checksum(assignee) if assignee else ZERO, checksum(funder)
            )
        )
        event = receipt.events["JourneyOpened"][0]
        return OpenedJourney(
            _hex(jid),
            reference,
            playbook_id,
            _hex(commitment),
            signer,
            _hex(profile),
            int(event["deadline"]),
            receipt,
        )

    def complete_step(
        self,
        journey: str | bytes,
        fields: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        assign: str | None = None,
        vault: EvidenceStore | None = None,
        org: int | str | None = None,
        attesters: Sequence[str] | None = None,
    ) -> StepResult:
        """Completes the journey's current step with `fields` (name -> value, or (name, value)
        pairs).

        Before anything is sent or stored, a key given twice, an empty required field and a key
        the step neither requires nor declares optional (`optional_fields` in the playbook) are
        refused with an EvidenceError.

        Each value is committed with a fresh salt; the chain sees the commitments only.
        With a `vault`, the values and salts are written to it (pending) before the
        transaction is sent, confirmed once it is mined and discarded if a rule refuses
        it, so that no evidence is lost to a crash in between; they also come back in the
        result. Required fields are sent first, in the playbook's order. `assign` names
        the next step's owner, a participant; `org` the organisation that owns it (by number or
        name). One of them names the owner of every participant step after the first.
        `attesters` names, for each attestation the step requires, the verifier whose
        attestation satisfies it; by default the newest valid one of each is found.
        """
        jid = self.journey_id(journey)
        state = self.journey(jid)
        playbook = self.playbook(state.playbook_id).playbook
        if state.step < len(playbook.steps):
            fields = check_evidence(playbook.steps[state.step], fields or {}, self._step_where(state))
        else:
            fields = dict(fields or {})
        required = playbook.steps[state.step].fields if state.step < len(playbook.steps) else ()
        order = [f for f in required if f in fields] + [f for f in fields if f not in required]
        ordered = {name: str(fields[name]) for name in order}
        pending = None
        if vault is not None:
            pending = vault.prepare_step(self.chain.chain_id, jid, state.step, ordered)
            salts = list(pending.salts)
        else:
            salts = [new_salt() for _ in ordered]
        evidence = [
            FieldEvidence(name, value, _hex(salt), _hex(commit(value, salt)))
            for (name, value), salt in zip(ordered.items(), salts, strict=True)
        ]
        sent = [(short_name(e.name), bytes.fromhex(e.commitment[2:])) for e in evidence]
        org_id = self._next_org(playbook, state.step, org, assign)
        chosen = self._attesters(jid, playbook, state.step, attesters)
        call = self._engine.functions.completeStep(
            jid, sent, chosen, org_id, checksum(assign) if assign else ZERO
        )
        try:
            receipt = self._send(call)
        except RuleError:
            # Refused before anything was mined: the pending evidence has no step to stand for.
            # Any other failure (a dead node after sending) leaves it pending for reconcile.
            if vault is not None and pending is not None:
                vault.discard(pending)
            raise
        if vault is not None and pending is not None:
            vault.confirm(pending, receipt.tx_hash, receipt.block)
        event = receipt.events["StepCompleted"][0]
        step = int(event["step"])
        result = StepResult(
            journey_id=_hex(jid),
            reference=self.reference(jid),
            step=step,
            step_name=playbook.steps[step].name,
            by=event["by"],
            late=bool(event["late"]),
            evidence_hash=_hex(evidence_hash(sent)),
            fields=evidence,
            next_assignee=_address_or_none(event["nextAssignee"]),
            next_org=int(event["nextOrg"]) or None,
            next_deadline=int(event["nextDeadline"]),
            receipt=receipt,
        )
        return result

    def _next_org(self, playbook: Playbook, step: int, org: int | str | None, assign: str | None) -> int:
        """The organisation to name for the step after `step`: `org` when given; else, when no
        assignee is named either and the completer holds the next step's role, its own
        organisation (a rep who accepts a lead keeps the booking); else none (the engine then
        refuses unless the next step is the customer's)."""
        if org is not None:
            return self.organisation_id(org)
        nxt = step + 1
        if assign or nxt >= len(playbook.steps) or playbook.steps[nxt].role == CUSTOMER:
            return 0
        if not self.has_role(self.address, playbook.steps[nxt].role):
            return 0
        return self.participant_record(self.address)[2]

    def submit_step(
        self,
        journey: str | bytes,
        fields: list[tuple[bytes, bytes]],
        assign: str | None = None,
        org: int | str | None = None,
        attesters: Sequence[str] | None = None,
    ) -> Receipt:
        """Completes the current step with fields made by the caller, as (key, commitment) pairs
        (for an evidence store that salts and keeps the values itself, before sending). A key
        given twice, or one the step neither requires nor declares optional, is refused before
        anything is sent."""
        jid = self.journey_id(journey)
        state = self.journey(jid)
        playbook = self.playbook(state.playbook_id).playbook
        if state.step < len(playbook.steps):
            check_evidence_keys(
                playbook.steps[state.step], [k for k, _ in field_pairs(fields)], self._step_where(state)
            )
        return self._send(
            self._engine.functions.completeStep(
                jid,
                field_pairs(fields),
                self._attesters(jid, playbook, state.step, attesters),
                self.organisation_id(org) if org is not None else 0,
                checksum(assign) if assign else ZERO,
            )
        )

    @staticmethod
    def _step_where(state: JourneyState) -> str:
        """The journey's current step, as refusals name it."""
        return f"step {state.step} ({state.step_name}) of journey {state.reference or state.journey_id}"

    def flag_breach(self, journey: str | bytes) -> Receipt:
        """Flags the current step's passed deadline (anyone may)."""
        return self._send(self._engine.functions.flagBreach(self.journey_id(journey)))

    def escalate(self, journey: str | bytes, to: str) -> Receipt:
        """Reassigns a late step to `to`, with a new deadline from now (ADMIN, or whoever completed
        the step before it: the proof of that is built here from the journey's history)."""
        jid = self.journey_id(journey)
        before, previous = self.escalation_proof(jid)
        return self._send(self._engine.functions.escalate(jid, checksum(to), before, previous))

    def escalation_proof(self, journey: str | bytes) -> tuple[bytes, tuple]:
        """The rolling hash before the last completed step and that step's record: what shows the
        engine who completed it (zeros before the first step)."""
        jid = self.journey_id(journey)
        history = self.history(jid)
        if not history:
            return b"\x00" * 20, (ZERO, False, ZERO32)
        head = genesis_head(jid, self._playbook_id(jid), self.customer_of(jid))
        for i, record in enumerate(history[:-1]):
            head = next_head(head, i, record.by, record.late, record.evidence)
        return head, history[-1].as_tuple()

    def cancel(self, journey: str | bytes) -> Receipt:
        """Cancels a journey before booking (ADMIN); the pool returns to the funder."""
        return self._send(self._engine.functions.cancel(self.journey_id(journey)))

    def expire(self, journey: str | bytes) -> Receipt:
        """Expires a journey past the customer's deadline (anyone may); the pool returns to the funder."""
        return self._send(self._engine.functions.expire(self.journey_id(journey)))

    # --- attestations ----------------------------------------------------------------
    def customer_of(self, journey: str | bytes) -> bytes:
        """The journey's customer commitment (16 bytes)."""
        customer, _head = self._engine.functions.journeyCommitments(self.journey_id(journey)).call()
        return bytes(customer)

    def customer_subject_of(self, journey: str | bytes) -> bytes:
        """The subject of attestations about the journey's customer: its commitment, zero-padded
        to 32 bytes (what a step that requires an attestation checks)."""
        return customer_subject(self.customer_of(journey))

    def register_schema(self, name: str, role: str = "VERIFIER", subject: str = "customer") -> Receipt:
        """Registers an attestation schema (ADMIN): the role its verifiers hold and what its
        attestations are about (customer, journey or step). It never changes afterwards."""
        if subject not in SUBJECTS:
            raise ConfigError(f"a schema's subject is one of {', '.join(SUBJECTS)}, not {subject!r}")
        spec = Schema(name, role.upper(), subject)
        return self._send(self._registry.functions.registerSchema(*spec.as_tuple()))

    def schema(self, name: str) -> Schema:
        """A registered schema; ConfigError when it is not registered."""
        role, subject = self._registry.functions.schemaOf(schema_name(name)).call()
        if bytes(role) == ZERO32:
            raise ConfigError(f"schema {name!r} is not registered (journey schema add {name} --role ROLE)")
        return Schema(name, self._role_name(bytes(role)), SUBJECTS[int(subject)])

    def schemas(self) -> list[Schema]:
        """Every registered schema, in the order registered."""
        return [
            Schema(
                from_short_name(e["args"]["schema"]),
                self._role_name(bytes(e["args"]["role"])),
                SUBJECTS[int(e["args"]["subject"])],
            )
            for e in self._logs(self._registry.events.SchemaRegistered, None)
        ]

    def _ensure_schema(self, schema: Schema) -> None:
        """Registers a playbook's schema unless it is; refuses one registered with another rule."""
        try:
            known = self.schema(schema.name)
        except ConfigError:
            self.register_schema(schema.name, schema.role, schema.subject)
            return
        if (known.role, known.subject) != (schema.role, schema.subject):
            raise PlaybookError(
                f"schema {schema.name!r} is registered for {known.role} verifiers about the "
                f"{known.subject}; the playbook declares {schema.role} about the {schema.subject} "
                "(schemas never change: name a new one)"
            )

    def subject_of(self, journey: str | bytes, schema: str, step: int | str | None = None) -> bytes:
        """What an attestation of `schema` about this journey is about: its customer, the journey,
        or one of its steps (`step`, by default the current one), as the schema says."""
        kind = self.schema(schema).subject
        jid = self.journey_id(journey)
        if kind == "customer":
            return self.customer_subject_of(jid)
        if kind == "journey":
            return jid
        index = self.journey(jid).step if step is None else self.step_index(jid, step)
        return step_subject(jid, index)

    def attest(
        self, schema: str, subject: bytes, expiry: int = 0, data: bytes = ZERO32
    ) -> tuple[str, Receipt]:
        """Attests `schema` about `subject` (a verifier holding the schema's role); returns the uid."""
        receipt = self._send(
            self._registry.functions.attest(schema_name(schema), bytes(subject), expiry, data)
        )
        return _hex(receipt.events["Attested"][0]["uid"]), receipt

    def attest_about(
        self, journey: str | bytes, schema: str, step: int | str | None = None, expiry: int = 0
    ) -> tuple[str, Receipt]:
        """Attests `schema` about this journey's customer, the journey or one of its steps, as the
        schema says."""
        return self.attest(schema, self.subject_of(journey, schema, step), expiry)

    def attest_customer(self, journey: str | bytes, schema: str, expiry: int = 0) -> tuple[str, Receipt]:
        """Attests `schema` about the journey (identity_verified about its customer, say)."""
        return self.attest_about(journey, schema, expiry=expiry)

    def attest_value_delivered(self, journey: str | bytes, expiry: int = 0) -> tuple[str, Receipt]:
        """A verifier's "value delivered" attestation about the journey itself."""
        return self.attest(VALUE_DELIVERED, self.journey_id(journey), expiry)

    def revoke(self, uid: str) -> Receipt:
        """Revokes one of the account's attestations (also after it lost the verifier role)."""
        return self._send(self._registry.functions.revoke(bytes.fromhex(uid.removeprefix("0x"))))

    def attestation_state(self, schema: str, subject: bytes, attester: str) -> tuple[str, str | None]:
        """`attester`'s newest attestation of `schema` about `subject`, as a step sees it: its
        state and uid (None when missing)."""
        state, uid = self._registry.functions.attestationState(
            schema_name(schema), bytes(subject), checksum(attester)
        ).call()
        return ATTESTATION_STATES[state].split(" ")[0], None if bytes(uid) == ZERO32 else _hex(uid)

    def attesters_of(self, schema: str, subject: bytes) -> list[str]:
        """The verifiers who attested `schema` about `subject`, newest first."""
        logs = self._logs(
            self._registry.events.Attested, {"schema": schema_name(schema), "subject": bytes(subject)}
        )
        return list(dict.fromkeys(e["args"]["attester"] for e in reversed(logs)))

    def valid_attester(self, schema: str, subject: bytes) -> str | None:
        """The verifier of the newest valid attestation of `schema` about `subject` (None: none
        is valid); any valid attestation by a verifier holding the schema's role satisfies a step."""
        for attester in self.attesters_of(schema, subject):
            if self.attestation_state(schema, subject, attester)[0] == "valid":
                return attester
        return None

    def _attesters(self, jid: bytes, playbook: Playbook, step: int, given: Sequence[str] | None) -> list[str]:
        """The attester named for each attestation step `step` requires: `given`, or the newest
        valid one of each (else the newest at all, whose state the engine's refusal names)."""
        if given is not None:
            return [checksum(a) for a in given]
        if step >= len(playbook.steps):
            return []
        chosen = []
        for name in playbook.steps[step].attestations:
            subject = self.subject_of(jid, name, step)
            candidates = self.attesters_of(name, subject)
            valid = self.valid_attester(name, subject) if candidates else None
            chosen.append(valid or (candidates[0] if candidates else ZERO))
        return chosen

    # --- incentives ------------------------------------------------------------------
    def mint(self, to: str, amount: int) -> Receipt:
        """Mints incentive tokens (the token's minter: the deployer)."""
        return self._send(self._token.functions.mint(checksum(to), int(amount)))

    def fund(self, journey: str | bytes, amount: int, permit: bool = False) -> Receipt:
        """Adds `amount` tokens to the journey's pool (FUNDER): approve then fund, or one permit call."""
        jid = self.journey_id(journey)
        owner = self._signer()
        amount = int(amount)
        if permit:
            deadline = self._deadline()
            v, r, s = permit_signature(
                owner.key,
                chain_id=self.chain.chain_id,
                token=self._token.address,
                token_name=self._token.functions.name().call(),
                owner=owner.address,
                spender=self._engine.address,
                value=amount,
                nonce=self._token.functions.nonces(owner.address).call(),
                deadline=deadline,
            )
            return self._send(self._engine.functions.fundWithPermit(jid, amount, deadline, v, r, s))
        allowance = self._token.functions.allowance(owner.address, self._engine.address).call()
        if allowance < amount:
            self._check_funding(jid, owner.address, amount)  # a refusal changes nothing on chain
            self._send(self._token.functions.approve(self._engine.address, amount))
        return self._send(self._engine.functions.fund(jid, amount))

    def _check_funding(self, jid: bytes, owner: str, amount: int) -> None:
        """Simulates fund(jid, amount) before the approve it needs is sent. The engine checks
        every rule (open journey, funder, role, rulebook, amount, pool size) before it moves the
        tokens, so a simulation without the allowance that reaches the transfer, and fails for
        the allowance alone, passed them all; the balance is then checked by a view call."""
        try:
            self._sender().simulate(self._engine.functions.fund(jid, amount))
        except FundingError as exc:
            if exc.error != "ERC20InsufficientAllowance":
                raise
        balance = int(self._token.functions.balanceOf(owner).call())
        if balance < amount:
            raise FundingError(
                f"refused: {owner} holds {tokens(balance)} tokens, {tokens(amount)} needed",
                "ERC20InsufficientBalance",
                {"sender": owner, "balance": balance, "needed": amount},
            )

    def claim(self) -> tuple[int, Receipt]:
        """Transfers all of the account's credit; returns the amount."""
        receipt = self._send(self._engine.functions.claim())
        return int(receipt.events["Claimed"][0]["amount"]), receipt

    def resolve_dispute(self, journey: str | bytes, upheld: bool) -> Receipt:
        """Resolves the journey's open dispute (an ARBITER that owned no step and does not fund it)."""
        jid = self.journey_id(journey)
        history = [r.as_tuple() for r in self.history(jid)]
        return self._send(self._voice.functions.resolveDispute(jid, bool(upheld), history))

    def close_dispute(self, journey: str | bytes) -> Receipt:
        """Closes a dispute left past the arbiter's window by the playbook's fallback (anyone may)."""
        return self._send(self._voice.functions.closeDispute(self.journey_id(journey)))

    # --- the customer's voice ----------------------------------------------------------
    def history(self, journey: str | bytes) -> list[StepRecord]:
        """Each completed step's (owner, late, evidence hash), rebuilt from StepCompleted events
        (the evidence hash of each step's fields, as the engine folded it into the rolling hash)."""
        jid = self.journey_id(journey)
        logs = self._logs(self._engine.events.StepCompleted, {"journeyId": jid})
        records = sorted(logs, key=lambda e: e["args"]["step"])
        return [
            StepRecord(e["args"]["by"], bool(e["args"]["late"]), evidence_hash(e["args"]["fields"]))
            for e in records
        ]

    def _customer_sig(self, customer: Customer, primary: str, jid: bytes, **fields: Any) -> tuple:
        """The customer's signature of a `primary` message about journey `jid` (its playbook,
        `fields`, the voice's next nonce for the journey and a fresh deadline)."""
        _customer, head = self._engine.functions.journeyCommitments(jid).call()
        message = {"journeyId": jid, "playbookId": self._playbook_id(jid), **fields, "history": bytes(head)}
        nonce = self._voice.functions.nonceOf(jid).call()
        deadline = self._deadline()
        message |= {"nonce": nonce, "deadline": deadline}
        signature = sign_typed(customer.key.key, self.chain.chain_id, self._voice.address, primary, message)
        return customer_signature(customer.address, customer.profile, bytes(head), nonce, deadline, signature)

    def _playbook_id(self, jid: bytes) -> int:
        return self.journey(jid).playbook_id

    def customer_confirm(self, journey: str | bytes, customer: Customer) -> Receipt:
        """The customer signs that value was delivered; the client's account relays it."""
        jid = self.journey_id(journey)
        history = [r.as_tuple() for r in self.history(jid)]
        sig = self._customer_sig(customer, "ConfirmValue", jid)
        return self._send(self._engine.functions.confirmValue(jid, history, sig))

    def customer_dispute(
        self,
        journey: str | bytes,
        customer: Customer,
        step: int | str,
        reason: str | bytes = "",
        vault: StatementStore | None = None,
    ) -> StatementResult:
        """The customer signs a dispute of a completed step. A text `reason` goes on chain as a
        salted commitment (bytes are taken to be a ready 32-byte commitment); with a `vault`
        its text and salt are kept there as for complete_step's evidence."""
        jid = self.journey_id(journey)
        index = self.step_index(jid, step)

        def call(reason_commitment: bytes) -> Any:
            sig = self._customer_sig(customer, "Dispute", jid, step=index, reason=reason_commitment)
            return self._voice.functions.dispute(jid, index, reason_commitment, sig)

        return self._statement(jid, index, "dispute_reason", reason, vault, call)

    def customer_rate(
        self,
        journey: str | bytes,
        customer: Customer,
        step: int | str,
        score: int,
        comment: str | bytes = "",
        vault: StatementStore | None = None,
    ) -> StatementResult:
        """The customer signs a 1-5 rating of a step's owner (after value is confirmed). A text
        `comment` goes on chain as a salted commitment, kept like a dispute's reason."""
        jid = self.journey_id(journey)
        index = self.step_index(jid, step)

        def call(comment_commitment: bytes) -> Any:
            sig = self._customer_sig(
                customer, "Rate", jid, step=index, score=int(score), comment=comment_commitment
            )
            history = [r.as_tuple() for r in self.history(jid)]
            return self._voice.functions.rate(jid, history, index, int(score), comment_commitment, sig)

        return self._statement(jid, index, "rating_comment", comment, vault, call)

    # --- requests signed on the customer's own device ----------------------------------------
    def customer_request(
        self,
        journey: str | bytes,
        action: str,
        signer: str,
        profile: bytes,
        step: int | str | None = None,
        *,
        reason: str = "",
        score: int | None = None,
        comment: str = "",
        vault: StatementStore | None = None,
        lifetime: int = 86_400,
    ) -> CustomerRequest:
        """What the customer signs elsewhere (its wallet, a page, `journey customer sign`) to
        confirm, dispute a step or rate one: EIP-712 typed data over the journey as it stands
        now (a step completed after it makes the signature stale), good for `lifetime` seconds.
        A dispute's reason or a rating's comment is salted and committed here; with a `vault` its
        text and salt are kept there (pending until `submit_customer_signature`)."""
        if action not in ACTIONS:
            raise ConfigError(f"a customer request is one of {', '.join(ACTIONS)}, not {action!r}")
        jid = self.journey_id(journey)
        state = self.journey(jid)
        _customer, head = self._engine.functions.journeyCommitments(jid).call()
        message: dict[str, Any] = {"journeyId": jid, "playbookId": state.playbook_id}
        index = None
        statement = None
        if action in ("dispute", "rate"):
            if step is None:
                raise ConfigError(f"a {action} request names the step")
            index = self.step_index(jid, step)
            kind, text = ("dispute_reason", reason) if action == "dispute" else ("rating_comment", comment)
            if vault is not None and text:
                kept = vault.prepare_statement(self.chain.chain_id, jid, index, kind, text)
                salt, commitment = kept.salt, kept.commitment
            else:
                salt = new_salt()
                commitment = commit(text, salt) if text else ZERO32
            if text:
                statement = {"kind": kind, "text": text, "salt": _hex(salt), "commitment": _hex(commitment)}
            message["step"] = index
            if action == "dispute":
                message["reason"] = commitment
            else:
                if score is None or not 1 <= int(score) <= 5:
                    raise ConfigError("a rating's score is 1 to 5")
                message |= {"score": int(score), "comment": commitment}
        message |= {
            "history": bytes(head),
            "nonce": int(self._voice.functions.nonceOf(jid).call()),
            "deadline": self.chain.now() + int(lifetime),
        }
        typed = build_typed_data(self.chain.chain_id, self._voice.address, ACTIONS[action], message)
        return CustomerRequest(
            action=action,
            journey=_hex(jid),
            signer=checksum(signer),
            profile=_hex(bytes(profile)),
            typed_data=typed,
            reference=self.reference(jid),
            step=index,
            score=int(score) if score is not None else None,
            statement=statement,
        )

    def submit_customer_signature(
        self, request: CustomerRequest, signature: str, vault: StatementStore | None = None
    ) -> Receipt:
        """Relays a signature the customer made elsewhere over `request`. An account's signature
        is checked here first (a signature by another key is refused before anything is sent);
        a contract wallet's is checked by the chain (ERC-1271)."""
        code = self.chain.w3.eth.get_code(to_checksum_address(request.signer))
        if not code and recover_signer(request, signature) != request.signer:
            raise SignatureError(
                f"refused: the signature is not {request.signer}'s over this request (signed by "
                f"{recover_signer(request, signature)})"
            )
        m = request.message
        jid = bytes.fromhex(request.journey.removeprefix("0x"))
        sig = customer_signature(
            request.signer,
            bytes.fromhex(request.profile.removeprefix("0x")),
            bytes.fromhex(str(m["history"]).removeprefix("0x")),
            int(m["nonce"]),
            int(m["deadline"]),
            bytes.fromhex(signature.removeprefix("0x")),
        )
        if request.action == "confirm":
            history = [r.as_tuple() for r in self.history(jid)]
            call = self._engine.functions.confirmValue(jid, history, sig)
        elif request.action == "dispute":
            call = self._voice.functions.dispute(jid, int(m["step"]), _b32(m["reason"]), sig)
        else:
            history = [r.as_tuple() for r in self.history(jid)]
            call = self._voice.functions.rate(
                jid, history, int(m["step"]), int(m["score"]), _b32(m["comment"]), sig
            )
        receipt = self._send(call)
        if vault is not None and request.statement:
            from journeychain.vault import Statement

            st = request.statement
            vault.confirm_statement(
                Statement(
                    self.chain.chain_id,
                    jid,
                    int(m["step"]),
                    st["kind"],
                    st["text"],
                    _b32(st["salt"]),
                    _b32(st["commitment"]),
                ),
                receipt.tx_hash,
                receipt.block,
            )
        return receipt

    def _statement(
        self,
        jid: bytes,
        step: int,
        kind: str,
        statement: str | bytes,
        vault: StatementStore | None,
        call: Callable[[bytes], Any],
    ) -> StatementResult:
        """Sends `call(commitment)` for a statement given as text (salted and committed here, or
        by the vault before anything is sent) or as a ready commitment (bytes)."""
        pending = None
        text: str | None = None
        salt: bytes | None = None
        if isinstance(statement, (bytes, bytearray)):
            commitment = bytes(statement)
            if len(commitment) != 32:
                raise ConfigError(f"a {kind.replace('_', ' ')} commitment is 32 bytes")
        elif vault is not None:
            # A refusal (rated or disputed already, say) is the rule's sentence, before the vault is touched.
            self._sender().simulate(call(new_salt()))
            pending = vault.prepare_statement(self.chain.chain_id, jid, step, kind, statement)
            text, salt, commitment = statement, pending.salt, pending.commitment
        else:
            text, salt = statement, new_salt()
            commitment = commit(statement, salt)
        try:
            receipt = self._send(call(commitment))
        except RuleError:
            # Refused before anything was mined: the pending statement stands for nothing.
            if vault is not None and pending is not None:
                vault.discard_statement(pending)
            raise
        if vault is not None and pending is not None:
            vault.confirm_statement(pending, receipt.tx_hash, receipt.block)
        return StatementResult(
            journey_id=_hex(jid),
            reference=self.reference(jid),
            step=step,
            kind=kind,
            text=text,
            salt=None if salt is None else _hex(salt),
            commitment=_hex(commitment),
            receipt=receipt,
        )

    def confirm_by_attestation(
        self, journey: str | bytes, customer: str, profile: bytes, verifier: str | None = None
    ) -> Receipt:
        """Settles on a verifier's valid "value delivered" attestation, where the playbook allows it
        (`verifier`: whose; by default the newest valid one)."""
        jid = self.journey_id(journey)
        history = [r.as_tuple() for r in self.history(jid)]
        if verifier is None:
            verifier = self.valid_attester(VALUE_DELIVERED, jid) or next(
                iter(self.attesters_of(VALUE_DELIVERED, jid)), ZERO
            )
        return self._send(
            self._engine.functions.confirmByAttestation(
                jid, history, checksum(customer), profile, checksum(verifier)
            )
        )

    def release(self, journey: str | bytes, customer: str, profile: bytes) -> Receipt:
        """Optimistic release once the confirmation window passed in silence (anyone may)."""
        jid = self.journey_id(journey)
        history = [r.as_tuple() for r in self.history(jid)]
        return self._send(self._engine.functions.release(jid, history, checksum(customer), profile))

    def payouts(self, journey: str | bytes, receipt: Receipt) -> list[tuple[str, int]]:
        """Who the settlement in `receipt` credited what, in step order: its ValueConfirmed
        event's amounts, each step's owner being the `by` of its StepCompleted (as the
        settlement history lists them) and the last, the customer's step, the customer."""
        event = receipt.events["ValueConfirmed"][0]
        owners = [r.by for r in self.history(journey)] + [event["customer"]]
        return list(zip(owners, (int(a) for a in event["amounts"]), strict=True))

    # --- reads -------------------------------------------------------------------------
    def journey(self, journey: str | bytes) -> JourneyState:
        """The journey's state (UnknownJourney's sentence if there is none)."""
        jid = self.journey_id(journey)
        pid, step, status, assignee, deadline, breaches, flagged, pool, funder = self._call(
            self._engine.functions.journey(jid)
        )
        _owner, org = self._engine.functions.ownerOf(jid).call()
        customer, head = self._engine.functions.journeyCommitments(jid).call()
        try:
            steps = self.playbook(pid).playbook.steps
            name = steps[step].name if step < len(steps) else None
        except Exception:  # the playbook's event is out of reach: show the number only
            name = None
        return JourneyState(
            journey_id=_hex(jid),
            reference=self.reference(jid),
            playbook_id=int(pid),
            step=int(step),
            step_name=name,
            status=STATUSES[status],
            assignee=_address_or_none(assignee),
            org=int(org) or None,
            deadline=int(deadline),
            breached_steps=[i for i in range(16) if breaches >> i & 1],
            flagged=bool(flagged),
            pool=int(pool),
            funder=_address_or_none(funder),
            customer=_hex(customer),
            head=_hex(head),
        )

    def journeys(self, playbook_id: int | None = None) -> list[JourneyEntry]:
        """Every journey opened on this deployment, oldest first (from JourneyOpened events)."""
        filters = {"playbookId": playbook_id} if playbook_id else None
        logs = self._logs(self._engine.events.JourneyOpened, filters)
        return [
            JourneyEntry(
                _hex(e["args"]["journeyId"]),
                int(e["args"]["playbookId"]),
                e["args"]["opener"],
                int(e["blockNumber"]),
                self.reference(bytes(e["args"]["journeyId"])),
            )
            for e in logs
        ]

    def credit_of(self, account: str) -> int:
        return int(self._engine.functions.creditOf(checksum(account)).call())

    def breach_count(self, account: str) -> int:
        return int(self._engine.functions.breachCount(checksum(account)).call())

    def organisation_breach_count(self, org: int | str) -> int:
        return int(self._engine.functions.organisationBreachCount(self.organisation_id(org)).call())

    def rating_of(self, account: str) -> Rating:
        count, total = self._voice.functions.ratingOf(checksum(account)).call()
        return Rating(int(count), int(total))

    def balance_of(self, account: str) -> int:
        return int(self._token.functions.balanceOf(checksum(account)).call())

    def dispute_of(self, journey: str | bytes) -> dict[str, Any]:
        disputed, upheld, step, since = self._engine.functions.disputeOf(self.journey_id(journey)).call()
        return {
            "disputed_steps": [i for i in range(16) if disputed >> i & 1],
            "upheld_steps": [i for i in range(16) if upheld >> i & 1],
            "last_step": int(step),
            "open_since": int(since),
        }

    def release_time(self, journey: str | bytes) -> int:
        return int(self._engine.functions.releaseTime(self.journey_id(journey)).call())


def _field(struct: Any, name: str, index: int) -> Any:
    """A decoded struct's member, whether web3 gave a mapping or a tuple."""
    return struct[name] if hasattr(struct, "keys") else struct[index]


def _canonical(param: ABIComponent) -> str:
    kind = param["type"]
    if kind.startswith("tuple"):
        return "(" + ",".join(_canonical(p) for p in param["components"]) + ")" + kind[5:]
    return kind
