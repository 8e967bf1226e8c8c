"""A whole default journey end to end: the smoke run that also goes to ganache."""

import pytest
from conftest import POOL

pytestmark = pytest.mark.smoke


def test_whole_journey_pays_every_owner_after_the_customer_confirms(kit, team, token, engine):
    jid, customer = kit.to_customer_step()
    tx = kit.confirm(jid, customer)
    assert tx.events["ValueConfirmed"]["by"] == customer.address
    assert engine.journey(jid)[2] == 3  # ValueDelivered
    expected = {
        team.marketing: POOL // 10,
        team.sales: POOL // 10 + POOL * 3 // 10,
        team.success: POOL // 5,
        team.vendor: POOL * 3 // 10,
    }
    for owner, amount in expected.items():
        assert engine.creditOf(owner) == amount
    before = token.balanceOf(team.vendor)
    engine.claim({"from": team.vendor})
    assert token.balanceOf(team.vendor) - before == POOL * 3 // 10
    assert engine.creditOf(team.vendor) == 0
