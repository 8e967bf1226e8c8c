"""The contracts' ABIs and bytecode: compiled once with the pinned solc, then read from a cache.

The settings are brownie-config.yaml's (solc 0.8.28, evm shanghai, the optimizer and the IR
pipeline as configured there, OpenZeppelin from node_modules), so the SDK deploys the same
bytecode brownie tests.
The cache, build/journeychain/artifacts.json, is keyed by a hash of every source file and
of the settings: it is rebuilt only when a contract changes.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from journeychain.errors import ToolchainError
from journeychain.toolchain import (
    EVM_VERSION,
    PROJECT_ROOT,
    SOLC_VERSION,
    _reports_version,
    ensure_solc,
    install_folder,
)

CONTRACTS_DIR = PROJECT_ROOT / "contracts"
OZ_DIR = PROJECT_ROOT / "node_modules" / "@openzeppelin"
CACHE_FILE = PROJECT_ROOT / "build" / "journeychain" / "artifacts.json"
CONTRACTS = ("JourneyEngine", "Directory", "JourneyToken", "CustomerVoice", "AttestationRegistry")
BROWNIE_CONFIG = PROJECT_ROOT / "brownie-config.yaml"


def _compiler_settings() -> dict[str, Any]:
    """brownie-config.yaml's optimizer and IR settings: brownie and the SDK build the same bytecode."""
    try:
        solc = yaml.safe_load(BROWNIE_CONFIG.read_text(encoding="utf-8"))["compiler"]["solc"]
        return {
            "optimizer": {
                "enabled": bool(solc["optimizer"]["enabled"]),
                "runs": int(solc["optimizer"]["runs"]),
            },
            "viaIR": bool(solc.get("viaIR", False)),
        }
    except (OSError, KeyError, TypeError, ValueError, yaml.YAMLError) as exc:
        raise ToolchainError(f"cannot read the compiler settings of {BROWNIE_CONFIG}: {exc}") from exc


SETTINGS: dict[str, Any] = {
    "evmVersion": EVM_VERSION,
    **_compiler_settings(),
    "remappings": ["@openzeppelin/=node_modules/@openzeppelin/"],
    "outputSelection": {
        "*": {
            "*": [
                "abi",
                "evm.bytecode.object",
                "evm.deployedBytecode.object",
                "evm.deployedBytecode.immutableReferences",
            ]
        }
    },
}


@dataclass(frozen=True)
class Artifact:
    """A contract's ABI, creation code and runtime code; `immutables` are the (start, length)
    byte ranges of the runtime code that the constructor fills in (`immutable` variables)."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str = "0x"
    immutables: tuple[tuple[int, int], ...] = ()

    def runtime_matches(self, code: bytes) -> bool:
        """Whether `code` (what eth_getCode returns) is this contract's runtime code: the same
        length and the same bytes everywhere but in the immutables' ranges."""
        expected = bytes.fromhex(self.deployed_bytecode.removeprefix("0x"))
        if not expected or len(code) != len(expected):
            return False
        return _masked(bytes(code), self.immutables) == _masked(expected, self.immutables)


def _masked(code: bytes, ranges: tuple[tuple[int, int], ...]) -> bytes:
    out = bytearray(code)
    for start, length in ranges:
        out[start : start + length] = bytes(length)
    return bytes(out)


def _immutables(references: dict[str, list[dict[str, int]]]) -> tuple[tuple[int, int], ...]:
    return tuple(sorted((int(r["start"]), int(r["length"])) for refs in references.values() for r in refs))


@dataclass(frozen=True)
class Build:
    """Every contract's artifact, the compiler that built them and a hash of their ABIs."""

    contracts: dict[str, Artifact]
    compiler: str
    source_hash: str

    def __getitem__(self, name: str) -> Artifact:
        return self.contracts[name]

    @property
    def abi_hash(self) -> str:
        """A hash of the deployed contracts' ABIs: a deployment made with other ABIs is refused."""
        blob = json.dumps([self.contracts[n].abi for n in CONTRACTS], sort_keys=True).encode()
        return "0x" + hashlib.sha256(blob).hexdigest()

    def all_abis(self) -> list[dict[str, Any]]:
        """The ABI entries of every contract, deployed or not (for decoding any custom error)."""
        return [entry for artifact in self.contracts.values() for entry in artifact.abi]


def _sources() -> dict[str, Path]:
    files = sorted(CONTRACTS_DIR.rglob("*.sol"))
    if not files:
        raise ToolchainError(f"no contracts found in {CONTRACTS_DIR}")
    return {f.relative_to(PROJECT_ROOT).as_posix(): f for f in files}


def source_hash() -> str:
    """A hash of every contract source, the OpenZeppelin version and the compiler settings."""
    digest = hashlib.sha256()
    for name, path in _sources().items():
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    oz = OZ_DIR / "contracts" / "package.json"
    if oz.exists():
        digest.update(oz.read_bytes())
    digest.update(json.dumps([SOLC_VERSION, SETTINGS], sort_keys=True).encode())
    return digest.hexdigest()


def _read_cache(key: str) -> Build | None:
    try:
        data = json.loads(CACHE_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("source_hash") != key:
        return None
    try:
        contracts = {
            n: Artifact(
                n,
                c["abi"],
                c["bytecode"],
                c["deployed_bytecode"],
                tuple((int(a), int(b)) for a, b in c["immutables"]),
            )
            for n, c in data["contracts"].items()
        }
    except (KeyError, TypeError, ValueError):
        return None
    return Build(contracts, data["compiler"], key)


def _compile(key: str) -> Build:
    import solcx

    print("compiling contracts... (once; later calls read the cache)", file=sys.stderr, flush=True)
    binary = _solc()
    sources = {name: {"content": path.read_text(encoding="utf-8")} for name, path in _sources().items()}
    try:
        output = solcx.compile_standard(
            {"language": "Solidity", "sources": sources, "settings": SETTINGS},
            solc_binary=binary,
            base_path=str(PROJECT_ROOT),
            allow_paths=[str(PROJECT_ROOT), str(OZ_DIR)],
        )
    except Exception as exc:  # solcx raises its own errors with the compiler's report
        raise ToolchainError(f"the contracts do not compile: {str(exc).strip().splitlines()[0]}") from exc
    contracts: dict[str, Artifact] = {}
    for file_output in output["contracts"].values():
        for name, data in file_output.items():
            evm = data["evm"]
            contracts[name] = Artifact(
                name,
                data["abi"],
                "0x" + evm["bytecode"]["object"],
                "0x" + evm["deployedBytecode"]["object"],
                _immutables(evm["deployedBytecode"].get("immutableReferences") or {}),
            )
    missing = [n for n in CONTRACTS if n not in contracts]
    if missing:
        raise ToolchainError(f"the build lacks {', '.join(missing)}")
    build = Build(contracts, f"solc {SOLC_VERSION}", key)
    _write_cache(build)
    print("contracts compiled", file=sys.stderr, flush=True)
    return build


def _solc() -> Path:
    """The pinned solc offered to py-solc-x (native or the solcjs shim); set up only if missing."""
    offered = install_folder() / f"solc-v{SOLC_VERSION}"
    if offered.exists() and _reports_version(offered, SOLC_VERSION):
        return offered
    return ensure_solc()[0]


def _write_cache(build: Build) -> None:
    CACHE_FILE.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "source_hash": build.source_hash,
        "compiler": build.compiler,
        "settings": SETTINGS,
        "contracts": {
            n: {
                "abi": a.abi,
                "bytecode": a.bytecode,
                "deployed_bytecode": a.deployed_bytecode,
                "immutables": [list(r) for r in a.immutables],
            }
            for n, a in build.contracts.items()
        },
    }
    tmp = CACHE_FILE.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    tmp.replace(CACHE_FILE)  # atomic: a concurrent reader sees the old or the new file, never half


@lru_cache(maxsize=1)
def load_build() -> Build:
    """The current build: from the cache when the sources are unchanged, else compiled now."""
    key = source_hash()
    return _read_cache(key) or _compile(key)
