"""Escrow and deadline invariants, checked by a stateful property-based run over random journeys.

A hypothesis state machine opens journeys on the default playbook and on a make-good
variant (penalties to the customer, a 14-day confirmation window), funds them, completes
steps on time and late, moves time, flags breaches, escalates, disputes and resolves,
confirms by the customer's signature, releases optimistically, expires, cancels and
claims for random participants. A Python model predicts every action first: the action
either succeeds the way the model says, or is refused with exactly the error (name and
arguments) the model names. After every step the chain is compared with the model and
the escrow's books are balanced:

- the engine's token balance == everything funded - everything claimed (refunds and
  payouts are credits: they leave the engine only when claimed);
- every outstanding credit + the pools of journeys still open or disputed == that balance;
- credits ever given == the pools of journeys that delivered value + the refunds of
  closed ones (so never more); pools of closed journeys are empty;
- a journey that did not deliver value credited nobody but its funder, and only the
  refund (per-journey credits are rebuilt from ValueConfirmed and JourneyClosed events);
- nothing is claimed twice: what an account claimed == what it was credited - its credit;
- a breach once recorded stays recorded (breach bits and breach counts never decrease);
- value delivered pays each step's owner its share less the penalty if it breached the
  step's SLA (completed late, or a breach of the step was recorded against it), nothing if
  a dispute of the step was upheld; forfeits go where the playbook says, the rest to the
  funder (checked against ValueConfirmed's payouts and the credits);
- each journey's step, status, assignee, deadline, breaches, flag, pool, funder, rolling
  hash, disputes and the customer's nonce are what the model says.

JOURNEY_FUZZ_STEPS sets the number of state-machine steps (1,000 by default, `make test`;
`make fuzz` runs 10,000). The steps run, the examples and the duration are printed at the
end and written to reports/fuzz.json.
"""

from __future__ import annotations

import functools
import json
import math
import os
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
import requests
from brownie import accounts, chain, web3
from brownie.exceptions import VirtualMachineError
from conftest import DAY, HOUR, ORGS, POOL, ZERO, Customer, enrol, reverts_with
from eth_abi import decode, encode
from eth_utils import keccak, to_checksum_address
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from journeychain.encoding import (
    evidence_hash,
    field_pairs,
    genesis_head,
    journey_id,
    next_head,
    short_name,
)

# Role and Status as the contracts number them (JourneyTypes.sol).
MARKETING, SALES, SUCCESS, VENDOR, FUNDER, ARBITER, ADMIN, CUSTOMER_ROLE = 1, 2, 3, 4, 6, 7, 8, 9
ROLE_NUMBER = {"MARKETING": 1, "SALES": 2, "SUCCESS": 3, "VENDOR": 4, "CUSTOMER": 9}
OPEN, DISPUTED, DELIVERED, EXPIRED, CANCELLED = 1, 2, 3, 4, 5
LIVE = (OPEN, DISPUTED)
BPS = 10_000
MAX_JOURNEYS = 3
# Time moves: short ones stay inside most SLAs, long ones pass them (24 h, 3 d, 7 d, 30 d, 90 d).
JUMPS = [90, HOUR, 12 * HOUR, 23 * HOUR, 25 * HOUR, 2 * DAY, 4 * DAY, 8 * DAY, 15 * DAY, 31 * DAY, 91 * DAY]
AMOUNTS = [1, 7, 10**18, 333 * 10**18 + 1, POOL]
# A transaction lands within this many seconds of the latest block's time; a deadline
# closer than that to "now" is made unambiguous by moving time past it first.
SLACK = 30

STATS: dict = {
    "steps": 0,
    "target": 0,
    "examples": 0,
    "transactions": 0,
    "failed": False,
    "outcomes": Counter(),
}
REPORT = Path(__file__).resolve().parent.parent / "reports" / "fuzz.json"


def counted(action: str):
    """Makes a rule one counted step. Once the run's target is reached (and nothing failed),
    the rule does nothing, so the remaining examples hypothesis draws cost no transactions;
    after a failure every rule runs, so that shrinking replays the same steps."""

    def decorate(body):
        @functools.wraps(body)
        def step(self, **kwargs):
            if STATS["steps"] >= STATS["target"] and not STATS["failed"]:
                return
            STATS["steps"] += 1
            self.action, self.active = action, True
            try:
                body(self, **kwargs)
            except BaseException:
                STATS["failed"] = True
                raise

        return step

    return decorate


def refusal(name: str, *args) -> str:
    """The revert message brownie shows for custom error `name` with `args`."""
    shown = [a.lower() if isinstance(a, str) and a.startswith("0x") else a for a in args]
    return f"{name}: " + ", ".join(str(a) for a in shown)


# --- the world every example starts from -------------------------------------------------


@dataclass
class PlaybookModel:
    id: int
    roles: list[int]
    slas: list[int]
    shares: list[int]
    penalties: list[int]
    fields: list[list[str]]
    attestations: list[list[str]]
    commit_step: int
    fund_gate: bool
    penalty_to_customer: bool
    confirm_window: int

    @classmethod
    def of(cls, pid: int, pb) -> PlaybookModel:
        return cls(
            id=pid,
            roles=[ROLE_NUMBER[s.role] for s in pb.steps],
            slas=[s.sla for s in pb.steps],
            shares=[s.share_bps for s in pb.steps],
            penalties=[s.penalty_bps for s in pb.steps],
            fields=[list(s.fields) for s in pb.steps],
            attestations=[list(s.attestations) for s in pb.steps],
            commit_step=pb.commit_step,
            fund_gate=pb.fund_before_commit,
            penalty_to_customer=pb.penalty_to == "customer",
            confirm_window=pb.confirm_window,
        )

    @property
    def last(self) -> int:
        return len(self.roles) - 1


class Reader:
    """Reads many views in one JSON-RPC batch (the invariants read ~40 values a step)."""

    def __init__(self):
        self.url = web3.provider.endpoint_uri
        self.session = requests.Session()

    def read(self, calls: list[tuple[str, bytes, list[str]]]) -> list[tuple]:
        batch = [
            {
                "jsonrpc": "2.0",
                "id": i,
                "method": "eth_call",
                "params": [{"to": to, "data": "0x" + data.hex()}, "latest"],
            }
            for i, (to, data, _) in enumerate(calls)
        ]
        replies = sorted(self.session.post(self.url, json=batch, timeout=30).json(), key=lambda r: r["id"])
        out = []
        for (_, _, types), reply in zip(calls, replies, strict=True):
            assert "result" in reply, f"view call failed: {reply}"
            out.append(decode(types, bytes.fromhex(reply["result"][2:])))
        return out


def selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


@dataclass
class World:
    engine: object
    voice: object
    token: object
    kit: object
    team: object
    funders: list
    customers: list  # Customer objects (signing keys), attested ones first
    customer_accounts: list  # the same keys as brownie accounts, to claim
    attested: set
    playbooks: dict  # id -> PlaybookModel
    variant_id: int  # the make-good variant's id
    holders: dict  # role number -> accounts holding it
    claimants: list
    reader: Reader
    holds: dict = field(default_factory=dict)  # address -> set of role numbers


@pytest.fixture(scope="module")
def world(suite, kit, team, token, voice, default_playbook):
    engine = suite
    # A second funder, so that one funder's pool cannot be topped up by another.
    funder2 = accounts.add()
    team.admin.transfer(funder2, 10**19)
    enrol(kit.directory, team.admin, funder2, ORGS["finance"], "FUNDER")
    token.mint(funder2, 1_000_000 * 10**18, {"from": team.admin})
    token.approve(engine, 2**256 - 1, {"from": funder2})
    # The make-good variant: penalties go to the customer, optimistic release after 14 days.
    variant = replace(default_playbook, name="make_good", penalty_to="customer", confirm_window=14 * DAY)
    engine.publishPlaybook(*variant.publish_args(), {"from": team.admin})
    variant_id = engine.playbookCount()
    # Three customers; the first two have a verified identity, the third never does.
    customers = [Customer() for _ in range(3)]
    customer_accounts = []
    for c in customers:
        account = accounts.add(c.key.key.hex())
        team.admin.transfer(account, 10**19)
        customer_accounts.append(account)
    for c in customers[:2]:
        kit.attest_identity(c)
    holders = {
        MARKETING: [team.marketing],
        SALES: [team.sales, team.sales2],
        SUCCESS: [team.success],
        VENDOR: [team.vendor],
        FUNDER: [team.funder, funder2],
        ARBITER: [team.arbiter],
        ADMIN: [team.admin],
        CUSTOMER_ROLE: [],
    }
    holds = defaultdict(set)
    for role, people in holders.items():
        for p in people:
            holds[p.address].add(role)
    claimants = [
        team.admin,
        team.marketing,
        team.sales,
        team.sales2,
        team.success,
        team.vendor,
        team.verifier,
        team.funder,
        funder2,
        team.arbiter,
        team.outsider,
        *customer_accounts,
    ]
    return World(
        engine=engine,
        voice=voice,
        token=token,
        kit=kit,
        team=team,
        funders=[team.funder, funder2],
        customers=customers,
        customer_accounts=customer_accounts,
        attested={c.address for c in customers[:2]},
        playbooks={
            1: PlaybookModel.of(1, default_playbook),
            variant_id: PlaybookModel.of(variant_id, variant),
        },
        variant_id=variant_id,
        holders=holders,
        claimants=claimants,
        reader=Reader(),
        holds=holds,
    )


# --- the model -------------------------------------------------------------------------


@dataclass
class JourneyModel:
    jid: bytes
    pb: PlaybookModel
    customer: Customer
    head: bytes
    deadline: int
    assignee: str = ZERO
    step: int = 0
    status: int = OPEN
    flagged: bool = False
    breaches: int = 0
    pool: int = 0
    funder: str = ZERO
    history: list = field(default_factory=list)
    disputed: int = 0
    upheld: int = 0
    dispute_step: int = 0
    since: int = 0
    nonce: int = 0
    settled_pool: int = 0  # the pool when value was delivered or the journey closed
    breached_by: dict = field(default_factory=lambda: defaultdict(set))  # step -> accounts


class JourneyMachine(RuleBasedStateMachine):
    """Random journeys against a model of the engine; see the module docstring."""

    def __init__(self, world: World):
        super().__init__()
        self.w = world
        self.journeys: list[JourneyModel] = []
        self.opened = 0
        self.credits: dict[str, int] = defaultdict(int)  # the model's outstanding credit
        self.credited: dict[str, int] = defaultdict(int)  # credited ever, from events
        self.claimed: dict[str, int] = defaultdict(int)  # claimed ever, from events
        self.event_credits: dict[bytes, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.funded = 0
        self.claimed_total = 0
        self.delivered_pools = 0
        self.refunds = 0
        self.breach_counts: dict[str, int] = defaultdict(int)
        self.seen_breaches: dict[bytes, int] = {}
        self.seen_counts: dict[str, int] = {}
        self.active = False

    def teardown(self):
        if self.active:
            STATS["examples"] += 1
            chain.revert()

    # --- helpers ---------------------------------------------------------------------
    def _now(self) -> int:
        return web3.eth.get_block("latest")["timestamp"]

    def _clear_of(self, moment: int) -> int:
        """Now, after moving time past `moment` if the next block might land on either side of it
        (also when it is now: the next block may share the latest block's second)."""
        now = self._now()
        if moment and now <= moment < now + SLACK:
            chain.sleep(moment - now + 1)
            chain.mine()
            now = self._now()
        return now

    def _send(self, expected: str | None, fn, *args):
        """Sends the transaction; it must succeed when `expected` is None, else be refused with it."""
        STATS["transactions"] += 1
        if expected is None:
            try:
                tx = fn(*args)
            except VirtualMachineError as e:
                raise AssertionError(
                    f"{self.action}: refused with {e.revert_msg!r}, the model expected success"
                ) from e
            STATS["outcomes"][f"{self.action}: ok"] += 1
            return tx
        with reverts_with(expected.split(":")[0]) as info:
            fn(*args)
        assert info.value.revert_msg == expected, f"{self.action}: {info.value.revert_msg!r} != {expected!r}"
        STATS["outcomes"][f"{self.action}: {expected.split(':')[0]}"] += 1
        return None

    def _unblocked(self, j: JourneyModel) -> bool:
        """Whether the journey's current step can be completed: funded and attested where required."""
        if j.pb.fund_gate and j.step == j.pb.commit_step and j.pool == 0:
            return False
        return not (j.pb.attestations[j.step] and j.customer.address not in self.w.attested)

    def _wait_past(self, moment: int):
        """Moves time past `moment` (a participant keeps silent, or a deadline lapses)."""
        now = self._now()
        if moment and now <= moment:
            chain.sleep(moment - now + 1)
            chain.mine()

    def _pick(self, pick: int, preferred: list[JourneyModel]) -> JourneyModel:
        """Mostly a journey where the action makes sense; sometimes any journey, to test the refusals."""
        pool = preferred if preferred and pick % 8 else self.journeys
        return pool[pick % len(pool)]

    def _live(self) -> list[JourneyModel]:
        return [j for j in self.journeys if j.status in LIVE]

    # Where each action makes sense; a rule runs only when it has such a journey (and
    # then, one time in eight, picks any journey instead, to check the refusals).
    def _completable(self) -> list[JourneyModel]:
        return [j for j in self.journeys if j.status == OPEN and j.step < j.pb.last]

    def _flaggable(self) -> list[JourneyModel]:
        return [j for j in self._completable() if j.deadline and not j.flagged]

    def _flagged(self) -> list[JourneyModel]:
        return [j for j in self.journeys if j.status == OPEN and j.flagged]

    def _disputable(self) -> list[JourneyModel]:
        return [j for j in self.journeys if j.status == OPEN and j.step > 0]

    def _disputed(self) -> list[JourneyModel]:
        return [j for j in self.journeys if j.status == DISPUTED]

    def _at_customer(self) -> list[JourneyModel]:
        return [j for j in self.journeys if j.status == OPEN and j.step == j.pb.last]

    def _expirable(self) -> list[JourneyModel]:
        return [j for j in self._live() if j.step == j.pb.last]

    def _cancellable(self) -> list[JourneyModel]:
        return [j for j in self._live() if j.step <= j.pb.commit_step]

    def _stuck(self) -> list[JourneyModel]:
        """Uncommitted journeys held by a dispute, or waiting for funding or an attestation."""
        return [j for j in self._cancellable() if j.status == DISPUTED or not self._unblocked(j)]

    def _has(self, account, role: int) -> bool:
        return role in self.w.holds.get(str(account), set())

    def _credit(self, account: str, amount: int):
        if amount:
            self.credits[account] += amount

    def _apply_credit_events(self, j: JourneyModel, tx) -> dict[str, int]:
        """The credits a settlement or closure gave, rebuilt from its events."""
        got: dict[str, int] = defaultdict(int)
        if "ValueConfirmed" in tx.events:
            ev = tx.events["ValueConfirmed"]
            # each amount's owner: the `by` of each settled step (the history), then the customer
            owners = [by for by, _, _ in j.history] + [ev["customer"]]
            for owner, amount in zip(owners, ev["amounts"], strict=True):
                if amount:
                    got[str(owner)] += amount
            if ev["forfeited"]:
                got[str(ev["forfeitedTo"])] += ev["forfeited"]
            if ev["remainder"]:
                got[j.funder] += ev["remainder"]
        if "JourneyClosed" in tx.events and tx.events["JourneyClosed"]["refund"]:
            got[j.funder] += tx.events["JourneyClosed"]["refund"]
        for account, amount in got.items():
            self.event_credits[j.jid][account] += amount
            self.credited[account] += amount
        return dict(got)

    def _expected_settlement(self, j: JourneyModel, customer: str) -> dict[str, int]:
        """Each step's owner gets its share less its penalty if it breached the step's SLA (a
        late completion, or a breach of the step recorded against it), all of it when a
        dispute was upheld; forfeits go where the playbook says; the rest goes to the funder."""
        pb, pool = j.pb, j.pool
        out: dict[str, int] = defaultdict(int)
        paid = forfeited = 0
        for i in range(j.step + 1):
            gross = pool * pb.shares[i] // BPS
            owner = j.history[i][0] if i < j.step else customer
            breached = i < j.step and (j.history[i][1] or owner in j.breached_by[i])
            if j.upheld & (1 << i):
                penalty = gross
            elif breached:
                # from the pool directly: floor(pool * share * penalty / BPS^2)
                penalty = pool * pb.shares[i] * pb.penalties[i] // (BPS * BPS)
            else:
                penalty = 0
            paid += gross
            forfeited += penalty
            if gross > penalty:
                out[owner] += gross - penalty
        if forfeited:
            out[customer if pb.penalty_to_customer else j.funder] += forfeited
        if pool - paid:
            out[j.funder] += pool - paid
        return {a: v for a, v in out.items() if v}

    def _settled(self, j: JourneyModel, tx, customer: str, confirmed_by: str):
        expected = self._expected_settlement(j, customer)
        assert tx.events["ValueConfirmed"]["by"] == confirmed_by
        assert tx.events["ValueConfirmed"]["customer"] == customer
        got = self._apply_credit_events(j, tx)
        assert got == expected, f"settlement credited {got}, the rules give {expected}"
        for account, amount in expected.items():
            self._credit(account, amount)
        self.delivered_pools += j.pool
        j.settled_pool, j.pool = j.pool, 0
        j.status, j.step, j.deadline = DELIVERED, j.step + 1, 0

    def _closed(self, j: JourneyModel, tx, status: int):
        assert tx.events["JourneyClosed"]["status"] == status
        assert tx.events["JourneyClosed"]["refund"] == j.pool
        got = self._apply_credit_events(j, tx)
        assert got == ({j.funder: j.pool} if j.pool else {})
        self._credit(j.funder, j.pool)
        self.refunds += j.pool
        j.settled_pool, j.pool, j.status = j.pool, 0, status

    def _sign(self, j: JourneyModel, forge: int, primary: str, message: dict, now: int):
        """The customer's signature; forge 8: another customer signs; 9: a stale nonce."""
        signer = self.w.customers[(self.w.customers.index(j.customer) + 1) % 3] if forge == 8 else j.customer
        nonce = j.nonce + 1 if forge == 9 else j.nonce
        message = {"journeyId": j.jid, "playbookId": j.pb.id, **message}
        sig = self.w.kit.sign(signer, primary, message, deadline=now + DAY, nonce=nonce)
        if forge == 9:
            return sig, refusal("StaleNonce", j.jid, nonce, j.nonce)
        if forge == 8:
            return sig, refusal("NotCustomer", j.jid, signer.address)
        return sig, None

    # --- rules -----------------------------------------------------------------------
    @precondition(lambda self: len(self._live()) < MAX_JOURNEYS)
    @rule(
        make_good=st.booleans(),
        who=st.integers(0, 7),
        assign=st.booleans(),
        actor=st.integers(0, 15),
        reuse=st.integers(0, 15),
    )
    @counted("open")
    def open_journey(self, make_good, who, assign, actor, reuse):
        """Marketing opens a journey; now and then a sales rep tries, or a reference is reused."""
        pb = self.w.playbooks[self.w.variant_id if make_good else 1]
        # the third customer (one time in eight) never has a verified identity
        customer = self.w.customers[2 if who == 7 else who % 2]
        opener = self.w.team.marketing if actor else self.w.team.sales
        if reuse == 0 and self.journeys:
            jid = self.journeys[-1].jid
        else:
            self.opened += 1
            jid = journey_id(f"FUZZ-{self.opened}")
        assignee = self.w.team.marketing if assign else ZERO
        expected = None
        if not self._has(opener, MARKETING):
            expected = refusal("MissingRole", str(opener), MARKETING)
        elif any(j.jid == jid for j in self.journeys):
            expected = refusal("JourneyExists", jid)
        tx = self._send(
            expected, self.w.engine.openJourney, jid, pb.id, customer.commitment, assignee, {"from": opener}
        )
        if tx is None:
            return
        self.journeys.append(
            JourneyModel(
                jid=jid,
                pb=pb,
                customer=customer,
                head=genesis_head(jid, pb.id, customer.commitment),
                deadline=tx.timestamp + pb.slas[0] if pb.slas[0] else 0,
                assignee=str(assignee),
            )
        )

    @precondition(lambda self: any(j.pool == 0 for j in self._live()))
    @rule(
        pick=st.integers(0, 63),
        second=st.integers(0, 7),
        amount=st.sampled_from(AMOUNTS),
        actor=st.integers(0, 15),
    )
    @counted("fund")
    def fund(self, pick, second, amount, actor):
        """A funder funds a journey's pool (now and then tops one up, or tries another's)."""
        j = self._pick(pick, [j for j in self._live() if j.pool == 0])
        funder = self.w.funders[1 if second == 0 else 0] if actor else self.w.team.outsider
        if j.status not in LIVE:
            expected = refusal("JourneyNotOpen", j.jid, j.status)
        elif not self._has(funder, FUNDER):
            expected = refusal("MissingRole", str(funder), FUNDER)
        elif j.funder != ZERO and j.funder != str(funder):
            expected = refusal("FundedByAnother", j.jid, j.funder)
        else:
            expected = None
        tx = self._send(expected, self.w.engine.fund, j.jid, amount, {"from": funder})
        if tx is None:
            return
        ev = tx.events["PoolFunded"]
        assert (ev["amount"], ev["pool"]) == (amount, j.pool + amount)
        j.pool += amount
        j.funder = str(funder)
        self.funded += amount

    @precondition(lambda self: self._completable())
    @rule(pick=st.integers(0, 63), actor=st.integers(0, 31), omit=st.integers(0, 15), nxt=st.integers(0, 15))
    @counted("complete")
    def complete_step(self, pick, actor, omit, nxt):
        """The current step, mostly by its right owner, at whatever time it is."""
        self._complete(pick, actor, omit, nxt, late_by=0)

    @precondition(lambda self: self._completable())
    @rule(
        pick=st.integers(0, 63),
        actor=st.integers(0, 31),
        omit=st.integers(0, 15),
        nxt=st.integers(0, 15),
        late_by=st.sampled_from([1, HOUR, 2 * DAY]),
    )
    @counted("complete")
    def complete_step_late(self, pick, actor, omit, nxt, late_by):
        """The current step after time has moved `late_by` past its deadline."""
        self._complete(pick, actor, omit, nxt, late_by)

    def _complete(self, pick, actor, omit, nxt, late_by):
        completable = self._completable()
        ready = [j for j in completable if self._unblocked(j)]
        # mostly the journey furthest along, so that journeys reach the customer's step
        ready.sort(key=lambda j: -j.step)
        j = ready[0] if ready and pick % 8 < 5 else self._pick(pick, ready or completable)
        pb, step = j.pb, min(j.step, j.pb.last)
        role = pb.roles[step]
        right = [a for a in self.w.holders[role] if j.assignee in (ZERO, str(a))]
        wrong = [
            self.w.team.outsider,
            self.w.team.funder,
            *[a for a in self.w.holders[role] if a not in right],
        ]
        sender = right[actor % len(right)] if right and actor < 30 else wrong[actor % len(wrong)]
        # the next step's owner: mostly anyone of its role, sometimes a holder, sometimes a stranger
        next_role = pb.roles[step + 1] if step < pb.last else CUSTOMER_ROLE
        next_holders = self.w.holders[next_role]
        if nxt == 15:
            assignee = self.w.team.outsider
        elif nxt >= 8 and next_holders:
            assignee = next_holders[nxt % len(next_holders)]
        else:
            assignee = ZERO
        values = {k: f"{k} value" for k in pb.fields[step]}
        omitted = None
        if values and omit == 0:
            omitted = list(values)[pick % len(values)]
            del values[omitted]
        fields = self.w.kit.fields(values)
        if late_by and j.deadline and j.status == OPEN:
            now = self._now()
            if now <= j.deadline:
                chain.sleep(j.deadline - now + late_by)
                chain.mine()
        now = self._clear_of(j.deadline)
        if j.status != OPEN:
            expected = refusal("JourneyNotOpen", j.jid, j.status)
        elif role == CUSTOMER_ROLE:
            expected = refusal("CustomerStep", j.jid, step)
        elif not self._has(sender, role):
            expected = refusal("MissingRole", str(sender), role)
        elif j.assignee != ZERO and j.assignee != str(sender):
            expected = refusal("NotAssignee", j.jid, step, str(sender), j.assignee)
        elif omitted is not None:
            expected = refusal("MissingField", j.jid, step, short_name(omitted))
        elif pb.attestations[step] and j.customer.address not in self.w.attested:
            expected = refusal("AttestationNotValid", j.jid, step, short_name(pb.attestations[step][0]), 0)
        elif step == pb.commit_step and pb.fund_gate and j.pool == 0:
            expected = refusal("PoolNotFunded", j.jid, step)
        elif assignee != ZERO and not self._has(assignee, next_role):
            expected = refusal("MissingRole", str(assignee), next_role)
        else:
            expected = None
        tx = self._send(expected, self.w.engine.completeStep, j.jid, fields, assignee, {"from": sender})
        if tx is None:
            return
        is_late = bool(j.deadline) and tx.timestamp > j.deadline
        assert is_late == (bool(j.deadline) and now >= j.deadline), "the model's time guard failed"
        ev = tx.events["StepCompleted"]
        evidence = evidence_hash(fields)
        assert (ev["step"], ev["by"], ev["late"]) == (step, sender, is_late)
        assert field_pairs(ev["fields"]) == fields
        if is_late:
            STATS["outcomes"]["complete: late"] += 1
            if not j.flagged or j.assignee == ZERO:  # a flag on an unassigned step named no one
                j.breaches |= 1 << step
                j.breached_by[step].add(str(sender))
                self.breach_counts[str(sender)] += 1
                assert tx.events["BreachRecorded"]["assignee"] == sender
            else:
                assert "BreachRecorded" not in tx.events
        j.history.append((str(sender), is_late, evidence))
        j.head = next_head(j.head, step, str(sender), is_late, evidence)
        j.step += 1
        j.deadline = tx.timestamp + pb.slas[j.step] if pb.slas[j.step] else 0
        j.flagged = False
        j.assignee = str(assignee)
        assert ev["nextDeadline"] == j.deadline

    @precondition(lambda self: self._live())
    @rule(seconds=st.sampled_from(JUMPS))
    @counted("time")
    def time_passes(self, seconds):
        """Time moves on (the chain's clock: SLAs lapse, windows open)."""
        chain.sleep(seconds)
        chain.mine()
        STATS["outcomes"]["time: ok"] += 1

    @precondition(lambda self: self._flaggable())
    @rule(pick=st.integers(0, 63), wait=st.booleans())
    @counted("flag")
    def flag_breach(self, pick, wait):
        """Anyone (the SLA keeper) flags a passed deadline; `wait`: after letting it pass."""
        j = self._pick(pick, self._flaggable())
        if wait and j.status == OPEN and j.step < j.pb.last:
            self._wait_past(j.deadline)
        now = self._clear_of(j.deadline)
        step = j.step
        if j.status != OPEN:
            expected = refusal("JourneyNotOpen", j.jid, j.status)
        elif j.pb.roles[step] == CUSTOMER_ROLE:
            expected = refusal("CustomerStep", j.jid, step)
        elif j.deadline == 0 or now < j.deadline:
            expected = refusal("DeadlineNotPassed", j.jid, step, j.deadline)
        elif j.flagged:
            expected = refusal("AlreadyBreached", j.jid, step)
        else:
            expected = None
        tx = self._send(expected, self.w.engine.flagBreach, j.jid, {"from": self.w.team.outsider})
        if tx is None:
            return
        ev = tx.events["BreachRecorded"]
        assert (ev["step"], str(ev["assignee"]), ev["deadline"]) == (step, j.assignee, j.deadline)
        j.flagged = True
        j.breaches |= 1 << step
        if j.assignee != ZERO:
            j.breached_by[step].add(j.assignee)
            self.breach_counts[j.assignee] += 1

    @precondition(lambda self: self._flagged())
    @rule(pick=st.integers(0, 63), caller=st.integers(0, 15), to=st.integers(0, 15))
    @counted("escalate")
    def escalate(self, pick, caller, to):
        """The previous step's owner (or ADMIN) reassigns a flagged step, with a new deadline."""
        j = self._pick(pick, self._flagged())
        step = min(j.step, j.pb.last)
        role = j.pb.roles[step]
        escalation_role = ADMIN if step == 0 else j.pb.roles[step - 1]
        callers = [*self.w.holders.get(escalation_role, []), self.w.team.admin]
        sender = callers[caller % len(callers)] if caller < 14 else self.w.team.outsider
        # often back to someone who already breached this step, the way a breacher would try
        # to renew its own deadline
        targets = self.w.holders[role]
        again = [a for a in targets if str(a) in j.breached_by[step] and str(a) != j.assignee]
        if again and to < 6:
            target = again[to % len(again)]
        elif j.assignee != ZERO and to == 6:
            target = j.assignee  # the breaching assignee itself: refused
        else:
            target = targets[to % len(targets)] if targets and to < 14 else self.w.team.outsider
        if j.status != OPEN:
            expected = refusal("JourneyNotOpen", j.jid, j.status)
        elif not j.flagged:
            expected = refusal("NotBreached", j.jid, step)
        elif (escalation_role == ADMIN or not self._has(sender, escalation_role)) and not self._has(
            sender, ADMIN
        ):
            expected = refusal("MissingRole", str(sender), ADMIN)
        elif not self._has(target, role):
            expected = refusal("MissingRole", str(target), role)
        elif str(target) == j.assignee:
            expected = refusal("SameAssignee", j.jid, step, str(target))
        else:
            expected = None
        tx = self._send(expected, self.w.engine.escalate, j.jid, target, {"from": sender})
        if tx is None:
            return
        ev = tx.events["Escalated"]
        assert (ev["step"], str(ev["from"]), ev["to"]) == (step, j.assignee, target)
        if str(target) in j.breached_by[step]:
            STATS["outcomes"]["escalate: back to a breacher"] += 1
        j.assignee = str(target)
        j.deadline = tx.timestamp + j.pb.slas[step] if j.pb.slas[step] else 0
        j.flagged = False
        assert ev["deadline"] == j.deadline

    @precondition(lambda self: self._disputable())
    @rule(pick=st.integers(0, 63), which=st.integers(0, 15), forge=st.integers(0, 9))
    @counted("dispute")
    def customer_disputes(self, pick, which, forge):
        """The customer disputes a completed step by signature; the journey is held."""
        j = self._pick(pick, self._disputable())
        step = which % (j.step + 1)
        reason = keccak(text=f"reason {which}")
        now = self._now()
        sig, expected = self._sign(j, forge, "Dispute", {"step": step, "reason": reason}, now)
        if expected is None:
            if j.status != OPEN:
                expected = refusal("JourneyNotOpen", j.jid, j.status)
            elif step >= j.step:
                expected = refusal("StepNotReached", j.jid, step)
            elif j.disputed & (1 << step):
                expected = refusal("AlreadyDisputed", j.jid, step)
        tx = self._send(
            expected, self.w.voice.dispute, j.jid, step, reason, sig, {"from": self.w.team.outsider}
        )
        if tx is None:
            return
        assert tx.events["Disputed"]["step"] == step
        j.disputed |= 1 << step
        j.dispute_step, j.since, j.status = step, tx.timestamp, DISPUTED
        j.nonce += 1

    @precondition(lambda self: self._disputed())
    @rule(pick=st.integers(0, 63), upheld=st.booleans(), caller=st.integers(0, 15))
    @counted("resolve")
    def arbiter_resolves(self, pick, upheld, caller):
        """The ARBITER upholds or rejects the open dispute; the deadline moves by the hold."""
        j = self._pick(pick, self._disputed())
        sender = self.w.team.arbiter if caller else self.w.team.sales
        if not self._has(sender, ARBITER):
            expected = refusal("MissingRole", str(sender), ARBITER)
        elif j.status != DISPUTED:
            expected = refusal("NoOpenDispute", j.jid)
        else:
            expected = None
        tx = self._send(expected, self.w.engine.resolveDispute, j.jid, upheld, {"from": sender})
        if tx is None:
            return
        ev = tx.events["DisputeResolved"]
        assert (ev["step"], ev["upheld"]) == (j.dispute_step, upheld)
        if upheld:
            j.upheld |= 1 << j.dispute_step
        if j.deadline:
            j.deadline += tx.timestamp - j.since
        j.since, j.status = 0, OPEN

    @precondition(lambda self: self._at_customer())
    @rule(pick=st.integers(0, 63), forge=st.integers(0, 9))
    @counted("confirm")
    def customer_confirms(self, pick, forge):
        """The customer confirms value by signature, relayed with the history the Kit rebuilds."""
        j = self._pick(pick, self._at_customer())
        now = self._clear_of(j.deadline if j.status == OPEN else 0)
        sig, expected = self._sign(j, forge, "ConfirmValue", {}, now)
        if expected is None:
            if j.status != OPEN:
                expected = refusal("JourneyNotOpen", j.jid, j.status)
            elif j.pb.roles[j.step] != CUSTOMER_ROLE:
                expected = refusal("StepNotReached", j.jid, j.step)
            elif j.deadline and now >= j.deadline:
                expected = refusal("DeadlinePassed", j.jid, j.step, j.deadline)
        history = self.w.kit.history(j.jid)
        assert [(str(b), late, bytes(e)) for b, late, e in history] == j.history
        tx = self._send(
            expected, self.w.engine.confirmValue, j.jid, j.history, sig, {"from": self.w.team.outsider}
        )
        if tx is not None:
            self._settled(j, tx, j.customer.address, j.customer.address)

    @precondition(lambda self: self._at_customer())
    @rule(pick=st.integers(0, 63), forge=st.integers(0, 9), wait=st.booleans())
    @counted("release")
    def optimistic_release(self, pick, forge, wait):
        """Anyone releases the payouts of a silent customer; `wait`: once the window has passed."""
        at_customer = self._at_customer()
        j = self._pick(pick, [j for j in at_customer if j.pb.confirm_window] or at_customer)
        pb = j.pb
        release_at = 0
        if j.status == OPEN and j.deadline and pb.confirm_window and j.step == pb.last:
            release_at = j.deadline - pb.slas[j.step] + pb.confirm_window
        if wait:
            self._wait_past(release_at)
        self._clear_of(release_at)
        now = self._clear_of(j.deadline if j.status == OPEN else 0)
        customer = (
            self.w.customers[(self.w.customers.index(j.customer) + 1) % 3] if forge == 8 else j.customer
        )
        if release_at == 0 or now < release_at:
            expected = refusal("WindowNotElapsed", j.jid, release_at)
        elif customer is not j.customer:
            expected = refusal("NotCustomer", j.jid, customer.address)
        elif j.deadline and now >= j.deadline:
            expected = refusal("DeadlinePassed", j.jid, j.step, j.deadline)
        else:
            expected = None
        tx = self._send(
            expected,
            self.w.engine.release,
            j.jid,
            j.history,
            customer.address,
            customer.profile,
            {"from": self.w.team.outsider},
        )
        if tx is not None:
            self._settled(j, tx, j.customer.address, ZERO)

    @precondition(lambda self: self._expirable())
    @rule(pick=st.integers(0, 63), wait=st.booleans())
    @counted("expire")
    def expire(self, pick, wait):
        """Anyone expires an unconfirmed journey; `wait`: once the customer's deadline has passed.
        A pending dispute holds the journey (its deadline moves by the time the dispute lasts),
        so a disputed journey does not expire."""
        j = self._pick(pick, self._expirable())
        if wait and j.status in LIVE and j.step == j.pb.last:
            self._wait_past(j.deadline)
        now = self._clear_of(j.deadline)
        if j.status != OPEN:
            expected = refusal("JourneyNotOpen", j.jid, j.status)
        elif j.pb.roles[j.step] != CUSTOMER_ROLE:
            expected = refusal("StepNotReached", j.jid, j.step)
        elif j.deadline == 0 or now < j.deadline:
            expected = refusal("DeadlineNotPassed", j.jid, j.step, j.deadline)
        else:
            expected = None
        tx = self._send(expected, self.w.engine.expire, j.jid, {"from": self.w.team.outsider})
        if tx is not None:
            self._closed(j, tx, EXPIRED)

    @precondition(lambda self: self._stuck() and len(self._live()) == MAX_JOURNEYS)
    @rule(pick=st.integers(0, 63), caller=st.integers(0, 15))
    @counted("cancel")
    def cancel(self, pick, caller):
        """ADMIN cancels an uncommitted journey that is stuck, when every journey slot is taken."""
        j = self._pick(pick, self._stuck())
        sender = self.w.team.admin if caller else self.w.team.marketing
        if not self._has(sender, ADMIN):
            expected = refusal("MissingRole", str(sender), ADMIN)
        elif j.status not in LIVE:
            expected = refusal("JourneyNotOpen", j.jid, j.status)
        elif j.step > j.pb.commit_step:
            expected = refusal("NotCancellable", j.jid, j.step)
        else:
            expected = None
        tx = self._send(expected, self.w.engine.cancel, j.jid, {"from": sender})
        if tx is not None:
            self._closed(j, tx, CANCELLED)

    @precondition(lambda self: any(self.credits.values()))
    @rule(who=st.integers(0, 63))
    @counted("claim")
    def claim(self, who):
        """A random participant claims; mostly one with credit."""
        owed = [a for a in self.w.claimants if self.credits[str(a)]]
        pool = owed if owed and who % 4 else self.w.claimants
        account = pool[who % len(pool)]
        amount = self.credits[str(account)]
        expected = None if amount else refusal("NothingToClaim", str(account))
        before = self.w.token.balanceOf(account)
        tx = self._send(expected, self.w.engine.claim, {"from": account})
        if tx is None:
            return
        assert tx.events["Claimed"]["amount"] == amount
        assert self.w.token.balanceOf(account) - before == amount
        self.credits[str(account)] = 0
        self.claimed[str(account)] += amount
        self.claimed_total += amount

    # --- invariants ------------------------------------------------------------------
    @invariant()
    def books_balance_and_breaches_stay(self):
        if not self.active and STATS["steps"] >= STATS["target"] and not STATS["failed"]:
            return
        w = self.w
        engine, token, voice = w.engine.address, w.token.address, w.voice.address
        calls = [(token, selector("balanceOf(address)") + encode(["address"], [engine]), ["uint256"])]
        for a in w.claimants:
            calls.append((engine, selector("creditOf(address)") + encode(["address"], [str(a)]), ["uint256"]))
        owners = [a for role in (MARKETING, SALES, SUCCESS, VENDOR) for a in w.holders[role]]
        for a in owners:
            calls.append(
                (engine, selector("breachCount(address)") + encode(["address"], [str(a)]), ["uint32"])
            )
        journey_types = [
            "uint16",
            "uint8",
            "uint8",
            "address",
            "uint40",
            "uint16",
            "bool",
            "uint96",
            "address",
        ]
        for j in self.journeys:
            arg = encode(["bytes32"], [j.jid])
            calls.append((engine, selector("journey(bytes32)") + arg, journey_types))
            calls.append((engine, selector("journeyCommitments(bytes32)") + arg, ["bytes16", "bytes20"]))
            calls.append(
                (engine, selector("disputeOf(bytes32)") + arg, ["uint16", "uint16", "uint8", "uint40"])
            )
            calls.append((voice, selector("nonceOf(bytes32)") + arg, ["uint32"]))
        values = iter(w.reader.read(calls))

        (balance,) = next(values)
        credits = {str(a): next(values)[0] for a in w.claimants}
        counts = {str(a): next(values)[0] for a in owners}
        states = [(next(values), next(values), next(values), next(values)) for _ in self.journeys]

        # The engine holds exactly what was funded and not claimed yet.
        assert balance == self.funded - self.claimed_total
        # Every unit is accounted for: outstanding credits plus the pools still escrowed.
        open_pools = sum(s[0][7] for s, j in zip(states, self.journeys, strict=True) if s[0][2] in LIVE)
        assert sum(credits.values()) + open_pools == balance
        assert credits == {a: self.credits[a] for a in credits}
        # Credits given never exceed (here: equal) delivered pools plus refunds of closed journeys.
        total_credited = sum(self.credited.values())
        assert total_credited <= self.delivered_pools + self.refunds
        assert total_credited == self.delivered_pools + self.refunds
        assert self.delivered_pools + self.refunds + open_pools == self.funded
        # Nothing is claimed twice.
        for a in credits:
            assert self.claimed[a] == self.credited[a] - credits[a]
        # Breach counts never decrease and are what the rules recorded.
        for a, count in counts.items():
            assert count >= self.seen_counts.get(a, 0), f"breach count of {a} went down"
            assert count == self.breach_counts[a]
        self.seen_counts = counts

        for j, (state, commitments, disputes, (nonce,)) in zip(self.journeys, states, strict=True):
            playbook_id, step, status, assignee, deadline, breaches, flagged, pool, funder = state
            previous = self.seen_breaches.get(j.jid, 0)
            assert breaches & previous == previous, "a recorded breach disappeared"
            self.seen_breaches[j.jid] = breaches
            assert (playbook_id, step, status, breaches, flagged, pool) == (
                j.pb.id,
                j.step,
                j.status,
                j.breaches,
                j.flagged,
                j.pool,
            )
            assert (to_checksum_address(assignee), to_checksum_address(funder), deadline) == (
                j.assignee,
                j.funder,
                j.deadline,
            )
            assert commitments == (j.customer.commitment, j.head)
            assert disputes == (j.disputed, j.upheld, j.dispute_step, j.since)
            assert nonce == j.nonce
            # A journey that did not deliver value credited nobody but its funder, with the refund.
            given = {a: v for a, v in self.event_credits[j.jid].items() if v}
            if status in LIVE:
                assert given == {} and pool == j.pool
            elif status in (EXPIRED, CANCELLED):
                assert pool == 0 and given == ({j.funder: j.settled_pool} if j.settled_pool else {})
            else:
                assert pool == 0 and sum(given.values()) == j.settled_pool


# --- the test ----------------------------------------------------------------------------


def test_escrow_and_deadline_invariants_hold_over_random_journeys(world, capsys):
    total = int(os.environ.get("JOURNEY_FUZZ_STEPS", "1000"))
    per_example = 100
    # The short profile (`make test`) is the same run every time; the deep one is new each time.
    deep = "JOURNEY_FUZZ_STEPS" in os.environ
    STATS.update(steps=0, target=total, examples=0, transactions=0, failed=False, outcomes=Counter())
    chain.snapshot()
    started = time.monotonic()
    runs = 0
    try:
        while STATS["steps"] < total:
            # hypothesis draws examples of every length up to `per_example` (a third of them
            # full length): three times the examples that the target needs overshoot it, and
            # the rules stop counting (and sending) once the target is reached.
            examples = 3 * math.ceil((total - STATS["steps"]) / per_example)
            run_state_machine_as_test(
                lambda: JourneyMachine(world),
                settings=settings(
                    max_examples=examples,
                    stateful_step_count=per_example,
                    deadline=None,
                    database=None,
                    derandomize=not deep and runs == 0,
                    phases=[Phase.generate, Phase.shrink],
                    suppress_health_check=list(HealthCheck),
                    report_multiple_bugs=False,
                ),
            )
            runs += 1
    finally:
        summary = {
            "steps": STATS["steps"],
            "examples": STATS["examples"],
            "steps_per_example": per_example,
            "profile": "deep" if deep else "short (derandomized)",
            "failed": STATS["failed"],
            "transactions": STATS["transactions"],
            "duration_s": round(time.monotonic() - started, 1),
            "outcomes": dict(sorted(STATS["outcomes"].items())),
        }
        REPORT.parent.mkdir(exist_ok=True)
        REPORT.write_text(json.dumps(summary, indent=2) + "\n")
        with capsys.disabled():
            print(
                f"\ninvariant fuzz: {summary['steps']} steps in {summary['examples']} examples, "
                f"{summary['transactions']} transactions, {summary['duration_s']} s"
                f"{' (failed)' if STATS['failed'] else ''} (reports/fuzz.json)"
            )
    assert STATS["steps"] >= total
    # The run reached the outcomes the invariants are about: value delivered, journeys
    # closed with a refund, claims, late completions, flagged breaches, resolved disputes.
    reached = STATS["outcomes"]
    for outcomes in (
        ("confirm: ok", "release: ok"),
        ("expire: ok", "cancel: ok"),
        ("claim: ok",),
        ("complete: late",),
        ("flag: ok",),
        ("resolve: ok",),
    ):
        assert any(reached[o] for o in outcomes), f"none of {outcomes} in {STATS['steps']} steps"


# A sequence of the machine's own rules along the one path by which a breaching assignee
# could renew its own deadline and escape its penalty: the lead-acceptance step is flagged
# against sales, escalated to sales2, flagged against sales2, escalated back to sales, who
# completes it within the renewed deadline; the customer confirms value. The payout rule
# (a breach flagged against a step's owner costs its penalty) must hold all the same.
ESCALATED_BACK = [
    ("open_journey", {"make_good": False, "who": 0, "assign": False, "actor": 1, "reuse": 1}),
    ("complete_step", {"pick": 1, "actor": 0, "omit": 1, "nxt": 8}),  # marketing; assigns sales
    ("flag_breach", {"pick": 1, "wait": True}),  # 24 h pass: breach recorded against sales
    ("escalate", {"pick": 1, "caller": 0, "to": 1}),  # marketing escalates to sales2
    ("flag_breach", {"pick": 1, "wait": True}),  # breach recorded against sales2
    ("escalate", {"pick": 1, "caller": 0, "to": 0}),  # and back to sales: a new 24 h
    ("complete_step", {"pick": 1, "actor": 0, "omit": 1, "nxt": 0}),  # sales, on time
    ("fund", {"pick": 1, "second": 1, "amount": POOL, "actor": 1}),
    ("complete_step", {"pick": 1, "actor": 0, "omit": 1, "nxt": 0}),  # deal booked
    ("complete_step", {"pick": 1, "actor": 0, "omit": 1, "nxt": 0}),  # onboarding
    ("complete_step", {"pick": 1, "actor": 0, "omit": 1, "nxt": 0}),  # device delivered
    ("customer_confirms", {"pick": 1, "forge": 0}),
]


def test_step_escalated_back_to_its_breacher_still_costs_the_penalty(world):
    STATS.update(steps=0, target=len(ESCALATED_BACK), failed=False)
    chain.snapshot()
    machine = JourneyMachine(world)
    try:
        machine.books_balance_and_breaches_stay()
        for name, arguments in ESCALATED_BACK:
            getattr(machine, name)(**arguments)
            machine.books_balance_and_breaches_stay()
    finally:
        machine.teardown()
    assert STATS["outcomes"]["escalate: back to a breacher"] and STATS["outcomes"]["confirm: ok"]
