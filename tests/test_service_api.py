"""The journey service's HTTP API, as a CRM calls it: every endpoint, every refusal with its
status and sentence, idempotent retries, signed webhooks (stale and replayed refused).

A private anvil of its own (a free port) carries the suite; the service runs in this process,
its worker sending through the SDK, and is called through FastAPI's TestClient.
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from service_helpers import BOOKING, add_integration, customer, journey_home, served, wait_final

from journeychain.accounts import dev_account
from journeychain.demo import HOUR, network
from journeychain.encoding import journey_id
from journeychain.service.app import create_app, pages_router
from journeychain.service.auth import signature_header, webhook_message
from journeychain.service.store import Store
from journeychain.timeline import fetch_events


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    work = tmp_path_factory.mktemp("service")
    with journey_home(work), network(work) as (chain, crew):
        store = Store(f"sqlite:///{work / 'service.sqlite'}")
        crm = add_integration(store, chain, "crm", [1, 2, 4])
        finance = add_integration(store, chain, "finance", [7])
        verifier = add_integration(store, chain, "verifier", [6])
        hubspot = add_integration(store, chain, "hubspot", [2], signed=True)
        service = served(chain, crew, store, [1, 2, 4, 6, 7])
        service.start()
        try:
            pages = pages_router(service, dev_account(0, chain), crew.names(), poll=0.2)
            with TestClient(create_app(service, pages)) as http:
                yield (
                    http,
                    chain,
                    crew,
                    service,
                    {
                        "crm": crm,
                        "finance": finance,
                        "verifier": verifier,
                        "hubspot": hubspot,
                    },
                )
        finally:
            service.stop()


def call(api, method: str, path: str, who: str = "crm", **kwargs):
    http, _chain, _crew, _service, ints = api
    headers = dict(ints[who].headers) | kwargs.pop("headers", {})
    return http.request(method, path, headers=headers, **kwargs)


def get(api, path: str, who: str = "crm"):
    answer = call(api, "GET", path, who)
    assert answer.status_code == 200, answer.text
    return answer.json()


def write(api, path: str, body: dict, who: str = "crm", **kwargs) -> dict:
    """A write that must be accepted; returns its job once final."""
    answer = call(api, "POST", path, who, json=body, **kwargs)
    assert answer.status_code in (200, 202), answer.text
    return wait_final(lambda p: get(api, p, who), answer.json()["id"])


def refused(answer, status: int, sentence: str) -> None:
    assert answer.status_code == status, (answer.status_code, answer.text)
    assert sentence in answer.json()["error"], answer.json()


def dev(api, n: int) -> str:
    return dev_account(n, api[1]).address


def opened(api, reference: str) -> dict:
    body = {"reference": reference, **customer(reference), "funder": dev(api, 7), "as": "dev:1"}
    job = write(api, "/journeys", body)
    assert job["state"] == "mined", job
    return job


def count(api, event: str, reference: str) -> int:
    _http, chain, crew, _service, _ints = api
    logs = fetch_events(
        chain.w3, [crew.engine], [event], crew.deployment.block, journey=journey_id(reference)
    )
    return len(logs)


# --- the documents -------------------------------------------------------------------------


def test_openapi_document_and_docs_are_served(api):
    http = api[0]
    doc = http.get("/openapi.json").json()
    for path in (
        "/journeys",
        "/journeys/{journey}",
        "/journeys/{journey}/steps/{step}/complete",
        "/journeys/{journey}/attestations",
        "/journeys/{journey}/fund",
        "/journeys/{journey}/flag",
        "/journeys/{journey}/escalate",
        "/jobs/{job_id}",
        "/subscriptions",
    ):
        assert path in doc["paths"], path
    assert "swagger" in http.get("/docs").text.lower()


# --- authentication ------------------------------------------------------------------------


def test_a_request_without_a_token_is_refused_401(api):
    refused(api[0].get("/journeys"), 401, "no credentials: send Authorization: Bearer TOKEN")


def test_an_unknown_token_is_refused_401(api):
    answer = api[0].get("/journeys", headers={"Authorization": "Bearer jc_not-a-token"})
    refused(answer, 401, "this API token is unknown or was removed")


def test_an_authorization_header_that_is_no_bearer_token_is_refused_401(api):
    answer = api[0].get("/journeys", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    refused(answer, 401, "the Authorization header must read Bearer TOKEN")


def test_a_malformed_webhook_signature_is_refused_401(api):
    headers = {"Journey-Signature": "v1=abc", "Journey-Integration": "hubspot"}
    refused(
        api[0].get("/journeys", headers=headers), 401, "the Journey-Signature header must read t=TIMESTAMP"
    )


def test_a_webhook_that_names_no_integration_is_refused_401(api):
    headers = {"Journey-Signature": f"t={int(time.time())},v1=abc"}
    answer = api[0].get("/journeys", headers=headers)
    refused(answer, 401, "a signed webhook names its integration in the Journey-Integration header")


def test_a_write_as_an_account_not_bound_to_the_integration_is_refused_403(api):
    body = {"reference": "SVC-403", **customer("SVC-403"), "funder": dev(api, 7), "as": "dev:7"}
    answer = call(api, "POST", "/journeys", json=body)
    refused(answer, 403, "integration 'crm' may act only as dev:1")
    assert "not as dev:7" in answer.json()["error"]
    assert count(api, "JourneyOpened", "SVC-403") == 0


def test_an_integration_of_several_accounts_must_name_one(api):
    body = {"reference": "SVC-WHO", **customer("SVC-WHO"), "funder": dev(api, 7)}
    refused(call(api, "POST", "/journeys", json=body), 403, "acts as several accounts (dev:1, dev:2, dev:4)")


# --- a journey through the service ---------------------------------------------------------


def test_open_answers_202_with_a_job_that_is_mined(api):
    body = {"reference": "SVC-1", **customer("SVC-1"), "funder": dev(api, 7), "as": "dev:1"}
    answer = call(api, "POST", "/journeys", json=body)
    assert answer.status_code == 202
    job = answer.json()
    assert job["state"] in ("queued", "sent", "mined")
    assert answer.headers["Location"] == f"/jobs/{job['id']}"
    done = wait_final(lambda p: get(api, p), job["id"])
    assert done["state"] == "mined"
    assert "JourneyOpened" in done["result"]["events"]
    assert done["tx_hashes"] == [done["result"]["tx"]]
    state = get(api, "/journeys/SVC-1")
    assert state["step"] == 0 and state["status"] == "open" and state["reference"] == "SVC-1"


def test_a_retried_open_returns_the_first_job_and_sends_nothing_again(api):
    body = {"reference": "SVC-2", **customer("SVC-2"), "funder": dev(api, 7), "as": "dev:1"}
    first = write(api, "/journeys", body)
    again = call(api, "POST", "/journeys", json=body)
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first["id"] and again.json()["state"] == "mined"
    assert count(api, "JourneyOpened", "SVC-2") == 1


def test_the_same_natural_key_with_another_body_is_refused_409(api):
    body = {"reference": "SVC-3", **customer("SVC-3"), "funder": dev(api, 7), "as": "dev:1"}
    write(api, "/journeys", body)
    other = body | {"funder": dev(api, 6)}
    refused(
        call(api, "POST", "/journeys", json=other), 409, "idempotency key 'open:SVC-3' was used for another"
    )


def test_an_idempotency_key_header_used_for_another_request_is_refused_409(api):
    opened(api, "SVC-4")
    step = "/journeys/SVC-4/steps/0/complete"
    key = {"Idempotency-Key": "crm-event-4"}
    first = write(api, step, {"assign": dev(api, 2), "as": "dev:1"}, headers=key)
    assert first["state"] == "mined"
    replay = call(api, "POST", step, json={"assign": dev(api, 2), "as": "dev:1"}, headers=key)
    assert replay.json()["id"] == first["id"]
    other = call(api, "POST", step, json={"assign": dev(api, 3), "as": "dev:1"}, headers=key)
    refused(other, 409, "idempotency key 'crm-event-4' was used for another request")
    assert count(api, "StepCompleted", "SVC-4") == 1


def test_a_completion_for_another_step_than_the_current_is_refused_in_its_job(api):
    opened(api, "SVC-5")
    job = write(api, "/journeys/SVC-5/steps/lead_accepted/complete", {"as": "dev:2"})
    assert job["state"] == "refused"
    assert job["error"] == (
        "journey SVC-5 is at step 0 (lead_qualified), not step 1: this completion is for another step"
    )
    assert count(api, "StepCompleted", "SVC-5") == 0


def test_a_booking_without_its_fields_is_refused_with_the_rules_sentence_then_made(api):
    opened(api, "SVC-6")
    assert (
        write(api, "/journeys/SVC-6/steps/0/complete", {"assign": dev(api, 2), "as": "dev:1"})["state"]
        == "mined"
    )
    assert write(api, "/journeys/SVC-6/steps/1/complete", {"as": "dev:2"})["state"] == "mined"
    funded = write(api, "/journeys/SVC-6/fund", {"amount": "1000"}, who="finance")
    assert funded["state"] == "mined" and "PoolFunded" in funded["result"]["events"]
    attested = write(api, "/journeys/SVC-6/attestations", {"schema": "identity_verified"}, who="verifier")
    assert attested["state"] == "mined" and "Attested" in attested["result"]["events"]
    partial = {k: v for k, v in BOOKING.items() if k != "success_criteria"}
    missing = write(
        api,
        "/journeys/SVC-6/steps/deal_booked/complete",
        {"fields": partial, "org": "Customer Success", "as": "dev:2"},
        headers={"Idempotency-Key": "booking-try-1"},
    )
    assert missing["state"] == "refused"
    assert "field success_criteria is missing" in missing["error"]
    booked = write(
        api,
        "/journeys/SVC-6/steps/deal_booked/complete",
        {"fields": BOOKING, "org": "Customer Success", "as": "dev:2"},
    )
    assert booked["state"] == "mined", booked
    assert get(api, "/journeys/SVC-6")["step_name"] == "onboarding_started"
    # a finished job keeps no field value (they stay in the evidence vault)
    stored = api[3].store.job(booked["id"])
    assert "grow 20%" not in json.dumps(stored.params)


def test_a_write_without_any_idempotency_key_is_refused_400(api):
    opened(api, "SVC-7")
    refused(
        call(api, "POST", "/journeys/SVC-7/flag", json={"as": "dev:1"}),
        400,
        "a flag needs an Idempotency-Key header, or the step it is for in 'step'",
    )


def test_a_flag_before_the_deadline_is_refused_with_the_rules_sentence(api):
    job = write(api, "/journeys/SVC-7/flag", {"step": 0, "as": "dev:1"})
    assert job["state"] == "refused" and job["rule"] == "DeadlineNotPassed"
    assert "deadline" in job["error"] and "SVC-7" in job["error"]


def test_bad_input_is_refused_422_with_a_sentence(api):
    body = {"reference": "SVC-8", **customer("SVC-8"), "funder": "0x1234", "as": "dev:1"}
    refused(call(api, "POST", "/journeys", json=body), 422, "funder: '0x1234' is not an address")
    refused(
        call(api, "POST", "/journeys/SVC-1/fund", who="finance", json={"amount": "-5"}),
        422,
        "amount '-5' is not a positive number of tokens",
    )
    refused(call(api, "GET", "/journeys?status=lost"), 422, "status 'lost' is not a journey status")
    refused(call(api, "POST", "/journeys", json={"reference": "SVC-8"}), 422, "customer: Field required")


def test_an_unknown_journey_or_job_is_404(api):
    refused(call(api, "GET", "/journeys/NOPE-1"), 404, "NOPE-1")
    refused(call(api, "GET", "/jobs/00000000-0000-0000-0000-000000000000"), 404, "there is no job")


def test_another_integrations_job_is_not_shown(api):
    job = opened(api, "SVC-9")
    refused(call(api, "GET", f"/jobs/{job['id']}", who="finance"), 404, "there is no job")
    assert job["id"] in [j["id"] for j in get(api, "/jobs?state=mined")]


def test_journeys_are_listed_by_every_filter(api):
    opened(api, "SVC-L")
    write(api, "/journeys/SVC-L/steps/0/complete", {"assign": dev(api, 3), "as": "dev:1"})
    refs = lambda q: {j["reference"] for j in get(api, "/journeys" + q)}  # noqa: E731
    assert "SVC-L" in refs("?status=open&playbook=1")
    assert "SVC-L" not in refs("?status=expired")
    assert refs(f"?assignee={dev(api, 3)}") == {"SVC-L"}
    assert "SVC-L" in refs("?organisation=Sales") and "SVC-L" not in refs("?organisation=Marketing")
    assert "SVC-1" in refs("?organisation=Marketing")
    assert "SVC-L" in refs("?overdue=false") and "SVC-L" not in refs("?overdue=true")
    assert "SVC-L" not in refs("?at_risk=true")


# --- signed webhooks -----------------------------------------------------------------------


def signed(api, path: str, body: dict, stamp: int | None = None, secret: str | None = None):
    http, _chain, _crew, _service, ints = api
    raw = json.dumps(body).encode()
    header = signature_header(secret or ints["hubspot"].secret, webhook_message("POST", path, raw), stamp)
    headers = {
        "Journey-Signature": header,
        "Journey-Integration": "hubspot",
        "Content-Type": "application/json",
    }
    return http.post(path, content=raw, headers=headers), headers, raw


def test_a_signed_webhook_is_accepted_once_and_its_replay_refused(api):
    opened(api, "SVC-H")
    write(api, "/journeys/SVC-H/steps/0/complete", {"assign": dev(api, 2), "as": "dev:1"})
    path = "/journeys/SVC-H/steps/1/complete"
    answer, headers, raw = signed(api, path, {})
    assert answer.status_code == 202, answer.text
    assert wait_final(lambda p: get(api, p, "hubspot"), answer.json()["id"])["state"] == "mined"
    replay = api[0].post(path, content=raw, headers=headers)
    refused(replay, 401, "this webhook's signature was accepted before")


def test_a_stale_webhook_is_refused(api):
    answer, _h, _raw = signed(api, "/journeys/SVC-H/flag", {"step": 2}, stamp=int(time.time()) - 6 * 60)
    refused(answer, 401, "the webhook's signature is stale")


def test_a_webhook_signed_with_another_secret_is_refused(api):
    answer, _h, _raw = signed(api, "/journeys/SVC-H/flag", {"step": 2}, secret="jcs_wrong")
    refused(answer, 401, "the webhook's signature does not match")


def test_a_webhook_of_an_integration_without_a_secret_is_refused(api):
    raw = b"{}"
    header = signature_header("jcs_x", webhook_message("POST", "/journeys/SVC-H/flag", raw))
    answer = api[0].post(
        "/journeys/SVC-H/flag",
        content=raw,
        headers={"Journey-Signature": header, "Journey-Integration": "crm"},
    )
    refused(answer, 401, "integration 'crm' has no webhook secret")


# --- breaches and escalation (moves the chain's clock: last) --------------------------------


def test_a_late_step_is_flagged_and_escalated(api):
    _http, chain, _crew, _service, _ints = api
    opened(api, "SVC-E")
    write(api, "/journeys/SVC-E/steps/0/complete", {"assign": dev(api, 2), "as": "dev:1"})
    due = get(api, "/journeys/SVC-E")["deadline"]  # 24 working hours after the hand-over
    chain.advance(due + HOUR - chain.now())
    assert "SVC-E" in {j["reference"] for j in get(api, "/journeys?overdue=true")}
    flagged = write(api, "/journeys/SVC-E/flag", {"step": 1, "as": "dev:1"})
    assert flagged["state"] == "mined" and "BreachRecorded" in flagged["result"]["events"]
    escalated = write(api, "/journeys/SVC-E/escalate", {"to": dev(api, 3), "step": 1, "as": "dev:1"})
    assert escalated["state"] == "mined", escalated
    assert get(api, "/journeys/SVC-E")["assignee"] == dev(api, 3)
    again = write(api, "/journeys/SVC-E/flag", {"step": 0, "as": "dev:1"})
    assert again["state"] == "refused"
    assert again["error"].startswith("journey SVC-E is at step 1 (lead_accepted), not step 0")


# --- the rest of the endpoints ---------------------------------------------------------------


def test_health_names_the_chain_and_the_engine(api):
    _http, chain, crew, _service, _ints = api
    assert api[0].get("/health").json() == {
        "ok": True,
        "chain_id": chain.chain_id,
        "engine": crew.deployment.engine,
    }


def test_subscriptions_are_listed_and_removed(api):
    made = call(api, "POST", "/subscriptions", json={"url": "http://127.0.0.1:9/hook", "events": ["breach"]})
    assert made.status_code == 201 and made.json()["secret"].startswith("jcs_")
    sid = made.json()["id"]
    assert [s["id"] for s in get(api, "/subscriptions")] == [sid]
    assert "secret" not in get(api, "/subscriptions")[0]
    assert get(api, "/subscriptions", who="finance") == []  # another integration's are not shown
    refused(call(api, "DELETE", f"/subscriptions/{sid}", who="finance"), 404, "there is no subscription")
    assert call(api, "DELETE", f"/subscriptions/{sid}").status_code == 204
    refused(call(api, "GET", f"/subscriptions/{sid}/deliveries"), 404, "there is no subscription")


def test_an_opened_journey_is_kept_in_the_local_records(api):
    opened(api, "SVC-R")
    records = json.loads((Path(os.environ["JOURNEY_HOME"]) / "journeys.json").read_text())
    kept = [r for by_deployment in records.values() for r in by_deployment.values()]
    assert any(r["reference"] == "SVC-R" and r["profile"].startswith("0x") for r in kept)


def test_a_write_for_an_account_the_service_holds_no_key_of_is_refused_403(api):
    _http, chain, _crew, service, ints = api
    ints["late"] = add_integration(service.store, chain, "late", [5])
    body = {"reference": "SVC-K", **customer("SVC-K"), "funder": dev(api, 7)}
    answer = call(api, "POST", "/journeys", who="late", json=body)
    refused(answer, 403, f"the service holds no key for {dev(api, 5)}, which integration 'late' is bound to")
    assert service.store.jobs(service.key, limit=1000) and all(
        j.integration != "late" for j in service.store.jobs(service.key, limit=1000)
    )


def test_the_same_write_sent_many_times_at_once_is_one_job_and_one_transaction(api):
    body = {"reference": "SVC-C", **customer("SVC-C"), "funder": dev(api, 7), "as": "dev:1"}
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _n: call(api, "POST", "/journeys", json=body), range(8)))
    assert {a.status_code for a in answers} <= {200, 202}
    ids = {a.json()["id"] for a in answers}
    assert len(ids) == 1
    assert wait_final(lambda p: get(api, p), ids.pop())["state"] == "mined"
    assert count(api, "JourneyOpened", "SVC-C") == 1


# --- the web pages it serves -----------------------------------------------------------------


def test_the_service_serves_the_dashboard_to_its_integrations_and_the_customer_page_to_a_link(api):
    import time as _time

    from journeychain.web.links import CustomerLinks

    http, _chain, crew, _service, ints = api
    assert http.get("/dashboard", follow_redirects=False).headers["location"] == "/dashboard/login"
    assert http.get("/api/web/journeys").status_code == 401
    opened(api, "SVC-WEB-1")
    rows = http.get("/api/web/journeys", headers=ints["crm"].headers).json()["journeys"]
    assert "SVC-WEB-1" in {r["reference"] for r in rows}
    # the journey the service opened is recorded: its customer's page opens by its link
    jid = journey_id("SVC-WEB-1")
    token = CustomerLinks.load(str(crew.deployment.key)).issue(jid, int(_time.time()) + 600)
    view = http.get(f"/api/customer/{token}")
    assert view.status_code == 200 and view.json()["journey"] == "0x" + jid.hex()
    asked = http.post(f"/api/customer/{token}/request", json={"action": "confirm"})
    assert asked.status_code == 200 and asked.json()["typed_data"]["primaryType"] == "ConfirmValue"
