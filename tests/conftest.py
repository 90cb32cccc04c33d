"""Shared fixtures: the demo configuration, a harvested index in a temporary folder, and the
real app served over HTTP by uvicorn on a free local port."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from catalogue.harvest.runner import run_harvest
from catalogue.index import open_index
from catalogue.index.sqlite import SQLiteIndex
from catalogue.settings import IndexSettings, Settings, load_settings
from catalogue.web import create_app

ROOT = Path(__file__).resolve().parent.parent
DEMO_CONFIG = ROOT / "catalogue" / "demo" / "demo.yml"
SHARED_DATA = ROOT.parent / "shared" / "data"


def fts_entries(conn: Any) -> int:
    """Entries in the items' full-text table, which keeps neither text nor sizes to count
    rows by: each entry has one word in its ``ds`` column."""
    conn.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.fts_cols USING fts5vocab(main, items_fts, 'col')"
    )
    return int(conn.execute("SELECT total(doc) FROM temp.fts_cols WHERE col = 'ds'").fetchone()[0])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def demo_settings(folder: Path, port: int | None = None) -> Settings:
    settings = load_settings(DEMO_CONFIG, {**os.environ, "CATALOGUE_DEMO_DIR": str(folder)})
    return settings.with_port(port) if port else settings


class LiveServer:
    """The app under uvicorn in a background thread."""

    def __init__(self, settings: Settings, index: SQLiteIndex | None = None) -> None:
        self.settings = settings
        self.url = settings.server.base_url()
        app = create_app(settings, index=index)
        config = uvicorn.Config(
            app,
            host=settings.server.host,
            port=settings.server.port,
            log_level="warning",
            lifespan="on",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demo")


@pytest.fixture(scope="session")
def demo(demo_dir: Path) -> Iterator[LiveServer]:
    """The demo catalogue, harvested once and served over HTTP for the whole session."""
    settings = demo_settings(demo_dir, free_port())
    index = open_index(settings.index)
    report = run_harvest(settings, index)
    assert report.ok, report
    report.write(settings.reports_dir())
    with LiveServer(settings) as server:
        yield server
    index.close()


@pytest.fixture()
def http(demo: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=demo.url, timeout=30) as client:
        yield client


@pytest.fixture()
def index_path(tmp_path: Path) -> Path:
    return tmp_path / "index.sqlite"


@pytest.fixture()
def index(index_path: Path) -> Iterator[SQLiteIndex]:
    ix = SQLiteIndex(index_path)
    yield ix
    ix.close()


# --------------------------------------------------------------------------------------------
# The search-engine backend: a real OpenSearch (tests/opensearch/run.sh starts one; .ci/run
# does it in CI), found through CATALOGUE_TEST_OPENSEARCH_URL. In CI an unreachable server is
# a failure, not a skip.
# --------------------------------------------------------------------------------------------
OPENSEARCH_URL_VARIABLE = "CATALOGUE_TEST_OPENSEARCH_URL"
BACKENDS = ["sqlite", "opensearch"]


@pytest.fixture(scope="session")
def opensearch_url() -> str:
    url = os.environ.get(OPENSEARCH_URL_VARIABLE, "")
    problem = None
    if not url:
        problem = f"{OPENSEARCH_URL_VARIABLE} is not set (tests/opensearch/run.sh start)"
    else:
        try:
            httpx.get(f"{url}/_cluster/health", timeout=10).raise_for_status()
        except httpx.HTTPError as exc:
            problem = f"OpenSearch at {url} is unreachable: {exc}"
    if problem and os.environ.get("CI") == "true":
        pytest.fail(problem)
    if problem:
        pytest.skip(problem)
    return url


def engine_settings(url: str, prefix: str | None = None, **options: Any) -> IndexSettings:
    """Index settings for a fresh set of indices on the test server."""
    import uuid

    prefix = prefix or f"test-{uuid.uuid4().hex[:10]}"
    return IndexSettings.model_validate(
        {"backend": "opensearch", "url": url, "prefix": prefix, **options}
    )


@pytest.fixture()
def engine_index(opensearch_url: str) -> Iterator[Any]:
    """An empty OpenSearch index of its own, dropped after the test."""
    ix: Any = open_index(engine_settings(opensearch_url))
    yield ix
    ix.drop()
    ix.close()


@pytest.fixture(scope="session")
def engine_demo(
    tmp_path_factory: pytest.TempPathFactory, opensearch_url: str
) -> Iterator[LiveServer]:
    """The demo catalogue harvested into OpenSearch and served over HTTP."""
    folder = tmp_path_factory.mktemp("engine-demo")
    settings = demo_settings(folder, free_port())
    settings = settings.model_copy(
        update={
            "index": engine_settings(opensearch_url),
            "harvest": settings.harvest.model_copy(update={"reports_dir": folder / "reports"}),
        }
    )
    index: Any = open_index(settings.index)
    report = run_harvest(settings, index)
    assert report.ok, report
    report.write(settings.reports_dir())
    with LiveServer(settings, index=index) as server:
        yield server
    index.drop()
    index.close()


@pytest.fixture(scope="session", params=BACKENDS)
def backend_demo(request: pytest.FixtureRequest) -> LiveServer:
    """The demo catalogue on each index backend in turn (the functional suites use it)."""
    name = "demo" if request.param == "sqlite" else "engine_demo"
    server: LiveServer = request.getfixturevalue(name)
    return server


@pytest.fixture()
def backend_http(backend_demo: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=backend_demo.url, timeout=30) as client:
        yield client
