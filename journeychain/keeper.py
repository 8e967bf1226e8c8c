"""The SLA keeper: flags every step that passes its deadline, once.

It reads only new events each round (journeys opened, steps completed, breaches,
escalations, disputes, clocks restarted at funding, closings) to keep a watch list of open
journeys and their current deadlines, then flags the steps whose deadline has passed
(`engine.flagBreach`). With `expire` on, it also expires journeys whose customer step passed
its deadline (the pool goes back to its funder). With `release` on, it releases the pool of
each journey whose confirmation window passed with the customer silent (`engine.release`),
once: the journey then leaves the watch list. The last processed block and the watch list
are kept in $JOURNEY_HOME/keeper-<chain id>.json (written atomically), so a restarted keeper
resumes where it stopped. RPC errors are retried with exponential backoff, a bounded number
of times, then end in a ChainError.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
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
    ):
        self.w3, self.engine = w3, engine
        self._flag, self._expire, self._release = flag, expire, release
        self.retry = retry or Retry()
        self.chunk = chunk
        chain_id = int(self.retry(lambda: w3.eth.chain_id))
        self.path = Path(state_path) if state_path else journey_home() / f"keeper-{chain_id}.json"
        self.state = self._load(chain_id, start_block)
        self.book = PlaybookBook(w3, engine, self.retry, max(0, start_block))

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

    # --- events --------------------------------------------------------------------
    def _is_customer_step(self, playbook: int, step: int) -> bool:
        s = self.book.step(playbook, step)
        return s is not None and s.role == "CUSTOMER"

    def _apply(self, name: str, args: dict[str, Any]) -> None:
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
        """Read the events since the last round, then flag (or expire) what is due."""
        head = int(self.retry(lambda: self.w3.eth.block_number))
        start = self.state.last_block + 1
        if head < self.state.last_block:
            log.warning("the chain is at block %d, behind the keeper's %d: re-reading it", head, start - 1)
            self.state = KeeperState(self.state.chain_id, self.state.engine, -1)
            start = 0
        events = fetch_events(
            self.w3, [self.engine], WATCHED_EVENTS, start, head, chunk=self.chunk, call=self.retry
        )
        for ev in events:
            self._apply(ev.name, ev.args)
        self.state.last_block = head
        self.save()
        report = Round(start, head, len(events), len(self.state.watch))
        now = int(self.retry(lambda: self.w3.eth.get_block(head)["timestamp"]))
        for jid, w in sorted(self.state.watch.items(), key=lambda kv: kv[1].deadline):
            if w.held:
                continue
            if self._release is not None and self._release_due(jid, w, now):
                self._act("released", jid, w, self._release, report)
                continue
            if not (w.flagged or w.warned) and w.deadline and now <= w.deadline:
                self._warn(jid, w, now, report)
            if w.flagged or not w.deadline or now <= w.deadline:
                continue
            if w.customer_step:
                if self._expire is not None:
                    self._act("expired", jid, w, self._expire, report)
                continue
            self._act("flagged", jid, w, self._flag, report)
        return report

    def _warn(self, jid: str, w: Watch, now: int, report: Round) -> None:
        """Warn once that the step is at risk: past its playbook's warning threshold, as the
        engine confirms (a step waiting for its pool is not at risk)."""
        s = self.book.step(w.playbook, w.step)
        if s is None or not s.warn_bps or not s.sla:
            return
        if now < w.deadline - s.sla + s.sla * s.warn_bps // 10_000:
            return
        journey = bytes.fromhex(jid[2:])
        at_risk = self.retry(lambda: self.engine.functions.stepAtRisk(journey).call())[0]
        if not at_risk:
            return
        w.warned = True
        self.save()
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
            self.save()
        return bool(w.release_at) and now > w.release_at and (not w.deadline or now <= w.deadline)

    def _act(self, kind: str, jid: str, w: Watch, send: Sender, report: Round) -> None:
        journey = bytes.fromhex(jid[2:])
        moment = (w.release_at or 0) if kind == "released" else w.deadline
        try:
            tx = self.retry(lambda: send(journey))
        except RuleError as exc:
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
                raise
            self.save()
            return
        except ConfigError as exc:
            if kind != "released":
                raise
            log.warning("journey %s is not released: %s", jid, exc)
            w.release_at = 0
            self.save()
            return
        if kind == "flagged":
            w.flagged = True
        else:
            self.state.watch.pop(jid, None)
        self.save()
        tx_hash = hexstr(tx) if isinstance(tx, bytes | str) else None
        report.actions.append(Action(kind, jid, w.step, moment, tx_hash))
        log.info("%s step %d of journey %s (at %d) in %s", kind, w.step, jid, moment, tx_hash)

    def run(self, interval: float = 15.0, rounds: int | None = None) -> None:
        """Round after round, `interval` seconds apart (Ctrl-C stops it)."""
        done = 0
        while rounds is None or done < rounds:
            self.run_once()
            done += 1
            if rounds is None or done < rounds:
                time.sleep(interval)
