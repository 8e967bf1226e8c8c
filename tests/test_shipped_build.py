"""The built contracts ship inside the package: journeychain/_build/artifacts.json is what the
sources compile to, and a package without the checkout beside it uses it as it is.

The shipped build is compared with brownie's own compilation of the same sources (this
session's project): the same creation and runtime code but for the metadata hash solc appends
(it covers the remapping strings, which brownie writes differently), the same ABIs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import brownie
import pytest

from journeychain import artifacts, chain
from journeychain.artifacts import CACHE_FILE, CONTRACTS, load_build, source_hash
from journeychain.errors import ToolchainError
from journeychain.toolchain import PACKAGE_DIR

# solc's CBOR metadata: ipfs (0x1220 + 32 bytes) and the solc version
METADATA = re.compile(r"a264697066735822[0-9a-f]{68}64736f6c6343[0-9a-f]{6}0033")


def code(hex_code: str) -> str:
    return METADATA.sub("", hex_code.removeprefix("0x").lower())


def entries(abi: list[dict]) -> list[str]:
    """An ABI's entries as sorted JSON, without the name brownie gives the constructor."""
    plain = [{k: v for k, v in e.items() if not (e["type"] == "constructor" and k == "name")} for e in abi]
    return sorted(json.dumps(e, sort_keys=True) for e in plain)


def test_the_shipped_build_is_the_cache_of_the_current_sources():
    data = json.loads(CACHE_FILE.read_text(encoding="utf-8"))
    assert data["source_hash"] == source_hash()
    assert load_build().source_hash == data["source_hash"]
    assert data["settings"]["evmVersion"] == "shanghai" and data["settings"]["viaIR"] is True
    assert set(CONTRACTS) <= set(data["contracts"])


@pytest.mark.parametrize("name", CONTRACTS)
def test_the_shipped_bytecode_is_what_brownie_compiles_from_the_sources(name):
    shipped = load_build()[name]
    compiled = getattr(brownie, name)
    assert code(shipped.bytecode) == code(compiled.bytecode)
    assert code(shipped.deployed_bytecode) == code(compiled._build["deployedBytecode"])
    assert entries(shipped.abi) == entries(compiled.abi)


def copied_package(tmp_path: Path) -> Path:
    """The package alone in a folder, as a wheel installs it: no contracts/, brownie-config.yaml
    or node_modules beside it."""
    site = tmp_path / "site"
    shutil.copytree(PACKAGE_DIR, site / "journeychain", ignore=shutil.ignore_patterns("__pycache__"))
    return site


def run_alone(site: Path, code: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("JOURNEY_")}
    environ |= {"PYTHONPATH": str(site), "HOME": str(cwd), "JOURNEY_HOME": str(cwd / "home")} | env
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=environ, capture_output=True, text=True, timeout=60
    )


def test_a_package_without_its_checkout_reads_the_shipped_build_and_no_source(tmp_path):
    site = copied_package(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    probe = (
        "import json, journeychain.cli, journeychain.demo\n"
        "from journeychain import artifacts, deployments, playbook, toolchain\n"
        "b = artifacts.load_build()\n"
        "print(json.dumps([toolchain.source_checkout() is None, b.source_hash,\n"
        "    str(playbook.DEFAULT_PLAYBOOK), str(deployments.RULEBOOK_FILE),\n"
        "    str(deployments.deployments_dir()), playbook.load_playbook('default').name]))"
    )
    run = run_alone(site, probe, empty, SOLCX_BINARY_PATH=str(tmp_path / "no-solc"))
    assert run.returncode == 0, run.stderr
    assert "compiling" not in run.stderr
    alone, key, default, rulebook, deployments_dir, name = json.loads(run.stdout)
    assert alone and key == load_build().source_hash
    assert default.startswith(str(site / "journeychain" / "_build" / "playbooks"))
    assert rulebook.startswith(str(site / "journeychain" / "_build" / "playbooks"))
    assert deployments_dir == str(empty / "home" / "deployments")  # never into site-packages
    assert name == "default"
    assert not (tmp_path / "no-solc").exists()  # no compiler was looked for


def test_a_package_without_its_build_says_how_to_get_one(tmp_path):
    site = copied_package(tmp_path)
    (site / "journeychain" / "_build" / "artifacts.json").unlink()
    run = run_alone(site, "from journeychain.artifacts import load_build; load_build()", tmp_path)
    assert "carries no built contracts" in run.stderr and "make wheel" in run.stderr


def test_the_embedded_chain_takes_the_native_anvil_of_node_modules(monkeypatch, tmp_path):
    monkeypatch.delenv("JOURNEY_ANVIL", raising=False)
    found = Path(chain.anvil_binary())
    assert found.name == "anvil" and found.is_file()
    assert "@foundry-rs" in found.parts  # the binary itself: no Node in between


def test_without_anvil_the_embedded_chain_says_how_to_get_it(monkeypatch, tmp_path):
    monkeypatch.delenv("JOURNEY_ANVIL", raising=False)
    monkeypatch.setattr(chain, "PROJECT_ROOT", tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolchainError, match=r"npm install @foundry-rs/anvil") as info:
        chain.anvil_binary()
    assert str(info.value).count(". ") == 0  # one sentence


def test_anvil_on_path_or_named_by_journey_anvil_is_used(monkeypatch, tmp_path):
    monkeypatch.setattr(chain, "PROJECT_ROOT", tmp_path)
    monkeypatch.chdir(tmp_path)
    fake = tmp_path / "bin" / "anvil"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake.parent))
    monkeypatch.delenv("JOURNEY_ANVIL", raising=False)
    assert chain.anvil_binary() == str(fake)
    monkeypatch.setenv("JOURNEY_ANVIL", str(fake))
    assert chain.anvil_binary() == str(fake)
    monkeypatch.setenv("JOURNEY_ANVIL", str(tmp_path / "nowhere"))
    with pytest.raises(ToolchainError, match="JOURNEY_ANVIL"):
        chain.anvil_binary()


def test_the_build_command_checks_the_build_against_the_sources(capsys):
    assert artifacts.main(["--check"]) == 0
    assert "contracts built" in capsys.readouterr().out
