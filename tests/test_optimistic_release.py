"""Optimistic release (the playbook's confirm_window, off by default): once the step
before the customer's completes, a customer silent past the window is taken to have
received value and anyone may trigger the payouts. A dispute inside the window holds it."""

import pytest
from brownie import ZERO_ADDRESS, chain
from conftest import (
    DAY,
    POOL,
    Customer,
    assert_error_args,
    expected_payouts,
    publish_variant,
    reverts_with,
    variant_kit,
)

WINDOW = 14 * DAY
OPEN, VALUE_DELIVERED = 1, 3
DELIVERED = 4


@pytest.fixture
def window_kit(kit, engine, team):
    return variant_kit(kit, publish_variant(engine, team.admin, confirm_window="14d"))


def _release(kit, jid, customer, sender):
    return kit.engine.release(jid, kit.history(jid), customer.address, customer.profile, {"from": sender})


def _sleep_until(moment):
    chain.sleep(moment - chain.time())
    chain.mine()


def _at_customer_step(kit):
    """A journey at the customer's step, and when the step before it completed."""
    jid, customer = kit.to_customer_step()
    return jid, customer, chain[-1].timestamp  # the block of the vendor's completion


def test_window_starts_when_the_step_before_the_customer_completes(window_kit, engine, team):
    jid, _ = window_kit.to_booking()
    window_kit.complete(jid, team.sales, window_kit.booking_fields())
    window_kit.complete(jid, team.success)
    assert engine.releaseTime(jid) == 0
    delivered = window_kit.complete(jid, team.vendor).timestamp
    assert engine.releaseTime(jid) == delivered + WINDOW


def test_release_refused_before_the_window_elapses(window_kit, engine, team):
    jid, customer, delivered = _at_customer_step(window_kit)
    _sleep_until(delivered + WINDOW - DAY)
    with reverts_with("WindowNotElapsed") as info:
        _release(window_kit, jid, customer, team.outsider)
    assert_error_args(info, jid, delivered + WINDOW)
    assert engine.journey(jid)[2] == OPEN
    assert engine.creditOf(team.vendor) == 0


def test_anyone_releases_the_payouts_after_the_window(window_kit, engine, team, default_playbook):
    jid, customer, delivered = _at_customer_step(window_kit)
    _sleep_until(delivered + WINDOW + 1)
    tx = _release(window_kit, jid, customer, team.outsider)
    assert tx.events["ValueConfirmed"]["by"] == ZERO_ADDRESS
    assert tx.events["ValueConfirmed"]["customer"] == customer.address
    assert engine.journey(jid)[2] == VALUE_DELIVERED
    assert engine.journey(jid)[7] == 0
    amounts, _, _ = expected_payouts(default_playbook, POOL)
    assert engine.creditOf(team.marketing) == amounts[0]
    assert engine.creditOf(team.sales) == amounts[1] + amounts[2]
    assert engine.creditOf(team.success) == amounts[3]
    assert engine.creditOf(team.vendor) == amounts[4]
    assert list(tx.events["ValueConfirmed"]["amounts"]) == amounts


def test_customer_may_still_confirm_inside_the_window(window_kit, engine, team):
    jid, customer, _ = _at_customer_step(window_kit)
    tx = window_kit.confirm(jid, customer)
    assert tx.events["ValueConfirmed"]["by"] == customer.address
    assert engine.journey(jid)[2] == VALUE_DELIVERED


def test_release_names_the_journeys_own_customer(window_kit, engine, team):
    jid, _, delivered = _at_customer_step(window_kit)
    _sleep_until(delivered + WINDOW + 1)
    stranger = Customer()
    with reverts_with("NotCustomer") as info:
        _release(window_kit, jid, stranger, team.outsider)
    assert_error_args(info, jid, stranger.address)
    assert engine.journey(jid)[2] == OPEN


def test_dispute_inside_the_window_holds_the_release(window_kit, engine, team):
    jid, customer, delivered = _at_customer_step(window_kit)
    _sleep_until(delivered + 5 * DAY)
    since = window_kit.dispute(jid, customer, DELIVERED).timestamp
    _sleep_until(delivered + WINDOW + DAY)
    with reverts_with("WindowNotElapsed") as info:
        _release(window_kit, jid, customer, team.outsider)
    assert_error_args(info, jid, 0)
    assert engine.creditOf(team.vendor) == 0
    resolved = window_kit.resolve(jid, False, team.arbiter).timestamp
    release_at = delivered + WINDOW + (resolved - since)
    assert engine.releaseTime(jid) == release_at
    with reverts_with("WindowNotElapsed") as info:
        _release(window_kit, jid, customer, team.outsider)
    assert_error_args(info, jid, release_at)
    _sleep_until(release_at + 1)
    _release(window_kit, jid, customer, team.outsider)
    assert engine.journey(jid)[2] == VALUE_DELIVERED
    assert engine.creditOf(team.vendor) > 0


def test_release_refused_once_value_is_confirmed(window_kit, engine, team):
    jid, customer, delivered = _at_customer_step(window_kit)
    window_kit.confirm(jid, customer)
    credit = engine.creditOf(team.vendor)
    _sleep_until(delivered + WINDOW + 1)
    with reverts_with("WindowNotElapsed"):
        _release(window_kit, jid, customer, team.outsider)
    assert engine.creditOf(team.vendor) == credit


def test_release_off_in_the_default_playbook(kit, engine, team):
    jid, customer, delivered = _at_customer_step(kit)
    assert engine.releaseTime(jid) == 0
    _sleep_until(delivered + 89 * DAY)
    with reverts_with("WindowNotElapsed") as info:
        _release(kit, jid, customer, team.outsider)
    assert_error_args(info, jid, 0)
    assert engine.journey(jid)[2] == OPEN
    assert engine.creditOf(team.vendor) == 0


def test_release_refused_once_the_customers_deadline_has_passed(window_kit, engine, team):
    jid, customer, _ = _at_customer_step(window_kit)
    deadline = engine.journey(jid)[4]
    _sleep_until(deadline + 60)
    with reverts_with("DeadlinePassed") as info:
        _release(window_kit, jid, customer, team.outsider)
    assert_error_args(info, jid, 5, deadline)
    assert engine.journey(jid)[2] == OPEN
    assert engine.creditOf(team.vendor) == 0
