"""Settlement through the SDK: optimistic release, a verifier's confirmation, expiry,
cancellation, revocation and late steps, on a playbook that allows them all."""

from __future__ import annotations

import pytest
from conftest import sdk_crew
from eth_account import Account

from journeychain.chain import Chain
from journeychain.client import Customer, JourneyClient
from journeychain.encoding import profile_hash
from journeychain.errors import CompletenessError, JourneyRuleError, SignatureError

DAY = 86_400
POOL = 1_000 * 10**18
PLAYBOOK = {
    "name": "light",
    "version": 1,
    "options": {"commit_step": "lead", "confirm_window": "7d", "verifier_may_confirm": True},
    "steps": [
        {"name": "lead", "role": "MARKETING", "sla": "1d", "share_bps": 5000},
        {
            "name": "delivered",
            "role": "VENDOR",
            "sla": "1d",
            "share_bps": 5000,
            "penalty_bps": 5000,
            "optional_fields": ["shipment"],
        },
        {"name": "value", "role": "CUSTOMER", "sla": "30d"},
    ],
}


@pytest.fixture(scope="module")
def sdk(journey_chain: Chain) -> tuple[Chain, dict[str, JourneyClient]]:
    return journey_chain, sdk_crew(
        journey_chain, PLAYBOOK, {"marketing": 1, "vendor": 5, "verifier": 6, "funder": 7}, 100 * POOL
    )


def to_customer_step(act, reference: str) -> Customer:
    customer = Customer(Account.create(), profile_hash(reference, b"\x07" * 32))
    act["marketing"].open_journey(reference, customer.address, customer.profile, funder=act["funder"].address)
    act["funder"].fund(reference, POOL)
    act["marketing"].complete_step(reference, org="vendor")
    act["vendor"].complete_step(reference, {"shipment": "tracked"})
    return customer


def test_optimistic_release_waits_for_the_confirmation_window(sdk):
    chain, act = sdk
    customer = to_customer_step(act, "R-1")
    release_at = act["admin"].release_time("R-1")
    assert release_at > chain.now()
    with pytest.raises(SignatureError, match="the confirmation window of journey R-1 is open until"):
        act["admin"].release("R-1", customer.address, customer.profile)
    chain.advance(8 * DAY)
    with pytest.raises(SignatureError, match="is not the customer of journey R-1"):
        act["admin"].release("R-1", Account.create().address, customer.profile)
    receipt = act["admin"].release("R-1", customer.address, customer.profile)
    assert receipt.events["ValueConfirmed"][0]["by"] == "0x" + "00" * 20
    assert act["admin"].journey("R-1").status == "value delivered"


def test_a_verifiers_value_delivered_attestation_confirms_value(sdk):
    _, act = sdk
    customer = to_customer_step(act, "R-2")
    with pytest.raises(CompletenessError, match="journey R-2 has no valid value_delivered attestation"):
        act["admin"].confirm_by_attestation("R-2", customer.address, customer.profile)
    act["verifier"].attest_value_delivered("R-2")
    receipt = act["admin"].confirm_by_attestation("R-2", customer.address, customer.profile)
    assert receipt.events["ValueConfirmed"][0]["by"] == act["verifier"].address


def test_an_unconfirmed_journey_expires_and_refunds_the_funder(sdk):
    chain, act = sdk
    to_customer_step(act, "R-3")
    funder = act["funder"].address
    before = act["admin"].credit_of(funder)
    chain.advance(31 * DAY)
    receipt = act["admin"].expire("R-3")
    assert receipt.events["JourneyClosed"][0]["refund"] == POOL
    assert act["admin"].journey("R-3").status == "expired"
    assert act["admin"].credit_of(funder) - before == POOL


def test_cancel_only_before_the_commit_step(sdk):
    _, act = sdk
    act["marketing"].open_journey("R-4", act["funder"].address, b"\x04" * 32, funder=act["funder"].address)
    act["admin"].cancel("R-4")
    assert act["admin"].journey("R-4").status == "cancelled"
    to_customer_step(act, "R-5")
    with pytest.raises(
        JourneyRuleError, match="journey R-5 is booked already: it can no longer be cancelled"
    ):
        act["admin"].cancel("R-5")


def test_a_revoked_attestation_is_refused_twice(sdk):
    _, act = sdk
    act["admin"].register_schema("kyc_done", "VERIFIER", "customer")
    uid, _ = act["verifier"].attest("kyc_done", b"\x09" * 32)
    act["verifier"].revoke(uid)
    assert act["verifier"].attestation_state("kyc_done", b"\x09" * 32, act["verifier"].address) == (
        "revoked",
        uid,
    )
    with pytest.raises(CompletenessError, match=f"attestation {uid} is revoked already"):
        act["verifier"].revoke(uid)


def test_revoking_by_uid_is_refused_before_sending_for_a_replaced_anothers_or_unknown_uid(sdk):
    """The registry revokes an attester's newest attestation of a pair; the SDK's revoke(uid)
    finds the uid's pair and refuses, with nothing sent, a uid a newer attestation replaced (its
    revocation would revoke the newer one), another verifier's uid, or a uid that names nothing."""
    chain, act = sdk
    act["admin"].register_schema("kyc_checked", "VERIFIER", "customer")
    older, _ = act["verifier"].attest("kyc_checked", b"\x0a" * 32)
    newest, _ = act["verifier"].attest("kyc_checked", b"\x0a" * 32)
    sent = chain.w3.eth.get_transaction_count(act["verifier"].address)
    with pytest.raises(CompletenessError, match=f"attestation {older} was replaced by .*newer {newest}"):
        act["verifier"].revoke(older)
    with pytest.raises(CompletenessError, match=f"attestation {newest} was not made by"):
        act["admin"].revoke(newest)
    with pytest.raises(CompletenessError, match="there is no attestation 0x5a5a") as info:
        act["verifier"].revoke("0x" + "5a" * 32)
    assert info.value.exit_code == 2
    assert chain.w3.eth.get_transaction_count(act["verifier"].address) == sent
    act["verifier"].revoke(newest)
    assert act["verifier"].attestation_state("kyc_checked", b"\x0a" * 32, act["verifier"].address) == (
        "revoked",
        newest,
    )


def test_a_late_step_is_recorded_against_its_owning_organisation(sdk):
    chain, act = sdk
    vendor = act["vendor"].address
    before = act["admin"].organisation_breach_count("vendor")
    act["marketing"].open_journey("R-6", vendor, b"\x06" * 32, funder=act["funder"].address)
    act["funder"].fund("R-6", POOL)
    act["marketing"].complete_step("R-6", org="vendor")
    chain.advance(2 * DAY)
    result = act["vendor"].complete_step("R-6")
    assert result.late is True
    # the step went to the vendor's organisation as a whole: the breach is recorded against it
    assert act["admin"].organisation_breach_count("vendor") == before + 1
    assert act["admin"].breach_count(vendor) == 0
    assert act["admin"].journey("R-6").breached_steps == [1]
