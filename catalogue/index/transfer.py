"""Copying records from one index to another through the index protocol alone, so any two
backends can be paired (SQLite → OpenSearch, OpenSearch → SQLite …).

A target that can ``rebuild()`` (the search-engine backends) is filled in new physical indices
and swapped in when complete; any other target is updated in place, source by source, with the
same run logic a harvest uses (upsert, then delete what the copy did not touch).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pygeofilter import ast

from catalogue.index.protocol import Index, ItemScan, UpsertStats
from catalogue.model import Dataset, Item
from catalogue.query import SearchQuery, SortKey

log = logging.getLogger("catalogue.index.transfer")

PAGE = 5000

Progress = Callable[[int], None]
"""Called with the number of records copied since the last call."""


@dataclass(slots=True)
class CopyReport:
    sources: dict[str, UpsertStats] = field(default_factory=dict)
    deleted: int = 0
    swapped: bool = False

    @property
    def failed(self) -> list[tuple[str, str]]:
        return [f for stats in self.sources.values() for f in stats.failed]


def iter_items(index: Index, dataset_id: str, page: int = PAGE) -> Iterator[Item]:
    """Every item of a dataset in id order, page after page (keyset paging on the id)."""
    last: str | None = None
    while True:
        condition = None if last is None else ast.GreaterThan(ast.Attribute("id"), last)
        query = SearchQuery(filter=condition, sort=(SortKey("id"),), limit=page)
        records = index.search_items(dataset_id, query).records
        yield from records
        if len(records) < page:
            return
        last = records[-1].id


def every_item(index: Index, dataset_id: str) -> Iterator[Item]:
    """Every item of a dataset once, in the cheapest order the backend reads them: its stored
    order where it can scan (a copy then keeps the items' order), else in id order."""
    if isinstance(index, ItemScan):
        return index.scan_items(dataset_id)
    return iter_items(index, dataset_id)


def records_of(
    index: Index, datasets: list[Dataset], progress: Progress | None
) -> Iterator[Dataset | Item]:
    for dataset in datasets:
        yield dataset
        if progress:
            progress(1)
        count = 0
        for item in every_item(index, dataset.id):
            yield item
            count += 1
            if progress and count % 1000 == 0:
                progress(1000)
        if progress and count % 1000:
            progress(count % 1000)


def datasets_by_source(index: Index) -> dict[str, list[Dataset]]:
    out: dict[str, list[Dataset]] = {}
    for dataset in index.iter_datasets():
        out.setdefault(dataset.provenance.source_name, []).append(dataset)
    return out


def copy_sources(
    origin: Index,
    target: Index,
    sources: dict[str, list[Dataset]],
    run_prefix: str,
    progress: Progress | None = None,
    *,
    in_place: bool = True,
) -> dict[str, UpsertStats]:
    """Write the given sources' datasets and items into ``target``; in place, also delete what
    the target held of those sources and the copy did not bring."""
    out = {}
    for name, datasets in sources.items():
        run_id = f"{run_prefix}:{name}"
        stats = target.upsert(records_of(origin, datasets, progress), run_id=run_id)
        if in_place:
            target.delete_stale(name, run_id)
        target.refresh_datasets([d.id for d in datasets])
        for record_id, reason in stats.failed:
            log.warning(
                "record not copied", extra={"source": name, "record": record_id, "reason": reason}
            )
        out[name] = stats
    return out


def copy_index(origin: Index, target: Index, progress: Progress | None = None) -> CopyReport:
    """Make ``target`` hold what ``origin`` holds."""
    report = CopyReport()
    sources = datasets_by_source(origin)
    run_prefix = "copy-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    rebuild: Any = getattr(target, "rebuild", None)
    if rebuild is not None:
        with rebuild() as fresh:
            report.sources = copy_sources(
                origin, fresh, sources, run_prefix, progress, in_place=False
            )
        report.swapped = True
        return report
    report.sources = copy_sources(origin, target, sources, run_prefix, progress)
    for name in set(target.source_counts()) - set(sources):
        report.deleted += target.delete_source(name)
    return report


def total_records(index: Index) -> int:
    return sum(d + i for d, i in index.source_counts().values())
