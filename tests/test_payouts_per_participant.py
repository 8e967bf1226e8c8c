"""A settlement's payouts are shown per participant: one row each, the sum over the steps it owned
and those steps listed, then who was credited the forfeited penalties (the funder, or the customer
as a make-good where the playbook says `penalty_to: customer`) and the remainder; amounts always
in JIT. `journey customer confirm` and `journey status` show the same view; --json carries it
with the addresses.

The module's chain: the walk-through's cast (conftest.cast_network), journeys opened with the
command line; dev:2 accepts each lead a day late (its penalty: half of the step's 100 JIT) and
books the deal.
"""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from journeychain.accounts import dev_account
from journeychain.chain import Chain
from journeychain.cli import app
from journeychain.client import Customer
from journeychain.encoding import profile_hash
from journeychain.payouts import group_payouts
from journeychain.playbook import DEFAULT_PLAYBOOK, parse_playbook
from tests.conftest import BOOKING, cast_network

A, B, C, D = ("0x" + c * 40 for c in "abcd")
REP = dev_account(2).address
FUNDER = dev_account(6).address
CUSTOMER = Customer(dev_account(9), profile_hash("Ada", b"\x03" * 32))
PROFILE = "0x" + CUSTOMER.profile.hex()
WIDE = {"COLUMNS": "250"}
UNIT = 10**18


def test_payouts_fold_per_owner_in_the_order_each_first_owned_a_step():
    steps = ["s0", "s1", "s2", "s3", "s4", "s5"]
    paid = group_payouts([A, B, B, C, A, D], [10, 20, 30, 40, 5, 0], steps, 7, A)  # D: the customer
    assert [(p.owner, p.amount, p.steps) for p in paid.participants] == [
        (A, 15, ["s0", "s4"]),
        (B, 50, ["s1", "s2"]),
        (C, 40, ["s3"]),
    ]  # the customer's own step (the last), credited nothing, is no row
    assert (paid.forfeited, paid.forfeited_to, paid.make_good) == (7, A, "funder")
    assert paid.total == 105 + 7


def test_forfeits_credited_to_the_customer_are_its_make_good():
    paid = group_payouts([A, B, C], [10, 20, 3], ["s0", "s1", "you"], 3, C)
    assert paid.make_good == "customer" and paid.participants[-1].customer
    assert group_payouts([A, C], [10, 0], ["s0", "you"]).forfeited_to is None


def run(*args: str, env: dict | None = None):
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    return result.stdout


@pytest.fixture(scope="module")
def act(journey_chain: Chain):
    act = cast_network(journey_chain)
    data = yaml.safe_load(DEFAULT_PLAYBOOK.read_text(encoding="utf-8"))
    data["name"], data["options"]["penalty_to"] = "makegood", "customer"
    act[0].publish_playbook(parse_playbook(data, "makegood"))  # playbook 2
    orgs = {o["name"]: o["org"] for o in act[0].organisations()}
    for reference, playbook in (("PAID-1", "1"), ("PAID-2", "2")):
        run(
            *("-a", "dev:1", "open", reference, "--customer", "dev:9", "--profile-hash", PROFILE),
            *("--funder", "dev:6", "--playbook", playbook),
        )
        act[1].complete_step(reference, assign=REP)
        due = act[0].journey(reference).deadline  # 24 working hours after the hand-over
        journey_chain.advance(due + 86_400 - journey_chain.now())  # the rep accepts it a day late
        act[2].complete_step(reference)
        act[6].fund(reference, 1000 * UNIT)
        act[5].attest_customer(reference, "identity_verified")
        act[2].complete_step(reference, BOOKING, org=orgs["Success"])
        act[3].complete_step(reference, org=orgs["Devices"])
        act[4].complete_step(reference)
    return act


def test_confirming_value_shows_one_row_per_participant_and_who_got_the_forfeits(act):
    text = run("-a", "dev:7", "customer", "confirm", "PAID-1", "--customer", "dev:9", env=WIDE)
    rows = {line.split()[0]: line.split() for line in text.splitlines() if line.strip().startswith("0x")}
    assert rows["0x3C44…93BC"][1:] == ["350", "JIT", "lead_accepted,", "deal_booked"]  # 50 + 300
    assert rows["0x7099…79C8"][1:] == ["100", "JIT", "lead_qualified"]
    assert rows["0x90F7…b906"][1:] == ["200", "JIT", "onboarding_started"]
    assert rows["0x15d3…6A65"][1:] == ["300", "JIT", "device_delivered"]
    assert len(rows) == 4  # nothing for the customer's own step
    assert (
        "forfeited 50 JIT, credited to the funder 0x976E…0aa9; remainder 0 JIT to the funder 0x976E…0aa9"
    ) in text


def test_the_status_shows_the_same_payouts_with_names(act):
    run("participant", "name", "dev:2", "Sales rep A")
    run("participant", "name", "dev:6", "Finance desk")
    try:
        text = run("status", "PAID-1", env=WIDE)
    finally:
        run("participant", "name", "dev:2", "--remove")
        run("participant", "name", "dev:6", "--remove")
    table = text[text.index("payouts of PAID-1") :]
    assert "Sales rep A" in table and "350 JIT" in table and "lead_accepted, deal_booked" in table
    assert "forfeited 50 JIT, credited to the funder Finance desk" in table


def test_penalties_the_playbook_gives_the_customer_are_named_its_make_good(act):
    text = run("-a", "dev:7", "customer", "confirm", "PAID-2", "--customer", "dev:9", env=WIDE)
    customer = dev_account(9).address
    short = f"{customer[:6]}…{customer[-4:]}"
    assert f"forfeited 50 JIT, credited to the customer {short} as a make-good" in text


def test_json_carries_the_payouts_per_participant_with_addresses(act):
    data = json.loads(run("--json", "status", "PAID-1"))["payouts"]
    by_owner = {p["owner"]: p for p in data["participants"]}
    assert by_owner[REP]["amount"] == 350 * UNIT and by_owner[REP]["steps"] == [
        "lead_accepted",
        "deal_booked",
    ]
    assert (data["forfeited"], data["forfeited_to"], data["make_good"]) == (50 * UNIT, FUNDER, "funder")
    assert data["funder"] == FUNDER and data["remainder"] == 0
    made_good = json.loads(run("--json", "status", "PAID-2"))["payouts"]
    assert (made_good["forfeited_to"], made_good["make_good"]) == (dev_account(9).address, "customer")
