"""The walk-through in `journey --help` works when followed literally."""

from __future__ import annotations

import re
import shlex

from typer.testing import CliRunner

from journeychain.accounts import dev_account
from journeychain.chain import Chain
from journeychain.cli import MANUAL, app


def manual_commands() -> list[list[str]]:
    """The walk-through's commands, continuation lines joined, "and so on" spelled out."""
    section = MANUAL.split("[bold]A first journey on the local chain[/bold]")[1].split("[bold]")[0]
    lines: list[str] = []
    for line in section.splitlines():
        if line.startswith("  journey "):
            lines.append(line.strip())
        elif line.startswith("        -") and lines:
            lines[-1] += " " + line.strip()
    commands = []
    for line in lines:
        spelled = re.match(r"(.*?)\s+\(and so on for dev:(\d) to dev:(\d)\)$", line)
        if spelled:
            first, last = int(spelled.group(2)), int(spelled.group(3))
            for n in range(first - 1, last + 1):
                commands.append(shlex.split(spelled.group(1).replace("dev:1", f"dev:{n}"))[1:])
        else:
            commands.append(shlex.split(line)[1:])
    return commands


def test_the_manuals_walk_through_runs_to_a_claimed_payout(journey_chain: Chain) -> None:
    commands = manual_commands()
    assert commands[0] == ["deploy"] and commands[-1] == ["list"] and len(commands) > 20
    outputs = {}
    for args in commands:
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, (args, result.output)
        outputs[" ".join(args)] = result.stdout
    vendor = dev_account(4).address
    assert outputs["-a dev:4 claim"].startswith(f"{vendor} claimed 300 ")
    assert "OPP-1" in outputs["list"] and "value_delivered" in outputs["list"]
