"""The brownie scripts are thin wrappers on the SDK: deploy, publish a playbook, run a journey.

They connect to whatever chain brownie's web3 points at; here that is a private chain.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from journeychain.chain import Chain
from journeychain.client import JourneyClient
from journeychain.deployments import deployment_file, load_deployment
from scripts import deploy as deploy_script
from scripts import publish_playbook, run_journey


@pytest.fixture(scope="module")
def chain(journey_env: pytest.MonkeyPatch, journey_chain: Chain) -> Chain:
    provider = SimpleNamespace(endpoint_uri=journey_chain.url)
    journey_env.setattr(deploy_script, "web3", SimpleNamespace(provider=provider))
    return journey_chain


def test_deploy_script_writes_the_deployment_file(chain):
    deployment = deploy_script.main()
    assert json.loads(deployment_file(chain.chain_id).read_text())["engine"] == deployment.engine


def test_publish_playbook_script_publishes_the_default_playbook(chain):
    assert publish_playbook.main() == 1
    client = JourneyClient(chain, load_deployment(chain))
    assert client.playbook(1).playbook.name == "default"


def test_run_journey_script_takes_a_customer_to_value_and_pays_the_vendor(chain):
    reference = run_journey.main()
    client = JourneyClient(chain, load_deployment(chain))
    assert client.journey(reference).status == "value delivered"
    assert client.balance_of(run_journey.dev_account(5).address) == 300 * 10**18
    assert client.playbook_count() == 1  # the published default playbook was reused
