"""Throughput of the sending paths, and the keeper's round at scale (`make bench`).

Run with ``python scripts/throughput.py`` (``make bench`` runs it after the gas bench). It
starts a private anvil on a free port, deploys the suite and sets up the demo network on
automine, then drives journeys through four paths, first on automine and then on 1-second
blocks (the same anvil switched to interval mining):

- ``naive``: a send-and-wait web3 loop written here (nonce, fees and chain id asked each time,
  web3's own receipt wait);
- ``sdk``: the SDK's default path, one call after the other (JourneyClient: open_journey,
  complete_step, complete_step, fund);
- ``sdk_pipelined``: the SDK's sender, every journey's next transaction sent without waiting
  (`Sender.submit`), then awaited together, wave after wave;
- ``sdk_batched``: `client.batch()`, each account's calls of every journey in one multicall;
- ``sdk_relayed``: the SDK's signed actions (`client.relay`): each participant signs its calls of
  every journey (a step over the rolling hash it will find, the funding with a one-time
  nonce), and a relayer with no role sends them all through the step relay, RELAY_CHUNK
  journeys a transaction.

A journey here is the lead's path with its funding: opened by Marketing, qualified by
Marketing (two fields), accepted by the sales rep (one field), funded by the funder (a
standing approval). Sequential paths on 1-second blocks run SEQUENTIAL_SLOW journeys (each
transaction waits for its block: 50 would take minutes); the others run JOURNEYS. Rates are
journeys per second, so they compare.

The keeper: KEEPER_OPEN open journeys, half of them past their lead deadline, one round of a
keeper that has read every journey already (its flags in multicalls), then a second, idle round.

Writes ``reports/throughput.json``: journeys per second on 1-second blocks as ``naive``,
``sdk``, ``sdk_pipelined``, ``sdk_batched``, ``sdk_relayed``; ``keeper_500_due_s`` and ``keeper_idle_s`` (on
automine); the same rates on automine under ``automine``; RPC calls per transaction under
``rpc_per_tx``; gas per journey under ``gas_per_journey``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eth_account import Account
from web3 import Web3

from journeychain.accounts import dev_account
from journeychain.chain import Chain, connect, throwaway_chain
from journeychain.client import JourneyClient
from journeychain.demo import HOUR, Crew
from journeychain.deployments import deploy
from journeychain.encoding import (
    commit,
    customer_commitment,
    evidence_hash,
    genesis_head,
    journey_id,
    new_salt,
    next_head,
    short_name,
)
from journeychain.keeper import Keeper
from journeychain.sdk.batch import keeper_batch
from journeychain.sender import count_rpc, wait_all
from journeychain.vault import Vault

JOURNEYS = int(os.environ.get("BENCH_JOURNEYS", "50"))
SEQUENTIAL_SLOW = 10
KEEPER_OPEN = 500
AMOUNT = 10**18
REPORT = Path("reports/throughput.json")
LEAD = {"lead_source": "webinar", "segment": "mid-market"}
ACCEPT = {"accepted_note": "call booked"}
ZERO = "0x" + "00" * 20
TXS_PER_JOURNEY = 4
RELAY_CHUNK = 25


def pairs(fields: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(short_name(k), commit(v, new_salt())) for k, v in fields.items()]


def new_commitment() -> bytes:
    return customer_commitment(Account.create().address, os.urandom(32))


class Bench:
    def __init__(self, chain: Chain, crew: Crew):
        self.chain, self.crew = chain, crew
        self.counter = 0
        self.rep_org = crew.client.participant_record(crew.rep_a.address)[2]
        self._clients: dict[int, dict[str, JourneyClient]] = {}

    def refs(self, n: int, tag: str) -> list[str]:
        out = []
        for _ in range(n):
            self.counter += 1
            out.append(f"T-{tag}-{self.counter}")
        return out

    def clients(self, chain: Chain) -> dict[str, JourneyClient]:
        """The participants' clients on `chain`, made once (a program makes its clients once)."""
        if id(chain) not in self._clients:
            c = self.crew
            self._clients[id(chain)] = {
                k: JourneyClient(chain, c.deployment, getattr(c, k).account)
                for k in ("marketing", "rep_a", "funder", "relayer")
            }
        return self._clients[id(chain)]

    def engine_calls(self, chain: Chain, ref: str) -> list[tuple[str, Any]]:
        """The journey's four engine calls, by the account that sends each."""
        c = self.crew
        engine = chain.w3.eth.contract(address=c.engine.address, abi=c.engine.abi)
        jid = journey_id(ref)
        f = engine.functions
        return [
            ("marketing", f.openJourney(jid, 1, new_commitment(), c.marketing.address, c.funder.address)),
            ("marketing", f.completeStep(jid, pairs(LEAD), [], 0, c.rep_a.address)),
            ("rep_a", f.completeStep(jid, pairs(ACCEPT), [], self.rep_org, ZERO)),
            ("funder", f.fund(jid, AMOUNT)),
        ]

    # --- (b) the naive loop
    def naive(self, chain: Chain, refs: list[str], w3: Web3 | None = None) -> int:
        w3 = w3 or Web3(Web3.HTTPProvider(chain.url))
        accounts = {k: getattr(self.crew, k).account for k in ("marketing", "rep_a", "funder")}
        gas = 0
        for ref in refs:
            for who, call in self.engine_calls(chain, ref):
                account = accounts[who]
                tx = call.build_transaction(
                    {
                        "from": account.address,
                        "nonce": w3.eth.get_transaction_count(account.address),
                        "chainId": w3.eth.chain_id,
                        # a margin: the next block's time may take a costlier branch
                        "gas": int(call.estimate_gas({"from": account.address}) * 1.2),
                    }
                )
                signed = account.sign_transaction(tx)
                tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
                receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
                if receipt["status"] != 1:
                    try:
                        call.call({"from": account.address}, block_identifier=receipt["blockNumber"] - 1)
                    except Exception as exc:  # the reason, for the message
                        raise AssertionError(f"{ref}: {who}'s transaction reverted: {exc!r}") from None
                    raise AssertionError(f"{ref}: {who}'s transaction reverted (gas {receipt['gasUsed']})")
                gas += int(receipt["gasUsed"])
        return gas

    # --- (a) the SDK's default path
    def sdk(self, chain: Chain, refs: list[str]) -> int:
        cl = self.clients(chain)
        c = self.crew
        gas = 0
        for ref in refs:
            customer = Account.create().address
            opened = cl["marketing"].open_journey(
                ref, customer, os.urandom(32), assignee=c.marketing.address, funder=c.funder.address
            )
            one = cl["marketing"].complete_step(ref, LEAD, assign=c.rep_a.address)
            two = cl["rep_a"].complete_step(ref, ACCEPT)
            funded = cl["funder"].fund(ref, AMOUNT)
            gas += sum(r.gas_used for r in (opened.receipt, one.receipt, two.receipt, funded))
        return gas

    # --- (c) the SDK's sender, pipelined
    def pipelined(self, chain: Chain, refs: list[str]) -> int:
        cl = self.clients(chain)
        senders = {k: cl[k]._sender() for k in ("marketing", "rep_a", "funder")}
        calls = [self.engine_calls(chain, ref) for ref in refs]
        gas = 0
        for wave in range(TXS_PER_JOURNEY):
            pending = []
            for journey in calls:
                who, call = journey[wave]
                pending.append(senders[who].submit(call))
            gas += sum(r.gas_used for r in wait_all(pending))
        return gas

    # --- (d) the SDK's batches
    def batched(self, chain: Chain, refs: list[str]) -> int:
        cl = self.clients(chain)
        by: dict[str, Any] = {k: cl[k].batch() for k in ("marketing", "rep_a", "funder")}
        for ref in refs:
            for who, call in self.engine_calls(chain, ref):
                by[who].add(call)
        gas = 0
        for who in ("marketing", "rep_a", "funder"):
            result = by[who].send()
            assert result.receipt is not None and not result.refused
            gas += result.receipt.gas_used
        return gas

    # --- (e) the SDK's signed actions, relayed
    def relayed(self, chain: Chain, refs: list[str]) -> tuple[int, int]:
        """Gas of all the journeys, and the number of transactions that carried them."""
        cl = self.clients(chain)
        c = self.crew
        actions = []
        deadline = chain.now() + HOUR  # one block read for every signature of the run
        for ref in refs:
            calls = self.engine_calls(chain, ref)
            (_, opening), (_, lead), (_, accept), (_, funding) = calls
            jid = journey_id(ref)
            head = genesis_head(jid, 1, bytes(opening.args[2]))
            after_lead = next_head(head, 0, c.marketing.address, False, evidence_hash(lead.args[1]))
            actions += [
                cl["marketing"].relay.sign(opening, deadline=deadline),
                cl["marketing"].relay.sign(lead, at=head, deadline=deadline),
                cl["rep_a"].relay.sign(accept, at=after_lead, deadline=deadline),
                cl["funder"].relay.sign(funding, deadline=deadline),
            ]
        gas, txs = 0, 0
        step = RELAY_CHUNK * TXS_PER_JOURNEY
        for start in range(0, len(actions), step):
            batch = cl["relayer"].relay.batch()
            for action in actions[start : start + step]:
                batch.add(action)
            result = batch.send()
            assert not result.refused, result.refused
            gas += result.receipt.gas_used
            txs += 1
        return gas, txs

    def measure(self, name: str, chain: Chain, n: int) -> dict[str, float]:
        run: Callable[[Chain, list[str]], int] = {
            "naive": self.naive,
            "sdk": self.sdk,
            "sdk_pipelined": self.pipelined,
            "sdk_batched": self.batched,
            "sdk_relayed": lambda ch, refs: self.relayed(ch, refs)[0],
        }[name]
        refs = self.refs(n, name)
        self.clients(chain)
        if name == "naive":
            start = time.perf_counter()
            gas = run(chain, refs)
            elapsed = time.perf_counter() - start
            calls = None
        else:
            calls = count_rpc(chain.w3)
            start = time.perf_counter()
            gas = run(chain, refs)
            elapsed = time.perf_counter() - start
        txs = {"sdk_batched": 3, "sdk_relayed": -(-n // RELAY_CHUNK)}.get(name, n * TXS_PER_JOURNEY)
        rpc = sum(calls.values()) / txs if calls is not None else None
        return {"journeys_per_s": n / elapsed, "seconds": elapsed, "gas": gas / n, "rpc_per_tx": rpc or 0.0}


def naive_rpc(bench: Bench, chain: Chain) -> float:
    """RPC calls per transaction of the naive loop (counted on its own provider)."""
    w3 = Web3(Web3.HTTPProvider(chain.url))
    calls = count_rpc(w3)
    bench.naive(chain, bench.refs(3, "naive-count"), w3)
    return sum(calls.values()) / (3 * TXS_PER_JOURNEY)


def keeper_bench(bench: Bench, chain: Chain, work: Path) -> dict[str, float]:
    """KEEPER_OPEN open journeys, half past their deadline: one round, then an idle one."""
    crew = bench.crew
    marketing = JourneyClient(chain, crew.deployment, crew.marketing.account)
    half = KEEPER_OPEN // 2

    def open_leads(n: int) -> int:
        """Opens `n` leads handed to the rep; returns the latest of their acceptance deadlines."""
        refs = bench.refs(n, "keeper")
        engine = marketing.engine
        for first in range(0, n, 50):
            batch = marketing.batch()
            for ref in refs[first : first + 50]:
                jid = journey_id(ref)
                batch.add(
                    engine.functions.openJourney(
                        jid, 1, new_commitment(), crew.marketing.address, crew.funder.address
                    )
                )
                batch.add(engine.functions.completeStep(jid, pairs(LEAD), [], 0, crew.rep_a.address))
            batch.send()
        return max(int(engine.functions.journey(journey_id(ref)).call()[4]) for ref in refs)

    relayer = JourneyClient(chain, crew.deployment, crew.relayer.account)
    keeper = Keeper(
        chain.w3,
        relayer.engine,
        flag=lambda jid: relayer.flag_breach(jid).tx_hash,
        start_block=crew.deployment.block,
        state_path=work / "keeper-bench.json",
        batch=keeper_batch(relayer),
    )
    keeper.run_once()  # the journeys so far
    # The lead's acceptance counts working hours: the second half is opened two hours before the
    # first half's deadline (in working time), so its own deadline is days later.
    first_due = open_leads(half)
    chain.advance(first_due - 2 * HOUR - chain.now())
    open_leads(half)
    keeper.run_once()  # the keeper has read every journey: nothing is due yet
    chain.advance(first_due + HOUR - chain.now())
    start = time.perf_counter()
    report = keeper.run_once()
    due_s = time.perf_counter() - start
    start = time.perf_counter()
    idle = keeper.run_once()
    idle_s = time.perf_counter() - start
    assert len(report.flagged) == half, f"flagged {len(report.flagged)} of {half}"
    assert not idle.actions
    return {"keeper_500_due_s": due_s, "keeper_idle_s": idle_s, "watching": float(report.watching)}


def main() -> None:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="journey-throughput-") as tmp, throwaway_chain() as chain:
        work = Path(tmp)
        os.environ["JOURNEY_HOME"] = str(work / "home")
        deployment = deploy(chain, dev_account(0, chain), directory=work / "deployments")
        with Vault(work / "vault.sqlite") as vault:
            crew = Crew(chain, deployment, vault, work / "keeper.json")
            crew.set_up()
            funder = crew.funder.client
            funder._send(funder.token.functions.approve(crew.engine.address, 2**256 - 1))
            bench = Bench(chain, crew)
            modes = ("naive", "sdk", "sdk_pipelined", "sdk_batched", "sdk_relayed")
            automine = {m: bench.measure(m, chain, JOURNEYS) for m in modes}
            rpc_naive = naive_rpc(bench, chain)
            keeper = keeper_bench(bench, chain, work)
            chain.w3.provider.make_request("evm_setIntervalMining", [1])  # type: ignore[arg-type]
            time.sleep(12)  # blocks to measure the block time by
            slow = connect(chain.url)
            blocks = {
                m: bench.measure(m, slow, SEQUENTIAL_SLOW if m in ("naive", "sdk") else JOURNEYS)
                for m in modes
            }
    rates = {m: round(blocks[m]["journeys_per_s"], 3) for m in modes}
    results = {
        **rates,
        "keeper_500_due_s": round(keeper["keeper_500_due_s"], 3),
        "keeper_idle_s": round(keeper["keeper_idle_s"], 3),
        "automine": {m: round(automine[m]["journeys_per_s"], 3) for m in modes},
        "rpc_per_tx": {"naive": round(rpc_naive, 2)}
        | {m: round(automine[m]["rpc_per_tx"], 2) for m in modes if m != "naive"},
        "gas_per_journey": {m: round(automine[m]["gas"]) for m in modes},
        "journeys": {
            "automine": JOURNEYS,
            "one_second_blocks": {m: (SEQUENTIAL_SLOW if m in ("naive", "sdk") else JOURNEYS) for m in modes},
        },
    }
    print()
    print(
        f"{'path':<16}{'1-s blocks j/s':>16}{'vs naive':>10}{'automine j/s':>14}{'vs naive':>10}"
        f"{'rpc/tx':>8}{'gas/journey':>13}"
    )
    for m in modes:
        print(
            f"{m:<16}{rates[m]:>16.2f}{rates[m] / rates['naive']:>9.1f}x"
            f"{results['automine'][m]:>14.2f}{results['automine'][m] / results['automine']['naive']:>9.1f}x"
            f"{results['rpc_per_tx'][m]:>8.2f}{results['gas_per_journey'][m]:>13,}"
        )
    print(
        f"\nkeeper: {KEEPER_OPEN} open, {KEEPER_OPEN // 2} due, one round: "
        f"{keeper['keeper_500_due_s']:.2f} s "
        f"(target < 3 s); an idle round: {keeper['keeper_idle_s']:.3f} s (target < 1 s)"
    )
    targets = [
        ("sdk_pipelined >= 5x naive", rates["sdk_pipelined"] >= 5 * rates["naive"]),
        ("sdk_batched >= 5x naive", rates["sdk_batched"] >= 5 * rates["naive"]),
        ("sdk_relayed >= 5x naive", rates["sdk_relayed"] >= 5 * rates["naive"]),
        ("sdk no slower than naive (1-s blocks)", rates["sdk"] >= rates["naive"] * 0.95),
        ("keeper 500/250 round < 3 s", keeper["keeper_500_due_s"] < 3),
        ("keeper idle round < 1 s", keeper["keeper_idle_s"] < 1),
    ]
    for name, ok in targets:
        print(f"{name:<40}{'PASS' if ok else 'MISS'}")
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {REPORT}")


if __name__ == "__main__":
    sys.exit(main())
