"""A journey's reference is unique: opening twice with it is refused, whoever opens; zero
references and customers are refused; only the first step's role opens a journey."""

import pytest
from conftest import ORGS, ZERO, Customer, enrol, reverts_with

from journeychain.encoding import journey_id
from journeychain.playbook import role_id

MARKETING = repr(role_id("MARKETING"))
OPEN = 1


def revert_args(info) -> str:
    return info.value.revert_msg.split(": ", 1)[1]


def test_first_opening_records_the_journey(kit, engine):
    jid, customer, tx = kit.open(ref="OPP-1")
    assert bytes(tx.events["JourneyOpened"]["journeyId"]) == jid
    playbook_id, step, status = engine.journey(jid)[:3]
    assert (playbook_id, step, status) == (1, 0, OPEN)
    assert bytes(engine.journeyCommitments(jid)[0]) == customer.commitment


@pytest.mark.smoke
def test_opening_twice_with_the_same_reference_is_refused(kit, engine):
    jid, first, _ = kit.open(ref="OPP-1")
    with reverts_with("JourneyExists") as info:
        kit.open(first, ref="OPP-1")
    assert revert_args(info) == repr(jid)
    assert bytes(engine.journeyCommitments(jid)[0]) == first.commitment


def test_same_reference_for_another_customer_is_refused_and_keeps_the_first(kit, engine, team):
    jid, first, _ = kit.open(ref="OPP-1")
    kit.complete(jid, team.marketing, assign=team.sales)
    with reverts_with("JourneyExists"):
        kit.open(Customer(), ref="OPP-1")
    assert bytes(engine.journeyCommitments(jid)[0]) == first.commitment
    assert engine.journey(jid)[1] == 1  # still at the step it reached
    assert engine.journey(jid)[3] == team.sales


def test_same_reference_by_another_opener_is_refused(kit, suite, team):
    enrol(kit.directory, team.admin, team.outsider, ORGS["marketing"], "MARKETING")
    jid, _, _ = kit.open(ref="OPP-1", sender=team.marketing)
    with reverts_with("JourneyExists") as info:
        kit.open(ref="OPP-1", sender=team.outsider)
    assert revert_args(info) == repr(jid)


def test_zero_reference_is_refused(suite, team):
    zero = b"\x00" * 32
    with reverts_with("EmptyReference"):
        suite.openJourney(zero, 1, Customer().commitment, ZERO, team.funder, {"from": team.marketing})
    with reverts_with("UnknownJourney"):
        suite.journey(zero)


def test_zero_customer_is_refused(suite, team):
    jid = journey_id("OPP-no-customer")
    with reverts_with("EmptyReference"):
        suite.openJourney(jid, 1, b"\x00" * 16, ZERO, team.funder, {"from": team.marketing})
    with reverts_with("UnknownJourney"):
        suite.journey(jid)


@pytest.mark.parametrize("opener", ["sales", "success", "admin", "outsider"])
def test_only_the_first_steps_role_may_open(kit, suite, team, opener):
    account = getattr(team, opener)
    jid = journey_id(f"OPP-by-{opener}")
    with reverts_with("MissingRole") as info:
        kit.open(ref=f"OPP-by-{opener}", sender=account)
    assert revert_args(info) == f"{str(account).lower()}, {MARKETING}"
    with reverts_with("UnknownJourney"):
        suite.journey(jid)
