"""A small SensorThings API stand-in for tests: Things (with their expanded entities) and
Observations per Datastream, paged with ``$top``/``$skip`` and ``@iot.nextLink``, counted with
``@iot.count``, filtered by ``phenomenonTime gt|ge <time>``."""

from __future__ import annotations

import json
from http.server import SimpleHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from upstream import Upstream

ROOT = "/sta/v1.1"


class SensorThingsStandIn:
    def __init__(self, upstream: Upstream, *, page: int = 100) -> None:
        self.upstream = upstream
        self.things: list[dict[str, Any]] = []
        self.observations: dict[str, list[dict[str, Any]]] = {}
        self.page = page
        self.fail: set[str] = set()
        """Datastream ids whose Observations answer 500."""
        self.unordered = False
        """Answer Observations newest first, ignoring ``$orderby``."""
        self.short_count = 0
        """Added to every ``@iot.count`` (a server that promises more than it has)."""
        self.loop = False
        """The last page's ``@iot.nextLink`` leads back to the first page."""
        upstream.routes[f"{ROOT}/Things"] = self._things

    @property
    def url(self) -> str:
        return self.upstream.url(ROOT)

    def add_thing(self, thing: dict[str, Any]) -> None:
        self.things.append(thing)
        for datastream in thing.get("Datastreams") or ():
            ds_id = str(datastream["@iot.id"])
            self.observations.setdefault(ds_id, [])
            path = f"{ROOT}/Datastreams({ds_id})/Observations"
            self.upstream.routes[path] = self._observations_of(ds_id)

    def add_collection(self, name: str, rows: list[dict[str, Any]]) -> str:
        """Serve ``rows`` as a paged collection at ``{root}/{name}``; returns its URL."""
        self.upstream.routes[f"{ROOT}/{name}"] = lambda handler: self._answer(handler, rows)
        return self.upstream.url(f"{ROOT}/{name}")

    def _things(self, handler: SimpleHTTPRequestHandler) -> None:
        self._answer(handler, self.things)

    def _observations_of(self, ds_id: str) -> Any:
        def answer(handler: SimpleHTTPRequestHandler) -> None:
            if ds_id in self.fail:
                handler.send_response(500)
                handler.send_header("Content-Length", "0")
                handler.end_headers()
                return
            query = parse_qs(urlsplit(handler.path).query)
            rows = self.observations[ds_id]
            condition = (query.get("$filter") or [""])[0]
            if condition:
                _, op, value = condition.split(" ", 2)
                rows = [r for r in rows if _after(r.get("phenomenonTime"), op, value)]
            rows = sorted(rows, key=lambda r: str(r.get("phenomenonTime")), reverse=self.unordered)
            self._answer(handler, rows)

        return answer

    def _answer(self, handler: SimpleHTTPRequestHandler, rows: list[dict[str, Any]]) -> None:
        parts = urlsplit(handler.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        top = min(int(query.get("$top", self.page)), self.page)
        skip = int(query.get("$skip", 0))
        body: dict[str, Any] = {"value": rows[skip : skip + top]}
        if query.get("$count") == "true":
            body["@iot.count"] = len(rows) + self.short_count
        if skip + top < len(rows):
            following = {**query, "$skip": str(skip + top), "$top": str(top)}
            body["@iot.nextLink"] = self.upstream.url(parts.path) + "?" + urlencode(following)
        elif self.loop and skip > 0:
            first = {**query, "$skip": "0", "$top": str(top)}
            body["@iot.nextLink"] = self.upstream.url(parts.path) + "?" + urlencode(first)
        data = json.dumps(body, ensure_ascii=False).encode()  # UTF-8, as FROST-Server sends
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)


def _after(when: Any, op: str, value: str) -> bool:
    """Whether an observation passes ``phenomenonTime gt|ge value`` (malformed ones always do,
    so that tests can send them)."""
    if not isinstance(when, str) or not when[:1].isdigit():
        return True
    return when > value if op == "gt" else when >= value
