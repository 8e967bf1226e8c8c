"""The service's database: integrations, jobs, webhook signatures seen, subscriptions and the
notifications' outbox (SQLAlchemy 2 Core, its own metadata).

SQLite by default ($JOURNEY_HOME/service.sqlite, readable by its owner only), any SQLAlchemy URL
otherwise (`postgresql://...`). Every write the service accepts is a row of `jobs` before its
transaction is signed; every transaction it signs is recorded on its job (hash and raw bytes)
before it is broadcast, so that a restarted service reconciles instead of sending again.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    create_engine,
    delete,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError

from journeychain.chain import journey_home, private_file
from journeychain.errors import ConfigError

metadata = MetaData()

integrations = Table(
    "service_integrations",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    # the HMAC secret of its signed webhooks (kept: verifying a signature needs it), or null
    Column("hmac_secret", String(128)),
    Column("accounts", JSON, nullable=False),  # [{"name": ..., "address": ...}]
    Column("created_at", BigInteger, nullable=False),
)

jobs = Table(
    "service_jobs",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("deployment", String(160), nullable=False),
    Column("integration", String(64), nullable=False),
    Column("account", String(42), nullable=False),
    Column("action", String(16), nullable=False),
    Column("journey", String(200), nullable=False),
    Column("params", JSON, nullable=False),
    Column("body_hash", String(64), nullable=False),
    Column("idem_scope", String(64), nullable=False),
    Column("idem_key", String(300), nullable=False),
    Column("state", String(16), nullable=False),  # queued, sent, mined, refused, failed
    Column("txs", JSON, nullable=False),  # [{"hash": "0x..", "raw": "0x.."}], in the order signed
    Column("error", Text),
    Column("error_name", String(64)),
    Column("result", JSON),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_try_at", BigInteger, nullable=False, default=0),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    UniqueConstraint("deployment", "idem_scope", "idem_key", name="uq_service_jobs_key"),
)

signatures = Table(
    "service_signatures_seen",
    metadata,
    Column("signature", String(64), primary_key=True),
    Column("seen_at", BigInteger, nullable=False),
)

subscriptions = Table(
    "service_subscriptions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("integration", String(64), nullable=False),
    Column("url", Text, nullable=False),
    Column("kinds", JSON, nullable=False),
    Column("secret", String(128), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

outbox = Table(
    "service_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subscription", String(36), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("event_key", String(300), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("state", String(16), nullable=False),  # pending, delivered, failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", BigInteger, nullable=False, default=0),
    Column("last_error", Text),
    Column("delivered_at", BigInteger),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("subscription", "event_key", name="uq_service_outbox_event"),
)

cursors = Table(
    "service_cursors",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

#: The job states; the last three are final.
QUEUED, SENT, MINED, REFUSED, FAILED = "queued", "sent", "mined", "refused", "failed"
FINAL = (MINED, REFUSED, FAILED)


def now() -> int:
    return int(time.time())


def default_url() -> str:
    """The default database: $JOURNEY_HOME/service.sqlite."""
    return f"sqlite:///{journey_home() / 'service.sqlite'}"


@dataclass
class Job:
    seq: int
    id: str
    deployment: str
    integration: str
    account: str
    action: str
    journey: str
    params: dict[str, Any]
    body_hash: str
    idem_scope: str
    idem_key: str
    state: str
    txs: list[dict[str, str]]
    error: str | None
    error_name: str | None
    result: dict[str, Any] | None
    attempts: int
    next_try_at: int
    created_at: int
    updated_at: int

    @property
    def final(self) -> bool:
        return self.state in FINAL

    def public(self) -> dict[str, Any]:
        """What a client sees of the job."""
        return {
            "id": self.id,
            "state": self.state,
            "action": self.action,
            "journey": self.journey,
            "account": self.account,
            "integration": self.integration,
            "idempotency_key": self.idem_key,
            "tx_hashes": [t["hash"] for t in self.txs],
            "error": self.error,
            "rule": self.error_name,
            "result": self.result,
            "attempts": self.attempts,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


@dataclass
class Integration:
    name: str
    token_hash: str
    hmac_secret: str | None
    accounts: list[dict[str, str]]
    created_at: int

    @property
    def addresses(self) -> list[str]:
        return [a["address"] for a in self.accounts]


class Store:
    """The service's tables on one database (created if missing)."""

    def __init__(self, url: str | None = None):
        self.url = url or default_url()
        self.engine: Engine = _engine(self.url)
        metadata.create_all(self.engine)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    def close(self) -> None:
        self.engine.dispose()

    # --- integrations ---------------------------------------------------------------
    def add_integration(
        self, name: str, token_hash: str, accounts: list[dict[str, str]], hmac_secret: str | None
    ) -> bool:
        """Adds an integration; False if one of that name exists already."""
        try:
            with self.begin() as conn:
                conn.execute(
                    insert(integrations).values(
                        name=name,
                        token_hash=token_hash,
                        accounts=accounts,
                        hmac_secret=hmac_secret,
                        created_at=now(),
                    )
                )
        except IntegrityError:
            return False
        return True

    def remove_integration(self, name: str) -> bool:
        with self.begin() as conn:
            return bool(conn.execute(delete(integrations).where(integrations.c.name == name)).rowcount)

    def integration(self, name: str) -> Integration | None:
        with self.begin() as conn:
            row = conn.execute(select(integrations).where(integrations.c.name == name)).mappings().first()
        return Integration(**row) if row else None

    def integration_by_token(self, token_hash: str) -> Integration | None:
        with self.begin() as conn:
            row = (
                conn.execute(select(integrations).where(integrations.c.token_hash == token_hash))
                .mappings()
                .first()
            )
        return Integration(**row) if row else None

    def integrations(self) -> list[Integration]:
        with self.begin() as conn:
            rows = conn.execute(select(integrations).order_by(integrations.c.name)).mappings().all()
        return [Integration(**r) for r in rows]

    # --- webhook signatures ---------------------------------------------------------
    def first_sighting(self, signature: str, tolerance: int) -> bool:
        """Records a webhook signature; False if it was seen before (a replay). Signatures older
        than the tolerance are forgotten: their timestamp makes them stale anyway."""
        with self.begin() as conn:
            conn.execute(delete(signatures).where(signatures.c.seen_at < now() - 2 * tolerance))
        try:
            with self.begin() as conn:
                conn.execute(insert(signatures).values(signature=signature, seen_at=now()))
        except IntegrityError:
            return False
        return True

    # --- jobs -----------------------------------------------------------------------
    def submit(
        self,
        *,
        deployment: str,
        integration: str,
        account: str,
        action: str,
        journey: str,
        params: dict[str, Any],
        body_hash: str,
        idem_scope: str,
        idem_key: str,
    ) -> tuple[Job, bool]:
        """Records a write as a queued job, or finds the job its idempotency key names already:
        (the job, whether it is new)."""
        stamp = now()
        try:
            with self.begin() as conn:
                conn.execute(
                    insert(jobs).values(
                        id=str(uuid.uuid4()),
                        deployment=deployment,
                        integration=integration,
                        account=account,
                        action=action,
                        journey=journey,
                        params=params,
                        body_hash=body_hash,
                        idem_scope=idem_scope,
                        idem_key=idem_key,
                        state=QUEUED,
                        txs=[],
                        attempts=0,
                        next_try_at=0,
                        created_at=stamp,
                        updated_at=stamp,
                    )
                )
            new = True
        except IntegrityError:
            new = False
        job = self.job_by_key(deployment, idem_scope, idem_key)
        assert job is not None  # inserted, or there already
        return job, new

    def job_by_key(self, deployment: str, scope: str, key: str) -> Job | None:
        c = jobs.c
        where = and_(c.deployment == deployment, c.idem_scope == scope, c.idem_key == key)
        with self.begin() as conn:
            row = conn.execute(select(jobs).where(where)).mappings().first()
        return Job(**row) if row else None

    def job(self, job_id: str) -> Job | None:
        with self.begin() as conn:
            row = conn.execute(select(jobs).where(jobs.c.id == job_id)).mappings().first()
        return Job(**row) if row else None

    def jobs(self, deployment: str, state: str | None = None, limit: int = 100) -> list[Job]:
        query = select(jobs).where(jobs.c.deployment == deployment)
        if state:
            query = query.where(jobs.c.state == state)
        with self.begin() as conn:
            rows = conn.execute(query.order_by(jobs.c.seq.desc()).limit(limit)).mappings().all()
        return [Job(**r) for r in rows]

    def unfinished(self, deployment: str) -> list[Job]:
        """Every job not final yet, oldest first."""
        query = select(jobs).where(and_(jobs.c.deployment == deployment, jobs.c.state.in_((QUEUED, SENT))))
        with self.begin() as conn:
            rows = conn.execute(query.order_by(jobs.c.seq)).mappings().all()
        return [Job(**r) for r in rows]

    def update_job(self, job_id: str, **values: Any) -> None:
        with self.begin() as conn:
            conn.execute(update(jobs).where(jobs.c.id == job_id).values(updated_at=now(), **values))

    def record_tx(self, job_id: str, tx_hash: str, raw: str) -> None:
        """Adds a signed transaction to its job (state sent), before it is broadcast."""
        with self.begin() as conn:
            row = conn.execute(select(jobs.c.txs).where(jobs.c.id == job_id)).first()
            txs = list(row[0]) if row else []
            if not any(t["hash"] == tx_hash for t in txs):
                txs.append({"hash": tx_hash, "raw": raw})
            conn.execute(
                update(jobs).where(jobs.c.id == job_id).values(txs=txs, state=SENT, updated_at=now())
            )

    # --- subscriptions and the outbox ---------------------------------------------------
    def add_subscription(self, integration: str, url: str, kinds: list[str], secret: str) -> str:
        sid = str(uuid.uuid4())
        with self.begin() as conn:
            conn.execute(
                insert(subscriptions).values(
                    id=sid, integration=integration, url=url, kinds=kinds, secret=secret, created_at=now()
                )
            )
        return sid

    def subscriptions(self, integration: str | None = None) -> list[dict[str, Any]]:
        query = select(subscriptions)
        if integration is not None:
            query = query.where(subscriptions.c.integration == integration)
        with self.begin() as conn:
            return [dict(r) for r in conn.execute(query.order_by(subscriptions.c.created_at)).mappings()]

    def subscription(self, sid: str) -> dict[str, Any] | None:
        with self.begin() as conn:
            row = conn.execute(select(subscriptions).where(subscriptions.c.id == sid)).mappings().first()
        return dict(row) if row else None

    def remove_subscription(self, sid: str) -> None:
        with self.begin() as conn:
            conn.execute(delete(subscriptions).where(subscriptions.c.id == sid))

    def enqueue(self, kind: str, event_key: str, payload: dict[str, Any]) -> int:
        """Puts a notification in the outbox of every subscription that wants its kind, once per
        (subscription, event key); returns how many were added."""
        added = 0
        for sub in self.subscriptions():
            if kind not in sub["kinds"]:
                continue
            try:
                with self.begin() as conn:
                    conn.execute(
                        insert(outbox).values(
                            subscription=sub["id"],
                            kind=kind,
                            event_key=event_key,
                            payload=payload,
                            state="pending",
                            attempts=0,
                            next_attempt_at=0,
                            created_at=now(),
                        )
                    )
                added += 1
            except IntegrityError:
                continue  # this notification is in the outbox already
        return added

    def due_deliveries(self, at: float, limit: int = 50) -> list[dict[str, Any]]:
        c = outbox.c
        query = select(outbox).where(and_(c.state == "pending", c.next_attempt_at <= at)).order_by(c.id)
        with self.begin() as conn:
            return [dict(r) for r in conn.execute(query.limit(limit)).mappings()]

    def deliveries(self, sid: str) -> list[dict[str, Any]]:
        query = select(outbox).where(outbox.c.subscription == sid).order_by(outbox.c.id)
        with self.begin() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def update_delivery(self, delivery: int, **values: Any) -> None:
        with self.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.id == delivery).values(**values))

    # --- cursors --------------------------------------------------------------------
    def cursor(self, name: str, default: int) -> int:
        with self.begin() as conn:
            row = conn.execute(select(cursors.c.value).where(cursors.c.name == name)).first()
        return int(row[0]) if row else default

    def set_cursor(self, name: str, value: int) -> None:
        with self.begin() as conn:
            done = conn.execute(update(cursors).where(cursors.c.name == name).values(value=value)).rowcount
            if not done:
                conn.execute(insert(cursors).values(name=name, value=value))


def _engine(url: str) -> Engine:
    if url.startswith(("postgresql://", "postgres://")):  # psycopg 3, the driver installed
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if not url.startswith("sqlite"):
        try:
            return create_engine(url, pool_pre_ping=True)
        except ImportError as exc:
            raise ConfigError(
                f"the database {_redacted(url)} needs a driver that is not installed ({exc.name}): "
                "for PostgreSQL, pip install 'psycopg[binary]'"
            ) from None
        except ArgumentError:
            raise ConfigError(
                f"{_redacted(url)} is not a database URL (sqlite:///PATH or postgresql://USER@HOST/DB)"
            ) from None
    path = url.removeprefix("sqlite:///")
    if path and path != url and not path.startswith(":memory:"):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        private_file(Path(path))  # 0600: it holds the webhook secrets
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    return engine


def _redacted(url: str) -> str:
    """A database URL without its password, for sentences."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(url)


def dumps(value: Any) -> str:
    """Canonical JSON (sorted keys, no spaces): what body hashes are taken over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
