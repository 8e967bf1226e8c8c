"""One journey's events folded into the index's rows: its timeline (the same fold as
`journeychain.timeline`, so that every figure reads the same), where it stands as the engine's
views answer it, and its steps, breaches, payouts and ratings."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from journeychain.calendar import Calendar
from journeychain.encoding import evidence_hash, field_pairs, genesis_head, next_head
from journeychain.playbook import CUSTOMER
from journeychain.reverts import STATUSES as STATE_STATUSES
from journeychain.timeline import (
    STATUSES,
    ZERO_ADDRESS,
    ChainEvent,
    PublishedStep,
    Timeline,
    _fold,
    _new_timeline,
    hexstr,
    published_steps,
)

BPS = 10_000


@dataclass(frozen=True)
class PlaybookRules:
    """What the fold reads of a published playbook: its steps and its funding gate."""

    steps: tuple[PublishedStep, ...]
    commit_step: int = 0
    fund_before_commit: bool = False


def rules_from_event(args: dict[str, Any], calendar: Callable[[int], Calendar | None]) -> PlaybookRules:
    """A PlaybookPublished event's steps (each with its calendar: `calendar(number)`) and options."""
    options = args["options"]
    steps = tuple(published_steps(args, calendar))
    return PlaybookRules(steps, int(options["commitStep"]), bool(options["fundBeforeCommit"]))


class RulesBook:
    """The timeline fold's playbook book (`steps(playbook_id)`), over the indexed playbooks."""

    def __init__(self, rules: dict[int, PlaybookRules]):
        self.rules = rules

    def of(self, playbook_id: int) -> PlaybookRules:
        return self.rules.get(playbook_id) or PlaybookRules(())

    def steps(self, playbook_id: int) -> list[PublishedStep]:
        return list(self.of(playbook_id).steps)


@dataclass
class Folded:
    """A journey's rows, ready to be written."""

    timeline: Timeline
    journey: dict[str, Any]
    steps: list[dict[str, Any]] = field(default_factory=list)
    breaches: list[dict[str, Any]] = field(default_factory=list)
    payouts: list[dict[str, Any]] = field(default_factory=list)
    ratings: list[dict[str, Any]] = field(default_factory=list)


def _none(address: str | None) -> str | None:
    return None if not address or address == ZERO_ADDRESS else address


def fold_journey(
    events: Sequence[ChainEvent], times: Callable[[ChainEvent], int], book: RulesBook
) -> Folded | None:
    """The rows of the journey whose events (in chain order) these are; None when its opening
    is not among them (the reorganisation removed it)."""
    if not events or events[0].name != "JourneyOpened":
        return None
    opened = events[0]
    jid = bytes(opened.args["journeyId"])
    pid = int(opened.args["playbookId"])
    rules = book.of(pid)
    tl = _new_timeline(jid, opened, times(opened), book)  # type: ignore[arg-type]  # steps() as PlaybookBook
    fold_state: dict[str, Any] = {}
    st = _State.opened(opened, jid, pid)
    breach_rows: list[dict[str, Any]] = []
    rating_rows: list[dict[str, Any]] = []
    settled: ChainEvent | None = None
    last_block = opened.block
    for ev in events:
        time = times(ev)
        _fold(tl, ev, time, fold_state)
        st.apply(ev, time, rules)
        last_block = max(last_block, ev.block)
        a = ev.args
        if ev.name == "BreachRecorded":
            summary = tl.steps[a["step"]]
            breach_rows.append(
                {
                    "block": ev.block,
                    "log_index": ev.log_index,
                    "journey_id": tl.journey_id,
                    "step": a["step"],
                    "step_name": summary.name,
                    "role": summary.role,
                    "sla_type": summary.sla_type,
                    "assignee": _none(a["assignee"]),
                    "org": int(a["org"]) or None,
                    "deadline": int(a["deadline"]),
                    "time": time,
                    "tx": ev.tx,
                }
            )
        elif ev.name == "Rated":
            rating_rows.append(
                {
                    "journey_id": tl.journey_id,
                    "step": a["step"],
                    "owner": a["owner"],
                    "score": a["score"],
                    "time": time,
                    "block": ev.block,
                }
            )
        elif ev.name == "ValueConfirmed":
            settled = ev
    folded = Folded(tl, st.row(tl, rules, last_block, opened), breaches=breach_rows, ratings=rating_rows)
    folded.steps = _step_rows(tl)
    if settled is not None:
        folded.payouts = _payout_rows(tl, settled, times(settled), rules)
    return folded


def _step_rows(tl: Timeline) -> list[dict[str, Any]]:
    rows = []
    started: int | None = tl.opened_at
    for s in tl.steps:
        rows.append(
            {
                "journey_id": tl.journey_id,
                "step": s.step,
                "name": s.name,
                "role": s.role,
                "sla_type": s.sla_type,
                "by": s.by,
                "started_at": started,
                "completed_at": s.completed_at,
                "deadline": s.deadline,
                "late": bool(s.late),
                "late_by": s.late_by,
                "breached": s.breached,
                "escalated": s.escalated,
                "paused": s.paused,
                "disputed": s.disputed,
                "dispute_upheld": s.dispute_upheld,
                "evidence": s.evidence,
            }
        )
        started = s.completed_at
    return rows


def _payout_rows(tl: Timeline, ev: ChainEvent, time: int, rules: PlaybookRules) -> list[dict[str, Any]]:
    """Each settled step's credit and penalty: the penalty is the step's gross share of the
    pool (as the engine computes it) less what its owner was credited."""
    amounts = list(ev.args["amounts"])
    owners = [s.by for s in tl.steps[: len(amounts) - 1]] + [ev.args["customer"]]
    rows = []
    for i, (owner, amount) in enumerate(zip(owners, amounts, strict=True)):
        share = rules.steps[i].share_bps if i < len(rules.steps) else 0
        gross = tl.pool * share // BPS
        rows.append(
            {
                "journey_id": tl.journey_id,
                "step": i,
                "owner": owner,
                "amount": str(int(amount)),
                "penalty": str(max(0, gross - int(amount))),
                "customer": i == len(amounts) - 1,
                "time": time,
                "block": ev.block,
            }
        )
    return rows


@dataclass
class _State:
    """The engine's record of a journey, as its events change it."""

    journey_id: str
    playbook_id: int
    customer: str
    funder: str | None
    opener: str
    head: bytes
    step: int = 0
    status: int = 1  # Open
    assignee: str | None = None
    org: int | None = None
    deadline: int = 0
    breaches: int = 0
    flagged_step: int | None = None
    pool: int = 0
    dispute_since: int | None = None

    @classmethod
    def opened(cls, ev: ChainEvent, jid: bytes, pid: int) -> _State:
        a = ev.args
        return cls(
            journey_id=hexstr(jid),
            playbook_id=pid,
            customer=hexstr(a["customer"]),
            funder=_none(a["funder"]),
            opener=a["opener"],
            head=genesis_head(jid, pid, bytes(a["customer"])),
            assignee=_none(a.get("_assignee")),
            org=a.get("_org") or None,
            deadline=int(a["deadline"]),
        )

    def apply(self, ev: ChainEvent, time: int, rules: PlaybookRules) -> None:
        a, name = ev.args, ev.name
        if name == "StepCompleted":
            self.head = next_head(
                self.head, a["step"], a["by"], a["late"], evidence_hash(field_pairs(a["fields"]))
            )
            self.step = a["step"] + 1
            self.deadline = int(a["nextDeadline"])
            following = rules.steps[self.step] if self.step < len(rules.steps) else None
            if following is None or following.role == CUSTOMER:
                self.assignee, self.org = None, None
            elif _none(a["nextAssignee"]):
                self.assignee, self.org = a["nextAssignee"], None
            else:
                self.assignee, self.org = None, int(a["nextOrg"]) or None
        elif name == "BreachRecorded":
            self.breaches |= 1 << a["step"]
            self.flagged_step = a["step"]
        elif name == "Escalated":
            self.assignee, self.org = a["to"], None
            self.deadline = int(a["deadline"])
            self.flagged_step = None
        elif name in ("ClockRestarted", "StepPaused", "StepResumed"):
            self.deadline = int(a["deadline"])
        elif name == "PoolFunded":
            self.pool = int(a["pool"])
        elif name == "Disputed":
            self.status, self.dispute_since = 2, time
        elif name == "DisputeResolved":
            self.status = 1
            if self.deadline:
                self.deadline += time - (self.dispute_since or time)
            self.dispute_since = None
        elif name == "ValueConfirmed":
            self.status, self.step, self.deadline = 3, self.step + 1, 0
        elif name == "JourneyClosed":
            self.status = int(a["status"])

    def row(self, tl: Timeline, rules: PlaybookRules, last_block: int, opened: ChainEvent) -> dict[str, Any]:
        current = rules.steps[self.step] if self.step < len(rules.steps) else None
        warn_at = current.warn_at(self.deadline) if current is not None else None
        waiting = (
            current is not None
            and rules.fund_before_commit
            and self.step == rules.commit_step
            and self.pool == 0
        )
        live = self.status in (1, 2)
        return {
            "journey_id": self.journey_id,
            "playbook_id": self.playbook_id,
            "step": self.step,
            "step_name": current.name if current is not None else None,
            "status": STATE_STATUSES[self.status],
            "assignee": self.assignee,
            "org": self.org,
            "deadline": self.deadline,
            "breached_steps": ",".join(str(i) for i in range(16) if self.breaches >> i & 1),
            # the engine: flagged while the flag is on the current step
            "flagged": self.flagged_step is not None and self.flagged_step == self.step,
            "pool": str(self.pool if live else 0),
            "funder": self.funder,
            "customer": self.customer,
            "head": "0x" + bytes(self.head).hex(),
            "warn_at": warn_at,
            "waiting": bool(waiting),
            "opener": self.opener,
            "opened_block": opened.block,
            "opened_log": opened.log_index,
            "opened_at": tl.opened_at,
            "funded": str(tl.pool),
            "forfeited": str(tl.forfeited),
            "remainder": str(tl.remainder),
            "refund": str(tl.refund),
            "updated_block": last_block,
        }


#: The timeline's status names, by the engine's number (for readers of `journeys.status`).
TIMELINE_STATUSES = STATUSES
