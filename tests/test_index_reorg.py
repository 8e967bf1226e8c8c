"""A reorganisation is undone: when the stored hash of an indexed block no longer matches the
chain's, the index deletes everything the removed blocks wrote, folds again the journeys they
touched and indexes the blocks that replaced them, on SQLite and PostgreSQL. The chain's history
is replaced with anvil's snapshots: evm_revert drops the blocks after the snapshot, and new
transactions mine other blocks at the same heights. Each test has a fresh chain, so that it can
also send what no SDK call sends (a batch of openings through `multicall`).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from web3.types import RPCEndpoint

from journeychain.client import JourneyClient
from journeychain.demo import network
from journeychain.encoding import journey_id
from journeychain.index import Index
from journeychain.index import schema as tables


@pytest.fixture
def crew_chain() -> Iterator[tuple]:
    with network() as (chain, crew):
        yield chain, crew


@pytest.fixture(params=["sqlite", "postgresql"])
def index_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "index.sqlite")
    from tests.pg import new_database

    return new_database(request.getfixturevalue("postgres_url"))


def rpc(chain, method: str, *params):
    return chain.w3.provider.make_request(RPCEndpoint(method), list(params))["result"]


def indexed_ids(index: Index) -> list[str]:
    return [j["journey_id"] for j in index.journeys()]


def agrees_with_chain(index: Index, chain, crew) -> None:
    """Every indexed event's block is on the chain as it stands, and every journey reads as the
    engine's views answer."""
    with index.db.connect() as conn:
        stored = conn.execute(select(tables.events.c.block, tables.events.c.block_hash).distinct()).all()
    for block, block_hash in stored:
        assert chain.w3.eth.get_block(int(block))["hash"].to_0x_hex() == block_hash
    reader = JourneyClient(chain, crew.deployment, None)
    opened = [e.journey_id for e in reader.journeys()]
    assert indexed_ids(index) == opened
    for _, state in index.states(None, chain.now()):
        assert state.as_dict() == reader.journey(state.journey_id).as_dict() | {"reference": None}


def test_blocks_replaced_by_a_reorganisation_are_undone(crew_chain, index_url):
    chain, crew = crew_chain
    crew.open("R-1", assignee=crew.marketing)
    with Index.open(index_url, crew.deployment) as index:
        index.sync(chain)
        kept = index.cursor()
        snapshot = rpc(chain, "evm_snapshot")
        crew.qualify("R-1", crew.rep_a)
        crew.open("R-2", assignee=crew.marketing)
        index.sync(chain)
        assert indexed_ids(index)[-1] == "0x" + journey_id("R-2").hex()
        assert index.journey("R-1")["step"] == 1
        replaced = index.cursor()
        assert rpc(chain, "evm_revert", snapshot)
        crew.open("R-3", assignee=crew.marketing)  # another history at the same heights
        for _ in range(3):
            rpc(chain, "evm_mine")
        index.sync(chain)
        undone = index.last_reorganisation
        assert undone is not None and undone.cursor == replaced[0] and undone.fork <= kept[0]
        assert index.journey("R-2") is None
        assert index.journey("R-1")["step"] == 0
        assert index.journey("R-3") is not None
        agrees_with_chain(index, chain, crew)
        assert index.sync(chain) == chain.w3.eth.block_number and index.last_reorganisation is None


def test_a_chain_that_became_shorter_is_undone_too(crew_chain, index_url):
    chain, crew = crew_chain
    crew.open("S-1", assignee=crew.marketing)
    with Index.open(index_url, crew.deployment) as index:
        index.sync(chain)
        snapshot = rpc(chain, "evm_snapshot")
        crew.qualify("S-1", crew.rep_a)
        crew.open("S-2", assignee=crew.marketing)
        index.sync(chain)
        assert rpc(chain, "evm_revert", snapshot)  # the head is below the index's cursor now
        assert chain.w3.eth.block_number < index.cursor()[0]
        assert index.sync(chain) == chain.w3.eth.block_number
        assert index.last_reorganisation is not None
        assert index.journey("S-2") is None and index.journey("S-1")["step"] == 0
        agrees_with_chain(index, chain, crew)


def test_confirmations_leave_recent_blocks_out_until_they_are_deep_enough(crew_chain, index_url):
    chain, crew = crew_chain
    with Index.open(index_url, crew.deployment) as index:
        index.sync(chain, confirmations=3)
        snapshot = rpc(chain, "evm_snapshot")
        crew.open("C-1", assignee=crew.marketing)  # one block: not deep enough yet
        index.sync(chain)
        assert index.journey("C-1") is None
        assert rpc(chain, "evm_revert", snapshot)  # it never was, as far as the index knows
        crew.open("C-2", assignee=crew.marketing)
        for _ in range(3):
            rpc(chain, "evm_mine")
        index.sync(chain)
        assert index.last_reorganisation is None
        assert index.journey("C-1") is None and index.journey("C-2") is not None


def test_journeys_opened_in_one_batch_have_the_owners_their_calls_named(crew_chain, index_url):
    """Who owns a journey's first step is in its opening call, not its event: the index reads
    it from the transaction, through a `multicall` batch too."""
    chain, crew = crew_chain
    engine = crew.engine
    opener = crew.marketing.address
    calls = [
        engine.encode_abi(
            "openJourney",
            args=[journey_id(reference), 1, bytes([n + 1]) * 16, assignee, crew.funder.address],
        )
        for n, (reference, assignee) in enumerate((("B-1", opener), ("B-2", "0x" + "00" * 20)))
    ]
    tx = engine.functions.multicall(calls).transact({"from": opener})
    assert chain.w3.eth.wait_for_transaction_receipt(tx)["status"] == 1
    with Index.open(index_url, crew.deployment) as index:
        index.sync(chain)
        assert index.journey("B-1")["assignee"] == opener and index.journey("B-1")["org"] is None
        assert index.journey("B-2")["assignee"] is None and index.journey("B-2")["org"]
        agrees_with_chain(index, chain, crew)
