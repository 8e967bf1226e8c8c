"""Serving the pages: the app that carries them, a server in a thread, and the demo's pages."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

from journeychain.errors import ConfigError
from journeychain.web.links import CustomerLinks
from journeychain.web.source import WebSource


def pages_app(source: WebSource, links: CustomerLinks, poll: float = 1.0) -> Any:
    """A FastAPI app with the pages only (the demo's; `journey serve` mounts them beside its API)."""
    from fastapi import FastAPI
    from fastapi.responses import RedirectResponse

    from journeychain.web.routes import web_router

    app = FastAPI(title="journeychain pages")
    app.include_router(web_router(source, links, poll))

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/dashboard")

    return app


class PageServer:
    """uvicorn in a background thread, on 127.0.0.1 unless told otherwise."""

    def __init__(self, app: Any, port: int, host: str = "127.0.0.1"):
        import uvicorn

        self.url = f"http://{host}:{port}"
        self._server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
        self._thread = threading.Thread(target=self._server.run, name="journey-pages", daemon=True)

    def __enter__(self) -> PageServer:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise ConfigError(f"the pages could not be served at {self.url}: is the port taken?")
            time.sleep(0.05)
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(10)


def demo_records(crew: Any) -> Callable[[bytes], dict[str, str] | None]:
    """The demo customers' records (signer and profile hash) by journey id, as `journey open`
    keeps them for a real operator."""

    def record(jid: bytes) -> dict[str, str] | None:
        for ref, j in crew.journeys.items():
            if j == jid:
                c = crew.customers[ref]
                return {"customer": c.key.address, "profile": "0x" + c.profile.hex()}
        return None

    return record


def demo_pages(crew: Any, port: int, say: Callable[[str], None], wait: Callable[[], None]) -> None:
    """Serve the dashboard over the demo's live chain until `wait` returns (Ctrl-C, in the
    command), with a customer link for each demo journey (their keys in the fragments)."""
    from journeychain.vault import Vault

    path = crew.vault.path
    source = WebSource(crew.relayer.client, demo_records(crew), crew.names(), vault=lambda: Vault(path))
    links = CustomerLinks(os.urandom(32), str(crew.deployment.key))  # they die with the demo's chain
    with source, PageServer(pages_app(source, links), port) as server:
        say(f"the operations dashboard: {server.url}/dashboard")
        expires = int(time.time()) + 7 * 86_400
        for ref, jid in crew.journeys.items():
            key = crew.customers[ref].key.key.hex()
            say(f"{ref}, the customer's page: {server.url}/c/{links.issue(jid, expires)}#key=0x{key}")
        wait()
