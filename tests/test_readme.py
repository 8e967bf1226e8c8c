"""The README is tested: the walk-through ("A first journey, step by step" and its subsections)
and the "From Python" snippet run literally, in order, against a fresh local chain.

Each command of the walk-through's ```sh blocks runs through the installed `journey` in one
bash session (so quoting and shell variables are the README's own), in a folder of its own,
with a private JOURNEY_HOME and JOURNEY_DEPLOYMENTS and JOURNEY_RPC naming a throwaway anvil.
A command must exit 0, unless the README follows it with `# error: SENTENCE (exit code N)`:
then it must fail with that sentence on stderr and that code. `# -> TEXT` after a command
means its output holds TEXT. In both, `…` stands for any text: a value that changes from run
to run. The set-up line (`. .venv/bin/activate`) is the one line not
run: the venv of this interpreter comes first on PATH instead.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from journeychain.chain import Chain

README = Path(__file__).resolve().parent.parent / "README.md"
WALK_THROUGH = "## A first journey, step by step"
FROM_PYTHON = "## From Python"
SET_UP = ". .venv/bin/activate"
ERROR = re.compile(r"^# error: (?P<sentence>.+?)\s+\(exit code (?P<code>\d+)\)$")
OUTPUT = re.compile(r"^# -> (?P<text>.+)$")
DONE = "__readme_command_done__"
PASSWORD = "customer password"

#: Commands that fail today because of a bug in the tool, with the bug: xfail(strict=True),
#: so that each turns green the moment the tool is fixed.
KNOWN_BUGS: dict[str, str] = {}


@dataclass
class Command:
    """One command of the README and what the README says of its result."""

    text: str
    error: str | None = None
    code: int = 0
    output: list[str] | None = None

    @property
    def label(self) -> str:
        first = self.text.splitlines()[0]
        return first if len(first) <= 70 else first[:67] + "..."


def section(text: str, heading: str) -> str:
    """The text of a level-2 section, its subsections included."""
    start = text.index(heading + "\n")
    end = text.find("\n## ", start + len(heading))
    return text[start : end if end != -1 else len(text)]


def blocks(text: str, language: str) -> list[str]:
    """The fenced code blocks of one language, in order."""
    return re.findall(rf"^```{language}\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)


def commands(block: str) -> list[Command]:
    """A sh block's commands: lines joined where they end in a backslash; a comment line
    `# error: ...` or `# -> ...` says what the command before it does; other comments are text."""
    found: list[Command] = []
    pending = ""
    for line in block.splitlines():
        if pending:
            pending += "\n" + line
            if not line.endswith("\\"):
                found.append(Command(pending))
                pending = ""
            continue
        stripped = line.strip()
        if not stripped or stripped == SET_UP or stripped.startswith(SET_UP + " "):
            continue
        if stripped.startswith("#"):
            if error := ERROR.match(stripped):
                found[-1].error, found[-1].code = error["sentence"], int(error["code"])
            elif output := OUTPUT.match(stripped):
                found[-1].output = [*(found[-1].output or []), output["text"]]
            continue
        if line.endswith("\\"):
            pending = line
        else:
            found.append(Command(line))
    assert not pending, f"a command ends in a backslash: {pending!r}"
    return found


def pattern(text: str) -> re.Pattern[str]:
    """TEXT of the README as a pattern: `…` stands for any text."""
    return re.compile(".+?".join(re.escape(part) for part in text.split("…")))


README_TEXT = README.read_text(encoding="utf-8")
WALK = [c for block in blocks(section(README_TEXT, WALK_THROUGH), "sh") for c in commands(block)]
#: The section's first Python block (its "Batches" subsection shows a brownie fragment).
SNIPPET = blocks(section(README_TEXT, FROM_PYTHON), "python")[0]


class Shell:
    """One bash session: variables and functions set by a command stay for the next ones."""

    def __init__(self, folder: Path, env: dict[str, str]):
        self.folder = folder
        self.process = subprocess.Popen(
            ["bash", "--norc", "--noprofile"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=folder,
            env=env,
            text=True,
        )

    def run(self, command: str) -> tuple[int, str, str]:
        """Runs `command` in the session; returns its exit code, stdout and stderr."""
        out, err = self.folder / ".stdout", self.folder / ".stderr"
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(f"{{ {command}\n}} >{out} 2>{err} </dev/null\necho {DONE} $?\n")
        self.process.stdin.flush()
        while True:
            line = self.process.stdout.readline()
            if not line:
                raise AssertionError(f"the shell ended while running {command!r}")
            if line.startswith(DONE):
                code = int(line.split()[1])
                break
        return code, out.read_text(encoding="utf-8"), err.read_text(encoding="utf-8")

    def close(self) -> None:
        assert self.process.stdin
        self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the README's commands run and write their files (ada.secret, confirm.json, ...)."""
    return tmp_path_factory.mktemp("readme")


@pytest.fixture(scope="module")
def env(journey_env: pytest.MonkeyPatch, journey_chain: Chain) -> dict[str, str]:
    """A newcomer's environment after set-up, on a throwaway chain: `journey` and this venv's
    python first on PATH, a private JOURNEY_HOME and JOURNEY_DEPLOYMENTS, JOURNEY_RPC."""
    journey_env.setenv("JOURNEY_PASSWORD", PASSWORD)
    environ = dict(os.environ)
    environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environ.get('PATH', '')}"
    environ["COLUMNS"] = "200"
    return environ


@pytest.fixture(scope="module")
def shell(folder: Path, env: dict[str, str]) -> Iterator[Shell]:
    session = Shell(folder, env)
    yield session
    session.close()


def test_the_readme_has_a_walk_through_and_a_python_snippet() -> None:
    assert len(WALK) > 50 and "JourneyClient(" in SNIPPET
    assert any(c.error for c in WALK) and any(c.output for c in WALK)
    assert set(KNOWN_BUGS) <= {c.text for c in WALK}, "a known bug names a command the README lost"


def cases() -> list:
    """Each command of the walk-through, in order; a known bug's command is a strict xfail."""
    params = []
    for i, c in enumerate(WALK):
        marks = [pytest.mark.xfail(reason=KNOWN_BUGS[c.text], strict=True)] if c.text in KNOWN_BUGS else []
        params.append(pytest.param(c, id=f"{i:02d} {c.label}", marks=marks))
    return params


@pytest.mark.parametrize("command", cases())
def test_walk_through_command(shell: Shell, command: Command) -> None:
    code, out, err = shell.run(command.text)
    assert "Traceback" not in out + err, err
    if command.error is None:
        assert code == 0, f"exit code {code}: {err.strip()}"
    else:
        assert code == command.code, f"exit code {code}, not {command.code}: {err.strip()}"
        sentence = pattern("error: " + command.error)
        assert any(sentence.fullmatch(line.strip()) for line in err.splitlines()), err.strip()
    for text in command.output or []:
        assert pattern(text).search(out), f"{text!r} not in {out!r}"


def test_from_python(folder: Path, env: dict[str, str]) -> None:
    script = folder / "from_python.py"
    script.write_text(SNIPPET, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(script)], cwd=folder, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    lines = [line.split() for line in result.stdout.splitlines()]
    assert len(lines) == 6 and all(owner.startswith("0x") for owner, _ in lines)
    assert sum(int(amount) for _, amount in lines) == 1000 * 10**18
    assert (folder / "confirm.json").is_file()
