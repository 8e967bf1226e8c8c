"""What the service's tests share: a served network on a private chain, its integrations, and
customers that joined on their own device."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from journeychain.accounts import dev_account
from journeychain.customer import CustomerSecret
from journeychain.demo import Crew
from journeychain.service.auth import new_secret, new_token, token_hash
from journeychain.service.service import Service, Settings
from journeychain.service.store import Store

BOOKING = {
    "customer_goals": "grow 20%",
    "success_criteria": "live in May",
    "decision_maker": "COO",
    "contract_value": "120000",
}


@contextlib.contextmanager
def journey_home(folder: Path) -> Iterator[None]:
    """$JOURNEY_HOME and $JOURNEY_DEPLOYMENTS in `folder` while the block runs."""
    saved = {k: os.environ.get(k) for k in ("JOURNEY_HOME", "JOURNEY_DEPLOYMENTS")}
    os.environ["JOURNEY_HOME"] = str(folder)
    os.environ["JOURNEY_DEPLOYMENTS"] = str(folder / "deployments")
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@dataclass
class Integration:
    name: str
    token: str
    secret: str | None
    accounts: list[str]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def add_integration(store: Store, chain: Any, name: str, dev: list[int], signed: bool = False) -> Integration:
    token = new_token()
    secret = new_secret() if signed else None
    bound = [{"name": f"dev:{n}", "address": dev_account(n, chain).address} for n in dev]
    assert store.add_integration(name, token_hash(token), bound, secret)
    return Integration(name, token, secret, [b["address"] for b in bound])


def customer(reference: str) -> dict[str, str]:
    """What a customer that joined on its own device hands the operator for a journey."""
    joined = CustomerSecret.create().join(reference, f"{reference} <someone@example.com>")
    return {"customer": joined["signer"], "profile_hash": joined["profile"]}


def served(chain: Any, crew: Crew, store: Store, dev: list[int], **settings: Any) -> Service:
    accounts = {dev_account(n, chain).address: dev_account(n, chain) for n in dev}
    keeper = dev_account(0, chain) if settings.get("keeper_interval") else None
    options = {"keeper_interval": None, "notify_interval": 0.3, "poll": 0.05} | settings
    return Service(chain, crew.deployment, store, accounts, keeper, Settings(**options))


def submit(service: Service, account: int, action: str, journey: str, params: dict, key: str) -> Any:
    """Submits a job as the CRM integration, acting as dev account `account`; it must be new."""
    address = dev_account(account, service.chain).address
    job, new = service.submit("crm", address, action, journey, params, key, "")
    assert new
    return job


def wait_final(get: Any, job_id: str, timeout: float = 60.0) -> dict[str, Any]:
    """The job once it is final (mined, refused or failed), polled through `get(path)`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = get(f"/jobs/{job_id}")
        if job["state"] in ("mined", "refused", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} is still {job['state']} after {timeout} s")
