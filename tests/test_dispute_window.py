"""Every dispute has an end: the arbiter has the playbook's dispute window (14 days by default);
after it anyone closes the dispute by the playbook's fallback (rejected, or the pool refunded).
An arbiter that owned a step of the journey, or funds it, cannot resolve it."""

from brownie import chain
from conftest import DAY, ORGS, POOL, assert_error_args, enrol, publish_variant, reverts_with, variant_kit

from journeychain.playbook import role_id

WINDOW = 14 * DAY
ONBOARDING = 3
OPEN, DISPUTED, EXPIRED = 1, 2, 4


def later(seconds):
    chain.sleep(seconds)
    chain.mine()


def test_the_arbiter_resolves_within_the_window_only(kit, engine, team):
    jid, customer = kit.to_customer_step()
    since = kit.dispute(jid, customer, ONBOARDING).timestamp
    later(WINDOW + 60)
    with reverts_with("DisputeWindowPassed") as info:
        kit.resolve(jid, True)
    assert_error_args(info, jid, since + WINDOW)
    assert engine.journey(jid)[2] == DISPUTED


def test_closing_before_the_window_ends_is_refused(kit, engine, team):
    jid, customer = kit.to_customer_step()
    since = kit.dispute(jid, customer, ONBOARDING).timestamp
    with reverts_with("DisputeWindowOpen") as info:
        kit.voice.closeDispute(jid, {"from": team.outsider})
    assert_error_args(info, jid, since + WINDOW)


def test_a_dispute_left_past_its_window_is_rejected_by_the_default_fallback(kit, engine, team):
    jid, customer = kit.to_customer_step()
    kit.dispute(jid, customer, ONBOARDING)
    later(WINDOW + 60)
    tx = kit.voice.closeDispute(jid, {"from": team.outsider})
    resolved = tx.events["DisputeResolved"]
    assert (resolved["upheld"], resolved["arbiter"]) == (False, "0x" + "00" * 20)
    assert engine.journey(jid)[2] == OPEN
    kit.confirm(jid, customer)  # the customer's deadline moved by the hold


def test_a_refund_fallback_closes_the_journey_and_refunds_the_funder(kit, engine, team):
    refunding = variant_kit(kit, publish_variant(engine, team.admin, dispute_fallback="refund"))
    jid, customer = refunding.to_customer_step()
    refunding.dispute(jid, customer, ONBOARDING)
    later(WINDOW + 60)
    credit = engine.creditOf(team.funder)
    tx = kit.voice.closeDispute(jid, {"from": team.outsider})
    assert tx.events["JourneyClosed"]["refund"] == POOL
    assert engine.journey(jid)[2] == EXPIRED
    assert engine.creditOf(team.funder) == credit + POOL
    assert engine.creditOf(team.vendor) == 0


def test_an_arbiter_that_owned_a_step_cannot_resolve(kit, engine, team, directory):
    """Marketing's own participant is made an arbiter too: it qualified the lead, so it may not
    decide the customer's dispute of the journey."""
    directory.grantRole(role_id("ARBITER"), team.marketing, {"from": team.admin})
    jid, customer = kit.to_customer_step()
    kit.dispute(jid, customer, ONBOARDING)
    with reverts_with("ArbiterConflict") as info:
        kit.resolve(jid, True, team.marketing)
    assert_error_args(info, jid, team.marketing)
    kit.resolve(jid, False)  # an independent arbiter may


def test_the_funder_cannot_arbitrate_its_own_journey(kit, engine, team, directory):
    arbiter_funder = team.outsider
    enrol(directory, team.admin, arbiter_funder, ORGS["finance"], "FUNDER", "ARBITER")
    kit.token.mint(arbiter_funder, POOL, {"from": team.admin})
    kit.token.approve(engine, POOL, {"from": arbiter_funder})
    jid, customer, _ = kit.open(funder=arbiter_funder)
    kit.complete(jid, team.marketing, assign=team.sales)
    kit.complete(jid, team.sales)
    engine.fund(jid, POOL, {"from": arbiter_funder})
    kit.attest_identity(customer)
    kit.complete(jid, team.sales, kit.booking_fields())
    kit.dispute(jid, customer, 2)
    with reverts_with("ArbiterConflict"):
        kit.resolve(jid, True, arbiter_funder)
