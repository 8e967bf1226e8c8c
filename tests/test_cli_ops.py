"""The operations commands: `journey status`, `prove`, `forget` and `keeper`, run as a user runs them.

A private anvil of its own (a free port) carries the suite; every command gets `--rpc`,
with $JOURNEY_HOME and $JOURNEY_DEPLOYMENTS in a temporary folder.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from journeychain.chain import free_port
from journeychain.demo import network
from journeychain.encoding import journey_id

JOURNEY = Path(sys.executable).with_name("journey")


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    """The suite on a private chain; the CLI's vault and deployment folder are the network's."""
    work = tmp_path_factory.mktemp("cli")
    with network(work) as (chain, crew):
        env = {
            **os.environ,
            "JOURNEY_HOME": str(work),
            "JOURNEY_DEPLOYMENTS": str(work / "deployments"),
            "JOURNEY_RPC": "",
        }
        env.pop("JOURNEY_ACCOUNT", None)
        yield chain, crew, work, env


def journey(net, *args: str, rpc: str | None = None) -> subprocess.CompletedProcess:
    chain, _crew, _work, env = net
    return subprocess.run(
        [str(JOURNEY), "--rpc", rpc or chain.url, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def ok(run: subprocess.CompletedProcess) -> str:
    assert run.returncode == 0, run.stderr
    return run.stdout


def refused(run: subprocess.CompletedProcess, code: int, sentence: str) -> None:
    """One sentence on stderr, no traceback, the exit code of its error family."""
    assert run.returncode == code, (run.returncode, run.stdout, run.stderr)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), run.stderr
    assert sentence in lines[0]
    assert "Traceback" not in run.stderr


@pytest.fixture(scope="module")
def opened(net):
    """CLI-1, opened and qualified through the command line (its evidence kept by the vault)."""
    ok(
        journey(
            net,
            "-a",
            "dev:1",
            "open",
            "CLI-1",
            "--funder",
            "dev:7",
            "--customer",
            "dev:9",
            "--profile",
            "Ada <ada@example.com>",
        )
    )
    ok(
        journey(
            net, "-a", "dev:1", "step", "complete", "CLI-1", "-f", "lead_source=webinar", "--assign", "dev:2"
        )
    )
    return "CLI-1"


def test_status_shows_the_state_and_the_timeline(net, opened):
    text = ok(journey(net, "status", opened))
    assert "CLI-1" in text and "open at step 1 (lead_accepted)" in text
    assert "step 0 lead_qualified completed by" in text
    data = json.loads(ok(journey(net, "--json", "status", opened)))
    assert data["state"]["step"] == 1 and data["state"]["status"] == "open"
    assert [e["kind"] for e in data["timeline"]["entries"]] == ["opened", "step_completed"]
    assert data["timeline"]["entries"][1]["details"]["fields"] == ["lead_source"]


def test_status_of_an_unknown_journey_is_one_sentence(net):
    refused(journey(net, "status", "NO-SUCH-JOURNEY"), 2, "there is no journey NO-SUCH-JOURNEY")


def test_prove_discloses_a_field_by_step_number_or_name(net, opened):
    assert "'webinar': matches the chain's commitment" in ok(
        journey(net, "prove", opened, "0", "lead_source")
    )
    data = json.loads(ok(journey(net, "--json", "prove", opened, "lead_qualified", "lead_source")))
    assert data["value"] == "webinar" and data["step"] == 0
    assert data["journey"] == "0x" + journey_id(opened).hex()


def test_prove_rejects_a_tampered_value_with_one_sentence(net):
    _chain, _crew, work, _env = net
    ok(
        journey(
            net,
            "-a",
            "dev:1",
            "open",
            "CLI-2",
            "--funder",
            "dev:7",
            "--customer",
            "dev:8",
            "--profile",
            "Bob",
        )
    )
    ok(
        journey(
            net, "-a", "dev:1", "step", "complete", "CLI-2", "-f", "lead_source=fair", "--assign", "dev:2"
        )
    )
    with sqlite3.connect(work / "vault.sqlite") as db:
        db.execute(
            "UPDATE evidence SET value = 'webinar' WHERE journey = ?", ("0x" + journey_id("CLI-2").hex(),)
        )
    refused(
        journey(net, "prove", "CLI-2", "0", "lead_source"),
        1,
        "value for lead_source does not match the chain's commitment",
    )
    refused(journey(net, "prove", "CLI-2", "0", "budget"), 1, "the vault holds no value for budget")


def test_forget_erases_a_customers_values(net):
    ok(
        journey(
            net, "-a", "dev:1", "open", "CLI-3", "--funder", "dev:7", "--customer", "dev:7", "--profile", "Cy"
        )
    )
    ok(
        journey(
            net,
            "-a",
            "dev:1",
            "step",
            "complete",
            "CLI-3",
            "-f",
            "lead_source=ad",
            "-f",
            "segment=smb",
            "--assign",
            "dev:2",
        )
    )
    ok(journey(net, "prove", "CLI-3", "0", "segment"))
    text = ok(journey(net, "forget", "dev:7"))
    assert "erased 2 values" in text
    refused(journey(net, "prove", "CLI-3", "0", "segment"), 1, "was erased from the vault")
    refused(journey(net, "forget", "NOBODY"), 2, "knows no customer or journey 'NOBODY'")


def test_keeper_once_flags_a_passed_deadline_and_keeps_its_state(net, opened):
    chain, crew, work, _env = net
    crew.past_deadline(opened)
    round_ = json.loads(ok(journey(net, "-a", "dev:9", "--json", "keeper", "--once")))
    flagged = {(a["reference"], a["step"]) for a in round_["actions"] if a["action"] == "flagged"}
    assert (opened, 1) in flagged
    state = json.loads((work / f"keeper-{chain.chain_id}.json").read_text())
    assert state["last_block"] == round_["to_block"]
    again = json.loads(ok(journey(net, "-a", "dev:9", "--json", "keeper", "--once")))
    assert again["actions"] == [] and again["from_block"] == round_["to_block"] + 1
    assert crew.client.journey(opened).flagged


def test_keeper_on_a_dead_endpoint_ends_with_one_sentence(net):
    refused(
        journey(net, "keeper", "--once", rpc=f"http://127.0.0.1:{free_port()}"), 4, "cannot reach the chain"
    )
