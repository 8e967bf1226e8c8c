"""JourneyClient: every operation of the contracts as one typed method, signed locally.

    chain = connect()                                  # or connect("https://...")
    client = JourneyClient(chain, load_deployment(chain), load_account("dev:1", chain))
    opened = client.open_journey("OPP-1", customer=customer.address, profile=profile)
    client.complete_step("OPP-1", {"customer_goals": "..."}, assign=sales_rep)

Journeys are named by their reference (a CRM id, say: the journey id is derived from
it) or by their 0x id. A refusal raises its rule's exception (journeychain.errors) with
one plain sentence, before anything is sent. Every transaction returns a Receipt with
the gas it used and its decoded events.

The client is composed of one part per concern over one shared core (journeychain.sdk), the
way web3.py's `Web3` composes `w3.eth`: `client.participants`, `client.playbooks`,
`client.journeys`, `client.attestations`, `client.incentives` and `client.customer`. Every
method of a part is also the client's own (`client.complete_step` is
`client.journeys.complete_step`; `client.journeys(...)` still lists the journeys).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from eth_account.signers.local import LocalAccount

from journeychain.artifacts import Build
from journeychain.chain import Chain
from journeychain.deployments import Deployment
from journeychain.playbook import role_id
from journeychain.reverts import Context, Decoder
from journeychain.sdk.attestations import Attestations
from journeychain.sdk.batch import Batch, BatchResult
from journeychain.sdk.core import Core, FromCore
from journeychain.sdk.incentives import Incentives
from journeychain.sdk.journeys import Journeys
from journeychain.sdk.participants import Participants
from journeychain.sdk.playbooks import Playbooks
from journeychain.sdk.relay import Relay
from journeychain.sdk.types import (
    ORG_KINDS,
    PARTICIPANT_ROLES,
    SIGNATURE_LIFETIME,
    VALUE_DELIVERED,
    ZERO,
    Customer,
    EvidenceStore,
    FieldEvidence,
    JourneyEntry,
    JourneyState,
    OpenedJourney,
    PublishedPlaybook,
    Rating,
    StatementResult,
    StatementStore,
    StepRecord,
    StepResult,
)
from journeychain.sdk.voice import Voice

__all__ = [
    "ORG_KINDS",
    "PARTICIPANT_ROLES",
    "SIGNATURE_LIFETIME",
    "VALUE_DELIVERED",
    "ZERO",
    "Batch",
    "BatchResult",
    "Customer",
    "EvidenceStore",
    "FieldEvidence",
    "JourneyClient",
    "JourneyEntry",
    "JourneyState",
    "OpenedJourney",
    "PublishedPlaybook",
    "Rating",
    "StatementResult",
    "StatementStore",
    "StepRecord",
    "StepResult",
    "role_id",
]

P = ParamSpec("P")
R = TypeVar("R")


class _Via(Generic[P, R]):
    """A method of the client that is one of its parts': `client.complete_step(...)` calls
    `client.journeys.complete_step(...)`."""

    def __init__(self, part: str, method: Callable[Concatenate[Any, P], R]):
        self.part = part
        self.name = method.__name__
        self.__doc__ = method.__doc__

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> _Via[P, R]: ...

    @overload
    def __get__(self, obj: JourneyClient, owner: type | None = None) -> Callable[P, R]: ...

    def __get__(self, obj: JourneyClient | None, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return getattr(getattr(obj, self.part), self.name)


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
        self._compose(Core(chain, deployment, account, labels=labels, build=build))

    def _compose(self, core: Core) -> None:
        """Attaches one part per concern to `core`, and exposes them."""
        self._core = core
        core.participants = self.participants = Participants(core)
        core.playbooks = self.playbooks = Playbooks(core)
        core.journeys = self.journeys = Journeys(core)
        core.attestations = self.attestations = Attestations(core)
        core.incentives = self.incentives = Incentives(core)
        core.customer = self.customer = Voice(core)
        self.relay = Relay(core)

    def batch(self) -> Batch:
        """Engine calls of this account gathered into one transaction (the engine's multicall):
        `client.batch().flag_breach(a).flag_breach(b).send()`; see journeychain.sdk.batch."""
        return Batch(self._core)

    def with_account(self, account: LocalAccount) -> JourneyClient:
        """The same client acting as another account (shares caches and labels)."""
        other = JourneyClient.__new__(JourneyClient)
        other._compose(self._core.with_account(account))
        return other

    # --- the core: chain, deployment, account, contracts, sender -------------------------
    @property
    def chain(self) -> Chain:
        return self._core.chain

    @property
    def deployment(self) -> Deployment:
        return self._core.deployment

    @property
    def account(self) -> LocalAccount | None:
        return self._core.account

    @property
    def build(self) -> Build:
        return self._core.build

    @property
    def decoder(self) -> Decoder:
        return self._core.decoder

    @property
    def context(self) -> Context:
        return self._core.context

    @property
    def address(self) -> str:
        return self._core.address

    engine = FromCore("_engine", "The engine as a web3 contract (for reads the client does not wrap).")
    directory = FromCore(
        "_directory", "The directory (organisations, participants, roles, the rulebook) as a web3 contract."
    )
    voice = FromCore("_voice")
    registry = FromCore("_registry")
    token = FromCore("_token")
    _engine = FromCore("_engine")
    _directory = FromCore("_directory")
    _voice = FromCore("_voice")
    _registry = FromCore("_registry")
    _token = FromCore("_token")

    @property
    def _labels(self) -> dict[bytes, str]:
        return self._core._labels

    @property
    def _playbooks(self) -> dict[int, PublishedPlaybook]:
        return self._core._playbooks

    @property
    def _role_names(self) -> dict[bytes, str]:
        return self._core._role_names

    @property
    def _events(self) -> dict[tuple[str, bytes], Any]:
        return self._core._events

    journey_id = _Via("_core", Core.journey_id)
    label = _Via("_core", Core.label)
    reference = _Via("_core", Core.reference)
    _signer = _Via("_core", Core._signer)
    _sender = _Via("_core", Core._sender)
    _send = _Via("_core", Core._send)
    _call = _Via("_core", Core._call)
    _event_table = _Via("_core", Core._event_table)
    _decode_events = _Via("_core", Core._decode_events)
    _logs = _Via("_core", Core._logs)
    _deadline = _Via("_core", Core._deadline)

    # --- client.participants ------------------------------------------------------------------------
    register_organisation = _Via("participants", Participants.register_organisation)
    organisations = _Via("participants", Participants.organisations)
    organisation = _Via("participants", Participants.organisation)
    organisation_id = _Via("participants", Participants.organisation_id)
    members = _Via("participants", Participants.members)
    add_member = _Via("participants", Participants.add_member)
    define_role = _Via("participants", Participants.define_role)
    role_names = _Via("participants", Participants.role_names)
    _role_name = _Via("participants", Participants._role_name)
    grant_role = _Via("participants", Participants.grant_role)
    add_participant = _Via("participants", Participants.grant_role)
    has_role = _Via("participants", Participants.has_role)
    roles_of = _Via("participants", Participants.roles_of)
    rulebook = _Via("participants", Participants.rulebook)
    participant_record = _Via("participants", Participants.participant_record)
    participant = _Via("participants", Participants.participant)
    accept_rulebook = _Via("participants", Participants.accept_rulebook)
    accept_rulebook_by_signature = _Via("participants", Participants.accept_rulebook_by_signature)
    breach_count = _Via("participants", Participants.breach_count)
    organisation_breach_count = _Via("participants", Participants.organisation_breach_count)

    # --- client.playbooks ---------------------------------------------------------------------------
    publish_playbook = _Via("playbooks", Playbooks.publish_playbook)
    playbook_count = _Via("playbooks", Playbooks.playbook_count)
    playbook = _Via("playbooks", Playbooks.playbook)
    register_schema = _Via("playbooks", Playbooks.register_schema)
    schema = _Via("playbooks", Playbooks.schema)
    schemas = _Via("playbooks", Playbooks.schemas)
    _ensure_schema = _Via("playbooks", Playbooks._ensure_schema)

    # --- client.journeys ----------------------------------------------------------------------------
    journey = _Via("journeys", Journeys.journey)
    step_index = _Via("journeys", Journeys.step_index)
    open_journey = _Via("journeys", Journeys.open_journey)
    complete_step = _Via("journeys", Journeys.complete_step)
    _next_org = _Via("journeys", Journeys._next_org)
    submit_step = _Via("journeys", Journeys.submit_step)
    _step_where = staticmethod(Journeys._step_where)
    flag_breach = _Via("journeys", Journeys.flag_breach)
    escalate = _Via("journeys", Journeys.escalate)
    escalation_proof = _Via("journeys", Journeys.escalation_proof)
    cancel = _Via("journeys", Journeys.cancel)
    expire = _Via("journeys", Journeys.expire)
    customer_of = _Via("journeys", Journeys.customer_of)
    customer_subject_of = _Via("journeys", Journeys.customer_subject_of)
    history = _Via("journeys", Journeys.history)
    _playbook_id = _Via("journeys", Journeys._playbook_id)

    # --- client.attestations ------------------------------------------------------------------------
    subject_of = _Via("attestations", Attestations.subject_of)
    attest = _Via("attestations", Attestations.attest)
    attest_about = _Via("attestations", Attestations.attest_about)
    attest_customer = _Via("attestations", Attestations.attest_customer)
    attest_value_delivered = _Via("attestations", Attestations.attest_value_delivered)
    revoke = _Via("attestations", Attestations.revoke)
    revoke_about = _Via("attestations", Attestations.revoke_about)
    describe_subject = _Via("attestations", Attestations.describe_subject)
    attestation_state = _Via("attestations", Attestations.attestation_state)
    attesters_of = _Via("attestations", Attestations.attesters_of)
    valid_attester = _Via("attestations", Attestations.valid_attester)
    _attesters = _Via("attestations", Attestations._attesters)

    # --- client.incentives --------------------------------------------------------------------------
    mint = _Via("incentives", Incentives.mint)
    fund = _Via("incentives", Incentives.fund)
    set_budget = _Via("incentives", Incentives.set_budget)
    withdraw_budget = _Via("incentives", Incentives.withdraw_budget)
    budget_of = _Via("incentives", Incentives.budget_of)
    _check_funding = _Via("incentives", Incentives._check_funding)
    claim = _Via("incentives", Incentives.claim)
    payouts = _Via("incentives", Incentives.payouts)
    credit_of = _Via("incentives", Incentives.credit_of)
    balance_of = _Via("incentives", Incentives.balance_of)

    # --- client.customer ----------------------------------------------------------------------------
    customer_confirm = _Via("customer", Voice.customer_confirm)
    customer_dispute = _Via("customer", Voice.customer_dispute)
    customer_rate = _Via("customer", Voice.customer_rate)
    customer_reply = _Via("customer", Voice.customer_reply)
    pause_step = _Via("customer", Voice.pause_step)
    resume_step = _Via("customer", Voice.resume_step)
    pause_of = _Via("customer", Voice.pause_of)
    _customer_sig = _Via("customer", Voice._customer_sig)
    customer_request = _Via("customer", Voice.customer_request)
    submit_customer_signature = _Via("customer", Voice.submit_customer_signature)
    _statement = _Via("customer", Voice._statement)
    confirm_by_attestation = _Via("customer", Voice.confirm_by_attestation)
    _value_verifier = _Via("customer", Voice._value_verifier)
    release = _Via("customer", Voice.release)
    _check_settlement = _Via("customer", Voice._check_settlement)
    resolve_dispute = _Via("customer", Voice.resolve_dispute)
    close_dispute = _Via("customer", Voice.close_dispute)
    rating_of = _Via("customer", Voice.rating_of)
    dispute_of = _Via("customer", Voice.dispute_of)
    release_time = _Via("customer", Voice.release_time)
