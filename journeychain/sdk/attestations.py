"""The client's attestations part: verifiers' attestations and which one a step uses."""

from __future__ import annotations

from collections.abc import Sequence

from journeychain.accounts import checksum
from journeychain.encoding import ZERO32, attestation_key, attestation_uid, step_subject
from journeychain.errors import CompletenessError
from journeychain.playbook import Playbook, schema_name
from journeychain.reverts import ATTESTATION_STATES
from journeychain.sdk.core import Part
from journeychain.sdk.types import VALUE_DELIVERED, ZERO, _hex
from journeychain.tx import Receipt


class Attestations(Part):
    """Verifiers' attestations about a journey's customer, the journey or a step.

    `client.attestations.attest_about(...)`; the attestation registry.
    """

    def subject_of(self, journey: str | bytes, schema: str, step: int | str | None = None) -> bytes:
        """What an attestation of `schema` about this journey is about: its customer, the journey,
        or one of its steps (`step`, by default the current one), as the schema says."""
        kind = self._core.playbooks.schema(schema).subject
        jid = self.journey_id(journey)
        if kind == "customer":
            return self._core.journeys.customer_subject_of(jid)
        if kind == "journey":
            return jid
        index = (
            self._core.journeys.journey(jid).step
            if step is None
            else self._core.journeys.step_index(jid, step)
        )
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
        """Revokes one of the account's attestations by its uid (also after the account lost the
        verifier role): the registry revokes an attester's newest attestation of a (schema,
        subject) pair, so the uid's pair is read from its Attested event. Refused before anything
        is sent when there is no such attestation, it is another's, or a newer one replaced it."""
        raw = bytes.fromhex(uid.removeprefix("0x"))
        logs = self._logs(self._registry.events.Attested, {"uid": raw})
        if not logs:
            unknown = CompletenessError(
                f"there is no attestation {_hex(raw)}", "UnknownAttestation", {"uid": raw}
            )
            unknown.exit_code = 2  # a uid that names nothing: bad input
            raise unknown
        args = logs[0]["args"]
        me = self.address
        if args["attester"] != me:
            raise CompletenessError(
                f"refused: attestation {_hex(raw)} was not made by {me}",
                "NotAttester",
                {"uid": raw, "account": me},
            )
        schema, subject = bytes(args["schema"]), bytes(args["subject"])
        newest, revoked, version = self._own_newest(schema, subject, me)
        if newest != _hex(raw):
            raise CompletenessError(
                f"refused: attestation {_hex(raw)} was replaced by {me}'s newer {newest}, which is the one "
                "that counts: revoke that",
                "AttestationReplaced",
                {"uid": raw, "newest": newest},
            )
        if revoked:
            raise CompletenessError(
                f"refused: attestation {_hex(raw)} is revoked already",
                "AttestationAlreadyRevoked",
                {"uid": raw},
            )
        return self._send(self._registry.functions.revoke(schema, subject, version))

    def revoke_about(
        self, journey: str | bytes, schema: str, step: int | str | None = None
    ) -> tuple[str, Receipt]:
        """Revokes the account's own newest attestation of `schema` about this journey's customer,
        the journey or one of its steps, named as `attest_about` names it; returns its uid. Refused
        before anything is sent when the account has no attestation of it, or revoked it already."""
        jid = self.journey_id(journey)
        subject = self.subject_of(jid, schema, step)
        me = self.address
        uid, revoked, version = self._own_newest(schema_name(schema), bytes(subject), me)
        what = f"{schema} {self.describe_subject(jid, schema, step)}"
        if uid is None:
            others = [a for a in self.attesters_of(schema, subject) if a != me]
            but = f" ({', '.join(others)} attested it: a verifier revokes only its own)" if others else ""
            raise CompletenessError(
                f"refused: {me} has no attestation of {what} to revoke{but}",
                "NoAttestation",
                {"schema": schema_name(schema), "subject": bytes(subject), "attester": me},
            )
        if revoked:
            raise CompletenessError(
                f"refused: {me}'s attestation of {what} ({uid}) is revoked already",
                "AttestationAlreadyRevoked",
                {"uid": bytes.fromhex(uid[2:])},
            )
        return uid, self._send(self._registry.functions.revoke(schema_name(schema), bytes(subject), version))

    def _own_newest(self, schema: bytes, subject: bytes, attester: str) -> tuple[str | None, bool, int]:
        """`attester`'s newest attestation of `schema` about `subject`, from the engine's record
        (one call): its uid (None: it never attested them), whether it is revoked, and its
        version, which a revocation names."""
        exists, _expiry, revoked, version = self._engine.functions.attestationRecord(
            attestation_key(schema, subject, attester)
        ).call()
        if not exists:
            return None, False, 0
        return _hex(attestation_uid(schema, subject, attester, int(version))), bool(revoked), int(version)

    def describe_subject(self, journey: str | bytes, schema: str, step: int | str | None = None) -> str:
        """What an attestation of `schema` about this journey is about, in words: "about the
        customer of journey OPP-1", "about journey OPP-1", "about step 4 (...) of journey OPP-1"."""
        jid = self.journey_id(journey)
        kind = self._core.playbooks.schema(schema).subject
        label = self._core.label(jid)
        if kind == "customer":
            return f"about the customer of journey {label}"
        if kind == "journey":
            return f"about journey {label}"
        index = (
            self._core.journeys.journey(jid).step
            if step is None
            else self._core.journeys.step_index(jid, step)
        )
        return f"about {self._core.context.step(jid, index)} of journey {label}"

    def attestation_state(self, schema: str, subject: bytes, attester: str) -> tuple[str, str | None]:
        """`attester`'s newest attestation of `schema` about `subject`, as a step sees it: its
        state (missing, valid, expired, revoked or unauthorised) and uid (None when missing)."""
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
        return self._pick(schema, subject)[0]

    def _pick(self, schema: str, subject: bytes) -> tuple[str | None, str | None]:
        """The newest valid attester of `schema` about `subject` and the newest at all, from one
        scan of the registry's logs."""
        candidates = self.attesters_of(schema, subject)
        for attester in candidates:
            if self.attestation_state(schema, subject, attester)[0] == "valid":
                return attester, candidates[0]
        return None, candidates[0] if candidates else None

    def _attesters(self, jid: bytes, playbook: Playbook, step: int, given: Sequence[str] | None) -> list[str]:
        """The attester named for each attestation step `step` requires: `given`, or the newest
        valid one of each (else the newest at all, whose state the engine's refusal names)."""
        if given is not None:
            return [checksum(a) for a in given]
        if step >= len(playbook.steps):
            return []
        kinds = {s.name: s.subject for s in playbook.schemas}
        chosen = []
        for name in playbook.steps[step].attestations:
            kind = kinds.get(name)
            if kind == "journey":
                subject = jid
            elif kind == "step":
                subject = step_subject(jid, step)
            else:  # the customer's, or a schema the playbook does not describe: ask the registry
                subject = self.subject_of(jid, name, step)
            valid, newest = self._pick(name, subject)
            chosen.append(valid or newest or ZERO)
        return chosen
