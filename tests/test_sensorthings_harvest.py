"""SensorThings sources: a recorded FROST-Server Thing and Things written here, served by a
local SensorThings stand-in; aggregates checked by hand, incremental runs, paging and faults."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import httpx
import pytest
from conftest import SHARED_DATA, LiveServer, free_port
from sensorthings_upstream import SensorThingsStandIn
from upstream import Upstream

from catalogue.harvest.runner import run_harvest
from catalogue.index.sqlite import SQLiteIndex
from catalogue.query import SearchQuery
from catalogue.settings import Settings, settings_from_dict

RECORDED_THING = (
    SHARED_DATA
    / "fixtures"
    / "sensorthings"
    / "priobike-dresden_frost-v1.1_Thing_expanded_sg1.json"
)
NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
HOUR = NOW - timedelta(hours=3)  # the hour most observations below fall into


def at(minutes: int) -> str:
    return (HOUR + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def hour_key(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H")


def air_station(thing_id: int = 501) -> dict[str, Any]:
    return {
        "@iot.id": thing_id,
        "name": f"Luftmessstation {thing_id}",
        "description": "Messcontainer am Straßenrand",
        "Locations": [
            {
                "@iot.id": 7,
                "encodingType": "application/geo+json",
                "location": {"type": "Point", "coordinates": [6.7735, 51.2277]},
            }
        ],
        "Datastreams": [
            {
                "@iot.id": thing_id * 10 + 1,
                "name": "NO2",
                "unitOfMeasurement": {
                    "name": "Mikrogramm pro Kubikmeter",
                    "symbol": "µg/m³",
                    "definition": "http://www.qudt.org/qudt/owl/1.0.0/unit/Instances.html",
                },
                "ObservedProperty": {"@iot.id": 1, "name": "Stickstoffdioxid"},
                "Sensor": {"@iot.id": 1, "name": "NO2-Analysator"},
            }
        ],
    }


@pytest.fixture()
def sta(tmp_path: Path) -> Iterator[SensorThingsStandIn]:
    with Upstream(tmp_path) as up:
        yield SensorThingsStandIn(up, page=3)


def settings_for(tmp_path: Path, url: str, **options: Any) -> Settings:
    return settings_from_dict(
        {
            "index": {"backend": "sqlite", "path": "index.sqlite"},
            "server": {"port": free_port()},
            "harvest": {"backoff": 0.01, "retries": 0},
            "sources": [
                {
                    "name": "sensoren",
                    "type": "sensorthings",
                    "url": url,
                    "title": "Sensornetz",
                    **options,
                }
            ],
        },
        tmp_path / "catalogue.yml",
        {},
    )


def observations(*pairs: tuple[int, Any]) -> list[dict[str, Any]]:
    return [{"phenomenonTime": at(m), "result": v} for m, v in pairs]


def test_things_carry_latest_values_and_aggregates_add_up(
    tmp_path: Path, sta: SensorThingsStandIn, index: SQLiteIndex
) -> None:
    recorded = json.loads(RECORDED_THING.read_text())
    sta.add_thing(recorded)
    sta.add_thing(air_station())
    sta.observations["5011"] = observations((5, 20.0), (20, 30.5), (40, 10), (65, 42.25))
    sta.observations["30"] = observations((1, "morgen"), (2, "mittag"))  # text: counted only
    sta.observations["29"] = [
        {"phenomenonTime": at(3), "result": 7},
        {"result": 9},  # no phenomenonTime: skipped and reported
        {"phenomenonTime": "gestern", "result": 1},
    ]
    settings = settings_for(tmp_path, sta.url)
    report = run_harvest(settings, index).sources[0]
    assert report.status == "ok", report.error
    assert report.datasets == 2
    assert sorted(p.where for p in report.problems) == [
        "datastream 29 observation 2",
        "datastream 29 observation 3",
    ]
    assert "not a date-time" in " ".join(p.reason for p in report.problems)

    network = index.get_dataset("sensoren")
    assert network is not None and network.kind == "sensor" and network.item_count == 2
    station = index.get_item("sensoren", "501")
    assert station is not None
    assert station.geometry == {"type": "Point", "coordinates": [6.7735, 51.2277]}
    props = station.properties
    assert props["fresh"] is False  # the newest observation is about two hours old
    assert props["latest_time"] == at(65)
    (no2,) = props["datastreams"]
    assert (no2["name"], no2["unit"], no2["unit_name"]) == (
        "NO2",
        "µg/m³",
        "Mikrogramm pro Kubikmeter",
    )
    assert (no2["observed_property"], no2["latest_value"], no2["latest_time"]) == (
        "Stickstoffdioxid",
        42.25,
        at(65),
    )
    first_hour, second_hour = no2["hourly"]
    assert first_hour["start"] == HOUR.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (first_hour["count"], first_hour["min"], first_hour["max"]) == (3, 10, 30.5)
    assert first_hour["mean"] == pytest.approx((20.0 + 30.5 + 10) / 3)
    assert (second_hour["count"], second_hour["mean"]) == (1, 42.25)

    hourly = index.get_item("sensoren.aggregates", f"5011.hour.{hour_key(HOUR)}")
    assert hourly is not None
    assert hourly.time_start == HOUR.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert hourly.time_end == (HOUR + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert hourly.properties["thing"] == "Luftmessstation 501"
    assert hourly.properties["unit"] == "µg/m³"
    assert (hourly.properties["last_value"], hourly.properties["last_time"]) == (10, at(40))
    day_total = sum(
        i.properties["count"]
        for i in index.search_items(
            "sensoren.aggregates", SearchQuery(properties=(("period", "day"),), limit=100)
        ).records
        if i.properties["datastream_id"] == "5011"
    )
    assert day_total == 4

    text = index.get_item("sensoren.aggregates", f"30.hour.{hour_key(HOUR)}")
    assert text is not None
    assert (text.properties["count"], text.properties["numeric_count"]) == (2, 0)
    assert text.properties["mean"] is None and text.properties["last_value"] == "mittag"
    signal = index.get_item("sensoren", "30")
    assert signal is not None and signal.geometry is not None
    assert signal.geometry["type"] == "MultiLineString"
    assert {d["name"] for d in signal.properties["datastreams"]} == {
        "Signal program ID at SG1",
        "Cycle second at SG1",
        "Signal change request - cyclists at SG1",
        "Primary signal heads at SG1",
    }

    # the aggregates answer datetime= over HTTP, through the OGC API
    with LiveServer(settings, index) as server:
        url = f"{server.url}/ogc/collections/sensoren.aggregates/items"
        second = HOUR + timedelta(hours=1, minutes=30)
        body = httpx.get(
            url,
            params={"datetime": second.strftime("%Y-%m-%dT%H:%M:%SZ"), "period": "hour"},
            timeout=30,
        ).json()
        assert [f["id"] for f in body["features"]] == [f"5011.hour.{hour_key(second)}"]
        assert body["features"][0]["properties"]["mean"] == 42.25


def test_a_fresh_station_is_flagged_fresh(
    tmp_path: Path, sta: SensorThingsStandIn, index: SQLiteIndex
) -> None:
    sta.add_thing(air_station())
    recent = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    sta.observations["5011"] = [{"phenomenonTime": recent, "result": 12}]
    run_harvest(settings_for(tmp_path, sta.url, stale_after_minutes=30), index)
    station = index.get_item("sensoren", "501")
    assert station is not None and station.properties["fresh"] is True


def test_incremental_runs_read_only_new_observations_and_keep_aggregates(
    tmp_path: Path, sta: SensorThingsStandIn, index_path: Path
) -> None:
    sta.add_thing(air_station(501))
    sta.add_thing(air_station(502))
    sta.observations["5011"] = observations((0, 1), (10, 2), (20, 3), (30, 4))
    sta.observations["5021"] = observations((0, 5))
    settings = settings_for(tmp_path, sta.url)
    index = SQLiteIndex(index_path)
    assert run_harvest(settings, index).sources[0].status == "ok"
    index.close()

    # a restart: new index object, new run; the state lives beside the index
    sta.observations["5011"] += observations((40, 10), (70, 20))
    sta.things = [t for t in sta.things if t["@iot.id"] != 502]  # station 502 was removed
    sta.upstream.requests.clear()
    index = SQLiteIndex(index_path)
    report = run_harvest(settings, index).sources[0]
    assert report.status == "ok", report.error
    asked = [unquote_plus(r) for r in sta.upstream.requests if "Datastreams(5011)" in r]
    assert asked and all(f"phenomenonTime gt {at(30)}" in r for r in asked)
    hourly = index.get_item("sensoren.aggregates", f"5011.hour.{hour_key(HOUR)}")
    assert hourly is not None
    assert (hourly.properties["count"], hourly.properties["max"]) == (5, 10)
    assert hourly.properties["mean"] == pytest.approx((1 + 2 + 3 + 4 + 10) / 5)
    station = index.get_item("sensoren", "501")
    assert station is not None and station.properties["latest_time"] == at(70)
    assert station.properties["datastreams"][0]["latest_value"] == 20
    # the removed station and its aggregates are gone; nothing else was
    assert index.get_item("sensoren", "502") is None
    assert index.get_item("sensoren.aggregates", f"5021.hour.{hour_key(HOUR)}") is None
    assert report.deleted == 3  # the Thing, its hourly and its daily aggregate
    index.close()


def test_paging_to_the_end_and_a_short_count_is_a_warning(
    tmp_path: Path, sta: SensorThingsStandIn, index: SQLiteIndex
) -> None:
    for n in range(7):
        sta.add_thing(air_station(600 + n))
    sta.observations["6001"] = observations(*((m, m) for m in range(0, 50, 5)))
    sta.short_count = 2
    report = run_harvest(settings_for(tmp_path, sta.url), index).sources[0]
    assert report.status == "ok" and report.items > 7
    assert index.get_dataset("sensoren") is not None
    assert index.get_dataset("sensoren").item_count == 7  # type: ignore[union-attr]
    hourly = index.get_item("sensoren.aggregates", f"6001.hour.{hour_key(HOUR)}")
    assert hourly is not None and hourly.properties["count"] == 10  # 4 pages of 3
    assert any("promised 9 and delivered 7" in w for w in report.warnings)
    assert any("promised 12 observations and delivered 10" in w for w in report.warnings)


def test_a_failing_datastream_fails_the_source_and_keeps_what_was_indexed(
    tmp_path: Path, sta: SensorThingsStandIn, index: SQLiteIndex
) -> None:
    sta.add_thing(air_station(501))
    sta.observations["5011"] = observations((0, 1), (10, 2))
    settings = settings_for(tmp_path, sta.url)
    assert run_harvest(settings, index).sources[0].status == "ok"

    sta.observations["5011"] += observations((20, 3))
    sta.fail.add("5011")
    report = run_harvest(settings, index).sources[0]
    assert report.status == "failed" and "HTTP 500" in (report.error or "")
    hourly = index.get_item("sensoren.aggregates", f"5011.hour.{hour_key(HOUR)}")
    assert hourly is not None and hourly.properties["count"] == 2
    assert index.get_item("sensoren", "501") is not None

    # the next good run starts where the last good one ended: nothing counted twice or lost
    sta.fail.clear()
    assert run_harvest(settings, index).sources[0].status == "ok"
    hourly = index.get_item("sensoren.aggregates", f"5011.hour.{hour_key(HOUR)}")
    assert hourly is not None and hourly.properties["count"] == 3


def test_full_run_rebuilds_the_aggregates(
    tmp_path: Path, sta: SensorThingsStandIn, index: SQLiteIndex
) -> None:
    sta.add_thing(air_station(501))
    sta.observations["5011"] = observations((0, 1), (10, 2))
    settings = settings_for(tmp_path, sta.url)
    run_harvest(settings, index)
    run_harvest(settings, index)  # nothing new: nothing counted twice
    hourly = index.get_item("sensoren.aggregates", f"5011.hour.{hour_key(HOUR)}")
    assert hourly is not None and hourly.properties["count"] == 2
    sta.observations["5011"] = observations((0, 1))  # the server's history was corrected
    report = run_harvest(settings, index, full=True).sources[0]
    hourly = index.get_item("sensoren.aggregates", f"5011.hour.{hour_key(HOUR)}")
    assert report.status == "ok" and hourly is not None and hourly.properties["count"] == 1


def test_old_buckets_expire_from_the_aggregates(
    tmp_path: Path, sta: SensorThingsStandIn, index: SQLiteIndex
) -> None:
    station = copy.deepcopy(air_station(501))
    sta.add_thing(station)
    sta.observations["5011"] = observations((0, 1), (60, 2), (120, 3))
    settings = settings_for(tmp_path, sta.url, keep_hours=2, recent_hours=1)
    run_harvest(settings, index)
    assert index.get_item("sensoren.aggregates", f"5011.hour.{hour_key(HOUR)}") is None
    kept = HOUR + timedelta(hours=1)
    assert index.get_item("sensoren.aggregates", f"5011.hour.{hour_key(kept)}") is not None
    item = index.get_item("sensoren", "501")
    assert item is not None and len(item.properties["datastreams"][0]["hourly"]) == 1


def test_datastreams_beyond_the_expanded_list_are_followed(
    tmp_path: Path, sta: SensorThingsStandIn, index: SQLiteIndex
) -> None:
    station = air_station(700)
    more = [
        {**copy.deepcopy(station["Datastreams"][0]), "@iot.id": 7100 + n, "name": f"Kanal {n}"}
        for n in range(4)
    ]
    station["Datastreams@iot.nextLink"] = sta.add_collection("Things(700)/Datastreams", more)
    sta.add_thing(station)
    for extra in more:
        sta.add_thing({"@iot.id": "unused", "Datastreams": [extra]})  # routes for Observations
    sta.things = [station, {"name": "ohne id"}]
    sta.observations["7103"] = observations((0, 3.5))
    report = run_harvest(settings_for(tmp_path, sta.url), index).sources[0]
    assert report.status == "ok"
    assert [(p.where, p.reason) for p in report.problems] == [("thing 2", "no @iot.id")]
    item = index.get_item("sensoren", "700")
    assert item is not None
    ids = [d["id"] for d in item.properties["datastreams"]]
    assert ids == ["7001", "7100", "7101", "7102", "7103"]
    assert item.properties["datastreams"][-1]["latest_value"] == 3.5


def test_a_server_ignoring_the_order_still_gives_the_newest_as_latest(
    tmp_path: Path, sta: SensorThingsStandIn, index: SQLiteIndex
) -> None:
    sta.add_thing(air_station(501))
    sta.unordered = True
    sta.observations["5011"] = observations((0, 1), (10, 2), (20, 3))
    run_harvest(settings_for(tmp_path, sta.url), index)
    station = index.get_item("sensoren", "501")
    assert station is not None
    (no2,) = station.properties["datastreams"]
    assert (no2["latest_value"], no2["latest_time"]) == (3, at(20))
    hourly = index.get_item("sensoren.aggregates", f"5011.hour.{hour_key(HOUR)}")
    assert hourly is not None and hourly.properties["last_value"] == 3


def test_a_datastream_with_nothing_new_is_not_asked_again(
    tmp_path: Path, sta: SensorThingsStandIn, index: SQLiteIndex
) -> None:
    station = air_station(501)
    station["Datastreams"][0]["phenomenonTime"] = f"{at(0)}/{at(10)}"
    sta.add_thing(station)
    sta.observations["5011"] = observations((0, 1), (10, 2))
    settings = settings_for(tmp_path, sta.url)
    run_harvest(settings, index)
    sta.upstream.requests.clear()
    assert run_harvest(settings, index).sources[0].status == "ok"
    assert not [r for r in sta.upstream.requests if "Observations" in r]

    sta.observations["5011"] += observations((20, 3))
    station["Datastreams"][0]["phenomenonTime"] = f"{at(0)}/{at(20)}"
    run_harvest(settings, index)
    hourly = index.get_item("sensoren.aggregates", f"5011.hour.{hour_key(HOUR)}")
    assert hourly is not None and hourly.properties["count"] == 3
