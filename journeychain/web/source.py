"""What the web pages show, read from the index (the read model folded from the contracts'
events, journeychain.index): the journeys with the overdue and at-risk steps first, SLA
compliance per organisation and per step (the very rows `journey report` prints), one
journey's chain of links with its rolling-hash check, and the customer's outside-in view with
the requests it signs.

The index is brought up to date once per block, whatever the number of pages open; the page
never computes a figure itself.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from journeychain.client import JourneyClient
from journeychain.customer import REQUEST_FORMAT, CustomerRequest
from journeychain.encoding import rolling_head
from journeychain.errors import ConfigError
from journeychain.index import Index
from journeychain.index.report import COLUMNS as REPORT_COLUMNS
from journeychain.timeline import Timeline, hexstr
from journeychain.vault import Vault

CUSTOMER_ROLE = "CUSTOMER"
#: What the customer's page may ask the service to prepare.
CUSTOMER_ACTIONS = ("confirm", "dispute", "rate")
#: The report's columns the pages and the CSV show, in order (`journey report`'s, less its
#: group and name).
COLUMNS = REPORT_COLUMNS[2:]


def csv_cell(value: Any) -> Any:
    """A CSV cell: a name a spreadsheet would run as a formula (=, +, -, @) is written as text."""
    text = str(value) if value is not None else ""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    """A report row for the page: token amounts as decimal strings (JSON numbers lose digits)."""
    return row | {"payouts": str(row["payouts"]), "penalties": str(row["penalties"])}


class WebSource:
    """The pages' data for one deployment, read from `index` (an in-memory one of `client`'s
    deployment when none is given), brought up to date from `client`'s chain.

    `records` gives a journey's local record (its reference, customer signer and profile hash,
    as `journey open` keeps them); `names` the address book's names."""

    def __init__(
        self,
        client: JourneyClient,
        records: Callable[[bytes], dict[str, str] | None],
        names: dict[str, str] | None = None,
        vault: Callable[[], AbstractContextManager[Vault]] = Vault,
        index: Index | None = None,
    ):
        self.client = client
        #: the index the pages read; one of its own (a scratch file) unless given, closed by close()
        self.index = index if index is not None else Index.open("sqlite://", client.deployment)
        self._owns_index = index is None
        self._records = records
        self._names = names or {}
        self._vault = vault
        self._orgs: dict[str, int | None] = {}
        self._org_names: dict[int, str] = {}
        #: the statements of the last requests prepared here for each (journey, step, kind), by
        #: commitment: the relay confirms in the vault the one whose commitment was signed
        self._statements: dict[tuple[bytes, int, str], dict[str, dict[str, Any]]] = {}
        #: what was read at which block: the pages ask again at every block, the chain once
        self._cache: dict[tuple[Any, ...], tuple[int, Any]] = {}
        self._synced = -1
        self._roles: dict[int, list[str]] = {}

    def close(self) -> None:
        """Closes the index the source opened for itself (a given index stays open)."""
        if self._owns_index:
            self.index.close()

    def __enter__(self) -> WebSource:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- helpers -------------------------------------------------------------------------

    def now(self) -> int:
        return self.client.chain.now()

    def version(self) -> int:
        """The latest block: the pages refresh when it moves."""
        return int(self.client.chain.w3.eth.block_number)

    def cached(self, key: tuple[Any, ...], read: Callable[[], Any]) -> Any:
        """`read()` over an index brought up to the latest block, once per block for `key`."""
        block = self.version()
        hit = self._cache.get(key)
        if hit is not None and hit[0] == block:
            return hit[1]
        if self._synced != block:
            self.index.sync(self.client.chain)
            self._synced = block
        value = read()
        if len(self._cache) > 256:
            self._cache.clear()
        self._cache[key] = (block, value)
        return value

    def _timeline(self, jid: bytes) -> Timeline:
        tl = self.cached(("timeline", jid), lambda: self.index.timeline(hexstr(jid)))
        if tl is None:
            raise ConfigError(f"journey {hexstr(jid)} was never opened on this deployment")
        return tl

    def org_of(self, account: str | None) -> int | None:
        if not account:
            return None
        if account not in self._orgs:
            self._orgs = {p["account"]: p["org"] or None for p in self.index.participants()}
        return self._orgs.get(account)

    def org_name(self, org: int | None) -> str:
        if not org:
            return "no organisation"
        if org not in self._org_names:  # read again only for an organisation not seen yet
            self._org_names = {int(o["org"]): str(o["name"]) for o in self.index.organisations()}
        return self._org_names.get(org, f"organisation {org}")

    def name(self, account: str | None) -> str | None:
        if not account:
            return None
        return self._names.get(account) or f"{account[:6]}…{account[-4:]}"

    def journey_id(self, journey: str) -> bytes:
        return self.client.journey_id(journey)

    def _role(self, playbook: int, step: int) -> str | None:
        if playbook not in self._roles:
            steps = self.client.playbooks.playbook(playbook).playbook.steps
            self._roles[playbook] = [s.role for s in steps]
        roles = self._roles[playbook]
        return roles[step] if 0 <= step < len(roles) else None

    # -- the dashboard -------------------------------------------------------------------

    def journeys(self) -> list[dict[str, Any]]:
        """Every journey: overdue first, then at risk, then open ones by deadline, then the rest."""
        rows: list[dict[str, Any]] = self.cached(("journeys",), self._journeys)
        return rows

    def _journeys(self) -> list[dict[str, Any]]:
        now = self.now()
        rows = []
        for _block, state in self.index.states(
            None, now, lambda j: self.client.reference(bytes.fromhex(j[2:]))
        ):
            open_ = state.status == "open" and state.deadline > 0
            overdue = open_ and now > state.deadline
            org = state.org or self.org_of(state.assignee)
            if state.status != "open":
                responsible = None
            elif self._role(state.playbook_id, state.step) == CUSTOMER_ROLE:
                responsible = "the customer"
            else:
                responsible = self.name(state.assignee) or (self.org_name(org) if org else None)
            rows.append(
                {
                    "journey": state.journey_id,
                    "reference": state.reference,
                    "playbook": state.playbook_id,
                    "status": state.status,
                    "step": state.step,
                    "step_name": state.step_name,
                    "responsible": responsible,
                    "organisation": self.org_name(org) if org else None,
                    "deadline": state.deadline or None,
                    "overdue": overdue,
                    "late_by": now - state.deadline if overdue else None,
                    "left": state.deadline - now if open_ and not overdue else None,
                    "at_risk": state.at_risk,
                    "breaches": len(state.breached_steps),
                    "pool": str(state.pool),
                }
            )
        rows.sort(
            key=lambda r: (not r["overdue"], not r["at_risk"], r["status"] != "open", r["deadline"] or 2**63)
        )
        return rows

    def compliance(self, since: int | None = None, until: int | None = None) -> dict[str, Any]:
        """SLA figures per organisation and per playbook step over [since, until]: the index's
        report (`journey report --by organisation` and `--by step`), as the pages show it."""

        def read() -> dict[str, Any]:
            return {
                "since": since,
                "until": until,
                "columns": list(COLUMNS),
                "organisations": [_shown(r) for r in self.index.report(since, until, "organisation")],
                "steps": [_shown(r) for r in self.index.report(since, until, "step")],
            }

        data: dict[str, Any] = self.cached(("compliance", since, until), read)
        return data

    def compliance_csv(self, since: int | None = None, until: int | None = None) -> str:
        """The per-organisation and per-step tables as one CSV document."""
        data = self.compliance(since, until)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["kind", "name", *COLUMNS])
        for kind, rows in (("organisation", data["organisations"]), ("step", data["steps"])):
            for r in rows:
                writer.writerow([kind, csv_cell(r["name"]), *(r[c] for c in COLUMNS)])
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
        done = [
            (s.step, s.by, s.late, bytes.fromhex(s.evidence[2:])) for s in tl.steps if s.evidence and s.by
        ]
        rebuilt = rolling_head(jid, tl.playbook_id, bytes.fromhex(tl.customer[2:]), done)
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
