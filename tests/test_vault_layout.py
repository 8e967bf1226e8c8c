"""The vault's layout moves forward without losing a row: a layout-2 vault (written before the
customer's replies were statements) keeps its statements and takes replies afterwards."""

import sqlite3

from journeychain.vault import LAYOUT, Vault

NARROW = """
CREATE TABLE statements (
    chain_id    INTEGER NOT NULL,
    deployment  TEXT    NOT NULL DEFAULT '',
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
    PRIMARY KEY (chain_id, deployment, journey, step, kind)
)"""
JID = "0x" + "ab" * 32


def test_a_layout_2_vault_keeps_its_statements_and_takes_replies(tmp_path):
    path = tmp_path / "vault.sqlite"
    db = sqlite3.connect(path)
    db.execute(NARROW)
    db.execute(
        "INSERT INTO statements (chain_id, journey, step, kind, text, salt, commitment, status, created_at) "
        "VALUES (31337, ?, 2, 'dispute_reason', 'late', '0x01', '0x02', 'confirmed', 1)",
        (JID,),
    )
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()
    with Vault(path) as vault:
        kept = vault.statements(31337, JID)
        assert [(r["step"], r["kind"], r["text"]) for r in kept] == [(2, "dispute_reason", "late")]
        pending = vault.prepare_statement(31337, JID, 1, "reply_message", "the details")
        assert pending.commitment
    check = sqlite3.connect(path)
    assert check.execute("PRAGMA user_version").fetchone()[0] == LAYOUT == 3
    kinds = sorted(r[0] for r in check.execute("SELECT kind FROM statements"))
    assert kinds == ["dispute_reason", "reply_message"]
