"""A refusal reads the rule's sentence on every node the suite runs on: anvil, and ganache
(`make test-ganache`), which hands the revert data back in its own shape.

The SDK talks to the test network's own node (brownie's), as dev:N, which must be the accounts
that node funds: on ganache, the Makefile's network gives it anvil's mnemonic.
"""

from __future__ import annotations

import pytest
from brownie import accounts, web3
from eth_account import Account

from journeychain.accounts import dev_account
from journeychain.chain import connect
from journeychain.client import JourneyClient
from journeychain.deployments import deploy
from journeychain.encoding import profile_hash
from journeychain.errors import CompletenessError, RulebookError
from journeychain.playbook import load_playbook
from journeychain.reverts import mined_transaction, revert_data
from journeychain.tx import Sender

pytestmark = pytest.mark.smoke

POOL = 1_000 * 10**18
BOOKING = {"success_criteria": "live in 30 days", "decision_maker": "COO", "contract_value": "120000"}


@pytest.fixture(scope="module")
def node(journey_env):
    return connect(web3.provider.endpoint_uri, start_local=False)


@pytest.fixture(scope="module")
def crew(node):
    admin = JourneyClient(node, deploy(node, dev_account(0, node)), dev_account(0, node))
    people = {"marketing": 1, "sales": 2, "verifier": 5, "funder": 6}
    crew = {name: admin.with_account(dev_account(i, node)) for name, i in people.items()}
    for name, client in crew.items():
        org, _ = admin.register_organisation(name)
        admin.grant_role(client.address, name.upper(), org=org)
        client.accept_rulebook()
    admin.publish_playbook(load_playbook())
    admin.mint(crew["funder"].address, POOL)
    crew["admin"] = admin
    return crew


def test_dev_accounts_are_the_ones_the_node_funds(node):
    funded = [a.address for a in accounts[:10]]
    assert [dev_account(i, node).address for i in range(10)] == funded


def test_a_refused_booking_reads_the_rules_sentence(node, crew):
    customer = Account.create()
    crew["marketing"].open_journey(
        "SMOKE-1", customer.address, profile_hash("Ada", b"\x01" * 32), funder=crew["funder"].address
    )
    crew["marketing"].complete_step("SMOKE-1", assign=crew["sales"].address)
    crew["sales"].complete_step("SMOKE-1")
    crew["funder"].fund("SMOKE-1", POOL)
    crew["verifier"].attest_customer("SMOKE-1", "identity_verified")
    with pytest.raises(CompletenessError) as refused:
        crew["sales"].complete_step("SMOKE-1", BOOKING)
    assert str(refused.value) == "booking refused: field customer_goals is missing"


def test_a_transaction_sent_without_an_estimate_is_refused_with_the_rules_sentence(node, crew):
    outsider = dev_account(9, node)
    client = crew["admin"].with_account(outsider)
    sender = Sender(node, outsider, client.decoder, client.context)
    call = client.directory.functions.registerOrganisation(b"Rogue".ljust(32, b"\0"), 0)
    with pytest.raises(RulebookError, match=r"does not hold the ADMIN role"):
        sender.send(call, gas=300_000)  # no estimate: the node runs it, or mines it and it reverts


GANACHE = "VM Exception while processing transaction: revert"
DATA = "0x0161a64a"


@pytest.mark.parametrize(
    "error",
    [
        {"code": 3, "message": "execution reverted", "data": DATA},  # anvil, geth, hardhat
        {"message": GANACHE, "data": {"result": DATA}},  # ganache 7
        {"message": GANACHE, "data": {"hash": None, "result": DATA, "reason": None}},
        {"message": "revert", "data": {"0x" + "ab" * 32: {"error": "revert", "return": DATA}}},  # ganache 6
        {"jsonrpc": "2.0", "error": {"message": "revert", "data": {"data": DATA}}},  # a whole response
    ],
)
def test_each_nodes_shape_of_revert_data_is_read(error):
    assert revert_data(error) == bytes.fromhex("0161a64a")
    assert revert_data(ValueError(error)) == bytes.fromhex("0161a64a")


def test_an_error_without_revert_data_has_none():
    assert (
        revert_data(
            {"message": "VM Exception while processing transaction: revert", "data": {"result": "0x"}}
        )
        == b""
    )
    assert revert_data({"message": "nonce too low"}) is None
    assert revert_data(RuntimeError("lost")) is None


def test_ganaches_answer_to_a_mined_revert_names_the_transaction_not_its_data():
    tx = "0x" + "05" * 32
    error = {
        "message": "VM Exception while processing transaction: revert",
        "data": {"hash": tx, "result": tx},
    }
    assert mined_transaction(error) == tx
    assert mined_transaction({"error": error}) == tx
    assert revert_data(error) is None  # the result is the transaction's hash, not revert data
    assert mined_transaction({"message": "nonce too low"}) is None
