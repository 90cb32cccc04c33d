"""pygeoapi's HTML pages without third-party requests.

Its built-in templates load Leaflet, Bootstrap and Swagger UI from a CDN and the base map from
OpenStreetMap's tile servers. At startup the templates that do are copied from the installed
pygeoapi into a private folder with those addresses pointing at the copies the catalogue
serves itself (installed by ``npm ci`` in ``catalogue/portal``, served under
``/static/vendor/``); what has no local copy is left out. The folder is given to pygeoapi as
``server.templates.path``, which overrides its templates file by file. The base map is the
portal's ``tile_url``; without one the maps show the data alone.

The same folder holds the templates whose output pygeoapi gets wrong, replaced (``REPLACED``).
"""

from __future__ import annotations

import re
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import pygeoapi

from catalogue.settings import Settings

TEMPLATES = Path(pygeoapi.__file__).parent / "templates"

# CDN address (a prefix) → the catalogue's own copy
REWRITES: tuple[tuple[str, str], ...] = (
    (
        "https://unpkg.com/leaflet.markercluster/dist/leaflet.markercluster-src.js",
        "/static/vendor/leaflet.markercluster/leaflet.markercluster.js",
    ),
    ("https://unpkg.com/leaflet.markercluster/dist/", "/static/vendor/leaflet.markercluster/"),
    ("https://unpkg.com/leaflet@1.3.1/dist/", "/static/vendor/leaflet/"),
    ("https://unpkg.com/bootstrap@5.1.3/dist/css/", "/static/vendor/bootstrap/"),
    ("https://unpkg.com/swagger-ui-dist/", "/static/vendor/swagger-ui/"),
)
# a tag that still loads something from elsewhere after the rewrites
_FOREIGN_TAG = re.compile(
    r"<(script|link)\b[^>]*(src|href)=[\"']https?://[^\"']+[\"'][^>]*>(\s*</script>)?", re.I
)
# pygeoapi's JSON-LD list of items is written as text: a page without features ends in a
# trailing comma (not JSON), and ids are HTML-escaped. The same document, serialized as JSON.
_ITEMS_JSONLD = """\
{%- set features = [] -%}
{%- for ft in data.features -%}
{%- set _ = features.append({"@type": ft.type, "@id": ft["@id"]}) -%}
{%- endfor -%}
{{ to_json({"@context": data["@context"], "type": "FeatureCollection", "@id": data["@id"],
            "features": features}, config.server.pretty_print) | safe }}
"""
REPLACED = {"collections/items/index.jsonld": _ITEMS_JSONLD}
_CONDITIONAL = re.compile(r"<!--\[if[^\]]*\]>.*?<!\[endif\]-->", re.S)


def offline_template(text: str) -> str:
    """One template with its third-party scripts and styles replaced or left out."""
    for remote, local in REWRITES:
        text = text.replace(remote, local)
    text = _CONDITIONAL.sub("", text)
    return _FOREIGN_TAG.sub("", text)


@lru_cache(maxsize=1)
def offline_templates() -> Path:
    """A folder with the rewritten copies of the templates that load from elsewhere, and the
    replaced ones."""
    target = Path(tempfile.mkdtemp(prefix="ouc-pygeoapi-templates-"))
    for source in TEMPLATES.rglob("*.html"):
        text = source.read_text(encoding="utf-8")
        rewritten = offline_template(text)
        if rewritten != text:
            path = target / source.relative_to(TEMPLATES)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(rewritten, encoding="utf-8")
    for name, text in REPLACED.items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return target


def apply(config: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """Point a pygeoapi configuration at the offline templates and the portal's base map."""
    server = config["server"]
    server["templates"] = {"path": str(offline_templates())}
    server["map"] = {
        "url": settings.portal.tile_url or "",
        "attribution": settings.portal.tile_attribution,
    }
    return config
