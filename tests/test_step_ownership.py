"""Step ownership: each step after the first is owned by one organisation of the journey's cast
(or one of its participants), bound when the step before it completes. Nobody takes another
organisation's share, escapes a breach by escalating, or lets ADMIN own a step."""

import pytest
from brownie import ZERO_ADDRESS, accounts, chain
from conftest import DAY, HOUR, ORGS, POOL, enrol, reverts_with

from journeychain.encoding import short_name
from journeychain.playbook import role_id

BOOKING, ONBOARDING, DEVICE = 2, 3, 4
SALES_ORG, SUPPLIER_ORG = ORGS["sales"], ORGS["device_supplier"]


def later(seconds):
    chain.sleep(seconds)
    chain.mine()


@pytest.fixture
def shipper(kit, team):
    """A rival outside firm (a shipping company) whose participant holds the VENDOR role too."""
    tx = kit.directory.registerOrganisation(short_name("shipping_co"), 1, {"from": team.admin})
    org = tx.events["OrganisationRegistered"]["org"]
    account = accounts.add()
    team.admin.transfer(account, 10**18)
    enrol(kit.directory, team.admin, account, org, "VENDOR")
    return account, org


def test_the_first_step_is_owned_by_the_openers_organisation(kit, engine, team):
    jid, _, _ = kit.open()
    assert tuple(engine.ownerOf(jid)) == (ZERO_ADDRESS, ORGS["marketing"])


def test_completing_a_step_binds_the_next_steps_organisation(kit, engine, team):
    jid, _, _ = kit.open()
    tx = kit.complete(jid, team.marketing, org=SALES_ORG)
    assert tx.events["StepCompleted"]["nextOrg"] == SALES_ORG
    assert tuple(engine.ownerOf(jid)) == (ZERO_ADDRESS, SALES_ORG)


def test_a_step_cannot_complete_without_naming_the_next_owner(kit, engine, team):
    jid, _, _ = kit.open()
    with reverts_with("OwnerRequired"):
        kit.complete(jid, team.marketing, org=0)
    with reverts_with("OwnerRequired"):
        kit.complete(jid, team.marketing, org=99)  # no such organisation
    assert engine.journey(jid)[1] == 0


def test_an_assignee_outside_the_named_organisation_is_refused(kit, engine, team):
    jid, _, _ = kit.open()
    with reverts_with("NotInOrganisation"):
        engine.completeStep(jid, [], [], ORGS["success"], team.sales, {"from": team.marketing})


def test_a_rival_vendor_cannot_complete_the_device_suppliers_step(kit, engine, team, shipper):
    """The shipping company holds VENDOR too, but device_delivered is the supplier's."""
    rival, _rival_org = shipper
    jid, customer = kit.to_booking()
    kit.complete(jid, team.sales, kit.booking_fields())
    kit.complete(jid, team.success)  # names the device supplier (ROLE_ORG)
    assert tuple(engine.ownerOf(jid)) == (ZERO_ADDRESS, SUPPLIER_ORG)
    with reverts_with("WrongOrganisation") as info:
        kit.complete(jid, rival)
    assert info.value.revert_msg.endswith(f"{str(rival).lower()}, {SUPPLIER_ORG}")
    tx = kit.complete(jid, team.vendor)
    assert tx.events["StepCompleted"]["by"] == team.vendor
    settled = kit.confirm(jid, customer)
    owners = kit.paid_owners(jid, settled)
    assert owners[DEVICE] == team.vendor
    assert engine.creditOf(rival) == 0


def test_a_rival_rep_cannot_take_a_reps_late_booking(kit, engine, team):
    """sales2 flags sales's booking once late and tries to take it over: only the account that
    completed the step before (sales itself, here) or ADMIN may escalate."""
    jid, _, _ = kit.open()
    kit.complete(jid, team.marketing, assign=team.sales)
    kit.complete(jid, team.sales, assign=team.sales)
    kit.fund(jid)
    later(30 * DAY + HOUR)
    engine.flagBreach(jid, {"from": team.sales2})
    with reverts_with("NotEscalator"):
        kit.escalate(jid, team.sales2, team.sales2)
    with reverts_with("NotAssignee"):
        kit.complete(jid, team.sales2, kit.booking_fields())
    assert engine.ownerOf(jid)[0] == team.sales


def test_a_late_rep_cannot_escalate_its_own_step_to_itself(kit, engine, team):
    """The rep accepted the lead (so it may escalate the booking) and let the booking, owned by
    the Sales organisation, run late: escalating it to itself is refused."""
    jid, _customer = kit.to_booking()
    later(30 * DAY + HOUR)
    engine.flagBreach(jid, {"from": team.sales})
    with reverts_with("SelfEscalation"):
        kit.escalate(jid, team.sales, team.sales)


def test_laundering_a_breach_through_a_colleague_still_pays_less_the_penalty(
    kit, engine, team, default_playbook
):
    """The late rep escalates its booking to a colleague who books "on time" under the new
    deadline: the breach stays on the step and the colleague is paid the share less the penalty."""
    jid, customer = kit.to_booking()
    later(30 * DAY + HOUR)
    kit.escalate(jid, team.sales2, team.sales)  # flags the passed deadline first
    tx = kit.complete(jid, team.sales2, kit.booking_fields())
    assert tx.events["StepCompleted"]["late"] is False
    kit.complete(jid, team.success)
    kit.complete(jid, team.vendor)
    settled = kit.confirm(jid, customer)
    amounts = settled.events["ValueConfirmed"]["amounts"]
    step = default_playbook.steps[BOOKING]
    gross = POOL * step.share_bps // 10_000
    assert amounts[BOOKING] == gross - gross * step.penalty_bps // 10_000
    assert engine.organisationBreachCount(SALES_ORG) == 1


def test_admin_cannot_take_a_step_for_itself(kit, engine, team, directory):
    """ADMIN revokes the assignee, waits out the deadline, joins Sales, grants itself the role
    and tries to escalate the step to itself or to complete it: refused either way."""
    jid, _, _ = kit.open()
    kit.complete(jid, team.marketing, assign=team.sales)
    directory.revokeRole(role_id("SALES"), team.sales, {"from": team.admin})
    later(DAY + HOUR)
    directory.addMember(SALES_ORG, team.admin, {"from": team.admin})
    directory.grantRole(role_id("SALES"), team.admin, {"from": team.admin})
    with reverts_with("SelfEscalation"):
        kit.escalate(jid, team.admin, team.admin)
    kit.escalate(jid, team.sales2, team.admin)
    with reverts_with("AdminMayNotOwnStep"):
        kit.complete(jid, team.admin)
    jid2, _, _ = kit.open()
    with reverts_with("AdminMayNotOwnStep"):
        kit.complete(jid2, team.marketing, assign=team.admin)
    kit.complete(jid2, team.marketing, org=SALES_ORG)
    with reverts_with("AdminMayNotOwnStep"):
        kit.complete(jid2, team.admin)


def test_escalation_to_the_breaching_assignee_is_refused(kit, engine, team):
    jid, _, _ = kit.open()
    kit.complete(jid, team.marketing, assign=team.sales)
    later(DAY + HOUR)
    with reverts_with("SameAssignee"):
        kit.escalate(jid, team.sales, team.marketing)


def test_a_participant_belongs_to_one_organisation(kit, team, directory):
    with reverts_with("AlreadyMember"):
        directory.addMember(ORGS["device_supplier"], team.sales, {"from": team.admin})
    with reverts_with("NoOrganisation"):
        directory.grantRole(role_id("SALES"), team.outsider, {"from": team.admin})
    with reverts_with("UnknownRole"):
        directory.grantRole(role_id("DISPATCH"), team.sales, {"from": team.admin})
    with reverts_with("UnknownOrganisation"):
        directory.addMember(42, team.outsider, {"from": team.admin})


def test_only_admin_governs_the_directory(kit, team, directory):
    for call in (
        lambda: directory.registerOrganisation(short_name("x"), 0, {"from": team.sales}),
        lambda: directory.addMember(SALES_ORG, team.outsider, {"from": team.sales}),
        lambda: directory.defineRole(short_name("SUPPORT"), {"from": team.sales}),
        lambda: directory.grantRole(role_id("SALES"), team.outsider, {"from": team.sales}),
        lambda: directory.publishRulebook(b"\x22" * 32, {"from": team.sales}),
    ):
        with reverts_with("MissingRole"):
            call()


def test_only_the_directory_updates_the_engines_copy(kit, engine, team):
    with reverts_with("NotDirectory"):
        engine.copyParticipant(team.outsider, (99, 1, 1, 2**63), {"from": team.outsider})
    with reverts_with("NotDirectory"):
        engine.copyBook(1, 0, 0, {"from": team.admin})
    with reverts_with("NotDirectory"):
        engine.copyRole(b"\x01" * 32, 9, {"from": team.admin})


def test_the_engines_copy_follows_the_directory(kit, engine, team, directory):
    assert engine.participant(team.sales) == directory.participant(team.sales)
    directory.revokeRole(role_id("SALES"), team.sales, {"from": team.admin})
    with reverts_with("MissingRole"):
        engine.checkActor(team.sales, role_id("SALES"))
    assert engine.participant(team.sales)[2] == SALES_ORG
