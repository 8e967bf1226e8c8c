"""`journey serve --index`: the service answers its journey reads (GET /journeys with its
filters, GET /journeys/{journey}) from the index, brought up to date on each read, with the same
answers as from the chain's views.

The module's chain: the demo's five journeys (journeychain.demo); the service runs in this
process and is called through FastAPI's TestClient.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from service_helpers import add_integration, journey_home, served

from journeychain.demo import SCENARIOS, network
from journeychain.index import Index
from journeychain.index.reader import IndexReader
from journeychain.service.app import create_app
from journeychain.service.store import Store


@pytest.fixture(scope="module")
def apis(tmp_path_factory):
    work = tmp_path_factory.mktemp("service-index")
    with journey_home(work), network(work) as (chain, crew):
        for reference, scenario in SCENARIOS:
            scenario(crew, reference, lambda: None)
        store = Store(f"sqlite:///{work / 'service.sqlite'}")
        crm = add_integration(store, chain, "crm", [1])
        from_chain = served(chain, crew, store, [1])
        from_index = served(chain, crew, store, [1])
        index = Index.open(str(work / "index.sqlite"), crew.deployment)
        from_index.reader = IndexReader(index, from_index.client)
        with (
            TestClient(create_app(from_chain)) as chain_api,
            TestClient(create_app(from_index)) as index_api,
        ):
            yield chain_api, index_api, crm.headers, crew
        index.close()


@pytest.mark.parametrize(
    "query",
    ["", "?status=open", "?status=value_delivered", "?overdue=true", "?at_risk=false", "?organisation=Sales"],
)
def test_journeys_read_from_the_index_answer_as_from_the_chain(apis, query):
    chain_api, index_api, headers, _ = apis
    on_chain = chain_api.get(f"/journeys{query}", headers=headers)
    indexed = index_api.get(f"/journeys{query}", headers=headers)
    assert on_chain.status_code == indexed.status_code == 200
    assert indexed.json() == on_chain.json()


def test_a_journey_read_from_the_index_answers_as_from_the_chain(apis):
    chain_api, index_api, headers, crew = apis
    for reference, _ in SCENARIOS:
        jid = "0x" + crew.journeys[reference].hex()
        on_chain = chain_api.get(f"/journeys/{jid}", headers=headers)
        assert on_chain.status_code == 200
        assert index_api.get(f"/journeys/{jid}", headers=headers).json() == on_chain.json()
    missing = index_api.get("/journeys/NEVER-OPENED", headers=headers)
    assert missing.status_code == chain_api.get("/journeys/NEVER-OPENED", headers=headers).status_code == 404
