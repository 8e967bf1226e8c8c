"""Batches: `multicall` runs many engine calls in one transaction, each as the caller itself
(roles, assignments and the rulebook are checked against the caller), all or nothing."""

from brownie import chain
from conftest import DAY, HOUR, reverts_with

LEAD = 1  # the lead_accepted step


def leads(kit, team, count: int) -> list:
    """`count` journeys whose leads Marketing handed to the first sales rep."""
    jids = []
    for _ in range(count):
        jid, _, _ = kit.open()
        kit.complete(jid, team.marketing, assign=team.sales)
        jids.append(jid)
    return jids


def test_one_transaction_flags_the_breaches_of_many_journeys(kit, engine, team):
    jids = leads(kit, team, 3)
    chain.sleep(DAY + HOUR)
    chain.mine()
    tx = engine.multicall([engine.flagBreach.encode_input(j) for j in jids], {"from": team.outsider})
    assert [bytes(e["journeyId"]) for e in tx.events["BreachRecorded"]] == [bytes(j) for j in jids]
    assert all(engine.journey(j)[6] for j in jids)  # flagged
    assert engine.breachCount(team.sales) == 3


def test_each_call_of_a_batch_acts_as_the_caller(kit, engine, team):
    jids = leads(kit, team, 2)
    calls = [engine.completeStep.encode_input(j, [], [], 0, team.sales) for j in jids]
    with reverts_with("MissingRole"):
        engine.multicall(calls, {"from": team.outsider})
    with reverts_with("NotAssignee"):
        engine.multicall(calls, {"from": team.sales2})
    tx = engine.multicall(calls, {"from": team.sales})
    assert [e["by"] for e in tx.events["StepCompleted"]] == [team.sales, team.sales]
    assert all(engine.journey(j)[1] == LEAD + 1 for j in jids)


def test_a_refused_call_reverts_the_whole_batch(kit, engine, team):
    jids = leads(kit, team, 2)
    calls = [engine.completeStep.encode_input(j, [], [], 0, team.sales) for j in jids]
    calls.append(engine.flagBreach.encode_input(jids[0]))  # its deadline has not passed
    with reverts_with("DeadlineNotPassed"):
        engine.multicall(calls, {"from": team.sales})
    assert all(engine.journey(j)[1] == LEAD for j in jids)
