"""Many engine calls of one sender in one transaction: the engine's `multicall`.

    batch = client.batch()
    batch.flag_breach("OPP-1").flag_breach("OPP-2")
    batch.complete_step("OPP-3", {"lead_source": "webinar"}, assign=rep)
    result = batch.send()                      # one transaction; result.receipt, result.refused

The engine's multicall (OpenZeppelin's Multicall) runs every call as the sender and reverts
them all when one reverts. `send()` therefore estimates the whole batch first (the estimate is a
simulation): when it passes, it is sent as it is. When it does not, by default the refusal of the call
that failed is raised, its rule's sentence, and nothing is sent (all or nothing); with
`skip_refused=True` each call is simulated alone, the refused ones are left out (each named in
`result.refused` with its refusal) and the others are sent in one transaction.

A simulation runs on the latest block: a call that only fails once mined (another sender went
first) still reverts the batch on chain, with the rule's sentence.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from journeychain.accounts import checksum
from journeychain.encoding import commit, new_salt, short_name
from journeychain.errors import JourneyError, RuleError
from journeychain.sdk.core import Part
from journeychain.sdk.types import ZERO, FieldEvidence, _hex
from journeychain.tx import Receipt

log = logging.getLogger("journeychain.keeper")


@dataclass
class BatchResult:
    """A sent batch: its receipt (None when every call was refused), the index of each call it
    carried, and each call left out with its refusal."""

    receipt: Receipt | None
    sent: list[int] = field(default_factory=list)
    refused: list[tuple[int, JourneyError]] = field(default_factory=list)


class Batch(Part):
    """Engine calls gathered to be sent as one transaction of this client's account."""

    def __init__(self, core: Any):
        super().__init__(core)
        self.calls: list[Any] = []
        #: the evidence (values, salts, commitments) of each complete_step, by call index
        self.evidence: dict[int, list[FieldEvidence]] = {}

    def __len__(self) -> int:
        return len(self.calls)

    def add(self, call: Any) -> Batch:
        """Adds an engine call (`client.engine.functions.name(...)`)."""
        if getattr(call, "address", None) != self._engine.address:
            raise JourneyError("a batch carries the engine's own calls only (its multicall runs them)")
        self.calls.append(call)
        return self

    def flag_breach(self, journey: str | bytes) -> Batch:
        return self.add(self._engine.functions.flagBreach(self.journey_id(journey)))

    def expire(self, journey: str | bytes) -> Batch:
        return self.add(self._engine.functions.expire(self.journey_id(journey)))

    def open_journey(
        self,
        reference: str,
        commitment: bytes,
        *,
        funder: str,
        playbook_id: int = 1,
        assignee: str | None = None,
    ) -> Batch:
        """Opens a journey for the customer commitment `commitment` (encoding.customer_commitment)."""
        return self.add(
            self._engine.functions.openJourney(
                self.journey_id(reference),
                playbook_id,
                bytes(commitment),
                checksum(assignee) if assignee else ZERO,
                checksum(funder),
            )
        )

    def complete_step(
        self,
        journey: str | bytes,
        fields: Mapping[str, str] | None = None,
        *,
        assign: str | None = None,
        org: int = 0,
        attesters: list[str] | None = None,
    ) -> Batch:
        """Completes the journey's current step (as it will be when the call runs) with `fields`,
        each committed with a fresh salt (kept in `self.evidence`); nothing is read from the chain:
        the organisation is a number, and each attestation's attester is named."""
        evidence = []
        for name, value in (fields or {}).items():
            salt = new_salt()
            evidence.append(FieldEvidence(name, str(value), _hex(salt), _hex(commit(str(value), salt))))
        self.evidence[len(self.calls)] = evidence
        pairs = [(short_name(e.name), bytes.fromhex(e.commitment[2:])) for e in evidence]
        return self.add(
            self._engine.functions.completeStep(
                self.journey_id(journey),
                pairs,
                [checksum(a) for a in attesters or []],
                int(org),
                checksum(assign) if assign else ZERO,
            )
        )

    def _multicall(self, indexes: list[int]) -> Any:
        data = [self.calls[i]._encode_transaction_data() for i in indexes]
        return self._engine.functions.multicall(data)

    def send(self, *, skip_refused: bool = False) -> BatchResult:
        """Sends the gathered calls as one transaction (see the module's note on refusals)."""
        indexes = list(range(len(self.calls)))
        if not indexes:
            return BatchResult(None)
        try:  # the estimate is the simulation of the whole batch
            receipt = self._send(self._multicall(indexes))
        except RuleError:
            if not skip_refused:
                raise
        else:
            self.calls = []
            return BatchResult(receipt, indexes)
        sender = self._sender()
        refused: list[tuple[int, JourneyError]] = []
        kept = []
        for i in indexes:
            try:
                sender.simulate(self.calls[i])
                kept.append(i)
            except RuleError as exc:
                refused.append((i, exc))
        if not kept:
            return BatchResult(None, [], refused)
        receipt = self._send(self._multicall(kept))
        self.calls = []
        return BatchResult(receipt, kept, refused)


def keeper_batch(client: Any) -> Any:
    """The keeper's batch sender over `client` (a JourneyClient): the round's flags ("flagged")
    and expiries ("expired") as one multicall, the refused ones left out; for each call, its
    transaction hash or the refusal (journeychain.keeper.BatchSender)."""

    def send(calls: Any) -> list[Any]:
        batch = client.batch()
        for kind, journey in calls:
            if kind == "flagged":
                batch.flag_breach(journey)
            elif kind == "expired":
                batch.expire(journey)
            else:
                raise JourneyError(f"the keeper batches flags and expiries, not {kind!r}")
        result = batch.send(skip_refused=True)
        outcomes: list[Any] = [None] * len(calls)
        for index in result.sent:
            outcomes[index] = result.receipt.tx_hash if result.receipt else None
        for index, refusal in result.refused:
            outcomes[index] = refusal
        if result.refused:
            log.info(
                "the batch of %d was checked call by call: %d refused, %d sent in one transaction",
                len(calls),
                len(result.refused),
                len(result.sent),
            )
        return outcomes

    return send
