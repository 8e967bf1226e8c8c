"""Connecting and signing: dead endpoints fail fast, keys stay encrypted, dev accounts stay local."""

from __future__ import annotations

import json
import time

import pytest

from journeychain.accounts import (
    DEV_MNEMONIC,
    create_account,
    dev_account,
    find_account,
    import_account,
    list_accounts,
    load_account,
    resolve_address,
)
from journeychain.chain import (
    background_pid,
    chain_dir,
    connect,
    free_port,
    probe,
    start_background,
    stop_background,
    throwaway_chain,
)
from journeychain.errors import AccountError, ChainError, ConfigError

KEY = "0x" + "5" * 64


pytestmark = pytest.mark.usefixtures("journey_env")


def test_a_dead_endpoint_fails_fast_with_one_sentence():
    url = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(ChainError, match=f"cannot reach the chain at {url}"):
        connect(url)
    assert time.monotonic() - started < 5


def test_journey_rpc_names_the_endpoint_when_no_argument_does(monkeypatch):
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("JOURNEY_RPC", url)
    with pytest.raises(ChainError, match=f"cannot reach the chain at {url}"):
        connect()


def test_an_endpoint_that_is_not_a_url_is_bad_input():
    with pytest.raises(ConfigError, match="is not an http"):
        connect("127.0.0.1:8545")


def test_a_throwaway_chain_is_local_and_its_clock_moves():
    with throwaway_chain() as chain:
        assert chain.is_local and chain.chain_id == 31337
        before = chain.now()
        assert chain.advance(3600) >= before + 3600
    assert probe(chain.url, timeout=1) is None  # stopped on exit


def test_development_accounts_are_refused_off_a_local_chain():
    with throwaway_chain(chain_id=4242) as chain:
        assert not chain.is_local
        with pytest.raises(AccountError, match="dev:1 is a development account: refused on chain 4242"):
            load_account("dev:1", chain)
        with pytest.raises(ChainError, match="not a local chain"):
            chain.advance(10)


def test_development_accounts_come_from_the_local_chains_mnemonic():
    assert DEV_MNEMONIC.endswith("junk")
    assert dev_account(0).address == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    with pytest.raises(AccountError, match="dev:0 to dev:9"):
        load_account("dev:12")


def test_a_created_account_is_an_encrypted_keyfile():
    entry = create_account("alice", "correct horse")
    data = json.loads(entry.path.read_text())
    assert data["crypto"]["kdf"] == "scrypt" and "ciphertext" in data["crypto"]
    assert oct(entry.path.stat().st_mode & 0o777) == "0o600"
    assert load_account("alice", password="correct horse").address == entry.address
    assert load_account(entry.address, password="correct horse").address == entry.address


def test_a_wrong_password_is_one_sentence():
    with pytest.raises(AccountError, match="wrong password for account 'alice'"):
        load_account("alice", password="wrong")


def test_the_password_comes_from_journey_password(monkeypatch):
    monkeypatch.setenv("JOURNEY_PASSWORD", "correct horse")
    assert load_account("alice").address == find_account("alice").address


def test_an_imported_key_is_listed_and_never_echoed():
    entry = import_account("bob", KEY, "pw")
    assert {e.alias for e in list_accounts()} >= {"alice", "bob"}
    with pytest.raises(AccountError, match="exists already"):
        import_account("bob", KEY, "pw")
    with pytest.raises(AccountError, match="is in the keystore already, as 'bob'") as info:
        import_account("carol", KEY, "pw")
    with pytest.raises(AccountError) as info:
        import_account("dave", "0x1234zz", "pw")
    assert "1234zz" not in str(info.value)
    assert resolve_address("bob") == entry.address


def test_an_unknown_name_is_neither_an_address_nor_an_account():
    with pytest.raises(ConfigError, match="'0x123' is neither an address nor a known account"):
        resolve_address("0x123")
    with pytest.raises(AccountError, match="no account named 'nobody'"):
        load_account("nobody")


def test_the_background_chain_keeps_its_state_across_restarts(monkeypatch):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    start_background(port=port, quiet=True)
    try:
        assert background_pid() is not None
        chain = connect(url)
        chain.advance(10)
        height = chain.w3.eth.block_number
    finally:
        stop_background()
    assert probe(url, timeout=1) is None and background_pid() is None
    assert (chain_dir() / "state.json").exists()
    start_background(port=port, quiet=True)
    try:
        assert connect(url).w3.eth.block_number == height
    finally:
        stop_background()


def test_a_chain_without_a_base_fee_gets_legacy_gas_prices():
    from journeychain.artifacts import load_build
    from journeychain.reverts import Decoder
    from journeychain.tx import Sender

    decoder = Decoder(load_build().all_abis())
    with throwaway_chain(anvil_args=["--hardfork", "berlin"]) as chain:
        assert set(Sender(chain, dev_account(0, chain), decoder)._fees()) == {"gasPrice"}
    with throwaway_chain() as chain:
        fees = Sender(chain, dev_account(0, chain), decoder)._fees()
        assert set(fees) == {"maxFeePerGas", "maxPriorityFeePerGas"}
        assert fees["maxFeePerGas"] >= fees["maxPriorityFeePerGas"] > 0
