"""Parsing XML from untrusted sources: no entity expansion, no DTD fetching, no network."""

from __future__ import annotations

import re
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
        reason = _wrong_encoding(data) or f"not well-formed XML: {exc}"
        raise HarvestError(f"{url}: {reason}") from None
    except Exception as exc:  # defusedxml's EntitiesForbidden, ExternalReferenceForbidden …
        raise HarvestError(f"{url}: refused unsafe XML ({type(exc).__name__})") from None


def parse_xml(data: bytes, url: str) -> Any:
    """The root element of a document that passed :func:`refuse_unsafe_xml`."""
    refuse_unsafe_xml(data, url)
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise HarvestError(f"{url}: not well-formed XML: {exc}") from None


_DECLARED = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)""")


def _wrong_encoding(data: bytes) -> str | None:
    """Why a document that is not well-formed cannot be read, if it is its encoding: bytes
    that are not the encoding the document declares (UTF-8 when it declares none)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None  # UTF-16, marked by its byte order
    declared = _DECLARED.match(data.lstrip())
    encoding = declared.group(1).decode("ascii") if declared else "utf-8"
    said = "the encoding it declares" if declared else "XML's default when none is declared"
    try:
        data.decode(encoding)
    except LookupError:
        return None
    except UnicodeDecodeError as exc:
        byte = data[exc.start : exc.start + 1].hex()
        return (
            f"the XML is not valid {encoding.upper()}, {said} "
            f"(byte 0x{byte} at position {exc.start:,})"
        )
    return None
