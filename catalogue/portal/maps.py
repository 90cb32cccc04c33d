"""What the portal's maps show, as GeoJSON embedded in the page (the map script reads it; the
page never asks a third party for anything)."""

from __future__ import annotations

from typing import Any

from catalogue.model import BBox, Dataset, Item

# a dataset page shows at most this many items on its map (clustered)
MAX_MAP_ITEMS = 2000


def extent_feature(dataset: Dataset, box: BBox, href: str) -> dict[str, Any]:
    """A dataset's extent as a polygon (a point when the box has no area)."""
    minx, miny, maxx, maxy = box
    if minx == maxx and miny == maxy:
        geometry: dict[str, Any] = {"type": "Point", "coordinates": [minx, miny]}
    else:
        ring = [[minx, miny], [maxx, miny], [maxx, maxy], [minx, maxy], [minx, miny]]
        geometry = {"type": "Polygon", "coordinates": [ring]}
    return {
        "type": "Feature",
        "geometry": geometry,
        "properties": {"title": dataset.title, "href": href},
    }


def dataset_extents(datasets: list[Dataset]) -> dict[str, Any]:
    features = []
    for dataset in datasets:
        if dataset.spatial:
            features.append(extent_feature(dataset, dataset.spatial, f"/datasets/{dataset.id}"))
    return {"type": "FeatureCollection", "features": features}


def item_features(items: list[Item], title_of: Any) -> dict[str, Any]:
    features = [
        {
            "type": "Feature",
            "geometry": item.geometry,
            "properties": {
                "title": title_of(item),
                "href": f"/datasets/{item.dataset_id}/items/{item.id}",
            },
        }
        for item in items
        if item.geometry
    ]
    return {"type": "FeatureCollection", "features": features}
