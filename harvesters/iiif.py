"""IIIF Presentation manifests and collections (API 2 and 3) as cultural objects.

The source URL is a collection (followed, with its sub-collections, to its manifests: one
dataset, one item per manifest) or a single manifest (a dataset of one item). Each manifest
gives its label, summary, metadata pairs, rights, required statement, thumbnail, provider and
homepage; metadata pairs with familiar labels (Creator, Date, Medium, Subject …) fill the
object's fields.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar

import orjson
from pydantic import Field

from catalogue.errors import HarvestError
from catalogue.harvest.contract import Change, HarvesterOptions, SourceHarvester
from catalogue.harvest.metadata import configured_dataset
from catalogue.model import Dataset, Notice, Problem
from harvesters.culture import CulturalObject, clean, is_url

FIELDS = {
    "creators": ("creator", "artist", "author", "people", "maker", "contributor", "künstler"),
    "date": ("date", "date statement", "datierung", "created", "period"),
    "materials": ("medium", "material", "materials", "technique", "material/technik"),
    "object_type": ("type", "object type", "classification", "objektart", "genre"),
    "subjects": ("subject", "subjects", "schlagwort", "keywords"),
    "institution": ("holding institution", "repository", "institution", "museum"),
}
_TAG = re.compile(r"<[^>]+>")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([,.;:!?])")


class IIIFOptions(HarvesterOptions):
    prefer_language: str | None = None
    """Preferred language of labels given in several (e.g. ``de``)."""
    max_depth: int = Field(5, ge=0, le=50)
    """How deep nested collections are followed."""
    max_manifests: int | None = Field(None, ge=1)
    """Stop after this many manifests (default: all)."""


class IIIFHarvester(SourceHarvester):
    """A IIIF collection (or manifest) as a dataset of cultural objects."""

    Options: ClassVar[type[IIIFOptions]] = IIIFOptions
    options: IIIFOptions

    manifests = 0
    unread = 0
    """Manifests and collections listed but not read (an HTTP error, not JSON …)."""

    def records(self) -> Iterator[Change]:
        self.manifests = self.unread = 0
        document = self._get(self.source.url)
        kind = _type(document)
        if kind == "Manifest":
            yield configured_dataset(self.source, kind="culture")
            yield from self._manifest(document, self.source.name, 1)
            return
        if kind != "Collection":
            raise HarvestError(f"{self.source.url}: neither a IIIF collection nor a manifest")
        dataset = configured_dataset(
            self.source,
            kind="culture",
            title=self.source.title or self._text(document.get("label")) or self.source.name,
            description=self.source.description
            or self._text(document.get("summary") or document.get("description")),
        )
        yield dataset
        yield from self._collection(document, dataset, 0, {_id(document)})
        if self.unread:
            # their records stay as they were rather than vanish with a passing fault
            yield Notice(
                f"{self.unread} of the documents the collection lists could not be read",
                incomplete=True,
            )

    def _collection(
        self, collection: dict[str, Any], dataset: Dataset, depth: int, seen: set[str | None]
    ) -> Iterator[Change]:
        for member in _members(collection):
            ref = _id(member)
            if ref in seen:
                yield Notice(f"{ref} is listed twice or contains itself; followed once")
                continue
            seen.add(ref)
            if _type(member) == "Collection":
                if depth >= self.options.max_depth:
                    yield Notice(f"collection {ref} is nested deeper than max_depth; left out")
                    continue
                try:
                    yield from self._collection(self._get(str(ref)), dataset, depth + 1, seen)
                except HarvestError as exc:
                    self.unread += 1
                    yield Problem(f"collection {ref}", exc.user_message)
                continue
            self.manifests += 1
            count = self.manifests
            if self.options.max_manifests and count > self.options.max_manifests:
                return
            if not ref or not is_url(ref):
                yield Problem(f"manifest {count}", "no id")
                continue
            try:
                manifest = member if _has_content(member) else self._get(ref)
            except HarvestError as exc:
                self.unread += 1
                yield Problem(f"manifest {ref}", exc.user_message)
                continue
            yield from self._manifest(manifest, dataset.id, count)

    def _manifest(
        self, manifest: dict[str, Any], dataset_id: str, position: int
    ) -> Iterator[Change]:
        ref = _id(manifest)
        where = f"manifest {position} ({ref})"
        if _type(manifest) != "Manifest" or not ref:
            yield Problem(where, "not a IIIF manifest")
            return
        try:
            found = self._object(manifest)
            yield found.item(dataset_id, ref)
        except (ValueError, TypeError, AttributeError) as exc:
            yield Problem(where, str(exc))

    def _object(self, manifest: dict[str, Any]) -> CulturalObject:
        pairs = [
            (self._text(p.get("label")), self._texts(p.get("value")))
            for p in manifest.get("metadata") or ()
            if isinstance(p, dict)
        ]
        by_field: dict[str, list[str]] = {}
        for label, values in pairs:
            for name, labels in FIELDS.items():
                if label and label.lower() in labels:
                    by_field.setdefault(name, []).extend(values)
        required = manifest.get("requiredStatement")
        statement = None
        if isinstance(required, dict):
            statement = ": ".join(
                t
                for t in (self._text(required.get("label")), self._text(required.get("value")))
                if t
            )
        elif manifest.get("attribution"):
            statement = self._text(manifest.get("attribution"))
        providers = manifest.get("provider") or ()
        provider = self._text(providers[0].get("label")) if providers else None
        return CulturalObject(
            title=self._text(manifest.get("label")),
            description=self._text(manifest.get("summary") or manifest.get("description")),
            creators=by_field.get("creators", []),
            date=_first(by_field.get("date")),
            object_type=_first(by_field.get("object_type")),
            materials=by_field.get("materials", []),
            institution=_first(by_field.get("institution"))
            or provider
            or (self._text(manifest.get("attribution")) if "@context" in manifest else None),
            rights=_first_url(manifest.get("rights") or manifest.get("license")),
            subjects=by_field.get("subjects", []),
            record_url=_homepage(manifest),
            thumbnail=_first_url(manifest.get("thumbnail")),
            iiif_manifest=_id(manifest),
            extra={
                "metadata": [
                    {"label": label, "value": "; ".join(v)} for label, v in pairs if label
                ],
                "required_statement": statement or None,
                "provider": provider,
            },
        )

    def _text(self, value: Any) -> str | None:
        texts = self._texts(value)
        return texts[0] if texts else None

    def _texts(self, value: Any) -> list[str]:
        """The texts of a IIIF value: a string, a list, a v2 ``@value``/``@language`` object or
        a v3 language map (the preferred language first)."""
        if value is None:
            return []
        if isinstance(value, str):
            # IIIF allows a little HTML in values; tags become spaces, not glued words
            text = clean(_SPACE_BEFORE_PUNCTUATION.sub(r"\1", _TAG.sub(" ", value)))
            return [text] if text else []
        if isinstance(value, list):
            return [t for v in value for t in self._texts(v)]
        if isinstance(value, dict):
            if "@value" in value:
                return self._texts(value["@value"])
            language = self.options.prefer_language
            keys = sorted(value, key=lambda k: not (language and k.startswith(language)))
            for key in keys:
                texts = self._texts(value[key])
                if texts:
                    return texts
        return []

    def _get(self, url: str) -> dict[str, Any]:
        response = self.client.get(url, headers={"Accept": "application/ld+json, application/json"})
        if response.status_code >= 400:
            raise HarvestError(f"HTTP {response.status_code} from {response.request.url}")
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise HarvestError(f"{response.request.url}: invalid JSON: {exc}") from None
        if not isinstance(body, dict):
            raise HarvestError(f"{response.request.url}: the answer is not a JSON object")
        return body


def _first(values: list[str] | None) -> str | None:
    return values[0] if values else None


def _type(document: dict[str, Any]) -> str | None:
    kind = document.get("type") or document.get("@type")
    if not isinstance(kind, str):
        return None
    return kind.split(":")[-1]


def _id(document: dict[str, Any]) -> str | None:
    value = document.get("id") or document.get("@id")
    return str(value) if value else None


def _members(collection: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for key in ("items", "members", "collections", "manifests"):
        for member in collection.get(key) or ():
            if isinstance(member, dict):
                yield member
            elif isinstance(member, str):
                yield {"id": member, "type": "Manifest"}


def _has_content(member: dict[str, Any]) -> bool:
    """Whether a collection embeds the whole manifest (rare) rather than a reference."""
    return bool(member.get("items") or member.get("sequences") or member.get("metadata"))


def _first_url(value: Any) -> str | None:
    if isinstance(value, str):
        return value if is_url(value) else None
    if isinstance(value, list):
        return next((u for u in (_first_url(v) for v in value) if u), None)
    if isinstance(value, dict):
        return _first_url(value.get("id") or value.get("@id"))
    return None


def _homepage(manifest: dict[str, Any]) -> str | None:
    for key in ("homepage", "rendering", "related"):
        links = manifest.get(key)
        for link in links if isinstance(links, list) else [links]:
            if isinstance(link, str) and is_url(link):
                return link
            if isinstance(link, dict) and link.get("format", "text/html") == "text/html":
                url = _first_url(link)
                if url:
                    return url
    return None
