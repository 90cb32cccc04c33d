"""The record model every output is generated from.

A harvest yields :class:`Dataset` records (a catalogue entry, a DCAT Dataset) and the
:class:`Item` records (features) that belong to them. Ids are stable: derived from the source
name and the source's own identifier, so a re-harvest updates a record instead of duplicating it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

BBox = tuple[float, float, float, float]
"""minx, miny, maxx, maxy in EPSG:4326 (longitude, latitude)."""

DatasetKind = Literal["geodata", "sensor", "culture"]

_UNSAFE = re.compile(r"[^a-z0-9_.-]+")


def slug(text: str) -> str:
    """Lower-case URL-safe form of ``text`` (letters, digits, ``_ . -``)."""
    folded = (
        text.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    )
    return _UNSAFE.sub("-", folded).strip("-.") or "x"


def stable_id(source_name: str, source_identifier: str) -> str:
    """The catalogue id of a dataset: source name plus the source's own identifier.

    Readable where the identifier is already URL-safe; otherwise a short hash of the raw
    identifier keeps two identifiers that fold to the same slug apart.
    """
    source = slug(source_name)
    if source_identifier == source_name:
        return source
    local = slug(source_identifier)
    if local != source_identifier:
        digest = hashlib.blake2b(source_identifier.encode(), digest_size=4).hexdigest()
        local = f"{local[:60]}-{digest}"
    return f"{source}.{local}"


def utc_now() -> str:
    """The current time as an ISO 8601 string in UTC, seconds precision."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Agent:
    """A publisher or other organisation (foaf:Agent)."""

    name: str
    url: str | None = None
    email: str | None = None
    identifier: str | None = None


@dataclass(frozen=True, slots=True)
class Contact:
    """A contact point (vcard:Kind)."""

    name: str | None = None
    email: str | None = None
    url: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class Distribution:
    """One way to get the data (dcat:Distribution)."""

    url: str
    title: str | None = None
    description: str | None = None
    media_type: str | None = None
    format: str | None = None
    licence: str | None = None
    download_url: str | None = None


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a record came from and when."""

    source_name: str
    source_type: str
    source_url: str | None
    source_identifier: str
    harvested_at: str = field(default_factory=utc_now)
    content_hash: str | None = None


@dataclass(frozen=True, slots=True)
class Dataset:
    """A catalogue entry: the metadata of one dataset."""

    id: str
    title: str
    provenance: Provenance
    description: str | None = None
    keywords: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    kind: DatasetKind = "geodata"
    publisher: Agent | None = None
    contact_point: Contact | None = None
    licence: str | None = None
    access_rights: str | None = None
    spatial: BBox | None = None
    temporal: tuple[str | None, str | None] | None = None
    issued: str | None = None
    modified: str | None = None
    language: tuple[str, ...] = ()
    landing_page: str | None = None
    distributions: tuple[Distribution, ...] = ()
    extras: dict[str, Any] = field(default_factory=dict)
    item_count: int = 0
    """Filled in by the index from the items it holds; not part of the content hash."""

    def organization(self) -> tuple[str, str] | None:
        """The organization that holds the dataset, as (URL-safe name, title): the one the
        source names (a CKAN organization), else its publisher."""
        name, title = self.extras.get("organization"), self.extras.get("organization_title")
        if name:
            return str(name), str(title or name)
        if self.publisher:
            return slug(self.publisher.name), self.publisher.name
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "keywords": list(self.keywords),
            "themes": list(self.themes),
            "kind": self.kind,
            "publisher": _plain(self.publisher),
            "contact_point": _plain(self.contact_point),
            "licence": self.licence,
            "access_rights": self.access_rights,
            "spatial": list(self.spatial) if self.spatial else None,
            "temporal": list(self.temporal) if self.temporal else None,
            "issued": self.issued,
            "modified": self.modified,
            "language": list(self.language),
            "landing_page": self.landing_page,
            "distributions": [_plain(d) for d in self.distributions],
            "extras": self.extras,
            "provenance": _plain(self.provenance),
            "item_count": self.item_count,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Dataset:
        return cls(
            id=data["id"],
            title=data["title"],
            description=data.get("description"),
            keywords=tuple(data.get("keywords") or ()),
            themes=tuple(data.get("themes") or ()),
            kind=data.get("kind") or "geodata",
            publisher=Agent(**data["publisher"]) if data.get("publisher") else None,
            contact_point=Contact(**data["contact_point"]) if data.get("contact_point") else None,
            licence=data.get("licence"),
            access_rights=data.get("access_rights"),
            spatial=tuple(data["spatial"]) if data.get("spatial") else None,  # type: ignore[arg-type]
            temporal=tuple(data["temporal"]) if data.get("temporal") else None,  # type: ignore[arg-type]
            issued=data.get("issued"),
            modified=data.get("modified"),
            language=tuple(data.get("language") or ()),
            landing_page=data.get("landing_page"),
            distributions=tuple(Distribution(**d) for d in data.get("distributions") or ()),
            extras=data.get("extras") or {},
            provenance=Provenance(**data["provenance"]),
            item_count=data.get("item_count") or 0,
        )

    def content_hash(self) -> str:
        """Hash of what the source said about the dataset (not when or how often it was read)."""
        data = self.to_dict()
        data.pop("item_count")
        prov = data.pop("provenance")
        data["source"] = [prov["source_name"], prov["source_identifier"], prov["source_url"]]
        return _digest(data)

    def with_hash(self) -> Dataset:
        return replace(self, provenance=replace(self.provenance, content_hash=self.content_hash()))


@dataclass(frozen=True, slots=True, init=False)
class Item:
    """A feature of a dataset: geometry in EPSG:4326, properties, an instant or interval."""

    id: str
    dataset_id: str
    geometry: dict[str, Any] | None
    properties: dict[str, Any]
    time_start: str | None = None
    time_end: str | None = None
    """A start and no end is an instant; both make an interval, where ``..`` is an open end."""

    def __init__(
        self,
        id: str,
        dataset_id: str,
        geometry: dict[str, Any] | None,
        properties: dict[str, Any],
        time_start: str | None = None,
        time_end: str | None = None,
    ) -> None:
        # The generated __init__ of a frozen class sets each field with object.__setattr__;
        # the slots' own setters do the same in half the time (an item is made per feature).
        _set_id(self, id)
        _set_dataset_id(self, dataset_id)
        _set_geometry(self, geometry)
        _set_properties(self, properties)
        _set_time_start(self, time_start)
        _set_time_end(self, time_end)

    def content_hash(self) -> str:
        return _digest([self.geometry, self.properties, self.time_start, self.time_end])


_set_id, _set_dataset_id, _set_geometry, _set_properties, _set_time_start, _set_time_end = (
    vars(Item)[name].__set__
    for name in ("id", "dataset_id", "geometry", "properties", "time_start", "time_end")
)


@dataclass(frozen=True, slots=True)
class Problem:
    """A record a harvester had to skip: where it was and why."""

    where: str
    reason: str


@dataclass(frozen=True, slots=True)
class Notice:
    """Something about a source worth a warning in the run report, e.g. fewer records than
    the source promised."""

    message: str
    incomplete: bool = False
    """The source was not read to its end (paging that loops, fewer records than promised, a
    part that could not be read): the run deletes none of the records it did not see."""


Record = Dataset | Item


def _digest(data: Any) -> str:
    raw = orjson.dumps(data, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    return hashlib.blake2b(raw, digest_size=12).hexdigest()


def _plain(obj: Any) -> dict[str, Any] | None:
    if obj is None:
        return None
    return {name: getattr(obj, name) for name in obj.__slots__}
