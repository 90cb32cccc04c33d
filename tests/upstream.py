"""A local stand-in for upstream servers: serves files from a folder over HTTP, plus routes that
fail on purpose. Tests never reach the internet."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

Route = Callable[[SimpleHTTPRequestHandler], None]


class Upstream:
    """``with Upstream(folder) as up: up.url("file.geojson")``; ``up.routes[path] = handler``
    answers ``path`` with a handler of the test's own (to send errors, truncated bodies …)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.routes: dict[str, Route] = {}
        self.requests: list[str] = []
        upstream = self

        class Handler(SimpleHTTPRequestHandler):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, directory=str(upstream.folder), **kwargs)

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                upstream.requests.append(self.path)
                route = upstream.routes.get(self.path.split("?", 1)[0])
                if route is not None:
                    upstream.answer(self, route)
                    return
                super().do_GET()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, handler: SimpleHTTPRequestHandler, route: Route) -> None:
        """Answer a request with its route (a subclass may alter the answer on its way)."""
        route(handler)

    def url(self, path: str) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/{path.lstrip('/')}"

    def __enter__(self) -> Upstream:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def status(code: int, body: bytes = b"") -> Route:
    def answer(handler: SimpleHTTPRequestHandler) -> None:
        handler.send_response(code)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return answer


def truncated(body: bytes, cut: int) -> Route:
    """Promise the whole body, send ``cut`` bytes of it, then close the connection."""

    def answer(handler: SimpleHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body[:cut])
        handler.wfile.flush()
        handler.close_connection = True

    return answer
