"""Deploy the suite with the SDK on brownie's active network.

    brownie run scripts/deploy.py --network <network>

The deployer is $JOURNEY_ACCOUNT (a keystore alias or dev:N), else dev:0 on a local
chain; the addresses go to deployments/<chain id>.json, as `journey deploy` writes them.
"""

from __future__ import annotations

import os

from brownie import web3

from journeychain.accounts import load_account
from journeychain.chain import Chain, connect
from journeychain.deployments import Deployment, deploy


def active_chain() -> Chain:
    """The SDK's connection to the network brownie is connected to."""
    return connect(web3.provider.endpoint_uri)


def signer(chain: Chain):
    return load_account(os.environ.get("JOURNEY_ACCOUNT") or "dev:0", chain)


def main() -> Deployment:
    chain = active_chain()
    deployment = deploy(chain, signer(chain), progress=print)
    print(f"engine {deployment.engine}, token {deployment.token} on chain {deployment.chain_id}")
    return deployment
