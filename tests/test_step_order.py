"""Steps complete in order, one at a time: none can be skipped, the customer's step is the
customer's, and closed or unknown journeys take no steps."""

from conftest import reverts_with

from journeychain.encoding import journey_id
from journeychain.playbook import role_id

SALES, SUCCESS, VENDOR = repr(role_id("SALES")), repr(role_id("SUCCESS")), repr(role_id("VENDOR"))
OPEN, VALUE_DELIVERED, CANCELLED = 1, 3, 5
CUSTOMER_STEP = 5


def revert_args(info) -> str:
    return info.value.revert_msg.split(": ", 1)[1]


def test_steps_complete_in_order(kit, engine, team):
    jid, customer, _ = kit.open()
    owners = [
        (team.marketing, None),
        (team.sales, None),
        (team.sales, kit.booking_fields()),
        (team.success, None),
        (team.vendor, None),
    ]
    for index, (owner, fields) in enumerate(owners):
        assert engine.journey(jid)[1] == index
        if fields is not None:
            kit.fund(jid)
            kit.attest_identity(customer)
        tx = kit.complete(jid, owner, fields)
        assert tx.events["StepCompleted"]["step"] == index
        assert tx.events["StepCompleted"]["by"] == owner
        assert engine.journey(jid)[1] == index + 1
    assert engine.journey(jid)[1] == CUSTOMER_STEP
    assert engine.journey(jid)[2] == OPEN


def test_a_later_steps_owner_cannot_skip_ahead(kit, engine, team):
    jid, _ = kit.to_booking()
    with reverts_with("MissingRole") as info:
        kit.complete(jid, team.success)
    assert revert_args(info) == f"{str(team.success).lower()}, {SALES}"
    with reverts_with("MissingRole"):
        kit.complete(jid, team.vendor)
    assert engine.journey(jid)[1] == 2


def test_one_completion_advances_exactly_one_step(kit, engine, team):
    jid, _, _ = kit.open()
    kit.complete(jid, team.marketing)
    # the booking's fields do not book the deal while the lead is not accepted yet
    tx = kit.complete(jid, team.sales, kit.booking_fields())
    assert tx.events["StepCompleted"]["step"] == 1
    assert engine.journey(jid)[1] == 2


def test_the_customers_step_cannot_be_completed_by_a_participant(kit, engine, team):
    jid, _ = kit.to_customer_step()
    for account in (team.vendor, team.admin, team.success):
        with reverts_with("CustomerStep") as info:
            kit.complete(jid, account)
        assert revert_args(info) == f"{jid!r}, {CUSTOMER_STEP}"
    assert engine.journey(jid)[1] == CUSTOMER_STEP
    assert engine.journey(jid)[2] == OPEN


def test_a_cancelled_journey_refuses_steps(kit, engine, team):
    jid, _, _ = kit.open()
    engine.cancel(jid, {"from": team.admin})
    with reverts_with("JourneyNotOpen") as info:
        kit.complete(jid, team.marketing)
    assert revert_args(info) == f"{jid!r}, {CANCELLED}"
    assert engine.journey(jid)[1] == 0


def test_a_journey_whose_value_is_confirmed_refuses_steps(kit, engine, team):
    jid, customer = kit.to_customer_step()
    kit.confirm(jid, customer)
    with reverts_with("JourneyNotOpen") as info:
        kit.complete(jid, team.vendor)
    assert revert_args(info) == f"{jid!r}, {VALUE_DELIVERED}"


def test_an_unknown_journey_is_refused(kit, engine, team):
    jid = journey_id("OPP-never-opened")
    with reverts_with("UnknownJourney") as info:
        kit.complete(jid, team.marketing)
    assert revert_args(info) == repr(jid)
    with reverts_with("UnknownJourney"):
        engine.journey(jid)
    with reverts_with("UnknownJourney"):
        engine.flagBreach(jid, {"from": team.outsider})
    with reverts_with("UnknownJourney"):
        kit.escalate(jid, team.sales2, team.admin)
