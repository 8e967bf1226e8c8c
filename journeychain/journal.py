"""The journal of signed transactions: what the SDK sent, recorded before it is sent.

Every transaction the sender signs is written here (its hash, the chain, the account, the
nonce, what it is for: the function, the journey and the step it targets) before it goes to
the node, and marked answered once its receipt has been read. A row still unanswered is a
transaction whose reply was lost (the node dropped, the process died): a retry of the same
write looks it up first, so that a mined write is never sent again, nor applied to the state
after it (`journey step complete` retried after a lost reply answers "already completed by you
in tx 0x..." instead of completing the next step).

Kept in $JOURNEY_HOME/sent.sqlite (0600), shared by every process of the user; SQLite's own
locking makes concurrent writers safe.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from journeychain.chain import journey_home, private_file

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sent (
    hash     TEXT PRIMARY KEY,
    chain    TEXT    NOT NULL,
    account  TEXT    NOT NULL,
    nonce    INTEGER NOT NULL,
    intent   TEXT    NOT NULL,
    journey  TEXT,
    step     INTEGER,
    status   TEXT    NOT NULL DEFAULT 'sent',
    created  REAL    NOT NULL
);
CREATE INDEX IF NOT EXISTS sent_intent ON sent (chain, account, intent, status);
"""


@dataclass(frozen=True)
class Intent:
    """What a transaction is for: a key that a retry of the same write carries again (the
    function and the journey, say), and the step it targets when it acts on one."""

    key: str
    journey: str | None = None
    step: int | None = None


@dataclass(frozen=True)
class Entry:
    """One signed transaction as the journal holds it."""

    hash: str
    chain: str
    account: str
    nonce: int
    intent: str
    journey: str | None
    step: int | None
    status: str


class Journal:
    """The signed transactions of this user (one SQLite file, many processes)."""

    def __init__(self, path: Path | None = None):
        self.path = path or journey_home() / "sent.sqlite"
        private_file(self.path)
        self._local = threading.local()

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA)
            self._local.db = db
        return db

    def record(self, tx_hash: str, chain: str, account: str, nonce: int, intent: Intent) -> None:
        """Writes a signed transaction down, before it is sent."""
        self._db().execute(
            "INSERT OR REPLACE INTO sent (hash, chain, account, nonce, intent, journey, step, status, "
            "created) VALUES (?, ?, ?, ?, ?, ?, ?, 'sent', ?)",
            (tx_hash, chain, account.lower(), nonce, intent.key, intent.journey, intent.step, time.time()),
        )

    def answer(self, tx_hash: str) -> None:
        """Marks a transaction answered: its receipt was read and handed to the caller (every
        transaction of the same nonce with it: a replaced one never needs looking up again)."""
        db = self._db()
        row = db.execute("SELECT chain, account, nonce FROM sent WHERE hash = ?", (tx_hash,)).fetchone()
        if row is None:
            return
        db.execute("UPDATE sent SET status = 'answered' WHERE chain = ? AND account = ? AND nonce = ?", row)

    def drop(self, tx_hash: str) -> None:
        """Forgets a transaction that never reached the chain."""
        self._db().execute("DELETE FROM sent WHERE hash = ?", (tx_hash,))

    def unanswered(self, chain: str, account: str, intent: str) -> list[Entry]:
        """The transactions for `intent` still waiting for their answer, oldest first."""
        rows = (
            self._db()
            .execute(
                "SELECT hash, chain, account, nonce, intent, journey, step, status FROM sent "
                "WHERE chain = ? AND account = ? AND intent = ? AND status = 'sent' ORDER BY created",
                (chain, account.lower(), intent),
            )
            .fetchall()
        )
        return [Entry(*row) for row in rows]

    def get(self, tx_hash: str) -> Entry | None:
        row = (
            self._db()
            .execute(
                "SELECT hash, chain, account, nonce, intent, journey, step, status FROM sent WHERE hash = ?",
                (tx_hash,),
            )
            .fetchone()
        )
        return Entry(*row) if row else None


_JOURNALS: dict[Path, Journal] = {}
_JOURNALS_LOCK = threading.Lock()


def journal() -> Journal:
    """The journal of the current $JOURNEY_HOME (one object per folder and process)."""
    path = journey_home() / "sent.sqlite"
    with _JOURNALS_LOCK:
        if path not in _JOURNALS:
            _JOURNALS[path] = Journal(path)
        return _JOURNALS[path]
