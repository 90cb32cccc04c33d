"""Parsing XML from untrusted sources: no entity expansion, no DTD fetching, no network."""

from __future__ import annotations

from typing import Any

from defusedxml import ElementTree as DefusedElementTree
from lxml import etree

from catalogue.errors import HarvestError

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=True
)


def refuse_unsafe_xml(data: bytes, url: str) -> None:
    """Raise :class:`HarvestError` for XML that is not well-formed or declares entities."""
    try:
        DefusedElementTree.fromstring(data)
    except DefusedElementTree.ParseError as exc:
        raise HarvestError(f"{url}: not well-formed XML: {exc}") from None
    except Exception as exc:  # defusedxml's EntitiesForbidden, ExternalReferenceForbidden …
        raise HarvestError(f"{url}: refused unsafe XML ({type(exc).__name__})") from None


def parse_xml(data: bytes, url: str) -> Any:
    """The root element of a document that passed :func:`refuse_unsafe_xml`."""
    refuse_unsafe_xml(data, url)
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise HarvestError(f"{url}: not well-formed XML: {exc}") from None
