"""Credits are claimed by pull: everything owed, from any number of journeys, in one
transfer; nothing to claim is refused; nothing is claimed twice."""

import pytest
from conftest import POOL, assert_error_args, expected_payouts, reverts_with

JOURNEYS = 4


@pytest.mark.smoke
def test_claim_across_many_journeys_in_one_transfer(kit, engine, token, team, default_playbook):
    for _ in range(JOURNEYS):
        jid, customer = kit.to_customer_step()
        kit.confirm(jid, customer)
    amounts, _, _ = expected_payouts(default_playbook, POOL)
    owed = JOURNEYS * amounts[4]
    assert engine.creditOf(team.vendor) == owed
    before, escrow = token.balanceOf(team.vendor), token.balanceOf(engine)
    tx = engine.claim({"from": team.vendor})
    assert tx.return_value == owed
    transfers = tx.events["Transfer"]
    assert len(transfers) == 1
    assert transfers[0]["from"] == engine
    assert transfers[0]["to"] == team.vendor
    assert transfers[0]["value"] == owed
    assert tx.events["Claimed"]["account"] == team.vendor
    assert tx.events["Claimed"]["amount"] == owed
    assert token.balanceOf(team.vendor) - before == owed
    assert token.balanceOf(engine) == escrow - owed
    assert engine.creditOf(team.vendor) == 0


def test_claim_refused_with_nothing_to_claim(kit, engine, token, team):
    with reverts_with("NothingToClaim") as info:
        engine.claim({"from": team.outsider})
    assert_error_args(info, team.outsider)
    assert token.balanceOf(team.outsider) == 0


def test_nothing_claimed_twice(kit, engine, token, team):
    jid, customer = kit.to_customer_step()
    kit.confirm(jid, customer)
    engine.claim({"from": team.success})
    balance, escrow = token.balanceOf(team.success), token.balanceOf(engine)
    with reverts_with("NothingToClaim") as info:
        engine.claim({"from": team.success})
    assert_error_args(info, team.success)
    assert token.balanceOf(team.success) == balance
    assert token.balanceOf(engine) == escrow


def test_later_credit_claimed_without_the_earlier_one_again(kit, engine, token, team, default_playbook):
    amounts, _, _ = expected_payouts(default_playbook, POOL)
    jid, customer = kit.to_customer_step()
    kit.confirm(jid, customer)
    first = engine.claim({"from": team.marketing}).return_value
    jid, customer = kit.to_customer_step()
    kit.confirm(jid, customer)
    before = token.balanceOf(team.marketing)
    second = engine.claim({"from": team.marketing})
    assert first == amounts[0]
    assert second.events["Claimed"]["amount"] == amounts[0]
    assert token.balanceOf(team.marketing) - before == amounts[0]


def test_claiming_one_account_leaves_the_others_credit(kit, engine, team, default_playbook):
    amounts, _, _ = expected_payouts(default_playbook, POOL)
    jid, customer = kit.to_customer_step()
    kit.confirm(jid, customer)
    engine.claim({"from": team.vendor})
    assert engine.creditOf(team.vendor) == 0
    assert engine.creditOf(team.success) == amounts[3]
    assert engine.creditOf(team.sales) == amounts[1] + amounts[2]


def test_a_claim_leaves_the_credit_slot_live_for_the_next_payout(kit, engine, team):
    """A payout after every owner claimed costs what one to owners holding credit costs: a
    claim leaves its sentinel in the slot, so the next payout does not create it again
    (5 owners x 17,100 gas if it did)."""
    jid, customer = kit.to_customer_step()
    kit.confirm(jid, customer)
    jid, customer = kit.to_customer_step()
    holding = kit.confirm(jid, customer).gas_used  # every owner holds credit
    for owner in (team.marketing, team.sales, team.success, team.vendor):
        engine.claim({"from": owner})
    jid, customer = kit.to_customer_step()
    after_claims = kit.confirm(jid, customer).gas_used
    assert abs(after_claims - holding) < 5_000
    assert engine.creditOf(team.vendor) > 0
