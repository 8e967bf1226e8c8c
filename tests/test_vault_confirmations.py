"""Evidence in the vault is confirmed only after its confirmations; a lost block (an anvil
snapshot reverted) puts it back to pending, and `journey reconcile` settles every pending row
and repairs a step refused as "has confirmed evidence in the vault".

These tests run the SDK and the command line against a private anvil of their own.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from journeychain.cli import app
from journeychain.demo import network
from journeychain.encoding import journey_id
from journeychain.errors import ConfigError
from journeychain.timeline import hexstr
from journeychain.vault import Vault

LEAD = {"lead_source": "webinar", "segment": "mid-market"}


@pytest.fixture(scope="module")
def net(journey_env, tmp_path_factory):
    work = tmp_path_factory.mktemp("confirmations")
    with network(work) as (chain, crew):
        journey_env.setenv("JOURNEY_DEPLOYMENTS", str(work / "deployments"))
        yield chain, crew


def rpc(chain, method: str, *params):
    return chain.w3.provider.make_request(method, list(params))["result"]


def statuses(vault: Vault, ref: str) -> set[str]:
    rows = vault._db.execute("SELECT status FROM evidence WHERE journey = ?", (hexstr(journey_id(ref)),))
    return {r["status"] for r in rows}


def reconcile(vault: Vault, crew) -> dict[str, int]:
    client = crew.client
    return vault.reconcile(
        client.chain.w3, client.engine, crew.deployment.block, deployment=crew.deployment.key
    )


def test_evidence_waits_for_its_confirmations(net, tmp_path):
    chain, crew = net
    crew.open("C-1", assignee=crew.marketing)
    with Vault(tmp_path / "vault.sqlite", confirmations=3) as vault:
        crew.marketing.client.complete_step("C-1", LEAD, assign=crew.rep_a.address, vault=vault)
        assert statuses(vault, "C-1") == {"mined"}
        assert reconcile(vault, crew)["mined"] == 1  # one block of three
        assert statuses(vault, "C-1") == {"mined"}
        rpc(chain, "evm_mine")
        rpc(chain, "evm_mine")
        assert reconcile(vault, crew)["confirmed"] == 1
        assert statuses(vault, "C-1") == {"confirmed"}


def test_a_lost_block_puts_mined_evidence_back_to_pending(net, tmp_path):
    chain, crew = net
    crew.open("C-2", assignee=crew.marketing)
    with Vault(tmp_path / "vault.sqlite", confirmations=3) as vault:
        snapshot = rpc(chain, "evm_snapshot")
        crew.marketing.client.complete_step("C-2", LEAD, assign=crew.rep_a.address, vault=vault)
        assert statuses(vault, "C-2") == {"mined"}
        rpc(chain, "evm_revert", snapshot)  # the step's block is lost
        counts = reconcile(vault, crew)
        assert counts["reopened"] == 1 and counts["pending"] == 1
        assert statuses(vault, "C-2") == {"pending"}
        # the step can be completed again, its new evidence replacing the lost one
        crew.marketing.client.complete_step("C-2", LEAD, assign=crew.rep_a.address, vault=vault)
        assert crew.client.journey("C-2").step == 1


def test_a_lost_block_of_confirmed_evidence_is_refused_until_reconciled(net, tmp_path):
    chain, crew = net
    crew.open("C-3", assignee=crew.marketing)
    with Vault(tmp_path / "vault.sqlite", confirmations=0) as vault:
        snapshot = rpc(chain, "evm_snapshot")
        crew.marketing.client.complete_step("C-3", LEAD, assign=crew.rep_a.address, vault=vault)
        assert statuses(vault, "C-3") == {"confirmed"}
        rpc(chain, "evm_revert", snapshot)
        with pytest.raises(ConfigError) as info:
            crew.marketing.client.complete_step("C-3", LEAD, assign=crew.rep_a.address, vault=vault)
        assert "has confirmed evidence in the vault (if its block was lost, `journey reconcile`" in str(
            info.value
        )
        assert reconcile(vault, crew)["reopened"] == 1
        result = crew.marketing.client.complete_step("C-3", LEAD, assign=crew.rep_a.address, vault=vault)
        assert result.step == 0 and statuses(vault, "C-3") == {"confirmed"}


def test_journey_reconcile_repairs_a_step_whose_block_was_lost(net):
    chain, crew = net
    crew.open("C-4", assignee=crew.marketing)
    runner = CliRunner()
    step = ["--rpc", chain.url, "-a", "dev:1", "step", "complete", "C-4", "--assign", crew.rep_a.address]
    step += [f"--field={k}={v}" for k, v in LEAD.items()]
    snapshot = rpc(chain, "evm_snapshot")
    assert runner.invoke(app, step).exit_code == 0
    rpc(chain, "evm_revert", snapshot)
    refused = runner.invoke(app, step)
    assert refused.exit_code == 2
    assert "has confirmed evidence in the vault" in refused.stderr
    repaired = runner.invoke(app, ["--rpc", chain.url, "reconcile"])
    assert repaired.exit_code == 0, repaired.output
    assert repaired.stdout.startswith(
        "vault reconciled: 0 confirmed, 1 back to pending (their block was lost)"
    )
    again = runner.invoke(app, step)
    assert again.exit_code == 0, again.output
    assert crew.client.journey("C-4").step == 1


def test_journey_reconcile_confirms_a_row_left_pending(net):
    """A row left pending (the reply was lost, the step mined) is confirmed by its StepCompleted."""
    chain, crew = net
    crew.open("C-5", assignee=crew.marketing)
    with Vault() as vault:
        pending = vault.prepare_step(crew.deployment.key, journey_id("C-5"), 0, LEAD)
    engine = crew.marketing.client.engine
    pairs = list(zip(pending.keys, pending.commitments, strict=True))
    crew.marketing.client._send(
        engine.functions.completeStep(journey_id("C-5"), pairs, [], 0, crew.rep_a.address)
    )
    result = CliRunner().invoke(app, ["--rpc", chain.url, "--json", "reconcile"])
    assert result.exit_code == 0, result.output
    assert '"confirmed": 1' in result.stdout
