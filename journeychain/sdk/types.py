"""What the client returns and takes: journeys, steps, playbooks, customers and the stores
that keep evidence off chain; and the small helpers every part of the client shares."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol

from eth_account.signers.local import LocalAccount
from eth_typing import ABIComponent
from eth_utils import to_checksum_address

from journeychain.deployments import DeploymentKey
from journeychain.encoding import customer_commitment, customer_subject
from journeychain.playbook import DEFAULT_ROLES, Playbook
from journeychain.tx import Receipt

ZERO = "0x" + "00" * 20
PARTICIPANT_ROLES = (*DEFAULT_ROLES, "ADMIN")
SIGNATURE_LIFETIME = 3600
VALUE_DELIVERED = "value_delivered"
ORG_KINDS = ("unit", "vendor")


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
                    "sla_type": s.sla_type,
                    "warn_bps": s.warn_bps,
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
    # whether the current step is at risk of breaching, as the engine answers it, and when
    # its warning threshold is (or was) reached (None: the step never warns)
    at_risk: bool = False
    warn_at: int | None = None

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
    #: the pool drawn at opening from the funder's standing budget (0: none)
    pool: int = 0

    def as_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if k != "receipt"}
        return data | self.receipt.as_dict()


@dataclass(frozen=True)
class Budget:
    """A funder's standing budget for a playbook: what each journey opened under it draws at
    its opening, the organisation whose openings may draw (0: any), and what it holds."""

    funder: str
    playbook_id: int
    per_journey: int
    opener_org: int
    balance: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class EvidenceStore(Protocol):
    """Where the values and salts behind a step's commitments are kept (the vault)."""

    def prepare_step(
        self, deployment: int | DeploymentKey, journey: bytes, step: int, fields: dict[str, str]
    ) -> Any: ...

    def confirm(self, evidence: Any, tx_hash: bytes | str, block: int | None = None) -> None: ...

    def discard(self, evidence: Any) -> None: ...


class StatementStore(Protocol):
    """Where the texts and salts behind the customer's statement commitments are kept (the vault)."""

    def prepare_statement(
        self, deployment: int | DeploymentKey, journey: bytes, step: int, kind: str, text: str
    ) -> Any: ...

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

    def subject(self, journey: bytes) -> bytes:
        """The customer of journey `journey` (its id) as the subject of attestations."""
        return customer_subject(journey, self.commitment)


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


def _field(struct: Any, name: str, index: int) -> Any:
    """A decoded struct's member, whether web3 gave a mapping or a tuple."""
    return struct[name] if hasattr(struct, "keys") else struct[index]


def _canonical(param: ABIComponent) -> str:
    kind = param["type"]
    if kind.startswith("tuple"):
        return "(" + ",".join(_canonical(p) for p in param["components"]) + ")" + kind[5:]
    return kind
