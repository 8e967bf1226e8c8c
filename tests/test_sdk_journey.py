"""The SDK end to end on its own local chain: deploy, publish, open, complete, fund, confirm, claim.

The journey's steps run in the order of the tests (one chain for the module); each test
states the rule it shows.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from eth_account import Account

from journeychain.accounts import dev_account
from journeychain.chain import Chain
from journeychain.client import Customer, JourneyClient
from journeychain.deployments import deploy, deployment_file, load_deployment, rulebook_hash
from journeychain.encoding import commit, evidence_hash, journey_id, profile_hash, short_name
from journeychain.errors import (
    ClaimError,
    CompletenessError,
    DeadlineError,
    DeploymentError,
    DisputeError,
    FundingError,
    JourneyRuleError,
    PlaybookRuleError,
    RulebookError,
    SignatureError,
)
from journeychain.playbook import load_playbook
from journeychain.tx import Sender
from journeychain.vault import Vault

POOL = 1_000 * 10**18
BOOKING = {
    "customer_goals": "cut onboarding time by half",
    "success_criteria": "live in 30 days",
    "decision_maker": "COO",
    "contract_value": "120000",
}


@pytest.fixture(scope="module")
def chain(journey_chain: Chain) -> Chain:
    return journey_chain


@pytest.fixture(scope="module")
def people(chain):
    names = [
        "admin",
        "marketing",
        "sales",
        "sales2",
        "success",
        "vendor",
        "verifier",
        "funder",
        "arbiter",
        "second",
    ]
    return {name: dev_account(i, chain) for i, name in enumerate(names)}


@pytest.fixture(scope="module")
def admin(chain, people):
    deployment = deploy(chain, people["admin"])
    client = JourneyClient(chain, load_deployment(chain), people["admin"])
    roles = {
        "marketing": "MARKETING",
        "sales": "SALES",
        "sales2": "SALES",
        "success": "SUCCESS",
        "vendor": "VENDOR",
        "verifier": "VERIFIER",
        "funder": "FUNDER",
        "arbiter": "ARBITER",
    }
    orgs: dict[str, int] = {}
    for name, role in roles.items():
        if role not in orgs:
            orgs[role], _ = client.register_organisation(role.lower(), vendor=role == "VENDOR")
        client.grant_role(people[name].address, role, org=orgs[role])
    client.accept_rulebook()
    for name in roles:
        if name != "vendor":  # the vendor accepts by signature, in its own test
            client.with_account(people[name]).accept_rulebook()
    client.mint(people["funder"].address, 10 * POOL)
    assert deployment.engine == client.deployment.engine
    return client


@pytest.fixture(scope="module")
def as_(admin, people):
    return lambda name: admin.with_account(people[name])


@pytest.fixture(scope="module")
def customer():
    return Customer(Account.create(), profile_hash("Ada Lovelace <ada@example.com>", b"\x01" * 32))


def test_deployment_file_records_the_suite_and_the_rulebook_hash(chain, admin, people):
    data = json.loads(deployment_file(chain.chain_id).read_text())
    assert data["engine"] == admin.engine.address
    assert data["voice"] == admin.engine.functions.voice().call()
    assert data["registry"] == admin.engine.functions.attestations().call()
    assert data["deployer"] == people["admin"].address
    assert data["rulebook"] == "0x" + rulebook_hash().hex()
    assert admin.rulebook() == (1, data["rulebook"])


def test_deployment_with_other_abis_is_refused(chain, admin):
    path = deployment_file(chain.chain_id)
    original = path.read_text()
    data = json.loads(original)
    data["abi_hash"] = "0x" + "00" * 32
    path.write_text(json.dumps(data))
    try:
        with pytest.raises(DeploymentError, match="made from other contracts"):
            load_deployment(chain)
    finally:
        path.write_text(original)


def test_missing_deployment_names_the_command_to_run(chain, tmp_path):
    with pytest.raises(DeploymentError, match=r"no deployment for chain 31337: run `journey deploy`"):
        load_deployment(chain, directory=tmp_path)


def test_participant_accepts_the_rulebook_by_signature(admin, people):
    vendor = people["vendor"]
    assert admin.participant(vendor.address)["accepted"] == 0
    receipt = admin.accept_rulebook_by_signature(vendor)
    assert receipt.events["RulebookAccepted"][0]["account"] == vendor.address
    assert admin.participant(vendor.address)["accepted"] == 1


def test_publish_playbook_reads_back_from_its_event(admin):
    playbook = load_playbook()
    playbook_id, receipt = admin.publish_playbook(playbook)
    assert playbook_id == 1 and receipt.gas_used > 0
    admin._playbooks.clear()  # read it back from the chain, not the cache
    published = admin.playbook(1).playbook
    # the chain names each calendar by its number, published with the playbook
    ids = {name: admin.playbooks.ensure_calendar(calendar) for name, calendar in playbook.calendars}
    assert ids and published.steps == tuple(replace(s, calendar=s.calendar_id(ids)) for s in playbook.steps)
    assert published.commit_step == playbook.commit_step


def test_unknown_playbook_is_refused_with_its_sentence(admin):
    with pytest.raises(PlaybookRuleError, match="there is no playbook 9") as info:
        admin.playbook(9)
    assert info.value.exit_code == 2


def test_open_journey_puts_only_the_customer_commitment_on_chain(as_, customer, people):
    opened = as_("marketing").open_journey(
        "OPP-1", customer.address, customer.profile, funder=people["funder"].address
    )
    assert opened.customer == "0x" + customer.commitment.hex() and len(customer.commitment) == 16
    state = as_("marketing").journey("OPP-1")
    assert state.step == 0 and state.status == "open" and state.reference == "OPP-1"
    assert state.customer == opened.customer


def test_complete_step_keeps_the_values_and_salts_behind_its_commitments(as_, people, chain, tmp_path):
    with Vault(tmp_path / "vault.sqlite") as vault:
        result = as_("marketing").complete_step(
            "OPP-1", {"lead_source": "webinar"}, assign=people["sales"].address, vault=vault
        )
        assert vault.fields(chain.chain_id, result.journey_id, result.step) == {"lead_source": "webinar"}
        assert vault.pending(chain.chain_id) == []
    (field,) = result.fields
    assert field.value == "webinar"
    assert field.commitment == "0x" + commit("webinar", bytes.fromhex(field.salt[2:])).hex()
    expected = evidence_hash([(short_name("lead_source"), bytes.fromhex(field.commitment[2:]))])
    assert result.evidence_hash == "0x" + expected.hex()
    assert result.next_assignee == people["sales"].address
    assert result.receipt.gas_used > 0


def test_only_the_assignee_may_complete_its_step(as_):
    with pytest.raises(JourneyRuleError, match=r"step 1 \(lead_accepted\) of journey OPP-1 is assigned to"):
        as_("sales2").complete_step("OPP-1")


def test_booking_refused_without_customer_goals_before_anything_is_sent(as_, chain, people):
    sales = as_("sales")
    sales.complete_step("OPP-1")
    nonce = chain.w3.eth.get_transaction_count(people["sales"].address)
    fields = {k: v for k, v in BOOKING.items() if k != "customer_goals"}
    with pytest.raises(CompletenessError) as info:
        sales.complete_step("OPP-1", fields)
    assert str(info.value) == "booking refused: field customer_goals is missing"
    assert info.value.error == "MissingField" and info.value.exit_code == 3
    assert chain.w3.eth.get_transaction_count(people["sales"].address) == nonce


def test_a_refused_step_leaves_no_evidence_in_the_vault(as_, chain, tmp_path):
    fields = {k: v for k, v in BOOKING.items() if k != "decision_maker"}
    with Vault(tmp_path / "vault.sqlite") as vault:
        with pytest.raises(CompletenessError, match="field decision_maker is missing"):
            as_("sales").complete_step("OPP-1", fields, vault=vault)
        assert vault.pending(chain.chain_id) == []
        assert vault.fields(chain.chain_id, as_("sales").journey_id("OPP-1"), 2) == {}


def test_booking_refused_without_a_valid_identity_attestation(as_):
    with pytest.raises(CompletenessError, match="booking refused: attestation identity_verified is missing"):
        as_("sales").complete_step("OPP-1", BOOKING)


def test_booking_refused_before_the_pool_is_funded(as_):
    as_("verifier").attest_customer("OPP-1", "identity_verified")
    with pytest.raises(FundingError, match="booking refused: the pool of journey OPP-1 is not funded yet"):
        as_("sales").complete_step("OPP-1", BOOKING)


def test_fund_approves_and_escrows_the_pool(as_):
    receipt = as_("funder").fund("OPP-1", POOL)
    assert receipt.events["PoolFunded"][0]["pool"] == POOL
    assert as_("funder").journey("OPP-1").pool == POOL


def test_attested_booking_starts_onboarding(as_, customer):
    uid, _ = as_("verifier").attest_customer(
        "OPP-1", "identity_verified", expiry=as_("verifier").chain.now() + 600
    )
    assert as_("verifier").customer_subject_of("OPP-1") == customer.subject(journey_id("OPP-1"))
    verifier = as_("verifier").address
    assert as_("verifier").attestation_state(
        "identity_verified", customer.subject(journey_id("OPP-1")), verifier
    ) == (
        "valid",
        uid,
    )
    assert as_("sales").valid_attester("identity_verified", customer.subject(journey_id("OPP-1"))) == verifier
    result = as_("sales").complete_step("OPP-1", BOOKING, org="success")
    assert [f.name for f in result.fields] == list(BOOKING)
    state = as_("sales").journey("OPP-1")
    assert state.step == 3 and state.step_name == "onboarding_started" and state.deadline > 0
    assert uid.startswith("0x")


def test_a_late_step_can_be_flagged_and_escalated(as_, chain, people):
    with pytest.raises(DeadlineError, match=r"step 3 \(onboarding_started\) of journey OPP-1 is not late"):
        as_("vendor").flag_breach("OPP-1")
    chain.advance(4 * 86_400)
    receipt = as_("vendor").flag_breach("OPP-1")
    assert receipt.events["BreachRecorded"][0]["step"] == 3
    with pytest.raises(DeadlineError, match="is flagged already"):
        as_("vendor").flag_breach("OPP-1")
    second = people["second"]
    as_("admin").grant_role(second.address, "SUCCESS", org="success")
    as_("second").accept_rulebook()
    escalated = as_("sales").escalate("OPP-1", second.address)
    assert escalated.events["Escalated"][0]["to"] == second.address
    assert as_("admin").journey("OPP-1").breached_steps == [3]


def test_customer_dispute_holds_the_journey_until_an_arbiter_resolves_it(as_, customer):
    receipt = as_("verifier").customer_dispute("OPP-1", customer, "lead_qualified", "never called me").receipt
    assert receipt.events["Disputed"][0]["step"] == 0
    assert as_("verifier").journey("OPP-1").status == "disputed"
    with pytest.raises(JourneyRuleError, match="journey OPP-1 is disputed, not open"):
        as_("second").complete_step("OPP-1")
    as_("arbiter").resolve_dispute("OPP-1", upheld=False)
    assert as_("arbiter").journey("OPP-1").status == "open"
    with pytest.raises(
        DisputeError, match=r"step 0 \(lead_qualified\) of journey OPP-1 was disputed once already"
    ):
        as_("verifier").customer_dispute("OPP-1", customer, 0)
    with pytest.raises(DisputeError, match="journey OPP-1 has no open dispute"):
        as_("arbiter").resolve_dispute("OPP-1", upheld=True)


def test_a_signature_by_anyone_but_the_customer_is_refused(as_, people):
    stranger = Customer(Account.create(), b"\x02" * 32)
    as_("second").complete_step("OPP-1", org="vendor")
    as_("vendor").complete_step("OPP-1")
    with pytest.raises(SignatureError, match="is not the customer of journey OPP-1"):
        as_("funder").customer_confirm("OPP-1", stranger)


def test_the_customer_signs_value_confirmed_and_owners_are_credited(as_, people, customer):
    receipt = as_("funder").customer_confirm("OPP-1", customer)
    assert receipt.events["ValueConfirmed"][0]["by"] == customer.address
    assert as_("funder").journey("OPP-1").status == "value delivered"
    assert as_("funder").credit_of(people["vendor"].address) == POOL * 3 // 10
    assert as_("funder").credit_of(people["marketing"].address) == POOL // 10
    paid = as_("funder").payouts("OPP-1", receipt)
    assert paid[0] == (people["marketing"].address, POOL // 10)
    assert paid[-2:] == [(people["vendor"].address, POOL * 3 // 10), (customer.address, 0)]


def test_claim_transfers_the_credit_once(as_, people):
    vendor = as_("vendor")
    before = vendor.balance_of(people["vendor"].address)
    amount, receipt = vendor.claim()
    assert amount == POOL * 3 // 10 and receipt.events["Claimed"][0]["amount"] == amount
    assert vendor.balance_of(people["vendor"].address) - before == amount
    with pytest.raises(ClaimError, match="has nothing to claim"):
        vendor.claim()


def test_the_customer_rates_a_step_owner(as_, people, customer):
    as_("funder").customer_rate("OPP-1", customer, "device_delivered", 4, "on time")
    rating = as_("funder").rating_of(people["vendor"].address)
    assert (rating.count, rating.total, rating.average) == (1, 4, 4.0)


def test_fund_with_permit_needs_no_approval(as_, customer, people):
    as_("marketing").open_journey(
        "OPP-2", customer.address, customer.profile, funder=people["funder"].address
    )
    funder = as_("funder")
    allowance_before = funder.token.functions.allowance(funder.address, funder.engine.address).call()
    receipt = funder.fund("OPP-2", POOL, permit=True)
    assert receipt.events["PoolFunded"][0]["pool"] == POOL
    assert funder.token.functions.allowance(funder.address, funder.engine.address).call() == allowance_before


def test_an_outsider_is_refused_for_lack_of_role(chain, admin, people):
    outsider = admin.with_account(Account.create())
    with pytest.raises(RulebookError, match=r"does not hold the MARKETING role"):
        outsider.open_journey("OPP-3", outsider.address, b"\x03" * 32, funder=people["funder"].address)


def test_a_mined_revert_is_decoded_too(as_, chain, people):
    sales = as_("sales")
    call = sales.engine.functions.completeStep(sales.journey_id("OPP-2"), [], [], 0, "0x" + "00" * 20)
    with pytest.raises(RulebookError, match="does not hold the MARKETING role"):
        Sender(chain, people["sales"], sales.decoder, sales.context).send(call, gas=200_000)


def test_transactions_are_signed_locally_with_eip1559_fees(as_, chain, people):
    receipt = (
        as_("marketing")
        .open_journey("OPP-4", people["funder"].address, b"\x04" * 32, funder=people["funder"].address)
        .receipt
    )
    tx = chain.w3.eth.get_transaction(receipt.tx_hash)
    assert tx["type"] == 2 and tx["from"] == people["marketing"].address
    assert tx["chainId"] == chain.chain_id and receipt.gas_used < tx["gas"]


def test_journeys_lists_every_opened_journey(as_):
    refs = [e.reference for e in as_("admin").journeys()]
    assert refs[:2] == ["OPP-1", "OPP-2"] and "OPP-4" in refs
