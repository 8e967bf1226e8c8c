"""`journey serve` as a process: killed mid-run (SIGKILL) and restarted, it loses no request and
sends none twice; the node stopped and restarted under it, the same. And the integrations'
tokens, made by `journey serve token add`: shown once, kept hashed.

A private anvil of its own (free ports, a state file so that it can be restarted, one block a
second so that a job waits for its block), the suite deployed on it; the service runs as
`journey serve` in a subprocess, called over HTTP.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from service_helpers import customer, journey_home

from journeychain.accounts import dev_account
from journeychain.chain import anvil_binary, connect, free_port
from journeychain.demo import Crew
from journeychain.deployments import deploy
from journeychain.encoding import journey_id
from journeychain.service.store import Store
from journeychain.timeline import fetch_events
from journeychain.vault import Vault

JOURNEY = Path(sys.executable).with_name("journey")


class Node:
    """An anvil that can be stopped and started again on the same port and state."""

    def __init__(self, work: Path):
        self.port, self.state = free_port(), work / "anvil-state.json"
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self, block_time: int | None = 1) -> None:
        args = [anvil_binary(), "--host", "127.0.0.1", "--port", str(self.port), "--gas-limit", "30000000"]
        args += ["--state", str(self.state)] + (["--block-time", str(block_time)] if block_time else [])
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.post(self.url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}, timeout=1)
                return
            except requests.RequestException:
                time.sleep(0.1)
        raise AssertionError("anvil did not start")

    def stop(self) -> None:
        """Stops the node the way an operator does (SIGTERM): it saves its state."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


class Served:
    """`journey serve` in a subprocess."""

    def __init__(self, node: Node, work: Path, env: dict[str, str]):
        self.node, self.work, self.env = node, work, env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database = f"sqlite:///{work / 'service.sqlite'}"
        self.process: subprocess.Popen | None = None

    def journey(self, *args: str) -> subprocess.CompletedProcess:
        command = [str(JOURNEY), "--rpc", self.node.url, *args]
        return subprocess.run(command, capture_output=True, text=True, env=self.env, timeout=120, check=False)

    def start(self) -> None:
        command = [str(JOURNEY), "--rpc", self.node.url, "serve", "--port", str(self.port)]
        command += ["--database", self.database, "--keeper-interval", "0", "--notify-interval", "0.5"]
        log = open(self.work / "serve.log", "ab")  # noqa: SIM115 (the child keeps it)
        self.process = subprocess.Popen(command, env=self.env, stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (self.work / "serve.log").read_text()
            try:
                if requests.get(self.url + "/health", timeout=1).ok:
                    return
            except requests.RequestException:
                time.sleep(0.2)
        raise AssertionError("the service did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    work = tmp_path_factory.mktemp("serve")
    node = Node(work)
    node.start(block_time=None)  # instant blocks while the network is set up
    env = {
        **os.environ,
        "JOURNEY_HOME": str(work),
        "JOURNEY_DEPLOYMENTS": str(work / "deployments"),
        "JOURNEY_RPC": "",
    }
    env.pop("JOURNEY_ACCOUNT", None)
    try:
        with journey_home(work):
            chain = connect(node.url)
            deployment = deploy(chain, dev_account(0, chain), directory=work / "deployments")
            with Vault(work / "crew-vault.sqlite") as vault:
                crew = Crew(chain, deployment, vault, work / "crew-keeper.json")
                crew.set_up()
            chain.w3.provider.make_request("evm_setIntervalMining", [1])  # from now on, a block a second
            served = Served(node, work, env)
            served.funder = dev_account(7, chain).address
            added = served.journey(
                "--json", "serve", "token", "add", "crm", "--as", "dev:1", "--database", served.database
            )
            assert added.returncode == 0, added.stderr
            served.token = json.loads(added.stdout)["token"]
            served.start()
            yield chain, crew, served
    finally:
        if "served" in locals():
            served.stop()
        node.stop()


def headers(served) -> dict[str, str]:
    return {"Authorization": f"Bearer {served.token}"}


def open_journey(served, reference: str) -> requests.Response:
    body = {"reference": reference, **customer(reference), "funder": served.funder}
    return requests.post(served.url + "/journeys", json=body, headers=headers(served), timeout=30)


def jobs_when(store: Store, ids: list[str], ready, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = [store.job(i) for i in ids]
        if ready(jobs):
            return jobs
        time.sleep(0.05)
    raise AssertionError(f"the jobs never got there: {[j.state for j in jobs]}")


def all_final(served, ids: list[str], timeout: float = 120.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [
            requests.get(f"{served.url}/jobs/{i}", headers=headers(served), timeout=10).json() for i in ids
        ]
        if all(j["state"] in ("mined", "refused", "failed") for j in found):
            return found
        time.sleep(0.3)
    raise AssertionError(f"jobs not final: {[j['state'] for j in found]}")


def opened_count(chain, crew, reference: str) -> int:
    events = fetch_events(
        chain.w3, [crew.engine], ["JourneyOpened"], crew.deployment.block, journey=journey_id(reference)
    )
    return len(events)


def test_the_token_is_shown_once_and_kept_hashed(net):
    _chain, _crew, served = net
    assert served.token.startswith("jc_") and len(served.token) > 40
    stored = Path(served.database.removeprefix("sqlite:///"))
    for companion in (stored, stored.with_name(stored.name + "-wal")):
        if companion.exists():
            assert served.token.encode() not in companion.read_bytes()
    listed = served.journey("--json", "serve", "token", "list", "--database", served.database)
    assert listed.returncode == 0 and "crm" in listed.stdout and served.token not in listed.stdout
    again = served.journey("serve", "token", "add", "crm", "--as", "dev:2", "--database", served.database)
    assert again.returncode == 2
    assert again.stderr.strip() == (
        "error: integration 'crm' exists already: remove it first to give it a new token"
    )


def test_a_removed_integrations_token_is_refused(net):
    _chain, _crew, served = net
    added = served.journey(
        "--json", "serve", "token", "add", "gone", "--as", "dev:2", "--database", served.database
    )
    token = json.loads(added.stdout)["token"]
    ok = requests.get(served.url + "/journeys?status=cancelled", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200
    removed = served.journey("serve", "token", "remove", "gone", "--database", served.database)
    assert removed.returncode == 0, removed.stderr
    refused = requests.get(served.url + "/journeys", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401 and "unknown or was removed" in refused.json()["error"]


def test_the_service_killed_mid_run_loses_no_request_and_sends_none_twice(net):
    chain, crew, served = net
    refs = [f"KILL-{i}" for i in range(5)]
    ids = []
    for ref in refs:
        answer = open_journey(served, ref)
        assert answer.status_code == 202, answer.text
        ids.append(answer.json()["id"])
    store = Store(served.database)
    # kill it while several transactions of the account are recorded and broadcast but not mined
    # (the worker sends them back to back), the others queued or not yet signed
    jobs_when(store, ids, lambda jobs: sum(j.state == "sent" for j in jobs) >= 2)
    served.kill()
    before = {j.id: j for j in (store.job(i) for i in ids) if j is not None}
    in_flight = [j for j in before.values() if j.state == "sent"]
    assert len(in_flight) >= 2 and all(j.state in ("queued", "sent", "mined") for j in before.values())
    served.start()
    done = all_final(served, ids)
    assert [j["state"] for j in done] == ["mined"] * len(refs), done
    for ref in refs:
        assert opened_count(chain, crew, ref) == 1, ref
    for job in in_flight:  # reconciled with the chain: the transaction recorded before the kill
        after = next(j for j in done if j["id"] == job.id)
        assert after["result"]["tx"] == job.txs[0]["hash"]
    # after the restart, a retry still returns its first outcome; another body is still refused
    same = requests.post(served.url + "/journeys", json=store.job(ids[1]).params, headers=headers(served))
    assert same.status_code == 200 and same.json()["id"] == ids[1]
    assert open_journey(served, refs[0]).status_code == 409
    assert opened_count(chain, crew, refs[1]) == 1


def test_the_node_stopped_mid_run_and_restarted_loses_nothing(net):
    chain, crew, served = net
    store = Store(served.database)
    first = [open_journey(served, f"NODE-{i}").json()["id"] for i in range(3)]
    jobs_when(store, first, lambda jobs: any(j.state == "sent" for j in jobs))
    served.node.stop()
    # while the node is down, requests are still taken (and recorded)
    late = open_journey(served, "NODE-LATE")
    assert late.status_code == 202
    down = requests.get(served.url + "/journeys/NODE-0", headers=headers(served), timeout=60)
    assert down.status_code == 503
    time.sleep(1)
    waiting = [store.job(i) for i in [*first, late.json()["id"]]]
    assert all(j is not None and j.state in ("queued", "sent") for j in waiting)
    served.node.start(block_time=1)
    done = all_final(served, [*first, late.json()["id"]])
    assert [j["state"] for j in done] == ["mined"] * 4, done
    for ref in ("NODE-0", "NODE-1", "NODE-2", "NODE-LATE"):
        assert opened_count(chain, crew, ref) == 1, ref


def test_the_database_is_readable_by_its_owner_only(net):
    _chain, _crew, served = net
    path = Path(served.database.removeprefix("sqlite:///"))
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_database_url_that_is_none_is_one_sentence(net):
    _chain, _crew, served = net
    ran = served.journey("serve", "token", "list", "--database", "nonsense")
    assert ran.returncode == 2
    assert ran.stderr.strip() == (
        "error: 'nonsense' is not a database URL (sqlite:///PATH or postgresql://USER@HOST/DB)"
    )


def test_an_integration_name_that_is_none_is_refused(net):
    _chain, _crew, served = net
    ran = served.journey("serve", "token", "add", "my crm!", "--as", "dev:1", "--database", served.database)
    assert ran.returncode == 2
    assert (
        ran.stderr.strip() == "error: integration name 'my crm!' must be 1 to 64 letters, digits, '-' or '_'"
    )


def test_removing_an_unknown_integration_is_refused(net):
    _chain, _crew, served = net
    ran = served.journey("serve", "token", "remove", "nobody", "--database", served.database)
    assert ran.returncode == 2
    assert ran.stderr.strip() == "error: there is no integration 'nobody' (see `journey serve token list`)"
