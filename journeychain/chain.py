"""Connecting to a chain: any EVM JSON-RPC endpoint, or the embedded local anvil.

Where to connect: the `rpc` argument, else `$JOURNEY_RPC`, else the local chain at
http://127.0.0.1:8545. When nothing answers there, the embedded anvil is started in the
background with its state kept in `$JOURNEY_HOME/chain`, so a later command sees the same
chain. The anvil binary is `$JOURNEY_ANVIL`, else the one in the project's node_modules (the
checkout's, or the current folder's; `@foundry-rs/anvil`'s native binary, which needs no Node),
else `anvil` on PATH. `journey chain` runs it in
the foreground instead. `throwaway_chain()` starts a private anvil (or ganache,
`node="ganache"`) on a free port for a demo or a test and stops it afterwards; both fund the
development accounts of DEV_MNEMONIC, which `dev:N` names.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from web3 import Web3
from web3.types import RPCEndpoint

from journeychain.errors import ChainError, ConfigError, ToolchainError
from journeychain.toolchain import PROJECT_ROOT

LOCAL_PORT = 8545
DEFAULT_RPC = f"http://127.0.0.1:{LOCAL_PORT}"
LOCAL_CHAIN_IDS = frozenset({31337, 1337})
# How development nodes name themselves in web3_clientVersion (anvil/v1.2.3, Ganache/v7.9.2/...,
# HardhatNetwork/2.22.0/...): the chain id alone does not make a chain a development one.
DEVELOPMENT_CLIENTS = ("anvil", "ganache", "hardhatnetwork")
#: the mnemonic of anvil's (and hardhat's) funded accounts, which `dev:N` derives; a ganache
#: started by journeychain or by `make setup`'s brownie network is given it too
DEV_MNEMONIC = "test test test test test test test test test test test junk"
#: the local nodes a throwaway chain can run on
NODES = ("anvil", "ganache")
PROBE_TIMEOUT = 3.0
CALL_TIMEOUT = 60.0
START_TIMEOUT = 20.0


def journey_home() -> Path:
    """The user's journeychain folder, `$JOURNEY_HOME` else ~/.journeychain: private (0700),
    since it holds the evidence vault, the keystore, the journeys' records and the keeper's state."""
    home = Path(os.environ.get("JOURNEY_HOME") or Path.home() / ".journeychain").expanduser()
    return private_dir(home)


def private_dir(folder: Path) -> Path:
    """`folder`, created if missing, that only its owner may list or enter (0700, whatever the
    umask); an existing folder of the user's is closed to others, another user's is refused."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    info = folder.stat()
    if stat.S_IMODE(info.st_mode) != 0o700:
        if info.st_uid != os.getuid():
            raise ConfigError(
                f"{folder} belongs to another user and is open to others: choose a folder of your own"
            )
        os.chmod(folder, 0o700)
    return folder


def private_file(path: Path) -> Path:
    """`path`, created empty if missing, readable and writable by its owner only (0600, whatever
    the umask); an existing file with wider access is closed to others."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) != 0o600:
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
    return path


def write_private(path: Path, text: str) -> None:
    """Writes `text` to `path` atomically (a temporary file in the same folder, then a rename),
    readable by its owner only (0600)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def chain_dir() -> Path:
    return private_dir(journey_home() / "chain")


@dataclass
class Chain:
    """A connection: the web3 handle, the endpoint, the chain id."""

    w3: Web3
    url: str
    chain_id: int
    _client_version: str | None = field(default=None, repr=False, compare=False)
    #: what the sender keeps about this chain (fee data, block gas limit, block time, genesis)
    cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def client_version(self) -> str:
        """What the node calls itself (web3_clientVersion), asked once; "" when it does not say."""
        if self._client_version is None:
            try:
                answer = self.w3.provider.make_request(RPCEndpoint("web3_clientVersion"), [])
                result = answer.get("result")
                self._client_version = result if isinstance(result, str) else ""
            except Exception:  # no answer, or not JSON-RPC: the node does not say what it is
                self._client_version = ""
        return self._client_version

    @property
    def is_development_node(self) -> bool:
        """Whether the node identifies itself as anvil, ganache or hardhat."""
        return self.client_version.lower().startswith(DEVELOPMENT_CLIENTS)

    @property
    def is_local(self) -> bool:
        """A development chain: chain id 31337 or 1337, on a node that identifies itself as
        anvil, ganache or hardhat (a production client may run with either id)."""
        return self.chain_id in LOCAL_CHAIN_IDS and self.is_development_node

    def not_local_reason(self) -> str:
        """Why this chain is not a development chain, as the end of a sentence."""
        if self.chain_id not in LOCAL_CHAIN_IDS:
            return "which is not local"
        named = f"({self.client_version})" if self.client_version else "(it does not say which it is)"
        return f"whose node {named} does not identify itself as anvil, ganache or hardhat"

    def now(self) -> int:
        """The latest block's timestamp: the chain's clock, which deadlines follow."""
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def advance(self, seconds: int) -> int:
        """Moves a local chain's clock forward and mines a block; returns the new time."""
        if not self.is_local:
            raise ChainError(f"chain {self.chain_id} is not a local chain: its clock cannot be moved")
        self.w3.provider.make_request(RPCEndpoint("evm_increaseTime"), [int(seconds)])
        self.w3.provider.make_request(RPCEndpoint("evm_mine"), [])
        return self.now()


#: what the provider asks the node once and keeps: web3's checks ask the chain id before every
#: call and estimate otherwise
CACHED_REQUESTS = {"eth_chainId", "net_version"}


def _provider(url: str, timeout: float, retries: bool) -> Web3:
    kwargs: dict[str, Any] = {} if retries else {"exception_retry_configuration": None}
    provider = Web3.HTTPProvider(
        url,
        request_kwargs={"timeout": timeout},
        cache_allowed_requests=True,
        cacheable_requests=CACHED_REQUESTS,
        **kwargs,
    )
    return Web3(provider)


def probe(url: str, timeout: float = PROBE_TIMEOUT) -> int | None:
    """The chain id the endpoint answers with, or None when nothing answers there."""
    try:
        return int(_provider(url, timeout, retries=False).eth.chain_id)
    except Exception:  # refused, timed out, not JSON-RPC: all mean "no chain here"
        return None


def _check_url(url: str) -> str:
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"the RPC endpoint {url!r} is not an http(s) URL")
    return url.rstrip("/")


def connect(rpc: str | None = None, *, start_local: bool = True, quiet: bool = False) -> Chain:
    """Connects to `rpc`, else `$JOURNEY_RPC`, else the local chain (started if needed).

    A dead endpoint raises ChainError at once, after a short timeout.
    """
    explicit = rpc or os.environ.get("JOURNEY_RPC")
    url = _check_url(explicit or DEFAULT_RPC)
    chain_id = probe(url)
    if chain_id is None:
        if explicit or not start_local:
            raise ChainError(f"cannot reach the chain at {url}: is the node running and the URL right?")
        if _user_node_marker().exists():
            raise ChainError(
                f"cannot reach the chain at {url}, where a node of your own answered before: start it "
                "again (or run `journey chain --forget-node` to use the embedded chain there instead)"
            )
        start_background(port=_port_of(url), quiet=quiet)
        chain_id = probe(url)
        if chain_id is None:
            raise ChainError(f"cannot reach the chain at {url}, even after starting the local chain")
    elif not explicit and background_pid() is None and url == DEFAULT_RPC:
        # a node the user runs answers at the default address: never replace it unasked
        private_file(_user_node_marker())
    _CONNECTED.append(url)
    return Chain(_provider(url, CALL_TIMEOUT, retries=True), url, chain_id)


#: the endpoints this process connected to, in order (to name a node that goes away)
_CONNECTED: list[str] = []


def last_endpoint() -> str | None:
    """The endpoint this process connected to last, if any."""
    return _CONNECTED[-1] if _CONNECTED else None


def _port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0]) if url.count(":") == 2 else LOCAL_PORT


def _user_node_marker() -> Path:
    """Present once a node that is not the embedded chain answered at the default address."""
    return chain_dir() / "user-node"


def forget_user_node() -> bool:
    """Lets the embedded chain start at the default address again; whether a node was remembered."""
    marker = _user_node_marker()
    if not marker.exists():
        return False
    marker.unlink()
    return True


# --- the embedded anvil ---------------------------------------------------------


ANVIL_MISSING = (
    "no anvil found (in node_modules or on PATH): install it with `npm install @foundry-rs/anvil` "
    "(or Foundry's `foundryup`), or set JOURNEY_ANVIL to its path"
)


def _node_modules_anvil(folder: Path) -> Path | None:
    """The anvil of a node_modules folder: @foundry-rs's native binary (no Node needed), else
    the npm command that starts it."""
    natives = sorted((folder / "@foundry-rs").glob("anvil-*/bin/anvil"))
    for candidate in [*natives, folder / ".bin" / "anvil"]:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def anvil_binary() -> str:
    """The anvil to start: `$JOURNEY_ANVIL`, the project's node_modules, the current folder's
    node_modules, or PATH; else a ToolchainError saying how to get one."""
    configured = os.environ.get("JOURNEY_ANVIL")
    if configured:
        if shutil.which(configured) is None:
            raise ToolchainError(f"JOURNEY_ANVIL names {configured}, which is not an executable anvil")
        return configured
    for folder in dict.fromkeys((PROJECT_ROOT / "node_modules", Path.cwd() / "node_modules")):
        found = _node_modules_anvil(folder)
        if found is not None:
            return str(found)
    on_path = shutil.which("anvil")
    if on_path is not None:
        return on_path
    raise ToolchainError(ANVIL_MISSING)


GANACHE_MISSING = (
    "no ganache found (in node_modules or on PATH): install it with `npm install ganache@7.9.2` "
    "(it needs Node.js 18 or newer), or set JOURNEY_GANACHE to its path"
)


def ganache_binary() -> str:
    """The ganache to start: `$JOURNEY_GANACHE`, the project's or the current folder's
    node_modules/.bin/ganache, or PATH; else a ToolchainError saying how to get one."""
    configured = os.environ.get("JOURNEY_GANACHE")
    if configured:
        if shutil.which(configured) is None:
            raise ToolchainError(f"JOURNEY_GANACHE names {configured}, which is not an executable ganache")
        return configured
    for folder in dict.fromkeys((PROJECT_ROOT / "node_modules", Path.cwd() / "node_modules")):
        candidate = folder / ".bin" / "ganache"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    on_path = shutil.which("ganache")
    if on_path is not None:
        return on_path
    raise ToolchainError(GANACHE_MISSING)


def _ganache_args(port: int, chain_id: int | None) -> list[str]:
    """ganache 7 as the suite runs on it: shanghai, a 30M gas limit, the development accounts."""
    args = [ganache_binary(), "--server.host", "127.0.0.1", "--server.port", str(port)]
    args += ["--wallet.mnemonic", DEV_MNEMONIC, "--wallet.totalAccounts", "10"]
    args += ["--hardfork", "shanghai", "--miner.blockGasLimit", "30000000", "--logging.quiet"]
    return args + (["--chain.chainId", str(chain_id)] if chain_id else [])


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _anvil_args(port: int, state: Path | None) -> list[str]:
    args = [anvil_binary(), "--host", "127.0.0.1", "--port", str(port), "--gas-limit", "30000000"]
    if state is not None:
        args += ["--state", str(state), "--state-interval", "5"]
    return args


def _wait_ready(url: str, process: subprocess.Popen, log: Path | None = None) -> int:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        chain_id = probe(url, timeout=1.0)
        if chain_id is not None:
            return chain_id
        if process.poll() is not None:
            where = f" (see {log})" if log else ""
            raise ToolchainError(f"the local chain stopped as it started{where}")
        time.sleep(0.1)
    process.terminate()
    raise ToolchainError(f"the local chain did not answer at {url} within {START_TIMEOUT:.0f} seconds")


def _pid_file() -> Path:
    return chain_dir() / "anvil.pid"


def background_pid() -> int | None:
    """The process id of the background local chain, if it runs."""
    try:
        pid = int(_pid_file().read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        cmdline = b"anvil" if _alive(pid) else b""
    return pid if b"anvil" in cmdline else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def start_background(port: int = LOCAL_PORT, quiet: bool = False) -> int:
    """Starts the embedded anvil as a detached background process; returns its pid."""
    folder = chain_dir()
    log = folder / "anvil.log"
    if not quiet:
        print(
            f"no chain answers at 127.0.0.1:{port}: starting the local chain in the background "
            f"(state in {folder / 'state.json'}; stop it with `journey chain --stop`)",
            file=sys.stderr,
        )
    with open(log, "ab") as out:
        process = subprocess.Popen(
            _anvil_args(port, folder / "state.json"),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    _pid_file().write_text(f"{process.pid} {port}\n")
    _wait_ready(f"http://127.0.0.1:{port}", process, log)
    pid = native_pid(process.pid)
    _pid_file().write_text(f"{pid} {port}\n")
    return pid


def _children(pid: int) -> list[int]:
    try:
        tasks = Path(f"/proc/{pid}/task").iterdir()
        found = []
        for task in tasks:
            found += [int(c) for c in (task / "children").read_text().split()]
        return found
    except OSError:  # no /proc (not Linux), or the process is gone
        return []


def _executable(pid: int) -> str:
    try:
        return Path(os.readlink(f"/proc/{pid}/exe")).name
    except OSError:
        return ""


def native_pid(pid: int) -> int:
    """The process that is anvil itself: `pid`, or, when `pid` is a launcher (the npm package's
    Node wrapper), its descendant whose executable is anvil; `pid` where /proc cannot tell."""
    queue, seen = [pid], set()
    while queue:
        current = queue.pop(0)
        if current in seen:
            continue
        seen.add(current)
        if _executable(current) == "anvil":
            return current
        queue += _children(current)
    return pid


def stop_background() -> int | None:
    """Stops the background local chain (its state is saved); returns the pid it had."""
    pid = background_pid()
    if pid is None:
        with contextlib.suppress(OSError):
            _pid_file().unlink()
        return None
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.1)
    with contextlib.suppress(OSError):
        _pid_file().unlink()
    return pid


def run_foreground(port: int = LOCAL_PORT) -> int:
    """Runs the embedded anvil in the foreground, with the persisted state; Ctrl-C stops it."""
    url = f"http://127.0.0.1:{port}"
    if probe(url) is not None:
        pid = background_pid()
        foreground = _pid_file().exists() and "foreground" in _pid_file().read_text()
        hint = " (the background one: `journey chain --stop` first)" if pid and not foreground else ""
        raise ChainError(f"a chain already answers at {url}{hint}")
    if not 0 < port < 65536:
        raise ConfigError(f"{port} is not a TCP port (1 to 65535)")
    forget_user_node()  # the embedded chain runs here now
    process = subprocess.Popen(_anvil_args(port, chain_dir() / "state.json"))
    # other commands see it is the embedded chain that answers (not a node of the user's)
    _pid_file().write_text(f"{process.pid} {port} foreground\n")
    try:
        code = process.wait()
    except KeyboardInterrupt:
        process.send_signal(signal.SIGINT)
        return process.wait()
    finally:
        with contextlib.suppress(OSError, ValueError, IndexError):
            if int(_pid_file().read_text().split()[0]) == process.pid:
                _pid_file().unlink()
    if code != 0:
        raise ToolchainError(f"the local chain stopped with exit code {code}: is port {port} free?")
    return code


@contextlib.contextmanager
def throwaway_chain(
    chain_id: int | None = None, anvil_args: Sequence[str] = (), node: str = "anvil"
) -> Iterator[Chain]:
    """A private anvil (or ganache: `node="ganache"`) on a free port, with no saved state,
    stopped on exit.

    `chain_id` overrides the node's own (anvil 31337, ganache 1337; another id makes it a
    non-local chain to the SDK); `anvil_args` are passed on to anvil (e.g. ["--hardfork", "berlin"]).
    """
    if node not in NODES:
        raise ConfigError(f"a throwaway chain runs on {' or '.join(NODES)}, not {node!r}")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    if node == "ganache":
        args = _ganache_args(port, chain_id)
    else:
        args = (
            _anvil_args(port, None) + (["--chain-id", str(chain_id)] if chain_id else []) + list(anvil_args)
        )
    process = subprocess.Popen(
        args,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    try:
        chain_id = _wait_ready(url, process)
        yield Chain(_provider(url, CALL_TIMEOUT, retries=True), url, chain_id)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
