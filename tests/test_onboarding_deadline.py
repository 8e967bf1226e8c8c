"""Booking the deal starts onboarding: Customer Success has 3 days from the booking itself,
and the supplier's delivery deadline starts when onboarding completes."""

from brownie import chain
from conftest import DAY, HOUR, ORGS, ZERO, enrol, reverts_with

from journeychain.playbook import role_id

BOOKING, ONBOARDING, DELIVERY = 2, 3, 4
SALES, SUCCESS, VENDOR = repr(role_id("SALES")), repr(role_id("SUCCESS")), repr(role_id("VENDOR"))
ONBOARDING_SLA, DELIVERY_SLA = 3 * DAY, 7 * DAY


def revert_args(info) -> str:
    return info.value.revert_msg.split(": ", 1)[1]


def later(seconds):
    chain.sleep(seconds)
    chain.mine()


def book(kit, team, wait=0):
    """A deal booked `wait` seconds after it became bookable; returns (jid, booking tx)."""
    jid, _ = kit.to_booking()
    later(wait)
    tx = kit.complete(jid, team.sales, kit.booking_fields())
    return jid, tx


def test_the_default_playbook_gives_onboarding_to_success_with_3_days(suite):
    assert (bytes(suite.stepRules(1, ONBOARDING)[0]), suite.stepRules(1, ONBOARDING)[1]) == (
        role_id("SUCCESS"),
        ONBOARDING_SLA,
    )
    assert (bytes(suite.stepRules(1, DELIVERY)[0]), suite.stepRules(1, DELIVERY)[1]) == (
        role_id("VENDOR"),
        DELIVERY_SLA,
    )


def test_booking_starts_onboarding_deadline_at_the_booking_time(kit, engine, team):
    jid, _ = kit.to_booking()
    lead_accepted_at = engine.journey(jid)[4] - 30 * DAY  # the booking's 30 days run from there
    later(5 * DAY)  # booking days later: the onboarding clock starts at the booking, not before
    tx = kit.complete(jid, team.sales, kit.booking_fields())
    event = tx.events["StepCompleted"]
    assert event["step"] == BOOKING
    assert event["nextDeadline"] == tx.timestamp + ONBOARDING_SLA
    _, step, _, assignee, deadline, *_ = engine.journey(jid)
    assert (step, assignee) == (ONBOARDING, ZERO)
    assert deadline == tx.timestamp + ONBOARDING_SLA
    assert tx.timestamp >= lead_accepted_at + 5 * DAY


def test_onboarding_is_successs_step(kit, engine, team):
    jid, _ = book(kit, team)
    for account in (team.sales, team.vendor, team.marketing):
        with reverts_with("MissingRole") as info:
            kit.complete(jid, account)
        assert revert_args(info) == f"{str(account).lower()}, {SUCCESS}"
    tx = kit.complete(jid, team.success)
    assert tx.events["StepCompleted"]["by"] == team.success
    assert engine.journey(jid)[1] == DELIVERY


def test_onboarding_within_3_days_is_on_time(kit, engine, team):
    jid, _ = book(kit, team, wait=DAY)
    later(ONBOARDING_SLA - HOUR)
    tx = kit.complete(jid, team.success)
    assert tx.events["StepCompleted"]["late"] is False
    assert "BreachRecorded" not in tx.events
    assert engine.breachCount(team.success) == 0
    assert engine.journey(jid)[5] == 0


def test_onboarding_after_3_days_is_late(kit, engine, team):
    jid, booking = book(kit, team)
    later(ONBOARDING_SLA + HOUR)
    tx = kit.complete(jid, team.success)
    assert tx.events["StepCompleted"]["late"] is True
    breach = tx.events["BreachRecorded"]
    # onboarding went to Customer Success as an organisation: the breach is recorded against it
    assert (breach["step"], breach["assignee"], breach["org"]) == (ONBOARDING, ZERO, ORGS["success"])
    assert breach["deadline"] == booking.timestamp + ONBOARDING_SLA
    assert engine.organisationBreachCount(ORGS["success"]) == 1
    assert engine.journey(jid)[5] == 1 << ONBOARDING


def test_onboarding_breach_can_be_flagged_only_after_3_days(kit, engine, team):
    jid, booking = book(kit, team)
    later(ONBOARDING_SLA - HOUR)
    with reverts_with("DeadlineNotPassed") as info:
        engine.flagBreach(jid, {"from": team.outsider})
    assert revert_args(info) == f"{jid!r}, {ONBOARDING}, {booking.timestamp + ONBOARDING_SLA}"
    later(2 * HOUR)
    tx = engine.flagBreach(jid, {"from": team.outsider})
    assert tx.events["BreachRecorded"]["step"] == ONBOARDING
    assert engine.journey(jid)[6] is True


def test_the_step_after_onboarding_starts_at_its_completion(kit, engine, team):
    jid, booking = book(kit, team)
    later(2 * DAY)
    tx = kit.complete(jid, team.success)
    assert tx.timestamp >= booking.timestamp + 2 * DAY
    assert tx.events["StepCompleted"]["nextDeadline"] == tx.timestamp + DELIVERY_SLA
    _, step, _, _, deadline, *_ = engine.journey(jid)
    assert step == DELIVERY
    assert deadline == tx.timestamp + DELIVERY_SLA
    later(DELIVERY_SLA - HOUR)  # more than 7 days after booking, less than 7 after onboarding
    tx = kit.complete(jid, team.vendor)
    assert tx.events["StepCompleted"]["late"] is False
    assert engine.breachCount(team.vendor) == 0


def test_the_onboarding_deadline_can_be_escalated_by_sales(kit, engine, team):
    enrol(kit.directory, team.admin, team.outsider, ORGS["success"], "SUCCESS")
    jid, _ = book(kit, team)
    later(ONBOARDING_SLA + HOUR)
    engine.flagBreach(jid, {"from": team.outsider})
    tx = kit.escalate(jid, team.outsider, team.sales)
    assert tx.events["Escalated"]["deadline"] == tx.timestamp + ONBOARDING_SLA
    assert engine.journey(jid)[3] == team.outsider
