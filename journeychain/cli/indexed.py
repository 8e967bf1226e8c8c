"""The index commands (`journey index sync|status`), `journey report`, and how `list`, `status`
and `report` find the index: $JOURNEY_INDEX, else the deployment's SQLite file once
`journey index sync` made it; `--no-index` (or no index) reads the chain instead."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from journeychain.amounts import tokens
from journeychain.cli.session import Session, session
from journeychain.errors import ConfigError
from journeychain.index import GROUPS, Index, database_url, index_exists
from journeychain.index.report import COLUMNS
from journeychain.index.store import _shown
from journeychain.timeline import duration, label

index_app = typer.Typer(
    help="The index: the chain's events folded into a database (SQLite, or PostgreSQL by "
    "$JOURNEY_INDEX), which `list`, `status` and `report` read when it is there.",
    no_args_is_help=True,
)

NO_INDEX_HELP = "Read the chain, not the index."


def open_index(s: Session, no_index: bool = False) -> Index | None:
    """The deployment's index brought up to date, when there is one and it is wanted."""
    if no_index or not index_exists(None, s.deployment.key):
        return None
    index = Index.open(None, s.deployment)
    index.sync(s.chain)
    return index


def _progress(s: Session) -> Progress:
    return Progress(
        TextColumn("indexing blocks"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=s.json,
    )


@index_app.command("sync")
def index_sync(
    ctx: typer.Context,
    confirmations: Annotated[
        int | None,
        typer.Option(
            help="Follow the chain this many blocks behind its head (kept for later syncs; default 0).", min=0
        ),
    ] = None,
    batch: Annotated[int, typer.Option(help="Blocks per log request and per transaction.", min=1)] = 2_000,
) -> None:
    """Build or update the index: fold the events of every block not indexed yet (resuming
    where the last sync stopped), after undoing the blocks a reorganisation removed."""
    s = session(ctx)
    index = Index.open(None, s.deployment)
    with index, _progress(s) as bar:
        task = bar.add_task("sync", total=None)
        last = index.sync(
            s.chain,
            confirmations=confirmations,
            batch=batch,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
        counts = index.counts()
        reorg = index.last_reorganisation
    data = {
        "index": _shown(index.url),
        "block": last,
        "confirmations": index.confirmations,
        "reorganisation": None if reorg is None else {"fork": reorg.fork, "undone_to": reorg.cursor},
        "counts": counts,
    }
    undone = f"; a reorganisation was undone (blocks {reorg.fork + 1} to {reorg.cursor})" if reorg else ""
    s.emit(
        data,
        f"indexed up to block {last:,}: {counts['journeys']:,} journeys, {counts['events']:,} events{undone}",
    )


@index_app.command("status")
def index_status(ctx: typer.Context) -> None:
    """Where the index is, the last block it holds, and how many rows each table has."""
    s = session(ctx)
    url = database_url(None, s.deployment.key)
    if not index_exists(None, s.deployment.key):
        raise ConfigError(f"there is no index at {_shown(url)} yet: run `journey index sync`")
    with Index.open(None, s.deployment) as index:
        cursor = index.cursor()
        counts = index.counts()
        data: dict[str, Any] = {
            "index": _shown(index.url),
            "block": cursor[0] if cursor else None,
            "head": s.chain.w3.eth.block_number,
            "confirmations": index.confirmations,
            "counts": counts,
        }
    rows = "\n".join(f"  {name}: {count:,}" for name, count in counts.items())
    s.emit(
        data,
        f"index {data['index']}\nblock {data['block']} of {data['head']} "
        f"({data['confirmations']} confirmations)\n{rows}",
    )


# --- journey report -------------------------------------------------------------------------


def _moment(text: str, end: bool) -> int:
    """A date (YYYY-MM-DD: the day's first second, or with `end` its last) or an ISO moment, in
    UTC unless it names its offset, as seconds."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(
            f"{text!r} is not a date (YYYY-MM-DD) or an ISO moment (2026-05-01T09:00)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    seconds = int(moment.timestamp())
    date_only = len(text.strip()) == 10
    return seconds + 86_399 if end and date_only else seconds


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _span(value: float | None) -> str:
    return "-" if value is None else duration(int(value))


def report_rows(
    s: Session, no_index: bool, since: int | None, until: int | None, by: str
) -> list[dict[str, Any]]:
    """The report's rows, from the index, or from the chain's events folded in memory."""
    index = open_index(s, no_index)
    scratch = index is None
    with index or Index.open("sqlite://", s.deployment) as index:
        if scratch:
            index.sync(s.chain, confirmations=0)
        return index.report(since=since, until=until, group_by=by)


def report_cmd(
    ctx: typer.Context,
    by: Annotated[
        str, typer.Option("--by", help="Group by " + ", ".join(GROUPS) + ".", metavar="|".join(GROUPS))
    ] = "organisation",
    since: Annotated[str | None, typer.Option(help="From this date (YYYY-MM-DD) or moment, UTC.")] = None,
    until: Annotated[str | None, typer.Option(help="Up to this date (the whole day) or moment, UTC.")] = None,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="Print CSV (one row per group) instead of a table.")
    ] = False,
    no_index: Annotated[bool, typer.Option("--no-index", help=NO_INDEX_HELP)] = False,
) -> None:
    """SLA report from the ledger, per organisation, team (role), participant or playbook
    step: journeys handled, steps completed and the share on time, breaches, the median and
    90th-percentile time to complete a step, penalties forfeited, payouts earned and the
    customers' ratings, over a date range (by the chain's clock)."""
    s = session(ctx)
    if by not in GROUPS:
        raise ConfigError(f"--by {by!r}: a report groups by {', '.join(GROUPS)}")
    start = _moment(since, end=False) if since else None
    end = _moment(until, end=True) if until else None
    if start is not None and end is not None and end < start:
        raise ConfigError(f"--until {until} is before --since {since}")
    rows = report_rows(s, no_index, start, end, by)
    names = s.names
    for row in rows:
        if by == "participant":
            row["name"] = label(row["group"], names)
    if as_csv and not s.json:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(COLUMNS), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        print(out.getvalue(), end="")
        return
    table = Table(box=box.SIMPLE_HEAD, title=f"SLA report by {by}", title_justify="left")
    for header in (
        "",
        "journeys",
        "steps",
        "on time",
        "breaches",
        "median",
        "p90",
        "penalties",
        "payouts",
        "rating",
    ):
        table.add_column(header, justify="left" if not header else "right")
    for row in rows:
        rating = f"{row['rating_average']:.1f} ({row['ratings']})" if row["ratings"] else "-"
        table.add_row(
            str(row["name"]),
            str(row["journeys"]),
            str(row["steps"]),
            _rate(row["on_time_rate"]),
            str(row["breaches"]),
            _span(row["median_seconds"]),
            _span(row["p90_seconds"]),
            tokens(row["penalties"]),
            tokens(row["payouts"]),
            rating,
        )
    s.emit(rows, table if rows else "nothing happened in that range")
