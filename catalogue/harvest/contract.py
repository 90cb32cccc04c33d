"""What a harvester is: given its source settings and an HTTP client, it yields records.

A harvester reads lazily (pages followed to the end, files streamed), yields each
:class:`~catalogue.model.Dataset` before the items that belong to it, yields a
:class:`~catalogue.model.Problem` for each record it has to skip, and raises for a source it
cannot read at all. It yields a :class:`~catalogue.model.Notice` for what the data team should
hear about, marked ``incomplete`` when the source was not read to its end (a source that
delivered fewer records than it promised, paging that loops): the run then deletes nothing.
It never writes to the index.

A source type that can list only what changed since its last successful run implements
:class:`IncrementalHarvester`: the runner gives it the source's :class:`SourceState` and it
yields :class:`Deleted` for what the source removed, since such a listing is not complete and
the runner cannot infer deletions from what is missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Protocol, runtime_checkable

import httpx
from pydantic import BaseModel, ConfigDict

from catalogue.model import Dataset, Item, Notice, Problem
from catalogue.settings import SourceSettings

if TYPE_CHECKING:
    from catalogue.harvest.state import SourceState


class Skipped:
    """Stands for ``count`` records in a row that another process reads (:class:`SharedReading`)."""

    __slots__ = ("count",)

    def __init__(self, count: int = 1) -> None:
        self.count = count

    def __repr__(self) -> str:
        return "SKIPPED" if self.count == 1 else f"Skipped({self.count})"


SKIPPED = Skipped()
"""Stands for one record another process reads."""


@dataclass(frozen=True, slots=True)
class Share:
    """Which records one of several processes sharing a reading makes: the records, numbered
    from 0, come in batches of ``batch``; process ``mine`` (of ``readers``) makes the batches
    ``mine``, ``mine + readers``, ``mine + 2 readers`` … and skips the others."""

    batch: int
    readers: int
    mine: int

    def skips(self, record: int) -> bool:
        return (record // self.batch) % self.readers != self.mine

    def run(self, record: int) -> tuple[bool, int]:
        """Whether this process makes ``record``, and how many records in a row from it on
        share that fate (to the end of its batch, or to this process's next batch)."""
        number, offset = divmod(record, self.batch)
        left = self.batch - offset
        if number % self.readers == self.mine:
            return True, left
        return False, left + ((self.mine - number) % self.readers - 1) * self.batch


@runtime_checkable
class SharedReading(Protocol):
    """A source type whose reading several processes can share: each makes only the records
    it is to send, and gives :class:`Skipped` in place of the others."""

    def shared_records(self, share: Share) -> Iterator[Dataset | Item | Problem | Notice | Skipped]:
        """The records of :meth:`records`, in the same order and as many; records ``share``
        skips may be given as :class:`Skipped`, left unmade (one :class:`Skipped` standing for
        ``count`` of them in a row); others' records may come made as well."""
        ...


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


@dataclass(frozen=True, slots=True)
class Deleted:
    """The source removed an item (or, with no ``item_id``, a whole dataset)."""

    dataset_id: str
    item_id: str | None = None


Change = Dataset | Item | Deleted | Problem | Notice


class IncrementalHarvester(Harvester, Protocol):
    """A source type that reads only what changed since the source's last successful run.

    ``state.since`` is when that run started, or None: then the harvester lists everything
    and the runner deletes, after the run, whatever the listing did not contain. With a
    ``since``, only :class:`Deleted` records delete. What the harvester keeps in ``state``
    is saved only when the run succeeds.
    """

    def changes(self, state: SourceState) -> Iterator[Change]: ...
