"""`journey chain` runs the embedded local chain in the foreground, with its state kept."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from typer.testing import CliRunner

from journeychain.chain import free_port, probe
from journeychain.cli import app

COMMAND = [sys.executable, "-c", "from journeychain.cli import main; main()"]


def interruptible() -> None:
    """In the child: Ctrl-C as at a terminal, even when the suite runs as a background job
    (whose shell leaves SIGINT ignored, and Python then installs no KeyboardInterrupt)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_for(url: str, up: bool, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if (probe(url, timeout=1) is not None) == up:
            return True
        time.sleep(0.2)
    return False


def test_journey_chain_runs_in_the_foreground_until_ctrl_c(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = os.environ | {"JOURNEY_HOME": str(tmp_path)}
    process = subprocess.Popen(
        [*COMMAND, "chain", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=interruptible,
    )
    try:
        assert wait_for(url, up=True)
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert wait_for(url, up=False)
    assert (tmp_path / "chain" / "state.json").exists()


def test_journey_chain_refuses_a_port_where_a_chain_answers(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = os.environ | {"JOURNEY_HOME": str(tmp_path)}
    first = subprocess.Popen([*COMMAND, "chain", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, preexec_fn=interruptible)  # fmt: skip
    try:
        assert wait_for(url, up=True)
        second = subprocess.run(
            [*COMMAND, "chain", "--port", str(port)], env=env, capture_output=True, text=True, timeout=30
        )
        assert second.returncode == 4
        assert second.stderr.strip().endswith(f"error: a chain already answers at {url}")
    finally:
        first.send_signal(signal.SIGINT)
        first.wait(timeout=20)


def test_journey_chain_stop_says_when_none_runs(tmp_path):
    result = CliRunner().invoke(app, ["chain", "--stop"], env={"JOURNEY_HOME": str(tmp_path)})
    assert result.exit_code == 0 and "none was running" in result.stdout
