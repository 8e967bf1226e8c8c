"""The client's customer part: the customer's voice, disputes and settlement."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eth_utils import to_checksum_address

from journeychain.accounts import checksum
from journeychain.customer import ACTIONS, CustomerRequest, build_typed_data, recover_signer
from journeychain.encoding import ZERO32, commit, new_salt
from journeychain.errors import CompletenessError, ConfigError, RuleError, SignatureError
from journeychain.reverts import ATTESTATION_STATES, STATUSES, refusal
from journeychain.sdk.core import Part
from journeychain.sdk.types import (
    VALUE_DELIVERED,
    Customer,
    Rating,
    StatementResult,
    StatementStore,
    _b32,
    _hex,
)
from journeychain.signing import customer_signature, sign_typed
from journeychain.tx import Receipt

#: Why a step's owner pauses its clock, as codes on chain (0: none given).
PAUSE_REASONS = {"awaiting_customer": 1, "awaiting_information": 2, "customer_unavailable": 3, "scheduled": 4}


def pause_reason(reason: str | int) -> int:
    """The code of a pause reason (a name of PAUSE_REASONS, or a code from 0 to 255)."""
    if isinstance(reason, int) and not isinstance(reason, bool):
        code = reason
    elif isinstance(reason, str) and reason in PAUSE_REASONS:
        return PAUSE_REASONS[reason]
    elif isinstance(reason, str) and reason.isdigit():
        code = int(reason)
    else:
        raise ConfigError(f"pause reason {reason!r} is none of {', '.join(PAUSE_REASONS)} (or a code 0-255)")
    if not 0 <= code <= 255:
        raise ConfigError(f"pause reason {code} is not a code from 0 to 255")
    return code


class Voice(Part):
    """The customer's voice: confirm value, dispute, rate (signed here or on the customer's own
    device), disputes resolved, settlement by attestation or by silence.

    `client.customer.customer_confirm(...)`; the customer voice contract and the engine's settlement.
    """

    def customer_confirm(self, journey: str | bytes, customer: Customer) -> Receipt:
        """The customer signs that value was delivered; the client's account relays it."""
        jid = self.journey_id(journey)
        history = [r.as_tuple() for r in self._core.journeys.history(jid)]
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
        index = self._core.journeys.step_index(jid, step)

        def call(reason_commitment: bytes) -> Any:
            sig = self._customer_sig(customer, "Dispute", jid, step=index, reason=reason_commitment)
            return self._voice.functions.dispute(jid, index, reason_commitment, sig)

        return self._statement(jid, index, "dispute_reason", reason, vault, call)

    def pause_step(self, journey: str | bytes, reason: str | int = "awaiting_customer") -> Receipt:
        """The current step's owner pauses its clock while waiting on the customer (one of
        PAUSE_REASONS, or its code): the time left is kept until it is resumed."""
        code = pause_reason(reason)
        return self._send(self._voice.functions.pauseStep(self.journey_id(journey), code))

    def resume_step(self, journey: str | bytes) -> Receipt:
        """The current step's owner resumes its paused clock: the time it had left runs from now."""
        return self._send(self._voice.functions.resumeStep(self.journey_id(journey)))

    def customer_reply(
        self,
        journey: str | bytes,
        customer: Customer,
        message: str | bytes = "",
        vault: StatementStore | None = None,
    ) -> StatementResult:
        """The customer signs a reply to a step paused while its owner waits on the customer: the
        step's clock runs again. A text `message` goes on chain as a salted commitment, kept like
        a dispute's reason."""
        jid = self.journey_id(journey)
        index = self._core.journeys.journey(jid).step

        def call(message_commitment: bytes) -> Any:
            sig = self._customer_sig(customer, "Reply", jid, message=message_commitment)
            return self._voice.functions.reply(jid, message_commitment, sig)

        return self._statement(jid, index, "reply_message", message, vault, call)

    def pause_of(self, journey: str | bytes) -> dict[str, Any]:
        """The journey's pause: its step, how often that step was paused, when it was paused
        (None: it is not paused now), the seconds its SLA had left, the deadline held meanwhile."""
        step, pauses, paused_at, left, held = self._voice.functions.pauseOf(self.journey_id(journey)).call()
        return {
            "step": int(step) if pauses else None,
            "pauses": int(pauses),
            "paused_at": int(paused_at) or None,
            "left": int(left),
            "held_until": int(held) or None,
        }

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
        index = self._core.journeys.step_index(jid, step)

        def call(comment_commitment: bytes) -> Any:
            sig = self._customer_sig(
                customer, "Rate", jid, step=index, score=int(score), comment=comment_commitment
            )
            history = [r.as_tuple() for r in self._core.journeys.history(jid)]
            return self._voice.functions.rate(jid, history, index, int(score), comment_commitment, sig)

        return self._statement(jid, index, "rating_comment", comment, vault, call)

    def _customer_sig(self, customer: Customer, primary: str, jid: bytes, **fields: Any) -> tuple:
        """The customer's signature of a `primary` message about journey `jid` (its playbook,
        `fields`, the voice's next nonce for the journey and a fresh deadline)."""
        _customer, head = self._engine.functions.journeyCommitments(jid).call()
        message = {
            "journeyId": jid,
            "playbookId": self._core.journeys._playbook_id(jid),
            **fields,
            "history": bytes(head),
        }
        nonce = self._voice.functions.nonceOf(jid).call()
        deadline = self._deadline()
        message |= {"nonce": nonce, "deadline": deadline}
        signature = sign_typed(customer.key.key, self.chain.chain_id, self._voice.address, primary, message)
        return customer_signature(customer.address, customer.profile, bytes(head), nonce, deadline, signature)

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
        state = self._core.journeys.journey(jid)
        _customer, head = self._engine.functions.journeyCommitments(jid).call()
        message: dict[str, Any] = {"journeyId": jid, "playbookId": state.playbook_id}
        index = None
        statement = None
        if action in ("dispute", "rate"):
            if step is None:
                raise ConfigError(f"a {action} request names the step")
            index = self._core.journeys.step_index(jid, step)
            kind, text = ("dispute_reason", reason) if action == "dispute" else ("rating_comment", comment)
            if vault is not None and text:
                kept = vault.prepare_statement(self._core.deployment.key, jid, index, kind, text)
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
            history = [r.as_tuple() for r in self._core.journeys.history(jid)]
            call = self._engine.functions.confirmValue(jid, history, sig)
        elif request.action == "dispute":
            call = self._voice.functions.dispute(jid, int(m["step"]), _b32(m["reason"]), sig)
        else:
            history = [r.as_tuple() for r in self._core.journeys.history(jid)]
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
                    self._core.deployment.key.tag,
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
            pending = vault.prepare_statement(self._core.deployment.key, jid, step, kind, statement)
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
        (`verifier`: whose; by default the newest valid one). Refused before anything is sent where
        the playbook does not allow it, the journey is not open at the customer's step, or there is
        no valid attestation (none at all, or not the named verifier's)."""
        jid = self.journey_id(journey)
        self._check_settlement(jid, "confirmByAttestation")
        chosen = self._value_verifier(jid, verifier)
        history = [r.as_tuple() for r in self._core.journeys.history(jid)]
        return self._send(
            self._engine.functions.confirmByAttestation(jid, history, checksum(customer), profile, chosen)
        )

    def _value_verifier(self, jid: bytes, verifier: str | None) -> str:
        """The verifier whose valid value_delivered attestation about the journey settles it:
        `verifier`, or the newest valid one; refused (CompletenessError) when there is none."""
        attestations = self._core.attestations
        label = self._core.label(jid)
        if verifier is not None:
            verifier = checksum(verifier)
            state, uid = attestations.attestation_state(VALUE_DELIVERED, jid, verifier)
            if state == "valid":
                return verifier
            its = f": its newest is {_state_words(state)}" if uid else ""
            raise CompletenessError(
                f"refused: {verifier} has no valid {VALUE_DELIVERED} attestation about journey {label}{its}",
                "AttestationNotValid",
                {"journeyId": jid, "schema": VALUE_DELIVERED, "verifier": verifier, "state": state},
            )
        found = attestations.valid_attester(VALUE_DELIVERED, jid)
        if found is not None:
            return found
        newest = next(iter(attestations.attesters_of(VALUE_DELIVERED, jid)), None)
        if newest is None:
            reason = "no verifier has attested it"
        else:
            state, _ = attestations.attestation_state(VALUE_DELIVERED, jid, newest)
            reason = f"the newest, {newest}'s, is {_state_words(state)}"
        raise CompletenessError(
            f"refused: journey {label} has no valid {VALUE_DELIVERED} attestation: {reason}",
            "AttestationNotValid",
            {"journeyId": jid, "schema": VALUE_DELIVERED, "verifier": newest, "state": "missing"},
        )

    def release(self, journey: str | bytes, customer: str, profile: bytes) -> Receipt:
        """Optimistic release once the confirmation window passed in silence (anyone may). Refused
        before anything is sent where it can never come (a playbook without a window, a journey not
        open at the customer's step); a window still open is refused with the moment it closes."""
        jid = self.journey_id(journey)
        self._check_settlement(jid, "release")
        history = [r.as_tuple() for r in self._core.journeys.history(jid)]
        return self._send(self._engine.functions.release(jid, history, checksum(customer), profile))

    def _check_settlement(self, jid: bytes, action: str) -> None:
        """Refuses, with the chain's own sentence, a settlement other than the customer's signature
        that the journey's state rules out: the playbook's option off, the journey not open, or
        not at the customer's step (the engine's order of checks varies; this one reads best)."""
        state = self._core.journeys.journey(jid)
        playbook = self._core.playbooks.playbook(state.playbook_id).playbook
        context = self._core.context
        context.action = action
        if action == "confirmByAttestation" and not playbook.verifier_may_confirm:
            raise refusal("VerifierConfirmationOff", {"playbookId": state.playbook_id}, context)
        if action == "release" and not playbook.confirm_window:
            others = "the customer's confirmation" + (
                " or a verifier's attestation" if playbook.verifier_may_confirm else ""
            )
            raise SignatureError(
                f"refused: playbook {state.playbook_id} ({playbook.name}) has no confirmation window: "
                f"journey {self._core.label(jid)} is settled only by {others}",
                "WindowNotElapsed",
                {"journeyId": jid, "releaseAt": 0},
            )
        if state.status != "open":
            status = STATUSES.index(state.status)
            raise refusal("JourneyNotOpen", {"journeyId": jid, "status": status}, context)
        if state.step != len(playbook.steps) - 1:
            raise refusal("StepNotReached", {"journeyId": jid, "step": state.step}, context)

    def resolve_dispute(self, journey: str | bytes, upheld: bool) -> Receipt:
        """Resolves the journey's open dispute (an ARBITER that owned no step and does not fund it)."""
        jid = self.journey_id(journey)
        history = [r.as_tuple() for r in self._core.journeys.history(jid)]
        return self._send(self._voice.functions.resolveDispute(jid, bool(upheld), history))

    def close_dispute(self, journey: str | bytes) -> Receipt:
        """Closes a dispute left past the arbiter's window by the playbook's fallback (anyone may)."""
        return self._send(self._voice.functions.closeDispute(self.journey_id(journey)))

    def rating_of(self, account: str) -> Rating:
        count, total = self._voice.functions.ratingOf(checksum(account)).call()
        return Rating(int(count), int(total))

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


def _state_words(state: str) -> str:
    """An attestation's state as a refusal says it ("unauthorised (its attester no longer ...)")."""
    return next((words for words in ATTESTATION_STATES if words.split(" ")[0] == state), state)
