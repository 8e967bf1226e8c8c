"""The customer's dispute reasons and rating comments: salted commitments on chain, their
texts and salts in the evidence vault (kept, proven against the chain's event, forgotten),
through the SDK and the command line."""

from __future__ import annotations

import json
import sqlite3

import pytest
from conftest import sdk_crew
from eth_account import Account
from eth_utils import keccak
from typer.testing import CliRunner

from journeychain.accounts import dev_account
from journeychain.chain import Chain
from journeychain.cli import app
from journeychain.client import Customer, JourneyClient
from journeychain.encoding import commit, journey_id, profile_hash
from journeychain.errors import ConfigError, JourneyRuleError
from journeychain.timeline import hexstr
from journeychain.vault import ProofError, Vault

POOL = 1_000 * 10**18
PLAYBOOK = {
    "name": "voice",
    "version": 1,
    "options": {"commit_step": "lead", "confirm_window": "7d"},
    "steps": [
        {"name": "lead", "role": "MARKETING", "sla": "1d", "share_bps": 5000},
        {
            "name": "delivered",
            "role": "VENDOR",
            "sla": "1d",
            "share_bps": 5000,
            "optional_fields": ["shipment"],
        },
        {"name": "value", "role": "CUSTOMER", "sla": "30d"},
    ],
}
DELIVERED = 1


@pytest.fixture(scope="module")
def sdk(journey_chain: Chain) -> tuple[Chain, dict[str, JourneyClient]]:
    return journey_chain, sdk_crew(
        journey_chain, PLAYBOOK, {"marketing": 1, "vendor": 5, "funder": 7}, 100 * POOL
    )


@pytest.fixture(scope="module")
def vault(journey_env: pytest.MonkeyPatch) -> Vault:
    """The user's vault ($JOURNEY_HOME/vault.sqlite), the one the command line opens too."""
    with Vault() as v:
        yield v


def to_customer_step(
    act, vault: Vault, reference: str, owner: str | None = None, customer: Customer | None = None
) -> Customer:
    """Opens `reference` for a new customer (or `customer`), recorded in the vault as `owner`'s,
    and drives it to the customer's step; the vendor's evidence goes to the vault."""
    customer = customer or Customer(Account.create(), profile_hash(reference, b"\x07" * 32))
    vault.register_journey(act["admin"].chain.chain_id, reference, customer=owner or f"customer-{reference}")
    act["marketing"].open_journey(reference, customer.address, customer.profile, funder=act["funder"].address)
    act["funder"].fund(reference, POOL)
    act["marketing"].complete_step(reference, vault=vault, org="vendor")
    act["vendor"].complete_step(reference, {"shipment": "tracked"}, vault=vault)
    return customer


def proof_of(sdk, vault: Vault, reference: str, step: int, kind: str):
    chain, act = sdk
    client = act["admin"]
    return vault.prove_statement(
        chain.w3, client.engine, client.voice, reference, step, kind, client.deployment.block
    )


def test_a_dispute_reason_goes_on_chain_as_a_salted_commitment_kept_in_the_vault(sdk, vault):
    chain, act = sdk
    customer = to_customer_step(act, vault, "S-1")
    result = act["admin"].customer_dispute("S-1", customer, "delivered", "late", vault=vault)
    on_chain = bytes(result.receipt.events["Disputed"][0]["reason"])
    assert on_chain != keccak(text="late")
    [row] = vault.statements(chain.chain_id, "S-1")
    assert (row["step"], row["kind"], row["text"], row["status"]) == (
        DELIVERED,
        "dispute_reason",
        "late",
        "confirmed",
    )
    assert on_chain == commit("late", bytes.fromhex(row["salt"][2:]))
    assert (result.salt, result.commitment) == (row["salt"], hexstr(on_chain))
    assert (row["commitment"], row["tx_hash"]) == (hexstr(on_chain), result.receipt.tx_hash)
    proof = proof_of(sdk, vault, "S-1", DELIVERED, "dispute_reason")
    assert (proof.text, proof.event, proof.commitment, proof.tx) == (
        "late",
        "Disputed",
        hexstr(on_chain),
        result.receipt.tx_hash,
    )


def test_a_rating_comment_goes_on_chain_as_a_salted_commitment_kept_in_the_vault(sdk, vault):
    chain, act = sdk
    customer = to_customer_step(act, vault, "S-2")
    act["admin"].customer_confirm("S-2", customer)
    result = act["admin"].customer_rate("S-2", customer, "delivered", 2, "broken", vault=vault)
    on_chain = bytes(result.receipt.events["Rated"][0]["comment"])
    assert on_chain != keccak(text="broken")
    [row] = vault.statements(chain.chain_id, "S-2")
    assert (row["step"], row["kind"], row["text"], row["status"]) == (
        DELIVERED,
        "rating_comment",
        "broken",
        "confirmed",
    )
    assert on_chain == commit("broken", bytes.fromhex(row["salt"][2:]))
    assert (result.salt, result.commitment) == (row["salt"], hexstr(on_chain))
    proof = proof_of(sdk, vault, "S-2", DELIVERED, "rating_comment")
    assert (proof.text, proof.event, proof.commitment) == ("broken", "Rated", hexstr(on_chain))


def test_the_same_reason_commits_differently_each_time_and_the_result_carries_its_salt(sdk, vault):
    _, act = sdk
    results = []
    for reference in ("S-3", "S-4"):
        customer = to_customer_step(act, vault, reference)
        results.append(act["admin"].customer_dispute(reference, customer, DELIVERED, "late"))
    for result in results:
        on_chain = bytes(result.receipt.events["Disputed"][0]["reason"])
        assert hexstr(on_chain) == result.commitment
        assert on_chain == commit("late", bytes.fromhex(result.salt[2:]))
    assert results[0].commitment != results[1].commitment
    assert results[0].salt != results[1].salt


def test_a_ready_commitment_is_sent_as_given_and_the_vault_keeps_nothing(sdk, vault):
    chain, act = sdk
    customer = to_customer_step(act, vault, "S-5")
    with pytest.raises(ConfigError, match="a dispute reason commitment is 32 bytes"):
        act["admin"].customer_dispute("S-5", customer, DELIVERED, b"\x01" * 31, vault=vault)
    ready = commit("kept by the caller", b"\x05" * 32)
    result = act["admin"].customer_dispute("S-5", customer, DELIVERED, ready, vault=vault)
    assert bytes(result.receipt.events["Disputed"][0]["reason"]) == ready
    assert (result.text, result.salt, result.commitment) == (None, None, hexstr(ready))
    assert vault.statements(chain.chain_id, "S-5") == []


def test_a_refused_dispute_leaves_nothing_pending_in_the_vault(sdk, vault):
    chain, act = sdk
    customer = to_customer_step(act, vault, "S-6")
    with pytest.raises(
        JourneyRuleError,
        match=r"step 2 \(\w+\) of journey S-6 is not completed yet: the customer disputes completed",
    ):
        act["admin"].customer_dispute("S-6", customer, "value", "too early", vault=vault)
    assert vault.statements(chain.chain_id, "S-6") == []
    act["admin"].customer_dispute("S-6", customer, "delivered", "late", vault=vault)
    with pytest.raises(JourneyRuleError, match="journey S-6 is disputed, not open"):
        act["admin"].customer_dispute("S-6", customer, "lead", "never called", vault=vault)
    rows = vault.statements(chain.chain_id, "S-6")
    assert [(r["step"], r["text"], r["status"]) for r in rows] == [(DELIVERED, "late", "confirmed")]


def test_a_refused_rating_leaves_nothing_pending_in_the_vault(sdk, vault):
    chain, act = sdk
    customer = to_customer_step(act, vault, "S-7")
    with pytest.raises(
        JourneyRuleError, match="journey S-7 is open: a step is rated only once value is confirmed"
    ):
        act["admin"].customer_rate("S-7", customer, "delivered", 4, "fine", vault=vault)
    assert vault.statements(chain.chain_id, "S-7") == []


def test_reconcile_confirms_a_statement_sent_but_never_recorded(sdk, vault):
    """A crash after a dispute and a rating were sent, before the vault recorded them:
    reconcile finds each commitment in its event and confirms the rows, which then prove."""
    chain, act = sdk
    client = act["admin"]
    disputing = to_customer_step(act, vault, "S-R1")
    reason = vault.prepare_statement(chain.chain_id, journey_id("S-R1"), DELIVERED, "dispute_reason", "late")
    client.customer_dispute("S-R1", disputing, "delivered", reason.commitment)  # the vault is not told
    rating = to_customer_step(act, vault, "S-R2")
    client.customer_confirm("S-R2", rating)
    comment = vault.prepare_statement(chain.chain_id, journey_id("S-R2"), DELIVERED, "rating_comment", "slow")
    client.customer_rate("S-R2", rating, "delivered", 3, comment.commitment)
    with Vault(vault.path) as again:
        assert len(again.pending_statements(chain.chain_id)) == 2
        without_voice = again.reconcile(chain.w3, client.engine, client.deployment.block)
        assert without_voice == {
            "confirmed": 1,
            "dropped": 0,
            "pending": 1,
            "reopened": 0,
            "mined": 0,
        }  # Rated is the voice's
        counts = again.reconcile(chain.w3, client.engine, client.deployment.block, voice=client.voice)
        assert counts == {"confirmed": 1, "dropped": 0, "pending": 0, "reopened": 0, "mined": 0}
        assert again.pending_statements(chain.chain_id) == []
    assert proof_of(sdk, vault, "S-R1", DELIVERED, "dispute_reason").text == "late"
    assert proof_of(sdk, vault, "S-R2", DELIVERED, "rating_comment").text == "slow"


def test_reconcile_drops_a_statement_the_chain_carries_another_commitment_for(sdk, vault):
    chain, act = sdk
    client = act["admin"]
    customer = to_customer_step(act, vault, "S-R4")
    vault.prepare_statement(chain.chain_id, journey_id("S-R4"), DELIVERED, "dispute_reason", "never sent")
    client.customer_dispute("S-R4", customer, "delivered", "sent instead")  # without the vault
    counts = vault.reconcile(chain.w3, client.engine, client.deployment.block, voice=client.voice)
    assert counts == {"confirmed": 0, "dropped": 1, "pending": 0, "reopened": 0, "mined": 0}
    assert vault.statements(chain.chain_id, "S-R4") == []


def test_reconcile_leaves_a_statement_pending_while_its_step_has_no_event(sdk, vault):
    chain, act = sdk
    client = act["admin"]
    to_customer_step(act, vault, "S-R3")
    vault.prepare_statement(chain.chain_id, journey_id("S-R3"), DELIVERED, "dispute_reason", "not yet")
    counts = vault.reconcile(chain.w3, client.engine, client.deployment.block, voice=client.voice)
    assert counts == {"confirmed": 0, "dropped": 0, "pending": 1, "reopened": 0, "mined": 0}
    assert (hexstr(journey_id("S-R3")), DELIVERED, "dispute_reason") in vault.pending_statements(
        chain.chain_id
    )


def test_a_statement_is_proven_only_if_its_text_opens_the_chains_commitment(sdk, vault):
    _, act = sdk
    customer = to_customer_step(act, vault, "S-8")
    act["admin"].customer_dispute("S-8", customer, "delivered", "late", vault=vault)
    with pytest.raises(ProofError, match="holds no dispute_reason for step 0"):
        proof_of(sdk, vault, "S-8", 0, "dispute_reason")
    with pytest.raises(ConfigError, match="unknown statement 'complaint'"):
        proof_of(sdk, vault, "S-8", DELIVERED, "complaint")
    with sqlite3.connect(vault.path) as db:
        db.execute(
            "UPDATE statements SET text = 'on time' WHERE journey = ? AND kind = 'dispute_reason'",
            (act["admin"].journey("S-8").journey_id,),
        )
    with pytest.raises(ProofError, match="the dispute_reason does not match the chain's commitment"):
        proof_of(sdk, vault, "S-8", DELIVERED, "dispute_reason")


def test_forget_erases_the_texts_and_salts_of_a_customers_statements(sdk, vault):
    chain, act = sdk
    rated = to_customer_step(act, vault, "S-9", owner="customer-grace")
    act["admin"].customer_confirm("S-9", rated)
    act["admin"].customer_rate("S-9", rated, "delivered", 1, "broken", vault=vault)
    disputed = to_customer_step(act, vault, "S-10", owner="customer-grace")
    act["admin"].customer_dispute("S-10", disputed, "delivered", "late", vault=vault)
    # the two shipment fields and the two statements
    assert vault.forget("customer-grace", chain.chain_id) == 2 + 2
    for reference, kind in (("S-9", "rating_comment"), ("S-10", "dispute_reason")):
        [row] = vault.statements(chain.chain_id, reference)
        assert (row["text"], row["salt"]) == (None, None) and row["erased_at"] is not None
        assert row["commitment"] is not None
        with pytest.raises(ProofError, match=f"the {kind} for step 1 .* was erased from the vault"):
            proof_of(sdk, vault, reference, DELIVERED, kind)
    assert vault.forget("customer-grace", chain.chain_id) == 0


def cli(*args: str) -> dict:
    run = CliRunner().invoke(app, ["--json", *args])
    assert run.exit_code == 0, run.output
    return json.loads(run.stdout)


def test_the_command_line_keeps_the_customers_statements_in_the_users_vault(sdk, vault):
    chain, act = sdk
    customer = Customer(dev_account(8, chain), profile_hash("S-11", b"\x08" * 32))
    to_customer_step(act, vault, "S-11", customer=customer)
    to_customer_step(act, vault, "S-12", customer=customer)
    who = ["--customer", "dev:8", "--profile-hash", hexstr(customer.profile)]
    disputed = cli("-a", "dev:9", "customer", "dispute", "S-11", "delivered", *who, "--reason", "late")
    assert "late" not in json.dumps(disputed) and disputed["reason"] != hexstr(keccak(text="late"))
    [row] = vault.statements(chain.chain_id, "S-11")
    assert (row["text"], row["commitment"], row["tx_hash"]) == ("late", disputed["reason"], disputed["tx"])
    proven = cli("prove", "S-11", "delivered", "dispute_reason")
    assert (proven["text"], proven["commitment"], proven["event"]) == ("late", disputed["reason"], "Disputed")

    act["admin"].customer_confirm("S-12", customer)
    rated = cli("-a", "dev:9", "customer", "rate", "S-12", "delivered", "3", *who, "--comment", "slow")
    [row] = vault.statements(chain.chain_id, "S-12")
    assert (row["kind"], row["text"], row["commitment"]) == ("rating_comment", "slow", rated["comment"])
    assert cli("prove", "S-12", "delivered", "rating_comment")["text"] == "slow"


def statement_status(vault: Vault, reference: str, kind: str) -> set[str]:
    rows = vault._db.execute(
        "SELECT status FROM statements WHERE journey = ? AND kind = ?", (hexstr(journey_id(reference)), kind)
    )
    return {r["status"] for r in rows}


def test_a_dispute_reason_waits_for_its_confirmations(sdk, vault):
    """As step evidence: with confirmations asked, the reason is mined until reconcile counts them."""
    chain, act = sdk
    client = act["admin"]
    customer = to_customer_step(act, vault, "S-C1")
    with Vault(vault.path, confirmations=3) as waiting:
        client.customer_dispute("S-C1", customer, "delivered", "arrived broken", vault=waiting)
        assert statement_status(waiting, "S-C1", "dispute_reason") == {"mined"}
        with pytest.raises(ConfigError, match="waiting for its confirmations"):
            waiting.prepare_statement(
                client.deployment.key, journey_id("S-C1"), DELIVERED, "dispute_reason", ""
            )
        waiting.reconcile(chain.w3, client.engine, client.deployment.block, voice=client.voice)
        assert statement_status(waiting, "S-C1", "dispute_reason") == {"mined"}  # one block of three
        chain.w3.provider.make_request("evm_mine", [])
        chain.w3.provider.make_request("evm_mine", [])
        waiting.reconcile(chain.w3, client.engine, client.deployment.block, voice=client.voice)
        assert statement_status(waiting, "S-C1", "dispute_reason") == {"confirmed"}
    assert proof_of(sdk, vault, "S-C1", DELIVERED, "dispute_reason").text == "arrived broken"


def test_a_lost_block_puts_a_mined_dispute_reason_back_to_pending(sdk, vault):
    chain, act = sdk
    client = act["admin"]
    customer = to_customer_step(act, vault, "S-C2")
    with Vault(vault.path, confirmations=3) as waiting:
        snapshot = chain.w3.provider.make_request("evm_snapshot", [])["result"]
        client.customer_dispute("S-C2", customer, "delivered", "never arrived", vault=waiting)
        assert statement_status(waiting, "S-C2", "dispute_reason") == {"mined"}
        chain.w3.provider.make_request("evm_revert", [snapshot])  # the dispute's block is lost
        counts = waiting.reconcile(chain.w3, client.engine, client.deployment.block, voice=client.voice)
        assert counts["reopened"] == 1  # (and it is counted pending, with the module's other rows)
        assert statement_status(waiting, "S-C2", "dispute_reason") == {"pending"}
        # the customer can dispute again; the new reason replaces the lost one
        client.customer_dispute("S-C2", customer, "delivered", "never arrived, still", vault=waiting)
        assert statement_status(waiting, "S-C2", "dispute_reason") == {"mined"}
