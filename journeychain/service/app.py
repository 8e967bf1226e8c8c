"""The HTTP app: FastAPI, its OpenAPI document at /openapi.json and its docs at /docs.

Every refusal answers JSON `{"error": SENTENCE, "kind": ...}` with its status: 400 a write
without an idempotency key, 401 no valid token or signature (stale, replayed), 403 an account
the integration is not bound to, 404 no such journey, job or subscription, 409 an idempotency
key used for another request, 422 bad input, 503 the chain unreachable.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import Timeout

from journeychain import __version__
from journeychain.errors import ChainError, ConfigError, JourneyError, RuleError, ServiceError
from journeychain.service.routes import jobs, journeys, subscriptions
from journeychain.service.service import Service

DESCRIPTION = """\
The journey service: a CRM or ticketing tool opens journeys and completes their steps here.
Every write answers at once (202) with a job, recorded before anything is sent; GET /jobs/{id}
says what became of it. Writes are idempotent (an `Idempotency-Key` header, or the natural key
of the journey and step). Authenticate with `Authorization: Bearer TOKEN`
(`journey serve token add`), or sign webhooks (`Journey-Signature: t=...,v1=...`).
"""


def status_of(exc: JourneyError) -> int:
    if isinstance(exc, ServiceError):
        return exc.status
    if isinstance(exc, ConfigError):
        return 422
    if isinstance(exc, RuleError):
        return 409
    if isinstance(exc, ChainError):
        return 503
    return 500


def create_app(service: Service, pages: APIRouter | None = None) -> FastAPI:
    """The service's API, and the web pages' router when given (`pages_router`)."""
    app = FastAPI(title="journeychain", version=__version__, description=DESCRIPTION)
    app.state.service = service
    app.include_router(journeys.router)
    app.include_router(jobs.router)
    app.include_router(subscriptions.router)
    if pages is not None:
        app.include_router(pages)

    @app.exception_handler(JourneyError)
    async def _refused(_request: Request, exc: JourneyError) -> JSONResponse:
        return JSONResponse({"error": str(exc), "kind": type(exc).__name__}, status_code=status_of(exc))

    @app.exception_handler(RequestsConnectionError)
    @app.exception_handler(Timeout)
    async def _unreachable(_request: Request, exc: Exception) -> JSONResponse:
        sentence = f"the chain at {service.chain.url} did not answer ({type(exc).__name__}): try again later"
        return JSONResponse({"error": sentence, "kind": "ChainError"}, status_code=503)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        sentence = f"{where}: {first.get('msg', 'invalid')}" if where else str(first.get("msg", "invalid"))
        return JSONResponse(
            {"error": sentence, "kind": "ValidationError", "details": jsonable_encoder(exc.errors())},
            status_code=422,
        )

    @app.get("/health", tags=["service"], summary="Health")
    def health() -> dict[str, object]:
        return {"ok": True, "chain_id": service.chain.chain_id, "engine": service.deployment.engine}

    return app


def pages_router(service: Service, relayer: Any, names: dict[str, str], poll: float = 1.0) -> APIRouter:
    """The dashboard and the customer's page over the service's deployment, read from its index:
    the dashboard for
    holders of an integration's API token, the customer's page for holders of its link; the
    customers' signatures relayed by `relayer` (an account, which pays their gas)."""
    from journeychain.cli.session import JourneyBook
    from journeychain.index import Index
    from journeychain.service.auth import token_hash
    from journeychain.web.links import CustomerLinks
    from journeychain.web.routes import web_router
    from journeychain.web.source import WebSource

    book = JourneyBook(service.deployment.key)
    client = service.client.with_account(relayer) if relayer is not None else service.client
    # the pages read the deployment's index (the one `journey index sync` keeps, or the reader's)
    index = getattr(service.reader, "index", None) or Index.open(None, service.deployment)
    source = WebSource(client, book.get, names, vault=service.vault, index=index)
    links = CustomerLinks.load(str(service.deployment.key))

    def viewer(token: str) -> bool:
        return bool(token) and service.store.integration_by_token(token_hash(token)) is not None

    return web_router(source, links, poll, viewer=viewer)
