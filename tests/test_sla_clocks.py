"""SLA types and warnings: each step says whom its clock is owed to (SLA, OLA, UC) and may set
a warning threshold; the engine answers whether the current step is at risk of breaching, and
the timeline and the breach report carry both."""

import pytest
from brownie import chain, web3
from brownie.exceptions import VirtualMachineError
from conftest import DAY, HOUR, publisher_of, reverts_with
from test_playbook_validation import MARKETING, SALES, options, publish, step, three_steps, write

from journeychain.errors import PlaybookError
from journeychain.playbook import SLA_TYPES, load_playbook
from journeychain.timeline import sla_breaches, timeline

LEAD, BOOKING = 1, 2
LEAD_SLA, BOOKING_SLA = DAY, 30 * DAY


def later(seconds):
    chain.sleep(seconds)
    chain.mine()


def at_risk(engine, jid):
    risky, warn_at, deadline = engine.stepAtRisk(jid)
    return risky, warn_at, deadline


# --- the playbook ------------------------------------------------------------------------


def test_the_default_playbook_publishes_its_sla_types_and_warnings(suite, default_playbook):
    kinds = {s.name: (s.sla_type, s.warn_bps) for s in default_playbook.steps}
    assert kinds["lead_accepted"] == ("OLA", 8000)
    assert kinds["onboarding_started"] == ("SLA", 8000)
    assert kinds["device_delivered"] == ("UC", 8000)
    emitted = default_playbook.publish_args()[2]
    assert [(e[5], e[6]) for e in emitted] == [
        (SLA_TYPES.index(s.sla_type), s.warn_bps) for s in default_playbook.steps
    ]


def test_a_warning_of_the_whole_sla_or_more_is_refused(suite, team):
    with reverts_with("InvalidWarning"):
        publish(suite, team.admin, three_steps(s1=step("book", SALES, sla=DAY, share=6000, warn=10_000)))


def test_a_warning_on_a_step_without_an_sla_is_refused(suite, team):
    with reverts_with("InvalidWarning"):
        publish(suite, team.admin, three_steps(s0=step("qualify", MARKETING, share=4000, warn=5000)))


def test_an_sla_type_outside_sla_ola_uc_is_refused(suite, team):
    with pytest.raises(VirtualMachineError):  # the contract's ABI decoder refuses an enum out of range
        publisher_of(suite).publishPlaybook.call(
            b"test".ljust(32, b"\0"),
            1,
            three_steps(s1=step("book", SALES, sla=DAY, share=6000, sla_type=3)),
            options(),
            {"from": team.admin},
        )


YAML = """\
name: clocks
version: 1
options:
  commit_step: book
steps:
  - name: qualify
    role: MARKETING
  - name: book
    role: SALES
    sla: 24h
    {extra}
  - name: confirm
    role: CUSTOMER
    sla: 30d
"""


def test_the_loader_reads_sla_types_and_warnings(tmp_path):
    pb = load_playbook(write(tmp_path, YAML.format(extra="sla_type: uc\n    warn_at: 75%")))
    assert (pb.steps[1].sla_type, pb.steps[1].warn_bps) == ("UC", 7500)
    assert (pb.steps[0].sla_type, pb.steps[0].warn_bps) == ("SLA", 0)  # the defaults


@pytest.mark.parametrize(
    "extra, message",
    [
        ("sla_type: KPI", "sla_type 'KPI' is not one of SLA, OLA, UC"),
        ("warn_at: 100%", "warn_at must be a share of the SLA above 0% and below 100%"),
        ("warn_at: 0%", "warn_at must be a share of the SLA above 0% and below 100%"),
        ("warn_at: soon", "warn_at must be a share of the SLA above 0% and below 100%"),
    ],
)
def test_the_loader_refuses_a_bad_sla_type_or_warning(tmp_path, extra, message):
    with pytest.raises(PlaybookError, match=message):
        load_playbook(write(tmp_path, YAML.format(extra=extra)))


def test_the_loader_refuses_a_warning_without_an_sla(tmp_path):
    text = YAML.replace("    role: MARKETING\n", "    role: MARKETING\n    warn_at: 50%\n").format(extra="")
    with pytest.raises(PlaybookError, match="warn_at needs an sla to warn of"):
        load_playbook(write(tmp_path, text))


# --- at risk on chain ---------------------------------------------------------------------


def test_a_lead_is_at_risk_from_80_percent_of_its_sla_until_its_deadline(kit, engine, team):
    jid, _, _ = kit.open()
    tx = kit.complete(jid, team.marketing, assign=team.sales)
    deadline = tx.timestamp + LEAD_SLA
    warn_at = deadline - LEAD_SLA + LEAD_SLA * 8 // 10
    assert at_risk(engine, jid) == (False, warn_at, deadline)
    later(warn_at - chain.time() - 60)
    assert at_risk(engine, jid)[0] is False  # a minute before the threshold
    later(120)
    assert at_risk(engine, jid) == (True, warn_at, deadline)
    later(deadline - chain.time() + 1)
    assert at_risk(engine, jid)[0] is False  # past the deadline it is overdue, not at risk
    kit.complete(jid, team.sales)
    booking = at_risk(engine, jid)
    assert booking[0] is False and booking[2] - booking[1] == BOOKING_SLA // 5


def test_a_step_waiting_for_its_pool_is_not_at_risk_until_its_clock_restarts(kit, engine, team):
    jid, _ = kit.to_booking(fund=False)
    later(BOOKING_SLA * 9 // 10)
    assert at_risk(engine, jid)[0] is False  # the funder keeps the gate closed: no warning
    tx = kit.fund(jid)
    restarted = tx.events["ClockRestarted"]["deadline"]
    assert at_risk(engine, jid) == (False, restarted - BOOKING_SLA // 5, restarted)
    later(BOOKING_SLA * 8 // 10 + HOUR)
    assert at_risk(engine, jid)[0] is True


def test_a_step_that_never_warns_is_never_at_risk(kit, engine, team):
    jid, _, _ = kit.open()
    assert at_risk(engine, jid) == (False, 0, 0)  # lead_qualified: no SLA, no warning


def test_a_finished_journey_is_not_at_risk(kit, engine, team):
    jid, customer = kit.to_customer_step()
    kit.confirm(jid, customer)
    assert at_risk(engine, jid)[0] is False


def test_an_unknown_journey_is_refused(engine):
    with reverts_with("UnknownJourney"):
        engine.stepAtRisk(b"\x01" * 32)


# --- the timeline -------------------------------------------------------------------------


def test_the_timeline_carries_each_steps_type_and_warning_and_groups_breaches_by_type(kit, engine, team):
    jid, _, _ = kit.open()
    kit.complete(jid, team.marketing, assign=team.sales)
    later(LEAD_SLA * 9 // 10)
    tl = timeline(web3, web3_engine(engine), jid, None, 0)
    lead = tl.steps[LEAD]
    assert (lead.sla_type, lead.warn_bps) == ("OLA", 8000)
    assert lead.warn_at == lead.deadline - LEAD_SLA // 5
    assert tl.at_risk(chain.time()) is lead
    assert tl.to_dict()["steps"][LEAD]["warn_at"] == lead.warn_at
    later(LEAD_SLA)
    engine.flagBreach(jid, {"from": team.outsider})
    tl = timeline(web3, web3_engine(engine), jid, None, 0)
    assert tl.at_risk(chain.time()) is None  # breached now, no longer at risk
    assert sla_breaches([tl]).by_sla_type == {"OLA": 1}


def web3_engine(engine):
    return web3.eth.contract(address=engine.address, abi=engine.abi)
