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
from hypothesis import HealthCheck, Phase, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from test_calendar_steps import LEAD_SLA, OFFICE, office_playbook

from journeychain.calendar import Calendar

RUNS = int(os.environ.get("JOURNEY_CALENDAR_RUNS", "8"))
STEPS = 12
JUMPS = [HOUR, 5 * HOUR, 16 * HOUR, DAY, 2 * DAY, 4 * DAY]
MAX_PAUSE = 30 * DAY  # past it, a pause's clock runs again by itself
MAX_PAUSES = 3
STATS = {"rules": 0, "pauses": 0, "flags": 0}


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
        """The working time the clock has run by `now` (a pause past MAX_PAUSE runs again)."""
        if self.paused_at is not None:
            return self.spent + OFFICE.working_time(self.paused_at + MAX_PAUSE, now)
        return self.spent + OFFICE.working_time(self.segment_start, now)

    @rule(seconds=st.sampled_from(JUMPS))
    def time_passes(self, seconds):
        STATS["rules"] += 1
        chain.sleep(seconds)
        chain.mine()

    @rule()
    def pause(self):
        STATS["rules"] += 1
        deadline, now = self._deadline(), chain.time() + 1
        if self.paused_at is not None or self.flagged or now > deadline or self.pauses >= MAX_PAUSES:
            with pytest.raises(Exception):  # noqa: B017 (refused: which rule is tested elsewhere)
                self.voice.pauseStep(self.jid, 1, {"from": self.team.sales})
            return
        tx = self.voice.pauseStep(self.jid, 1, {"from": self.team.sales})
        STATS["pauses"] += 1
        self.spent = self._spent_now(tx.timestamp)
        self.paused_at = tx.timestamp
        self.pauses += 1
        assert tx.events["StepPaused"]["left"] == LEAD_SLA - self.spent

    @rule()
    def resume(self):
        STATS["rules"] += 1
        if self.paused_at is None:
            return
        tx = self.voice.resumeStep(self.jid, {"from": self.team.sales})
        # a pause that outlived MAX_PAUSE had its clock running again from then
        self.segment_start = min(tx.timestamp, self.paused_at + MAX_PAUSE)
        self.paused_at = None

    @rule()
    def flag(self):
        STATS["rules"] += 1
        deadline, now = self._deadline(), chain.time() + 1
        if self.flagged or now <= deadline:
            with pytest.raises(Exception):  # noqa: B017
                self.engine.flagBreach(self.jid, {"from": self.team.outsider})
            return
        # past the deadline: the breach is there to flag, paused before or not
        assert self._spent_now(now) >= LEAD_SLA
        self.engine.flagBreach(self.jid, {"from": self.team.outsider})
        STATS["flags"] += 1
        self.flagged = True

    @invariant()
    def the_deadline_falls_in_working_time(self):
        assert in_working_time(OFFICE, self._deadline())

    @invariant()
    def paused_time_never_counts(self):
        deadline, now = self._deadline(), chain.time()
        if self.paused_at is not None:
            # held: what was left runs from the end of the longest pause
            assert deadline == OFFICE.deadline(self.paused_at + MAX_PAUSE, LEAD_SLA - self.spent)
        running = self.paused_at is None or now > self.paused_at + MAX_PAUSE
        if now <= deadline:
            if running:
                assert self._spent_now(now) + OFFICE.working_time(now, deadline) == LEAD_SLA
        else:
            assert self._spent_now(now) >= LEAD_SLA  # the whole SLA ran: a breach, flaggable


@pytest.mark.parametrize("run", range(RUNS))
def test_working_time_clocks_under_pauses(office_kit, team, run):
    offset = (run * 37 * HOUR + run * 611) % (7 * DAY)  # hand-overs spread over the week

    chain.snapshot()
    try:
        run_state_machine_as_test(
            seed(20261202 + run)(lambda: PausedClock(office_kit, team, offset)),
            settings=settings(
                max_examples=6,
                stateful_step_count=STEPS,
                deadline=None,
                database=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            ),
        )
        # the run exercised the clock: time passed, and (over the runs) pauses and breaches
        assert STATS["rules"] > 0
        if run == RUNS - 1:
            assert STATS["pauses"] > 0 and STATS["flags"] > 0, STATS
    finally:
        chain.revert()
