"""The CSW source type against a local catalogue serving a recorded GeoNetwork GetRecords page."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from conftest import SHARED_DATA
from lxml import etree
from owslib.iso import MD_Metadata
from upstream import Upstream

from catalogue.harvest.runner import run_harvest
from catalogue.index.sqlite import SQLiteIndex
from catalogue.settings import settings_from_dict

RECORDED = (
    SHARED_DATA / "fixtures" / "csw" / "inspire_geonetwork_csw_GetRecordsResponse.xml"
).read_bytes()


def second_page(next_record: str = "0") -> bytes:
    """The recorded page as a later one: other identifiers, and where paging ends."""
    text = RECORDED.decode()
    root = etree.fromstring(RECORDED)
    for md in root.iter("{http://www.isotc211.org/2005/gmd}MD_Metadata"):
        ident = MD_Metadata(md).identifier
        text = text.replace(f">{ident}<", f">{ident}-p2<")
    return text.replace('nextRecord="85"', f'nextRecord="{next_record}"').encode()


class FakeCSW:
    def __init__(self, pages: dict[str, bytes]) -> None:
        self.pages = pages
        self.asked: list[dict[str, str]] = []

    def __call__(self, handler: Any) -> None:
        query = {k: v[0] for k, v in parse_qs(urlsplit(handler.path).query).items()}
        self.asked.append(query)
        body = self.pages[query["startPosition"]]
        handler.send_response(200)
        handler.send_header("Content-Type", "application/xml")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)


def harvest(tmp_path: Path, index: SQLiteIndex, csw: FakeCSW) -> Any:
    with Upstream(tmp_path) as upstream:
        upstream.routes["/csw"] = csw
        config = settings_from_dict(
            {
                "index": {"path": "i.sqlite"},
                "harvest": {"backoff": 0.01},
                "sources": [{"name": "geonetwork", "type": "csw", "url": upstream.url("csw")}],
            },
            tmp_path / "c.yml",
            {},
        )
        return run_harvest(config, index).sources[0]


def test_iso_records_page_by_page_with_a_shortfall(tmp_path: Path, index: SQLiteIndex) -> None:
    csw = FakeCSW({"1": RECORDED, "85": second_page()})
    report = harvest(tmp_path, index, csw)
    assert (report.status, report.datasets) == ("ok", 4)
    assert [q["startPosition"] for q in csw.asked] == ["1", "85"]
    assert csw.asked[0]["outputSchema"] == "http://www.isotc211.org/2005/gmd"
    assert "the catalogue promised 216 records and delivered 4" in report.warnings

    record = index.get_dataset("geonetwork.8dad9c98-0512-4845-a2bf-3ace1c93df6f")
    assert record is not None and record.title == "SUVIM station network WMS"
    assert record.description and record.description.startswith("The Solar Ultraviolet")
    assert "atmospheric monitoring" in record.keywords
    assert record.distributions and all(d.url.startswith("http") for d in record.distributions)
    assert record.contact_point is not None
    assert "GetRecordById" in (record.provenance.source_url or "")


def test_a_catalogue_that_repeats_its_next_record_is_stopped(
    tmp_path: Path, index: SQLiteIndex
) -> None:
    csw = FakeCSW({"1": RECORDED, "85": second_page(next_record="85")})
    report = harvest(tmp_path, index, csw)
    assert report.status == "ok" and len(csw.asked) == 2
    assert any("asked for before" in w for w in report.warnings)


def test_an_exception_report_fails_the_source(tmp_path: Path, index: SQLiteIndex) -> None:
    error = (
        b'<ows:ExceptionReport xmlns:ows="http://www.opengis.net/ows"><ows:Exception>'
        b"<ows:ExceptionText>Invalid constraint</ows:ExceptionText></ows:Exception>"
        b"</ows:ExceptionReport>"
    )
    report = harvest(tmp_path, index, FakeCSW({"1": error}))
    assert report.status == "failed" and "Invalid constraint" in (report.error or "")
