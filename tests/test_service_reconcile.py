"""A job whose transactions were recorded is reconciled with the chain, never sent again blindly.

The service dies at precise points (`Crash`, raised where the process would stop: right after a
transaction is recorded and before it is broadcast, or before one is recorded at all), and a
fresh worker on the same database then finishes the job: a recorded transaction the node never
saw is broadcast again, byte for byte (mined once); one whose nonce another transaction took is
dropped, and the action runs again; a funding whose `approve` was mined but not the funding
runs again and funds once.

A private anvil of its own (a free port); the worker runs in this process.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from service_helpers import customer, journey_home, submit

from journeychain.accounts import dev_account
from journeychain.demo import network
from journeychain.encoding import journey_id
from journeychain.service.jobs import Worker
from journeychain.service.service import Service, Settings
from journeychain.service.store import Store
from journeychain.timeline import fetch_events


class Crash(BaseException):
    """The process stopping at this point (nothing after it runs)."""


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    work = tmp_path_factory.mktemp("reconcile")
    with journey_home(work), network(work) as (chain, crew):
        store = Store(f"sqlite:///{work / 'service.sqlite'}")
        accounts = {dev_account(n, chain).address: dev_account(n, chain) for n in (1, 7)}
        service = Service(chain, crew.deployment, store, accounts, None, Settings(keeper_interval=None))
        yield chain, crew, store, service


def crash_at(store: Store, record: int, after_record: bool):
    """Makes the `record`-th transaction recording (from 1) stop the process, after storing it
    (before the broadcast) or before."""
    original = store.record_tx
    seen = {"n": 0}

    def recording(job_id: str, tx_hash: str, raw: str) -> None:
        seen["n"] += 1
        if seen["n"] == record and not after_record:
            raise Crash
        original(job_id, tx_hash, raw)
        if seen["n"] == record:
            raise Crash

    store.record_tx = recording  # type: ignore[method-assign]
    return original


def restarted(service: Service) -> Worker:
    """A new worker on the same database and chain: what a restarted service runs."""
    return service.new_worker()


def events(chain, crew, name: str, reference: str) -> list:
    return fetch_events(chain.w3, [crew.engine], [name], crew.deployment.block, journey=journey_id(reference))


def open_params(crew, reference: str) -> dict:
    return {
        "reference": reference,
        **customer(reference),
        "funder": crew.funder.address,
        "playbook": 1,
        "assignee": None,
    }


def test_a_recorded_transaction_the_node_never_saw_is_broadcast_again_and_mined_once(net):
    chain, crew, store, service = net
    job = submit(service, 1, "open", "REC-1", open_params(crew, "REC-1"), "rec-1")
    original = crash_at(store, 1, after_record=True)
    try:
        with pytest.raises(Crash):
            service.worker.execute(job)
    finally:
        store.record_tx = original  # type: ignore[method-assign]
    recorded = store.job(job.id)
    assert recorded.state == "sent" and len(recorded.txs) == 1
    assert events(chain, crew, "JourneyOpened", "REC-1") == []  # never broadcast
    restarted(service).reconcile(recorded)  # not known to the node: the same bytes again
    restarted(service).reconcile(store.job(job.id))  # now mined: the job is done from its receipt
    done = store.job(job.id)
    assert done.state == "mined" and done.result["tx"] == recorded.txs[0]["hash"]
    assert len(events(chain, crew, "JourneyOpened", "REC-1")) == 1


def test_a_recorded_transaction_whose_nonce_another_took_is_dropped_and_the_action_runs_again(net):
    chain, crew, store, service = net
    job = submit(service, 1, "open", "REC-2", open_params(crew, "REC-2"), "rec-2")
    original = crash_at(store, 1, after_record=True)
    try:
        with pytest.raises(Crash):
            service.worker.execute(job)
    finally:
        store.record_tx = original  # type: ignore[method-assign]
    recorded = store.job(job.id)
    # another transaction of the same account takes the recorded one's nonce
    other = customer("REC-2-OTHER")
    crew.marketing.client.open_journey(
        "REC-2-OTHER",
        other["customer"],
        bytes.fromhex(other["profile_hash"][2:]),
        funder=crew.funder.address,
    )
    restarted(service).reconcile(recorded)
    done = store.job(job.id)
    assert done.state == "mined", done
    assert done.result["tx"] != recorded.txs[0]["hash"]  # sent anew, with a fresh nonce
    assert len(events(chain, crew, "JourneyOpened", "REC-2")) == 1


def test_a_funding_whose_approve_was_mined_but_not_the_funding_runs_again_and_funds_once(net):
    chain, crew, store, service = net
    opened = submit(service, 1, "open", "REC-3", open_params(crew, "REC-3"), "rec-3")
    service.worker.execute(opened)
    assert store.job(opened.id).state == "mined"
    job = submit(service, 7, "fund", "REC-3", {"journey": "REC-3", "amount": str(10**21)}, "rec-3-fund")
    original = crash_at(store, 2, after_record=False)  # the approve is mined; the process stops
    try:
        with pytest.raises(Crash):
            service.worker.execute(job)
    finally:
        store.record_tx = original  # type: ignore[method-assign]
    recorded = store.job(job.id)
    assert len(recorded.txs) == 1 and events(chain, crew, "PoolFunded", "REC-3") == []
    restarted(service).reconcile(recorded)
    done = store.job(job.id)
    assert done.state == "mined" and "PoolFunded" in done.result["events"]
    funded = events(chain, crew, "PoolFunded", "REC-3")
    assert len(funded) == 1 and funded[0].args["pool"] == 10**21


def test_a_step_mined_while_the_service_was_down_has_its_evidence_confirmed_in_the_vault(net):
    chain, crew, store, service = net
    opened = submit(service, 1, "open", "REC-4", open_params(crew, "REC-4"), "rec-4")
    service.worker.execute(opened)
    params = {
        "journey": "REC-4",
        "step": 0,
        "fields": {"lead_source": "webinar REC-4"},
        "assign": crew.rep_a.address,
        "org": None,
    }
    job = submit(service, 1, "complete", "REC-4", params, "rec-4-step")
    original = crash_at(store, 1, after_record=True)
    try:
        with pytest.raises(Crash):
            service.worker.execute(job)
    finally:
        store.record_tx = original  # type: ignore[method-assign]
    vault = Path(os.environ["JOURNEY_HOME"]) / "vault.sqlite"

    def status() -> list[str]:
        with sqlite3.connect(vault) as db:
            rows = db.execute("SELECT status FROM evidence WHERE value = 'webinar REC-4'").fetchall()
        return [r[0] for r in rows]

    assert status() == ["pending"]  # written before the transaction, which the crash never sent
    restarted(service).reconcile(store.job(job.id))
    restarted(service).reconcile(store.job(job.id))
    assert store.job(job.id).state == "mined"
    assert status() == ["confirmed"]
    assert len(events(chain, crew, "StepCompleted", "REC-4")) == 1
    assert "webinar" not in json.dumps(store.job(job.id).params)
