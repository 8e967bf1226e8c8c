"""Local records are kept per deployment: the chain id, the engine's address and the hash of the
deployment's first block. A recreated local chain (the same chain id; a new engine address, or the
same one, since dev:0 deploys at nonce 0 again) starts clean: a journey reference used on the old
chain is used again, with its evidence, and the records of both deployments stay, each under its
own key. A vault and a journeys file written before records were keyed are migrated: their
records stay readable and never block a new deployment's step.

Each chain here is a private anvil of its own (a free port), with JOURNEY_HOME and
JOURNEY_DEPLOYMENTS in temporary folders.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from journeychain.accounts import dev_account
from journeychain.chain import throwaway_chain
from journeychain.cli import JourneyBook, app
from journeychain.deployments import DeploymentKey, deploy
from journeychain.encoding import journey_id
from journeychain.errors import ConfigError
from journeychain.vault import LAYOUT, Vault

JID = "0x" + journey_id("OPP-1").hex()
#: The vault's tables as they were before rows were keyed by deployment.
UNKEYED = """
CREATE TABLE evidence (
    chain_id INTEGER NOT NULL, journey TEXT NOT NULL, step INTEGER NOT NULL, position INTEGER NOT NULL,
    field TEXT NOT NULL, value TEXT, salt TEXT, commitment TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending', tx_hash TEXT, block INTEGER, created_at INTEGER NOT NULL,
    erased_at INTEGER, PRIMARY KEY (chain_id, journey, step, field));
CREATE TABLE journeys (
    chain_id INTEGER NOT NULL, journey TEXT NOT NULL, reference TEXT, customer TEXT,
    PRIMARY KEY (chain_id, journey));
CREATE INDEX journeys_customer ON journeys (customer);
CREATE TABLE statements (
    chain_id INTEGER NOT NULL, journey TEXT NOT NULL, step INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('dispute_reason', 'rating_comment')), text TEXT, salt TEXT,
    commitment TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending', tx_hash TEXT, block INTEGER,
    created_at INTEGER NOT NULL, erased_at INTEGER, PRIMARY KEY (chain_id, journey, step, kind));
"""


@pytest.fixture
def home(journey_env: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    journey_env.setenv("JOURNEY_HOME", str(tmp_path / "home"))
    journey_env.setenv("JOURNEY_DEPLOYMENTS", str(tmp_path / "deployments"))
    return tmp_path / "home"


def ok(*args: str) -> dict:
    result = CliRunner().invoke(app, ["--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if result.stdout.strip() else {}


def fails(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code != 0 and "Traceback" not in result.output
    return result.exit_code, result.stderr.strip().removeprefix("error: ")


def set_up_deployment() -> dict:
    """`journey deploy`, the default playbook, a marketer, a rep and a funder who accepted the rulebook."""
    deployment = ok("deploy")
    ok("playbook", "publish", "default")
    for n, role, org in ((1, "MARKETING", "Marketing"), (2, "SALES", "Sales"), (6, "FUNDER", "Finance")):
        ok("participant", "add", f"dev:{n}", role, "--org", org)
        ok("-a", f"dev:{n}", "rulebook", "accept")
    return deployment


def qualify(source: str) -> dict:
    """OPP-1 opened and its lead qualified with one field, kept in the vault."""
    ok("-a", "dev:1", "open", "OPP-1", "--customer", "dev:9", "--profile", "Ada", "--funder", "dev:6")
    return ok("-a", "dev:1", "step", "complete", "OPP-1", "-f", f"lead_source={source}", "--assign", "dev:2")


def vault_rows(home: Path) -> list[tuple]:
    with sqlite3.connect(home / "vault.sqlite") as db:
        return db.execute(
            "SELECT chain_id, deployment, journey, step, field, value, status FROM evidence ORDER BY rowid"
        ).fetchall()


def key_of(deployment: dict) -> DeploymentKey:
    return DeploymentKey(deployment["chain_id"], deployment["engine"], deployment["block_hash"])


def test_a_recreated_chain_starts_clean_and_keeps_the_old_deployments_records(journey_env, home):
    with throwaway_chain() as old_chain:
        journey_env.setenv("JOURNEY_RPC", old_chain.url)
        old = set_up_deployment()
        qualify("webinar")
    with throwaway_chain() as new_chain:  # the same chain id, a fresh history
        journey_env.setenv("JOURNEY_RPC", new_chain.url)
        code, message = fails("list")  # the old file points at nothing on the new chain
        assert code == 2 and "where there is no contract (was the chain reset?)" in message
        new = set_up_deployment()
        # dev:0 deployed at nonce 0 again: the same engine address, another deployment
        assert new["engine"] == old["engine"] and new["block_hash"] != old["block_hash"]
        step = qualify("trade fair")  # the reference and its step again: not blocked by the vault
        assert step["step"] == 0
        proof = ok("prove", "OPP-1", "0", "lead_source")
        assert proof["value"] == "trade fair"
        # a second deployment on the same chain: a new engine address, the reference again
        newer = set_up_deployment()
        assert newer["engine"] != new["engine"]
        qualify("referral")
        assert ok("prove", "OPP-1", "0", "lead_source")["value"] == "referral"

    book = json.loads((home / "journeys.json").read_text(encoding="utf-8"))
    keys = [str(key_of(d)) for d in (old, new, newer)]
    assert set(book) == set(keys) and len(set(keys)) == 3
    assert all(book[k][JID]["reference"] == "OPP-1" for k in keys)
    rows = vault_rows(home)
    assert [(r[1], r[5], r[6]) for r in rows] == [
        (key_of(d).tag, value, "confirmed")
        for d, value in ((old, "webinar"), (new, "trade fair"), (newer, "referral"))
    ]
    with Vault(home / "vault.sqlite") as vault:
        assert vault.fields(key_of(old), "OPP-1", 0) == {"lead_source": "webinar"}
        assert vault.fields(key_of(new), "OPP-1", 0) == {"lead_source": "trade fair"}


def test_a_deployment_file_from_another_history_of_the_chain_is_refused(journey_env, home, tmp_path):
    with throwaway_chain() as first:
        journey_env.setenv("JOURNEY_RPC", first.url)
        ok("deploy")
    with throwaway_chain() as second:
        journey_env.setenv("JOURNEY_RPC", second.url)
        second.advance(3600)  # (two anvils started in the same second would have one history)
        # another tool deploys the same code at the same address, writing its file elsewhere
        other = deploy(second, dev_account(0, second), directory=tmp_path / "elsewhere")
        assert other.engine == json.loads((tmp_path / "deployments" / "31337.json").read_text())["engine"]
        code, message = fails("list")
        assert code == 2
        assert message == (
            "the deployment for chain 31337 was made at block 1 of another history of the chain "
            "(that block's hash differs: was the chain reset?): run `journey deploy`"
        )


def test_an_unkeyed_vault_is_migrated_its_rows_kept_readable_and_blocking_no_deployment(home):
    home.mkdir(mode=0o700)
    path = home / "vault.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(UNKEYED)
        db.execute(
            "INSERT INTO evidence VALUES (31337, ?, 0, 0, 'lead_source', 'webinar', '0x01', '0x02', "
            "'confirmed', '0x03', 4, 5, NULL)",
            (JID,),
        )
        db.execute("INSERT INTO journeys VALUES (31337, ?, 'OPP-1', 'ada')", (JID,))
    deployment = DeploymentKey(31337, "0x" + "ab" * 20, "0x" + "cd" * 32)
    with Vault(path) as vault:
        assert vault.fields(31337, "OPP-1", 0) == {"lead_source": "webinar"}
        assert vault.fields(deployment, "OPP-1", 0) == {"lead_source": "webinar"}  # read where it has none
        evidence = vault.prepare_step(deployment, "OPP-1", 0, {"lead_source": "trade fair"})  # not blocked
        vault.confirm(evidence, "0x" + "11" * 32, 9)
        assert vault.fields(deployment, "OPP-1", 0) == {"lead_source": "trade fair"}
        assert vault.journeys(31337) == [
            {"chain_id": 31337, "deployment": "", "journey": JID, "reference": "OPP-1", "customer": "ada"}
        ]
    assert [(r[1], r[5]) for r in vault_rows(home)] == [("", "webinar"), (deployment.tag, "trade fair")]
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == LAYOUT
        assert db.execute("SELECT name FROM sqlite_master WHERE name LIKE '%unkeyed%'").fetchall() == []
    with Vault(path) as vault:  # opening it again migrates nothing twice
        assert len(vault_rows(home)) == 2 and vault.fields(31337, "OPP-1", 0)


def test_a_journeys_file_kept_per_chain_stays_readable_under_a_deployment(home):
    home.mkdir(mode=0o700)
    legacy = {"reference": "OPP-1", "customer": "0x" + "11" * 20, "profile": "0x" + "22" * 32}
    (home / "journeys.json").write_text(json.dumps({"31337": {JID: legacy}}), encoding="utf-8")
    deployment = DeploymentKey(31337, "0x" + "ab" * 20, "0x" + "cd" * 32)
    book = JourneyBook(deployment)
    assert book.get(journey_id("OPP-1")) == legacy  # read where the deployment has none of its own
    opened = legacy | {"profile": "0x" + "33" * 32}
    book.put(journey_id("OPP-1"), opened)
    assert book.get(journey_id("OPP-1")) == opened
    data = json.loads((home / "journeys.json").read_text(encoding="utf-8"))
    assert data == {"31337": {JID: legacy}, str(deployment): {JID: opened}}  # the old record is kept
    assert oct(os.stat(home / "journeys.json").st_mode & 0o777) == "0o600"


def test_statements_and_forgetting_are_kept_per_deployment(home):
    home.mkdir(mode=0o700)
    old = DeploymentKey(31337, "0x" + "ab" * 20, "0x" + "01" * 32)
    new = DeploymentKey(31337, "0x" + "ab" * 20, "0x" + "02" * 32)  # the same address, a new chain
    with Vault(home / "vault.sqlite") as vault:
        for key, text in ((old, "late"), (new, "broken")):
            vault.register_journey(key, "OPP-1", customer="ada")
            said = vault.prepare_statement(key, "OPP-1", 2, "dispute_reason", text)  # not blocked
            vault.confirm_statement(said, "0x" + "11" * 32, 5)
        assert [r["text"] for r in vault.statements(old, "OPP-1")] == ["late"]
        assert [r["text"] for r in vault.statements(new, "OPP-1")] == ["broken"]
        with pytest.raises(ConfigError, match="is confirmed in the vault"):
            vault.prepare_statement(new, "OPP-1", 2, "dispute_reason", "again")  # its own deployment's
        assert vault.forget("ada", new) == 1  # the new deployment's; the old one's stays
        assert [r["text"] for r in vault.statements(old, "OPP-1")] == ["late"]
        assert [r["text"] for r in vault.statements(new, "OPP-1")] == [None]
