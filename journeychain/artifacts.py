"""The contracts' ABIs and bytecode: compiled once with the pinned solc, then read from one file.

The file is journeychain/_build/artifacts.json, inside the package: the ABIs, the creation and
runtime code, the compiler, its settings and a hash of the sources.
- In a source checkout (contracts/ and brownie-config.yaml beside the package) it is the cache:
  keyed by a hash of every source file, of the OpenZeppelin version and of the settings, and
  compiled again only when one of them changes. The settings are brownie-config.yaml's (solc
  0.8.28, evm shanghai, the optimizer and the IR pipeline as configured there, OpenZeppelin from
  node_modules), so the SDK deploys the same bytecode brownie tests. `make setup` builds it
  (`python -m journeychain.artifacts`), so the first `make demo` compiles nothing.
- In an installed wheel it is the build the wheel shipped (`make wheel` puts it there): read as
  it is, with no compiler, no Node and no file of the checkout.
Nothing is read at import time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from journeychain.errors import ToolchainError
from journeychain.toolchain import (
    EVM_VERSION,
    PACKAGE_DIR,
    PROJECT_ROOT,
    SOLC_VERSION,
    _reports_version,
    ensure_solc,
    install_folder,
    source_checkout,
)

CONTRACTS_DIR = PROJECT_ROOT / "contracts"
OZ_DIR = PROJECT_ROOT / "node_modules" / "@openzeppelin"
#: the one build: the cache in a source checkout, the shipped build in a wheel
CACHE_FILE = PACKAGE_DIR / "_build" / "artifacts.json"
CONTRACTS = (
    "JourneyEngine",
    "Directory",
    "JourneyToken",
    "CustomerVoice",
    "AttestationRegistry",
    "PlaybookPublisher",
    "CompanionFactory",
)
#: the engine's views extension: the engine runs its functions by delegatecall (its fallback)
VIEWS = "JourneyViews"
BROWNIE_CONFIG = PROJECT_ROOT / "brownie-config.yaml"
OUTPUT_SELECTION = {
    "*": {
        "*": [
            "abi",
            "evm.bytecode.object",
            "evm.deployedBytecode.object",
            "evm.deployedBytecode.immutableReferences",
        ]
    }
}


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


@lru_cache(maxsize=1)
def settings() -> dict[str, Any]:
    """The solc standard-JSON settings of a source checkout (brownie-config.yaml's), read on
    first use: never at import, never from an installed wheel."""
    return {
        "evmVersion": EVM_VERSION,
        **_compiler_settings(),
        "remappings": ["@openzeppelin/=node_modules/@openzeppelin/"],
        "outputSelection": OUTPUT_SELECTION,
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


def with_extension(abi: list[dict[str, Any]], extension: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The engine's ABI as its callers see it: its own entries, then the functions of its views
    extension (which its fallback runs by delegatecall) that it does not have itself."""

    def signature(entry: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
        return entry.get("name", ""), tuple(i["type"] for i in entry.get("inputs", []))

    own = {signature(e) for e in abi if e.get("type") == "function"}
    return [*abi, *(e for e in extension if e.get("type") == "function" and signature(e) not in own)]


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
    digest.update(json.dumps([SOLC_VERSION, settings()], sort_keys=True).encode())
    return digest.hexdigest()


def _read_cache(key: str | None, path: Path = CACHE_FILE) -> Build | None:
    """The build in `path` if its source hash is `key` (any hash when `key` is None)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or (key is not None and data.get("source_hash") != key):
        return None
    key = str(data.get("source_hash", ""))
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
            {"language": "Solidity", "sources": sources, "settings": settings()},
            solc_binary=binary,
            base_path=str(PROJECT_ROOT),
            allow_paths=[str(PROJECT_ROOT), str(OZ_DIR)],
        )
    except Exception as exc:  # solcx raises its own errors with the compiler's report
        # the compiler's first message, with the file, line and source excerpt it names
        report = "\n".join(str(exc).strip().splitlines()[:8])
        raise ToolchainError(f"the contracts do not compile: {report}") from exc
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
    missing = [n for n in (*CONTRACTS, VIEWS) if n not in contracts]
    if missing:
        raise ToolchainError(f"the build lacks {', '.join(missing)}")
    engine = contracts["JourneyEngine"]
    contracts["JourneyEngine"] = replace(engine, abi=with_extension(engine.abi, contracts[VIEWS].abi))
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
        "settings": settings(),
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


def shipped_build(path: Path = CACHE_FILE) -> Build:
    """The build the installed package carries, as it is: no compiler, no source is read."""
    build = _read_cache(None, path)
    if build is None:
        raise ToolchainError(
            f"this installation of journeychain carries no built contracts ({path}): install a wheel "
            "built by `make wheel`, or run it from a source checkout after `make setup`"
        )
    return build


@lru_cache(maxsize=1)
def load_build() -> Build:
    """The current build. In a source checkout: from the cache when the sources are unchanged,
    else compiled now (and cached). In an installed wheel: the build it shipped."""
    if source_checkout() is None:
        return shipped_build()
    key = source_hash()
    return _read_cache(key) or _compile(key)


def ship_project_files(checkout: Path) -> list[Path]:
    """Copies the files the package needs besides the build into journeychain/_build (the
    playbooks and the rulebook whose hash participants accept), for a wheel to carry."""
    target = CACHE_FILE.parent / "playbooks"
    target.mkdir(parents=True, exist_ok=True)
    copied = []
    for source in sorted((checkout / "playbooks").glob("*")):
        if source.suffix in (".yaml", ".yml", ".md") and source.is_file():
            copied.append(Path(shutil.copy2(source, target / source.name)))
    return copied


def main(argv: list[str] | None = None) -> int:
    """`python -m journeychain.artifacts [--check]`: build the contracts into the package (once
    per change of the sources), or with --check say whether the build is the sources' and fail
    if not. `make setup` and `make wheel` run it."""
    parser = argparse.ArgumentParser(prog="python -m journeychain.artifacts", description=main.__doc__)
    parser.add_argument("--check", action="store_true", help="fail unless the build matches the sources")
    options = parser.parse_args(argv)
    try:
        checkout = source_checkout()
        if checkout is None:
            raise ToolchainError("no contracts/ beside the package: build the contracts in a source checkout")
        key = source_hash()
        build = _read_cache(key)
        if build is None:
            if options.check:
                raise ToolchainError(f"{CACHE_FILE} is not the build of the sources: run `make setup`")
            build = _compile(key)
        if not options.check:
            ship_project_files(checkout)
    except ToolchainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"contracts built: {len(build.contracts)} contracts, sources {key[:12]}, in {CACHE_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
