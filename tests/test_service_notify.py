"""Notifications out: subscriptions, deliveries signed and retried with backoff to a failing
receiver until it answers, each notification once whichever source saw it first, and none
lost when the service stops and starts again. The keeper runs inside the service.

A private anvil of its own (a free port); the service runs in this process; the receiver is a
small HTTP server of the test's own (a free port).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient
from service_helpers import add_integration, customer, journey_home, served, wait_final

from journeychain.accounts import dev_account
from journeychain.demo import network
from journeychain.errors import AuthenticationError
from journeychain.service.app import create_app
from journeychain.service.auth import verify_signature
from journeychain.service.notify import Feed, backoff
from journeychain.service.store import Store, subscriptions


class Receiver:
    """Answers 500 to the first `failures` requests, then 200; keeps every request."""

    def __init__(self, failures: int = 0):
        self.failures = failures
        self.requests: list[tuple[dict[str, str], bytes, int]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = 500 if receiver.failures > 0 else 200
                receiver.failures -= 1
                receiver.requests.append((dict(self.headers), body, status))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def bodies(self, status: int = 200) -> list[dict]:
        return [json.loads(body) for _h, body, s in self.requests if s == status]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    work = tmp_path_factory.mktemp("notify")
    with journey_home(work), network(work) as (chain, crew):
        store = Store(f"sqlite:///{work / 'service.sqlite'}")
        crm = add_integration(store, chain, "crm", [1, 2])
        yield chain, crew, store, crm


def until(check, timeout: float = 60.0, what: str = "it"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {timeout} s")


def subscribe(http, crm, url: str, events: list[str]) -> dict:
    answer = http.post("/subscriptions", json={"url": url, "events": events}, headers=crm.headers)
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_backoff_doubles_up_to_its_cap():
    assert [backoff(n, 1.0, 10.0) for n in (1, 2, 3, 4, 5, 6)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


def test_a_subscription_to_an_unknown_kind_is_refused(net):
    chain, crew, store, crm = net
    service = served(chain, crew, store, [1, 2])
    with TestClient(create_app(service)) as http:
        answer = http.post(
            "/subscriptions", json={"url": "http://x.example/h", "events": ["gossip"]}, headers=crm.headers
        )
        assert answer.status_code == 422
        assert answer.json()["error"].startswith("events must name one or more of at_risk, breach")
        answer = http.post(
            "/subscriptions", json={"url": "ftp://x.example/h", "events": ["breach"]}, headers=crm.headers
        )
        assert answer.status_code == 422 and "is not an http or https URL" in answer.json()["error"]


def test_warnings_and_breaches_are_delivered_signed_and_retried_until_received(net):
    chain, crew, store, crm = net
    receiver = Receiver(failures=2)
    other = Receiver()
    service = served(chain, crew, store, [1, 2], keeper_interval=0.3)
    service.start()
    try:
        with TestClient(create_app(service)) as http:
            sub = subscribe(http, crm, receiver.url, ["at_risk", "breach"])
            settled = subscribe(http, crm, other.url, ["value_confirmed"])
            body = {"reference": "NOTE-1", **customer("NOTE-1"), "funder": crew.funder.address, "as": "dev:1"}
            opened = http.post("/journeys", json=body, headers=crm.headers).json()
            get = lambda p: http.get(p, headers=crm.headers).json()  # noqa: E731
            assert wait_final(get, opened["id"])["state"] == "mined"
            step = {"assign": dev_account(2, chain).address, "as": "dev:1"}
            done = http.post("/journeys/NOTE-1/steps/0/complete", json=step, headers=crm.headers).json()
            assert wait_final(get, done["id"])["state"] == "mined"
            state = crew.client.journey("NOTE-1")
            chain.advance(state.warn_at + 60 - chain.now())  # past 80% of its 24 working hours
            until(lambda: receiver.bodies(), what="the at-risk delivery")
            chain.advance(state.deadline + 60 - chain.now())  # past its deadline: the keeper flags it
            until(lambda: [b for b in receiver.bodies() if b["kind"] == "breach"], what="the breach delivery")
            time.sleep(1.5)  # a few more rounds: the chain's BreachRecorded must not deliver it again
            deliveries = http.get(f"/subscriptions/{sub['id']}/deliveries", headers=crm.headers).json()
    finally:
        service.stop()
        receiver.close()
        other.close()
    kinds = [d["kind"] for d in deliveries]
    assert kinds == ["at_risk", "breach"], deliveries
    assert all(d["state"] == "delivered" for d in deliveries)
    assert deliveries[0]["attempts"] == 3  # two 500s, then delivered
    assert [s for _h, _b, s in receiver.requests] == [500, 500, 200, 200]
    at_risk, breach = receiver.bodies()
    assert at_risk["data"]["reference"] == "NOTE-1" and at_risk["data"]["step"] == 1
    assert breach["data"]["step"] == 1
    for headers, raw, _status in receiver.requests:
        verify_signature(headers["Journey-Signature"], sub["secret"], raw)  # signed with its secret
        with pytest.raises(AuthenticationError):
            verify_signature(headers["Journey-Signature"], settled["secret"], raw)
    assert other.requests == []  # it wants value_confirmed only


def test_settlement_disputes_and_payouts_are_notified_and_survive_a_restart(net):
    chain, crew, store, crm = net
    receiver = Receiver()
    receiver.close()  # down: every delivery fails for now
    service = served(chain, crew, store, [1, 2], backoff_base=1.0)
    service.start()
    try:
        with TestClient(create_app(service)) as http:
            sub = subscribe(http, crm, receiver.url, ["dispute", "value_confirmed", "payout", "escalation"])
        crew.to_booking("NOTE-2", crew.rep_a, "accepted")
        crew.book("NOTE-2", crew.rep_a)
        crew.onboard_and_deliver("NOTE-2")
        crew.dispute("NOTE-2", 4, "late device")
        crew.resolve("NOTE-2", upheld=False)
        crew.confirm_value("NOTE-2")
        until(lambda: len(store.deliveries(sub["id"])) >= 2, what="notifications in the outbox")
        until(lambda: any(d["attempts"] for d in store.deliveries(sub["id"])), what="a failed attempt")
    finally:
        service.stop()  # the service stops with deliveries pending
    pending = store.deliveries(sub["id"])
    assert {d["state"] for d in pending} == {"pending"}
    alive = Receiver()
    # the receiver is back, at a new address: point the subscription there and restart the service
    with store.begin() as conn:
        conn.execute(subscriptions.update().where(subscriptions.c.id == sub["id"]).values(url=alive.url))
    again = served(chain, crew, store, [1, 2], backoff_base=1.0)
    again.start()
    try:
        until(lambda: all(d["state"] == "delivered" for d in store.deliveries(sub["id"])), what="delivery")
    finally:
        again.stop()
        alive.close()
    delivered = store.deliveries(sub["id"])
    kinds = sorted(d["kind"] for d in delivered)
    assert kinds.count("dispute") == 1 and kinds.count("value_confirmed") == 1
    payouts = [d["payload"] for d in delivered if d["kind"] == "payout"]
    assert payouts and all(int(p["amount"]) > 0 for p in payouts)
    owners = {p["owner"] for p in payouts}
    assert crew.vendor.address in owners and crew.rep_a.address in owners
    assert len(alive.bodies()) == len(delivered)  # each delivered once


def test_notifications_read_the_chain_a_number_of_confirmations_behind(net):
    chain, crew, store, _crm = net
    crew.to_booking("NOTE-3", crew.rep_a, "accepted")
    crew.dispute("NOTE-3", 1, "never called back")
    store.add_subscription("crm", "http://127.0.0.1:9/never", ["dispute"], "jcs_test")
    head = chain.w3.eth.block_number
    cautious = Feed(store, chain.w3, crew.engine, crew.client.reference, head - 3, confirmations=50)
    cautious.cursor = "test:cautious"
    assert cautious.poll() == 0 and store.cursor("test:cautious", -1) == -1  # nothing read yet
    eager = Feed(store, chain.w3, crew.engine, crew.client.reference, head - 3)
    eager.cursor = "test:eager"
    wanting = [sub for sub in store.subscriptions() if "dispute" in sub["kinds"]]
    assert eager.poll() == len(wanting) >= 1  # the dispute, once for each subscription that wants it
    assert store.cursor("test:eager", -1) == head
