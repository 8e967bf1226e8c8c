"""Writes safe to retry: a write whose reply was lost (the node took it, the caller never heard
back) is looked up before anything is signed again, so a retry never acts twice and never on
the next step; fundings of one account never race for one approval; a batch of flags is one
transaction, and a refused flag in it loses none of the others when asked.

These tests run the SDK against a private anvil of their own, through a proxy that can lose
a reply (tests/rpc_proxy.py).
"""

from __future__ import annotations

import re
import threading

import pytest
from rpc_proxy import Proxy
from typer.testing import CliRunner

from journeychain.chain import connect
from journeychain.cli import app
from journeychain.client import JourneyClient
from journeychain.demo import network
from journeychain.encoding import journey_id
from journeychain.errors import ChainError, JourneyRuleError, RuleError
from journeychain.timeline import fetch_events, hexstr

LEAD = {"lead_source": "webinar", "segment": "mid-market"}


@pytest.fixture(scope="module")
def net(journey_env, tmp_path_factory):
    work = tmp_path_factory.mktemp("retry")
    with network(work) as (chain, crew):
        journey_env.setenv("JOURNEY_DEPLOYMENTS", str(work / "deployments"))
        yield chain, crew


@pytest.fixture
def proxy(net):
    chain, _crew = net
    with Proxy(chain.url) as p:
        yield p


def completions(chain, crew, ref: str) -> list:
    events = fetch_events(chain.w3, [crew.engine], ["StepCompleted"], crew.deployment.block)
    return [e for e in events if hexstr(e.args["journeyId"]) == hexstr(journey_id(ref))]


def test_a_step_retried_after_a_lost_reply_is_answered_with_the_mined_one(net, proxy):
    chain, crew = net
    crew.open("R-1", assignee=crew.marketing)
    marketing = JourneyClient(connect(proxy.url), crew.deployment, crew.marketing.account)
    proxy.lose.add("eth_sendRawTransaction")
    with pytest.raises(ChainError) as lost:
        marketing.complete_step("R-1", LEAD, assign=crew.rep_a.address)
    assert proxy.lost == ["eth_sendRawTransaction"]
    sent = re.search(r"while sending transaction (0x[0-9a-f]{64})", str(lost.value))
    assert sent is not None
    assert crew.client.journey("R-1").step == 1  # the node took it and mined it

    retried = marketing.complete_step("R-1", LEAD, assign=crew.rep_a.address)
    assert retried.receipt.already and retried.receipt.tx_hash == sent[1]
    assert retried.step == 0 and retried.next_assignee == crew.rep_a.address
    assert crew.client.journey("R-1").step == 1  # not the next step
    assert len(completions(chain, crew, "R-1")) == 1


def test_a_write_answered_once_is_not_mistaken_for_a_retry(net, proxy):
    """Once the retry is answered, the next step is completed as asked."""
    chain, crew = net
    crew.open("R-2", assignee=crew.marketing)
    proxied = connect(proxy.url)
    proxy.lose.add("eth_sendRawTransaction")
    with pytest.raises(ChainError):
        JourneyClient(proxied, crew.deployment, crew.marketing.account).complete_step(
            "R-2", LEAD, assign=crew.rep_a.address
        )
    crew.marketing.client.complete_step("R-2", LEAD, assign=crew.rep_a.address)  # the retry, answered
    rep = JourneyClient(proxied, crew.deployment, crew.rep_a.account)
    result = rep.complete_step("R-2", {"accepted_note": "call booked"})
    assert not result.receipt.already and result.step == 1
    assert [e.args["step"] for e in completions(chain, crew, "R-2")] == [0, 1]


def test_a_generic_write_retried_after_a_lost_reply_is_sent_once(net, proxy):
    _chain, crew = net
    admin = JourneyClient(connect(proxy.url), crew.deployment, crew.admin.account)
    before = crew.client.balance_of(crew.shipper.address)
    proxy.lose.add("eth_sendRawTransaction")
    with pytest.raises(ChainError):
        admin.mint(crew.shipper.address, 7)
    again = admin.mint(crew.shipper.address, 7)
    assert again.already
    assert crew.client.balance_of(crew.shipper.address) == before + 7


def test_the_command_line_retry_says_already_completed_and_exits_0(net, proxy):
    chain, crew = net
    crew.open("R-3", assignee=crew.marketing)
    args = ["--rpc", proxy.url, "-a", "dev:1", "step", "complete", "R-3", "--assign", crew.rep_a.address]
    args += [f"--field={k}={v}" for k, v in LEAD.items()]
    runner = CliRunner()
    proxy.lose.add("eth_sendRawTransaction")
    first = runner.invoke(app, args)
    assert first.exit_code == 4, first.output
    second = runner.invoke(app, args)
    assert second.exit_code == 0, second.output
    assert "step 0 (" in second.stdout and ") was already completed by you in tx 0x" in second.stdout
    assert crew.client.journey("R-3").step == 1
    assert len(completions(chain, crew, "R-3")) == 1


def test_a_step_named_that_is_not_the_current_one_is_refused_before_sending(net):
    chain, crew = net
    crew.open("R-4", assignee=crew.marketing)
    crew.qualify("R-4", crew.rep_a)
    with pytest.raises(JourneyRuleError) as info:
        crew.marketing.client.complete_step("R-4", LEAD, assign=crew.rep_a.address, step=0)
    assert str(info.value) == ("journey R-4 is at step 1 (lead_accepted), not at step 0: nothing was sent")
    assert len(completions(chain, crew, "R-4")) == 1


def test_two_fundings_of_one_account_at_once_both_succeed(net):
    chain, crew = net
    for ref in ("R-5", "R-6"):
        crew.open(ref, assignee=crew.marketing)
    failures: list[BaseException] = []

    def fund(ref: str) -> None:
        try:
            JourneyClient(chain, crew.deployment, crew.funder.account).fund(ref, 10**18)
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=fund, args=(ref,)) for ref in ("R-5", "R-6")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert crew.client.journey("R-5").pool == crew.client.journey("R-6").pool == 10**18


def test_a_batch_of_flags_is_one_transaction_and_a_refused_one_is_left_out_on_request(net):
    _chain, crew = net
    refs = ["R-7", "R-8", "R-9"]
    for ref in refs:
        crew.open(ref, assignee=crew.marketing)
        crew.qualify(ref, crew.rep_a)
    crew.past_deadline(*refs)
    relayer = crew.relayer.client
    relayer.flag_breach("R-8")  # already flagged: a flag in the batch is refused

    batch = relayer.batch()
    for ref in refs:
        batch.flag_breach(ref)
    with pytest.raises(RuleError):
        batch.send()  # all or nothing, by default: nothing is sent
    assert not crew.client.journey("R-7").flagged

    result = batch.send(skip_refused=True)
    assert result.sent == [0, 2] and [i for i, _ in result.refused] == [1]
    assert result.receipt is not None
    flagged = {hexstr(e["journeyId"]) for e in result.receipt.events["BreachRecorded"]}
    assert flagged == {hexstr(journey_id("R-7")), hexstr(journey_id("R-9"))}
    assert crew.client.journey("R-7").flagged and crew.client.journey("R-9").flagged


def test_a_node_dropping_during_a_read_exits_4_with_a_sentence(net, proxy):
    _chain, crew = net
    crew.open("R-10", assignee=crew.marketing)
    proxy.down.add("eth_call")
    result = CliRunner().invoke(app, ["--rpc", proxy.url, "status", "R-10"])
    assert result.exit_code == 4, result.output
    port = proxy.url.rsplit(":", 1)[1]
    assert result.stderr.strip() == (
        f"error: lost the chain at http://127.0.0.1:{port}: the node stopped answering (ConnectionError): "
        "start it again and run the command again"
    )
