"""What a harvester is: given its source settings and an HTTP client, it yields records.

A harvester reads lazily (pages followed to the end, files streamed), yields each
:class:`~catalogue.model.Dataset` before the items that belong to it, yields a
:class:`~catalogue.model.Problem` for each record it has to skip, and raises for a source it
cannot read at all. It yields a :class:`~catalogue.model.Notice` for what the data team should
hear about (a source that delivered fewer records than it promised). It never writes to the index.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar, Protocol

import httpx
from pydantic import BaseModel, ConfigDict

from catalogue.model import Dataset, Item, Notice, Problem
from catalogue.settings import SourceSettings


class HarvesterOptions(BaseModel):
    """Base for a source type's own configuration keys (unknown keys are errors)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceHarvester:
    """A convenient base for source types: keeps the source and client, validates the options.

    Subclasses set ``Options`` and write ``records()``.
    """

    Options: ClassVar[type[HarvesterOptions]] = HarvesterOptions

    def __init__(self, source: SourceSettings, client: httpx.Client) -> None:
        self.source = source
        self.client = client
        self.options = self.Options.model_validate(source.options)

    @property
    def endpoint(self) -> str:
        """The source URL without query string or trailing slash."""
        return self.source.url.split("?", 1)[0].rstrip("/")


class Harvester(Protocol):
    """A source type. Registered in the ``catalogue.harvesters`` entry-point group."""

    Options: ClassVar[type[HarvesterOptions]]

    def __init__(self, source: SourceSettings, client: httpx.Client) -> None: ...

    def records(self) -> Iterator[Dataset | Item | Problem | Notice]: ...
