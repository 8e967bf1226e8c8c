"""Every custom error of the contracts, decoded into one plain sentence and one exception class.

A refusal names its rule: `MissingField(journeyId, step, field)` becomes
CompletenessError("booking refused: field customer_goals is missing"). Field and schema
names (bytes32 short strings) are shown as text, roles and statuses by name, and a step
by its playbook name where the context knows it. Errors no rule names (a panic, an
unknown selector) become a plain RuleError.

Nodes hand the revert data back in different shapes (`revert_data` reads them all): anvil,
geth and hardhat as the JSON-RPC error's `data` string; ganache 7 as `data.result` (with
"VM Exception while processing transaction: revert" as the message); ganache 6 as
`data[<tx hash>].return`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from eth_abi import decode
from eth_utils import keccak, to_checksum_address

from journeychain.amounts import tokens
from journeychain.encoding import from_short_name
from journeychain.errors import (
    ClaimError,
    CompletenessError,
    DeadlineError,
    DisputeError,
    FundingError,
    JourneyRuleError,
    PlaybookRuleError,
    RulebookError,
    RuleError,
    SignatureError,
)
from journeychain.playbook import CUSTOMER, DEFAULT_ROLES

STATUSES = ("unknown", "open", "disputed", "value delivered", "expired", "cancelled")
ATTESTATION_STATES = (
    "missing",
    "valid",
    "expired",
    "revoked",
    "unauthorised (its attester no longer holds the verifier role)",
)
ROLE_IDS = {keccak(text=name): name for name in (*DEFAULT_ROLES, CUSTOMER)} | {
    b"\x00" * 32: "ADMIN",
    keccak(text="MINTER"): "MINTER",
}
PANICS = {
    0x01: "an assertion failed",
    0x11: "arithmetic overflow",
    0x12: "division by zero",
    0x21: "a value out of an enum's range",
    0x32: "an index out of bounds",
    0x41: "out of memory",
}
UNKNOWN_THINGS = frozenset({"UnknownPlaybook", "UnknownJourney", "UnknownCalendar"})
ERROR_SELECTOR = keccak(text="Error(string)")[:4]
# where a node puts the revert data inside the JSON-RPC error's `data` object
_DATA_KEYS = ("data", "result", "return")
# what ganache says instead of the reason when it has only the revert data
GANACHE_REVERT = "VM Exception while processing transaction: revert"
PANIC_SELECTOR = keccak(text="Panic(uint256)")[:4]


class Context:
    """What the decoder knows about journeys and steps; the client knows more and says so.

    `action` is the name of the contract function whose refusal is decoded (the sender sets it):
    one error can mean different things to different calls (StepNotReached to a dispute and to
    an expiry, say).
    """

    action: str = ""

    def journey(self, journey_id: bytes) -> str:
        """How to name a journey: its reference when known, else its id, shortened."""
        return "0x" + bytes(journey_id).hex()[:12] + "…"

    def step(self, journey_id: bytes, step: int) -> str:
        """How to name a step: 'step 2 (deal_booked)' when the playbook is known."""
        return f"step {step}"

    def is_commit_step(self, journey_id: bytes, step: int) -> bool:
        """Whether the step books the deal (its refusals read 'booking refused')."""
        return False

    def organisation(self, org: int) -> str:
        """How to name an organisation: its short name when known."""
        return f"organisation {org}"

    def role(self, role: bytes) -> str:
        """How to name a role id: its name when known."""
        return ROLE_IDS.get(bytes(role), "0x" + bytes(role).hex()[:12] + "…")


def when(timestamp: int) -> str:
    return datetime.fromtimestamp(int(timestamp), tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _action(ctx: Context, jid: bytes, step: int) -> str:
    return "booking" if ctx.is_commit_step(jid, step) else ctx.step(jid, step)


#: What needs the customer's step, by the function refused: the end of the sentence.
_AT_CUSTOMER_STEP = {
    "expire": "only a journey at the customer's step can expire",
    "confirmValue": "value is confirmed only at the customer's step",
    "confirmByAttestation": "value is confirmed only at the customer's step",
    "release": "a pool is released only at the customer's step",
}
_CUSTOMER_STATEMENTS = {"dispute": "disputes", "rate": "rates"}


def _step_not_reached(c: Context, a: dict[str, Any]) -> str:
    """StepNotReached: to a dispute or a rating, the step named is not completed yet; to an
    expiry or a settlement, the journey's current step is not the customer's."""
    jid, step = a["journeyId"], a["step"]
    verb = _CUSTOMER_STATEMENTS.get(c.action)
    if verb:
        return (
            f"refused: {c.step(jid, step)} of journey {c.journey(jid)} is not completed yet: "
            f"the customer {verb} completed steps only"
        )
    need = _AT_CUSTOMER_STEP.get(c.action, "it has not reached the customer's step yet")
    return f"refused: journey {c.journey(jid)} is at {c.step(jid, step)}: {need}"


def _journey_not_open(c: Context, a: dict[str, Any]) -> str:
    """JourneyNotOpen: the journey's status does not allow the action (a rating needs value
    confirmed, everything else an open journey)."""
    status = STATUSES[a["status"]] if a["status"] < len(STATUSES) else f"in status {a['status']}"
    if c.action == "rate" or a["status"] == 1:
        journey = c.journey(a["journeyId"])
        return f"refused: journey {journey} is {status}: a step is rated only once value is confirmed"
    return f"refused: journey {c.journey(a['journeyId'])} is {status}, not open"


# name -> (family, sentence from (context, arguments))
Sentence = Callable[[Context, dict[str, Any]], str]
RULES: dict[str, tuple[type[RuleError], Sentence]] = {
    # --- participants and the rulebook
    "MissingRole": (
        RulebookError,
        lambda c, a: f"refused: {a['account']} does not hold the {c.role(a['role'])} role",
    ),
    "InvalidRole": (
        RulebookError,
        lambda c, a: "refused: that is not a role a playbook may name (1 to 32 bytes, not CUSTOMER)",
    ),
    "RoleExists": (RulebookError, lambda c, a: f"refused: the role {c.role(a['role'])} is defined already"),
    "UnknownRole": (
        RulebookError,
        lambda c, a: f"refused: the role {c.role(a['role'])} is not defined (`journey role define NAME`)",
    ),
    "TooManyRoles": (RulebookError, lambda c, a: "refused: 64 roles are defined already"),
    "EmptyName": (RulebookError, lambda c, a: "refused: an organisation needs a name"),
    "UnknownOrganisation": (
        RulebookError,
        lambda c, a: f"refused: there is no organisation {a['org']} (`journey org list`)",
    ),
    "AlreadyMember": (
        RulebookError,
        lambda c, a: (
            f"refused: {a['account']} belongs to {c.organisation(a['org'])} already: "
            "a participant acts for one organisation"
        ),
    ),
    "NoOrganisation": (
        RulebookError,
        lambda c, a: (
            f"refused: {a['account']} belongs to no organisation: add it to one first "
            "(`journey participant add ADDRESS ROLE --org NAME`)"
        ),
    ),
    "AdminMayNotOwnStep": (
        RulebookError,
        lambda c, a: f"refused: {a['account']} is ADMIN, which never owns, completes or is assigned a step",
    ),
    "NotDirectory": (
        RulebookError,
        lambda c, a: f"refused: {a['caller']} is not the directory, which alone updates participants",
    ),
    "NotParticipant": (RulebookError, lambda c, a: f"refused: {a['account']} is not a participant"),
    "RulebookNotAccepted": (
        RulebookError,
        lambda c, a: (
            f"refused: {a['account']} has not accepted the rulebook in force (version "
            f"{a['current']}): run `journey rulebook accept`"
        ),
    ),
    "StaleRulebook": (
        RulebookError,
        lambda c, a: (
            f"refused: the signature accepts rulebook version {a['version']}, "
            f"but version {a['current']} is in force"
        ),
    ),
    "EmptyRulebook": (RulebookError, lambda c, a: "refused: a rulebook hash cannot be zero"),
    "AccessControlUnauthorizedAccount": (
        RulebookError,
        lambda c, a: (
            f"refused: {a['account']} does not hold the "
            f"{ROLE_IDS.get(a['neededRole'], '0x' + a['neededRole'].hex())} role"
        ),
    ),
    "AccessControlBadConfirmation": (
        RulebookError,
        lambda c, a: "refused: an account can renounce only its own roles",
    ),
    # --- playbooks
    "StepCountOutOfRange": (
        PlaybookRuleError,
        lambda c, a: f"playbook refused: {a['count']} steps, where a playbook has 2 to 15",
    ),
    "SharesExceedTotal": (
        PlaybookRuleError,
        lambda c, a: f"playbook refused: the shares add up to {a['totalBps']} basis points, above 10000",
    ),
    "EmptyRole": (PlaybookRuleError, lambda c, a: f"playbook refused: step {a['step']} has no owning role"),
    "InvalidWarning": (
        PlaybookRuleError,
        lambda c, a: (
            f"playbook refused: the warning of step {a['step']} must be a share of its sla above 0% "
            "and below 100%, on a step that has an sla"
        ),
    ),
    "PenaltyOutOfRange": (
        PlaybookRuleError,
        lambda c, a: f"playbook refused: the penalty of step {a['step']} is above 10000 basis points",
    ),
    "CustomerStepNotLast": (
        PlaybookRuleError,
        lambda c, a: f"playbook refused: step {a['step']} is the customer's but not the last",
    ),
    "LastStepNotCustomer": (
        PlaybookRuleError,
        lambda c, a: f"playbook refused: the last step ({a['step']}) must be the customer's",
    ),
    "TooManyRequirements": (
        PlaybookRuleError,
        lambda c, a: f"playbook refused: step {a['step']} requires more than 32 fields or attestations",
    ),
    "InvalidCommitStep": (
        PlaybookRuleError,
        lambda c, a: f"playbook refused: the commit step {a['step']} is not a participant's step",
    ),
    "InvalidConfirmWindow": (
        PlaybookRuleError,
        lambda c, a: (
            f"playbook refused: a confirmation window of {a['window']} seconds must be shorter "
            "than the customer's sla"
        ),
    ),
    "InvalidDisputeWindow": (
        PlaybookRuleError,
        lambda c, a: "playbook refused: the dispute window cannot be 0: every dispute has an end",
    ),
    "MissingSla": (
        PlaybookRuleError,
        lambda c, a: (
            f"playbook refused: step {a['step']} needs an sla: every step from the commit step on, "
            "and the customer's, has one"
        ),
    ),
    "DuplicateRequirement": (
        PlaybookRuleError,
        lambda c, a: f"playbook refused: step {a['step']} names {from_short_name(a['key'])} twice",
    ),
    "UnknownPlaybook": (
        PlaybookRuleError,
        lambda c, a: f"there is no playbook {a['playbookId']} (see `journey playbook show`)",
    ),
    # --- journeys: order and assignees
    "JourneyExists": (JourneyRuleError, lambda c, a: f"refused: journey {c.journey(a['journeyId'])} exists"),
    "UnknownJourney": (JourneyRuleError, lambda c, a: f"there is no journey {c.journey(a['journeyId'])}"),
    "EmptyReference": (
        JourneyRuleError,
        lambda c, a: "refused: a journey needs a non-zero reference and customer commitment",
    ),
    "JourneyNotOpen": (JourneyRuleError, _journey_not_open),
    "NotAssignee": (
        JourneyRuleError,
        lambda c, a: (
            f"refused: {c.step(a['journeyId'], a['step'])} of journey {c.journey(a['journeyId'])} "
            f"is assigned to {a['assignee']}, not {a['account']}"
        ),
    ),
    "WrongOrganisation": (
        JourneyRuleError,
        lambda c, a: (
            f"refused: {c.step(a['journeyId'], a['step'])} of journey {c.journey(a['journeyId'])} "
            f"is owned by {c.organisation(a['org'])}, and {a['account']} is not one of its participants"
        ),
    ),
    "NotInOrganisation": (
        JourneyRuleError,
        lambda c, a: f"refused: {a['account']} is not a participant of {c.organisation(a['org'])}",
    ),
    "OwnerRequired": (
        JourneyRuleError,
        lambda c, a: (
            f"refused: name who owns {c.step(a['journeyId'], a['step'])} of journey "
            f"{c.journey(a['journeyId'])}: an organisation (--org) or a participant (--assign)"
        ),
    ),
    "DuplicateField": (
        CompletenessError,
        lambda c, a: (
            f"{_action(c, a['journeyId'], a['step'])} refused: field {from_short_name(a['field'])} "
            "is given twice"
        ),
    ),
    "NotEscalator": (
        JourneyRuleError,
        lambda c, a: (
            f"refused: only ADMIN or whoever completed the step before "
            f"{c.step(a['journeyId'], a['step'])} of journey {c.journey(a['journeyId'])} may escalate it, "
            f"not {a['account']}"
        ),
    ),
    "SelfEscalation": (
        JourneyRuleError,
        lambda c, a: (
            f"refused: {a['account']} cannot escalate {c.step(a['journeyId'], a['step'])} of journey "
            f"{c.journey(a['journeyId'])} to itself"
        ),
    ),
    "CustomerStep": (
        JourneyRuleError,
        lambda c, a: (
            f"refused: {c.step(a['journeyId'], a['step'])} of journey {c.journey(a['journeyId'])} "
            "is the customer's: it completes by the customer's signature"
        ),
    ),
    "StepNotReached": (JourneyRuleError, _step_not_reached),
    "SameAssignee": (
        JourneyRuleError,
        lambda c, a: (
            f"refused: {c.step(a['journeyId'], a['step'])} of journey {c.journey(a['journeyId'])} "
            f"is assigned to {a['assignee']} already: escalate it to someone else"
        ),
    ),
    "NotCancellable": (
        JourneyRuleError,
        lambda c, a: (
            f"refused: journey {c.journey(a['journeyId'])} is booked already: it can no longer be cancelled"
        ),
    ),
    # --- deadlines and breaches
    "DeadlineNotPassed": (
        DeadlineError,
        lambda c, a: (
            f"refused: {c.step(a['journeyId'], a['step'])} of journey {c.journey(a['journeyId'])} "
            + (f"is not late: its deadline is {when(a['deadline'])}" if a["deadline"] else "has no deadline")
        ),
    ),
    "DeadlinePassed": (
        DeadlineError,
        lambda c, a: (
            f"refused: the customer's deadline for journey {c.journey(a['journeyId'])} passed "
            f"at {when(a['deadline'])}: value can no longer be confirmed, the journey can only expire"
        ),
    ),
    "CannotPause": (
        DeadlineError,
        lambda c, a: (
            f"refused: {c.step(a['journeyId'], a['step'])} of journey {c.journey(a['journeyId'])} cannot be "
            "paused: only a step with a deadline that has not passed, and is not flagged, can be"
        ),
    ),
    "StepAlreadyPaused": (
        DeadlineError,
        lambda c, a: (
            f"refused: {c.step(a['journeyId'], a['step'])} of journey {c.journey(a['journeyId'])} "
            "is paused already"
        ),
    ),
    "TooManyPauses": (
        DeadlineError,
        lambda c, a: (
            f"refused: {c.step(a['journeyId'], a['step'])} of journey {c.journey(a['journeyId'])} was paused "
            f"{a['max']} times, as often as a step may be"
        ),
    ),
    "StepNotPaused": (
        DeadlineError,
        lambda c, a: (
            f"refused: {c.step(a['journeyId'], a['step'])} of journey {c.journey(a['journeyId'])} "
            "is not paused"
        ),
    ),
    "AlreadyBreached": (
        DeadlineError,
        lambda c, a: (
            f"refused: the breach of {c.step(a['journeyId'], a['step'])} of journey "
            f"{c.journey(a['journeyId'])} is flagged already"
        ),
    ),
    # --- completeness and attestations
    "MissingField": (
        CompletenessError,
        lambda c, a: (
            f"{_action(c, a['journeyId'], a['step'])} refused: field {from_short_name(a['field'])} is missing"
        ),
    ),
    "AttestationNotValid": (
        CompletenessError,
        lambda c, a: (
            f"{_action(c, a['journeyId'], a['step'])} refused: attestation "
            f"{from_short_name(a['schema'])} is {ATTESTATION_STATES[a['state']]}"
        ),
    ),
    "NoAttestation": (
        CompletenessError,
        lambda c, a: (
            f"refused: {a['attester']} has no attestation of {from_short_name(a['schema'])} "
            f"about 0x{a['subject'].hex()} (a verifier revokes only its own)"
        ),
    ),
    "AttestationReplaced": (
        CompletenessError,
        lambda c, a: (
            f"refused: attestation 0x{a['uid'].hex()} was replaced by the newer 0x{a['newest'].hex()}, "
            "which is the one that counts: revoke that"
        ),
    ),
    "AttestationAlreadyRevoked": (
        CompletenessError,
        lambda c, a: f"refused: attestation 0x{a['uid'].hex()} is revoked already",
    ),
    "ExpiryNotInFuture": (
        CompletenessError,
        lambda c, a: f"refused: an attestation's expiry must be in the future, not {when(a['expiry'])}",
    ),
    "EmptyAttestation": (
        CompletenessError,
        lambda c, a: "refused: an attestation needs a subject (the customer, the journey or a step)",
    ),
    "InvalidSchema": (
        PlaybookRuleError,
        lambda c, a: f"refused: {from_short_name(a['schema'])!r} is not a schema name (1 to 30 bytes)",
    ),
    "SchemaExists": (
        PlaybookRuleError,
        lambda c, a: (
            f"refused: schema {from_short_name(a['schema'])} is registered already, and a schema never "
            "changes (register a new name)"
        ),
    ),
    "UnknownSchema": (
        PlaybookRuleError,
        lambda c, a: (
            f"refused: schema {from_short_name(a['schema'])} is not registered "
            f"(journey schema add {from_short_name(a['schema'])} --role ROLE --subject customer|journey|step)"
        ),
    ),
    "NotRegistry": (
        CompletenessError,
        lambda c, a: (
            f"refused: {a['caller']} is not the attestation registry, which alone records attestations"
        ),
    ),
    "NotPublisher": (
        PlaybookRuleError,
        lambda c, a: (
            f"refused: {a['caller']} is not the engine's playbook publisher, which alone has playbooks "
            "kept (publish through it: journey playbook publish)"
        ),
    ),
    # --- funding and escrow
    "ZeroAmount": (FundingError, lambda c, a: "refused: the amount is zero"),
    "NotFunder": (
        FundingError,
        lambda c, a: (
            f"refused: journey {c.journey(a['journeyId'])} is funded by {a['funder']}, named when it "
            f"opened; {a['account']} may not fund it"
        ),
    ),
    "PoolTooLarge": (
        FundingError,
        lambda c, a: f"refused: a pool of {tokens(a['pool'])} is more than a pool holds",
    ),
    "BudgetTooLarge": (
        FundingError,
        lambda c, a: f"refused: a standing budget of {tokens(a['balance'])} is more than a budget holds",
    ),
    "BudgetShort": (
        FundingError,
        lambda c, a: (
            f"refused: your standing budget for this playbook holds {tokens(a['balance'])}, "
            f"not {tokens(a['amount'])}"
        ),
    ),
    "PoolNotFunded": (
        FundingError,
        lambda c, a: (
            f"{_action(c, a['journeyId'], a['step'])} refused: the pool of journey "
            f"{c.journey(a['journeyId'])} is not funded yet (`journey fund`)"
        ),
    ),
    "ERC20InsufficientBalance": (
        FundingError,
        lambda c, a: f"refused: {a['sender']} holds {tokens(a['balance'])}, {tokens(a['needed'])} needed",
    ),
    "ERC20InsufficientAllowance": (
        FundingError,
        lambda c, a: (
            f"refused: {a['spender']} may move {tokens(a['allowance'])}, "
            f"{tokens(a['needed'])} needed: approve more first"
        ),
    ),
    "ERC20InvalidSender": (FundingError, lambda c, a: f"refused: {a['sender']} cannot send tokens"),
    "ERC20InvalidReceiver": (FundingError, lambda c, a: f"refused: {a['receiver']} cannot receive tokens"),
    "ERC20InvalidApprover": (FundingError, lambda c, a: f"refused: {a['approver']} cannot approve"),
    "ERC20InvalidSpender": (FundingError, lambda c, a: f"refused: {a['spender']} cannot be approved"),
    "SafeERC20FailedOperation": (
        FundingError,
        lambda c, a: f"refused: the token {a['token']} failed the transfer",
    ),
    # --- batches (multicall) and low-level calls
    "FailedCall": (RuleError, lambda c, a: "refused: a call of the batch failed without a reason"),
    "AddressEmptyCode": (RuleError, lambda c, a: f"refused: {a['target']} holds no contract code"),
    # --- signatures and the customer's voice
    "SignatureExpired": (
        SignatureError,
        lambda c, a: f"refused: the signature expired at {when(a['deadline'])}",
    ),
    "BadSignature": (
        SignatureError,
        lambda c, a: (
            f"refused: the signature is not {a['signer']}'s for this message (signed for another "
            "journey, chain, contract or text, or refused by the contract wallet)"
        ),
    ),
    "ActionExpired": (
        SignatureError,
        lambda c, a: f"refused: the signed action expired at {when(a['deadline'])}",
    ),
    "StaleAction": (
        SignatureError,
        lambda c, a: (
            f"refused: the action was signed over another state of journey {c.journey(a['journeyId'])} "
            f"(it is at step {a['currentStep']} now): applied already, or signed too early; sign it again"
        ),
    ),
    "NonceRequired": (
        SignatureError,
        lambda c, a: (
            "refused: only an opening, a step completion or a flag is bound to a journey's state: "
            "sign this action with a one-time nonce"
        ),
    ),
    "NonceUsed": (
        SignatureError,
        lambda c, a: (
            f"refused: {a['signer']} spent one-time nonce {a['nonce']} already (a replay, or cancelled)"
        ),
    ),
    "ZeroNonce": (SignatureError, lambda c, a: "refused: nonce 0 is not a one-time number"),
    "RelayTarget": (
        SignatureError,
        lambda c, a: "refused: an action cannot target the step relay itself (a batch inside a batch)",
    ),
    "StaleNonce": (
        SignatureError,
        lambda c, a: (
            f"refused: the customer's signature carries nonce {a['nonce']}, but journey "
            f"{c.journey(a['journeyId'])} expects {a['expected']} (a replay, or signed too early)"
        ),
    ),
    "NotVoice": (
        SignatureError,
        lambda c, a: (
            f"refused: {a['caller']} is not the customer voice, which alone relays the customer's "
            "disputes and ratings and signed rulebook acceptances"
        ),
    ),
    "NotCustomer": (
        SignatureError,
        lambda c, a: f"refused: {a['signer']} is not the customer of journey {c.journey(a['journeyId'])}",
    ),
    "ParticipantAsCustomer": (
        SignatureError,
        lambda c, a: (
            f"refused: {a['account']} is a participant, and a participant can never be the customer "
            f"of journey {c.journey(a['journeyId'])}"
        ),
    ),
    "StaleSignature": (
        SignatureError,
        lambda c, a: (
            f"refused: the customer signed journey {c.journey(a['journeyId'])} as it stood before its "
            "latest step: sign again over its history now"
        ),
    ),
    "HistoryMismatch": (
        SignatureError,
        lambda c, a: (
            f"refused: the step records given do not match journey {c.journey(a['journeyId'])}'s rolling hash"
        ),
    ),
    "InvalidScore": (SignatureError, lambda c, a: f"refused: a rating is 1 to 5, not {a['score']}"),
    "AlreadyRated": (
        SignatureError,
        lambda c, a: (
            f"refused: {c.step(a['journeyId'], a['step'])} of journey {c.journey(a['journeyId'])} "
            "is rated already"
        ),
    ),
    "VerifierConfirmationOff": (
        SignatureError,
        lambda c, a: f"refused: playbook {a['playbookId']} does not let a verifier confirm value",
    ),
    "WindowNotElapsed": (
        SignatureError,
        lambda c, a: (
            f"refused: the confirmation window of journey {c.journey(a['journeyId'])} "
            + (
                f"is open until {when(a['releaseAt'])}; the pool can be released after that"
                if a["releaseAt"]
                else "does not exist or has not started"
            )
        ),
    ),
    "ECDSAInvalidSignature": (SignatureError, lambda c, a: "refused: the signature is not valid"),
    "ECDSAInvalidSignatureLength": (
        SignatureError,
        lambda c, a: f"refused: a signature of {a['length']} bytes is not valid",
    ),
    "ECDSAInvalidSignatureS": (SignatureError, lambda c, a: "refused: the signature is malleable"),
    "ERC2612ExpiredSignature": (
        SignatureError,
        lambda c, a: f"refused: the permit expired at {when(a['deadline'])}",
    ),
    "ERC2612InvalidSigner": (
        SignatureError,
        lambda c, a: f"refused: the permit is {a['signer']}'s, not {a['owner']}'s",
    ),
    "StringTooLong": (
        SignatureError,
        lambda c, a: f"refused: the signing domain name {a['str']!r} is too long",
    ),
    "InvalidShortString": (
        SignatureError,
        lambda c, a: "refused: the signing domain name is not a short string",
    ),
    "InvalidAccountNonce": (
        SignatureError,
        lambda c, a: f"refused: {a['account']}'s nonce is {a['currentNonce']}",
    ),
    # --- disputes
    "AlreadyDisputed": (
        DisputeError,
        lambda c, a: (
            f"refused: {c.step(a['journeyId'], a['step'])} of journey {c.journey(a['journeyId'])} "
            "was disputed once already"
        ),
    ),
    "NoOpenDispute": (
        DisputeError,
        lambda c, a: f"refused: journey {c.journey(a['journeyId'])} has no open dispute",
    ),
    "ArbiterConflict": (
        DisputeError,
        lambda c, a: (
            f"refused: {a['arbiter']} completed a step of journey {c.journey(a['journeyId'])} or funds "
            "it: another arbiter must resolve the dispute"
        ),
    ),
    "DisputeWindowPassed": (
        DisputeError,
        lambda c, a: (
            f"refused: the arbiter's window for journey {c.journey(a['journeyId'])} closed at "
            f"{when(a['closedAt'])}: anyone may close the dispute by the playbook's fallback "
            "(`journey close-dispute`)"
        ),
    ),
    "DisputeWindowOpen": (
        DisputeError,
        lambda c, a: (
            f"refused: the arbiter has until {when(a['closesAt'])} to resolve journey "
            f"{c.journey(a['journeyId'])}'s dispute"
        ),
    ),
    # --- calendars
    "UnknownStepCalendar": (
        PlaybookRuleError,
        lambda c, a: (
            f"refused: step {a['step'] + 1} names calendar {a['calendar']}, which is not published "
            "(declare it under calendars: in the playbook, and it is published with it)"
        ),
    ),
    "CustomerStepCalendar": (
        PlaybookRuleError,
        lambda c, a: (
            f"refused: step {a['step'] + 1} is the customer's, whose clock is wall-clock time: "
            "it names no calendar"
        ),
    ),
    "UnknownCalendar": (PlaybookRuleError, lambda c, a: f"calendar {a['id']} is not published"),
    "NoWorkingTime": (
        PlaybookRuleError,
        lambda c, a: "refused: a calendar needs some working time in its week",
    ),
    "InvalidWindow": (
        PlaybookRuleError,
        lambda c, a: f"refused: weekday {a['day']}'s working window is not within its day, opening first",
    ),
    "InvalidOffset": (
        PlaybookRuleError,
        lambda c, a: f"refused: UTC offset {a['offset']} minutes is outside -12:00 to +14:00",
    ),
    "TooManyHolidays": (
        PlaybookRuleError,
        lambda c, a: f"refused: a calendar lists at most 64 holidays, not {a['count']}",
    ),
    "HolidaysNotAscending": (
        PlaybookRuleError,
        lambda c, a: f"refused: holiday {a['index'] + 1} is not after the one before it, or past 2149",
    ),
    "TooManyCalendars": (PlaybookRuleError, lambda c, a: "refused: 255 calendars are published already"),
    "DeadlineOutOfRange": (
        PlaybookRuleError,
        lambda c, a: "refused: that deadline lies past the year 36812, beyond what a journey keeps",
    ),
    # --- claims
    "NothingToClaim": (ClaimError, lambda c, a: f"{a['account']} has nothing to claim"),
}


def _hex_bytes(value: Any) -> bytes | None:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str) and value.startswith("0x"):
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            return None
    return None


def revert_data(error: Any, _depth: int = 0) -> bytes | None:
    """The revert data in a node's error, whatever its shape: an exception (web3's
    ContractLogicError or Web3RPCError, whose `data` or first argument holds it), the
    JSON-RPC error object, or its `data` field: a hex string (anvil, geth, hardhat),
    `{"result": "0x.."}` (ganache 7), `{"<tx hash>": {"return": "0x.."}}` (ganache 6) or
    `{"data": "0x.."}`. None when the error carries none."""
    if _depth > 4:
        return None
    if isinstance(error, BaseException):
        candidates = (getattr(error, "data", None), getattr(error, "rpc_response", None), *error.args[:1])
        for candidate in candidates:
            found = revert_data(candidate, _depth + 1)
            if found is not None:
                return found
        return None
    found = _hex_bytes(error)
    if found is not None or not isinstance(error, dict):
        return found
    if "error" in error and isinstance(error["error"], dict):  # a whole JSON-RPC response
        return revert_data(error["error"], _depth + 1)
    for key in _DATA_KEYS:
        if key == "result" and error.get("hash") and error.get("result") == error["hash"]:
            continue  # ganache's answer to a transaction it mined: the result is its hash
        if key in error:
            found = revert_data(error[key], _depth + 1)
            if found is not None:
                return found
    for key, value in error.items():  # ganache 6: keyed by the transaction's hash
        if isinstance(key, str) and key.startswith("0x") and isinstance(value, dict):
            found = revert_data(value, _depth + 1)
            if found is not None:
                return found
    return None


def mined_transaction(error: Any) -> str | None:
    """The hash of the reverted transaction that ganache (vmErrorsOnRPCResponse) names in its
    answer to eth_sendRawTransaction: it mined the transaction, and says so as an error."""
    if isinstance(error, BaseException):
        for candidate in (
            getattr(error, "data", None),
            getattr(error, "rpc_response", None),
            *error.args[:1],
        ):
            found = mined_transaction(candidate) if isinstance(candidate, dict) else None
            if found is not None:
                return found
        return None
    data = error
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        data = data["error"]
    if isinstance(data, dict) and isinstance(data.get("data"), dict):
        data = data["data"]
    tx_hash = data.get("hash") if isinstance(data, dict) else None
    if isinstance(tx_hash, str) and tx_hash.startswith("0x") and len(tx_hash) == 66:
        return tx_hash
    return None


def _canonical(param: dict[str, Any]) -> str:
    kind = param["type"]
    if kind.startswith("tuple"):
        return "(" + ",".join(_canonical(p) for p in param["components"]) + ")" + kind[5:]
    return kind


def _normalise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return to_checksum_address(value)
    return value


class Decoder:
    """Decodes revert data with the errors of a set of ABIs."""

    def __init__(self, abi: list[dict[str, Any]]):
        self._errors: dict[bytes, tuple[str, list[str], list[str]]] = {}
        for entry in abi:
            if entry.get("type") != "error":
                continue
            inputs = entry.get("inputs", [])
            types = [_canonical(i) for i in inputs]
            selector = keccak(text=f"{entry['name']}({','.join(types)})")[:4]
            names = [i.get("name") or f"arg{n}" for n, i in enumerate(inputs)]
            self._errors[selector] = (entry["name"], types, names)

    def names(self) -> set[str]:
        return {name for name, _, _ in self._errors.values()}

    def decode(self, data: bytes | str, context: Context | None = None) -> RuleError:
        """The exception for revert data (the 4-byte selector and the ABI-encoded arguments)."""
        context = context or Context()
        if isinstance(data, str):
            data = bytes.fromhex(data[2:] if data.startswith("0x") else data)
        data = bytes(data)
        if len(data) < 4:
            return RuleError("the chain refused the transaction without a reason")
        selector, body = data[:4], data[4:]
        if selector == ERROR_SELECTOR:
            (reason,) = decode(["string"], body)
            return RuleError(f"refused: {reason}", "Error", {"reason": reason})
        if selector == PANIC_SELECTOR:
            (code,) = decode(["uint256"], body)
            return RuleError(
                f"refused: the contract panicked ({PANICS.get(code, hex(code))})", "Panic", {"code": code}
            )
        known = self._errors.get(selector)
        if known is None:
            return RuleError(f"the chain refused the transaction (unknown error 0x{data[:4].hex()})")
        name, types, names = known
        try:
            values = decode(types, body)
        except Exception:  # malformed arguments: still name the rule
            values = ()
            names = []
        args = {n: _normalise(v) for n, v in zip(names, values, strict=False)}
        if len(args) != len(types):
            family = RULES.get(name, (RuleError, None))[0]
            shown = ", ".join(f"{k}={v}" for k, v in args.items())
            return family(f"refused: {name}({shown})", name, args)
        return refusal(name, args, context)


def refusal(name: str, args: dict[str, Any], context: Context | None = None) -> RuleError:
    """The exception of the custom error `name` with its arguments `args`, as the chain's revert
    decodes to: its family, its sentence, its exit code. The SDK raises it when it knows a call
    would be refused before sending it (the context's `action` names the call)."""
    family, sentence = RULES.get(name, (RuleError, None))
    if sentence is None:
        shown = ", ".join(f"{k}={v}" for k, v in args.items())
        return family(f"refused: {name}({shown})", name, args)
    error = family(sentence(context or Context(), args), name, args)
    if name in UNKNOWN_THINGS:
        error.exit_code = 2  # the user named something that does not exist: bad input
    return error
