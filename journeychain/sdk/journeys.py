"""The client's journeys part: open a journey, complete its steps, breaches and where it stands."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from journeychain.accounts import checksum
from journeychain.encoding import (
    ZERO32,
    commit,
    customer_commitment,
    customer_subject,
    evidence_hash,
    field_pairs,
    new_salt,
    rolling_head,
    short_name,
)
from journeychain.errors import ConfigError, JourneyRuleError, RuleError
from journeychain.journal import Intent
from journeychain.playbook import CUSTOMER, Playbook, check_evidence, check_evidence_keys
from journeychain.reverts import STATUSES
from journeychain.sdk.core import Part
from journeychain.sdk.types import (
    ZERO,
    EvidenceStore,
    FieldEvidence,
    JourneyEntry,
    JourneyState,
    OpenedJourney,
    StepRecord,
    StepResult,
    _address_or_none,
    _hex,
)
from journeychain.tx import Receipt


@dataclass(frozen=True)
class _Position:
    """A journey's playbook and current step, as `Journeys._position` reads them."""

    journey_id: str
    reference: str | None
    playbook_id: int
    step: int
    step_name: str | None


class Journeys(Part):
    """One customer's run through a playbook: open, complete steps, breaches, escalation,
    cancel, expire, and where it stands.

    `client.journeys.complete_step(...)`; the engine's journeys.
    """

    def journey(self, journey: str | bytes) -> JourneyState:
        """The journey's state (UnknownJourney's sentence if there is none)."""
        jid = self.journey_id(journey)
        pid, step, status, assignee, deadline, breaches, flagged, pool, funder = self._call(
            self._engine.functions.journey(jid)
        )
        _owner, org = self._engine.functions.ownerOf(jid).call()
        customer, head = self._engine.functions.journeyCommitments(jid).call()
        at_risk, warn_at, _deadline = self._engine.functions.stepAtRisk(jid).call()
        try:
            steps = self._core.playbooks.playbook(pid).playbook.steps
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
            at_risk=bool(at_risk),
            warn_at=int(warn_at) or None,
        )

    def __call__(self, playbook_id: int | None = None) -> list[JourneyEntry]:
        """`client.journeys(...)`, as it always was: every journey opened on this deployment."""
        return self.journeys(playbook_id)

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

    def step_index(self, journey: str | bytes, step: int | str) -> int:
        """A step number from a number or a step name of the journey's playbook."""
        playbook = self._core.playbooks.playbook(self.journey(journey).playbook_id).playbook
        if isinstance(step, int) or (isinstance(step, str) and step.isdigit()):
            if not 0 <= int(step) < len(playbook.steps):
                raise ConfigError(
                    f"playbook {playbook.name!r} has no step {step}: its steps run from 0 to "
                    f"{len(playbook.steps) - 1}"
                )
            return int(step)
        return playbook.step_index(step)

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
        organisation, or by `assignee`. Where the funder's standing budget for the playbook
        funds the pool at opening, the result's `pool` says how much."""
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
        funded = receipt.events.get("PoolFunded") or []
        return OpenedJourney(
            _hex(jid),
            reference,
            playbook_id,
            _hex(commitment),
            signer,
            _hex(profile),
            int(event["deadline"]),
            receipt,
            int(funded[0]["pool"]) if funded else 0,
        )

    def complete_step(
        self,
        journey: str | bytes,
        fields: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        assign: str | None = None,
        vault: EvidenceStore | None = None,
        org: int | str | None = None,
        attesters: Sequence[str] | None = None,
        step: int | None = None,
    ) -> StepResult:
        """Completes the journey's current step with `fields` (name -> value, or (name, value)
        pairs); with `step`, only if that is the journey's current step.

        Safe to retry: the transaction is recorded in the journal (journeychain.journal) with the
        step it targets before it is sent. When an earlier call of this account on this journey
        lost its reply and its transaction was mined, a retry answers with that step (its
        receipt's `already` is set) and sends nothing: it never acts on the next step.

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
        intent = f"completeStep:{_hex(jid)}"
        found = self._sender().recall(intent)
        if found is not None:
            _entry, mined = found
            mined.events = self._core._decode_events(mined.raw)
            mined.already = True
            return self._step_result(jid, mined, [], None)
        state = self._position(jid)
        playbook = self._core.playbooks.playbook(state.playbook_id).playbook
        if step is not None and step != state.step:
            raise JourneyRuleError(
                f"journey {state.reference or state.journey_id} is at step {state.step} "
                f"({state.step_name}), not at step {step}: nothing was sent"
            )
        if state.step < len(playbook.steps):
            fields = check_evidence(playbook.steps[state.step], fields or {}, self._step_where(state))
        else:
            fields = dict(fields or {})
        required = playbook.steps[state.step].fields if state.step < len(playbook.steps) else ()
        order = [f for f in required if f in fields] + [f for f in fields if f not in required]
        ordered = {name: str(fields[name]) for name in order}
        pending = None
        if vault is not None:
            pending = vault.prepare_step(self._core.deployment.key, jid, state.step, ordered)
            salts = list(pending.salts)
        else:
            salts = [new_salt() for _ in ordered]
        evidence = [
            FieldEvidence(name, value, _hex(salt), _hex(commit(value, salt)))
            for (name, value), salt in zip(ordered.items(), salts, strict=True)
        ]
        sent = [(short_name(e.name), bytes.fromhex(e.commitment[2:])) for e in evidence]
        org_id = self._next_org(playbook, state.step, org, assign)
        chosen = self._core.attestations._attesters(jid, playbook, state.step, attesters)
        call = self._engine.functions.completeStep(
            jid, sent, chosen, org_id, checksum(assign) if assign else ZERO
        )
        try:
            receipt = self._send(call, Intent(intent, _hex(jid), state.step))
        except RuleError:
            # Refused before anything was mined: the pending evidence has no step to stand for.
            # Any other failure (a dead node after sending) leaves it pending for reconcile.
            if vault is not None and pending is not None:
                vault.discard(pending)
            raise
        if vault is not None and pending is not None:
            vault.confirm(pending, receipt.tx_hash, receipt.block)
        return self._step_result(jid, receipt, evidence, playbook)

    def _step_result(
        self, jid: bytes, receipt: Receipt, evidence: list[FieldEvidence], playbook: Playbook | None
    ) -> StepResult:
        """The completed step as its StepCompleted event tells it."""
        event = receipt.events["StepCompleted"][0]
        step = int(event["step"])
        if playbook is None:
            playbook = self._core.playbooks.playbook(self._playbook_id(jid)).playbook
        return StepResult(
            journey_id=_hex(jid),
            reference=self.reference(jid),
            step=step,
            step_name=playbook.steps[step].name,
            by=event["by"],
            late=bool(event["late"]),
            evidence_hash=_hex(evidence_hash(field_pairs(event["fields"]))),
            fields=evidence,
            next_assignee=_address_or_none(event["nextAssignee"]),
            next_org=int(event["nextOrg"]) or None,
            next_deadline=int(event["nextDeadline"]),
            receipt=receipt,
        )

    def _next_org(self, playbook: Playbook, step: int, org: int | str | None, assign: str | None) -> int:
        """The organisation to name for the step after `step`: `org` when given; else, when no
        assignee is named either and the completer holds the next step's role, its own
        organisation (a rep who accepts a lead keeps the booking); else none (the engine then
        refuses unless the next step is the customer's)."""
        if org is not None:
            return self._core.participants.organisation_id(org)
        nxt = step + 1
        if assign or nxt >= len(playbook.steps) or playbook.steps[nxt].role == CUSTOMER:
            return 0
        if not self._core.participants.has_role(self.address, playbook.steps[nxt].role):
            return 0
        return self._core.participants.participant_record(self.address)[2]

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
        state = self._position(jid)
        playbook = self._core.playbooks.playbook(state.playbook_id).playbook
        if state.step < len(playbook.steps):
            check_evidence_keys(
                playbook.steps[state.step], [k for k, _ in field_pairs(fields)], self._step_where(state)
            )
        return self._send(
            self._engine.functions.completeStep(
                jid,
                field_pairs(fields),
                self._core.attestations._attesters(jid, playbook, state.step, attesters),
                self._core.participants.organisation_id(org) if org is not None else 0,
                checksum(assign) if assign else ZERO,
            )
        )

    def _position(self, jid: bytes) -> _Position:
        """Where the journey stands, in one read (its playbook and current step): what a step
        completion needs of its state."""
        pid, step = self._call(self._engine.functions.journey(jid))[:2]
        try:
            steps = self._core.playbooks.playbook(pid).playbook.steps
            name = steps[step].name if step < len(steps) else None
        except Exception:  # the playbook's event is out of reach: show the number only
            name = None
        return _Position(_hex(jid), self.reference(jid), int(pid), int(step), name)

    @staticmethod
    def _step_where(state: JourneyState | _Position) -> str:
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
        done = [(i, r.by, r.late, r.evidence) for i, r in enumerate(history[:-1])]
        head = rolling_head(jid, self._playbook_id(jid), self.customer_of(jid), done)
        return head, history[-1].as_tuple()

    def cancel(self, journey: str | bytes) -> Receipt:
        """Cancels a journey before booking (ADMIN), or one still at its first step once that step
        is late, or at any time where it has no deadline (the journey's funder); the pool returns
        to the funder."""
        return self._send(self._engine.functions.cancel(self.journey_id(journey)))

    def expire(self, journey: str | bytes) -> Receipt:
        """Expires a journey past the customer's deadline (anyone may); the pool returns to the funder."""
        return self._send(self._engine.functions.expire(self.journey_id(journey)))

    def customer_of(self, journey: str | bytes) -> bytes:
        """The journey's customer commitment (16 bytes)."""
        customer, _head = self._engine.functions.journeyCommitments(self.journey_id(journey)).call()
        return bytes(customer)

    def customer_subject_of(self, journey: str | bytes) -> bytes:
        """The subject of attestations about the journey's customer: keccak256 of the journey id
        and its commitment (what a step that requires such an attestation checks)."""
        jid = self.journey_id(journey)
        return customer_subject(jid, self.customer_of(jid))

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

    def _playbook_id(self, jid: bytes) -> int:
        return self.journey(jid).playbook_id
