"""A wheel that works anywhere: built, installed into a fresh virtual environment, and run from
an empty folder with no Node, no compiler and no checkout on its PATH, against an anvil on a
free port: `journey --help`, then deploy, publish the default playbook, enrol, open a journey.

Slow (a minute: the wheel's dependencies are installed from the package index), so marked
`slow`; it runs in the normal suite.
"""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from journeychain.artifacts import CACHE_FILE
from journeychain.chain import _node_modules_anvil, free_port, probe
from journeychain.toolchain import PROJECT_ROOT

pytestmark = pytest.mark.slow


def run(args: list[str], **kw) -> subprocess.CompletedProcess:
    done = subprocess.run(args, capture_output=True, text=True, timeout=300, check=False, **kw)
    assert done.returncode == 0, f"{args[:3]}: {done.stderr[-2000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The wheel, built from this checkout and installed into a fresh venv: its bin folder."""
    work = tmp_path_factory.mktemp("wheel")
    run([sys.executable, "-m", "journeychain.artifacts", "--check"], cwd=PROJECT_ROOT)
    run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(work), "."],
        cwd=PROJECT_ROOT,
    )
    (wheel,) = work.glob("journeychain-*.whl")
    venv.create(work / "venv", with_pip=True, clear=True)
    bin_dir = work / "venv" / "bin"
    run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet", str(wheel)], cwd=work)
    return bin_dir


@pytest.fixture(scope="module")
def user(installed, tmp_path_factory):
    """A user's session: an empty working folder, a home of its own, and a PATH of the venv and
    a folder holding only anvil (the native binary: no node, no solc anywhere on it)."""
    home = tmp_path_factory.mktemp("user")
    tools = home / "tools"
    tools.mkdir()
    anvil = _node_modules_anvil(PROJECT_ROOT / "node_modules")
    assert anvil is not None and "@foundry-rs" in anvil.parts
    (tools / "anvil").symlink_to(anvil)
    cwd = home / "work"
    cwd.mkdir()
    env = {
        "PATH": f"{installed}:{tools}",
        "HOME": str(home),
        "JOURNEY_HOME": str(home / ".journeychain"),
        "SOLCX_BINARY_PATH": str(home / "no-solc"),
        "LANG": "C.UTF-8",
        "COLUMNS": "100",
    }

    def journey(*args: str) -> subprocess.CompletedProcess:
        return run([str(installed / "journey"), *args], cwd=cwd, env=env)

    return journey, home, cwd, installed


def test_the_installed_package_is_the_wheel_not_the_checkout(user):
    _journey, home, cwd, bin_dir = user
    where = run(
        [
            str(bin_dir / "python"),
            "-c",
            "import journeychain, json; print(json.dumps(journeychain.__file__))",
        ],
        cwd=cwd,
        env={"PATH": str(bin_dir), "HOME": str(home)},
    )
    location = Path(json.loads(where.stdout))
    assert PROJECT_ROOT not in location.parents
    shipped = location.parent / "_build" / "artifacts.json"
    assert shipped.read_bytes() == CACHE_FILE.read_bytes()  # the very build of the sources


def test_journey_help_runs_from_an_empty_folder(user):
    journey, _home, cwd, _bin = user
    shown = journey("--help")
    assert "journey deploy" in shown.stdout and not list(cwd.iterdir())


def test_the_wheel_deploys_and_opens_a_journey_on_an_anvil_of_its_own(user):
    journey, home, _cwd, bin_dir = user
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    anvil = subprocess.Popen(
        [str(home / "tools" / "anvil"), "--port", str(port), "--gas-limit", "30000000"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            assert anvil.poll() is None, "anvil stopped as it started"
            if probe(url, timeout=0.5) is not None:
                break
        rpc = ["--rpc", url]
        deployed = journey(*rpc, "deploy")
        assert "compiling" not in deployed.stderr
        journey(*rpc, "playbook", "publish", "playbooks/default.yaml")  # the copy the wheel carries
        journey(*rpc, "participant", "add", "dev:1", "MARKETING", "--org", "Marketing")
        journey(*rpc, "participant", "add", "dev:6", "FUNDER", "--org", "Finance")
        for n in (1, 6):
            journey(*rpc, "-a", f"dev:{n}", "rulebook", "accept")
        journey(
            *rpc,
            "-a",
            "dev:1",
            "open",
            "OPP-1",
            "--customer",
            "dev:9",
            "--profile",
            "Ada",
            "--funder",
            "dev:6",
        )
        status = json.loads(journey(*rpc, "--json", "status", "OPP-1").stdout)
        assert "OPP-1" in json.dumps(status)
        assert (home / ".journeychain" / "deployments" / "31337.json").exists()  # not in site-packages
        assert not (home / "no-solc").exists()  # no compiler was looked for
        assert not list(bin_dir.parent.glob("lib/python*/deployments"))
    finally:
        anvil.terminate()
        anvil.wait(timeout=10)


def test_the_wheel_carries_the_web_pages_and_their_libraries(user):
    _journey, home, cwd, bin_dir = user
    script = (
        "import json; from journeychain.web import assets; "
        "print(json.dumps([str(assets.vendor_file(n)) for n in sorted(assets.VENDOR)] "
        "+ [str(assets.STATIC / 'dashboard.html'), str(assets.STATIC / 'customer.js')]))"
    )
    where = run(
        [str(bin_dir / "python"), "-c", script], cwd=cwd, env={"PATH": str(bin_dir), "HOME": str(home)}
    )
    files = [Path(p) for p in json.loads(where.stdout)]
    for path in files:
        assert path.is_file() and PROJECT_ROOT not in path.parents, path
    chart, ethers = files[:2]
    assert chart.read_bytes() == (PROJECT_ROOT / "node_modules/chart.js/dist/chart.umd.min.js").read_bytes()
    assert ethers.stat().st_size > 100_000
