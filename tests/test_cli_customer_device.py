"""The README's device walk-through on the command line: the customer creates its secret and
joins, the operator opens with what it was handed, writes a request, the customer signs it
with the journey's own key, the operator submits it; a stale or foreign signature is refused
with a sentence. Schemas by hand: `journey schema add|list`, and a per-step attestation."""

from __future__ import annotations

import json
import time

import pytest
from typer.testing import CliRunner

from journeychain.chain import Chain
from journeychain.cli import app

BOOKING = ["-f", "customer_goals=grow", "-f", "success_criteria=live", "-f", "decision_maker=COO"]
BOOKING += ["-f", "contract_value=1", "--org", "success"]


@pytest.fixture(scope="module")
def chain(journey_env: pytest.MonkeyPatch, journey_chain: Chain) -> Chain:
    journey_env.setenv("JOURNEY_PASSWORD", "customer password")
    return journey_chain


def journey(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.output
    return result


def ok(*args: str):
    result = journey("--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def suite(chain):
    ok("deploy")
    cast = [(1, "MARKETING", "marketing"), (2, "SALES", "sales"), (3, "SUCCESS", "success")]
    cast += [(5, "VENDOR", "devices"), (6, "VERIFIER", "verifiers"), (7, "FUNDER", "finance")]
    for index, role, org in cast:
        ok(
            "participant",
            "add",
            f"dev:{index}",
            role,
            "--org",
            org,
            *(["--vendor"] if org == "devices" else []),
        )
    for index in (0, 1, 2, 3, 5, 6, 7):
        ok("-a", f"dev:{index}", "rulebook", "accept")
    ok("playbook", "publish", "playbooks/default.yaml")
    ok("mint", "dev:7", "10000")
    return chain


def to_customer_step(reference: str, signer: str, profile: str) -> None:
    ok("-a", "dev:1", "open", reference, "--customer", signer, "--profile-hash", profile, "--funder", "dev:7")
    ok("-a", "dev:1", "step", "complete", reference, "--assign", "dev:2")
    ok("-a", "dev:2", "step", "complete", reference)
    ok("-a", "dev:7", "fund", reference, "1000")
    ok("-a", "dev:6", "attest", reference, "identity_verified")
    ok("-a", "dev:2", "step", "complete", reference, *BOOKING)
    ok("-a", "dev:3", "step", "complete", reference, "--org", "devices")


def test_the_customer_signs_a_request_on_its_own_device(suite, tmp_path):
    secret = tmp_path / "ada.secret"
    assert ok("customer", "secret", "new", str(secret))["file"] == str(secret)
    joined = ok("customer", "join", "DEV-1", "--secret", str(secret), "--profile", "Ada, London")
    assert "Ada" not in json.dumps(joined)
    to_customer_step("DEV-1", joined["signer"], joined["profile"])
    ok("-a", "dev:5", "step", "complete", "DEV-1")
    request = tmp_path / "confirm.json"
    made = ok("customer", "request", "confirm", "DEV-1", "-o", str(request))
    assert made["signer"] == joined["signer"] and made["url"].startswith("journeychain:sign?request=")
    signed = tmp_path / "signed.json"
    assert (
        ok("customer", "sign", str(request), "--secret", str(secret), "-o", str(signed))["signer"]
        == (joined["signer"])
    )
    submitted = ok("-a", "dev:9", "customer", "submit", "DEV-1", str(signed))
    assert submitted["action"] == "confirm" and submitted["signer"] == joined["signer"]
    assert ok("status", "DEV-1")["state"]["status"] == "value delivered"


def test_a_request_signed_before_the_last_step_is_refused_as_stale(suite, tmp_path):
    secret = tmp_path / "bo.secret"
    ok("customer", "secret", "new", str(secret))
    joined = ok("customer", "join", "DEV-2", "--secret", str(secret), "--profile", "Bo")
    to_customer_step("DEV-2", joined["signer"], joined["profile"])
    request = tmp_path / "early.json"
    ok("customer", "request", "confirm", "DEV-2", "-o", str(request))
    signature = ok("customer", "sign", str(request), "--secret", str(secret))["signature"]
    ok("-a", "dev:5", "step", "complete", "DEV-2")
    result = journey("-a", "dev:9", "customer", "submit", "DEV-2", signature, "--request", str(request))
    assert result.exit_code == 3
    assert "as it stood before its latest step" in result.stderr
    assert ok("status", "DEV-2")["state"]["status"] == "open"


def test_another_customers_secret_cannot_sign(suite, tmp_path):
    mine, theirs = tmp_path / "mine.secret", tmp_path / "theirs.secret"
    ok("customer", "secret", "new", str(mine))
    ok("customer", "secret", "new", str(theirs))
    joined = ok("customer", "join", "DEV-3", "--secret", str(mine), "--profile", "Cy")
    to_customer_step("DEV-3", joined["signer"], joined["profile"])
    request = tmp_path / "r.json"
    ok("customer", "request", "confirm", "DEV-3", "-o", str(request))
    result = journey("customer", "sign", str(request), "--secret", str(theirs))
    assert result.exit_code == 3 and "not this customer's key" in result.stderr


def test_schema_add_list_and_a_per_step_attestation(suite):
    added = ok("schema", "add", "delivery_proof", "--role", "VERIFIER", "--subject", "step")
    assert added["subject"] == "step"
    listed = {s["schema"]: s for s in ok("schema", "list")}
    assert (
        listed["delivery_proof"]["role"] == "VERIFIER"
        and listed["identity_verified"]["subject"] == "customer"
    )
    again = journey("schema", "add", "delivery_proof")
    assert again.exit_code == 3 and "registered already" in again.stderr
    attested = ok("-a", "dev:6", "attest", "DEV-3", "delivery_proof", "--step", "device_delivered")
    assert attested["uid"].startswith("0x")
    unknown = journey("-a", "dev:6", "attest", "DEV-3", "never_registered")
    assert unknown.exit_code != 0 and "is not registered" in unknown.stderr


def test_a_customer_link_opens_its_journey_only_and_carries_a_key_only_when_custodial(suite, tmp_path):
    from eth_account import Account

    from journeychain.accounts import dev_account
    from journeychain.deployments import load_deployment
    from journeychain.encoding import journey_id
    from journeychain.web.links import CustomerLinks

    secret = tmp_path / "lin.secret"
    ok("customer", "secret", "new", str(secret))
    joined = ok("customer", "join", "DEV-LINK", "--secret", str(secret), "--profile", "Lin, Oslo")
    to_customer_step("DEV-LINK", joined["signer"], joined["profile"])
    plain = ok("customer", "link", "DEV-LINK", "--valid", "2d", "--url", "https://crm.example/")
    assert plain["url"].startswith("https://crm.example/c/") and "#" not in plain["url"]
    token = plain["url"].rsplit("/", 1)[1]
    links = CustomerLinks.load(str(load_deployment(suite).key))
    assert links.open(token, int(time.time())).journey == journey_id("DEV-LINK")
    # the key of an account that is not the journey's customer would sign nothing: refused
    wrong = journey("customer", "link", "DEV-LINK", "--customer", "dev:9")
    assert wrong.exit_code == 2 and "is not journey DEV-LINK's customer" in wrong.output
    # a custodial link (the operator holds the customer's key) goes to https or loopback only
    ok("-a", "dev:1", "open", "DEV-KEY", "--customer", "dev:9", "--profile", "Kim", "--funder", "dev:7")
    keyed = ok("customer", "link", "DEV-KEY", "--customer", "dev:9")["url"]
    assert keyed.startswith("http://127.0.0.1:8080/c/")
    assert Account.from_key(keyed.split("#key=", 1)[1]).address == dev_account(9).address
    plain_http = journey("customer", "link", "DEV-KEY", "--customer", "dev:9", "--url", "http://crm.example")
    assert plain_http.exit_code == 2 and "https address only" in plain_http.output
    assert journey("customer", "link", "DEV-KEY", "--url", "ftp://x").exit_code == 2
