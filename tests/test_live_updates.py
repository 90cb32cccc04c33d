"""The OGC API follows the index: a harvest while the server runs changes what it publishes."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from conftest import LiveServer, free_port

from catalogue.harvest.runner import run_harvest
from catalogue.index.sqlite import SQLiteIndex
from catalogue.settings import settings_from_dict


def points(n: int) -> str:
    return json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "id": i,
                    "properties": {"nr": i},
                    "geometry": {"type": "Point", "coordinates": [6.7 + i / 1000, 51.2]},
                }
                for i in range(n)
            ],
        }
    )


def test_collections_appear_change_and_disappear_without_a_restart(tmp_path: Path) -> None:
    (tmp_path / "a.geojson").write_text(points(3))
    (tmp_path / "b.geojson").write_text(points(5))
    raw = {
        "index": {"backend": "sqlite", "path": "index.sqlite"},
        "server": {"port": free_port()},
        "sources": [{"name": "erste", "type": "geojson", "url": "a.geojson"}],
    }
    settings = settings_from_dict(raw, tmp_path / "c.yml", {})
    index = SQLiteIndex(settings.index.path)  # type: ignore[arg-type]
    with LiveServer(settings) as server, httpx.Client(base_url=server.url) as http:

        def collections() -> dict[str, int]:
            body = http.get("/ogc/collections", params={"f": "json"}).json()
            ids = [c["id"] for c in body["collections"] if c["id"] != "catalogue"]
            return {
                cid: http.get(f"/ogc/collections/{cid}/items", params={"f": "json"}).json()[
                    "numberMatched"
                ]
                for cid in ids
            }

        assert collections() == {}
        run_harvest(settings, index)
        assert collections() == {"erste": 3}

        raw["sources"].append({"name": "zweite", "type": "geojson", "url": "b.geojson"})
        settings = settings_from_dict(raw, tmp_path / "c.yml", {})
        run_harvest(settings, index)
        assert collections() == {"erste": 3, "zweite": 5}

        (tmp_path / "a.geojson").write_text(points(1))
        run_harvest(settings, index)
        assert collections() == {"erste": 1, "zweite": 5}

        index.delete_source("zweite")
        assert collections() == {"erste": 1}
        assert http.get("/ogc/collections/zweite/items").status_code == 404
    index.close()
