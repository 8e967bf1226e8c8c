"""Value established without the customer's signature, on the command line: `journey release`
once the confirmation window has passed in silence, `journey confirm-by-attestation` on a
verifier's value_delivered attestation, `journey attest --revoke`, and `journey keeper
--release`. Each refusal is one sentence with its exit code.

A private anvil of its own carries the suite, set up through the SDK: dev:1 marketing, dev:5
vendor, dev:6 verifier, dev:7 funder, dev:8 a second verifier; playbook 1 ("settle") has a
7-day confirmation window and lets a verifier confirm value, and its delivery step requires
the customer's identity_verified attestation; playbook 2 ("plain") has the same steps with
neither option. Journeys are opened through the command line, so that its local records know
each customer; the customer is a fresh address, no participant.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import sdk_crew
from eth_account import Account
from typer.testing import CliRunner

from journeychain.accounts import dev_account
from journeychain.chain import Chain
from journeychain.cli import app
from journeychain.client import JourneyClient
from journeychain.encoding import journey_id, profile_hash, step_subject
from journeychain.playbook import parse_playbook
from journeychain.reverts import when
from journeychain.timeline import label

DAY = 86_400
POOL = 1_000 * 10**18
ZERO = "0x" + "00" * 20
STEPS = [
    {"name": "lead", "role": "MARKETING", "sla": "1d", "share_bps": 4000},
    {
        "name": "delivered",
        "role": "VENDOR",
        "sla": "10d",
        "share_bps": 6000,
        "penalty_bps": 5000,
        "attestations": ["identity_verified"],
    },
    {"name": "value", "role": "CUSTOMER", "sla": "30d"},
]
SCHEMAS = {"identity_verified": {"role": "VERIFIER", "subject": "customer"}}
SETTLE = {
    "name": "settle",
    "version": 1,
    "options": {"commit_step": "lead", "confirm_window": "7d", "verifier_may_confirm": True},
    "schemas": SCHEMAS,
    "steps": STEPS,
}
PLAIN = {
    "name": "plain",
    "version": 1,
    "options": {"commit_step": "lead"},
    "schemas": SCHEMAS,
    "steps": STEPS,
}


@pytest.fixture(scope="module")
def net(journey_chain: Chain) -> tuple[Chain, dict[str, JourneyClient]]:
    crew = sdk_crew(
        journey_chain, SETTLE, {"marketing": 1, "vendor": 5, "verifier": 6, "funder": 7}, 100 * POOL
    )
    admin = crew["admin"]
    admin.publish_playbook(parse_playbook(PLAIN))
    second = admin.with_account(dev_account(8, journey_chain))
    admin.grant_role(second.address, "VERIFIER", org="verifier")
    second.accept_rulebook()
    crew["second"] = second
    return journey_chain, crew


def journey(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.output
    return result


def ok(*args: str) -> Any:
    """Runs a command with --json and returns its parsed output."""
    result = journey("--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def refused(code: int, sentence: str, *args: str) -> None:
    """The command ends with exactly `error: SENTENCE` on stderr and exit code `code`."""
    result = journey(*args)
    assert result.exit_code == code, (result.exit_code, result.output)
    assert result.stderr.strip() == f"error: {sentence}"


def opened(act: dict[str, JourneyClient], reference: str, playbook: int = 1) -> str:
    """A journey opened on the command line (its customer a fresh address) and funded; returns
    the customer's address."""
    customer = Account.create().address
    ok(
        "-a", "dev:1", "open", reference, "--customer", customer, "--profile", f"{reference} customer",
        "--funder", "dev:7", "--playbook", str(playbook),
    )  # fmt: skip
    act["funder"].fund(reference, POOL)
    return customer


def at_customer_step(act: dict[str, JourneyClient], reference: str, playbook: int = 1) -> str:
    """A journey at the customer's step: qualified, its customer's identity attested, delivered."""
    customer = opened(act, reference, playbook)
    act["marketing"].complete_step(reference, org="vendor")
    act["verifier"].attest_customer(reference, "identity_verified")
    act["vendor"].complete_step(reference)
    return customer


# --- journey release ---------------------------------------------------------------------


def test_release_is_refused_until_the_window_passes_then_credits_every_owner(net):
    chain, act = net
    customer = at_customer_step(act, "S-1")
    release_at = act["admin"].release_time("S-1")
    assert release_at > chain.now()
    refused(
        3,
        f"refused: the confirmation window of journey S-1 is open until {when(release_at)}; "
        "the pool can be released after that",
        "release", "S-1",
    )  # fmt: skip
    assert act["admin"].journey("S-1").status == "open"
    vendor_before = act["admin"].credit_of(act["vendor"].address)
    chain.advance(8 * DAY)
    released = ok("-a", "dev:9", "release", "S-1")
    assert released["by"] == ZERO
    assert released["owners"] == [act["marketing"].address, act["vendor"].address, customer]
    assert released["amounts"] == [400 * 10**18, 600 * 10**18, 0]
    assert released["forfeited"] == released["remainder"] == 0
    assert act["admin"].journey("S-1").status == "value delivered"
    assert act["admin"].credit_of(act["vendor"].address) - vendor_before == 600 * 10**18
    refused(3, "refused: journey S-1 is value delivered, not open", "release", "S-1")


def test_release_shows_people_a_table_of_what_was_credited(net):
    chain, act = net
    at_customer_step(act, "S-2")
    chain.advance(8 * DAY)
    result = journey("release", "S-2")
    assert result.exit_code == 0, result.output
    assert "journey S-2: value released after the confirmation window" in result.stdout
    assert label(act["vendor"].address) in result.stdout and "600" in result.stdout  # one row per participant


def test_release_is_refused_where_the_playbook_has_no_window(net):
    _, act = net
    at_customer_step(act, "S-3", playbook=2)
    refused(
        3,
        "refused: playbook 2 (plain) has no confirmation window: journey S-3 is settled only by "
        "the customer's confirmation",
        "release", "S-3",
    )  # fmt: skip


def test_release_is_refused_before_the_customers_step(net):
    _, act = net
    opened(act, "S-4")
    act["marketing"].complete_step("S-4", org="vendor")
    refused(
        3,
        "refused: journey S-4 is at step 1 (delivered): a pool is released only at the customer's step",
        "release", "S-4",
    )  # fmt: skip


def test_release_needs_the_customer_the_local_records_know(net):
    _, act = net
    customer = Account.create().address
    act["marketing"].open_journey(
        "S-5", customer, profile_hash("S-5", b"\x05" * 32), funder=act["funder"].address
    )
    jid = "0x" + journey_id("S-5").hex()
    refused(
        2,
        f"no local record of journey {jid}'s customer: pass --signer and --profile-hash",
        "release", jid,
    )  # fmt: skip


# --- journey attest --revoke -------------------------------------------------------------


def test_a_verifier_revokes_its_attestation_and_the_step_that_needs_it_is_refused(net):
    _, act = net
    opened(act, "S-6")
    act["marketing"].complete_step("S-6", org="vendor")
    verifier = act["verifier"].address
    refused(
        3,
        f"refused: {verifier} has no attestation of identity_verified about the customer of journey S-6 "
        "to revoke",
        "-a", "dev:6", "attest", "S-6", "identity_verified", "--revoke",
    )  # fmt: skip
    attested = ok("-a", "dev:6", "attest", "S-6", "identity_verified")
    revoked = ok("-a", "dev:6", "attest", "S-6", "identity_verified", "--revoke")
    assert revoked["uid"] == attested["uid"] and revoked["revoked"] is True
    subject = act["admin"].customer_subject_of("S-6")
    assert act["admin"].attestation_state("identity_verified", subject, verifier) == (
        "revoked",
        attested["uid"],
    )
    refused(
        3,
        "step 1 (delivered) refused: attestation identity_verified is revoked",
        "-a", "dev:5", "step", "complete", "S-6",
    )  # fmt: skip
    assert act["admin"].journey("S-6").step == 1
    refused(
        3,
        f"refused: {verifier}'s attestation of identity_verified about the customer of journey S-6 "
        f"({attested['uid']}) is revoked already",
        "-a", "dev:6", "attest", "S-6", "identity_verified", "--revoke",
    )  # fmt: skip
    ok("-a", "dev:6", "attest", "S-6", "identity_verified")  # attested afresh, the step goes through
    assert ok("-a", "dev:5", "step", "complete", "S-6")["step_name"] == "delivered"


def test_a_verifier_cannot_revoke_another_verifiers_attestation(net):
    _, act = net
    opened(act, "S-7")
    ok("-a", "dev:6", "attest", "S-7", "identity_verified")
    second, verifier = act["second"].address, act["verifier"].address
    refused(
        3,
        f"refused: {second} has no attestation of identity_verified about the customer of journey S-7 "
        f"to revoke ({verifier} attested it: a verifier revokes only its own)",
        "-a", "dev:8", "attest", "S-7", "identity_verified", "--revoke",
    )  # fmt: skip
    subject = act["admin"].customer_subject_of("S-7")
    assert act["admin"].attestation_state("identity_verified", subject, verifier)[0] == "valid"


def test_a_per_step_attestation_is_revoked_naming_its_step(net):
    _, act = net
    act["admin"].register_schema("parts_certified", "VERIFIER", "step")
    opened(act, "S-14")
    ok("-a", "dev:6", "attest", "S-14", "parts_certified")  # about the current step, lead
    act["marketing"].complete_step("S-14", org="vendor")
    verifier = act["verifier"].address
    refused(
        3,
        f"refused: {verifier} has no attestation of parts_certified about step 1 (delivered) of journey "
        "S-14 to revoke",
        "-a", "dev:6", "attest", "S-14", "parts_certified", "--revoke",
    )  # fmt: skip
    revoked = ok("-a", "dev:6", "attest", "S-14", "parts_certified", "--revoke", "--step", "lead")
    subject = step_subject(journey_id("S-14"), 0)
    assert act["admin"].attestation_state("parts_certified", subject, verifier) == ("revoked", revoked["uid"])


def test_a_revocation_takes_no_expiry(net):
    refused(
        2,
        "--expires-in is for a new attestation: a revocation takes none",
        "-a", "dev:6", "attest", "S-7", "identity_verified", "--revoke", "--expires-in", "1d",
    )  # fmt: skip


# --- journey confirm-by-attestation ------------------------------------------------------


def test_confirm_by_attestation_needs_a_valid_value_delivered_attestation(net):
    _, act = net
    customer = at_customer_step(act, "S-8")
    verifier = act["verifier"].address
    refused(
        3,
        "refused: journey S-8 has no valid value_delivered attestation: no verifier has attested it",
        "confirm-by-attestation", "S-8",
    )  # fmt: skip
    ok("-a", "dev:6", "attest", "S-8", "value_delivered")
    ok("-a", "dev:6", "attest", "S-8", "value_delivered", "--revoke")
    refused(
        3,
        "refused: journey S-8 has no valid value_delivered attestation: "
        f"the newest, {verifier}'s, is revoked",
        "confirm-by-attestation", "S-8",
    )  # fmt: skip
    refused(
        3,
        f"refused: {verifier} has no valid value_delivered attestation about journey S-8: "
        "its newest is revoked",
        "confirm-by-attestation", "S-8", "--verifier", "dev:6",
    )  # fmt: skip
    assert act["admin"].journey("S-8").status == "open"
    ok("-a", "dev:6", "attest", "S-8", "value_delivered")
    second = act["second"].address
    refused(
        3,
        f"refused: {second} has no valid value_delivered attestation about journey S-8",
        "confirm-by-attestation", "S-8", "--verifier", "dev:8",
    )  # fmt: skip
    confirmed = ok("-a", "dev:9", "confirm-by-attestation", "S-8")
    assert confirmed["by"] == verifier
    assert confirmed["owners"] == [act["marketing"].address, act["vendor"].address, customer]
    assert sum(confirmed["amounts"]) == POOL
    assert act["admin"].journey("S-8").status == "value delivered"


def test_confirm_by_attestation_of_a_named_verifier_shows_people_the_credits(net):
    _, act = net
    at_customer_step(act, "S-9")
    ok("-a", "dev:8", "attest", "S-9", "value_delivered")
    ok("-a", "dev:6", "attest", "S-9", "value_delivered")  # the newest: the default
    result = journey("confirm-by-attestation", "S-9", "--verifier", "dev:8")
    assert result.exit_code == 0, result.output
    assert f"value confirmed by {act['second'].address}'s attestation" in result.stdout
    assert label(act["vendor"].address) in result.stdout


def test_confirm_by_attestation_is_refused_where_the_playbook_does_not_allow_it(net):
    _, act = net
    at_customer_step(act, "S-10", playbook=2)
    ok("-a", "dev:6", "attest", "S-10", "value_delivered")
    refused(3, "refused: playbook 2 does not let a verifier confirm value", "confirm-by-attestation", "S-10")
    assert act["admin"].journey("S-10").status == "open"


def test_confirm_by_attestation_is_refused_before_the_customers_step(net):
    _, act = net
    opened(act, "S-11")
    refused(
        3,
        "refused: journey S-11 is at step 0 (lead): value is confirmed only at the customer's step",
        "confirm-by-attestation", "S-11",
    )  # fmt: skip


# --- journey keeper --release --------------------------------------------------------------


def test_keeper_releases_each_journey_whose_window_passed_once(net):
    chain, act = net
    at_customer_step(act, "S-12")
    at_customer_step(act, "S-13", playbook=2)  # no window: never released
    first = ok("-a", "dev:9", "keeper", "--once", "--release")
    assert "S-12" not in [a["reference"] for a in first["actions"]]
    chain.advance(8 * DAY)
    second = ok("-a", "dev:9", "keeper", "--once", "--release")
    released = [a["reference"] for a in second["actions"] if a["action"] == "released"]
    assert released.count("S-12") == 1 and "S-13" not in released
    assert act["admin"].journey("S-12").status == "value delivered"
    assert act["admin"].journey("S-13").status == "open"
    again = ok("-a", "dev:9", "keeper", "--once", "--release")
    assert [a for a in again["actions"] if a["action"] == "released"] == []
