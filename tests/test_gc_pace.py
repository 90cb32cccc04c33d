"""A harvest streams millions of short-lived containers: the cycle collector is asked to look
at them less often while it runs, in the writing process and in the reading ones, and gets its
thresholds back afterwards."""

from __future__ import annotations

import gc
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from catalogue.gc_pace import STREAM_THRESHOLD, fewer_collections
from catalogue.harvest.runner import run_harvest
from catalogue.harvest.second_process import records_from_second_process
from catalogue.index.sqlite import SQLiteIndex
from catalogue.model import Item
from catalogue.settings import Settings, settings_from_dict


@contextmanager
def young_collections() -> Iterator[list[int]]:
    """Counts the collections of the youngest generation made inside."""
    seen = [0]

    def note(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            seen[0] += 1

    gc.callbacks.append(note)
    try:
        yield seen
    finally:
        gc.callbacks.remove(note)


def points(tmp_path: Path, n: int) -> Settings:
    features = [
        {
            "type": "Feature",
            "id": i,
            "geometry": {"type": "Point", "coordinates": [6.7 + i / 100_000, 51.2]},
            "properties": {"name": f"Ort {i}", "tags": ["a", "b"], "n": {"v": i}},
        }
        for i in range(n)
    ]
    path = tmp_path / "orte.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return settings_from_dict(
        {
            "index": {"backend": "sqlite", "path": "index.sqlite"},
            "harvest": {"second_process_bytes": None},
            "sources": [{"name": "orte", "type": "geojson", "url": str(path)}],
        },
        tmp_path / "catalogue.yml",
        {},
    )


def test_streams_raise_the_threshold_nested_and_across_threads_and_give_it_back() -> None:
    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold() == (STREAM_THRESHOLD, *before[1:])
        with fewer_collections():
            assert gc.get_threshold()[0] == STREAM_THRESHOLD
        inside: list[tuple[int, int, int]] = []

        def stream_in_a_thread() -> None:
            with fewer_collections():
                inside.append(gc.get_threshold())

        other = threading.Thread(target=stream_in_a_thread)
        other.start()
        other.join()
        assert inside == [(STREAM_THRESHOLD, *before[1:])]
        assert gc.get_threshold()[0] == STREAM_THRESHOLD  # this stream still runs
    assert gc.get_threshold() == before


def test_a_collector_turned_off_stays_off() -> None:
    before = gc.get_threshold()
    gc.set_threshold(0)
    try:
        with fewer_collections():
            assert gc.get_threshold()[0] == 0
        assert gc.get_threshold()[0] == 0
    finally:
        gc.set_threshold(*before)


def test_a_harvest_collects_rarely_and_leaves_the_thresholds_as_they_were(tmp_path: Path) -> None:
    settings = points(tmp_path, 20_000)
    before = gc.get_threshold()
    index = SQLiteIndex(tmp_path / "index.sqlite")
    try:
        with young_collections() as seen:
            report = run_harvest(settings, index)
    finally:
        index.close()
    assert report.ok and report.sources[0].items == 20_000
    # at the default threshold: some 280 collections
    assert seen[0] <= 10, seen
    assert gc.get_threshold() == before


def threshold_in_reader(items: list[Item]) -> list[Any]:
    """A preparer that tells what the reading process's collector is set to."""
    return [("threshold", gc.get_threshold()[0], len(items))]


def test_a_reading_process_collects_rarely(tmp_path: Path) -> None:
    settings = points(tmp_path, 3_000)
    records = list(
        records_from_second_process(settings.sources[0], settings.harvest, threshold_in_reader)
    )
    told = [r for r in records if isinstance(r, tuple)]
    assert sum(n for _, _, n in told) == 3_000
    assert {threshold for _, threshold, _ in told} == {STREAM_THRESHOLD}
