"""Districts: every dataset with a location is assigned the names of the city districts it lies
in, from a configured boundaries dataset (itself a harvested polygon source).

The names are stored in the dataset's extras as ``districts`` (a list, like keywords), written
through the index protocol, so every backend and every output (portal, OGC API Records, CKAN
API) can filter and count by them. A dataset with items is placed by its items' geometries, one
without items by its extent. Assignment runs after a harvest; while a source is harvested again,
the districts already assigned are carried over to its records so that an unchanged dataset
stays unchanged. A run looks again only at the datasets of sources that changed (at every
dataset when the boundaries changed) and at datasets never assigned; a dataset in no district
holds an empty list.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

import shapely
from shapely.geometry import box, shape

from catalogue.index import Index
from catalogue.model import Dataset
from catalogue.query import SearchQuery
from catalogue.settings import Settings

log = logging.getLogger("catalogue.districts")

FIELD = "districts"
PAGE = 10_000


@dataclass(frozen=True, slots=True)
class Boundaries:
    names: list[str]
    tree: shapely.STRtree

    def containing(self, geometries: list[Any]) -> set[int]:
        """Positions of the districts any of ``geometries`` intersects."""
        if not geometries:
            return set()
        _, hits = self.tree.query(geometries, predicate="intersects")
        return {int(i) for i in hits}


def load_boundaries(settings: Settings, index: Index) -> Boundaries | None:
    """The configured district polygons, or ``None`` when none are configured or harvested."""
    dataset_id = settings.portal.districts
    if not dataset_id:
        return None
    if index.get_dataset(dataset_id) is None:
        log.warning("district boundaries not harvested yet", extra={"dataset": dataset_id})
        return None
    names: list[str] = []
    polygons = []
    for item in _all_items(index, dataset_id):
        name = item.properties.get(settings.portal.district_name)
        if not item.geometry or name in (None, ""):
            continue
        try:
            polygons.append(shape(item.geometry))
        except (ValueError, TypeError, AttributeError):
            log.warning("district without a usable shape", extra={"record": item.id})
            continue
        names.append(str(name))
    if not polygons:
        return None
    return Boundaries(names, shapely.STRtree(polygons))


def carry_districts(index: Index, dataset: Dataset) -> Dataset:
    """``dataset`` as harvested, with the districts assigned to it before (re-hashed)."""
    if FIELD in dataset.extras:
        return dataset
    stored = index.get_dataset(dataset.id)
    if stored is None or FIELD not in stored.extras:
        return dataset
    return replace(dataset, extras={**dataset.extras, FIELD: stored.extras[FIELD]}).with_hash()


def districts_of(
    index: Index, dataset: Dataset, boundaries: Boundaries
) -> tuple[list[str], Dataset]:
    """The districts of a dataset, and the dataset as its source gave it: the extent and time
    the index derived from the items are taken out again, so that writing the districts does
    not turn derived values into stated ones."""
    hits: set[int] = set()
    if dataset.item_count:
        bounds: list[float] | None = None
        starts: list[str] = []
        ends: list[str] = []
        batch: list[Any] = []
        for item in _all_items(index, dataset.id):
            if item.time_start and item.time_start != "..":
                starts.append(item.time_start)
            if (item.time_end or item.time_start) not in (None, ".."):
                ends.append(item.time_end or item.time_start or "")
            if item.geometry:
                try:
                    batch.append(shape(item.geometry))
                except (ValueError, TypeError, AttributeError):
                    continue
            if len(batch) >= PAGE:
                hits |= boundaries.containing(batch)
                bounds = _grow(bounds, batch)
                batch = []
        hits |= boundaries.containing(batch)
        bounds = _grow(bounds, batch)
        if (
            dataset.spatial
            and bounds
            and all(abs(a - b) < 1e-9 for a, b in zip(dataset.spatial, bounds, strict=True))
        ):
            dataset = replace(dataset, spatial=None)
        if dataset.temporal and starts and tuple(dataset.temporal) == (min(starts), max(ends)):
            dataset = replace(dataset, temporal=None)
    elif dataset.spatial:
        hits = boundaries.containing([box(*dataset.spatial)])
    return [boundaries.names[i] for i in sorted(hits)], dataset


def _grow(bounds: list[float] | None, geometries: list[Any]) -> list[float] | None:
    if not geometries:
        return bounds
    minx, miny, maxx, maxy = (float(v) for v in shapely.total_bounds(geometries))
    if bounds is None:
        return [minx, miny, maxx, maxy]
    return [min(bounds[0], minx), min(bounds[1], miny), max(bounds[2], maxx), max(bounds[3], maxy)]


def assign_districts(
    settings: Settings, index: Index, run_id: str, sources: set[str] | None = None
) -> int:
    """Assign districts to the datasets of ``sources`` (all when ``None``); returns how many
    datasets changed."""
    boundaries = load_boundaries(settings, index)
    if boundaries is None:
        return 0
    changed: list[Dataset] = []
    for dataset in index.iter_datasets():
        if dataset.id == settings.portal.districts:
            continue
        assigned = FIELD in dataset.extras  # an empty list: assigned, in no district
        if assigned and sources is not None and dataset.provenance.source_name not in sources:
            continue
        try:
            names, stated = districts_of(index, dataset, boundaries)
        except Exception as exc:  # one dataset's odd geometry must not stop the others
            log.warning("districts not assigned", extra={"dataset": dataset.id, "error": str(exc)})
            continue
        if assigned and names == dataset.extras[FIELD]:
            continue
        extras = {**dataset.extras, FIELD: names}
        changed.append(replace(stated, extras=extras, item_count=0).with_hash())
    if changed:
        # each dataset keeps the run stamp of its source's run; this write only changes extras
        for dataset in changed:
            index.upsert([dataset], run_id=_source_run(run_id, dataset))
        index.refresh_datasets([d.id for d in changed])
        log.info("districts assigned", extra={"datasets": len(changed)})
    return len(changed)


def changed_sources(settings: Settings, reports: list[Any]) -> set[str] | None:
    """The sources whose records changed in a run (``None``: all, because the district
    boundaries themselves changed)."""
    changed = {r.name for r in reports if r.added or r.updated or r.deleted}
    wanted = settings.portal.districts or ""
    if any(wanted == name or wanted.startswith(name + ".") for name in changed):
        return None
    return changed


def _source_run(run_id: str, dataset: Dataset) -> str:
    return f"{run_id}:{dataset.provenance.source_name}"


def _all_items(index: Index, dataset_id: str) -> Any:
    offset = 0
    while True:
        page = index.search_items(dataset_id, SearchQuery(limit=PAGE, offset=offset))
        yield from page.records
        if len(page.records) < PAGE:
            return
        offset += PAGE
