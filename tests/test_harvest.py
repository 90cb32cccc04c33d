"""Harvest runs with the file source types, from paths and from a local HTTP upstream."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import SHARED_DATA, free_port
from upstream import Upstream, status, truncated

from catalogue.harvest.runner import run_harvest
from catalogue.index.sqlite import SQLiteIndex
from catalogue.query import SearchQuery
from catalogue.settings import Settings, settings_from_dict

RECORDED_WFS = (
    SHARED_DATA
    / "fixtures"
    / "geo"
    / "duesseldorf_wfs_GetFeature_verkehr-behindertenparkplatz.geojson"
)


def settings_for(tmp_path: Path, *sources: dict[str, Any]) -> Settings:
    return settings_from_dict(
        {
            "index": {"backend": "sqlite", "path": "index.sqlite"},
            "harvest": {"backoff": 0.01},
            "sources": list(sources),
        },
        tmp_path / "catalogue.yml",
        {},
    )


def collection(n: int, start: int = 0) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": f"f{i}",
                "properties": {"name": f"Ort {i}", "wann": f"2024-01-{1 + i % 28:02d}"},
                "geometry": {"type": "Point", "coordinates": [6.7 + i / 1000, 51.2]},
            }
            for i in range(start, start + n)
        ],
    }


def test_geojson_file_becomes_one_dataset_with_its_features(
    tmp_path: Path, index: SQLiteIndex
) -> None:
    (tmp_path / "a.geojson").write_text(json.dumps(collection(25)))
    settings = settings_for(
        tmp_path,
        {
            "name": "orte",
            "type": "geojson",
            "url": "a.geojson",
            "title": "Orte",
            "datetime_field": "wann",
        },
    )
    report = run_harvest(settings, index)
    source = report.sources[0]
    assert (source.status, source.datasets, source.items, source.added) == ("ok", 1, 25, 26)
    dataset = index.get_dataset("orte")
    assert dataset is not None and dataset.title == "Orte" and dataset.item_count == 25
    assert dataset.temporal == ("2024-01-01T00:00:00Z", "2024-01-25T00:00:00Z")
    assert dataset.provenance.source_type == "geojson"
    item = index.get_item("orte", "f3")
    assert item is not None and item.time_start == "2024-01-04T00:00:00Z"


def test_broken_features_are_skipped_and_reported_with_position(
    tmp_path: Path, index: SQLiteIndex
) -> None:
    data = collection(3)
    data["features"].insert(
        1,
        {
            "type": "Feature",
            "id": "bad",
            "properties": {},
            "geometry": {"type": "Point", "coordinates": ["x", 1]},
        },
    )
    data["features"].append(
        {"type": "Feature", "id": "late", "properties": {"wann": "gestern"}, "geometry": None}
    )
    data["features"].append({"type": "Nonsense"})
    (tmp_path / "a.geojson").write_text(json.dumps(data))
    settings = settings_for(
        tmp_path, {"name": "orte", "type": "geojson", "url": "a.geojson", "datetime_field": "wann"}
    )
    source = run_harvest(settings, index).sources[0]
    assert source.status == "ok" and source.items == 3 and source.failed == 3
    where = [p.where for p in source.problems]
    assert where == ["feature 2 (id bad)", "feature 5 (id late)", "feature 6"]
    assert "coordinates must be numbers" in source.problems[0].reason
    assert "not a date" in source.problems[1].reason


def test_feature_sequences_with_a_broken_line(tmp_path: Path, index: SQLiteIndex) -> None:
    lines = [json.dumps(f) for f in collection(4)["features"]]
    lines.insert(2, "{not json")
    (tmp_path / "a.geojsonl").write_text("\n".join(lines) + "\n")
    (tmp_path / "b.json").write_text("\n".join(json.dumps(f) for f in collection(2)["features"]))
    settings = settings_for(
        tmp_path,
        {"name": "seq", "type": "geojson", "url": "a.geojsonl"},
        {"name": "sniffed", "type": "geojson", "url": "b.json"},
    )
    seq, sniffed = run_harvest(settings, index).sources
    assert seq.items == 4 and seq.failed == 1 and seq.problems[0].where == "feature 3"
    assert sniffed.items == 2 and sniffed.status == "ok"


def test_csv_with_lat_lon_typed_values_and_an_id_column(tmp_path: Path, index: SQLiteIndex) -> None:
    (tmp_path / "s.csv").write_text(
        "station_id,name,plaetze,code,lat,lon\n"
        "S1,Nord,12,007,51.23,6.78\n"
        "S2,Süd,3,010,51.20,6.77\n"
        "S3,Kaputt,1,011,n/a,6.7\n"
        "S4,zu kurz\n",
        encoding="utf-8",
    )
    settings = settings_for(
        tmp_path, {"name": "st", "type": "csv", "url": "s.csv", "id_field": "station_id"}
    )
    source = run_harvest(settings, index).sources[0]
    assert (source.items, source.failed) == (2, 2)
    assert [p.where for p in source.problems] == ["line 4 (id S3)", "line 5"]
    item = index.get_item("st", "S1")
    assert item is not None
    assert item.geometry == {"type": "Point", "coordinates": [6.78, 51.23]}
    assert item.properties == {"station_id": "S1", "name": "Nord", "plaetze": 12, "code": "007"}


def test_csv_with_wkt_semicolons_and_a_projected_crs(tmp_path: Path, index: SQLiteIndex) -> None:
    # EPSG:25832 (UTM 32N), as NRW publishes it: the Rheinturm
    (tmp_path / "w.csv").write_text(
        "id;ort;wkt\n1;Rheinturm;POINT (343174.97 5676452.88)\n2;leer;\n"
    )
    settings = settings_for(
        tmp_path,
        {"name": "w", "type": "csv", "url": "w.csv", "id_field": "id", "crs": "EPSG:25832"},
    )
    assert run_harvest(settings, index).sources[0].items == 2
    lon, lat = index.get_item("w", "1").geometry["coordinates"]  # type: ignore[union-attr]
    assert lon == pytest.approx(6.7544, abs=1e-5) and lat == pytest.approx(51.2179, abs=1e-5)
    assert index.get_item("w", "2").geometry is None  # type: ignore[union-attr]


def test_harvest_over_http_from_a_recorded_wfs_response(tmp_path: Path, index: SQLiteIndex) -> None:
    with Upstream(RECORDED_WFS.parent) as upstream:
        settings = settings_for(
            tmp_path, {"name": "parken", "type": "geojson", "url": upstream.url(RECORDED_WFS.name)}
        )
        source = run_harvest(settings, index).sources[0]
    expected = len(json.loads(RECORDED_WFS.read_text())["features"])
    assert source.status == "ok" and source.items == expected == 10
    dataset = index.get_dataset("parken")
    assert dataset is not None and dataset.distributions[0].media_type == "application/geo+json"
    assert index.search_items("parken", SearchQuery()).number_matched == 10


def test_a_failing_source_fails_alone_and_keeps_what_it_had(
    tmp_path: Path, index: SQLiteIndex
) -> None:
    (tmp_path / "good.geojson").write_text(json.dumps(collection(5)))
    body = json.dumps(collection(40)).encode()
    with Upstream(tmp_path) as upstream:
        settings = settings_for(
            tmp_path,
            {"name": "remote", "type": "geojson", "url": upstream.url("remote.geojson")},
            {"name": "good", "type": "geojson", "url": "good.geojson"},
            {"name": "gone", "type": "csv", "url": f"http://127.0.0.1:{free_port()}/x.csv"},
        )
        upstream.routes["/remote.geojson"] = lambda h: status(200, body)(h)
        first = run_harvest(settings, index)
        assert [s.status for s in first.sources] == ["ok", "ok", "failed"]
        assert "cannot connect to http://127.0.0.1:" in (first.sources[2].error or "")

        upstream.routes["/remote.geojson"] = status(503, b"maintenance")
        second = run_harvest(settings, index)
        assert [s.status for s in second.sources] == ["failed", "ok", "failed"]
        assert "503" in (second.sources[0].error or "")
        assert index.get_dataset("remote").item_count == 40  # type: ignore[union-attr]

        upstream.routes["/remote.geojson"] = truncated(body, len(body) // 2)
        third = run_harvest(settings, index)
        assert third.sources[0].status == "failed"
        assert index.search_items("remote", SearchQuery()).number_matched == 40
        assert index.get_dataset("good").item_count == 5  # type: ignore[union-attr]


def test_geojson_over_http_with_text_that_is_not_utf8_fails_its_source_in_words(
    tmp_path: Path, index: SQLiteIndex
) -> None:
    body = json.dumps(collection(3)).replace('"f1"', '"\\udc00"').encode()
    assert b"\\udc00" in body
    with Upstream(tmp_path) as upstream:
        upstream.routes["/broken.geojson"] = lambda h: status(200, body)(h)
        settings = settings_for(
            tmp_path, {"name": "broken", "type": "geojson", "url": upstream.url("broken.geojson")}
        )
        (source,) = run_harvest(settings, index).sources
    assert source.status == "failed"
    assert "invalid GeoJSON" in (source.error or "") and "invalid string" in (source.error or "")


def test_vanished_records_are_deleted_after_a_complete_run(
    tmp_path: Path, index: SQLiteIndex
) -> None:
    path = tmp_path / "a.geojson"
    path.write_text(json.dumps(collection(10)))
    settings = settings_for(tmp_path, {"name": "orte", "type": "geojson", "url": "a.geojson"})
    run_harvest(settings, index)
    again = run_harvest(settings, index).sources[0]
    assert (again.added, again.updated, again.unchanged, again.deleted) == (0, 0, 11, 0)
    changed = collection(8)
    changed["features"][0]["properties"]["name"] = "Neu"
    path.write_text(json.dumps(changed))
    third = run_harvest(settings, index).sources[0]
    assert (third.updated, third.unchanged, third.deleted) == (1, 8, 2)
    assert index.get_dataset("orte").item_count == 8  # type: ignore[union-attr]


def test_a_missing_file_and_an_unknown_type_are_clear_errors(
    tmp_path: Path, index: SQLiteIndex
) -> None:
    settings = settings_for(
        tmp_path,
        {"name": "nofile", "type": "geojson", "url": "missing.geojson"},
        {"name": "notype", "type": "shapefile", "url": "x.shp"},
    )
    nofile, notype = run_harvest(settings, index).sources
    assert nofile.status == notype.status == "failed"
    assert "cannot read" in (nofile.error or "") and "missing.geojson" in (nofile.error or "")
    assert "unknown source type 'shapefile'" in (notype.error or "")


def test_invalid_json_in_a_collection_fails_the_source(tmp_path: Path, index: SQLiteIndex) -> None:
    (tmp_path / "a.geojson").write_text('{"type": "FeatureCollection", "features": [{"type": ')
    settings = settings_for(tmp_path, {"name": "a", "type": "geojson", "url": "a.geojson"})
    source = run_harvest(settings, index).sources[0]
    assert source.status == "failed" and "invalid GeoJSON" in (source.error or "")


def test_only_selected_sources_run(tmp_path: Path, index: SQLiteIndex) -> None:
    (tmp_path / "a.geojson").write_text(json.dumps(collection(1)))
    settings = settings_for(
        tmp_path,
        {"name": "a", "type": "geojson", "url": "a.geojson"},
        {"name": "b", "type": "geojson", "url": "a.geojson"},
    )
    assert [s.name for s in run_harvest(settings, index, only=["b"]).sources] == ["b"]


def test_retries_honour_retry_after_then_the_source_succeeds(
    tmp_path: Path, index: SQLiteIndex
) -> None:
    body = json.dumps(collection(3)).encode()
    answers = [status(503, b"busy"), status(429, b"slow down"), status(200, body)]
    with Upstream(tmp_path) as upstream:

        def flaky(handler: Any) -> None:
            answer = answers.pop(0)
            if answers and len(answers) == 1:  # the 429 names a Retry-After
                handler.send_response(429)
                handler.send_header("Retry-After", "0")
                handler.send_header("Content-Length", "0")
                handler.end_headers()
                return
            answer(handler)

        upstream.routes["/a.geojson"] = flaky
        settings = settings_for(
            tmp_path, {"name": "a", "type": "geojson", "url": upstream.url("a.geojson")}
        )
        source = run_harvest(settings, index).sources[0]
        assert source.status == "ok" and source.items == 3
        assert len(upstream.requests) == 3


def test_a_source_that_keeps_failing_fails_after_its_retries(
    tmp_path: Path, index: SQLiteIndex
) -> None:
    with Upstream(tmp_path) as upstream:
        upstream.routes["/a.geojson"] = status(500, b"broken")
        settings = settings_for(
            tmp_path, {"name": "a", "type": "geojson", "url": upstream.url("a.geojson")}
        )
        settings = settings.model_copy(
            update={"harvest": settings.harvest.model_copy(update={"retries": 2})}
        )
        source = run_harvest(settings, index).sources[0]
        assert source.status == "failed" and "HTTP 500" in (source.error or "")
        assert len(upstream.requests) == 3


def test_a_server_that_stops_answering_times_out(tmp_path: Path, index: SQLiteIndex) -> None:
    import time as _time

    with Upstream(tmp_path) as upstream:

        def stall(handler: Any) -> None:
            _time.sleep(1.5)  # longer than the harvest's timeout; the client is gone by then
            handler.close_connection = True

        upstream.routes["/slow.geojson"] = stall
        settings = settings_for(
            tmp_path, {"name": "slow", "type": "geojson", "url": upstream.url("slow.geojson")}
        )
        settings = settings.model_copy(
            update={"harvest": settings.harvest.model_copy(update={"timeout": 0.3, "retries": 1})}
        )
        started = _time.monotonic()
        source = run_harvest(settings, index).sources[0]
    assert source.status == "failed" and "timed out waiting for" in (source.error or "")
    assert len(upstream.requests) == 2  # the first try and one retry
    assert _time.monotonic() - started < 5


def test_local_files_only_from_allowed_folders(tmp_path: Path, index: SQLiteIndex) -> None:
    (tmp_path / "ok.geojson").write_text(json.dumps(collection(3)))
    (tmp_path / "sneaky.geojson").symlink_to("/etc/passwd")
    settings = settings_for(
        tmp_path,
        {"name": "ok", "type": "geojson", "url": "ok.geojson"},
        {"name": "passwd", "type": "csv", "url": "/etc/passwd"},
        {"name": "uri", "type": "csv", "url": "file:///etc/passwd"},
        {"name": "link", "type": "geojson", "url": "sneaky.geojson"},
    )
    ok, *refused = run_harvest(settings, index).sources
    assert ok.status == "ok" and ok.items == 3
    for source in refused:
        assert source.status == "failed", source.name
        assert "/etc/passwd is outside the folders sources may read" in (source.error or "")
    assert index.source_counts().keys() == {"ok"}


def test_a_redirect_cannot_lead_to_a_local_file(tmp_path: Path, index: SQLiteIndex) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("lat,lon,name\n51.2,6.7,geheim-5d1e\n")

    def to_file(handler: Any) -> None:
        handler.send_response(302)
        handler.send_header("Location", f"file://{secret}")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    with Upstream(tmp_path) as upstream:
        upstream.routes["/data.csv"] = to_file
        settings = settings_for(
            tmp_path, {"name": "moved", "type": "csv", "url": upstream.url("data.csv")}
        )
        (source,) = run_harvest(settings, index).sources
    assert source.status == "failed" and "file" in (source.error or ""), source.error
    assert "geheim" not in (source.error or "")
    assert index.search_datasets(SearchQuery(text="geheim")).number_matched == 0
    assert index.source_counts() == {}


def test_more_folders_can_be_allowed(tmp_path: Path, index: SQLiteIndex) -> None:
    settings = settings_from_dict(
        {
            "index": {"backend": "sqlite", "path": "index.sqlite"},
            "harvest": {"file_roots": ["/etc"]},
            "sources": [{"name": "host", "type": "geojson", "url": "/etc/hostname"}],
        },
        tmp_path / "catalogue.yml",
        {},
    )
    (source,) = run_harvest(settings, index).sources
    # the guard lets it through; the file is simply not GeoJSON
    assert source.status == "failed" and "outside the folders" not in (source.error or "")


def test_oversized_responses_fail_their_source_and_files_still_stream(
    tmp_path: Path, index: SQLiteIndex
) -> None:
    big = json.dumps(collection(200)).encode()  # ~30 KB
    (tmp_path / "big.geojson").write_bytes(big)

    def undeclared(handler: Any) -> None:  # no Content-Length: the body ends with the connection
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.end_headers()
        handler.wfile.write(big)
        handler.close_connection = True

    with Upstream(tmp_path) as upstream:
        upstream.routes["/declared/api/3/action/package_search"] = status(200, big)
        upstream.routes["/undeclared/api/3/action/package_search"] = undeclared
        settings = settings_from_dict(
            {
                "index": {"backend": "sqlite", "path": "index.sqlite"},
                "harvest": {"backoff": 0.01, "max_response_bytes": 4096},
                "sources": [
                    {"name": "declared", "type": "ckan", "url": upstream.url("declared")},
                    {"name": "undeclared", "type": "ckan", "url": upstream.url("undeclared")},
                    # a whole file read as a stream is not limited
                    {"name": "file", "type": "geojson", "url": upstream.url("big.geojson")},
                ],
            },
            tmp_path / "catalogue.yml",
            {},
        )
        declared, undeclared_report, streamed = run_harvest(settings, index).sources
    for report in (declared, undeclared_report):
        assert report.status == "failed", report
        assert "larger than 4,096 bytes (harvest.max_response_bytes)" in (report.error or "")
    assert streamed.status == "ok" and streamed.items == 200


def test_deeply_nested_features_are_refused_and_the_rest_is_read(
    tmp_path: Path, index: SQLiteIndex
) -> None:
    depth = 20_000
    good = collection(2)["features"]
    deep = '{"type": "Feature", "id": "deep", "properties": {"a": ' + "[" * depth + "]" * depth
    deep += '}, "geometry": {"type": "Point", "coordinates": [6.7, 51.2]}}'
    text = (
        '{"type": "FeatureCollection", "nested": '
        + "[" * depth
        + "]" * depth
        + ', "features": ['
        + json.dumps(good[0])
        + ", "
        + deep
        + ", "
        + json.dumps(good[1])
        + "]}"
    )
    (tmp_path / "deep.geojson").write_text(text)
    settings = settings_for(tmp_path, {"name": "deep", "type": "geojson", "url": "deep.geojson"})
    (report,) = run_harvest(settings, index).sources
    assert report.status == "ok" and report.items == 2 and report.failed == 1
    assert report.problems[0].where == "feature 2"
    assert "nested deeper than 64 levels" in report.problems[0].reason
