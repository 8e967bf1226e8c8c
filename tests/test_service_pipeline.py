"""The service's worker pipelines: an account's queued jobs are broadcast back to back with
consecutive nonces and awaited together, a journey's jobs run in order (each once the one before
it is final, so that a refusal names the rule as the chain then stands), and a restart with several
transactions of one account in flight reconciles each of them.

A private anvil of its own (a free port), one block a second once the network is set up, so that
jobs sent together are seen in flight together; the worker runs in this process.
"""

from __future__ import annotations

import time

import pytest
from service_helpers import customer, journey_home, submit

from journeychain.accounts import dev_account
from journeychain.demo import network
from journeychain.encoding import journey_id
from journeychain.sender import Sender
from journeychain.service.service import Service, Settings
from journeychain.service.store import Store
from journeychain.timeline import fetch_events


class Crash(BaseException):
    """The process stopping at this point (nothing after it runs)."""


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    work = tmp_path_factory.mktemp("pipeline")
    with journey_home(work), network(work) as (chain, crew):
        chain.w3.provider.make_request("evm_setIntervalMining", [1])  # from now on, a block a second
        store = Store(f"sqlite:///{work / 'service.sqlite'}")
        accounts = {dev_account(n, chain).address: dev_account(n, chain) for n in (1, 2, 7)}
        settings = Settings(keeper_interval=None, poll=0.05)
        service = Service(chain, crew.deployment, store, accounts, None, settings)
        yield chain, crew, store, service


def open_params(crew, reference: str) -> dict:
    return {
        "reference": reference,
        **customer(reference),
        "funder": crew.funder.address,
        "playbook": 1,
        "assignee": None,
    }


def run_until_final(service: Service, store: Store, ids: list[str], timeout: float = 90.0) -> int:
    """Runs a fresh worker until every job is final; returns the most jobs seen in flight (sent,
    not final) at once."""
    worker = service.new_worker()
    worker.start()
    most = 0
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            jobs = [store.job(i) for i in ids]
            most = max(most, sum(1 for j in jobs if j.state == "sent"))
            if all(j.final for j in jobs):
                return most
            time.sleep(0.02)
        raise AssertionError(f"the jobs never got final: {[j.state for j in jobs]}")
    finally:
        worker.stop()


def opened(chain, crew, reference: str) -> int:
    found = fetch_events(
        chain.w3, [crew.engine], ["JourneyOpened"], crew.deployment.block, journey=journey_id(reference)
    )
    return len(found)


def nonce(chain, tx_hash: str) -> int:
    return int(chain.w3.eth.get_transaction(tx_hash)["nonce"])


def test_many_jobs_of_one_account_are_in_flight_at_once_and_mined_with_consecutive_nonces(net):
    chain, crew, store, service = net
    refs = [f"PIPE-{i}" for i in range(8)]
    jobs = [submit(service, 1, "open", ref, open_params(crew, ref), ref) for ref in refs]
    most = run_until_final(service, store, [j.id for j in jobs])
    done = [store.job(j.id) for j in jobs]
    assert [j.state for j in done] == ["mined"] * len(refs), [j.error for j in done]
    assert most >= 2, "the account's jobs were sent one at a time"
    nonces = sorted(nonce(chain, j.result["tx"]) for j in done)
    assert nonces == list(range(nonces[0], nonces[0] + len(refs)))  # no clash, no gap
    # sent back to back: a few blocks for all, not a block each
    assert len({j.result["block"] for j in done}) <= len(refs) // 2
    for ref in refs:
        assert opened(chain, crew, ref) == 1, ref


def test_a_journeys_jobs_run_in_order_and_a_refusal_names_the_rule_as_the_chain_then_stands(net):
    _chain, crew, store, service = net
    refs = [f"ORDER-{i}" for i in range(3)]
    order: dict[str, list] = {}
    for ref in refs:
        order[ref] = [
            submit(service, 1, "open", ref, open_params(crew, ref), f"{ref}-open"),
            # for step 1 while the journey is at step 0: refused, as the mined journey stands
            submit(service, 2, "complete", ref, {"journey": ref, "step": 1, "fields": {}}, f"{ref}-early"),
            submit(
                service,
                1,
                "complete",
                ref,
                {"journey": ref, "step": 0, "fields": {}, "assign": crew.rep_a.address, "org": None},
                f"{ref}-0",
            ),
            submit(service, 2, "complete", ref, {"journey": ref, "step": 1, "fields": {}}, f"{ref}-1"),
        ]
    ids = [j.id for jobs in order.values() for j in jobs]
    run_until_final(service, store, ids)
    for ref, jobs in order.items():
        opened_, early, first, second = (store.job(j.id) for j in jobs)
        assert (opened_.state, early.state, first.state, second.state) == (
            "mined",
            "refused",
            "mined",
            "mined",
        ), [j.error for j in (opened_, early, first, second)]
        assert early.error == (
            f"journey {ref} is at step 0 (lead_qualified), not step 1: this completion is for another step"
        )
        assert opened_.result["block"] < first.result["block"] < second.result["block"]
    # the journeys' like steps went together: each step of the three in one or two blocks
    for step in (0, 2, 3):
        blocks = {store.job(order[ref][step].id).result["block"] for ref in refs}
        assert len(blocks) <= 2, (step, blocks)


def test_a_restart_with_several_transactions_of_one_account_in_flight_reconciles_each(net, monkeypatch):
    chain, crew, store, service = net
    refs = [f"INFLIGHT-{i}" for i in range(6)]
    jobs = [submit(service, 1, "open", ref, open_params(crew, ref), ref) for ref in refs]
    ids = [j.id for j in jobs]
    # the process stops once each transaction is broadcast, before any receipt is awaited; one
    # transaction is recorded but the process stops before it is broadcast
    record = store.record_tx
    unsent: list[str] = []

    def recording(job_id: str, tx_hash: str, raw: str) -> None:
        record(job_id, tx_hash, raw)
        if job_id == ids[2] and not unsent:
            unsent.append(job_id)
            raise Crash

    def stopped(self, pending, timeout=0):
        raise Crash

    monkeypatch.setattr(store, "record_tx", recording)
    monkeypatch.setattr(Sender, "wait", stopped)
    dead = service.new_worker()
    monkeypatch.setattr(dead, "reconcile", lambda job: (_ for _ in ()).throw(Crash()))
    dead.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not all(store.job(i).txs for i in ids):
        time.sleep(0.02)
    dead.stop()
    monkeypatch.undo()
    before = [store.job(i) for i in ids]
    assert all(j.state == "sent" and len(j.txs) == 1 for j in before), [j.state for j in before]
    assert unsent == [ids[2]]
    run_until_final(service, store, ids)
    done = [store.job(i) for i in ids]
    assert [j.state for j in done] == ["mined"] * len(refs), [j.error for j in done]
    for was, now in zip(before, done, strict=True):
        if was.id not in unsent:  # broadcast before the stop: found mined, nothing sent again
            assert now.result["tx"] == was.txs[0]["hash"] and now.result.get("reconciled")
    for ref in refs:
        assert opened(chain, crew, ref) == 1, ref
    nonces = sorted(nonce(chain, j.result["tx"]) for j in done)
    assert nonces == list(range(nonces[0], nonces[0] + len(refs)))
