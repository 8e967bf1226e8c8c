"""What the web pages show, read from the chain through the SDK: the journeys with the overdue
and at-risk steps first, SLA compliance per organisation and per step, one journey's chain of
links with its rolling-hash check, and the customer's outside-in view with the requests it signs.

Every figure is computed from the timelines (the contracts' events) and the engine's state; the
page never computes one itself.
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from journeychain.client import JourneyClient
from journeychain.customer import REQUEST_FORMAT, CustomerRequest
from journeychain.encoding import genesis_head, next_head
from journeychain.errors import ConfigError
from journeychain.timeline import Timeline, hexstr, timeline, timelines
from journeychain.vault import Vault

CUSTOMER_ROLE = "CUSTOMER"
#: What the customer's page may ask the service to prepare.
CUSTOMER_ACTIONS = ("confirm", "dispute", "rate")


def csv_cell(value: Any) -> Any:
    """A CSV cell: a name a spreadsheet would run as a formula (=, +, -, @) is written as text."""
    text = str(value) if value is not None else ""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _percentile(values: list[int], q: float) -> int | None:
    """The q-quantile of `values` (nearest rank), None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 1))
    return ordered[int(rank) - 1]


@dataclass
class _Tally:
    """One organisation's or one step's SLA figures while they are summed."""

    journeys: set[str] = field(default_factory=set)
    completed: int = 0
    on_time: int = 0
    breaches: int = 0
    durations: list[int] = field(default_factory=list)
    payouts: int = 0
    ratings: list[int] = field(default_factory=list)

    def row(self, **key: Any) -> dict[str, Any]:
        return key | {
            "journeys": len(self.journeys),
            "steps_completed": self.completed,
            "on_time": self.on_time,
            "on_time_rate": round(self.on_time / self.completed, 4) if self.completed else None,
            "breaches": self.breaches,
            "median_s": int(statistics.median(self.durations)) if self.durations else None,
            "p90_s": _percentile(self.durations, 0.9),
            "payouts": str(self.payouts),
            "rating": round(sum(self.ratings) / len(self.ratings), 2) if self.ratings else None,
            "ratings": len(self.ratings),
        }


class WebSource:
    """The pages' data for one deployment, read through `client`.

    `records` gives a journey's local record (its reference, customer signer and profile hash,
    as `journey open` keeps them); `names` the address book's names; `now` the chain's time."""

    def __init__(
        self,
        client: JourneyClient,
        records: Callable[[bytes], dict[str, str] | None],
        names: dict[str, str] | None = None,
        vault: Callable[[], AbstractContextManager[Vault]] = Vault,
    ):
        self.client = client
        self._records = records
        self._names = names or {}
        self._vault = vault
        self._orgs: dict[str, int | None] = {}
        #: the statements of the last requests prepared here for each (journey, step, kind), by
        #: commitment: the relay confirms in the vault the one whose commitment was signed
        self._statements: dict[tuple[bytes, int, str], dict[str, dict[str, Any]]] = {}
        #: what was read at which block: the pages ask again at every block, the chain once
        self._cache: dict[tuple[Any, ...], tuple[int, Any]] = {}
        self._org_names: dict[int, str] = {}

    # -- helpers -------------------------------------------------------------------------

    def now(self) -> int:
        return self.client.chain.now()

    def version(self) -> int:
        """The latest block: the pages refresh when it moves."""
        return int(self.client.chain.w3.eth.block_number)

    def cached(self, key: tuple[Any, ...], read: Callable[[], Any]) -> Any:
        """`read()`, once per block for `key`."""
        block = self.version()
        hit = self._cache.get(key)
        if hit is not None and hit[0] == block:
            return hit[1]
        value = read()
        if len(self._cache) > 256:
            self._cache.clear()
        self._cache[key] = (block, value)
        return value

    def _timelines(self) -> list[Timeline]:
        c = self.client
        return self.cached(
            ("timelines",), lambda: timelines(c.chain.w3, c.engine, c.voice, from_block=c.deployment.block)
        )

    def _timeline(self, jid: bytes) -> Timeline:
        c = self.client
        return timeline(c.chain.w3, c.engine, jid, c.voice, from_block=c.deployment.block)

    def org_of(self, account: str | None) -> int | None:
        if not account:
            return None
        if account not in self._orgs:
            self._orgs[account] = self.client.participants.participant_record(account)[2] or None
        return self._orgs[account]

    def org_name(self, org: int | None) -> str:
        if not org:
            return "no organisation"
        if org not in self._org_names:
            self._org_names[org] = self.client.participants.organisation(org)["name"]
        return self._org_names[org]

    def name(self, account: str | None) -> str | None:
        if not account:
            return None
        return self._names.get(account) or f"{account[:6]}…{account[-4:]}"

    def journey_id(self, journey: str) -> bytes:
        return self.client.journey_id(journey)

    # -- the dashboard -------------------------------------------------------------------

    def journeys(self) -> list[dict[str, Any]]:
        """Every journey: overdue first, then at risk, then open ones by deadline, then the rest."""
        rows: list[dict[str, Any]] = self.cached(("journeys",), self._journeys)
        return rows

    def _journeys(self) -> list[dict[str, Any]]:
        now = self.now()
        rows = []
        for tl in self._timelines():
            jid = bytes.fromhex(tl.journey_id[2:])
            state = self.client.journeys.journey(jid)
            open_ = state.status == "open" and state.deadline > 0
            overdue = open_ and now > state.deadline
            org = state.org or self.org_of(state.assignee)
            rows.append(
                {
                    "journey": tl.journey_id,
                    "reference": state.reference,
                    "playbook": tl.playbook_id,
                    "status": state.status,
                    "step": state.step,
                    "step_name": state.step_name,
                    "responsible": self._responsible(tl, state.step, state.assignee, org)
                    if state.status == "open"
                    else None,
                    "organisation": self.org_name(org) if org else None,
                    "deadline": state.deadline or None,
                    "overdue": overdue,
                    "late_by": now - state.deadline if overdue else None,
                    "left": state.deadline - now if open_ and not overdue else None,
                    "at_risk": state.at_risk,
                    "breaches": len(tl.breaches),
                    "pool": str(state.pool),
                }
            )
        rows.sort(
            key=lambda r: (
                not r["overdue"],
                not r["at_risk"],
                r["status"] != "open",
                r["deadline"] or 2**63,
            )
        )
        return rows

    def _responsible(self, tl: Timeline, step: int, assignee: str | None, org: int | None) -> str | None:
        if 0 <= step < len(tl.steps) and tl.steps[step].role == CUSTOMER_ROLE:
            return "the customer"
        if assignee:
            return self.name(assignee)
        return self.org_name(org) if org else None

    def compliance(self, since: int | None = None, until: int | None = None) -> dict[str, Any]:
        """SLA figures per organisation and per playbook step over the journeys opened in
        [since, until): journeys handled, steps completed, on-time rate, breaches, median and
        90th-percentile time to complete, payouts credited and the customer's ratings."""
        orgs: dict[int | None, _Tally] = defaultdict(_Tally)
        steps: dict[tuple[int, int, str], _Tally] = defaultdict(_Tally)
        chosen = [
            tl
            for tl in self._timelines()
            if (since is None or tl.opened_at >= since) and (until is None or tl.opened_at < until)
        ]
        for tl in chosen:
            self._tally(tl, orgs, steps)
        return {
            "since": since,
            "until": until,
            "journeys": len(chosen),
            "organisations": sorted(
                (t.row(organisation=self.org_name(o), org=o) for o, t in orgs.items()),
                key=lambda r: r["organisation"],
            ),
            "steps": [t.row(playbook=p, step=i, name=n) for (p, i, n), t in sorted(steps.items())],
        }

    def _tally(
        self, tl: Timeline, orgs: dict[int | None, _Tally], steps: dict[tuple[int, int, str], _Tally]
    ) -> None:
        started = tl.opened_at
        for s in tl.steps:
            if s.completed_at is None or not s.by:
                continue
            # the customer's own step counts for its step, not for any organisation
            owners = [steps[(tl.playbook_id, s.step, s.name)]]
            if s.role != CUSTOMER_ROLE:
                owners.append(orgs[self.org_of(s.by)])
            for tally in owners:
                tally.journeys.add(tl.journey_id)
                tally.completed += 1
                tally.on_time += not s.late
                tally.durations.append(s.completed_at - started)
            started = s.completed_at
        for b in tl.breaches:
            org = self.org_of(b.assignee) if b.assignee else self._breach_org(tl, b.step)
            orgs[org].breaches += 1
            orgs[org].journeys.add(tl.journey_id)
            steps[(tl.playbook_id, b.step, b.step_name)].breaches += 1
        for owner, amount in tl.payouts.items():
            if amount:  # the customer's own step is paid nothing
                orgs[self.org_of(owner)].payouts += amount
        for e in tl.entries:
            if e.kind == "rated":
                orgs[self.org_of(e.details["owner"])].ratings.append(int(e.details["score"]))

    def _breach_org(self, tl: Timeline, step: int) -> int | None:
        for e in tl.entries:
            if e.kind == "breach" and e.step == step and e.details.get("org"):
                return int(e.details["org"])
        return None

    def compliance_csv(self, since: int | None = None, until: int | None = None) -> str:
        """The per-organisation and per-step tables as one CSV document."""
        import csv
        import io

        data = self.compliance(since, until)
        cell = csv_cell
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        cols = ["journeys", "steps_completed", "on_time", "on_time_rate", "breaches", "median_s", "p90_s"]
        cols += ["payouts", "rating", "ratings"]
        writer.writerow(["kind", "name", *cols])
        for r in data["organisations"]:
            writer.writerow(["organisation", cell(r["organisation"]), *(r[c] for c in cols)])
        for r in data["steps"]:
            writer.writerow(["step", cell(f"{r['playbook']}/{r['step']} {r['name']}"), *(r[c] for c in cols)])
        return out.getvalue()

    # -- one journey ---------------------------------------------------------------------

    def journey(self, jid: bytes) -> dict[str, Any]:
        """One journey's timeline, each entry described, and the check of its history against
        the chain's rolling hash (the engine's head equals the one rebuilt from the steps shown)."""
        tl = self._timeline(jid)
        data = tl.to_dict()
        data["reference"] = self.client.reference(jid)
        data["entries"] = [
            e | {"text": entry.describe(self._names)}
            for e, entry in zip(data["entries"], tl.entries, strict=True)
        ]
        for s in data["steps"]:
            s["organisation"] = self.org_name(self.org_of(s["by"])) if s["by"] else None
            s["by_name"] = self.name(s["by"])
        data["hash_check"] = self.hash_check(jid, tl)
        return data

    def hash_check(self, jid: bytes, tl: Timeline) -> dict[str, Any]:
        _customer, head = self.client.engine.functions.journeyCommitments(jid).call()
        rebuilt = genesis_head(jid, tl.playbook_id, bytes.fromhex(tl.customer[2:]))
        for s in tl.steps:
            if s.evidence and s.by:
                rebuilt = next_head(rebuilt, s.step, s.by, s.late, bytes.fromhex(s.evidence[2:]))
        return {"chain": hexstr(bytes(head)), "rebuilt": hexstr(rebuilt), "matches": bytes(head) == rebuilt}

    # -- the customer's page -------------------------------------------------------------

    def customer_view(self, jid: bytes) -> dict[str, Any]:
        """The outside-in view: every link, who owns it, what was promised and when, what is
        late; and what the customer may do now. No address, no personal data."""
        tl = self._timeline(jid)
        state = self.client.journeys.journey(jid)
        now = self.now()
        links = []
        for s in tl.steps:
            current = state.status == "open" and s.step == state.step
            org = (
                self.org_of(s.by) if s.by else (state.org or self.org_of(state.assignee) if current else None)
            )
            owner = "you" if s.role == CUSTOMER_ROLE else self.org_name(org) if org else None
            links.append(
                {
                    "step": s.step,
                    "name": s.name.replace("_", " "),
                    "owner": owner,
                    "promised_by": s.deadline,
                    "done_at": s.completed_at,
                    "late": bool(s.late) or (current and bool(s.deadline) and now > (s.deadline or 0)),
                    "late_by": s.late_by
                    or (now - s.deadline if current and s.deadline and now > s.deadline else None),
                    "state": "done" if s.completed_at else "now" if current else "later",
                    "disputed": s.disputed,
                }
            )
        confirmed = any(e.kind == "value_confirmed" for e in tl.entries)
        rated = {e.step for e in tl.entries if e.kind == "rated"}
        customer_turn = state.status == "open" and state.step == len(tl.steps) - 1
        return {
            "journey": tl.journey_id,
            "reference": self.client.reference(jid),
            "status": state.status,
            "links": links,
            "confirmed": confirmed,
            "can_confirm": customer_turn and not any(s.disputed for s in tl.steps),
            "can_dispute": [s.step for s in tl.steps if s.completed_at and customer_turn and not s.disputed],
            "can_rate": [
                s.step for s in tl.steps if s.completed_at and s.by and confirmed and s.step not in rated
            ],
        }

    def _customer(self, jid: bytes) -> tuple[str, bytes]:
        record = self._records(jid) or {}
        if not record.get("customer") or not record.get("profile"):
            raise ConfigError("this journey's customer is not recorded by this service: ask the operator")
        return record["customer"], bytes.fromhex(record["profile"].removeprefix("0x"))

    def customer_request(
        self, jid: bytes, action: str, step: int | None = None, score: int | None = None, text: str = ""
    ) -> CustomerRequest:
        """What the customer signs for `action`; a dispute's reason or a rating's comment goes to
        the vault as a salted commitment, as on the command line."""
        if action not in CUSTOMER_ACTIONS:
            raise ConfigError(f"a customer action is one of {', '.join(CUSTOMER_ACTIONS)}, not {action!r}")
        signer, profile = self._customer(jid)
        # an hour to sign, by the wall clock even when an idle local chain's last block lags it
        lifetime = 3_600 + max(0, int(time.time()) - self.now())
        with self._vault() as vault:
            request = self.client.customer_request(
                jid,
                action,
                signer,
                profile,
                step,
                reason=text if action == "dispute" else "",
                comment=text if action == "rate" else "",
                score=score,
                vault=vault,
                lifetime=lifetime,
            )
        if request.statement and request.step is not None:
            recent = self._statements.setdefault((jid, request.step, request.statement["kind"]), {})
            recent[str(request.statement["commitment"]).lower()] = request.statement
            while len(recent) > 4:  # a few tabs' worth: a stranger looping requests grows nothing
                del recent[next(iter(recent))]
        return request

    def customer_submit(self, jid: bytes, sent: Any, signature: str) -> dict[str, Any]:
        """Relays the customer's signature over the request the page sent back (its action,
        typed data, step and score): for this journey and its recorded customer only, whatever
        else the page says."""
        if not isinstance(sent, dict):
            raise ConfigError("the request is the one this page was given")
        signer, profile = self._customer(jid)
        request = CustomerRequest.from_dict(
            {
                "format": REQUEST_FORMAT,
                "action": sent.get("action"),
                "journey": hexstr(jid),
                "signer": signer,
                "profile": "0x" + profile.hex(),
                "typed_data": sent.get("typed_data"),
                "reference": self.client.reference(jid),
                "step": sent.get("step"),
                "score": sent.get("score"),
            },
            "the request",
        )
        # the statement is the one prepared here whose commitment was signed, never the page's
        kind = {"dispute": "dispute_reason", "rate": "rating_comment"}.get(request.action)
        said = request.message.get("reason") or request.message.get("comment")
        if kind and request.step is not None:
            recent = self._statements.get((jid, request.step, kind), {})
            request.statement = recent.pop(str(said).lower(), None)
        with self._vault() as vault:
            receipt = self.client.submit_customer_signature(request, signature, vault=vault)
        return {"action": request.action, "events": sorted(receipt.events)} | receipt.as_dict()
