"""The running service: the database, the chain, the keys it signs with, the job worker, the
keeper and the notifications, wired together; the HTTP app (journeychain.service.app) calls it."""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount

from journeychain.chain import Chain, journey_home
from journeychain.client import JourneyClient
from journeychain.deployments import Deployment
from journeychain.encoding import journey_id
from journeychain.errors import IdempotencyError, JourneyError, PermissionRefusedError
from journeychain.keeper import Keeper
from journeychain.service.jobs import SendRecorder, Worker
from journeychain.service.notify import Dispatcher, Feed
from journeychain.service.reader import ClientReader, JourneyReader
from journeychain.service.store import Job, Store, dumps
from journeychain.vault import Vault

log = logging.getLogger("journeychain.service")


@dataclass
class Settings:
    keeper_interval: float | None = 15.0  # None: no keeper in the service
    notify_interval: float = 2.0
    poll: float = 0.2
    lanes: int = 64  # jobs in flight at once, over every account
    vault_path: str | None = None
    tolerance: int = 300
    backoff_base: float = 1.0
    confirmations: int = 0  # notifications read the chain's events this many blocks behind its head


@dataclass
class Loops:
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)


class Service:
    """One deployment served: writes become jobs, reads go through a JourneyReader."""

    def __init__(
        self,
        chain: Chain,
        deployment: Deployment,
        store: Store,
        accounts: dict[str, LocalAccount],
        keeper_account: LocalAccount | None = None,
        settings: Settings | None = None,
        reader: JourneyReader | None = None,
    ):
        self.chain, self.deployment, self.store = chain, deployment, store
        self.settings = settings or Settings()
        if "journey_send_recorder" not in chain.w3.middleware_onion:
            chain.w3.middleware_onion.add(SendRecorder, "journey_send_recorder")
        self.client = JourneyClient(chain, deployment)
        self.reader: JourneyReader = reader or ClientReader(self.client)
        self.accounts = {a.lower(): key for a, key in accounts.items()}
        self.key = str(deployment.key)
        self.worker = self.new_worker()
        self.feed = Feed(
            store,
            chain.w3,
            self.client.engine,
            self.client.reference,
            deployment.block,
            self.settings.confirmations,
        )
        self.dispatcher = Dispatcher(store, base=self.settings.backoff_base)
        self.keeper_account = keeper_account
        self._loops = Loops()
        self._records = threading.Lock()  # the journeys' records file is rewritten whole

    def new_worker(self) -> Worker:
        """A job worker for this deployment (what a restarted service starts with)."""
        return Worker(
            self.store,
            self.client,
            self.accounts,
            self,
            lanes=self.settings.lanes,
            poll=self.settings.poll,
            after_mined=self._after_mined,
        )

    # --- what the actions need
    def vault(self) -> Vault:
        return Vault(self.settings.vault_path)

    def _after_mined(self, job: Job, result: dict[str, Any]) -> None:
        """Keeps the local records the command line keeps: an opened journey's customer signer and
        profile hash (what `journey release` and customer requests read)."""
        if job.action == "complete" and result.get("reconciled"):
            self._settle_evidence()
        if job.action != "open":
            return
        p = job.params
        with self._records:
            self._keep_record(p)
        self.client.journey_id(p["reference"])  # remembered for notifications' references

    def _settle_evidence(self) -> None:
        """A step mined while the service was down left its evidence pending in the vault: the
        vault confirms it against the step's event (as `journey step complete` does after a crash)."""
        with self.vault() as vault:
            vault.reconcile(
                self.chain.w3, self.client.engine, self.deployment.block, deployment=self.deployment.key
            )

    def _keep_record(self, p: dict[str, Any]) -> None:
        from journeychain.cli.session import JourneyBook

        try:
            JourneyBook(self.deployment.key).put(
                journey_id(p["reference"]),
                {
                    "reference": p["reference"],
                    "customer": p["customer"],
                    "profile": p["profile_hash"],
                    "playbook": str(p["playbook"]),
                },
            )
        except JourneyError as exc:
            log.warning("journey %s opened, but its local record was not kept: %s", p["reference"], exc)

    # --- writes
    def submit(
        self,
        integration: str,
        account: str,
        action: str,
        journey: str,
        params: dict[str, Any],
        header_key: str | None,
        natural_key: str,
    ) -> tuple[Job, bool]:
        """Records a write as a job, or returns the one its idempotency key recorded before; the
        same key with another request is refused (IdempotencyError)."""
        if account.lower() not in self.accounts:
            raise PermissionRefusedError(
                f"the service holds no key for {account}, which integration {integration!r} is bound to: "
                "restart `journey serve` so that it loads that account"
            )
        body_hash = hashlib.sha256(dumps({"action": action, "account": account, "params": params}).encode())
        scope, key = (integration, header_key) if header_key else ("", natural_key)
        job, new = self.store.submit(
            deployment=self.key,
            integration=integration,
            account=account,
            action=action,
            journey=journey,
            params=params,
            body_hash=body_hash.hexdigest(),
            idem_scope=scope,
            idem_key=key,
        )
        if not new and job.body_hash != body_hash.hexdigest():
            raise IdempotencyError(
                f"idempotency key {key!r} was used for another request (job {job.id}, {job.action} "
                f"of journey {job.journey}): use a new key for a new request"
            )
        if new:
            self.worker.wake()
        return job, new

    # --- background loops
    def start(self) -> None:
        self.worker.start()
        self._every(self.settings.notify_interval, self._notify_round, "journey-notify")
        if self.settings.keeper_interval is not None and self.keeper_account is not None:
            self._keeper = self._make_keeper(self.keeper_account)
            self._every(self.settings.keeper_interval, self._keeper_round, "journey-keeper")

    def stop(self) -> None:
        self._loops.stop.set()
        for thread in self._loops.threads:
            thread.join(timeout=10)
        self.worker.stop()

    def _every(self, interval: float, fn: Any, name: str) -> None:
        def loop() -> None:
            while not self._loops.stop.is_set():
                try:
                    fn()
                except Exception:  # a dead node or receiver: the next round tries again
                    log.exception("%s: the round failed", name)
                self._loops.stop.wait(interval)

        thread = threading.Thread(target=loop, name=name, daemon=True)
        thread.start()
        self._loops.threads.append(thread)

    def _notify_round(self) -> None:
        self.feed.poll()
        self.dispatcher.deliver_due()

    def _make_keeper(self, account: LocalAccount) -> Keeper:
        client = self.client.with_account(account)
        lock = self.worker.lock(account.address)

        def locked(send: Any) -> Any:
            def run(jid: bytes) -> str:
                with lock:  # the keeper's sends one at a time (the nonces are the sender's)
                    return send(jid).tx_hash

            return run

        return Keeper(
            self.chain.w3,
            client.engine,
            flag=locked(client.flag_breach),
            expire=locked(client.expire),
            start_block=self.deployment.block,
            state_path=journey_home() / f"service-keeper-{self.chain.chain_id}.json",
        )

    def _keeper_round(self) -> None:
        report = self._keeper.run_once()
        self.feed.keeper_round(report)
