"""Bounded work, over real HTTP, on both index backends: a search past ``index.query_timeout``
is stopped and answered with a clean 400 while the server goes on answering; ``limit`` is capped
at ``server.max_limit``; deep offsets are served, answered empty past the end, or refused past
the query model's bound; huge term lists fail cleanly."""

from __future__ import annotations

import random
import string
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import BACKENDS, LiveServer, engine_settings, free_port
from test_sqlite_index import dataset, point

from catalogue.index import open_index
from catalogue.query import MAX_OFFSET
from catalogue.settings import IndexSettings, settings_from_dict

BIG = 50_000
MEDIUM = 300
QUERY_TIMEOUT = 0.05
MAX_LIMIT = 100
HEAVY = [
    # a pattern match over every item, sorted, read at a deep offset (through pygeoapi)
    "/ogc/collections/big/items?f=json&filter=name LIKE '%a%b%c%'&sortby=-name&offset=30000",
    # a deep page of a sorted listing (the JSON fast path)
    "/ogc/collections/big/items?f=json&sortby=-n&offset=45000&limit=10",
]


def fill(index: Any) -> None:
    rnd = random.Random(7)
    letters = string.ascii_lowercase[:10]
    big = (
        point(i, 6.7 + (i % 200) / 1000, 51.2 + (i // 200) / 1000, ds="big", name=name)
        for i, name in ((i, "".join(rnd.choices(letters, k=40))) for i in range(BIG))
    )
    medium = (point(i, 6.7, 51.2, ds="medium") for i in range(MEDIUM))
    records = [dataset("big", "big"), *big, dataset("medium", "medium"), *medium]
    stats = index.upsert(records, run_id="r1")
    assert not stats.failed
    index.refresh_datasets(["big", "medium"])


@pytest.fixture(scope="module", params=BACKENDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A catalogue of 50,000 items and 300 items with a tight time limit, on each backend."""
    folder: Path = tmp_path_factory.mktemp("bounded")
    if request.param == "sqlite":
        index_settings = IndexSettings(path=folder / "index.sqlite", query_timeout=QUERY_TIMEOUT)
    else:
        url = request.getfixturevalue("opensearch_url")
        index_settings = engine_settings(url, query_timeout=QUERY_TIMEOUT)
    settings = settings_from_dict(
        {
            "server": {"port": free_port(), "max_limit": MAX_LIMIT},
            "harvest": {"reports_dir": str(folder)},
        }
    ).model_copy(update={"index": index_settings})
    index: Any = open_index(settings.index)
    fill(index)
    with LiveServer(settings, index=index) as live:
        yield live
    if request.param != "sqlite":
        index.drop()
    index.close()


@pytest.fixture()
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


def test_a_search_past_the_time_limit_is_stopped_and_the_server_goes_on(
    server: LiveServer, http: httpx.Client
) -> None:
    answers: list[tuple[httpx.Response, float]] = []

    def heavy(url: str) -> None:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            started = time.perf_counter()
            answer = client.get(url)
            answers.append((answer, time.perf_counter() - started))

    threads = [threading.Thread(target=heavy, args=(url,)) for url in HEAVY * 3]
    for thread in threads:
        thread.start()
    # meanwhile, and after: reads by id, the health check and a small search all answer
    for _ in range(3):
        started = time.perf_counter()
        assert http.get("/health").json()["items"] == BIG + MEDIUM
        assert http.get("/ogc/collections/big/items/123?f=json").json()["id"] == "123"
        small = http.get("/ogc/collections/medium/items", params={"f": "json", "limit": 5})
        assert small.status_code == 200 and small.json()["numberMatched"] == MEDIUM
        assert time.perf_counter() - started < 10
    for thread in threads:
        thread.join()
    assert len(answers) == len(HEAVY) * 3
    for answer, seconds in answers:
        assert answer.status_code == 400, answer.text[:300]
        body = answer.json()
        assert body["code"] == "QueryTooExpensive"
        assert f"longer than {QUERY_TIMEOUT:g} s" in body["description"]
        assert seconds < 10  # stopped at the limit, not run to the end
    assert http.get("/health").json()["items"] == BIG + MEDIUM


def test_limit_is_capped_at_max_limit(http: httpx.Client) -> None:
    page = http.get("/ogc/collections/medium/items", params={"f": "json", "limit": 100_000})
    assert page.status_code == 200
    assert page.json()["numberReturned"] == MAX_LIMIT
    assert any(link["rel"] == "next" for link in page.json()["links"])
    records = http.get("/ogc/collections/catalogue/items", params={"f": "json", "limit": 10**9})
    assert records.status_code == 200 and records.json()["numberReturned"] == 2
    assert http.get("/ogc/collections/medium/items", params={"limit": 0}).status_code == 400
    ckan = "/api/3/action/package_search"
    assert http.get(ckan, params={"rows": 1000}).status_code == 200
    too_many = http.get(ckan, params={"rows": 1001})
    assert too_many.status_code == 409 and "rows: at most 1000" in too_many.text
    too_large = http.get("/dcat/catalog", params={"page": 1, "page_size": 1001})
    assert too_large.status_code == 400 and "page_size must be at most" in too_large.text


def test_deep_offsets_are_served_empty_past_the_end_or_refused(http: httpx.Client) -> None:
    items = "/ogc/collections/medium/items"
    tail = http.get(items, params={"f": "json", "offset": MEDIUM - 5, "limit": 10}).json()
    assert tail["numberReturned"] == 5 and tail["numberMatched"] == MEDIUM
    for offset in (MEDIUM, 10**6, MAX_OFFSET):
        past = http.get(items, params={"f": "json", "offset": offset})
        assert past.status_code == 200
        assert past.json()["features"] == [] and past.json()["numberMatched"] == MEDIUM
        assert not any(link["rel"] == "next" for link in past.json()["links"])
    for path in (items, "/ogc/collections/catalogue/items"):
        refused = http.get(path, params={"f": "json", "offset": MAX_OFFSET + 1})
        assert refused.status_code == 400 and str(MAX_OFFSET) in refused.json()["description"]
    ckan = "/api/3/action"
    far = http.get(f"{ckan}/package_search", params={"start": 10**6}).json()["result"]
    assert far["count"] == 2 and far["results"] == []
    for action, name in (("package_search", "start"), ("package_list", "offset")):
        refused = http.get(f"{ckan}/{action}", params={name: MAX_OFFSET + 1})
        assert refused.status_code == 409, (action, refused.text[:200])
        assert refused.json()["error"]["__type"] == "Validation Error"
    assert http.get("/dcat/catalog", params={"page": 10**6, "page_size": 10}).status_code == 200
    assert http.get("/dcat/catalog", params={"page": 10**20}).status_code == 400
    assert http.get("/search", params={"page": 10_001}).status_code == 400
    assert http.get("/datasets/medium", params={"page": 10**20}).status_code == 400


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/ogc/collections/medium/items", {"q": " ".join(f"w{i}" for i in range(1500))}),
        ("/ogc/collections/catalogue/items", {"q": ",".join(f"w{i}" for i in range(1500))}),
        ("/api/3/action/package_search", {"q": " ".join(f"w{i}" for i in range(1500))}),
        ("/api/3/action/package_search", {"fq": " ".join(f"tags:w{i}" for i in range(1500))}),
        ("/ogc/collections/medium/items", {"sortby": ",".join(["n"] * 2000)}),
    ],
    ids=["words", "alternatives", "ckan-words", "ckan-terms", "sort-keys"],
)
def test_huge_term_lists_answer_or_fail_cleanly(
    http: httpx.Client, path: str, params: dict[str, str]
) -> None:
    answer = http.get(path, params={"f": "json", **params})
    assert answer.status_code in (200, 400, 409), answer.text[:300]
    if answer.status_code == 200 and "sortby" not in params:
        body = answer.json()
        assert body.get("numberMatched", body.get("result", {}).get("count")) == 0
