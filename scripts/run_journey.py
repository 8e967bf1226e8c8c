"""Run one customer journey through the default playbook with the SDK, on brownie's active
local network: deploy and set up whatever is missing, then open, qualify, accept, fund,
attest, book, onboard, deliver, have the customer confirm by signature, and claim.

    brownie run scripts/run_journey.py --network <network>

Participants are the local chain's development accounts: dev:0 admin, dev:1 marketing,
dev:2 sales, dev:4 success, dev:5 vendor, dev:6 verifier, dev:7 funder.
"""

from __future__ import annotations

import time

from eth_account import Account

from journeychain.accounts import dev_account
from journeychain.amounts import tokens
from journeychain.client import Customer, JourneyClient
from journeychain.deployments import deploy, load_deployment
from journeychain.encoding import new_salt, profile_hash
from journeychain.errors import DeploymentError
from journeychain.playbook import load_playbook
from scripts.deploy import active_chain

CAST = {"admin": 0, "marketing": 1, "sales": 2, "success": 4, "vendor": 5, "verifier": 6, "funder": 7}
ROLES = {
    "marketing": "MARKETING",
    "sales": "SALES",
    "success": "SUCCESS",
    "vendor": "VENDOR",
    "verifier": "VERIFIER",
    "funder": "FUNDER",
}
POOL = 1_000 * 10**18


def main() -> str:
    chain = active_chain()
    people = {name: dev_account(index, chain) for name, index in CAST.items()}
    try:
        deployment = load_deployment(chain)
    except DeploymentError:
        deployment = deploy(chain, people["admin"], progress=print)
    admin = JourneyClient(chain, deployment, people["admin"])
    act = {name: admin.with_account(account) for name, account in people.items()}
    version, _ = admin.rulebook()
    orgs = {o["name"]: o["org"] for o in admin.organisations()}
    for name, role in ROLES.items():
        if name not in orgs:
            orgs[name], _ = admin.register_organisation(name, vendor=name in ("vendor", "verifier"))
        if not admin.has_role(people[name].address, role):
            admin.grant_role(people[name].address, role, org=orgs[name])
    for name, client in act.items():
        if admin.participant(people[name].address)["accepted"] != version:
            client.accept_rulebook()
    playbook_id = (
        next(
            (i for i in range(1, admin.playbook_count() + 1) if admin.playbook(i).playbook.name == "default"),
            None,
        )
        or admin.publish_playbook(load_playbook())[0]
    )
    if admin.balance_of(people["funder"].address) < POOL:
        admin.mint(people["funder"].address, 10 * POOL)

    reference = f"OPP-{int(time.time())}"
    customer = Customer(Account.create(), profile_hash(f"customer of {reference}", new_salt()))
    act["marketing"].open_journey(
        reference, customer.address, customer.profile, playbook_id, funder=people["funder"].address
    )
    act["marketing"].complete_step(reference, {"lead_source": "webinar"}, assign=people["sales"].address)
    act["sales"].complete_step(reference)
    act["funder"].fund(reference, POOL)
    act["verifier"].attest_customer(reference, "identity_verified")
    booking = {
        "customer_goals": "cut onboarding time by half",
        "success_criteria": "first value within 30 days",
        "decision_maker": "VP Operations",
        "contract_value": "120000 EUR",
    }
    act["sales"].complete_step(reference, booking, assign=people["success"].address)
    act["success"].complete_step(reference, {"kickoff": "held"}, assign=people["vendor"].address)
    act["vendor"].complete_step(reference, {"shipment": "delivered"})
    receipt = act["marketing"].customer_confirm(reference, customer)
    for owner, amount in act["marketing"].payouts(reference, receipt):
        print(f"  {owner} credited {tokens(amount)}")
    amount, _ = act["vendor"].claim()
    print(f"journey {reference}: value confirmed; the vendor claimed {tokens(amount)}")
    return reference
