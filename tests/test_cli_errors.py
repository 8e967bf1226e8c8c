"""Every bad input of the command line ends with one sentence on stderr and its exit code.

2: bad input (argument, unknown name, wrong password, no deployment); 3: refused by a
rule of the contracts; 4: the chain cannot be reached. Never a traceback.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from journeychain.accounts import create_account, dev_account
from journeychain.chain import Chain, free_port
from journeychain.cli import app
from journeychain.client import JourneyClient
from journeychain.deployments import deploy
from journeychain.encoding import profile_hash
from journeychain.playbook import load_playbook


@pytest.fixture(scope="module")
def chain(journey_chain: Chain) -> Chain:
    """A chain with the suite deployed, the default playbook and journey OPP-1 at booking."""
    c = journey_chain
    admin = dev_account(0, c)
    client = JourneyClient(c, deploy(c, admin), admin)
    for index, role in ((1, "MARKETING"), (2, "SALES"), (6, "VERIFIER"), (7, "FUNDER")):
        org, _ = client.register_organisation(role.lower())
        client.grant_role(dev_account(index).address, role, org=org)
        client.with_account(dev_account(index)).accept_rulebook()
    client.accept_rulebook()
    client.publish_playbook(load_playbook())
    client.mint(dev_account(7).address, 10**21)
    customer = dev_account(9)
    marketing = client.with_account(dev_account(1))
    marketing.open_journey(
        "OPP-1", customer.address, profile_hash("Ada", b"\x05" * 32), funder=dev_account(7).address
    )
    marketing.complete_step("OPP-1", assign=dev_account(2).address)
    client.with_account(dev_account(2)).complete_step("OPP-1")
    client.with_account(dev_account(7)).fund("OPP-1", 10**20)
    client.with_account(dev_account(6)).attest_customer("OPP-1", "identity_verified")
    return c


def fails(*args: str, code: int, env: dict | None = None) -> str:
    """Runs a command that must fail; returns its one line on stderr."""
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == code, (result.exit_code, result.output)
    assert "Traceback" not in result.output and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0].removeprefix("error: ")


def test_a_bad_address_is_bad_input(chain):
    message = fails("participant", "add", "0x123", "SALES", code=2)
    assert message == "'0x123' is neither an address nor a known account (see `journey accounts list`)"


def test_an_unknown_role_is_bad_input(chain):
    message = fails("participant", "add", "dev:3", "JANITOR", code=2)
    assert message.startswith("unknown role 'JANITOR' (one of MARKETING, SALES")


def test_an_unknown_playbook_is_bad_input(chain):
    assert fails("playbook", "show", "99", code=2) == "there is no playbook 99 (see `journey playbook show`)"
    message = fails(
        "-a", "dev:1", "open", "OPP-9", "--customer", "dev:9", "--funder", "dev:7", "--playbook", "99", code=2
    )
    assert message == "there is no playbook 99 (see `journey playbook show`)"


def test_an_invalid_playbook_file_is_bad_input(chain, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nsteps: []\n")
    assert "steps must be a list of 2 to 15 steps" in fails("playbook", "publish", str(bad), code=2)


def test_a_field_without_equals_is_bad_input(chain):
    message = fails("-a", "dev:2", "step", "complete", "OPP-1", "--field", "customer_goals", code=2)
    assert message.startswith("--field 'customer_goals' must be name=value")


def test_an_unknown_journey_is_bad_input(chain):
    assert fails("-a", "dev:2", "step", "complete", "NOPE", code=2) == "there is no journey NOPE"


def test_a_bad_amount_is_bad_input(chain):
    assert "is not an amount of tokens" in fails("-a", "dev:7", "fund", "OPP-1", "lots", code=2)
    assert "positive amount" in fails("-a", "dev:7", "fund", "OPP-1", "0", code=2)


def test_a_missing_argument_is_bad_input(chain):
    assert fails("open", code=2).startswith("Missing argument")


def test_a_refused_booking_is_its_rules_sentence(chain):
    message = fails("-a", "dev:2", "step", "complete", "OPP-1", "--field", "success_criteria=x", code=3)
    assert message == "booking refused: field customer_goals is missing"


def test_a_missing_role_is_its_rules_sentence(chain):
    message = fails("-a", "dev:3", "step", "complete", "OPP-1", "--field", "customer_goals=x", code=3)
    assert message == f"refused: {dev_account(3).address} does not hold the SALES role"


def test_a_missing_deployment_names_the_command_to_run(chain, tmp_path):
    message = fails("list", code=2, env={"JOURNEY_DEPLOYMENTS": str(tmp_path)})
    assert message == "no deployment for chain 31337: run `journey deploy`"


def test_a_wrong_password_is_bad_input(chain):
    create_account("sales", "right password")
    message = fails("-a", "sales", "claim", code=2, env={"JOURNEY_PASSWORD": "wrong password"})
    assert message == "wrong password for account 'sales'"


def test_an_unknown_account_is_bad_input(chain):
    assert fails("-a", "nobody", "claim", code=2).startswith("no account named 'nobody'")


def test_a_dead_rpc_endpoint_is_one_sentence(chain):
    url = f"http://127.0.0.1:{free_port()}"
    message = fails("--rpc", url, "list", code=4)
    assert message == f"cannot reach the chain at {url}: is the node running and the URL right?"


def test_the_installed_command_maps_errors_the_same_way(chain):
    url = f"http://127.0.0.1:{free_port()}"
    result = subprocess.run(
        [sys.executable, "-c", "from journeychain.cli import main; main()", "--rpc", url, "list"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 4 and result.stdout == ""
    assert (
        result.stderr.strip()
        == f"error: cannot reach the chain at {url}: is the node running and the URL right?"
    )


def test_an_unknown_command_is_bad_input():
    assert fails("bogus", code=2) == "No such command 'bogus' (see `journey --help`)"


def test_a_group_without_its_command_shows_its_help():
    result = CliRunner().invoke(app, ["step"])
    assert result.exit_code == 0 and "complete" in result.stdout and result.stderr == ""


def test_a_standing_budget_must_name_the_organisation_whose_openings_draw_on_it():
    """Never "any opener": the command refuses, before connecting, a budget without --opener-org."""
    assert fails("budget", "set", "1000", "--deposit", "5000", code=2) == (
        "name the organisation whose openings may draw on the budget: --opener-org ORG"
    )
