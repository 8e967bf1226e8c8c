"""Amounts read the same everywhere: the incentive token always with its symbol, exact (never
rounded), from the one formatter that timelines, refusals and the command line share."""

from __future__ import annotations

import pytest

from journeychain import amounts, reverts, timeline
from journeychain.amounts import ether, gwei, tokens
from journeychain.reverts import Decoder

UNIT = 10**18


@pytest.mark.parametrize(
    ("units", "shown"),
    [
        (1000 * UNIT, "1,000 JIT"),
        (12 * UNIT + UNIT // 2, "12.5 JIT"),
        (1, "0.000000000000000001 JIT"),
        (0, "0 JIT"),
        (2**96 - 1, "79,228,162,514.264337593543950335 JIT"),
        (350 * UNIT + 5, "350.000000000000000005 JIT"),
    ],
)
def test_an_amount_of_the_token_is_exact_and_carries_its_symbol(units, shown):
    assert tokens(units) == shown


def test_timelines_and_refusals_share_the_one_formatter():
    assert timeline.tokens is amounts.tokens
    assert reverts.tokens is amounts.tokens


def test_a_refusal_names_its_amounts_with_the_unit():
    from eth_abi import encode
    from eth_utils import keccak

    from journeychain.artifacts import load_build

    selector = keccak(text="ERC20InsufficientBalance(address,uint256,uint256)")[:4]
    sender = "0x" + "ab" * 20
    data = selector + encode(["address", "uint256", "uint256"], [sender, 800 * UNIT, 5000 * UNIT])
    error = Decoder(load_build().all_abis()).decode(data)
    assert str(error).endswith("holds 800 JIT, 5,000 JIT needed")


def test_a_timeline_entry_names_its_amounts_with_the_unit():
    entry = timeline.Entry(
        kind="funded",
        block=1,
        time=0,
        tx="0x",
        who="0x" + "cd" * 20,
        details={"amount": UNIT, "pool": 2 * UNIT},
    )
    assert entry.describe().endswith("with 1 JIT (pool 2 JIT)")


def test_the_chains_own_currency_reads_in_ether_and_gwei():
    assert ether(42 * 10**12) == "0.000042 ether"
    assert gwei(1_500_000_000) == "1.5 gwei"
