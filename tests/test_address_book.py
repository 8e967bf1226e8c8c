"""The local address book: `journey participant name ADDRESS "Sales rep A"` names an address
(kept per chain id in $JOURNEY_HOME/names.json, 0600), `participant names` lists the names and
`--remove` takes one away. Every table and timeline shows the name instead of the address where
one is known, and the organisations' short names for the steps they own; --json keeps the
addresses (adding the names). A name stands for its address wherever an account is taken.

The module's chain: the walk-through's cast (conftest.cast_network); the journeys are opened with
the command line (so that it knows their references). OPP-1 is settled, its lead accepted and its
deal booked by dev:2, the booking (owned by the Sales organisation) flagged late first; OPP-2
waits at its lead acceptance, owned by dev:2, flagged late; OPP-3 waits at onboarding, owned by
the Success organisation.
"""

from __future__ import annotations

import json
import os
import stat

import pytest

from journeychain.accounts import dev_account
from journeychain.chain import Chain, journey_home
from journeychain.client import Customer
from journeychain.encoding import profile_hash
from tests.cli_journeys import ok, opened, run
from tests.conftest import BOOKING, cast_network

REP = dev_account(2).address
FUNDER = dev_account(6).address
CUSTOMER = Customer(dev_account(9), profile_hash("Ada", b"\x01" * 32))
WIDE = {"COLUMNS": "250"}  # timelines on one line each


@pytest.fixture(scope="module")
def act(journey_chain: Chain):
    act = cast_network(journey_chain)
    orgs = {o["name"]: o["org"] for o in act[0].organisations()}
    for reference in ("OPP-1", "OPP-2", "OPP-3"):
        opened(reference, CUSTOMER)
        act[1].complete_step(reference, assign=REP)
    for reference in ("OPP-1", "OPP-3"):
        act[2].complete_step(reference)
        act[6].fund(reference, 1000 * 10**18)
        act[5].attest_customer(reference, "identity_verified")
    journey_chain.advance(31 * 86_400)  # the bookings are late
    act[7].flag_breach("OPP-1")
    act[7].flag_breach("OPP-2")
    act[2].complete_step("OPP-1", BOOKING, org=orgs["Success"])
    act[2].complete_step("OPP-3", BOOKING, org=orgs["Success"])
    act[3].complete_step("OPP-1", org=orgs["Devices"])
    act[4].complete_step("OPP-1")
    act[7].customer_confirm("OPP-1", CUSTOMER)
    return act


def fails(*args: str, code: int = 2) -> str:
    result = run(*args)
    assert result.exit_code == code, result.output
    return result.stderr.strip().removeprefix("error: ")


@pytest.fixture(scope="module")
def named(act):
    ok("participant", "name", "dev:2", "Sales rep A")
    ok("participant", "name", FUNDER, "Finance desk")
    yield
    for address in (REP, FUNDER):
        run("participant", "name", address, "--remove")


def test_a_name_is_kept_per_chain_in_a_private_file(named):
    path = journey_home() / "names.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert json.loads(path.read_text(encoding="utf-8")) == {
        "31337": {FUNDER: "Finance desk", REP: "Sales rep A"}
    }
    rows = json.loads(ok("--json", "participant", "names"))
    assert rows == [{"address": FUNDER, "name": "Finance desk"}, {"address": REP, "name": "Sales rep A"}]
    assert "Sales rep A" in ok("participant", "names") and REP in ok("participant", "names")


def test_naming_again_renames_and_remove_takes_the_name_away(act):
    other = dev_account(8).address
    assert "is now named 'Rep B'" in ok("participant", "name", other, "Rep B")
    assert "(was 'Rep B')" in ok("participant", "name", other, "Sales rep B")
    assert ok("participant", "name", other, "--remove").strip() == f"{other} is no longer named 'Sales rep B'"
    assert (
        fails("participant", "name", other, "--remove")
        == f"{other} has no name in the address book of chain 31337"
    )


def test_a_name_another_address_has_is_refused(named):
    assert fails("participant", "name", "dev:8", "sales REP a") == (
        f"'sales REP a' names {REP} already: `journey participant name {REP} --remove` first, or choose "
        "another name"
    )


def test_a_wrong_checksum_is_refused_with_a_sentence(act):
    typo = REP[:2] + REP[2:].swapcase()
    assert fails("participant", "name", typo, "Rep") == (
        f"{typo} has a wrong EIP-55 checksum (mixed case): check it for a typo, or give it in lower case"
    )


def test_the_list_shows_owners_by_name_and_organisation(named):
    table = ok("list")
    rows = {line.split()[0]: line for line in table.splitlines() if line.startswith("OPP-")}
    assert "Sales rep A" in rows["OPP-2"] and REP[:6] not in table
    assert "Success" in rows["OPP-3"]
    data = {r["reference"]: r for r in json.loads(ok("--json", "list"))}
    assert data["OPP-2"]["assignee"] == REP and data["OPP-2"]["owner_name"] == "Sales rep A"
    assert data["OPP-3"]["assignee"] is None and data["OPP-3"]["owner_name"] == "Success"


def test_the_status_timeline_breaches_and_payouts_show_names(named):
    text = ok("status", "OPP-1", env=WIDE)
    assert "step 1 lead_accepted completed by Sales rep A" in text
    assert "pool funded by Finance desk with 1,000 JIT" in text
    assert "step 2 deal_booked breached its deadline" in text
    assert "breaches: step 2 (deal_booked) against Sales" in text  # the organisation that owned it
    assert "Sales rep A" in next(line for line in text.splitlines() if "lead_accepted, deal_booked" in line)
    assert "credited to the funder Finance desk" in text
    assert REP not in text and REP[:6] + "…" not in text
    data = json.loads(ok("--json", "status", "OPP-1"))
    assert data["names"] == {REP: "Sales rep A", FUNDER: "Finance desk"}
    assert data["timeline"]["steps"][1]["by"] == REP  # the addresses stay in --json
    assert "owned by Success" in ok("status", "OPP-3", env=WIDE)
    assert "breaches: step 1 (lead_accepted) against Sales rep A" in ok("status", "OPP-2", env=WIDE)


def test_participant_lists_show_names_and_organisations(named):
    rows = {r["address"]: r for r in json.loads(ok("--json", "participant", "list"))}
    assert rows[REP]["name"] == "Sales rep A" and rows[REP]["org_name"] == "Sales"
    assert rows[REP]["roles"] == ["SALES"] and rows[REP]["breaches"] == 1
    line = next(line for line in ok("participant", "list").splitlines() if "Sales rep A" in line)
    assert line.split()[3:] == ["Sales", "SALES", "1"]
    shown = ok("participant", "show", "Sales rep A")  # a name stands for its address
    assert f"Sales rep A ({REP})" in shown and "Sales" in shown


def test_a_name_stands_for_its_address_as_an_account_argument(named):
    data = json.loads(ok("--json", "list", "--assignee", "Sales rep A"))
    assert [r["reference"] for r in data] == ["OPP-2"]
    assert json.loads(ok("--json", "participant", "show", "Finance desk"))["address"] == FUNDER


def test_a_breach_flagged_names_the_organisation_that_owned_the_step(named, journey_chain):
    journey_chain.advance(4 * 86_400)  # onboarding's 3 days pass
    flagged = ok("-a", "dev:7", "breach", "flag", "OPP-3")
    assert "breach of step 3 recorded against Success" in flagged
