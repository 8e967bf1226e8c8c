"""Where the playbook allows it (verifier_may_confirm), a VERIFIER's valid "value_delivered"
attestation about the journey stands in for the customer's signature; anyone relays it."""

import pytest
from conftest import (
    POOL,
    Customer,
    assert_error_args,
    drive_to_customer_step,
    expected_payouts,
    publish_variant,
    reverts_with,
    variant_kit,
)

from journeychain.encoding import short_name

VALUE_DELIVERED_SCHEMA = short_name("value_delivered")
OPEN, VALUE_DELIVERED = 1, 3
CUSTOMER_STEP = 5
MISSING, REVOKED = 0, 3


@pytest.fixture
def verifier_kit(kit, engine, team):
    return variant_kit(kit, publish_variant(engine, team.admin, verifier_may_confirm=True))


def _attest(kit, jid, expiry=0):
    return kit.registry.attest(VALUE_DELIVERED_SCHEMA, jid, expiry, b"\x88" * 32, {"from": kit.team.verifier})


def _confirm(kit, jid, customer, sender=None):
    return kit.engine.confirmByAttestation(
        jid,
        kit.history(jid),
        customer.address,
        customer.profile,
        kit.team.verifier,
        {"from": sender or kit.team.outsider},
    )


def test_verifier_attestation_confirms_value(verifier_kit, engine, team, default_playbook):
    jid, customer = verifier_kit.to_customer_step()
    _attest(verifier_kit, jid)
    tx = _confirm(verifier_kit, jid, customer)
    assert tx.events["ValueConfirmed"]["by"] == team.verifier
    assert tx.events["ValueConfirmed"]["customer"] == customer.address
    assert engine.journey(jid)[2] == VALUE_DELIVERED
    amounts, _, _ = expected_payouts(default_playbook, POOL)
    assert engine.creditOf(team.vendor) == amounts[4]
    assert engine.creditOf(team.marketing) == amounts[0]
    assert list(tx.events["ValueConfirmed"]["amounts"]) == amounts


def test_customer_signature_still_confirms_where_verifier_may(verifier_kit, engine):
    jid, customer = verifier_kit.to_customer_step()
    tx = verifier_kit.confirm(jid, customer)
    assert tx.events["ValueConfirmed"]["by"] == customer.address
    assert engine.journey(jid)[2] == VALUE_DELIVERED


def test_refused_where_the_playbook_does_not_allow_it(kit, engine, team):
    jid, customer = kit.to_customer_step()
    _attest(kit, jid)
    with reverts_with("VerifierConfirmationOff") as info:
        _confirm(kit, jid, customer)
    assert_error_args(info, kit.playbook_id)
    assert engine.journey(jid)[2] == OPEN
    assert engine.creditOf(team.vendor) == 0


def test_refused_without_an_attestation(verifier_kit, engine, team):
    jid, customer = verifier_kit.to_customer_step()
    other, _ = verifier_kit.to_customer_step()
    _attest(verifier_kit, other)  # about another journey
    with reverts_with("AttestationNotValid") as info:
        _confirm(verifier_kit, jid, customer)
    assert_error_args(info, jid, CUSTOMER_STEP, VALUE_DELIVERED_SCHEMA, MISSING)
    assert engine.journey(jid)[2] == OPEN
    assert engine.creditOf(team.vendor) == 0


def test_refused_once_the_attestation_is_revoked(verifier_kit, engine, registry, team):
    jid, customer = verifier_kit.to_customer_step()
    _attest(verifier_kit, jid)
    registry.revoke(VALUE_DELIVERED_SCHEMA, jid, 1, {"from": team.verifier})
    with reverts_with("AttestationNotValid") as info:
        _confirm(verifier_kit, jid, customer)
    assert_error_args(info, jid, CUSTOMER_STEP, VALUE_DELIVERED_SCHEMA, REVOKED)
    assert engine.journey(jid)[2] == OPEN


def test_only_a_verifier_attests(verifier_kit, engine, registry, team):
    jid, customer = verifier_kit.to_customer_step()
    with reverts_with("MissingRole"):
        registry.attest(VALUE_DELIVERED_SCHEMA, jid, 0, b"\x88" * 32, {"from": team.vendor})
    with reverts_with("AttestationNotValid"):
        _confirm(verifier_kit, jid, customer)
    assert engine.creditOf(team.vendor) == 0


def test_refused_with_someone_else_as_the_customer(verifier_kit, engine, team):
    jid, _ = verifier_kit.to_customer_step()
    _attest(verifier_kit, jid)
    stranger = Customer()
    with reverts_with("NotCustomer") as info:
        _confirm(verifier_kit, jid, stranger)
    assert_error_args(info, jid, stranger.address)
    assert engine.journey(jid)[2] == OPEN


def test_refused_before_the_customer_step(verifier_kit, engine, team):
    jid, customer = verifier_kit.to_booking()
    _attest(verifier_kit, jid)
    with reverts_with("StepNotReached"):
        _confirm(verifier_kit, jid, customer)
    assert engine.creditOf(team.marketing) == 0


def test_verifier_confirmation_credits_the_make_good_to_the_customer(kit, engine, team, default_playbook):
    vkit = variant_kit(
        kit, publish_variant(engine, team.admin, verifier_may_confirm=True, penalty_to="customer")
    )
    jid, customer = drive_to_customer_step(vkit, late={4})
    _attest(vkit, jid)
    _confirm(vkit, jid, customer)
    _, forfeited, _ = expected_payouts(default_playbook, POOL, late={4})
    assert engine.creditOf(customer.address) == forfeited > 0


def test_attestation_confirms_a_journey_once(verifier_kit, engine, team):
    jid, customer = verifier_kit.to_customer_step()
    _attest(verifier_kit, jid)
    _confirm(verifier_kit, jid, customer)
    credit = engine.creditOf(team.vendor)
    with reverts_with("JourneyNotOpen"):
        _confirm(verifier_kit, jid, customer)
    assert engine.creditOf(team.vendor) == credit
