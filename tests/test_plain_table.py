"""A long `journey list` is printed line by line (journeychain.cli.plain_table), and reads
exactly as rich's table of the same layout: the same widths, the same cuts with an ellipsis,
the same head and rule. What only rich lays out the same (wide characters, a console narrower
than the table) is left to rich."""

from __future__ import annotations

import io
import random

import pytest
from rich import box
from rich.console import Console
from rich.table import Table

from journeychain.cli import plain_table
from journeychain.cli.journeys import LIST_COLUMNS

STEPS = ["onboarding_started", "(done)", "lead_accepted", "deal_booked"]
OWNERS = ["Customer Success", "-", "Rep A", "0x1234…abcd", "Devices"]
DUES = ["in 1d 23h", "overdue 2h", "-", "in 59m"]
BREACHES = ["-", "1", "0, 1, 2, 3, 4"]


def rows(count: int, seed: int) -> list[tuple[str, ...]]:
    pick = random.Random(seed)
    return [
        (
            "OPP-" + "7" * pick.randint(1, 14),
            pick.choice(STEPS),
            pick.choice(["open", "value_delivered", "disputed", "cancelled"]),
            pick.choice(OWNERS),
            pick.choice(DUES),
            pick.choice(BREACHES),
        )
        for _ in range(count)
    ]


def with_rich(found: list[tuple[str, ...]], width: int) -> str:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)
    for header, most in LIST_COLUMNS:
        table.add_column(header, max_width=most, no_wrap=True, overflow="ellipsis")
    for cells in found:
        table.add_row(*cells, style="red" if cells[4].startswith("overdue") else None)
    out = io.StringIO()
    Console(file=out, width=width).print(table, soft_wrap=True)
    return out.getvalue()


def line_by_line(found: list[tuple[str, ...]], width: int) -> str | None:
    out = io.StringIO()
    styles = ["red" if cells[4].startswith("overdue") else None for cells in found]
    printed = plain_table.render(Console(file=out, width=width), LIST_COLUMNS, found, styles)
    return out.getvalue() if printed else None


@pytest.mark.parametrize("count", [1, 3, 250])
@pytest.mark.parametrize("width", [80, 132])
def test_a_long_list_reads_as_rich_prints_it(count, width):
    found = rows(count, seed=count * width)
    expected = with_rich(found, width)
    assert line_by_line(found, width) == expected
    assert "…" in expected or count < 3


def test_short_cells_give_narrow_columns_as_in_rich():
    found = [("A", "(done)", "open", "-", "-", "-")]
    assert line_by_line(found, 80) == with_rich(found, 80)
    assert line_by_line(found, 80).splitlines()[0].startswith("journey  step    status  owner  due  breaches")


def test_what_only_rich_lays_out_is_left_to_it():
    wide = [("OPP-東京", "(done)", "open", "-", "-", "-")]
    assert line_by_line(wide, 80) is None
    assert line_by_line(rows(5, seed=1), 40) is None  # narrower than the table: rich shrinks it
