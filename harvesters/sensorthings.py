"""OGC SensorThings API servers (FROST-Server, 52°North …): sensor networks with the latest
values and hourly/daily aggregates of their observations.

Every run lists all Things with their Locations, Datastreams, Sensors and ObservedProperties
(``$expand``), following ``@iot.nextLink`` to the end and checking ``@iot.count``. Observations
are read incrementally: per Datastream only those newer than the newest one seen before (by
``phenomenonTime``). The running aggregates live in the harvest state between runs.

Two datasets per source: the network (one item per Thing at its Location, with each
Datastream's latest value, recent aggregates and a freshness flag) and ``<source>.aggregates``
(one item per Datastream and hour or day, with the bucket as its time interval).
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import httpx
import orjson
from pydantic import Field

from catalogue.errors import HarvestError
from catalogue.geometry import GeometryError, geometry_bounds
from catalogue.harvest.contract import Change, Deleted, HarvesterOptions, SourceHarvester
from catalogue.harvest.metadata import configured_dataset
from catalogue.harvest.state import SourceState
from catalogue.model import Item, Notice, Problem
from harvesters import sensor_aggregates as agg

log = logging.getLogger("harvesters.sensorthings")

EXPAND = "Locations,Datastreams($expand=Sensor,ObservedProperty)"
GEOJSON_TYPES = ("application/geo+json", "application/vnd.geo+json", "application/geojson")


class SensorThingsOptions(HarvesterOptions):
    things_filter: str | None = None
    """An OData ``$filter`` on Things, e.g. ``properties/topic eq 'Luft'``."""
    page_size: int = Field(100, ge=1, le=10_000)
    """Things per page asked for."""
    observation_page_size: int = Field(10_000, ge=1, le=100_000)
    """Observations per page asked for (servers may send fewer and a next link)."""
    history_days: int | None = Field(30, ge=1)
    """How far back the first run of a Datastream reads (null: its whole history)."""
    recent_hours: int = Field(24, ge=0)
    recent_days: int = Field(7, ge=0)
    """How many hourly and daily aggregates a Thing's properties show per Datastream."""
    keep_hours: int = Field(168, ge=1)
    keep_days: int = Field(366, ge=1)
    """How many hourly and daily aggregates per Datastream the aggregates dataset keeps,
    counted back from the Datastream's newest observation."""
    stale_after_minutes: int = Field(60, ge=1)
    """A Thing is not ``fresh`` when none of its Datastreams had an observation this recently
    (at the time of the harvest)."""


class SensorThingsHarvester(SourceHarvester):
    """A sensor network: Things with their latest values, and the aggregates of their
    observations."""

    Options: ClassVar[type[SensorThingsOptions]] = SensorThingsOptions
    options: SensorThingsOptions

    def records(self) -> Iterator[Change]:
        raise HarvestError("the sensorthings source type needs the harvest state (changes())")

    def changes(self, state: SourceState) -> Iterator[Change]:
        network = configured_dataset(self.source, kind="sensor")
        title = self.source.title or self.source.name
        aggregates = configured_dataset(
            self.source,
            identifier="aggregates",
            kind="sensor",
            title=f"{title}: hourly and daily aggregates",
            description=f"Hourly and daily aggregates (count, min, max, mean, last value) of "
            f"the observations of {title}.",
        )
        yield network
        yield aggregates
        now = datetime.fromisoformat(state.started.replace("Z", "+00:00"))
        known: dict[str, list[str]] = state.get("things") or {}
        listed: dict[str, list[str]] = {}
        complete = True
        for position, thing in enumerate(self._things(), start=1):
            if isinstance(thing, Notice):
                complete = False
                yield thing
                continue
            if thing.get("@iot.id") in (None, ""):
                yield Problem(f"thing {position}", "no @iot.id")
                continue
            thing_id = str(thing.get("@iot.id"))
            if thing_id in listed:
                yield Problem(f"thing {thing_id}", "listed twice; the second is skipped")
                continue
            datastreams: list[dict[str, Any]] = []
            for datastream in self._datastreams(thing):
                if isinstance(datastream, Notice):
                    complete = False
                    yield datastream
                elif datastream.get("@iot.id") in (None, ""):
                    yield Problem(f"thing {thing_id}: datastream", "no @iot.id")
                else:
                    datastreams.append(datastream)
            listed[thing_id] = [str(d.get("@iot.id")) for d in datastreams]
            yield from self._thing(thing, datastreams, network.id, aggregates.id, state, now)
        if complete:
            yield from self._vanished(known, listed, network.id, aggregates.id, state)
        state.put("things", listed if complete else {**known, **listed})

    # listing --------------------------------------------------------------------------
    def _things(self) -> Iterator[dict[str, Any] | Notice]:
        params: dict[str, Any] = {
            "$expand": EXPAND,
            "$count": "true",
            "$top": self.options.page_size,
        }
        if self.options.things_filter:
            params["$filter"] = self.options.things_filter
        for entity in self._paged(f"{self.endpoint}/Things", params, "Things"):
            if isinstance(entity, (Notice, dict)):
                yield entity

    def _datastreams(self, thing: dict[str, Any]) -> Iterator[dict[str, Any] | Notice]:
        """The Thing's Datastreams, following ``Datastreams@iot.nextLink`` where the server
        cut the expanded list short."""
        for datastream in thing.get("Datastreams") or ():
            if isinstance(datastream, dict):
                yield datastream
        more = thing.get("Datastreams@iot.nextLink")
        if more:
            yield from self._paged(str(more), None, f"Datastreams of thing {thing.get('@iot.id')}")

    def _paged(
        self, url: str, params: dict[str, Any] | None, what: str
    ) -> Iterator[dict[str, Any] | Notice]:
        """Every entity of a collection, following ``@iot.nextLink``; a shortfall against
        ``@iot.count`` or a repeating link ends with a Notice."""
        promised: int | None = None
        received = 0
        visited: set[str] = set()
        next_url: str | None = url
        while next_url:
            page = self._get(next_url, params)
            visited.add(str(httpx.URL(next_url, params=params)) if params else next_url)
            if promised is None and isinstance(page.get("@iot.count"), int):
                promised = page["@iot.count"]
            for entity in page.get("value") or ():
                received += 1
                if isinstance(entity, dict):
                    yield entity
            next_url, params = page.get("@iot.nextLink"), None
            if next_url and next_url in visited:
                yield Notice(
                    f"{what}: the next link repeats {next_url}; paging stopped", incomplete=True
                )
                return
        if promised is not None and received < promised:
            yield Notice(
                f"{what}: the server promised {promised} and delivered {received}", incomplete=True
            )

    def _get(self, url: str, params: dict[str, Any] | None) -> dict[str, Any]:
        response = self.client.get(url, params=params)
        if response.status_code >= 400:
            raise HarvestError(f"HTTP {response.status_code} from {response.request.url}")
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise HarvestError(f"{response.request.url}: invalid JSON: {exc}") from None
        if not isinstance(body, dict):
            raise HarvestError(f"{response.request.url}: the answer is not a JSON object")
        return body

    # one Thing ------------------------------------------------------------------------
    def _thing(
        self,
        thing: dict[str, Any],
        datastreams: list[dict[str, Any]],
        network_id: str,
        aggregates_id: str,
        state: SourceState,
        now: datetime,
    ) -> Iterator[Change]:
        thing_id = str(thing.get("@iot.id"))
        summaries = []
        for datastream in datastreams:
            summary = yield from self._datastream(thing, datastream, aggregates_id, state)
            summaries.append(summary)
        latest = max((s["latest_time"] for s in summaries if s["latest_time"]), default=None)
        fresh = latest is not None and _moment(latest) >= now - timedelta(
            minutes=self.options.stale_after_minutes
        )
        geometry, notice = _location(thing)
        if notice:
            yield Notice(f"thing {thing_id}: {notice}")
        yield Item(
            id=thing_id,
            dataset_id=network_id,
            geometry=geometry,
            properties={
                "name": thing.get("name"),
                "description": thing.get("description"),
                "fresh": fresh,
                "latest_time": latest,
                "datastreams": summaries,
                "thing_properties": thing.get("properties") or {},
            },
            time_start=latest,
        )

    def _datastream(
        self,
        thing: dict[str, Any],
        datastream: dict[str, Any],
        aggregates_id: str,
        state: SourceState,
    ) -> Generator[Change, None, dict[str, Any]]:
        """Reads the Datastream's new observations, yields its changed and expired aggregate
        items, and returns its summary for the Thing."""
        ds_id = str(datastream.get("@iot.id"))
        key = f"ds:{ds_id}"
        memory = state.get(key) or {"last_time": None, "last_value": None, "hours": {}, "days": {}}
        hours: dict[str, agg.Bucket] = memory["hours"]
        days: dict[str, agg.Bucket] = memory["days"]
        delta: dict[str, agg.Bucket] = {}
        if self._has_news(datastream, memory["last_time"]):
            last = yield from self._observations(ds_id, memory["last_time"], state, delta)
            if last is not None:
                memory["last_time"], memory["last_value"] = last
        unit = datastream.get("unitOfMeasurement") or {}
        observed = (datastream.get("ObservedProperty") or {}).get("name")
        describe = {
            "thing": thing.get("name"),
            "thing_id": str(thing.get("@iot.id")),
            "datastream": datastream.get("name"),
            "datastream_id": ds_id,
            "observed_property": observed,
            "unit": unit.get("symbol"),
        }
        changed: list[tuple[str, str, agg.Bucket]] = []
        for hour, bucket in delta.items():
            hours[hour] = agg.merge(hours.get(hour), bucket)
            changed.append(("hour", hour, hours[hour]))
            day = hour[:10]
            days[day] = agg.merge(days.get(day), bucket)
        changed.extend(("day", day, days[day]) for day in sorted({h[:10] for h in delta}))
        expired = _expire(hours, "hour", self.options.keep_hours)
        expired += _expire(days, "day", self.options.keep_days)
        for period, bucket_key, bucket in changed:
            if (hours if period == "hour" else days).get(bucket_key) is bucket:
                yield _aggregate_item(aggregates_id, describe, period, bucket_key, bucket)
        for period, bucket_key in expired:
            yield Deleted(aggregates_id, f"{ds_id}.{period}.{bucket_key}")
        if delta or expired or state.full:
            state.put(key, memory)
        return {
            "id": ds_id,
            "name": datastream.get("name"),
            "observed_property": observed,
            "unit": unit.get("symbol"),
            "unit_name": unit.get("name"),
            "latest_value": memory["last_value"],
            "latest_time": memory["last_time"],
            "hourly": _recent(hours, "hour", self.options.recent_hours),
            "daily": _recent(days, "day", self.options.recent_days),
        }

    def _has_news(self, datastream: dict[str, Any], last_time: str | None) -> bool:
        """False when the Datastream's own phenomenonTime ends before what was read already
        (saves a request per unchanged Datastream)."""
        if last_time is None:
            return True
        span = datastream.get("phenomenonTime")
        if not isinstance(span, str) or "/" not in span:
            return True
        try:
            return _moment(agg.utc_time(span.split("/", 1)[1])) > _moment(last_time)
        except ValueError:
            return True

    def _observations(
        self,
        ds_id: str,
        after: str | None,
        state: SourceState,
        delta: dict[str, agg.Bucket],
    ) -> Generator[Change, None, tuple[str, Any] | None]:
        """Folds the observations newer than ``after`` into ``delta``; returns the newest
        (time, value) or None."""
        first: dict[str, Any] = {
            "$select": "phenomenonTime,result",
            "$orderby": "phenomenonTime asc",
            "$top": self.options.observation_page_size,
            "$count": "true",
        }
        if after is not None:
            first["$filter"] = f"phenomenonTime gt {after}"
        elif self.options.history_days is not None:
            start = _moment(state.started) - timedelta(days=self.options.history_days)
            first["$filter"] = f"phenomenonTime ge {start.strftime('%Y-%m-%dT%H:%M:%SZ')}"
        params: dict[str, Any] | None = first
        url: Any = f"{self.endpoint}/Datastreams({_key(ds_id)})/Observations"
        visited: set[str] = set()
        promised: int | None = None
        received = 0
        newest: tuple[str, Any] | None = None
        while url:
            page = self._get(str(url), params)
            visited.add(str(httpx.URL(url, params=params)) if params else url)
            if promised is None and isinstance(page.get("@iot.count"), int):
                promised = page["@iot.count"]
            values = page.get("value") or []
            _, skipped, last_time, last_value = agg.add_observations(values, delta)
            for position, reason in skipped:
                yield Problem(f"datastream {ds_id} observation {received + position}", reason)
            received += len(values)
            if last_time is not None:
                newest = (last_time, last_value)
            url, params = page.get("@iot.nextLink"), None
            if url and url in visited:
                yield Notice(
                    f"datastream {ds_id}: the next link repeats {url}; paging stopped",
                    incomplete=True,
                )
                break
        if promised is not None and received < promised:
            yield Notice(
                f"datastream {ds_id}: the server promised {promised} observations "
                f"and delivered {received}",
                incomplete=True,
            )
        if received:
            log.info(
                "observations read",
                extra={"source": self.source.name, "datastream": ds_id, "count": received},
            )
        return newest

    def _vanished(
        self,
        known: dict[str, list[str]],
        listed: dict[str, list[str]],
        network_id: str,
        aggregates_id: str,
        state: SourceState,
    ) -> Iterator[Deleted]:
        """Deletions for the Things and Datastreams the server no longer lists."""
        current = {ds for streams in listed.values() for ds in streams}
        for thing_id, streams in known.items():
            if thing_id not in listed:
                yield Deleted(network_id, thing_id)
            for ds_id in streams:
                if ds_id in current:
                    continue
                memory = state.get(f"ds:{ds_id}") or {}
                for period, buckets in (("hour", memory.get("hours")), ("day", memory.get("days"))):
                    for bucket_key in buckets or ():
                        yield Deleted(aggregates_id, f"{ds_id}.{period}.{bucket_key}")
                state.delete(f"ds:{ds_id}")


def _aggregate_item(
    dataset_id: str, describe: dict[str, Any], period: str, key: str, bucket: agg.Bucket
) -> Item:
    start, end = agg.bounds(period, key)
    return Item(
        id=f"{describe['datastream_id']}.{period}.{key}",
        dataset_id=dataset_id,
        geometry=None,
        properties={
            **describe,
            "period": period,
            "count": bucket[agg.COUNT],
            "numeric_count": bucket[agg.NUMERIC],
            "min": bucket[agg.MIN],
            "max": bucket[agg.MAX],
            "mean": agg.mean(bucket),
            "last_value": bucket[agg.LAST_VALUE],
            "last_time": bucket[agg.LAST_TIME],
        },
        time_start=start,
        time_end=end,
    )


def _expire(buckets: dict[str, agg.Bucket], period: str, keep: int) -> list[tuple[str, str]]:
    if not buckets:
        return []
    oldest = agg.cutoff(period, max(buckets), keep)
    gone = [k for k in buckets if k < oldest]
    for k in gone:
        del buckets[k]
    return [(period, k) for k in sorted(gone)]


def _recent(buckets: dict[str, agg.Bucket], period: str, count: int) -> list[dict[str, Any]]:
    if not buckets or count == 0:
        return []
    oldest = agg.cutoff(period, max(buckets), count)
    return [agg.summary(period, k, buckets[k]) for k in sorted(buckets) if k >= oldest]


def _location(thing: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """The geometry of the Thing's first GeoJSON Location (None, with a reason, when unusable)."""
    for location in thing.get("Locations") or ():
        if not isinstance(location, dict):
            continue
        if location.get("encodingType", GEOJSON_TYPES[0]) not in GEOJSON_TYPES:
            continue
        value = location.get("location")
        if isinstance(value, dict) and value.get("type") == "Feature":
            value = value.get("geometry")
        if not isinstance(value, dict):
            return None, "its location is not GeoJSON; kept without geometry"
        try:
            geometry_bounds(value)
        except (GeometryError, TypeError, ValueError) as exc:
            return None, f"its location is unusable ({exc}); kept without geometry"
        return value, None
    return None, None


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _key(entity_id: str) -> str:
    """An entity id as written in a SensorThings URL: numbers bare, strings quoted."""
    return (
        entity_id if entity_id.lstrip("-").isdigit() else "'" + entity_id.replace("'", "''") + "'"
    )
