"""A real PostgreSQL server for the tests: Debian's package (`make setup-postgres` installs it),
run from a fresh `initdb` in a temporary folder, on a free loopback port, as the unprivileged
`postgres` user when the tests run as root (PostgreSQL refuses to run as root), and stopped at
the end. `postgres_server()` yields the server's URL; `new_database(url)` creates an empty
database on it and returns that database's URL.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from journeychain.chain import free_port

#: The OS user that runs the server when the tests run as root.
SERVER_USER = "postgres"


def server_binaries() -> Path:
    """The folder of the newest installed PostgreSQL's initdb, pg_ctl and postgres."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[4]))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).parent
    raise RuntimeError("PostgreSQL is not installed: run `make setup-postgres` (Debian's postgresql package)")


def _as_server_user(args: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return args
    return ["runuser", "-u", SERVER_USER, "--", *args]


def _run(args: list[str]) -> None:
    done = subprocess.run(_as_server_user(args), capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args[:2])} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}"
        )


@contextmanager
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server of its own, for as long as the context lasts: yields
    postgresql://postgres@127.0.0.1:PORT/postgres (trust authentication, loopback only)."""
    bin_dir = server_binaries()
    work = Path(tempfile.mkdtemp(prefix="journey-pg-"))
    if os.geteuid() == 0:
        shutil.chown(work, SERVER_USER, SERVER_USER)
    data = work / "data"
    port = free_port()
    try:
        _run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
                "-E",
                "UTF8",
            ]
        )
        options = f"-p {port} -k {work} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        _run(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(work / "server.log"),
                "-w",
                "start",
            ]
        )
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            _run([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"])
    finally:
        shutil.rmtree(work, ignore_errors=True)


def new_database(server_url: str, prefix: str = "journeys") -> str:
    """Creates an empty database on the server; returns its URL."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + "/" + name
