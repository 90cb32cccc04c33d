"""Drift between an index and the harvest state: per source, counts of datasets and items and
a hash over their content hashes. A source that differs is repaired by copying it again from
the index that holds the harvest state."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from catalogue.index.protocol import Index
from catalogue.index.transfer import Progress, copy_sources, datasets_by_source, iter_items


@dataclass(frozen=True, slots=True)
class SourceState:
    datasets: int
    items: int
    digest: str


@dataclass(frozen=True, slots=True)
class SourceDrift:
    name: str
    expected: SourceState | None
    """In the harvest state (None: the source is only in the checked index)."""
    actual: SourceState | None
    """In the checked index (None: missing there)."""

    @property
    def ok(self) -> bool:
        return self.expected == self.actual


def source_states(index: Index, *, items: bool = False) -> dict[str, SourceState]:
    """Per source: dataset and item counts and a digest of the datasets' content hashes and
    item counts (and, with ``items``, of every item's content)."""
    out = {}
    for name, datasets in sorted(datasets_by_source(index).items()):
        digest = hashlib.blake2b(digest_size=12)
        count = 0
        for dataset in sorted(datasets, key=lambda d: d.id):
            content = dataset.provenance.content_hash or dataset.content_hash()
            digest.update(f"{dataset.id}\0{content}\0{dataset.item_count}\n".encode())
            count += dataset.item_count
            if items:
                for item in iter_items(index, dataset.id):
                    digest.update(f"{item.id}\0{item.content_hash()}\n".encode())
        out[name] = SourceState(len(datasets), count, digest.hexdigest())
    return out


def check(reference: Index, index: Index, *, items: bool = False) -> list[SourceDrift]:
    """Every source of either index with its state in both."""
    expected = source_states(reference, items=items)
    actual = source_states(index, items=items)
    return [
        SourceDrift(name, expected.get(name), actual.get(name))
        for name in sorted(set(expected) | set(actual))
    ]


def repair(
    reference: Index, index: Index, drifts: list[SourceDrift], progress: Progress | None = None
) -> int:
    """Copy the drifting sources again from ``reference``; delete those it does not have.
    Returns how many sources were repaired."""
    wrong = {d.name for d in drifts if not d.ok}
    sources = {n: ds for n, ds in datasets_by_source(reference).items() if n in wrong}
    run_prefix = "repair-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    copy_sources(reference, index, sources, run_prefix, progress)
    for name in wrong - set(sources):
        index.delete_source(name)
    return len(wrong)
