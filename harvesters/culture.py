"""Cultural objects, whatever format described them (Dublin Core, LIDO, EDM, IIIF): the item
properties users search and see, rights statements as URIs, dates and periods as intervals."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from catalogue.model import Item, slug


@dataclass(slots=True)
class CulturalObject:
    """What the catalogue shows of a cultural object."""

    title: str | None = None
    description: str | None = None
    creators: list[str] = field(default_factory=list)
    date: str | None = None
    """The date or period as the source gives it (display text)."""
    period: tuple[str, str] | None = None
    """The date or period as an interval (ISO dates), when the source gives it separately."""
    object_type: str | None = None
    materials: list[str] = field(default_factory=list)
    institution: str | None = None
    rights: str | None = None
    subjects: list[str] = field(default_factory=list)
    record_url: str | None = None
    thumbnail: str | None = None
    iiif_manifest: str | None = None
    point: tuple[float, float] | None = None
    """(longitude, latitude) in WGS 84."""
    extra: dict[str, Any] = field(default_factory=dict)

    def item(self, dataset_id: str, identifier: str) -> Item:
        """The object as an item; raises ``ValueError`` when it has no title."""
        if not self.title:
            raise ValueError("no title")
        interval = self.period or period_of(self.date)
        return Item(
            id=item_id(identifier),
            dataset_id=dataset_id,
            geometry={"type": "Point", "coordinates": list(self.point)} if self.point else None,
            properties={
                "title": self.title,
                "description": self.description,
                "creators": _unique(self.creators),
                "date": self.date,
                "object_type": self.object_type,
                "materials": _unique(self.materials),
                "institution": self.institution,
                "rights": normalize_rights(self.rights),
                "subjects": _unique(self.subjects),
                "record_url": self.record_url,
                "thumbnail": self.thumbnail,
                "iiif_manifest": self.iiif_manifest,
                "identifier": identifier,
                **self.extra,
            },
            time_start=f"{interval[0]}T00:00:00Z" if interval else None,
            time_end=f"{interval[1]}T23:59:59Z" if interval else None,
        )


_SAFE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,120}$")


def item_id(identifier: str) -> str:
    """An item id usable in a URL path: the identifier itself where it is, else a readable
    form with a short hash (``http://…/item/1/x`` has slashes)."""
    if _SAFE_ID.match(identifier):
        return identifier
    digest = hashlib.blake2b(identifier.encode(), digest_size=5).hexdigest()
    readable = slug(identifier.split("://", 1)[-1])[-60:].strip("-.")
    return f"{readable}-{digest}"


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v for v in (clean(x) for x in values) if v))


def clean(text: Any) -> str | None:
    """Text with its white space folded; None for empty."""
    if text is None:
        return None
    folded = " ".join(str(text).split())
    return folded or None


# rights ---------------------------------------------------------------------------------
_RIGHTS_URI = re.compile(r"rightsstatements\.org/(?:vocab|page)/([A-Za-z-]+)/([0-9.]+)", re.I)
_CC_URI = re.compile(
    r"creativecommons\.org/(licenses/[a-z-]+/[0-9.]+|publicdomain/(?:zero|mark)/1\.0)", re.I
)
_CC_TEXT = re.compile(r"\bCC[\s-]*(BY(?:[\s-]+(?:NC|ND|SA))*)\b", re.I)
_CC_VERSION = re.compile(r"\b([1-4]\.0)\b")
_CC0_TEXT = re.compile(r"\bCC[\s-]*0\b|\bCC[\s-]*zero\b|public domain dedication", re.I)
_PDM_TEXT = re.compile(r"public domain mark|\bPDM\b|gemeinfrei|public domain", re.I)
_STATEMENTS = {
    "incopyright": "InC",
    "in copyright": "InC",
    "urheberrechtsschutz": "InC",
    "no copyright - united states": "NoC-US",
    "copyright not evaluated": "CNE",
    "copyright undetermined": "UND",
    "no known copyright": "NKC",
    "lizenzen/rv-fz": "InC",  # Deutsche Digitale Bibliothek: Rechte vorbehalten, freier Zugang
}


def normalize_rights(value: str | None) -> str | None:
    """A rights statement as a rightsstatements.org or Creative Commons URI where the text or
    URI is recognizable; otherwise the text as given."""
    text = clean(value)
    if text is None:
        return None
    if found := _RIGHTS_URI.search(text):
        return f"http://rightsstatements.org/vocab/{found.group(1)}/{found.group(2)}/"
    if found := _CC_URI.search(text):
        return f"http://creativecommons.org/{found.group(1).lower()}/"
    if found := _CC_TEXT.search(text):
        kind = "-".join(re.split(r"[\s-]+", found.group(1).lower()))
        version = _CC_VERSION.search(text, found.end())
        return f"http://creativecommons.org/licenses/{kind}/{version[1] if version else '4.0'}/"
    if _CC0_TEXT.search(text):
        return "http://creativecommons.org/publicdomain/zero/1.0/"
    if _PDM_TEXT.search(text):
        return "http://creativecommons.org/publicdomain/mark/1.0/"
    lowered = text.lower()
    for phrase, code in _STATEMENTS.items():
        if phrase in lowered:
            return f"http://rightsstatements.org/vocab/{code}/1.0/"
    return text


# dates ----------------------------------------------------------------------------------
_YEAR = r"(\d{3,4})"
_ISO_DAY = re.compile(r"^(\d{4})-(\d\d)-(\d\d)")
_GERMAN_DAY = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_RANGE = re.compile(rf"^(?:ca\.?|um|circa|c\.)?\s*{_YEAR}\s*(?:-|–|/|bis|to)\s*{_YEAR}$", re.I)
_SINGLE = re.compile(rf"^(?:ca\.?|um|circa|c\.)?\s*{_YEAR}$", re.I)
_CENTURY = re.compile(
    r"^(\d{1,2})\.\s*(?:Jahrhundert|Jh\.?)$|^(\d{1,2})(?:st|nd|rd|th) century$", re.I
)


def period_of(text: str | None) -> tuple[str, str] | None:
    """A date or period given as text (``1942``, ``1665 - 1665``, ``10.03.1869``,
    ``1869-03-10``, ``ca. 1480``, ``1477/1482``, ``16. Jahrhundert``) as (first day, last day);
    None when it cannot be read."""
    value = clean(text)
    if value is None:
        return None
    value = value.strip("[]()? ")  # cataloguers bracket inferred dates: [1787], (1942?)
    try:
        if found := _ISO_DAY.match(value):
            day = date(int(found.group(1)), int(found.group(2)), int(found.group(3))).isoformat()
            if "/" in value:
                other = period_of(value.split("/", 1)[1])
                return (day, other[1]) if other else (day, day)
            return day, day
        if found := _GERMAN_DAY.match(value):
            day = date(int(found.group(3)), int(found.group(2)), int(found.group(1))).isoformat()
            return day, day
    except ValueError:
        return None
    if found := _RANGE.match(value):
        first, last = int(found.group(1)), int(found.group(2))
        return (_first(first), _last(last)) if first <= last else None
    if found := _SINGLE.match(value):
        return _first(int(found.group(1))), _last(int(found.group(1)))
    if found := _CENTURY.match(value):
        century = int(found.group(1) or found.group(2))
        return _first((century - 1) * 100 + 1), _last(century * 100)
    return None


def years(first: str | None, last: str | None) -> tuple[str, str] | None:
    """An interval from an earliest and latest date (a year or an ISO date)."""
    start, end = period_of(first), period_of(last or first)
    if start is None or end is None or start[0] > end[1]:
        return None
    return start[0], end[1]


def _first(year: int) -> str:
    return f"{year:04d}-01-01"


def _last(year: int) -> str:
    return f"{year:04d}-12-31"


# links ----------------------------------------------------------------------------------
_IMAGE = re.compile(r"\.(jpe?g|png|gif|tiff?|webp)(\?.*)?$", re.I)


def is_url(text: str | None) -> bool:
    return bool(text) and str(text).startswith(("http://", "https://"))


def looks_like_image(url: str) -> bool:
    return bool(_IMAGE.search(url))


def looks_like_manifest(url: str) -> bool:
    lowered = url.lower()
    return "iiif" in lowered and "manifest" in lowered


def pick_language(values: list[tuple[str | None, str]], language: str | None) -> str | None:
    """From (language, text) pairs, the first in ``language`` (a prefix: ``en`` matches
    ``en-GB``), else the first."""
    texts = [(lang, clean(t)) for lang, t in values]
    texts = [(lang, t) for lang, t in texts if t]
    if not texts:
        return None
    if language:
        for lang, text in texts:
            if lang and lang.lower().startswith(language.lower()):
                return text
    return texts[0][1]
