"""The package's one error hierarchy: every failure a user can meet is a JourneyError."""

from __future__ import annotations


class JourneyError(Exception):
    """Base of every journeychain error; its message is one plain sentence."""

    exit_code = 1


class ToolchainError(JourneyError):
    """The compiler or the local chain could not be set up."""


class ConfigError(JourneyError):
    """A bad argument, file or setting given by the user."""

    exit_code = 2


class PlaybookError(ConfigError):
    """A playbook file that does not validate."""


class EvidenceError(ConfigError):
    """A step's fields refused before anything is sent: a key given twice, a required field
    left empty, or a key the playbook's step neither requires nor declares optional."""


class ChainError(JourneyError):
    """The chain could not be reached, or answered in a way no rule explains."""

    exit_code = 4


class AccountError(ConfigError):
    """An unknown account, a wrong password, or a development account off a local chain."""


class DeploymentError(ConfigError):
    """No usable deployment of the contracts on the chain in use."""


class TransactionError(JourneyError):
    """A transaction that failed for a reason no custom error names (out of gas, say)."""


class NodeRefusalError(TransactionError):
    """The node refused to take a signed transaction, which never reached the chain: the sentence
    names the account and the figures (`figures`: balance and cost, nonces or fees, in wei)."""

    def __init__(self, message: str, account: str = "", figures: dict[str, int] | None = None):
        super().__init__(message)
        self.account = account
        self.figures = figures or {}


class InsufficientFundsError(NodeRefusalError):
    """The account holds less ether than the transaction's gas (at its max fee) and value cost."""


class NonceError(NodeRefusalError):
    """The transaction's nonce is used already (too low) or leaves a gap (too high)."""


class FeeError(NodeRefusalError):
    """The fees are too low: a replacement that does not outbid the pending transaction, a max fee
    below the block's base fee, or a price below the node's minimum."""


class RuleError(JourneyError):
    """A contract refused an action; the message names the rule, in one plain sentence.

    `error` is the custom error's name and `args` its decoded arguments.
    """

    exit_code = 3

    def __init__(self, message: str, error: str = "", args: dict | None = None):
        super().__init__(message)
        self.error = error
        self.arguments = args or {}


class RulebookError(RuleError):
    """Participants and the rulebook: a missing role, a rulebook not accepted."""


class PlaybookRuleError(RuleError):
    """A playbook the engine refuses to publish, or one that does not exist."""


class JourneyRuleError(RuleError):
    """A journey's order of steps and assignees: unknown, closed, not yours, not reached."""


class DeadlineError(RuleError):
    """Deadlines and breaches: not passed yet, flagged already, not breached."""


class CompletenessError(RuleError):
    """A step without every required field or valid attestation."""


class FundingError(RuleError):
    """The escrowed pool and the token: not funded, funded by another, no allowance."""


class SignatureError(RuleError):
    """Signatures and the customer's voice: expired, wrong signer, stale nonce, not the customer."""


class DisputeError(RuleError):
    """A dispute raised twice, or none to resolve."""


class ClaimError(RuleError):
    """Nothing to claim."""


class LinkError(ConfigError):
    """A customer link that is not one, or has expired."""


class ServiceError(JourneyError):
    """A request to `journey serve` refused before anything is recorded; `status` is its HTTP status."""

    status = 400


class AuthenticationError(ServiceError):
    """No valid API token or webhook signature: unknown, missing, stale or replayed."""

    status = 401


class PermissionRefusedError(ServiceError):
    """An integration asked to act as an account it is not bound to."""

    status = 403


class NotFoundError(ServiceError):
    """No such journey, job or subscription."""

    status = 404


class IdempotencyError(ServiceError):
    """An idempotency key used again for a different request."""

    status = 409


class StepMismatchError(ConfigError):
    """A step completion written for another step than the journey's current one."""
