"""The DCAT publisher over the index: the whole catalogue (streamed), Hydra pages, one dataset,
incremental harvesting with ``modified_since``, and the validators a harvester can ask cheaply."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import quote

from pygeofilter import ast

from catalogue.dcat.graph import DCATBuilder, vocab_dir
from catalogue.dcat.iris import HYDRA, RDF, XSD
from catalogue.dcat.serialize import RDFFormat, Serializer, load_context
from catalogue.dcat.triples import Lit, Triples
from catalogue.errors import NotFoundError, QueryError
from catalogue.index import ChangeTime, Index
from catalogue.model import Dataset
from catalogue.query import MAX_OFFSET, SearchQuery, SortKey, parse_datetime
from catalogue.settings import Settings

log = logging.getLogger("catalogue.dcat")

BATCH = 500
"""Datasets read from the index at a time while streaming the whole catalogue."""


@dataclass(frozen=True, slots=True)
class Page:
    number: int
    size: int


class DCATService:
    """Everything ``/dcat`` serves; the builder and vocabularies are loaded on first use."""

    def __init__(self, settings: Settings, index: Index) -> None:
        self.settings = settings
        self.index = index
        self._builder: DCATBuilder | None = None
        self._context: dict[str, Any] | None = None
        self._lock = threading.Lock()
        self._last_modified: tuple[int, str | None] | None = None

    def warm_up(self) -> None:
        """Read the vocabularies and the JSON-LD context now, not in the first request."""
        self._load()

    @property
    def builder(self) -> DCATBuilder:
        return self._load()[0]

    def serializer(self, fmt: RDFFormat) -> Serializer:
        return Serializer(fmt, self._load()[1])

    def _load(self) -> tuple[DCATBuilder, dict[str, Any]]:
        with self._lock:
            if self._builder is None or self._context is None:
                self._builder = DCATBuilder.from_settings(self.settings)
                self._context = load_context(vocab_dir(self.settings))
            return self._builder, self._context

    # -- what is served ------------------------------------------------------------------------

    def catalogue_triples(self, modified_since: str | None, page: Page | None) -> Iterator[Triples]:
        """The catalogue node (with its Hydra page when paged), then each dataset's triples."""
        builder = self.builder
        condition = _modified_since(modified_since)
        yield builder.catalog_triples()
        if page is None:
            for dataset in self._all(condition):
                triples = self._dataset_triples(dataset)
                if triples is not None:
                    yield triples
            return
        result = self.index.search_datasets(
            SearchQuery(
                filter=condition,
                sort=(SortKey("id"),),
                limit=page.size,
                offset=(page.number - 1) * page.size,
            )
        )
        yield self._hydra(result.number_matched, page, modified_since)
        for dataset in result.records:
            triples = self._dataset_triples(dataset)
            if triples is not None:
                yield triples

    def _dataset_triples(self, dataset: Dataset) -> Triples | None:
        """One dataset's triples; a record that cannot be described is left out and logged,
        so one broken record never cuts a catalogue short."""
        try:
            return self.builder.dataset_triples(dataset)
        except Exception:
            log.exception("dataset left out of the DCAT output dataset=%s", dataset.id)
            return None

    def dataset_triples(self, dataset: Dataset) -> Triples:
        return self.builder.dataset_triples(dataset)

    def find_dataset(self, dataset_id: str) -> Dataset:
        dataset = self.index.get_dataset(dataset_id)
        if dataset is None:
            raise NotFoundError(f"no dataset {dataset_id!r}")
        return dataset

    # -- caching ----------------------------------------------------------------------------

    def etag(self, *parts: str) -> str:
        """Changes whenever the index's datasets change, and differs per URL and format."""
        raw = "|".join((str(self.index.generation()), *parts))
        return '"' + hashlib.blake2b(raw.encode(), digest_size=10).hexdigest() + '"'

    def catalogue_last_modified(self) -> str | None:
        """When the index's datasets last changed (HTTP date), cached per generation: from the
        backend when it records it (deletions count too), else the newest harvest time."""
        generation = self.index.generation()
        if self._last_modified is None or self._last_modified[0] != generation:
            if isinstance(self.index, ChangeTime) and (changed := self.index.changed_at()):
                newest: str | None = changed
            else:
                newest = max(
                    (d.provenance.harvested_at for d in self.index.iter_datasets()), default=None
                )
            self._last_modified = (generation, _http_date(newest))
        return self._last_modified[1]

    @staticmethod
    def dataset_last_modified(dataset: Dataset) -> str | None:
        return _http_date(dataset.provenance.harvested_at)

    # -- helpers ------------------------------------------------------------------------------

    def _all(self, condition: ast.Node | None) -> Iterator[Dataset]:
        offset = 0
        while True:
            batch = self.index.search_datasets(
                SearchQuery(filter=condition, sort=(SortKey("id"),), limit=BATCH, offset=offset)
            ).records
            yield from batch
            if len(batch) < BATCH:
                return
            offset += BATCH

    def _hydra(self, total: int, page: Page, modified_since: str | None) -> Triples:
        base = f"{self.builder.ctx.catalog_uri}?page_size={page.size}"
        if modified_since:
            # the value is read back from the link as a query parameter: "+" must stay "+"
            base += f"&modified_since={quote(modified_since, safe=':')}"
        last = max(1, -(-total // page.size))
        node = f"{base}&page={page.number}"
        g = Triples()
        g.add(node, RDF.type, HYDRA.PagedCollection)
        g.add(node, HYDRA.totalItems, Lit(str(total), datatype=XSD.integer))
        g.add(node, HYDRA.itemsPerPage, Lit(str(page.size), datatype=XSD.integer))
        g.add(node, HYDRA.firstPage, f"{base}&page=1")
        g.add(node, HYDRA.lastPage, f"{base}&page={last}")
        if page.number < last:
            g.add(node, HYDRA.nextPage, f"{base}&page={page.number + 1}")
        if page.number > 1:
            g.add(node, HYDRA.previousPage, f"{base}&page={page.number - 1}")
        return g


def parse_page(params: dict[str, str], default_size: int, max_size: int) -> Page | None:
    """``page`` (from 1) and ``page_size`` query parameters; no ``page``: the whole catalogue."""
    if "page" not in params and "page_size" not in params:
        return None
    try:
        number = int(params.get("page", "1"))
        size = int(params.get("page_size", str(default_size)))
    except ValueError:
        raise QueryError("page and page_size must be whole numbers") from None
    if number < 1 or size < 1:
        raise QueryError("page and page_size start at 1")
    if size > max_size:
        raise QueryError(f"page_size must be at most {max_size}")
    if (number - 1) * size > MAX_OFFSET:
        raise QueryError(f"page must be at most {MAX_OFFSET // size + 1} with page_size {size}")
    return Page(number, size)


def check_modified_since(value: str | None) -> str | None:
    if value:
        parse_datetime(value)  # raises QueryError saying what is wrong
    return value or None


def _modified_since(value: str | None) -> ast.Node | None:
    """Datasets modified at or after ``value``; those without a modification date are always
    included, since nothing says they did not change."""
    if not value:
        return None
    since = parse_datetime(value).isoformat().replace("+00:00", "Z")
    modified = ast.Attribute("modified")
    return ast.Or(
        ast.GreaterEqual(modified, since[:10] if len(value) == 10 else since),
        ast.IsNull(modified, False),
    )


def _http_date(iso: str | None) -> str | None:
    if not iso:
        return None
    try:
        return format_datetime(parse_datetime(iso), usegmt=True)
    except QueryError:
        return None


def not_modified_since(header: str | None, last_modified: str | None) -> bool:
    """Whether an ``If-Modified-Since`` header covers ``last_modified``."""
    if not header or not last_modified:
        return False
    try:
        return parsedate_to_datetime(last_modified) <= parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return False
