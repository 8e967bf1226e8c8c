"""The index folds a deployment's events into tables that read as the chain does: every
journey's state as the engine's views answer it and its timeline as `journeychain.timeline`
builds it; a sync resumes from its cursor, reads in bounded batches with progress, follows the
chain a number of confirmations behind, and refuses a database of another deployment. On SQLite
and on a real PostgreSQL server (tests/pg.py).

The module's chain: the demo's five journeys (journeychain.demo), on a throwaway anvil.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from journeychain.client import JourneyClient
from journeychain.demo import SCENARIOS, network
from journeychain.errors import IndexStoreError
from journeychain.index import Index
from journeychain.index import schema as tables
from journeychain.timeline import timelines


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple]:
    with network() as (chain, crew):
        for reference, scenario in SCENARIOS:
            scenario(crew, reference, lambda: None)
        yield chain, crew


@pytest.fixture(params=["sqlite", "postgresql"])
def index_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "index.sqlite")
    from tests.pg import new_database

    return new_database(request.getfixturevalue("postgres_url"))


@pytest.fixture
def synced(demo, index_url) -> Iterator[Index]:
    chain, crew = demo
    with Index.open(index_url, crew.deployment) as index:
        index.sync(chain)
        yield index


def test_every_journey_reads_as_the_engine_views_it(demo, synced):
    chain, crew = demo
    reader = JourneyClient(chain, crew.deployment, None)
    now = chain.now()
    indexed = synced.states(None, now)
    assert [s.journey_id for _, s in indexed] == ["0x" + crew.journeys[r].hex() for r, _ in SCENARIOS]
    for opened_block, state in indexed:
        on_chain = reader.journey(state.journey_id)
        assert state.as_dict() == on_chain.as_dict() | {"reference": None}
        assert opened_block == next(e.block for e in reader.journeys() if e.journey_id == state.journey_id)


def test_every_timeline_matches_the_one_built_from_the_chain(demo, synced):
    chain, crew = demo
    built = timelines(chain.w3, crew.engine, crew.voice, crew.deployment.block)
    assert len(built) == len(SCENARIOS)
    for tl in built:
        assert synced.timeline(tl.journey_id).to_dict() == tl.to_dict()


def test_a_journey_reads_with_its_steps_breaches_payouts_and_ratings(demo, synced):
    chain, crew = demo
    built = {tl.journey_id: tl for tl in timelines(chain.w3, crew.engine, crew.voice, crew.deployment.block)}
    for reference, _ in SCENARIOS:
        tl = built["0x" + crew.journeys[reference].hex()]
        found = synced.journey(reference)
        assert found is not None and found["journey_id"] == tl.journey_id
        assert [s["by"] for s in found["steps"]] == [s.by for s in tl.steps]
        assert [(b["step"], b["assignee"]) for b in found["breaches"]] == [
            (b.step, b.assignee) for b in tl.breaches
        ]
        paid: dict[str, int] = {}
        for p in found["payouts"]:
            paid[p["owner"]] = paid.get(p["owner"], 0) + p["amount"]
        assert {o: a for o, a in paid.items()} == tl.payouts
        assert sum(p["penalty"] for p in found["payouts"]) == tl.forfeited
        rated = [e.details["score"] for e in tl.entries if e.kind == "rated"]
        assert [r["score"] for r in found["ratings"]] == rated
    assert synced.journey("NEVER-OPENED") is None


def test_participants_and_organisations_are_the_directorys(demo, synced):
    chain, crew = demo
    reader = JourneyClient(chain, crew.deployment, None)
    assert synced.organisations() == reader.organisations()
    members = {m["account"]: m["org"] for m in synced.participants()}
    on_chain = reader.members()
    assert len(on_chain) == len([org for org in members.values() if org]) > 0  # ADMIN has none
    for member in on_chain:
        assert members[member["address"]] == member["org"]


def test_a_second_sync_resumes_from_the_cursor_and_adds_nothing(demo, synced):
    chain, _ = demo
    cursor = synced.cursor()
    assert cursor is not None and cursor[0] == chain.w3.eth.block_number
    assert cursor[1] == chain.w3.eth.get_block(cursor[0])["hash"].to_0x_hex()
    counts = synced.counts()
    assert synced.sync(chain) == cursor[0]
    assert synced.counts() == counts and synced.last_reorganisation is None


def test_small_batches_index_the_same_rows_and_report_progress(demo, synced, tmp_path):
    chain, crew = demo
    seen: list[tuple[int, int]] = []
    with Index.open(str(tmp_path / "batched.sqlite"), crew.deployment) as batched:
        batched.sync(chain, batch=7, progress=lambda done, total: seen.append((done, total)))
        for table in (tables.journeys, tables.steps, tables.breaches, tables.payouts, tables.events):
            with synced.db.connect() as a, batched.db.connect() as b:
                ordered = select(table).order_by(*table.primary_key.columns)
                assert [dict(r) for r in a.execute(ordered).mappings()] == [
                    dict(r) for r in b.execute(ordered).mappings()
                ]
    total = chain.w3.eth.block_number - crew.deployment.block + 1
    assert len(seen) == -(-total // 7) and seen[-1] == (total, total)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_confirmations_keep_the_index_behind_the_head(demo, tmp_path):
    chain, crew = demo
    head = chain.w3.eth.block_number
    with Index.open(str(tmp_path / "behind.sqlite"), crew.deployment) as index:
        assert index.sync(chain, confirmations=5) == head - 5
        assert index.cursor()[0] == head - 5 and index.confirmations == 5
        assert index.sync(chain) == head - 5  # kept from the last sync
        assert index.sync(chain, confirmations=0) == head


def test_a_database_of_another_deployment_is_refused(demo, index_url):
    _, crew = demo
    Index.open(index_url, crew.deployment).close()
    other = dataclasses.replace(crew.deployment, block_hash="0x" + "ab" * 32)
    with pytest.raises(IndexStoreError, match=r"holds deployment .* give each deployment its own database"):
        Index.open(index_url, other)


def test_migrations_are_applied_once_and_recorded(demo, index_url):
    _, crew = demo
    for _ in range(2):
        with Index.open(index_url, crew.deployment) as index, index.db.connect() as conn:
            versions = list(conn.execute(select(tables.schema_version.c.version)).scalars())
    assert versions == list(range(1, tables.SCHEMA_VERSION + 1))


def test_a_sync_needs_a_batch_and_no_negative_confirmations(demo, synced):
    chain, _ = demo
    with pytest.raises(IndexStoreError, match="a sync batch of 0 blocks reads nothing"):
        synced.sync(chain, batch=0)
    with pytest.raises(IndexStoreError, match="-1 confirmations: give 0 or more blocks"):
        synced.sync(chain, confirmations=-1)


def test_an_unreachable_database_is_one_sentence(demo):
    _, crew = demo
    with pytest.raises(
        IndexStoreError, match=r"cannot open the index at postgresql\+psycopg://nobody@127.0.0.1:1/x"
    ):
        Index.open("postgresql://nobody:secret@127.0.0.1:1/x", crew.deployment)


def test_two_syncs_at_once_index_each_block_once(demo, synced, index_url, tmp_path):
    import threading

    chain, crew = demo
    if index_url.endswith(".sqlite"):
        url = str(tmp_path / "together.sqlite")
    else:
        from tests.pg import new_database

        url = new_database(index_url.rsplit("/", 1)[0] + "/postgres")
    Index.open(url, crew.deployment).close()
    failures: list[BaseException] = []

    def sync() -> None:
        try:
            with Index.open(url, crew.deployment) as index:
                index.sync(chain, batch=3)
        except BaseException as exc:  # reported below
            failures.append(exc)

    workers = [threading.Thread(target=sync) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert failures == []
    with Index.open(url, crew.deployment) as together:
        assert together.counts() == synced.counts()
        assert together.cursor() == synced.cursor()


def test_one_scratch_index_shared_by_threads_indexes_each_block_once(demo, tmp_path):
    """The pages' case: one `sqlite://` index whose request threads sync and read it at once.
    Each thread has its own connection to a scratch file, removed when the index closes."""
    import threading

    chain, crew = demo
    with Index.open(str(tmp_path / "alone.sqlite"), crew.deployment) as alone:
        alone.sync(chain)
        expected = alone.counts(), alone.cursor()
    failures: list[BaseException] = []
    shared = Index.open("sqlite://", crew.deployment)
    scratch = shared._scratch
    assert scratch is not None and scratch.is_dir()

    def work() -> None:
        try:
            shared.sync(chain, batch=2)
            shared.counts()
        except BaseException as exc:  # reported below
            failures.append(exc)

    workers = [threading.Thread(target=work) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    try:
        assert failures == []
        assert (shared.counts(), shared.cursor()) == expected
    finally:
        shared.close()
    assert not scratch.exists()
