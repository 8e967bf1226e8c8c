"""Jobs: each write the service accepted, sent through the SDK by a worker, and reconciled with
the chain after a restart.

A job is queued in the database before anything is signed. While it runs, every transaction
the SDK signs for it is recorded on the job (its hash and raw bytes, `SendRecorder`) before it
is broadcast. A job that has transactions recorded is never run again blindly: the worker looks
them up (a receipt: mined or reverted; unknown to the node: the same raw bytes broadcast again,
which can only ever be mined once), and runs the action again only when every recorded
transaction is mined and the action's own event is in none of them (a funding whose `approve`
was mined, but not the funding).

The worker pipelines: every job that may run now runs in a lane of its own, so that an
account's queued jobs are signed and broadcast back to back, with consecutive nonces from the
SDK's sender (journeychain.sender: the account's nonces under its lock, the node asked for the
pending count, nothing waited for in between), and their receipts are awaited together. Jobs
of one journey run in the order they were accepted, each once the one before it is final: a
step is simulated (and refused with its rule's sentence) against the chain its previous step
left. An account with a recorded transaction that no lane is waiting for (sent before a
restart, or when the node went away) sends nothing new until each such job is reconciled: a new
transaction could take the nonce a recorded one must be mined with.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from hexbytes import HexBytes
from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import Timeout
from web3.exceptions import TransactionNotFound
from web3.middleware import Web3Middleware

from journeychain.client import JourneyClient
from journeychain.errors import (
    ChainError,
    ConfigError,
    JourneyError,
    NonceError,
    RuleError,
    StepMismatchError,
)
from journeychain.service.store import FAILED, MINED, QUEUED, REFUSED, SENT, Job, Store, now
from journeychain.timeline import hexstr
from journeychain.tx import Receipt, node_refusal

log = logging.getLogger("journeychain.service")

#: What `Worker._receipt` answers for a transaction whose nonce another one took.
DROPPED = object()
#: Seconds before a job that met a dead node is tried again: 1, 2, 4, ... at most 30.
RETRY_CAP = 30


# --- recording each transaction before it is broadcast ---------------------------------------

_current = threading.local()


class SendRecorder(Web3Middleware):
    """Hands every raw transaction the running job broadcasts to its recorder first."""

    def request_processor(self, method: Any, params: Any) -> Any:
        record = getattr(_current, "record", None)
        if method == "eth_sendRawTransaction" and record is not None:
            raw = HexBytes(params[0])
            record(hexstr(keccak(raw)), raw.to_0x_hex())
        return method, params


@contextmanager
def recording(record: Callable[[str, str], None]) -> Iterator[None]:
    _current.record = record
    try:
        yield
    finally:
        _current.record = None


# --- the actions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """One kind of write: what it runs, and the event that shows it happened."""

    run: Callable[[Any, JourneyClient, dict[str, Any]], Receipt]
    event: str


def _open(ctx: Any, c: JourneyClient, p: dict[str, Any]) -> Receipt:
    opened = c.open_journey(
        p["reference"],
        p["customer"],
        bytes.fromhex(p["profile_hash"].removeprefix("0x")),
        p["playbook"],
        p.get("assignee"),
        funder=p["funder"],
    )
    return opened.receipt


def _complete(ctx: Any, c: JourneyClient, p: dict[str, Any]) -> Receipt:
    ref = p["journey"]
    state = c.journey(ref)
    wanted = c.step_index(ref, p["step"])
    if wanted != state.step:
        raise StepMismatchError(
            f"journey {ref} is at step {state.step} ({state.step_name or 'done'}), not step {wanted}: "
            "this completion is for another step"
        )
    vault = ctx.vault()
    try:
        result = c.complete_step(
            ref, p.get("fields") or {}, p.get("assign"), vault=vault, org=p.get("org"), attesters=None
        )
    finally:
        vault.close()
    return result.receipt


def _attest(ctx: Any, c: JourneyClient, p: dict[str, Any]) -> Receipt:
    expiry = c.chain.now() + p["expires_in"] if p.get("expires_in") else 0
    if p["schema"] == "value_delivered":
        _uid, receipt = c.attest_value_delivered(p["journey"], expiry)
    else:
        _uid, receipt = c.attest_about(p["journey"], p["schema"], p.get("step"), expiry)
    return receipt


def _fund(ctx: Any, c: JourneyClient, p: dict[str, Any]) -> Receipt:
    return c.fund(p["journey"], int(p["amount"]))


def _at_step(c: JourneyClient, p: dict[str, Any], what: str) -> None:
    """Refuses a write named for a step (its natural key) when the journey is at another one."""
    if p.get("step") is None:
        return
    state = c.journey(p["journey"])
    if state.step != p["step"]:
        raise StepMismatchError(
            f"journey {p['journey']} is at step {state.step} ({state.step_name or 'done'}), not step "
            f"{p['step']}: this {what} is for another step"
        )


def _flag(ctx: Any, c: JourneyClient, p: dict[str, Any]) -> Receipt:
    _at_step(c, p, "flag")
    return c.flag_breach(p["journey"])


def _escalate(ctx: Any, c: JourneyClient, p: dict[str, Any]) -> Receipt:
    _at_step(c, p, "escalation")
    return c.escalate(p["journey"], p["to"])


ACTIONS: dict[str, Action] = {
    "open": Action(_open, "JourneyOpened"),
    "complete": Action(_complete, "StepCompleted"),
    "attest": Action(_attest, "Attested"),
    "fund": Action(_fund, "PoolFunded"),
    "flag": Action(_flag, "BreachRecorded"),
    "escalate": Action(_escalate, "Escalated"),
}


def plain(value: Any) -> Any:
    """An event argument as JSON: bytes as 0x hex, tuples as lists."""
    if isinstance(value, bytes | bytearray):
        return hexstr(bytes(value))
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def outcome(receipt: Receipt) -> dict[str, Any]:
    return receipt.as_dict() | {"events": plain(receipt.events)}


# --- the worker ----------------------------------------------------------------------------


class Worker:
    """Runs the queued jobs of one deployment, and reconciles those sent before a restart.

    `accounts` are the keys the service may sign with, by address; `after_mined(job, result)`
    is called once a job is mined (the service keeps its local records there). `lanes` is how
    many jobs may be in flight at once, over every account. `locks`, one per account, are for
    whatever else signs for those accounts (the keeper) to take in turn; the nonces themselves
    are the sender's (one sequence per account, shared by every lane and the keeper)."""

    def __init__(
        self,
        store: Store,
        client: JourneyClient,
        accounts: dict[str, LocalAccount],
        ctx: Any,
        *,
        lanes: int = 64,
        poll: float = 0.2,
        after_mined: Callable[[Job, dict[str, Any]], None] | None = None,
        locks: dict[str, threading.Lock] | None = None,
    ):
        self.store, self.client, self.ctx = store, client, ctx
        self.accounts = {a.lower(): key for a, key in accounts.items()}
        self.deployment = str(client.deployment.key)
        self.poll = poll
        self.after_mined = after_mined
        self.locks = locks if locks is not None else {}
        self._pool = ThreadPoolExecutor(max_workers=lanes, thread_name_prefix="journey-job")
        self._lanes = lanes
        self._running: set[str] = set()  # the jobs in a lane now
        self._guard = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def lock(self, address: str) -> threading.Lock:
        with self._guard:
            return self.locks.setdefault(address.lower(), threading.Lock())

    # --- the loop
    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="journey-worker", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.dispatch()
            except Exception:  # a dead database or node: try again next round
                log.exception("the job worker's round failed")
            self._wake.wait(self.poll)
            self._wake.clear()

    def dispatch(self) -> int:
        """Starts every job that may run now: the first unfinished job of its journey, due, not in
        a lane already; of an account with a recorded transaction no lane waits for, only the jobs
        to reconcile. Returns how many were started."""
        started = 0
        seen_journeys: set[str] = set()
        unfinished = self.store.unfinished(self.deployment)
        with self._guard:  # read after the jobs: a job that left its lane meanwhile is looked at again
            running = set(self._running)
        # an account with a transaction out that no lane waits for sends nothing new until it is
        # found: a new transaction could take the nonce that the recorded one must be mined with
        reconciling = {j.account.lower() for j in unfinished if j.state == SENT and j.id not in running}
        for job in unfinished:
            journey, account = job.journey, job.account.lower()
            if journey in seen_journeys:
                continue  # a journey's jobs in order: the next once this one is final
            seen_journeys.add(journey)
            if job.id in running or job.next_try_at > now():
                continue
            if account in reconciling and job.state != SENT:
                continue
            with self._guard:
                if job.id in self._running or len(self._running) >= self._lanes:
                    continue
                self._running.add(job.id)
            self._pool.submit(self._run, job)
            started += 1
        return started

    def _run(self, job: Job) -> None:
        try:
            fresh = self.store.job(job.id)
            if fresh is None or fresh.final:
                return
            if fresh.txs:
                self.reconcile(fresh)
            else:
                self.execute(fresh)
        except Exception as exc:  # never lose the worker to one job
            log.exception("job %s failed unexpectedly", job.id)
            self.store.update_job(
                job.id, state=FAILED, error=f"unexpected failure: {type(exc).__name__}: {exc}"
            )
        finally:
            with self._guard:
                self._running.discard(job.id)
            self._wake.set()

    # --- running a job
    def execute(self, job: Job) -> None:
        action = ACTIONS[job.action]
        key = self.accounts.get(job.account.lower())
        if key is None:
            self.store.update_job(
                job.id,
                state=FAILED,
                error=f"the service holds no key for {job.account}: start it with that account's keystore",
            )
            return
        client = self.client.with_account(key)
        self.store.update_job(job.id, attempts=job.attempts + 1)
        try:
            with recording(lambda tx_hash, raw: self.store.record_tx(job.id, tx_hash, raw)):
                receipt = action.run(self.ctx, client, job.params)
        except RuleError as exc:
            self._finish(job, REFUSED, error=str(exc), error_name=exc.error or type(exc).__name__)
        except ConfigError as exc:
            self._finish(job, REFUSED, error=str(exc), error_name=type(exc).__name__)
        except (ChainError, RequestsConnectionError, Timeout, ConnectionError) as exc:
            self._later(job, exc)
        except JourneyError as exc:
            self._finish(job, FAILED, error=str(exc), error_name=type(exc).__name__)
        else:
            self._mined(job, outcome(receipt))

    def _later(self, job: Job, exc: BaseException) -> None:
        """The node went away: try the job again later (looking its transactions up first, if any)."""
        fresh = self.store.job(job.id) or job
        delay = min(RETRY_CAP, 2 ** min(fresh.attempts, 5))
        reason = str(exc) if isinstance(exc, JourneyError) else f"lost the chain ({type(exc).__name__})"
        self.store.update_job(
            job.id, state=SENT if fresh.txs else QUEUED, error=reason, next_try_at=now() + delay
        )
        log.warning("job %s: %s; trying again in %d s", job.id, reason, delay)

    def _finish(self, job: Job, state: str, **values: Any) -> None:
        self.store.update_job(job.id, state=state, params=redacted(job.params), **values)

    def _mined(self, job: Job, result: dict[str, Any]) -> None:
        if self.after_mined is not None:
            self.after_mined(job, result)
        self._finish(job, MINED, result=result, error=None, error_name=None)

    # --- reconciling a job whose transactions were recorded
    def reconcile(self, job: Job) -> None:
        """Looks up each recorded transaction; the job is mined once the action's event is in one,
        waits while one is pending, and runs again only when all are mined without it."""
        w3 = self.client.chain.w3
        action = ACTIONS[job.action]
        try:
            for tx in job.txs:
                receipt = self._receipt(w3, tx)
                if receipt is DROPPED:
                    continue  # never to be mined: its nonce went to another transaction
                if receipt is None:
                    self.store.update_job(job.id, next_try_at=now() + 1)
                    return  # broadcast again, or still pending: look again soon
                if receipt["status"] != 1:
                    self._finish(
                        job,
                        FAILED,
                        error=f"transaction {tx['hash']} was mined but reverted "
                        f"(block {receipt['blockNumber']})",
                        error_name="Reverted",
                    )
                    return
                events = self.client._decode_events(receipt)
                if action.event in events:
                    mined = Receipt(tx["hash"], int(receipt["blockNumber"]), int(receipt["gasUsed"]), receipt)
                    mined.events = events
                    self._mined(job, outcome(mined) | {"reconciled": True})
                    return
        except (ChainError, RequestsConnectionError, Timeout, ConnectionError) as exc:
            self._later(job, exc)
            return
        # every recorded transaction mined or dropped, the action's own not among them: run it again
        self.store.update_job(job.id, state=QUEUED, txs=[])
        self.execute(self.store.job(job.id) or job)

    def _receipt(self, w3: Any, tx: dict[str, str]) -> Any:
        """The transaction's receipt; None while it is pending (broadcast again if the node does
        not know it: the same signed bytes, so it is mined once at most)."""
        try:
            return w3.eth.get_transaction_receipt(tx["hash"])
        except TransactionNotFound:
            pass
        try:
            w3.eth.get_transaction(tx["hash"])
            return None  # pending
        except TransactionNotFound:
            pass
        try:
            w3.eth.send_raw_transaction(HexBytes(tx["raw"]))
            log.info("broadcast %s again: the node did not know it", tx["hash"])
        except (RequestsConnectionError, Timeout):
            raise
        except Exception as exc:  # known already (pending), or its nonce went to another one
            refusal = node_refusal(exc, self.client.address if self.client.account else "")
            if isinstance(refusal, NonceError) and "used already" in str(refusal):
                log.warning("transaction %s is dropped: its nonce was used by another", tx["hash"])
                return DROPPED
            log.info("broadcasting %s again: %s", tx["hash"], exc)
        return None

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Whether every job of the deployment is final within `timeout` seconds (for tests and
        the benchmark)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.store.unfinished(self.deployment):
                return True
            time.sleep(0.1)
        return False


def redacted(params: dict[str, Any]) -> dict[str, Any]:
    """A finished job's parameters without the step's field values (personal data stays in the
    evidence vault only): each value is replaced by its length."""
    if "fields" not in params:
        return params
    fields = {k: f"<{len(str(v))} characters, in the vault>" for k, v in (params["fields"] or {}).items()}
    return dict(params, fields=fields)
