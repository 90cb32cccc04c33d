"""The contract every index backend fulfils (SQLite now, a search engine later).

Backends hold datasets and their items. Writes come as streams of records and are applied in
batches; a write that fails part-way leaves what was committed before intact. Reads take a
:class:`~catalogue.query.SearchQuery`. No backend-specific query language leaves a backend.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from catalogue.model import Dataset, Item
from catalogue.query import Field, SearchQuery, SearchResult


@dataclass(slots=True)
class UpsertStats:
    """What one upsert call did, by record."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    """(record id, reason) for records the backend refused."""

    def __iadd__(self, other: UpsertStats) -> UpsertStats:
        self.added += other.added
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.failed.extend(other.failed)
        return self


@dataclass(frozen=True, slots=True)
class CollectionInfo:
    """What the OGC API needs to describe one dataset's collection of items."""

    dataset: Dataset
    fields: tuple[Field, ...]
    facets: tuple[str, ...] = ()
    """Fields with few distinct values, counted by ``facets=true``."""


@runtime_checkable
class Index(Protocol):
    """An index of datasets and items. Backends are found through the
    ``catalogue.index_backends`` entry-point group."""

    def upsert(self, records: Iterable[Dataset | Item], *, run_id: str) -> UpsertStats:
        """Insert or update records; every record written or confirmed is stamped with
        ``run_id`` so that :meth:`delete_stale` can tell what a source no longer has."""
        ...

    def delete_stale(self, source_name: str, run_id: str) -> int:
        """Delete the source's datasets and items not stamped with ``run_id``; returns how many."""
        ...

    def delete_datasets(self, ids: Sequence[str]) -> int:
        """Delete datasets by id, with their items."""
        ...

    def delete_items(self, dataset_id: str, item_ids: Sequence[str]) -> int: ...

    def delete_source(self, source_name: str) -> int:
        """Delete everything harvested from one source."""
        ...

    def refresh_datasets(self, ids: Sequence[str]) -> None:
        """Recompute what datasets derive from their items: count, extents, queryable fields."""
        ...

    def get_dataset(self, dataset_id: str) -> Dataset | None: ...

    def get_item(self, dataset_id: str, item_id: str) -> Item | None: ...

    def search_datasets(self, query: SearchQuery) -> SearchResult[Dataset]: ...

    def search_items(self, dataset_id: str, query: SearchQuery) -> SearchResult[Item]: ...

    def collections(self) -> list[CollectionInfo]:
        """Every dataset that has items, with its queryable fields."""
        ...

    def dataset_fields(self) -> tuple[Field, ...]:
        """The queryable fields of dataset records."""
        ...

    def source_counts(self) -> dict[str, tuple[int, int]]:
        """Per source name: (datasets, items)."""
        ...

    def generation(self) -> int:
        """A number that changes whenever datasets change (added, updated, deleted, refreshed
        after their items were written); cheap to call. Publishers rebuild what they derive
        from the list of datasets when it changes."""
        ...

    def iter_datasets(self) -> Iterator[Dataset]: ...

    def close(self) -> None: ...


@runtime_checkable
class FeatureSearch(Protocol):
    """Optional: a backend that can hand out items already serialized as GeoJSON Features,
    which the OGC API then sends without decoding and encoding them again."""

    def search_item_features(self, dataset_id: str, query: SearchQuery) -> SearchResult[bytes]:
        """Like :meth:`Index.search_items`, each item as the bytes of a GeoJSON Feature with
        ``type``, ``id``, ``geometry`` and ``properties``."""
        ...


class Overran(Exception):  # noqa: N818 - a signal to try again elsewhere, not an error
    """A search inside :meth:`BriefSearch.brief` needed longer than the time given."""


@runtime_checkable
class BriefSearch(Protocol):
    """Optional: a backend that reads in the calling thread without waiting on anything but
    the CPU and a local disk, and that can give up on a read after a short time. The server
    then tries its searches on its event loop, sparing the hand-off to a worker thread (on a
    box query over an R*Tree that hand-off costs more than the query), and runs only those
    that overran again in a thread."""

    def brief(self, seconds: float) -> AbstractContextManager[None]:
        """Reads in this thread inside stop with :class:`Overran` after ``seconds``."""
        ...


@runtime_checkable
class ItemScan(Protocol):
    """Optional: a backend that can read every item of a dataset straight through, in its
    stored order, without the counting and sorting a search pays (a copy or a check of a
    whole index reads every item once)."""

    def scan_items(self, dataset_id: str) -> Iterator[Item]:
        """Every item of the dataset, each once, in the order they were first stored."""
        ...


@runtime_checkable
class ItemPreparer(Protocol):
    """Optional: a backend whose upsert takes items prepared beforehand, possibly in another
    process (a large file is read and prepared in a second process while the index writes)."""

    def item_preparer(self) -> type:
        """A class made from an :class:`~catalogue.model.Item` (``cls(item)``) that pickles,
        has the item's ``id`` and ``dataset_id``, and that :meth:`Index.upsert` takes in place
        of the item."""
        ...


class PreparedItems:
    """Many items prepared beforehand for one index (:class:`BatchPreparer`): one record in a
    harvest's stream for a few thousand items. ``keys`` are the items' (dataset id, item id),
    ``rows`` what the index made of each, in the same order. Sent through a pipe as one
    object, a batch pickles in a third of the time of as many prepared objects."""

    __slots__ = ("keys", "rows")

    def __init__(self, keys: list[tuple[str, str]], rows: list[Any]) -> None:
        self.keys = keys
        self.rows = rows

    def __len__(self) -> int:
        return len(self.keys)


@runtime_checkable
class BatchPreparer(Protocol):
    """Optional, in place of :class:`ItemPreparer`: a backend whose upsert takes items prepared
    beforehand in batches (:class:`PreparedItems`), possibly in another process."""

    def batch_preparer(self) -> Callable[[list[Item]], PreparedItems]:
        """A module-level function (it is pickled by name) making a batch of prepared items
        that :meth:`Index.upsert` takes in place of the items."""
        ...


@runtime_checkable
class ChangeTime(Protocol):
    """Optional: a backend that records when its datasets last changed (added, updated,
    deleted or refreshed), so publishers need not read every dataset to say so."""

    def changed_at(self) -> str | None:
        """ISO 8601 in UTC; None when nothing was ever written."""
        ...
