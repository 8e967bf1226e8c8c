"""The README's journey service section runs as written: its curl script (in bash) and its Python
script, in order, against `journey serve` on a private anvil (free ports), with the token that
`journey serve token add` printed. `# -> TEXT` after a command means the output holds TEXT
(`…` standing for any text)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from service_helpers import customer

from journeychain.chain import free_port
from journeychain.demo import network

README = Path(__file__).resolve().parent.parent / "README.md"
SECTION = "## The journey service"
JOURNEY = Path(sys.executable).with_name("journey")


def blocks(language: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index(SECTION) :]
    section = section[: section.index("\n## ", len(SECTION))]
    return re.findall(rf"```{language}\n(.*?)```", section, flags=re.S)


def expected(block: str) -> list[str]:
    return [line.removeprefix("# -> ") for line in block.splitlines() if line.startswith("# -> ")]


def holds(output: str, text: str) -> bool:
    pattern = ".*?".join(re.escape(part) for part in text.split("…"))
    return re.search(pattern, output) is not None


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    work = tmp_path_factory.mktemp("readme-service")
    with network(work) as (chain, crew):
        env = {**os.environ, "JOURNEY_HOME": str(work), "JOURNEY_DEPLOYMENTS": str(work / "deployments")}
        env["JOURNEY_RPC"] = chain.url
        env.pop("JOURNEY_ACCOUNT", None)
        add = [
            str(JOURNEY),
            "--json",
            "serve",
            "token",
            "add",
            "salesforce",
            "--as",
            "dev:1",
            "--as",
            "dev:2",
        ]
        made = subprocess.run(add, capture_output=True, text=True, env=env, check=False, timeout=60)
        assert made.returncode == 0, made.stderr
        port = free_port()
        serve = [str(JOURNEY), "-a", "dev:0", "serve", "--port", str(port), "--keeper-interval", "0"]
        process = subprocess.Popen(serve, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if requests.get(url + "/health", timeout=1).ok:
                        break
                except requests.RequestException:
                    time.sleep(0.2)
            joined = customer("CRM-1")
            yield env | {
                "SERVICE": url,
                "TOKEN": json.loads(made.stdout)["token"],
                "SIGNER": joined["customer"],
                "PROFILE_HASH": joined["profile_hash"],
                "FUNDER": crew.funder.address,
                "REP": crew.rep_a.address,
            }
        finally:
            process.terminate()
            process.wait(timeout=30)


def test_the_section_has_a_curl_and_a_python_script():
    assert len(blocks("sh")) >= 2 and blocks("python")


def test_the_curl_script_then_the_python_script_run_as_written(service):
    curl = blocks("sh")[1]
    ran = subprocess.run(["bash", "-e", "-c", curl], capture_output=True, text=True, env=service, timeout=120)
    assert ran.returncode == 0, ran.stderr
    for text in expected(curl):
        assert holds(ran.stdout, text), (text, ran.stdout)
    script = blocks("python")[0]
    ran = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=service, timeout=120
    )
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[0].startswith("mined ['0x")
    assert lines[1].startswith("refused ")
