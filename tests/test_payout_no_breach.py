"""Value confirmed, no step breached: each step's owner (whoever completed it) is credited
its whole share of the pool, and nothing is forfeited."""

import pytest
from conftest import POOL, ZERO, expected_payouts

VALUE_DELIVERED = 3


@pytest.mark.smoke
def test_every_step_owner_credited_its_full_share(kit, engine, token, team, default_playbook):
    jid, customer = kit.to_customer_step()
    escrow = token.balanceOf(engine)
    tx = kit.confirm(jid, customer)
    amounts, forfeited, remainder = expected_payouts(default_playbook, POOL)
    owners = [team.marketing, team.sales, team.sales, team.success, team.vendor]
    assert engine.creditOf(team.marketing) == amounts[0]
    assert engine.creditOf(team.sales) == amounts[1] + amounts[2]
    assert engine.creditOf(team.success) == amounts[3]
    assert engine.creditOf(team.vendor) == amounts[4]
    assert engine.creditOf(team.funder) == 0
    assert engine.creditOf(customer.address) == 0
    event = tx.events["ValueConfirmed"]
    assert event["customer"] == customer.address
    assert kit.paid_owners(jid, tx) == [*owners, customer.address]
    assert list(event["amounts"]) == amounts
    assert event["forfeited"] == forfeited == 0
    assert event["remainder"] == remainder == 0
    assert event["forfeitedTo"] == ZERO  # nothing forfeited, nothing back to the funder
    assert sum(event["amounts"]) == POOL
    assert token.balanceOf(engine) == escrow  # credited, still escrowed until claimed


def test_journey_closed_as_value_delivered_with_empty_pool(kit, engine, team):
    jid, customer = kit.to_customer_step()
    tx = kit.confirm(jid, customer, relayer=team.sales)
    state = engine.journey(jid)
    assert state[2] == VALUE_DELIVERED
    assert state[7] == 0
    assert bytes(tx.events["ValueConfirmed"]["journeyId"]) == bytes(jid)
    assert tx.events["ValueConfirmed"]["by"] == customer.address


def test_owner_is_whoever_completed_the_step(kit, engine, team, default_playbook):
    jid, customer, _ = kit.open()
    kit.complete(jid, team.marketing, assign=team.sales)
    kit.complete(jid, team.sales)
    kit.fund(jid)
    kit.attest_identity(customer)
    kit.complete(jid, team.sales2, kit.booking_fields())  # the booking step had no assignee
    kit.complete(jid, team.success)
    kit.complete(jid, team.vendor)
    tx = kit.confirm(jid, customer)
    amounts, _, _ = expected_payouts(default_playbook, POOL)
    assert engine.creditOf(team.sales) == amounts[1]
    assert engine.creditOf(team.sales2) == amounts[2]
    assert kit.paid_owners(jid, tx)[2] == team.sales2


def test_credits_accumulate_across_journeys(kit, engine, team, default_playbook):
    amounts, _, _ = expected_payouts(default_playbook, POOL)
    for n in range(1, 4):
        jid, customer = kit.to_customer_step()
        kit.confirm(jid, customer)
        assert engine.creditOf(team.vendor) == n * amounts[4]
        assert engine.creditOf(team.marketing) == n * amounts[0]
