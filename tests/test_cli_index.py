"""The command line reads the index when there is one: `journey index sync` builds it, and
`journey list`, `journey status` and `journey report` then read it (bringing it up to date
first), with the same output as with `--no-index`, which reads the chain; `journey report`
prints a table, `--csv` or `--json`. The index's own filters (`Index.journeys`, what the
service calls) pick the same journeys as `journey list`'s.

The module's chain: the seven journeys of tests/cli_journeys.py, dev:2 named "Rep A".
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from journeychain.accounts import dev_account
from journeychain.chain import Chain
from journeychain.client import Customer
from journeychain.deployments import load_deployment
from journeychain.encoding import profile_hash
from journeychain.errors import IndexStoreError
from journeychain.index import Index, default_path
from journeychain.index.report import COLUMNS
from tests import cli_journeys
from tests.cli_journeys import REFERENCES, REP, fails, ok, seven_journeys

CUSTOMER = Customer(dev_account(9), profile_hash("Ada", b"\x03" * 32))


def opened(reference: str) -> None:
    cli_journeys.opened(reference, CUSTOMER)


@pytest.fixture(scope="module")
def act(journey_chain: Chain):
    act = seven_journeys(journey_chain, CUSTOMER)
    ok("participant", "name", "dev:2", "Rep A")
    return act


@pytest.fixture(scope="module")
def indexed(act, journey_chain):
    out = ok("index", "sync")
    assert out.startswith("indexed up to block") and f"{len(REFERENCES)} journeys" in out
    return load_deployment(journey_chain)


def both(*args: str) -> tuple[str, str]:
    """The command's output read from the index, and read from the chain."""
    return ok(*args), ok(*args, "--no-index")


def test_without_an_index_the_commands_read_the_chain(act, tmp_path):
    elsewhere = {"JOURNEY_HOME": str(tmp_path)}
    # another home: no index (and no local references, so the journeys show by their ids)
    assert len(json.loads(ok("--json", "list", env=elsewhere))) == len(REFERENCES)
    assert fails("index", "status", env=elsewhere).startswith("there is no index at sqlite:///")
    assert "run `journey index sync`" in fails("index", "status", env=elsewhere)


def test_the_index_is_read_when_it_is_there(indexed, journey_chain, tmp_path):
    assert default_path(indexed.key).exists()
    status = json.loads(ok("--json", "index", "status"))
    assert (
        status["counts"]["journeys"] == len(REFERENCES)
        and status["block"] == journey_chain.w3.eth.block_number
    )
    # an index (named by JOURNEY_INDEX) held far behind the head answers from its own, empty,
    # tables: it is what is read
    behind = {"JOURNEY_INDEX": str(tmp_path / "behind.sqlite")}
    ok("index", "sync", "--confirmations", "10000", env=behind)
    assert ok("list", env=behind).strip() == "no journeys yet"
    assert len(json.loads(ok("--json", "list", "--no-index", env=behind))) == len(REFERENCES)


@pytest.mark.parametrize(
    "filters",
    [
        (),
        ("--status", "open"),
        ("--overdue",),
        ("--assignee", "Rep A"),
        ("--assignee", "Success"),
        ("--playbook", "1"),
    ],
)
def test_list_reads_the_same_from_the_index_and_the_chain(indexed, filters):
    table, from_chain = both("list", *filters)
    assert table == from_chain and table.strip()
    rows, chain_rows = both("--json", "list", *filters)
    assert json.loads(rows) == json.loads(chain_rows)


@pytest.mark.parametrize("reference", REFERENCES)
def test_status_reads_the_same_from_the_index_and_the_chain(indexed, reference):
    shown, from_chain = both("status", reference)
    assert shown == from_chain and reference in shown
    data, chain_data = both("--json", "status", reference)
    assert json.loads(data) == json.loads(chain_data)


def test_a_journey_the_index_does_not_hold_yet_is_read_on_the_next_command(indexed, act):
    opened("LATER")
    rows = json.loads(ok("--json", "list"))
    assert rows[-1]["reference"] == "LATER"
    assert json.loads(ok("--json", "status", "LATER"))["state"]["step"] == 0


@pytest.mark.parametrize("by", ["organisation", "team", "participant", "step"])
def test_report_reads_the_same_from_the_index_and_the_chain(indexed, by):
    table, from_chain = both("report", "--by", by)
    assert table == from_chain and f"SLA report by {by}" in table
    data, chain_data = both("--json", "report", "--by", by)
    assert json.loads(data) == json.loads(chain_data) != []
    text, chain_text = both("report", "--by", by, "--csv")
    assert text == chain_text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == list(COLUMNS)
    assert [r["name"] for r in rows] == [r["name"] for r in json.loads(data)]


def test_the_participant_report_names_participants_by_the_address_book(indexed):
    rows = {r["group"]: r for r in json.loads(ok("--json", "report", "--by", "participant"))}
    assert rows[REP]["name"] == "Rep A" and rows[REP]["breaches"] == 1
    assert "Rep A" in ok("report", "--by", "participant")


def test_report_over_a_date_range(indexed, journey_chain):
    everything = json.loads(ok("--json", "report", "--by", "step"))
    assert json.loads(ok("--json", "report", "--by", "step", "--since", "2000-01-01")) == everything
    assert json.loads(ok("--json", "report", "--since", "2999-01-01")) == []
    assert ok("report", "--until", "2000-01-01").strip() == "nothing happened in that range"


def test_bad_report_arguments_are_one_sentence(indexed):
    assert (
        fails("report", "--by", "region")
        == "--by 'region': a report groups by organisation, team, participant, step"
    )
    assert (
        fails("report", "--since", "May")
        == "'May' is not a date (YYYY-MM-DD) or an ISO moment (2026-05-01T09:00)"
    )
    assert fails("report", "--since", "2026-05-02", "--until", "2026-05-01") == (
        "--until 2026-05-01 is before --since 2026-05-02"
    )


def listed(*filters: str) -> list[str]:
    return [r["reference"] for r in json.loads(ok("--json", "list", "--no-index", *filters))]


def test_the_index_filters_pick_what_list_picks(indexed, journey_chain, act):
    orgs = {o["name"]: o["org"] for o in act[0].organisations()}
    references = {r["journey_id"]: r["reference"] for r in json.loads(ok("--json", "list", "--no-index"))}
    now = journey_chain.now()
    with Index.open(None, indexed) as index:

        def picked(**filters) -> list[str]:
            return [references[j["journey_id"]] for j in index.journeys(now=now, **filters)]

        assert picked(status="open") == listed("--status", "open")
        assert picked(status="value_delivered") == ["SETTLED"]
        assert picked(overdue=True) == listed("--overdue") == ["LATE", "FLAGGED"]
        assert "LATE" not in picked(overdue=False)
        assert picked(assignee=REP) == listed("--assignee", REP)
        assert picked(organisation=orgs["Success"]) == ["BOOKED"]
        assert picked(organisation="Sales") == ["LATE", "FLAGGED", "FRESH"]  # its participant's steps
        assert picked(playbook=1, limit=2, offset=1) == listed()[1:3]
        with pytest.raises(IndexStoreError, match="status 'done' is not a journey status"):
            index.journeys(status="done")
        with pytest.raises(IndexStoreError, match="journeys cannot be filtered by region"):
            index.journeys(region="north")


def test_a_postgresql_url_moves_the_index_to_the_server(indexed, postgres_url):
    from tests.pg import new_database

    on_server = {"JOURNEY_INDEX": new_database(postgres_url)}
    out = ok("index", "sync", env=on_server)
    assert out.startswith("indexed up to block") and f"{len(REFERENCES) + 1} journeys" in out
    status = json.loads(ok("--json", "index", "status", env=on_server))
    assert status["index"].startswith("postgresql+psycopg://postgres@127.0.0.1:")
    assert ok("list", env=on_server) == ok("list", "--no-index")
    assert ok("--json", "report", "--by", "team", env=on_server) == ok(
        "--json", "report", "--by", "team", "--no-index"
    )


def test_index_sync_says_which_blocks_a_reorganisation_undid(indexed, journey_chain):
    from web3.types import RPCEndpoint

    def rpc(method: str, *params):
        return journey_chain.w3.provider.make_request(RPCEndpoint(method), list(params))["result"]

    snapshot = rpc("evm_snapshot")
    opened("GONE-BY-REORG")
    ok("index", "sync")
    replaced = journey_chain.w3.eth.block_number
    assert rpc("evm_revert", snapshot)
    for _ in range(3):
        rpc("evm_mine")
    out = json.loads(ok("--json", "index", "sync"))
    assert out["reorganisation"]["undone_to"] == replaced and out["reorganisation"]["fork"] < replaced
    assert "GONE-BY-REORG" not in [r["reference"] for r in json.loads(ok("--json", "list"))]
    assert ok("list") == ok("list", "--no-index")


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"status": "open"},
        {"status": "value_delivered"},
        {"overdue": True},
        {"overdue": False},
        {"at_risk": False},
        {"assignee": REP.lower()},
        {"organisation": "Sales"},
        {"playbook": 1},
        {"status": "open", "overdue": True, "organisation": "Sales"},
    ],
)
def test_the_services_reader_over_the_index_answers_as_the_chain(indexed, act, filters):
    from journeychain.index.reader import IndexReader
    from journeychain.service.reader import ClientReader, JourneyFilters

    client = act[0]
    with Index.open(None, indexed) as index:
        reader, on_chain = IndexReader(index, client), ClientReader(client)
        assert reader.journeys(JourneyFilters(**filters)) == on_chain.journeys(JourneyFilters(**filters))
        for row in on_chain.journeys(JourneyFilters(**filters)):
            assert reader.journey(row["journey_id"]) == on_chain.journey(row["journey_id"])


def test_the_services_reader_refuses_as_the_chain_does(indexed, act):
    from journeychain.errors import ConfigError, NotFoundError
    from journeychain.index.reader import IndexReader
    from journeychain.service.reader import JourneyFilters

    with Index.open(None, indexed) as index:
        reader = IndexReader(index, act[0])
        with pytest.raises(NotFoundError, match="journey NOBODY was never opened on this deployment"):
            reader.journey("NOBODY")
        with pytest.raises(
            IndexStoreError, match=r"there is no organisation named 'Nowhere' \(see `journey org list`\)"
        ):
            reader.journeys(JourneyFilters(organisation="Nowhere"))
        with pytest.raises(ConfigError, match="status 'done' is not a journey status"):
            reader.journeys(JourneyFilters(status="done"))
