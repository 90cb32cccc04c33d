"""A catalogue for the portal tests: the demo sources harvested into a real SQLite file, plus
sensor and cultural records written through the index protocol exactly as the SensorThings,
OAI-PMH and IIIF harvesters will write them (see the record conventions in the README), one
source that fails, and a local stand-in for a museum's image server."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import DEMO_CONFIG, LiveServer, free_port
from pydantic import SecretStr
from upstream import Upstream, status

from catalogue.districts import assign_districts
from catalogue.harvest.runner import run_harvest
from catalogue.index import open_index
from catalogue.model import Agent, Dataset, Distribution, Item, Provenance
from catalogue.settings import Settings, load_settings

PAGE_SIZE = 3
ADMIN_TOKEN = "datenteam-geheim"
NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
RIGHTS_PDM = "http://creativecommons.org/publicdomain/mark/1.0/"
RIGHTS_INC = "http://rightsstatements.org/vocab/InC/1.0/"


def png(width: int = 4, height: int = 4) -> bytes:
    """A small valid PNG (grey)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _hourly(base: float, hours: int, last: datetime) -> list[dict[str, Any]]:
    out = []
    for back in range(hours, 0, -1):
        start = last - timedelta(hours=back)
        mean = base + (back % 12) * 0.75
        out.append(
            {
                "start": _iso(start),
                "end": _iso(start + timedelta(hours=1)),
                "count": 4,
                "min": mean - 1,
                "max": mean + 1,
                "mean": mean,
            }
        )
    return out


def _provenance(source: str, kind: str, identifier: str) -> Provenance:
    return Provenance(source, kind, f"https://example.org/{source}", identifier)


def sensor_records() -> list[Dataset | Item]:
    """A SensorThings network: one item per Thing at its Location, with latest values."""
    dataset = Dataset(
        id="luftsensoren",
        title="Luftsensoren Innenstadt",
        description="Stickstoffdioxid und Temperatur an Messpunkten in der Innenstadt.",
        kind="sensor",
        keywords=("Luftqualität", "Sensor"),
        themes=("http://publications.europa.eu/resource/authority/data-theme/ENVI",),
        publisher=Agent("Umweltamt (Test)"),
        licence="http://dcat-ap.de/def/licenses/dl-by-de/2.0",
        modified=_iso(NOW),
        provenance=_provenance("luftsensoren", "sensorthings", "luftsensoren"),
    )
    fresh_time = NOW - timedelta(minutes=20)
    stale_time = NOW - timedelta(days=9)
    things = [
        ("thing-1", "Messpunkt Corneliusstraße", [6.7800, 51.2160], True, fresh_time, 38.5),
        ("thing-2", "Messpunkt Hofgarten", [6.7830, 51.2290], False, stale_time, 21.0),
    ]
    records: list[Dataset | Item] = [dataset]
    for thing_id, name, point, fresh, latest, value in things:
        streams = [
            {
                "id": f"{thing_id}-no2",
                "name": f"{name} NO2",
                "observed_property": "Stickstoffdioxid",
                "unit": "µg/m³",
                "unit_name": "Mikrogramm pro Kubikmeter",
                "latest_value": value,
                "latest_time": _iso(latest),
                "hourly": _hourly(value - 5, 48, latest),
                "daily": [],
            },
            {
                "id": f"{thing_id}-temp",
                "name": f"{name} Temperatur",
                "observed_property": "Lufttemperatur",
                "unit": "°C",
                "unit_name": "Grad Celsius",
                "latest_value": 11.25,
                "latest_time": _iso(latest),
                "hourly": _hourly(8, 48, latest),
                "daily": [],
            },
        ]
        records.append(
            Item(
                id=thing_id,
                dataset_id=dataset.id,
                geometry={"type": "Point", "coordinates": point},
                properties={
                    "name": name,
                    "description": f"Sensor {name}",
                    "fresh": fresh,
                    "latest_time": _iso(latest),
                    "datastreams": streams,
                },
            )
        )
    return records


def culture_records(image_url: str, broken_image_url: str) -> list[Dataset | Item]:
    """A digitized collection: cultural objects as items (coordinates only where known)."""
    dataset = Dataset(
        id="gemaeldesammlung",
        title="Gemäldesammlung (Test)",
        description="Digitalisierte Gemälde mit Bildern, Urhebern und Rechtehinweisen.",
        kind="culture",
        keywords=("Kunst", "Gemälde"),
        themes=("http://publications.europa.eu/resource/authority/data-theme/EDUC",),
        publisher=Agent("Kunstmuseum (Test)", url="https://museum.example.org"),
        licence="http://dcat-ap.de/def/licenses/cc-zero",
        modified=_iso(NOW - timedelta(days=2)),
        distributions=(
            Distribution(
                url="https://museum.example.org/oai?verb=ListRecords&metadataPrefix=oai_dc",
                title="OAI-PMH",
                format="XML",
            ),
        ),
        provenance=_provenance("gemaeldesammlung", "oai-pmh", "gemaeldesammlung"),
    )
    objects = [
        {
            "id": "mauritshuis-670",
            "title": "Das Mädchen mit dem Perlenohrring",
            "description": "Tronie eines Mädchens mit Turban und Perlenohrring.",
            "creators": ["Johannes Vermeer"],
            "date": "um 1665",
            "object_type": "Gemälde",
            "materials": ["Öl auf Leinwand"],
            "institution": "Mauritshuis",
            "rights": RIGHTS_PDM,
            "subjects": ["Porträt"],
            "record_url": "https://www.mauritshuis.nl/ontdek/de-collectie/670-meisje-met-de-parel/",
            "thumbnail": image_url,
            "iiif_manifest": "https://iiif.example.org/670/manifest.json",
        },
        {
            "id": "kunstpalast-12",
            "title": "Rheinufer bei Düsseldorf",
            "creators": ["Andreas Achenbach"],
            "date": "1850",
            "object_type": "Gemälde",
            "materials": ["Öl auf Holz"],
            "institution": "Kunstpalast (Test)",
            "rights": RIGHTS_INC,
            "record_url": "https://museum.example.org/objekt/12",
            "thumbnail": broken_image_url,
        },
        {
            "id": "ohne-bild",
            "title": "Skizzenbuch",
            "creators": ["Unbekannt"],
            "date": "19. Jahrhundert",
            "institution": "Kunstpalast (Test)",
            "rights": "Rechte vorbehalten",
        },
    ]
    records: list[Dataset | Item] = [dataset]
    for position, props in enumerate(objects):
        item_id = props.pop("id")
        geometry = {"type": "Point", "coordinates": [6.7745, 51.2337]} if position == 1 else None
        records.append(Item(item_id, dataset.id, geometry, props))
    return records


@dataclass
class PortalSite:
    server: LiveServer
    settings: Settings
    upstream: Upstream

    @property
    def url(self) -> str:
        return self.server.url


def portal_settings(folder: Path, port: int, **portal: Any) -> Settings:
    """The demo configuration in ``folder``, small result pages, one source that fails."""
    settings = load_settings(DEMO_CONFIG, {"CATALOGUE_DEMO_DIR": str(folder)}).with_port(port)
    broken = settings.sources[0].model_copy(
        update={"name": "kaputt", "url": str(folder / "missing.geojson"), "title": "Kaputt"}
    )
    server = settings.server.model_copy(update={"admin_token": SecretStr(ADMIN_TOKEN)})
    return settings.model_copy(
        update={
            "server": server,
            "sources": (*settings.sources, broken),
            "portal": settings.portal.model_copy(update={"page_size": PAGE_SIZE, **portal}),
        }
    )


@pytest.fixture(scope="module")
def portal_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PortalSite]:
    folder = tmp_path_factory.mktemp("portal")
    images = tmp_path_factory.mktemp("images")
    (images / "670.png").write_bytes(png())
    with Upstream(images) as upstream:
        upstream.routes["/broken.png"] = status(500, b"server error")
        settings = portal_settings(folder, free_port())
        index = open_index(settings.index)
        report = run_harvest(settings, index)
        report.write(settings.reports_dir())
        extra = [
            *sensor_records(),
            *culture_records(upstream.url("670.png"), upstream.url("broken.png")),
        ]
        index.upsert(extra, run_id="portal-test")
        index.refresh_datasets([r.id for r in extra if isinstance(r, Dataset)])
        assign_districts(settings, index, "portal-test")
        index.close()
        with LiveServer(settings) as server:
            yield PortalSite(server, settings, upstream)
