"""OAI-PMH repositories of cultural collections: ``ListRecords`` in Dublin Core (``oai_dc``),
LIDO or EDM, read with sickle over the harvest's own HTTP client.

sickle follows the resumption tokens and turns OAI-PMH errors into exceptions; it is given a
subclass whose one I/O method fetches with the run's ``httpx.Client`` (timeouts, retries, the
catalogue's User-Agent) and parses with the project's safe XML parser instead of ``requests``
and sickle's own lenient parser. Each configured set (or the whole repository) is a dataset.
Runs after the first ask only for what changed (``from=``, the server's clock at the start of
the last successful run); deleted-record headers delete items.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any, ClassVar, Literal

import httpx
from sickle import Sickle, oaiexceptions
from sickle.app import DEFAULT_CLASS_MAP
from sickle.iterator import OAIItemIterator

from catalogue.errors import HarvestError
from catalogue.harvest.contract import Change, Deleted, HarvesterOptions, SourceHarvester
from catalogue.harvest.metadata import configured_dataset
from catalogue.harvest.state import SourceState
from catalogue.model import Dataset, Notice, Problem
from harvesters.culture import CulturalObject, clean, item_id
from harvesters.dublin_core import read_dublin_core
from harvesters.edm import read_edm
from harvesters.lido import read_lido
from harvesters.safexml import parse_xml

log = logging.getLogger("harvesters.oaipmh")

OAI = "http://www.openarchives.org/OAI/2.0/"
# sickle's OAI-PMH error classes share no base class but Exception
OAI_ERRORS = tuple(
    e
    for e in vars(oaiexceptions).values()
    if isinstance(e, type) and issubclass(e, Exception) and e is not oaiexceptions.NoRecordsMatch
)
READERS: dict[str, Callable[[Any, str | None], CulturalObject]] = {
    "oai_dc": read_dublin_core,
    "lido": read_lido,
    "edm": read_edm,
}


class OAIPMHOptions(HarvesterOptions):
    metadata_format: Literal["oai_dc", "lido", "edm"] = "oai_dc"
    """How the records are described, and so how they are read."""
    metadata_prefix: str | None = None
    """The repository's prefix for that format, where it differs (e.g. ``rdf`` or
    ``europeana_edm`` for EDM); default: the format's name."""
    sets: tuple[str, ...] = ()
    """Harvest these sets (``setSpec``), each as its own dataset (default: the whole
    repository as one dataset)."""
    granularity: Literal["seconds", "day"] = "seconds"
    """How precisely the repository takes ``from=`` (its Identify answer says)."""
    prefer_language: str | None = None
    """Preferred language of titles and descriptions given in several (e.g. ``de``)."""


class OAIPMHHarvester(SourceHarvester):
    """The records of an OAI-PMH repository (or of some of its sets) as cultural objects."""

    Options: ClassVar[type[OAIPMHOptions]] = OAIPMHOptions
    options: OAIPMHOptions

    def records(self) -> Iterator[Change]:
        """Everything (a complete listing; the runner deletes what vanished)."""
        client = _HttpxSickle(self.endpoint, self.client, lambda date: None)
        for dataset, spec in self._datasets(client):
            yield dataset
            yield from self._records(client, dataset, spec, None)

    def changes(self, state: SourceState) -> Iterator[Change]:
        """What changed since the last successful run; a set listed for the first time (added
        to ``sets`` since) is listed whole, a dataset no longer configured is deleted."""
        since = state.since
        if since is not None and self.options.granularity == "day":
            since = since[:10]

        def remember(response_date: str | None) -> None:
            if response_date and state.next_since is None:
                state.next_since = response_date

        client = _HttpxSickle(self.endpoint, self.client, remember)
        known: list[str] | None = state.get("datasets")
        listed: list[str] = []
        for dataset, spec in self._datasets(client):
            yield dataset
            first_time = known is not None and dataset.id not in known
            yield from self._records(client, dataset, spec, None if first_time else since)
            listed.append(dataset.id)
        for gone in sorted(set(known or ()) - set(listed)):
            yield Deleted(gone)
        state.put("datasets", listed)

    def _datasets(self, client: _HttpxSickle) -> Iterator[tuple[Dataset, str | None]]:
        names = self._set_names(client) if self.options.sets else {}
        for spec in self.options.sets or (None,):
            yield self._dataset(spec, names.get(spec) if spec else None), spec

    def _dataset(self, spec: str | None, name: str | None) -> Dataset:
        title = self.source.title or self.source.name
        if spec is None:
            return configured_dataset(self.source, kind="culture")
        return configured_dataset(
            self.source,
            identifier=spec,
            kind="culture",
            title=f"{title}: {name or spec}",
        )

    def _set_names(self, client: _HttpxSickle) -> dict[str, str]:
        try:
            return {
                s.setSpec: clean(getattr(s, "setName", None)) or s.setSpec
                for s in client.ListSets()
            }
        except OAI_ERRORS as exc:
            log.warning(
                "no set names", extra={"source": self.source.name, "error": type(exc).__name__}
            )
            return {}

    def _records(
        self, client: _HttpxSickle, dataset: Dataset, spec: str | None, since: str | None
    ) -> Iterator[Change]:
        params: dict[str, Any] = {
            "metadataPrefix": self.options.metadata_prefix or self.options.metadata_format,
        }
        if spec:
            params["set"] = spec
        if since:
            params["from"] = since
        read = READERS[self.options.metadata_format]
        try:
            listing = client.ListRecords(**params)
        except oaiexceptions.NoRecordsMatch:
            return
        except OAI_ERRORS as exc:
            raise HarvestError(
                f"{self.endpoint}: the repository reports {_describe(exc)}"
            ) from None
        promised: int | None = None
        received = 0
        while True:
            try:
                record = next(listing)
            except StopIteration:
                break
            except OAI_ERRORS as exc:
                raise HarvestError(
                    f"{self.endpoint}: the repository reports {_describe(exc)}"
                ) from None
            received += 1
            token = listing.resumption_token
            if promised is None and token is not None and token.complete_list_size:
                try:
                    promised = int(token.complete_list_size)
                except ValueError:
                    pass
            yield from self._record(record, received, dataset.id, read)
        if promised is not None and received < promised:
            yield Notice(
                f"{dataset.id}: the repository promised {promised} records "
                f"and delivered {received}",
                incomplete=True,
            )

    def _record(
        self,
        record: _Record,
        position: int,
        dataset_id: str,
        read: Callable[[Any, str | None], CulturalObject],
    ) -> Iterator[Change]:
        if record.identifier is None:
            yield Problem(f"record {position}", "no header identifier")
            return
        where = f"record {position} ({record.identifier})"
        if record.deleted:
            yield Deleted(dataset_id, item_id(record.identifier))
            return
        if record.metadata is None:
            yield Problem(where, "no metadata")
            return
        try:
            found = read(record.metadata, self.options.prefer_language)
            item = found.item(dataset_id, record.identifier)
        except (ValueError, TypeError, AttributeError) as exc:
            yield Problem(where, str(exc))
            return
        yield item


class _Record:
    """A ``ListRecords`` record as sickle's iterator hands it over: its header read, its
    metadata left as the element (a format reader maps it)."""

    def __init__(self, element: Any) -> None:
        header = element.find(f"{{{OAI}}}header")
        self.identifier = (
            clean(header.findtext(f"{{{OAI}}}identifier")) if header is not None else None
        )
        self.deleted = header is not None and header.get("status") == "deleted"
        metadata = element.find(f"{{{OAI}}}metadata")
        self.metadata = (
            next((c for c in metadata if isinstance(c.tag, str)), None)
            if metadata is not None
            else None
        )


class _Response:
    """What sickle expects of a response: the parsed document (parsed once, safely)."""

    def __init__(self, http_response: httpx.Response, params: dict[str, Any], xml: Any) -> None:
        self.http_response = http_response
        self.params = params
        self.xml = xml

    @property
    def raw(self) -> str:
        return self.http_response.text


class _HttpxSickle(Sickle):  # type: ignore[misc]
    """sickle with its one I/O method over the harvest's httpx client and safe XML parsing."""

    def __init__(
        self, endpoint: str, client: httpx.Client, clock: Callable[[str | None], None]
    ) -> None:
        super().__init__(
            endpoint,
            iterator=OAIItemIterator,
            class_mapping={**DEFAULT_CLASS_MAP, "ListRecords": _Record},
        )
        self.client = client
        self.clock = clock
        self.tokens: set[str] = set()

    def harvest(self, **kwargs: Any) -> _Response:
        token = kwargs.get("resumptionToken")
        if token is not None:
            if token in self.tokens:
                raise HarvestError(f"{self.endpoint}: the resumption token {token!r} repeats")
            self.tokens.add(token)
        response = self.client.get(self.endpoint, params=kwargs)
        if response.status_code >= 400:
            raise HarvestError(f"HTTP {response.status_code} from {response.request.url}")
        xml = parse_xml(response.content, str(response.request.url))
        if xml.tag != f"{{{OAI}}}OAI-PMH":
            raise HarvestError(f"{response.request.url}: not an OAI-PMH answer ({xml.tag})")
        if kwargs.get("verb") == "ListRecords":
            self.clock(clean(xml.findtext(f"{{{OAI}}}responseDate")))
        return _Response(response, kwargs, xml)


def _describe(exc: Exception) -> str:
    message = str(exc).strip()
    return f"{type(exc).__name__}" + (f": {message}" if message else "")
