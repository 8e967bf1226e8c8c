"""Working-time SLAs on journey steps: a step that names a calendar gets the deadline at which
its SLA in working time runs out (a Friday-evening lead is due on Wednesday, not Saturday);
its warning, its pauses (paused time never counts, the working time left before a pause is
kept), its escalation and its restart at funding all count working time; the publisher refuses
a calendar never published and one on the customer's step; and an owner cannot bend the clock
by choosing when to pause or resume."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from brownie import Calendars, chain
from conftest import DAY, HOUR, publisher_of, register_schemas, reverts_with, variant_kit

from journeychain.calendar import Calendar, warn_at
from journeychain.errors import PlaybookError
from journeychain.playbook import DEFAULT_PLAYBOOK, parse_playbook

LEAD, BOOKING = 1, 2
LEAD_SLA = 24 * HOUR  # working hours
MAX_PAUSE = 30 * DAY
OFFICE_SPEC = {
    "hours": {d: "09:00-17:00" for d in ("mon", "tue", "wed", "thu", "fri")},
    "utc_offset": "+01:00",
}
OFFICE = Calendar.from_spec(OFFICE_SPEC["hours"], OFFICE_SPEC["utc_offset"])
LOCAL = dt.timezone(dt.timedelta(hours=1))


def office_playbook():
    """The default playbook with the lead acceptance and the booking in office hours."""
    data = yaml.safe_load(DEFAULT_PLAYBOOK.read_text(encoding="utf-8"))
    data["name"] = "office"
    data["calendars"] = {"office": OFFICE_SPEC}
    for step in data["steps"]:
        if step["name"] in ("lead_accepted", "deal_booked"):
            step["calendar"] = "office"
    return parse_playbook(data, "office")


@pytest.fixture(scope="module")
def calendars(suite):
    return Calendars.at(suite.calendars())


@pytest.fixture(scope="module")
def office(suite, kit, calendars, team):
    """The office calendar's number and a kit whose journeys run the office playbook."""
    cid = calendars.publish(OFFICE.as_tuple(), {"from": team.admin}).events["CalendarPublished"]["id"]
    playbook = office_playbook()
    register_schemas(suite, playbook, team.admin)
    tx = publisher_of(suite).publishPlaybook(*playbook.publish_args({"office": cid}), {"from": team.admin})
    return cid, variant_kit(kit, tx.events["PlaybookPublished"]["playbookId"])


_WEEK: dict[str, int] = {}


@pytest.fixture(autouse=True)
def next_week():
    """Each test's times are in the week after the chain's current one (local time)."""
    now = dt.datetime.fromtimestamp(chain.time(), LOCAL)
    monday = (now - dt.timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    _WEEK["monday"] = int((monday + dt.timedelta(weeks=1)).timestamp())


def at_local(weekday: int, hour: int, minute: int = 0, weeks_ahead: int = 1) -> int:
    """The UNIX time of a local weekday (0: Monday) and time, in the test's week (1) or after."""
    return _WEEK["monday"] + (weeks_ahead - 1) * 7 * DAY + weekday * DAY + hour * HOUR + minute * 60


def go_to(timestamp: int) -> None:
    chain.sleep(timestamp - chain.time())
    chain.mine()


def hand_over(kit, team, when: int):
    """A lead opened and handed to the first sales rep at `when`; returns (jid, tx)."""
    jid, customer, _ = kit.open()
    go_to(when)
    tx = kit.complete(jid, team.marketing, assign=team.sales)
    return jid, customer, tx


def deadline_of(engine, jid) -> int:
    return engine.journey(jid)[4]


def test_a_lead_handed_over_on_friday_evening_does_not_breach_on_saturday(office, suite, team):
    _, kit = office
    jid, _, tx = hand_over(kit, team, at_local(4, 17, 55))
    due = tx.events["StepCompleted"]["nextDeadline"]
    # 24 working hours from Friday 17:55: Monday, Tuesday and Wednesday, 9 to 17
    assert due == OFFICE.deadline(tx.timestamp, LEAD_SLA) == at_local(2, 17, weeks_ahead=2)
    assert deadline_of(suite, jid) == due
    go_to(at_local(5, 20))  # Saturday evening: a wall-clock 24 hours would have run out
    with reverts_with("DeadlineNotPassed"):
        suite.flagBreach(jid, {"from": team.outsider})
    go_to(due + 1)
    assert suite.flagBreach(jid, {"from": team.outsider}).events["BreachRecorded"]["deadline"] == due


def test_the_warning_comes_at_80_percent_of_the_working_time(office, suite, team):
    _, kit = office
    jid, _, tx = hand_over(kit, team, at_local(4, 17, 55))
    due = tx.events["StepCompleted"]["nextDeadline"]
    at_risk, warn, deadline = suite.stepAtRisk(jid)
    # 20% of 24 working hours (4.8 h) before Wednesday 17:00: Wednesday 12:12
    assert warn == warn_at(OFFICE, due, LEAD_SLA, 8000) == at_local(2, 12, 12, weeks_ahead=2)
    assert (at_risk, deadline) == (False, due)
    go_to(warn - 60)
    assert suite.stepAtRisk(jid)[0] is False
    go_to(warn)
    assert suite.stepAtRisk(jid)[0] is True


def test_a_pause_over_the_weekend_keeps_the_working_time_left(office, suite, voice, team):
    _, kit = office
    jid, _, tx = hand_over(kit, team, at_local(3, 10))  # Thursday 10:00: due Tuesday 10:00
    due = tx.events["StepCompleted"]["nextDeadline"]
    assert due == OFFICE.deadline(tx.timestamp, LEAD_SLA)
    go_to(at_local(4, 16))  # Friday 16:00
    paused = voice.pauseStep(jid, 1, {"from": team.sales})
    left = paused.events["StepPaused"]["left"]
    # the working time left: what the calendar counts from the pause to the deadline
    assert left == OFFICE.working_time(paused.timestamp, due) < due - paused.timestamp
    assert paused.events["StepPaused"]["deadline"] == OFFICE.deadline(paused.timestamp + MAX_PAUSE, left)
    go_to(at_local(0, 3, weeks_ahead=2))  # Monday 03:00: the weekend, paused, never counted
    resumed = voice.resumeStep(jid, {"from": team.sales})
    # resuming in the night gains nothing over resuming at Monday 09:00
    expected = OFFICE.deadline(at_local(0, 9, weeks_ahead=2), left)
    assert resumed.events["StepResumed"]["deadline"] == expected == deadline_of(suite, jid)
    assert OFFICE.deadline(resumed.timestamp, left) == expected


def test_a_pause_left_running_resumes_by_itself_and_the_breach_is_not_lost(office, suite, voice, team):
    _, kit = office
    jid, _, tx = hand_over(kit, team, at_local(0, 9))
    go_to(at_local(0, 12))
    paused = voice.pauseStep(jid, 1, {"from": team.sales})
    held = paused.events["StepPaused"]["deadline"]
    left = paused.events["StepPaused"]["left"]
    # three working hours spent (the pause's block may come a second or two after 12:00)
    assert left == OFFICE.working_time(paused.timestamp, tx.events["StepCompleted"]["nextDeadline"])
    assert LEAD_SLA - 3 * HOUR - 60 < left <= LEAD_SLA - 3 * HOUR
    go_to(held - 60)  # a minute before (the next block's time may run a second or two ahead)
    with reverts_with("DeadlineNotPassed"):
        suite.flagBreach(jid, {"from": team.outsider})
    go_to(held + 1)
    assert suite.flagBreach(jid, {"from": team.outsider}).events["BreachRecorded"]["deadline"] == held


def test_a_rep_cannot_pause_to_escape_a_passed_deadline(office, suite, voice, team):
    _, kit = office
    jid, _, tx = hand_over(kit, team, at_local(4, 17, 55))
    due = tx.events["StepCompleted"]["nextDeadline"]
    go_to(due + 1)  # Wednesday 17:00:01, the working day over: the deadline passed all the same
    with reverts_with("CannotPause"):
        voice.pauseStep(jid, 1, {"from": team.sales})


def test_an_escalation_restarts_the_working_time_clock(office, suite, team):
    _, kit = office
    jid, _, tx = hand_over(kit, team, at_local(4, 17, 55))
    go_to(tx.events["StepCompleted"]["nextDeadline"] + 1)
    escalated = kit.escalate(jid, team.sales2, team.admin)
    assert escalated.events["Escalated"]["deadline"] == OFFICE.deadline(escalated.timestamp, LEAD_SLA)


def test_the_booking_clock_restarts_in_working_time_when_the_pool_is_funded(office, suite, team):
    _, kit = office
    jid, _, _tx = hand_over(kit, team, at_local(0, 10))
    accepted = kit.complete(jid, team.sales)
    booking_sla = 30 * DAY
    assert accepted.events["StepCompleted"]["nextDeadline"] == OFFICE.deadline(
        accepted.timestamp, booking_sla
    )
    go_to(at_local(5, 11))  # Saturday: funded out of hours, the clock starts again on Monday
    funded = suite.fund(jid, 10**18, {"from": team.funder})
    restarted = funded.events["ClockRestarted"]["deadline"]
    assert restarted == OFFICE.deadline(funded.timestamp, booking_sla)
    assert restarted == OFFICE.deadline(at_local(0, 9, weeks_ahead=2), booking_sla)


def test_the_publisher_refuses_a_calendar_never_published_or_on_the_customers_step(
    office, suite, team, calendars
):
    playbook = office_playbook()
    unpublished = calendars.calendarCount() + 1
    with reverts_with("UnknownStepCalendar"):
        publisher_of(suite).publishPlaybook(
            *playbook.publish_args({"office": unpublished}), {"from": team.admin}
        )
    name, version, steps, options = playbook.publish_args({"office": 1})
    steps = [list(s) for s in steps]
    steps[-1][-1] = 1  # the customer's step names calendar 1
    with reverts_with("CustomerStepCalendar"):
        publisher_of(suite).publishPlaybook(
            name, version, [tuple(s) for s in steps], options, {"from": team.admin}
        )


def test_a_calendar_with_the_most_holidays_in_a_row_still_gives_the_python_deadline(suite, calendars, team):
    # 64 holidays, every weekday of three months: the deadline still comes, in one bounded pass
    first = at_local(0, 0) // DAY
    days = [d for d in range(first, first + 200) if (d + 3) % 7 < 5][:64]
    crowded = Calendar(OFFICE.opens, OFFICE.closes, 60, tuple(days))
    cid = calendars.publish(crowded.as_tuple(), {"from": team.admin}).events["CalendarPublished"]["id"]
    start = first * DAY
    for sla in (1, 8 * HOUR, 5 * 8 * HOUR, 40 * 8 * HOUR):
        assert calendars.deadline(cid, start, sla) == crowded.deadline(start, sla)
    assert crowded.deadline(start, 1) > days[-1] * DAY


def test_the_loader_refuses_calendars_that_are_not_declared_or_on_the_customers_step():
    data = yaml.safe_load(DEFAULT_PLAYBOOK.read_text(encoding="utf-8"))
    data["steps"][1]["calendar"] = "night_shift"
    with pytest.raises(PlaybookError, match="not declared under calendars"):
        parse_playbook(data, "x")
    data["calendars"] = {"office": OFFICE_SPEC}
    data["steps"][1]["calendar"] = "office"
    data["steps"][-1]["calendar"] = "office"
    with pytest.raises(PlaybookError, match="names no calendar"):
        parse_playbook(data, "x")
    data["steps"][-1].pop("calendar")
    data["steps"][1]["calendar"] = 256
    with pytest.raises(PlaybookError, match="is not a calendar's number"):
        parse_playbook(data, "x")
    data["calendars"] = {"office": {"hours": {"mon": "09:00-09:00"}}}
    data["steps"][1]["calendar"] = "office"
    with pytest.raises(PlaybookError, match="needs some working time"):
        parse_playbook(data, "x")
    playbook_with_name = office_playbook()
    with pytest.raises(PlaybookError, match="not published yet"):
        playbook_with_name.publish_args()


def test_a_dispute_holds_the_working_time_clock(office, suite, team):
    _, kit = office
    jid, customer, tx = hand_over(kit, team, at_local(3, 10))  # Thursday 10:00
    due = tx.events["StepCompleted"]["nextDeadline"]
    go_to(at_local(3, 15))
    disputed = kit.dispute(jid, customer, 0)  # the customer disputes the qualification
    go_to(at_local(0, 11, weeks_ahead=2))  # the arbiter rules on Monday at 11:00
    resolved = kit.resolve(jid, False)
    # the working time the lead had left when the dispute began runs from the ruling
    left, moved = OFFICE.move_deadline(disputed.timestamp, due, resolved.timestamp)
    assert left == OFFICE.working_time(disputed.timestamp, due)
    assert deadline_of(suite, jid) == moved
    assert OFFICE.working_time(moved - 1, moved) == 1  # in working time, not at night
