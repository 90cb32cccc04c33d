"""The fault matrix: every source type meets every fault a real upstream produces.

Each case harvests a source of one type together with a healthy local file, then harvests
again with the fault injected (tests/fault_upstream.py). In every case the healthy source
completes, nothing the failing source had in the index is lost, and the run report names the
fault; a server that asks to retry (503, 429 with ``Retry-After``) ends in success.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fault_upstream import (
    PARKING,
    SITES,
    ConnectionReset,
    FailsFirst,
    Fault,
    FaultyUpstream,
    HTTPStatus,
    InvalidSyntax,
    Site,
    Stall,
    Truncated,
    WrongEncoding,
)

from catalogue.harvest.report import HarvestReport, SourceReport
from catalogue.harvest.runner import run_harvest
from catalogue.index.sqlite import SQLiteIndex
from catalogue.query import SearchQuery
from catalogue.settings import Settings, settings_from_dict

TIMEOUT = 0.5
HEALTHY = "gesund"


# what the report says for each fault (searched in the source's error, warnings and problems)
TRANSPORT_FAULTS: dict[str, tuple[Any, str]] = {
    "http-500": (lambda: HTTPStatus(500), r"HTTP 500 from http://127\.0\.0\.1:\d+/"),
    "reset": (ConnectionReset, r"connection reset"),
    "timeout": (Stall, r"timed out"),
    "truncated": (Truncated, r"truncated"),
    "invalid": (InvalidSyntax, ""),  # the type's own words, Site.invalid
    "encoding": (WrongEncoding, r"(?i)utf-?8"),
}


def settings_for(tmp_path: Path, site: Site) -> Settings:
    healthy = tmp_path / "gesund.geojson"
    healthy.write_text(json.dumps(PARKING), encoding="utf-8")
    return settings_from_dict(
        {
            "index": {"backend": "sqlite", "path": "index.sqlite"},
            "harvest": {"timeout": TIMEOUT, "retries": 1, "backoff": 0.01},
            "sources": [site.source(), {"name": HEALTHY, "type": "geojson", "url": healthy.name}],
        },
        tmp_path / "catalogue.yml",
        {},
    )


def holdings(index: SQLiteIndex, source_name: str) -> dict[str, set[str]]:
    """The source's datasets in the index, each with the ids of its items."""
    return {
        dataset.id: {
            item.id for item in index.search_items(dataset.id, SearchQuery(limit=10_000)).records
        }
        for dataset in index.iter_datasets()
        if dataset.provenance.source_name == source_name
    }


def said(report: SourceReport) -> str:
    """Everything the report tells the data team about the source."""
    return "\n".join(
        [report.error or "", *report.warnings, *(f"{p.where}: {p.reason}" for p in report.problems)]
    )


class Harness:
    """A site of one type on a faulty upstream, a healthy file beside it, and the index."""

    def __init__(self, tmp_path: Path, upstream: FaultyUpstream, site: Site) -> None:
        self.up = upstream
        self.site = site
        self.index = SQLiteIndex(tmp_path / "index.sqlite")
        self.settings = settings_for(tmp_path, site)
        upstream.target = site.is_target

    def run(self, *, full: bool = False) -> tuple[SourceReport, SourceReport]:
        self.site.before_run()
        report: HarvestReport = run_harvest(self.settings, self.index, full=full)
        failing, healthy = report.sources
        assert (healthy.name, healthy.status, healthy.items) == (HEALTHY, "ok", 10), healthy
        assert self.index.get_dataset(HEALTHY).item_count == 10  # type: ignore[union-attr]
        return failing, healthy

    def first_run(self) -> dict[str, set[str]]:
        report, _ = self.run()
        assert (report.status, report.failed) == ("ok", 0), said(report)
        held = holdings(self.index, self.site.name)
        assert held and sum(len(items) for items in held.values()) + len(held) >= 5, held
        return held


@pytest.fixture()
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    site_type = request.node.callspec.params["site_type"]
    folder = tmp_path / "www"
    folder.mkdir()
    with FaultyUpstream(folder) as upstream:
        h = Harness(tmp_path, upstream, SITES[site_type](upstream))
        yield h
        h.index.close()


TYPES = list(SITES)


def types_where(applies: Callable[[type[Site]], bool], reason: str) -> list[Any]:
    """Every source type; those where the fault does not apply skipped, saying why."""
    return [
        pytest.param(name)
        if applies(site)
        else pytest.param(name, marks=pytest.mark.skip(reason=f"{name}: {reason}"))
        for name, site in SITES.items()
    ]


def transport_cases() -> list[Any]:
    cases = []
    for fault_name in TRANSPORT_FAULTS:
        for name, site in SITES.items():
            if fault_name == "invalid" and site.invalid is None:
                skip = pytest.mark.skip(
                    reason=f"{name}: no syntax to break (a bad row is a skipped record)"
                )
                cases.append(pytest.param(name, fault_name, marks=skip))
            else:
                cases.append(pytest.param(name, fault_name))
    return cases


@pytest.mark.parametrize(("site_type", "fault_name"), transport_cases())
def test_a_fault_fails_the_source_alone_keeps_its_records_and_is_named(
    harness: Harness, site_type: str, fault_name: str
) -> None:
    site = harness.site
    make, words = TRANSPORT_FAULTS[fault_name]
    if fault_name == "invalid":
        words = site.invalid or ""
    before = harness.first_run()
    counts = harness.index.source_counts()[site.name]

    fault: Fault = make()
    harness.up.fault = fault
    report, _ = harness.run()

    assert harness.up.hits, "the fault was never met"
    assert re.search(words, said(report)), said(report)
    # a whole source fails; a IIIF manifest that cannot be read is a skipped record
    if report.status == "ok":
        assert site_type == "iiif" and report.failed == 1, said(report)
    else:
        assert report.status == "failed"
    assert holdings(harness.index, site.name) == before
    assert harness.index.source_counts()[site.name] == counts


@pytest.mark.parametrize("site_type", TYPES)
def test_503_then_success_is_retried(harness: Harness, site_type: str) -> None:
    before = harness.first_run()
    harness.up.fault = FailsFirst(503)
    report, _ = harness.run()
    assert report.status == "ok" and report.failed == 0, said(report)
    assert len(harness.up.hits) == 2  # the 503, then the retry
    assert holdings(harness.index, harness.site.name) == before


@pytest.mark.parametrize("site_type", TYPES)
def test_429_waits_as_long_as_retry_after_says(harness: Harness, site_type: str) -> None:
    before = harness.first_run()
    harness.up.fault = FailsFirst(429, retry_after="1")
    report, _ = harness.run()
    assert report.status == "ok" and report.failed == 0, said(report)
    asked, again = harness.up.hits
    assert again - asked >= 0.9  # Retry-After: 1, where the backoff alone would be 0.01 s
    assert holdings(harness.index, harness.site.name) == before


@pytest.mark.parametrize(
    "site_type", types_where(lambda s: s.loops is not None, "one file: nothing to page")
)
def test_paging_that_loops_is_stopped_and_deletes_nothing(harness: Harness, site_type: str) -> None:
    site = harness.site
    before = harness.first_run()
    if site.loop_ends_listing:
        site.vanish()  # missing from this listing: a looping listing is not complete
    site.loop()
    report, _ = harness.run()
    assert re.search(site.loops or "", said(report)), said(report)
    assert report.deleted == 0
    assert holdings(harness.index, site.name) == before
    assert len(harness.up.requests) < 100


@pytest.mark.parametrize(
    "site_type", types_where(lambda s: s.promises, "the source does not say how many it has")
)
def test_fewer_records_than_promised_deletes_nothing(harness: Harness, site_type: str) -> None:
    site = harness.site
    before = harness.first_run()
    site.fall_short()
    report, _ = harness.run()
    assert report.status == "ok", said(report)
    assert re.search(r"promised \d+ .*delivered \d+", said(report)), said(report)
    assert report.deleted == 0
    if not site.incremental:  # (incremental runs delete only what the source says it deleted)
        assert "not read to its end, so nothing was deleted" in said(report), said(report)
    assert holdings(harness.index, site.name) == before


@pytest.mark.parametrize("site_type", TYPES)
def test_vanished_records_go_after_a_complete_run_only(harness: Harness, site_type: str) -> None:
    site = harness.site
    # an incremental OAI-PMH run lists only what changed: a record that vanished without a
    # deleted header is found missing by a full run
    full = site_type == "oai-pmh"
    harness.first_run()
    site.vanish()
    complete, _ = harness.run(full=full)
    assert complete.status == "ok" and complete.deleted >= 1, said(complete)
    kept = holdings(harness.index, site.name)

    site.vanish()
    harness.up.fault = HTTPStatus(500)
    incomplete, _ = harness.run(full=full)
    assert harness.up.hits, "the fault was never met"
    assert incomplete.deleted == 0, said(incomplete)
    assert re.search(r"HTTP 500 from", said(incomplete)), said(incomplete)
    assert holdings(harness.index, site.name) == kept
