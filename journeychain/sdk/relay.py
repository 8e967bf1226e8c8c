"""Signed steps, relayed in batches: the step relay (contracts/StepRelay.sol).

    action = sales.relay.sign(sales.engine.functions.completeStep(jid, [], [], org, ZERO))
    batch = relayer.relay.batch().add(action).add(other_action)
    result = batch.send()                  # one transaction; result.receipt, result.refused

A participant signs the engine (or registry) call it would have made; anyone relays many such
actions, of many participants and journeys, in one transaction, each applied as its signer's own
call. An opening, a step completion or a flag is bound to the journey's step and rolling hash
(read from the chain when `at` is not given: sign over the state the action will find); any
other call carries a fresh one-time nonce. A refused action is left out on chain with its
reason, which `send` turns into the rule's sentence in `result.refused`; `atomic=True` makes one
refusal revert the batch.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes
from web3.logs import DISCARD

from journeychain.errors import JourneyError
from journeychain.sdk.core import Part
from journeychain.sdk.types import SIGNATURE_LIFETIME
from journeychain.signing import relay_action, sign_action, with_signature
from journeychain.tx import Receipt

_OPEN = keccak(text="openJourney(bytes32,uint16,bytes16,address,address)")[:4]
_COMPLETE = keccak(text="completeStep(bytes32,(bytes32,bytes32)[],address[],uint32,address)")[:4]
#: The engine calls bound to a journey's state (nonce 0): the relay checks its rolling hash.
STATE_BOUND = {_OPEN, _COMPLETE, keccak(text="flagBreach(bytes32)")[:4]}


@dataclass
class RelayResult:
    """A relayed batch: its receipt, the index of each applied action and each refused one with
    its refusal (the rule's sentence)."""

    receipt: Receipt
    applied: list[int] = field(default_factory=list)
    refused: list[tuple[int, JourneyError]] = field(default_factory=list)


class Relay(Part):
    """The step relay as this client's account uses it: signing actions, relaying batches."""

    @property
    def contract(self) -> Any:
        """The step relay the engine trusts (the deployment's, else the registry's forwarder)."""
        core = self._core
        cached = core.chain.cache.get(f"relay:{core.deployment.engine}")
        if cached is None:
            address = core.deployment.relay or self._registry.functions.trustedForwarder().call()
            cached = core.chain.w3.eth.contract(
                address=to_checksum_address(address), abi=core.build["StepRelay"].abi
            )
            core.chain.cache[f"relay:{core.deployment.engine}"] = cached
        return cached

    def sign(
        self,
        call: Any,
        *,
        at: bytes | None = None,
        nonce: int | None = None,
        deadline: int | None = None,
    ) -> tuple:
        """This account's signed Action for `call` (`contract.functions.name(...)` of the engine or
        its registry). A state-bound call (opening, step completion, flag) is signed over `at`
        (a rolling hash, which names the step), by default the journey's now (an opening: not
        opened yet); any other call over `nonce`, by default a fresh random one-time number. A
        step completion's
        signature expires by default no later than the step's deadline, while that is ahead: a
        relayer cannot hold it until the step is late and have the breach recorded against the
        signer (a completion signed once the deadline passed is late whenever it lands)."""
        data = bytes(HexBytes(call._encode_transaction_data()))
        head = b"\x00" * 20
        if nonce is None and data[:4] in STATE_BOUND:
            nonce = 0
            if at is not None:
                head = bytes(at)
            elif data[:4] != _OPEN:
                head = bytes(self._engine.functions.currentHead(data[4:36]).call()[1])
        elif nonce is None:
            nonce = secrets.randbelow(2**64 - 1) + 1
        action = relay_action(
            self.address,
            to_checksum_address(call.address),
            data,
            head=head,
            nonce=nonce,
            deadline=deadline if deadline is not None else self._default_deadline(data),
        )
        signature = sign_action(self._signer().key, self.chain.chain_id, self.contract.address, action)
        return with_signature(action, signature)

    def _default_deadline(self, data: bytes) -> int:
        """The signature's lifetime, cut to the step's deadline for a completion due later."""
        now = self.chain.now()  # read once: the lifetime and the comparison use the same moment
        default = now + SIGNATURE_LIFETIME
        if data[:4] != _COMPLETE:
            return default
        step_deadline = int(self._engine.functions.journey(data[4:36]).call()[4])
        if step_deadline != 0 and now < step_deadline < default:
            return step_deadline
        return default

    def own(self, call: Any) -> tuple:
        """This account's own unsigned action (the relayer's call, as if it sent `call` itself):
        a customer's signed confirmation, say, relayed with the participants' steps."""
        data = bytes(HexBytes(call._encode_transaction_data()))
        return relay_action(self.address, to_checksum_address(call.address), data, deadline=0)

    def batch(self) -> RelayBatch:
        """Signed actions gathered to be relayed by this account in one transaction."""
        return RelayBatch(self._core, self)


class RelayBatch(Part):
    """Signed actions (of any signers) to be relayed in one transaction of this client's account."""

    def __init__(self, core: Any, relay: Relay):
        super().__init__(core)
        self._relay = relay
        self.actions: list[tuple] = []

    def __len__(self) -> int:
        return len(self.actions)

    def add(self, action: tuple) -> RelayBatch:
        """Adds a signed action (`Relay.sign`) or this account's own (`Relay.own`)."""
        self.actions.append(tuple(action))
        return self

    def send(self, *, atomic: bool = False) -> RelayResult:
        """Relays the gathered actions in one transaction. Not atomic: each refused action is left
        out on chain and named in `refused` with the rule's sentence; atomic: one refusal reverts
        the batch, raised as the rule's sentence before anything is sent (the estimate)."""
        if not self.actions:
            raise JourneyError("an empty batch: add signed actions first")
        contract = self._relay.contract
        count = len(self.actions)
        receipt = self._send(contract.functions.relay(list(self.actions), atomic))
        self.actions = []
        logs = contract.events.ActionRefused().process_receipt(receipt.raw, errors=DISCARD)
        decoder, context = self._core.decoder, self._core.context
        refused: list[tuple[int, JourneyError]] = []
        for event in logs:
            refused.append(
                (int(event["args"]["index"]), decoder.decode(bytes(event["args"]["reason"]), context))
            )
        skipped = {i for i, _ in refused}
        return RelayResult(receipt, [i for i in range(count) if i not in skipped], refused)
