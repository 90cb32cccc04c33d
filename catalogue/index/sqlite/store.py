"""The embedded index: writes (batched upserts, deletes, derived statistics) and reads by id."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from catalogue.errors import (
    ConfigError,
    IndexBackendError,
    NotFoundError,
)
from catalogue.index.protocol import CollectionInfo, PreparedItems, UpsertStats
from catalogue.index.sqlite import schema
from catalogue.index.sqlite.bounds import (
    ITEMS_VERSION,
    MAX_COLLECTIONS,
    BoundsCache,
)
from catalogue.index.sqlite.dataset_search import DATASET_FIELDS, DatasetSearch
from catalogue.index.sqlite.dataset_writes import set_dataset_box, write_dataset
from catalogue.index.sqlite.deadlines import Deadlines
from catalogue.index.sqlite.facets import FacetColumns
from catalogue.index.sqlite.held_boxes import HeldBoxes
from catalogue.index.sqlite.item_writes import ItemWrites, append_rows, items_changed
from catalogue.index.sqlite.rows import (
    OPEN_END,
    OPEN_START,
    ROW_HASH,
    ItemRow,
    ItemRows,
    dataset_from_row,
    describe_fields,
    epoch,
    iso,
    item_from_row,
    prepare_items,
)
from catalogue.index.sqlite.rtree_build import node_size, rebuild_rtree, rtree_complete
from catalogue.index.sqlite.search import ItemSearch
from catalogue.index.sqlite.shared_hits import SharedHits
from catalogue.index.sqlite.sort_ranks import SortRanks
from catalogue.index.sqlite.text_hits import TextHits
from catalogue.index.sqlite.upsert_batches import upsert_batches
from catalogue.model import Dataset, Item, utc_now
from catalogue.query import Field, SearchQuery, SearchResult

if TYPE_CHECKING:
    from catalogue.settings import IndexSettings

BATCH = 5000
COMMIT_ROWS = 100_000
"""Rows written per transaction by an upsert. Each commit writes every page the rows touched,
and the time index takes them in random order: committing every batch rewrote most of its
pages each time (a third of a 1M-point load); readers see a long load in steps of this size."""
FIELD_SAMPLE = 2000
REPACK_SHARE = 4
"""A collection whose R*Tree had a quarter of its entries or more written one by one since its
last refresh gets its tree written anew in spatial order."""
SCAN_ROWS = 1000


class SQLiteIndex:
    """An index in one SQLite file: WAL for concurrent readers, FTS5 for text, R*Tree for space."""

    def __init__(
        self, path: Path, *, read_mostly: bool = False, query_timeout: float = 10.0
    ) -> None:
        self.path = Path(path)
        self.read_mostly = read_mostly
        self._deadlines = Deadlines(query_timeout)
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._ds_rids: dict[str, int] = {}
        # datasets loaded from empty: their R*Tree entries are written once, in spatial order,
        # by refresh_datasets (a tree grown from randomly ordered points is 100x slower to search)
        self._bulk_loading: set[int] = set()
        # R*Tree entries written one by one since a collection's last refresh: a tree where
        # many moved is packed again (61 ms against 1.5 ms for a box over 1M moved points)
        self._entered: dict[int, int] = {}
        self._held = HeldBoxes()  # the boxes of collections loaded from empty, for that pack
        self._ids_deferred = False  # a first load is under way without the id index
        self._facet_columns = FacetColumns()
        self._sort_ranks = SortRanks()
        self._bounds = BoundsCache()
        # whole collections counted, for their state (generation, item version): shared by
        # the threads, so a count made in one (a search moved off the event loop) serves all
        self._counts: dict[int, tuple[tuple[int, int], int]] = {}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = schema.connect(self.path)
            schema.create(conn)
            instance = conn.execute("SELECT value FROM meta WHERE key = 'instance'").fetchone()
            conn.close()
        except (OSError, sqlite3.Error, RuntimeError) as exc:
            raise IndexBackendError(f"cannot open the index at {self.path}: {exc}") from exc
        # a serving process shares the hits that took long with the others serving this file
        shared = SharedHits(self.path, instance[0]) if read_mostly else None
        self._text_hits = TextHits(shared=shared)

    @classmethod
    def from_settings(
        cls, settings: IndexSettings, *, read_mostly: bool = False, **_: Any
    ) -> SQLiteIndex:
        """``read_mostly``: the process mainly serves queries (memory-maps the file)."""
        if settings.path is None:
            raise ConfigError("index.path: the sqlite backend needs a file path")
        return cls(settings.path, read_mostly=read_mostly, query_timeout=settings.query_timeout)

    @property
    def query_timeout(self) -> float:
        """Seconds a search may take before it is stopped."""
        return self._deadlines.query_timeout

    @query_timeout.setter
    def query_timeout(self, seconds: float) -> None:
        self._deadlines.query_timeout = seconds

    # connections -----------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = schema.connect(self.path, mmap=self.read_mostly)
            self._local.conn = conn
            self._deadlines.watch(conn)
        return conn

    @contextmanager
    def _time_limit(self) -> Iterator[None]:
        """Searches inside stop after ``query_timeout`` seconds. They read in one transaction:
        one consistent state of the file, and one start of a read instead of one per statement
        (a box query's half dozen statements: 12 % of its time)."""
        conn = self._conn()
        began = not conn.in_transaction
        if began:
            conn.execute("BEGIN")
        try:
            with self._deadlines.search():
                yield
        finally:
            if began and conn.in_transaction:
                conn.execute("COMMIT")

    def brief(self, seconds: float) -> AbstractContextManager[None]:
        """Reads in this thread inside stop with :class:`~catalogue.index.protocol.Overran`
        after ``seconds`` (the server tries searches on its event loop this way)."""
        self._conn()
        return self._deadlines.brief(seconds)

    @contextmanager
    def _write(self, *, bump: bool = True) -> Iterator[sqlite3.Connection]:
        """One write transaction; bumps the generation readers watch unless told not to."""
        with self._write_lock:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                if bump:
                    _bump_generation(conn)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def changed_at(self) -> str | None:
        """When datasets last changed (ISO 8601, UTC); None for an index never written."""
        row = self._conn().execute("SELECT value FROM meta WHERE key = 'changed_at'").fetchone()
        return str(row[0]) if row else None

    def generation(self) -> int:
        """Changes when datasets change: added, updated, deleted, or refreshed after their items
        were written (batches of items alone do not change it)."""
        row = self._conn().execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0])

    # writes ----------------------------------------------------------------------------
    def _run_no(self, conn: sqlite3.Connection, run_id: str) -> int:
        conn.execute("INSERT OR IGNORE INTO runs(run_id) VALUES (?)", (run_id,))
        return int(conn.execute("SELECT run FROM runs WHERE run_id = ?", (run_id,)).fetchone()[0])

    def batch_preparer(self) -> Callable[[list[Item]], PreparedItems]:
        return prepare_items

    def upsert(
        self, records: Iterable[Dataset | Item], *, run_id: str, batch_size: int = BATCH
    ) -> UpsertStats:
        stats = UpsertStats()
        batches = upsert_batches(records, batch_size)
        with self._write_lock:
            conn = self._conn()
            written = 0
            conn.execute("BEGIN IMMEDIATE")
            # a first load: no id index to look items up in until its end (all are new)
            self._ids_deferred = deferred = schema.defer_item_indexes(conn)
            try:
                while True:
                    try:
                        batch = next(batches, None)
                    except Exception:
                        if deferred:
                            self._restore_indexes(conn, stats)
                        conn.execute("COMMIT")  # what the source gave before it failed is kept
                        raise
                    if batch is None:
                        break
                    stats += self._upsert_batch(conn, batch, run_id)
                    written += sum(len(r) if type(r) is ItemRows else 1 for r in batch)
                    if written >= COMMIT_ROWS:
                        conn.execute("COMMIT")
                        conn.execute("BEGIN IMMEDIATE")
                        written = 0
                if deferred:
                    self._lay_out_early(conn)
                    self._restore_indexes(conn, stats)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if deferred:
                    with suppress(sqlite3.Error):  # else the next opening of the file builds them
                        schema.restore_item_indexes(conn)
                raise
            finally:
                self._ids_deferred = False
        return stats

    def _lay_out_early(self, conn: sqlite3.Connection) -> None:
        """A first load of one collection into an empty tree: lay its tree out while SQLite
        builds the put-off indexes (the refresh writes it)."""
        if (
            len(self._bulk_loading) == 1
            and not conn.execute("SELECT 1 FROM items_rtree LIMIT 1").fetchone()
        ):
            (ds,) = self._bulk_loading
            self._held.lay_out_early(ds, node_size(conn))

    def _restore_indexes(self, conn: sqlite3.Connection, stats: UpsertStats) -> None:
        """Build the indexes a first load put off; items that repeated an id are reported."""
        for _rid, ds, item_id in schema.restore_item_indexes(conn):
            stats.added -= 1
            stats.failed.append((item_id, "duplicate item id within the source"))
            self._held.give_up(ds)

    def _upsert_batch(
        self, conn: sqlite3.Connection, batch: list[Dataset | ItemRows], run_id: str
    ) -> UpsertStats:
        stats = UpsertStats()
        run = self._run_no(conn, run_id)
        datasets = [r for r in batch if isinstance(r, Dataset)]
        items = [r for r in batch if type(r) is ItemRows]
        for dataset in datasets:
            rid = write_dataset(conn, dataset, run, stats)
            if rid is not None:
                self._ds_rids[dataset.id] = rid
        if stats.added or stats.updated:
            _bump_generation(conn)
        if items:
            self._upsert_items(conn, items, run, stats)
        return stats

    def _dataset_rid(self, conn: sqlite3.Connection, dataset_id: str) -> int | None:
        rid = self._ds_rids.get(dataset_id)
        if rid is None:
            row = conn.execute("SELECT rid FROM datasets WHERE id = ?", (dataset_id,)).fetchone()
            if row is None:
                return None
            rid = self._ds_rids[dataset_id] = row[0]
        return rid

    def _upsert_items(
        self, conn: sqlite3.Connection, batches: list[ItemRows], run: int, stats: UpsertStats
    ) -> None:
        if self._ids_deferred and self._append_items(conn, batches, run, stats):
            return
        by_ds: dict[int, dict[str, tuple[ItemRow, Any]]] = {}
        failed = stats.failed
        for prepared in batches:
            last_dataset, group = None, {}
            for (dataset_id, item_id), row, text in zip(
                prepared.keys, prepared.rows, prepared.texts, strict=True
            ):
                if type(row) is str:
                    failed.append((item_id, row))
                    continue
                if dataset_id != last_dataset:
                    ds = self._dataset_rid(conn, dataset_id)
                    if ds is None:
                        failed.append((item_id, f"unknown dataset {dataset_id!r}"))
                        continue
                    last_dataset, group = dataset_id, by_ds.setdefault(ds, {})
                if item_id in group:
                    failed.append((item_id, "duplicate item id within the source"))
                    continue
                group[item_id] = (row, text)
        next_rid = conn.execute("SELECT coalesce(max(rid), 0) + 1 FROM items").fetchone()[0]
        writes = ItemWrites(run)
        for ds in by_ds:
            if (
                ds not in self._bulk_loading
                and not conn.execute("SELECT 1 FROM items WHERE ds = ? LIMIT 1", (ds,)).fetchone()
            ):
                self._bulk_loading.add(ds)
        for ds, group in by_ds.items():
            existing = (
                {}  # a first load: every item is new, an id given twice is found at its end
                if self._ids_deferred and ds in self._bulk_loading
                else {
                    row[0]: row[1:]
                    for row in conn.execute(
                        "SELECT id, rid, hash, run, minx, maxx, miny, maxy FROM items "
                        "WHERE ds = ? AND id IN (SELECT value FROM json_each(?))",
                        (ds, orjson.dumps(list(group)).decode()),
                    )
                }
            )
            tree = ds not in self._bulk_loading  # else the refresh packs the whole tree
            if not existing:  # all new (a first load, or new items)
                rows = [row for row, _ in group.values()]
                if not tree:
                    self._held.add(ds, next_rid, rows)
                texts = [text for _, text in group.values()]
                next_rid = writes.add_all(next_rid, ds, rows, texts, tree=tree)
                stats.added += len(group)
                continue
            if not tree:
                self._held.give_up(ds)
            for item_id, (row, text) in group.items():
                old = existing.get(item_id)
                if old is None:
                    writes.add(next_rid, ds, row, text, tree=tree)
                    next_rid += 1
                    stats.added += 1
                elif old[2] == run:
                    stats.failed.append((item_id, "duplicate item id within the source"))
                elif old[1] == row[ROW_HASH]:
                    writes.touched.append(old[0])
                    stats.unchanged += 1
                else:
                    writes.change(old[0], ds, row, text, old[3:], tree=tree)
                    stats.updated += 1
        writes.write(conn)
        for ds, entered in writes.entered.items():
            self._entered[ds] = self._entered.get(ds, 0) + entered

    def _append_items(
        self, conn: sqlite3.Connection, batches: list[ItemRows], run: int, stats: UpsertStats
    ) -> bool:
        """A first load's items written as they came, when each run of them belongs to one
        collection loaded from empty and all can be stored (else False, nothing written):
        no id is looked up (one given twice is found when the put-off indexes are built)."""
        runs = []
        for prepared in batches:
            ds = None if prepared.dataset is None else self._dataset_rid(conn, prepared.dataset)
            if ds is None:
                return False
            if ds not in self._bulk_loading:
                if conn.execute("SELECT 1 FROM items WHERE ds = ? LIMIT 1", (ds,)).fetchone():
                    return False
                self._bulk_loading.add(ds)
            runs.append((ds, prepared))
        first = conn.execute("SELECT coalesce(max(rid), 0) + 1 FROM items").fetchone()[0]
        for ds, prepared in runs:
            append_rows(conn, run, ds, first, prepared.rows, prepared.texts)
            self._held.add(ds, first, prepared.rows)
            first += len(prepared)
            stats.added += len(prepared)
        items_changed(conn, {ds for ds, _ in runs})
        return True

    def delete_stale(self, source_name: str, run_id: str) -> int:
        with self._write() as conn:
            row = conn.execute("SELECT run FROM runs WHERE run_id = ?", (run_id,)).fetchone()
            if row is None:
                return 0
            run = row[0]
            items = conn.execute(
                "DELETE FROM items WHERE run != ? AND ds IN "
                "(SELECT rid FROM datasets WHERE source = ? AND run = ?)",
                (run, source_name, run),
            ).rowcount
            gone = [
                r[0]
                for r in conn.execute(
                    "SELECT id FROM datasets WHERE source = ? AND run != ?", (source_name, run)
                )
            ]
            datasets = conn.execute(
                "DELETE FROM datasets WHERE source = ? AND run != ?", (source_name, run)
            ).rowcount
        for dataset_id in gone:
            self._ds_rids.pop(dataset_id, None)
        if items or datasets:
            self._held.give_up()  # held boxes stand for the items written, none deleted
        return items + datasets

    def delete_datasets(self, ids: Sequence[str]) -> int:
        with self._write() as conn:
            count = conn.execute(
                "DELETE FROM datasets WHERE id IN (SELECT value FROM json_each(?))",
                (orjson.dumps(list(ids)).decode(),),
            ).rowcount
        for dataset_id in ids:
            self._ds_rids.pop(dataset_id, None)
        if count:
            self._held.give_up()
        return count

    def delete_items(self, dataset_id: str, item_ids: Sequence[str]) -> int:
        with self._write() as conn:
            count = conn.execute(
                "DELETE FROM items WHERE ds = (SELECT rid FROM datasets WHERE id = ?) "
                "AND id IN (SELECT value FROM json_each(?))",
                (dataset_id, orjson.dumps(list(item_ids)).decode()),
            ).rowcount
        if count:
            self._held.give_up()
        return int(count)

    def delete_source(self, source_name: str) -> int:
        with self._write() as conn:
            count = conn.execute("DELETE FROM datasets WHERE source = ?", (source_name,)).rowcount
        self._ds_rids.clear()
        if count:
            self._held.give_up()
        return count

    def refresh_datasets(self, ids: Sequence[str]) -> None:
        """Recompute item count, extents and queryable fields of datasets from their items."""
        with self._write() as conn:
            for dataset_id in ids:
                row = conn.execute(
                    "SELECT rid, doc FROM datasets WHERE id = ?", (dataset_id,)
                ).fetchone()
                if row is None:
                    continue
                rid, doc = row[0], orjson.loads(row[1])
                held = self._held.take(conn, rid) if rid in self._bulk_loading else None
                if held is not None:  # a load from empty: what it wrote, without a scan
                    count, t0, t1 = held.count, held.t_start, held.t_end
                    items_box = held.extent()
                else:
                    count, minx, miny, maxx, maxy, t0, t1 = conn.execute(
                        "SELECT count(*), min(minx), min(miny), max(maxx), max(maxy), "
                        "min(t_start), max(t_end) FROM items WHERE ds = ?",
                        (rid,),
                    ).fetchone()
                    items_box = [minx, miny, maxx, maxy] if minx is not None else None
                fields, facets = describe_fields(
                    orjson.loads(r[0])
                    for r in conn.execute(
                        "SELECT properties FROM items WHERE ds = ? LIMIT ?", (rid, FIELD_SAMPLE)
                    )
                )
                # an item with an open start or end leaves the extent open on that side
                items_time = [iso(t0), iso(t1)] if t0 is not None else None
                derived = {
                    "fields": [[f.name, f.type] for f in fields],
                    "facets": list(facets),
                    "bbox": items_box,
                    "time": items_time,
                }
                box = doc.get("spatial") or items_box
                time: list[str | None] | None = doc.get("temporal") or items_time
                conn.execute(
                    "UPDATE datasets SET item_count = ?, derived = ?, minx = ?, miny = ?, "
                    "maxx = ?, maxy = ?, t_start = ?, t_end = ? WHERE rid = ?",
                    (
                        count,
                        orjson.dumps(derived).decode(),
                        *(box or (None, None, None, None)),
                        (epoch(time[0]) if time[0] else OPEN_START) if time else None,
                        (epoch(time[1]) if time[1] else OPEN_END) if time else None,
                        rid,
                    ),
                )
                set_dataset_box(conn, rid, box)
                entered = self._entered.pop(rid, 0)
                if (
                    rid in self._bulk_loading
                    or (entered and entered * REPACK_SHARE >= count)
                    or not rtree_complete(conn, rid)
                ):
                    if held is None:
                        rebuild_rtree(conn, rid, items_box)
                    else:
                        rebuild_rtree(conn, rid, items_box, held.boxes, held.tree())
                self._bulk_loading.discard(rid)

    # reads -----------------------------------------------------------------------------
    def get_dataset(self, dataset_id: str) -> Dataset | None:
        row = (
            self._conn()
            .execute("SELECT doc, item_count, derived FROM datasets WHERE id = ?", (dataset_id,))
            .fetchone()
        )
        return dataset_from_row(row) if row else None

    def get_item(self, dataset_id: str, item_id: str) -> Item | None:
        row = (
            self._conn()
            .execute(
                "SELECT i.id, d.id, i.geometry, i.properties, i.t_start, i.t_end "
                "FROM items i JOIN datasets d ON d.rid = i.ds WHERE d.id = ? AND i.id = ?",
                (dataset_id, item_id),
            )
            .fetchone()
        )
        return item_from_row(row) if row else None

    def search_datasets(self, query: SearchQuery) -> SearchResult[Dataset]:
        search: DatasetSearch[Dataset] = DatasetSearch(
            self._conn(), query, self._facet_columns, self._text_hits, self._sort_ranks
        )
        with self._time_limit():
            return search.run(dataset_from_row)

    def search_items(self, dataset_id: str, query: SearchQuery) -> SearchResult[Item]:
        with self._time_limit():
            return self._item_search(dataset_id, query).run(item_from_row)

    def search_item_features(self, dataset_id: str, query: SearchQuery) -> SearchResult[bytes]:
        """Like :meth:`search_items`, with each item as the bytes of its GeoJSON Feature
        (``type``, ``id``, ``geometry``, ``properties``), joined from the stored JSON."""
        with self._time_limit():
            search = self._item_search(dataset_id, query)
            search.as_features = True
            return search.run(itemgetter(0))  # the BLOB is read as bytes

    def prepare(self) -> None:
        """Read the bounds of the largest collections small enough to be held in arrays (up to
        0.5 s per 100,000 items), so that the first box query of this process does not."""
        conn = self._conn()
        rows = conn.execute(
            "SELECT rid, item_count, (SELECT value FROM meta WHERE key = 'generation'), "
            f"(SELECT value FROM meta WHERE key = '{ITEMS_VERSION}' || d.rid) "
            "FROM datasets d WHERE item_count BETWEEN 1 AND ? ORDER BY item_count DESC LIMIT ?",
            (self._bounds.max_rows, MAX_COLLECTIONS),
        ).fetchall()
        for rid, size, generation, version in rows:
            self._bounds.get(conn, rid, (int(generation), int(version or 0)), size=size)

    def _item_search(self, dataset_id: str, query: SearchQuery) -> ItemSearch[Any]:
        conn = self._conn()
        row = conn.execute(
            "SELECT rid, derived, item_count, (SELECT value FROM meta WHERE key = 'generation'), "
            f"(SELECT value FROM meta WHERE key = '{ITEMS_VERSION}' || d.rid) "
            "FROM datasets d WHERE id = ?",
            (dataset_id,),
        ).fetchone()
        if row is None:
            raise NotFoundError(f"no collection {dataset_id!r}")
        derived = orjson.loads(row[1])
        bounds = None
        state = (int(row[3]), int(row[4] or 0))
        if query.bbox is not None:
            bounds = self._bounds.get(conn, row[0], state, size=row[2])
        fields = {name: kind for name, kind in derived.get("fields", [])}
        return ItemSearch(
            conn,
            query,
            row[0],
            dataset_id,
            fields,
            derived.get("bbox"),
            self._facet_columns,
            self._counts,
            bounds,
            (state, self._text_hits),
        )

    def collections(self) -> list[CollectionInfo]:
        rows = (
            self._conn()
            .execute(
                "SELECT doc, item_count, derived FROM datasets WHERE item_count > 0 ORDER BY id"
            )
            .fetchall()
        )
        out = []
        for row in rows:
            derived = orjson.loads(row[2])
            fields = tuple(Field(name, kind) for name, kind in derived.get("fields", []))
            facets = tuple(derived.get("facets", ()))
            out.append(CollectionInfo(dataset_from_row(row), fields, facets))
        return out

    def dataset_fields(self) -> tuple[Field, ...]:
        return DATASET_FIELDS

    def source_counts(self) -> dict[str, tuple[int, int]]:
        rows = self._conn().execute(
            "SELECT source, count(*), sum(item_count) FROM datasets GROUP BY source"
        )
        return {r[0]: (r[1], r[2] or 0) for r in rows}

    def iter_datasets(self) -> Iterator[Dataset]:
        for row in self._conn().execute(
            "SELECT doc, item_count, derived FROM datasets ORDER BY id"
        ):
            yield dataset_from_row(row)

    def scan_items(self, dataset_id: str) -> Iterator[Item]:
        ds = self._dataset_rid(self._conn(), dataset_id)
        if ds is None:
            return
        cursor = self._conn().execute(
            "SELECT id, ?, geometry, properties, t_start, t_end FROM items "
            "WHERE ds = ? ORDER BY rid",
            (dataset_id, ds),
        )
        while rows := cursor.fetchmany(SCAN_ROWS):
            yield from map(item_from_row, rows)


def _bump_generation(conn: sqlite3.Connection) -> None:
    conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")
    conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('changed_at', ?)", (utc_now(),))
