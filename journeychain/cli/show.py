"""How the command line shows what people read: owners by name, deadlines against the chain's
clock, payouts per participant. Every group that prints a table or a timeline uses these, so
that one thing reads the same in every command (and --json keeps the addresses)."""

from __future__ import annotations

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from journeychain.amounts import tokens
from journeychain.names import Names
from journeychain.payouts import Payouts
from journeychain.timeline import label, org_label


def owner(assignee: str | None, org: int | None, names: Names) -> str:
    """Who owns a step: its participant by name (or shortened address), else its organisation."""
    if assignee:
        return label(assignee, names)
    return org_label(org, names) if org else "-"


def named(address: str | None, names: Names) -> str | None:
    """The address book's (or an organisation's) name for an address, for --json: None if none."""
    return names.get(address) if address else None


def _span(seconds: int, parts: int = 2) -> str:
    """Seconds as the largest `parts` units: "3d 4h", "23h 59m", "59m", "under 1m"."""
    units = [(seconds // 86_400, "d"), (seconds % 86_400 // 3_600, "h"), (seconds % 3_600 // 60, "m")]
    while units and units[0][0] == 0:
        units.pop(0)
    shown = [f"{n}{u}" for n, u in units[:parts] if n]
    return " ".join(shown) if shown else "under 1m"


def due(deadline: int, now: int, status: str) -> tuple[str, bool]:
    """An open journey's current deadline against the chain's clock `now`: ("in 23h 59m", False)
    or ("overdue 2d", True), overdue once the deadline has passed, whether or not anyone flagged
    it; ("-", False) for a journey with no running deadline."""
    if status != "open" or not deadline:
        return "-", False
    if deadline >= now:
        return f"in {_span(deadline - now)}", False
    return f"overdue {_span(now - deadline, parts=1)}", True


def payouts_view(payouts: Payouts, names: Names, title: str) -> Group:
    """One row per participant: what it was credited over its steps, and the steps; then who was
    credited the forfeited penalties (the funder, or the customer as a make-good) and the
    remainder."""
    table = Table(
        "participant", "credited", "for steps", title=title, title_justify="left", box=box.SIMPLE_HEAD
    )
    table.columns[1].justify = "right"
    for row in payouts.participants:
        who = f"the customer {label(row.owner, names)}" if row.customer else label(row.owner, names)
        table.add_row(who, tokens(row.amount), ", ".join(row.steps))
    forfeits = f"forfeited {tokens(payouts.forfeited)}"
    if payouts.forfeited and payouts.forfeited_to:
        to = label(payouts.forfeited_to, names)
        forfeits += (
            f", credited to the customer {to} as a make-good"
            if payouts.make_good == "customer"
            else f", credited to the funder {to}"
        )
    funder = f" {label(payouts.funder, names)}" if payouts.funder else ""
    return Group(table, Text(f"{forfeits}; remainder {tokens(payouts.remainder)} to the funder{funder}"))
