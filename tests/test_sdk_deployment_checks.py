"""A deployment file is trusted only as far as the chain confirms it: the engine must name the
file's voice, registry and token, and every address must hold the build's runtime code.

Refusals happen in `load_deployment`, with calls only: nothing is sent to a substituted
contract, no approval and no tokens.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from web3.types import RPCEndpoint

from journeychain.accounts import dev_account
from journeychain.artifacts import load_build
from journeychain.chain import Chain
from journeychain.deployments import Deployment, deploy, deployment_file, load_deployment
from journeychain.errors import DeploymentError


@pytest.fixture(scope="module")
def suites(
    journey_chain: Chain, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Deployment, Deployment]:
    """Two suites of the same build on one chain, each with its own deployments folder."""
    first = tmp_path_factory.mktemp("first")
    second = tmp_path_factory.mktemp("second")
    admin = dev_account(0, journey_chain)
    return (
        first,
        deploy(journey_chain, admin, directory=first),
        deploy(journey_chain, admin, directory=second),
    )


def _rewrite(chain: Chain, source: Path, folder: Path, **changes: str) -> Path:
    """The deployment file of `source`, copied to `folder` with `changes`."""
    data = json.loads(deployment_file(chain.chain_id, source).read_text(encoding="utf-8"))
    path = deployment_file(chain.chain_id, folder)
    data.update(changes)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _sent(chain: Chain) -> tuple[int, int]:
    """The deployer's nonce and the block number: both unchanged when nothing was sent."""
    return chain.w3.eth.get_transaction_count(dev_account(0).address), chain.w3.eth.block_number


def test_the_correct_file_loads(journey_chain, suites):
    folder, first, _ = suites
    assert load_deployment(journey_chain, folder) == first


def test_an_engine_swapped_for_another_suites_engine_is_refused_before_anything_is_sent(
    journey_chain, suites, tmp_path
):
    folder, _, second = suites
    path = _rewrite(journey_chain, folder, tmp_path, engine=second.engine)
    before = _sent(journey_chain)
    with pytest.raises(DeploymentError) as info:
        load_deployment(journey_chain, tmp_path)
    message = str(info.value)
    assert message.startswith(f"the engine in {path} names {second.voice} as its CustomerVoice")
    assert info.value.exit_code == 2 and len(message.splitlines()) == 1
    assert _sent(journey_chain) == before


def test_a_token_of_another_suite_is_refused(journey_chain, suites, tmp_path):
    folder, _, second = suites
    _rewrite(journey_chain, folder, tmp_path, token=second.token)
    with pytest.raises(DeploymentError, match=r"names 0x[0-9a-fA-F]{40} as its JourneyToken, not the file's"):
        load_deployment(journey_chain, tmp_path)


def test_a_look_alike_engine_that_answers_the_files_addresses_is_refused_by_its_code(
    journey_chain, suites, tmp_path
):
    """A copy of the engine's runtime code with one byte changed (in its metadata, so that it
    still answers voice(), attestations() and token() with the file's addresses) is refused."""
    folder, first, _ = suites
    w3 = journey_chain.w3
    code = bytearray(w3.eth.get_code(first.engine))
    code[-10] ^= 0xFF
    fake = journey_chain.w3.to_checksum_address("0x" + "fe" * 20)
    w3.provider.make_request(RPCEndpoint("anvil_setCode"), [fake, "0x" + code.hex()])
    fake_engine = w3.eth.contract(address=fake, abi=load_build()["JourneyEngine"].abi)
    assert fake_engine.functions.voice().call() == first.voice  # the look-alike answers like the engine

    path = _rewrite(journey_chain, folder, tmp_path, engine=fake)
    before = _sent(journey_chain)
    with pytest.raises(DeploymentError) as info:
        load_deployment(journey_chain, tmp_path)
    assert str(info.value) == (
        f"the engine in {path} ({fake}) does not hold the current build's JourneyEngine code: refusing"
        " a deployment of other contracts (run `journey deploy` for a new one)"
    )
    assert _sent(journey_chain) == before


def test_the_immutables_are_all_that_differs_from_the_build(journey_chain, suites):
    """The runtime code on chain differs from the build's only inside the immutables' ranges
    (so the check needs the mask, and the mask hides nothing else)."""
    _, first, _ = suites
    build = load_build()
    for field, name in (("engine", "JourneyEngine"), ("voice", "CustomerVoice"), ("token", "JourneyToken")):
        on_chain = bytes(journey_chain.w3.eth.get_code(getattr(first, field)))
        artifact = build[name]
        expected = bytes.fromhex(artifact.deployed_bytecode[2:])
        differing = {i for i, (a, b) in enumerate(zip(on_chain, expected, strict=True)) if a != b}
        assert differing, f"{name} has no filled-in immutable"
        masked = {i for start, length in artifact.immutables for i in range(start, start + length)}
        assert differing <= masked
        assert artifact.runtime_matches(on_chain)


@pytest.mark.parametrize(
    ("getter", "refusal"),
    [
        # the engine runs its views by delegatecall: their code must be the build's JourneyViews
        (
            "views",
            "the engine in {path} runs its views from {address}, which does not hold the current "
            "build's JourneyViews code: refusing (run `journey deploy` for a new one)",
        ),
        # the directory pushes every participant's roles to the engine: a look-alike could make
        # anyone anything
        (
            "directory",
            "the engine in {path} names {address} as its directory, which is not the build's "
            "Directory governing it: refusing (run `journey deploy` for a new one)",
        ),
    ],
)
def test_an_engine_whose_companion_code_is_not_the_builds_is_refused(
    journey_chain, suites, tmp_path, getter, refusal
):
    """One byte of the companion's metadata changed in place: the deployment is refused, and
    accepted again once the code is the build's."""
    folder, first, _ = suites
    w3 = journey_chain.w3
    engine = w3.eth.contract(address=first.engine, abi=load_build()["JourneyEngine"].abi)
    address = engine.functions[getter]().call()
    original = bytes(w3.eth.get_code(address))
    code = bytearray(original)
    code[-10] ^= 0xFF
    w3.provider.make_request(RPCEndpoint("anvil_setCode"), [address, "0x" + code.hex()])
    try:
        path = _rewrite(journey_chain, folder, tmp_path)
        with pytest.raises(DeploymentError) as info:
            load_deployment(journey_chain, tmp_path)
        assert str(info.value) == refusal.format(path=path, address=address)
    finally:
        w3.provider.make_request(RPCEndpoint("anvil_setCode"), [address, "0x" + original.hex()])
    load_deployment(journey_chain, folder)  # the original code is accepted again


def test_the_views_count_working_time_by_the_engines_calendars(journey_chain, suites):
    """The views extension's one immutable, read from its code as the check reads it, is the
    engine's calendars."""
    _, first, _ = suites
    w3 = journey_chain.w3
    build = load_build()
    engine = w3.eth.contract(address=first.engine, abi=build["JourneyEngine"].abi)
    code = bytes(w3.eth.get_code(engine.functions.views().call()))
    start, length = build["JourneyViews"].immutables[0]
    assert (
        w3.to_checksum_address(code[start + length - 20 : start + length])
        == engine.functions.calendars().call()
    )
