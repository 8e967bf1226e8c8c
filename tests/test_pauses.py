"""Pauses: a step's owner pauses its clock while waiting on the customer; paused time does not
count, the customer's signed reply (or the owner) resumes it, a step is paused a bounded number
of times for a bounded time, and a pause never hides a breach."""

import pytest
from brownie import chain
from conftest import DAY, HOUR, Customer, reverts_with

LEAD, BOOKING = 1, 2
LEAD_SLA = DAY
MAX_PAUSE = 30 * DAY
WAITING_ON_CUSTOMER = 1


def later(seconds):
    chain.sleep(seconds)
    chain.mine()


def deadline_of(engine, jid):
    return engine.journey(jid)[4]


@pytest.fixture
def lead(kit, team):
    """A lead handed to the first sales rep; returns (jid, its acceptance deadline)."""
    jid, customer, _ = kit.open()
    tx = kit.complete(jid, team.marketing, assign=team.sales)
    return jid, customer, tx.timestamp + LEAD_SLA


def reply(kit, jid, customer, message=b"\x55" * 32, relayer=None, **kw):
    sig = kit.sign(
        customer, "Reply", {"journeyId": jid, "playbookId": kit.playbook_id, "message": message}, **kw
    )
    return kit.voice.reply(jid, message, sig, {"from": relayer or kit.team.outsider})


def test_paused_time_does_not_count_and_the_owner_resumes(kit, engine, voice, team, lead):
    jid, _, deadline = lead
    later(10 * HOUR)
    tx = voice.pauseStep(jid, WAITING_ON_CUSTOMER, {"from": team.sales})
    left = deadline - tx.timestamp
    paused = tx.events["StepPaused"]
    assert (paused["step"], paused["by"], paused["reason"], paused["left"]) == (LEAD, team.sales, 1, left)
    assert deadline_of(engine, jid) == deadline + MAX_PAUSE == paused["deadline"]
    later(5 * DAY)  # waiting on the customer: this does not count
    tx = voice.resumeStep(jid, {"from": team.sales})
    assert deadline_of(engine, jid) == tx.timestamp + left == tx.events["StepResumed"]["deadline"]
    later(left - HOUR)
    done = kit.complete(jid, team.sales)
    assert done.events["StepCompleted"]["late"] is False


def test_the_customers_signed_reply_resumes_the_step(kit, engine, voice, team, lead):
    jid, customer, deadline = lead
    tx = voice.pauseStep(jid, WAITING_ON_CUSTOMER, {"from": team.sales})
    left = deadline - tx.timestamp
    later(2 * DAY)
    tx = reply(kit, jid, customer)
    assert tx.events["CustomerReplied"]["message"] == "0x" + "55" * 32
    resumed = tx.events["StepResumed"]
    assert resumed["by"] == customer.address and resumed["deadline"] == tx.timestamp + left


def test_a_reply_signed_by_anyone_but_the_customer_is_refused(kit, voice, team, lead):
    jid, customer, _ = lead
    voice.pauseStep(jid, WAITING_ON_CUSTOMER, {"from": team.sales})
    with reverts_with("NotCustomer"):
        reply(kit, jid, Customer())
    reply(kit, jid, customer)
    with reverts_with("StaleNonce"):  # the same reply again
        reply(kit, jid, customer, nonce=0)
    with reverts_with("StepNotPaused"):  # a fresh reply: nothing is paused any more
        reply(kit, jid, customer)


def test_only_the_steps_owner_pauses_or_resumes_it(kit, voice, team, lead):
    jid, _, _ = lead
    with reverts_with("NotAssignee"):
        voice.pauseStep(jid, WAITING_ON_CUSTOMER, {"from": team.sales2})
    with reverts_with("MissingRole"):
        voice.pauseStep(jid, WAITING_ON_CUSTOMER, {"from": team.vendor})
    voice.pauseStep(jid, WAITING_ON_CUSTOMER, {"from": team.sales})
    with reverts_with("NotAssignee"):
        voice.resumeStep(jid, {"from": team.sales2})


def test_a_step_past_its_deadline_or_flagged_cannot_be_paused(kit, engine, voice, team, lead):
    jid, _, _ = lead
    later(LEAD_SLA + HOUR)
    with reverts_with("CannotPause"):
        voice.pauseStep(jid, WAITING_ON_CUSTOMER, {"from": team.sales})
    engine.flagBreach(jid, {"from": team.outsider})
    with reverts_with("CannotPause"):
        voice.pauseStep(jid, WAITING_ON_CUSTOMER, {"from": team.sales})


def test_a_step_without_a_deadline_or_the_customers_cannot_be_paused(kit, voice, team):
    jid, _, _ = kit.open(assignee=team.marketing)
    with reverts_with("CannotPause"):  # lead_qualified has no SLA
        voice.pauseStep(jid, WAITING_ON_CUSTOMER, {"from": team.marketing})
    jid, _ = kit.to_customer_step()
    with reverts_with("CustomerStep"):
        voice.pauseStep(jid, WAITING_ON_CUSTOMER, {"from": team.vendor})


def test_a_step_is_paused_at_most_three_times_and_once_at_a_time(kit, voice, team, lead):
    jid, _, _ = lead
    voice.pauseStep(jid, WAITING_ON_CUSTOMER, {"from": team.sales})
    with reverts_with("StepAlreadyPaused"):
        voice.pauseStep(jid, WAITING_ON_CUSTOMER, {"from": team.sales})
    voice.resumeStep(jid, {"from": team.sales})
    for _ in range(2):
        voice.pauseStep(jid, WAITING_ON_CUSTOMER, {"from": team.sales})
        voice.resumeStep(jid, {"from": team.sales})
    with reverts_with("TooManyPauses"):
        voice.pauseStep(jid, WAITING_ON_CUSTOMER, {"from": team.sales})
    with reverts_with("StepNotPaused"):
        voice.resumeStep(jid, {"from": team.sales})


def test_a_pause_left_running_ends_after_thirty_days_and_the_breach_is_recorded(
    kit, engine, voice, team, lead
):
    jid, _, deadline = lead
    voice.pauseStep(jid, WAITING_ON_CUSTOMER, {"from": team.sales})
    later(MAX_PAUSE + LEAD_SLA + HOUR)  # the customer never replies; the rep never resumes
    tx = engine.flagBreach(jid, {"from": team.outsider})
    assert tx.events["BreachRecorded"]["deadline"] == deadline + MAX_PAUSE
    assert engine.breachCount(team.sales) == 1


def test_an_escalation_ends_the_pause(kit, engine, voice, team, lead):
    jid, _, _ = lead
    voice.pauseStep(jid, WAITING_ON_CUSTOMER, {"from": team.sales})
    later(MAX_PAUSE + LEAD_SLA + HOUR)
    kit.escalate(jid, team.sales2, team.marketing)
    with reverts_with("StepNotPaused"):  # the new rep's clock runs from the escalation
        voice.resumeStep(jid, {"from": team.sales2})
    voice.pauseStep(jid, WAITING_ON_CUSTOMER, {"from": team.sales2})  # the new owner may pause


def test_a_journey_paused_and_replied_to_settles_with_the_customers_next_nonce(kit, engine, voice, team):
    jid, customer = kit.to_booking()
    voice.pauseStep(jid, WAITING_ON_CUSTOMER, {"from": team.sales})
    assert [int(x) for x in voice.pauseOf(jid)[:2]] == [BOOKING, 1]
    reply(kit, jid, customer)  # the customer's nonce moves on: settlement must read it
    assert voice.nonceOf(jid) == 1 and int(voice.pauseOf(jid)[2]) == 0
    kit.complete(jid, team.sales, kit.booking_fields())
    kit.complete(jid, team.success)
    kit.complete(jid, team.vendor)
    tx = kit.confirm(jid, customer)
    assert "ValueConfirmed" in tx.events
