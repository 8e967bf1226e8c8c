"""A signed transaction the node will not take ends with one sentence naming the account and the
figures, raised by the SDK's sender as a NodeRefusalError (a TransactionError: exit code 1 on the
command line): too little ether for the gas, a nonce used already or out of turn, a replacement
that does not outbid the pending transaction, a max fee below the base fee, a price below the
node's minimum.

The translation reads each node's shape of the error (anvil, geth's state transition and pool,
ganache 7 and 6, older web3's ValueError); the real cases run on a private anvil of their own.
"""

from __future__ import annotations

import json

import pytest
from eth_account import Account
from typer.testing import CliRunner
from web3.exceptions import Web3RPCError

from journeychain.accounts import dev_account
from journeychain.amounts import gwei
from journeychain.artifacts import load_build
from journeychain.chain import Chain
from journeychain.cli import app
from journeychain.errors import (
    FeeError,
    InsufficientFundsError,
    NodeRefusalError,
    NonceError,
    TransactionError,
)
from journeychain.reverts import Decoder
from journeychain.tx import Sender, node_refusal

ACCOUNT = "0x" + "Ab" * 20
GWEI = 10**9
#: what the sender signs: 100,000 gas at up to 3 gwei, nonce 7, no value
TX = {"gas": 100_000, "maxFeePerGas": 3 * GWEI, "maxPriorityFeePerGas": GWEI, "nonce": 7, "value": 0}


class Node:
    """A node that answers the look-ups a sentence may need."""

    class eth:  # web3's own name
        @staticmethod
        def get_balance(account):
            return 10**14

        @staticmethod
        def get_transaction_count(account, block):
            return 9

        @staticmethod
        def get_block(block):
            return {"baseFeePerGas": 7 * GWEI}


def rpc_error(message: str, code: int = -32000, **extra) -> Web3RPCError:
    """web3's exception for a JSON-RPC error response, as the sender meets it."""
    response = {"jsonrpc": "2.0", "id": 1, "error": {"code": code, "message": message, **extra}}
    return Web3RPCError(message, rpc_response=response)


FUNDS = (
    "the node refused the transaction: {a} holds {have}, and the transaction needs up to {want}"
    "{how}: send the account ether first"
)


@pytest.mark.parametrize(
    ("error", "node", "have", "want", "how"),
    [
        (  # anvil: no figures, so the balance is looked up and the cost worked out from the transaction
            rpc_error("Insufficient funds for gas * price + value", -32003),
            Node,
            "0.0001 ether",
            "0.0003 ether",
            " (100,000 gas at up to 3 gwei)",
        ),
        (  # geth, the state transition
            rpc_error(f"insufficient funds for gas * price + value: address {ACCOUNT} have 1000 want 42000"),
            None,
            "0.000000000000001 ether",
            "0.000000000000042 ether",
            "",
        ),
        (  # geth, the transaction pool
            rpc_error("insufficient funds for gas * price + value: balance 0, tx cost 42000, overshot 42000"),
            None,
            "0 ether",
            "0.000000000000042 ether",
            "",
        ),
        (  # ganache 7
            rpc_error(
                "insufficient funds for gas * price + value",
                -32003,
                stack="Error: insufficient funds for gas * price + value\n    at TransactionPool.prepare",
            ),
            Node,
            "0.0001 ether",
            "0.0003 ether",
            " (100,000 gas at up to 3 gwei)",
        ),
        (  # ganache 6, through older web3: a ValueError holding the error object
            ValueError(
                {
                    "code": -32000,
                    "message": "sender doesn't have enough funds to send tx. The upfront cost is: 42000 and "
                    "the sender's account only has: 1000",
                }
            ),
            None,
            "0.000000000000001 ether",
            "0.000000000000042 ether",
            "",
        ),
    ],
    ids=["anvil", "geth-state", "geth-pool", "ganache-7", "ganache-6"],
)
def test_too_little_ether_names_the_balance_and_the_cost(error, node, have, want, how):
    refused = node_refusal(error, ACCOUNT, TX, node)
    assert isinstance(refused, InsufficientFundsError)
    assert str(refused) == FUNDS.format(a=ACCOUNT, have=have, want=want, how=how)
    assert refused.account == ACCOUNT and set(refused.figures) == {"balance", "needed"}


def test_too_little_ether_without_a_node_to_ask_still_is_a_sentence():
    refused = node_refusal({"code": -32003, "message": "Insufficient funds for gas * price + value"}, ACCOUNT)
    assert str(refused) == (
        f"the node refused the transaction: {ACCOUNT} holds too little ether for the transaction's gas: "
        "send the account ether first"
    )


@pytest.mark.parametrize(
    ("error", "node", "kind", "sentence"),
    [
        (
            rpc_error("nonce too low", -32003),
            Node,
            "low",
            "nonce 7 of {a} is used already (its next nonce is 9)",
        ),
        (
            rpc_error(f"nonce too low: address {ACCOUNT}, tx: 3 state: 5"),
            None,
            "low",
            "nonce 3 of {a} is used already (its next nonce is 5)",
        ),
        (
            rpc_error("nonce too low: next nonce 5, tx nonce 3"),
            None,
            "low",
            "nonce 3 of {a} is used already (its next nonce is 5)",
        ),
        (
            rpc_error("the tx doesn't have the correct nonce. account has nonce of: 5 tx has nonce of: 3"),
            None,
            "low",
            "nonce 3 of {a} is used already (its next nonce is 5)",
        ),
        (
            rpc_error(f"nonce too high: address {ACCOUNT}, tx: 12 state: 5"),
            None,
            "high",
            "nonce 12 of {a} is ahead of its next nonce 5",
        ),
        (
            rpc_error("the tx doesn't have the correct nonce. account has nonce of: 2 tx has nonce of: 9"),
            None,
            "high",
            "nonce 9 of {a} is ahead of its next nonce 2",
        ),
    ],
    ids=["anvil-low", "geth-state-low", "geth-pool-low", "ganache-low", "geth-high", "ganache-high"],
)
def test_a_nonce_out_of_turn_names_both_nonces(error, node, kind, sentence):
    refused = node_refusal(error, ACCOUNT, TX, node)
    assert isinstance(refused, NonceError)
    end = (
        ": another transaction of this account went first; send it again"
        if kind == "low"
        else ": send the transactions before it first, or send it again with the next nonce"
    )
    assert str(refused) == "the node refused the transaction: " + sentence.format(a=ACCOUNT) + end


@pytest.mark.parametrize(
    "error",
    [
        rpc_error("replacement transaction underpriced", -32003),  # anvil
        rpc_error("replacement transaction underpriced"),  # geth
    ],
    ids=["anvil", "geth"],
)
def test_a_replacement_that_does_not_outbid_the_pending_transaction_says_so(error):
    refused = node_refusal(error, ACCOUNT, TX)
    assert isinstance(refused, FeeError)
    assert str(refused) == (
        f"the node refused the transaction: {ACCOUNT} has a pending transaction with nonce 7, and this one "
        "at up to 3 gwei per gas does not outbid it: raise its fees (most nodes ask 10% more) or wait "
        "until the pending one is mined"
    )


@pytest.mark.parametrize(
    ("error", "node", "offer", "floor"),
    [
        (rpc_error("max fee per gas less than block base fee", -32003), Node, "3 gwei", "7 gwei"),  # anvil
        (
            rpc_error(
                f"max fee per gas less than block base fee: address {ACCOUNT}, maxFeePerGas: 1000000000, "
                "baseFee: 875000000000"
            ),
            None,
            "1 gwei",
            "875 gwei",
        ),
        (
            rpc_error(f"fee cap less than block base fee: address {ACCOUNT}, gasFeeCap: 1 baseFee: 7"),
            None,
            "0.000000001 gwei",
            "0.000000007 gwei",
        ),
    ],
    ids=["anvil", "geth", "geth-1.10"],
)
def test_a_max_fee_below_the_base_fee_names_both(error, node, offer, floor):
    refused = node_refusal(error, ACCOUNT, TX, node)
    assert isinstance(refused, FeeError)
    assert str(refused) == (
        f"the node refused the transaction of {ACCOUNT}: its max fee per gas of {offer} is below the "
        f"block's base fee of {floor}: send it again with a higher max fee"
    )


def test_a_price_below_the_nodes_minimum_says_so():
    refused = node_refusal(rpc_error("transaction underpriced"), ACCOUNT, TX)
    assert isinstance(refused, FeeError)
    assert str(refused) == (
        f"the node refused the transaction of {ACCOUNT}: its gas price of 3 gwei is below the node's "
        "minimum: send it again with a higher fee"
    )


@pytest.mark.parametrize(
    "error",
    [rpc_error("execution reverted", 3), rpc_error("Transaction rejected", -32003), "header not found"],
    ids=["revert", "bare-32003", "other"],
)
def test_what_no_refusal_names_is_left_to_the_caller(error):
    assert node_refusal(error, ACCOUNT, TX, Node) is None


def test_a_refusal_is_a_transaction_error_of_exit_code_1():
    for cls in (InsufficientFundsError, NonceError, FeeError):
        assert issubclass(cls, NodeRefusalError) and issubclass(cls, TransactionError)
        assert cls("x").exit_code == 1


# --- on a real node ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def node(journey_env: pytest.MonkeyPatch, journey_chain: Chain) -> Chain:
    journey_env.setenv("JOURNEY_PASSWORD", "a password")
    return journey_chain


def sender(chain: Chain, account) -> Sender:
    return Sender(chain, account, Decoder(load_build().all_abis()))


def token_call(chain: Chain):
    """A deployment of the incentive token: a call any account can send."""
    build = load_build()["JourneyToken"]
    return chain.w3.eth.contract(abi=build.abi, bytecode=build.bytecode).constructor(dev_account(0).address)


def test_a_deploy_from_an_account_without_ether_names_its_balance_and_the_cost(node):
    runner = CliRunner()
    created = runner.invoke(app, ["--json", "accounts", "new", "poor"])
    assert created.exit_code == 0, created.output
    poor = json.loads(created.stdout)["address"]
    result = runner.invoke(app, ["-a", "poor", "deploy"])
    assert result.exit_code == 1 and result.stdout == ""
    message = result.stderr.strip()
    assert message.startswith(f"error: the node refused the transaction: {poor} holds 0 ether, and the ")
    assert message.endswith(" gwei): send the account ether first") and " gas at up to " in message
    assert len(message.splitlines()) == 1


def test_a_stale_nonce_sent_through_the_sdk_is_a_nonce_error(node):
    account = Account.create()
    node.w3.eth.send_transaction({"from": dev_account(0).address, "to": account.address, "value": 10**18})
    first = sender(node, account).send(token_call(node))
    assert first.block > 0
    with pytest.raises(NonceError) as info:
        sender(node, account).send(token_call(node), nonce=0)
    assert str(info.value) == (
        f"the node refused the transaction: nonce 0 of {account.address} is used already (its next nonce "
        "is 1): another transaction of this account went first; send it again"
    )
    assert info.value.figures == {"nonce": 0, "next_nonce": 1}


def test_a_replacement_at_the_same_fees_is_a_fee_error(node):
    account = Account.create()
    w3 = node.w3
    w3.eth.send_transaction({"from": dev_account(0).address, "to": account.address, "value": 10**18})
    w3.provider.make_request("evm_setAutomine", [False])
    try:
        pending = {
            "to": dev_account(1).address,
            "value": 1,
            "gas": 21_000,
            "maxFeePerGas": 100 * GWEI,
            "maxPriorityFeePerGas": 50 * GWEI,
            "nonce": 0,
            "chainId": node.chain_id,
        }
        w3.eth.send_raw_transaction(account.sign_transaction(pending).raw_transaction)
        with pytest.raises(FeeError) as info:
            sender(node, account).send(token_call(node), nonce=0)
    finally:
        w3.provider.make_request("evm_setAutomine", [True])
        w3.provider.make_request("evm_mine", [])
    assert str(info.value).startswith(
        f"the node refused the transaction: {account.address} has a pending transaction with nonce 0, "
        "and this one at up to "
    )


def test_a_max_fee_below_the_base_fee_on_the_node_names_both(node):
    class Stingy(Sender):
        def _fees(self) -> dict[str, int]:
            return {"maxPriorityFeePerGas": 1, "maxFeePerGas": 1}

    with pytest.raises(FeeError) as info:
        Stingy(node, dev_account(2), Decoder(load_build().all_abis())).send(token_call(node))
    base = node.w3.eth.get_block("latest")["baseFeePerGas"]
    assert str(info.value) == (
        f"the node refused the transaction of {dev_account(2).address}: its max fee per gas of 0.000000001 "
        f"gwei is below the block's base fee of {gwei(base)}: send it again with a higher max fee"
    )
