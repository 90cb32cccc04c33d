"""Searches of an index in a local file are tried on the server's event loop for
``server.search_on_loop`` seconds; one that needs longer is stopped there and answered from a
thread, with the same answer.

The app is driven in-process on a loop whose default executor counts what it is handed: every
hand-off to a thread goes through it (``asyncio.to_thread``)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import demo_settings

from catalogue.index import Overran
from catalogue.index.sqlite import SQLiteIndex
from catalogue.model import Dataset, Item, Provenance
from catalogue.query import SearchQuery
from catalogue.settings import Settings
from catalogue.web import create_app

ITEMS = "/ogc/collections/punkte/items"
N = 20_000


class CountingExecutor(ThreadPoolExecutor):
    def __init__(self) -> None:
        super().__init__(max_workers=4)
        self.handed = 0

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        self.handed += 1
        return super().submit(fn, *args, **kwargs)


@pytest.fixture(scope="module")
def points(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("loop") / "index.sqlite"
    index = SQLiteIndex(path)
    rng = random.Random(5)
    dataset = Dataset(
        id="punkte", title="Punkte", provenance=Provenance("src", "geojson", None, "punkte")
    ).with_hash()
    items = [
        Item(
            str(i),
            "punkte",
            {"type": "Point", "coordinates": [rng.uniform(6.7, 6.9), rng.uniform(51.1, 51.3)]},
            {"n": i, "art": "abcdefghij"[i % 10]},
        )
        for i in range(N)
    ]
    assert not index.upsert([dataset, *items], run_id="r1").failed
    index.refresh_datasets(["punkte"])
    index.close()
    yield path


def _settings(folder: Path, seconds: float) -> Settings:
    settings = demo_settings(folder)
    return settings.model_copy(
        update={"server": settings.server.model_copy(update={"search_on_loop": seconds})}
    )


def _ask(settings: Settings, path: Path, requests: list[tuple[str, dict[str, str]]]) -> list:
    """(status, body, hand-offs to threads) of each request, after one request that lets the
    app build its answers."""

    async def run() -> list[tuple[int, Any, int]]:
        executor = CountingExecutor()
        asyncio.get_running_loop().set_default_executor(executor)
        index = SQLiteIndex(path, read_mostly=True)
        app = create_app(settings, index=index)
        transport = httpx.ASGITransport(app=app)
        answers = []
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                assert (await client.get(ITEMS, params={"limit": "1"})).status_code == 200
                for url, params in requests:
                    executor.handed = 0
                    response = await client.get(url, params=params)
                    body = response.json()
                    if isinstance(body, dict):
                        body.pop("timeStamp", None)
                    answers.append((response.status_code, body, executor.handed))
        finally:
            index.close()
            executor.shutdown()
        return answers

    return asyncio.run(run())


REQUESTS = [
    (ITEMS, {"bbox": "6.75,51.15,6.76,51.16", "limit": "100"}),
    (f"{ITEMS}/17", {}),
    (ITEMS, {"art": "c", "limit": "5", "offset": "900"}),  # reads every item's properties
]


def test_short_searches_are_answered_on_the_loop(points: Path, tmp_path: Path) -> None:
    on_loop = _ask(_settings(tmp_path, 0.5), points, REQUESTS)
    in_threads = _ask(_settings(tmp_path, 0), points, REQUESTS)
    for loop_answer, thread_answer in zip(on_loop, in_threads, strict=True):
        assert loop_answer[0] == thread_answer[0] == 200
        assert loop_answer[1] == thread_answer[1]
        assert loop_answer[2] == 0 and thread_answer[2] == 1
    assert on_loop[0][1]["numberMatched"] > 0
    assert on_loop[2][1]["numberMatched"] == N // 10


def test_a_search_that_overruns_on_the_loop_is_answered_from_a_thread(
    points: Path, tmp_path: Path
) -> None:
    overrun = _ask(_settings(tmp_path, 1e-9), points, REQUESTS[2:])
    in_threads = _ask(_settings(tmp_path, 0), points, REQUESTS[2:])
    assert overrun[0][0] == 200 and overrun[0][1] == in_threads[0][1]
    assert overrun[0][2] == 1


def test_brief_reads_stop_with_overran_and_leave_the_index_usable(points: Path) -> None:
    index = SQLiteIndex(points, read_mostly=True)
    heavy = SearchQuery(properties=(("art", "c"),), limit=5)
    try:
        with pytest.raises(Overran), index.brief(1e-9):
            index.search_items("punkte", heavy)
        # outside, the search runs to its end, within the index's own time limit
        assert index.search_items("punkte", heavy).number_matched == N // 10
        with index.brief(5.0):
            assert index.search_items("punkte", heavy).number_matched == N // 10
        assert index.query_timeout == 10.0
    finally:
        index.close()


def test_a_count_made_in_a_thread_serves_the_loop(points: Path, tmp_path: Path) -> None:
    """A whole collection counted once (here in a thread, after its search overran on the
    loop) is not counted again on the loop: the next pages are answered there."""
    pages = [(ITEMS, {"limit": "5", "offset": str(offset)}) for offset in (0, 5, 10)]
    overrun = _ask(_settings(tmp_path, 1e-9), points, pages)
    in_threads = _ask(_settings(tmp_path, 0), points, pages)
    assert [a[1] for a in overrun] == [a[1] for a in in_threads]
    assert overrun[0][1]["numberMatched"] == N
    assert [a[2] for a in overrun] == [0, 0, 0]
