"""Publish a playbook with the SDK on brownie's active network.

    brownie run scripts/publish_playbook.py --network <network>
    JOURNEY_PLAYBOOK=playbooks/other.yaml brownie run scripts/publish_playbook.py ...

The publisher ($JOURNEY_ACCOUNT, else dev:0 on a local chain) must be ADMIN and have
accepted the rulebook; the contracts are found in deployments/<chain id>.json.
"""

from __future__ import annotations

import os

from journeychain.client import JourneyClient
from journeychain.deployments import load_deployment
from journeychain.playbook import DEFAULT_PLAYBOOK, load_playbook
from scripts.deploy import active_chain, signer


def main(path: str | None = None) -> int:
    chain = active_chain()
    client = JourneyClient(chain, load_deployment(chain), signer(chain))
    playbook = load_playbook(path or os.environ.get("JOURNEY_PLAYBOOK") or DEFAULT_PLAYBOOK)
    if client.participant(client.address)["accepted"] != client.rulebook()[0]:
        client.accept_rulebook()
    playbook_id, receipt = client.publish_playbook(playbook)
    print(f"playbook {playbook.name!r} published as playbook {playbook_id} (gas {receipt.gas_used:,})")
    return playbook_id
