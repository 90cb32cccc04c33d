"""Stable ids and content hashes of the record model."""

from __future__ import annotations

from catalogue.model import Dataset, Item, Provenance, stable_id


def test_ids_are_stable_readable_and_do_not_collide() -> None:
    assert stable_id("stadtbezirke", "stadtbezirke") == "stadtbezirke"
    assert stable_id("Open.NRW", "baumkataster-2024") == "open.nrw.baumkataster-2024"
    assert stable_id("ckan", "Bäume/Straße") == stable_id("ckan", "Bäume/Straße")
    # two identifiers that fold to the same slug stay apart
    assert stable_id("ckan", "a b") != stable_id("ckan", "a/b")
    assert stable_id("ckan", "a b").startswith("ckan.a-b-")


def test_dataset_hash_ignores_harvest_time_but_not_content() -> None:
    def make(title: str, when: str) -> Dataset:
        return Dataset(id="d", title=title, provenance=Provenance("s", "csv", None, "d", when))

    assert (
        make("A", "2024-01-01T00:00:00Z").content_hash()
        == make("A", "2025-01-01T00:00:00Z").content_hash()
    )
    assert (
        make("A", "2024-01-01T00:00:00Z").content_hash()
        != make("B", "2024-01-01T00:00:00Z").content_hash()
    )
    roundtrip = Dataset.from_dict(make("A", "x").to_dict())
    assert roundtrip == make("A", "x")


def test_item_hash_covers_geometry_properties_and_time() -> None:
    base = Item(
        "1", "d", {"type": "Point", "coordinates": [1.0, 2.0]}, {"a": 1}, "2024-01-01T00:00:00Z"
    )
    moved = Item(
        "1", "d", {"type": "Point", "coordinates": [1.0, 2.5]}, {"a": 1}, "2024-01-01T00:00:00Z"
    )
    later = Item("1", "d", base.geometry, {"a": 1}, "2024-01-02T00:00:00Z")
    assert len({base.content_hash(), moved.content_hash(), later.content_hash()}) == 3
