"""The sales rep's 24-hour deadline to accept a lead: a late acceptance or a flag records one
breach against the rep (or against the Sales organisation when the lead went to it as a whole),
for good, and the Marketing participant who handed the lead over (or ADMIN) may escalate it to
another rep; the breach stays on the step."""

import pytest
from brownie import ZERO_ADDRESS, chain
from conftest import DAY, HOUR, ORGS, reverts_with

from journeychain.playbook import role_id

LEAD = 1  # the lead_accepted step
LEAD_SLA = DAY
SALES_ORG = ORGS["sales"]


def revert_args(info) -> str:
    return info.value.revert_msg.split(": ", 1)[1]


def later(seconds):
    chain.sleep(seconds)
    chain.mine()


@pytest.fixture
def lead(kit, team):
    """A journey whose lead Marketing handed to the first sales rep; returns (jid, deadline)."""
    jid, _, _ = kit.open()
    tx = kit.complete(jid, team.marketing, assign=team.sales)
    assert tx.events["StepCompleted"]["nextDeadline"] == tx.timestamp + LEAD_SLA
    return jid, tx.timestamp + LEAD_SLA


def state(engine, jid):
    _, step, _, assignee, deadline, breaches, flagged, _, _ = engine.journey(jid)
    return {
        "step": step,
        "assignee": assignee,
        "deadline": deadline,
        "breaches": breaches,
        "flagged": flagged,
    }


def test_lead_accepted_on_time_records_no_breach(kit, engine, team, lead):
    jid, deadline = lead
    assert state(engine, jid)["deadline"] == deadline
    later(LEAD_SLA - HOUR)
    tx = kit.complete(jid, team.sales)
    assert tx.events["StepCompleted"]["late"] is False
    assert "BreachRecorded" not in tx.events
    assert engine.breachCount(team.sales) == 0
    assert state(engine, jid)["breaches"] == 0


@pytest.mark.smoke
def test_lead_accepted_late_records_a_breach_against_the_rep(kit, engine, team, lead):
    jid, deadline = lead
    later(LEAD_SLA + HOUR)
    tx = kit.complete(jid, team.sales)
    assert tx.events["StepCompleted"]["late"] is True
    breach = tx.events["BreachRecorded"]
    assert (breach["step"], breach["assignee"], breach["deadline"]) == (LEAD, team.sales, deadline)
    assert engine.breachCount(team.sales) == 1
    assert engine.breachCount(team.sales2) == 0
    assert state(engine, jid)["breaches"] == 1 << LEAD
    assert state(engine, jid)["step"] == LEAD + 1


def test_anyone_may_flag_the_breach_once_the_deadline_passed(kit, engine, team, lead):
    jid, deadline = lead
    later(LEAD_SLA + 60)
    tx = engine.flagBreach(jid, {"from": team.outsider})
    breach = tx.events["BreachRecorded"]
    assert (breach["step"], breach["assignee"], breach["deadline"]) == (LEAD, team.sales, deadline)
    after = state(engine, jid)
    assert after["flagged"] is True
    assert after["breaches"] == 1 << LEAD
    assert after["step"] == LEAD
    assert engine.breachCount(team.sales) == 1


def test_flagging_before_the_deadline_is_refused(kit, engine, team, lead):
    jid, deadline = lead
    later(LEAD_SLA - HOUR)
    with reverts_with("DeadlineNotPassed") as info:
        engine.flagBreach(jid, {"from": team.outsider})
    assert revert_args(info) == f"{jid!r}, {LEAD}, {deadline}"
    assert state(engine, jid)["flagged"] is False
    assert engine.breachCount(team.sales) == 0


def test_a_step_without_a_deadline_cannot_be_flagged(kit, engine, team):
    jid, _, _ = kit.open()
    later(365 * DAY)
    with reverts_with("DeadlineNotPassed") as info:
        engine.flagBreach(jid, {"from": team.outsider})
    assert revert_args(info) == f"{jid!r}, 0, 0"


def test_a_breach_is_flagged_only_once(kit, engine, team, lead):
    jid, _ = lead
    later(LEAD_SLA + 60)
    engine.flagBreach(jid, {"from": team.outsider})
    with reverts_with("AlreadyBreached") as info:
        engine.flagBreach(jid, {"from": team.marketing})
    assert revert_args(info) == f"{jid!r}, {LEAD}"
    assert engine.breachCount(team.sales) == 1


def test_completing_after_a_flag_does_not_record_a_second_breach(kit, engine, team, lead):
    jid, _ = lead
    later(LEAD_SLA + 60)
    engine.flagBreach(jid, {"from": team.outsider})
    later(HOUR)
    tx = kit.complete(jid, team.sales)
    assert tx.events["StepCompleted"]["late"] is True
    assert "BreachRecorded" not in tx.events
    assert engine.breachCount(team.sales) == 1
    assert state(engine, jid)["breaches"] == 1 << LEAD
    assert state(engine, jid)["flagged"] is False  # the next step starts unflagged


def test_a_flag_on_a_lead_handed_to_the_sales_organisation_is_recorded_against_it(kit, engine, team):
    jid, _, _ = kit.open()
    kit.complete(jid, team.marketing)  # handed to Sales as a whole: no rep named
    assert tuple(engine.ownerOf(jid)) == (ZERO_ADDRESS, SALES_ORG)
    later(LEAD_SLA + 60)
    flag = engine.flagBreach(jid, {"from": team.outsider})
    breach = flag.events["BreachRecorded"]
    assert (breach["assignee"], breach["org"]) == (ZERO_ADDRESS, SALES_ORG)
    tx = kit.complete(jid, team.sales2)
    assert tx.events["StepCompleted"]["late"] is True
    assert "BreachRecorded" not in tx.events  # recorded once, against the organisation
    assert engine.organisationBreachCount(SALES_ORG) == 1
    assert engine.breachCount(team.sales2) == engine.breachCount(team.sales) == 0
    assert state(engine, jid)["breaches"] == 1 << LEAD


def test_a_late_acceptance_of_a_lead_owned_by_the_organisation_is_recorded_against_it(kit, engine, team):
    jid, _, _ = kit.open()
    kit.complete(jid, team.marketing)
    later(LEAD_SLA + 60)
    tx = kit.complete(jid, team.sales)
    breach = tx.events["BreachRecorded"]
    assert (breach["assignee"], breach["org"]) == (ZERO_ADDRESS, SALES_ORG)
    assert engine.organisationBreachCount(SALES_ORG) == 1
    assert state(engine, jid)["breaches"] == 1 << LEAD


def test_a_breach_stays_recorded_once_the_journey_moves_on(kit, engine, team, lead):
    jid, _ = lead
    later(LEAD_SLA + 60)
    engine.flagBreach(jid, {"from": team.outsider})
    kit.escalate(jid, team.sales2, team.marketing)
    kit.complete(jid, team.sales2)
    assert engine.breachCount(team.sales) == 1
    assert engine.breachCount(team.sales2) == 0
    assert state(engine, jid)["breaches"] == 1 << LEAD


@pytest.mark.parametrize("escalator", ["marketing", "admin"])
def test_marketing_or_admin_escalates_a_breached_lead_with_a_new_deadline(kit, engine, team, lead, escalator):
    jid, _ = lead
    later(LEAD_SLA + 60)
    engine.flagBreach(jid, {"from": team.outsider})
    tx = kit.escalate(jid, team.sales2, getattr(team, escalator))
    escalated = tx.events["Escalated"]
    assert escalated["step"] == LEAD
    assert escalated["from"] == team.sales
    assert escalated["to"] == team.sales2
    assert escalated["deadline"] == tx.timestamp + LEAD_SLA
    after = state(engine, jid)
    assert after["assignee"] == team.sales2
    assert after["deadline"] == tx.timestamp + LEAD_SLA
    assert after["flagged"] is False
    assert after["breaches"] == 1 << LEAD


def test_escalating_a_step_before_its_deadline_is_refused(kit, engine, team, lead):
    jid, deadline = lead
    with reverts_with("DeadlineNotPassed") as info:
        kit.escalate(jid, team.sales2, team.marketing)
    assert revert_args(info) == f"{jid!r}, {LEAD}, {deadline}"
    assert state(engine, jid)["assignee"] == team.sales


def test_escalating_a_passed_deadline_flags_the_breach_first(kit, engine, team, lead):
    jid, deadline = lead
    later(LEAD_SLA + 60)  # past the deadline but not flagged yet
    tx = kit.escalate(jid, team.sales2, team.admin)
    breach = tx.events["BreachRecorded"]
    assert (breach["step"], breach["assignee"], breach["deadline"]) == (LEAD, team.sales, deadline)
    assert engine.breachCount(team.sales) == 1
    assert state(engine, jid)["assignee"] == team.sales2
    assert state(engine, jid)["breaches"] == 1 << LEAD


@pytest.mark.parametrize("caller", ["sales", "sales2", "success", "outsider"])
def test_escalation_by_anyone_but_the_previous_owner_or_admin_is_refused(kit, engine, team, lead, caller):
    jid, _ = lead
    later(LEAD_SLA + 60)
    engine.flagBreach(jid, {"from": team.outsider})
    account = getattr(team, caller)
    with reverts_with("NotEscalator") as info:
        kit.escalate(jid, team.sales2, account)
    assert revert_args(info) == f"{jid!r}, {LEAD}, {str(account).lower()}"
    assert state(engine, jid)["assignee"] == team.sales


def test_a_forged_proof_of_the_previous_step_is_refused(kit, engine, team, lead):
    """A rival rep claims to have completed the handover: the rolling hash refuses the record."""
    jid, _ = lead
    later(LEAD_SLA + 60)
    before, (_by, late, evidence) = kit.escalation_proof(jid)
    with reverts_with("NotEscalator"):
        engine.escalate(jid, team.sales2, before, (team.sales2, late, evidence), {"from": team.sales2})
    assert state(engine, jid)["assignee"] == team.sales


def test_escalation_to_an_address_without_the_steps_role_is_refused(kit, engine, team, lead):
    jid, _ = lead
    later(LEAD_SLA + 60)
    engine.flagBreach(jid, {"from": team.outsider})
    with reverts_with("MissingRole") as info:
        kit.escalate(jid, team.success, team.marketing)
    assert revert_args(info) == f"{str(team.success).lower()}, {role_id('SALES')!r}"
    assert state(engine, jid)["assignee"] == team.sales


def test_after_escalation_the_new_rep_accepts_and_the_old_one_cannot(kit, engine, team, lead):
    jid, _ = lead
    later(LEAD_SLA + 60)
    engine.flagBreach(jid, {"from": team.outsider})
    kit.escalate(jid, team.sales2, team.marketing)
    with reverts_with("NotAssignee") as info:
        kit.complete(jid, team.sales)
    assert revert_args(info) == f"{jid!r}, {LEAD}, {str(team.sales).lower()}, {str(team.sales2).lower()}"
    later(LEAD_SLA - HOUR)  # within the new deadline
    tx = kit.complete(jid, team.sales2)
    assert tx.events["StepCompleted"]["by"] == team.sales2
    assert tx.events["StepCompleted"]["late"] is False
    assert "BreachRecorded" not in tx.events
    assert engine.breachCount(team.sales2) == 0
    assert state(engine, jid)["breaches"] == 1 << LEAD  # the step stays breached


def test_the_new_rep_missing_the_new_deadline_is_breached_too(kit, engine, team, lead):
    jid, _ = lead
    later(LEAD_SLA + 60)
    engine.flagBreach(jid, {"from": team.outsider})
    kit.escalate(jid, team.sales2, team.marketing)
    later(LEAD_SLA + 60)
    tx = kit.complete(jid, team.sales2)
    assert tx.events["BreachRecorded"]["assignee"] == team.sales2
    assert engine.breachCount(team.sales2) == 1
    assert engine.breachCount(team.sales) == 1
