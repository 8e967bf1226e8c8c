"""Every `journey` command, run through typer's test runner against a private local chain.

The tests run in order on one chain: deploy, accounts, participants, rulebook, playbook,
a journey from opening to claim. dev:1 marketing, dev:2 sales, dev:3 and dev:4 success,
dev:5 vendor (imported into the keystore), dev:6 verifier, dev:7 funder, dev:8 arbiter,
dev:9 a relay with no role; the customer is the keystore account `ada`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from journeychain.accounts import dev_account
from journeychain.chain import Chain
from journeychain.cli import app
from journeychain.vault import Vault

BOOKING = [
    "--field",
    "customer_goals=cut onboarding time by half",
    "--field",
    "success_criteria=live in 30 days",
    "--field",
    "decision_maker=COO",
    "--field",
    "contract_value=120000",
]


@pytest.fixture(scope="module")
def chain(journey_env: pytest.MonkeyPatch, journey_chain: Chain) -> Chain:
    journey_env.setenv("JOURNEY_PASSWORD", "customer password")
    return journey_chain


def journey(*args: str, input: str | None = None):
    result = CliRunner().invoke(app, list(args), input=input)
    assert "Traceback" not in result.output
    return result


def ok(*args: str, input: str | None = None):
    """Runs a command with --json and returns its parsed output."""
    result = journey("--json", *args, input=input)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_help_reads_like_a_manual():
    result = journey("--help")
    assert result.exit_code == 0
    for words in ("A first journey on the local chain", "Exit codes", "Set up", "Journeys", "customer"):
        assert words in result.stdout


def test_deploy_writes_the_deployment(chain):
    data = ok("deploy")
    assert data["chain_id"] == 31337 and data["deployer"] == dev_account(0).address
    path = Path(os.environ["JOURNEY_DEPLOYMENTS"]) / "31337.json"
    assert json.loads(path.read_text())["engine"] == data["engine"]
    assert data["block_hash"] == chain.w3.eth.get_block(data["block"])["hash"].to_0x_hex()


def test_accounts_new_import_and_list(chain):
    ada = ok("accounts", "new", "ada")
    assert ada["alias"] == "ada" and ada["address"].startswith("0x")
    os.environ["VENDOR_KEY"] = dev_account(5).key.hex()
    try:
        vendor = ok("accounts", "import", "vendor", "--key-env", "VENDOR_KEY")
    finally:
        del os.environ["VENDOR_KEY"]
    assert vendor["address"] == dev_account(5).address
    relay = ok("accounts", "import", "relay", "--stdin", input=dev_account(9).key.hex() + "\n")
    assert relay["address"] == dev_account(9).address
    listed = journey("accounts", "list")
    assert listed.exit_code == 0 and "ada" in listed.stdout and "vendor" in listed.stdout


def test_participant_add_grants_each_role(chain):
    roles = [(1, "MARKETING"), (2, "SALES"), (3, "SUCCESS"), (4, "SUCCESS"), (6, "VERIFIER"), (7, "FUNDER")]
    roles += [(8, "ARBITER")]
    for index, role in roles:
        data = ok("participant", "add", f"dev:{index}", role, "--org", role.lower())
        assert data["role"] == role and data["gas_used"] > 0
    assert ok("participant", "add", "vendor", "vendor", "--org", "devices", "--vendor")["role"] == "VENDOR"
    shown = ok("participant", "show", "dev:2")
    assert shown["roles"] == ["SALES"] and shown["accepted"] == 0


def test_rulebook_accept_on_chain_and_by_signature(chain):
    for index in (0, 1, 2, 3, 4, 6, 7, 8):
        assert ok("-a", f"dev:{index}", "rulebook", "accept")["version"] == 1
    signed = ok("-a", "vendor", "rulebook", "accept", "--by-signature", "--relay", "relay")
    assert signed["account"] == dev_account(5).address
    assert ok("participant", "show", "vendor")["accepted"] == 1
    assert ok("rulebook", "show")["version"] == 1


def test_playbook_publish_and_show(chain):
    published = ok("playbook", "publish", "playbooks/default.yaml")
    assert published["playbook_id"] == 1 and published["name"] == "default"
    shown = ok("playbook", "show", "1")
    assert [s["name"] for s in shown["steps"]][2] == "deal_booked"
    assert shown["steps"][2]["fields"][0] == "customer_goals"
    table = journey("playbook", "show", "1")
    assert "deal_booked" in table.stdout and "identity_verified" in table.stdout
    assert len(ok("playbook", "show")) == 1


def test_mint_gives_the_funder_tokens(chain):
    assert ok("mint", "dev:7", "10000")["amount"] == 10_000 * 10**18


def test_open_keeps_the_customer_off_chain(chain):
    opened = ok(
        "-a",
        "dev:1",
        "open",
        "OPP-1",
        "--funder",
        "dev:7",
        "--customer",
        "ada",
        "--profile",
        "Ada Lovelace, London",
    )
    assert opened["reference"] == "OPP-1" and opened["signer"] == ok("accounts", "list")[0]["address"]
    assert "Ada" not in json.dumps(opened)
    book = json.loads((Path(os.environ["JOURNEY_HOME"]) / "journeys.json").read_text())
    deployment = json.loads((Path(os.environ["JOURNEY_DEPLOYMENTS"]) / "31337.json").read_text())
    key = f"31337:{deployment['engine']}@{deployment['block_hash']}"  # kept under the deployment
    assert book[key][opened["journey_id"]]["profile"] == opened["profile"]


def test_step_complete_assigns_the_next_owner(chain):
    data = ok(
        "-a", "dev:1", "step", "complete", "OPP-1", "--field", "lead_source=webinar", "--assign", "dev:2"
    )
    assert data["step"] == 0 and data["next_assignee"] == dev_account(2).address
    assert data["fields"][0]["name"] == "lead_source" and "webinar" not in json.dumps(data)
    assert Vault(Path(os.environ["JOURNEY_HOME"]) / "vault.sqlite").fields(31337, "OPP-1", 0) == {
        "lead_source": "webinar"
    }
    assert ok("-a", "dev:2", "step", "complete", "OPP-1")["step_name"] == "lead_accepted"


def test_attest_and_fund_open_the_way_to_booking(chain):
    attested = ok("-a", "dev:6", "attest", "OPP-1", "identity_verified", "--expires-in", "30d")
    assert attested["uid"].startswith("0x") and attested["expiry"] > 0
    funded = ok("-a", "dev:7", "fund", "OPP-1", "1000")
    assert funded["pool"] == 1000 * 10**18


def test_booking_completes_with_every_field(chain):
    data = ok("-a", "dev:2", "step", "complete", "OPP-1", *BOOKING, "--assign", "dev:3")
    assert data["step_name"] == "deal_booked" and len(data["fields"]) == 4


def test_breach_flag_and_escalate_move_a_late_step(chain):
    chain.advance(4 * 86_400)
    flagged = ok("-a", "relay", "breach", "flag", "OPP-1")
    assert flagged["step"] == 3 and flagged["assignee"] == dev_account(3).address
    escalated = ok("-a", "dev:2", "escalate", "OPP-1", "--assign", "dev:4")
    assert escalated["to"] == dev_account(4).address
    assert ok("-a", "dev:4", "step", "complete", "OPP-1", "--org", "devices")["late"] is False
    assert ok("-a", "vendor", "step", "complete", "OPP-1")["step_name"] == "device_delivered"


def test_customer_dispute_then_resolve(chain):
    disputed = ok("-a", "relay", "customer", "dispute", "OPP-1", "lead_qualified", "--customer", "ada")
    assert disputed["step"] == 0
    assert ok("-a", "dev:8", "resolve", "OPP-1", "--rejected")["upheld"] is False


def test_customer_confirm_credits_every_owner(chain):
    confirmed = ok("-a", "relay", "customer", "confirm", "OPP-1", "--customer", "ada")
    assert dev_account(5).address in confirmed["owners"]
    assert sum(confirmed["amounts"]) + confirmed["forfeited"] + confirmed["remainder"] == 1000 * 10**18


def test_customer_rate_rates_a_step_owner(chain):
    rated = ok("-a", "relay", "customer", "rate", "OPP-1", "device_delivered", "5", "--customer", "ada")
    assert rated["owner"] == dev_account(5).address and rated["score"] == 5


def test_claim_pays_the_vendor_once(chain):
    claimed = ok("-a", "vendor", "claim")
    assert claimed["amount"] == 300 * 10**18
    again = journey("-a", "vendor", "claim")
    assert again.exit_code == 3 and "has nothing to claim" in again.stderr


def test_list_shows_where_each_journey_stands(chain):
    ok("-a", "dev:1", "open", "OPP-2", "--funder", "dev:7", "--customer", "ada")
    rows = ok("list")
    assert [(r["reference"], r["status"]) for r in rows] == [("OPP-1", "value delivered"), ("OPP-2", "open")]
    table = journey("list")
    assert "OPP-1" in table.stdout and "value_delivered" in table.stdout


def test_cancel_closes_a_journey_before_booking(chain):
    assert ok("cancel", "OPP-2")["journey"] == "OPP-2"
    assert ok("list")[1]["status"] == "cancelled"


def test_expire_is_refused_before_the_customer_step(chain):
    ok("-a", "dev:1", "open", "OPP-3", "--funder", "dev:7", "--customer", "ada")
    result = journey("expire", "OPP-3")
    assert result.exit_code == 3
    assert result.stderr.strip() == (
        "error: refused: journey OPP-3 is at step 0 (lead_qualified): "
        "only a journey at the customer's step can expire"
    )


def test_people_get_sentences_not_json(chain):
    result = journey("-a", "dev:1", "step", "complete", "OPP-3", "--org", "sales")
    assert result.exit_code == 0
    assert result.stdout.startswith("journey OPP-3: step 0 (lead_qualified) completed")
