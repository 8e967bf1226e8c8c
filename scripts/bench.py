"""Gas used per operation of the journey engine, on a freshly deployed suite.

Run with ``brownie run scripts/bench.py --network NAME`` (``make bench`` uses the default
network). The script deploys the token and the engine, grants the roles, has everyone
accept the rulebook, publishes the default playbook (playbooks/default.yaml) and then
drives journeys through it, recording the gas used by each transaction measured.

It prints a table and the engine's deployed bytecode size, checks the targets below
(PASS/MISS) and writes ``reports/gas.json``: a flat JSON object, operation name -> gas
used by the transaction (21,000 base included), nothing else at top level.

Operations:
- publish_playbook: publishing the default playbook.
- open_journey: opening a journey.
- complete_step_4_fields: the booking step, with its four fields and the check of the
  customer's identity attestation.
- flag_breach: flagging a passed lead-acceptance deadline.
- attest: a verifier's identity attestation about a customer.
- fund: funding a journey's pool (first funding of that journey).
- confirm_value: the customer's signed confirmation, relayed to the engine (the customer
  voice checks its signer); credits five step owners.
- claim_1 / claim_50: one claim covering credit from one journey / from fifty journeys.
- confirm_after_claim: the confirmation of a journey whose vendor claimed its credit just
  before (its credit slot is live: a claim leaves it at its sentinel).
- dispute: the customer's signed dispute of a completed step, relayed.
- set_budget: the funder's standing budget for the default playbook, set with a deposit (the
  tokens move to the engine once, for every journey that will draw on it).
- open_journey_budgeted: opening a journey whose pool is drawn from that budget at opening.
- full_journey: the sum for one default journey (opening, its pool drawn from the funder's
  standing budget, five step completions, confirmation: seven transactions), on a journey
  whose participants already hold credit records.
- full_journey_funded_apart: the same journey funded by its own `fund` transaction after the
  lead's acceptance, as a journey with no standing budget is (eight transactions).
- first_journey: the same sum for the very first journey (credit records created).
- complete_step_calendar: the same booking step where the next step (onboarding) counts its
  3-day SLA in working time, Monday to Friday 09:00-17:00 (the engine asks its calendars for
  the deadline).
- calendar_deadline_3d: computing a working-time deadline (a 3-day SLA from a Friday evening
  over Christmas, by an office calendar with holidays), as a view call.
- journey_batch_1 / journey_batch_10 / journey_batch_50: gas per journey when N default journeys
  go through the step relay: each journey's opening (its pool drawn from the funder's standing
  budget), five step completions (each signed by its step's owner over the rolling hash it will
  find) and the customer's signed confirmation (relayed as the relayer's own call) in relay
  batches of at most 25 journeys; the total gas of those batches divided by N.
- journey_batch_50_funded_apart: the same at 50, each journey funded instead by the funder's
  signed funding (one-time nonce) in the batch. As for
  full_journey, the identity attestations are made beforehand and not counted, and the
  participants already hold credit records.
- attest_batch_10: gas per attestation when a verifier's ten signed identity attestations
  (one-time nonces) are relayed in one batch.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from brownie import (
    AttestationRegistry,
    Calendars,
    CompanionFactory,
    CustomerVoice,
    Directory,
    JourneyEngine,
    JourneyToken,
    PlaybookPublisher,
    StepRelay,
    accounts,
    chain,
    web3,
)
from eth_account import Account

import scripts._brownie_engine
import scripts._brownie_receipts  # noqa: F401 (brownie waits for a receipt before it calls a transaction dropped)
from journeychain.accounts import dev_account
from journeychain.calendar import Calendar
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
from journeychain.playbook import load_playbook, role_id
from journeychain.signing import customer_signature, relay_action, sign_action, sign_typed, with_signature

RULEBOOK = b"\x11" * 32
POOL = 1_000 * 10**18
DAY = 86_400
HOUR = 3_600
ZERO = "0x" + "00" * 20
BOOKING_FIELDS = ["customer_goals", "success_criteria", "decision_maker", "contract_value"]
EIP170_LIMIT = 24_576
REPORT = Path("reports/gas.json")
#: Journeys per relay batch (a batch of 25 default journeys stays well under a block's gas).
RELAY_CHUNK = 25
#: A public chain's block gas limit, for the journeys one block holds.
BLOCK_30M = 30_000_000
BATCH_SIZES = (1, 10, 50)


class Customer:
    """A customer: a local signing key and a salted profile; the chain sees the commitment only."""

    def __init__(self) -> None:
        self.key = Account.create()
        self.profile = profile_hash("bench customer", new_salt())
        self.commitment = customer_commitment(self.key.address, self.profile)


class Bench:
    def __init__(self) -> None:
        a = accounts
        self.admin, self.marketing, self.sales, self.success = a[0], a[1], a[2], a[4]
        self.verifier, self.funder, self.arbiter, self.relayer = a[6], a[7], a[8], a[9]
        self.gas: dict[str, int] = {}
        self.counter = 0
        self.playbook = load_playbook()

    # --- deployment -------------------------------------------------------------
    def deploy(self) -> None:
        self.token = JourneyToken.deploy(self.admin, {"from": self.admin})
        factory = CompanionFactory.deploy({"from": self.admin})
        self.engine = JourneyEngine.deploy(self.admin, RULEBOOK, self.token, factory, {"from": self.admin})
        self.voice = CustomerVoice.at(self.engine.voice())
        self.registry = AttestationRegistry.at(self.engine.attestations())
        self.directory = Directory.at(self.engine.directory())
        self.relay = StepRelay.at(self.registry.trustedForwarder())
        self.nonces = 0
        # Two vendors: one owns the step of a single journey (claim_1), the other the
        # steps of fifty journeys (claim_50); both start with no token balance.
        self.vendor_one = self._new_account()
        self.vendor_many = self._new_account()
        e, d = self.engine, self.directory
        # one organisation each: the two vendors are rival firms
        grants = [
            ("MARKETING", self.marketing),
            ("SALES", self.sales),
            ("SUCCESS", self.success),
            ("VENDOR", self.vendor_one),
            ("VENDOR", self.vendor_many),
            ("VERIFIER", self.verifier),
            ("FUNDER", self.funder),
            ("ARBITER", self.arbiter),
        ]
        self.orgs = {}
        for org, (role, account) in enumerate(grants, start=1):
            d.registerOrganisation(short_name(f"org{org}"), 0, {"from": self.admin})
            d.addMember(org, account, {"from": self.admin})
            d.grantRole(role_id(role), account, {"from": self.admin})
            d.acceptRulebook({"from": account})
            self.orgs[account.address] = org
        for schema in self.playbook.schemas:
            self.registry.registerSchema(*schema.as_tuple(), {"from": self.admin})
        # the calendars the playbook declares (the lead acceptance's working hours), numbered
        calendar_ids = {}
        for name, calendar in self.playbook.calendars:
            published = Calendars.at(e.calendars()).publish(calendar.as_tuple(), {"from": self.admin})
            calendar_ids[name] = published.events["CalendarPublished"]["id"]
        self.calendar_ids = calendar_ids
        tx = PlaybookPublisher.at(e.publisher()).publishPlaybook(
            *self.playbook.publish_args(calendar_ids), {"from": self.admin}
        )
        self.gas["publish_playbook"] = tx.gas_used
        self.playbook_id = tx.return_value if tx.return_value else 1
        self.token.mint(self.funder, 10**9 * 10**18, {"from": self.admin})
        self.token.approve(e, 2**256 - 1, {"from": self.funder})

    def _new_account(self):
        account = accounts.add()
        self.admin.transfer(account, 10**18)
        return account

    # --- journeys -----------------------------------------------------------------
    def open(self, customer: Customer, playbook_id: int | None = None):
        self.counter += 1
        jid = journey_id(f"BENCH-{self.counter}")
        tx = self.engine.openJourney(
            jid,
            playbook_id or self.playbook_id,
            customer.commitment,
            ZERO,
            self.funder,
            {"from": self.marketing},
        )
        return jid, tx

    def complete(self, jid, sender, fields: list[str] | None = None, assign=ZERO, org=None, attesters=()):
        """Complete the current step, naming the next owner: `assign` (a participant) or the
        organisation of `org` (an account), or none (before the customer's step), and the
        verifier of each attestation the step requires."""
        pairs = [(short_name(k), commit(f"{k} value", new_salt())) for k in fields or []]
        org_id = self.orgs[org.address] if org is not None else 0
        tx = self.engine.completeStep(jid, pairs, list(attesters), org_id, assign, {"from": sender})
        event = tx.events["StepCompleted"]
        return tx, (event["by"], event["late"], evidence_hash(event["fields"]))

    def sign(self, customer: Customer, primary: str, message: dict) -> tuple:
        nonce = self.voice.nonceOf(message["journeyId"])
        deadline = chain.time() + DAY
        head = bytes(self.engine.journeyCommitments(message["journeyId"])[1])
        message = {**message, "history": head, "nonce": nonce, "deadline": deadline}
        signature = sign_typed(customer.key.key, chain.id, self.voice.address, primary, message)
        return customer_signature(customer.key.address, customer.profile, head, nonce, deadline, signature)

    def journey(self, vendor, playbook_id: int | None = None, budgeted: bool = False) -> dict[str, object]:
        """One default journey (or one of playbook `playbook_id`, the default's steps), start to
        confirmation, funded by its own transaction (or, `budgeted`, at its opening from the
        funder's standing budget); returns each transaction by name."""
        customer = Customer()
        txs: dict[str, object] = {}
        history = []
        jid, txs["open"] = self.open(customer, playbook_id)
        txs["complete_0"], rec = self.complete(jid, self.marketing, assign=self.sales)
        history.append(rec)
        txs["complete_1"], rec = self.complete(jid, self.sales, org=self.sales)
        history.append(rec)
        if budgeted:
            assert "PoolFunded" in txs["open"].events  # type: ignore[attr-defined]
        else:
            txs["fund"] = self.engine.fund(jid, POOL, {"from": self.funder})
        txs["attest"] = self.registry.attest(
            short_name("identity_verified"),
            customer_subject(jid, customer.commitment),
            0,
            b"\x22" * 32,
            {"from": self.verifier},
        )
        txs["complete_2"], rec = self.complete(
            jid, self.sales, BOOKING_FIELDS, org=self.success, attesters=[self.verifier]
        )
        history.append(rec)
        txs["complete_3"], rec = self.complete(jid, self.success, org=vendor)
        history.append(rec)
        txs["complete_4"], rec = self.complete(jid, vendor)
        history.append(rec)
        sig = self.sign(
            customer, "ConfirmValue", {"journeyId": jid, "playbookId": playbook_id or self.playbook_id}
        )
        txs["confirm"] = self.engine.confirmValue(jid, history, sig, {"from": self.relayer})
        return txs

    # --- signed steps, relayed in batches ------------------------------------------------
    def _key(self, account):
        """The signing key of a bench account: a development account's, or one made here."""
        private = getattr(account, "private_key", None)
        if private:
            return private
        for i in range(10):
            if dev_account(i).address == account.address:
                return dev_account(i).key
        raise ValueError(f"no key for {account}")

    def _signed(self, signer, target, data, head: bytes = b"\x00" * 20, nonce: int = 0):
        action = relay_action(
            signer.address,
            target.address,
            bytes.fromhex(data[2:]),
            head=head,
            nonce=nonce,
            deadline=chain.time() + DAY,
        )
        return action, sign_action(self._key(signer), chain.id, self.relay.address, action)

    def _journey_actions(self, vendor, budgeted: bool = True) -> list[tuple]:
        """One default journey's signed actions, start to confirmation, each signed over the
        rolling hash the journey will hold when it is applied (no step is late in one batch):
        its pool drawn at opening from the funder's standing budget, or (not `budgeted`) funded
        by the funder's signed funding before the booking."""
        e = self.engine
        customer = Customer()
        self.counter += 1
        jid = journey_id(f"BENCH-{self.counter}")
        self.registry.attest(
            short_name("identity_verified"),
            customer_subject(jid, customer.commitment),
            0,
            b"\x22" * 32,
            {"from": self.verifier},
        )
        pairs = [
            self._signed(
                self.marketing,
                e,
                e.openJourney.encode_input(jid, self.playbook_id, customer.commitment, ZERO, self.funder),
            )
        ]
        head = genesis_head(jid, self.playbook_id, customer.commitment)
        booking = [(short_name(k), commit(f"{k} value", new_salt())) for k in BOOKING_FIELDS]
        steps = [
            (self.marketing, [], [], 0, self.sales.address),
            (self.sales, [], [], self.orgs[self.sales.address], ZERO),
            (self.sales, booking, [self.verifier.address], self.orgs[self.success.address], ZERO),
            (self.success, [], [], self.orgs[vendor.address], ZERO),
            (vendor, [], [], 0, ZERO),
        ]
        history = []
        for step, (owner, fields, attesters, org, assign) in enumerate(steps):
            if step == 2 and not budgeted:
                self.nonces += 1
                pairs.append(self._signed(self.funder, e, e.fund.encode_input(jid, POOL), nonce=self.nonces))
            data = e.completeStep.encode_input(jid, fields, attesters, org, assign)
            pairs.append(self._signed(owner, e, data, head=head))
            record = (owner.address, False, evidence_hash(fields))
            history.append(record)
            head = next_head(head, step, *record)
        deadline = chain.time() + DAY
        message = {
            "journeyId": jid,
            "playbookId": self.playbook_id,
            "history": head,
            "nonce": 0,
            "deadline": deadline,
        }
        signature = sign_typed(customer.key.key, chain.id, self.voice.address, "ConfirmValue", message)
        sig = customer_signature(customer.key.address, customer.profile, head, 0, deadline, signature)
        confirm = e.confirmValue.encode_input(jid, history, sig)
        # the relayer's own call (the customer's signature is checked by the engine and its voice)
        pairs.append(
            (relay_action(self.relayer.address, e.address, bytes.fromhex(confirm[2:]), deadline=0), b"")
        )
        return pairs

    def journey_batch(self, n: int, budgeted: bool = True) -> int:
        """Gas per journey of `n` default journeys relayed in batches of at most RELAY_CHUNK."""
        total = 0
        for start in range(0, n, RELAY_CHUNK):
            pairs = []
            for _ in range(min(RELAY_CHUNK, n - start)):
                pairs.extend(self._journey_actions(self.vendor_many, budgeted))
            actions = [with_signature(action, signature) for action, signature in pairs]
            tx = self.relay.relay(actions, True, {"from": self.relayer})
            assert tx.events["BatchRelayed"]["refused"] == 0
            total += tx.gas_used
        return total // n

    def attest_batch(self, n: int) -> int:
        """Gas per attestation of `n` signed identity attestations relayed in one batch."""
        pairs = []
        for _ in range(n):
            customer = Customer()
            self.counter += 1
            subject = customer_subject(journey_id(f"BENCH-{self.counter}"), customer.commitment)
            data = self.registry.attest.encode_input(
                short_name("identity_verified"), subject, 0, b"\x22" * 32
            )
            self.nonces += 1
            pairs.append(self._signed(self.verifier, self.registry, data, nonce=self.nonces))
        actions = [with_signature(action, signature) for action, signature in pairs]
        tx = self.relay.relay(actions, True, {"from": self.relayer})
        assert len(tx.events["Attested"]) == n
        return tx.gas_used // n

    # --- the measurements -----------------------------------------------------------
    def run(self) -> None:
        # The first journey creates the participants' credit records; vendor_one claims it.
        first = self.journey(self.vendor_one)
        self.gas["first_journey"] = sum(tx.gas_used for k, tx in first.items() if k != "attest")
        self.gas["claim_1"] = self.engine.claim({"from": self.vendor_one}).gas_used
        # a payout after a claim: vendor_one (and every other owner) claimed or holds a record
        again = self.journey(self.vendor_one)
        self.gas["confirm_after_claim"] = again["confirm"].gas_used
        # fifty journeys for vendor_many; the second is measured: every one of its
        # participants (vendor_many included) already holds a credit record.
        self.journey(self.vendor_many)
        measured = self.journey(self.vendor_many)
        self.gas["open_journey"] = measured["open"].gas_used
        self.gas["complete_step_4_fields"] = measured["complete_2"].gas_used
        self.gas["attest"] = measured["attest"].gas_used
        self.gas["fund"] = measured["fund"].gas_used
        self.gas["confirm_value"] = measured["confirm"].gas_used
        apart = sum(tx.gas_used for k, tx in measured.items() if k != "attest")
        self.gas["full_journey_funded_apart"] = apart
        for _ in range(48):
            self.journey(self.vendor_many)
        self.gas["claim_50"] = self.engine.claim({"from": self.vendor_many}).gas_used

        # the funder's standing budget: the marketing team's openings draw each pool from it
        self.gas["set_budget"] = self.engine.setBudget(
            self.playbook_id, POOL, self.orgs[self.marketing.address], 100 * POOL, {"from": self.funder}
        ).gas_used
        self.journey(self.vendor_many, budgeted=True)
        measured = self.journey(self.vendor_many, budgeted=True)
        self.measured = measured
        self.gas["open_journey_budgeted"] = measured["open"].gas_used
        self.gas["full_journey"] = sum(tx.gas_used for k, tx in measured.items() if k != "attest")
        # the journeys below are funded by their own transactions, as before
        self.engine.setBudget(
            self.playbook_id, 0, self.orgs[self.marketing.address], 0, {"from": self.funder}
        )

        # flag_breach: the sales rep lets the lead-acceptance deadline pass.
        jid, _ = self.open(Customer())
        self.complete(jid, self.marketing, assign=self.sales)
        chain.sleep(self.engine.journey(jid)[4] + HOUR - chain.time())  # past its deadline
        chain.mine()
        self.gas["flag_breach"] = self.engine.flagBreach(jid, {"from": self.relayer}).gas_used

        # dispute: the customer disputes the booking once onboarding is under way.
        customer = Customer()
        jid, _ = self.open(customer)
        self.complete(jid, self.marketing, assign=self.sales)
        self.complete(jid, self.sales, org=self.sales)
        self.engine.fund(jid, POOL, {"from": self.funder})
        self.registry.attest(
            short_name("identity_verified"),
            customer_subject(jid, customer.commitment),
            0,
            b"\x22" * 32,
            {"from": self.verifier},
        )
        self.complete(jid, self.sales, BOOKING_FIELDS, org=self.success, attesters=[self.verifier])
        reason = b"\x33" * 32
        message = {"journeyId": jid, "playbookId": self.playbook_id, "step": 2, "reason": reason}
        sig = self.sign(customer, "Dispute", message)
        self.gas["dispute"] = self.voice.dispute(jid, 2, reason, sig, {"from": self.relayer}).gas_used

        # calendar_deadline_3d: the working-time deadline of a 3-day SLA (72 working hours)
        # started on a Friday evening, by an office calendar with four holidays (a view call:
        # the gas a step would spend computing it, 21,000 base included).
        calendars = Calendars.at(self.engine.calendars())
        office = Calendar.from_spec(
            {d: "09:00-17:30" for d in ("mon", "tue", "wed", "thu", "fri")},
            utc_offset="+01:00",
            holidays=["2026-12-24", "2026-12-25", "2026-12-31", "2027-01-01"],
        )
        holidays_id = calendars.publish(office.as_tuple(), {"from": self.admin}).events["CalendarPublished"][
            "id"
        ]
        friday = 1_797_612_900  # 2026-12-18 17:55 +01:00
        self.gas["calendar_deadline_3d"] = calendars.deadline.estimate_gas(
            holidays_id, friday, 3 * DAY, {"from": self.admin}
        )

        # complete_step_calendar: the booking step of the default playbook where onboarding
        # counts its 3 days in working time (Monday to Friday 09:00-17:00 UTC); the second
        # such journey is measured, as for complete_step_4_fields.
        cid = self.calendar_ids["office"]  # the default playbook's: Monday to Friday 09:00-17:00 UTC
        steps = list(self.playbook.steps)
        steps[3] = replace(steps[3], calendar=cid)
        variant = replace(self.playbook, name="default-calendar", steps=tuple(steps))
        tx = PlaybookPublisher.at(self.engine.publisher()).publishPlaybook(
            *variant.publish_args(self.calendar_ids), {"from": self.admin}
        )
        calendar_playbook = tx.events["PlaybookPublished"]["playbookId"]
        self.journey(self.vendor_many, calendar_playbook)
        measured = self.journey(self.vendor_many, calendar_playbook)
        self.gas["complete_step_calendar"] = measured["complete_2"].gas_used

        # signed steps, relayed in batches (after the rest: every participant holds credit),
        # each journey's pool drawn from the funder's standing budget at its opening
        self.engine.setBudget(
            self.playbook_id, POOL, self.orgs[self.marketing.address], 0, {"from": self.funder}
        )
        for n in BATCH_SIZES:
            self.gas[f"journey_batch_{n}"] = self.journey_batch(n)
        # and funded apart, by the funder's signed funding in the batch
        self.engine.setBudget(
            self.playbook_id, 0, self.orgs[self.marketing.address], 0, {"from": self.funder}
        )
        self.gas["journey_batch_50_funded_apart"] = self.journey_batch(50, budgeted=False)
        self.gas["attest_batch_10"] = self.attest_batch(10)

    # --- the report -------------------------------------------------------------
    def targets(self) -> list[tuple[str, str, bool]]:
        g = self.gas
        return [
            (
                "complete_step_4_fields < 60,000",
                f"{g['complete_step_4_fields']:,}",
                g["complete_step_4_fields"] < 60_000,
            ),
            (
                "complete_step_calendar < 70,000",
                f"{g['complete_step_calendar']:,}",
                g["complete_step_calendar"] < 70_000,
            ),
            ("full_journey < 450,000", f"{g['full_journey']:,}", g["full_journey"] < 450_000),
            (
                "claim_50 within 5,000 of claim_1",
                f"{g['claim_50'] - g['claim_1']:+,}",
                abs(g["claim_50"] - g["claim_1"]) <= 5_000,
            ),
            ("engine size < 24,576 bytes", f"{self.size:,}", self.size < EIP170_LIMIT),
            (
                f"journey_batch_1 <= full_journey ({g['full_journey']:,})",
                f"{g['journey_batch_1']:,}",
                g["journey_batch_1"] <= g["full_journey"],
            ),
            ("journey_batch_10 <= 300,000", f"{g['journey_batch_10']:,}", g["journey_batch_10"] <= 300_000),
            ("journey_batch_50 <= 260,000", f"{g['journey_batch_50']:,}", g["journey_batch_50"] <= 260_000),
            ("attest_batch_10 <= 60,000", f"{g['attest_batch_10']:,}", g["attest_batch_10"] <= 60_000),
        ]

    def report(self) -> None:
        self.size = len(web3.eth.get_code(self.engine.address))
        order = [
            "publish_playbook",
            "open_journey",
            "complete_step_4_fields",
            "complete_step_calendar",
            "flag_breach",
            "attest",
            "fund",
            "set_budget",
            "open_journey_budgeted",
            "confirm_value",
            "claim_1",
            "claim_50",
            "confirm_after_claim",
            "dispute",
            "full_journey",
            "full_journey_funded_apart",
            "first_journey",
            "calendar_deadline_3d",
            "journey_batch_1",
            "journey_batch_10",
            "journey_batch_50",
            "journey_batch_50_funded_apart",
            "attest_batch_10",
        ]
        print()
        print(f"{'operation':<26}{'gas used':>12}")
        print("-" * 38)
        for name in order:
            print(f"{name:<26}{self.gas[name]:>12,}")
        print()
        print("full_journey, by transaction:")
        for name, tx in self.measured.items():
            print(f"  {name:<24}{tx.gas_used:>12,}")
        print(
            "signed steps relayed in batches, per journey (today's separate transactions beside;"
            f" journeys a {BLOCK_30M // 1_000_000}M-gas block holds):"
        )
        today = self.gas["full_journey"]
        for n in BATCH_SIZES:
            batch = self.gas[f"journey_batch_{n}"]
            print(
                f"  journey_batch_{n:<10}{batch:>12,}   full_journey {today:>10,}"
                f"   per block {BLOCK_30M // batch:>4} against {BLOCK_30M // today}"
            )
        batch, today = self.gas["attest_batch_10"], self.gas["attest"]
        print(f"  attest_batch_10         {batch:>12,}   attest       {today:>10,}")
        print(f"engine deployed bytecode: {self.size:,} bytes (EIP-170 limit {EIP170_LIMIT:,})")
        print()
        for name, value, ok in self.targets():
            print(f"{name:<36}{value:>12}  {'PASS' if ok else 'MISS'}")
        REPORT.parent.mkdir(parents=True, exist_ok=True)
        REPORT.write_text(json.dumps({k: self.gas[k] for k in order}, indent=2) + "\n")
        print(f"\nwrote {REPORT}")


def main() -> None:
    bench = Bench()
    bench.deploy()
    bench.run()
    bench.report()
