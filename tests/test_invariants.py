"""Escrow and deadline invariants, checked by a stateful property-based run over random journeys.

A hypothesis state machine opens journeys on the default playbook and on a make-good
variant (penalties to the customer, a 14-day confirmation window, a 3-day dispute window
that refunds the funder when it passes), each naming its funder, and runs them across
the organisations of the cast (Marketing, Sales, Customer Success, the device supplier,
Finance, the arbitration firm) and a rival vendor firm (a shipping company whose
participant holds VENDOR too). It funds pools, completes steps on time and late while
binding the next step's owner (an organisation, or one of its participants), moves time,
flags breaches, escalates, disputes by the customer's signature and resolves or closes
the dispute through the customer voice, confirms value, releases optimistically, expires,
cancels and claims. Hostile actions run among them: the rival vendor completing the
supplier's step, a rival rep or an outsider escalating, self-escalation, ADMIN trying to
own, complete or be assigned a step, another funder funding a journey it was not named
for, steps bound to no owner or to someone outside the named organisation, arbiters who
completed a step or funded the journey, confirmations signed over an older rolling hash,
and a customer key that is a participant. A Python model predicts every action first: the
action either succeeds the way the model says, or is refused with exactly the error (name
and arguments, role ids as bytes) the model names. After every step the chain is compared
with the model and the escrow's books are balanced:

- the engine's token balance == everything funded - everything claimed (refunds and
  payouts are credits: they leave the engine only when claimed);
- every outstanding credit + the pools of journeys still open or disputed == that balance;
- credits ever given == the pools of journeys that delivered value + the refunds of
  closed ones (so never more); pools of closed journeys are empty;
- a journey that did not deliver value credited nobody but its funder, and only the
  refund (per-journey credits are rebuilt from ValueConfirmed and JourneyClosed events);
- nothing is claimed twice: what an account claimed == what it was credited - its credit;
- a breach once recorded stays recorded: breach bits, the breach counts of participants
  and of organisations never decrease, and each is what the model recorded against the
  step's owner (a flag, an escalation that flags, or a late completion not flagged before);
- value delivered pays each step's completer its share less the penalty if the step's
  breach bit is set (whoever completed it after an escalation), nothing if a dispute of
  the step was upheld; forfeits go where the playbook says, the rest to the funder
  (checked against ValueConfirmed's payouts and the credits);
- no participant is ever paid for a step its organisation was not bound to (the step's
  owner when it was completed: that participant, or that organisation);
- a breached step is never paid in full (its payout is short by the penalty, at least one
  unit whenever the pool is large enough for the penalty to round to one);
- each journey's step, status, owner (participant and organisation), deadline, breaches,
  flag, pool, funder, rolling hash, disputes and the customer's nonce are what the model says.

JOURNEY_FUZZ_STEPS sets the number of state-machine steps (1,000 by default, `make test`;
`make fuzz` runs 10,000). The short run is the same every time (derandomized); a deep run
draws a new seed and prints it as it starts, and JOURNEY_FUZZ_SEED (`make fuzz FUZZ_SEED=N`)
runs with a given one: the same seed and steps replay the same examples. The seed, the steps
run, the examples and the duration are printed at the end and written to reports/fuzz.json.
"""

from __future__ import annotations

import functools
import json
import math
import os
import secrets
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
import requests
from brownie import accounts, chain, web3
from brownie.exceptions import VirtualMachineError
from conftest import DAY, HOUR, ORGS, POOL, ROLE_ORG, ZERO, Customer, enrol, publisher_of, reverts_with
from eth_abi import decode, encode
from eth_account import Account
from eth_utils import keccak, to_checksum_address
from hypothesis import HealthCheck, Phase, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from journeychain.encoding import (
    customer_subject,
    evidence_hash,
    field_pairs,
    genesis_head,
    journey_id,
    next_head,
    short_name,
)
from journeychain.playbook import role_id

# Role ids (keccak256 of the name; ADMIN is 32 zero bytes) and Status as JourneyTypes.sol numbers it.
MARKETING, SALES, SUCCESS, VENDOR = (role_id(r) for r in ("MARKETING", "SALES", "SUCCESS", "VENDOR"))
FUNDER, ARBITER, ADMIN = role_id("FUNDER"), role_id("ARBITER"), role_id("ADMIN")
CUSTOMER_ROLE = keccak(text="CUSTOMER")
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
NO_ORG = 99  # an organisation that does not exist
VALID_STATE = 1  # AttestationState.Valid

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
    """The revert message brownie shows for custom error `name` with `args` (addresses in
    lower case, bytes as Python bytes, numbers in decimal)."""
    shown = [a.lower() if isinstance(a, str) and a.startswith("0x") else a for a in args]
    return f"{name}: " + ", ".join(repr(bytes(a)) if isinstance(a, bytes) else str(a) for a in shown)


# --- the world every example starts from -------------------------------------------------


@dataclass
class PlaybookModel:
    id: int
    roles: list[bytes]
    slas: list[int]
    shares: list[int]
    penalties: list[int]
    fields: list[list[str]]
    attestations: list[list[str]]
    commit_step: int
    fund_gate: bool
    penalty_to_customer: bool
    confirm_window: int
    dispute_window: int
    refund_on_timeout: bool

    @classmethod
    def of(cls, pid: int, pb) -> PlaybookModel:
        return cls(
            id=pid,
            roles=[role_id(s.role) for s in pb.steps],
            slas=[s.sla for s in pb.steps],
            shares=[s.share_bps for s in pb.steps],
            penalties=[s.penalty_bps for s in pb.steps],
            fields=[list(s.fields) for s in pb.steps],
            attestations=[list(s.attestations) for s in pb.steps],
            commit_step=pb.commit_step,
            fund_gate=pb.fund_before_commit,
            penalty_to_customer=pb.penalty_to == "customer",
            confirm_window=pb.confirm_window,
            dispute_window=pb.dispute_window,
            refund_on_timeout=pb.dispute_fallback == "refund",
        )

    @property
    def last(self) -> int:
        return len(self.roles) - 1

    def gated(self, step: int) -> bool:
        return self.fund_gate and step == self.commit_step


class Reader:
    """Reads many views in one JSON-RPC batch (the invariants read ~60 values a step)."""

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
    funder2: object  # a second funder (Finance), who also holds ARBITER
    shipper: object  # the rival vendor firm's participant (VENDOR)
    shipping_org: int
    customers: list  # Customer objects (signing keys): 0, 1 attested, 2 never, 3 a participant
    customer_accounts: list  # the same keys as brownie accounts, to claim
    attested: set
    playbooks: dict  # id -> PlaybookModel
    variant_id: int  # the make-good variant's id
    holders: dict  # role id -> the participants (never ADMIN) holding it
    claimants: list
    reader: Reader
    organisations: list  # every organisation's number
    holds: dict = field(default_factory=dict)  # address -> set of role ids (ADMIN's too)
    org_of: dict = field(default_factory=dict)  # address -> organisation (0: none)
    # hostile verifiers: a rival firm's, whose attestations expired, and one whose role ADMIN
    # revoked after it attested
    rival_verifier: object = None
    removed_verifier: object = None
    expired_by_rival: set = field(default_factory=set)
    attested_by_removed: set = field(default_factory=set)


@pytest.fixture(scope="module")
def world(suite, kit, team, token, voice, directory, default_playbook):
    engine = suite
    # The rival vendor firm: a shipping company whose participant holds VENDOR too.
    tx = directory.registerOrganisation(short_name("shipping_co"), 1, {"from": team.admin})
    shipping_org = tx.events["OrganisationRegistered"]["org"]
    shipper = accounts.add()
    team.admin.transfer(shipper, 10**19)
    enrol(directory, team.admin, shipper, shipping_org, "VENDOR")
    # A second funder, who may fund only the journeys naming it; it arbitrates too (and so
    # must not arbitrate the journeys it funds), as does the second sales rep (who must not
    # arbitrate a journey it completed a step of).
    funder2 = accounts.add()
    team.admin.transfer(funder2, 10**19)
    enrol(directory, team.admin, funder2, ORGS["finance"], "FUNDER", "ARBITER")
    directory.grantRole(role_id("ARBITER"), team.sales2, {"from": team.admin})
    token.mint(funder2, 1_000_000 * 10**18, {"from": team.admin})
    token.approve(engine, 2**256 - 1, {"from": funder2})
    # ADMIN joins Sales and holds two step roles, so that it passes the role check and meets
    # AdminMayNotOwnStep.
    directory.addMember(ORGS["sales"], team.admin, {"from": team.admin})
    for role in ("SALES", "VENDOR"):
        directory.grantRole(role_id(role), team.admin, {"from": team.admin})
    # The make-good variant: penalties go to the customer, optimistic release after 14 days,
    # and a dispute nobody resolves within 3 days refunds the funder.
    variant = replace(
        default_playbook,
        name="make_good",
        penalty_to="customer",
        confirm_window=14 * DAY,
        dispute_window=3 * DAY,
        dispute_fallback="refund",
    )
    publisher_of(engine).publishPlaybook(*variant.publish_args(), {"from": team.admin})
    variant_id = engine.playbookCount()
    # Four customers: the first two have a verified identity, the third never does, the
    # fourth (verified) signs with a key that is a participant's (of the shipping company).
    # Their keys are fixed, so that a seed replays the same world.
    customers = [Customer(key=Account.from_key(keccak(text=f"fuzz customer {i}"))) for i in range(4)]
    customer_accounts = []
    for c in customers:
        account = accounts.add(c.key.key.hex())
        team.admin.transfer(account, 10**19)
        customer_accounts.append(account)
    enrol(directory, team.admin, customer_accounts[3], shipping_org)
    # Identity attestations are per journey (about the customer of that journey): the team's
    # verifier attests the first, second and fourth customers' journeys as they open. Two
    # hostile verifiers: a rival firm's, which attests the first two customers' journeys with
    # an expiry of seconds (expired by their booking: it blocks nothing), and one whose role
    # ADMIN revoked before any journey opened (it attests nothing, and names nothing valid).
    tx = directory.registerOrganisation(short_name("rival_verifiers"), 1, {"from": team.admin})
    rival_verifier, removed_verifier = accounts.add(), accounts.add()
    for account in (rival_verifier, removed_verifier):
        team.admin.transfer(account, 10**18)
    enrol(directory, team.admin, rival_verifier, tx.events["OrganisationRegistered"]["org"], "VERIFIER")
    enrol(directory, team.admin, removed_verifier, ORGS["verifiers"], "VERIFIER")
    directory.revokeRole(role_id("VERIFIER"), removed_verifier, {"from": team.admin})
    holders = {
        MARKETING: [team.marketing],
        SALES: [team.sales, team.sales2],
        SUCCESS: [team.success],
        VENDOR: [team.vendor, shipper],
        FUNDER: [team.funder, funder2],
        ARBITER: [team.arbiter, team.sales2, funder2],
        CUSTOMER_ROLE: [],
    }
    holds = defaultdict(set)
    for role, people in holders.items():
        for p in people:
            holds[p.address].add(role)
    holds[team.admin.address] |= {ADMIN, SALES, VENDOR}
    org_of = defaultdict(int)
    for account, org in [
        (team.admin, ORGS["sales"]),
        (team.marketing, ORGS["marketing"]),
        (team.sales, ORGS["sales"]),
        (team.sales2, ORGS["sales"]),
        (team.success, ORGS["success"]),
        (team.vendor, ORGS["device_supplier"]),
        (team.verifier, ORGS["verifiers"]),
        (team.funder, ORGS["finance"]),
        (funder2, ORGS["finance"]),
        (team.arbiter, ORGS["arbiters"]),
        (shipper, shipping_org),
        (customer_accounts[3], shipping_org),
    ]:
        org_of[account.address] = org
    claimants = [
        team.admin,
        team.marketing,
        team.sales,
        team.sales2,
        team.success,
        team.vendor,
        shipper,
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
        funder2=funder2,
        shipper=shipper,
        shipping_org=shipping_org,
        customers=customers,
        customer_accounts=customer_accounts,
        attested={customers[i].address for i in (0, 1, 3)},
        playbooks={
            1: PlaybookModel.of(1, default_playbook),
            variant_id: PlaybookModel.of(variant_id, variant),
        },
        variant_id=variant_id,
        holders=holders,
        claimants=claimants,
        reader=Reader(),
        organisations=[*ORGS.values(), shipping_org],
        holds=holds,
        org_of=org_of,
        rival_verifier=rival_verifier,
        removed_verifier=removed_verifier,
        expired_by_rival={customers[0].address, customers[1].address},
        attested_by_removed=set(),
    )


# --- the model -------------------------------------------------------------------------


@dataclass
class JourneyModel:
    jid: bytes
    pb: PlaybookModel
    customer: Customer
    head: bytes
    deadline: int
    funder: str
    owner: str = ZERO  # the current step's owner: a participant ...
    owner_org: int = 0  # ... or an organisation (the other one zero; both zero: the customer's)
    step: int = 0
    status: int = OPEN
    flagged: bool = False
    breaches: int = 0
    pool: int = 0
    history: list = field(default_factory=list)
    heads: list = field(default_factory=list)  # the rolling hash before each completed step
    bound: list = field(default_factory=list)  # each completed step's owner then: (account, org)
    disputed: int = 0
    upheld: int = 0
    dispute_step: int = 0
    since: int = 0
    nonce: int = 0
    rival_expiry: int = 0  # when the rival verifier's attestation expires (0: it made none)
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
        self.funded = 0  # into pools (by funding, or drawn from a standing budget at opening)
        self.claimed_total = 0
        # standing budgets: (funder, playbook) -> [per journey, opener organisation, balance]
        self.budgets: dict[tuple[str, int], list[int]] = {}
        self.budget_total = 0
        self.budget_actions = 0  # kept no more frequent than openings, not to crowd out the journeys
        self.delivered_pools = 0
        self.refunds = 0
        self.breach_counts: dict[str, int] = defaultdict(int)
        self.org_breach_counts: dict[int, int] = defaultdict(int)
        self.seen_breaches: dict[bytes, int] = {}
        self.seen_counts: dict[str, int] = {}
        self.seen_org_counts: dict[int, int] = {}
        self.active = False

    def teardown(self):
        if self.active:
            STATS["examples"] += 1
            chain.revert()

    # --- helpers ---------------------------------------------------------------------
    def _now(self) -> int:
        return web3.eth.get_block("latest")["timestamp"]

    def _clear_of(self, *moments: int) -> int:
        """Now, after moving time past any of `moments` that the next block might land on
        either side of (also one that is now: the next block may share the latest block's
        second); repeated until none is that close."""
        while True:
            now = self._now()
            close = [m for m in moments if m and now <= m < now + SLACK]
            if not close:
                return now
            chain.sleep(min(close) - now + 1)
            chain.mine()

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

    def _right(self, j: JourneyModel) -> list:
        """Who may complete the journey's current step: its participant owner, or the holders
        of its role in the owning organisation."""
        role = j.pb.roles[min(j.step, j.pb.last)]
        if j.owner != ZERO:
            return [a for a in self.w.holders[role] if str(a) == j.owner]
        return [a for a in self.w.holders[role] if self.w.org_of[str(a)] == j.owner_org]

    def _unblocked(self, j: JourneyModel) -> bool:
        """Whether the journey's current step can be completed: funded and attested where
        required, and owned by someone who can complete it."""
        if j.pb.gated(j.step) and j.pool == 0:
            return False
        if j.pb.attestations[j.step] and j.customer.address not in self.w.attested:
            return False
        return bool(self._right(j))

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

    def _escalatable(self) -> list[JourneyModel]:
        return [j for j in self._completable() if j.deadline]

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
        """Uncommitted journeys held by a dispute, or waiting for funding, an attestation or an owner."""
        return [j for j in self._cancellable() if j.status == DISPUTED or not self._unblocked(j)]

    def _has(self, account, role: bytes) -> bool:
        return role in self.w.holds.get(str(account), set())

    def _is_admin(self, account) -> bool:
        return self._has(account, ADMIN)

    def _credit(self, account: str, amount: int):
        if amount:
            self.credits[account] += amount

    def _record_breach(self, j: JourneyModel, ev):
        """The breach of the current step, recorded against its owner (participant or organisation)."""
        assert (ev["step"], str(ev["assignee"]), ev["org"], ev["deadline"]) == (
            j.step,
            j.owner,
            j.owner_org,
            j.deadline,
        ), f"breach recorded as {dict(ev)}"
        j.breaches |= 1 << j.step
        if j.owner != ZERO:
            j.breached_by[j.step].add(j.owner)
            self.breach_counts[j.owner] += 1
        else:
            self.org_breach_counts[j.owner_org] += 1

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
        """Each step's completer gets its share less its penalty if the step's breach bit is set
        (a late completion, a flag or an escalation recorded it, whoever completed it then),
        nothing when a dispute of it was upheld; forfeits go where the playbook says; the rest
        goes to the funder."""
        pb, pool = j.pb, j.pool
        out: dict[str, int] = defaultdict(int)
        paid = forfeited = 0
        for i in range(j.step + 1):
            gross = pool * pb.shares[i] // BPS
            owner = j.history[i][0] if i < j.step else customer
            if j.upheld & (1 << i):
                penalty = gross
            elif j.breaches & (1 << i):
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
        ev = tx.events["ValueConfirmed"]
        assert ev["by"] == confirmed_by
        assert ev["customer"] == customer
        pb, pool = j.pb, j.pool
        for i, amount in enumerate(ev["amounts"][: j.step]):
            by, (account, org) = j.history[i][0], j.bound[i]
            gross = pool * pb.shares[i] // BPS
            # Nobody is paid for a step its organisation (or it) was not bound to.
            if amount:
                assert by == account or (account == ZERO and self.w.org_of[by] == org), (
                    f"step {i} paid {by} (org {self.w.org_of[by]}), bound to {account} / org {org}"
                )
            # A breached step is never paid in full.
            if j.breaches & (1 << i):
                penalty = pool * pb.shares[i] * pb.penalties[i] // (BPS * BPS)
                assert amount <= gross - penalty
                if penalty:
                    assert amount < gross, f"breached step {i} paid in full"
                    STATS["outcomes"]["settled: a breached step paid less the penalty"] += 1
        got = self._apply_credit_events(j, tx)
        assert got == expected, f"settlement credited {got}, the rules give {expected}"
        for account, amount in expected.items():
            self._credit(account, amount)
        self.delivered_pools += j.pool
        j.settled_pool, j.pool = j.pool, 0
        j.status, j.step, j.deadline = DELIVERED, j.step + 1, 0
        j.owner, j.owner_org = ZERO, 0

    def _closed(self, j: JourneyModel, tx, status: int):
        assert tx.events["JourneyClosed"]["status"] == status
        assert tx.events["JourneyClosed"]["refund"] == j.pool
        got = self._apply_credit_events(j, tx)
        assert got == ({j.funder: j.pool} if j.pool else {})
        self._credit(j.funder, j.pool)
        self.refunds += j.pool
        j.settled_pool, j.pool, j.status = j.pool, 0, status

    def _sign(self, j: JourneyModel, forge: int, primary: str, message: dict, now: int):
        """The customer's signature over the journey's current rolling hash; forge 7: over the
        hash before the last step (stale); 8: another customer signs; 9: a stale nonce; 10: the
        operator signs with its own key in the customer's name. A
        customer whose key is a participant's is refused after the other checks."""
        signer = self.w.customers[(self.w.customers.index(j.customer) + 1) % 4] if forge == 8 else j.customer
        nonce = j.nonce + 1 if forge == 9 else j.nonce
        head = j.heads[-1] if forge == 7 and j.heads else j.head
        message = {"journeyId": j.jid, "playbookId": j.pb.id, **message, "history": head}
        sig = self.w.kit.sign(signer, primary, message, deadline=now + DAY, nonce=nonce)
        if forge == 10:
            # the operator signs with its own key and names the customer's signer and profile
            operator = self.w.customers[2] if j.customer is not self.w.customers[2] else self.w.customers[0]
            forged = self.w.kit.sign(operator, primary, message, deadline=now + DAY, nonce=nonce)
            return (j.customer.address, j.customer.profile, *forged[2:]), refusal(
                "BadSignature", j.customer.address
            )
        if forge == 9:
            return sig, refusal("StaleNonce", j.jid, nonce, j.nonce)
        if forge == 8:
            return sig, refusal("NotCustomer", j.jid, signer.address)
        if head != j.head:
            return sig, refusal("StaleSignature", j.jid, head, j.head)
        if signer is self.w.customers[3]:
            return sig, refusal("ParticipantAsCustomer", j.jid, signer.address)
        return sig, None

    def _attesters(self, j: JourneyModel, step: int, omit: int) -> list:
        """The verifier named for each attestation the step requires: the team's verifier, or
        (omit 9) the rival whose attestation expired, (10) the verifier whose role was revoked,
        (11) none at all."""
        needs = j.pb.attestations[min(step, j.pb.last)]
        if not needs or omit == 11:
            return []
        chosen = {9: self.w.rival_verifier, 10: self.w.removed_verifier}.get(omit, self.w.team.verifier)
        return [chosen] * len(needs)

    def _attestation_state(self, j: JourneyModel, omit: int) -> int:
        """What the engine sees of the attestation `_attesters` names: valid (1), missing (0),
        expired (2) or unauthorised (4)."""
        address = j.customer.address
        if omit == 11:
            return 0
        if omit == 9:
            return 2 if j.rival_expiry else 0  # expired: _complete let it expire first
        if omit == 10:
            return 4 if address in self.w.attested_by_removed else 0
        return VALID_STATE if address in self.w.attested else 0

    def _proof(self, j: JourneyModel, sender) -> tuple[bytes, tuple]:
        """What proves who completed the previous step: the rolling hash before it and its record
        (zeros before the first step); a forged one names `sender` as its completer."""
        if not j.history:
            return b"\x00" * 20, (ZERO, False, b"\x00" * 32)
        _, late, evidence = j.history[-1]
        if sender is not None:
            return j.heads[-1], (str(sender), late, evidence)
        return j.heads[-1], j.history[-1]

    # --- rules -----------------------------------------------------------------------
    @precondition(lambda self: len(self._live()) < MAX_JOURNEYS)
    @rule(
        make_good=st.booleans(),
        who=st.integers(0, 9),
        assign=st.integers(0, 15),
        actor=st.integers(0, 15),
        reuse=st.integers(0, 15),
        backer=st.integers(0, 15),
    )
    @counted("open")
    def open_journey(self, make_good, who, assign, actor, reuse, backer):
        """Marketing opens a journey naming its funder; now and then a sales rep tries, a
        reference is reused, ADMIN or a stranger is named the first step's owner, or the
        named funder holds no FUNDER."""
        w = self.w
        pb = w.playbooks[w.variant_id if make_good else 1]
        # the third customer never has a verified identity; the fourth's key is a participant's
        customer = w.customers[2 if who == 4 else 3 if who == 5 else who % 2]
        opener = w.team.sales if actor == 7 else w.team.marketing
        if reuse == 7 and self.journeys:
            jid = self.journeys[-1].jid
        else:
            self.opened += 1
            jid = journey_id(f"FUZZ-{self.opened}")
        assignee = {5: w.team.admin, 6: w.team.sales, 7: w.team.outsider}.get(
            assign, w.team.marketing if assign in (8, 9, 10) else ZERO
        )
        funder = {5: w.team.outsider, 6: w.team.admin}.get(
            backer, w.funder2 if backer in (8, 9, 10, 11) else w.team.funder
        )
        expected = None
        if not self._has(opener, MARKETING):
            expected = refusal("MissingRole", str(opener), MARKETING)
        elif any(j.jid == jid for j in self.journeys):
            expected = refusal("JourneyExists", jid)
        elif assignee != ZERO and not self._has(assignee, MARKETING):
            expected = refusal("MissingRole", str(assignee), MARKETING)
        elif assignee != ZERO and self._is_admin(assignee):
            expected = refusal("AdminMayNotOwnStep", str(assignee))
        elif not self._has(funder, FUNDER):
            expected = refusal("MissingRole", str(funder), FUNDER)
        tx = self._send(
            expected,
            w.engine.openJourney,
            jid,
            pb.id,
            customer.commitment,
            assignee,
            funder,
            {"from": opener},
        )
        if tx is None:
            return
        j = JourneyModel(
            jid=jid,
            pb=pb,
            customer=customer,
            head=genesis_head(jid, pb.id, customer.commitment),
            deadline=tx.timestamp + pb.slas[0] if pb.slas[0] else 0,
            funder=str(funder),
            owner=str(assignee),
            owner_org=0 if assignee != ZERO else w.org_of[str(opener)],
        )
        self.journeys.append(j)
        # the funder's standing budget for the playbook funds the pool when it holds the amount
        # and names the opener's organisation (no other opening draws on it)
        budget = self.budgets.get((str(funder), pb.id))
        if budget and budget[0] and budget[2] >= budget[0] and budget[1] == w.org_of[str(opener)]:
            ev = tx.events["PoolFunded"]
            assert (ev["funder"], ev["amount"], ev["pool"]) == (str(funder), budget[0], budget[0])
            budget[2] -= budget[0]
            self.budget_total -= budget[0]
            j.pool = budget[0]
            self.funded += budget[0]
            STATS["outcomes"]["open: drawn from a standing budget"] += 1
        else:
            assert "PoolFunded" not in tx.events
        # the journey's customer attested (identity is about the customer of this journey)
        subject = customer_subject(jid, customer.commitment)
        identity = short_name("identity_verified")
        if customer.address in w.attested:
            w.kit.registry.attest(identity, subject, 0, b"\x22" * 32, {"from": w.team.verifier})
        if customer.address in w.expired_by_rival:
            j.rival_expiry = tx.timestamp + 30  # the next block is well before it
            w.kit.registry.attest(identity, subject, j.rival_expiry, b"\x01" * 32, {"from": w.rival_verifier})

    @precondition(lambda self: self.budget_actions <= self.opened)
    @rule(
        who=st.integers(0, 7),
        make_good=st.booleans(),
        per=st.sampled_from([0, *AMOUNTS]),
        org=st.integers(0, 7),
        deposit=st.sampled_from([0, *AMOUNTS, 3 * POOL]),
    )
    @counted("set_budget")
    def set_budget(self, who, make_good, per, org, deposit):
        """A funder sets its standing budget for a playbook (the terms, and a deposit); now and
        then one names no organisation, or the sales team's (whose openings are refused), or a
        participant without FUNDER tries."""
        w = self.w
        self.budget_actions += 1
        funder = {5: w.team.outsider, 6: w.team.marketing}.get(who, w.funder2 if who % 2 else w.team.funder)
        pb = w.playbooks[w.variant_id if make_good else 1]
        opener_org = {5: 0, 6: ORGS["sales"]}.get(org, ORGS["marketing"])
        budget = self.budgets.get((str(funder), pb.id), [0, 0, 0])
        if not self._has(funder, FUNDER):
            expected = refusal("MissingRole", str(funder), FUNDER)
        elif opener_org == 0:
            expected = refusal("UnknownOrganisation", 0)
        else:
            expected = None
        tx = self._send(expected, w.engine.setBudget, pb.id, per, opener_org, deposit, {"from": funder})
        if tx is None:
            return
        balance = budget[2] + deposit
        ev = tx.events["BudgetChanged"]
        assert (ev["funder"], ev["playbookId"], ev["perJourney"], ev["openerOrg"], ev["balance"]) == (
            str(funder),
            pb.id,
            per,
            opener_org,
            balance,
        )
        self.budgets[(str(funder), pb.id)] = [per, opener_org, balance]
        self.budget_total += deposit

    @precondition(lambda self: self.budgets and self.budget_actions <= self.opened)
    @rule(pick=st.integers(0, 63), amount=st.sampled_from([0, *AMOUNTS]), rival=st.booleans())
    @counted("withdraw_budget")
    def withdraw_budget(self, pick, amount, rival):
        """A funder takes tokens back from its budget; a rival funder tries to take them (it reads
        its own budget, which holds less or nothing)."""
        w = self.w
        self.budget_actions += 1
        keys = sorted(self.budgets)
        funder, pid = keys[pick % len(keys)]
        if rival:
            funder = str(w.funder2) if funder == str(w.team.funder) else str(w.team.funder)
        budget = self.budgets.get((funder, pid), [0, 0, 0])
        if amount == 0:
            expected = refusal("ZeroAmount")
        elif budget[2] < amount:
            expected = refusal("BudgetShort", budget[2], amount)
        else:
            expected = None
        before = w.token.balanceOf(funder)
        tx = self._send(expected, w.engine.withdrawBudget, pid, amount, {"from": funder})
        if tx is None:
            return
        assert w.token.balanceOf(funder) - before == amount
        budget[2] -= amount
        self.budget_total -= amount

    @precondition(lambda self: any(j.pool == 0 for j in self._live()))
    @rule(
        pick=st.integers(0, 63),
        amount=st.sampled_from(AMOUNTS),
        actor=st.integers(0, 15),
    )
    @counted("fund")
    def fund(self, pick, amount, actor):
        """The journey's funder funds its pool (now and then tops one up); the other funder
        tries to squat it, an outsider tries too. The first funding of a journey waiting at
        its fund-gated step restarts that step's clock."""
        j = self._pick(pick, [j for j in self._live() if j.pool == 0])
        other = self.w.funder2 if j.funder == str(self.w.team.funder) else self.w.team.funder
        funder = {5: self.w.team.outsider, 6: other, 7: other, 8: other}.get(actor, j.funder)
        if j.status not in LIVE:
            expected = refusal("JourneyNotOpen", j.jid, j.status)
        elif not self._has(funder, FUNDER):
            expected = refusal("MissingRole", str(funder), FUNDER)
        elif str(funder) != j.funder:
            expected = refusal("NotFunder", j.jid, str(funder), j.funder)
        else:
            expected = None
        tx = self._send(expected, self.w.engine.fund, j.jid, amount, {"from": funder})
        if tx is None:
            return
        ev = tx.events["PoolFunded"]
        assert (ev["amount"], ev["pool"]) == (amount, j.pool + amount)
        restart = 0
        if j.pool == 0 and j.status == OPEN and j.pb.gated(j.step):
            restart = tx.timestamp + j.pb.slas[j.step]
        if restart > j.deadline:
            ev = tx.events["ClockRestarted"]
            assert (ev["step"], ev["deadline"]) == (j.step, restart)
            j.deadline = restart
            STATS["outcomes"]["fund: clock restarted"] += 1
        else:
            assert "ClockRestarted" not in tx.events
        j.pool += amount
        self.funded += amount

    @precondition(lambda self: self._completable())
    @rule(pick=st.integers(0, 63), actor=st.integers(0, 31), omit=st.integers(0, 15), nxt=st.integers(0, 31))
    @counted("complete")
    def complete_step(self, pick, actor, omit, nxt):
        """The current step, mostly by its right owner, at whatever time it is."""
        self._complete(pick, actor, omit, nxt, late_by=0)

    @precondition(lambda self: self._completable())
    @rule(
        pick=st.integers(0, 63),
        actor=st.integers(0, 31),
        omit=st.integers(0, 15),
        nxt=st.integers(0, 31),
        late_by=st.sampled_from([1, HOUR, 2 * DAY]),
    )
    @counted("complete")
    def complete_step_late(self, pick, actor, omit, nxt, late_by):
        """The current step after time has moved `late_by` past its deadline."""
        self._complete(pick, actor, omit, nxt, late_by)

    def _next_owner(self, j: JourneyModel, nxt: int) -> tuple[int, str, str | None]:
        """The next step's owner the completer names, (org, assignee), and the refusal it earns
        (None: fine). Mostly the organisation the cast gives the next role; sometimes one of
        its holders (with or without its organisation, or with another one), the rival firm,
        no owner, an unknown organisation, ADMIN or a stranger."""
        w, pb = self.w, j.pb
        step = min(j.step, pb.last)
        next_role = pb.roles[step + 1] if step < pb.last else CUSTOMER_ROLE
        holders = w.holders[next_role]
        home = ROLE_ORG.get(next_role, 0)
        assignee, org = ZERO, home
        if nxt < 16:
            pass
        elif nxt < 22 and holders:
            assignee = holders[nxt % len(holders)]
            org = w.org_of[str(assignee)] if nxt % 2 else 0
        elif nxt == 22 and holders:
            assignee = holders[0]
            org = ORGS["marketing"] if w.org_of[str(assignee)] != ORGS["marketing"] else ORGS["sales"]
        elif nxt in (23, 24):
            org = w.shipping_org  # the rival firm: only its VENDOR can own a step there
        elif nxt == 25:
            org = 0
        elif nxt == 26:
            org = NO_ORG
        elif nxt in (27, 28):
            assignee, org = w.team.admin, 0
        elif nxt == 29:
            assignee, org = w.team.outsider, 0
        if next_role == CUSTOMER_ROLE:
            return org, assignee, None
        if assignee != ZERO:
            if not self._has(assignee, next_role):
                return org, assignee, refusal("MissingRole", str(assignee), next_role)
            if self._is_admin(assignee):
                return org, assignee, refusal("AdminMayNotOwnStep", str(assignee))
            if org != 0 and org != w.org_of[str(assignee)]:
                return org, assignee, refusal("NotInOrganisation", str(assignee), org)
            return org, assignee, None
        if org not in w.organisations:
            return org, assignee, refusal("OwnerRequired", j.jid, step + 1)
        return org, assignee, None

    def _complete(self, pick, actor, omit, nxt, late_by):
        w = self.w
        completable = self._completable()
        ready = [j for j in completable if self._unblocked(j)]
        # mostly the journey furthest along, so that journeys reach the customer's step
        ready.sort(key=lambda j: -j.step)
        j = ready[0] if ready and pick % 8 < 5 else self._pick(pick, ready or completable)
        pb, step = j.pb, min(j.step, j.pb.last)
        role = pb.roles[step]
        right = self._right(j)
        # the hostile: an outsider, a funder, ADMIN, the rival vendor, other holders of the role
        wrong = [
            w.team.outsider,
            w.team.funder,
            w.team.admin,
            w.shipper,
            *[a for a in w.holders[role] if a not in right],
        ]
        hostile = not right or 13 <= actor < 19
        sender = wrong[actor % len(wrong)] if hostile else right[actor % len(right)]
        org, assignee, owner_refusal = self._next_owner(j, nxt)
        values = {k: f"{k} value" for k in pb.fields[step]}
        omitted = None
        if values and omit == 7:
            omitted = list(values)[pick % len(values)]
            del values[omitted]
        fields = w.kit.fields(values)
        if omit == 9 and j.rival_expiry and self._now() <= j.rival_expiry + 1:
            # naming the rival: let its attestation expire first, so that its state is certain
            chain.sleep(j.rival_expiry + 2 - self._now())
            chain.mine()
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
        elif self._is_admin(sender):
            expected = refusal("AdminMayNotOwnStep", str(sender))
        elif j.owner == ZERO and w.org_of[str(sender)] != j.owner_org:
            expected = refusal("WrongOrganisation", j.jid, step, str(sender), j.owner_org)
        elif j.owner != ZERO and j.owner != str(sender):
            expected = refusal("NotAssignee", j.jid, step, str(sender), j.owner)
        elif omitted is not None:
            expected = refusal("MissingField", j.jid, step, short_name(omitted))
        elif pb.attestations[step] and self._attestation_state(j, omit) != VALID_STATE:
            state = self._attestation_state(j, omit)
            expected = refusal(
                "AttestationNotValid", j.jid, step, short_name(pb.attestations[step][0]), state
            )
        elif pb.gated(step) and j.pool == 0:
            expected = refusal("PoolNotFunded", j.jid, step)
        else:
            expected = owner_refusal
        if expected and expected.startswith("WrongOrganisation") and sender == w.shipper:
            STATS["outcomes"]["complete: rival vendor refused"] += 1
        attesters = self._attesters(j, step, omit)
        tx = self._send(
            expected, w.engine.completeStep, j.jid, fields, attesters, org, assignee, {"from": sender}
        )
        if tx is None:
            return
        is_late = bool(j.deadline) and tx.timestamp > j.deadline
        assert is_late == (bool(j.deadline) and now >= j.deadline), "the model's time guard failed"
        ev = tx.events["StepCompleted"]
        evidence = evidence_hash(fields)
        assert (ev["step"], ev["by"], ev["late"], ev["nextOrg"], ev["nextAssignee"]) == (
            step,
            sender,
            is_late,
            org,
            assignee,
        )
        assert field_pairs(ev["fields"]) == fields
        if is_late:
            STATS["outcomes"]["complete: late"] += 1
            if not j.flagged:
                self._record_breach(j, tx.events["BreachRecorded"])
            else:
                assert "BreachRecorded" not in tx.events
        j.bound.append((j.owner, j.owner_org))
        j.history.append((str(sender), is_late, evidence))
        j.heads.append(j.head)
        j.head = next_head(j.head, step, str(sender), is_late, evidence)
        j.step += 1
        j.deadline = tx.timestamp + pb.slas[j.step] if pb.slas[j.step] else 0
        j.flagged = False
        if j.step == pb.last:
            j.owner, j.owner_org = ZERO, 0
        elif assignee != ZERO:
            j.owner, j.owner_org = str(assignee), 0
        else:
            j.owner, j.owner_org = ZERO, org
        assert ev["nextDeadline"] == j.deadline

    @precondition(lambda self: self._live())
    @rule(seconds=st.sampled_from(JUMPS))
    @counted("time")
    def time_passes(self, seconds):
        """Time moves on (the chain's clock: SLAs lapse, windows open)."""
        chain.sleep(seconds)
        chain.mine()
        STATS["outcomes"]["time: ok"] += 1

    def _flag_refusal(self, j: JourneyModel, now: int) -> str | None:
        """Why the current step's deadline cannot be flagged now (None: it can)."""
        if j.pb.roles[j.step] == CUSTOMER_ROLE:
            return refusal("CustomerStep", j.jid, j.step)
        if j.deadline == 0 or now < j.deadline:
            return refusal("DeadlineNotPassed", j.jid, j.step, j.deadline)
        if j.pb.gated(j.step) and j.pool == 0:
            return refusal("PoolNotFunded", j.jid, j.step)
        if j.flagged:
            return refusal("AlreadyBreached", j.jid, j.step)
        return None

    @precondition(lambda self: self._flaggable())
    @rule(pick=st.integers(0, 63), wait=st.booleans())
    @counted("flag")
    def flag_breach(self, pick, wait):
        """Anyone (the SLA keeper) flags a passed deadline; `wait`: after letting it pass."""
        j = self._pick(pick, self._flaggable())
        if wait and j.status == OPEN and j.step < j.pb.last:
            self._wait_past(j.deadline)
        now = self._clear_of(j.deadline)
        if j.status != OPEN:
            expected = refusal("JourneyNotOpen", j.jid, j.status)
        else:
            expected = self._flag_refusal(j, now)
        tx = self._send(expected, self.w.engine.flagBreach, j.jid, {"from": self.w.team.outsider})
        if tx is None:
            return
        self._record_breach(j, tx.events["BreachRecorded"])
        j.flagged = True

    @precondition(lambda self: self._escalatable())
    @rule(
        pick=st.integers(0, 63),
        caller=st.integers(0, 15),
        to=st.integers(0, 15),
        wait=st.integers(0, 3),
        forge=st.booleans(),
    )
    @counted("escalate")
    def escalate(self, pick, caller, to, wait, forge):
        """The previous step's completer (or ADMIN) reassigns a step whose deadline passed (it
        flags it first if no one did), with a new deadline. A rival rep, the rival vendor, an
        outsider and ADMIN try too; the targets include the caller itself, ADMIN, a stranger,
        the owner that breached and those who breached the step before."""
        w = self.w
        j = self._pick(pick, self._escalatable())
        step = min(j.step, j.pb.last)
        role = j.pb.roles[step]
        if wait and j.status == OPEN and j.step < j.pb.last:
            self._wait_past(j.deadline)
        completer = j.history[-1][0] if j.history else None
        prev_role = j.pb.roles[step - 1] if step else MARKETING
        rivals = [a for a in (*w.holders[prev_role], w.shipper) if str(a) != completer]
        if completer is not None and (caller < 7 or caller > 13):
            sender = next(a for a in w.claimants if str(a) == completer)
        elif caller < 10:
            sender = w.team.admin
        elif caller < 13:
            sender = rivals[caller % len(rivals)]
        else:
            sender = w.team.outsider
        # often back to someone who already breached this step, the way a breacher would try
        # to renew its own deadline
        targets = w.holders[role]
        again = [a for a in targets if str(a) in j.breached_by[step] and str(a) != j.owner]
        if again and to < 4:
            target = again[to % len(again)]
        elif j.owner != ZERO and to == 6:
            target = next(a for a in w.claimants if str(a) == j.owner)  # the breaching owner itself
        elif to == 7:
            target = sender  # to itself
        elif to == 8:
            target = w.team.admin
        elif to == 9 or not targets:
            target = w.team.outsider
        else:
            target = targets[to % len(targets)]
        now = self._clear_of(j.deadline)
        flags = j.status == OPEN and not j.flagged
        if j.status != OPEN:
            expected = refusal("JourneyNotOpen", j.jid, j.status)
        elif flags and self._flag_refusal(j, now):
            expected = self._flag_refusal(j, now)
        elif not self._is_admin(sender) and (step == 0 or str(sender) != completer):
            expected = refusal("NotEscalator", j.jid, step, str(sender))
        elif str(target) == str(sender):
            expected = refusal("SelfEscalation", j.jid, step, str(target))
        elif not self._has(target, role):
            expected = refusal("MissingRole", str(target), role)
        elif self._is_admin(target):
            expected = refusal("AdminMayNotOwnStep", str(target))
        elif str(target) == j.owner:
            expected = refusal("SameAssignee", j.jid, step, str(target))
        else:
            expected = None
        before, previous = self._proof(j, sender if forge else None)
        tx = self._send(expected, w.engine.escalate, j.jid, target, before, previous, {"from": sender})
        if tx is None:
            return
        if flags:
            self._record_breach(j, tx.events["BreachRecorded"])
        else:
            assert "BreachRecorded" not in tx.events
        ev = tx.events["Escalated"]
        assert (ev["step"], str(ev["from"]), ev["fromOrg"], ev["to"]) == (step, j.owner, j.owner_org, target)
        if str(target) in j.breached_by[step]:
            STATS["outcomes"]["escalate: back to a breacher"] += 1
        j.owner, j.owner_org = str(target), 0
        j.deadline = tx.timestamp + j.pb.slas[step] if j.pb.slas[step] else 0
        j.flagged = False
        assert ev["deadline"] == j.deadline

    @precondition(lambda self: self._disputable())
    @rule(pick=st.integers(0, 63), which=st.integers(0, 15), forge=st.integers(0, 12))
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

    def _end_dispute(self, j: JourneyModel, tx, upheld: bool, arbiter: str):
        ev = tx.events["DisputeResolved"]
        assert (ev["step"], ev["upheld"], ev["arbiter"]) == (j.dispute_step, upheld, arbiter)
        if upheld:
            j.upheld |= 1 << j.dispute_step
        if j.deadline:
            j.deadline += tx.timestamp - j.since
        j.since, j.status = 0, OPEN

    @precondition(lambda self: self._disputed())
    @rule(pick=st.integers(0, 63), upheld=st.booleans(), caller=st.integers(0, 15), late=st.integers(0, 7))
    @counted("resolve")
    def arbiter_resolves(self, pick, upheld, caller, late):
        """An ARBITER upholds or rejects the open dispute through the customer voice, within the
        dispute window (`late` 3: once it has passed); the deadline moves by the hold. An
        arbiter that completed a step of the journey or funds it is refused."""
        w = self.w
        j = self._pick(pick, self._disputed())
        sender = {5: w.team.sales, 6: w.team.sales2, 7: w.funder2, 8: w.funder2}.get(caller, w.team.arbiter)
        closes_at = j.since + j.pb.dispute_window if j.since else 0
        if late == 3:
            self._wait_past(closes_at)
        now = self._clear_of(closes_at)
        if not self._has(sender, ARBITER):
            expected = refusal("MissingRole", str(sender), ARBITER)
        elif j.since == 0:
            expected = refusal("NoOpenDispute", j.jid)
        elif now >= closes_at:
            expected = refusal("DisputeWindowPassed", j.jid, closes_at)
        elif str(sender) == j.funder or any(by == str(sender) for by, _, _ in j.history):
            expected = refusal("ArbiterConflict", j.jid, str(sender))
        elif j.status != DISPUTED:
            expected = refusal("NoOpenDispute", j.jid)
        else:
            expected = None
        tx = self._send(expected, w.voice.resolveDispute, j.jid, upheld, j.history, {"from": sender})
        if tx is not None:
            self._end_dispute(j, tx, upheld, sender)

    @precondition(lambda self: self._disputed())
    @rule(pick=st.integers(0, 63), wait=st.integers(0, 3))
    @counted("close dispute")
    def close_dispute(self, pick, wait):
        """Anyone closes a dispute nobody resolved within its window: the playbook's fallback
        rejects it (the journey goes on) or refunds the funder (the journey expires)."""
        j = self._pick(pick, self._disputed())
        closes_at = j.since + j.pb.dispute_window if j.since else 0
        if wait:
            self._wait_past(closes_at)
        now = self._clear_of(closes_at, j.deadline)
        if j.since == 0:
            expected = refusal("NoOpenDispute", j.jid)
        elif now < closes_at:
            expected = refusal("DisputeWindowOpen", j.jid, closes_at)
        elif j.status != DISPUTED:
            expected = refusal("NoOpenDispute", j.jid)
        else:
            expected = None
        tx = self._send(expected, self.w.voice.closeDispute, j.jid, {"from": self.w.team.outsider})
        if tx is None:
            return
        if j.pb.refund_on_timeout:
            STATS["outcomes"]["close dispute: refunded"] += 1
            self._closed(j, tx, EXPIRED)
        else:
            self._end_dispute(j, tx, False, ZERO)

    @precondition(lambda self: self._at_customer())
    @rule(pick=st.integers(0, 63), forge=st.integers(0, 12))
    @counted("confirm")
    def customer_confirms(self, pick, forge):
        """The customer confirms value by signature over the journey's rolling hash, relayed
        with the history the Kit rebuilds."""
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
    @rule(pick=st.integers(0, 63), forge=st.integers(0, 12), wait=st.booleans())
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
        now = self._clear_of(release_at, j.deadline if j.status == OPEN else 0)
        customer = (
            self.w.customers[(self.w.customers.index(j.customer) + 1) % 4] if forge == 8 else j.customer
        )
        if release_at == 0 or now < release_at:
            expected = refusal("WindowNotElapsed", j.jid, release_at)
        elif customer is not j.customer:
            expected = refusal("NotCustomer", j.jid, customer.address)
        elif customer is self.w.customers[3]:
            expected = refusal("ParticipantAsCustomer", j.jid, customer.address)
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
        """ADMIN cancels an uncommitted journey that is stuck, when every journey slot is taken;
        the journey's funder may cancel one still at its first step once that step is late (or
        at once where it has no deadline); Marketing tries too."""
        j = self._pick(pick, self._stuck())
        funder = next(a for a in self.w.holders[FUNDER] if str(a) == j.funder)
        sender = {5: self.w.team.marketing, 6: funder, 7: funder}.get(caller, self.w.team.admin)
        now = self._clear_of(j.deadline)
        stalled = j.step == 0 and (j.deadline == 0 or now >= j.deadline)
        if j.status not in LIVE:
            expected = refusal("JourneyNotOpen", j.jid, j.status)
        elif stalled and str(sender) == j.funder:
            expected = None
        elif not self._has(sender, ADMIN):
            expected = refusal("MissingRole", str(sender), ADMIN)
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
        owners = [w.team.admin, *[a for role in (MARKETING, SALES, SUCCESS, VENDOR) for a in w.holders[role]]]
        for a in owners:
            calls.append(
                (engine, selector("breachCount(address)") + encode(["address"], [str(a)]), ["uint32"])
            )
        for org in w.organisations:
            calls.append(
                (engine, selector("organisationBreachCount(uint32)") + encode(["uint32"], [org]), ["uint32"])
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
            calls.append((engine, selector("ownerOf(bytes32)") + arg, ["address", "uint32"]))
            calls.append((engine, selector("journeyCommitments(bytes32)") + arg, ["bytes16", "bytes20"]))
            calls.append(
                (engine, selector("disputeOf(bytes32)") + arg, ["uint16", "uint16", "uint8", "uint40"])
            )
            calls.append((voice, selector("nonceOf(bytes32)") + arg, ["uint32"]))
        values = iter(w.reader.read(calls))

        (balance,) = next(values)
        credits = {str(a): next(values)[0] for a in w.claimants}
        counts = {str(a): next(values)[0] for a in owners}
        org_counts = {org: next(values)[0] for org in w.organisations}
        states = [tuple(next(values) for _ in range(5)) for _ in self.journeys]

        # The engine holds exactly what was funded and not claimed yet.
        assert balance == self.funded + self.budget_total - self.claimed_total
        # Every unit is accounted for: outstanding credits, the pools still escrowed and the
        # standing budgets not drawn yet.
        open_pools = sum(s[0][7] for s, j in zip(states, self.journeys, strict=True) if s[0][2] in LIVE)
        assert sum(credits.values()) + open_pools + self.budget_total == balance
        for (funder, pid), (per, org, held) in self.budgets.items():
            assert tuple(w.engine.budgetOf(funder, pid)) == (per, org, held), f"budget of {funder}"
        assert credits == {a: self.credits[a] for a in credits}
        # Credits given never exceed (here: equal) delivered pools plus refunds of closed journeys.
        total_credited = sum(self.credited.values())
        assert total_credited <= self.delivered_pools + self.refunds
        assert total_credited == self.delivered_pools + self.refunds
        assert self.delivered_pools + self.refunds + open_pools == self.funded
        # Nothing is claimed twice.
        for a in credits:
            assert self.claimed[a] == self.credited[a] - credits[a]
        # Breach counts (of participants and of organisations) never decrease and are what
        # the rules recorded; ADMIN never owns a step, so none is ever recorded against it.
        for a, count in counts.items():
            assert count >= self.seen_counts.get(a, 0), f"breach count of {a} went down"
            assert count == self.breach_counts[a]
        for org, count in org_counts.items():
            assert count >= self.seen_org_counts.get(org, 0), f"breach count of organisation {org} went down"
            assert count == self.org_breach_counts[org]
        assert counts[str(w.team.admin)] == 0
        self.seen_counts, self.seen_org_counts = counts, org_counts

        for j, (state, owner, commitments, disputes, (nonce,)) in zip(self.journeys, states, strict=True):
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
                j.owner,
                j.funder,
                j.deadline,
            )
            if status in LIVE:
                assert (to_checksum_address(owner[0]), owner[1]) == (j.owner, j.owner_org)
                assert j.owner != str(w.team.admin)
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


# --- the seed ----------------------------------------------------------------------------


def fuzz_seed(env: Mapping[str, str] = os.environ) -> int | None:
    """The run's seed: JOURNEY_FUZZ_SEED when set (a replay), else a new one for a deep run
    (JOURNEY_FUZZ_STEPS set), else None: the short run is derandomized."""
    text = env.get("JOURNEY_FUZZ_SEED", "").strip()
    if text:
        try:
            return int(text, 0)
        except ValueError:
            raise pytest.UsageError(f"JOURNEY_FUZZ_SEED must be an integer, not {text!r}") from None
    if "JOURNEY_FUZZ_STEPS" in env:
        return secrets.randbits(32)
    return None


def seeded(factory: Callable[[], RuleBasedStateMachine], base: int | None, run: int):
    """The state machine factory that hypothesis runs with seed `base + run` (the run-th round
    of the loop below), or unchanged when there is no seed."""
    if base is None:
        return factory

    def make() -> RuleBasedStateMachine:
        return factory()

    return seed(base + run)(make)


# --- the test ----------------------------------------------------------------------------


def test_escrow_and_deadline_invariants_hold_over_random_journeys(world, capsys):
    total = int(os.environ.get("JOURNEY_FUZZ_STEPS", "1000"))
    per_example = 100
    # The short profile (`make test`) is the same run every time; the deep one is new each time.
    deep = "JOURNEY_FUZZ_STEPS" in os.environ
    base = fuzz_seed()
    replay = f"make fuzz FUZZ_SEED={base} FUZZ_STEPS={total}"
    if base is not None:
        with capsys.disabled():
            print(f"\ninvariant fuzz: seed {base} (replay: {replay})")
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
                seeded(lambda: JourneyMachine(world), base, runs),
                settings=settings(
                    max_examples=examples,
                    stateful_step_count=per_example,
                    deadline=None,
                    database=None,
                    derandomize=base is None and runs == 0,
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
            "profile": "deep" if deep else "short" if base is not None else "short (derandomized)",
            "seed": base,
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
                + (f"\ninvariant fuzz: seed {base}; replay with `{replay}`" if base is not None else "")
            )
    assert STATS["steps"] >= total
    # The run reached the outcomes the invariants are about: value delivered, journeys
    # closed with a refund, claims, late completions, flagged breaches, disputes resolved
    # and closed, escalations, a restarted clock; and the hostile actions were refused.
    reached = STATS["outcomes"]
    for outcomes in (
        ("confirm: ok", "release: ok"),
        ("expire: ok", "cancel: ok", "close dispute: refunded"),
        ("claim: ok",),
        ("complete: late",),
        ("flag: ok",),
        ("resolve: ok",),
        ("close dispute: ok",),
        ("escalate: ok",),
        ("fund: clock restarted",),
        ("fund: NotFunder",),
        ("complete: AdminMayNotOwnStep", "escalate: AdminMayNotOwnStep"),
        ("complete: WrongOrganisation", "complete: NotAssignee"),
        ("escalate: NotEscalator",),
        ("escalate: SelfEscalation",),
        ("dispute: StaleSignature", "confirm: StaleSignature"),
        ("dispute: ParticipantAsCustomer", "confirm: ParticipantAsCustomer"),
        ("dispute: BadSignature", "confirm: BadSignature"),
        ("complete: AttestationNotValid",),
    ):
        assert any(reached[o] for o in outcomes), f"none of {outcomes} in {STATS['steps']} steps"


# A sequence of the machine's own rules along the one path by which a breaching assignee
# could renew its own deadline and escape its penalty: the lead-acceptance step is flagged
# against sales, escalated (by marketing, who completed the step before) to sales2, flagged
# against sales2, escalated back to sales, who completes it within the renewed deadline; the
# customer confirms value. The step's breach bit stays set: sales is paid less the penalty.
ESCALATED_BACK = [
    ("open_journey", {"make_good": False, "who": 0, "assign": 0, "actor": 1, "reuse": 1, "backer": 15}),
    ("complete_step", {"pick": 1, "actor": 0, "omit": 1, "nxt": 16}),  # marketing; assigns sales
    ("flag_breach", {"pick": 1, "wait": True}),  # 24 h pass: breach recorded against sales
    ("escalate", {"pick": 1, "caller": 0, "to": 11, "wait": 0, "forge": False}),  # to sales2
    ("flag_breach", {"pick": 1, "wait": True}),  # breach recorded against sales2
    ("escalate", {"pick": 1, "caller": 0, "to": 0, "wait": 0, "forge": False}),  # back to sales
    ("complete_step", {"pick": 1, "actor": 0, "omit": 1, "nxt": 0}),  # sales, on time; binds Sales
    ("fund", {"pick": 1, "amount": POOL, "actor": 4}),  # the named funder
    ("complete_step", {"pick": 1, "actor": 0, "omit": 1, "nxt": 0}),  # deal booked
    ("complete_step", {"pick": 1, "actor": 0, "omit": 1, "nxt": 0}),  # onboarding
    ("complete_step", {"pick": 1, "actor": 0, "omit": 1, "nxt": 0}),  # device delivered
    ("customer_confirms", {"pick": 1, "forge": 0}),
]


def replay(world, sequence) -> Counter:
    """Runs `sequence` (rule names and arguments) on a fresh machine, checking the invariants
    before and after each step; returns the outcomes."""
    STATS.update(steps=0, target=len(sequence), failed=False, outcomes=Counter())
    chain.snapshot()
    machine = JourneyMachine(world)
    try:
        machine.books_balance_and_breaches_stay()
        for name, arguments in sequence:
            getattr(machine, name)(**arguments)
            machine.books_balance_and_breaches_stay()
    finally:
        machine.teardown()
    return STATS["outcomes"]


def test_step_escalated_back_to_its_breacher_still_costs_the_penalty(world):
    outcomes = replay(world, ESCALATED_BACK)
    assert outcomes["escalate: back to a breacher"] and outcomes["confirm: ok"]
    assert outcomes["settled: a breached step paid less the penalty"] == 1


# The hostile actions of one journey, in order: the other funder tries to squat the pool of a
# journey that named Finance's first funder, the rival vendor (the shipping company) tries to
# complete the device supplier's step, and the customer's confirmation signed over the
# rolling hash before the last step is refused as stale; the supplier is paid its share.
HOSTILE_SUPPLY = [
    ("open_journey", {"make_good": False, "who": 0, "assign": 0, "actor": 1, "reuse": 1, "backer": 15}),
    ("complete_step", {"pick": 1, "actor": 0, "omit": 1, "nxt": 0}),  # marketing; binds Sales
    ("complete_step", {"pick": 1, "actor": 0, "omit": 1, "nxt": 0}),  # lead accepted
    ("fund", {"pick": 1, "amount": POOL, "actor": 6}),  # the other funder: NotFunder
    ("fund", {"pick": 1, "amount": POOL, "actor": 4}),  # the named funder
    ("complete_step", {"pick": 1, "actor": 0, "omit": 1, "nxt": 0}),  # deal booked
    ("complete_step", {"pick": 1, "actor": 0, "omit": 1, "nxt": 0}),  # onboarding; binds the supplier
    ("complete_step", {"pick": 1, "actor": 13, "omit": 1, "nxt": 0}),  # the rival vendor: refused
    ("complete_step", {"pick": 1, "actor": 0, "omit": 1, "nxt": 0}),  # the supplier's vendor
    ("customer_confirms", {"pick": 1, "forge": 7}),  # signed before the last step: stale
    ("customer_confirms", {"pick": 1, "forge": 0}),
]


def test_hostile_parties_of_other_organisations_take_nothing(world):
    outcomes = replay(world, HOSTILE_SUPPLY)
    assert outcomes["fund: NotFunder"] == 1
    assert outcomes["complete: rival vendor refused"] == 1
    assert outcomes["confirm: StaleSignature"] == 1
    assert outcomes["confirm: ok"] == 1
