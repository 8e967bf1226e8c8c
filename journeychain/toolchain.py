"""Offer the pinned Solidity compiler to py-solc-x and brownie without a download.

py-solc-x (and brownie through it) looks for ``solc-v<version>`` in its install
folder (``~/.solcx``, or ``$SOLCX_BINARY_PATH``). This module puts the pinned version
there: a native solc where one is installed or can be downloaded, otherwise a small
command that runs the npm ``solc`` package (WebAssembly) from the project's
``node_modules`` and answers ``--version`` and ``--standard-json`` as solc does.

Run as ``python -m journeychain.toolchain`` (``make setup`` does).
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import sys
from pathlib import Path

from journeychain.errors import ToolchainError

SOLC_VERSION = "0.8.28"
EVM_VERSION = "shanghai"
SHIM_MARKER = "# journeychain solcjs shim"
PACKAGE_DIR = Path(__file__).resolve().parent
#: the folder above the package: the source checkout when the package runs from one
PROJECT_ROOT = PACKAGE_DIR.parent
SHIM_SCRIPT = PROJECT_ROOT / "tools" / "solc" / "solcjs-shim.cjs"
NATIVE_CANDIDATES = (Path("/usr/local/bin/solc"), Path("/usr/bin/solc"))


def source_checkout() -> Path | None:
    """The project's checkout when the package runs from one (contracts/ and brownie-config.yaml
    beside it), None when it runs from an installed wheel."""
    if (PROJECT_ROOT / "contracts").is_dir() and (PROJECT_ROOT / "brownie-config.yaml").is_file():
        return PROJECT_ROOT
    return None


def project_file(*parts: str) -> Path:
    """A file of the project's that the package carries too (a playbook, the rulebook): the
    checkout's own where it exists, else the copy `make wheel` put in journeychain/_build."""
    own = PROJECT_ROOT.joinpath(*parts)
    shipped = PACKAGE_DIR.joinpath("_build", *parts)
    return own if own.exists() or not shipped.exists() else shipped


def install_folder() -> Path:
    """The folder where py-solc-x and brownie look for compilers."""
    env = os.environ.get("SOLCX_BINARY_PATH")
    folder = Path(env) if env else Path.home() / ".solcx"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _reports_version(binary: Path, version: str) -> bool:
    try:
        out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return f"Version: {version}+" in out


def _is_shim(path: Path) -> bool:
    try:
        return SHIM_MARKER in path.read_text(errors="ignore")[:200]
    except OSError:
        return False


def _try_download(version: str) -> bool:
    """Ask py-solc-x for a native build; False at once when the network says no."""
    import solcx

    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(15)
    try:
        solcx.install_solc(version, show_progress=False)
        return True
    except Exception:  # any failure means: no native build from the network here
        return False
    finally:
        socket.setdefaulttimeout(previous)


def write_shim(target: Path) -> None:
    """Write the command that runs the npm solc package from this checkout."""
    solc_pkg = PROJECT_ROOT / "node_modules" / "solc" / "package.json"
    if not solc_pkg.exists():
        raise ToolchainError("node_modules/solc is missing: run `npm ci` (or `make setup`) first")
    node = shutil.which("node")
    if node is None:
        raise ToolchainError("node is not on PATH: install Node.js 18 or newer")
    target.write_text(f'#!/bin/sh\n{SHIM_MARKER}\nexec "{node}" "{SHIM_SCRIPT}" "$@"\n', encoding="utf-8")
    target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def ensure_solc(version: str = SOLC_VERSION, mode: str | None = None) -> tuple[Path, str]:
    """Make ``solc-v<version>`` available to py-solc-x; return its path and its kind.

    ``mode`` (or ``$JOURNEY_SOLC``): ``auto`` (default) keeps or finds a native solc and
    falls back to solcjs; ``solcjs`` always uses the npm package; ``native`` refuses to
    fall back.
    """
    mode = mode or os.environ.get("JOURNEY_SOLC", "auto")
    if mode not in {"auto", "solcjs", "native"}:
        raise ToolchainError(f"JOURNEY_SOLC must be auto, solcjs or native, not {mode!r}")
    target = install_folder() / f"solc-v{version}"
    if mode != "solcjs":
        if target.exists() and not _is_shim(target) and _reports_version(target, version):
            return target, "native"
        for candidate in NATIVE_CANDIDATES:
            if candidate.exists() and _reports_version(candidate, version):
                shutil.copy2(candidate, target)
                return target, "native"
        if target.exists():
            target.unlink()  # a shim left by an earlier run: look for a native build again
        if _try_download(version) and _reports_version(target, version):
            return target, "native"
        if mode == "native":
            raise ToolchainError(f"no native solc {version} is installed and none could be downloaded")
    write_shim(target)
    if not _reports_version(target, version):
        raise ToolchainError(f"the solcjs shim at {target} does not answer as solc {version}")
    return target, "solcjs"


def main() -> int:
    try:
        path, kind = ensure_solc()
    except ToolchainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"solc {SOLC_VERSION} ({kind}) at {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
