"""The catalogue's OpenAPI document (``/openapi.json``): every API the app serves, self-contained.

pygeoapi generates a document for the OGC API, but it refers to OGC schemas online, describes
paths this app does not route (processes' results, OPTIONS), and lacks the CKAN Action API,
DCAT and the catalogue's own routes. The document here takes pygeoapi's paths and parameters
for the collections the index holds (under ``/ogc``), gives their answers the schemas of
``openapi.yaml`` (which bundles what is needed of OGC API Features / Records, so nothing is
fetched from elsewhere), and adds the hand-written paths of ``openapi.yaml`` and one path per
CKAN action. It is built once per index generation, when pygeoapi's document is.
"""

from __future__ import annotations

import copy
import re
from functools import cache
from pathlib import Path
from typing import Any

import orjson
import yaml

from catalogue import __version__
from catalogue.ckan.search import FACETS, MAX_ROWS
from catalogue.settings import Settings

PARTS = Path(__file__).with_suffix(".yaml")

# pygeoapi path → the answer (a response of openapi.yaml) and whether it may be 404 / 429;
# pygeoapi paths that match none of these are not routed by this app
_OGC_PATHS: tuple[tuple[re.Pattern[str], str, tuple[str, ...]], ...] = tuple(
    (re.compile(pattern), response, extra)
    for pattern, response, extra in (
        (r"/", "OGCLandingPage", ()),
        (r"/openapi", "OGCOpenAPI", ()),
        (r"/conformance", "OGCConformance", ()),
        (r"/collections", "OGCCollections", ()),
        (r"/collections/[^/]+", "OGCCollection", ("404",)),
        (r"/collections/[^/]+/items", "OGCFeatures", ("404", "429")),
        (r"/collections/[^/]+/items/\{featureId\}", "OGCFeature", ("404",)),
        (r"/collections/[^/]+/(schema|queryables)", "OGCSchema", ("404",)),
        (r"/jobs", "OGCJobs", ()),
        (r"/jobs/\{jobId\}", "OGCJob", ("404",)),
    )
)
_ERRORS = {
    "400": "OGCInvalidParameter",
    "404": "OGCNotFound",
    "429": "OGCTooManyRequests",
    "500": "OGCServerError",
}
# pygeoapi's references to schemas online → this document's own
_REMOTE_PARAMETERS = {"featureId": "featureId", "sortby.yaml": "sortby", "q.yaml": "q"}
# pygeoapi's free-form parameter would let a client send any name, `f` and `limit` included
_DROPPED_PARAMETERS = {"vendorSpecificParameters"}
# what the items of every collection take besides what pygeoapi lists
_ITEMS_PARAMETERS = ("datetime", "resulttype", "facets", "filter", "filter-lang")

_STRING: dict[str, Any] = {"type": "string"}
_FLAG: dict[str, Any] = {"type": "boolean"}
_COUNT: dict[str, Any] = {"type": "integer", "minimum": 0}
_PAGING = {"limit": _COUNT, "offset": _COUNT}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _list_of(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": schema}


# action → its parameters, the schema of its result, and whether it answers 404
CKAN_ACTIONS: dict[str, tuple[dict[str, dict[str, Any]], dict[str, Any], bool]] = {
    "status_show": ({}, _ref("CKANStatus"), False),
    "site_read": ({}, _FLAG, False),
    "package_list": (_PAGING, _list_of(_STRING), False),
    "current_package_list_with_resources": (_PAGING, _list_of(_ref("CKANPackage")), False),
    "package_show": ({"id": _STRING, "name": _STRING}, _ref("CKANPackage"), True),
    "package_search": (
        {
            "q": _STRING,
            "fq": _STRING,
            "fq_list": _list_of(_STRING),
            "rows": {"type": "integer", "minimum": 0, "maximum": MAX_ROWS},
            "start": _COUNT,
            "sort": _STRING,
            "facet.field": _list_of({"type": "string", "enum": list(FACETS)}),
            "facet.limit": {"type": "integer"},
        },
        _ref("CKANSearchResult"),
        False,
    ),
    "resource_show": ({"id": _STRING}, _ref("CKANResource"), True),
    "organization_list": (
        {"all_fields": _FLAG, **_PAGING},
        _list_of({"oneOf": [_STRING, _ref("CKANOrganization")]}),
        False,
    ),
    "organization_show": (
        {"id": _STRING, "include_datasets": _FLAG},
        _ref("CKANOrganization"),
        True,
    ),
    "group_list": ({"all_fields": _FLAG}, _list_of({"oneOf": [_STRING, _ref("CKANGroup")]}), False),
    "group_show": ({"id": _STRING, "include_datasets": _FLAG}, _ref("CKANGroup"), True),
    "tag_list": ({"query": _STRING}, _list_of(_STRING), False),
    "license_list": ({}, _list_of(_ref("CKANLicence")), False),
}


@cache
def _parts() -> dict[str, Any]:
    parts: dict[str, Any] = yaml.safe_load(PARTS.read_text(encoding="utf-8"))
    return parts


class APIDocument:
    """The document as JSON, built again when pygeoapi's document changes."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._source: dict[str, Any] | None = None
        self._json = b""

    def json(self, ogc_openapi: dict[str, Any]) -> bytes:
        if ogc_openapi is not self._source:
            self._json = orjson.dumps(compose(ogc_openapi, self.settings))
            self._source = ogc_openapi
        return self._json


def compose(ogc_openapi: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """The whole document, from pygeoapi's document of the OGC API and ``openapi.yaml``."""
    parts = copy.deepcopy(_parts())
    components = parts["components"]
    meta = settings.catalogue
    document: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {
            "title": meta.title,
            "description": (
                f"{meta.description}\n\nOGC API Features and Records under /ogc, DCAT-AP under "
                "/dcat, a CKAN-compatible Action API under /api/3/action (also /api/action), "
                "harvest runs under /harvest/runs."
            ).strip(),
            "version": __version__,
        },
        "servers": [{"url": settings.server.base_url()}],
        "tags": [
            {"name": "ogc", "description": "OGC API Features and Records (pygeoapi)"},
            {"name": "ckan", "description": "CKAN-compatible Action API (read-only)"},
            {"name": "dcat", "description": "DCAT-AP / DCAT-AP.de"},
            {"name": "harvest", "description": "Harvest runs"},
            {"name": "service", "description": "The service itself"},
        ],
        "paths": {"/openapi.json": _self_path()},
        "components": components,
    }
    _add_ogc(document, ogc_openapi)
    document["paths"].update(_ckan_paths())
    document["paths"].update(parts["paths"])
    return document


def _self_path() -> dict[str, Any]:
    return {
        "get": {
            "tags": ["service"],
            "operationId": "getOpenAPI",
            "summary": "This document",
            "responses": {
                "200": {
                    "description": "The OpenAPI document of every API of the catalogue.",
                    "content": {
                        "application/vnd.oai.openapi+json;version=3.0": {
                            "schema": {"type": "object", "required": ["openapi", "paths"]}
                        }
                    },
                }
            },
        }
    }


def _add_ogc(document: dict[str, Any], ogc: dict[str, Any]) -> None:
    parameters = document["components"]["parameters"]
    for name, parameter in ogc["components"]["parameters"].items():
        if name not in _DROPPED_PARAMETERS:
            parameters.setdefault(name, parameter)
    for path, item in ogc["paths"].items():
        kind = next((k for k in _OGC_PATHS if k[0].fullmatch(path)), None)
        if kind is None or "get" not in item:
            continue
        _, response, extra = kind
        operation = copy.deepcopy(item["get"])
        operation["tags"] = ["ogc"]
        operation["parameters"] = [
            p for p in map(_local_parameter, operation.get("parameters", [])) if p is not None
        ]
        if response == "OGCFeatures":
            operation["parameters"] += [
                {"$ref": f"#/components/parameters/{name}"} for name in _ITEMS_PARAMETERS
            ]
        operation["responses"] = {
            "200": {"$ref": f"#/components/responses/{response}"},
            **{
                status: {"$ref": f"#/components/responses/{_ERRORS[status]}"}
                for status in ("400", *extra, "500")
            },
        }
        document["paths"]["/ogc/" if path == "/" else f"/ogc{path}"] = {"get": operation}


def _local_parameter(parameter: dict[str, Any]) -> dict[str, Any] | None:
    ref = parameter.get("$ref")
    if ref is None:
        return parameter
    name = ref.rsplit("/", 1)[-1]
    if name in _DROPPED_PARAMETERS:
        return None
    if not ref.startswith("#"):
        name = _REMOTE_PARAMETERS[name]
    return {"$ref": f"#/components/parameters/{name}"}


def _ckan_paths() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for name, (parameters, result, finds) in CKAN_ACTIONS.items():
        responses: dict[str, Any] = {
            "200": {
                "description": f"The result of {name}.",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["help", "success", "result"],
                            "properties": {
                                "help": _STRING,
                                "success": {"type": "boolean", "enum": [True]},
                                "result": result,
                            },
                        }
                    }
                },
            },
            "409": _ckan_error("A parameter is invalid (CKAN's Validation Error)."),
        }
        if finds:
            responses["404"] = _ckan_error("Nothing has this id.")
        if name == "package_search":
            responses["429"] = {"$ref": "#/components/responses/TooManyRequests"}
        get = {
            "tags": ["ckan"],
            "operationId": f"ckan_{name}",
            "summary": f"CKAN {name}",
            "parameters": [
                {
                    "name": key,
                    "in": "query",
                    "schema": schema,
                    **({"style": "form", "explode": True} if schema.get("type") == "array" else {}),
                }
                for key, schema in parameters.items()
            ],
            "responses": responses,
        }
        post = {
            "tags": ["ckan"],
            "operationId": f"ckan_{name}_post",
            "summary": f"CKAN {name}, parameters in a JSON body",
            "requestBody": {
                "required": False,
                "content": {
                    "application/json": {"schema": {"type": "object", "properties": parameters}}
                },
            },
            "responses": {
                **responses,
                "400": _ckan_error("The body is not a JSON object."),
                "413": {"$ref": "#/components/responses/PayloadTooLarge"},
            },
        }
        paths[f"/api/3/action/{name}"] = {"get": get, "post": post}
    return paths


def _ckan_error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": _ref("CKANError")}},
    }
