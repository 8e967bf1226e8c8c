"""Shared fixtures: the deployed suite, its participants and a kit that drives journeys.

Accounts: 0 admin, 1 marketing, 2 sales, 3 second sales rep, 4 success, 5 vendor,
6 verifier, 7 funder, 8 arbiter, 9 outsider (no role).

Organisations (numbers in ORGS): Marketing, Sales (both reps), Customer Success, the device
supplier (the vendor), a verification firm, Finance (the funder) and an arbitration firm.
A rival vendor firm (a shipping company) is registered by the tests that need one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import brownie
import pytest
from brownie import (
    AttestationRegistry,
    CompanionFactory,
    CustomerVoice,
    Directory,
    JourneyEngine,
    JourneyToken,
    PlaybookPublisher,
    accounts,
    chain,
    web3,
)
from eth_account import Account

import scripts._brownie_engine
import scripts._brownie_receipts  # noqa: F401 (brownie waits for a receipt before it calls a transaction dropped)
from journeychain.accounts import dev_account
from journeychain.chain import Chain, throwaway_chain
from journeychain.client import JourneyClient
from journeychain.deployments import deploy
from journeychain.encoding import (
    commit,
    customer_commitment,
    customer_subject,
    evidence_hash,
    genesis_head,
    journey_id,
    new_salt,
    next_head,
    profile_hash,
    short_name,
)
from journeychain.playbook import load_playbook, parse_playbook, role_id
from journeychain.signing import customer_signature, permit_signature, sign_typed

RULEBOOK = b"\x11" * 32
POOL = 1_000 * 10**18
DAY = 86_400
HOUR = 3_600
BOOKING_FIELDS = ["customer_goals", "success_criteria", "decision_maker", "contract_value"]
#: The organisations `suite` registers, by number, and the role each owns steps of.
ORGS = {
    "marketing": 1,
    "sales": 2,
    "success": 3,
    "device_supplier": 4,
    "verifiers": 5,
    "finance": 6,
    "arbiters": 7,
}
ROLE_ORG = {
    role_id("MARKETING"): ORGS["marketing"],
    role_id("SALES"): ORGS["sales"],
    role_id("SUCCESS"): ORGS["success"],
    role_id("VENDOR"): ORGS["device_supplier"],
}
#: Step completion: name the next step's owner the way the default cast does (see Kit.complete).
AUTO = object()


@contextmanager
def reverts_with(error: str) -> Iterator[pytest.ExceptionInfo]:
    """Expect the call inside to revert with the custom error named `error` (brownie decodes
    it as "Name: args"); yields the exception info so that the arguments can be checked."""
    with pytest.raises(brownie.exceptions.VirtualMachineError) as info:
        yield info
    message = info.value.revert_msg or ""
    assert message.split(":")[0] == error, f"expected {error}, got {message!r}"


@pytest.fixture(autouse=True)
def isolation(fn_isolation):
    pass


@dataclass
class Team:
    admin: object
    marketing: object
    sales: object
    sales2: object
    success: object
    vendor: object
    verifier: object
    funder: object
    arbiter: object
    outsider: object


@dataclass
class Customer:
    """A customer: a local signing key and a salted profile; the chain sees the commitment only."""

    key: object = field(default_factory=Account.create)
    salt: bytes = field(default_factory=new_salt)
    #: the journey this customer was last opened on (Kit.open sets it): what `subject` names
    journey: bytes | None = None

    @property
    def address(self) -> str:
        return self.key.address

    @property
    def profile(self) -> bytes:
        return profile_hash("Ada Lovelace <ada@example.com>", self.salt)

    @property
    def commitment(self) -> bytes:
        """The journey's customer (16 bytes): what openJourney takes and JourneyOpened carries."""
        return customer_commitment(self.address, self.profile)

    @property
    def subject(self) -> bytes:
        """The customer of its last journey as an attestation subject: keccak256(journey id,
        commitment), so that an attestation never carries over to another journey."""
        assert self.journey is not None, "the customer has not been opened on a journey yet"
        return customer_subject(self.journey, self.commitment)


class Kit:
    """Drives journeys on the default playbook (id 1) the way the tests need."""

    def __init__(self, engine, voice, registry, token, team: Team, playbook_id: int = 1, directory=None):
        self.engine, self.voice, self.registry, self.token, self.team = engine, voice, registry, token, team
        self.directory = directory or Directory.at(engine.directory())
        self.playbook_id = playbook_id
        self._counter = 0
        self._roles: dict[int, list[bytes]] = {}
        self._attestation_counts: dict[int, list[int]] = {}

    # --- journeys -------------------------------------------------------------
    def open(
        self,
        customer: Customer | None = None,
        ref: str | None = None,
        assignee=None,
        sender=None,
        funder=None,
    ):
        self._counter += 1
        customer = customer or Customer()
        jid = journey_id(ref or f"OPP-{self._counter}-{customer.address}")
        tx = self.engine.openJourney(
            jid,
            self.playbook_id,
            customer.commitment,
            assignee or ZERO,
            funder or self.team.funder,
            {"from": sender or self.team.marketing},
        )
        customer.journey = jid
        return jid, customer, tx

    def roles(self, playbook_id: int) -> list[bytes]:
        """The role id of each step of a playbook."""
        if playbook_id not in self._roles:
            count = self.engine.playbook(playbook_id)[2]
            self._roles[playbook_id] = [bytes(self.engine.stepRules(playbook_id, i)[0]) for i in range(count)]
        return self._roles[playbook_id]

    def attestation_counts(self, playbook_id: int) -> list[int]:
        """How many attestations each step of a playbook requires."""
        if playbook_id not in self._attestation_counts:
            count = self.engine.playbook(playbook_id)[2]
            self._attestation_counts[playbook_id] = [
                int(self.engine.stepRules(playbook_id, i)[5]) for i in range(count)
            ]
        return self._attestation_counts[playbook_id]

    def complete(
        self, jid, sender, fields: dict[str, str] | None = None, assign=None, org=AUTO, attesters=None
    ):
        """Complete the current step as `sender`. The next step's owner is `assign` (a
        participant) or `org` (an organisation number); by default (AUTO, and no `assign`) the
        organisation the default cast gives the next step's role (ROLE_ORG), none for the
        customer's step. `attesters` names the verifier of each attestation the step requires
        (by default the team's verifier for each)."""
        playbook_id, step = self.engine.journey(jid)[:2]
        if org is AUTO:
            org = 0
            if assign is None:
                roles = self.roles(playbook_id)
                if step + 1 < len(roles):
                    org = ROLE_ORG.get(roles[step + 1], 0)
        if attesters is None:
            counts = self.attestation_counts(playbook_id)
            attesters = [self.team.verifier] * (counts[step] if step < len(counts) else 0)
        return self.engine.completeStep(
            jid, self.fields(fields or {}), list(attesters), org, assign or ZERO, {"from": sender}
        )

    def escalation_proof(self, jid) -> tuple[bytes, tuple]:
        """The rolling hash before the last completed step and that step's record: what proves to
        the engine who completed it (zeros before the first step)."""
        history = self.history(jid)
        if not history:
            return b"\x00" * 20, (ZERO, False, b"\x00" * 32)
        pid = self.engine.journey(jid)[0]
        head = genesis_head(jid, pid, bytes(self.engine.journeyCommitments(jid)[0]))
        for i, (by, late, evidence) in enumerate(history[:-1]):
            head = next_head(head, i, by, late, evidence)
        return head, history[-1]

    def escalate(self, jid, to, sender):
        before, previous = self.escalation_proof(jid)
        return self.engine.escalate(jid, to, before, previous, {"from": sender})

    def resolve(self, jid, upheld: bool, sender=None):
        return self.voice.resolveDispute(
            jid, upheld, self.history(jid), {"from": sender or self.team.arbiter}
        )

    @staticmethod
    def fields(fields: dict[str, str]) -> list[tuple[bytes, bytes]]:
        """The Field[] completeStep takes: (key, salted commitment) pairs in the order given (a
        None value: a zero commitment)."""
        return [
            (short_name(k), commit(v, new_salt()) if v is not None else b"\x00" * 32)
            for k, v in fields.items()
        ]

    def booking_fields(self, **overrides):
        values = {k: f"{k} value" for k in BOOKING_FIELDS}
        values.update(overrides)
        return {k: v for k, v in values.items() if v is not False}

    def attest_identity(self, customer: Customer, expiry: int = 0):
        return self.registry.attest(
            short_name("identity_verified"),
            customer.subject,
            expiry,
            b"\x22" * 32,
            {"from": self.team.verifier},
        )

    def fund(self, jid, amount: int = POOL):
        return self.engine.fund(jid, amount, {"from": self.team.funder})

    def to_booking(self, customer: Customer | None = None, fund: bool = True):
        """Open a journey and take it through lead acceptance; returns (jid, customer)."""
        jid, customer, _ = self.open(customer)
        self.complete(jid, self.team.marketing, assign=self.team.sales)
        self.complete(jid, self.team.sales)
        if fund:
            self.fund(jid)
        self.attest_identity(customer)
        return jid, customer

    def to_customer_step(self, customer: Customer | None = None):
        """A journey whose participant steps are all completed on time."""
        jid, customer = self.to_booking(customer)
        self.complete(jid, self.team.sales, self.booking_fields())
        self.complete(jid, self.team.success)
        self.complete(jid, self.team.vendor)
        return jid, customer

    # --- the chain's record ---------------------------------------------------
    def history(self, jid) -> list[tuple]:
        """Each completed step's (owner, late, evidence hash), rebuilt from StepCompleted events:
        the evidence hash of a step is keccak256(abi.encode(fields)) of the fields its event carries."""
        contract = web3.eth.contract(address=self.engine.address, abi=self.engine.abi)
        events = contract.events.StepCompleted.get_logs(from_block=0, argument_filters={"journeyId": jid})
        records = sorted(events, key=lambda e: e["args"]["step"])
        return [(e["args"]["by"], e["args"]["late"], evidence_hash(e["args"]["fields"])) for e in records]

    def paid_owners(self, jid, tx) -> list[str]:
        """Who each amount of the ValueConfirmed event in `tx` was credited to, in step order: each
        completed step's owner (the `by` of its StepCompleted, as the history lists them), then
        the customer."""
        return [by for by, _, _ in self.history(jid)] + [tx.events["ValueConfirmed"]["customer"]]

    # --- the customer's voice ---------------------------------------------------
    def sign(self, customer: Customer, primary: str, message: dict, deadline: int | None = None, nonce=None):
        deadline = deadline if deadline is not None else chain.time() + DAY
        nonce = self.voice.nonceOf(message["journeyId"]) if nonce is None else nonce
        head = message.get("history")
        if head is None:
            head = bytes(self.engine.journeyCommitments(message["journeyId"])[1])
        message = {**message, "history": head, "nonce": nonce, "deadline": deadline}
        signature = sign_typed(customer.key.key, chain.id, self.voice.address, primary, message)
        return customer_signature(customer.key.address, customer.profile, head, nonce, deadline, signature)

    def confirm(self, jid, customer: Customer, relayer=None, **kw):
        sig = self.sign(customer, "ConfirmValue", {"journeyId": jid, "playbookId": self.playbook_id}, **kw)
        return self.engine.confirmValue(jid, self.history(jid), sig, {"from": relayer or self.team.outsider})

    def dispute(self, jid, customer: Customer, step: int, reason: bytes = b"\x33" * 32, relayer=None, **kw):
        msg = {"journeyId": jid, "playbookId": self.playbook_id, "step": step, "reason": reason}
        sig = self.sign(customer, "Dispute", msg, **kw)
        return self.voice.dispute(jid, step, reason, sig, {"from": relayer or self.team.outsider})

    def rate(self, jid, customer: Customer, step: int, score: int, comment: bytes = b"\x44" * 32, **kw):
        msg = {
            "journeyId": jid,
            "playbookId": self.playbook_id,
            "step": step,
            "score": score,
            "comment": comment,
        }
        sig = self.sign(customer, "Rate", msg, **kw)
        return self.voice.rate(
            jid, self.history(jid), step, score, comment, sig, {"from": self.team.outsider}
        )


ZERO = "0x" + "00" * 20


@pytest.fixture(scope="module")
def team():
    a = accounts
    return Team(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9])


@pytest.fixture(scope="module")
def token(team):
    return JourneyToken.deploy(team.admin, {"from": team.admin})


@pytest.fixture(scope="module")
def engine(team, token):
    factory = CompanionFactory.deploy({"from": team.admin})
    return JourneyEngine.deploy(team.admin, RULEBOOK, token, factory, {"from": team.admin})


@pytest.fixture(scope="module")
def directory(engine):
    return Directory.at(engine.directory())


@pytest.fixture(scope="module")
def voice(engine):
    return CustomerVoice.at(engine.voice())


@pytest.fixture(scope="module")
def registry(engine):
    return AttestationRegistry.at(engine.attestations())


def wall_clock(playbook):
    """`playbook` with every SLA counted in wall-clock time (its calendars left out). The
    engine's rule tests run the default playbook so, moving the clock by plain hours; its
    working-time lead acceptance is tested by tests/test_calendar_steps.py, the SDK's and the
    command line's tests, and the demo."""
    steps = tuple(replace(s, calendar=0) for s in playbook.steps)
    return replace(playbook, steps=steps, calendars=())


@pytest.fixture(scope="module")
def default_playbook():
    return wall_clock(load_playbook())


def register_organisations(directory, admin) -> None:
    """The organisations of ORGS, in order (the device supplier and the verifiers and
    arbiters are outside firms)."""
    vendors = {"device_supplier", "verifiers", "arbiters"}
    for name in ORGS:
        directory.registerOrganisation(short_name(name), 1 if name in vendors else 0, {"from": admin})


def publisher_of(engine):
    """The engine's playbook publisher, through which ADMIN publishes playbooks."""
    return PlaybookPublisher.at(engine.publisher())


def register_schemas(engine, playbook, admin) -> None:
    """Register the schemas a playbook declares that its engine's registry does not know yet."""
    registry = AttestationRegistry.at(engine.attestations())
    for schema in playbook.schemas:
        name, role, subject = schema.as_tuple()
        if bytes(registry.schemaOf(name)[0]) == b"\x00" * 32:
            registry.registerSchema(name, role, subject, {"from": admin})


def enrol(directory, admin, account, org: int, *roles: str) -> None:
    """Make `account` a participant of `org` holding `roles`, having accepted the rulebook."""
    directory.addMember(org, account, {"from": admin})
    for role in roles:
        directory.grantRole(role_id(role), account, {"from": admin})
    directory.acceptRulebook({"from": account})


@pytest.fixture(scope="module")
def suite(engine, directory, token, team, default_playbook):
    """Organisations registered, roles granted, rulebook accepted by everyone, the default
    playbook published, funder funded."""
    register_organisations(directory, team.admin)
    cast = [
        (team.marketing, "marketing", "MARKETING"),
        (team.sales, "sales", "SALES"),
        (team.sales2, "sales", "SALES"),
        (team.success, "success", "SUCCESS"),
        (team.vendor, "device_supplier", "VENDOR"),
        (team.verifier, "verifiers", "VERIFIER"),
        (team.funder, "finance", "FUNDER"),
        (team.arbiter, "arbiters", "ARBITER"),
    ]
    for account, org, role in cast:
        enrol(directory, team.admin, account, ORGS[org], role)
    register_schemas(engine, default_playbook, team.admin)
    publisher_of(engine).publishPlaybook(*default_playbook.publish_args(), {"from": team.admin})
    token.mint(team.funder, 1_000_000 * 10**18, {"from": team.admin})
    token.approve(engine, 2**256 - 1, {"from": team.funder})
    return engine


@pytest.fixture(scope="module")
def kit(suite, voice, registry, token, team, directory):
    return Kit(suite, voice, registry, token, team, directory=directory)


# --- incentives and the customer's voice: playbook variants, late steps, permits ----------


def publish_variant(engine, admin, **options) -> int:
    """Publish a copy of the default playbook with some options changed (YAML names, e.g.
    penalty_to="customer", confirm_window="14d", verifier_may_confirm=True); returns its id."""
    import yaml

    from journeychain.playbook import DEFAULT_PLAYBOOK, parse_playbook

    data = yaml.safe_load(DEFAULT_PLAYBOOK.read_text(encoding="utf-8"))
    data["options"].update(options)
    data["name"] = "variant"
    playbook = wall_clock(parse_playbook(data, "variant"))
    register_schemas(engine, playbook, admin)
    tx = publisher_of(engine).publishPlaybook(*playbook.publish_args(), {"from": admin})
    return tx.events["PlaybookPublished"]["playbookId"]


def variant_kit(kit: Kit, playbook_id: int) -> Kit:
    """A kit that opens its journeys on another playbook."""
    return Kit(kit.engine, kit.voice, kit.registry, kit.token, kit.team, playbook_id, kit.directory)


def drive_to_customer_step(kit: Kit, late=(), customer: Customer | None = None, pool: int = POOL):
    """Open a journey and complete every participant step of the default playbook's
    shape; the steps in `late` are completed after their deadline. Returns (jid, customer)."""
    team = kit.team
    jid, customer, _ = kit.open(customer)
    kit.complete(jid, team.marketing, assign=team.sales)
    kit.fund(jid, pool)
    kit.attest_identity(customer)
    actors = {1: (team.sales, None), 2: (team.sales, kit.booking_fields()), 3: (team.success, None)}
    actors[4] = (team.vendor, None)
    for step, (sender, fields) in actors.items():
        if step in late:
            deadline = kit.engine.journey(jid)[4]
            chain.sleep(deadline - chain.time() + 60)
            chain.mine()
        kit.complete(jid, sender, fields)
    return jid, customer


def new_local_account(team: Team, eth: int = 10**18):
    """A fresh account with a private key (to sign permits), with some ether for gas."""
    account = accounts.add()
    team.admin.transfer(account, eth)
    return account


def sign_permit(token, owner, spender, value: int, deadline: int, nonce: int | None = None, chain_id=None):
    """An EIP-2612 permit of `owner` (a local account) for `spender`, as (v, r, s)."""
    return permit_signature(
        owner.private_key,
        chain_id=chain.id if chain_id is None else chain_id,
        token=token.address,
        token_name=token.name(),
        owner=owner.address,
        spender=str(spender),
        value=value,
        nonce=token.nonces(owner) if nonce is None else nonce,
        deadline=deadline,
    )


def assert_error_args(info, *values) -> None:
    """Check a custom error's arguments as brownie decodes them ("Name: a, b, ..."): bytes as
    Python bytes, addresses in lower case, numbers in decimal."""
    parts = []
    for value in values:
        if isinstance(value, (bytes, bytearray)):
            parts.append(repr(bytes(value)))
        elif isinstance(value, int):
            parts.append(str(value))
        else:
            parts.append(str(value).lower())
    message = info.value.revert_msg or ""
    assert message.split(": ", 1)[-1] == ", ".join(parts), f"unexpected arguments in {message!r}"


def expected_payouts(playbook, pool: int, late=(), upheld=()):
    """What the spec says each step's owner earns from `pool` under `playbook` (a parsed
    Playbook): its share less its penalty if late, nothing if a dispute of it was upheld.
    Returns (amounts per step, forfeited, remainder)."""
    amounts, forfeited, paid = [], 0, 0
    for i, step in enumerate(playbook.steps):
        gross = pool * step.share_bps // 10_000
        if i in upheld:
            penalty = gross
        elif i in late:
            penalty = gross * step.penalty_bps // 10_000
        else:
            penalty = 0
        amounts.append(gross - penalty)
        forfeited += penalty
        paid += gross
    return amounts, forfeited, pool - paid


JOURNEY_ENV = ("JOURNEY_HOME", "JOURNEY_DEPLOYMENTS", "JOURNEY_RPC", "JOURNEY_ACCOUNT", "JOURNEY_PASSWORD")


@pytest.fixture(scope="module")
def journey_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pytest.MonkeyPatch]:
    """The module's own SDK and command-line environment: every JOURNEY_* variable cleared,
    then a fresh JOURNEY_HOME and JOURNEY_DEPLOYMENTS. Yields the monkeypatch, for more
    variables or attributes; all of it is undone when the module ends."""
    with pytest.MonkeyPatch.context() as patch:
        for name in JOURNEY_ENV:
            patch.delenv(name, raising=False)
        patch.setenv("JOURNEY_HOME", str(tmp_path_factory.mktemp("home")))
        patch.setenv("JOURNEY_DEPLOYMENTS", str(tmp_path_factory.mktemp("deployments")))
        yield patch


@pytest.fixture(scope="module")
def journey_chain(journey_env: pytest.MonkeyPatch) -> Iterator[Chain]:
    """A private throwaway chain for the module, in `journey_env`, with JOURNEY_RPC naming it."""
    with throwaway_chain() as c:
        journey_env.setenv("JOURNEY_RPC", c.url)
        yield c


def sdk_crew(chain: Chain, playbook: dict, people: dict[str, int], mint: int) -> dict[str, JourneyClient]:
    """The suite deployed through the SDK on `chain` by dev:0 ("admin"), who publishes
    `playbook` (a YAML document as a dict); each of `people` (a role's name in lower case ->
    its dev account number) holds that role, in an organisation of its own named after it, and
    accepted the rulebook; the funder holds `mint`."""
    admin = JourneyClient(chain, deploy(chain, dev_account(0, chain)), dev_account(0, chain))
    crew = {name: admin.with_account(dev_account(i, chain)) for name, i in people.items()}
    for name, client in crew.items():
        org, _ = admin.register_organisation(name, vendor=name == "vendor")
        admin.grant_role(client.address, name.upper(), org=org)
        client.accept_rulebook()
    admin.accept_rulebook()
    admin.publish_playbook(parse_playbook(playbook))
    admin.mint(crew["funder"].address, mint)
    crew["admin"] = admin
    return crew


#: The walk-through's cast (README, `journey --help`): dev account -> (role, organisation, vendor).
CAST = {
    1: ("MARKETING", "Marketing", False),
    2: ("SALES", "Sales", False),
    3: ("SUCCESS", "Success", False),
    4: ("VENDOR", "Devices", True),
    5: ("VERIFIER", "Verifiers", True),
    6: ("FUNDER", "Finance", False),
    8: ("SALES", "Sales", False),
}
BOOKING = {
    "customer_goals": "grow 20%",
    "success_criteria": "live in May",
    "decision_maker": "COO",
    "contract_value": "120000",
}


def cast_network(chain: Chain) -> dict[int, JourneyClient]:
    """The suite deployed through the SDK on `chain` (the deployment file in JOURNEY_DEPLOYMENTS,
    where the command line finds it), the default playbook published and the walk-through's cast
    enrolled, each in its organisation, the rulebook accepted; dev:6 funds. Returns a client per
    dev account (0: ADMIN, 7: a relay with no role, 9: the customer)."""
    admin = JourneyClient(chain, deploy(chain, dev_account(0, chain)), dev_account(0, chain))
    orgs: dict[str, int] = {}
    for index, (role, org, vendor) in CAST.items():
        if org not in orgs:
            orgs[org], _ = admin.register_organisation(org, vendor=vendor)
        admin.grant_role(dev_account(index).address, role, org=orgs[org])
        admin.with_account(dev_account(index)).accept_rulebook()
    admin.publish_playbook(load_playbook())
    admin.mint(dev_account(6).address, 10_000 * 10**18)
    return {0: admin} | {i: admin.with_account(dev_account(i)) for i in range(1, 10)}


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server for the session (tests/pg.py): its URL, for `new_database`."""
    from tests.pg import postgres_server

    with postgres_server() as url:
        yield url
