"""The sender: nonces shared safely by threads and processes of one account, transactions sent
without waiting and awaited together, a stuck transaction replaced with higher fees, and the
caches that keep a transaction to a few RPC calls.

These tests run against private anvils of their own (free ports).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from web3 import Web3

from journeychain.accounts import dev_account
from journeychain.artifacts import load_build
from journeychain.chain import Chain, throwaway_chain
from journeychain.reverts import Decoder
from journeychain.sender import EtherTransfer, Sender, count_rpc, wait_all

SINK = "0x000000000000000000000000000000000000dEaD"


@pytest.fixture(scope="module")
def decoder() -> Decoder:
    return Decoder(load_build().all_abis())


def counted(chain: Chain) -> Counter:
    """Counts the RPC methods `chain` is asked from now on."""
    return count_rpc(chain.w3)


_STREAM = textwrap.dedent(
    """
    import sys
    from journeychain.accounts import dev_account
    from journeychain.artifacts import load_build
    from journeychain.chain import connect
    from journeychain.reverts import Decoder
    from journeychain.sender import EtherTransfer, Sender

    chain = connect(sys.argv[1])
    sender = Sender(chain, dev_account(7), Decoder(load_build().all_abis()))
    pending = [sender.submit(EtherTransfer(chain.w3, sys.argv[2]), value=1) for _ in range(int(sys.argv[3]))]
    for p in pending:
        print(p.wait().tx_hash, flush=True)
    """
)


def test_two_processes_sharing_an_account_send_100_transactions_with_no_clash(tmp_path):
    """Two scripts of one account on 1-second blocks, 50 transactions each, sent without waiting:
    every one is mined, each with its own nonce."""
    with throwaway_chain(anvil_args=["--block-time", "1"]) as chain:
        env = dict(os.environ, JOURNEY_HOME=str(tmp_path / "home"))
        streams = [
            subprocess.Popen(
                [sys.executable, "-c", _STREAM, chain.url, SINK, "50"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [s.communicate(timeout=240) for s in streams]
        for stream, (_out, err) in zip(streams, outputs, strict=True):
            assert stream.returncode == 0, err
        hashes = [h for out, _err in outputs for h in out.split()]
        assert len(hashes) == 100 and len(set(hashes)) == 100
        account = dev_account(7).address
        nonces = sorted(int(chain.w3.eth.get_transaction(h)["nonce"]) for h in hashes)
        assert nonces == list(range(100))
        assert chain.w3.eth.get_transaction_count(account) == 100
        assert all(chain.w3.eth.get_transaction_receipt(h)["status"] == 1 for h in hashes)


def test_threads_of_one_process_never_sign_the_same_nonce(tmp_path, monkeypatch, decoder):
    monkeypatch.setenv("JOURNEY_HOME", str(tmp_path))
    with throwaway_chain() as chain:
        results: list[str] = []
        failures: list[BaseException] = []

        def stream() -> None:
            try:
                sender = Sender(chain, dev_account(3), decoder)
                for _ in range(10):
                    results.append(sender.send(EtherTransfer(chain.w3, SINK), value=1).tx_hash)
            except BaseException as exc:  # reported below
                failures.append(exc)

        threads = [threading.Thread(target=stream) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert failures == []
        assert len(set(results)) == 40
        assert chain.w3.eth.get_transaction_count(dev_account(3).address) == 40


def test_send_many_asks_the_nonce_once_and_awaits_all_together(tmp_path, monkeypatch, decoder):
    monkeypatch.setenv("JOURNEY_HOME", str(tmp_path))
    with throwaway_chain() as chain:
        sender = Sender(chain, dev_account(4), decoder)
        sender.send(EtherTransfer(chain.w3, SINK), value=1)  # the caches are filled
        calls = counted(chain)
        receipts = sender.send_many([EtherTransfer(chain.w3, SINK)] * 10)
        assert len({r.tx_hash for r in receipts}) == 10
        assert calls["eth_getTransactionCount"] == 1
        assert calls["eth_chainId"] == 0 and calls["eth_getBlockByNumber"] == 0
        assert calls["eth_sendRawTransaction"] == 10
        # per transaction: its estimate, its sending and its receipt, and the one nonce look-up
        assert sum(calls.values()) <= 10 * 3 + 1


def test_one_transaction_takes_four_rpc_calls_once_the_chain_is_known(tmp_path, monkeypatch, decoder):
    monkeypatch.setenv("JOURNEY_HOME", str(tmp_path))
    with throwaway_chain() as chain:
        sender = Sender(chain, dev_account(4), decoder)
        sender.send(EtherTransfer(chain.w3, SINK), value=1)
        calls = counted(chain)
        sender.send(EtherTransfer(chain.w3, SINK), value=1)
        assert dict(calls) == {
            "eth_estimateGas": 1,
            "eth_getTransactionCount": 1,
            "eth_sendRawTransaction": 1,
            "eth_getTransactionReceipt": 1,
        }


def test_a_stuck_transaction_is_replaced_with_higher_fees(tmp_path, monkeypatch, decoder):
    monkeypatch.setenv("JOURNEY_HOME", str(tmp_path))
    with throwaway_chain(anvil_args=["--no-mining"]) as chain:
        sender = Sender(chain, dev_account(5), decoder, stuck_after=0.5)
        pending = sender.submit(EtherTransfer(chain.w3, SINK), value=1, gas=21_000)
        first_fee = pending.tx["maxFeePerGas"]
        miner = threading.Timer(2.0, lambda: chain.w3.provider.make_request("evm_mine", []))
        miner.start()
        try:
            receipt = pending.wait(timeout=30)
        finally:
            miner.cancel()
        assert len(pending.hashes) >= 2
        assert receipt.tx_hash == pending.hashes[-1] != pending.hashes[0]
        mined = chain.w3.eth.get_transaction(receipt.tx_hash)
        assert mined["nonce"] == pending.nonce and mined["maxFeePerGas"] > first_fee


def test_the_receipt_poll_follows_the_block_time(tmp_path, monkeypatch, decoder):
    monkeypatch.setenv("JOURNEY_HOME", str(tmp_path))
    with throwaway_chain(anvil_args=["--block-time", "1"]) as chain:
        time.sleep(3.5)  # a few blocks to measure
        sender = Sender(chain, dev_account(6), decoder)
        calls = counted(chain)
        pending = [sender.submit(EtherTransfer(chain.w3, SINK), value=1) for _ in range(3)]
        wait_all(pending)
        # a quarter-second poll on 1-second blocks: a handful of polls, not a hundred
        assert 3 <= calls["eth_getTransactionReceipt"] <= 3 + 4 * 2 * 3


def test_a_transfer_is_signed_with_the_development_key_only_locally(tmp_path, monkeypatch, decoder):
    """Nothing is signed by the node: the sender hands it raw transactions only."""
    monkeypatch.setenv("JOURNEY_HOME", str(tmp_path))
    with throwaway_chain() as chain:
        calls = counted(chain)
        Sender(chain, dev_account(8), decoder).send(EtherTransfer(chain.w3, SINK), value=5)
        assert calls["eth_sendRawTransaction"] == 1 and calls["eth_sendTransaction"] == 0
        assert Web3.to_checksum_address(SINK) and chain.w3.eth.get_balance(SINK) >= 5


def test_the_sender_records_every_signed_transaction_before_it_is_sent(tmp_path, monkeypatch, decoder):
    monkeypatch.setenv("JOURNEY_HOME", str(tmp_path))
    with throwaway_chain() as chain:
        sender = Sender(chain, dev_account(2), decoder)
        receipt = sender.send(EtherTransfer(chain.w3, SINK), value=1)
        entry = sender.journal.get(receipt.tx_hash)
        assert entry is not None and entry.status == "answered" and entry.nonce == 0
        assert Path(tmp_path / "sent.sqlite").stat().st_mode & 0o777 == 0o600
