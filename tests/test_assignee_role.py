"""Who completes a step: its assignee when it has one, else any holder of its role; the next
step's owner is assigned at completion, and only to a holder of that step's role."""

from conftest import ORGS, ZERO, reverts_with

from journeychain.playbook import role_id

MARKETING, SALES, SUCCESS = repr(role_id("MARKETING")), repr(role_id("SALES")), repr(role_id("SUCCESS"))


def revert_args(info) -> str:
    return info.value.revert_msg.split(": ", 1)[1]


def test_marketing_assigns_the_lead_to_a_sales_rep(kit, engine, team):
    jid, _, _ = kit.open()
    tx = kit.complete(jid, team.marketing, assign=team.sales)
    assert tx.events["StepCompleted"]["nextAssignee"] == team.sales
    assert engine.journey(jid)[3] == team.sales


def test_an_assigned_step_is_completed_only_by_its_assignee(kit, engine, team):
    jid, _, _ = kit.open()
    kit.complete(jid, team.marketing, assign=team.sales)
    with reverts_with("NotAssignee") as info:
        kit.complete(jid, team.sales2)
    assert revert_args(info) == f"{jid!r}, 1, {str(team.sales2).lower()}, {str(team.sales).lower()}"
    assert engine.journey(jid)[1] == 1
    tx = kit.complete(jid, team.sales)
    assert tx.events["StepCompleted"]["by"] == team.sales
    assert engine.journey(jid)[1] == 2


def test_an_unassigned_step_is_completed_by_any_holder_of_its_role(kit, engine, team):
    jid, _, _ = kit.open()
    tx = kit.complete(jid, team.marketing)
    assert tx.events["StepCompleted"]["nextAssignee"] == ZERO
    assert engine.journey(jid)[3] == ZERO
    tx = kit.complete(jid, team.sales2)
    assert tx.events["StepCompleted"]["by"] == team.sales2
    assert engine.journey(jid)[1] == 2


def test_a_holder_of_another_role_is_refused(kit, engine, team):
    jid, _, _ = kit.open()
    kit.complete(jid, team.marketing)
    for account in (team.success, team.marketing, team.admin, team.outsider):
        with reverts_with("MissingRole") as info:
            kit.complete(jid, account)
        assert revert_args(info) == f"{str(account).lower()}, {SALES}"
    assert engine.journey(jid)[1] == 1


def test_an_assignee_of_another_role_cannot_complete_the_step_assigned_to_it(kit, engine, team):
    jid, _, _ = kit.open(assignee=team.marketing)
    assert engine.journey(jid)[3] == team.marketing
    with reverts_with("MissingRole"):
        kit.complete(jid, team.sales)
    kit.complete(jid, team.marketing, assign=team.sales2)
    assert engine.journey(jid)[3] == team.sales2


def test_assigning_the_next_step_to_an_address_without_its_role_is_refused(kit, engine, team):
    jid, _, _ = kit.open()
    for account in (team.success, team.marketing, team.outsider):
        with reverts_with("MissingRole") as info:
            kit.complete(jid, team.marketing, assign=account)
        assert revert_args(info) == f"{str(account).lower()}, {SALES}"
    assert engine.journey(jid)[1] == 0
    assert engine.journey(jid)[3] == ZERO


def test_opening_with_an_assignee_without_the_first_steps_role_is_refused(kit, team):
    with reverts_with("MissingRole") as info:
        kit.open(assignee=team.sales)
    assert revert_args(info) == f"{str(team.sales).lower()}, {MARKETING}"


def test_an_assignee_must_accept_the_rulebook_before_acting(kit, engine, team):
    kit.directory.addMember(ORGS["sales"], team.outsider, {"from": team.admin})
    kit.directory.grantRole(role_id("SALES"), team.outsider, {"from": team.admin})
    jid, _, _ = kit.open()
    kit.complete(jid, team.marketing, assign=team.outsider)  # assignment does not need acceptance
    assert engine.journey(jid)[3] == team.outsider
    with reverts_with("RulebookNotAccepted"):
        kit.complete(jid, team.outsider)
    kit.directory.acceptRulebook({"from": team.outsider})
    tx = kit.complete(jid, team.outsider)
    assert tx.events["StepCompleted"]["by"] == team.outsider


def test_booking_assigns_onboarding_to_a_success_manager(kit, engine, team):
    jid, _ = kit.to_booking()
    with reverts_with("MissingRole") as info:
        kit.complete(jid, team.sales, kit.booking_fields(), assign=team.sales2)
    assert revert_args(info) == f"{str(team.sales2).lower()}, {SUCCESS}"
    kit.complete(jid, team.sales, kit.booking_fields(), assign=team.success)
    assert engine.journey(jid)[3] == team.success
