"""`journey demo`, end to end: six journeys on a throwaway chain, their outcomes written as JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

POOL = 1_000 * 10**18
JOURNEY = Path(sys.executable).with_name("journey")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """Run `journey demo --out FILE` once, as a user would; return (report, stdout, seconds)."""
    work = tmp_path_factory.mktemp("demo")
    out = work / "demo.json"
    env = {**os.environ, "JOURNEY_HOME": str(work / "home"), "JOURNEY_DEPLOYMENTS": str(work / "deployments")}
    started = time.monotonic()
    run = subprocess.run(
        [str(JOURNEY), "demo", "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    seconds = time.monotonic() - started
    assert run.returncode == 0, run.stderr
    # the demo touches nothing of the user's: no vault, keeper state or deployment file of its own
    assert not (work / "home" / "vault.sqlite").exists()
    assert not (work / "deployments").exists()
    return json.loads(out.read_text()), run.stdout, seconds


def journeys(report) -> dict[str, dict]:
    return {j["reference"]: j for j in report["journeys"]}


def test_demo_reports_how_long_it_took(demo):
    """The report says how long the demo took (a figure, not a test: timings belong in
    benchmarks, not in tests that fail on a busy machine)."""
    report, _stdout, seconds = demo
    assert 0 < report["seconds"] <= seconds


def test_each_of_the_six_journeys_ends_as_its_scenario_says(demo):
    report, _stdout, _seconds = demo
    found = journeys(report)
    assert list(found) == ["OPP-1001", "OPP-1002", "OPP-1003", "OPP-1004", "OPP-1005", "OPP-1006"]
    assert {ref: j["status"] for ref, j in found.items()} == {
        "OPP-1001": "value_delivered",
        "OPP-1002": "value_delivered",
        "OPP-1003": "value_delivered",
        "OPP-1004": "value_delivered",
        "OPP-1005": "expired",
        "OPP-1006": "open",  # waits for its booking: the working-time lead was accepted in time
    }
    assert all(j["status"] == j["expected_status"] for j in found.values())


def test_customers_act_by_signature_alone_and_never_hold_gas(demo):
    report, _stdout, _seconds = demo
    for j in report["journeys"]:
        assert j["customer_gas_balance"] == 0
    confirmed = [
        e for e in journeys(report)["OPP-1001"]["timeline"]["entries"] if e["kind"] == "value_confirmed"
    ]
    assert confirmed[0]["who"] == journeys(report)["OPP-1001"]["customer_signer"]


def test_the_on_time_journey_pays_every_owner_its_full_share(demo):
    report, _stdout, _seconds = demo
    j = journeys(report)["OPP-1001"]
    assert j["breaches"] == [] and j["forfeited"] == 0
    assert j["payouts"] == {
        "Marketing": POOL // 10,
        "Sales rep A": POOL // 10 + POOL * 3 // 10,
        "Customer Success": POOL // 5,
        "Device supplier": POOL * 3 // 10,
        "customer of OPP-1001": 0,
    }
    kinds = [e["kind"] for e in j["timeline"]["entries"]]
    assert kinds[-3:] == ["value_confirmed", "payouts", "rated"]
    assert not any(e["late"] for e in j["timeline"]["entries"])


def test_the_breached_lead_is_flagged_by_the_keeper_and_escalated_and_a_late_step_is_paid_less(demo):
    report, _stdout, _seconds = demo
    j = journeys(report)["OPP-1002"]
    assert j["breaches"] == [
        {"step": 1, "step_name": "lead_accepted", "against": "Sales rep A"},
        {"step": 3, "step_name": "onboarding_started", "against": "Customer Success"},
    ]
    assert "keeper flagged step 1 (lead_accepted) of OPP-1002: deadline passed" in j["notes"]
    (escalation,) = [e for e in j["timeline"]["entries"] if e["kind"] == "escalated"]
    assert escalation["step"] == 1
    names = {p["address"]: p["name"] for p in report["participants"]}
    assert names[escalation["details"]["from"]] == "Sales rep A"
    assert names[escalation["who"]] == "Sales rep B"
    # the breach stays on the lead: rep B, who accepted it after the escalation, is paid its
    # share less the 50% penalty; Customer Success started onboarding late and is credited
    # its share less its 50% penalty
    assert j["payouts"]["Sales rep B"] == POOL // 10 // 2 + POOL * 3 // 10
    assert "Sales rep A" not in j["payouts"]
    assert j["payouts"]["Customer Success"] == POOL // 5 // 2
    assert j["forfeited"] == POOL // 10 // 2 + POOL // 5 // 2


def test_the_booking_refused_for_a_missing_field_is_explained_then_made(demo):
    report, stdout, _seconds = demo
    j = journeys(report)["OPP-1003"]
    assert "booking refused: field customer_goals is missing" in j["notes"]
    assert "booking refused: field customer_goals is missing" in stdout
    booked = [e for e in j["timeline"]["entries"] if e["kind"] == "step_completed" and e["step"] == 2]
    assert len(booked) == 1
    assert booked[0]["details"]["fields"][0] == "customer_goals"
    assert j["payouts"]["Device supplier"] == POOL * 3 // 10 - POOL * 3 // 10 // 2  # delivered a day late


def test_the_disputed_delivery_is_upheld_and_the_vendors_share_forfeited(demo):
    report, _stdout, _seconds = demo
    j = journeys(report)["OPP-1004"]
    kinds = [e["kind"] for e in j["timeline"]["entries"]]
    assert kinds.index("disputed") < kinds.index("dispute_resolved") < kinds.index("value_confirmed")
    (resolved,) = [e for e in j["timeline"]["entries"] if e["kind"] == "dispute_resolved"]
    assert resolved["details"]["upheld"] is True and resolved["step"] == 4
    assert j["payouts"]["Device supplier"] == 0
    assert j["forfeited"] == POOL * 3 // 10


def test_the_expired_journey_refunds_its_pool_and_pays_nobody(demo):
    report, _stdout, _seconds = demo
    j = journeys(report)["OPP-1005"]
    assert j["refund"] == POOL and j["payouts"] == {}
    assert "keeper expired OPP-1005: the customer's step passed its deadline" in j["notes"]


def test_breaches_per_team_and_vendor_and_every_credit_claimed(demo):
    report, _stdout, _seconds = demo
    assert report["breaches"]["by_participant"] == {
        "Sales rep A": 1,
        "Customer Success": 1,
        "Device supplier": 1,
    }
    assert report["breaches"]["by_team"] == {"Sales": 1, "Customer Success": 1, "Vendor": 1}
    people = {p["name"]: p for p in report["participants"]}
    for p in people.values():
        assert p["claimed"] == p["credited"]
    assert people["Sales rep A"]["breaches"] == 1
    # the funder gets back the expired pool, the penalties (the escalated lead's among them)
    # and the upheld dispute's share
    forfeits = POOL // 20 + POOL // 10 + POOL * 3 // 20 + POOL * 3 // 10
    assert people["Incentive funder"]["credited"] == POOL + forfeits
    # everything the five pools held was credited to someone and claimed (the working-time
    # journey, OPP-1006, was never funded)
    assert sum(p["claimed"] for p in people.values()) == 5 * POOL


def test_the_demo_proves_a_disclosed_field_and_prints_timelines(demo):
    report, stdout, _seconds = demo
    assert report["proof"]["field"] == "customer_goals"
    assert report["proof"]["value"] == "OPP-1001: cut onboarding time by half"
    for ref in ("OPP-1001", "OPP-1002", "OPP-1003", "OPP-1004", "OPP-1005", "OPP-1006"):
        assert ref in stdout
    assert "SLA breaches" in stdout and "Credits and claims" in stdout


def test_the_friday_evening_lead_does_not_breach_on_saturday_is_paused_and_warned_in_time(demo):
    report, _stdout, _seconds = demo
    lead = journeys(report)["OPP-1006"]
    notes = lead["notes"]
    # 24 working hours from Friday 17:55: Monday, Tuesday and Wednesday, 9 to 17
    assert "on Friday at 17:55: due Wednesday 17:00 UTC" in notes[0]
    assert "not breached, the keeper flags nothing" in notes[1]
    # paused on Monday for 5 working hours, which do not count: due 5 working hours later
    assert "the deadline moved to Thursday 14:00 UTC" in notes[2]
    assert any(
        "keeper warned: step 1 (lead_accepted) of OPP-1006 is at risk of breaching" in n for n in notes
    )
    assert lead["breaches"] == []
    assert "before its deadline: no breach" in notes[-1]
