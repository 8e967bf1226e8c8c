"""`journey demo`: six customers run through the default playbook on a throwaway chain.

A private anvil is started, the suite deployed and the default playbook published; then
one customer goes through on time, one lead breaches its acceptance deadline (the keeper
flags it, Marketing escalates it to another rep), one booking is refused for a missing
field and then made, one customer disputes a step (the arbiter upholds it) and one journey
expires with its pool refunded; a sixth lead (the playbook's lead acceptance counts 24 working
hours, Monday to Friday, 09:00-17:00 UTC) is handed over on a Friday evening, does not breach
on Saturday, is paused on Monday and is accepted after the keeper's warning,
before its deadline. Each customer signs with a key of its own for its journey,
derived from a secret of its own; it confirms on its own device (a request written, signed
and handed back) and disputes and rates by EIP-712 signature, relayed by someone else, so it
needs no gas. Time is moved on the chain, never slept.
The timelines, SLA breaches per team and vendor, and everyone's credits and claims are
printed and written as JSON.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from journeychain.accounts import dev_account
from journeychain.amounts import tokens
from journeychain.calendar import warn_at as calendar_warn_at
from journeychain.chain import Chain, throwaway_chain
from journeychain.client import Customer as ClientCustomer
from journeychain.client import JourneyClient, StatementResult
from journeychain.customer import CustomerSecret, sign_request
from journeychain.deployments import Deployment, deploy
from journeychain.encoding import journey_id
from journeychain.errors import RuleError
from journeychain.keeper import Keeper
from journeychain.playbook import SLA_KINDS, load_playbook
from journeychain.timeline import Timeline, duration, sla_breaches, timelines
from journeychain.tx import Receipt
from journeychain.vault import Vault

ZERO = "0x" + "00" * 20
DAY = 86_400
HOUR = 3_600


POOL = 1_000 * 10**18
#: the funder's standing budget for the default playbook: ten journeys' pools
BUDGET = 10 * POOL
DEFAULT_OUT = Path("reports") / "demo.json"

#: The organisations: name, whether an outside firm.
ORGANISATIONS = (
    ("Marketing", False),
    ("Sales", False),
    ("Customer Success", False),
    ("Device supplier", True),
    ("Shipping company", True),
    ("Verification firm", True),
    ("Finance", False),
    ("Arbitration", True),
)

#: The cast: development account index, name, role granted (None: no role), organisation.
CAST = (
    (0, "admin", "Admin", None, None),
    (1, "marketing", "Marketing", "MARKETING", "Marketing"),
    (2, "rep_a", "Sales rep A", "SALES", "Sales"),
    (3, "rep_b", "Sales rep B", "SALES", "Sales"),
    (4, "success", "Customer Success", "SUCCESS", "Customer Success"),
    (5, "vendor", "Device supplier", "VENDOR", "Device supplier"),
    (6, "verifier", "Identity verifier", "VERIFIER", "Verification firm"),
    (7, "funder", "Incentive funder", "FUNDER", "Finance"),
    (8, "arbiter", "Arbiter", "ARBITER", "Arbitration"),
    (9, "shipper", "Shipping company dispatcher", "VENDOR", "Shipping company"),
)
TEAM_ROLES = {"MARKETING": "Marketing", "SALES": "Sales", "SUCCESS": "Customer Success", "VENDOR": "Vendor"}


@dataclass
class Member:
    """A participant of the demo network: its name, role and client (acting as its account)."""

    key: str
    name: str
    role: str | None
    org: str | None
    account: LocalAccount
    client: JourneyClient

    @property
    def address(self) -> str:
        return self.account.address


@dataclass
class Customer:
    """A customer: one secret of its own, from which the journey's signing key and profile
    salt are derived (a key of its own for each journey: no two journeys are linked)."""

    reference: str
    secret: CustomerSecret = field(default_factory=CustomerSecret.create)

    @property
    def key(self) -> LocalAccount:
        return self.secret.key_for(self.reference)

    @property
    def profile(self) -> bytes:
        return self.secret.profile_for(
            self.reference, f"{self.reference} <contact@{self.reference.lower()}.example>"
        )

    @property
    def signer(self) -> ClientCustomer:
        return ClientCustomer(self.key, self.profile)


@dataclass
class Outcome:
    reference: str
    scenario: str
    expected: str
    notes: list[str] = field(default_factory=list)


class Crew:
    """The participants of the demo network acting on one deployment through the SDK's
    client, with the evidence vault and the SLA keeper: each method is one thing a
    participant (or the customer) does."""

    def __init__(
        self,
        chain: Chain,
        deployment: Deployment,
        vault: Vault,
        keeper_state: Path,
        say: Callable[[str], None] = lambda _m: None,
    ):
        self.chain, self.deployment, self.vault, self.say = chain, deployment, vault, say
        self.client = JourneyClient(chain, deployment)
        self.engine, self.voice, self.token = self.client.engine, self.client.voice, self.client.token
        self.playbook = load_playbook()
        self.members: dict[str, Member] = {}
        for index, key, name, role, org in CAST:
            account = dev_account(index, chain)
            self.members[key] = Member(key, name, role, org, account, self.client.with_account(account))
        # the admin relays the customer's signatures and the keeper's flags: it pays the gas
        self.members["relayer"] = self.members["admin"]
        self.customers: dict[str, Customer] = {}
        self.journeys: dict[str, bytes] = {}
        relayer = self.members["relayer"].client
        self.keeper = Keeper(
            chain.w3,
            self.engine,
            flag=lambda jid: relayer.flag_breach(jid).tx_hash,
            expire=lambda jid: relayer.expire(jid).tx_hash,
            start_block=deployment.block,
            state_path=keeper_state,
        )

    def __getattr__(self, key: str) -> Member:
        members = self.__dict__.get("members", {})
        if key in members:
            return members[key]
        raise AttributeError(key)

    def names(self) -> dict[str, str]:
        names = {m.address: m.name for k, m in self.members.items() if k != "relayer"}
        names.update({c.key.address: f"customer of {ref}" for ref, c in self.customers.items()})
        return names

    def step_name(self, step: int) -> str:
        steps = self.playbook.steps
        return f"step {step} ({steps[step].name})" if 0 <= step < len(steps) else f"step {step}"

    # --- the network ----------------------------------------------------------------
    def set_up(self) -> None:
        """Register the organisations, grant the roles, have everyone accept the rulebook, publish
        the playbook, fund the funder."""
        admin = self.admin.client
        orgs = {name: admin.register_organisation(name, vendor=vendor)[0] for name, vendor in ORGANISATIONS}
        cast = [m for k, m in self.members.items() if m.role and k != "relayer"]
        for m in cast:
            assert m.role is not None  # the cast holds roles only
            admin.grant_role(m.address, m.role, org=orgs[m.org] if m.org else None)
        for m in cast:
            m.client.accept_rulebook()
        admin.publish_playbook(self.playbook)
        admin.mint(self.funder.address, 100 * POOL)

    def set_budget(self) -> None:
        """The funder's standing budget for the default playbook: each journey the marketing team
        opens afterwards draws its pool from it at its opening (no funding transaction)."""
        marketing = self.client.organisation_id("Marketing")
        self.funder.client.set_budget(1, POOL, marketing, BUDGET)

    def advance(self, seconds: int) -> None:
        self.chain.advance(seconds)

    def past_deadline(self, *references: str, margin: int = HOUR) -> None:
        """Move the clock to `margin` after the latest deadline of the current steps of the
        journeys `references` (as the chain computes it: in working time where a step counts
        it), never back."""
        due = max(self.client.journey(r).deadline for r in references)
        self.advance(max(0, due + margin - _now(self)))

    # --- journeys -----------------------------------------------------------------
    def open(self, reference: str, assignee: Member | None = None, playbook_id: int = 1) -> bytes:
        customer = Customer(reference)
        jid = journey_id(reference)
        self.customers[reference], self.journeys[reference] = customer, jid
        self.vault.register_journey(self.deployment.key, reference, customer=f"customer-{reference}")
        self.marketing.client.open_journey(
            reference,
            customer.key.address,
            customer.profile,
            playbook_id=playbook_id,
            assignee=assignee.address if assignee else None,
            funder=self.funder.address,
        )
        return jid

    def fund(self, reference: str, amount: int = POOL) -> Receipt:
        return self.funder.client.fund(reference, amount)

    def ensure_funded(self, reference: str) -> None:
        """Funds the journey's pool unless the funder's standing budget funded it at opening."""
        if not self.client.journey(reference).pool:
            self.fund(reference)

    def complete(
        self,
        reference: str,
        who: Member,
        fields: Mapping[str, str] | None = None,
        assign: Member | None = None,
        org: str | None = None,
    ) -> Receipt:
        """Complete the current step, naming the next step's owner (`assign`, a participant, or
        `org`, an organisation); its evidence goes to the vault before it is sent."""
        address = assign.address if assign else None
        result = who.client.complete_step(reference, dict(fields or {}), address, vault=self.vault, org=org)
        return result.receipt

    def attest_identity(self, reference: str) -> None:
        self.verifier.client.attest_customer(reference, "identity_verified")

    def escalate(self, reference: str, by: Member, to: Member) -> Receipt:
        return by.client.escalate(reference, to.address)

    def resolve(self, reference: str, upheld: bool) -> Receipt:
        return self.arbiter.client.resolve_dispute(reference, upheld)

    # --- the customer's voice: signed by the customer, relayed by someone with gas -------
    def confirm_value(self, reference: str) -> Receipt:
        """The customer confirms on its own device: the relayer writes the request, the customer
        signs it with the journey's key, the relayer submits the signature."""
        customer = self.customers[reference]
        client = self.relayer.client
        request = client.customer_request(reference, "confirm", customer.key.address, customer.profile)
        return client.submit_customer_signature(request, sign_request(request, customer.key))

    def dispute(self, reference: str, step: int, reason: str) -> StatementResult:
        """The customer disputes a step; the reason's text and salt go to the vault before it is sent."""
        customer = self.customers[reference].signer
        return self.relayer.client.customer_dispute(reference, customer, step, reason, vault=self.vault)

    def rate(self, reference: str, step: int, score: int) -> StatementResult:
        customer = self.customers[reference].signer
        return self.relayer.client.customer_rate(
            reference, customer, step, score, f"rating {score}", vault=self.vault
        )

    # --- the keeper --------------------------------------------------------------------
    def keeper_round(self) -> list[str]:
        lines = []
        for action in self.keeper.run_once().actions:
            ref = self.client.label(bytes.fromhex(action.journey[2:]))
            step = self.step_name(action.step)
            if action.kind == "flagged":
                lines.append(f"keeper flagged {step} of {ref}: deadline passed")
            elif action.kind == "warned":
                lines.append(f"keeper warned: {step} of {ref} is at risk of breaching")
            else:
                lines.append(f"keeper expired {ref}: the customer's step passed its deadline")
        for line in lines:
            self.say(line)
        return lines

    # --- the walk to the customer's step -------------------------------------------------
    def booking_fields(self, reference: str) -> dict[str, str]:
        return {
            "customer_goals": f"{reference}: cut onboarding time by half",
            "success_criteria": "first value within 30 days",
            "decision_maker": "VP Operations",
            "contract_value": "120000 EUR",
        }

    def qualify(self, reference: str, rep: Member) -> None:
        self.complete(
            reference, self.marketing, {"lead_source": "webinar", "segment": "mid-market"}, assign=rep
        )

    def to_booking(self, reference: str, rep: Member, note: str) -> None:
        """Open the journey and hand the lead to `rep`, who accepts it with `note`; fund the pool
        (unless the funder's standing budget funded it at opening) and attest the customer's
        identity, so that the journey waits for its booking."""
        self.open(reference, assignee=self.marketing)
        self.qualify(reference, rep)
        self.complete(reference, rep, {"accepted_note": note})
        self.ensure_funded(reference)
        self.attest_identity(reference)

    def book(self, reference: str, rep: Member) -> None:
        self.complete(reference, rep, self.booking_fields(reference), assign=self.success)

    def onboard_and_deliver(self, reference: str) -> None:
        self.complete(reference, self.success, {"kickoff": "kick-off call held"}, assign=self.vendor)
        self.complete(reference, self.vendor, {"shipment": f"tracking {reference}-TRK"})

    def claim_all(self) -> dict[str, int]:
        """Every participant with credit claims it, in one transfer each."""
        claimed = {}
        for m in self.members.values():
            if self.client.credit_of(m.address):
                claimed[m.address], _ = m.client.claim()
        return claimed


# --------------------------------------------------------------------------------------
# The six journeys
# --------------------------------------------------------------------------------------


def _on_time(crew: Crew, ref: str, tick: Callable[[], None]) -> Outcome:
    out = Outcome(ref, "on time end to end", "value_delivered")
    crew.open(ref, assignee=crew.marketing)
    if crew.client.journey(ref).pool:
        out.notes.append(
            f"its pool, {tokens(crew.client.journey(ref).pool)}, was drawn at opening from the funder's "
            "standing budget: no funding transaction"
        )
    tick()
    crew.qualify(ref, crew.rep_a)
    crew.advance(2 * HOUR)
    crew.complete(ref, crew.rep_a, {"accepted_note": "call booked"})
    crew.ensure_funded(ref)
    crew.attest_identity(ref)
    tick()
    crew.advance(5 * DAY)
    crew.book(ref, crew.rep_a)
    crew.advance(DAY)
    crew.complete(ref, crew.success, {"kickoff": "kick-off call held"}, org="Device supplier")
    try:  # a rival vendor firm tries to take the device supplier's step, and its share
        crew.complete(ref, crew.shipper, {"shipment": "delivered by us"})
    except RuleError as exc:
        out.notes.append(f"the shipping company's attempt at the supplier's step was refused: {exc}")
    crew.complete(ref, crew.vendor, {"shipment": f"tracking {ref}-TRK"})
    tick()
    crew.advance(10 * DAY)
    crew.confirm_value(ref)
    crew.rate(ref, 4, 5)
    out.notes.append("the customer confirmed value by signature (relayed) and rated the vendor 5/5")
    tick()
    return out


def _breached_lead(crew: Crew, ref: str, tick: Callable[[], None]) -> Outcome:
    out = Outcome(
        ref, "lead breached its deadline, escalated to another rep; onboarding late", "value_delivered"
    )
    crew.open(ref, assignee=crew.marketing)
    crew.qualify(ref, crew.rep_a)
    tick()
    crew.past_deadline(ref, margin=2 * HOUR)  # rep A lets the lead sit past its 24 working hours
    out.notes.extend(crew.keeper_round())
    crew.escalate(ref, crew.marketing, crew.rep_b)
    out.notes.append("Marketing escalated the lead from Sales rep A to Sales rep B")
    tick()
    crew.advance(3 * HOUR)
    crew.complete(ref, crew.rep_b, {"accepted_note": "picked up after escalation"})
    crew.ensure_funded(ref)
    crew.attest_identity(ref)
    crew.book(ref, crew.rep_b)
    crew.advance(4 * DAY)  # onboarding starts a day past its 3-day deadline
    out.notes.extend(crew.keeper_round())
    crew.complete(ref, crew.success, {"kickoff": "kick-off call, a day late"}, assign=crew.vendor)
    out.notes.append("Customer Success started onboarding late: its share is credited less its penalty")
    crew.complete(ref, crew.vendor, {"shipment": f"tracking {ref}-TRK"})
    tick()
    crew.confirm_value(ref)
    tick()
    return out


def _refused_booking(crew: Crew, ref: str, tick: Callable[[], None]) -> Outcome:
    out = Outcome(ref, "booking refused for a missing field, then made; delivery late", "value_delivered")
    crew.to_booking(ref, crew.rep_a, "qualified call")
    tick()
    incomplete = crew.booking_fields(ref)
    del incomplete["customer_goals"]
    try:
        crew.complete(ref, crew.rep_a, incomplete, assign=crew.success)
    except RuleError as exc:
        crew.say(f"{ref}: {exc}")
        out.notes.append(str(exc))
    else:  # the rule did not hold: the report says so
        out.notes.append("booking WAS NOT refused without customer_goals")
    crew.book(ref, crew.rep_a)
    out.notes.append("booked again with every required field")
    tick()
    crew.complete(ref, crew.success, {"kickoff": "kick-off call held"}, assign=crew.vendor)
    crew.advance(8 * DAY)  # the vendor delivers a day past its 7-day deadline
    crew.complete(ref, crew.vendor, {"shipment": f"tracking {ref}-TRK"})
    out.notes.append("the device was delivered a day late: the vendor's share is credited less its penalty")
    crew.confirm_value(ref)
    tick()
    return out


def _disputed(crew: Crew, ref: str, tick: Callable[[], None]) -> Outcome:
    out = Outcome(ref, "the customer disputed the delivery; the arbiter upheld it", "value_delivered")
    crew.to_booking(ref, crew.rep_b, "inbound")
    crew.book(ref, crew.rep_b)
    tick()
    crew.onboard_and_deliver(ref)
    crew.dispute(ref, 4, "the device arrived broken")
    out.notes.append("the customer disputed step 4 (device_delivered) by signature")
    tick()
    crew.advance(2 * DAY)
    crew.resolve(ref, upheld=True)
    out.notes.append("the arbiter upheld the dispute: the vendor's share is forfeited")
    crew.confirm_value(ref)
    tick()
    return out


def _expired(crew: Crew, ref: str, tick: Callable[[], None]) -> Outcome:
    out = Outcome(ref, "value never confirmed: the journey expired and the pool went back", "expired")
    crew.to_booking(ref, crew.rep_a, "outbound")
    crew.book(ref, crew.rep_a)
    crew.onboard_and_deliver(ref)
    tick()
    crew.advance(91 * DAY)  # the customer stays silent past the 90-day confirmation deadline
    out.notes.extend(crew.keeper_round())
    tick()
    return out


def _working_hours(crew: Crew, ref: str, tick: Callable[[], None]) -> Outcome:
    out = Outcome(
        ref,
        "a Friday-evening lead in working hours: no breach on Saturday, a pause, a warning in time",
        "open",
    )
    crew.open(ref, assignee=crew.marketing)
    now = crew.chain.w3.eth.get_block("latest")["timestamp"]
    friday = (now // DAY + (4 - (now // DAY + 3) % 7) % 7 + 7) * DAY  # a Friday a week or more ahead
    crew.advance(friday + 17 * HOUR + 55 * 60 - now)
    crew.qualify(ref, crew.rep_a)
    due = crew.client.journey(ref).deadline
    out.notes.append(
        f"lead handed to Sales rep A on Friday at 17:55: due {_when(due)} "
        "(24 working hours, Monday to Friday 09:00-17:00 UTC)"
    )
    tick()
    crew.advance(friday + DAY + 20 * HOUR - _now(crew))  # Saturday 20:00
    flagged = [line for line in crew.keeper_round() if ref in line]
    out.notes.append(
        "Saturday 20:00, past a wall-clock 24 hours: "
        + ("; ".join(flagged) if flagged else "not breached, the keeper flags nothing")
    )
    crew.advance(friday + 3 * DAY + 10 * HOUR - _now(crew))  # Monday 10:00
    crew.rep_a.client.pause_step(ref, "awaiting_customer")
    crew.advance(5 * HOUR)
    crew.rep_a.client.resume_step(ref)
    due = crew.client.journey(ref).deadline
    out.notes.append(
        f"Sales rep A paused the lead for 5 hours on Monday, waiting on the customer: "
        f"the paused working time does not count, the deadline moved to {_when(due)}"
    )
    tick()
    office = dict(crew.playbook.calendars)[str(crew.playbook.steps[1].calendar)]
    warn = calendar_warn_at(office, due, crew.playbook.steps[1].sla, crew.playbook.steps[1].warn_bps)
    crew.advance(warn + 60 - _now(crew))
    out.notes.extend(line for line in crew.keeper_round() if ref in line)
    crew.complete(ref, crew.rep_a, {"accepted_note": "accepted after the warning"})
    out.notes.append(f"Sales rep A accepted the lead at {_when(_now(crew))}, before its deadline: no breach")
    tick()
    return out


def _now(crew: Crew) -> int:
    return int(crew.chain.w3.eth.get_block("latest")["timestamp"])


def _when(timestamp: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).strftime("%A %H:%M UTC")


SCENARIOS = (
    ("OPP-1001", _on_time),
    ("OPP-1002", _breached_lead),
    ("OPP-1003", _refused_booking),
    ("OPP-1004", _disputed),
    ("OPP-1005", _expired),
    ("OPP-1006", _working_hours),
)
TICKS_PER_SCENARIO = 4


# --------------------------------------------------------------------------------------
# Running it and reporting
# --------------------------------------------------------------------------------------


@dataclass
class DemoReport:
    chain: dict[str, Any]
    journeys: list[dict[str, Any]]
    breaches: dict[str, Any]
    participants: list[dict[str, Any]]
    proof: dict[str, Any]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "chain": self.chain,
            "journeys": self.journeys,
            "breaches": self.breaches,
            "participants": self.participants,
            "proof": self.proof,
            "seconds": round(self.seconds, 2),
        }


@contextmanager
def network(
    work: Path | None = None, say: Callable[[str], None] = lambda _m: None, node: str = "anvil"
) -> Iterator[tuple[Chain, Crew]]:
    """A throwaway chain with the suite deployed and the network set up (roles granted, the
    rulebook accepted, the default playbook published, the funder funded). The vault, the
    keeper's state and the deployment file go to `work` (a temporary folder by default),
    so the user's own are never touched. `node` is the local node: anvil, or ganache."""
    with contextlib.ExitStack() as stack:
        if work is None:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="journey-demo-")))
        chain = stack.enter_context(throwaway_chain(node=node))
        deployment = deploy(chain, dev_account(0, chain), directory=work / "deployments")
        vault = stack.enter_context(Vault(work / "vault.sqlite"))
        crew = Crew(chain, deployment, vault, work / f"keeper-{chain.chain_id}.json", say)
        crew.set_up()
        yield chain, crew


def run_demo(
    say: Callable[[str], None] = lambda _m: None,
    progress: Callable[[int, int, str], None] = lambda _done, _total, _what: None,
    node: str = "anvil",
    then: Callable[[DemoReport, Crew], None] | None = None,
) -> DemoReport:
    """Run the six journeys on a throwaway chain (anvil, or ganache) and return the report;
    `then(report, crew)` runs before the chain stops (`journey demo --serve` serves the pages)."""
    started = time.monotonic()
    total = 2 + len(SCENARIOS) * TICKS_PER_SCENARIO
    done = 0

    def step(what: str) -> None:
        nonlocal done
        done = min(total, done + 1)
        progress(done, total, what)

    step("starting a throwaway chain, deploying the suite")
    with network(say=say, node=node) as (chain, crew):
        deployment, vault = crew.deployment, crew.vault
        crew.set_budget()
        step("network set up: roles, rulebook, playbook, the funder's standing budget")
        outcomes = []
        for ref, scenario in SCENARIOS:
            ticks = 0

            def tick(ref: str = ref) -> None:
                nonlocal ticks
                ticks += 1
                if ticks <= TICKS_PER_SCENARIO:
                    step(ref)

            outcomes.append(scenario(crew, ref, tick))
            while ticks < TICKS_PER_SCENARIO:
                tick()
        built = {tl.journey_id: tl for tl in timelines(chain.w3, crew.engine, crew.voice, deployment.block)}
        names = crew.names()
        credited = _credited(built.values())
        claimed = crew.claim_all()
        proof = vault.prove(
            chain.w3,
            crew.engine,
            "OPP-1001",
            2,
            "customer_goals",
            deployment.block,
            deployment=deployment.key,
        )
        report = DemoReport(
            chain={"url": chain.url, "chain_id": chain.chain_id, **deployment.as_dict()},
            journeys=[
                _journey_entry(o, built["0x" + crew.journeys[o.reference].hex()], names, crew)
                for o in outcomes
            ],
            breaches=_breach_entry(built.values(), crew),
            participants=_participants(crew, credited, claimed),
            proof=proof.to_dict(),
            seconds=0.0,
        )
        report.seconds = time.monotonic() - started
        if then is not None:
            then(report, crew)
    return report


def _credited(tls: Any) -> dict[str, int]:
    """Everything credited to each address: step payouts, forfeits, remainders and refunds."""
    credited: dict[str, int] = {}

    def add(who: str | None, amount: int) -> None:
        if who and amount:
            credited[who] = credited.get(who, 0) + amount

    for tl in tls:
        for owner, amount in tl.payouts.items():
            add(owner, amount)
        add(tl.forfeited_to, tl.forfeited)
        add(tl.funder, tl.remainder)
        add(tl.funder, tl.refund)
    return credited


def _journey_entry(outcome: Outcome, tl: Timeline, names: dict[str, str], crew: Crew) -> dict[str, Any]:
    customer = crew.customers[outcome.reference].key.address
    return {
        "reference": outcome.reference,
        "customer_signer": customer,
        # the customer signed its confirmation, dispute and rating; others paid the gas
        "customer_gas_balance": crew.chain.w3.eth.get_balance(customer),
        "scenario": outcome.scenario,
        "status": tl.status,
        "expected_status": outcome.expected,
        "notes": outcome.notes,
        "breaches": [
            {"step": b.step, "step_name": b.step_name, "against": names.get(b.assignee or "", b.assignee)}
            for b in tl.breaches
        ],
        "payouts": {names.get(a, a): amount for a, amount in tl.payouts.items()},
        "forfeited": tl.forfeited,
        "refund": tl.refund,
        "timeline": tl.to_dict(),
        "lines": [e.describe(names) for e in tl.entries],
    }


def _breach_entry(tls: Any, crew: Crew) -> dict[str, Any]:
    names = crew.names()
    report = sla_breaches(tls, names)
    teams: dict[str, int] = {}
    for role, count in report.by_role.items():
        team = TEAM_ROLES.get(role, role)
        teams[team] = teams.get(team, 0) + count
    return {
        "by_participant": report.by_participant,
        "by_team": teams,
        "by_sla_type": report.by_sla_type,
        "total": report.total,
    }


def _participants(crew: Crew, credited: dict[str, int], claimed: dict[str, int]) -> list[dict[str, Any]]:
    rows = []
    for m in crew.members.values():
        rows.append(
            {
                "name": m.name,
                "role": m.role or ("ADMIN" if m.key == "admin" else "-"),
                "address": m.address,
                "breaches": crew.engine.functions.breachCount(m.address).call(),
                "credited": credited.get(m.address, 0),
                "claimed": claimed.get(m.address, 0),
                "balance": crew.token.functions.balanceOf(m.address).call(),
            }
        )
    return rows


def write_report(report: DemoReport, out: Path) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
    tmp.replace(out)
    return out


def print_report(report: DemoReport, console: Any) -> None:
    """The report as tables and timelines, for people."""
    from rich.table import Table

    for j in report.journeys:
        tl = j["timeline"]
        table = Table(
            title=f"{j['reference']}: {j['scenario']} -> {j['status']}",
            title_justify="left",
            show_lines=False,
        )
        table.add_column("when", no_wrap=True)
        table.add_column("what")
        opened = tl["opened_at"]
        for entry, line in zip(tl["entries"], j["lines"], strict=True):
            mark = "[red]" if entry["late"] else ""
            table.add_row(f"+{duration(entry['time'] - opened)}", f"{mark}{line}")
        console.print(table)
    breaches = Table(title="SLA breaches", title_justify="left")
    breaches.add_column("participant")
    breaches.add_column("breaches", justify="right")
    for who, count in sorted(report.breaches["by_participant"].items()):
        breaches.add_row(who, str(count))
    for team, count in sorted(report.breaches["by_team"].items()):
        breaches.add_row(f"[dim]team: {team}[/dim]", f"[dim]{count}[/dim]")
    for kind, count in sorted(report.breaches.get("by_sla_type", {}).items()):
        breaches.add_row(f"[dim]{kind}: {SLA_KINDS[kind]}[/dim]", f"[dim]{count}[/dim]")
    console.print(breaches)
    money = Table(title="Credits and claims", title_justify="left")
    for col in ("participant", "role", "breaches", "credited", "claimed", "balance"):
        money.add_column(col, justify="left" if col in ("participant", "role") else "right")
    for p in report.participants:
        if p["credited"] or p["claimed"] or p["breaches"]:
            money.add_row(
                p["name"],
                p["role"],
                str(p["breaches"]),
                tokens(p["credited"]),
                tokens(p["claimed"]),
                tokens(p["balance"]),
            )
    console.print(money)
    proof = report.proof
    console.print(
        f"proved against the chain: {proof['field']} of step {proof['step']} of OPP-1001 = "
        f"{proof['value']!r} "
        f"(commitment {proof['commitment'][:12]}…, tx {proof['tx'][:12]}…)"
    )


def main(
    out: Path = DEFAULT_OUT,
    console: Any = None,
    node: str = "anvil",
    serve: Callable[[DemoReport, Crew], None] | None = None,
) -> DemoReport:
    """Run the demo with a progress bar, print the report and write it as JSON; then, with
    `serve`, hand the live demo chain to it (`journey demo --serve`) before the chain stops."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = console or Console()

    def finish(report: DemoReport, crew: Crew | None) -> None:
        print_report(report, console)
        path = write_report(report, out)
        console.print(f"report written to {path} ({report.seconds:.1f} s)")
        if serve is not None and crew is not None:
            serve(report, crew)

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("starting a throwaway chain", total=None)

        def progress(done: int, total: int, what: str) -> None:
            bar.update(task, completed=done, total=total, description=what)

        def then(report: DemoReport, crew: Crew) -> None:
            bar.stop()
            finish(report, crew)

        report = run_demo(
            say=lambda line: console.print(f"  {line}"),
            progress=progress,
            node=node,
            then=then if serve is not None else None,
        )
    if serve is None:
        finish(report, None)
    return report
