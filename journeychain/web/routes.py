"""The two web pages and the JSON they read, as FastAPI routers that `journey serve` mounts.

- `/dashboard`: journeys by status and playbook, overdue and at-risk steps first; SLA
  compliance per organisation and per step over a date range, as charts, tables and CSV;
  `/dashboard/journey/{journey}`: one journey's chain of links and its rolling-hash check.
  The pages follow `/api/web/events` (server-sent events) and refresh when a block arrives.
  With a `viewer` check (`journey serve`: an integration's API token), the dashboard and its
  JSON need a session: `/dashboard/login` takes the token once and sets an HttpOnly cookie.
- `/c/{token}`: the customer's page, opened by the link the operator sends. It shows only
  that journey, and prepares the EIP-712 requests the customer signs in the browser (an
  injected wallet, else the key the link's fragment carries) and relays the signature.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Form, HTTPException, Request
from fastapi.responses import FileResponse, PlainTextResponse, RedirectResponse, StreamingResponse
from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import Timeout

from journeychain.errors import ConfigError, JourneyError, LinkError, RuleError, SignatureError
from journeychain.web.assets import STATIC, vendor_file
from journeychain.web.links import CustomerLinks
from journeychain.web.source import WebSource

#: the pages' security headers: nothing from elsewhere, no framing, no referrer (the link's token
#: is in the customer page's path), nothing cached
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
PAGES = {
    "dashboard": "dashboard.html",
    "journey": "journey.html",
    "customer": "customer.html",
    "login": "login.html",
}
STATIC_FILES = {"style.css", "common.js", "dashboard.js", "journey.js", "customer.js"}
SESSION_COOKIE = "journeychain_dashboard"
SESSION_LIFE = 12 * 3_600


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


class _Blocks:
    """One poller of the chain's latest block for every page that follows it: each stream
    waits on it instead of asking the node itself, and a dead node is one sentence, not a
    crash per client."""

    def __init__(self, read: Callable[[], int], poll: float):
        self._read, self._poll = read, poll
        self.block = -1
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            try:
                block = await asyncio.to_thread(self._read)
            except Exception:  # the node is away: keep the last block, ask again later
                block = self.block
            if block != self.block:
                async with self._changed:
                    self.block = block
                    self._changed.notify_all()
            await asyncio.sleep(self._poll)

    async def next(self, seen: int, timeout: float = 15.0) -> int:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait_for(lambda: self.block != seen), timeout)
        return self.block


def web_router(
    source: WebSource,
    links: CustomerLinks,
    poll: float = 1.0,
    viewer: Callable[[str], bool] | None = None,
) -> APIRouter:
    """The pages and their JSON, reading through `source`; customer links checked by `links`.
    `viewer(token)` says whether a token may see the dashboard (None: anyone who reaches the
    port may, as `journey demo --serve` on 127.0.0.1 does)."""
    router = APIRouter()
    lock = threading.Lock()  # one reader of the chain at a time: the client is not shared-safe
    blocks = _Blocks(lambda: run(source.version), poll)

    def run(fn: Callable[[], Any]) -> Any:
        try:
            with lock:
                return fn()
        except JourneyError as exc:
            raise HTTPException(_status(exc), str(exc)) from None
        except (RequestsConnectionError, Timeout):
            raise HTTPException(503, "the chain's node did not answer: try again in a moment") from None

    def page(name: str) -> FileResponse:
        return FileResponse(STATIC / PAGES[name], media_type="text/html", headers=HEADERS)

    def signed_in(request: Request) -> bool:
        if viewer is None:
            return True
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer ") and viewer(auth[7:].strip()):
            return True
        cookie = request.cookies.get(SESSION_COOKIE, "")
        return bool(cookie) and links.session_valid(cookie, int(time.time()))

    def dashboard_access(request: Request) -> None:
        if not signed_in(request):
            raise HTTPException(401, "sign in to the dashboard with an API token: /dashboard/login")

    guarded = [Depends(dashboard_access)]

    # -- the dashboard -------------------------------------------------------------------

    @router.get("/dashboard", include_in_schema=False, response_model=None)
    def dashboard_page(request: Request) -> FileResponse | RedirectResponse:
        return page("dashboard") if signed_in(request) else RedirectResponse("/dashboard/login", 303)

    @router.get("/dashboard/journey/{journey}", include_in_schema=False, response_model=None)
    def journey_page(journey: str, request: Request) -> FileResponse | RedirectResponse:
        return page("journey") if signed_in(request) else RedirectResponse("/dashboard/login", 303)

    @router.get("/dashboard/login", include_in_schema=False)
    def login_page() -> FileResponse:
        return page("login")

    @router.post("/dashboard/login", include_in_schema=False)
    def login(token: Annotated[str, Form()]) -> RedirectResponse:
        if viewer is not None and not viewer(token.strip()):
            return RedirectResponse("/dashboard/login?refused=1", 303)
        done = RedirectResponse("/dashboard", 303)
        done.set_cookie(
            SESSION_COOKIE,
            links.session(int(time.time()) + SESSION_LIFE),
            max_age=SESSION_LIFE,
            httponly=True,
            samesite="strict",
            path="/",
        )
        return done

    @router.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> FileResponse:
        path = vendor_file(name) or (STATIC / name if name in STATIC_FILES else None)
        if path is None or not path.is_file():
            raise HTTPException(404, f"no such file: {name}")
        return FileResponse(
            path, headers={"Cache-Control": "max-age=3600", "X-Content-Type-Options": "nosniff"}
        )

    @router.get("/api/web/version", tags=["web"], dependencies=guarded)
    def version() -> dict[str, int]:
        return {"block": run(source.version)}

    @router.get("/api/web/events", tags=["web"], dependencies=guarded)
    async def events(request: Request) -> StreamingResponse:
        """Server-sent events: one `block` event each time a new block arrives."""

        async def stream() -> AsyncIterator[str]:
            seen = -1
            yield "retry: 2000\n\n"
            while not await request.is_disconnected():
                block = await blocks.next(seen)
                if block != seen and block >= 0:
                    seen = block
                    yield f"event: block\ndata: {block}\n\n"
                else:
                    yield ": still here\n\n"

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
        )

    @router.get("/api/web/journeys", tags=["web"], dependencies=guarded)
    def journeys() -> dict[str, Any]:
        return {"now": run(source.now), "journeys": run(source.journeys)}

    @router.get("/api/web/compliance", tags=["web"], dependencies=guarded)
    def compliance(since: str | None = None, until: str | None = None) -> dict[str, Any]:
        return run(lambda: source.compliance(_time(since, "since"), _time(until, "until")))

    @router.get("/api/web/compliance.csv", tags=["web"], dependencies=guarded)
    def compliance_csv(since: str | None = None, until: str | None = None) -> PlainTextResponse:
        text = run(lambda: source.compliance_csv(_time(since, "since"), _time(until, "until")))
        return PlainTextResponse(
            text,
            media_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="sla-compliance.csv"'},
        )

    @router.get("/api/web/journey/{journey}", tags=["web"], dependencies=guarded)
    def journey(journey: str) -> dict[str, Any]:
        return run(lambda: source.journey(source.journey_id(journey)))

    # -- the customer's page -------------------------------------------------------------

    @router.get("/c/{token}", include_in_schema=False)
    def customer_page(token: str) -> FileResponse:
        return page("customer")

    def opened(token: str) -> bytes:
        return run(lambda: links.open(token, int(time.time())).journey)

    def private(data: dict[str, Any]) -> Any:
        from fastapi.responses import JSONResponse

        return JSONResponse(data, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})

    @router.get("/api/customer/{token}", tags=["customer"])
    def customer_view(token: str) -> Any:
        jid = opened(token)
        return private(run(lambda: source.customer_view(jid)))

    @router.post("/api/customer/{token}/request", tags=["customer"])
    def customer_request(token: str, body: Annotated[dict[str, Any], Body()]) -> Any:
        """EIP-712 typed data for the customer to sign: `action` confirm, dispute (`step`,
        `text` the reason) or rate (`step`, `score` 1-5, `text` the comment). A reason or
        comment comes back with its salt, so the page checks the commitment it signs."""
        jid = opened(token)
        step, score = body.get("step"), body.get("score")
        if step is not None and (not isinstance(step, int) or isinstance(step, bool)):
            raise HTTPException(400, "step is a step number")
        if score is not None and (not isinstance(score, int) or isinstance(score, bool)):
            raise HTTPException(400, "score is a number from 1 to 5")
        text = body.get("text") or ""
        if not isinstance(text, str) or len(text) > 2_000:
            raise HTTPException(400, "text is at most 2,000 characters")
        request = run(lambda: source.customer_request(jid, str(body.get("action")), step, score, text))
        said = request.statement or {}
        return private(
            {
                "action": request.action,
                "signer": request.signer,
                "step": request.step,
                "score": request.score,
                "typed_data": request.typed_data,
                "statement": {k: said[k] for k in ("text", "salt", "commitment")} if said else None,
            }
        )

    @router.post("/api/customer/{token}/submit", tags=["customer"])
    def customer_submit(token: str, body: Annotated[dict[str, Any], Body()]) -> Any:
        """Relays the customer's signature over a request this page prepared."""
        jid = opened(token)
        signature = body.get("signature")
        if not isinstance(signature, str) or not signature.startswith("0x"):
            raise HTTPException(400, "signature is the 0x signature the wallet returned")
        return private(run(lambda: source.customer_submit(jid, body.get("request"), signature)))

    return router
