"""The customer's signed dispute of a completed step holds the journey (no step, no
confirmation, no payout) until an ARBITER resolves it. Upheld: the step's share is
forfeited wholly, as if breached. Rejected: the journey goes on."""

import pytest
from brownie import chain
from conftest import (
    DAY,
    POOL,
    Customer,
    assert_error_args,
    drive_to_customer_step,
    expected_payouts,
    reverts_with,
)

from journeychain.playbook import role_id

OPEN, DISPUTED, VALUE_DELIVERED = 1, 2, 3
BOOKED, ONBOARDING, DELIVERED, CUSTOMER_STEP = 2, 3, 4, 5
ARBITER_ROLE = role_id("ARBITER")


def test_dispute_holds_the_journey_and_refuses_confirmation(kit, engine, voice, team):
    jid, customer = kit.to_customer_step()
    reason = b"\x42" * 32
    tx = kit.dispute(jid, customer, ONBOARDING, reason=reason)
    event = tx.events["Disputed"]
    assert (bytes(event["journeyId"]), event["step"], bytes(event["reason"])) == (
        bytes(jid),
        ONBOARDING,
        reason,
    )
    assert engine.journey(jid)[2] == DISPUTED
    disputed, upheld, step, since = engine.disputeOf(jid)
    assert (disputed, upheld, step) == (1 << ONBOARDING, 0, ONBOARDING)
    assert since == tx.timestamp
    with reverts_with("JourneyNotOpen") as info:
        kit.confirm(jid, customer)
    assert_error_args(info, jid, DISPUTED)
    assert engine.creditOf(team.success) == 0
    assert engine.journey(jid)[7] == POOL


def test_dispute_mid_journey_holds_the_next_step(kit, engine, team):
    jid, customer = kit.to_booking()
    kit.complete(jid, team.sales, kit.booking_fields())
    kit.dispute(jid, customer, BOOKED)
    with reverts_with("JourneyNotOpen") as info:
        kit.complete(jid, team.success)
    assert_error_args(info, jid, DISPUTED)
    assert engine.journey(jid)[1] == ONBOARDING
    kit.resolve(jid, False, team.arbiter)
    kit.complete(jid, team.success)
    assert engine.journey(jid)[1] == DELIVERED


@pytest.mark.smoke
def test_upheld_dispute_forfeits_the_step_share_wholly(kit, engine, team, default_playbook):
    jid, customer = kit.to_customer_step()
    kit.dispute(jid, customer, ONBOARDING)
    tx = kit.resolve(jid, True, team.arbiter)
    resolved = tx.events["DisputeResolved"]
    assert (resolved["step"], resolved["upheld"], resolved["arbiter"]) == (ONBOARDING, True, team.arbiter)
    assert engine.journey(jid)[2] == OPEN
    assert engine.disputeOf(jid)[1] == 1 << ONBOARDING
    payout = kit.confirm(jid, customer).events["ValueConfirmed"]
    full, _, _ = expected_payouts(default_playbook, POOL)
    assert engine.creditOf(team.success) == 0
    assert engine.creditOf(team.funder) == full[ONBOARDING]
    assert engine.creditOf(team.vendor) == full[DELIVERED]
    assert engine.creditOf(team.marketing) == full[0]
    assert payout["amounts"][ONBOARDING] == 0
    assert payout["forfeited"] == full[ONBOARDING]
    assert payout["forfeitedTo"] == team.funder


def test_upheld_dispute_of_a_breached_step_forfeits_no_more_than_its_share(
    kit, engine, team, default_playbook
):
    jid, customer = drive_to_customer_step(kit, late={DELIVERED})
    kit.dispute(jid, customer, DELIVERED)
    kit.resolve(jid, True, team.arbiter)
    kit.confirm(jid, customer)
    full, _, _ = expected_payouts(default_playbook, POOL)
    assert engine.creditOf(team.vendor) == 0
    assert engine.creditOf(team.funder) == full[DELIVERED]


def test_rejected_dispute_lets_the_journey_go_on(kit, engine, team, default_playbook):
    jid, customer = kit.to_customer_step()
    kit.dispute(jid, customer, ONBOARDING)
    tx = kit.resolve(jid, False, team.arbiter)
    assert tx.events["DisputeResolved"]["upheld"] is False
    assert engine.journey(jid)[2] == OPEN
    assert engine.disputeOf(jid)[1] == 0
    kit.confirm(jid, customer)
    full, _, _ = expected_payouts(default_playbook, POOL)
    assert engine.creditOf(team.success) == full[ONBOARDING]
    assert engine.creditOf(team.funder) == 0
    assert engine.journey(jid)[2] == VALUE_DELIVERED


def test_rejected_dispute_moves_the_deadline_by_the_hold(kit, engine, team):
    jid, customer = kit.to_customer_step()
    deadline = engine.journey(jid)[4]
    since = kit.dispute(jid, customer, DELIVERED).timestamp
    chain.sleep(10 * DAY)
    resolved = kit.resolve(jid, False, team.arbiter).timestamp
    assert engine.journey(jid)[4] == deadline + (resolved - since)


def test_only_an_arbiter_resolves(kit, engine, team):
    jid, customer = kit.to_customer_step()
    kit.dispute(jid, customer, ONBOARDING)
    for account in (team.admin, team.sales, team.funder, team.outsider):
        with reverts_with("MissingRole") as info:
            kit.resolve(jid, False, account)
        assert_error_args(info, account, ARBITER_ROLE)
    assert engine.journey(jid)[2] == DISPUTED
    assert engine.disputeOf(jid)[1] == 0


def test_step_disputed_once_only(kit, engine, team):
    jid, customer = kit.to_customer_step()
    kit.dispute(jid, customer, ONBOARDING)
    kit.resolve(jid, False, team.arbiter)
    with reverts_with("AlreadyDisputed") as info:
        kit.dispute(jid, customer, ONBOARDING)
    assert_error_args(info, jid, ONBOARDING)
    assert engine.journey(jid)[2] == OPEN
    kit.dispute(jid, customer, DELIVERED)  # another step may still be disputed
    assert engine.disputeOf(jid)[0] == (1 << ONBOARDING) | (1 << DELIVERED)


def test_second_dispute_while_one_is_open_refused(kit, engine, team):
    jid, customer = kit.to_customer_step()
    kit.dispute(jid, customer, ONBOARDING)
    with reverts_with("JourneyNotOpen") as info:
        kit.dispute(jid, customer, DELIVERED)
    assert_error_args(info, jid, DISPUTED)
    assert engine.disputeOf(jid)[0] == 1 << ONBOARDING


def test_dispute_of_a_step_not_completed_refused(kit, engine, team):
    jid, customer = kit.to_booking()
    kit.complete(jid, team.sales, kit.booking_fields())
    with reverts_with("StepNotReached") as info:
        kit.dispute(jid, customer, ONBOARDING)
    assert_error_args(info, jid, ONBOARDING)
    assert engine.journey(jid)[2] == OPEN
    assert engine.disputeOf(jid)[0] == 0


def test_dispute_of_the_customer_step_refused(kit, engine, team):
    jid, customer = kit.to_customer_step()
    with reverts_with("StepNotReached") as info:
        kit.dispute(jid, customer, CUSTOMER_STEP)
    assert_error_args(info, jid, CUSTOMER_STEP)
    assert engine.journey(jid)[2] == OPEN


def test_dispute_after_confirmation_refused(kit, engine, team):
    jid, customer = kit.to_customer_step()
    kit.confirm(jid, customer)
    credit = engine.creditOf(team.vendor)
    with reverts_with("JourneyNotOpen") as info:
        kit.dispute(jid, customer, DELIVERED)
    assert_error_args(info, jid, VALUE_DELIVERED)
    assert engine.creditOf(team.vendor) == credit


def test_dispute_by_anyone_but_the_customer_refused(kit, engine, team):
    jid, _ = kit.to_customer_step()
    stranger = Customer()
    with reverts_with("NotCustomer") as info:
        kit.dispute(jid, stranger, ONBOARDING)
    assert_error_args(info, jid, stranger.address)
    assert engine.journey(jid)[2] == OPEN


def test_a_dispute_holds_the_journey_only_through_the_customer_voice(kit, engine, team):
    jid, _ = kit.to_customer_step()
    with reverts_with("NotVoice") as info:
        engine.holdForDispute(jid, ONBOARDING, b"\x42" * 32, {"from": team.outsider})
    assert_error_args(info, team.outsider)
    assert engine.journey(jid)[2] == OPEN
    assert engine.disputeOf(jid)[0] == 0


def test_resolution_without_open_dispute_refused(kit, engine, team):
    jid, _ = kit.to_customer_step()
    with reverts_with("NoOpenDispute") as info:
        kit.resolve(jid, True, team.arbiter)
    assert_error_args(info, jid)
    assert engine.disputeOf(jid)[1] == 0
