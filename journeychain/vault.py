"""The evidence vault: the values and salts behind every commitment the user made.

The chain sees salted commitments only; the values and salts stay here, in SQLite at
$JOURNEY_HOME/vault.sqlite, readable by its owner only (0600, in a 0700 folder). A step's
evidence is written in one transaction before its transaction is sent (pending), and marked
confirmed once the chain has it, so that a crash between the two loses nothing: `reconcile`
settles pending rows against the chain later.
The customer's dispute reasons and rating comments are kept the same way (`statements`).
Every row is kept under its deployment (the chain id, and the engine's address with the hash of
the deployment's first block, `DeploymentKey`): a recreated local chain starts clean, and the
records of the deployment before it stay, under their own key. A vault written before rows were
keyed is migrated in place: its rows keep their chain id under the empty deployment, readable
where a deployment has no row of its own, never blocking a new deployment's step.
`prove` discloses one field and checks it against the chain, `prove_statement` one
statement; `forget` erases a customer's values, texts and salts, leaving the chain only
meaningless commitments.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from web3.exceptions import TransactionNotFound

from journeychain.chain import journey_home, private_file
from journeychain.deployments import DeploymentKey
from journeychain.encoding import (
    commit,
    evidence_hash,
    field_pairs,
    journey_id,
    new_salt,
    rolling_head,
    short_name,
)
from journeychain.errors import ConfigError, EvidenceError, JourneyError
from journeychain.timeline import RpcCall, call_once, fetch_events, hexstr

#: The tables, keyed by chain id and deployment ('' for rows written before rows were keyed).
TABLES = {
    "evidence": """
CREATE TABLE IF NOT EXISTS evidence (
    chain_id    INTEGER NOT NULL,
    deployment  TEXT    NOT NULL DEFAULT '',
    journey     TEXT    NOT NULL,
    step        INTEGER NOT NULL,
    position    INTEGER NOT NULL,
    field       TEXT    NOT NULL,
    value       TEXT,
    salt        TEXT,
    commitment  TEXT    NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'pending',
    tx_hash     TEXT,
    block       INTEGER,
    created_at  INTEGER NOT NULL,
    erased_at   INTEGER,
    PRIMARY KEY (chain_id, deployment, journey, step, field)
)""",
    "journeys": """
CREATE TABLE IF NOT EXISTS journeys (
    chain_id    INTEGER NOT NULL,
    deployment  TEXT    NOT NULL DEFAULT '',
    journey     TEXT    NOT NULL,
    reference   TEXT,
    customer    TEXT,
    PRIMARY KEY (chain_id, deployment, journey)
)""",
    "statements": """
CREATE TABLE IF NOT EXISTS statements (
    chain_id    INTEGER NOT NULL,
    deployment  TEXT    NOT NULL DEFAULT '',
    journey     TEXT    NOT NULL,
    step        INTEGER NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('dispute_reason', 'rating_comment', 'reply_message')),
    text        TEXT,
    salt        TEXT,
    commitment  TEXT    NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'pending',
    tx_hash     TEXT,
    block       INTEGER,
    created_at  INTEGER NOT NULL,
    erased_at   INTEGER,
    PRIMARY KEY (chain_id, deployment, journey, step, kind)
)""",
}
INDEXES = ("CREATE INDEX IF NOT EXISTS journeys_customer ON journeys (customer)",)
#: The vault's layout (PRAGMA user_version): 2 keys every row by its deployment; 3 keeps the
#: customer's replies to paused steps among the statements.
LAYOUT = 3

#: Which rows a method reads or writes: a deployment's (its key), or, given a chain id alone,
#: the rows written without a deployment (writing) and any deployment's on that chain (reading).
Where = int | DeploymentKey


def _where(deployment: Where) -> tuple[int, str]:
    """(chain id, deployment tag) to write under."""
    if isinstance(deployment, DeploymentKey):
        return deployment.chain_id, deployment.tag
    return int(deployment), ""


# A customer's statement: the event that carries its commitment, and that event's argument.
STATEMENTS = {
    "dispute_reason": ("Disputed", "reason"),
    "rating_comment": ("Rated", "comment"),
    "reply_message": ("CustomerReplied", "message"),
}


class ProofError(JourneyError):
    """A field could not be proven against the chain (missing, erased, tampered or mismatched)."""


def _jid(journey: bytes | str) -> bytes:
    return bytes(journey) if isinstance(journey, bytes | bytearray) else journey_id(journey)


@dataclass(frozen=True)
class StepEvidence:
    """A step's fields as sent: keys and commitments in the order given, salts kept in the vault."""

    chain_id: int
    journey: bytes
    step: int
    fields: tuple[str, ...]
    keys: tuple[bytes, ...]
    commitments: tuple[bytes, ...]
    values: tuple[str, ...] = ()
    salts: tuple[bytes, ...] = ()
    #: The deployment the rows are kept under ('' for none).
    deployment: str = ""

    @property
    def pairs(self) -> list[tuple[bytes, bytes]]:
        """The fields as `completeStep` takes them: (key, commitment) pairs, in the order given."""
        return list(zip(self.keys, self.commitments, strict=True))

    @property
    def evidence(self) -> bytes:
        """The step's evidence hash, as the engine folds it into the rolling hash."""
        return evidence_hash(self.pairs)


@dataclass(frozen=True)
class Statement:
    """A customer's dispute reason or rating comment as sent: its commitment goes on chain,
    its text and salt stay in the vault."""

    chain_id: int
    journey: bytes
    step: int
    kind: str
    text: str
    salt: bytes
    commitment: bytes
    deployment: str = ""


@dataclass(frozen=True)
class Proof:
    """One disclosed field, shown to match the chain: `checked` names the one commitment
    checked (the field, its bytes32 key, the step and the commitment)."""

    journey: str
    step: int
    field: str
    value: str
    salt: str
    commitment: str
    evidence: str
    tx: str
    block: int
    head: str
    key: str = ""
    checked: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class StatementProof:
    """One disclosed statement, shown to match the commitment its event carries on chain."""

    journey: str
    step: int
    kind: str
    text: str
    salt: str
    commitment: str
    event: str
    tx: str
    block: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _unusable(path: Path, exc: sqlite3.DatabaseError) -> ConfigError:
    """The sentence for a vault file SQLite cannot use: locked, unreadable, or no database."""
    if isinstance(exc, sqlite3.OperationalError):
        return ConfigError(f"cannot open the evidence vault {path}: {exc}")
    return ConfigError(
        f"{path} is not an evidence vault ({exc}): it is left as it is; restore it from a backup "
        "or move it aside"
    )


def _lay_out(db: sqlite3.Connection) -> None:
    """Creates the tables, or migrates a vault written before rows were keyed by deployment: each
    old table's rows are copied, whole, under the empty deployment of their chain id (readable,
    blocking no deployment's step), in the transaction the caller holds."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version >= LAYOUT:
        return
    if version == 2:
        _widen_statements(db)
        db.execute(f"PRAGMA user_version = {LAYOUT}")
        return
    old = []
    for table in TABLES:
        columns = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]  # a fixed name, never input
        if columns and "deployment" not in columns:
            db.execute(f"ALTER TABLE {table} RENAME TO {table}_unkeyed")
            old.append((table, columns))
    db.execute("DROP INDEX IF EXISTS journeys_customer")  # it went along with the renamed table
    for create in TABLES.values():
        db.execute(create)
    for create in INDEXES:
        db.execute(create)
    for table, columns in old:
        names = ", ".join(columns)
        db.execute(f"INSERT INTO {table} (deployment, {names}) SELECT '', {names} FROM {table}_unkeyed")
        db.execute(f"DROP TABLE {table}_unkeyed")
    db.execute(f"PRAGMA user_version = {LAYOUT}")


def _widen_statements(db: sqlite3.Connection) -> None:
    """Rebuilds a layout-2 vault's statements table under today's check of their kinds, every
    row copied whole, in the transaction the caller holds."""
    columns = ", ".join(r[1] for r in db.execute("PRAGMA table_info(statements)"))  # fixed names
    db.execute("ALTER TABLE statements RENAME TO statements_narrow")
    db.execute(TABLES["statements"])
    db.execute(f"INSERT INTO statements ({columns}) SELECT {columns} FROM statements_narrow")
    db.execute("DROP TABLE statements_narrow")


def _kind(kind: str) -> tuple[str, str]:
    if kind not in STATEMENTS:
        raise ConfigError(f"unknown statement {kind!r} (one of {', '.join(STATEMENTS)})")
    return STATEMENTS[kind]


class Vault:
    """The SQLite store of values and salts. One per $JOURNEY_HOME (or an explicit path)."""

    def __init__(self, path: str | Path | None = None, confirmations: int | None = None):
        self.path = Path(path) if path else journey_home() / "vault.sqlite"
        #: blocks on top of a step's own (its block included) before its evidence is confirmed;
        #: 0 confirms at the receipt. Default: $JOURNEY_CONFIRMATIONS, else 0.
        self.confirmations = (
            confirmations if confirmations is not None else int(os.environ.get("JOURNEY_CONFIRMATIONS") or 0)
        )
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # 0600 before SQLite opens it: SQLite gives its -wal and -shm files the database's mode
        private_file(self.path)
        self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        try:
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            for companion in ("-wal", "-shm"):
                extra = self.path.with_name(self.path.name + companion)
                if extra.exists():
                    private_file(extra)
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA secure_delete=ON")
            with self._transaction() as db:
                _lay_out(db)
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise _unusable(self.path, exc) from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # --- writing -------------------------------------------------------------------
    def register_journey(
        self,
        deployment: Where,
        journey: bytes | str,
        reference: str | None = None,
        customer: str | None = None,
    ) -> None:
        """Remember which customer (any reference the user knows them by) a journey belongs to."""
        jid = _jid(journey)
        if reference is None and isinstance(journey, str) and not journey.startswith("0x"):
            reference = journey
        with self._transaction() as db:
            db.execute(
                "INSERT INTO journeys (chain_id, deployment, journey, reference, customer) "
                "VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (chain_id, deployment, journey) DO UPDATE SET "
                "reference = COALESCE(excluded.reference, reference), "
                "customer = COALESCE(excluded.customer, customer)",
                (*_where(deployment), hexstr(jid), reference, customer),
            )

    def prepare_step(
        self, deployment: Where, journey: bytes | str, step: int, fields: Mapping[str, str]
    ) -> StepEvidence:
        """Salt and commit each field and write them all, pending, in one transaction; the
        caller sends the returned keys and commitments, then calls `confirm` (or `discard`
        if the chain refused). A pending step left over is replaced; a confirmed one of the same
        deployment is refused (another deployment's, on a recreated chain, stays as it is)."""
        jid = _jid(journey)
        chain_id, tag = _where(deployment)
        names = tuple(fields)
        keys = tuple(short_name(n) for n in names)
        salts = [new_salt() for _ in names]
        commitments = tuple(commit(str(fields[n]), s) for n, s in zip(names, salts, strict=True))
        now = int(time.time())
        key = (chain_id, tag, hexstr(jid), step)
        with self._transaction() as db:
            done = db.execute(
                f"SELECT status, block FROM evidence WHERE {_STEP} AND status IN ('confirmed', 'mined')",
                key,
            ).fetchone()
            if done and done["status"] == "confirmed":
                raise ConfigError(
                    f"step {step} of journey {hexstr(jid)} has confirmed evidence in the vault (if its "
                    "block was lost, `journey reconcile` puts it back to pending)"
                )
            if done:
                raise ConfigError(
                    f"step {step} of journey {hexstr(jid)} has evidence mined in block {done['block']}, "
                    "waiting for its confirmations: `journey reconcile` settles it"
                )
            db.execute(f"DELETE FROM evidence WHERE {_STEP}", key)
            db.executemany(
                "INSERT INTO evidence (chain_id, deployment, journey, step, position, field, value, salt, "
                "commitment, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)",
                [
                    (*key, i, n, str(fields[n]), hexstr(s), hexstr(c), now)
                    for i, (n, s, c) in enumerate(zip(names, salts, commitments, strict=True))
                ],
            )
        values = tuple(str(fields[n]) for n in names)
        return StepEvidence(chain_id, jid, step, names, keys, commitments, values, tuple(salts), tag)

    def confirm(self, evidence: StepEvidence, tx_hash: bytes | str, block: int | None = None) -> None:
        """Mark a step's evidence as on chain (its transaction succeeded): confirmed at once when the
        vault asks no confirmations, else mined (in `block`) until `reconcile` counts them."""
        status = "confirmed" if self.confirmations <= 0 or block is None else "mined"
        with self._transaction() as db:
            db.execute(
                f"UPDATE evidence SET status = ?, tx_hash = ?, block = ? WHERE {_STEP}",
                (status, hexstr(tx_hash), block, *_evidence_key(evidence)),
            )

    def discard(self, evidence: StepEvidence) -> None:
        """Drop a pending step's evidence (the chain refused the step)."""
        with self._transaction() as db:
            db.execute(f"DELETE FROM evidence WHERE {_STEP} AND status = 'pending'", _evidence_key(evidence))

    def prepare_statement(
        self, deployment: Where, journey: bytes | str, step: int, kind: str, text: str
    ) -> Statement:
        """Salt and commit a dispute reason or rating comment and write it, pending; the caller
        sends the returned commitment, then calls `confirm_statement` (or `discard_statement`
        if the chain refused). A pending statement left over is replaced."""
        _kind(kind)
        jid = _jid(journey)
        chain_id, tag = _where(deployment)
        salt = new_salt()
        commitment = commit(str(text), salt)
        key = (chain_id, tag, hexstr(jid), step, kind)
        with self._transaction() as db:
            done = db.execute(
                f"SELECT status, block FROM statements WHERE {_STATEMENT} "
                "AND status IN ('confirmed', 'mined')",
                key,
            ).fetchone()
            if done and done["status"] == "confirmed":
                raise ConfigError(
                    f"the {kind} of step {step} of journey {hexstr(jid)} is confirmed in the vault"
                )
            if done:
                raise ConfigError(
                    f"the {kind} of step {step} of journey {hexstr(jid)} was mined in block "
                    f"{done['block']}, waiting for its confirmations: `journey reconcile` settles it"
                )
            db.execute(f"DELETE FROM statements WHERE {_STATEMENT}", key)
            db.execute(
                "INSERT INTO statements (chain_id, deployment, journey, step, kind, text, salt, commitment, "
                "status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)",
                (*key, str(text), hexstr(salt), hexstr(commitment), int(time.time())),
            )
        return Statement(chain_id, jid, step, kind, str(text), salt, commitment, tag)

    def confirm_statement(self, statement: Statement, tx_hash: bytes | str, block: int | None = None) -> None:
        """Mark a statement as on chain (its transaction succeeded), as the one that was sent: its
        own text, salt and commitment are written, whatever another request left pending for the
        same step and kind meanwhile (two requests prepared for one dispute keep the signed one).
        Like step evidence, it is confirmed at once when the vault asks no confirmations, else
        mined (in `block`) until `reconcile` counts them."""
        if commit(statement.text, statement.salt) != statement.commitment:
            raise EvidenceError(
                f"the {statement.kind} given for step {statement.step} does not open its commitment"
            )
        key = _statement_key(statement)
        status = "confirmed" if self.confirmations <= 0 or block is None else "mined"
        kept = (
            statement.text,
            hexstr(statement.salt),
            hexstr(statement.commitment),
            status,
            hexstr(tx_hash),
            block,
        )
        with self._transaction() as db:
            updated = db.execute(
                "UPDATE statements SET text = ?, salt = ?, commitment = ?, status = ?, "
                f"tx_hash = ?, block = ? WHERE {_STATEMENT}",
                (*kept, *key),
            ).rowcount
            if not updated:
                db.execute(
                    "INSERT INTO statements (chain_id, deployment, journey, step, kind, text, salt, "
                    "commitment, status, tx_hash, block, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (*key, *kept, int(time.time())),
                )

    def discard_statement(self, statement: Statement) -> None:
        """Drop a pending statement (the chain refused it)."""
        with self._transaction() as db:
            db.execute(
                f"DELETE FROM statements WHERE {_STATEMENT} AND status = 'pending'",
                _statement_key(statement),
            )

    def pending(self, deployment: Where) -> list[tuple[str, int]]:
        """The (journey, step) of each step whose evidence is pending: the deployment's, or, given a
        chain id, any deployment's on that chain."""
        scope, args = _scope(deployment, legacy=False)
        rows = self._db.execute(
            f"SELECT DISTINCT journey, step FROM evidence WHERE status = 'pending'{scope}", args
        ).fetchall()
        return [(r["journey"], r["step"]) for r in rows]

    def pending_statements(self, deployment: Where) -> list[tuple[str, int, str]]:
        scope, args = _scope(deployment, legacy=False)
        rows = self._db.execute(
            f"SELECT journey, step, kind FROM statements WHERE status = 'pending'{scope}", args
        ).fetchall()
        return [(r["journey"], r["step"], r["kind"]) for r in rows]

    def reconcile(
        self,
        w3,
        engine,
        from_block: int = 0,
        call: RpcCall = call_once,
        voice=None,
        deployment: DeploymentKey | None = None,
    ) -> dict[str, int]:
        """Settle pending rows left by a crash between sending and recording. Step evidence is
        confirmed when the chain has a StepCompleted with the same commitments, dropped when the
        step was completed with other evidence. A dispute reason (the engine's Disputed event) or
        a rating comment (the voice's Rated event; `voice` needed) is confirmed when the step's
        event carries its commitment, dropped when it carries another. Rows with no event yet
        stay pending. Only the rows of `deployment` (with those written before rows were keyed)
        are settled; without it, those of any deployment of `engine`'s address.

        First, step evidence and statements mined or confirmed in the last REORG_DEPTH blocks (or
        beyond the chain's head) are checked against their transaction's receipt: gone (a lost block, a chain
        reorganised or restarted from an older state) puts it back to pending ("reopened"), to be
        settled as any pending row is; mined with the vault's confirmations reached becomes
        confirmed, else stays mined. Returns the counts."""
        chain_id = int(call(lambda: w3.eth.chain_id))
        counts = {"confirmed": 0, "dropped": 0, "pending": 0, "reopened": 0, "mined": 0}
        tags = self._reconcilable(chain_id, engine.address, deployment)
        self._recheck_recent(w3, chain_id, tags, call, counts)
        for tag, journey, step in self._pending_rows("evidence", chain_id, tags):
            rows = self._rows(chain_id, tag, journey, step)
            commitments = {r["commitment"] for r in rows}
            match = _step_events(
                w3, engine, "StepCompleted", bytes.fromhex(journey[2:]), step, from_block, call
            )
            if not match:
                counts["pending"] += 1
                continue
            ev = match[0]
            key: tuple[int | str, ...] = (chain_id, tag, journey, step)
            if commitments <= {hexstr(c) for _, c in field_pairs(ev.args["fields"])}:
                self._settle("evidence", "", key, ev.tx, ev.block)
                counts["confirmed"] += 1
            else:
                self._settle("evidence", "", key, None, None)
                counts["dropped"] += 1
        for tag, journey, step, kind in self._pending_rows("statements", chain_id, tags):
            event_name, argument = STATEMENTS[kind]
            source = engine if event_name == "Disputed" else voice
            if source is None:
                counts["pending"] += 1
                continue
            match = _step_events(w3, source, event_name, bytes.fromhex(journey[2:]), step, from_block, call)
            if not match:
                counts["pending"] += 1
                continue
            key = (chain_id, tag, journey, step, kind)
            row = self._db.execute(f"SELECT commitment FROM statements WHERE {_STATEMENT}", key).fetchone()
            ours = [e for e in match if hexstr(bytes(e.args[argument])) == row["commitment"]]
            if ours:
                self._settle("statements", " AND kind = ?", key, ours[0].tx, ours[0].block)
                counts["confirmed"] += 1
            else:
                self._settle("statements", " AND kind = ?", key, None, None)
                counts["dropped"] += 1
        return counts

    def _recheck_recent(
        self, w3: Any, chain_id: int, tags: list[str], call: RpcCall, counts: dict[str, int]
    ) -> None:
        """Mined and recently confirmed step evidence and statements against the chain (see
        `reconcile`)."""
        head = int(call(lambda: w3.eth.block_number))
        marks = ", ".join("?" for _ in tags)
        recent = (
            f"WHERE chain_id = ? AND deployment IN ({marks}) AND tx_hash IS NOT NULL AND ("
            "status = 'mined' OR (status = 'confirmed' AND block > ?))"
        )
        args = (chain_id, *tags, head - REORG_DEPTH)
        rows: list[tuple[Literal["evidence", "statements"], tuple[Any, ...], sqlite3.Row]] = [
            ("evidence", (chain_id, r["deployment"], r["journey"], r["step"]), r)
            for r in self._db.execute(
                f"SELECT DISTINCT deployment, journey, step, status, tx_hash, block FROM evidence {recent}",
                args,
            ).fetchall()
        ]
        rows += [
            ("statements", (chain_id, r["deployment"], r["journey"], r["step"], r["kind"]), r)
            for r in self._db.execute(
                f"SELECT deployment, journey, step, kind, status, tx_hash, block FROM statements {recent}",
                args,
            ).fetchall()
        ]
        for table, key, row in rows:
            tx: str = row["tx_hash"]

            def lookup(tx: str = tx) -> Any:
                return _receipt(w3, tx)

            receipt = call(lookup)
            if receipt is None or int(receipt["status"]) != 1:
                self._set_status(table, key, "pending", None, None)
                counts["reopened"] += 1
                continue
            block = int(receipt["blockNumber"])
            if head - block + 1 >= self.confirmations:
                self._set_status(table, key, "confirmed", tx, block)
                counts["confirmed"] += row["status"] == "mined"
            else:
                self._set_status(table, key, "mined", tx, block)
                counts["mined"] += 1

    def _set_status(
        self,
        table: Literal["evidence", "statements"],
        key: tuple[Any, ...],
        status: str,
        tx: str | None,
        block: int | None,
    ) -> None:
        where = _STEP if table == "evidence" else _STATEMENT
        with self._transaction() as db:
            db.execute(
                f"UPDATE {table} SET status = ?, tx_hash = ?, block = ? WHERE {where}",
                (status, tx, block, *key),
            )

    def _reconcilable(self, chain_id: int, engine: str, deployment: DeploymentKey | None) -> list[str]:
        """The deployment tags whose pending rows `reconcile` may settle against `engine`."""
        if deployment is not None:
            return [deployment.tag, ""]
        found = self._db.execute(
            "SELECT deployment FROM evidence WHERE chain_id = ? UNION SELECT deployment FROM statements "
            "WHERE chain_id = ?",
            (chain_id, chain_id),
        )
        prefix = f"{engine}@".lower()
        return [t for (t,) in found if t == "" or t.lower().startswith(prefix)]

    def _pending_rows(self, table: Literal["evidence", "statements"], chain_id: int, tags: list[str]) -> list:
        """(tag, journey, step[, kind]) of the pending rows of `table` under `tags`."""
        marks = ", ".join("?" for _ in tags)
        extra = ", kind" if table == "statements" else ""
        rows = self._db.execute(
            f"SELECT DISTINCT deployment, journey, step{extra} FROM {table} "
            f"WHERE chain_id = ? AND status = 'pending' AND deployment IN ({marks})",
            (chain_id, *tags),
        ).fetchall()
        return [tuple(r) for r in rows]

    def _settle(
        self,
        table: Literal["evidence", "statements"],
        kind: Literal["", " AND kind = ?"],
        key: tuple[int | str, ...],
        tx: str | None,
        block: int | None,
    ) -> None:
        """Confirms the pending rows of `key` in `table` with their transaction, or drops them
        (tx None). `table` and `kind` are fixed strings, never input."""
        where = f"WHERE {_STEP}{kind} AND status = 'pending'"
        with self._transaction() as db:
            if tx is None:
                db.execute(f"DELETE FROM {table} {where}", key)
            else:
                db.execute(
                    f"UPDATE {table} SET status = 'confirmed', tx_hash = ?, block = ? {where}",
                    (tx, block, *key),
                )

    # --- reading -------------------------------------------------------------------
    def _rows(self, chain_id: int, tag: str, journey: str, step: int) -> list[sqlite3.Row]:
        return self._db.execute(
            f"SELECT * FROM evidence WHERE {_STEP} ORDER BY position", (chain_id, tag, journey, step)
        ).fetchall()

    def _read_tag(
        self,
        table: Literal["evidence", "statements"],
        deployment: Where,
        journey: str,
        step: int | None = None,
    ) -> tuple[int, str] | None:
        """Whose rows stand for a journey (and step) when reading: the deployment's own, else those
        written before rows were keyed; given a chain id alone, the newest deployment's that has
        any. None when there are none."""
        chain_id = _where(deployment)[0]
        cond, args = "chain_id = ? AND journey = ?", [chain_id, journey]
        if step is not None:
            cond, args = cond + " AND step = ?", [*args, step]
        found = {
            r["deployment"]: r["at"]
            for r in self._db.execute(
                f"SELECT deployment, MAX(created_at) AS at FROM {table} WHERE {cond} GROUP BY deployment",
                args,
            )
        }
        if not isinstance(deployment, DeploymentKey):
            return (chain_id, max(found, key=lambda t: found[t])) if found else None
        for tag in (deployment.tag, ""):
            if tag in found:
                return chain_id, tag
        return None

    def fields(self, deployment: Where, journey: bytes | str, step: int) -> dict[str, str | None]:
        """A step's field values as stored (None where erased)."""
        where = self._read_tag("evidence", deployment, hexstr(_jid(journey)), step)
        if where is None:
            return {}
        return {r["field"]: r["value"] for r in self._rows(*where, hexstr(_jid(journey)), step)}

    def statements(self, deployment: Where, journey: bytes | str) -> list[dict[str, Any]]:
        """A journey's statements as stored (text and salt None where erased), by step and kind."""
        jid = hexstr(_jid(journey))
        where = self._read_tag("statements", deployment, jid)
        if where is None:
            return []
        rows = self._db.execute(
            "SELECT * FROM statements WHERE chain_id = ? AND deployment = ? AND journey = ? "
            "ORDER BY step, kind",
            (*where, jid),
        )
        return [dict(r) for r in rows]

    def journeys(self, deployment: Where | None = None) -> list[dict[str, Any]]:
        """The journeys registered: all, a chain's, or a deployment's (with those registered
        before rows were keyed)."""
        scope, args = ("", ()) if deployment is None else _scope(deployment)
        return [dict(r) for r in self._db.execute(f"SELECT * FROM journeys WHERE 1 = 1{scope}", args)]

    # --- proving -------------------------------------------------------------------
    def prove(
        self,
        w3,
        engine,
        journey: bytes | str,
        step: int,
        field: str,
        from_block: int = 0,
        call: RpcCall = call_once,
        deployment: DeploymentKey | None = None,
    ) -> Proof:
        """Disclose one field of one step and show that it matches the chain: its value and
        salt recompute the commitment the step's StepCompleted event carries for that key, and
        the journey's rolling hash on chain equals the one rebuilt from all its StepCompleted
        events (each step's evidence hash computed from the fields its event carries). The values
        are `deployment`'s (or, where it has none, those kept before rows were keyed); without it,
        the newest deployment's on the chain that holds the step."""
        chain_id = int(call(lambda: w3.eth.chain_id))
        jid = _jid(journey)
        where = f"step {step} of journey {hexstr(jid)}"
        row, tag = self._disclosed(
            "evidence", deployment or chain_id, chain_id, jid, step, ("field", field), f"value for {field} at"
        )
        key = short_name(field)
        held = {
            r["commitment"]
            for r in self._rows(chain_id, tag, hexstr(jid), step)
            if _same_key(r["field"], key)
        }
        if len(held) > 1:
            raise ProofError(
                f"the vault holds {len(held)} different commitments for {field} at {where}: "
                "neither proves the field"
            )
        salt = bytes.fromhex(row["salt"][2:])
        recomputed = commit(row["value"], salt)

        opened = fetch_events(w3, [engine], ["JourneyOpened"], from_block, journey=jid, call=call)
        if not opened:
            raise ProofError(f"journey {hexstr(jid)} was never opened on chain {chain_id}")
        completed = fetch_events(w3, [engine], ["StepCompleted"], from_block, journey=jid, call=call)
        events = {e.args["step"]: e for e in completed}
        ev = events.get(step)
        if ev is None:
            raise ProofError(f"{where} was never completed on chain {chain_id}")

        pairs = field_pairs(ev.args["fields"])
        on_chain = [c for k, c in pairs if k == key]
        if not on_chain:
            raise ProofError(f"{where} carries no commitment for {field}")
        if len(set(on_chain)) > 1:
            raise ProofError(
                f"{where} carries {len(set(on_chain))} different commitments for {field} on chain: "
                "neither proves the field"
            )
        if recomputed not in on_chain:
            raise ProofError(f"value for {field} does not match the chain's commitment at {where}")

        o = opened[0].args
        missing = [i for i in range(len(events)) if i not in events]
        if missing:
            raise ProofError(f"the chain's record of journey {hexstr(jid)} lacks step {missing[0]}")
        done = [
            (i, events[i].args["by"], events[i].args["late"], evidence_hash(events[i].args["fields"]))
            for i in range(len(events))
        ]
        head = rolling_head(jid, o["playbookId"], bytes(o["customer"]), done)
        chain_head = bytes(call(lambda: engine.functions.journeyCommitments(jid).call())[1])
        if head != chain_head:
            raise ProofError(f"the steps of journey {hexstr(jid)} do not match its rolling hash on chain")
        return Proof(
            journey=hexstr(jid),
            step=step,
            field=field,
            value=row["value"],
            salt=row["salt"],
            commitment=hexstr(recomputed),
            evidence=hexstr(evidence_hash(pairs)),
            tx=ev.tx,
            block=ev.block,
            head=hexstr(chain_head),
            key=hexstr(key),
            checked=f"field {field} (key {hexstr(key)}) of {where}: commitment {hexstr(recomputed)}",
        )

    def _disclosed(
        self,
        table: Literal["evidence", "statements"],
        deployment: Where,
        chain_id: int,
        jid: bytes,
        step: int,
        column: tuple[str, str],
        what: str,
    ) -> tuple[sqlite3.Row, str]:
        """The row (and its deployment tag) of a value to disclose: the step's field or statement
        named by `column` (its name and value), refused when absent or erased."""
        where = f"step {step} of journey {hexstr(jid)}"
        kept = self._read_tag(table, deployment, hexstr(jid), step)
        tag = kept[1] if kept else ""
        row = self._db.execute(
            f"SELECT * FROM {table} WHERE {_STEP} AND {column[0]} = ?",
            (chain_id, tag, hexstr(jid), step, column[1]),
        ).fetchone()
        if row is None:
            raise ProofError(f"the vault holds no {what} {where} on chain {chain_id}")
        text = row["value"] if table == "evidence" else row["text"]
        if text is None or row["salt"] is None:
            raise ProofError(f"the {what} {where} was erased from the vault")
        return row, tag

    def prove_statement(
        self,
        w3,
        engine,
        voice,
        journey: bytes | str,
        step: int,
        kind: str,
        from_block: int = 0,
        call: RpcCall = call_once,
        deployment: DeploymentKey | None = None,
    ) -> StatementProof:
        """Disclose the customer's dispute reason or rating comment of one step and show that
        its text and salt recompute the commitment the chain's Disputed event (from the
        engine) or Rated event (from the voice) carries for that step."""
        event_name, argument = _kind(kind)
        chain_id = int(call(lambda: w3.eth.chain_id))
        jid = _jid(journey)
        where = f"step {step} of journey {hexstr(jid)}"
        row, _ = self._disclosed(
            "statements", deployment or chain_id, chain_id, jid, step, ("kind", kind), f"{kind} for"
        )
        recomputed = commit(row["text"], bytes.fromhex(row["salt"][2:]))
        source = engine if event_name == "Disputed" else voice
        match = _step_events(w3, source, event_name, jid, step, from_block, call)
        if not match:
            raise ProofError(f"{where} has no {event_name} event on chain {chain_id}")
        ev = match[0]
        if bytes(ev.args[argument]) != recomputed:
            raise ProofError(f"the {kind} does not match the chain's commitment at {where}")
        return StatementProof(
            journey=hexstr(jid),
            step=step,
            kind=kind,
            text=row["text"],
            salt=row["salt"],
            commitment=hexstr(recomputed),
            event=event_name,
            tx=ev.tx,
            block=ev.block,
        )

    # --- forgetting ----------------------------------------------------------------
    def forget(self, target: str, deployment: Where | None = None, missing_ok: bool = False) -> int:
        """Erase the values, statement texts and salts of every journey of a customer (by the
        reference given to `register_journey`), or of one journey (by its reference or 0x id):
        those of `deployment` and the rows kept before rows were keyed, of any deployment of a
        chain given by its id, or of every chain (None). Returns how many values and statements
        were erased; the chain keeps only commitments nobody can open."""
        with self._transaction() as db:
            scope, extra = ("", ()) if deployment is None else _scope(deployment)
            rows = db.execute(
                f"SELECT chain_id, journey FROM journeys WHERE customer = ?{scope}", (target, *extra)
            )
            journeys = {(r["chain_id"], r["journey"]) for r in rows}
            if not journeys:
                candidates = {target.lower()} if target.startswith("0x") else set()
                with suppress(ConfigError):
                    candidates.add(hexstr(_jid(target)))
                for candidate in candidates:
                    found = db.execute(
                        f"SELECT DISTINCT chain_id, journey FROM evidence WHERE journey = ?{scope} "
                        f"UNION SELECT chain_id, journey FROM statements WHERE journey = ?{scope} "
                        f"UNION SELECT chain_id, journey FROM journeys WHERE journey = ?{scope}",
                        (candidate, *extra, candidate, *extra, candidate, *extra),
                    )
                    journeys |= {(r["chain_id"], r["journey"]) for r in found}
            if not journeys:
                if missing_ok:
                    return 0
                raise ConfigError(f"the vault knows no customer or journey {target!r}")
            # the journey's rows of the deployments in scope, under whichever it was registered
            within, args = _deployments(deployment)
            erased = 0
            now = int(time.time())
            for cid, jid in journeys:
                erased += db.execute(
                    "UPDATE evidence SET value = NULL, salt = NULL, erased_at = ? "
                    f"WHERE chain_id = ? AND journey = ? AND value IS NOT NULL{within}",
                    (now, cid, jid, *args),
                ).rowcount
                erased += db.execute(
                    "UPDATE statements SET text = NULL, salt = NULL, erased_at = ? "
                    f"WHERE chain_id = ? AND journey = ? AND text IS NOT NULL{within}",
                    (now, cid, jid, *args),
                ).rowcount
        # drop the freed pages and the write-ahead log, so that no copy of the values remains
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._db.execute("VACUUM")
        return erased


#: how far back `reconcile` checks confirmed step evidence against the chain, in blocks
REORG_DEPTH = 64


def _receipt(w3: Any, tx: str) -> Any:
    """The transaction's receipt, or None when the chain does not know it (any more)."""
    try:
        return w3.eth.get_transaction_receipt(tx)
    except TransactionNotFound:
        return None


def _step_events(w3, source, name: str, jid: bytes, step: int, from_block: int, call: RpcCall) -> list:
    """The `name` events of `source` about one step of a journey."""
    events = fetch_events(w3, [source], [name], from_block, journey=jid, call=call)
    return [e for e in events if e.args["step"] == step]


def _same_key(name: str, key: bytes) -> bool:
    """Whether a stored field name stands for the bytes32 key `key` (a name that is not one
    stands for none)."""
    try:
        return short_name(name) == key
    except ConfigError:
        return False


def _statement_key(statement: Statement) -> tuple[int, str, str, int, str]:
    return (
        statement.chain_id,
        statement.deployment,
        hexstr(statement.journey),
        statement.step,
        statement.kind,
    )


def _evidence_key(evidence: StepEvidence) -> tuple[int, str, str, int]:
    return (evidence.chain_id, evidence.deployment, hexstr(evidence.journey), evidence.step)


#: One step's rows, and one statement's (fixed SQL; the values are parameters).
_STEP = "chain_id = ? AND deployment = ? AND journey = ? AND step = ?"
_STATEMENT = _STEP + " AND kind = ?"


def _deployments(deployment: Where | None) -> tuple[str, tuple[str, ...]]:
    """A WHERE clause's end for the rows of a deployment and those written before rows were keyed
    (nothing, for a chain id alone or None: any deployment's)."""
    if isinstance(deployment, DeploymentKey):
        return " AND deployment IN (?, '')", (deployment.tag,)
    return "", ()


def _scope(deployment: Where, legacy: bool = True) -> tuple[str, tuple[Any, ...]]:
    """A WHERE clause's end for the rows of a deployment (with, when `legacy`, those written
    before rows were keyed), or of any deployment on a chain given by its id."""
    if isinstance(deployment, DeploymentKey):
        if legacy:
            return " AND chain_id = ? AND deployment IN (?, '')", (deployment.chain_id, deployment.tag)
        return " AND chain_id = ? AND deployment = ?", (deployment.chain_id, deployment.tag)
    return " AND chain_id = ?", (int(deployment),)
