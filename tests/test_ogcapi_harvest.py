"""The OGC API Features source type, harvesting from a real OGC API server: this catalogue's
own demo served over HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import LiveServer

from catalogue.harvest.runner import run_harvest
from catalogue.index.sqlite import SQLiteIndex
from catalogue.query import SearchQuery, SortKey
from catalogue.settings import settings_from_dict


def settings(tmp_path: Path, url: str, **options: Any) -> Any:
    source = {"name": "nachbar", "type": "ogcapi-features", "url": url, "limit": 7, **options}
    return settings_from_dict(
        {"index": {"path": "i.sqlite"}, "harvest": {"backoff": 0.01}, "sources": [source]},
        tmp_path / "c.yml",
        {},
    )


def test_every_feature_collection_with_every_item(
    tmp_path: Path, demo: LiveServer, index: SQLiteIndex
) -> None:
    report = run_harvest(settings(tmp_path, f"{demo.url}/ogc"), index).sources[0]
    assert report.status == "ok", report.error
    assert report.warnings == []
    original = SQLiteIndex(demo.settings.index.path)  # type: ignore[arg-type]
    expected = {c.dataset.id: c.dataset.item_count for c in original.collections()}
    got = {
        c.dataset.provenance.source_identifier: c.dataset.item_count for c in index.collections()
    }
    assert got == expected  # the records collection `catalogue` is not a feature collection
    assert report.items == sum(expected.values())

    ordered = SearchQuery(sort=(SortKey("id"),), limit=1000)
    theirs = original.search_items("sehenswuerdigkeiten", ordered).records
    ours = index.search_items("nachbar.sehenswuerdigkeiten", ordered).records
    assert [(i.id, i.geometry, i.properties) for i in ours] == [
        (i.id, i.geometry, i.properties) for i in theirs
    ]
    dataset = index.get_dataset("nachbar.sehenswuerdigkeiten")
    assert dataset is not None and dataset.title.startswith("Sehenswürdigkeiten")
    assert dataset.distributions[0].url.endswith("/collections/sehenswuerdigkeiten/items")
    original.close()


def test_chosen_collections_and_a_missing_one(
    tmp_path: Path, demo: LiveServer, index: SQLiteIndex
) -> None:
    config = settings(tmp_path, f"{demo.url}/ogc", collections=["stadtbezirke", "gibt-es-nicht"])
    report = run_harvest(config, index).sources[0]
    assert report.datasets == 1 and report.items == 10
    assert report.warnings == ["collection 'gibt-es-nicht' is not offered by the server"]


def test_an_unreachable_server_fails_the_source(tmp_path: Path, index: SQLiteIndex) -> None:
    from conftest import free_port

    report = run_harvest(settings(tmp_path, f"http://127.0.0.1:{free_port()}/ogc"), index)
    assert report.sources[0].status == "failed"


def test_a_next_link_that_loops_is_stopped(tmp_path: Path, index: SQLiteIndex) -> None:
    import json as _json

    from upstream import Upstream

    def send(handler: Any, body: dict[str, Any]) -> None:
        data = _json.dumps(body).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    with Upstream(tmp_path) as upstream:
        items = upstream.url("ogc/collections/kreis/items")
        upstream.routes["/ogc/collections"] = lambda h: send(
            h, {"collections": [{"id": "kreis", "title": "Kreis", "itemType": "feature"}]}
        )
        upstream.routes["/ogc/collections/kreis/items"] = lambda h: send(
            h,
            {
                "type": "FeatureCollection",
                "numberMatched": 5,
                "features": [
                    {
                        "type": "Feature",
                        "id": "1",
                        "properties": {},
                        "geometry": {"type": "Point", "coordinates": [6.7, 51.2]},
                    }
                ],
                "links": [
                    {"rel": "next", "type": "application/geo+json", "href": f"{items}?page=2"}
                ],
            },
        )
        report = run_harvest(settings(tmp_path, upstream.url("ogc")), index).sources[0]
    assert report.status == "ok" and len(upstream.requests) < 10
    assert any("next link repeats" in w for w in report.warnings)
    assert any("promised 5 items" in w for w in report.warnings)
