"""The evidence vault: the values and salts behind every commitment the user made.

The chain sees salted commitments only; the values and salts stay here, in SQLite at
$JOURNEY_HOME/vault.sqlite, readable by its owner only (0600, in a 0700 folder). A step's
evidence is written in one transaction before its transaction is sent (pending), and marked
confirmed once the chain has it, so that a crash between the two loses nothing: `reconcile`
settles pending rows against the chain later.
The customer's dispute reasons and rating comments are kept the same way (`statements`).
`prove` discloses one field and checks it against the chain, `prove_statement` one
statement; `forget` erases a customer's values, texts and salts, leaving the chain only
meaningless commitments.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from journeychain.chain import journey_home, private_file
from journeychain.encoding import (
    commit,
    evidence_hash,
    field_pairs,
    genesis_head,
    journey_id,
    new_salt,
    next_head,
    short_name,
)
from journeychain.errors import ConfigError, JourneyError
from journeychain.timeline import RpcCall, call_once, fetch_events, hexstr

SCHEMA = """
CREATE TABLE IF NOT EXISTS evidence (
    chain_id    INTEGER NOT NULL,
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
    PRIMARY KEY (chain_id, journey, step, field)
);
CREATE TABLE IF NOT EXISTS journeys (
    chain_id    INTEGER NOT NULL,
    journey     TEXT    NOT NULL,
    reference   TEXT,
    customer    TEXT,
    PRIMARY KEY (chain_id, journey)
);
CREATE INDEX IF NOT EXISTS journeys_customer ON journeys (customer);
CREATE TABLE IF NOT EXISTS statements (
    chain_id    INTEGER NOT NULL,
    journey     TEXT    NOT NULL,
    step        INTEGER NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('dispute_reason', 'rating_comment')),
    text        TEXT,
    salt        TEXT,
    commitment  TEXT    NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'pending',
    tx_hash     TEXT,
    block       INTEGER,
    created_at  INTEGER NOT NULL,
    erased_at   INTEGER,
    PRIMARY KEY (chain_id, journey, step, kind)
);
"""

# A customer's statement: the event that carries its commitment, and that event's argument.
STATEMENTS = {"dispute_reason": ("Disputed", "reason"), "rating_comment": ("Rated", "comment")}


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


def _kind(kind: str) -> tuple[str, str]:
    if kind not in STATEMENTS:
        raise ConfigError(f"unknown statement {kind!r} (one of {', '.join(STATEMENTS)})")
    return STATEMENTS[kind]


class Vault:
    """The SQLite store of values and salts. One per $JOURNEY_HOME (or an explicit path)."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else journey_home() / "vault.sqlite"
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
            self._db.executescript(SCHEMA)
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
        self, chain_id: int, journey: bytes | str, reference: str | None = None, customer: str | None = None
    ) -> None:
        """Remember which customer (any reference the user knows them by) a journey belongs to."""
        jid = _jid(journey)
        if reference is None and isinstance(journey, str) and not journey.startswith("0x"):
            reference = journey
        with self._transaction() as db:
            db.execute(
                "INSERT INTO journeys (chain_id, journey, reference, customer) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (chain_id, journey) DO UPDATE SET "
                "reference = COALESCE(excluded.reference, reference), "
                "customer = COALESCE(excluded.customer, customer)",
                (chain_id, hexstr(jid), reference, customer),
            )

    def prepare_step(
        self, chain_id: int, journey: bytes | str, step: int, fields: Mapping[str, str]
    ) -> StepEvidence:
        """Salt and commit each field and write them all, pending, in one transaction; the
        caller sends the returned keys and commitments, then calls `confirm` (or `discard`
        if the chain refused). A pending step left over is replaced."""
        jid = _jid(journey)
        names = tuple(fields)
        keys = tuple(short_name(n) for n in names)
        salts = [new_salt() for _ in names]
        commitments = tuple(commit(str(fields[n]), s) for n, s in zip(names, salts, strict=True))
        now = int(time.time())
        with self._transaction() as db:
            done = db.execute(
                "SELECT 1 FROM evidence WHERE chain_id = ? AND journey = ? AND step = ? "
                "AND status = 'confirmed'",
                (chain_id, hexstr(jid), step),
            ).fetchone()
            if done:
                raise ConfigError(f"step {step} of journey {hexstr(jid)} has confirmed evidence in the vault")
            db.execute(
                "DELETE FROM evidence WHERE chain_id = ? AND journey = ? AND step = ?",
                (chain_id, hexstr(jid), step),
            )
            db.executemany(
                "INSERT INTO evidence (chain_id, journey, step, position, field, value, salt, commitment, "
                "status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)",
                [
                    (chain_id, hexstr(jid), step, i, n, str(fields[n]), hexstr(s), hexstr(c), now)
                    for i, (n, s, c) in enumerate(zip(names, salts, commitments, strict=True))
                ],
            )
        values = tuple(str(fields[n]) for n in names)
        return StepEvidence(chain_id, jid, step, names, keys, commitments, values, tuple(salts))

    def confirm(self, evidence: StepEvidence, tx_hash: bytes | str, block: int | None = None) -> None:
        """Mark a step's evidence as on chain (its transaction succeeded)."""
        with self._transaction() as db:
            db.execute(
                "UPDATE evidence SET status = 'confirmed', tx_hash = ?, block = ? "
                "WHERE chain_id = ? AND journey = ? AND step = ?",
                (hexstr(tx_hash), block, evidence.chain_id, hexstr(evidence.journey), evidence.step),
            )

    def discard(self, evidence: StepEvidence) -> None:
        """Drop a pending step's evidence (the chain refused the step)."""
        with self._transaction() as db:
            db.execute(
                "DELETE FROM evidence WHERE chain_id = ? AND journey = ? AND step = ? AND status = 'pending'",
                (evidence.chain_id, hexstr(evidence.journey), evidence.step),
            )

    def prepare_statement(
        self, chain_id: int, journey: bytes | str, step: int, kind: str, text: str
    ) -> Statement:
        """Salt and commit a dispute reason or rating comment and write it, pending; the caller
        sends the returned commitment, then calls `confirm_statement` (or `discard_statement`
        if the chain refused). A pending statement left over is replaced."""
        _kind(kind)
        jid = _jid(journey)
        salt = new_salt()
        commitment = commit(str(text), salt)
        key = (chain_id, hexstr(jid), step, kind)
        with self._transaction() as db:
            done = db.execute(
                "SELECT 1 FROM statements WHERE chain_id = ? AND journey = ? AND step = ? AND kind = ? "
                "AND status = 'confirmed'",
                key,
            ).fetchone()
            if done:
                raise ConfigError(
                    f"the {kind} of step {step} of journey {hexstr(jid)} is confirmed in the vault"
                )
            db.execute(
                "DELETE FROM statements WHERE chain_id = ? AND journey = ? AND step = ? AND kind = ?", key
            )
            db.execute(
                "INSERT INTO statements (chain_id, journey, step, kind, text, salt, commitment, status, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?)",
                (*key, str(text), hexstr(salt), hexstr(commitment), int(time.time())),
            )
        return Statement(chain_id, jid, step, kind, str(text), salt, commitment)

    def confirm_statement(self, statement: Statement, tx_hash: bytes | str, block: int | None = None) -> None:
        """Mark a statement as on chain (its transaction succeeded)."""
        with self._transaction() as db:
            db.execute(
                "UPDATE statements SET status = 'confirmed', tx_hash = ?, block = ? "
                "WHERE chain_id = ? AND journey = ? AND step = ? AND kind = ?",
                (hexstr(tx_hash), block, *_statement_key(statement)),
            )

    def discard_statement(self, statement: Statement) -> None:
        """Drop a pending statement (the chain refused it)."""
        with self._transaction() as db:
            db.execute(
                "DELETE FROM statements WHERE chain_id = ? AND journey = ? AND step = ? AND kind = ? "
                "AND status = 'pending'",
                _statement_key(statement),
            )

    def pending(self, chain_id: int) -> list[tuple[str, int]]:
        rows = self._db.execute(
            "SELECT DISTINCT journey, step FROM evidence WHERE chain_id = ? AND status = 'pending'",
            (chain_id,),
        ).fetchall()
        return [(r["journey"], r["step"]) for r in rows]

    def pending_statements(self, chain_id: int) -> list[tuple[str, int, str]]:
        rows = self._db.execute(
            "SELECT journey, step, kind FROM statements WHERE chain_id = ? AND status = 'pending'",
            (chain_id,),
        ).fetchall()
        return [(r["journey"], r["step"], r["kind"]) for r in rows]

    def reconcile(
        self, w3, engine, from_block: int = 0, call: RpcCall = call_once, voice=None
    ) -> dict[str, int]:
        """Settle pending rows left by a crash between sending and recording. Step evidence is
        confirmed when the chain has a StepCompleted with the same commitments, dropped when the
        step was completed with other evidence. A dispute reason (the engine's Disputed event) or
        a rating comment (the voice's Rated event; `voice` needed) is confirmed when the step's
        event carries its commitment, dropped when it carries another. Rows with no event yet
        stay pending. Returns the counts."""
        chain_id = int(call(lambda: w3.eth.chain_id))
        counts = {"confirmed": 0, "dropped": 0, "pending": 0}
        for journey, step in self.pending(chain_id):
            rows = self._rows(chain_id, journey, step)
            commitments = {r["commitment"] for r in rows}
            match = _step_events(
                w3, engine, "StepCompleted", bytes.fromhex(journey[2:]), step, from_block, call
            )
            if not match:
                counts["pending"] += 1
                continue
            ev = match[0]
            key: tuple[int | str, ...] = (chain_id, journey, step)
            if commitments <= {hexstr(c) for _, c in field_pairs(ev.args["fields"])}:
                self._settle("evidence", "", key, ev.tx, ev.block)
                counts["confirmed"] += 1
            else:
                self._settle("evidence", "", key, None, None)
                counts["dropped"] += 1
        for journey, step, kind in self.pending_statements(chain_id):
            event_name, argument = STATEMENTS[kind]
            source = engine if event_name == "Disputed" else voice
            if source is None:
                counts["pending"] += 1
                continue
            match = _step_events(w3, source, event_name, bytes.fromhex(journey[2:]), step, from_block, call)
            if not match:
                counts["pending"] += 1
                continue
            row = self._db.execute(
                "SELECT commitment FROM statements "
                "WHERE chain_id = ? AND journey = ? AND step = ? AND kind = ?",
                (chain_id, journey, step, kind),
            ).fetchone()
            ours = [e for e in match if hexstr(bytes(e.args[argument])) == row["commitment"]]
            key = (chain_id, journey, step, kind)
            if ours:
                self._settle("statements", " AND kind = ?", key, ours[0].tx, ours[0].block)
                counts["confirmed"] += 1
            else:
                self._settle("statements", " AND kind = ?", key, None, None)
                counts["dropped"] += 1
        return counts

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
        where = f"WHERE chain_id = ? AND journey = ? AND step = ?{kind} AND status = 'pending'"
        with self._transaction() as db:
            if tx is None:
                db.execute(f"DELETE FROM {table} {where}", key)
            else:
                db.execute(
                    f"UPDATE {table} SET status = 'confirmed', tx_hash = ?, block = ? {where}",
                    (tx, block, *key),
                )

    # --- reading -------------------------------------------------------------------
    def _rows(self, chain_id: int, journey: str, step: int) -> list[sqlite3.Row]:
        return self._db.execute(
            "SELECT * FROM evidence WHERE chain_id = ? AND journey = ? AND step = ? ORDER BY position",
            (chain_id, journey, step),
        ).fetchall()

    def fields(self, chain_id: int, journey: bytes | str, step: int) -> dict[str, str | None]:
        """A step's field values as stored (None where erased)."""
        return {r["field"]: r["value"] for r in self._rows(chain_id, hexstr(_jid(journey)), step)}

    def statements(self, chain_id: int, journey: bytes | str) -> list[dict[str, Any]]:
        """A journey's statements as stored (text and salt None where erased), by step and kind."""
        rows = self._db.execute(
            "SELECT * FROM statements WHERE chain_id = ? AND journey = ? ORDER BY step, kind",
            (chain_id, hexstr(_jid(journey))),
        )
        return [dict(r) for r in rows]

    def journeys(self, chain_id: int | None = None) -> list[dict[str, Any]]:
        query = "SELECT * FROM journeys" + (" WHERE chain_id = ?" if chain_id is not None else "")
        return [dict(r) for r in self._db.execute(query, () if chain_id is None else (chain_id,))]

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
    ) -> Proof:
        """Disclose one field of one step and show that it matches the chain: its value and
        salt recompute the commitment the step's StepCompleted event carries for that key, and
        the journey's rolling hash on chain equals the one rebuilt from all its StepCompleted
        events (each step's evidence hash computed from the fields its event carries)."""
        chain_id = int(call(lambda: w3.eth.chain_id))
        jid = _jid(journey)
        where = f"step {step} of journey {hexstr(jid)}"
        row = self._db.execute(
            "SELECT * FROM evidence WHERE chain_id = ? AND journey = ? AND step = ? AND field = ?",
            (chain_id, hexstr(jid), step, field),
        ).fetchone()
        if row is None:
            raise ProofError(f"the vault holds no value for {field} at {where} on chain {chain_id}")
        if row["value"] is None or row["salt"] is None:
            raise ProofError(f"the value for {field} at {where} was erased from the vault")
        key = short_name(field)
        held = {
            r["commitment"] for r in self._rows(chain_id, hexstr(jid), step) if _same_key(r["field"], key)
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
        head = genesis_head(jid, o["playbookId"], bytes(o["customer"]))
        for i in range(len(events)):
            if i not in events:
                raise ProofError(f"the chain's record of journey {hexstr(jid)} lacks step {i}")
            e = events[i].args
            head = next_head(head, i, e["by"], e["late"], evidence_hash(e["fields"]))
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
    ) -> StatementProof:
        """Disclose the customer's dispute reason or rating comment of one step and show that
        its text and salt recompute the commitment the chain's Disputed event (from the
        engine) or Rated event (from the voice) carries for that step."""
        event_name, argument = _kind(kind)
        chain_id = int(call(lambda: w3.eth.chain_id))
        jid = _jid(journey)
        where = f"step {step} of journey {hexstr(jid)}"
        row = self._db.execute(
            "SELECT * FROM statements WHERE chain_id = ? AND journey = ? AND step = ? AND kind = ?",
            (chain_id, hexstr(jid), step, kind),
        ).fetchone()
        if row is None:
            raise ProofError(f"the vault holds no {kind} for {where} on chain {chain_id}")
        if row["text"] is None or row["salt"] is None:
            raise ProofError(f"the {kind} for {where} was erased from the vault")
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
    def forget(self, target: str, chain_id: int | None = None, missing_ok: bool = False) -> int:
        """Erase the values, statement texts and salts of every journey of a customer (by the
        reference given to `register_journey`), or of one journey (by its reference or 0x id).
        Returns how many values and statements were erased; the chain keeps only commitments
        nobody can open."""
        with self._transaction() as db:
            scope = "" if chain_id is None else " AND chain_id = ?"
            extra: tuple[Any, ...] = () if chain_id is None else (chain_id,)
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
            erased = 0
            now = int(time.time())
            for cid, jid in journeys:
                erased += db.execute(
                    "UPDATE evidence SET value = NULL, salt = NULL, erased_at = ? "
                    "WHERE chain_id = ? AND journey = ? AND value IS NOT NULL",
                    (now, cid, jid),
                ).rowcount
                erased += db.execute(
                    "UPDATE statements SET text = NULL, salt = NULL, erased_at = ? "
                    "WHERE chain_id = ? AND journey = ? AND text IS NOT NULL",
                    (now, cid, jid),
                ).rowcount
        # drop the freed pages and the write-ahead log, so that no copy of the values remains
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._db.execute("VACUUM")
        return erased


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


def _statement_key(statement: Statement) -> tuple[int, str, int, str]:
    return (statement.chain_id, hexstr(statement.journey), statement.step, statement.kind)
