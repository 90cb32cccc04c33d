"""GeoJSON files: a FeatureCollection (streamed with ijson) or newline-delimited features
(GeoJSON Text Sequences / GeoJSONL). Each file is one dataset; its features are the items."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any, ClassVar, Literal, cast

import ijson
import orjson

from catalogue.harvest.contract import SKIPPED, Share, Skipped
from catalogue.model import Dataset, Item, Problem
from harvesters.files import open_source
from harvesters.filesource import FileHarvester
from harvesters.items import ItemOptions, feature_item, transformer
from harvesters.jsonstream import TooDeep, members

SEQUENCE_SUFFIXES = (".ndjson", ".geojsonl", ".geojsonseq", ".jsonl", ".geojsons")


class GeoJSONOptions(ItemOptions):
    format: Literal["auto", "collection", "sequence"] = "auto"
    """``auto`` decides by the file name, then by the first line."""


class GeoJSONHarvester(FileHarvester):
    """One dataset per file; every feature an item."""

    Options: ClassVar[type[GeoJSONOptions]] = GeoJSONOptions
    options: GeoJSONOptions
    media_type = "application/geo+json"
    format = "GEOJSON"

    def records(self) -> Iterator[Dataset | Item | Problem]:
        return cast("Iterator[Dataset | Item | Problem]", self._records(None))

    def shared_records(self, share: Share) -> Iterator[Dataset | Item | Problem | Skipped]:
        """The dataset, then a record per feature (its number is the feature's)."""
        return self._records(share)

    def _records(self, share: Share | None) -> Iterator[Dataset | Item | Problem | Skipped]:
        dataset = self.dataset()
        yield dataset
        to_wgs84 = transformer(self.options.crs)
        with open_source(self.source.url, self.client) as stream:
            dataset_id, options = dataset.id, self.options
            for position, feature in self._features(stream, share):
                if type(feature) is Skipped:
                    yield feature
                elif type(feature) is _Broken:
                    yield Problem(f"feature {position}", feature.reason)
                else:
                    yield feature_item(dataset_id, position, feature, options, to_wgs84)

    def _features(self, stream: IO[bytes], share: Share | None) -> Iterator[tuple[int, Any]]:
        """Each feature with its position (line or member number); a :class:`Skipped` for
        features ``share`` skips where the reading left them unbuilt (the n-th feature is
        record n: the dataset is record 0), its position that of the first of them. Features
        another process sends may come built; they are not sent from here."""
        if self._is_sequence(stream):
            number = 0
            for line_no, line in enumerate(stream, start=1):
                line = line.strip().lstrip(b"\x1e")
                if not line:
                    continue
                number += 1
                if share is not None and share.skips(number):
                    yield line_no, SKIPPED
                    continue
                try:
                    yield line_no, orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    yield line_no, _Broken(f"invalid JSON: {exc}")
            return
        runs = None if share is None else (lambda member: share.run(member + 1))
        position = 1
        try:
            for feature in members(stream, "features.item", runs=runs):
                if type(feature) is Skipped:
                    yield position, feature
                    position += feature.count
                    continue
                if isinstance(feature, TooDeep):
                    yield position, _Broken(feature.reason)
                else:
                    yield position, feature
                position += 1
        except ijson.JSONError as exc:
            from catalogue.errors import HarvestError

            raise HarvestError(f"{self.source.url}: invalid GeoJSON: {exc}") from None

    def _is_sequence(self, stream: IO[bytes]) -> bool:
        fmt = self.options.format
        if fmt != "auto":
            return fmt == "sequence"
        if self.source.url.lower().endswith(SEQUENCE_SUFFIXES):
            return True
        head = stream.peek(1 << 16)[: 1 << 16] if hasattr(stream, "peek") else b""
        first = head.split(b"\n", 1)[0].strip().lstrip(b"\xef\xbb\xbf\x1e")
        try:
            value = orjson.loads(first)
        except orjson.JSONDecodeError:
            return False
        return isinstance(value, dict) and value.get("type") == "Feature"


class _Broken:
    """A feature that could not be read (a line that was not JSON, nesting too deep)."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason
