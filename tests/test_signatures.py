"""The customer's EIP-712 signatures count only once, before their deadline, for their own
journey, chain and playbook, under the customer voice's domain (the engine settles a
confirmation, the voice checks its signer), and only when signed by the journey's customer
with the profile its commitment binds. Every refused signature leaves the journey as it was."""

import pytest
from brownie import chain
from conftest import ORGS, Customer, assert_error_args, reverts_with

from journeychain.signing import customer_signature, sign_typed

OPEN, VALUE_DELIVERED = 1, 3


def _confirm_message(kit, jid, nonce, deadline, **changes):
    head = bytes(kit.engine.journeyCommitments(jid)[1])
    message = {"journeyId": jid, "playbookId": kit.playbook_id, "history": head}
    return message | {"nonce": nonce, "deadline": deadline, **changes}


def _signed(kit, customer, message, chain_id=None, profile=None, primary="ConfirmValue", verifying=None):
    domain = verifying or kit.voice.address
    signature = sign_typed(customer.key.key, chain_id or chain.id, str(domain), primary, message)
    return customer_signature(
        customer.address,
        profile or customer.profile,
        message["history"],
        message["nonce"],
        message["deadline"],
        signature,
    )


def _untouched(kit, jid):
    engine, team = kit.engine, kit.team
    assert engine.journey(jid)[2] == OPEN
    assert engine.creditOf(team.vendor) == 0
    assert engine.creditOf(team.marketing) == 0


def test_valid_signature_relayed_by_anyone_confirms(kit, engine, team):
    jid, customer = kit.to_customer_step()
    tx = kit.confirm(jid, customer, relayer=team.funder)
    assert tx.events["ValueConfirmed"]["by"] == customer.address
    assert engine.journey(jid)[2] == VALUE_DELIVERED
    assert engine.creditOf(team.vendor) > 0


def test_confirmation_replayed_refused(kit, engine, team):
    jid, customer = kit.to_customer_step()
    sig = kit.sign(customer, "ConfirmValue", {"journeyId": jid, "playbookId": kit.playbook_id})
    engine.confirmValue(jid, kit.history(jid), sig, {"from": team.outsider})
    credit = engine.creditOf(team.vendor)
    with reverts_with("JourneyNotOpen") as info:
        engine.confirmValue(jid, kit.history(jid), sig, {"from": team.outsider})
    assert_error_args(info, jid, VALUE_DELIVERED)
    assert engine.creditOf(team.vendor) == credit


def test_signature_with_a_used_nonce_refused(kit, engine, team):
    jid, customer = kit.to_customer_step()
    stale = kit.sign(customer, "ConfirmValue", {"journeyId": jid, "playbookId": kit.playbook_id})
    kit.dispute(jid, customer, step=4)  # uses nonce 0
    kit.resolve(jid, False, team.arbiter)
    with reverts_with("StaleNonce") as info:
        engine.confirmValue(jid, kit.history(jid), stale, {"from": team.outsider})
    assert_error_args(info, jid, 0, 1)
    _untouched(kit, jid)
    kit.confirm(jid, customer)  # a fresh signature with nonce 1 still counts
    assert engine.journey(jid)[2] == VALUE_DELIVERED


def test_dispute_signature_replayed_refused(kit, engine, voice, team):
    jid, customer = kit.to_customer_step()
    reason = b"\x55" * 32
    message = {"journeyId": jid, "playbookId": kit.playbook_id, "step": 4, "reason": reason}
    sig = kit.sign(customer, "Dispute", message)
    voice.dispute(jid, 4, reason, sig, {"from": team.outsider})
    kit.resolve(jid, False, team.arbiter)
    with reverts_with("StaleNonce") as info:
        voice.dispute(jid, 4, reason, sig, {"from": team.outsider})
    assert_error_args(info, jid, 0, 1)
    assert engine.journey(jid)[2] == OPEN
    assert voice.nonceOf(jid) == 1


def test_future_nonce_refused(kit, engine, team):
    jid, customer = kit.to_customer_step()
    sig = kit.sign(customer, "ConfirmValue", {"journeyId": jid, "playbookId": kit.playbook_id}, nonce=1)
    with reverts_with("StaleNonce") as info:
        engine.confirmValue(jid, kit.history(jid), sig, {"from": team.outsider})
    assert_error_args(info, jid, 1, 0)
    _untouched(kit, jid)


@pytest.mark.smoke
def test_expired_signature_refused(kit, engine, team):
    jid, customer = kit.to_customer_step()
    deadline = chain.time() + 60
    sig = kit.sign(
        customer, "ConfirmValue", {"journeyId": jid, "playbookId": kit.playbook_id}, deadline=deadline
    )
    chain.sleep(120)
    chain.mine()
    with reverts_with("SignatureExpired") as info:
        engine.confirmValue(jid, kit.history(jid), sig, {"from": team.outsider})
    assert_error_args(info, deadline)
    _untouched(kit, jid)


def test_signature_for_another_journey_refused(kit, engine, team):
    customer = Customer()
    first, _ = kit.to_customer_step(customer)
    second, _ = kit.to_customer_step(customer)  # the same customer, the same profile
    sig = kit.sign(customer, "ConfirmValue", {"journeyId": first, "playbookId": kit.playbook_id})
    # the signature names its signer, the customer: it is not the customer's for this journey
    with reverts_with("BadSignature") as info:
        engine.confirmValue(second, kit.history(second), sig, {"from": team.outsider})
    assert_error_args(info, customer.address)
    _untouched(kit, second)
    _untouched(kit, first)


def test_signature_for_another_chain_refused(kit, engine, team):
    jid, customer = kit.to_customer_step()
    message = _confirm_message(kit, jid, 0, chain.time() + 3600)
    sig = _signed(kit, customer, message, chain_id=chain.id + 1)
    with reverts_with("BadSignature") as info:
        engine.confirmValue(jid, kit.history(jid), sig, {"from": team.outsider})
    assert_error_args(info, customer.address)
    _untouched(kit, jid)


@pytest.mark.parametrize("contract", ["engine", "token", "registry"])
def test_signature_for_another_verifying_contract_refused(kit, engine, team, contract):
    """Only the voice's domain counts: not even the engine's own address, where the
    confirmation is sent."""
    jid, customer = kit.to_customer_step()
    verifying = {"engine": engine, "token": kit.token, "registry": kit.registry}[contract].address
    assert engine.voice() == kit.voice.address != verifying
    message = _confirm_message(kit, jid, 0, chain.time() + 3600)
    sig = _signed(kit, customer, message, verifying=verifying)
    with reverts_with("BadSignature") as info:
        engine.confirmValue(jid, kit.history(jid), sig, {"from": team.outsider})
    assert_error_args(info, customer.address)
    _untouched(kit, jid)


def test_signature_for_another_playbook_refused(kit, engine, team):
    jid, customer = kit.to_customer_step()
    message = _confirm_message(kit, jid, 0, chain.time() + 3600, playbookId=kit.playbook_id + 1)
    with reverts_with("BadSignature"):
        engine.confirmValue(jid, kit.history(jid), _signed(kit, customer, message), {"from": team.outsider})
    _untouched(kit, jid)


def test_signature_from_anyone_but_the_customer_refused(kit, engine, team):
    jid, _ = kit.to_customer_step()
    stranger = Customer()
    sig = kit.sign(stranger, "ConfirmValue", {"journeyId": jid, "playbookId": kit.playbook_id})
    with reverts_with("NotCustomer") as info:
        engine.confirmValue(jid, kit.history(jid), sig, {"from": team.outsider})
    assert_error_args(info, jid, stranger.address)
    _untouched(kit, jid)


def test_customer_signature_with_the_wrong_profile_refused(kit, engine, team):
    jid, customer = kit.to_customer_step()
    message = _confirm_message(kit, jid, 0, chain.time() + 3600)
    sig = _signed(kit, customer, message, profile=Customer().profile)
    with reverts_with("NotCustomer") as info:
        engine.confirmValue(jid, kit.history(jid), sig, {"from": team.outsider})
    assert_error_args(info, jid, customer.address)
    _untouched(kit, jid)


def test_confirmation_for_unknown_journey_refused(kit, engine, team):
    customer = Customer()
    unknown = b"\x77" * 32
    message = _confirm_message(kit, unknown, 0, chain.time() + 3600)
    with reverts_with("UnknownJourney") as info:
        engine.confirmValue(unknown, [], _signed(kit, customer, message), {"from": team.outsider})
    assert_error_args(info, unknown)


def test_a_confirmation_signed_before_the_last_step_is_stale(kit, engine, team):
    """Signed at booking, a confirmation does not cover the steps that came after it."""
    jid, customer = kit.to_booking()
    kit.complete(jid, team.sales, kit.booking_fields())
    early = kit.sign(customer, "ConfirmValue", {"journeyId": jid, "playbookId": kit.playbook_id})
    kit.complete(jid, team.success)
    kit.complete(jid, team.vendor)
    with reverts_with("StaleSignature"):
        engine.confirmValue(jid, kit.history(jid), early, {"from": team.outsider})
    _untouched(kit, jid)
    kit.confirm(jid, customer)


def test_a_participant_cannot_be_a_journeys_customer(kit, engine, team, directory):
    """A participant that opens a journey for its own key cannot confirm value as the customer."""
    insider = Customer()
    directory.addMember(ORGS["marketing"], insider.address, {"from": team.admin})
    jid, _ = kit.to_customer_step(insider)
    with reverts_with("ParticipantAsCustomer") as info:
        kit.confirm(jid, insider)
    assert_error_args(info, jid, insider.address)
    _untouched(kit, jid)
