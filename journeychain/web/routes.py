"""The two web pages and the JSON they read, as one FastAPI router that `journey serve` mounts.

- `/dashboard`: journeys by status and playbook, overdue and at-risk steps first; SLA
  compliance per organisation and per step over a date range, as charts, tables and CSV;
  `/dashboard/journey/{journey}`: one journey's chain of links and its rolling-hash check.
  The pages follow `/api/web/events` (server-sent events) and refresh when a block arrives.
- `/c/{token}`: the customer's page, opened by the link the operator sends. It shows only
  that journey, and prepares the EIP-712 requests the customer signs in the browser (an
  injected wallet, else the key the link's fragment carries) and relays the signature.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Request
from fastapi.responses import FileResponse, PlainTextResponse, StreamingResponse

from journeychain.customer import CustomerRequest
from journeychain.errors import ConfigError, JourneyError, LinkError, RuleError, SignatureError
from journeychain.web.assets import STATIC, vendor_file
from journeychain.web.links import CustomerLinks
from journeychain.web.source import WebSource

#: the pages' security headers: nothing from elsewhere, no framing, no referrer (the link's token
#: is in the customer page's path)
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
PAGES = {"dashboard": "dashboard.html", "journey": "journey.html", "customer": "customer.html"}


def _status(exc: JourneyError) -> int:
    if isinstance(exc, LinkError):
        return 410 if "expired" in str(exc) else 404
    if isinstance(exc, SignatureError):
        return 422
    if isinstance(exc, RuleError):
        return 409
    if isinstance(exc, ConfigError):
        return 400
    return 502


def _time(value: str | None, name: str) -> int | None:
    """A date (2026-12-01), an ISO time or a Unix time from a query parameter."""
    if not value:
        return None
    if value.isdigit():
        return int(value)
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise HTTPException(400, f"{name}={value!r} is not a date (2026-12-01) or a time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return int(parsed.timestamp())


def web_router(source: WebSource, links: CustomerLinks, poll: float = 1.0) -> APIRouter:
    """The pages and their JSON, reading through `source`; customer links checked by `links`."""
    router = APIRouter()
    lock = threading.Lock()  # one reader of the chain at a time: the client is not shared-safe

    def run(fn: Callable[[], Any]) -> Any:
        try:
            with lock:
                return fn()
        except JourneyError as exc:
            raise HTTPException(_status(exc), str(exc)) from None

    def page(name: str) -> FileResponse:
        return FileResponse(STATIC / PAGES[name], media_type="text/html", headers=HEADERS)

    @router.get("/dashboard", include_in_schema=False)
    def dashboard_page() -> FileResponse:
        return page("dashboard")

    @router.get("/dashboard/journey/{journey}", include_in_schema=False)
    def journey_page(journey: str) -> FileResponse:
        return page("journey")

    @router.get("/c/{token}", include_in_schema=False)
    def customer_page(token: str) -> FileResponse:
        return page("customer")

    @router.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> FileResponse:
        path = vendor_file(name) or (STATIC / name if name in _STATIC_FILES else None)
        if path is None or not path.is_file():
            raise HTTPException(404, f"no such file: {name}")
        return FileResponse(
            path, headers={"Cache-Control": "max-age=3600", "X-Content-Type-Options": "nosniff"}
        )

    @router.get("/api/web/version", tags=["web"])
    def version() -> dict[str, int]:
        return {"block": run(source.version)}

    @router.get("/api/web/events", tags=["web"])
    async def events(request: Request) -> StreamingResponse:
        """Server-sent events: one `block` event each time a new block arrives."""

        async def stream() -> AsyncIterator[str]:
            last = -1
            yield "retry: 2000\n\n"
            while not await request.is_disconnected():
                try:
                    block = await asyncio.to_thread(run, source.version)
                except HTTPException:
                    block = last
                if block != last:
                    last = block
                    yield f"event: block\ndata: {block}\n\n"
                await asyncio.sleep(poll)

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
        )

    @router.get("/api/web/journeys", tags=["web"])
    def journeys() -> dict[str, Any]:
        return {"now": run(source.now), "journeys": run(source.journeys)}

    @router.get("/api/web/compliance", tags=["web"])
    def compliance(since: str | None = None, until: str | None = None) -> dict[str, Any]:
        return run(lambda: source.compliance(_time(since, "since"), _time(until, "until")))

    @router.get("/api/web/compliance.csv", tags=["web"])
    def compliance_csv(since: str | None = None, until: str | None = None) -> PlainTextResponse:
        text = run(lambda: source.compliance_csv(_time(since, "since"), _time(until, "until")))
        return PlainTextResponse(
            text,
            media_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="sla-compliance.csv"'},
        )

    @router.get("/api/web/journey/{journey}", tags=["web"])
    def journey(journey: str) -> dict[str, Any]:
        return run(lambda: source.journey(source.journey_id(journey)))

    def opened(token: str) -> bytes:
        return run(lambda: links.open(token, source.now()).journey)

    @router.get("/api/customer/{token}", tags=["customer"])
    def customer_view(token: str) -> dict[str, Any]:
        jid = opened(token)
        return run(lambda: source.customer_view(jid))

    @router.post("/api/customer/{token}/request", tags=["customer"])
    def customer_request(token: str, body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
        """EIP-712 typed data for the customer to sign: `action` confirm, dispute (`step`,
        `text` the reason) or rate (`step`, `score` 1-5, `text` the comment)."""
        jid = opened(token)
        step, score = body.get("step"), body.get("score")
        if step is not None and not isinstance(step, int):
            raise HTTPException(400, "step is a step number")
        if score is not None and not isinstance(score, int):
            raise HTTPException(400, "score is a number from 1 to 5")
        text = body.get("text") or ""
        if not isinstance(text, str) or len(text) > 2_000:
            raise HTTPException(400, "text is at most 2,000 characters")
        request = run(lambda: source.customer_request(jid, str(body.get("action")), step, score, text))
        data = request.as_dict()
        data.pop("statement", None)  # the text and its salt stay in the operator's vault
        return data

    @router.post("/api/customer/{token}/submit", tags=["customer"])
    def customer_submit(token: str, body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
        """Relays the customer's signature over a request this page prepared."""
        jid = opened(token)
        signature = body.get("signature")
        if not isinstance(signature, str) or not signature.startswith("0x"):
            raise HTTPException(400, "signature is the 0x signature the wallet returned")
        request = run(lambda: CustomerRequest.from_dict(body.get("request"), "the request"))
        return run(lambda: source.customer_submit(jid, request, signature))

    return router


_STATIC_FILES = {"style.css", "common.js", "dashboard.js", "journey.js", "customer.js"}
