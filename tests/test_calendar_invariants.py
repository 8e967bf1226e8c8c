"""Invariants of working-time clocks under pauses, as a hypothesis state machine (used directly,
with chain snapshots around each run): a lead in office hours is handed over at a random
moment, time passes in random jumps, its owner pauses and resumes it, and anyone tries to flag
it. After every step: the deadline never falls in non-working time; paused time never counts
(the working time spent running plus what is left to the deadline is the whole SLA); a pause
is refused once the deadline has passed, and a passed deadline can always be flagged, so a
breach is never lost to a pause."""

from __future__ import annotations

import os

import pytest
from brownie import chain
from conftest import DAY, HOUR, publisher_of, register_schemas, variant_kit
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from test_calendar_steps import LEAD_SLA, OFFICE, office_playbook

from journeychain.calendar import Calendar

RUNS = int(os.environ.get("JOURNEY_CALENDAR_RUNS", "8"))
STEPS = 10
JUMPS = [HOUR, 5 * HOUR, 16 * HOUR, DAY, 2 * DAY]  # at most 20 days a run: a pause never times out
MAX_PAUSES = 3


def in_working_time(calendar: Calendar, moment: int) -> bool:
    """Whether the second before `moment` is working time (a deadline ends a working second)."""
    return calendar.working_time(moment - 1, moment) == 1


@pytest.fixture(scope="module")
def office_kit(suite, kit, team):
    from brownie import Calendars

    calendars = Calendars.at(suite.calendars())
    cid = calendars.publish(OFFICE.as_tuple(), {"from": team.admin}).events["CalendarPublished"]["id"]
    playbook = office_playbook()
    register_schemas(suite, playbook, team.admin)
    tx = publisher_of(suite).publishPlaybook(*playbook.publish_args({"office": cid}), {"from": team.admin})
    return variant_kit(kit, tx.events["PlaybookPublished"]["playbookId"])


class PausedClock(RuleBasedStateMachine):
    def __init__(self, kit, team, start_offset: int):
        super().__init__()
        self.kit, self.team = kit, team
        self.engine, self.voice = kit.engine, kit.voice
        self.jid, _, _ = kit.open()
        chain.sleep(start_offset)
        tx = kit.complete(self.jid, team.marketing, assign=team.sales)
        self.segment_start = tx.timestamp  # when the clock last started running
        self.spent = 0  # working time spent running before `segment_start`
        self.paused_at: int | None = None
        self.pauses = 0
        self.flagged = False

    def _deadline(self) -> int:
        return self.engine.journey(self.jid)[4]

    def _spent_now(self, now: int) -> int:
        return self.spent + OFFICE.working_time(self.segment_start, now)

    @rule(seconds=st.sampled_from(JUMPS))
    def time_passes(self, seconds):
        chain.sleep(seconds)
        chain.mine()

    @rule()
    def pause(self):
        deadline, now = self._deadline(), chain.time() + 1
        if self.paused_at is not None or self.flagged or now > deadline or self.pauses >= MAX_PAUSES:
            with pytest.raises(Exception):  # noqa: B017 (refused: which rule is tested elsewhere)
                self.voice.pauseStep(self.jid, 1, {"from": self.team.sales})
            return
        tx = self.voice.pauseStep(self.jid, 1, {"from": self.team.sales})
        self.spent = self._spent_now(tx.timestamp)
        self.paused_at = tx.timestamp
        self.pauses += 1
        assert tx.events["StepPaused"]["left"] == LEAD_SLA - self.spent

    @rule()
    def resume(self):
        if self.paused_at is None:
            return
        tx = self.voice.resumeStep(self.jid, {"from": self.team.sales})
        self.paused_at = None
        self.segment_start = tx.timestamp

    @rule()
    def flag(self):
        deadline, now = self._deadline(), chain.time() + 1
        if self.flagged or now <= deadline:
            with pytest.raises(Exception):  # noqa: B017
                self.engine.flagBreach(self.jid, {"from": self.team.outsider})
            return
        # past the deadline: the breach is there to flag, paused before or not
        assert self.paused_at is None or now > self.paused_at
        self.engine.flagBreach(self.jid, {"from": self.team.outsider})
        self.flagged = True

    @invariant()
    def the_deadline_falls_in_working_time(self):
        assert in_working_time(OFFICE, self._deadline())

    @invariant()
    def paused_time_never_counts(self):
        deadline, now = self._deadline(), chain.time()
        if self.paused_at is not None:
            # held: what was left runs from the end of the longest pause
            assert deadline == OFFICE.deadline(self.paused_at + 30 * DAY, LEAD_SLA - self.spent)
        elif now <= deadline:
            assert self._spent_now(now) + OFFICE.working_time(now, deadline) == LEAD_SLA
        else:
            assert self._spent_now(now) >= LEAD_SLA  # the whole SLA ran: a breach, flaggable


@pytest.mark.parametrize("run", range(RUNS))
def test_working_time_clocks_under_pauses(office_kit, team, run):
    offset = (run * 37 * HOUR + run * 611) % (7 * DAY)  # hand-overs spread over the week

    class Run(PausedClock):
        def __init__(self):
            super().__init__(office_kit, team, offset)

    snap = chain.snapshot()
    try:
        Run.TestCase.settings = settings(
            max_examples=3,
            stateful_step_count=STEPS,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        Run.TestCase().runTest()
    finally:
        chain.revert()
        del snap
