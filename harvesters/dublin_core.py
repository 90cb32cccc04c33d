"""Simple Dublin Core (``oai_dc``) records as cultural objects."""

from __future__ import annotations

from typing import Any

from harvesters.culture import (
    CulturalObject,
    clean,
    is_url,
    looks_like_image,
    looks_like_manifest,
    pick_language,
)

DC = "http://purl.org/dc/elements/1.1/"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def read_dublin_core(element: Any, language: str | None = None) -> CulturalObject:
    """An ``oai_dc:dc`` element as a cultural object."""

    def values(name: str) -> list[tuple[str | None, str]]:
        return [
            (e.get(XML_LANG), clean(e.text) or "")
            for e in element.iterfind(f"{{{DC}}}{name}")
            if clean(e.text)
        ]

    def texts(name: str) -> list[str]:
        return [t for _, t in values(name)]

    def first(name: str) -> str | None:
        return pick_language(values(name), language)

    links = texts("identifier") + texts("relation") + texts("source")
    urls = [u for u in links if is_url(u)]
    pages = [u for u in urls if not looks_like_image(u) and not looks_like_manifest(u)]
    return CulturalObject(
        title=first("title"),
        description=first("description"),
        creators=texts("creator") + texts("contributor"),
        date=first("date"),
        object_type=first("type"),
        materials=[],
        institution=first("publisher"),
        rights=first("rights"),
        subjects=texts("subject"),
        record_url=pages[0] if pages else None,
        thumbnail=next((u for u in urls if looks_like_image(u)), None),
        iiif_manifest=next((u for u in urls if looks_like_manifest(u)), None),
    )
