"""The keeper at scale: a round costs what is new, not what is open; its flags go out as one
multicall, a refused one left out; its state is written once per round; it outlives a node
outage and carries on where it stopped.

These tests run against private anvils of their own (free ports).
"""

from __future__ import annotations

import contextlib
import subprocess
import threading
import time
from pathlib import Path

import pytest

from journeychain import keeper as keeper_module
from journeychain.accounts import dev_account
from journeychain.chain import _anvil_args, _wait_ready, connect, free_port
from journeychain.demo import Crew, network
from journeychain.deployments import deploy
from journeychain.encoding import journey_id
from journeychain.keeper import Keeper, Retry
from journeychain.sdk.batch import keeper_batch
from journeychain.sender import count_rpc
from journeychain.timeline import fetch_events, hexstr
from journeychain.vault import Vault


@pytest.fixture(scope="module")
def net(journey_env, tmp_path_factory):
    with network(tmp_path_factory.mktemp("rounds")) as (chain, crew):
        yield chain, crew


def batched_keeper(chain, crew, path: Path, **kw) -> Keeper:
    relayer = crew.relayer.client
    return Keeper(
        chain.w3,
        crew.engine,
        flag=lambda jid: relayer.flag_breach(jid).tx_hash,
        start_block=crew.deployment.block,
        state_path=path,
        batch=keeper_batch(relayer),
        **kw,
    )


def lead(crew: Crew, ref: str) -> str:
    crew.open(ref, assignee=crew.marketing)
    crew.qualify(ref, crew.rep_a)
    return hexstr(journey_id(ref))


def breaches(chain, crew) -> list:
    return fetch_events(chain.w3, [crew.engine], ["BreachRecorded"], crew.deployment.block)


def test_a_rounds_flags_go_out_as_one_transaction_and_a_refused_one_loses_none(net, tmp_path):
    chain, crew = net
    due = [lead(crew, f"B-{i}") for i in range(4)]
    keeper = batched_keeper(chain, crew, tmp_path / "keeper.json")
    keeper.run_once()
    crew.past_deadline(*(f"B-{i}" for i in range(4)))
    crew.relayer.client.flag_breach("B-2")  # flagged by someone else before the keeper's round
    saves = []
    original = keeper.save
    keeper.save = lambda: (saves.append(1), original())[1]  # type: ignore[method-assign]
    report = keeper.run_once()
    assert saves == [1]  # written once, at the end of the round
    flagged = {a.journey for a in report.flagged}
    assert flagged == {due[0], due[1], due[3]}
    assert len({a.tx for a in report.flagged}) == 1  # one multicall
    mine = [e for e in breaches(chain, crew) if hexstr(e.args["journeyId"]) in set(due)]
    assert len(mine) == 4  # B-2's own flag and the keeper's three: none twice
    assert keeper.state.watch[due[2]].flagged  # the refused one is known to be flagged


def test_an_idle_round_asks_the_node_the_same_whatever_the_number_of_open_journeys(net, tmp_path):
    chain, crew = net
    keeper = batched_keeper(chain, crew, tmp_path / "keeper.json")
    keeper.run_once()
    calls = count_rpc(chain.w3)
    keeper.run_once()
    few = sum(calls.values())
    for i in range(6):
        lead(crew, f"I-{i}")
    keeper.run_once()  # the new events are read once
    calls.clear()
    keeper.run_once()
    assert sum(calls.values()) == few
    assert len(keeper.state.watch) >= 6


def _anvil(port: int, state: Path) -> subprocess.Popen:
    args = [*_anvil_args(port, None), "--state", str(state)]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_ready(f"http://127.0.0.1:{port}", process)
    return process


def test_the_keeper_outlives_a_node_outage_and_carries_on(journey_env, tmp_path, monkeypatch):
    monkeypatch.setattr(keeper_module, "OUTAGE_CAP", 0.5)
    port, state = free_port(), tmp_path / "anvil-state.json"
    node = _anvil(port, state)
    stop = threading.Event()
    rounds: list = []
    try:
        chain = connect(f"http://127.0.0.1:{port}")
        deployment = deploy(chain, dev_account(0, chain), directory=tmp_path / "deployments")
        with Vault(tmp_path / "vault.sqlite") as vault:
            crew = Crew(chain, deployment, vault, tmp_path / "crew-keeper.json")
            crew.set_up()
            watched = lead(crew, "O-1")
            keeper = batched_keeper(chain, crew, tmp_path / "keeper.json", retry=Retry(attempts=2, base=0.05))

            def run() -> None:
                for r in keeper.rounds(interval=0.2):
                    rounds.append(r)
                    if stop.is_set():
                        return

            thread = threading.Thread(target=run, daemon=True)
            thread.start()
            deadline = time.monotonic() + 30
            while not rounds and time.monotonic() < deadline:
                time.sleep(0.1)
            assert rounds and watched in keeper.state.watch
            node.terminate()  # the node goes away, its state saved on the way out
            node.wait(timeout=30)
            before = len(rounds)
            time.sleep(3)  # an outage of a few seconds: the keeper keeps trying
            assert thread.is_alive() and len(rounds) == before
            node = _anvil(port, state)  # back on the same port, with its state
            crew.past_deadline("O-1")
            deadline = time.monotonic() + 60
            while not any(a.journey == watched for r in rounds for a in r.flagged):
                assert time.monotonic() < deadline, "the keeper did not carry on after the outage"
                time.sleep(0.2)
            stop.set()
            thread.join(timeout=30)
            flags = [e for e in breaches(chain, crew) if hexstr(e.args["journeyId"]) == watched]
            assert len(flags) == 1
    finally:
        stop.set()
        node.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            node.wait(timeout=30)
