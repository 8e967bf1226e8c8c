"""A breached step's owner is credited its share less the step's penalty; the forfeited
penalties go to the funder (default) or to the customer as a make-good (penalty_to: customer)."""

import pytest
from brownie import accounts
from conftest import POOL, drive_to_customer_step, expected_payouts, publish_variant, variant_kit

LEAD_ACCEPTED, BOOKED, ONBOARDING, DELIVERED = 1, 2, 3, 4


def test_one_breached_step_loses_its_penalty_to_the_funder(kit, engine, team, default_playbook):
    jid, customer = drive_to_customer_step(kit, late={ONBOARDING})
    assert engine.journey(jid)[5] == 1 << ONBOARDING
    tx = kit.confirm(jid, customer)
    full, _, _ = expected_payouts(default_playbook, POOL)
    amounts, forfeited, _ = expected_payouts(default_playbook, POOL, late={ONBOARDING})
    assert forfeited > 0
    assert engine.creditOf(team.success) == amounts[ONBOARDING] == full[ONBOARDING] - forfeited
    assert engine.creditOf(team.funder) == forfeited
    assert engine.creditOf(team.vendor) == full[DELIVERED]
    assert engine.creditOf(team.marketing) == full[0]
    assert engine.creditOf(customer.address) == 0
    event = tx.events["ValueConfirmed"]
    assert list(event["amounts"]) == amounts
    assert event["forfeited"] == forfeited
    assert event["forfeitedTo"] == team.funder
    assert sum(event["amounts"]) + event["forfeited"] + event["remainder"] == POOL


def test_two_breached_steps_each_lose_their_own_penalty(kit, engine, team, default_playbook):
    late = {LEAD_ACCEPTED, DELIVERED}
    jid, customer = drive_to_customer_step(kit, late=late)
    tx = kit.confirm(jid, customer)
    full, _, _ = expected_payouts(default_playbook, POOL)
    amounts, forfeited, _ = expected_payouts(default_playbook, POOL, late=late)
    lost_accept = full[LEAD_ACCEPTED] - amounts[LEAD_ACCEPTED]
    lost_delivery = full[DELIVERED] - amounts[DELIVERED]
    assert lost_accept > 0 and lost_delivery > 0
    assert forfeited == lost_accept + lost_delivery
    assert engine.creditOf(team.sales) == amounts[LEAD_ACCEPTED] + full[BOOKED]
    assert engine.creditOf(team.vendor) == amounts[DELIVERED]
    assert engine.creditOf(team.success) == full[ONBOARDING]
    assert engine.creditOf(team.funder) == forfeited
    assert tx.events["ValueConfirmed"]["forfeited"] == forfeited
    assert tx.events["ValueConfirmed"]["forfeitedTo"] == team.funder


def test_late_step_recorded_as_late_in_its_history(kit, engine, team):
    jid, _ = drive_to_customer_step(kit, late={BOOKED})
    lateness = [late for _, late, _ in kit.history(jid)]
    assert lateness == [False, False, True, False, False]
    assert engine.journey(jid)[5] == 1 << BOOKED


@pytest.fixture
def make_good_kit(kit, engine, team):
    return variant_kit(kit, publish_variant(engine, team.admin, penalty_to="customer"))


def test_penalty_goes_to_the_customer_as_make_good(make_good_kit, engine, team, default_playbook):
    late = {ONBOARDING, DELIVERED}
    jid, customer = drive_to_customer_step(make_good_kit, late=late)
    tx = make_good_kit.confirm(jid, customer)
    amounts, forfeited, _ = expected_payouts(default_playbook, POOL, late=late)
    assert forfeited > 0
    assert engine.creditOf(customer.address) == forfeited
    assert engine.creditOf(team.funder) == 0
    assert engine.creditOf(team.success) == amounts[ONBOARDING]
    assert engine.creditOf(team.vendor) == amounts[DELIVERED]
    assert tx.events["ValueConfirmed"]["forfeitedTo"] == customer.address
    assert tx.events["ValueConfirmed"]["forfeited"] == forfeited


def test_customer_claims_the_make_good(make_good_kit, engine, token, team, default_playbook):
    jid, customer = drive_to_customer_step(make_good_kit, late={LEAD_ACCEPTED})
    make_good_kit.confirm(jid, customer)
    _, forfeited, _ = expected_payouts(default_playbook, POOL, late={LEAD_ACCEPTED})
    wallet = accounts.add(customer.key.key)
    team.admin.transfer(wallet, 10**17)
    engine.claim({"from": wallet})
    assert token.balanceOf(customer.address) == forfeited
    assert engine.creditOf(customer.address) == 0


def test_no_make_good_without_breach(make_good_kit, engine, team, default_playbook):
    jid, customer = drive_to_customer_step(make_good_kit)
    tx = make_good_kit.confirm(jid, customer)
    amounts, _, _ = expected_payouts(default_playbook, POOL)
    assert engine.creditOf(customer.address) == 0
    assert tx.events["ValueConfirmed"]["forfeited"] == 0
    assert engine.creditOf(team.vendor) == amounts[DELIVERED]
