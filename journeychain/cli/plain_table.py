"""Long tables printed fast: the same text as rich's table of the list's layout (a simple head,
no edge, columns cut with an ellipsis at their widths), built line by line. rich lays out each
cell on its own, which takes seconds over thousands of rows; this takes milliseconds. A table
whose cells rich would lay out otherwise (wide characters, a console narrower than the table)
is left to rich."""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

ELLIPSIS = "…"
#: Between two columns: the right padding of one and the left padding of the next.
GAP = "  "


def _fits(cell: str, width: int) -> str:
    if len(cell) <= width:
        return cell + " " * (width - len(cell))
    return cell[: width - 1] + ELLIPSIS


def render(
    console: Console,
    columns: Sequence[tuple[str, int]],
    rows: Sequence[Sequence[str]],
    styles: Sequence[str | None],
) -> bool:
    """Prints the table of `columns` (header, max width) and `rows` (one style each) as rich
    would; False, printing nothing, when only rich can lay it out the same."""
    cells = [header for header, _ in columns] + [c for row in rows for c in row]
    if not all(c.isascii() or (c.replace(ELLIPSIS, "").isascii() and cell_len(c) == len(c)) for c in cells):
        return False
    widths = []
    for i, (header, most) in enumerate(columns):
        longest = max([len(header)] + [len(row[i]) for row in rows])
        widths.append(min(most, longest))
    total = sum(widths) + len(GAP) * (len(widths) - 1)
    if total > console.width:
        return False
    head = GAP.join(_fits(h, w) for (h, _), w in zip(columns, widths, strict=True))
    lines = [GAP.join(_fits(c, w) for c, w in zip(row, widths, strict=True)) for row in rows]
    if not console.is_terminal:
        console.file.write("\n".join([head, "─" * total, *lines]) + "\n")
        return True
    text = Text(no_wrap=True, overflow="ignore")
    text.append(head, style="bold")
    text.append("\n" + "─" * total + "\n")
    for line, style in zip(lines, styles, strict=True):
        text.append(line + "\n", style=style or "")
    console.print(text, end="", soft_wrap=True)
    return True
