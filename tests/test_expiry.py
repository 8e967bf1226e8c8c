"""If value is not confirmed before the customer's step's deadline, anyone may expire the
journey: the whole pool goes back to its funder and nobody else is credited."""

from brownie import chain
from conftest import DAY, POOL, assert_error_args, drive_to_customer_step, reverts_with

OPEN, EXPIRED = 1, 4
PARTICIPANTS = ("marketing", "sales", "success", "vendor")


def _past_deadline(engine, jid):
    chain.sleep(engine.journey(jid)[4] - chain.time() + 60)
    chain.mine()


def test_anyone_expires_after_the_deadline_and_the_pool_returns_to_the_funder(kit, engine, team):
    jid, _ = kit.to_customer_step()
    _past_deadline(engine, jid)
    tx = engine.expire(jid, {"from": team.outsider})
    state = engine.journey(jid)
    assert state[2] == EXPIRED
    assert state[7] == 0
    assert engine.creditOf(team.funder) == POOL
    assert all(engine.creditOf(getattr(team, name)) == 0 for name in PARTICIPANTS)
    event = tx.events["JourneyClosed"]
    assert bytes(event["journeyId"]) == bytes(jid)
    assert event["status"] == EXPIRED
    assert event["refund"] == POOL


def test_breaches_do_not_change_the_refund(kit, engine, team):
    jid, customer = drive_to_customer_step(kit, late={1, 4})
    _past_deadline(engine, jid)
    engine.expire(jid, {"from": team.vendor})
    assert engine.creditOf(team.funder) == POOL
    assert engine.creditOf(customer.address) == 0
    assert all(engine.creditOf(getattr(team, name)) == 0 for name in PARTICIPANTS)


def test_expiry_refused_before_the_deadline(kit, engine, team):
    jid, _ = kit.to_customer_step()
    deadline = engine.journey(jid)[4]
    chain.sleep(deadline - chain.time() - DAY)
    chain.mine()
    with reverts_with("DeadlineNotPassed") as info:
        engine.expire(jid, {"from": team.outsider})
    assert_error_args(info, jid, 5, deadline)
    assert engine.journey(jid)[2] == OPEN
    assert engine.journey(jid)[7] == POOL
    assert engine.creditOf(team.funder) == 0


def test_expiry_refused_before_the_customer_step(kit, engine, team):
    jid, _ = kit.to_booking()
    kit.complete(jid, team.sales, kit.booking_fields())
    _past_deadline(engine, jid)  # onboarding's deadline passed: a breach, not an expiry
    with reverts_with("StepNotReached") as info:
        engine.expire(jid, {"from": team.outsider})
    assert_error_args(info, jid, 3)
    assert engine.journey(jid)[2] == OPEN
    assert engine.creditOf(team.funder) == 0


def test_expired_journey_cannot_be_confirmed(kit, engine, team):
    jid, customer = kit.to_customer_step()
    _past_deadline(engine, jid)
    engine.expire(jid, {"from": team.outsider})
    with reverts_with("JourneyNotOpen") as info:
        kit.confirm(jid, customer)
    assert_error_args(info, jid, EXPIRED)
    assert engine.creditOf(team.vendor) == 0
    assert engine.creditOf(team.funder) == POOL


def test_journey_expires_once(kit, engine, team):
    jid, _ = kit.to_customer_step()
    _past_deadline(engine, jid)
    engine.expire(jid, {"from": team.outsider})
    with reverts_with("JourneyNotOpen"):
        engine.expire(jid, {"from": team.outsider})
    assert engine.creditOf(team.funder) == POOL


def test_confirmed_journey_cannot_expire(kit, engine, team):
    jid, customer = kit.to_customer_step()
    kit.confirm(jid, customer)
    chain.sleep(200 * DAY)
    chain.mine()
    with reverts_with("JourneyNotOpen") as info:
        engine.expire(jid, {"from": team.outsider})
    assert_error_args(info, jid, 3)
    assert engine.creditOf(team.funder) == 0


def test_funder_claims_the_refund(kit, engine, token, team):
    jid, _ = kit.to_customer_step()
    _past_deadline(engine, jid)
    engine.expire(jid, {"from": team.outsider})
    before = token.balanceOf(team.funder)
    engine.claim({"from": team.funder})
    assert token.balanceOf(team.funder) - before == POOL


def test_disputed_journey_does_not_expire_while_the_dispute_is_open(kit, engine, team):
    jid, customer = kit.to_customer_step()
    deadline = engine.journey(jid)[4]
    chain.sleep(deadline - chain.time() - 5 * DAY)
    since = kit.dispute(jid, customer, step=4).timestamp
    chain.sleep(10 * DAY)  # the customer's deadline passes while the dispute holds the journey
    chain.mine()
    with reverts_with("JourneyNotOpen") as info:
        engine.expire(jid, {"from": team.outsider})
    assert_error_args(info, jid, 2)
    assert engine.creditOf(team.funder) == 0
    resolved = kit.resolve(jid, False, team.arbiter).timestamp
    assert engine.journey(jid)[4] == deadline + (resolved - since)
    with reverts_with("DeadlineNotPassed"):
        engine.expire(jid, {"from": team.outsider})
    kit.confirm(jid, customer)  # the hold's time was given back to the customer
    assert engine.journey(jid)[2] == 3
    assert engine.creditOf(team.funder) == 0


def test_confirmation_after_the_deadline_is_refused_so_that_refund_and_payout_never_race(kit, engine, team):
    jid, customer = kit.to_customer_step()
    deadline = engine.journey(jid)[4]
    _past_deadline(engine, jid)
    with reverts_with("DeadlinePassed") as info:
        kit.confirm(jid, customer, deadline=chain.time() + DAY)
    assert_error_args(info, jid, 5, deadline)
    assert engine.journey(jid)[2] == OPEN
    assert all(engine.creditOf(getattr(team, name)) == 0 for name in PARTICIPANTS)
    engine.expire(jid, {"from": team.outsider})
    assert engine.creditOf(team.funder) == POOL


def test_confirmation_just_before_the_deadline_still_pays(kit, engine, team):
    jid, customer = kit.to_customer_step()
    chain.sleep(engine.journey(jid)[4] - chain.time() - 120)
    chain.mine()
    kit.confirm(jid, customer)
    assert engine.journey(jid)[2] == 3  # value delivered
    assert engine.creditOf(team.vendor) > 0
