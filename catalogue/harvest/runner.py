"""A harvest run: every selected source in turn, each isolated from the others.

A source that fails (unreachable, broken mid-way) is reported and leaves everything it had in
the index in place; only a source read to its end has its vanished records deleted. A source
whose harvester says it was not read to its end (an ``incomplete`` notice: paging that loops,
fewer records than promised) keeps its records too, though its run succeeds.

Incremental source types (:class:`~catalogue.harvest.contract.IncrementalHarvester`) read only
what changed since their last successful run; their runs delete only what the source says it
deleted. The first run, a ``full`` run, and a run after the index lost the source's records
list everything, and then delete what vanished like any other run.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from catalogue.districts import assign_districts, carry_districts, changed_sources
from catalogue.errors import HarvestError
from catalogue.gc_pace import fewer_collections
from catalogue.harvest.contract import Deleted
from catalogue.harvest.failures import expected_failure, failure_message
from catalogue.harvest.http import harvest_client
from catalogue.harvest.registry import create_harvester
from catalogue.harvest.report import HarvestReport, SourceReport
from catalogue.harvest.second_process import (
    Preparer,
    prepared_one_by_one,
    prepared_together,
    reading_processes,
    reads_in_second_process,
    records_from_second_process,
)
from catalogue.harvest.state import STATE_FILE, HarvestStateStore, SourceState
from catalogue.index import Index
from catalogue.index.protocol import BatchPreparer, ItemPreparer, PreparedItems
from catalogue.model import Dataset, Item, Notice, Problem, utc_now
from catalogue.settings import Settings, SourceSettings

log = logging.getLogger("catalogue.harvest")

ProgressCallback = Callable[[str, int], None]
"""Called with (source name, records read so far) every so often."""

PROGRESS_EVERY = 1000


def new_run_id() -> str:
    """A run's id: its start to the microsecond, then a random tail.

    Reports are listed newest first by their ids, so two runs started within the
    same second must still sort in the order they began.
    """
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ") + "-" + uuid.uuid4().hex[:6]


def make_client(settings: Settings) -> httpx.Client:
    h = settings.harvest
    return harvest_client(
        timeout=h.timeout,
        retries=h.retries,
        backoff=h.backoff,
        user_agent=h.user_agent,
        max_response_bytes=h.max_response_bytes,
    )


def run_harvest(
    settings: Settings,
    index: Index,
    *,
    only: list[str] | None = None,
    client: httpx.Client | None = None,
    progress: ProgressCallback | None = None,
    full: bool = False,
) -> HarvestReport:
    """Harvest the configured sources (or those named in ``only``) into ``index``.

    ``full``: incremental sources list everything instead of what changed since their last run.
    """
    sources = (
        [settings.source(name) for name in only]
        if only
        else [s for s in settings.sources if s.enabled]
    )
    report = HarvestReport(run_id=new_run_id())
    own_client = client is None
    http = client or make_client(settings)
    states = _LazyStateStore(settings.reports_dir() / STATE_FILE)
    try:
        with fewer_collections():
            for source in sources:
                report.sources.append(
                    harvest_source(
                        source,
                        index,
                        http,
                        report.run_id,
                        settings,
                        progress,
                        states=states.open,
                        full=full,
                    )
                )
        if settings.portal.districts:
            changed = changed_sources(settings, report.sources)
            assign_districts(settings, index, report.run_id, changed)
    finally:
        states.close()
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
    *,
    states: Callable[[], HarvestStateStore] | None = None,
    full: bool = False,
) -> SourceReport:
    """Harvest one source; never raises for what the source does."""
    report = SourceReport(name=source.name, type=source.type, url=source.url)
    source_run = f"{run_id}:{source.name}"
    touched: list[str] = []
    deletions = _Deletions()
    unread: list[str] = []  # what says the source was not read to its end
    state: SourceState | None = None
    log.info("harvest started", extra={"source": source.name, "type": source.type})

    item_types: tuple[type, ...] = (Item,)

    def records(stream: Iterator[Any]) -> Iterator[Any]:
        seen = 0
        for record in stream:
            if isinstance(record, PreparedItems):  # many items, prepared in a second process
                report.items += len(record)
                if deletions.items:
                    for dataset_id, item_id in record.keys:
                        deletions.keep(dataset_id, item_id)
                before, seen = seen, seen + len(record)
                if progress and seen // PROGRESS_EVERY != before // PROGRESS_EVERY:
                    progress(source.name, seen)
                yield record
                continue
            if isinstance(record, Notice):
                report.warnings.append(record.message)
                if record.incomplete:
                    unread.append(record.message)
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
            if isinstance(record, Deleted):
                deletions.add(record)
                continue
            if isinstance(record, Dataset):
                if settings.portal.districts:
                    record = carry_districts(index, record)
                report.datasets += 1
                touched.append(record.id)
                deletions.keep(record.id, None)
            elif isinstance(record, item_types):  # an Item, or one prepared (ItemPreparer)
                item: Any = record
                report.items += 1
                deletions.keep(item.dataset_id, item.id)
            else:
                raise TypeError(f"a harvester yielded {type(record).__name__}")
            seen += 1
            if progress and seen % PROGRESS_EVERY == 0:
                progress(source.name, seen)
            yield record

    try:
        check_local_source(source, settings)
        harvester = create_harvester(source, client)
        changes = getattr(harvester, "changes", None)
        if callable(changes) and states is not None:
            # an index that lost the source's records needs them all again
            relist = full or source.name not in index.source_counts()
            state = states().begin(source.name, utc_now(), full=relist)
            stream: Iterator[object] = changes(state)
        else:
            prepare: Preparer | None = None
            if isinstance(index, BatchPreparer):
                prepare = partial(prepared_together, index.batch_preparer())
            elif isinstance(index, ItemPreparer):
                item_types = (Item, index.item_preparer())
                prepare = partial(prepared_one_by_one, item_types[1])
            if prepare and reads_in_second_process(source, harvester, settings.harvest):
                readers = reading_processes(source, harvester, settings.harvest)
                log.info(
                    "reading in a second process",
                    extra={"source": source.name, "processes": readers},
                )
                stream = records_from_second_process(source, settings.harvest, prepare, readers)
            else:
                stream = harvester.records()
        stats = index.upsert(records(stream), run_id=source_run)
        report.added, report.updated, report.unchanged = stats.added, stats.updated, stats.unchanged
        for record_id, reason in stats.failed:
            report.problem(Problem(record_id, reason))
        report.deleted = deletions.apply(index)
        touched.extend(deletions.datasets_touched())
        if (state is None or state.full) and unread:
            report.warnings.append(
                "the source was not read to its end, so nothing was deleted: records missing "
                "from this run stay until a complete run"
            )
        elif state is None or state.full:
            report.deleted += index.delete_stale(source.name, source_run)
        if state is not None and unread:
            # what this run missed is asked for again: the next run starts where this one did
            report.warnings.append(
                "the source was not read to its end, so the next run reads again from where "
                "this one started"
            )
        elif state is not None:
            state.commit()
        report.status = "ok"
    except Exception as exc:  # one source's failure must not stop the others
        report.status = "failed"
        report.error = failure_message(exc)
        log.error(
            "harvest failed",
            extra={"source": source.name, "error": report.error},
            exc_info=not expected_failure(exc),
        )
    finally:
        if state is not None:
            state.rollback()
        if touched:
            index.refresh_datasets(list(dict.fromkeys(touched)))
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


def check_local_source(source: SourceSettings, settings: Settings) -> None:
    """A source that is a local file must lie under one of the allowed folders: a typo in a
    configuration must not read ``/etc/passwd`` into a public catalogue."""
    url = source.url
    if "://" in url and not url.startswith("file://"):
        return  # http(s) and other schemes are for the harvester to judge
    path = Path(url.removeprefix("file://")).expanduser().resolve()
    roots = settings.file_roots()
    if not any(path.is_relative_to(root) for root in roots):
        allowed = ", ".join(str(r) for r in roots)
        raise HarvestError(
            f"{path} is outside the folders sources may read ({allowed}); "
            "add its folder to harvest.file_roots"
        )


class _Deletions:
    """What a source said it deleted during a run, applied once the run's writes are done
    (a record deleted and then yielded again in the same run stays)."""

    def __init__(self) -> None:
        self.items: dict[str, set[str]] = {}
        self.datasets: set[str] = set()

    def add(self, deleted: Deleted) -> None:
        if deleted.item_id is None:
            self.datasets.add(deleted.dataset_id)
        else:
            self.items.setdefault(deleted.dataset_id, set()).add(deleted.item_id)

    def keep(self, dataset_id: str, item_id: str | None) -> None:
        if item_id is None:
            self.datasets.discard(dataset_id)
        elif dataset_id in self.items:
            self.items[dataset_id].discard(item_id)

    def apply(self, index: Index) -> int:
        count = 0
        for dataset_id, item_ids in self.items.items():
            if item_ids and dataset_id not in self.datasets:
                count += index.delete_items(dataset_id, sorted(item_ids))
        if self.datasets:
            count += index.delete_datasets(sorted(self.datasets))
        return count

    def datasets_touched(self) -> list[str]:
        return [d for d, ids in self.items.items() if ids and d not in self.datasets]


class _LazyStateStore:
    """Opens the harvest state file only when an incremental source needs it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.store: HarvestStateStore | None = None

    def open(self) -> HarvestStateStore:
        if self.store is None:
            self.store = HarvestStateStore(self.path)
        return self.store

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
