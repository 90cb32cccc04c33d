"""Large local files read and prepared in a second process while this one writes the index:
the same index and the same report as reading in one process, a failure in the same words,
and a reading process that dies fails its source alone and loses nothing indexed before."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from catalogue.harvest.contract import Share
from catalogue.harvest.report import HarvestReport
from catalogue.harvest.runner import run_harvest
from catalogue.index import Index
from catalogue.index.drift import check
from catalogue.index.sqlite import SQLiteIndex
from catalogue.settings import settings_from_dict

ONE_PROCESS, SECOND_PROCESS = None, 0  # harvest.second_process_bytes


def features(n: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {
            "type": "Feature",
            "id": f"f{i}",
            "properties": {"name": f"Ort {i}", "wann": f"2024-01-{1 + i % 28:02d}", "n": i},
            "geometry": {"type": "Point", "coordinates": [6.7 + i / 10_000, 51.2]},
        }
        for i in range(n)
    ]
    # records a harvester skips and reports
    out[7]["geometry"] = {"type": "Point", "coordinates": ["x", 51.2]}
    out[11] = {"type": "Thing"}
    out[13]["properties"]["wann"] = "not a date"
    out[17]["id"] = "f16"  # a duplicate id
    return out


def geojson(n: int) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": features(n)}).encode()


def csv_text(n: int) -> bytes:
    rows = ["id;name;lon;lat;wann"]
    rows += [f"c{i};Ort {i};{6.7 + i / 10_000};51.2;2024-02-{1 + i % 28:02d}" for i in range(n)]
    rows[6] = "c4;Doppelt;6.7;51.2;2024-02-01"  # a duplicate id
    rows[9] = "c8;Ort 8;x;51.2;2024-02-01"  # not a coordinate
    return ("\n".join(rows) + "\n").encode()


SOURCES = {
    "geojson": ({"type": "geojson", "datetime_field": "wann"}, "orte.geojson", geojson),
    "csv": (
        {"type": "csv", "delimiter": ";", "lon_field": "lon", "lat_field": "lat", "id_field": "id"},
        "orte.csv",
        csv_text,
    ),
}


def harvest(
    tmp_path: Path,
    index: Index,
    threshold: int | None,
    *sources: dict[str, Any],
    readers: int | None = None,
) -> HarvestReport:
    settings = settings_from_dict(
        {
            "index": {"backend": "sqlite", "path": "unused.sqlite"},
            "harvest": {
                "backoff": 0.01,
                "second_process_bytes": threshold,
                "reading_processes": readers,
            },
            "sources": list(sources),
        },
        tmp_path / "catalogue.yml",
        {},
    )
    return run_harvest(settings, index)


def summary(report: HarvestReport) -> list[tuple[Any, ...]]:
    return [
        (s.name, s.status, s.error, s.datasets, s.items, s.added, s.failed)
        + tuple(sorted(map(str, s.problems)))
        for s in report.sources
    ]


@pytest.mark.parametrize("kind", sorted(SOURCES))
def test_a_second_process_gives_the_same_index_and_report(
    tmp_path: Path, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    options, name, content = SOURCES[kind]
    (tmp_path / name).write_bytes(content(3000))  # more than one batch between the processes
    source = {"name": "orte", "url": str(tmp_path / name), **options}
    one, two = SQLiteIndex(tmp_path / "one.sqlite"), SQLiteIndex(tmp_path / "two.sqlite")
    try:
        with caplog.at_level(logging.INFO, logger="catalogue.harvest"):
            in_one = harvest(tmp_path, one, ONE_PROCESS, source)
            assert "reading in a second process" not in caplog.text
            in_two = harvest(tmp_path, two, SECOND_PROCESS, source)
            assert "reading in a second process" in caplog.text
        assert summary(in_two) == summary(in_one)
        assert in_one.sources[0].failed >= 2 and in_one.sources[0].added > 2900
        assert all(d.ok for d in check(one, two, items=True))
        # a second run over the same file finds every item unchanged
        again = harvest(tmp_path, two, SECOND_PROCESS, source)
        assert again.sources[0].unchanged == in_one.sources[0].added
    finally:
        one.close()
        two.close()


def test_a_search_engine_takes_items_prepared_in_the_second_process(
    tmp_path: Path, engine_index: Any
) -> None:
    (tmp_path / "orte.geojson").write_bytes(geojson(3000))
    source = {"name": "orte", "type": "geojson", "url": str(tmp_path / "orte.geojson")}
    reference = SQLiteIndex(tmp_path / "one.sqlite")
    try:
        in_one = harvest(tmp_path, reference, ONE_PROCESS, source)
        in_two = harvest(tmp_path, engine_index, SECOND_PROCESS, source)
        assert summary(in_two) == summary(in_one)
        assert all(d.ok for d in check(reference, engine_index, items=True))
    finally:
        reference.close()


def test_a_file_broken_midway_fails_in_the_same_words_and_keeps_what_came_before(
    tmp_path: Path,
) -> None:
    (tmp_path / "orte.geojson").write_bytes(geojson(12_000)[:-30_000])  # cut inside a feature
    source = {"name": "orte", "type": "geojson", "url": str(tmp_path / "orte.geojson")}
    one, two = SQLiteIndex(tmp_path / "one.sqlite"), SQLiteIndex(tmp_path / "two.sqlite")
    try:
        in_one = harvest(tmp_path, one, ONE_PROCESS, source)
        in_two = harvest(tmp_path, two, SECOND_PROCESS, source)
        assert in_one.sources[0].status == "failed"
        assert "invalid GeoJSON" in (in_one.sources[0].error or "")
        assert summary(in_two) == summary(in_one)
        assert two.source_counts() == one.source_counts()
        # every item read before the break is kept, however the records were batched
        assert in_one.sources[0].items > 9000
        # (but the second "f16", which the index refuses as a duplicate)
        assert two.source_counts()["orte"][1] == in_one.sources[0].items - 1
    finally:
        one.close()
        two.close()


def test_a_reading_process_that_dies_fails_its_source_alone(tmp_path: Path) -> None:
    """The file is a named pipe the test writes: the first run gets it whole, the second half
    of it before its reading process is killed."""
    fifo = tmp_path / "orte.geojson"
    os.mkfifo(fifo)
    (tmp_path / "other.geojson").write_bytes(geojson(50))
    sources = (
        {"name": "orte", "type": "geojson", "url": str(fifo)},
        {"name": "other", "type": "geojson", "url": str(tmp_path / "other.geojson")},
    )
    index = SQLiteIndex(tmp_path / "index.sqlite")
    body = geojson(3000)

    def run(kill: bool) -> HarvestReport:
        reports: list[HarvestReport] = []
        runner = threading.Thread(
            target=lambda: reports.append(harvest(tmp_path, index, SECOND_PROCESS, *sources))
        )
        runner.start()
        with fifo.open("wb") as pipe:  # opens once the reading process has opened its end
            pipe.write(body[: len(body) // 2] if kill else body)
            pipe.flush()
            if kill:
                time.sleep(0.5)
                (child,) = multiprocessing.active_children()
                os.kill(child.pid or 0, signal.SIGKILL)
        runner.join(60)
        assert not runner.is_alive()
        return reports[0]

    try:
        first = run(kill=False)
        assert first.ok, first
        before = index.source_counts()
        second = run(kill=True)
        orte, other = second.sources
        assert orte.status == "failed"
        assert "ended before the end of the file" in (orte.error or "")
        assert "-9" in (orte.error or "")  # the exit code says it was killed
        assert other.status == "ok" and other.unchanged == first.sources[1].added
        assert index.source_counts() == before  # nothing deleted, nothing half-written lost
    finally:
        index.close()


@pytest.mark.parametrize("readers", [2, 3])
def test_processes_sharing_a_files_reading_give_the_same_index_and_report(
    tmp_path: Path, readers: int, caplog: pytest.LogCaptureFixture
) -> None:
    """Each process parses and prepares every n-th batch of 2,000 records and skips the
    others; the writer takes the batches in turn."""
    body = features(9_500)  # five batches, the last one short
    body[4_321] = {"type": "Feature", "id": "deep", "geometry": None, "properties": {"a": []}}
    nested: Any = []
    for _ in range(80):
        nested = [nested]
    body[4_321]["properties"]["a"] = nested  # too deep: a problem, in its batch
    body[6_001]["id"] = "f2"  # a duplicate id across batches of different processes
    (tmp_path / "orte.geojson").write_bytes(
        json.dumps({"type": "FeatureCollection", "features": body}).encode()
    )
    source = {"name": "orte", "type": "geojson", "url": str(tmp_path / "orte.geojson")}
    one, shared = SQLiteIndex(tmp_path / "one.sqlite"), SQLiteIndex(tmp_path / "two.sqlite")
    try:
        in_one = harvest(tmp_path, one, ONE_PROCESS, source)
        with caplog.at_level(logging.INFO, logger="catalogue.harvest"):
            in_shared = harvest(tmp_path, shared, SECOND_PROCESS, source, readers=readers)
        assert [
            r.__dict__.get("processes") for r in caplog.records if r.msg.startswith("reading")
        ] == [readers]
        assert summary(in_shared) == summary(in_one)
        problems = sorted(map(str, in_one.sources[0].problems))
        assert any("feature 4322" in p for p in problems) and any("f2" in p for p in problems)
        assert all(d.ok for d in check(one, shared, items=True))
        again = harvest(tmp_path, shared, SECOND_PROCESS, source, readers=readers)
        assert again.sources[0].unchanged == in_one.sources[0].added
    finally:
        one.close()
        shared.close()


def test_a_file_broken_midway_in_a_shared_reading_keeps_what_came_before(tmp_path: Path) -> None:
    """Only the process whose batch holds the break reads it; the others' batches after it
    are never taken."""
    (tmp_path / "orte.geojson").write_bytes(geojson(12_000)[:-30_000])  # cut inside a feature
    source = {"name": "orte", "type": "geojson", "url": str(tmp_path / "orte.geojson")}
    one, shared = SQLiteIndex(tmp_path / "one.sqlite"), SQLiteIndex(tmp_path / "two.sqlite")
    try:
        in_one = harvest(tmp_path, one, ONE_PROCESS, source)
        in_shared = harvest(tmp_path, shared, SECOND_PROCESS, source, readers=2)
        assert in_one.sources[0].status == "failed"
        assert summary(in_shared) == summary(in_one)
        assert shared.source_counts() == one.source_counts()
    finally:
        one.close()
        shared.close()


def test_a_feature_sequence_shares_its_reading_with_the_same_ids(tmp_path: Path) -> None:
    """Features without ids are named by their line, blank lines counted."""
    lines = []
    for i, feature in enumerate(features(5_000)):
        feature.pop("id", None)
        lines.append(json.dumps(feature))
        if i % 997 == 0:
            lines.append("")
    lines[2_500] = "{not json"
    (tmp_path / "orte.geojsonl").write_text("\n".join(lines) + "\n")
    source = {"name": "orte", "type": "geojson", "url": str(tmp_path / "orte.geojsonl")}
    one, shared = SQLiteIndex(tmp_path / "one.sqlite"), SQLiteIndex(tmp_path / "two.sqlite")
    try:
        in_one = harvest(tmp_path, one, ONE_PROCESS, source)
        in_shared = harvest(tmp_path, shared, SECOND_PROCESS, source, readers=2)
        assert summary(in_shared) == summary(in_one)
        assert in_one.sources[0].added > 4_990
        assert all(d.ok for d in check(one, shared, items=True))
    finally:
        one.close()
        shared.close()


def test_one_of_the_reading_processes_dying_fails_its_source_alone(tmp_path: Path) -> None:
    (tmp_path / "orte.geojson").write_bytes(geojson(150_000))
    (tmp_path / "other.geojson").write_bytes(geojson(50))
    sources = (
        {"name": "orte", "type": "geojson", "url": str(tmp_path / "orte.geojson")},
        {"name": "other", "type": "geojson", "url": str(tmp_path / "other.geojson")},
    )
    index = SQLiteIndex(tmp_path / "index.sqlite")
    reports: list[HarvestReport] = []
    runner = threading.Thread(
        target=lambda: reports.append(harvest(tmp_path, index, SECOND_PROCESS, *sources, readers=2))
    )
    try:
        runner.start()
        deadline = time.monotonic() + 30
        while len(multiprocessing.active_children()) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)  # both are reading
        second = max(multiprocessing.active_children(), key=lambda p: p.name or "")
        assert (second.name or "").endswith("-2")
        os.kill(second.pid or 0, signal.SIGKILL)
        runner.join(120)
        assert not runner.is_alive()
        orte, other = reports[0].sources
        assert orte.status == "failed"
        assert "ended before the end of the file" in (orte.error or "")
        counts = index.source_counts()
        assert other.status == "ok" and counts["other"] == (1, other.added - 1)  # its dataset
        # what came before the dead reader's first missing batch is written
        assert 0 < counts["orte"][1] < 150_000
    finally:
        runner.join(120)
        index.close()


@pytest.mark.parametrize("readers", [1, 2, 3, 4])
def test_a_run_of_records_goes_to_the_end_of_a_batch_or_to_the_next_own_one(
    readers: int,
) -> None:
    for mine in range(readers):
        share = Share(5, readers, mine)
        for record in range(200):
            makes, count = share.run(record)
            assert count >= 1
            assert all(share.skips(record + n) != makes for n in range(count))
            if makes:  # to the end of its batch
                assert (record + count) % 5 == 0
            else:  # every record up to this process's next batch
                assert not share.skips(record + count)
