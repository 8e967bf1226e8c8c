"""A journey's escrowed pool: funded by the one FUNDER named when the journey opened (approve
then fund, or a permit in one call) any time before value is confirmed; the default playbook
books no deal unfunded, and the booking's clock does not run against the rep while it waits."""

import pytest
from brownie import chain
from conftest import (
    DAY,
    HOUR,
    ORGS,
    POOL,
    assert_error_args,
    enrol,
    new_local_account,
    reverts_with,
    sign_permit,
)

from journeychain.playbook import role_id

VALUE_DELIVERED = 3
FUNDER_ROLE = role_id("FUNDER")
BOOKING = 2
BOOKING_SLA = 30 * DAY


def test_funder_funds_pool_after_approve(kit, engine, token, team):
    jid, _, _ = kit.open()
    escrow, balance = token.balanceOf(engine), token.balanceOf(team.funder)
    tx = engine.fund(jid, POOL, {"from": team.funder})
    state = engine.journey(jid)
    assert state[7] == POOL
    assert state[8] == team.funder
    assert token.balanceOf(engine) == escrow + POOL
    assert token.balanceOf(team.funder) == balance - POOL
    event = tx.events["PoolFunded"]
    assert (event["journeyId"], event["funder"], event["amount"], event["pool"]) == (
        "0x" + bytes(jid).hex(),
        team.funder,
        POOL,
        POOL,
    )


def test_same_funder_tops_up_the_pool(kit, engine, token, team):
    jid, _, _ = kit.open()
    kit.fund(jid, POOL)
    tx = kit.fund(jid, 250)
    assert engine.journey(jid)[7] == POOL + 250
    assert tx.events["PoolFunded"]["amount"] == 250
    assert tx.events["PoolFunded"]["pool"] == POOL + 250


@pytest.mark.smoke
def test_deal_booking_refused_until_pool_funded(kit, engine, team):
    jid, _ = kit.to_booking(fund=False)
    with reverts_with("PoolNotFunded") as info:
        kit.complete(jid, team.sales, kit.booking_fields())
    assert_error_args(info, jid, BOOKING)
    assert engine.journey(jid)[1] == BOOKING
    kit.fund(jid)
    kit.complete(jid, team.sales, kit.booking_fields())
    assert engine.journey(jid)[1] == BOOKING + 1


def test_steps_before_booking_need_no_pool(kit, engine, team):
    jid, _, _ = kit.open()
    kit.complete(jid, team.marketing, assign=team.sales)
    kit.complete(jid, team.sales)
    state = engine.journey(jid)
    assert state[1] == BOOKING
    assert state[7] == 0


def test_fund_with_permit_in_one_call(kit, engine, token, team):
    funder = new_local_account(team)
    enrol(kit.directory, team.admin, funder, ORGS["finance"], "FUNDER")
    token.mint(funder, POOL, {"from": team.admin})
    jid, _, _ = kit.open(funder=funder)
    assert token.allowance(funder, engine) == 0
    deadline = chain.time() + DAY
    v, r, s = sign_permit(token, funder, engine, POOL, deadline)
    escrow = token.balanceOf(engine)
    tx = engine.fundWithPermit(jid, POOL, deadline, v, r, s, {"from": funder})
    assert engine.journey(jid)[7] == POOL
    assert engine.journey(jid)[8] == funder
    assert token.balanceOf(funder) == 0
    assert token.balanceOf(engine) == escrow + POOL
    assert token.allowance(funder, engine) == 0
    assert token.nonces(funder) == 1
    assert tx.events["PoolFunded"]["funder"] == funder
    assert tx.events["PoolFunded"]["pool"] == POOL


def test_only_the_funder_named_at_opening_may_fund(kit, engine, token, team, directory):
    """Another FUNDER cannot squat an open journey with 1 wei before the real funder."""
    other = team.outsider
    enrol(directory, team.admin, other, ORGS["finance"], "FUNDER")
    token.mint(other, POOL, {"from": team.admin})
    token.approve(engine, POOL, {"from": other})
    jid, _, _ = kit.open()
    assert engine.journey(jid)[8] == team.funder
    with reverts_with("NotFunder") as info:
        engine.fund(jid, 1, {"from": other})
    assert_error_args(info, jid, other, team.funder)
    assert engine.journey(jid)[7] == 0
    kit.fund(jid, POOL)
    assert engine.journey(jid)[7] == POOL
    assert token.balanceOf(other) == POOL


def test_a_journey_is_opened_with_a_funder_that_holds_the_role(kit, team):
    with reverts_with("MissingRole"):
        kit.open(funder=team.sales)


def test_funding_late_restarts_the_bookings_clock(kit, engine, team):
    """The funder keeps the gate closed past the booking deadline: the rep cannot be flagged while
    it waits, and the first funding gives the booking its whole SLA from then on."""
    jid, customer, _ = kit.open()
    kit.complete(jid, team.marketing, assign=team.sales)
    kit.complete(jid, team.sales, assign=team.sales)
    kit.attest_identity(customer)
    chain.sleep(BOOKING_SLA + DAY)
    chain.mine()
    with reverts_with("PoolNotFunded"):
        engine.flagBreach(jid, {"from": team.outsider})
    tx = kit.fund(jid)
    restarted = tx.events["ClockRestarted"]
    assert (restarted["step"], restarted["deadline"]) == (BOOKING, tx.timestamp + BOOKING_SLA)
    assert engine.journey(jid)[4] == tx.timestamp + BOOKING_SLA
    chain.sleep(BOOKING_SLA - HOUR)
    chain.mine()
    booked = kit.complete(jid, team.sales, kit.booking_fields())
    assert booked.events["StepCompleted"]["late"] is False
    assert engine.journey(jid)[5] == 0  # no breach
    assert engine.breachCount(team.sales) == 0


def test_a_pool_funded_before_the_booking_leaves_its_deadline_alone(kit, engine, team):
    """The clock restarts only for a step that waited for the pool: funded before the journey
    reaches the booking, the booking's deadline runs from the lead's acceptance."""
    jid, _customer, _ = kit.open()
    kit.complete(jid, team.marketing, assign=team.sales)
    tx = kit.fund(jid)
    assert "ClockRestarted" not in tx.events
    done = kit.complete(jid, team.sales, assign=team.sales)
    assert engine.journey(jid)[4] == done.timestamp + BOOKING_SLA


def test_zero_amount_refused(kit, engine, team):
    jid, _, _ = kit.open()
    with reverts_with("ZeroAmount"):
        engine.fund(jid, 0, {"from": team.funder})
    assert engine.journey(jid)[7] == 0
    assert engine.journey(jid)[8] == team.funder  # named when it opened


def test_funding_without_funder_role_refused(kit, engine, token, team):
    token.mint(team.outsider, POOL, {"from": team.admin})
    token.approve(engine, POOL, {"from": team.outsider})
    jid, _, _ = kit.open()
    with reverts_with("MissingRole") as info:
        engine.fund(jid, POOL, {"from": team.outsider})
    assert_error_args(info, team.outsider, FUNDER_ROLE)
    assert engine.journey(jid)[7] == 0
    assert token.balanceOf(team.outsider) == POOL


def test_funding_at_the_customer_step_adds_to_the_payouts(kit, engine, team):
    jid, customer = kit.to_customer_step()
    kit.fund(jid, POOL)
    assert engine.journey(jid)[7] == 2 * POOL
    kit.confirm(jid, customer)
    assert engine.creditOf(team.vendor) == 2 * POOL * 3 // 10


def test_funding_refused_after_value_confirmed(kit, engine, token, team):
    jid, customer = kit.to_customer_step()
    kit.confirm(jid, customer)
    escrow, balance = token.balanceOf(engine), token.balanceOf(team.funder)
    with reverts_with("JourneyNotOpen") as info:
        engine.fund(jid, POOL, {"from": team.funder})
    assert_error_args(info, jid, VALUE_DELIVERED)
    assert engine.journey(jid)[2] == VALUE_DELIVERED
    assert engine.journey(jid)[7] == 0
    assert token.balanceOf(engine) == escrow
    assert token.balanceOf(team.funder) == balance


def test_funding_unknown_journey_refused(engine, kit, team):
    with reverts_with("UnknownJourney") as info:
        engine.fund(b"\x99" * 32, POOL, {"from": team.funder})
    assert_error_args(info, b"\x99" * 32)


def test_funding_allowed_while_a_dispute_holds_the_journey(kit, engine, team):
    jid, customer = kit.to_customer_step()
    kit.dispute(jid, customer, step=4)
    assert engine.journey(jid)[2] == 2  # Disputed
    kit.fund(jid, 500)
    assert engine.journey(jid)[7] == POOL + 500


def test_pool_above_what_a_pool_holds_refused(kit, engine, token, team):
    limit = 2**96 - 1
    token.mint(team.funder, limit, {"from": team.admin})
    jid, _, _ = kit.open()
    kit.fund(jid, POOL)
    with reverts_with("PoolTooLarge") as info:
        kit.fund(jid, limit)
    assert_error_args(info, jid, POOL + limit)
    assert engine.journey(jid)[7] == POOL
