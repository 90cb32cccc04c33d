"""The one-file source types' base: one dataset per file, its records the items."""

from __future__ import annotations

from typing import ClassVar

from catalogue.harvest.contract import SourceHarvester
from catalogue.harvest.metadata import configured_dataset
from catalogue.model import Dataset, Distribution
from harvesters.items import ItemOptions


class FileHarvester(SourceHarvester):
    """Base of the one-file source types: one dataset per file, its records the items."""

    Options: ClassVar[type[ItemOptions]] = ItemOptions
    options: ItemOptions
    media_type = "application/octet-stream"
    format = "FILE"
    one_file = True
    """Reads one file straight through: a large local one may be read in a second process."""

    def dataset(self) -> Dataset:
        """The file's dataset; a file on the web is also its distribution."""
        remote = self.source.url.startswith(("http://", "https://"))
        distribution = Distribution(
            url=self.source.url,
            title=self.source.title,
            media_type=self.media_type,
            format=self.format,
        )
        return configured_dataset(self.source, distributions=(distribution,) if remote else ())
