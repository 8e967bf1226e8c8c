"""Evidence hygiene: a step's fields are refused before anything is sent when a key is given
twice, a required field is empty, or a key is one the playbook's step neither requires nor
declares optional; `prove` names the one commitment it checked and refuses a key that has two.
"""

from __future__ import annotations

import sqlite3
import time

import pytest
import yaml
from conftest import sdk_crew

from journeychain.accounts import dev_account
from journeychain.chain import Chain
from journeychain.client import JourneyClient
from journeychain.encoding import commit, journey_id, new_salt, profile_hash, short_name
from journeychain.errors import CompletenessError, ConfigError, EvidenceError, PlaybookError
from journeychain.playbook import load_playbook, parse_playbook, with_optional_fields
from journeychain.timeline import hexstr
from journeychain.vault import ProofError, Vault

POOL = 1_000 * 10**18
PLAYBOOK = {
    "name": "hygiene",
    "version": 1,
    "options": {"commit_step": "lead"},
    "steps": [
        {
            "name": "lead",
            "role": "MARKETING",
            "sla": "1d",
            "share_bps": 5000,
            "optional_fields": ["lead_source"],
        },
        {
            "name": "delivered",
            "role": "VENDOR",
            "sla": "1d",
            "share_bps": 5000,
            "fields": ["contract_value", "decision_maker"],
        },
        {"name": "value", "role": "CUSTOMER", "sla": "30d"},
    ],
}
DELIVERED = 1


@pytest.fixture(scope="module")
def sdk(journey_chain: Chain) -> tuple[Chain, dict[str, JourneyClient]]:
    return journey_chain, sdk_crew(
        journey_chain, PLAYBOOK, {"marketing": 1, "vendor": 5, "funder": 7}, 10 * POOL
    )


_count = 0


def at_delivery(act) -> str:
    """A new journey, its lead step done: the vendor's step (which requires two fields) is next."""
    global _count
    _count += 1
    reference = f"H-{_count}"
    act["marketing"].open_journey(
        reference, dev_account(9).address, profile_hash(reference, b"\x01" * 32), funder=act["funder"].address
    )
    act["funder"].fund(reference, POOL)
    act["marketing"].complete_step(reference, {"lead_source": "fair"}, assign=act["vendor"].address)
    return reference


def nonce(chain: Chain, client: JourneyClient) -> int:
    return chain.w3.eth.get_transaction_count(client.address)


def test_a_field_key_given_twice_is_refused_before_anything_is_sent(sdk, tmp_path):
    chain, act = sdk
    reference = at_delivery(act)
    before = nonce(chain, act["vendor"])
    fields = [("contract_value", "120000"), ("decision_maker", "COO"), ("contract_value", "1")]
    with Vault(tmp_path / "vault.sqlite") as vault:
        with pytest.raises(EvidenceError) as info:
            act["vendor"].complete_step(reference, fields, vault=vault)
        assert vault.pending(chain.chain_id) == []
    assert (
        str(info.value)
        == f"field contract_value is given twice for step 1 (delivered) of journey {reference}"
    )
    assert info.value.exit_code == 2
    assert nonce(chain, act["vendor"]) == before


def test_pairs_made_elsewhere_with_a_key_twice_are_refused_too(sdk):
    chain, act = sdk
    reference = at_delivery(act)
    before = nonce(chain, act["vendor"])
    key = short_name("contract_value")
    pairs = [(key, commit("1", new_salt())), (short_name("decision_maker"), commit("COO", new_salt()))]
    with pytest.raises(EvidenceError, match="field contract_value is given twice"):
        act["vendor"].submit_step(reference, [*pairs, (key, commit("2", new_salt()))])
    assert nonce(chain, act["vendor"]) == before


@pytest.mark.parametrize("empty", ["", "   "])
def test_an_empty_required_field_is_refused_before_anything_is_sent(sdk, empty):
    chain, act = sdk
    reference = at_delivery(act)
    before = nonce(chain, act["vendor"])
    with pytest.raises(EvidenceError) as info:
        act["vendor"].complete_step(reference, {"contract_value": empty, "decision_maker": "COO"})
    assert str(info.value) == (
        f"field contract_value of step 1 (delivered) of journey {reference} is required and cannot be empty"
    )
    assert nonce(chain, act["vendor"]) == before


def test_an_unknown_field_key_is_refused_before_anything_is_sent(sdk):
    chain, act = sdk
    reference = at_delivery(act)
    before = nonce(chain, act["vendor"])
    fields = {"contract_value": "120000", "decision_maker": "COO", "contract_valeu": "1"}
    with pytest.raises(EvidenceError) as info:
        act["vendor"].complete_step(reference, fields)
    assert str(info.value) == (
        f"step 1 (delivered) of journey {reference} takes no field contract_valeu "
        "(it requires contract_value, decision_maker and declares none optional)"
    )
    assert nonce(chain, act["vendor"]) == before


def test_a_field_the_playbook_declares_optional_is_accepted_and_the_required_ones_suffice(sdk):
    _, act = sdk
    reference = at_delivery(act)  # the lead step took its optional lead_source
    result = act["vendor"].complete_step(reference, {"contract_value": "120000", "decision_maker": "COO"})
    assert [f.name for f in result.fields] == ["contract_value", "decision_maker"]


def test_a_new_client_reads_the_optional_fields_from_the_playbook_file(sdk, tmp_path, monkeypatch):
    """The chain does not keep optional fields: a client that did not publish the playbook takes
    them from the YAML file (in $JOURNEY_PLAYBOOKS) that publishes exactly the same playbook."""
    chain, act = sdk
    fresh = JourneyClient(chain, act["admin"].deployment, dev_account(1, chain))
    monkeypatch.setenv("JOURNEY_PLAYBOOKS", str(tmp_path))
    on_chain = fresh.playbook(1).playbook
    assert on_chain.steps[0].optional_fields == ()  # no file yet
    (tmp_path / "hygiene.yaml").write_text(yaml.safe_dump(PLAYBOOK), encoding="utf-8")
    assert with_optional_fields(on_chain).steps[0].optional_fields == ("lead_source",)
    other = dict(PLAYBOOK, version=2)
    (tmp_path / "hygiene.yaml").write_text(yaml.safe_dump(other), encoding="utf-8")
    assert with_optional_fields(on_chain).steps[0].optional_fields == ()  # another playbook's file


def test_the_loader_refuses_a_field_both_required_and_optional():
    steps = [dict(s) for s in PLAYBOOK["steps"]]
    steps[1]["optional_fields"] = ["decision_maker"]
    with pytest.raises(PlaybookError, match="decision_maker is both required and optional"):
        parse_playbook(dict(PLAYBOOK, steps=steps))


def test_the_default_playbook_declares_the_demos_optional_fields():
    steps = {s.name: s for s in load_playbook().steps}
    assert steps["lead_qualified"].optional_fields == ("lead_source", "segment")
    assert steps["device_delivered"].optional_fields == ("shipment",)


def test_prove_names_the_one_commitment_it_checked(sdk, tmp_path):
    chain, act = sdk
    reference = at_delivery(act)
    with Vault(tmp_path / "vault.sqlite") as vault:
        result = act["vendor"].complete_step(
            reference, {"contract_value": "120000", "decision_maker": "COO"}, vault=vault
        )
        proof = vault.prove(chain.w3, act["admin"].engine, reference, DELIVERED, "contract_value")
    (checked,) = [f for f in result.fields if f.name == "contract_value"]
    assert proof.commitment == checked.commitment and proof.key == hexstr(short_name("contract_value"))
    assert proof.checked == (
        f"field contract_value (key {proof.key}) of step {DELIVERED} of journey "
        f"{hexstr(journey_id(reference))}: commitment {checked.commitment}"
    )


def test_the_engine_refuses_a_key_sent_twice_with_different_commitments(sdk, tmp_path):
    """Sent straight to the engine (the SDK refuses it before): two contract values for one key."""
    chain, act = sdk
    reference = at_delivery(act)
    jid = journey_id(reference)
    with Vault(tmp_path / "vault.sqlite") as vault:
        evidence = vault.prepare_step(
            chain.chain_id, jid, DELIVERED, {"contract_value": "120000", "decision_maker": "COO"}
        )
        pairs = [*evidence.pairs, (short_name("contract_value"), commit("1", new_salt()))]
        engine = act["vendor"].engine
        call = engine.functions.completeStep(jid, pairs, [], 0, "0x" + "00" * 20)
        # the engine itself refuses a key given twice: two contradictory values never both stand
        with pytest.raises(CompletenessError, match="field contract_value is given twice"):
            act["vendor"]._send(call)
        vault.discard(evidence)


def test_prove_refuses_a_key_the_vault_holds_twice_with_different_commitments(sdk, tmp_path):
    chain, act = sdk
    reference = at_delivery(act)
    path = tmp_path / "vault.sqlite"
    with Vault(path) as vault:
        act["vendor"].complete_step(
            reference, {"contract_value": "120000", "decision_maker": "COO"}, vault=vault
        )
    # a second row of the step's deployment for the same bytes32 key (a name with a trailing NUL
    # pads to the same key)
    with sqlite3.connect(path) as db:
        salt = new_salt()
        db.execute(
            "INSERT INTO evidence (chain_id, deployment, journey, step, position, field, value, salt, "
            "commitment, status, created_at) VALUES (?, ?, ?, ?, 9, ?, '1', ?, ?, 'confirmed', ?)",
            (
                chain.chain_id,
                act["admin"].deployment.key.tag,
                hexstr(journey_id(reference)),
                DELIVERED,
                "contract_value\x00",
                hexstr(salt),
                hexstr(commit("1", salt)),
                int(time.time()),
            ),
        )
    with Vault(path) as vault, pytest.raises(ProofError) as info:
        vault.prove(chain.w3, act["admin"].engine, reference, DELIVERED, "contract_value")
    assert str(info.value) == (
        f"the vault holds 2 different commitments for contract_value at step {DELIVERED} of journey "
        f"{hexstr(journey_id(reference))}: neither proves the field"
    )


def test_a_bad_field_name_is_bad_input(sdk):
    _, act = sdk
    reference = at_delivery(act)
    with pytest.raises(ConfigError, match="must be 1 to 32 bytes long"):
        act["vendor"].complete_step(reference, {"x" * 33: "1"})
