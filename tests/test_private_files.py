"""Private files: the evidence vault, the keystore, the keeper's state and the local journey
records are readable by their owner only (0600) inside a folder only the owner may enter (0700,
$JOURNEY_HOME), whatever the umask says."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from journeychain.accounts import create_account, dev_account, keystore_dir
from journeychain.chain import Chain, journey_home
from journeychain.deployments import deploy
from journeychain.errors import ConfigError
from journeychain.keeper import Keeper
from journeychain.vault import Vault


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A JOURNEY_HOME that does not exist yet, under a permissive umask (so that nothing is
    private by accident)."""
    folder = tmp_path / "journeychain-home"
    monkeypatch.setenv("JOURNEY_HOME", str(folder))
    old = os.umask(0)
    try:
        yield folder
    finally:
        os.umask(old)


def test_a_vault_write_leaves_the_vault_0600_in_a_0700_home(home):
    with Vault() as vault:
        vault.prepare_step(31337, "OPP-1", 2, {"customer_goals": "grow 20%"})
        companions = [p for p in home.iterdir() if p.name.startswith("vault.sqlite")]
        assert {p.name for p in companions} >= {"vault.sqlite", "vault.sqlite-wal", "vault.sqlite-shm"}
        assert {p.name: mode(p) for p in companions} == {p.name: 0o600 for p in companions}
    assert mode(home) == 0o700
    assert mode(home / "vault.sqlite") == 0o600


def test_an_existing_vault_and_home_open_to_others_are_closed(home):
    home.mkdir(mode=0o755)
    (home / "vault.sqlite").touch(mode=0o644)
    os.chmod(home, 0o755)
    os.chmod(home / "vault.sqlite", 0o644)
    with Vault() as vault:
        vault.register_journey(31337, "OPP-1", customer="ada")
    assert mode(home) == 0o700 and mode(home / "vault.sqlite") == 0o600


def test_the_keystore_folder_and_its_files_are_private(home):
    entry = create_account("ops", "a password")
    assert mode(keystore_dir()) == 0o700
    assert mode(entry.path) == 0o600
    assert mode(journey_home()) == 0o700


def test_the_keepers_state_is_private(home, journey_chain: Chain):
    deployment = deploy(journey_chain, dev_account(0, journey_chain), directory=home / "deployments")
    from journeychain.artifacts import load_build

    engine = journey_chain.w3.eth.contract(address=deployment.engine, abi=load_build()["JourneyEngine"].abi)
    keeper = Keeper(journey_chain.w3, engine, flag=lambda _jid: "0x", start_block=deployment.block)
    keeper.save()
    assert keeper.path.parent == home and mode(keeper.path) == 0o600
    assert [p.name for p in home.iterdir() if p.name.endswith(".tmp")] == []


def test_another_users_open_folder_is_refused(monkeypatch, tmp_path):
    folder = tmp_path / "shared"
    folder.mkdir()
    os.chmod(folder, 0o777)
    monkeypatch.setenv("JOURNEY_HOME", str(folder))
    monkeypatch.setattr(os, "getuid", lambda: folder.stat().st_uid + 1)
    with pytest.raises(ConfigError, match="belongs to another user and is open to others"):
        journey_home()


def test_the_local_journey_records_are_private(home):
    from journeychain.cli import JourneyBook

    book = JourneyBook(31337)
    book.put(b"\x01" * 32, {"reference": "OPP-1", "customer": "0x" + "11" * 20, "profile": "0x" + "22" * 32})
    assert mode(home / "journeys.json") == 0o600 and mode(home) == 0o700
    assert book.get(b"\x01" * 32)["reference"] == "OPP-1"
    assert [p.name for p in home.iterdir() if p.name.endswith(".tmp")] == []
