"""Working-time calendars: the contract's deadline (whole-week jumps, bounded loops) is the
instant the Python side computes day by day, on thousands of random calendars, starts and SLAs
across week boundaries, holidays and UTC offsets; publishing refuses a calendar that is not one,
and only ADMIN publishes."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from brownie import Calendars
from conftest import reverts_with

from journeychain.calendar import Calendar
from journeychain.errors import ConfigError

DAY = 86_400
OFFICE = Calendar.from_spec(
    {d: "09:00-17:30" for d in ("mon", "tue", "wed", "thu", "fri")},
    utc_offset="+01:00",
    holidays=["2026-12-24", "2026-12-25", "2026-12-31", "2027-01-01"],
)


@pytest.fixture(scope="module")
def calendars(engine):
    return Calendars.at(engine.calendars())


def publish(calendars, team, calendar: Calendar) -> int:
    tx = calendars.publish(calendar.as_tuple(), {"from": team.admin})
    return tx.events["CalendarPublished"]["id"]


def random_calendar(rng: random.Random) -> Calendar:
    opens, closes = [], []
    for _ in range(7):
        if rng.random() < 0.3:
            opens.append(0)
            closes.append(0)
            continue
        a = rng.randrange(0, 1440)
        b = rng.randrange(a, 1441)
        opens.append(a)
        closes.append(b)
    if sum(b - a for a, b in zip(opens, closes, strict=True)) == 0:
        opens[0], closes[0] = 540, 1020
    base = 20_400  # a local day in November 2025
    holidays = sorted(rng.sample(range(base, base + 400), rng.randrange(0, 12)))
    return Calendar(tuple(opens), tuple(closes), rng.randrange(-720, 841), tuple(holidays))


def at(iso: str) -> int:
    return int(dt.datetime.fromisoformat(iso).timestamp())


def test_a_lead_handed_over_on_friday_evening_is_due_on_monday(calendars, team):
    cid = publish(calendars, team, OFFICE)
    friday = at("2026-11-27T17:55:00+01:00")  # after hours
    # 24 working hours from Friday evening: Monday, Tuesday and 7 hours into Wednesday
    due = calendars.deadline(cid, friday, 24 * 3600)
    assert due == OFFICE.deadline(friday, 24 * 3600) == at("2026-12-02T16:00:00+01:00")


def test_holidays_do_not_count(calendars, team):
    cid = publish(calendars, team, OFFICE)
    wednesday = at("2026-12-23T09:00:00+01:00")
    # 8.5 hours: Wednesday is a full day; Thursday and Friday are holidays
    assert calendars.deadline(cid, wednesday, 8 * 3600 + 1800) == at("2026-12-23T17:30:00+01:00")
    # one second more: Monday the 28th at 09:00:01
    assert calendars.deadline(cid, wednesday, 8 * 3600 + 1801) == at("2026-12-28T09:00:01+01:00")
    assert OFFICE.deadline(wednesday, 8 * 3600 + 1801) == at("2026-12-28T09:00:01+01:00")


def test_the_contract_and_python_agree_on_random_calendars(calendars, team):
    """2,400 deadlines (40 calendars x 60 starts and SLAs), sent in JSON-RPC batches."""
    from brownie import web3

    rng = random.Random(20261202)
    contract = web3.eth.contract(address=calendars.address, abi=calendars.abi)
    calls, expected = [], []
    for _ in range(40):
        calendar = random_calendar(rng)
        cid = publish(calendars, team, calendar)
        for _ in range(60):
            start = (20_400 * DAY) + rng.randrange(0, 380 * DAY) - calendar.utc_offset * 60
            sla = rng.choice([1, 59, 3600, 8 * 3600, DAY, 3 * DAY, 30 * DAY, rng.randrange(1, 60 * DAY)])
            calls.append(contract.functions.deadline(cid, start, sla))
            expected.append(calendar.deadline(start, sla))
    got = _batched(calls)
    mismatches = [(c.args, g, e) for c, g, e in zip(calls, got, expected, strict=True) if g != e]
    assert not mismatches, mismatches[:5]
    assert len(calls) == 2_400


def test_deadlines_never_come_before_the_sla_in_wall_time(calendars, team):
    rng = random.Random(7)
    cid = publish(calendars, team, OFFICE)
    for _ in range(200):
        start = at("2026-11-01T00:00:00+00:00") + rng.randrange(0, 90 * DAY)
        sla = rng.randrange(1, 10 * DAY)
        assert calendars.deadline(cid, start, sla) >= start + sla


@pytest.mark.parametrize(
    "change, error",
    [
        ({"closes": [0] * 7, "opens": [0] * 7}, "NoWorkingTime"),
        ({"opens": [600, 0, 0, 0, 0, 0, 0], "closes": [500, 0, 0, 0, 0, 0, 0]}, "InvalidWindow"),
        ({"closes": [1441, 0, 0, 0, 0, 0, 0], "opens": [0] * 7}, "InvalidWindow"),
        ({"utcOffset": 900}, "InvalidOffset"),
        ({"holidays": [20_500, 20_500]}, "HolidaysNotAscending"),
        ({"holidays": list(range(20_000, 20_065))}, "TooManyHolidays"),
    ],
)
def test_a_calendar_that_is_not_one_is_refused(calendars, team, change, error):
    opens, closes, offset, holidays = OFFICE.as_tuple()
    raw = {"opens": opens, "closes": closes, "utcOffset": offset, "holidays": holidays} | change
    with reverts_with(error):
        calendars.publish(
            (raw["opens"], raw["closes"], raw["utcOffset"], raw["holidays"]), {"from": team.admin}
        )


def test_only_admin_publishes_and_a_calendar_never_changes(calendars, team):
    with reverts_with("MissingRole"):
        calendars.publish(OFFICE.as_tuple(), {"from": team.sales})
    cid = publish(calendars, team, OFFICE)
    assert tuple(calendars.calendar(cid)[3]) == OFFICE.holidays
    with reverts_with("UnknownCalendar"):
        calendars.deadline(cid + 1, 0, 1)


def test_the_python_side_refuses_the_same_calendars():
    with pytest.raises(ConfigError, match="needs some working time"):
        Calendar((0,) * 7, (0,) * 7)
    with pytest.raises(ConfigError, match="not a window like"):
        Calendar.from_spec({"mon": "9-5"})
    with pytest.raises(ConfigError, match="unknown weekday"):
        Calendar.from_spec({"monday": "09:00-17:00"})
    with pytest.raises(ConfigError, match="outside -12:00"):
        Calendar.from_spec({"mon": "09:00-17:00"}, utc_offset="+15:00")


def _batched(calls, size: int = 400) -> list:
    """Results of many eth_calls sent in JSON-RPC batches of `size` (one round trip each)."""
    from brownie import web3

    out: list = []
    for i in range(0, len(calls), size):
        with web3.batch_requests() as batch:
            for call in calls[i : i + size]:
                batch.add(call)
            out.extend(batch.execute())
    return out


def test_working_time_and_counting_back_agree_with_python_on_random_calendars(calendars, team):
    """The contract's working time, counting back (warnings) and moved clocks (pauses,
    disputes) against the Python day-by-day count: 40 calendars x 80 cases x 3 functions,
    across week boundaries, holidays and UTC offsets, in JSON-RPC batches."""
    from brownie import web3

    rng = random.Random(20261203)
    contract = web3.eth.contract(address=calendars.address, abi=calendars.abi)
    calls, expected = [], []
    for _ in range(40):
        calendar = random_calendar(rng)
        cid = publish(calendars, team, calendar)
        for _ in range(80):
            start = (20_400 * DAY) + rng.randrange(0, 380 * DAY) - calendar.utc_offset * 60
            end = start + rng.choice([1, 3600, DAY, 3 * DAY, 9 * DAY, rng.randrange(1, 40 * DAY)])
            amount = rng.choice([0, 1, 60, 3600, 8 * 3600, rng.randrange(1, 20 * DAY)])
            calls.append(contract.functions.workingTime(cid, start, end))
            expected.append(calendar.working_time(start, end))
            calls.append(contract.functions.before(cid, end, amount))
            expected.append(calendar.before(end, amount))
            restart = end + rng.randrange(0, 10 * DAY)
            calls.append(contract.functions.moveDeadline(cid, start, end, restart))
            expected.append(list(calendar.move_deadline(start, end, restart)))
    got = [list(r) if isinstance(r, list | tuple) else r for r in _batched(calls)]
    mismatches = [(c.args, g, e) for c, g, e in zip(calls, got, expected, strict=True) if g != e]
    assert not mismatches, mismatches[:5]
    assert len(calls) == 9_600


def test_a_wall_clock_is_calendar_zero(calendars):
    assert calendars.deadline(0, 1_000, 500) == 1_500
    assert calendars.workingTime(0, 1_000, 1_500) == 500
    assert calendars.before(0, 1_500, 500) == 1_000
    assert [int(x) for x in calendars.moveDeadline(0, 1_000, 1_500, 2_000)] == [500, 2_500]
    # a deadline already passed when the clock stopped moves by the time it stood, still passed
    assert [int(x) for x in calendars.moveDeadline(0, 2_000, 1_500, 3_000)] == [0, 2_500]


def test_a_deadline_past_40_bits_is_refused(calendars, team):
    # one working minute a week: 2^32 working seconds lie past the year 36812
    sparse = Calendar((0, 0, 0, 0, 0, 0, 600), (0, 0, 0, 0, 0, 0, 601))
    cid = publish(calendars, team, sparse)
    with reverts_with("DeadlineOutOfRange"):
        calendars.deadline(cid, 1_800_000_000, 2**32 - 1)


def test_the_calendars_are_bound_to_their_engine_once(calendars, engine, team):
    assert calendars.engine() == engine.address
    # only the factory that deployed them binds them, and only once: nobody rebinds them to
    # an engine of their own to publish calendars the real engine's steps would count by
    for account in (team.admin, team.outsider):
        with reverts_with("NotBinder"):
            calendars.bind(account, {"from": account})
