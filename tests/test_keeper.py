"""The SLA keeper: every breach flagged exactly once, across restarts; bounded retries on a dead node.

These tests run the SDK against a private anvil of their own (a free port).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from web3 import Web3

from journeychain.chain import free_port
from journeychain.demo import DAY, HOUR, Customer, network
from journeychain.encoding import journey_id
from journeychain.errors import ChainError, ConfigError
from journeychain.keeper import Keeper, Retry
from journeychain.timeline import fetch_events, hexstr


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    with network(tmp_path_factory.mktemp("keeper")) as (chain, crew):
        yield chain, crew


def new_keeper(
    chain, crew, path, expire: bool = False, release: Callable[[bytes], Any] | None = None
) -> Keeper:
    relayer = crew.relayer.client
    return Keeper(
        chain.w3,
        crew.engine,
        flag=lambda jid: relayer.flag_breach(jid).tx_hash,
        expire=(lambda jid: relayer.expire(jid).tx_hash) if expire else None,
        start_block=crew.deployment.block,
        state_path=path,
        release=release,
    )


def breaches(chain, crew) -> Counter:
    """BreachRecorded events on chain, counted per (journey, step, deadline)."""
    events = fetch_events(chain.w3, [crew.engine], ["BreachRecorded"], crew.deployment.block)
    return Counter((hexstr(e.args["journeyId"]), e.args["step"], e.args["deadline"]) for e in events)


def lead(crew, ref: str, rep) -> str:
    crew.open(ref, assignee=crew.marketing)
    crew.qualify(ref, rep)
    return hexstr(journey_id(ref))


def test_keeper_restarted_mid_run_flags_every_breach_exactly_once(net, tmp_path):
    chain, crew = net
    state = tmp_path / "keeper.json"
    a, b = lead(crew, "K-A", crew.rep_a), lead(crew, "K-B", crew.rep_b)
    keeper = new_keeper(chain, crew, state)
    assert keeper.run_once().flagged == []  # nothing is due yet
    crew.past_deadline("K-A", "K-B")
    first = keeper.run_once()
    assert {x.journey for x in first.flagged} == {a, b}
    del keeper  # the keeper stops here...

    # ...meanwhile: A is escalated (a new deadline), C is opened, B stays breached
    crew.escalate("K-A", crew.marketing, crew.rep_b)
    c = lead(crew, "K-C", crew.rep_a)
    crew.past_deadline("K-A", "K-C")

    restarted = new_keeper(chain, crew, state)  # a new process, resuming from the state file
    assert restarted.state.last_block == first.to_block
    second = restarted.run_once()
    assert second.from_block == first.to_block + 1
    assert {x.journey for x in second.flagged} == {a, c}
    assert restarted.run_once().flagged == []

    counts = breaches(chain, crew)
    mine = {k: v for k, v in counts.items() if k[0] in (a, b, c)}
    assert len(mine) == 4  # A twice (two deadlines), B once, C once
    assert set(mine.values()) == {1}
    for jid in (a, b, c):
        assert crew.engine.functions.journey(bytes.fromhex(jid[2:])).call()[6]  # flagged on chain


def test_a_keeper_that_lost_its_last_round_does_not_flag_twice(net, tmp_path):
    chain, crew = net
    state = tmp_path / "keeper.json"
    keeper = new_keeper(chain, crew, state)
    keeper.run_once()
    before = state.read_text()
    d = lead(crew, "K-D", crew.rep_a)
    crew.past_deadline("K-D")
    assert d in [x.journey for x in keeper.run_once().flagged]
    state.write_text(before)  # the state written after the flag was lost (a crash)
    again = new_keeper(chain, crew, state)
    assert again.run_once().flagged == []  # the BreachRecorded it reads back marks the step done
    assert again.state.watch[d].flagged
    assert sum(v for k, v in breaches(chain, crew).items() if k[0] == d) == 1


def test_keeper_reads_only_the_events_since_its_last_round(net, tmp_path, monkeypatch):
    chain, crew = net
    keeper = new_keeper(chain, crew, tmp_path / "keeper.json")
    keeper.run_once()
    ranges = []
    get_logs = chain.w3.eth.get_logs

    def recording(params):
        ranges.append((params["fromBlock"], params["toBlock"]))
        return get_logs(params)

    monkeypatch.setattr(chain.w3.eth, "get_logs", recording)
    head = chain.w3.eth.block_number
    lead(crew, "K-E", crew.rep_b)
    round_ = keeper.run_once()
    assert ranges == [(head + 1, chain.w3.eth.block_number)]
    assert round_.events == 2  # JourneyOpened and StepCompleted of K-E, nothing older
    saved = json.loads((tmp_path / "keeper.json").read_text())
    assert saved["last_block"] == round_.to_block
    assert saved["watch"][hexstr(journey_id("K-E"))]["step"] == 1
    assert not list(tmp_path.glob(".*.tmp"))  # written through a temporary file, renamed


def test_keeper_expires_a_journey_whose_customer_never_answered(net, tmp_path):
    chain, crew = net
    crew.open("K-F", assignee=crew.marketing)
    crew.qualify("K-F", crew.rep_a)
    crew.complete("K-F", crew.rep_a, {"accepted_note": "ok"})
    crew.fund("K-F")
    crew.attest_identity("K-F")
    crew.book("K-F", crew.rep_a)
    crew.onboard_and_deliver("K-F")
    keeper = new_keeper(chain, crew, tmp_path / "keeper.json", expire=True)
    keeper.run_once()
    crew.advance(91 * DAY)
    actions = keeper.run_once().actions
    assert [(x.kind, x.journey) for x in actions if x.journey == hexstr(journey_id("K-F"))] == [
        ("expired", hexstr(journey_id("K-F")))
    ]
    assert crew.client.journey("K-F").status == "expired"
    assert hexstr(journey_id("K-F")) not in keeper.state.watch


def test_keeper_holds_a_disputed_journey_and_follows_its_moved_deadline(net, tmp_path):
    chain, crew = net
    crew.open("K-G", assignee=crew.marketing)
    crew.qualify("K-G", crew.rep_a)
    crew.complete("K-G", crew.rep_a, {"accepted_note": "ok"})
    crew.fund("K-G")
    crew.attest_identity("K-G")
    crew.book("K-G", crew.rep_a)  # onboarding is due within 3 days
    g = hexstr(journey_id("K-G"))
    keeper = new_keeper(chain, crew, tmp_path / "keeper.json")
    keeper.run_once()
    crew.dispute("K-G", 1, "the rep never called back")
    crew.advance(4 * DAY)  # past onboarding's deadline, but the journey is held
    assert g not in [x.journey for x in keeper.run_once().flagged]
    assert keeper.state.watch[g].held
    crew.resolve("K-G", upheld=False)  # the deadline moves by the four days the dispute lasted
    assert g not in [x.journey for x in keeper.run_once().flagged]
    assert keeper.state.watch[g].deadline == crew.client.journey("K-G").deadline
    crew.advance(4 * DAY)
    assert g in [x.journey for x in keeper.run_once().flagged]


def test_keeper_waits_for_an_unfunded_steps_pool_and_follows_its_restarted_clock(net, tmp_path):
    chain, crew = net
    crew.open("K-H", assignee=crew.marketing)
    crew.qualify("K-H", crew.rep_a)
    crew.complete("K-H", crew.rep_a, {"accepted_note": "ok"})  # booking waits for the pool
    h = hexstr(journey_id("K-H"))
    keeper = new_keeper(chain, crew, tmp_path / "keeper.json")
    keeper.run_once()
    crew.advance(31 * DAY)  # past the booking's 30 days: not the rep's fault, the pool is empty
    assert h not in [x.journey for x in keeper.run_once().flagged]
    assert not crew.client.journey("K-H").flagged
    crew.fund("K-H")  # the booking's clock starts again now
    assert h not in [x.journey for x in keeper.run_once().flagged]
    assert keeper.state.watch[h].deadline == crew.client.journey("K-H").deadline > chain.now()
    crew.advance(31 * DAY)
    assert h in [x.journey for x in keeper.run_once().flagged]


def at_customer_step_with_a_window(crew, reference: str, playbook_id: int) -> Customer:
    """A journey of the playbook with a confirmation window, at the customer's step."""
    customer = Customer(reference)
    crew.marketing.client.open_journey(
        reference,
        customer.key.address,
        customer.profile,
        playbook_id,
        crew.marketing.address,
        funder=crew.funder.address,
    )
    crew.qualify(reference, crew.rep_a)
    crew.complete(reference, crew.rep_a, {"accepted_note": "ok"})
    crew.fund(reference)
    crew.attest_identity(reference)
    crew.book(reference, crew.rep_a)
    crew.onboard_and_deliver(reference)
    return customer


def value_confirmed(chain, crew, jid: str) -> list:
    events = fetch_events(chain.w3, [crew.engine], ["ValueConfirmed"], crew.deployment.block)
    return [e for e in events if hexstr(e.args["journeyId"]) == jid]


def test_keeper_releases_a_journey_whose_confirmation_window_passed_once(net, tmp_path):
    chain, crew = net
    window = replace(crew.playbook, name="default_with_window", confirm_window=14 * DAY)
    playbook_id, _ = crew.admin.client.publish_playbook(window)
    customer = at_customer_step_with_a_window(crew, "K-R", playbook_id)
    r = hexstr(journey_id("K-R"))
    relayer = crew.relayer.client
    openings = {r: customer}

    def release(jid: bytes) -> Any:
        known = openings.get(hexstr(jid))
        if known is None:
            raise ConfigError(f"no local record of journey {hexstr(jid)}'s customer")
        return relayer.release(jid, known.key.address, known.profile).tx_hash

    state = tmp_path / "keeper.json"
    keeper = new_keeper(chain, crew, state, release=release)
    assert keeper.run_once().released == []  # inside the window
    release_at = crew.client.release_time("K-R")
    assert keeper.state.watch[r].release_at == release_at > chain.now()
    before = state.read_text()
    crew.advance(15 * DAY)
    round_ = keeper.run_once()
    assert [(x.kind, x.journey, x.deadline) for x in round_.released] == [("released", r, release_at)]
    assert crew.client.journey("K-R").status == "value delivered"
    assert r not in keeper.state.watch
    assert r not in json.loads(state.read_text())["watch"]
    assert keeper.run_once().released == []

    state.write_text(before)  # the state written after the release was lost (a crash)
    again = new_keeper(chain, crew, state, release=release)
    assert again.run_once().released == []  # the ValueConfirmed it reads back ends the watch
    assert r not in again.state.watch
    (confirmed,) = value_confirmed(chain, crew, r)
    assert confirmed.args["by"] == "0x" + "00" * 20


def test_keeper_leaves_a_journey_whose_customer_it_does_not_know(net, tmp_path):
    chain, crew = net
    playbook_id, _ = crew.admin.client.publish_playbook(
        replace(crew.playbook, name="default_with_window", confirm_window=14 * DAY)
    )
    at_customer_step_with_a_window(crew, "K-S", playbook_id)
    s = hexstr(journey_id("K-S"))
    asked: list[str] = []

    def release(jid: bytes) -> Any:
        asked.append(hexstr(jid))
        raise ConfigError(f"no local record of journey {hexstr(jid)}'s customer")

    keeper = new_keeper(chain, crew, tmp_path / "keeper.json", release=release)
    keeper.run_once()
    crew.advance(15 * DAY)
    assert keeper.run_once().released == [] and asked == [s]
    assert keeper.state.watch[s].release_at == 0  # not this keeper's to release
    assert keeper.run_once().released == [] and asked == [s]  # asked once
    assert crew.client.journey("K-S").status == "open"


def test_keeper_retries_a_dead_endpoint_with_backoff_then_raises_a_chain_error():
    dead = Web3(
        Web3.HTTPProvider(
            f"http://127.0.0.1:{free_port()}",
            request_kwargs={"timeout": 2},
            exception_retry_configuration=None,  # no retries inside web3: the keeper's own are tested
        )
    )
    delays: list[float] = []
    retry = Retry(attempts=4, base=0.05, sleep=delays.append, endpoint="the chain at the dead port")
    with pytest.raises(ChainError, match="the chain at the dead port did not answer after 4 attempts"):
        Keeper(dead, None, flag=lambda jid: None, retry=retry)
    assert delays == [0.05, 0.1, 0.2]


def test_keeper_rides_out_a_brief_outage():
    failures = iter([ConnectionError("refused"), ConnectionError("refused")])
    delays: list[float] = []

    def flaky():
        error = next(failures, None)
        if error is not None:
            raise error
        return 42

    assert Retry(attempts=3, base=0.01, sleep=delays.append)(flaky) == 42
    assert delays == [0.01, 0.02]


def test_keeper_warns_once_when_a_step_is_at_risk_and_flags_it_when_it_breaches(net, tmp_path):
    chain, crew = net
    jid = lead(crew, "K-WARN", crew.rep_a)
    keeper = new_keeper(chain, crew, tmp_path / "keeper.json")
    warn = crew.client.journey("K-WARN").warn_at  # 80% of its 24 working hours, as the chain says
    crew.advance(warn - HOUR - crew.chain.now())  # an hour before: not yet at risk
    assert [a.journey for a in keeper.run_once().warned if a.journey == jid] == []
    crew.advance(2 * HOUR)  # an hour past the warning, hours before the deadline
    warned = [a for a in keeper.run_once().warned if a.journey == jid]
    assert [(a.step, a.tx) for a in warned] == [(1, None)]  # a warning sends nothing
    assert [a for a in keeper.run_once().warned if a.journey == jid] == []  # once per step
    # a restarted keeper remembers the warning it gave
    assert [
        a for a in new_keeper(chain, crew, tmp_path / "keeper.json").run_once().warned if a.journey == jid
    ] == []
    crew.advance(DAY // 5)  # past the deadline: flagged, not warned
    round_ = new_keeper(chain, crew, tmp_path / "keeper.json").run_once()
    assert [a.journey for a in round_.flagged if a.journey == jid] == [jid]
    assert [a for a in round_.warned if a.journey == jid] == []
