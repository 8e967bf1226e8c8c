"""A pool that does not divide evenly by the shares: every unit is accounted for, the
rounding remainder is credited to the funder, and nothing stays stuck in escrow."""

from conftest import drive_to_customer_step, expected_payouts

ODD_POOL = 1_000_000_007  # a prime: no share of it is a whole number of units
OWNERS = ("marketing", "sales", "success", "vendor", "funder")


def _credits(engine, team, customer):
    return {name: engine.creditOf(getattr(team, name)) for name in OWNERS} | {
        "customer": engine.creditOf(customer.address)
    }


def test_sum_of_credits_equals_the_pool_without_breach(kit, engine, team, default_playbook):
    jid, customer = drive_to_customer_step(kit, pool=ODD_POOL)
    tx = kit.confirm(jid, customer)
    credits = _credits(engine, team, customer)
    assert sum(credits.values()) == ODD_POOL
    amounts, _, remainder = expected_payouts(default_playbook, ODD_POOL)
    assert remainder > 0
    assert credits["funder"] == remainder
    assert tx.events["ValueConfirmed"]["remainder"] == remainder
    assert list(tx.events["ValueConfirmed"]["amounts"]) == amounts


def test_sum_of_credits_equals_the_pool_with_breaches(kit, engine, team, default_playbook):
    late = {1, 3, 4}
    jid, customer = drive_to_customer_step(kit, late=late, pool=ODD_POOL)
    tx = kit.confirm(jid, customer)
    credits = _credits(engine, team, customer)
    assert sum(credits.values()) == ODD_POOL
    _, forfeited, remainder = expected_payouts(default_playbook, ODD_POOL, late=late)
    event = tx.events["ValueConfirmed"]
    assert credits["funder"] == forfeited + remainder == event["forfeited"] + event["remainder"]
    assert sum(event["amounts"]) + event["forfeited"] + event["remainder"] == ODD_POOL


def test_escrow_is_emptied_to_the_last_unit_after_everyone_claims(kit, engine, token, team):
    escrow = token.balanceOf(engine)
    jid, customer = drive_to_customer_step(kit, late={3}, pool=ODD_POOL)
    assert token.balanceOf(engine) == escrow + ODD_POOL
    kit.confirm(jid, customer)
    claimed = 0
    for name in OWNERS:
        account = getattr(team, name)
        before = token.balanceOf(account)
        engine.claim({"from": account})
        claimed += token.balanceOf(account) - before
    assert claimed == ODD_POOL
    assert token.balanceOf(engine) == escrow


def test_tiny_pool_remainder_goes_to_the_funder(kit, engine, team):
    jid, customer = drive_to_customer_step(
        kit, pool=3
    )  # every share (10% to 30% of 3 units) rounds down to 0
    tx = kit.confirm(jid, customer)
    assert engine.creditOf(team.funder) == 3
    assert tx.events["ValueConfirmed"]["remainder"] == 3
    assert sum(engine.creditOf(getattr(team, n)) for n in OWNERS[:-1]) == 0
