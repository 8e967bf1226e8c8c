"""The embedded chain is never started in place of a node the user configured or ran, and the
PID it records is anvil's own, not its launcher's.

The "default address" is moved to a free port for these tests (the real one, 127.0.0.1:8545,
is never touched); every chain is a private anvil of the test's own.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from journeychain import chain as chain_module
from journeychain.chain import (
    background_pid,
    chain_dir,
    connect,
    forget_user_node,
    free_port,
    stop_background,
    throwaway_chain,
)
from journeychain.cli import app
from journeychain.errors import ChainError
from journeychain.toolchain import PROJECT_ROOT


@pytest.fixture
def default_address(journey_env, tmp_path, monkeypatch):
    """The default address moved to a free port, and a fresh JOURNEY_HOME."""
    monkeypatch.setenv("JOURNEY_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("JOURNEY_RPC", raising=False)
    port = free_port()
    monkeypatch.setattr(chain_module, "LOCAL_PORT", port)
    monkeypatch.setattr(chain_module, "DEFAULT_RPC", f"http://127.0.0.1:{port}")
    yield port
    stop_background()


def executable(pid: int) -> str:
    return Path(os.readlink(f"/proc/{pid}/exe")).name


def test_a_dead_configured_rpc_exits_4_and_starts_nothing(default_address):
    dead = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(app, ["--rpc", dead, "status", "OPP-1"])
    assert result.exit_code == 4
    assert result.stderr.strip() == (
        f"error: cannot reach the chain at {dead}: is the node running and the URL right?"
    )
    assert background_pid() is None and not (chain_dir() / "anvil.pid").exists()


def test_a_node_of_the_users_at_the_default_address_is_never_replaced(default_address, monkeypatch):
    port = default_address
    with throwaway_chain() as node:
        monkeypatch.setattr(chain_module, "DEFAULT_RPC", node.url)  # the user's own node answers there
        assert connect().chain_id == node.chain_id
    with pytest.raises(ChainError) as info:
        connect(quiet=True)
    assert str(info.value) == (
        f"cannot reach the chain at {node.url}, where a node of your own answered before: start it "
        "again (or run `journey chain --forget-node` to use the embedded chain there instead)"
    )
    assert info.value.exit_code == 4
    assert background_pid() is None
    # asked to forget it, the embedded chain may start there again
    assert forget_user_node()
    monkeypatch.setattr(chain_module, "DEFAULT_RPC", f"http://127.0.0.1:{port}")
    assert connect(quiet=True).chain_id == 31337
    assert background_pid() is not None


def test_the_recorded_pid_is_the_native_anvils_even_through_the_npm_launcher(default_address, monkeypatch):
    launcher = PROJECT_ROOT / "node_modules" / ".bin" / "anvil"
    if not launcher.exists():
        pytest.skip("the npm launcher of anvil is not installed")
    monkeypatch.setenv("JOURNEY_ANVIL", str(launcher))
    connect(quiet=True)
    pid = background_pid()
    assert pid is not None and executable(pid) == "anvil"
    assert stop_background() == pid
    assert not Path(f"/proc/{pid}").exists() or executable(pid) != "anvil"
    assert chain_module.probe(chain_module.DEFAULT_RPC, timeout=1.0) is None  # nothing orphaned
