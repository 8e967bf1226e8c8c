"""The evidence vault: values and salts kept off chain, proven against the chain, forgotten on request.

These tests run the SDK against a private anvil of their own (a free port), with the vault
in a temporary folder.
"""

from __future__ import annotations

import dataclasses
import sqlite3

import pytest

from journeychain.demo import network
from journeychain.encoding import commit, evidence_hash, field_pairs, journey_id
from journeychain.errors import CompletenessError, ConfigError
from journeychain.timeline import fetch_events, hexstr
from journeychain.tx import Sender
from journeychain.vault import ProofError, Vault


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    with network(tmp_path_factory.mktemp("vault")) as (chain, crew):
        yield chain, crew


def booked(crew, ref: str) -> None:
    """A journey taken through booking, every step's evidence kept in the vault."""
    crew.open(ref, assignee=crew.marketing)
    crew.qualify(ref, crew.rep_a)
    crew.complete(ref, crew.rep_a, {"accepted_note": "call booked"})
    crew.fund(ref)
    crew.attest_identity(ref)
    crew.book(ref, crew.rep_a)


def prove(chain, crew, ref: str, step: int, field: str):
    return crew.vault.prove(chain.w3, crew.engine, ref, step, field, crew.deployment.block)


def test_prove_discloses_a_field_that_matches_the_chains_commitment(net):
    chain, crew = net
    booked(crew, "VAULT-1")
    proof = prove(chain, crew, "VAULT-1", 2, "customer_goals")
    assert proof.value == "VAULT-1: cut onboarding time by half"
    assert commit(proof.value, bytes.fromhex(proof.salt[2:])) == bytes.fromhex(proof.commitment[2:])
    (event,) = [
        e
        for e in fetch_events(chain.w3, [crew.engine], ["StepCompleted"], journey=journey_id("VAULT-1"))
        if e.args["step"] == 2
    ]
    fields = field_pairs(event.args["fields"])
    assert proof.commitment in [hexstr(c) for _, c in fields]
    assert (proof.tx, proof.block, proof.evidence) == (event.tx, event.block, hexstr(evidence_hash(fields)))
    assert proof.head == hexstr(crew.engine.functions.journeyCommitments(journey_id("VAULT-1")).call()[1])


def test_prove_rejects_a_value_tampered_with_in_the_vault(net):
    chain, crew = net
    booked(crew, "VAULT-2")
    with sqlite3.connect(crew.vault.path) as db:
        db.execute(
            "UPDATE evidence SET value = '1 EUR' WHERE journey = ? AND field = 'contract_value'",
            (hexstr(journey_id("VAULT-2")),),
        )
    with pytest.raises(ProofError, match="value for contract_value does not match the chain's commitment"):
        prove(chain, crew, "VAULT-2", 2, "contract_value")
    # the untouched fields of the same step still prove
    assert prove(chain, crew, "VAULT-2", 2, "decision_maker").value == "VP Operations"


def test_prove_rejects_a_tampered_salt_and_a_field_never_committed(net):
    chain, crew = net
    booked(crew, "VAULT-3")
    with sqlite3.connect(crew.vault.path) as db:
        db.execute(
            "UPDATE evidence SET salt = ? WHERE journey = ? AND field = 'customer_goals'",
            ("0x" + "00" * 32, hexstr(journey_id("VAULT-3"))),
        )
    with pytest.raises(ProofError, match="does not match the chain's commitment"):
        prove(chain, crew, "VAULT-3", 2, "customer_goals")
    with pytest.raises(ProofError, match="no value for budget"):
        prove(chain, crew, "VAULT-3", 2, "budget")


def test_step_evidence_is_pending_before_its_transaction_and_confirmed_after(net):
    chain, crew = net
    crew.open("VAULT-4", assignee=crew.marketing)
    jid = journey_id("VAULT-4")
    evidence = crew.vault.prepare_step(chain.chain_id, jid, 0, {"lead_source": "fair"})
    status = crew.vault._db.execute(
        "SELECT status, tx_hash FROM evidence WHERE journey = ? AND step = 0", (hexstr(jid),)
    ).fetchone()
    assert tuple(status) == ("pending", None)
    call = crew.engine.functions.completeStep(jid, evidence.pairs, [], 0, crew.rep_a.address)
    client = crew.marketing.client
    receipt = Sender(chain, crew.marketing.account, client.decoder).send(call)  # the vault is not told
    # a crash here, before `confirm`: a new vault reconciles its pending rows with the chain
    with Vault(crew.vault.path) as again:
        assert again.pending(chain.chain_id) == [(hexstr(jid), 0)]
        counts = again.reconcile(chain.w3, crew.engine, crew.deployment.block)
        assert counts == {"confirmed": 1, "dropped": 0, "pending": 0, "reopened": 0, "mined": 0}
        row = again._db.execute(
            "SELECT status, tx_hash, block FROM evidence WHERE journey = ? AND step = 0", (hexstr(jid),)
        ).fetchone()
        assert tuple(row) == ("confirmed", receipt.tx_hash, receipt.block)
    assert prove(chain, crew, "VAULT-4", 0, "lead_source").value == "fair"


def test_a_refused_step_leaves_no_evidence_in_the_vault(net):
    chain, crew = net
    crew.open("VAULT-5", assignee=crew.marketing)
    crew.qualify("VAULT-5", crew.rep_a)
    crew.complete("VAULT-5", crew.rep_a, {"accepted_note": "ok"})
    crew.fund("VAULT-5")
    crew.attest_identity("VAULT-5")
    fields = crew.booking_fields("VAULT-5")
    del fields["success_criteria"]
    with pytest.raises(CompletenessError, match="booking refused: field success_criteria is missing"):
        crew.complete("VAULT-5", crew.rep_a, fields)
    assert crew.vault.fields(chain.chain_id, "VAULT-5", 2) == {}
    assert crew.vault.pending(chain.chain_id) == []


def test_forget_erases_every_value_and_salt_of_a_customer(net):
    chain, crew = net
    booked(crew, "VAULT-6")
    booked(crew, "VAULT-7")
    erased = crew.vault.forget("customer-VAULT-6")
    assert erased == 2 + 1 + 4  # lead_source and segment, accepted_note, the four booking fields
    assert set(crew.vault.fields(chain.chain_id, "VAULT-6", 2).values()) == {None}
    with pytest.raises(ProofError, match="erased from the vault"):
        prove(chain, crew, "VAULT-6", 2, "customer_goals")
    # nothing of the values is left in the file, not even in free pages
    assert b"VAULT-6: cut onboarding" not in crew.vault.path.read_bytes()
    # another customer's values are untouched
    assert prove(chain, crew, "VAULT-7", 2, "customer_goals").value == "VAULT-7: cut onboarding time by half"
    # forgetting again erases nothing more; one journey can be forgotten by its reference
    assert crew.vault.forget("customer-VAULT-6") == 0
    assert crew.vault.forget("VAULT-7") == 7


def test_forget_refuses_an_unknown_customer_or_journey(net):
    _chain, crew = net
    with pytest.raises(ConfigError, match="knows no customer or journey 'nobody'"):
        crew.vault.forget("nobody")


def test_a_statement_is_confirmed_as_it_was_signed_whatever_was_prepared_after_it(tmp_path):
    """Two requests prepared for one dispute (a second tab, or a stranger with the customer's
    link): the vault keeps the text whose commitment was sent, never the one prepared last."""
    from journeychain.errors import EvidenceError

    jid = b"\x07" * 32
    with Vault(tmp_path / "v.sqlite") as vault:
        signed = vault.prepare_statement(31337, jid, 4, "dispute_reason", "the device arrived broken")
        vault.prepare_statement(31337, jid, 4, "dispute_reason", "I withdraw; all fine")
        vault.confirm_statement(signed, "0x" + "ab" * 32, 12)
        (kept,) = vault.statements(31337, jid)
        assert kept["text"] == "the device arrived broken" and kept["status"] == "confirmed"
        assert kept["commitment"] == "0x" + signed.commitment.hex()
        forged = dataclasses.replace(signed, text="other words")
        with pytest.raises(EvidenceError, match="does not open its commitment"):
            vault.confirm_statement(forged, "0x" + "cd" * 32, 13)
