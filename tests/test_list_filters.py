"""`journey list` filters journeys by --status (the real status names), --overdue (the current
step's deadline has passed by the chain's latest block time, flagged or not), --assignee (an
address, account or name, or an organisation's name) and --playbook (a number or a name), marks
an overdue journey in its table, and fits its table in 80 columns with every header whole.

The module's chain: the seven journeys of tests/cli_journeys.py (LATE and FLAGGED owned by
dev:2 past their deadline, FRESH ahead of it, BOOKED owned by the Success organisation).
"""

from __future__ import annotations

import json
import re

import pytest

from journeychain.accounts import dev_account
from journeychain.chain import Chain
from journeychain.client import Customer
from journeychain.encoding import profile_hash
from tests.cli_journeys import REP, fails, ok, opened, seven_journeys

CUSTOMER = Customer(dev_account(9), profile_hash("Ada", b"\x02" * 32))
HEADERS = ["journey", "step", "status", "owner", "due", "breaches"]


def listed(*filters: str) -> list[str]:
    return [r["reference"] for r in json.loads(ok("--json", "list", *filters))]


@pytest.fixture(scope="module")
def act(journey_chain: Chain):
    return seven_journeys(journey_chain, CUSTOMER)


@pytest.mark.parametrize(
    ("status", "references"),
    [
        ("open", ["LATE", "FLAGGED", "BOOKED", "FRESH"]),
        ("value_delivered", ["SETTLED"]),
        ("disputed", ["DISPUTED"]),
        ("cancelled", ["GONE"]),
        ("expired", []),
    ],
)
def test_status_picks_the_journeys_in_that_status(act, status, references):
    assert listed("--status", status) == references


def test_an_unknown_status_is_bad_input(act):
    assert fails("list", "--status", "done") == (
        "--status 'done' is not a journey status (one of open, disputed, value_delivered, expired, cancelled)"
    )


def test_overdue_picks_the_passed_deadlines_flagged_or_not(act, journey_chain):
    assert listed("--overdue") == ["LATE", "FLAGGED"]
    rows = {r["reference"]: r for r in json.loads(ok("--json", "list"))}
    assert rows["LATE"]["overdue"] and not rows["LATE"]["flagged"] and rows["FLAGGED"]["flagged"]
    assert rows["LATE"]["deadline"] < journey_chain.now() < rows["FRESH"]["deadline"]
    assert not any(rows[r]["overdue"] for r in ("FRESH", "BOOKED", "SETTLED", "DISPUTED", "GONE"))
    assert listed("--overdue", "--status", "open", "--assignee", "dev:2") == ["LATE", "FLAGGED"]


def test_the_table_marks_an_overdue_journey(act):
    lines = {line.split()[0]: line for line in ok("list").splitlines() if line[:1].isupper()}
    assert "overdue 1h" in lines["LATE"] and "overdue 1h" in lines["FLAGGED"]
    assert re.search(r" in \d+[dhm]", lines["FRESH"]), lines["FRESH"]  # 24 working hours ahead
    assert "overdue" not in lines["BOOKED"] + lines["SETTLED"] + lines["DISPUTED"]


def test_assignee_picks_the_journeys_whose_current_step_it_owns(act):
    assert listed("--assignee", REP) == ["LATE", "FLAGGED", "FRESH"]
    assert listed("--assignee", "dev:2") == ["LATE", "FLAGGED", "FRESH"]
    assert listed("--assignee", "Success") == ["BOOKED"]  # an organisation, by its short name
    assert listed("--assignee", "dev:8") == []
    ok("participant", "name", "dev:2", "Rep A")
    try:
        assert listed("--assignee", "Rep A") == ["LATE", "FLAGGED", "FRESH"]
    finally:
        ok("participant", "name", "dev:2", "--remove")


def test_an_unknown_assignee_is_bad_input(act):
    assert fails("list", "--assignee", "nobody") == (
        "'nobody' is neither an address nor a known account (see `journey accounts list`)"
    )


def test_playbook_picks_by_number_or_name(act):
    everything = listed()
    assert listed("--playbook", "1") == everything and listed("--playbook", "default") == everything
    assert fails("list", "--playbook", "field_service") == (
        "no playbook named 'field_service' is published (see `journey playbook show NUMBER`)"
    )
    assert fails("list", "--playbook", "0") == "--playbook 0: playbooks are numbered from 1 to 65535"


def test_the_table_fits_80_columns_with_every_header_whole(act):
    long = "OPP-" + "9" * 40
    opened(long, CUSTOMER)
    act[1].complete_step(long, assign=dev_account(8).address)
    ok("participant", "name", "dev:8", "A rather long name for a rep")
    try:
        table = ok("list", env={"COLUMNS": "80"})
    finally:
        ok("participant", "name", "dev:8", "--remove")
    lines = table.rstrip("\n").splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 80, table
    assert lines[0].split() == HEADERS
    row = next(line for line in lines if line.startswith("OPP-9"))
    assert "…" in row and len(lines) == 2 + len(listed())  # one line per journey: nothing wraps
    assert ok("list", "--status", "expired").strip() == "no journey matches"
