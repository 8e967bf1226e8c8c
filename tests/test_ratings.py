"""Once value is confirmed the customer may rate each participant step's owner, 1 to 5,
with a comment commitment, once per step, by signature only; ratingOf sums per owner."""

import pytest
from conftest import Customer, assert_error_args, reverts_with

OPEN = 1
LEAD, ACCEPTED, BOOKED, ONBOARDING, DELIVERED, CUSTOMER_STEP = range(6)


def _rating(voice, owner):
    count, total = voice.ratingOf(owner)
    return int(count), int(total)


@pytest.fixture
def confirmed(kit):
    jid, customer = kit.to_customer_step()
    kit.confirm(jid, customer)
    return jid, customer


def test_rating_recorded_for_the_step_owner(kit, voice, team, confirmed):
    jid, customer = confirmed
    comment = b"\x61" * 32
    tx = kit.rate(jid, customer, DELIVERED, 4, comment=comment)
    event = tx.events["Rated"]
    assert (
        bytes(event["journeyId"]),
        event["step"],
        event["owner"],
        event["score"],
        bytes(event["comment"]),
    ) == (
        bytes(jid),
        DELIVERED,
        team.vendor,
        4,
        comment,
    )
    assert _rating(voice, team.vendor) == (1, 4)
    assert voice.ratedSteps(jid) == 1 << DELIVERED


def test_ratings_of_an_owner_sum_across_steps_and_journeys(kit, voice, team, confirmed):
    jid, customer = confirmed
    kit.rate(jid, customer, ACCEPTED, 5)
    kit.rate(jid, customer, BOOKED, 2)
    other, other_customer = kit.to_customer_step()
    kit.confirm(other, other_customer)
    kit.rate(other, other_customer, BOOKED, 3)
    assert _rating(voice, team.sales) == (3, 10)
    assert _rating(voice, team.marketing) == (0, 0)
    assert voice.ratedSteps(jid) == (1 << ACCEPTED) | (1 << BOOKED)


def test_rating_refused_before_value_is_confirmed(kit, voice, team):
    jid, customer = kit.to_customer_step()
    with reverts_with("JourneyNotOpen") as info:
        kit.rate(jid, customer, DELIVERED, 5)
    assert_error_args(info, jid, OPEN)
    assert _rating(voice, team.vendor) == (0, 0)


@pytest.mark.parametrize("score", [0, 6, 255])
def test_score_outside_one_to_five_refused(kit, voice, team, confirmed, score):
    jid, customer = confirmed
    with reverts_with("InvalidScore") as info:
        kit.rate(jid, customer, DELIVERED, score)
    assert_error_args(info, score)
    assert _rating(voice, team.vendor) == (0, 0)
    assert voice.ratedSteps(jid) == 0


def test_every_score_from_one_to_five_accepted(kit, voice, team, confirmed):
    jid, customer = confirmed
    for step, score in zip((LEAD, ACCEPTED, BOOKED, ONBOARDING, DELIVERED), (1, 2, 3, 4, 5), strict=True):
        kit.rate(jid, customer, step, score)
    assert _rating(voice, team.marketing) == (1, 1)
    assert _rating(voice, team.sales) == (2, 5)
    assert _rating(voice, team.success) == (1, 4)
    assert _rating(voice, team.vendor) == (1, 5)


def test_step_rated_once_only(kit, voice, team, confirmed):
    jid, customer = confirmed
    kit.rate(jid, customer, ONBOARDING, 5)
    with reverts_with("AlreadyRated") as info:
        kit.rate(jid, customer, ONBOARDING, 1)
    assert_error_args(info, jid, ONBOARDING)
    assert _rating(voice, team.success) == (1, 5)


def test_rating_by_anyone_but_the_customer_refused(kit, voice, team, confirmed):
    jid, _ = confirmed
    stranger = Customer()
    with reverts_with("NotCustomer") as info:
        kit.rate(jid, stranger, DELIVERED, 1)
    assert_error_args(info, jid, stranger.address)
    assert _rating(voice, team.vendor) == (0, 0)


def test_rating_signature_replayed_refused(kit, voice, team, confirmed):
    jid, customer = confirmed
    message = {
        "journeyId": jid,
        "playbookId": kit.playbook_id,
        "step": DELIVERED,
        "score": 1,
        "comment": b"\x01" * 32,
    }
    sig = kit.sign(customer, "Rate", message)
    voice.rate(jid, kit.history(jid), DELIVERED, 1, b"\x01" * 32, sig, {"from": team.outsider})
    with reverts_with("AlreadyRated"):
        voice.rate(jid, kit.history(jid), DELIVERED, 1, b"\x01" * 32, sig, {"from": team.outsider})
    assert _rating(voice, team.vendor) == (1, 1)


def test_signed_score_cannot_be_changed_by_the_relayer(kit, voice, team, confirmed):
    jid, customer = confirmed
    message = {
        "journeyId": jid,
        "playbookId": kit.playbook_id,
        "step": DELIVERED,
        "score": 1,
        "comment": b"\x01" * 32,
    }
    sig = kit.sign(customer, "Rate", message)
    with reverts_with("BadSignature") as info:
        voice.rate(jid, kit.history(jid), DELIVERED, 5, b"\x01" * 32, sig, {"from": team.outsider})
    assert_error_args(info, customer.address)
    assert _rating(voice, team.vendor) == (0, 0)


def test_customer_step_cannot_be_rated(kit, voice, confirmed):
    jid, customer = confirmed
    with reverts_with("StepNotReached") as info:
        kit.rate(jid, customer, CUSTOMER_STEP, 5)
    assert_error_args(info, jid, CUSTOMER_STEP)
    assert voice.ratedSteps(jid) == 0


def test_rating_with_a_forged_owner_refused(kit, voice, team, confirmed):
    jid, customer = confirmed
    message = {
        "journeyId": jid,
        "playbookId": kit.playbook_id,
        "step": DELIVERED,
        "score": 5,
        "comment": b"\x01" * 32,
    }
    sig = kit.sign(customer, "Rate", message)
    history = [
        (team.outsider if i == DELIVERED else by, late, ev)
        for i, (by, late, ev) in enumerate(kit.history(jid))
    ]
    with reverts_with("HistoryMismatch"):
        voice.rate(jid, history, DELIVERED, 5, b"\x01" * 32, sig, {"from": team.outsider})
    assert _rating(voice, team.outsider) == (0, 0)
