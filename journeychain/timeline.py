"""Timelines: every journey's history rebuilt from the chain's events.

Who did what, at which step (with the playbook's step name), when, on time or late by how
much, with which evidence hash, and who was paid what. Logs are fetched in bounded block
ranges, filtered by the journey id topic where one journey is asked for.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

from eth_utils import event_abi_to_log_topic, to_checksum_address

from journeychain.amounts import tokens
from journeychain.artifacts import load_build
from journeychain.calendar import Calendar
from journeychain.calendar import warn_at as calendar_warn_at
from journeychain.encoding import evidence_hash, field_pairs, from_short_name
from journeychain.errors import JourneyError
from journeychain.playbook import SLA_TYPES
from journeychain.reverts import ROLE_IDS

ZERO_ADDRESS = "0x" + "00" * 20
#: Blocks per eth_getLogs request: well under the 10,000 most public endpoints allow.
LOG_CHUNK = 2_000

STATUSES = ("none", "open", "disputed", "value_delivered", "expired", "cancelled")

#: The events that make up a journey's history, by the contract that emits them.
ENGINE_EVENTS = (
    "JourneyOpened",
    "StepCompleted",
    "BreachRecorded",
    "Escalated",
    "ClockRestarted",
    "StepPaused",
    "StepResumed",
    "PoolFunded",
    "Disputed",
    "DisputeResolved",
    "ValueConfirmed",
    "JourneyClosed",
)
VOICE_EVENTS = ("Rated", "CustomerReplied")
#: The names of the pause reason codes (the SDK's PAUSE_REASONS, reversed).
PAUSE_REASON_NAMES = {
    1: "awaiting customer",
    2: "awaiting information",
    3: "customer unavailable",
    4: "scheduled",
}

#: Wraps one RPC call (the keeper passes its retrying wrapper); the default calls it once.
RpcCall = Callable[[Callable[[], Any]], Any]


def call_once(fn: Callable[[], Any]) -> Any:
    """The default RpcCall: no retries."""
    return fn()


def hexstr(value: bytes | str) -> str:
    if isinstance(value, str):
        return value if value.startswith("0x") else "0x" + value
    return "0x" + bytes(value).hex()


def _plain(value: Any) -> Any:
    """An event argument as JSON-friendly data: bytes as hex, tuples as lists."""
    if isinstance(value, bytes | bytearray):
        return hexstr(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def role_name(role: bytes) -> str:
    """A role id's name: a default role's, else the id in hex (custom roles are named by the
    directory's RoleDefined events)."""
    return ROLE_IDS.get(bytes(role), "0x" + bytes(role).hex())


# --------------------------------------------------------------------------------------
# Fetching events
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainEvent:
    """One decoded log: its event name, arguments and position on the chain."""

    name: str
    args: dict[str, Any]
    block: int
    log_index: int
    tx: str
    address: str


def block_ranges(start: int, end: int, chunk: int = LOG_CHUNK) -> Iterator[tuple[int, int]]:
    """[start, end] cut into inclusive ranges of at most `chunk` blocks (public endpoints
    refuse log requests over wide ranges)."""
    while start <= end:
        stop = min(end, start + chunk - 1)
        yield start, stop
        start = stop + 1


def fetch_events(
    w3,
    contracts: Sequence[Any],
    names: Iterable[str],
    from_block: int = 0,
    to_block: int | None = None,
    journey: bytes | None = None,
    chunk: int = LOG_CHUNK,
    call: RpcCall = call_once,
) -> list[ChainEvent]:
    """Every log of the named events emitted by `contracts` in [from_block, to_block], in
    chain order. With `journey`, only that journey's (its id is every such event's first
    indexed topic). Requests span at most `chunk` blocks each."""
    wanted = set(names)
    decoders: dict[bytes, Any] = {}
    for contract in contracts:
        for abi in contract.abi:
            if abi.get("type") == "event" and abi["name"] in wanted:
                decoders[event_abi_to_log_topic(abi)] = contract.events[abi["name"]]()
    if not decoders:
        return []
    if to_block is None:
        to_block = call(lambda: w3.eth.block_number)
    topics: list[Any] = [[hexstr(t) for t in decoders]]
    if journey is not None:
        topics.append(hexstr(journey))
    addresses = [to_checksum_address(c.address) for c in contracts]
    events: list[ChainEvent] = []
    for start, end in block_ranges(max(0, from_block), to_block, chunk):
        params = {"address": addresses, "fromBlock": start, "toBlock": end, "topics": topics}
        logs = call(partial(w3.eth.get_logs, params))
        for log in logs:
            decoder = decoders.get(bytes(log["topics"][0]))
            if decoder is None:
                continue
            decoded = decoder.process_log(log)
            events.append(
                ChainEvent(
                    name=decoded["event"],
                    args=dict(decoded["args"]),
                    block=decoded["blockNumber"],
                    log_index=decoded["logIndex"],
                    tx=hexstr(decoded["transactionHash"]),
                    address=decoded["address"],
                )
            )
    events.sort(key=lambda e: (e.block, e.log_index))
    return events


class BlockClock:
    """Block timestamps, fetched once each."""

    def __init__(self, w3, call: RpcCall = call_once):
        self.w3, self.call = w3, call
        self._times: dict[int, int] = {}

    def __call__(self, block: int) -> int:
        if block not in self._times:
            self._times[block] = int(self.call(lambda: self.w3.eth.get_block(block)["timestamp"]))
        return self._times[block]


# --------------------------------------------------------------------------------------
# Playbooks as published
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishedStep:
    name: str
    role: str
    sla: int
    share_bps: int
    penalty_bps: int
    fields: tuple[str, ...]
    attestations: tuple[str, ...]
    sla_type: str = "SLA"
    warn_bps: int = 0
    calendar: Calendar | None = None  # the calendar its SLA counts working time by (None: wall clock)

    def warn_at(self, deadline: int) -> int | None:
        """When this step, due at `deadline`, is at risk of breaching (its warning threshold of
        the SLA, counted back from the deadline in its working time, as the engine's
        `stepAtRisk` does), or None when it never warns."""
        if not self.warn_bps or not self.sla or not deadline:
            return None
        return calendar_warn_at(self.calendar, deadline, self.sla, self.warn_bps)


def published_steps(args: dict[str, Any], calendar: Callable[[int], Calendar | None]) -> list[PublishedStep]:
    """A PlaybookPublished event's steps; `calendar(number)` gives each step's calendar (None
    for 0, wall-clock time)."""
    return [
        PublishedStep(
            name=from_short_name(s["name"]),
            role=role_name(s["role"]),
            sla=s["sla"],
            share_bps=s["shareBps"],
            penalty_bps=s["penaltyBps"],
            fields=tuple(from_short_name(f) for f in s["fields"]),
            attestations=tuple(from_short_name(a) for a in s["attestations"]),
            sla_type=SLA_TYPES[s["slaType"]],
            warn_bps=s["warnBps"],
            calendar=calendar(int(s["calendar"])),
        )
        for s in args["steps"]
    ]


class PlaybookBook:
    """The steps of each published playbook, read once from its PlaybookPublished event
    (names, fields and schemas live only there), with the engine's view as a fallback."""

    def __init__(self, w3, engine, call: RpcCall = call_once, from_block: int = 0):
        self.w3, self.engine, self.call, self.from_block = w3, engine, call, from_block
        self._steps: dict[int, list[PublishedStep]] = {}
        self._calendars: dict[int, Calendar] = {}

    def calendar(self, number: int) -> Calendar | None:
        """Published calendar `number` (None for 0, wall-clock time), read once."""
        if not number:
            return None
        if number not in self._calendars:
            address = self.call(lambda: self.engine.functions.calendars().call())
            contract = self.w3.eth.contract(address=address, abi=load_build()["Calendars"].abi)
            raw = self.call(lambda: contract.functions.calendar(number).call())
            self._calendars[number] = Calendar.from_chain(raw)
        return self._calendars[number]

    def steps(self, playbook_id: int) -> list[PublishedStep]:
        if playbook_id not in self._steps:
            self._steps[playbook_id] = self._load(playbook_id)
        return self._steps[playbook_id]

    def step(self, playbook_id: int, index: int) -> PublishedStep | None:
        steps = self.steps(playbook_id)
        return steps[index] if 0 <= index < len(steps) else None

    def _load(self, playbook_id: int) -> list[PublishedStep]:
        # a playbook's number is its event's first indexed topic, as a journey's id is theirs
        topic = playbook_id.to_bytes(32, "big")
        # the engine's publisher emits it (the engine's ABI declares the event)
        publisher = self.w3.eth.contract(
            address=self.engine.functions.publisher().call(), abi=self.engine.abi
        )
        found = fetch_events(
            self.w3, [publisher], ["PlaybookPublished"], self.from_block, journey=topic, call=self.call
        )
        if found:
            return published_steps(found[0].args, self.calendar)
        count = self.call(lambda: self.engine.functions.playbook(playbook_id).call())[2]
        steps = []
        for i in range(count):
            role, sla, share, penalty, _, _ = self.call(self.engine.functions.stepRules(playbook_id, i).call)
            steps.append(PublishedStep(f"step {i}", role_name(role), sla, share, penalty, (), ()))
        return steps


# --------------------------------------------------------------------------------------
# The timeline
# --------------------------------------------------------------------------------------


@dataclass
class Entry:
    """One line of a journey's history."""

    kind: str
    block: int
    time: int
    tx: str
    step: int | None = None
    step_name: str | None = None
    who: str | None = None
    deadline: int | None = None
    late: bool | None = None
    late_by: int | None = None
    evidence: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def describe(self, names: dict[str, str] | None = None) -> str:
        """The entry as one line for people."""
        who = label(self.who, names) if self.who else ""
        step = f"step {self.step} {self.step_name}" if self.step is not None else ""
        d = self.details
        if self.kind == "opened":
            return f"opened by {who}" + (f", first deadline {iso(self.deadline)}" if self.deadline else "")
        if self.kind == "step_completed":
            timing = f"late by {duration(self.late_by or 0)}" if self.late else "on time"
            return f"{step} completed by {who}, {timing}, evidence {short_hex(self.evidence)}"
        if self.kind == "breach":
            against = who or (
                org_label(d["org"], names) if d.get("org") else f"the {d.get('role', '?')} role"
            )
            return f"{step} breached its deadline {iso(self.deadline)}: recorded against {against}"
        if self.kind == "escalated":
            before = label(d["from"], names) if d.get("from") else org_label(d.get("from_org"), names)
            return f"{step} escalated from {before} to {who}, new deadline {iso(self.deadline)}"
        if self.kind == "clock_restarted":
            return (
                f"{step} waited for the pool: its clock starts again at funding, "
                f"new deadline {iso(self.deadline)}"
            )
        if self.kind == "paused":
            why = PAUSE_REASON_NAMES.get(
                d["reason"], f"reason {d['reason']}" if d["reason"] else "no reason given"
            )
            return (
                f"{step} paused by {who} ({why}): {duration(d['left'])} of its SLA kept, "
                f"held until {iso(self.deadline)} at the latest"
            )
        if self.kind == "resumed":
            return f"{step} resumed by {who}: deadline {iso(self.deadline)}"
        if self.kind == "replied":
            return "the customer replied to the paused step"
        if self.kind == "funded":
            return f"pool funded by {who} with {tokens(d['amount'])} (pool {tokens(d['pool'])})"
        if self.kind == "disputed":
            return f"{step} disputed by the customer"
        if self.kind == "dispute_resolved":
            verdict = "upheld" if d["upheld"] else "rejected"
            return f"dispute of {step} {verdict} by {who}"
        if self.kind == "value_confirmed":
            return f"value confirmed by {who or 'silence past the confirmation window'}"
        if self.kind == "payouts":
            paid = ", ".join(
                f"{label(o, names)} {tokens(a)}" for o, a in zip(d["owners"], d["amounts"], strict=True) if a
            )
            extra = f"; forfeited {tokens(d['forfeited'])}" if d["forfeited"] else ""
            return f"payouts credited: {paid}{extra}; remainder {tokens(d['remainder'])}"
        if self.kind == "rated":
            return f"{step} rated {d['score']}/5 by the customer (owner {label(d['owner'], names)})"
        if self.kind == "closed":
            return f"journey {d['status']}: {tokens(d['refund'])} credited back to the funder"
        return self.kind


@dataclass
class StepSummary:
    """Where one step of the playbook stands in this journey."""

    step: int
    name: str
    role: str
    by: str | None = None
    completed_at: int | None = None
    deadline: int | None = None
    late: bool = False
    late_by: int | None = None
    evidence: str | None = None
    breached: bool = False
    escalated: int = 0
    disputed: bool = False
    dispute_upheld: bool | None = None
    sla_type: str = "SLA"
    sla: int = 0
    warn_bps: int = 0
    paused: int = 0  # how often it was paused
    calendar: Calendar | None = field(default=None, repr=False)  # None: wall-clock time

    @property
    def warn_at(self) -> int | None:
        """When the step is at risk of breaching (its warning threshold of the SLA that runs
        out at its deadline, counted back in the step's working time, as the engine's
        `stepAtRisk` does), or None when it never warns."""
        if not self.warn_bps or not self.deadline or not self.sla:
            return None
        return calendar_warn_at(self.calendar, self.deadline, self.sla, self.warn_bps)


@dataclass
class Breach:
    journey_id: str
    step: int
    step_name: str
    role: str
    assignee: str | None
    deadline: int
    time: int
    tx: str
    sla_type: str = "SLA"


@dataclass
class Timeline:
    """A journey's history: its entries in chain order, each step's summary, its breaches and payouts."""

    journey_id: str
    playbook_id: int
    customer: str
    status: str
    current_step: int
    opened_by: str
    opened_at: int
    pool: int = 0
    funder: str | None = None
    entries: list[Entry] = field(default_factory=list)
    steps: list[StepSummary] = field(default_factory=list)
    breaches: list[Breach] = field(default_factory=list)
    payouts: dict[str, int] = field(default_factory=dict)
    forfeited: int = 0
    forfeited_to: str | None = None
    remainder: int = 0
    refund: int = 0

    def history(self) -> list[tuple[str, bool, bytes]]:
        """Each completed participant step's (owner, late, evidence), as settlement takes them."""
        return [(s.by, s.late, bytes.fromhex(s.evidence[2:])) for s in self.steps if s.evidence and s.by]

    def at_risk(self, now: int) -> StepSummary | None:
        """The current step, when the journey is open and the step's warning threshold has
        passed by `now` but its deadline has not."""
        if self.status != "open" or not 0 <= self.current_step < len(self.steps):
            return None
        step = self.steps[self.current_step]
        warn_at = step.warn_at
        if warn_at is None or step.deadline is None or not warn_at <= now <= step.deadline:
            return None
        return step

    def to_dict(self) -> dict[str, Any]:
        data = _plain(asdict(self))
        for summary, plain in zip(self.steps, data["steps"], strict=True):
            plain["warn_at"] = summary.warn_at
            plain.pop("calendar", None)
            if summary.calendar is not None:
                plain["working_time"] = True  # its SLA counts working time by a calendar
        return data

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)


def _new_timeline(jid: bytes, ev: ChainEvent, time: int, book: PlaybookBook) -> Timeline:
    pid = ev.args["playbookId"]
    tl = Timeline(
        journey_id=hexstr(jid),
        playbook_id=pid,
        customer=hexstr(ev.args["customer"]),
        status="open",
        current_step=0,
        opened_by=ev.args["opener"],
        opened_at=time,
    )
    tl.steps = [
        StepSummary(
            i, s.name, s.role, sla_type=s.sla_type, sla=s.sla, warn_bps=s.warn_bps, calendar=s.calendar
        )
        for i, s in enumerate(book.steps(pid))
    ]
    if tl.steps:
        tl.steps[0].deadline = ev.args["deadline"] or None
    return tl


def _fold(tl: Timeline, ev: ChainEvent, time: int, state: dict[str, Any]) -> None:
    """Apply one event to the timeline being rebuilt (`state` carries the dispute start)."""
    a = ev.args

    def summary(step: int) -> StepSummary:
        while len(tl.steps) <= step:
            tl.steps.append(StepSummary(len(tl.steps), f"step {len(tl.steps)}", "NONE"))
        return tl.steps[step]

    entry = Entry(kind="", block=ev.block, time=time, tx=ev.tx)
    if "step" in a:
        entry.step = a["step"]
        entry.step_name = summary(a["step"]).name
    if ev.name == "JourneyOpened":
        entry.kind, entry.who, entry.deadline = "opened", a["opener"], a["deadline"] or None
    elif ev.name == "StepCompleted":
        s = summary(a["step"])
        entry.kind, entry.who, entry.late = "step_completed", a["by"], a["late"]
        entry.deadline = s.deadline
        pairs = field_pairs(a["fields"])
        entry.evidence = hexstr(evidence_hash(pairs))
        if s.deadline and time > s.deadline:
            entry.late_by = time - s.deadline
        entry.details = {
            "fields": [from_short_name(k) for k, _ in pairs],
            "commitments": [hexstr(c) for _, c in pairs],
            "next_assignee": None if a["nextAssignee"] == ZERO_ADDRESS else a["nextAssignee"],
            "next_org": a["nextOrg"] or None,
            "next_deadline": a["nextDeadline"] or None,
        }
        s.by, s.completed_at, s.late, s.late_by, s.evidence = (
            a["by"],
            time,
            a["late"],
            entry.late_by,
            entry.evidence,
        )
        tl.current_step = a["step"] + 1
        if tl.current_step < len(tl.steps) or a["nextDeadline"]:
            summary(tl.current_step).deadline = a["nextDeadline"] or None
    elif ev.name == "BreachRecorded":
        s = summary(a["step"])
        s.breached = True
        assignee = None if a["assignee"] == ZERO_ADDRESS else a["assignee"]
        entry.kind, entry.who, entry.deadline = "breach", assignee, a["deadline"]
        entry.late, entry.late_by = True, max(0, time - a["deadline"])
        entry.details = {"role": s.role, "org": a["org"] or None}
        tl.breaches.append(
            Breach(tl.journey_id, a["step"], s.name, s.role, assignee, a["deadline"], time, ev.tx, s.sla_type)
        )
    elif ev.name == "Escalated":
        s = summary(a["step"])
        s.escalated += 1
        s.deadline = a["deadline"] or None
        entry.kind, entry.who, entry.deadline = "escalated", a["to"], a["deadline"]
        entry.details = {
            "from": None if a["from"] == ZERO_ADDRESS else a["from"],
            "from_org": a["fromOrg"] or None,
        }
    elif ev.name == "ClockRestarted":
        s = summary(a["step"])
        s.deadline = a["deadline"] or None
        entry.kind, entry.deadline = "clock_restarted", a["deadline"]
    elif ev.name == "StepPaused":
        s = summary(a["step"])
        s.deadline, s.paused = a["deadline"] or None, s.paused + 1
        entry.kind, entry.who, entry.deadline = "paused", a["by"], a["deadline"]
        entry.details = {"reason": a["reason"], "left": a["left"]}
    elif ev.name == "StepResumed":
        s = summary(a["step"])
        s.deadline = a["deadline"] or None
        entry.kind, entry.who, entry.deadline = "resumed", a["by"], a["deadline"]
    elif ev.name == "CustomerReplied":
        entry.kind, entry.who = "replied", None
        entry.details = {"message": hexstr(a["message"])}
    elif ev.name == "PoolFunded":
        entry.kind, entry.who = "funded", a["funder"]
        entry.details = {"amount": a["amount"], "pool": a["pool"]}
        tl.pool, tl.funder = a["pool"], a["funder"]
    elif ev.name == "Disputed":
        summary(a["step"]).disputed = True
        entry.kind = "disputed"
        entry.details = {"reason": hexstr(a["reason"])}
        tl.status = "disputed"
        state["dispute_since"] = time
    elif ev.name == "DisputeResolved":
        summary(a["step"]).dispute_upheld = a["upheld"]
        entry.kind, entry.who = "dispute_resolved", a["arbiter"]
        entry.details = {"upheld": a["upheld"]}
        tl.status = "open"
        # the engine moves the current step's deadline by the time the dispute held the journey
        if tl.current_step < len(tl.steps) and tl.steps[tl.current_step].deadline:
            tl.steps[tl.current_step].deadline += time - state.pop("dispute_since", time)
    elif ev.name == "ValueConfirmed":
        # The settled steps' owners, in step order, before the customer's step is filled in:
        # each is the `by` of its StepCompleted; the last amount is the customer's.
        amounts = list(a["amounts"])
        owners = [s.by for s in tl.steps[: len(amounts) - 1]] + [a["customer"]]
        entry.kind = "value_confirmed"
        entry.who = None if a["by"] == ZERO_ADDRESS else a["by"]
        tl.status = "value_delivered"
        if tl.current_step < len(tl.steps):
            s = tl.steps[tl.current_step]
            s.by, s.completed_at = entry.who, time
            entry.step, entry.step_name, entry.deadline = s.step, s.name, s.deadline
            if s.deadline and time > s.deadline:
                s.late, s.late_by = True, time - s.deadline
        tl.entries.append(entry)
        entry = Entry(kind="payouts", block=ev.block, time=time, tx=ev.tx)
        entry.details = {
            "owners": owners,
            "amounts": amounts,
            "forfeited": a["forfeited"],
            "forfeited_to": a["forfeitedTo"],
            "remainder": a["remainder"],
        }
        for owner, amount in zip(owners, amounts, strict=True):
            if owner is not None:
                tl.payouts[owner] = tl.payouts.get(owner, 0) + amount
        tl.forfeited_to = a["forfeitedTo"] if a["forfeited"] else None
        tl.remainder = a["remainder"]
        tl.forfeited = a["forfeited"]
    elif ev.name == "Rated":
        entry.kind, entry.who = "rated", None
        entry.details = {"owner": a["owner"], "score": a["score"], "comment": hexstr(a["comment"])}
    elif ev.name == "JourneyClosed":
        entry.kind = "closed"
        entry.details = {"status": STATUSES[a["status"]], "refund": a["refund"]}
        tl.status, tl.refund = STATUSES[a["status"]], a["refund"]
    else:
        return
    tl.entries.append(entry)


def _contracts(engine, voice) -> list[Any]:
    return [engine] if voice is None else [engine, voice]


def timeline(
    w3,
    engine,
    journey: bytes,
    voice=None,
    from_block: int = 0,
    to_block: int | None = None,
    chunk: int = LOG_CHUNK,
    call: RpcCall = call_once,
) -> Timeline:
    """One journey's timeline, from the logs filtered by its id."""
    names = ENGINE_EVENTS + (VOICE_EVENTS if voice is not None else ())
    events = fetch_events(w3, _contracts(engine, voice), names, from_block, to_block, journey, chunk, call)
    timelines = _build(w3, engine, events, from_block, call)
    if not timelines:
        raise JourneyError(f"journey {hexstr(journey)} was never opened on this chain")
    return timelines[0]


def timelines(
    w3,
    engine,
    voice=None,
    from_block: int = 0,
    to_block: int | None = None,
    chunk: int = LOG_CHUNK,
    call: RpcCall = call_once,
) -> list[Timeline]:
    """Every journey's timeline, in the order they were opened, from one pass over the logs."""
    names = ENGINE_EVENTS + (VOICE_EVENTS if voice is not None else ())
    events = fetch_events(w3, _contracts(engine, voice), names, from_block, to_block, None, chunk, call)
    return _build(w3, engine, events, from_block, call)


def _build(w3, engine, events: list[ChainEvent], from_block: int, call: RpcCall) -> list[Timeline]:
    clock, book = BlockClock(w3, call), PlaybookBook(w3, engine, call, from_block)
    built: dict[bytes, Timeline] = {}
    states: dict[bytes, dict[str, Any]] = {}
    for ev in events:
        jid = bytes(ev.args["journeyId"])
        if ev.name == "JourneyOpened":
            built[jid] = _new_timeline(jid, ev, clock(ev.block), book)
            states[jid] = {}
        if jid in built:
            _fold(built[jid], ev, clock(ev.block), states[jid])
    return list(built.values())


# --------------------------------------------------------------------------------------
# Aggregation
# --------------------------------------------------------------------------------------


@dataclass
class BreachReport:
    """SLA breaches counted per participant (team or vendor) and per role."""

    by_participant: dict[str, int]
    by_role: dict[str, int]
    total: int
    by_sla_type: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def sla_breaches(timelines: Iterable[Timeline], names: dict[str, str] | None = None) -> BreachReport:
    """Count every recorded breach against the participant it was recorded against (an
    unassigned step's breach counts against its role as a whole) and against its role."""
    by_participant: Counter[str] = Counter()
    by_role: Counter[str] = Counter()
    by_sla_type: Counter[str] = Counter()
    for tl in timelines:
        for b in tl.breaches:
            who = label(b.assignee, names) if b.assignee else f"{b.role} (unassigned)"
            by_participant[who] += 1
            by_role[b.role] += 1
            by_sla_type[b.sla_type] += 1
    return BreachReport(dict(by_participant), dict(by_role), sum(by_role.values()), dict(by_sla_type))


# --------------------------------------------------------------------------------------
# Formatting helpers
# --------------------------------------------------------------------------------------


def label(address: str | None, names: dict[str, str] | None = None) -> str:
    """An address as people read it: its name where `names` (the address book) has one, else
    shortened."""
    if not address:
        return "-"
    if names and address in names:
        return names[address]
    return address[:6] + "…" + address[-4:]


def org_label(org: int | None, names: dict[str, str] | None = None) -> str:
    """An organisation as people read it: its short name where `names` has it (under "org:N",
    see journeychain.names), else its number."""
    if not org:
        return "-"
    return (names or {}).get(f"org:{int(org)}") or f"organisation {org}"


def short_hex(value: str | None) -> str:
    return "-" if not value else value[:10] + "…"


def iso(timestamp: int | None) -> str:
    if not timestamp:
        return "none"
    from datetime import datetime, timezone

    return datetime.fromtimestamp(timestamp, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


def duration(seconds: int) -> str:
    """Seconds as "2d 3h", "5h 12m", "40s"."""
    seconds = int(seconds)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"
