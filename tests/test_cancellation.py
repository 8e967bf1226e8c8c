"""ADMIN may cancel a journey before the deal is booked; the pool goes back to its
funder. After booking, or by anyone else, cancellation is refused."""

from conftest import POOL, assert_error_args, reverts_with

OPEN, CANCELLED = 1, 5
BOOKING = 2
ADMIN_ROLE = b"\x00" * 32


def test_admin_cancels_before_booking_and_the_pool_returns_to_the_funder(kit, engine, token, team):
    jid, _ = kit.to_booking()
    tx = engine.cancel(jid, {"from": team.admin})
    state = engine.journey(jid)
    assert state[2] == CANCELLED
    assert state[7] == 0
    assert engine.creditOf(team.funder) == POOL
    assert engine.creditOf(team.marketing) == 0
    assert engine.creditOf(team.sales) == 0
    event = tx.events["JourneyClosed"]
    assert (event["status"], event["refund"]) == (CANCELLED, POOL)
    before = token.balanceOf(team.funder)
    engine.claim({"from": team.funder})
    assert token.balanceOf(team.funder) - before == POOL


def test_unfunded_journey_cancels_with_no_refund(kit, engine, team):
    jid, _, _ = kit.open()
    tx = engine.cancel(jid, {"from": team.admin})
    assert engine.journey(jid)[2] == CANCELLED
    assert tx.events["JourneyClosed"]["refund"] == 0
    assert engine.creditOf(team.funder) == 0


def test_cancellation_refused_after_booking(kit, engine, team):
    jid, _ = kit.to_booking()
    kit.complete(jid, team.sales, kit.booking_fields())
    with reverts_with("NotCancellable") as info:
        engine.cancel(jid, {"from": team.admin})
    assert_error_args(info, jid, BOOKING + 1)
    assert engine.journey(jid)[2] == OPEN
    assert engine.journey(jid)[7] == POOL
    assert engine.creditOf(team.funder) == 0


def test_cancellation_refused_at_the_customer_step(kit, engine, team):
    jid, _ = kit.to_customer_step()
    with reverts_with("NotCancellable") as info:
        engine.cancel(jid, {"from": team.admin})
    assert_error_args(info, jid, 5)
    assert engine.journey(jid)[7] == POOL


def test_only_admin_cancels(kit, engine, team):
    jid, _ = kit.to_booking()
    for account in (team.funder, team.sales, team.arbiter, team.outsider):
        with reverts_with("MissingRole") as info:
            engine.cancel(jid, {"from": account})
        assert_error_args(info, account, ADMIN_ROLE)
    assert engine.journey(jid)[2] == OPEN
    assert engine.journey(jid)[7] == POOL
    assert engine.creditOf(team.funder) == 0


def test_cancelled_journey_refuses_steps_and_funding(kit, engine, team):
    jid, _ = kit.to_booking()
    engine.cancel(jid, {"from": team.admin})
    with reverts_with("JourneyNotOpen") as info:
        kit.complete(jid, team.sales, kit.booking_fields())
    assert_error_args(info, jid, CANCELLED)
    with reverts_with("JourneyNotOpen"):
        kit.fund(jid)
    with reverts_with("JourneyNotOpen"):
        engine.cancel(jid, {"from": team.admin})
    assert engine.creditOf(team.funder) == POOL
