"""Timelines: a journey's history rebuilt from the chain's events, with lateness, and breaches aggregated.

These tests run the SDK against a private anvil of their own (a free port).
"""

from __future__ import annotations

import itertools
import json

import pytest

from journeychain.demo import DAY, HOUR, POOL, network
from journeychain.encoding import journey_id
from journeychain.errors import JourneyError
from journeychain.timeline import ENGINE_EVENTS, fetch_events, sla_breaches, timeline, timelines


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    with network(tmp_path_factory.mktemp("timeline")) as (chain, crew):
        yield chain, crew


def office(crew):
    """The working hours the default playbook's lead acceptance counts its 24 hours by."""
    return dict(crew.playbook.calendars)[str(crew.playbook.steps[1].calendar)]


def block_time(chain, block: int) -> int:
    return int(chain.w3.eth.get_block(block)["timestamp"])


def build(chain, crew, ref: str):
    return timeline(chain.w3, crew.engine, journey_id(ref), crew.voice, crew.deployment.block)


def test_a_late_step_shows_that_it_was_late_and_by_how_much(net):
    chain, crew = net
    crew.open("TL-1", assignee=crew.marketing)
    crew.qualify("TL-1", crew.rep_a)
    crew.past_deadline("TL-1", margin=2 * HOUR)  # its 24 working hours run out, two hours ago
    crew.complete("TL-1", crew.rep_a, {"accepted_note": "late"})
    tl = build(chain, crew, "TL-1")
    done = [e for e in tl.entries if e.kind == "step_completed"]
    assert [(e.step, e.step_name, e.who) for e in done] == [
        (0, "lead_qualified", crew.marketing.address),
        (1, "lead_accepted", crew.rep_a.address),
    ]
    on_time, late = done
    assert on_time.late is False and on_time.late_by is None
    assert late.late is True
    assert late.deadline == on_time.details["next_deadline"]
    assert late.late_by == late.time - late.deadline
    assert 2 * HOUR <= late.late_by < 2 * HOUR + 60
    assert "late by 2h" in late.describe()
    (breach,) = tl.breaches
    assert (breach.step, breach.step_name, breach.role, breach.assignee) == (
        1,
        "lead_accepted",
        "SALES",
        crew.rep_a.address,
    )
    assert tl.steps[1].late and tl.steps[1].breached and tl.steps[2].deadline == late.details["next_deadline"]


def test_the_timeline_follows_a_journey_to_its_payouts_and_reads_as_json(net):
    chain, crew = net
    crew.open("TL-2", assignee=crew.marketing)
    crew.qualify("TL-2", crew.rep_b)
    crew.complete("TL-2", crew.rep_b, {"accepted_note": "ok"})
    crew.advance(HOUR)  # the booking step waits for the pool: funding an hour later restarts its clock
    crew.fund("TL-2")
    crew.attest_identity("TL-2")
    crew.book("TL-2", crew.rep_b)
    crew.onboard_and_deliver("TL-2")
    crew.confirm_value("TL-2")
    crew.rate("TL-2", 4, 5)
    tl = build(chain, crew, "TL-2")
    kinds = [e.kind for e in tl.entries]
    assert kinds == ["opened"] + ["step_completed"] * 2 + ["clock_restarted", "funded"] + [
        "step_completed"
    ] * 3 + [
        "value_confirmed",
        "payouts",
        "rated",
    ]
    restart, funded = tl.entries[3], tl.entries[4]
    assert restart.step == 2 and restart.deadline > tl.entries[2].details["next_deadline"]
    accepted = tl.entries[2]
    # a whole SLA again
    assert restart.deadline - funded.time == accepted.details["next_deadline"] - accepted.time
    assert "its clock starts again at funding, new deadline" in restart.describe()
    assert tl.status == "value_delivered"
    assert tl.payouts[crew.rep_b.address] == POOL // 10 + POOL * 3 // 10
    assert tl.payouts[crew.vendor.address] == POOL * 3 // 10
    assert [e.evidence for e in tl.entries if e.kind == "step_completed"] == [
        "0x" + r.evidence.hex() for r in crew.client.history("TL-2")
    ]
    data = json.loads(tl.to_json())
    assert data["journey_id"] == "0x" + journey_id("TL-2").hex()
    assert [e["kind"] for e in data["entries"]] == kinds
    assert data["entries"][-1]["details"]["score"] == 5
    assert data["steps"][2]["name"] == "deal_booked"


def test_breaches_are_counted_per_participant_and_per_role(net):
    chain, crew = net
    crew.open("TL-3", assignee=crew.marketing)
    crew.qualify("TL-3", crew.rep_b)
    crew.past_deadline("TL-3")
    crew.keeper_round()  # flags rep B's lead
    crew.complete("TL-3", crew.rep_b, {"accepted_note": "late"})
    crew.fund("TL-3")
    crew.attest_identity("TL-3")
    crew.book("TL-3", crew.rep_b)
    crew.advance(4 * DAY)  # onboarding's 3-day deadline passes
    crew.complete("TL-3", crew.success, {"kickoff": "late"}, assign=crew.vendor)
    everything = timelines(chain.w3, crew.engine, crew.voice, crew.deployment.block)
    report = sla_breaches(everything, crew.names())
    expected_people: dict[str, int] = {}
    for tl in everything:
        for b in tl.breaches:
            expected_people[crew.names()[b.assignee]] = expected_people.get(crew.names()[b.assignee], 0) + 1
    assert report.by_participant == expected_people
    assert report.by_participant["Sales rep B"] == 1
    assert report.by_participant["Customer Success"] == 1
    assert report.by_role["SUCCESS"] == 1
    assert report.by_role["SALES"] == sum(1 for tl in everything for b in tl.breaches if b.role == "SALES")
    assert report.total == sum(len(tl.breaches) for tl in everything)
    assert crew.engine.functions.breachCount(crew.rep_b.address).call() == 1


def test_logs_are_fetched_in_bounded_block_ranges_with_the_same_result(net, monkeypatch):
    chain, crew = net
    whole = fetch_events(chain.w3, [crew.engine], ENGINE_EVENTS, crew.deployment.block)
    ranges: list[tuple[int, int]] = []
    get_logs = chain.w3.eth.get_logs

    def recording(params):
        ranges.append((params["fromBlock"], params["toBlock"]))
        return get_logs(params)

    monkeypatch.setattr(chain.w3.eth, "get_logs", recording)
    chunked = fetch_events(chain.w3, [crew.engine], ENGINE_EVENTS, crew.deployment.block, chunk=7)
    assert chunked == whole
    assert len(ranges) > 1 and all(end - start + 1 <= 7 for start, end in ranges)
    assert ranges[0][0] == crew.deployment.block
    assert all(later[0] == earlier[1] + 1 for earlier, later in itertools.pairwise(ranges))


def test_a_journey_never_opened_has_no_timeline(net):
    chain, crew = net
    with pytest.raises(JourneyError, match="was never opened"):
        build(chain, crew, "TL-NONE")


def test_a_journey_read_through_the_sdk_says_when_its_step_is_at_risk(net):
    chain, crew = net
    crew.open("TL-RISK", assignee=crew.marketing)
    crew.qualify("TL-RISK", crew.rep_a)
    state = crew.client.journey("TL-RISK")
    # at risk once 80% of its 24 working hours have passed: 4h48m of working time before the end
    warn = office(crew).before(state.deadline, 24 * HOUR // 5)
    assert state.at_risk is False and state.warn_at == warn
    crew.advance(warn + 60 - chain.now())  # a minute past the warning
    state = crew.client.journey("TL-RISK")
    assert state.at_risk is True and state.as_dict()["warn_at"] == warn
    tl = build(chain, crew, "TL-RISK")
    assert tl.at_risk(chain.now()).name == "lead_accepted"


def test_a_pause_and_the_customers_reply_show_in_the_timeline_and_move_the_deadline(net):
    chain, crew = net
    crew.open("TL-PAUSE", assignee=crew.marketing)
    crew.qualify("TL-PAUSE", crew.rep_a)
    deadline = crew.client.journey("TL-PAUSE").deadline
    crew.advance(6 * HOUR)
    paused = crew.rep_a.client.pause_step("TL-PAUSE", "awaiting_customer")
    at = block_time(chain, paused.block)
    left = paused.events["StepPaused"][0]["left"]
    assert left == office(crew).working_time(at, deadline)  # what its 24 working hours had left
    # held meanwhile: a pause left running resumes by itself after 30 days
    kept, held = office(crew).move_deadline(at, deadline, at + 30 * DAY)
    assert kept == left and paused.events["StepPaused"][0]["deadline"] == held
    assert crew.client.journey("TL-PAUSE").deadline == held
    assert crew.rep_a.client.pause_of("TL-PAUSE")["paused_at"] is not None
    crew.advance(3 * DAY)  # waiting on the customer: it does not count
    customer = crew.customers["TL-PAUSE"].signer
    replied = crew.relayer.client.customer_reply(
        "TL-PAUSE", customer, "here are the details", vault=crew.vault
    )
    resumed = replied.receipt.events["StepResumed"][0]
    # the working time left counts again from the reply on
    assert resumed["deadline"] == office(crew).deadline(block_time(chain, replied.receipt.block), left)
    assert crew.client.journey("TL-PAUSE").deadline == resumed["deadline"]
    tl = build(chain, crew, "TL-PAUSE")
    kinds = [e.kind for e in tl.entries]
    assert kinds[-3:] == ["paused", "replied", "resumed"]
    assert tl.steps[1].paused == 1 and tl.steps[1].deadline == resumed["deadline"]
    lines = [e.describe() for e in tl.entries[-3:]]
    assert "paused by" in lines[0] and "(awaiting customer)" in lines[0]
    assert lines[1] == "the customer replied to the paused step" and "resumed by" in lines[2]
    with pytest.raises(JourneyError, match="is not paused"):
        crew.rep_a.client.resume_step("TL-PAUSE")
