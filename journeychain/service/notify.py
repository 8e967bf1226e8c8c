"""Notifications out: what happened, put in an outbox, delivered signed to each subscription.

Kinds: `at_risk` (the keeper's warning that a step nears its deadline), `breach`, `escalation`,
`dispute`, `value_confirmed` and `payout` (one per participant credited at settlement). The
chain's events feed them (read since the last block done, kept in the database), and so do the
keeper's rounds. Each notification is written to the outbox of every subscription that wants
its kind, once (keyed by what it is about: a breach of step 1 of a journey is one notification,
whether the keeper flagged it or another party did), before any delivery is tried; so a
restarted service delivers what it had not delivered yet. A delivery is an HTTP POST of JSON,
signed like a webhook (`Journey-Signature: t=...,v1=HMAC-SHA256(secret, "{t}.{body}")`, the
subscription's secret), retried with exponential backoff until the receiver answers 2xx, or
marked failed after `MAX_ATTEMPTS` tries.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

import requests

from journeychain.keeper import Round
from journeychain.service.auth import SIGNATURE_HEADER, signature_header
from journeychain.service.jobs import plain
from journeychain.service.store import Store, now
from journeychain.timeline import fetch_events, hexstr

log = logging.getLogger("journeychain.service.notify")

KINDS = ("at_risk", "breach", "escalation", "dispute", "value_confirmed", "payout")
#: The chain events each kind comes from.
EVENTS = ("StepCompleted", "BreachRecorded", "Escalated", "Disputed", "ValueConfirmed")
MAX_ATTEMPTS = 12
BACKOFF_BASE = 1.0
BACKOFF_CAP = 3600.0
TIMEOUT = 10.0


def backoff(attempts: int, base: float = BACKOFF_BASE, cap: float = BACKOFF_CAP) -> float:
    """Seconds before the next try after `attempts` failed ones: base, 2 base, 4 base, ... at most cap."""
    return float(min(cap, base * 2 ** max(0, attempts - 1)))


class Feed:
    """Turns the chain's events and the keeper's rounds into outbox entries."""

    def __init__(
        self,
        store: Store,
        w3: Any,
        engine: Any,
        references: Callable[[bytes], str | None],
        start: int,
        confirmations: int = 0,
    ):
        self.store, self.w3, self.engine = store, w3, engine
        self.references = references
        self.cursor = f"notify:{engine.address}"
        self.start = start
        #: how many blocks behind the head events are read (a reorganisation shallower than this
        #: never reaches a notification)
        self.confirmations = confirmations

    def _journey(self, jid: bytes | str) -> dict[str, Any]:
        raw = bytes.fromhex(jid[2:]) if isinstance(jid, str) else bytes(jid)
        return {"journey_id": hexstr(raw), "reference": self.references(raw)}

    def poll(self) -> int:
        """Reads the events since the last block done; returns how many notifications were added."""
        head = int(self.w3.eth.block_number) - self.confirmations
        first = self.store.cursor(self.cursor, self.start - 1) + 1
        if first > head:
            return 0
        added = 0
        owners: dict[str, list[str]] = {}
        for ev in fetch_events(self.w3, [self.engine], EVENTS, first, head):
            added += self.event(ev.name, ev.args, ev.block, ev.tx, owners)
        self.store.set_cursor(self.cursor, head)
        return added

    def event(
        self, name: str, args: dict[str, Any], block: int, tx: str, owners: dict[str, list[str]]
    ) -> int:
        jid = hexstr(args["journeyId"])
        about = self._journey(jid) | {"block": block, "tx": tx}
        if name == "StepCompleted":
            owners.setdefault(jid, []).append(args["by"])
            return 0
        if name == "BreachRecorded":
            return self.store.enqueue(
                "breach",
                f"breach:{jid}:{args['step']}",
                about | {"step": args["step"], "assignee": args["assignee"], "org": args["org"]},
            )
        if name == "Escalated":
            key = f"escalation:{jid}:{args['step']}:{args['to']}:{args['deadline']}"
            return self.store.enqueue(
                "escalation",
                key,
                about | {"step": args["step"], "to": args["to"], "deadline": args["deadline"]},
            )
        if name == "Disputed":
            return self.store.enqueue(
                "dispute", f"dispute:{jid}:{args['step']}", about | {"step": args["step"]}
            )
        if name == "ValueConfirmed":
            amounts = [int(a) for a in args["amounts"]]
            added = self.store.enqueue(
                "value_confirmed",
                f"value_confirmed:{jid}",
                about
                | {
                    "by": args["by"],
                    "amounts": [str(a) for a in amounts],
                    "remainder": str(args["remainder"]),
                },
            )
            paid = [*self._owners(jid, owners), args["customer"]]
            for step, (owner, amount) in enumerate(zip(paid, amounts, strict=False)):
                if amount:
                    added += self.store.enqueue(
                        "payout",
                        f"payout:{jid}:{step}",
                        about | {"step": step, "owner": owner, "amount": str(amount)},
                    )
            return added
        return 0

    def _owners(self, jid: str, seen: dict[str, list[str]]) -> list[str]:
        """Each step's owner (the `by` of its StepCompleted), read from the chain when the steps
        were completed before the blocks this round read."""
        logs = fetch_events(
            self.w3, [self.engine], ["StepCompleted"], self.start, journey=bytes.fromhex(jid[2:])
        )
        return [e.args["by"] for e in sorted(logs, key=lambda e: e.args["step"])] or seen.get(jid, [])

    def keeper_round(self, report: Round) -> int:
        """The keeper's warnings (at risk) and flags (breaches) as notifications."""
        added = 0
        for action in report.actions:
            about = self._journey(action.journey) | {"step": action.step, "deadline": action.deadline}
            if action.kind == "warned":
                key = f"at_risk:{action.journey}:{action.step}:{action.deadline}"
                added += self.store.enqueue("at_risk", key, about)
            elif action.kind == "flagged":
                key = f"breach:{action.journey}:{action.step}"
                added += self.store.enqueue("breach", key, about | {"tx": action.tx})
        return added


class Dispatcher:
    """Delivers the outbox: each due delivery POSTed, signed, and recorded."""

    def __init__(
        self,
        store: Store,
        session: requests.Session | None = None,
        max_attempts: int = MAX_ATTEMPTS,
        base: float = BACKOFF_BASE,
        cap: float = BACKOFF_CAP,
    ):
        self.store = store
        self.http = session or requests.Session()
        self.max_attempts, self.base, self.cap = max_attempts, base, cap

    def deliver_due(self) -> int:
        """Tries every delivery that is due; returns how many were delivered."""
        delivered = 0
        subs: dict[str, dict[str, Any] | None] = {}
        for entry in self.store.due_deliveries(time.time()):
            sid = entry["subscription"]
            if sid not in subs:
                subs[sid] = self.store.subscription(sid)
            sub = subs[sid]
            if sub is None:
                self.store.update_delivery(
                    entry["id"], state="failed", last_error="the subscription was removed"
                )
                continue
            delivered += self.deliver(entry, sub)
        return delivered

    def deliver(self, entry: dict[str, Any], sub: dict[str, Any]) -> int:
        body = json.dumps(
            {
                "id": entry["id"],
                "kind": entry["kind"],
                "key": entry["event_key"],
                "data": plain(entry["payload"]),
                "created_at": entry["created_at"],
            },
            sort_keys=True,
        ).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature_header(sub["secret"], body),
            "Journey-Delivery": str(entry["id"]),
        }
        attempts = entry["attempts"] + 1
        try:
            answer = self.http.post(sub["url"], data=body, headers=headers, timeout=TIMEOUT)
            error = None if 200 <= answer.status_code < 300 else f"the receiver answered {answer.status_code}"
        except requests.RequestException as exc:
            error = f"the receiver could not be reached ({type(exc).__name__})"
        if error is None:
            self.store.update_delivery(
                entry["id"], state="delivered", attempts=attempts, delivered_at=now(), last_error=None
            )
            return 1
        if attempts >= self.max_attempts:
            self.store.update_delivery(entry["id"], state="failed", attempts=attempts, last_error=error)
            log.warning("delivery %s to %s failed for good: %s", entry["id"], sub["url"], error)
            return 0
        retry_at = time.time() + backoff(attempts, self.base, self.cap)
        self.store.update_delivery(
            entry["id"], attempts=attempts, next_attempt_at=int(retry_at + 0.999), last_error=error
        )
        return 0
