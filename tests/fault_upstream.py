"""A fault-injecting upstream for the fault matrix.

:class:`FaultyUpstream` is an :class:`~upstream.Upstream` whose stand-ins answer as they would,
except that one chosen request (a later page, one manifest, the file itself: the site's
*target*) is answered with a :class:`Fault` made from the answer it would have had: an HTTP
error, a retry the server asks for, a connection reset or a stall, a body cut short, broken
syntax, the wrong encoding. The faults that live in the data (a next link that loops, fewer
records than promised, records that vanish) are played by the sites themselves.

A site is a source type's stand-in with a small common face: ``source()`` (its configuration),
``is_target(path)``, ``vanish()``, ``fall_short()`` and ``loop()``. Healthy bodies are the
recorded real responses the type's own tests use, where there are some.
"""

from __future__ import annotations

import copy
import io
import json
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from conftest import SHARED_DATA
from lxml import etree
from oai_upstream import OAIRepository, Record, recorded_metadata
from sensorthings_upstream import SensorThingsStandIn
from upstream import Route, Upstream

FIXTURES = SHARED_DATA / "fixtures"
PARKING = json.loads(
    (
        FIXTURES / "geo" / "duesseldorf_wfs_GetFeature_verkehr-behindertenparkplatz.geojson"
    ).read_text(encoding="utf-8")
)
PARK_AND_RIDE = json.loads(
    (FIXTURES / "ckan" / "duesseldorf_dkan_datastore_search_park-and-ride.json").read_text(
        encoding="utf-8"
    )
)["result"]


# --------------------------------------------------------------------------------------------
# The upstream and its faults
# --------------------------------------------------------------------------------------------
@dataclass
class Answer:
    """What a stand-in would have sent."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def content_type(self) -> str:
        return next((v for k, v in self.headers if k.lower() == "content-type"), "")


class _Recorder:
    """Takes the place of the request handler while a stand-in writes its answer."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.status = 200
        self.headers: list[tuple[str, str]] = []
        self.wfile = io.BytesIO()
        self.close_connection = False

    def send_response(self, code: int, message: str | None = None) -> None:
        self.status = code

    def send_header(self, keyword: str, value: str) -> None:
        self.headers.append((keyword, value))

    def end_headers(self) -> None:
        pass

    def answer(self) -> Answer:
        return Answer(self.status, self.headers, self.wfile.getvalue())


class Fault:
    """How the target's answer goes wrong."""

    def deliver(self, handler: Any, answer: Answer, upstream: FaultyUpstream) -> None:
        raise NotImplementedError


class FaultyUpstream(Upstream):
    """An upstream whose target requests are answered with ``fault`` (None: all healthy)."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.fault: Fault | None = None
        self.target: Callable[[str], bool] = lambda path: False
        self.hits: list[float] = []
        """When the target was asked for (``time.monotonic()``), while a fault was set."""
        self.released = threading.Event()
        # a short poll interval: each test starts and stops an upstream
        self.thread = threading.Thread(
            target=lambda: self.server.serve_forever(poll_interval=0.02), daemon=True
        )

    def answer(self, handler: SimpleHTTPRequestHandler, route: Route) -> None:
        if self.fault is None or not self.target(handler.path):
            route(handler)
            return
        self.hits.append(time.monotonic())
        recorder = _Recorder(handler.path)
        route(recorder)  # type: ignore[arg-type]
        self.fault.deliver(handler, recorder.answer(), self)

    def __exit__(self, *exc: object) -> None:
        self.released.set()  # stalled answers end now, so that the server can close
        super().__exit__(*exc)


def _send_head(handler: Any, status: int, headers: list[tuple[str, str]], length: int) -> None:
    handler.send_response(status)
    for key, value in headers:
        if key.lower() != "content-length":
            handler.send_header(key, value)
    handler.send_header("Content-Length", str(length))
    handler.end_headers()


def send(handler: Any, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
    _send_head(handler, status, headers, len(body))
    handler.wfile.write(body)


class HTTPStatus(Fault):
    """Every attempt is answered with ``status`` (the retries run out)."""

    def __init__(self, status: int) -> None:
        self.status = status

    def deliver(self, handler: Any, answer: Answer, upstream: FaultyUpstream) -> None:
        send(handler, self.status, [("Content-Type", "text/plain")], b"upstream trouble")


class FailsFirst(Fault):
    """The first ``times`` attempts are answered with ``status`` (and ``Retry-After``), the
    next ones as usual."""

    def __init__(self, status: int, *, times: int = 1, retry_after: str | None = None) -> None:
        self.status = status
        self.left = times
        self.retry_after = retry_after

    def deliver(self, handler: Any, answer: Answer, upstream: FaultyUpstream) -> None:
        if self.left <= 0:
            send(handler, answer.status, answer.headers, answer.body)
            return
        self.left -= 1
        headers = [("Content-Type", "text/plain")]
        if self.retry_after is not None:
            headers.append(("Retry-After", self.retry_after))
        send(handler, self.status, headers, b"try again later")


class ConnectionReset(Fault):
    """Half of the body, then the connection is reset (TCP RST)."""

    def deliver(self, handler: Any, answer: Answer, upstream: FaultyUpstream) -> None:
        _send_head(handler, answer.status, answer.headers, len(answer.body))
        handler.wfile.write(answer.body[: len(answer.body) // 2])
        handler.wfile.flush()
        time.sleep(0.1)  # the client reads the head first: a reset discards unread data
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        handler.connection.close()
        handler.close_connection = True


class Stall(Fault):
    """No answer at all (until the upstream shuts down): the client's read times out."""

    def deliver(self, handler: Any, answer: Answer, upstream: FaultyUpstream) -> None:
        upstream.released.wait(30)
        handler.close_connection = True


class Truncated(Fault):
    """The whole body is promised (Content-Length), half of it sent, the connection closed."""

    def deliver(self, handler: Any, answer: Answer, upstream: FaultyUpstream) -> None:
        _send_head(handler, answer.status, answer.headers, len(answer.body))
        handler.wfile.write(answer.body[: len(answer.body) // 2])
        handler.wfile.flush()
        handler.close_connection = True


# one structural mark past the middle of a body is broken: a key/value colon (JSON), an end
# tag (XML), a statement's closing dot (Turtle)
_BREAKS = {"json": (b'":', b'"='), "xml": (b"</", b"<</"), "turtle": (b" .\n", b" !\n")}


class InvalidSyntax(Fault):
    """A complete answer whose JSON, XML or Turtle is broken in the middle."""

    def deliver(self, handler: Any, answer: Answer, upstream: FaultyUpstream) -> None:
        kind = syntax_of(answer.content_type)
        mark, broken = _BREAKS[kind]
        at = answer.body.find(mark, len(answer.body) // 2)
        assert at >= 0, f"no {mark!r} to break in the second half of the {kind} answer"
        body = answer.body[:at] + broken + answer.body[at + len(mark) :]
        send(handler, answer.status, answer.headers, body)


class WrongEncoding(Fault):
    """The body in Latin-1 while the answer says UTF-8 (in its Content-Type, and in its XML
    declaration if it has one)."""

    def deliver(self, handler: Any, answer: Answer, upstream: FaultyUpstream) -> None:
        body = answer.body.decode("utf-8").encode("latin-1", errors="replace")
        assert body != answer.body, "the answer has no text beyond ASCII to mis-encode"
        media_type = answer.content_type.split(";")[0] or "application/octet-stream"
        headers = [(k, v) for k, v in answer.headers if k.lower() != "content-type"]
        headers.append(("Content-Type", f"{media_type}; charset=utf-8"))
        send(handler, answer.status, headers, body)


def syntax_of(content_type: str) -> str:
    if "json" in content_type:
        return "json"
    if "xml" in content_type:
        return "xml"
    if "turtle" in content_type:
        return "turtle"
    raise AssertionError(f"no syntax to break in {content_type!r}")


# --------------------------------------------------------------------------------------------
# Sites: each source type's stand-in
# --------------------------------------------------------------------------------------------
def reply(handler: Any, body: bytes, content_type: str) -> None:
    send(handler, 200, [("Content-Type", content_type)], body)


def query_of(path: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(path).query).items()}


class Site:
    """One source type's stand-in on a :class:`FaultyUpstream`."""

    type: ClassVar[str]
    name: ClassVar[str]
    loops: ClassVar[str | None] = None
    """What the report says when the paging loops (None: the type does not page)."""
    promises: ClassVar[bool] = True
    """Whether the source says how many records it has."""
    invalid: ClassVar[str | None] = None
    """What the report says about a broken body (None: the type's bodies have no syntax)."""
    loop_ends_listing: ClassVar[bool] = True
    """Whether paging that loops leaves records unread."""
    incremental: ClassVar[bool] = False
    """Whether runs after the first read only what changed (and delete only what the source
    says it deleted)."""

    def __init__(self, upstream: FaultyUpstream) -> None:
        self.up = upstream

    def source(self) -> dict[str, Any]:
        raise NotImplementedError

    def is_target(self, path: str) -> bool:
        raise NotImplementedError

    def before_run(self) -> None:
        """Called before every harvest run."""

    def vanish(self) -> None:
        """A record the source had is gone (the last one)."""
        raise NotImplementedError

    def fall_short(self) -> None:
        """A record is missing while the source still promises the old count."""
        raise NotImplementedError

    def loop(self) -> None:
        raise NotImplementedError


class GeoJSONSite(Site):
    """A GeoJSON file on a web server: the recorded Düsseldorf WFS answer."""

    type = "geojson"
    name = "parkplaetze"
    promises = False
    invalid = "invalid GeoJSON"

    def __init__(self, upstream: FaultyUpstream) -> None:
        super().__init__(upstream)
        self.features = copy.deepcopy(PARKING["features"])
        upstream.routes["/parkplaetze.geojson"] = lambda h: reply(
            h,
            json.dumps(
                {"type": "FeatureCollection", "features": self.features}, ensure_ascii=False
            ).encode(),
            "application/geo+json",
        )

    def source(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "url": self.up.url("parkplaetze.geojson")}

    def is_target(self, path: str) -> bool:
        return path.startswith("/parkplaetze.geojson")

    def vanish(self) -> None:
        self.features.pop()


class CSVSite(Site):
    """A CSV file on a web server: the rows of a recorded DKAN datastore (park and ride)."""

    type = "csv"
    name = "parkundride"
    promises = False

    def __init__(self, upstream: FaultyUpstream) -> None:
        super().__init__(upstream)
        self.rows = copy.deepcopy(PARK_AND_RIDE["records"])
        self.columns = [f["id"] for f in PARK_AND_RIDE["fields"]]
        upstream.routes["/parkundride.csv"] = lambda h: reply(
            h, self._csv().encode(), "text/csv; charset=utf-8"
        )

    def _csv(self) -> str:
        lines = [";".join(self.columns)]
        lines += [";".join(str(row[c]) for c in self.columns) for row in self.rows]
        return "\n".join(lines) + "\n"

    def source(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "url": self.up.url("parkundride.csv"),
            "id_field": "entry_id",
        }

    def is_target(self, path: str) -> bool:
        return path.startswith("/parkundride.csv")

    def vanish(self) -> None:
        self.rows.pop()


class CKANSite(Site):
    """A CKAN portal paging over recorded real packages and copies of them under other ids (two
    per page); the target is the second page."""

    type = "ckan"
    name = "portal"
    loops = "repeats an earlier page"
    invalid = "invalid JSON"

    def __init__(self, upstream: FaultyUpstream) -> None:
        from test_ckan_harvest import FakePortal, recorded_packages

        super().__init__(upstream)
        packages = recorded_packages()
        copies = [{**p, "id": f"{p['id']}-kopie", "name": f"{p['name']}-kopie"} for p in packages]
        self.portal = FakePortal(packages + copies)
        self.portal.ascii = False  # UTF-8, as DKAN answers
        upstream.routes["/api/3/action/package_search"] = self.portal

    def source(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "url": self.up.url(""), "rows": 2}

    def is_target(self, path: str) -> bool:
        return "package_search" in path and query_of(path).get("start") == "2"

    def vanish(self) -> None:
        self.portal.packages.pop()

    def fall_short(self) -> None:
        self.vanish()
        self.portal.promise_extra += 1

    def loop(self) -> None:
        self.portal.ignore_start = True


class DCATSite(Site):
    """A DCAT catalogue in Turtle, two datasets per Hydra page; the target is page 2."""

    type = "dcat"
    name = "katalog"
    loops = "was read before"
    invalid = "not valid turtle"

    def __init__(self, upstream: FaultyUpstream) -> None:
        super().__init__(upstream)
        self.titles = [f"Straßenbäume im Stadtbezirk {n}" for n in range(1, 6)]
        self.promise_extra = 0
        self.looping = False
        upstream.routes["/katalog.ttl"] = self._page

    def _page(self, handler: Any) -> None:
        number = int(query_of(handler.path).get("page", "1"))
        base = self.up.url("").rstrip("/")
        chosen = list(enumerate(self.titles, start=1))[(number - 1) * 2 : number * 2]
        following = number + 1 if number * 2 < len(self.titles) else (1 if self.looping else None)
        lines = [
            "@prefix dcat: <http://www.w3.org/ns/dcat#> .",
            "@prefix dct: <http://purl.org/dc/terms/> .",
            "@prefix hydra: <http://www.w3.org/ns/hydra/core#> .",
            f"<{base}/katalog.ttl?page={number}> a hydra:PartialCollectionView ;",
            f"    hydra:totalItems {len(self.titles) + self.promise_extra}"
            + (
                f" ;\n    hydra:next <{base}/katalog.ttl?page={following}> .\n"
                if following
                else " .\n"
            ),
        ]
        for n, title in chosen:
            lines.append(
                f'<{base}/datensatz/{n}> a dcat:Dataset ; dct:identifier "baeume-{n}" ;\n'
                f'    dct:title "{title}"@de .\n'
            )
        reply(handler, "\n".join(lines).encode(), "text/turtle; charset=utf-8")

    def source(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "url": self.up.url("katalog.ttl")}

    def is_target(self, path: str) -> bool:
        return path.startswith("/katalog.ttl") and query_of(path).get("page") == "2"

    def vanish(self) -> None:
        self.titles.pop()

    def fall_short(self) -> None:
        self.vanish()
        self.promise_extra += 1

    def loop(self) -> None:
        self.looping = True


class OGCAPISite(Site):
    """An OGC API Features server with one collection, the recorded Düsseldorf features four
    per page; the target is the second page."""

    type = "ogcapi-features"
    name = "nachbar"
    loops = "next link repeats"
    invalid = "invalid JSON"

    def __init__(self, upstream: FaultyUpstream) -> None:
        super().__init__(upstream)
        self.features = copy.deepcopy(PARKING["features"])
        self.promise_extra = 0
        self.looping = False
        upstream.routes["/ogc/collections"] = lambda h: reply(
            h,
            json.dumps(
                {
                    "collections": [
                        {
                            "id": "parkplaetze",
                            "title": "Behindertenparkplätze",
                            "itemType": "feature",
                        }
                    ]
                }
            ).encode(),
            "application/json",
        )
        upstream.routes["/ogc/collections/parkplaetze/items"] = self._items

    def _items(self, handler: Any) -> None:
        query = query_of(handler.path)
        offset, limit = int(query.get("offset", "0")), int(query.get("limit", "4"))
        items = self.up.url("ogc/collections/parkplaetze/items")
        links = []
        if offset + limit < len(self.features):
            links.append({"rel": "next", "href": f"{items}?offset={offset + limit}&limit={limit}"})
        elif self.looping:
            links.append({"rel": "next", "href": f"{items}?offset=0&limit={limit}"})
        page = {
            "type": "FeatureCollection",
            "numberMatched": len(self.features) + self.promise_extra,
            "features": self.features[offset : offset + limit],
            "links": [{**link, "type": "application/geo+json"} for link in links],
        }
        reply(handler, json.dumps(page, ensure_ascii=False).encode(), "application/geo+json")

    def source(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "url": self.up.url("ogc"), "limit": 4}

    def is_target(self, path: str) -> bool:
        return path.startswith("/ogc/collections/parkplaetze/items") and (
            query_of(path).get("offset") == "4"
        )

    def vanish(self) -> None:
        self.features.pop()

    def fall_short(self) -> None:
        self.vanish()
        self.promise_extra += 1

    def loop(self) -> None:
        self.looping = True


class WFSSite(Site):
    """A WFS 2.0 with the recorded GeoServer capabilities, GetFeature as GeoJSON of the recorded
    Düsseldorf features four per page; the target is the second GetFeature page."""

    type = "wfs"
    name = "wfs"
    loops = "ignores startIndex"
    invalid = "invalid JSON"

    def __init__(self, upstream: FaultyUpstream) -> None:
        from test_wfs_harvest import GEOSERVER_CAPS, FakeWFS

        super().__init__(upstream)
        self.features = copy.deepcopy(PARKING["features"])
        self.promise_extra = 0
        self.ignore_start = False
        upstream.routes["/geoserver/wfs"] = FakeWFS(GEOSERVER_CAPS, self._features)

    def _features(self, handler: Any, query: dict[str, str]) -> None:
        start = 0 if self.ignore_start else int(query["startindex"])
        count = int(query["count"])
        page = dict(
            PARKING,
            features=self.features[start : start + count],
            numberMatched=len(self.features) + self.promise_extra,
            totalFeatures=len(self.features) + self.promise_extra,
        )
        reply(handler, json.dumps(page, ensure_ascii=False).encode(), "application/json")

    def source(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "url": self.up.url("geoserver/wfs"),
            "count": 4,
        }

    def is_target(self, path: str) -> bool:
        query = {k.lower(): v for k, v in query_of(path).items()}
        return query.get("request") == "GetFeature" and query.get("startindex") == "4"

    def vanish(self) -> None:
        self.features.pop()

    def fall_short(self) -> None:
        self.vanish()
        self.promise_extra += 1

    def loop(self) -> None:
        self.ignore_start = True


CSW_NS = {"csw": "http://www.opengis.net/cat/csw/2.0.2", "gmd": "http://www.isotc211.org/2005/gmd"}


class CSWSite(Site):
    """A CSW with the two records of a recorded GeoNetwork GetRecords answer and copies of them
    under other identifiers (German titles), two per page; the target is the second page."""

    type = "csw"
    name = "geonetwork"
    loops = "asked for before"
    invalid = "not well-formed XML"

    def __init__(self, upstream: FaultyUpstream) -> None:
        super().__init__(upstream)
        recorded = (FIXTURES / "csw" / "inspire_geonetwork_csw_GetRecordsResponse.xml").read_bytes()
        self.document = etree.fromstring(recorded)
        results = self.document.find(".//csw:SearchResults", CSW_NS)
        assert results is not None
        originals = list(results)
        copies = [self._renamed(r, n) for n in (1, 2) for r in originals]
        self.records = originals + copies
        self.promise_extra = 0
        self.looping = False
        upstream.routes["/csw"] = self._page

    def _renamed(self, record: Any, n: int) -> Any:
        twin = copy.deepcopy(record)
        ident = twin.find("gmd:fileIdentifier/*", CSW_NS)
        ident.text = f"{ident.text}-kopie-{n}"
        for title in twin.iterfind(".//gmd:citation//gmd:title/*", CSW_NS):
            title.text = f"{title.text} (Düsseldorfer Kopie {n})"
        return twin

    def _page(self, handler: Any) -> None:
        start = int(query_of(handler.path)["startPosition"])
        page = copy.deepcopy(self.document)
        results = page.find(".//csw:SearchResults", CSW_NS)
        for child in list(results):
            results.remove(child)
        chosen = self.records[start - 1 : start + 1]
        for record in chosen:
            results.append(copy.deepcopy(record))
        following = start + 2 if start + 1 < len(self.records) else (1 if self.looping else 0)
        results.set("numberOfRecordsMatched", str(len(self.records) + self.promise_extra))
        results.set("numberOfRecordsReturned", str(len(chosen)))
        results.set("nextRecord", str(following))
        body = etree.tostring(page, xml_declaration=True, encoding="UTF-8")
        reply(handler, body, "application/xml")

    def source(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "url": self.up.url("csw"), "max_records": 2}

    def is_target(self, path: str) -> bool:
        return path.startswith("/csw") and query_of(path).get("startPosition") == "3"

    def vanish(self) -> None:
        self.records.pop()

    def fall_short(self) -> None:
        self.vanish()
        self.promise_extra += 1

    def loop(self) -> None:
        self.looping = True


NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def air_station(thing_id: int) -> dict[str, Any]:
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
                "unitOfMeasurement": {"name": "Mikrogramm pro Kubikmeter", "symbol": "µg/m³"},
                "ObservedProperty": {"@iot.id": 1, "name": "Stickstoffdioxid"},
                "Sensor": {"@iot.id": 1, "name": "NO2-Analysator"},
            }
        ],
    }


class SensorThingsSite(Site):
    """A SensorThings server with a recorded FROST-Server Thing and six air stations, three
    Things per page; the target is the second page of Things."""

    type = "sensorthings"
    name = "sensoren"
    incremental = True
    loops = "next link repeats"
    invalid = "invalid JSON"

    def __init__(self, upstream: FaultyUpstream) -> None:
        super().__init__(upstream)
        self.sta = SensorThingsStandIn(upstream, page=3)
        recorded = FIXTURES / "sensorthings" / "priobike-dresden_frost-v1.1_Thing_expanded_sg1.json"
        self.sta.add_thing(json.loads(recorded.read_text(encoding="utf-8")))
        for thing_id in range(501, 507):
            self.sta.add_thing(air_station(thing_id))
            hour = NOW - timedelta(hours=3)
            self.sta.observations[str(thing_id * 10 + 1)] = [
                {
                    "phenomenonTime": (hour + timedelta(minutes=m)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "result": m,
                }
                for m in (5, 20, 65)
            ]

    def source(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "url": self.sta.url}

    def is_target(self, path: str) -> bool:
        return path.startswith("/sta/v1.1/Things") and query_of(path).get("$skip") == "3"

    def vanish(self) -> None:
        self.sta.things.pop()

    def fall_short(self) -> None:
        self.vanish()
        self.sta.short_count += 1

    def loop(self) -> None:
        self.sta.loop = True


DC_NS = (
    'xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/"'
)


class OAIPMHSite(Site):
    """An OAI-PMH repository with a recorded Dublin Core record and six more, three per page;
    the target is the first resumption-token page. Every run finds every record changed, so
    that incremental runs list them all."""

    type = "oai-pmh"
    name = "archiv"
    incremental = True
    loops = "resumption token .* repeats"
    invalid = "not well-formed XML"

    def __init__(self, upstream: FaultyUpstream) -> None:
        super().__init__(upstream)
        self.repo = OAIRepository(upstream, page=3)
        recorded = recorded_metadata(
            FIXTURES / "oai-pmh" / "europeana-metis_GetRecord_oai_dc_mediateka-centrumzamenhofa.xml"
        )
        self.repo.records = [Record("oai:mediateka.centrumzamenhofa.pl:19", "", recorded)] + [
            Record(
                f"oai:stadtarchiv:{n}",
                "",
                f"<oai_dc:dc {DC_NS}><dc:title>Ansicht der Königsallee {n}</dc:title></oai_dc:dc>",
            )
            for n in range(1, 7)
        ]
        self.day = 0

    def before_run(self) -> None:
        self.day += 1
        stamp = f"2024-06-{self.day:02d}T12:00:00Z"
        for record in self.repo.records:
            record.datestamp = stamp
        self.repo.now = f"2024-06-{self.day:02d}T13:00:00Z"

    def source(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "url": self.repo.url}

    def is_target(self, path: str) -> bool:
        return path.startswith("/oai") and query_of(path).get("resumptionToken", "").startswith(
            "3:"
        )

    def vanish(self) -> None:
        self.repo.records.pop()

    def fall_short(self) -> None:
        self.vanish()
        self.repo.promise_extra += 1

    def loop(self) -> None:
        self.repo.loop = True


class IIIFSite(Site):
    """A IIIF Presentation 3 collection of the recorded Bodleian and Harvard manifests and three
    manifests of a city museum; the target is one of the museum's manifests."""

    type = "iiif"
    name = "sammlung"
    loops = "contains itself"
    loop_ends_listing = False  # a collection listed in itself is followed once
    promises = False
    invalid = "invalid JSON"

    def __init__(self, upstream: FaultyUpstream) -> None:
        super().__init__(upstream)
        recorded = {
            "bodleian.json": FIXTURES / "iiif" / "bodleian_human-freaks-2-33_presentation-v3.json",
            "harvard.json": FIXTURES / "iiif" / "harvardartmuseums_299843_presentation-v2.json",
        }
        for name, path in recorded.items():
            data = path.read_bytes()
            upstream.routes[f"/{name}"] = lambda h, data=data: reply(h, data, "application/json")
        self.members = [{"id": upstream.url(name), "type": "Manifest"} for name in recorded]
        for n in range(1, 4):
            path = f"/museum/{n}.json"
            upstream.routes[path] = self._manifest(n)
            self.members.append({"id": upstream.url(path), "type": "Manifest"})
        self.looping = False
        upstream.routes["/sammlung.json"] = self._collection

    def _manifest(self, n: int) -> Route:
        manifest = {
            "@context": "http://iiif.io/api/presentation/3/context.json",
            "id": self.up.url(f"museum/{n}.json"),
            "type": "Manifest",
            "label": {"de": [f"Ansicht von Düsseldorf, Blatt {n}"]},
            "metadata": [{"label": {"de": ["Datierung"]}, "value": {"none": ["um 1850"]}}],
            "rights": "https://creativecommons.org/publicdomain/mark/1.0/",
            "items": [],
        }
        body = json.dumps(manifest, ensure_ascii=False).encode()
        return lambda h: reply(h, body, "application/json")

    def _collection(self, handler: Any) -> None:
        own = {"id": self.up.url("sammlung.json"), "type": "Collection"}
        collection = {
            "@context": "http://iiif.io/api/presentation/3/context.json",
            "id": own["id"],
            "type": "Collection",
            "label": {"de": ["Stadtmuseum"]},
            "items": self.members + ([own] if self.looping else []),
        }
        reply(handler, json.dumps(collection).encode(), "application/json")

    def source(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "url": self.up.url("sammlung.json")}

    def is_target(self, path: str) -> bool:
        return path == "/museum/2.json"

    def vanish(self) -> None:
        self.members.pop(0)  # the target stays listed

    def loop(self) -> None:
        self.looping = True


SITES: dict[str, type[Site]] = {
    site.type: site
    for site in (
        GeoJSONSite,
        CSVSite,
        CKANSite,
        DCATSite,
        OGCAPISite,
        WFSSite,
        CSWSite,
        SensorThingsSite,
        OAIPMHSite,
        IIIFSite,
    )
}
