"""The service's store on SQLite and on a real PostgreSQL server (tests/pg.py): integrations
found by their token's hash only, a write recorded once per idempotency key, its transaction
kept before it is sent, a webhook signature seen once, a notification put in the outbox once."""

from __future__ import annotations

import pytest

from journeychain.service.auth import token_hash
from journeychain.service.store import Store


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'service.sqlite'}"
    else:
        from tests.pg import new_database

        url = new_database(request.getfixturevalue("postgres_url"), "service")
        url = "postgresql://" + url.split("://", 1)[1]  # as a user gives it to --database
    s = Store(url)
    yield s
    s.close()


def _job(store: Store, key: str, body: str = "b1"):
    return store.submit(
        deployment="31337/0xengine",
        integration="crm",
        account="0x" + "11" * 20,
        action="complete",
        journey="OPP-1",
        params={"step": 2},
        body_hash=body,
        idem_scope="crm",
        idem_key=key,
    )


def test_an_integration_is_found_by_its_tokens_hash_only(store):
    accounts = [{"name": "dev:1", "address": "0x" + "11" * 20}]
    assert store.add_integration("crm", token_hash("secret-token"), accounts, None)
    assert not store.add_integration("crm", token_hash("another"), accounts, None)  # one per name
    found = store.integration_by_token(token_hash("secret-token"))
    assert found is not None and found.name == "crm" and found.addresses == ["0x" + "11" * 20]
    assert store.integration_by_token(token_hash("guess")) is None


def test_a_write_is_recorded_once_per_idempotency_key_with_its_transaction(store):
    first, new = _job(store, "OPP-1/2")
    again, new_again = _job(store, "OPP-1/2")
    assert new and not new_again and again.id == first.id
    store.record_tx(first.id, "0x" + "ab" * 32, "0xf86c")
    kept = store.job(first.id)
    assert kept is not None and kept.txs and kept.txs[0]["hash"] == "0x" + "ab" * 32
    assert [j.id for j in store.unfinished("31337/0xengine")] == [first.id]


def test_a_webhook_signature_is_seen_once(store):
    assert store.first_sighting("sig-1", 300)
    assert not store.first_sighting("sig-1", 300)


def test_a_notification_goes_to_the_outbox_once(store):
    sid = store.add_subscription("crm", "http://127.0.0.1:9/hook", ["breach"], "whsec")
    assert store.enqueue("breach", "OPP-1/1", {"step": 1}) == 1
    assert store.enqueue("breach", "OPP-1/1", {"step": 1}) == 0
    assert store.enqueue("payout", "OPP-1/p", {}) == 0  # not a kind it asked for
    assert len(store.deliveries(sid)) == 1
