"""`journey step pause|resume` and `journey customer reply`: the step's owner holds its clock
while waiting on the customer, and the customer's reply (or the owner) starts it again; each
refusal is one sentence."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from journeychain.accounts import dev_account
from journeychain.chain import Chain
from journeychain.cli import app
from journeychain.client import Customer
from journeychain.encoding import profile_hash
from journeychain.playbook import load_playbook
from tests.conftest import cast_network

REP = dev_account(2).address
CUSTOMER = Customer(dev_account(9), profile_hash("Ada", b"\x03" * 32))
PROFILE = "0x" + CUSTOMER.profile.hex()
OFFICE = dict(load_playbook().calendars)["office"]  # the lead acceptance's working hours


def run(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.output and "unexpected failure" not in result.output
    return result


def ok(*args: str) -> dict:
    result = run("--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def lead(journey_chain: Chain):
    act = cast_network(journey_chain)
    ok("-a", "dev:1", "open", "WAIT-1", "--customer", "dev:9", "--profile-hash", PROFILE, "--funder", "dev:6")
    act[1].complete_step("WAIT-1", assign=REP)
    return act


def test_the_owner_pauses_the_customer_replies_and_the_sla_kept_runs_on(lead, journey_chain: Chain):
    deadline = lead[0].journey("WAIT-1").deadline
    journey_chain.advance(4 * 3600)
    paused = ok("-a", "dev:2", "step", "pause", "WAIT-1", "--reason", "awaiting_information")
    # what the 24 working hours had left: the working time from now to the deadline
    left = OFFICE.working_time(journey_chain.now(), deadline)
    assert paused["step"] == 1 and abs(paused["left"] - left) <= 2
    journey_chain.advance(10 * 86_400)  # ten days waiting on the customer: they do not count
    replied = ok("customer", "reply", "WAIT-1", "--customer", "dev:9", "--profile-hash", PROFILE,
                 "--message", "serial number attached")  # fmt: skip
    assert abs(replied["deadline"] - OFFICE.deadline(journey_chain.now(), paused["left"])) <= 2
    assert lead[0].journey("WAIT-1").deadline == replied["deadline"]
    people = run("-a", "dev:2", "step", "pause", "WAIT-1")
    assert (
        people.exit_code == 0 and "step 1 paused with" in people.stdout and "of its SLA left" in people.stdout
    )
    resumed = run("-a", "dev:2", "step", "resume", "WAIT-1")
    assert resumed.exit_code == 0 and "step 1 resumed, deadline" in resumed.stdout


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["-a", "dev:8", "step", "pause", "WAIT-1"], 3, "refused"),
        (["-a", "dev:2", "step", "resume", "WAIT-1"], 3, "is not paused"),
        (
            ["-a", "dev:2", "step", "pause", "WAIT-1", "--reason", "lunch"],
            2,
            "pause reason 'lunch' is none of",
        ),
        (["-a", "dev:2", "step", "pause", "WAIT-1", "--reason", "300"], 2, "not a code from 0 to 255"),
    ],
)
def test_refusals_are_one_sentence(lead, args, code, words):
    result = run(*args)
    assert result.exit_code == code and words in result.stderr, result.output
    assert len(result.stderr.strip().splitlines()) == 1
