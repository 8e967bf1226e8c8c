"""Steps per second through the journey service, against the SDK's sequential path and a naive
send-and-wait web3 loop, in one run, on anvil with one-second blocks.

Run with ``python scripts/bench_service.py`` (``make bench`` runs it after the gas benchmark).
A throwaway anvil is set up (instant blocks while the network is made and the journeys opened),
then mines one block a second. Each path completes the same work on journeys of its own: the
first two steps of JOURNEYS journeys (Marketing qualifies and hands the lead to a sales rep, the
rep accepts it), that is 2 x JOURNEYS step completions:

- naive: one transaction at a time, signed with web3.py and waited for (no simulation, no reads);
- sdk: `JourneyClient.complete_step`, one after the other, as `journey step complete` does;
- service: every step submitted to the service at once (HTTP, through FastAPI's TestClient);
  its worker pipelines: each job that may run gets a lane of its own, so an account's queued
  jobs are signed and broadcast back to back with consecutive nonces from the SDK's sender and
  their receipts awaited together, while each journey's jobs run in order (the rep's acceptance
  once Marketing's hand-over is mined).

Writes ``reports/service.json``: steps per second of each path and the ratios service/naive and
service/sdk, against the issue's target of at least 5x the naive loop. The naive loop and the
SDK's sequential path wait a block for each step; the service waits a block for each wave (all
of Marketing's hand-overs, then all of the reps' acceptances), so its ratio grows with the number
of journeys in flight.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from journeychain.customer import CustomerSecret
from journeychain.demo import Crew, network
from journeychain.encoding import journey_id
from journeychain.service.app import create_app
from journeychain.service.auth import new_token, token_hash
from journeychain.service.service import Service, Settings
from journeychain.service.store import Store

JOURNEYS = int(os.environ.get("JOURNEY_BENCH_JOURNEYS", "10"))
REPORT = Path("reports/service.json")
TARGET = 5.0


def open_journeys(crew: Crew, prefix: str) -> list[str]:
    refs = [f"{prefix}-{i}" for i in range(JOURNEYS)]
    for ref in refs:
        joined = CustomerSecret.create().join(ref, f"{ref} <bench@example.com>")
        crew.marketing.client.open_journey(
            ref, joined["signer"], bytes.fromhex(joined["profile"][2:]), funder=crew.funder.address
        )
    return refs


def naive(crew: Crew, refs: list[str]) -> float:
    """Each step as a bare transaction: build, sign, send, wait for the receipt."""
    w3 = crew.chain.w3
    engine = crew.engine
    sales = crew.client.organisation_id("Sales")
    started = time.monotonic()
    for i, ref in enumerate(refs):
        rep = crew.rep_a if i % 2 == 0 else crew.rep_b
        for who, call in (
            (crew.marketing, engine.functions.completeStep(journey_id(ref), [], [], 0, rep.address)),
            (rep, engine.functions.completeStep(journey_id(ref), [], [], sales, "0x" + "00" * 20)),
        ):
            account = who.account
            tx = call.build_transaction(
                {"from": account.address, "nonce": w3.eth.get_transaction_count(account.address, "pending")}
            )
            signed = account.sign_transaction(tx)
            receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(signed.raw_transaction))
            assert receipt["status"] == 1
    return 2 * len(refs) / (time.monotonic() - started)


def sdk(crew: Crew, refs: list[str]) -> float:
    started = time.monotonic()
    for i, ref in enumerate(refs):
        rep = crew.rep_a if i % 2 == 0 else crew.rep_b
        crew.marketing.client.complete_step(ref, assign=rep.address)
        rep.client.complete_step(ref)
    return 2 * len(refs) / (time.monotonic() - started)


def through_service(crew: Crew, refs: list[str], work: Path) -> float:
    store = Store(f"sqlite:///{work / 'service.sqlite'}")
    token = new_token()
    cast = [crew.marketing, crew.rep_a, crew.rep_b]
    bound = [{"name": m.key, "address": m.address} for m in cast]
    store.add_integration("bench", token_hash(token), bound, None)
    accounts = {m.address: m.account for m in cast}
    service = Service(
        crew.chain, crew.deployment, store, accounts, None, Settings(keeper_interval=None, poll=0.02)
    )
    service.start()
    try:
        with TestClient(create_app(service)) as http:
            auth = {"Authorization": f"Bearer {token}"}
            started = time.monotonic()
            ids = []
            for i, ref in enumerate(refs):
                rep = crew.rep_a if i % 2 == 0 else crew.rep_b
                body = {"assign": rep.address, "as": crew.marketing.address}
                ids.append(
                    http.post(f"/journeys/{ref}/steps/0/complete", json=body, headers=auth).json()["id"]
                )
                body = {"as": rep.address}
                ids.append(
                    http.post(f"/journeys/{ref}/steps/1/complete", json=body, headers=auth).json()["id"]
                )
            while True:
                states = [http.get(f"/jobs/{i}", headers=auth).json()["state"] for i in ids]
                if all(s in ("mined", "refused", "failed") for s in states):
                    break
                time.sleep(0.05)
            elapsed = time.monotonic() - started
    finally:
        service.stop()
    assert states == ["mined"] * len(ids), states
    return len(ids) / elapsed


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="journey-bench-") as folder:
        work = Path(folder)
        os.environ["JOURNEY_HOME"] = str(work)
        with network(work) as (chain, crew):
            batches = {name: open_journeys(crew, name.upper()) for name in ("naive", "sdk", "service")}
            chain.w3.provider.make_request("evm_setIntervalMining", [1])  # one block a second from now
            rates = {
                "naive": naive(crew, batches["naive"]),
                "sdk": sdk(crew, batches["sdk"]),
                "service": through_service(crew, batches["service"], work),
            }
    report = {
        "block_time_s": 1,
        "steps_per_path": 2 * JOURNEYS,
        "steps_per_second": {k: round(v, 3) for k, v in rates.items()},
        "service_vs_naive": round(rates["service"] / rates["naive"], 2),
        "service_vs_sdk": round(rates["service"] / rates["sdk"], 2),
        "target_vs_naive": TARGET,
    }
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    for path, rate in rates.items():
        print(f"{path:8} {rate:6.2f} steps/s")
    verdict = "PASS" if report["service_vs_naive"] >= TARGET else "MISS"
    print(
        f"service / naive {report['service_vs_naive']}x (target {TARGET}x: {verdict}), "
        f"service / sdk {report['service_vs_sdk']}x; written to {REPORT}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
