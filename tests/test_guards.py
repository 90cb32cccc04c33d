"""Limits every request passes: body size, per-client search rate, and the headers answers carry."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from conftest import LiveServer, free_port

from catalogue.web.guards import TokenBucket


@pytest.fixture()
def limited(demo: LiveServer) -> Iterator[LiveServer]:
    """The demo's index behind a server with a small body limit and a search rate limit."""
    settings = demo.settings.with_port(free_port())
    server = settings.server.model_copy(
        update={"max_body_bytes": 2048, "rate_limit": 60, "rate_burst": 3}
    )
    with LiveServer(settings.model_copy(update={"server": server})) as live:
        yield live


def test_security_headers(http: httpx.Client) -> None:
    answer = http.get("/ogc/collections/sehenswuerdigkeiten/items")
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "x-frame-options" not in answer.headers
    page = http.get("/ogc/collections", params={"f": "html"})
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "strict-origin-when-cross-origin"


def test_read_endpoints_answer_other_origins(http: httpx.Client) -> None:
    """A web page elsewhere may read the catalogue (CORS); it cannot send credentials."""
    origin = {"Origin": "https://example.org"}
    for path in ("/ogc/collections", "/api/3/action/package_list", "/dcat/catalog.jsonld"):
        answer = http.get(path, headers=origin)
        assert answer.status_code == 200
        assert answer.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in answer.headers
    preflight = http.options(
        "/api/3/action/package_search",
        headers={**origin, "Access-Control-Request-Method": "POST"},
    )
    assert (
        preflight.status_code == 200 and "POST" in preflight.headers["access-control-allow-methods"]
    )
    refused = http.options(
        "/ogc/collections", headers={**origin, "Access-Control-Request-Method": "DELETE"}
    )
    assert refused.status_code == 400


def test_large_bodies_are_refused(limited: LiveServer) -> None:
    url = f"{limited.url}/ogc/collections/sehenswuerdigkeiten/items"
    filter_ = '{"op": "=", "args": [{"property": "kategorie"}, "' + "x" * 4000 + '"]}'
    answer = httpx.post(url, content=filter_, headers={"Content-Type": "application/json"})
    assert answer.status_code == 413 and answer.json()["code"] == "PayloadTooLarge"

    def chunks():  # no Content-Length: cut off while it streams
        for _ in range(10):
            yield b"x" * 1000

    streamed = httpx.post(f"{limited.url}/api/3/action/package_search", content=chunks())
    assert streamed.status_code == 413
    small = httpx.post(f"{limited.url}/api/3/action/package_search", json={"rows": 1})
    assert small.status_code == 200


def test_searches_are_rate_limited_per_client(limited: LiveServer) -> None:
    url = f"{limited.url}/ogc/collections/sehenswuerdigkeiten/items"
    with httpx.Client() as client:
        statuses = [client.get(url).status_code for _ in range(6)]
        assert statuses[:3] == [200, 200, 200] and 429 in statuses
        refused = client.get(url)
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert refused.json()["code"] == "TooManyRequests"
        # single records and the landing page are not searches
        assert client.get(f"{limited.url}/ogc/collections/sehenswuerdigkeiten").status_code == 200
        assert client.get(f"{limited.url}/health").status_code == 200


def test_token_bucket_refills() -> None:
    bucket = TokenBucket(rate_per_minute=60, burst=2)
    assert bucket.take("a", now=0) == 0 and bucket.take("a", now=0) == 0
    assert bucket.take("a", now=0) == pytest.approx(1.0)
    assert bucket.take("b", now=0) == 0  # another client has its own bucket
    assert bucket.take("a", now=1.0) == 0
