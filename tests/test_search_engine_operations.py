"""What only the search-engine backend does, on a real OpenSearch server: per-document bulk
errors, paging past the engine's result window, rebuilds behind an alias swap while queries run,
and drift between the engine and the harvest state found and repaired — through the library and
through the `catalogue reindex` and `catalogue index check` commands."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import yaml
from click.testing import CliRunner
from conftest import engine_settings
from test_sqlite_index import dataset, point

from catalogue.cli import main
from catalogue.errors import IndexBackendError
from catalogue.index import open_index
from catalogue.index.drift import check, repair
from catalogue.index.sqlite import SQLiteIndex
from catalogue.index.transfer import copy_index
from catalogue.model import Item
from catalogue.query import SearchQuery, SortKey

CATALOGUE = str(Path(sys.executable).parent / "catalogue")


def fill(index: Any, count: int, source: str = "src", run: str = "r1", **props: Any) -> None:
    items = [
        point(i, 6.7 + (i % 100) / 1000, 51.2 + (i // 100) / 1000, ds=source, **props)
        for i in range(count)
    ]
    stats = index.upsert([dataset(source, source), *items], run_id=run)
    assert not stats.failed and stats.added == count + 1
    index.refresh_datasets([source])


def test_documents_the_engine_refuses_are_reported_and_the_rest_is_written(
    engine_index: Any,
) -> None:
    bow_tie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    stats = engine_index.upsert(
        [
            dataset(),
            point(1, 6.7, 51.2),
            Item("bow-tie", "src", bow_tie, {}),  # a ring crossing itself: no area to index
            Item("nameless", "src", None, {"": "a property without a name"}),
            point(2, 6.8, 51.2),
        ],
        run_id="r1",
    )
    refused = dict(stats.failed)
    assert set(refused) == {"bow-tie", "nameless"}
    assert "geo_shape" in refused["bow-tie"] and "empty" in refused["nameless"]
    assert stats.added == 3  # the dataset and both points
    engine_index.refresh_datasets(["src"])
    assert engine_index.search_items("src", SearchQuery()).number_matched == 2
    assert engine_index.get_item("src", "bow-tie") is None


def test_paging_beyond_the_result_window(opensearch_url: str) -> None:
    index: Any = open_index(engine_settings(opensearch_url))
    try:
        fill(index, 12_345)
        by_n = (SortKey("n"),)
        deep = index.search_items("src", SearchQuery(sort=by_n, limit=10, offset=11_000))
        assert deep.number_matched == 12_345
        assert [i.properties["n"] for i in deep.records] == list(range(11_000, 11_010))
        # a page that straddles the window, and one larger than the window
        straddle = index.search_items("src", SearchQuery(sort=by_n, limit=20, offset=9_990))
        assert [i.properties["n"] for i in straddle.records] == list(range(9_990, 10_010))
        large = index.search_items(
            "src", SearchQuery(sort=(SortKey("n", True),), limit=10_000, offset=2_000)
        )
        assert [i.properties["n"] for i in large.records] == list(range(10_344, 344, -1))
        tail = index.search_items("src", SearchQuery(sort=by_n, limit=10, offset=12_340))
        assert [i.properties["n"] for i in tail.records] == list(range(12_340, 12_345))
        assert index.search_items("src", SearchQuery(limit=10, offset=20_000)).records == []
    finally:
        index.drop()
        index.close()


def test_rebuild_swaps_aliases_and_queries_never_see_a_half_built_index(
    opensearch_url: str, tmp_path: Path
) -> None:
    # small batches: the rebuild takes many bulk requests while the reader queries
    engine: Any = open_index(engine_settings(opensearch_url, batch_size=250))
    origin = SQLiteIndex(tmp_path / "origin.sqlite")
    try:
        fill(engine, 300, run="old")
        fill(origin, 3_000, run="new")
        before = engine.physical_indices()
        seen: list[tuple[int, int]] = []
        stop = threading.Event()

        def query() -> None:
            while not stop.is_set():
                items = engine.search_items("src", SearchQuery(limit=1)).number_matched
                count = engine.get_dataset("src").item_count
                seen.append((items, count))

        reader = threading.Thread(target=query)
        reader.start()
        try:
            report = copy_index(origin, engine)
        finally:
            stop.set()
            reader.join()
        assert report.swapped and not report.failed
        assert len(seen) > 5, "the queries did not run while the index was rebuilt"
        # each answer comes whole from the old indices or whole from the new ones
        assert {items for items, _ in seen} <= {300, 3_000}
        assert {count for _, count in seen} <= {300, 3_000}
        assert seen[0] == (300, 300)
        assert engine.search_items("src", SearchQuery()).number_matched == 3_000
        after = engine.physical_indices()
        assert not set(after) & set(before)
        assert all(not engine.client.index_exists(name) for name in before)
    finally:
        engine.drop()
        engine.close()
        origin.close()


def test_a_failed_rebuild_leaves_the_live_index_alone(engine_index: Any) -> None:
    fill(engine_index, 50)
    before = engine_index.physical_indices()
    with pytest.raises(RuntimeError), engine_index.rebuild() as fresh:
        fresh.upsert([dataset("other", "other")], run_id="x")
        raise RuntimeError("the copy broke off")
    assert engine_index.physical_indices() == before
    assert engine_index.search_items("src", SearchQuery()).number_matched == 50
    assert engine_index.get_dataset("other") is None


def test_drift_is_found_and_repaired(engine_index: Any, tmp_path: Path) -> None:
    reference = SQLiteIndex(tmp_path / "harvest.sqlite")
    try:
        fill(reference, 120, source="a")
        fill(reference, 80, source="b")
        fill(reference, 10, source="c")
        copy_index(reference, engine_index)
        assert all(d.ok for d in check(reference, engine_index, items=True))

        engine_index.delete_items("a", ["3", "4"])  # items lost
        engine_index.refresh_datasets(["a"])
        engine_index.upsert(
            [dataset("b", "b", title="changed behind the harvest's back")], run_id="z"
        )
        engine_index.upsert([point(7, 6.9, 51.3, ds="c", extra="edited")], run_id="z")  # content
        fill(engine_index, 5, source="stray")  # a source the harvest does not have
        drifts = {d.name: d for d in check(reference, engine_index, items=True)}
        assert {n for n, d in drifts.items() if not d.ok} == {"a", "b", "c", "stray"}
        assert drifts["a"].actual.items == 118 and drifts["a"].expected.items == 120
        assert drifts["stray"].expected is None
        # counts alone do not see an edited item; the item hashes do
        assert {d.name for d in check(reference, engine_index) if not d.ok} == {"a", "b", "stray"}

        assert repair(reference, engine_index, list(drifts.values())) == 4
        assert all(d.ok for d in check(reference, engine_index, items=True))
        assert engine_index.get_item("c", "7").properties.get("extra") is None
        assert engine_index.source_counts() == {"a": (1, 120), "b": (1, 80), "c": (1, 10)}
    finally:
        reference.close()


def _config(path: Path, index: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump({"index": index}), encoding="utf-8")
    return path


def test_reindex_and_check_commands(opensearch_url: str, tmp_path: Path) -> None:
    reference = SQLiteIndex(tmp_path / "harvest.sqlite")
    fill(reference, 250, source="a")
    fill(reference, 40, source="b")
    reference.close()
    harvest_yml = _config(tmp_path / "harvest.yml", {"backend": "sqlite", "path": "harvest.sqlite"})
    prefix = engine_settings(opensearch_url).model_extra["prefix"]
    engine_yml = _config(
        tmp_path / "engine.yml", {"backend": "opensearch", "url": opensearch_url, "prefix": prefix}
    )
    runner = CliRunner()
    try:
        copied = runner.invoke(
            main, ["reindex", "--from", str(harvest_yml), "--config", str(engine_yml)]
        )
        assert copied.exit_code == 0, copied.output
        assert "292 records from 2 sources" in copied.output
        assert "copied 292 of 292 records" in copied.output  # progress, also without a terminal

        args = ["index", "check", "--config", str(engine_yml), "--against", str(harvest_yml)]
        same = runner.invoke(main, [*args, "--json"])
        assert same.exit_code == 0, same.output
        assert all(s["ok"] for s in orjson.loads(same.stdout)["sources"])

        engine: Any = open_index(engine_settings(opensearch_url, prefix))
        engine.delete_source("b")
        engine.close()
        drift = runner.invoke(main, [*args, "--json"])
        assert drift.exit_code == 1
        rows = {s["source"]: s for s in orjson.loads(drift.stdout)["sources"]}
        assert rows["b"]["actual"] is None and rows["a"]["ok"]

        fixed = runner.invoke(main, [*args, "--repair"])
        assert fixed.exit_code == 0, fixed.output
        assert "repaired 1 sources" in fixed.output
    finally:
        engine = open_index(engine_settings(opensearch_url, prefix))
        engine.drop()
        engine.close()


def test_processes_opening_an_empty_engine_at_once_share_one_pair_of_indices(
    opensearch_url: str,
) -> None:
    settings = engine_settings(opensearch_url)
    opened: list[Any] = []
    threads = [
        threading.Thread(target=lambda: opened.append(open_index(settings))) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert len(opened) == 4
        assert len({tuple(ix.physical_indices()) for ix in opened}) == 1
        assert len(opened[0].physical_indices()) == 2
        stats = opened[1].upsert([dataset()], run_id="r1")
        assert stats.added == 1 and not stats.failed
    finally:
        opened[0].drop()
        for ix in opened:
            ix.close()


def test_deleting_datasets_takes_their_items_and_tells_the_publishers(engine_index: Any) -> None:
    fill(engine_index, 30, source="a")
    fill(engine_index, 20, source="b")
    before = engine_index.generation()
    assert engine_index.delete_datasets(["a", "nope"]) == 1
    assert engine_index.generation() > before
    assert engine_index.get_dataset("a") is None and engine_index.get_item("a", "1") is None
    assert engine_index.source_counts() == {"b": (1, 20)}
    assert engine_index.delete_items("b", ["1", "2", "nope"]) == 2
    engine_index.refresh_datasets(["b"])
    assert engine_index.get_dataset("b").item_count == 18


def test_copy_into_sqlite_updates_it_in_place(engine_index: Any, tmp_path: Path) -> None:
    fill(engine_index, 40, source="a")
    target = SQLiteIndex(tmp_path / "copy.sqlite")
    try:
        fill(target, 5, source="a")  # older content of the same source
        fill(target, 3, source="gone")  # a source the engine no longer has
        report = copy_index(engine_index, target)
        assert not report.swapped and not report.failed
        assert report.deleted == 1
        assert target.source_counts() == {"a": (1, 40)}
        stats = report.sources["a"]
        assert (stats.added, stats.updated, stats.unchanged) == (35, 0, 6), stats
        assert all(d.ok for d in check(engine_index, target, items=True))
    finally:
        target.close()


def _indexed(url: str, index: str) -> int:
    """Documents written to an index so far, refreshed or not (a rebuild loads without
    refreshing, so ``_count`` would say 0)."""
    stats = httpx.get(f"{url}/{index}/_stats/indexing", timeout=10).json()
    return int(stats["_all"]["primaries"]["indexing"]["index_total"])


@pytest.mark.slow
def test_a_reindex_killed_midway_leaves_the_aliases_on_the_complete_old_indices(
    opensearch_url: str, tmp_path: Path
) -> None:
    n = 80_000
    reference = SQLiteIndex(tmp_path / "harvest.sqlite")
    fill(reference, n, source="a")
    reference.close()
    harvest_yml = _config(tmp_path / "harvest.yml", {"backend": "sqlite", "path": "harvest.sqlite"})
    settings = engine_settings(opensearch_url, batch_size=1000)
    prefix = settings.model_extra["prefix"]
    engine_yml = _config(
        tmp_path / "engine.yml",
        {"backend": "opensearch", "url": opensearch_url, "prefix": prefix, "batch_size": 1000},
    )
    engine: Any = open_index(settings)
    command = [CATALOGUE, "reindex", "--from", str(harvest_yml), "--config", str(engine_yml)]
    try:
        fill(engine, 300, source="a", run="old")
        before = engine.physical_indices()
        proc = subprocess.Popen(
            [*command, "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        building: list[str] = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
            names = httpx.get(f"{opensearch_url}/_cat/indices/{prefix}-items-*?h=index").text
            building = [i for i in names.split() if i not in before]
            if building and _indexed(opensearch_url, building[0]) >= 5_000:
                break
        assert proc.poll() is None, "the reindex ended before it could be interrupted"
        assert building and _indexed(opensearch_url, building[0]) < n
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()

        # the aliases never moved: every query still reads the whole old index
        assert engine.physical_indices() == before
        assert engine.search_items("a", SearchQuery(result_type="hits")).number_matched == 300
        assert engine.get_dataset("a").item_count == 300
        assert engine.get_item("a", "299") is not None and engine.get_item("a", "300") is None

        rerun = subprocess.run(command, capture_output=True, text=True, timeout=600)
        assert rerun.returncode == 0, rerun.stderr
        assert f"{n + 1:,} records from 1 sources" in rerun.stdout
        assert "new indices swapped in" in rerun.stdout
        after = engine.physical_indices()
        assert not set(after) & set(before) and building[0] not in after
        assert engine.search_items("a", SearchQuery(result_type="hits")).number_matched == n
        assert engine.get_dataset("a").item_count == n
        assert all(not engine.client.index_exists(name) for name in before)
    finally:
        engine.drop()
        for name in httpx.get(f"{opensearch_url}/_cat/indices/{prefix}-*?h=index").text.split():
            httpx.delete(f"{opensearch_url}/{name}")
        engine.close()


class BusyProxy:
    """Forwards every request to the engine, except that the first ``busy`` bulk requests are
    answered 429 as an engine with a tripped memory breaker answers them."""

    def __init__(self, upstream: str, busy: int) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.busy = busy
        self.refused = 0
        self.bulk_bodies: list[int] = []  # bytes of each bulk request forwarded
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path.split("?")[0].endswith("/_bulk") and proxy.refused < proxy.busy:
                    proxy.refused += 1
                    error = {
                        "type": "circuit_breaking_exception",
                        "reason": "[parent] Data too large",
                    }
                    self.answer(
                        429,
                        orjson.dumps({"error": {**error, "root_cause": [error]}, "status": 429}),
                    )
                    return
                if self.path.split("?")[0].endswith("/_bulk"):
                    proxy.bulk_bodies.append(len(body))
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in ("host", "content-length")
                }
                answer = httpx.request(
                    self.command, upstream + self.path, content=body, headers=headers, timeout=60
                )
                self.answer(answer.status_code, answer.content, answer.headers.get("content-type"))

            def answer(
                self, status: int, data: bytes, kind: str | None = "application/json"
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind or "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = forward  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_busy_engine_is_written_to_again_after_a_wait(opensearch_url: str) -> None:
    proxy = BusyProxy(opensearch_url, busy=2)
    index: Any = open_index(engine_settings(proxy.url))
    try:
        started = time.monotonic()
        fill(index, 50)
        assert proxy.refused == 2 and time.monotonic() - started >= 1.5  # waited 0.5 s + 1 s
        assert index.search_items("src", SearchQuery(limit=0)).number_matched == 50
        proxy.refused, proxy.busy = 0, 100  # stays busy: the write fails after its waits
        with pytest.raises(IndexBackendError, match="HTTP 429"):
            index.upsert([dataset("other", "other")], run_id="r2")
        assert proxy.refused == 6
    finally:
        proxy.busy = 0
        index.drop()
        index.close()
        proxy.close()


def test_large_records_make_smaller_bulk_requests(opensearch_url: str) -> None:
    proxy = BusyProxy(opensearch_url, busy=0)
    index: Any = open_index(engine_settings(proxy.url, batch_bytes=20_000))
    try:
        text = "Baumkataster " * 200  # 2.6 kB, in a document three times (text, properties, p)
        stats = index.upsert(
            [dataset(), *(point(i, 6.7, 51.2, note=text) for i in range(40))], run_id="r1"
        )
        assert not stats.failed and stats.added == 41
        # ~330 kB in all, 5,000 records allowed per request: the bytes decide
        assert len(proxy.bulk_bodies) >= 10
        assert max(proxy.bulk_bodies) < 20_000 + 10_000  # the limit, give or take a record
        index.refresh_datasets(["src"])
        assert index.search_items("src", SearchQuery(limit=0)).number_matched == 40
    finally:
        index.drop()
        index.close()
        proxy.close()
