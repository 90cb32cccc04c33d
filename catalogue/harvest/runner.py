"""A harvest run: every selected source in turn, each isolated from the others.

A source that fails (unreachable, broken mid-way) is reported and leaves everything it had in
the index in place; only a source read to its end has its vanished records deleted.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import httpx

from catalogue.errors import CatalogueError
from catalogue.harvest.http import harvest_client
from catalogue.harvest.registry import create_harvester
from catalogue.harvest.report import HarvestReport, SourceReport
from catalogue.index import Index
from catalogue.model import Dataset, Item, Notice, Problem
from catalogue.settings import Settings, SourceSettings

log = logging.getLogger("catalogue.harvest")

ProgressCallback = Callable[[str, int], None]
"""Called with (source name, records read so far) every so often."""

PROGRESS_EVERY = 1000


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


def make_client(settings: Settings) -> httpx.Client:
    h = settings.harvest
    return harvest_client(
        timeout=h.timeout, retries=h.retries, backoff=h.backoff, user_agent=h.user_agent
    )


def run_harvest(
    settings: Settings,
    index: Index,
    *,
    only: list[str] | None = None,
    client: httpx.Client | None = None,
    progress: ProgressCallback | None = None,
) -> HarvestReport:
    """Harvest the configured sources (or those named in ``only``) into ``index``."""
    sources = (
        [settings.source(name) for name in only]
        if only
        else [s for s in settings.sources if s.enabled]
    )
    report = HarvestReport(run_id=new_run_id())
    own_client = client is None
    http = client or make_client(settings)
    try:
        for source in sources:
            report.sources.append(
                harvest_source(source, index, http, report.run_id, settings, progress)
            )
    finally:
        if own_client:
            http.close()
    report.finished = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return report


def harvest_source(
    source: SourceSettings,
    index: Index,
    client: httpx.Client,
    run_id: str,
    settings: Settings,
    progress: ProgressCallback | None = None,
) -> SourceReport:
    """Harvest one source; never raises for what the source does."""
    report = SourceReport(name=source.name, type=source.type, url=source.url)
    source_run = f"{run_id}:{source.name}"
    touched: list[str] = []
    log.info("harvest started", extra={"source": source.name, "type": source.type})

    def records() -> Iterator[Dataset | Item]:
        harvester = create_harvester(source, client)
        seen = 0
        for record in harvester.records():
            if isinstance(record, Notice):
                report.warnings.append(record.message)
                log.warning(
                    "source notice", extra={"source": source.name, "notice": record.message}
                )
                continue
            if isinstance(record, Problem):
                report.problem(record)
                log.warning(
                    "record skipped",
                    extra={"source": source.name, "record": record.where, "reason": record.reason},
                )
                continue
            if isinstance(record, Dataset):
                report.datasets += 1
                touched.append(record.id)
            else:
                report.items += 1
            seen += 1
            if progress and seen % PROGRESS_EVERY == 0:
                progress(source.name, seen)
            yield record

    try:
        stats = index.upsert(records(), run_id=source_run)
        report.added, report.updated, report.unchanged = stats.added, stats.updated, stats.unchanged
        for record_id, reason in stats.failed:
            report.problem(Problem(record_id, reason))
        report.deleted = index.delete_stale(source.name, source_run)
        report.status = "ok"
    except Exception as exc:  # one source's failure must not stop the others
        report.status = "failed"
        report.error = exc.user_message if isinstance(exc, CatalogueError) else _describe(exc)
        log.error(
            "harvest failed",
            extra={"source": source.name, "error": report.error},
            exc_info=not isinstance(exc, (CatalogueError, httpx.HTTPError, OSError)),
        )
    finally:
        if touched:
            index.refresh_datasets(touched)
        report.finished = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if progress:
        progress(source.name, report.datasets + report.items)
    log.info(
        "harvest finished",
        extra={
            "source": source.name,
            "status": report.status,
            "added": report.added,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "deleted": report.deleted,
            "failed": report.failed,
        },
    )
    return report


def _describe(exc: Exception) -> str:
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code} from {exc.request.url}"
    return f"{type(exc).__name__}: {exc}"
