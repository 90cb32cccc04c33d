"""The OpenAPI document at /openapi.json, and generated requests that hold the app to it.

schemathesis reads the document the running demo catalogue serves and sends requests generated
from it, from a fixed seed, to every operation (OGC API, CKAN Action API, DCAT, harvest runs,
health); every answer must be free of server errors and match the document (status code, media
type, headers, body). A longer run: ``python benchmarks/fuzz_api.py --examples 500``.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import httpx
import schemathesis
from conftest import ROOT, LiveServer

from catalogue.ckan.actions import ACTIONS

sys.path.insert(0, str(ROOT / "benchmarks"))
from fuzz_api import fuzz  # noqa: E402

SEED = 20
EXAMPLES = 45  # per operation; about 2,500 requests in all (fewer where few requests differ)
MINIMUM_REQUESTS = 2000


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_the_document_describes_every_api_offline(http: httpx.Client, demo: LiveServer) -> None:
    answer = http.get("/openapi.json")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/vnd.oai.openapi+json")
    document = answer.json()
    assert document["openapi"].startswith("3.0")
    assert document["servers"] == [{"url": demo.url}]
    assert [r for r in _refs(document) if not r.startswith("#/")] == []
    schemathesis.openapi.from_dict(document).validate()
    paths = document["paths"]
    collections = http.get("/ogc/collections", params={"f": "json"}).json()["collections"]
    for collection in collections:
        assert f"/ogc/collections/{collection['id']}/items" in paths
        assert f"/ogc/collections/{collection['id']}/items/{{featureId}}" in paths
    for path in (
        "/ogc/",
        "/ogc/conformance",
        "/api/3/action/package_search",
        "/api/3/action/package_show",
        "/dcat/catalog",
        "/dcat/dataset/{datasetId}",
        "/harvest/runs",
        "/health",
    ):
        assert path in paths, path
    actions = {p.rsplit("/", 1)[1] for p in paths if p.startswith("/api/3/action/")}
    assert actions == set(ACTIONS)
    # pygeoapi's processes' results and OPTIONS are not routed by this app
    assert "/ogc/jobs/{jobId}/results" not in paths
    assert not any("options" in item for item in paths.values())


def test_the_portal_links_the_document(http: httpx.Client) -> None:
    assert 'href="/openapi.json"' in http.get("/").text


def test_generated_requests_get_documented_answers(demo: LiveServer) -> None:
    started = time.monotonic()
    outcome = fuzz(demo.url, examples=EXAMPLES, seed_value=SEED)
    seconds = time.monotonic() - started
    print(f"{outcome.requests} requests to {outcome.operations} operations in {seconds:.0f} s")
    assert not outcome.failures, "\n\n".join(f"{k}\n{v}" for k, v in outcome.failures.items())
    assert outcome.operations >= 60
    assert all(outcome.per_operation.values()), outcome.per_operation
    assert outcome.requests >= MINIMUM_REQUESTS
