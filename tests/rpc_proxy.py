"""A JSON-RPC proxy for tests: forwards every request to a node, and can lose the reply to
chosen methods (the node acts on the request; the caller never hears back)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests


class _Handler(BaseHTTPRequestHandler):
    server: Proxy

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        try:
            method = json.loads(body).get("method")
        except (ValueError, AttributeError):
            method = None
        answer = requests.post(
            self.server.target, data=body, headers={"Content-Type": "application/json"}, timeout=60
        )
        if method in self.server.lose or method in self.server.down:
            self.server.lose.discard(method)
            self.server.lost.append(method)
            self.close_connection = True  # the node acted; the reply never comes
            return
        self.send_response(answer.status_code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    def log_message(self, format: str, *args: object) -> None:
        return


class Proxy(ThreadingHTTPServer):
    """`with Proxy(node_url) as proxy:` serves on a free port at `proxy.url`; `proxy.lose.add(m)`
    loses the next reply to method `m`."""

    daemon_threads = True

    def __init__(self, target: str):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.target = target
        self.lose: set[str] = set()
        self.lost: list[str] = []
        #: methods whose every reply is lost (a node that stops answering them)
        self.down: set[str] = set()
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    def __enter__(self) -> Proxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
