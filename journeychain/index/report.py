"""SLA reports from the index: per organisation, team (the role that owns a step),
participant or playbook step, over a date range.

Each row counts, for its group:
- `journeys`: the journeys it handled (completed a step of, or breached one of);
- `steps` and `on_time`: the steps it completed and those completed by their deadline, and
  `on_time_rate` = on_time / steps;
- `breaches`: the breaches recorded against it (a participant's, or its organisation's when the
  step was owned by the organisation as a whole), as the engine's BreachRecorded events name them;
- `median_seconds` and `p90_seconds`: the time from a step's start (the previous step's
  completion, or the opening) to its completion; the median of an even count is the mean of the
  middle two, the 90th percentile is the nearest rank (the ceil(0.9 n)-th smallest);
- `penalties`: what its breaches and upheld disputes forfeited (the step's gross share of the
  pool less what it was credited), and `payouts`: what it was credited, both in token units;
- `ratings` and `rating_average`: the customers' ratings of its steps.
A step counts in the range by its completion time, a breach by the time it was recorded, a
payout by the time value was confirmed, a rating by the time it was given. The customer's step
counts only in the per-step report (a customer is nobody's participant).
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from journeychain.errors import IndexStoreError
from journeychain.index import schema
from journeychain.playbook import CUSTOMER

GROUPS = ("organisation", "team", "participant", "step")
COLUMNS = (
    "group",
    "name",
    "journeys",
    "steps",
    "on_time",
    "on_time_rate",
    "breaches",
    "median_seconds",
    "p90_seconds",
    "penalties",
    "payouts",
    "ratings",
    "rating_average",
)


@dataclass
class _Tally:
    journeys: set[str] = field(default_factory=set)
    steps: int = 0
    on_time: int = 0
    breaches: int = 0
    durations: list[int] = field(default_factory=list)
    penalties: int = 0
    payouts: int = 0
    scores: list[int] = field(default_factory=list)


def median(values: list[int]) -> float | None:
    return float(statistics.median(values)) if values else None


def p90(values: list[int]) -> int | None:
    """The nearest-rank 90th percentile."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def _rows(conn: Connection, query: Any) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in conn.execute(query)]


def _within(t: int | None, since: int | None, until: int | None) -> bool:
    return t is not None and (since is None or t >= since) and (until is None or t <= until)


def sla_report(conn: Connection, since: int | None, until: int | None, group_by: str) -> list[dict[str, Any]]:
    """The report's rows, sorted by group (see the module's docstring)."""
    if group_by not in GROUPS:
        raise IndexStoreError(f"a report groups by {', '.join(GROUPS)}, not {group_by!r}")
    org_of = {
        r[0]: r[1] for r in conn.execute(select(schema.participants.c.account, schema.participants.c.org))
    }
    org_names = {
        int(r[0]): r[1] for r in conn.execute(select(schema.organisations.c.org, schema.organisations.c.name))
    }
    s = schema.steps.c
    step_rows = _rows(
        conn, select(s.journey_id, s.step, s.name, s.role, s.by, s.started_at, s.completed_at, s.late)
    )
    # (journey, step) -> (name, role, by): what payouts and ratings are grouped by
    step_info = {(r[0], int(r[1])): (r[2], r[3], r[4]) for r in step_rows}

    def keys(name: str, role: str, who: str | None, org: int | None) -> str | None:
        """The group a step (its name, role, owner, owning organisation) counts in."""
        if group_by == "step":
            return name
        if role == CUSTOMER:
            return None
        if group_by == "team":
            return role
        if group_by == "participant":
            return who
        return str(org) if org else None

    tallies: dict[str, _Tally] = defaultdict(_Tally)
    for jid, _step, name, role, by, started, completed, late in step_rows:
        if not _within(completed, since, until):
            continue
        key = keys(name, role, by, org_of.get(by) if by else None)
        if key is None:
            continue
        t = tallies[key]
        t.journeys.add(jid)
        t.steps += 1
        t.on_time += 0 if late else 1
        if started is not None:
            t.durations.append(int(completed) - int(started))
    b = schema.breaches.c
    for jid, name, role, assignee, org, when in _rows(
        conn, select(b.journey_id, b.step_name, b.role, b.assignee, b.org, b.time)
    ):
        if not _within(when, since, until):
            continue
        key = keys(name, role, assignee, org_of.get(assignee) if assignee else org)
        if key is None:
            continue
        tallies[key].breaches += 1
        tallies[key].journeys.add(jid)
    p = schema.payouts.c
    for jid, step, owner, amount, penalty, when in _rows(
        conn, select(p.journey_id, p.step, p.owner, p.amount, p.penalty, p.time)
    ):
        if not _within(when, since, until):
            continue
        name, role, _by = step_info.get((jid, int(step)), (f"step {step}", "NONE", None))
        key = keys(name, role, owner, org_of.get(owner) if owner else None)
        if key is None:
            continue
        tallies[key].payouts += int(amount)
        tallies[key].penalties += int(penalty)
    r = schema.ratings.c
    for jid, step, owner, score, when in _rows(conn, select(r.journey_id, r.step, r.owner, r.score, r.time)):
        if not _within(when, since, until):
            continue
        name, role, _by = step_info.get((jid, int(step)), (f"step {step}", "NONE", None))
        key = keys(name, role, owner, org_of.get(owner))
        if key is None:
            continue
        tallies[key].scores.append(int(score))
    label: Callable[[str], str] = (
        (lambda k: org_names.get(int(k), f"organisation {k}"))
        if group_by == "organisation"
        else (lambda k: k)
    )
    rows = []
    for key in sorted(tallies, key=lambda k: (int(k) if group_by == "organisation" else 0, k)):
        t = tallies[key]
        rows.append(
            {
                "group": int(key) if group_by == "organisation" else key,
                "name": label(key),
                "journeys": len(t.journeys),
                "steps": t.steps,
                "on_time": t.on_time,
                "on_time_rate": t.on_time / t.steps if t.steps else None,
                "breaches": t.breaches,
                "median_seconds": median(t.durations),
                "p90_seconds": p90(t.durations),
                "penalties": t.penalties,
                "payouts": t.payouts,
                "ratings": len(t.scores),
                "rating_average": sum(t.scores) / len(t.scores) if t.scores else None,
            }
        )
    return rows
