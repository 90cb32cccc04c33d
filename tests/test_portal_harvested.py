"""The portal shows what the real SensorThings harvester wrote: harvested from a local
SensorThings stand-in into a SQLite file, served by the app over HTTP."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from conftest import LiveServer
from sensorthings_upstream import SensorThingsStandIn
from test_sensorthings_harvest import air_station, observations, settings_for, sta  # noqa: F401

from catalogue.harvest.runner import run_harvest
from catalogue.index.sqlite import SQLiteIndex


def test_a_harvested_sensor_network_on_its_page(
    tmp_path: Path,
    sta: SensorThingsStandIn,  # noqa: F811
) -> None:
    sta.add_thing(air_station())
    sta.observations["5011"] = observations((5, 20.0), (20, 30.5), (40, 10), (65, 42.25))
    settings = settings_for(tmp_path, sta.url)
    index = SQLiteIndex(settings.index.path)  # type: ignore[arg-type]
    try:
        assert run_harvest(settings, index).ok
    finally:
        index.close()
    with LiveServer(settings) as server, httpx.Client(base_url=server.url) as client:
        page = client.get("/datasets/sensoren", headers={"Accept-Language": "de"})
        assert page.status_code == 200
        text = page.text
        assert "Luftmessstation 501" in text and "Stickstoffdioxid" in text
        assert "42,25" in text and "µg/m³" in text
        chart = re.search(r'<svg class="spark"[^>]*aria-label="([^"]+)"', text)
        assert chart and "zwischen" in chart.group(1)
        assert client.get("/datasets/sensoren/items/501").status_code == 200
        listing = client.get(
            "/search", params={"kind": "sensor"}, headers={"Accept-Language": "en"}
        )
        assert "Sensornetz" in listing.text
