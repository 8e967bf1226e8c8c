"""The engine's views extension: the engine runs the functions it does not have itself in
`JourneyViews` by delegatecall over its own storage. That code must not be able to change the
engine's state, and both must read one storage layout, declared once in `EngineStorage`."""

from __future__ import annotations

import json
from pathlib import Path

import brownie
import pytest
from brownie import JourneyViews, web3

from journeychain.artifacts import load_build

BUILD = Path(__file__).resolve().parents[1] / "build" / "contracts"

# opcodes a delegatecalled extension must never hold: a write, a call that may write (or send
# value), a creation, a self-destruct, a log
FORBIDDEN = {
    0x55: "SSTORE",
    0x5D: "TSTORE",
    0xF0: "CREATE",
    0xF1: "CALL",
    0xF2: "CALLCODE",
    0xF4: "DELEGATECALL",
    0xF5: "CREATE2",
    0xFF: "SELFDESTRUCT",
    **{0xA0 + n: f"LOG{n}" for n in range(5)},
}


def _opcodes(code: bytes) -> list[int]:
    """The instructions of runtime code, PUSH data skipped, the trailing CBOR metadata left out."""
    end = len(code) - 2 - int.from_bytes(code[-2:], "big")
    ops, pc = [], 0
    while pc < end:
        op = code[pc]
        ops.append(op)
        pc += 1 + (op - 0x5F if 0x60 <= op <= 0x7F else 0)
    return ops


def test_the_views_extension_writes_calls_creates_and_logs_nothing():
    code = bytes.fromhex(load_build()["JourneyViews"].deployed_bytecode[2:])
    ops = _opcodes(code)
    assert 0xFA in ops  # STATICCALL: the calendars' views (stepAtRisk), read-only by the EVM's rule
    found = sorted({FORBIDDEN[op] for op in ops if op in FORBIDDEN})
    assert found == [], f"JourneyViews holds {found}"


def test_the_opcode_reader_finds_a_write_where_there_is_one():
    """The check above would see an SSTORE: the engine's own code has many."""
    engine = bytes.fromhex(load_build()["JourneyEngine"].deployed_bytecode[2:])
    assert 0x55 in _opcodes(engine) and 0xF4 in _opcodes(engine)


def _state_variables(node: dict, contract: str = "") -> list[str]:
    found = []
    if node.get("nodeType") == "ContractDefinition":
        contract = node["name"]
    variable = node.get("nodeType") == "VariableDeclaration" and node.get("stateVariable")
    if variable and node.get("mutability") == "mutable":
        found.append(f"{contract}.{node['name']}")
    for value in node.values():
        children = value if isinstance(value, list) else [value]
        for child in children:
            if isinstance(child, dict):
                found.extend(_state_variables(child, contract))
    return found


@pytest.mark.parametrize(
    "name", ["Participants", "Playbooks", "Journeys", "Incentives", "JourneyEngine", "JourneyViews"]
)
def test_no_layer_of_the_engine_but_its_storage_base_declares_state(name):
    ast = json.loads((BUILD / f"{name}.json").read_text(encoding="utf-8"))["ast"]
    assert _state_variables(ast) == []


def test_the_storage_base_declares_the_engines_slots():
    ast = json.loads((BUILD / "EngineStorage.json").read_text(encoding="utf-8"))["ast"]
    declared = _state_variables(ast)
    assert "EngineStorage._journeys" in declared and "EngineStorage._credits" in declared


def test_a_view_through_the_engine_reads_the_engines_storage(suite, engine):
    views = JourneyViews.at(engine.views())
    assert engine.playbookCount() == 1
    assert views.playbookCount() == 0  # called directly, the extension reads its own empty storage


def _reverted_with(call: dict) -> str:
    with pytest.raises(ValueError) as info:
        web3.eth.call(call)
    error = info.value.args[0]
    assert "execution reverted" in error["message"]
    return error.get("data", "0x")


def test_a_selector_no_one_has_reverts_with_no_data_and_ether_is_refused(engine, team):
    assert _reverted_with({"to": engine.address, "data": "0xdeadbeef"}) == "0x"
    journey = engine.signatures["journey"] + "00" * 32
    call = {"to": engine.address, "data": journey, "from": team.admin.address}
    assert _reverted_with(call) != "0x"  # the view runs (and refuses an unknown journey)
    assert _reverted_with({**call, "value": 1}) == "0x"  # no ether through the fallback
    with brownie.reverts():
        team.admin.transfer(engine, 1)


def test_no_function_of_the_engine_shadows_one_of_its_views():
    """A function the engine has itself is never sent to its views extension: the two must not
    share a selector, or the extension's would silently never run."""
    from brownie import JourneyEngine as Engine
    from brownie.convert.utils import build_function_selector

    compiled = json.loads((BUILD / "JourneyEngine.json").read_text(encoding="utf-8"))["abi"]
    own = {build_function_selector(e) for e in compiled if e["type"] == "function"}
    assert own.isdisjoint(JourneyViews.selectors)
    assert set(JourneyViews.selectors) <= set(Engine.selectors)  # the merged ABI lists them all
