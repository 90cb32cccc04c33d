"""Schema of the embedded index: one SQLite file in WAL mode with FTS5 and R*Tree tables.

Items carry their dataset's row number ``ds`` as a third R*Tree dimension, so a bbox search
inside one collection never visits another collection's features.
"""

from __future__ import annotations

import logging
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
from shapely import contains, crosses, disjoint, from_wkb, intersects, overlaps, touches, within
from shapely import equals as geom_equals
from shapely.geometry import shape

from catalogue.index.sqlite.rows import is_envelope, stored_item_text

log = logging.getLogger("catalogue.index")

SCHEMA_VERSION = 6

# remove_diacritics 2 folds ü→u, é→e …, so "Dusseldorf" finds "Düsseldorf".
TOKENIZER = "unicode61 remove_diacritics 2"

# Contentless: the words are indexed, the text is not stored again (it is derived from the
# properties). Writing a million items' text took a third less time, and the file is 85 MB
# smaller. Such a table forgets an entry only when told the words it was given:
# ouc_item_text(properties) gives them back from the stored properties. No column sizes:
# they serve only ranking (bm25), which item searches do not use; writing them took a quarter
# of the table's load time.
ITEMS_FTS = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS items_fts "
    f"USING fts5(text, ds, content='', columnsize=0, tokenize=\"{TOKENIZER}\");"
)
ITEMS_DELETE = """CREATE TRIGGER IF NOT EXISTS items_delete AFTER DELETE ON items BEGIN
    DELETE FROM items_rtree WHERE rid = old.rid;
    INSERT INTO items_fts(items_fts, rowid, text, ds)
        VALUES ('delete', old.rid, ouc_item_text(old.properties), old.ds);
END;"""

DATASETS_DELETE = """CREATE TRIGGER IF NOT EXISTS datasets_delete AFTER DELETE ON datasets BEGIN
    DELETE FROM items WHERE ds = old.rid;
    DELETE FROM datasets_rtree WHERE rid = old.rid;
    DELETE FROM datasets_fts WHERE rowid = old.rid;
    DELETE FROM dataset_terms WHERE rid = old.rid;
END;"""
ITEMS = """CREATE TABLE IF NOT EXISTS items (
    rid INTEGER PRIMARY KEY,
    ds INTEGER NOT NULL,
    id TEXT NOT NULL,
    run INTEGER NOT NULL,
    hash TEXT NOT NULL,
    t_start REAL, t_end REAL,
    minx REAL, miny REAL, maxx REAL, maxy REAL,
    geometry TEXT,
    properties TEXT NOT NULL,
    envelope INTEGER NOT NULL DEFAULT 0  -- 1: the geometry is its bounding box (see rows.py)
);"""

ITEM_INDEXES = (
    # an item's id is unique within its collection
    "CREATE UNIQUE INDEX IF NOT EXISTS items_id ON items(ds, id)",
    "CREATE INDEX IF NOT EXISTS items_time ON items(ds, t_start)",
    # a collection's items in row order: pages deep into a collection skip index entries only
    "CREATE INDEX IF NOT EXISTS items_ds ON items(ds)",
)
"""Indexes of the items table that a first load into an empty table builds at its end:
sorting a million rows once took 1-2 s, taking them one by one 2-5 s each."""
ITEM_INDEX_NAMES = ("items_id", "items_time", "items_ds")
DEFERRED = "item_indexes_deferred"
"""Meta key: a load into the empty items table builds ITEM_INDEXES when it ends."""

DDL = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (run INTEGER PRIMARY KEY, run_id TEXT UNIQUE NOT NULL);

CREATE TABLE IF NOT EXISTS datasets (
    rid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    run INTEGER NOT NULL,
    hash TEXT NOT NULL,
    title TEXT NOT NULL,
    kind TEXT NOT NULL,
    publisher TEXT,
    organization TEXT,
    licence TEXT,
    issued TEXT,
    modified TEXT,
    t_start REAL, t_end REAL,
    minx REAL, miny REAL, maxx REAL, maxy REAL,
    item_count INTEGER NOT NULL DEFAULT 0,
    derived TEXT NOT NULL DEFAULT '{{}}',
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS datasets_source ON datasets(source);
CREATE INDEX IF NOT EXISTS datasets_organization ON datasets(organization);
CREATE INDEX IF NOT EXISTS datasets_licence ON datasets(licence);
CREATE INDEX IF NOT EXISTS datasets_kind ON datasets(kind);
-- the orders of catalogue pages: newest first (CKAN's default), by title
CREATE INDEX IF NOT EXISTS datasets_modified ON datasets(modified);
CREATE INDEX IF NOT EXISTS datasets_title ON datasets(title);
-- the values of datasets' list fields (keywords, themes, language, format), for filters and facets
CREATE TABLE IF NOT EXISTS dataset_terms (
    rid INTEGER NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS dataset_terms_value ON dataset_terms(field, value, rid);
CREATE INDEX IF NOT EXISTS dataset_terms_rid ON dataset_terms(rid);
CREATE VIRTUAL TABLE IF NOT EXISTS datasets_fts
    USING fts5(title, description, keywords, tokenize="{TOKENIZER}");
CREATE VIRTUAL TABLE IF NOT EXISTS datasets_rtree USING rtree(rid, minx, maxx, miny, maxy);

{ITEMS}
-- ds: the item's dataset as a token, so a collection's text matches are counted by FTS alone
{ITEMS_FTS}
CREATE VIRTUAL TABLE IF NOT EXISTS items_rtree USING rtree(rid, minx, maxx, miny, maxy, mind, maxd);

{ITEMS_DELETE}
{DATASETS_DELETE}
"""

_PREDICATES = {
    "INTERSECTS": intersects,
    "DISJOINT": disjoint,
    "CONTAINS": contains,
    "WITHIN": within,
    "TOUCHES": touches,
    "CROSSES": crosses,
    "OVERLAPS": overlaps,
    "EQUALS": geom_equals,
}


def _spatial(op: str, geometry: bytes | str | None, other_wkb: bytes) -> int | None:
    """SQL function ``ouc_spatial(op, geojson, wkb)``: a spatial predicate via shapely."""
    if geometry is None:
        return None
    mine = shape(orjson.loads(geometry))
    return int(bool(_PREDICATES[op](mine, from_wkb(other_wkb))))


def connect(path: Path, *, mmap: bool = False) -> sqlite3.Connection:
    """Open a connection with the project's pragmas and SQL functions.

    ``mmap`` maps the file into memory: faster reads for a server, but a harvest would count
    every page it touched as resident memory.
    """
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
    conn.execute("PRAGMA page_size=8192")  # takes effect only when the file is created
    conn.execute("PRAGMA journal_mode=WAL")
    # checkpoint every ~80 MB of WAL instead of every 4 MB: bulk loads run 1.5x faster
    conn.execute("PRAGMA wal_autocheckpoint=10000")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=OFF")
    conn.execute("PRAGMA cache_size=-65536")
    if mmap:
        conn.execute("PRAGMA mmap_size=1073741824")
    conn.create_function("ouc_spatial", 3, _spatial, deterministic=True)
    # ouc_item_text(properties): the words an item was indexed with, from its stored properties
    conn.create_function("ouc_item_text", 1, stored_item_text, deterministic=True)
    return conn


def create(conn: sqlite3.Connection) -> None:
    conn.executescript(DDL)
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if row is None:
        conn.execute(
            "INSERT INTO meta(key, value) VALUES ('schema_version', ?), ('generation', '0')",
            (str(SCHEMA_VERSION),),
        )
        version = SCHEMA_VERSION
    else:
        version = int(row[0])
    if version == 3:
        _migrate_3_to_4(conn)
        version = 4
    if version == 4:
        _migrate_4_to_5(conn)
        version = 5
    if version == 5:
        _migrate_5_to_6(conn)
        version = 6
    if version != SCHEMA_VERSION:
        raise RuntimeError(
            f"index schema version {version} is not {SCHEMA_VERSION}: rebuild the index "
            "(delete the file and harvest again)"
        )
    _set_words_pending(conn)
    repeated = restore_item_indexes(conn, waiting=False)
    if repeated:  # a first load that died before its end had been given ids twice
        log.warning(
            "items repeating an id removed",
            extra={"count": len(repeated), "ids": [r[2] for r in repeated[:10]]},
        )
    if conn.execute("SELECT 1 FROM meta WHERE key = 'instance'").fetchone() is None:
        # names this index file for caches outside it (a new file starts at generation 0 again)
        conn.execute(
            "INSERT OR IGNORE INTO meta(key, value) VALUES ('instance', ?)", (uuid.uuid4().hex,)
        )


WORDS_PENDING_BYTES = 8 << 20
"""How much of the items' words FTS5 gathers in memory before it writes them out as a segment
(its ``hashsize``; 1 MiB unless set). A load of a million items wrote many small segments and
merged them again and again: with 8 MiB the writer's share of a 1M-point harvest took 6.6-7.2 s
instead of 7.7-8.8 s (four alternating pairs)."""


def _set_words_pending(conn: sqlite3.Connection) -> None:
    """Set :data:`WORDS_PENDING_BYTES` (kept in the file) where it is not yet; a file another
    process is writing gets it at a later opening."""
    row = conn.execute("SELECT v FROM items_fts_config WHERE k = 'hashsize'").fetchone()
    if row is not None and row[0] == WORDS_PENDING_BYTES:
        return
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        conn.execute(
            "INSERT INTO items_fts(items_fts, rank) VALUES ('hashsize', ?)", (WORDS_PENDING_BYTES,)
        )
    except sqlite3.OperationalError:
        pass  # the file is being written
    finally:
        conn.execute("PRAGMA busy_timeout = 30000")


def defer_item_indexes(conn: sqlite3.Connection) -> bool:
    """In a write transaction: when the items table is empty (a first load), drop the
    indexes a load writes slowly one row at a time; :func:`restore_item_indexes` builds them
    when it ends. While they are missing, lookups by id, searches by time and deep pages scan
    the rows loaded so far, and the load itself finds ids given twice only at its end."""
    if conn.execute("SELECT 1 FROM items LIMIT 1").fetchone() is not None:
        return False
    for name in ITEM_INDEX_NAMES:
        conn.execute(f"DROP INDEX IF EXISTS {name}")
    conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, '1')", (DEFERRED,))
    return True


def restore_item_indexes(
    conn: sqlite3.Connection, *, waiting: bool = True
) -> list[tuple[int, int, str]]:
    """Build the items' indexes where they are missing: in the caller's write transaction,
    or else in one of its own. Not ``waiting``: indexes a load in progress put off are left to
    it (the load holds the write lock; one that died left it free).

    Items loaded while the id index was missing that repeat an earlier item's id in the same
    collection are deleted first (the first one stays, as when the index was there); they are
    returned as (rid, ds, id)."""
    present = {
        row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'items'")
    }
    if set(ITEM_INDEX_NAMES) <= present:
        return []
    own = not conn.in_transaction
    if own:
        deferred = conn.execute("SELECT 1 FROM meta WHERE key = ?", (DEFERRED,)).fetchone()
        if deferred and not waiting:
            try:
                conn.execute("PRAGMA busy_timeout = 0")
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError:
                return []  # a load is under way
            finally:
                conn.execute("PRAGMA busy_timeout = 30000")
        else:
            conn.execute("BEGIN IMMEDIATE")
    try:
        repeated: list[tuple[int, int, str]] = []
        try:
            conn.execute(ITEM_INDEXES[0])
        except sqlite3.IntegrityError:  # ids given twice: rare, so looked for only then
            repeated = conn.execute(
                "SELECT rid, ds, id FROM (SELECT rid, ds, id, "
                "row_number() OVER (PARTITION BY ds, id ORDER BY rid) AS n FROM items) "
                "WHERE n > 1 ORDER BY rid"
            ).fetchall()
            conn.executemany("DELETE FROM items WHERE rid = ?", [(r[0],) for r in repeated])
            conn.execute(ITEM_INDEXES[0])
        for statement in ITEM_INDEXES[1:]:
            conn.execute(statement)
        conn.execute("DELETE FROM meta WHERE key = ?", (DEFERRED,))
        if own:
            conn.execute("COMMIT")
        return repeated
    except BaseException:
        if own and conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _migrate_3_to_4(conn: sqlite3.Connection) -> None:
    """Version 4 marks items whose geometry is their bounding box (points, rectangles) and
    holds each item's dataset in the full-text table."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        fts_columns = {r[1] for r in conn.execute("PRAGMA table_info(items_fts)")}
        if "ds" not in fts_columns:
            conn.execute("PRAGMA legacy_alter_table = ON")  # the triggers name items_fts
            conn.execute(
                f'CREATE VIRTUAL TABLE items_fts_4 USING fts5(text, ds, tokenize="{TOKENIZER}")'
            )
            conn.execute(
                "INSERT INTO items_fts_4(rowid, text, ds) "
                "SELECT f.rowid, f.text, i.ds FROM items_fts f JOIN items i ON i.rid = f.rowid"
            )
            conn.execute("DROP TABLE items_fts")
            conn.execute("ALTER TABLE items_fts_4 RENAME TO items_fts")
            conn.execute("PRAGMA legacy_alter_table = OFF")
        columns = {r[1] for r in conn.execute("PRAGMA table_info(items)")}
        if "envelope" not in columns:
            conn.execute("ALTER TABLE items ADD COLUMN envelope INTEGER NOT NULL DEFAULT 0")
            conn.execute("UPDATE items SET envelope = 1 WHERE minx = maxx AND miny = maxy")
            conn.create_function("ouc_is_envelope", 5, _is_envelope, deterministic=True)
            conn.execute(
                "UPDATE items SET envelope = ouc_is_envelope(geometry, minx, miny, maxx, maxy) "
                'WHERE minx < maxx AND miny < maxy AND geometry LIKE \'{"type":"Polygon"%\''
            )
        conn.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


@contextmanager
def _migration(conn: sqlite3.Connection, version: int) -> Iterator[bool]:
    """The transaction of a migration from ``version`` to the next: yields whether the file is
    still at ``version`` (another process may have migrated it meanwhile), then commits with
    the version bumped, or rolls back."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        current = row == (str(version),)
        yield current
        if current:
            conn.execute(
                "UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(version + 1),)
            )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _migrate_4_to_5(conn: sqlite3.Connection) -> None:
    """Version 5 keeps the items' words in a contentless full-text table. They are indexed
    anew from the items' properties (words of older versions, such as dates, are left out)."""
    with _migration(conn, 4) as current:
        if not current:
            return
        conn.execute("DROP TRIGGER IF EXISTS items_delete")
        conn.execute("DROP TABLE items_fts")
        conn.execute(ITEMS_FTS)
        conn.execute(
            "INSERT INTO items_fts(rowid, text, ds) "
            "SELECT rid, ouc_item_text(properties), ds FROM items"
        )
        conn.execute(ITEMS_DELETE)


def _migrate_5_to_6(conn: sqlite3.Connection) -> None:
    """Version 6 holds the items' unique ids in an index of its own, which a first load can
    put off, and no column sizes in the items' full-text table: both tables are written anew."""
    with _migration(conn, 5) as current:
        if not current:
            return
        conn.execute("DROP TRIGGER IF EXISTS items_delete")
        conn.execute("DROP TRIGGER IF EXISTS datasets_delete")  # both name the items table
        conn.execute("ALTER TABLE items RENAME TO items_5")
        conn.execute(ITEMS)
        conn.execute("INSERT INTO items SELECT * FROM items_5")
        conn.execute("DROP TABLE items_5")
        conn.execute("DROP TABLE items_fts")
        conn.execute(ITEMS_FTS)
        conn.execute(
            "INSERT INTO items_fts(rowid, text, ds) "
            "SELECT rid, ouc_item_text(properties), ds FROM items"
        )
        for statement in (*ITEM_INDEXES, ITEMS_DELETE, DATASETS_DELETE):
            conn.execute(statement)


def _is_envelope(geometry: str, minx: float, miny: float, maxx: float, maxy: float) -> int:
    return int(is_envelope(orjson.loads(geometry), (minx, miny, maxx, maxy)))
