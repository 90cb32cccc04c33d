"""The catalogue's index on a search engine: writes in ``_bulk`` batches, reads, deletes,
derived statistics, and rebuilds behind an alias swap. Client-neutral: an
:class:`~catalogue.index.search_engine.client.EngineClient` adapter does the talking."""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

import orjson

from catalogue.errors import IndexBackendError, NotFoundError
from catalogue.index.protocol import CollectionInfo, UpsertStats
from catalogue.index.search_engine import mapping
from catalogue.index.search_engine.client import EngineClient, first_reason, ndjson
from catalogue.index.search_engine.documents import (
    DATASET_FIELDS,
    PreparedItem,
    dataset_doc,
    dataset_from_source,
    item_from_source,
    item_key,
)
from catalogue.index.search_engine.search import DatasetSearch, ItemSearch, scan
from catalogue.index.search_engine.settings import EngineSettings, engine_settings
from catalogue.index.search_engine.statistics import (
    derived_update,
    item_statistics,
    sample_fields,
)
from catalogue.model import Dataset, Item
from catalogue.query import Field, SearchQuery, SearchResult

if TYPE_CHECKING:
    from catalogue.settings import IndexSettings

log = logging.getLogger("catalogue.index.search_engine")

IN_FLIGHT = 2
"""Bulk requests an upsert keeps going at once."""
STATE = "state"
LOADING = {"translog.durability": "async", "translog.sync_interval": "30s"}
_BUMP = "ctx._source.generation += 1"


@dataclass(frozen=True, slots=True)
class IndexNames:
    """Where datasets and items are read and written: the aliases, or while a rebuild runs,
    the new physical indices."""

    datasets: str
    items: str
    meta: str

    @classmethod
    def aliases(cls, prefix: str) -> IndexNames:
        return cls(f"{prefix}-datasets", f"{prefix}-items", f"{prefix}-meta")

    def physical(self, stamp: str) -> IndexNames:
        version = f"v{mapping.MAPPING_VERSION}-{stamp}"
        return IndexNames(f"{self.datasets}-{version}", f"{self.items}-{version}", self.meta)


class SearchEngineIndex:
    """An index of datasets and items on OpenSearch or Elasticsearch."""

    client_class: ClassVar[type[EngineClient]]

    def __init__(
        self, client: EngineClient, settings: EngineSettings, names: IndexNames | None = None
    ) -> None:
        self.client = client
        self.settings = settings
        self.aliases = IndexNames.aliases(settings.prefix)
        self.names = names or self.aliases
        self._seq = itertools.count(time.time_ns())
        self._dataset_sources: dict[str, str] = {}

    @classmethod
    def from_settings(cls, settings: IndexSettings, **_: Any) -> SearchEngineIndex:
        """Connect, check the server's product and version, and create the indices if the
        engine has none yet."""
        engine = engine_settings(settings)
        client = cls.client_class(engine)
        try:
            client.check_server()
            index = cls(client, engine)
            index.ensure()
        except BaseException:
            client.close()
            raise
        return index

    # layout ----------------------------------------------------------------------------
    def ensure(self) -> None:
        """Create aliases, indices and the state document where missing; refuse indices of
        another mapping version."""
        self._create_once(self.aliases.meta, mapping.META)
        if self.client.get(self.aliases.meta, STATE) is None:
            self.client.update_script(self.aliases.meta, STATE, _BUMP, {"generation": 0})
        if self.client.alias_targets(self.aliases.datasets):
            version = self.mapping_version()
            if version != mapping.MAPPING_VERSION:
                raise IndexBackendError(
                    f"the engine's indices have mapping version {version}; this catalogue "
                    f"writes version {mapping.MAPPING_VERSION}: run `catalogue reindex`"
                )
            return
        # the first indices have fixed names: processes opening an empty engine at the same
        # time create them once and point the aliases at the same pair
        physical = self.aliases.physical("initial")
        self._create_once(physical.datasets, mapping.DATASETS)
        self._create_once(physical.items, mapping.ITEMS)
        self.client.update_aliases(
            [
                {"add": {"index": physical.datasets, "alias": self.aliases.datasets}},
                {"add": {"index": physical.items, "alias": self.aliases.items}},
            ]
        )

    def mapping_version(self) -> int | None:
        meta = self.client.get_mapping(self.aliases.datasets).get("_meta") or {}
        version = meta.get("mapping_version")
        return int(version) if version is not None else None

    def _settings(self, **extra: Any) -> dict[str, Any]:
        return {**mapping.index_settings(self.settings.shards, self.settings.replicas), **extra}

    def _create_once(self, name: str, mappings: dict[str, Any]) -> None:
        if self.client.index_exists(name):
            return
        try:
            self.client.create_index(name, self._settings(), mappings)
        except IndexBackendError:
            if not self.client.index_exists(name):  # not created by another process meanwhile
                raise

    def _create(self, names: IndexNames, **extra: Any) -> None:
        self.client.create_index(names.datasets, self._settings(**extra), mapping.DATASETS)
        self.client.create_index(names.items, self._settings(**extra), mapping.ITEMS)

    @contextmanager
    def rebuild(self) -> Iterator[SearchEngineIndex]:
        """A full rebuild: yields an index writing into new physical indices; when the block
        ends without error the aliases are swapped to them in one atomic step and the old
        indices are deleted. Queries see the old indices until then, never a half-built one."""
        new = self.aliases.physical(_stamp())
        # while loading: no replicas, no periodic refresh, and the translog synced in the
        # background (a rebuild that breaks off is thrown away anyway); set back when complete
        self._create(new, number_of_replicas=0, refresh_interval="-1", **LOADING)
        builder = type(self)(self.client, self.settings, new)
        try:
            yield builder
            for name in (new.datasets, new.items):
                self.client.put_settings(
                    name,
                    {
                        "number_of_replicas": self.settings.replicas,
                        "refresh_interval": mapping.REFRESH_INTERVAL,
                        "translog.durability": "request",
                    },
                )
                self.client.refresh(name)
            self.client.health()
        except BaseException:
            self.client.delete_index(new.datasets)
            self.client.delete_index(new.items)
            raise
        old = self.client.alias_targets(self.aliases.datasets)
        old += self.client.alias_targets(self.aliases.items)
        actions: list[dict[str, Any]] = [
            {"remove": {"index": name, "alias": alias}}
            for alias in (self.aliases.datasets, self.aliases.items)
            for name in self.client.alias_targets(alias)
        ]
        actions += [
            {"add": {"index": new.datasets, "alias": self.aliases.datasets}},
            {"add": {"index": new.items, "alias": self.aliases.items}},
        ]
        self.client.update_aliases(actions)
        for name in old:
            self.client.delete_index(name)
        self._dataset_sources.clear()
        self._bump()
        log.info("aliases swapped", extra={"datasets": new.datasets, "items": new.items})

    def physical_indices(self) -> list[str]:
        """The physical indices the aliases point at."""
        return self.client.alias_targets(self.names.datasets) + self.client.alias_targets(
            self.names.items
        )

    def drop(self) -> None:
        """Delete the catalogue's indices from the engine (the aliases go with them)."""
        for name in self.physical_indices():
            self.client.delete_index(name)
        self.client.delete_index(self.aliases.meta)

    def close(self) -> None:
        if self.names is self.aliases:
            self.client.close()

    # generation ------------------------------------------------------------------------
    def generation(self) -> int:
        state = self.client.get(self.names.meta, STATE)
        return int(state["generation"]) if state else 0

    def _bump(self) -> None:
        if self.names is self.aliases:  # a rebuild bumps once, when it is swapped in
            self.client.update_script(self.names.meta, STATE, _BUMP, {"generation": 1})

    # writes ----------------------------------------------------------------------------
    def item_preparer(self) -> type[PreparedItem]:
        return PreparedItem

    def upsert(
        self,
        records: Iterable[Dataset | Item],
        *,
        run_id: str,
        batch_size: int | None = None,
    ) -> UpsertStats:
        size = batch_size or self.settings.batch_size
        byte_limit = self.settings.batch_bytes
        stats = UpsertStats()
        checked: dict[str, bool] = {}  # dataset id: had no items when this call began
        batch: list[Dataset | PreparedItem] = []
        batch_bytes = 0
        # bulk requests in flight while the next batch is read and prepared: the engine
        # indexes each on a thread of its own
        in_flight: list[Future[UpsertStats]] = []

        def settle(keep: int = 0) -> None:
            while len(in_flight) > keep:
                stats.__iadd__(in_flight.pop(0).result())

        writer = ThreadPoolExecutor(IN_FLIGHT, thread_name_prefix="catalogue-bulk")
        try:
            for record in records:
                if isinstance(record, (Item, PreparedItem)):
                    # items prepared elsewhere (ItemPreparer) pass as they are
                    prepared = PreparedItem(record) if isinstance(record, Item) else record
                    batch_bytes += len(prepared.source)
                    batch.append(prepared)
                else:
                    batch.append(record)
                if len(batch) >= size or batch_bytes >= byte_limit:
                    in_flight.append(self._write_batch(writer, batch, run_id, checked, settle))
                    batch, batch_bytes = [], 0
            if batch:
                in_flight.append(self._write_batch(writer, batch, run_id, checked, settle))
            settle()
        finally:
            writer.shutdown(wait=True)
            if self.names is self.aliases:
                self.client.refresh(self.names.datasets)
                self.client.refresh(self.names.items)
        return stats

    def _write_batch(
        self,
        writer: ThreadPoolExecutor,
        batch: list[Dataset | PreparedItem],
        run_id: str,
        checked: dict[str, bool],
        settle: Callable[..., None],
    ) -> Future[UpsertStats]:
        """Prepare a batch's bulk request and hand it to the writer; ``settle`` waits for the
        request before, as lookups must see what it writes."""
        stats = UpsertStats()
        lines: list[bytes] = []
        outcomes: list[tuple[str, str, bool]] = []  # (record id, success counts as, dataset?)
        datasets = [r for r in batch if isinstance(r, Dataset)]
        if datasets:
            settle()
            self._dataset_operations(datasets, run_id, stats, lines, outcomes)
        items = [r for r in batch if isinstance(r, PreparedItem)]
        if items:
            self._item_operations(items, run_id, stats, checked, lines, outcomes, settle)
        settle(IN_FLIGHT - 1)
        return writer.submit(self._apply, lines, outcomes, stats)

    def _apply(
        self, lines: list[bytes], outcomes: list[tuple[str, str, bool]], stats: UpsertStats
    ) -> UpsertStats:
        if not lines:
            return stats
        answer = self.client.bulk(b"".join(lines))
        results = answer["items"] if answer.get("errors") else None
        if results is not None and len(results) != len(outcomes):
            raise IndexBackendError(
                f"the search engine answered {len(results)} of {len(outcomes)} bulk operations"
            )
        changed = False  # a dataset added or updated: publishers rebuild their lists
        for n, (record_id, outcome, is_dataset) in enumerate(outcomes):
            if results is not None:
                detail = next(iter(results[n].values()))
                error = detail.get("error")
                if error is not None:
                    reason = first_reason(error)
                    if detail.get("status") == 409:
                        reason = "duplicate item id within the source"
                    stats.failed.append((record_id, reason))
                    log.warning("record refused", extra={"record": record_id, "reason": reason})
                    continue
            if outcome == "added":
                stats.added += 1
            elif outcome == "updated":
                stats.updated += 1
            else:
                stats.unchanged += 1
            changed = changed or (is_dataset and outcome != "unchanged")
        if changed:
            self._bump()
        return stats

    def _dataset_operations(
        self,
        datasets: list[Dataset],
        run_id: str,
        stats: UpsertStats,
        lines: list[bytes],
        outcomes: list[tuple[str, str, bool]],
    ) -> None:
        existing = self.client.mget(
            self.names.datasets,
            [d.id for d in datasets],
            ["source", "hash", "item_count", "derived", "seq"],
        )
        for dataset in datasets:
            source = dataset.provenance.source_name
            digest = dataset.provenance.content_hash or dataset.content_hash()
            old = existing.get(dataset.id)
            if old is not None and old["source"] != source:
                stats.failed.append(
                    (dataset.id, f"id already taken by a dataset of source {old['source']!r}")
                )
                continue
            self._dataset_sources[dataset.id] = source
            if old is not None and old["hash"] == digest:
                lines += _touch(self.names.datasets, dataset.id, run_id)
                outcomes.append((dataset.id, "unchanged", True))
                continue
            doc = dataset_doc(dataset, digest)
            doc.update(
                run=run_id,
                seq=old["seq"] if old else next(self._seq),
                item_count=(old or {}).get("item_count") or 0,
                derived=(old or {}).get("derived") or {},
            )
            action = {"index": {"_index": self.names.datasets, "_id": dataset.id}}
            lines += [orjson.dumps(action) + b"\n", orjson.dumps(doc) + b"\n"]
            outcomes.append((dataset.id, "updated" if old else "added", True))

    def _item_operations(
        self,
        items: list[PreparedItem],
        run_id: str,
        stats: UpsertStats,
        checked: dict[str, bool],
        lines: list[bytes],
        outcomes: list[tuple[str, str, bool]],
        settle: Callable[[], None],
    ) -> None:
        self._learn_datasets({i.dataset_id for i in items if i.error is None})
        by_key: dict[str, PreparedItem] = {}
        for item in items:
            if item.error is not None:
                stats.failed.append((item.id, item.error))
                continue
            if item.dataset_id not in self._dataset_sources:
                stats.failed.append((item.id, f"unknown dataset {item.dataset_id!r}"))
                continue
            if item.key in by_key:
                stats.failed.append((item.id, "duplicate item id within the source"))
                continue
            by_key[item.key] = item
        building = self.names is not self.aliases
        for dataset_id in {i.dataset_id for i in by_key.values()} - set(checked):
            # a dataset without items yet is loaded without looking each item up first
            checked[dataset_id] = building or not self.client.count(
                self.names.items, {"term": {"ds": dataset_id}}
            )
        lookup = [k for k, i in by_key.items() if not checked[i.dataset_id]]
        if lookup:
            settle()
        existing = self.client.mget(self.names.items, lookup, ["hash", "run", "seq"])
        index, run = self.names.items, orjson.dumps(run_id)
        sources: dict[str, bytes] = {}  # dataset id: its source's name, encoded
        for key, item in by_key.items():
            old = existing.get(key)
            if old is not None and old["run"] == run_id:
                stats.failed.append((item.id, "duplicate item id within the source"))
                continue
            if old is not None and old["hash"] == item.digest:
                lines += _touch(index, key, run_id)
                outcomes.append((item.id, "unchanged", False))
                continue
            source = sources.get(item.dataset_id)
            if source is None:
                source = sources[item.dataset_id] = orjson.dumps(
                    self._dataset_sources[item.dataset_id]
                )
            # "create" refuses an id written before in this run: the duplicate is reported
            action = "index" if old else "create"
            lines += [
                orjson.dumps({action: {"_index": index, "_id": key}}) + b"\n",
                item.line(run, source, old["seq"] if old else next(self._seq)),
            ]
            outcomes.append((item.id, "updated" if old else "added", False))

    def _learn_datasets(self, ids: set[str]) -> None:
        unknown = [i for i in ids if i not in self._dataset_sources]
        for dataset_id, doc in self.client.mget(self.names.datasets, unknown, ["source"]).items():
            self._dataset_sources[dataset_id] = doc["source"]

    def delete_stale(self, source_name: str, run_id: str) -> int:
        stale = {
            "bool": {
                "filter": [{"term": {"source": source_name}}],
                "must_not": [{"term": {"run": run_id}}],
            }
        }
        if not self.client.count(self.names.datasets, {"term": {"run": run_id}}):
            return 0
        gone = [h["_id"] for h in scan(self.client, self.names.datasets, stale, False)]
        cascade = 0
        if gone:
            cascade = self.client.count(
                self.names.items, {"bool": {"filter": [stale, {"terms": {"ds": gone}}]}}
            )
        items = self.client.delete_by_query(self.names.items, stale) - cascade
        datasets = self.client.delete_by_query(self.names.datasets, stale)
        for dataset_id in gone:
            self._dataset_sources.pop(dataset_id, None)
        if items or datasets:
            self._bump()
        return items + datasets

    def delete_datasets(self, ids: Sequence[str]) -> int:
        if not ids:
            return 0
        count = self.client.delete_by_query(self.names.datasets, {"terms": {"id": list(ids)}})
        self.client.delete_by_query(self.names.items, {"terms": {"ds": list(ids)}})
        for dataset_id in ids:
            self._dataset_sources.pop(dataset_id, None)
        self._bump()
        return count

    def delete_items(self, dataset_id: str, item_ids: Sequence[str]) -> int:
        if not item_ids:
            return 0
        keys = [item_key(dataset_id, i) for i in item_ids]
        return self.client.delete_by_query(self.names.items, {"ids": {"values": keys}})

    def delete_source(self, source_name: str) -> int:
        count = self.client.delete_by_query(self.names.datasets, {"term": {"source": source_name}})
        self.client.delete_by_query(self.names.items, {"term": {"source": source_name}})
        self._dataset_sources.clear()
        self._bump()
        return count

    def refresh_datasets(self, ids: Sequence[str]) -> None:
        """Recompute item count, extents and queryable fields of datasets from their items."""
        self.client.refresh(self.names.items)
        docs = self.client.mget(self.names.datasets, list(ids), ["doc"])
        operations: list[dict[str, Any]] = []
        for start in range(0, len(ids), 500):
            chunk = [i for i in ids[start : start + 500] if i in docs]
            if not chunk:
                continue
            stats = item_statistics(self.client, self.names.items, chunk)
            for dataset_id in chunk:
                count, box, span = stats.get(dataset_id, (0, None, None))
                fields = sample_fields(self.client, self.names.items, dataset_id) if count else ()
                operations += [
                    {"update": {"_index": self.names.datasets, "_id": dataset_id}},
                    {"doc": derived_update(docs[dataset_id]["doc"], count, box, span, fields)},
                ]
        if operations:
            answer = self.client.bulk(ndjson(operations))
            errors = [r["update"]["error"] for r in answer["items"] if "error" in r["update"]]
            if errors:
                raise IndexBackendError(
                    "the search engine refused to update dataset statistics: "
                    + first_reason(errors[0])
                )
            self.client.refresh(self.names.datasets)
            self._bump()

    # reads -----------------------------------------------------------------------------
    def get_dataset(self, dataset_id: str) -> Dataset | None:
        source = self.client.get(self.names.datasets, dataset_id)
        return dataset_from_source(source) if source else None

    def get_item(self, dataset_id: str, item_id: str) -> Item | None:
        source = self.client.get(self.names.items, item_key(dataset_id, item_id))
        if source is None or source.get("ds") != dataset_id or source.get("id") != item_id:
            return None
        return item_from_source(source)

    def search_datasets(self, query: SearchQuery) -> SearchResult[Dataset]:
        search: DatasetSearch[Dataset] = DatasetSearch(self.client, self.names.datasets, query)
        return search.run(dataset_from_source)

    def search_items(self, dataset_id: str, query: SearchQuery) -> SearchResult[Item]:
        source = self.client.get(self.names.datasets, dataset_id)
        if source is None:
            raise NotFoundError(f"no collection {dataset_id!r}")
        derived = source.get("derived") or {}
        fields = {name: kind for name, kind in derived.get("fields", [])}
        search: ItemSearch[Item] = ItemSearch(
            self.client, self.names.items, query, dataset_id, fields
        )
        return search.run(item_from_source)

    def collections(self) -> list[CollectionInfo]:
        out = []
        for hit in scan(
            self.client,
            self.names.datasets,
            {"range": {"item_count": {"gt": 0}}},
            ["doc", "item_count", "derived"],
        ):
            source = hit["_source"]
            fields = (source.get("derived") or {}).get("fields", [])
            out.append(
                CollectionInfo(dataset_from_source(source), tuple(Field(n, k) for n, k in fields))
            )
        return out

    def dataset_fields(self) -> tuple[Field, ...]:
        return DATASET_FIELDS

    def source_counts(self) -> dict[str, tuple[int, int]]:
        body = {
            "size": 0,
            "aggs": {
                "source": {
                    "terms": {"field": "source", "size": 10_000},
                    "aggs": {"items": {"sum": {"field": "item_count"}}},
                }
            },
        }
        answer = self.client.search(self.names.datasets, body)
        return {
            b["key"]: (int(b["doc_count"]), int(b["items"]["value"] or 0))
            for b in answer["aggregations"]["source"]["buckets"]
        }

    def iter_datasets(self) -> Iterator[Dataset]:
        for hit in scan(
            self.client, self.names.datasets, {"match_all": {}}, ["doc", "item_count", "derived"]
        ):
            yield dataset_from_source(hit["_source"])


def _touch(index: str, doc_id: str, run_id: str) -> list[bytes]:
    """Bulk lines marking an unchanged document as seen by this run."""
    return [
        orjson.dumps({"update": {"_index": index, "_id": doc_id}}) + b"\n",
        orjson.dumps({"doc": {"run": run_id}}) + b"\n",
    ]


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")
