"""Hostile XML from every source type that reads XML (WFS, CSW, OAI-PMH, DCAT as RDF/XML): entity
expansion (billion laughs, quadratic blowup), external entities (a local file, a URL), external
DTDs and parameter entities. Declarations are refused as unsafe without expanding, reading or
fetching anything, the source fails with that said, and a healthy source in the same run
completes; a DTD referenced without declarations is never fetched."""

from __future__ import annotations

import resource
from pathlib import Path
from typing import Any

import pytest
from upstream import Upstream

from catalogue.harvest.runner import run_harvest
from catalogue.index.sqlite import SQLiteIndex
from catalogue.query import SearchQuery
from catalogue.settings import settings_from_dict

SECRET = "geheim-7f3a9c"  # the content of a local file an external entity points at

ROOTS = {
    "wfs": b'<wfs:WFS_Capabilities xmlns:wfs="http://www.opengis.net/wfs/2.0" version="2.0.0">',
    "csw": b'<csw:GetRecordsResponse xmlns:csw="http://www.opengis.net/cat/csw/2.0.2">',
    "oai-pmh": b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">',
    "dcat": b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
    b'xmlns:dct="http://purl.org/dc/terms/"><rdf:Description rdf:about="http://x/ds">',
}
ENDS = {
    "wfs": b"</wfs:WFS_Capabilities>",
    "csw": b"</csw:GetRecordsResponse>",
    "oai-pmh": b"</OAI-PMH>",
    "dcat": b"</rdf:Description></rdf:RDF>",
}


def payload(kind: str, attack: str, base: str, secret_file: Path) -> bytes:
    """A document of source type ``kind`` carrying ``attack``."""
    body = b"&e;"
    if attack == "billion-laughs":
        entities = ['<!ENTITY e0 "lol">'] + [
            f'<!ENTITY e{n} "{f"&e{n - 1};" * 10}">' for n in range(1, 10)
        ]
        doctype = f'<!DOCTYPE r [{"".join(entities)}<!ENTITY e "&e9;">]>'
    elif attack == "quadratic-blowup":
        doctype = f'<!DOCTYPE r [<!ENTITY e "{"x" * 50_000}">]>'
        body = b"&e;" * 50_000  # 2.5 GB once expanded
    elif attack == "external-file":
        doctype = f'<!DOCTYPE r [<!ENTITY e SYSTEM "file://{secret_file}">]>'
    elif attack == "external-url":
        doctype = f'<!DOCTYPE r [<!ENTITY e SYSTEM "{base}/fetched-entity">]>'
    elif attack == "parameter-entity":
        doctype = f'<!DOCTYPE r [<!ENTITY % p SYSTEM "{base}/fetched-parameter"> %p;]>'
        body = b""
    else:  # external DTD: nothing declared in the document itself
        doctype = f'<!DOCTYPE r SYSTEM "{base}/fetched-dtd">'
        body = b""
    head = b'<?xml version="1.0"?>\n' + doctype.encode() + b"\n"
    if kind == "dcat":
        body = b"<dct:title>" + body + b"</dct:title>"
    return head + ROOTS[kind] + body + ENDS[kind]


class Hostile:
    """Answers every request with one document, and counts what was asked for."""

    def __init__(self, document: bytes) -> None:
        self.document = document

    def __call__(self, handler: Any) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/xml")
        handler.send_header("Content-Length", str(len(self.document)))
        handler.end_headers()
        handler.wfile.write(self.document)


ATTACKS = [
    "billion-laughs",
    "quadratic-blowup",
    "external-file",
    "external-url",
    "parameter-entity",
    "external-dtd",
]


@pytest.mark.parametrize("attack", ATTACKS)
@pytest.mark.parametrize("kind", ["wfs", "csw", "oai-pmh", "dcat"])
def test_hostile_xml_is_refused_and_reads_nothing(
    tmp_path: Path, index: SQLiteIndex, kind: str, attack: str
) -> None:
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(SECRET)
    (tmp_path / "good.geojson").write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "id": 1, '
        '"geometry": {"type": "Point", "coordinates": [6.78, 51.22]}, "properties": {}}]}'
    )
    with Upstream(tmp_path) as upstream:
        base = upstream.url("").rstrip("/")
        path = {"dcat": "/catalog.rdf"}.get(kind, f"/{kind}")
        upstream.routes[path] = Hostile(payload(kind, attack, base, secret_file))
        settings = settings_from_dict(
            {
                "index": {"path": "i.sqlite"},
                "harvest": {"retries": 0, "backoff": 0.01},
                "sources": [
                    {"name": "hostile", "type": kind, "url": upstream.url(path)},
                    {"name": "good", "type": "geojson", "url": "good.geojson"},
                ],
            },
            tmp_path / "c.yml",
            {},
        )
        peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        reports = {s.name: s for s in run_harvest(settings, index).sources}
        grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
    hostile = reports["hostile"]
    if attack != "external-dtd":  # a DTD reference alone declares nothing: it is not read
        assert hostile.status == "failed" and "unsafe XML" in (hostile.error or ""), hostile
    assert reports["good"].status == "ok"
    # nothing fetched, nothing read, nothing expanded
    assert not [r for r in upstream.requests if "fetched" in r], upstream.requests
    assert SECRET not in (hostile.error or "")
    assert index.search_datasets(SearchQuery(text=SECRET)).number_matched == 0
    assert grown_kib < 64 * 1024, f"peak memory grew by {grown_kib // 1024} MiB"
