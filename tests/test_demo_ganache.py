"""`journey demo --chain ganache` (`make demo CHAIN=ganache`): the same six journeys, on a
throwaway ganache 7.9.2 whose funded accounts are the dev:N the demo's cast signs as; each
journey ends as its scenario says, and the refused booking reads the rule's sentence."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

JOURNEY = Path(sys.executable).with_name("journey")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    work = tmp_path_factory.mktemp("demo-ganache")
    out = work / "demo.json"
    env = {**os.environ, "JOURNEY_HOME": str(work / "home"), "JOURNEY_DEPLOYMENTS": str(work / "deployments")}
    run = subprocess.run(
        [str(JOURNEY), "demo", "--chain", "ganache", "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    return json.loads(out.read_text()), run.stdout


def test_the_demo_runs_on_ganache(demo):
    report, _stdout = demo
    assert report["chain"]["chain_id"] == 1337
    found = {j["reference"]: j for j in report["journeys"]}
    assert list(found) == ["OPP-1001", "OPP-1002", "OPP-1003", "OPP-1004", "OPP-1005", "OPP-1006"]
    assert all(j["status"] == j["expected_status"] for j in found.values())
    assert [j["status"] for j in found.values()] == ["value_delivered"] * 4 + ["expired", "open"]


def test_the_refused_booking_on_ganache_reads_the_rules_sentence(demo):
    report, stdout = demo
    (booking,) = [j for j in report["journeys"] if j["reference"] == "OPP-1003"]
    assert "booking refused: field customer_goals is missing" in booking["notes"]
    assert "VM Exception" not in stdout


def test_a_chain_the_demo_does_not_run_on_is_refused_in_one_sentence(tmp_path):
    run = subprocess.run(
        [str(JOURNEY), "demo", "--chain", "hardhat", "--out", str(tmp_path / "d.json")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 2
    assert "--chain is anvil or ganache, not 'hardhat'" in run.stderr and "Traceback" not in run.stderr
