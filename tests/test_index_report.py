"""The SLA report from the index gives the figures the chain's own ledger and the existing
reports give on the same chain: breaches per participant as the engine counts them
(`breachCount`, `organisationBreachCount`), per role as `timeline.sla_breaches` counts them,
payouts and penalties as the timelines' settlements, ratings as the Rated events; steps on time
and the median and 90th-percentile time to complete a step as the timelines' step completions;
and a date range keeps only what happened in it. On SQLite and PostgreSQL.

The module's chain: the demo's five journeys (journeychain.demo).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterator

import pytest

from journeychain.client import JourneyClient
from journeychain.demo import SCENARIOS, network
from journeychain.errors import IndexStoreError
from journeychain.index import Index
from journeychain.playbook import CUSTOMER
from journeychain.timeline import sla_breaches, timelines


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple]:
    with network() as (chain, crew):
        for reference, scenario in SCENARIOS:
            scenario(crew, reference, lambda: None)
        built = timelines(chain.w3, crew.engine, crew.voice, crew.deployment.block)
        yield chain, crew, built


@pytest.fixture(params=["sqlite", "postgresql"])
def index(request, tmp_path, demo) -> Iterator[Index]:
    chain, crew, _ = demo
    if request.param == "sqlite":
        url = str(tmp_path / "index.sqlite")
    else:
        from tests.pg import new_database

        url = new_database(request.getfixturevalue("postgres_url"))
    with Index.open(url, crew.deployment) as opened:
        opened.sync(chain)
        yield opened


def by_group(index: Index, group: str, **kw) -> dict:
    return {row["group"]: row for row in index.report(group_by=group, **kw)}


def completed_steps(built):
    """(timeline, step, started) of every completed step, in order."""
    for tl in built:
        started = tl.opened_at
        for s in tl.steps:
            if s.completed_at is not None:
                yield tl, s, started
            started = s.completed_at


def test_breaches_per_participant_are_the_engines_counts(demo, index):
    chain, crew, _ = demo
    rows = by_group(index, "participant")
    engine = crew.engine.functions
    counted = 0
    for member in JourneyClient(chain, crew.deployment, None).members():
        expected = engine.breachCount(member["address"]).call()
        got = rows.get(member["address"], {}).get("breaches", 0)
        assert got == expected, member
        counted += expected
    assert counted > 0
    orgs = by_group(index, "organisation")
    for org in {m["org"] for m in JourneyClient(chain, crew.deployment, None).members()}:
        members = [
            m["address"] for m in JourneyClient(chain, crew.deployment, None).members() if m["org"] == org
        ]
        expected = engine.organisationBreachCount(org).call() + sum(
            engine.breachCount(a).call() for a in members
        )
        assert orgs.get(org, {}).get("breaches", 0) == expected


def test_breaches_per_team_are_the_timelines_report(demo, index):
    _, _, built = demo
    report = sla_breaches(built)
    teams = by_group(index, "team")
    assert {team: row["breaches"] for team, row in teams.items() if row["breaches"]} == report.by_role
    assert sum(row["breaches"] for row in teams.values()) == report.total > 0


def test_payouts_and_penalties_are_the_settlements(demo, index):
    _, _, built = demo
    expected: Counter[str] = Counter()
    for tl in built:
        for e in tl.entries:
            if e.kind == "payouts":  # every step's owner but the customer (the last)
                for owner, amount in zip(e.details["owners"][:-1], e.details["amounts"][:-1], strict=True):
                    expected[owner] += amount
    rows = by_group(index, "participant")
    assert {p: r["payouts"] for p, r in rows.items() if r["payouts"]} == {
        k: v for k, v in expected.items() if v
    }
    steps = by_group(index, "step")
    assert sum(r["penalties"] for r in steps.values()) == sum(tl.forfeited for tl in built) > 0
    assert sum(r["payouts"] for r in steps.values()) == sum(sum(tl.payouts.values()) for tl in built)


def test_ratings_are_the_customers(demo, index):
    _, _, built = demo
    scores = defaultdict(list)
    for tl in built:
        for e in tl.entries:
            if e.kind == "rated":
                scores[e.details["owner"]].append(e.details["score"])
    assert scores
    rows = by_group(index, "participant")
    for owner, given in scores.items():
        assert rows[owner]["ratings"] == len(given)
        assert rows[owner]["rating_average"] == sum(given) / len(given)


def test_steps_on_time_and_times_to_complete_are_the_timelines(demo, index):
    _, _, built = demo
    durations = defaultdict(list)
    late = Counter()
    journeys = defaultdict(set)
    for tl, s, started in completed_steps(built):
        durations[s.name].append(s.completed_at - started)
        late[s.name] += bool(s.late)
        journeys[s.name].add(tl.journey_id)
    for tl in built:
        for b in tl.breaches:
            journeys[b.step_name].add(tl.journey_id)
    rows = by_group(index, "step")
    assert set(rows) == set(durations)
    for name, values in durations.items():
        row = rows[name]
        ordered = sorted(values)
        assert row["steps"] == len(values) and row["on_time"] == len(values) - late[name]
        assert row["on_time_rate"] == (len(values) - late[name]) / len(values)
        assert row["median_seconds"] == statistics.median(values)
        assert row["p90_seconds"] == ordered[math.ceil(0.9 * len(ordered)) - 1]
        assert row["journeys"] == len(journeys[name])
    assert any(r["on_time_rate"] < 1 for r in rows.values())


def test_the_customers_step_counts_only_per_step(demo, index):
    rows = by_group(index, "team")
    assert CUSTOMER not in rows
    assert "value_confirmed" in by_group(index, "step")


def test_a_date_range_keeps_what_happened_in_it(demo, index):
    _, _, built = demo
    times = sorted(s.completed_at for _, s, _ in completed_steps(built))
    middle = times[len(times) // 2]
    early = by_group(index, "step", until=middle)
    late = by_group(index, "step", since=middle + 1)
    expected_early = sum(1 for t in times if t <= middle)
    assert sum(r["steps"] for r in early.values()) == expected_early
    assert sum(r["steps"] for r in late.values()) == len(times) - expected_early
    assert index.report(since=times[-1] + 10**6) == []


def test_an_unknown_grouping_is_refused(index):
    with pytest.raises(
        IndexStoreError, match="a report groups by organisation, team, participant, step, not 'region'"
    ):
        index.report(group_by="region")
