"""Deploying the contract suite and finding it again: deployments/<chain id>.json.

A deployment records the engine, directory, customer voice, attestation registry, playbook
publisher and token addresses, the block and its hash, the deployer, the compiler and a hash of
the ABIs; its `key` (chain id, engine, block hash) is what local records are kept under. Loading one
checks, with calls only (nothing is sent), that the ABIs are the current build's, that the
engine names the file's customer voice, attestation registry, playbook publisher and token (and
they name it),
and that the runtime code at each address is the build's, byte for byte but for the
`immutable` values its constructor filled in: a file pointing at other contracts, a
look-alike with a copied ABI say, is refused before anything is sent to them.
The folder is `$JOURNEY_DEPLOYMENTS`, else deployments/ in the project checkout, else (an
installed wheel) deployments/ in the journeychain home.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils import is_address, keccak, to_checksum_address
from hexbytes import HexBytes

from journeychain.artifacts import Build, load_build
from journeychain.chain import Chain, journey_home
from journeychain.errors import DeploymentError
from journeychain.reverts import Decoder
from journeychain.sender import Sender
from journeychain.toolchain import project_file, source_checkout

RULEBOOK_FILE = project_file("playbooks", "rulebook.md")


@dataclass(frozen=True)
class DeploymentKey:
    """Which deployment a local record (a journey's, the vault's) belongs to: the chain id, the
    engine's address and the hash of the block the deployment starts at. A recreated local chain
    has the same id, and may give a fresh deployment the old engine address (the same deployer
    at the same nonce), but never the old block hash: its records start clean, and the old
    deployment's stay under their own key."""

    chain_id: int
    engine: str
    block_hash: str

    @property
    def tag(self) -> str:
        """The deployment on its chain, as the vault's `deployment` column holds it."""
        return f"{self.engine}@{self.block_hash}"

    def __str__(self) -> str:
        return f"{self.chain_id}:{self.tag}"


@dataclass(frozen=True)
class Deployment:
    chain_id: int
    engine: ChecksumAddress
    directory: ChecksumAddress
    voice: ChecksumAddress
    registry: ChecksumAddress
    publisher: ChecksumAddress
    token: ChecksumAddress
    block: int
    deployer: ChecksumAddress
    compiler: str
    abi_hash: str
    rulebook: str
    #: The hash of block `block`: tells this deployment from another at the same address on a
    #: recreated chain (files written before it was recorded get it from the chain on loading).
    block_hash: str = ""
    #: The step relay the engine and its registry trust as their forwarder (ERC-2771): it applies
    #: participants' signed actions in batches (files written before it existed leave it empty).
    relay: str = ""

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def key(self) -> DeploymentKey:
        """What local records of this deployment are kept under."""
        return DeploymentKey(self.chain_id, self.engine, self.block_hash)


def deployments_dir() -> Path:
    configured = os.environ.get("JOURNEY_DEPLOYMENTS")
    if configured:
        return Path(configured)
    checkout = source_checkout()
    return checkout / "deployments" if checkout else journey_home() / "deployments"


def deployment_file(chain_id: int, directory: Path | None = None) -> Path:
    return (directory or deployments_dir()) / f"{chain_id}.json"


def rulebook_hash(path: Path = RULEBOOK_FILE) -> bytes:
    """keccak256 of the rulebook's text: the hash participants accept."""
    return keccak(path.read_bytes())


def deploy(
    chain: Chain,
    account: LocalAccount,
    *,
    directory: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> Deployment:
    """Deploys JourneyToken, a CompanionFactory (which deploys the step relay) and JourneyEngine
    (which deploys its registry and publisher, and has the factory deploy its directory and voice,
    and trusts the factory's relay), has the
    deployer (the first ADMIN and the token's minter) accept the rulebook, and writes the file."""
    say = progress or (lambda _message: None)
    build = load_build()
    w3 = chain.w3
    sender = Sender(chain, account, Decoder(build.all_abis()))
    say("deploying JourneyToken")
    token_c = w3.eth.contract(abi=build["JourneyToken"].abi, bytecode=build["JourneyToken"].bytecode)
    token_receipt = sender.send(token_c.constructor(account.address))
    token = to_checksum_address(token_receipt.raw["contractAddress"])
    say("deploying CompanionFactory (it deploys the engine's directory and customer voice)")
    factory_c = w3.eth.contract(
        abi=build["CompanionFactory"].abi, bytecode=build["CompanionFactory"].bytecode
    )
    factory = to_checksum_address(sender.send(factory_c.constructor()).raw["contractAddress"])
    say("deploying JourneyEngine (with its directory, attestation registry and customer voice)")
    engine_c = w3.eth.contract(abi=build["JourneyEngine"].abi, bytecode=build["JourneyEngine"].bytecode)
    rulebook = rulebook_hash()
    receipt = sender.send(engine_c.constructor(account.address, rulebook, token, factory))
    engine_address = to_checksum_address(receipt.raw["contractAddress"])
    engine = w3.eth.contract(address=engine_address, abi=build["JourneyEngine"].abi)
    deployment = Deployment(
        chain_id=chain.chain_id,
        engine=engine_address,
        directory=to_checksum_address(engine.functions.directory().call()),
        voice=to_checksum_address(engine.functions.voice().call()),
        registry=to_checksum_address(engine.functions.attestations().call()),
        publisher=to_checksum_address(engine.functions.publisher().call()),
        token=token,
        block=token_receipt.block,
        deployer=account.address,
        compiler=build.compiler,
        abi_hash=build.abi_hash,
        rulebook="0x" + rulebook.hex(),
        block_hash=HexBytes(token_receipt.raw["blockHash"]).to_0x_hex(),
        relay=to_checksum_address(
            w3.eth.contract(
                address=to_checksum_address(engine.functions.attestations().call()),
                abi=build["AttestationRegistry"].abi,
            )
            .functions.trustedForwarder()
            .call()
        ),
    )
    say("the deployer, the first ADMIN, accepts the rulebook")
    directory_c = w3.eth.contract(address=deployment.directory, abi=build["Directory"].abi)
    sender.send(directory_c.functions.acceptRulebook())
    path = deployment_file(chain.chain_id, directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(deployment.as_dict(), indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    say(f"deployment written to {path}")
    return deployment


def load_deployment(chain: Chain, directory: Path | None = None, build: Build | None = None) -> Deployment:
    """The deployment on this chain; refused when missing, gone, or made with other ABIs."""
    path = deployment_file(chain.chain_id, directory)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        deployment = Deployment(**data)
    except FileNotFoundError:
        raise DeploymentError(f"no deployment for chain {chain.chain_id}: run `journey deploy`") from None
    except (OSError, ValueError, TypeError) as exc:
        raise DeploymentError(
            f"{path} is not a deployment file ({type(exc).__name__}): run `journey deploy`"
        ) from None
    deployment = _check_fields(deployment, path)
    build = build or load_build()
    if deployment.abi_hash != build.abi_hash:
        raise DeploymentError(
            f"the deployment for chain {chain.chain_id} was made from other contracts (ABI hash differs "
            "from the current build): run `journey deploy` again"
        )
    if not chain.w3.eth.get_code(deployment.engine):
        raise DeploymentError(
            f"the deployment for chain {chain.chain_id} points at {deployment.engine}, where there is no "
            "contract (was the chain reset?): run `journey deploy`"
        )
    verify_deployment(chain, deployment, build, path)
    return _with_block_hash(chain, deployment)


def _with_block_hash(chain: Chain, deployment: Deployment) -> Deployment:
    """The deployment with the hash of its first block, as the chain has it. A file that recorded
    another hash was made on another history of this chain id (a local chain recreated since):
    refused, as a file pointing at no contract is."""
    block = chain.w3.eth.get_block(deployment.block)
    actual = HexBytes(block["hash"]).to_0x_hex()
    if deployment.block_hash and deployment.block_hash.lower() != actual.lower():
        raise DeploymentError(
            f"the deployment for chain {chain.chain_id} was made at block {deployment.block} of another "
            "history of the chain (that block's hash differs: was the chain reset?): run `journey deploy`"
        )
    return replace(deployment, block_hash=actual)


def _check_fields(deployment: Deployment, path: Path) -> Deployment:
    """The deployment with its addresses in checksum form; refused when an address is not an
    address or a number not a number, before any of them is used."""
    addresses: dict[str, Any] = {}
    for name in ("engine", "directory", "voice", "registry", "publisher", "token", "deployer"):
        value = getattr(deployment, name)
        if not isinstance(value, str) or not is_address(value):
            raise DeploymentError(
                f"{path} is not a deployment file (its {name} is not an address): run `journey deploy`"
            )
        addresses[name] = to_checksum_address(value)
    for name in ("chain_id", "block"):
        value = getattr(deployment, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise DeploymentError(
                f"{path} is not a deployment file (its {name} is not a number): run `journey deploy`"
            )
    if deployment.relay:
        if not isinstance(deployment.relay, str) or not is_address(deployment.relay):
            raise DeploymentError(
                f"{path} is not a deployment file (its relay is not an address): run `journey deploy`"
            )
        addresses["relay"] = to_checksum_address(deployment.relay)
    for name in ("compiler", "abi_hash", "rulebook", "block_hash"):
        if not isinstance(getattr(deployment, name), str):
            raise DeploymentError(
                f"{path} is not a deployment file (its {name} is not text): run `journey deploy`"
            )
    return replace(deployment, **addresses)


# The file's contracts: (its field, the build's contract, how the engine names it).
_SUITE = (
    ("engine", "JourneyEngine", None),
    ("voice", "CustomerVoice", "voice"),
    ("registry", "AttestationRegistry", "attestations"),
    ("publisher", "PlaybookPublisher", "publisher"),
    ("token", "JourneyToken", "token"),
)


def verify_deployment(chain: Chain, deployment: Deployment, build: Build, path: Path) -> None:
    """Checks on chain, with calls only, that the file's addresses are one suite of the build's
    contracts: the engine's voice, registry and token are the file's, the voice and registry
    name the engine, and each address holds the build's runtime code (immutables aside); so do
    the engine's relay, views extension, directory (which names the engine) and calendars (the
    views extension's too)."""
    w3 = chain.w3
    for field, name, _ in _SUITE:
        address = getattr(deployment, field)
        code = bytes(w3.eth.get_code(address))
        if not build[name].runtime_matches(code):
            raise DeploymentError(
                f"the {field} in {path} ({address}) does not hold the current build's {name} code: "
                "refusing a deployment of other contracts (run `journey deploy` for a new one)"
            )
    engine = w3.eth.contract(address=deployment.engine, abi=build["JourneyEngine"].abi)
    for field, name, getter in _SUITE:
        if getter is None:
            continue
        named = to_checksum_address(engine.functions[getter]().call())
        if named != getattr(deployment, field):
            raise DeploymentError(
                f"the engine in {path} names {named} as its {name}, not the file's {field} "
                f"{getattr(deployment, field)}: refusing a mixed deployment "
                "(run `journey deploy` for a new one)"
            )
        if field in ("voice", "registry", "publisher"):
            contract = w3.eth.contract(address=named, abi=build[name].abi)
            back = to_checksum_address(contract.functions.engine().call())
            if back != deployment.engine:
                raise DeploymentError(
                    f"the {field} in {path} ({named}) belongs to engine {back}, not to the file's engine "
                    f"{deployment.engine}: refusing a mixed deployment (run `journey deploy` for a new one)"
                )
    if deployment.relay:
        relay = to_checksum_address(deployment.relay)
        trusted = engine.functions.isTrustedForwarder(relay).call()
        if not trusted or not build["StepRelay"].runtime_matches(bytes(w3.eth.get_code(relay))):
            raise DeploymentError(
                f"the relay in {path} ({deployment.relay}) is not the step relay the engine trusts: "
                "refusing a mixed deployment (run `journey deploy` for a new one)"
            )
    # the code the engine runs by delegatecall for its views must be the build's
    views = to_checksum_address(engine.functions.views().call())
    views_code = bytes(w3.eth.get_code(views))
    if not build["JourneyViews"].runtime_matches(views_code):
        raise DeploymentError(
            f"the engine in {path} runs its views from {views}, which does not hold the current "
            "build's JourneyViews code: refusing (run `journey deploy` for a new one)"
        )
    # the directory that governs its participants, and the calendars its steps and views count by
    directory = to_checksum_address(engine.functions.directory().call())
    governs = w3.eth.contract(address=directory, abi=build["Directory"].abi)
    if not build["Directory"].runtime_matches(bytes(w3.eth.get_code(directory))) or (
        to_checksum_address(governs.functions.engine().call()) != deployment.engine
    ):
        raise DeploymentError(
            f"the engine in {path} names {directory} as its directory, which is not the build's "
            "Directory governing it: refusing (run `journey deploy` for a new one)"
        )
    calendars = to_checksum_address(engine.functions.calendars().call())
    start, length = build["JourneyViews"].immutables[0]
    counted_by = to_checksum_address(views_code[start + length - 20 : start + length])
    if not build["Calendars"].runtime_matches(bytes(w3.eth.get_code(calendars))) or counted_by != calendars:
        raise DeploymentError(
            f"the engine in {path} counts working time by {calendars} and its views by {counted_by}: "
            "not the build's calendars, or not the same: refusing (run `journey deploy` for a new one)"
        )
