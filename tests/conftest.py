"""Shared fixtures: the demo configuration, a harvested index in a temporary folder, and the
real app served over HTTP by uvicorn on a free local port."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from catalogue.harvest.runner import run_harvest
from catalogue.index import open_index
from catalogue.index.sqlite import SQLiteIndex
from catalogue.settings import Settings, load_settings
from catalogue.web import create_app

ROOT = Path(__file__).resolve().parent.parent
DEMO_CONFIG = ROOT / "catalogue" / "demo" / "demo.yml"
SHARED_DATA = ROOT.parent / "shared" / "data"


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
