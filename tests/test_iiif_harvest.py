"""IIIF sources: recorded Presentation 3 (Bodleian) and 2 (Harvard Art Museums) manifests in
collections written here, served by a local HTTP server."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from conftest import SHARED_DATA, free_port
from upstream import Upstream

from catalogue.harvest.runner import run_harvest
from catalogue.index.sqlite import SQLiteIndex
from catalogue.settings import Settings, settings_from_dict
from harvesters.culture import item_id

IIIF = SHARED_DATA / "fixtures" / "iiif"
BODLEIAN = IIIF / "bodleian_human-freaks-2-33_presentation-v3.json"
HARVARD = IIIF / "harvardartmuseums_299843_presentation-v2.json"
BODLEIAN_ID = (
    "https://iiif.bodleian.ox.ac.uk/iiif/manifest/9cca8fdd-4a61-4429-8ac1-f648764b4d6d.json"
)
HARVARD_ID = "https://iiif.harvardartmuseums.org/manifests/object/299843"


def settings_for(tmp_path: Path, url: str, **options: Any) -> Settings:
    return settings_from_dict(
        {
            "index": {"backend": "sqlite", "path": "index.sqlite"},
            "server": {"port": free_port()},
            "harvest": {"backoff": 0.01, "retries": 0},
            "sources": [{"name": "sammlung", "type": "iiif", "url": url, **options}],
        },
        tmp_path / "catalogue.yml",
        {},
    )


def test_a_collection_is_followed_to_its_manifests_v3_and_v2(
    tmp_path: Path, index: SQLiteIndex
) -> None:
    served = tmp_path / "www"
    served.mkdir()
    shutil.copy(BODLEIAN, served / "bodleian.json")
    shutil.copy(HARVARD, served / "harvard.json")
    with Upstream(served) as up:
        (served / "nested.json").write_text(
            json.dumps(
                {
                    "@context": "http://iiif.io/api/presentation/2/context.json",
                    "@id": up.url("nested.json"),
                    "@type": "sc:Collection",
                    "label": "Gemälde",
                    "manifests": [{"@id": up.url("harvard.json"), "@type": "sc:Manifest"}],
                }
            )
        )
        (served / "top.json").write_text(
            json.dumps(
                {
                    "@context": "http://iiif.io/api/presentation/3/context.json",
                    "id": up.url("top.json"),
                    "type": "Collection",
                    "label": {"de": ["Digitale Sammlung"], "en": ["Digital collection"]},
                    "summary": {"de": ["Handzettel und Gemälde"]},
                    "items": [
                        {"id": up.url("bodleian.json"), "type": "Manifest"},
                        {"id": up.url("nested.json"), "type": "Collection"},
                        {"id": up.url("missing.json"), "type": "Manifest"},
                        {"id": up.url("top.json"), "type": "Collection"},
                    ],
                }
            )
        )
        settings = settings_for(tmp_path, up.url("top.json"), prefer_language="en")
        report = run_harvest(settings, index).sources[0]
    assert (report.status, report.datasets, report.items) == ("ok", 1, 2)
    assert [p.where for p in report.problems] == [f"manifest {up.url('missing.json')}"]
    assert "HTTP 404" in report.problems[0].reason
    assert any("contains itself" in w for w in report.warnings)

    dataset = index.get_dataset("sammlung")
    assert dataset is not None and dataset.kind == "culture"
    assert (dataset.title, dataset.description) == ("Digital collection", "Handzettel und Gemälde")

    handbill = index.get_item("sammlung", item_id(BODLEIAN_ID))
    assert handbill is not None and handbill.geometry is None
    b = handbill.properties
    assert b["title"] == "Bodleian Library: Human Freaks 2 (33)"
    assert b["description"] == "[Handbill of Mr. Becket, [1787] ]"
    assert b["creators"][0] == "Becket, Mr ([London], England) [author]"
    assert "Incledon, Charles Benjamin, 1763-1826 [performer]" in b["creators"]
    assert b["date"] == "[1787]" and handbill.time_start == "1787-01-01T00:00:00Z"
    assert b["institution"] == "Bodleian Libraries, University of Oxford"
    assert "Dwarfs" in b["subjects"] and len(b["subjects"]) == len(set(b["subjects"]))
    assert b["required_statement"] == "Terms of Use: None"
    assert b["record_url"].startswith("https://digital.bodleian.ox.ac.uk/inquire/p/9cca8fdd")
    assert b["thumbnail"].endswith("/full/256,/0/default.jpg")
    assert b["iiif_manifest"] == BODLEIAN_ID
    assert {"label": "Holding Institution", "value": b["institution"]} in b["metadata"]

    portrait = index.get_item("sammlung", item_id(HARVARD_ID))
    assert portrait is not None
    h = portrait.properties
    assert h["title"] == "Self-Portrait Dedicated to Paul Gauguin"
    assert h["creators"] == ["Artist: Vincent van Gogh, Dutch, 1853 - 1890"]
    assert (h["date"], h["object_type"], h["materials"]) == ("1888", "Paintings", ["Oil on canvas"])
    assert h["institution"] == "Harvard Art Museums"
    assert h["record_url"] == "https://www.harvardartmuseums.org/collections/object/299843"
    assert (
        h["thumbnail"] == "https://ids.lib.harvard.edu/ids/iiif/47174896/full/!170,170/0/native.jpg"
    )
    assert portrait.time_end == "1888-12-31T23:59:59Z"


def test_a_single_manifest_is_a_dataset_of_one(tmp_path: Path, index: SQLiteIndex) -> None:
    served = tmp_path / "www"
    served.mkdir()
    shutil.copy(HARVARD, served / "harvard.json")
    (served / "plain.json").write_text(json.dumps({"hello": "world"}))
    with Upstream(served) as up:
        report = run_harvest(settings_for(tmp_path, up.url("harvard.json")), index).sources[0]
        assert (report.status, report.items) == ("ok", 1)
        assert index.get_item("sammlung", item_id(HARVARD_ID)) is not None
        wrong = run_harvest(settings_for(tmp_path, up.url("plain.json")), index).sources[0]
    assert wrong.status == "failed" and "neither a IIIF collection nor a manifest" in (
        wrong.error or ""
    )
    assert index.get_item("sammlung", item_id(HARVARD_ID)) is not None


def test_rights_provider_and_language_of_a_v3_manifest(tmp_path: Path, index: SQLiteIndex) -> None:
    served = tmp_path / "www"
    served.mkdir()
    with Upstream(served) as up:
        (served / "m.json").write_text(
            json.dumps(
                {
                    "@context": "http://iiif.io/api/presentation/3/context.json",
                    "id": up.url("m.json"),
                    "type": "Manifest",
                    "label": {"en": ["City map"], "de": ["Stadtplan"]},
                    "summary": {"de": ["Stadtplan von <b>Düsseldorf</b>, 1850"]},
                    "metadata": [
                        {"label": {"de": ["Datierung"]}, "value": {"none": ["um 1850"]}},
                        {"label": {"de": ["Material/Technik"]}, "value": {"de": ["Kupferstich"]}},
                    ],
                    "rights": "https://creativecommons.org/licenses/by/4.0/",
                    "provider": [
                        {"id": "https://archiv.example.org", "label": {"de": ["Stadtarchiv"]}}
                    ],
                    "items": [],
                }
            )
        )
        settings = settings_for(tmp_path, up.url("m.json"), prefer_language="de")
        report = run_harvest(settings, index).sources[0]
    assert (report.status, report.items) == ("ok", 1)
    item = index.get_item("sammlung", item_id(up.url("m.json")))
    assert item is not None
    p = item.properties
    assert (p["title"], p["description"]) == ("Stadtplan", "Stadtplan von Düsseldorf, 1850")
    assert (p["date"], p["materials"]) == ("um 1850", ["Kupferstich"])
    assert p["rights"] == "http://creativecommons.org/licenses/by/4.0/"
    assert p["institution"] == "Stadtarchiv" and p["provider"] == "Stadtarchiv"
    assert item.time_start == "1850-01-01T00:00:00Z"
