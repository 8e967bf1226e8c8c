"""The SLA keeper: flags every step that passes its deadline, once.

It reads only new events each round (journeys opened, steps completed, breaches,
escalations, disputes, clocks restarted at funding, closings) to keep a watch list of open
journeys and their current deadlines, then flags the steps whose deadline has passed
(`engine.flagBreach`). With `expire` on, it also expires journeys whose customer step passed
its deadline (the pool goes back to its funder). With `release` on, it releases the pool of
each journey whose confirmation window passed with the customer silent (`engine.release`),
once: the journey then leaves the watch list. The last processed block and the watch list
are kept in $JOURNEY_HOME/keeper-<chain id>.json (written atomically, once per round), so a
restarted keeper resumes where it stopped.

A round costs what is new, not what is open: the journeys' next moments (a warning, a deadline,
the end of a confirmation window) are kept in a heap, and a round looks only at those due.
With `batch`, the flags and expiries of a round go out as engine multicalls (BATCH_SIZE calls
each); a refused call would revert the whole multicall, so a batch whose estimate fails is
simulated call by call and sent without the refused ones (each refusal handled as a single
one's would be). Within a round, RPC errors are retried with exponential backoff a bounded
number of times, then end in a ChainError; `rounds()` (what `journey keeper` runs) outlives a
node outage: it waits with backoff, without end, and carries on from its saved state.
"""

from __future__ import annotations

import heapq
import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import requests
from web3.exceptions import ProviderConnectionError

from journeychain.chain import journey_home, write_private
from journeychain.errors import ChainError, ConfigError, RuleError
from journeychain.timeline import PlaybookBook, fetch_events, hexstr

log = logging.getLogger("journeychain.keeper")

T = TypeVar("T")

#: The events that change what the keeper watches.
WATCHED_EVENTS = (
    "JourneyOpened",
    "StepCompleted",
    "BreachRecorded",
    "Escalated",
    "ClockRestarted",
    "StepPaused",
    "StepResumed",
    "Disputed",
    "DisputeResolved",
    "ValueConfirmed",
    "JourneyClosed",
)
#: Errors from the transport, worth trying again: the node is down, slow or restarting.
TRANSIENT = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    ProviderConnectionError,
    ConnectionError,
    TimeoutError,
)
#: A flag refused for one of these reasons means the step needs no flag from us (now).
DONE = {"AlreadyBreached"}
GONE = {"JourneyNotOpen", "UnknownJourney", "CustomerStep", "StepNotReached"}
#: ... or not yet: a step waiting for its pool is flagged only once its clock, restarted at the
#: first funding, runs out.
NOT_YET = {"DeadlineNotPassed", "WindowNotElapsed", "PoolNotFunded"}
#: A release refused for one of these reasons will never come from this keeper: the customer's
#: deadline passed (the journey can only expire), or the customer it was given is not the journey's.
NEVER_RELEASED = {"DeadlinePassed", "NotCustomer", "ParticipantAsCustomer", "HistoryMismatch"}


class Retry:
    """Calls a function, retrying transport errors with exponential backoff (`base`,
    2 `base`, 4 `base`, ... up to `attempts` tries), then raises one ChainError."""

    def __init__(
        self,
        attempts: int = 5,
        base: float = 0.5,
        cap: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
        endpoint: str = "the chain",
    ):
        self.attempts, self.base, self.cap, self.sleep, self.endpoint = attempts, base, cap, sleep, endpoint

    def __call__(self, fn: Callable[[], T]) -> T:
        for attempt in range(1, self.attempts + 1):
            try:
                return fn()
            except TRANSIENT as exc:
                if attempt == self.attempts:
                    raise ChainError(
                        f"{self.endpoint} did not answer after {self.attempts} attempts "
                        f"({type(exc).__name__}): is the node running?"
                    ) from exc
                delay = min(self.cap, self.base * 2 ** (attempt - 1))
                log.warning("RPC error (%s); retrying in %.2fs", type(exc).__name__, delay)
                self.sleep(delay)
        raise AssertionError("unreachable")


@dataclass
class Watch:
    """An open journey as the keeper sees it: its current step and that step's deadline, and at
    the customer's step when its pool can be released (None: not read yet; 0: never, by this
    keeper)."""

    playbook: int
    step: int
    deadline: int
    flagged: bool = False
    held: bool = False
    customer_step: bool = False
    release_at: int | None = None
    # whether the step's at-risk warning was given (once per step, and again after its
    # clock restarts or it is escalated)
    warned: bool = False


@dataclass
class KeeperState:
    chain_id: int
    engine: str
    last_block: int
    watch: dict[str, Watch] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> KeeperState:
        """The state a keeper saved; a ValueError (naming what is wrong) for any other text."""
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        try:
            watch = {str(jid): Watch(**w) for jid, w in (data.get("watch") or {}).items()}
            state = cls(int(data["chain_id"]), str(data["engine"]), int(data["last_block"]), watch)
        except KeyError as exc:
            raise ValueError(f"no {exc.args[0]!r}") from None
        except (TypeError, AttributeError) as exc:
            raise ValueError(f"a malformed entry: {exc}") from None
        for jid, w in watch.items():
            numbers = (w.playbook, w.step, w.deadline)
            if not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers):
                raise ValueError(
                    f"journey {jid} is watched with a playbook, step or deadline that is no number"
                )
            if w.release_at is not None and (
                not isinstance(w.release_at, int) or isinstance(w.release_at, bool)
            ):
                raise ValueError(f"journey {jid} is watched with a release time that is no number")
        return state


@dataclass
class Action:
    """What the keeper did to one journey in a round."""

    kind: str  # "flagged", "expired", "released" or "warned" (at risk of breaching; nothing is sent)
    journey: str
    step: int
    deadline: int  # the moment that passed: the step's deadline, or the end of the confirmation window
    tx: str | None


@dataclass
class Round:
    """One round: the blocks read, the events applied, the actions taken."""

    from_block: int
    to_block: int
    events: int
    watching: int
    actions: list[Action] = field(default_factory=list)

    @property
    def flagged(self) -> list[Action]:
        return [a for a in self.actions if a.kind == "flagged"]

    @property
    def released(self) -> list[Action]:
        return [a for a in self.actions if a.kind == "released"]

    @property
    def warned(self) -> list[Action]:
        return [a for a in self.actions if a.kind == "warned"]


#: Sends one transaction for a journey (flagBreach, expire or release) and returns its hash;
#: raises a RuleError naming the custom error when the contract refuses (a release: a
#: ConfigError when it does not know the journey's customer).
Sender = Callable[[bytes], Any]
#: Sends many (kind, journey) calls ("flagged" or "expired") as few transactions; returns, for each,
#: its transaction hash or the RuleError that refused it.
BatchSender = Callable[[Sequence[tuple[str, bytes]]], list[Any]]
#: calls per multicall
BATCH_SIZE = 100
#: the longest wait between two tries of a node that does not answer, in seconds
OUTAGE_CAP = 30.0


class Keeper:
    """Flags steps past their deadline (and, when given `expire` and `release`, expires and
    releases journeys); `run_once()` for one round, `run(interval)` forever."""

    def __init__(
        self,
        w3,
        engine,
        flag: Sender,
        expire: Sender | None = None,
        start_block: int = 0,
        state_path: str | Path | None = None,
        retry: Retry | None = None,
        chunk: int = 2_000,
        release: Sender | None = None,
        batch: BatchSender | None = None,
    ):
        self.w3, self.engine = w3, engine
        self._flag, self._expire, self._release = flag, expire, release
        self._batch = batch
        self.retry = retry or Retry()
        self.chunk = chunk
        chain_id = int(self.retry(lambda: w3.eth.chain_id))
        self.path = Path(state_path) if state_path else journey_home() / f"keeper-{chain_id}.json"
        self.state = self._load(chain_id, start_block)
        self.book = PlaybookBook(w3, engine, self.retry, max(0, start_block))
        #: (moment, journey, version): when each watched journey next needs a look
        self._heap: list[tuple[int, str, int]] = []
        self._version: dict[str, int] = {}
        for jid in self.state.watch:
            self._schedule(jid)

    # --- state ---------------------------------------------------------------------
    def _load(self, chain_id: int, start_block: int) -> KeeperState:
        address = self.engine.address
        if self.path.exists():
            try:
                state = KeeperState.from_json(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) else " ".join(str(exc).split())
                raise ConfigError(
                    f"the keeper's state file {self.path} is unreadable ({reason}): "
                    "fix it or move it aside, and the keeper starts afresh"
                ) from None
            if state.engine.lower() == address.lower() and state.chain_id == chain_id:
                log.info("resuming after block %d, watching %d journeys", state.last_block, len(state.watch))
                return state
            log.warning("state in %s is for another engine: starting afresh", self.path)
        return KeeperState(chain_id, address, start_block - 1)

    def save(self) -> None:
        """Write the state atomically: a temporary file in the same folder, then a rename."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_private(self.path, self.state.to_json())

    # --- the schedule --------------------------------------------------------------
    def _schedule(self, jid: str) -> None:
        """(Re)places the journey in the heap at its next moment; an older entry goes stale."""
        version = self._version.get(jid, 0) + 1
        self._version[jid] = version
        w = self.state.watch.get(jid)
        if w is None:
            return
        moment = self._next_moment(w)
        if moment is not None:
            heapq.heappush(self._heap, (moment, jid, version))

    def _next_moment(self, w: Watch) -> int | None:
        """When the journey next needs a look: its warning, its deadline passing, the end of its
        confirmation window (0: at once, to read it); None while it is held by a dispute."""
        if w.held:
            return None
        moments = []
        if w.customer_step and self._release is not None and w.release_at != 0:
            moments.append(0 if w.release_at is None else w.release_at + 1)
        if w.deadline and not w.flagged:
            if not w.warned and not w.customer_step:
                s = self.book.step(w.playbook, w.step)
                warn = s.warn_at(w.deadline) if s is not None else None
                if warn is not None:
                    moments.append(warn)
            if not w.customer_step or self._expire is not None:
                moments.append(w.deadline + 1)
        return min(moments) if moments else None

    def _due(self, now: int) -> list[str]:
        """The journeys whose next moment has come (each once), taken off the heap."""
        due: list[str] = []
        while self._heap and self._heap[0][0] <= now:
            _moment, jid, version = heapq.heappop(self._heap)
            if self._version.get(jid) == version and jid in self.state.watch and jid not in due:
                due.append(jid)
        return due

    # --- events --------------------------------------------------------------------
    def _is_customer_step(self, playbook: int, step: int) -> bool:
        s = self.book.step(playbook, step)
        return s is not None and s.role == "CUSTOMER"

    def _apply(self, name: str, args: dict[str, Any]) -> None:
        self._apply_event(name, args)
        self._schedule(hexstr(args["journeyId"]))

    def _apply_event(self, name: str, args: dict[str, Any]) -> None:
        jid = hexstr(args["journeyId"])
        watch = self.state.watch
        if name == "JourneyOpened":
            watch[jid] = Watch(args["playbookId"], 0, args["deadline"])
            return
        w = watch.get(jid)
        if w is None:
            return
        if name == "StepCompleted":
            w.step, w.deadline, w.flagged = args["step"] + 1, args["nextDeadline"], False
            w.customer_step, w.warned = self._is_customer_step(w.playbook, w.step), False
            w.release_at = None
        elif name == "BreachRecorded" and args["step"] == w.step:
            w.flagged = True
        elif name in ("Escalated", "ClockRestarted"):
            w.deadline, w.flagged, w.warned = args["deadline"], False, False
        elif name in ("StepPaused", "StepResumed") and args["step"] == w.step:
            w.deadline = args["deadline"]  # a paused step's clock is held, then runs on
        elif name == "Disputed":
            w.held = True
        elif name == "DisputeResolved":
            # the engine moved the deadline by the time the dispute lasted: read it back
            current = self.retry(lambda: self.engine.functions.journey(args["journeyId"]).call())
            w.held, w.deadline, w.release_at = False, current[4], None  # the release moved with it
        elif name in ("ValueConfirmed", "JourneyClosed"):
            del watch[jid]

    # --- one round -----------------------------------------------------------------
    def run_once(self) -> Round:
        """Read the events since the last round, then flag (or expire, or release) what is due;
        the state is written once, at the end of the round."""
        head = int(self.retry(lambda: self.w3.eth.block_number))
        start = self.state.last_block + 1
        if head < self.state.last_block:
            log.warning("the chain is at block %d, behind the keeper's %d: re-reading it", head, start - 1)
            self.state = KeeperState(self.state.chain_id, self.state.engine, -1)
            self._heap, self._version = [], {}
            start = 0
        events = fetch_events(
            self.w3, [self.engine], WATCHED_EVENTS, start, head, chunk=self.chunk, call=self.retry
        )
        for ev in events:
            self._apply(ev.name, ev.args)
        report = Round(start, head, len(events), len(self.state.watch))
        now = int(self.retry(lambda: self.w3.eth.get_block(head)["timestamp"]))
        due = self._due(now)
        if due:
            queued: list[tuple[str, str]] = []
            for jid in due:
                self._consider(jid, now, report, queued)
            self._send_queued(queued, report)
            for jid in due:
                self._schedule(jid)
        self.state.last_block = head
        self.save()
        return report

    def _consider(self, jid: str, now: int, report: Round, queued: list[tuple[str, str]]) -> None:
        """What one due journey needs: a release (sent now), a warning, or a flag or an expiry
        (queued for the round's batch)."""
        w = self.state.watch[jid]
        if w.held:
            return
        if self._release is not None and self._release_due(jid, w, now):
            self._act("released", jid, w, self._release, report)
            return
        if not (w.flagged or w.warned) and w.deadline and now <= w.deadline:
            self._warn(jid, w, now, report)
        if w.flagged or not w.deadline or now <= w.deadline:
            return
        if w.customer_step:
            if self._expire is not None:
                queued.append(("expired", jid))
            return
        queued.append(("flagged", jid))

    def _send_queued(self, queued: list[tuple[str, str]], report: Round) -> None:
        """Sends the round's flags and expiries: in multicall batches with `batch`, else one by one."""
        if self._batch is None:
            for kind, jid in queued:
                w = self.state.watch.get(jid)
                if w is not None:
                    self._act(kind, jid, w, self._flag if kind == "flagged" else self._expire, report)
            return
        for first in range(0, len(queued), BATCH_SIZE):
            chunk = queued[first : first + BATCH_SIZE]
            calls = [(kind, bytes.fromhex(jid[2:])) for kind, jid in chunk]
            batch = self._batch
            outcomes = self.retry(lambda calls=calls, batch=batch: batch(calls))  # type: ignore[misc]
            for (kind, jid), outcome in zip(chunk, outcomes, strict=True):
                w = self.state.watch.get(jid)
                if w is not None:
                    self._settle(kind, jid, w, outcome, report)

    def _warn(self, jid: str, w: Watch, now: int, report: Round) -> None:
        """Warn once that the step is at risk: past its playbook's warning threshold, as the
        engine confirms (a step waiting for its pool is not at risk)."""
        s = self.book.step(w.playbook, w.step)
        warn = s.warn_at(w.deadline) if s is not None else None
        if s is None or warn is None or now < warn:
            return
        journey = bytes.fromhex(jid[2:])
        at_risk = self.retry(lambda: self.engine.functions.stepAtRisk(journey).call())[0]
        if not at_risk:
            return
        w.warned = True
        report.actions.append(Action("warned", jid, w.step, w.deadline, None))
        log.warning("step %d (%s) of journey %s is at risk: deadline %d", w.step, s.name, jid, w.deadline)

    def _release_due(self, jid: str, w: Watch, now: int) -> bool:
        """Whether the journey's confirmation window has passed, its customer's deadline not yet:
        the engine's releaseTime, read once at the customer's step (and again after a dispute)."""
        if not w.customer_step:
            return False
        if w.release_at is None:
            journey = bytes.fromhex(jid[2:])
            w.release_at = int(self.retry(lambda: self.engine.functions.releaseTime(journey).call()))
        return bool(w.release_at) and now > w.release_at and (not w.deadline or now <= w.deadline)

    def _act(self, kind: str, jid: str, w: Watch, send: Sender | None, report: Round) -> None:
        if send is None:
            return
        journey = bytes.fromhex(jid[2:])
        try:
            outcome = self.retry(lambda: send(journey))
        except (RuleError, ConfigError) as exc:
            outcome = exc
        self._settle(kind, jid, w, outcome, report)

    def _settle(self, kind: str, jid: str, w: Watch, outcome: Any, report: Round) -> None:
        """Applies what one action came to: its transaction, or the refusal that stopped it."""
        moment = (w.release_at or 0) if kind == "released" else w.deadline
        if isinstance(outcome, RuleError):
            exc = outcome
            if exc.error in DONE:
                w.flagged = True
                log.info("step %d of %s was flagged already", w.step, jid)
            elif exc.error in GONE:
                log.info("journey %s needs no %s: %s", jid, kind[:-2], exc)
                self.state.watch.pop(jid, None)
            elif exc.error in NOT_YET:
                log.info("journey %s: %s", jid, exc)
                if kind == "released":
                    w.release_at = None  # read it again next round
            elif kind == "released" and exc.error in NEVER_RELEASED:
                log.warning("journey %s is not released: %s", jid, exc)
                w.release_at = 0
            else:
                raise exc
            return
        if isinstance(outcome, ConfigError):
            if kind != "released":
                raise outcome
            log.warning("journey %s is not released: %s", jid, outcome)
            w.release_at = 0
            return
        if kind == "flagged":
            w.flagged = True
        else:
            self.state.watch.pop(jid, None)
        tx_hash = hexstr(outcome) if isinstance(outcome, bytes | str) else None
        report.actions.append(Action(kind, jid, w.step, moment, tx_hash))
        log.info("%s step %d of journey %s (at %d) in %s", kind, w.step, jid, moment, tx_hash)

    def rounds(self, interval: float = 15.0, sleep: Callable[[float], None] = time.sleep) -> Iterator[Round]:
        """Round after round, `interval` seconds apart, for as long as the caller iterates. A node
        that stops answering is waited for, with backoff up to OUTAGE_CAP seconds and without
        end; the state saved at the last round is kept, and the next round carries on from it."""
        outage = 0
        while True:
            try:
                report = self.run_once()
            except ChainError as exc:
                outage += 1
                delay = min(OUTAGE_CAP, interval * 2 ** min(outage - 1, 10))
                log.warning("the chain does not answer (%s): trying again in %.1f s", exc, delay)
                sleep(delay)
                continue
            if outage:
                log.warning("the chain answers again after %d failed rounds", outage)
                outage = 0
            yield report
            sleep(interval)

    def run(self, interval: float = 15.0, rounds: int | None = None) -> None:
        """Round after round, `interval` seconds apart, outliving node outages (Ctrl-C stops it)."""
        for done, _round in enumerate(self.rounds(interval), start=1):
            if rounds is not None and done >= rounds:
                return
