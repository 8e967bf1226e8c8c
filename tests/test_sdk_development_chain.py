"""`dev:N` signs only on a node that identifies itself as a development chain (anvil, ganache,
hardhat): chain id 31337 or 1337 alone is not enough, since anyone knows the development
mnemonic and a production client may run with either id."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from journeychain.accounts import load_account, resolve_address
from journeychain.chain import Chain, throwaway_chain
from journeychain.errors import AccountError

pytestmark = pytest.mark.usefixtures("journey_env")


@pytest.fixture
def chain() -> Iterator[Chain]:
    with throwaway_chain() as c:
        yield c


def answer_client_version(monkeypatch: pytest.MonkeyPatch, chain: Chain, version: str | None) -> list[str]:
    """Has the node answer web3_clientVersion with `version` (None: the method is unknown);
    every other request goes through. Returns the list of methods asked."""
    real = chain.w3.provider.make_request
    asked: list[str] = []

    def make_request(method: Any, params: Any) -> Any:
        asked.append(str(method))
        if method == "web3_clientVersion":
            if version is None:
                return {"jsonrpc": "2.0", "id": 1, "error": {"code": -32601, "message": "Method not found"}}
            return {"jsonrpc": "2.0", "id": 1, "result": version}
        return real(method, params)

    monkeypatch.setattr(chain.w3.provider, "make_request", make_request)
    return asked


def test_anvil_identifies_itself_and_dev_accounts_sign_there(chain):
    assert chain.client_version.startswith("anvil")
    assert chain.is_local
    assert load_account("dev:1", chain).address == resolve_address("dev:1")


@pytest.mark.parametrize(
    "version",
    ["anvil/v1.2.3", "Ganache/v7.9.2/EthereumJS TestRPC/v7.9.2/ethereum-js", "HardhatNetwork/2.22.0"],
)
def test_each_development_node_is_recognised(monkeypatch, chain, version):
    answer_client_version(monkeypatch, chain, version)
    assert chain.is_local
    load_account("dev:0", chain)


def test_a_local_chain_id_on_another_client_refuses_dev_accounts(monkeypatch, chain):
    asked = answer_client_version(monkeypatch, chain, "Geth/v1.14.0-stable/linux-amd64/go1.22")
    assert chain.chain_id == 31337
    with pytest.raises(AccountError) as info:
        load_account("dev:1", chain)
    assert str(info.value) == (
        "dev:1 is a development account: refused on chain 31337, whose node "
        "(Geth/v1.14.0-stable/linux-amd64/go1.22) does not identify itself as anvil, ganache or hardhat"
    )
    assert info.value.exit_code == 2
    assert asked == ["web3_clientVersion"]  # asked once, and nothing else


def test_a_node_that_does_not_say_what_it_is_refuses_dev_accounts(monkeypatch, chain):
    answer_client_version(monkeypatch, chain, None)
    with pytest.raises(AccountError, match=r"whose node \(it does not say which it is\) does not identify"):
        load_account("dev:2", chain)
    with pytest.raises(AccountError, match="refused on chain 31337"):
        resolve_address("dev:2", chain)
