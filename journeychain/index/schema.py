"""The index's tables (SQLAlchemy Core) and its versioned migrations.

Migrations are a small versioned table, `schema_version`, applied when the index opens: each
entry of MIGRATIONS brings the schema from one version to the next inside one transaction, and
the table records every version applied. Alembic would add a dependency, a migrations folder
and an environment script for what is, here, a handful of tables that only this package writes
and that can always be rebuilt from the chain; the versioned table runs the same on SQLite and
PostgreSQL and needs nothing but SQLAlchemy.

Amounts of tokens (up to 2^256 - 1 units) are kept as decimal text: no SQL integer type of
both databases holds them. Every journey row is a fold of that journey's rows in `events`,
which hold each decoded log as JSON: a reorganisation deletes the events of the removed
blocks and folds the journeys they touched again.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
)

metadata = MetaData()

#: Text wide enough for an address, a 32-byte id in hex or a block hash.
HEX = 66
#: Decimal text of any uint256.
AMOUNT = 80

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("applied_at", BigInteger, nullable=False),
)

#: Settings of the index: which deployment it holds, its confirmations.
meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

#: The last block indexed (one row, id 1) and its hash.
cursor = Table(
    "cursor",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("block", BigInteger, nullable=False),
    Column("hash", String(HEX), nullable=False),
)

#: Hashes of recently indexed blocks (range ends and blocks with events), to find where a
#: reorganisation forked off; older ones are pruned.
blocks = Table(
    "blocks",
    metadata,
    Column("number", BigInteger, primary_key=True),
    Column("hash", String(HEX), nullable=False),
    Column("time", BigInteger, nullable=False),
)

#: Every decoded log of the contracts, in chain order.
events = Table(
    "events",
    metadata,
    Column("block", BigInteger, primary_key=True),
    Column("log_index", Integer, primary_key=True),
    Column("block_hash", String(HEX), nullable=False),
    Column("tx", String(HEX), nullable=False),
    Column("name", String(40), nullable=False),
    Column("address", String(42), nullable=False),
    Column("journey_id", String(HEX), nullable=True),
    Column("time", BigInteger, nullable=False),
    Column("args", Text, nullable=False),
    Index("events_journey", "journey_id", "block", "log_index"),
)

playbooks = Table(
    "playbooks",
    metadata,
    Column("playbook_id", Integer, primary_key=True),
    Column("name", String(64), nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("steps", Text, nullable=False),  # JSON: the published steps
    Column("options", Text, nullable=False),  # JSON: commit step, funding gate, windows
    Column("block", BigInteger, nullable=False),
)

organisations = Table(
    "organisations",
    metadata,
    Column("org", Integer, primary_key=True),
    Column("name", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("block", BigInteger, nullable=False),
)

participants = Table(
    "participants",
    metadata,
    Column("account", String(42), primary_key=True),
    Column("participant_id", BigInteger, nullable=True),
    Column("org", Integer, nullable=True),
    Column("block", BigInteger, nullable=False),
)

#: Where each journey stands (the engine's `journey`, `ownerOf`, `journeyCommitments` and
#: `stepAtRisk` views, folded from its events) and its settlement figures.
journeys = Table(
    "journeys",
    metadata,
    Column("journey_id", String(HEX), primary_key=True),
    Column("playbook_id", Integer, nullable=False),
    Column("step", Integer, nullable=False),
    Column("step_name", String(64), nullable=True),
    Column("status", String(20), nullable=False),
    Column("assignee", String(42), nullable=True),
    Column("org", Integer, nullable=True),
    Column("deadline", BigInteger, nullable=False),
    Column("breached_steps", String(64), nullable=False),  # JSON list
    Column("flagged", Boolean, nullable=False),
    Column("pool", String(AMOUNT), nullable=False),
    Column("funder", String(42), nullable=True),
    Column("customer", String(34), nullable=False),
    Column("head", String(42), nullable=False),
    Column("warn_at", BigInteger, nullable=True),
    Column("waiting", Boolean, nullable=False),  # the step waits for its pool: never at risk
    Column("opener", String(42), nullable=False),
    Column("opened_block", BigInteger, nullable=False),
    Column("opened_log", Integer, nullable=False),
    Column("opened_at", BigInteger, nullable=False),
    Column("funded", String(AMOUNT), nullable=False),  # the pool as funded, kept after settlement
    Column("forfeited", String(AMOUNT), nullable=False),
    Column("remainder", String(AMOUNT), nullable=False),
    Column("refund", String(AMOUNT), nullable=False),
    Column("updated_block", BigInteger, nullable=False),
    Index("journeys_opened", "opened_block", "opened_log"),
    Index("journeys_status", "status", "playbook_id"),
    Index("journeys_owner", "assignee", "org"),
)

#: Each playbook step of each journey: who completed it, when, on time or not, paid what.
steps = Table(
    "steps",
    metadata,
    Column("journey_id", String(HEX), primary_key=True),
    Column("step", Integer, primary_key=True),
    Column("name", String(64), nullable=False),
    Column("role", String(66), nullable=False),
    Column("sla_type", String(8), nullable=False),
    Column("by", String(42), nullable=True),
    Column("started_at", BigInteger, nullable=True),
    Column("completed_at", BigInteger, nullable=True),
    Column("deadline", BigInteger, nullable=True),
    Column("late", Boolean, nullable=False),
    Column("late_by", BigInteger, nullable=True),
    Column("breached", Boolean, nullable=False),
    Column("escalated", Integer, nullable=False),
    Column("paused", Integer, nullable=False),
    Column("disputed", Boolean, nullable=False),
    Column("dispute_upheld", Boolean, nullable=True),
    Column("evidence", String(HEX), nullable=True),
    Index("steps_by", "by"),
    Index("steps_completed", "completed_at"),
)

breaches = Table(
    "breaches",
    metadata,
    Column("block", BigInteger, primary_key=True),
    Column("log_index", Integer, primary_key=True),
    Column("journey_id", String(HEX), nullable=False),
    Column("step", Integer, nullable=False),
    Column("step_name", String(64), nullable=False),
    Column("role", String(66), nullable=False),
    Column("sla_type", String(8), nullable=False),
    Column("assignee", String(42), nullable=True),
    Column("org", Integer, nullable=True),
    Column("deadline", BigInteger, nullable=False),
    Column("time", BigInteger, nullable=False),
    Column("tx", String(HEX), nullable=False),
    Index("breaches_journey", "journey_id"),
)

#: What each step's owner was credited when value was confirmed (the last step: the customer).
payouts = Table(
    "payouts",
    metadata,
    Column("journey_id", String(HEX), primary_key=True),
    Column("step", Integer, primary_key=True),
    Column("owner", String(42), nullable=True),
    Column("amount", String(AMOUNT), nullable=False),
    Column("penalty", String(AMOUNT), nullable=False),
    Column("customer", Boolean, nullable=False),
    Column("time", BigInteger, nullable=False),
    Column("block", BigInteger, nullable=False),
)

claims = Table(
    "claims",
    metadata,
    Column("block", BigInteger, primary_key=True),
    Column("log_index", Integer, primary_key=True),
    Column("account", String(42), nullable=False),
    Column("amount", String(AMOUNT), nullable=False),
    Column("time", BigInteger, nullable=False),
    Column("tx", String(HEX), nullable=False),
)

ratings = Table(
    "ratings",
    metadata,
    Column("journey_id", String(HEX), primary_key=True),
    Column("step", Integer, primary_key=True),
    Column("owner", String(42), nullable=False),
    Column("score", Integer, nullable=False),
    Column("time", BigInteger, nullable=False),
    Column("block", BigInteger, nullable=False),
)

#: The tables folded from a journey's events, deleted and written again whenever they change.
JOURNEY_TABLES = (journeys, steps, breaches, payouts, ratings)


def _create_v1(conn: Connection) -> None:
    metadata.create_all(conn)


#: Version n is reached by MIGRATIONS[n - 1].
MIGRATIONS: tuple[Callable[[Connection], None], ...] = (_create_v1,)
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: Connection) -> int:
    """Applies every migration the database has not had yet; returns the schema's version."""
    schema_version.create(conn, checkfirst=True)
    current = conn.execute(select(schema_version.c.version).order_by(schema_version.c.version.desc())).first()
    version = int(current[0]) if current else 0
    for number in range(version + 1, SCHEMA_VERSION + 1):
        MIGRATIONS[number - 1](conn)
        conn.execute(insert(schema_version).values(version=number, applied_at=int(time.time())))
    return max(version, SCHEMA_VERSION)
