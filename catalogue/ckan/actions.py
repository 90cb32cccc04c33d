"""The read-only CKAN actions, each a function of (context, parameters) over the index."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from catalogue import __version__
from catalogue.ckan.packages import (
    DCATDE_LICENCES,
    EU_THEMES,
    dataset_ids_for_name,
    group,
    organization_dict,
    package,
    package_name,
)
from catalogue.ckan.search import FACETS, package_search
from catalogue.errors import NotFoundError, QueryError
from catalogue.index import Index
from catalogue.model import Dataset
from catalogue.query import MAX_OFFSET, SearchQuery, SortKey
from catalogue.settings import Settings

ALL = 100_000


@dataclass(frozen=True, slots=True)
class Context:
    settings: Settings
    index: Index

    @property
    def base_url(self) -> str:
        return self.settings.server.base_url()


Action = Callable[[Context, dict[str, Any]], Any]


def _limit_offset(params: dict[str, Any], default: int = ALL) -> tuple[int, int]:
    try:
        limit = int(params.get("limit", default) or default)
        offset = int(params.get("offset", 0) or 0)
    except (TypeError, ValueError):
        raise QueryError("limit and offset must be whole numbers") from None
    if limit < 0 or offset < 0:
        raise QueryError("limit and offset must not be negative")
    if offset > MAX_OFFSET:
        raise QueryError(f"offset must not exceed {MAX_OFFSET}")
    return min(limit, ALL), offset


def _dataset(ctx: Context, params: dict[str, Any]) -> Dataset:
    key = str(params.get("id") or params.get("name") or "")
    if not key:
        raise QueryError("id: missing value")
    for candidate in dataset_ids_for_name(key):
        dataset = ctx.index.get_dataset(candidate)
        if dataset is not None:
            return dataset
    raise NotFoundError("Dataset not found")


def status_show(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "site_title": ctx.settings.catalogue.title,
        "site_description": ctx.settings.catalogue.description,
        "site_url": ctx.base_url,
        "ckan_version": "2.10.4",
        "catalogue_version": __version__,
        "extensions": [],
        "locale_default": "de",
    }


def site_read(ctx: Context, params: dict[str, Any]) -> bool:
    return True


def package_list(ctx: Context, params: dict[str, Any]) -> list[str]:
    limit, offset = _limit_offset(params)
    result = ctx.index.search_datasets(
        SearchQuery(sort=(SortKey("id"),), limit=max(limit, 1), offset=offset)
    )
    return [package_name(d.id) for d in result.records][:limit]


def current_package_list_with_resources(
    ctx: Context, params: dict[str, Any]
) -> list[dict[str, Any]]:
    limit, offset = _limit_offset(params, default=10)
    result = ctx.index.search_datasets(
        SearchQuery(
            sort=(SortKey("modified", True), SortKey("id")), limit=max(limit, 1), offset=offset
        )
    )
    return [package(d, ctx.base_url) for d in result.records][:limit]


def package_show(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    return package(_dataset(ctx, params), ctx.base_url)


def resource_show(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    key = str(params.get("id") or "")
    name, _, position = key.rpartition(":")
    if not name or not position.isdigit():
        raise NotFoundError("Resource not found")
    try:
        pkg = package(_dataset(ctx, {"id": name}), ctx.base_url)
    except NotFoundError:
        raise NotFoundError("Resource not found") from None
    for resource in pkg["resources"]:
        if resource["id"] == key:
            return resource
    raise NotFoundError("Resource not found")


def package_search_action(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    search = package_search(params)
    result = ctx.index.search_datasets(search.query)
    facets: dict[str, dict[str, int]] = {}
    search_facets: dict[str, Any] = {}
    for ckan_field in search.facet_fields:
        values = result.facets.get(FACETS[ckan_field], [])
        items: list[dict[str, Any]] = []
        for facet in values:
            name, title = _facet_name(ctx, ckan_field, str(facet.value))
            items.append({"name": name, "display_name": title, "count": facet.count})
        facets[ckan_field] = {i["name"]: i["count"] for i in items}
        search_facets[ckan_field] = {"title": ckan_field, "items": items}
    return {
        "count": result.number_matched,
        "sort": params.get("sort") or ("score desc, metadata_modified desc"),
        "results": [package(d, ctx.base_url) for d in result.records],
        "facets": facets,
        "search_facets": search_facets,
    }


def _facet_name(ctx: Context, field: str, value: str) -> tuple[str, str]:
    if field == "groups" and value.startswith(EU_THEMES):
        code = value[len(EU_THEMES) :].lower()
        return code, group(code)["title"]
    if field == "license_id" and value.startswith(DCATDE_LICENCES):
        return value[len(DCATDE_LICENCES) :], value
    return value, value


def _facet_values(ctx: Context, field: str) -> list[tuple[str, int]]:
    result = ctx.index.search_datasets(
        SearchQuery(result_type="hits", facets=(field,), facet_limit=ALL)
    )
    return [(str(f.value), f.count) for f in result.facets.get(field, [])]


def _organizations(ctx: Context) -> dict[str, tuple[str, int]]:
    """name → (title, dataset count), from the datasets' organizations."""
    titles: dict[str, str] = {}
    counts = dict(_facet_values(ctx, "organization"))
    for name in counts:
        result = ctx.index.search_datasets(
            SearchQuery(properties=(("organization", name),), limit=1)
        )
        held = result.records[0].organization() if result.records else None
        titles[name] = held[1] if held else name
    return {name: (titles[name], count) for name, count in counts.items()}


def organization_list(ctx: Context, params: dict[str, Any]) -> list[Any]:
    orgs = _organizations(ctx)
    limit, offset = _limit_offset(params)
    names = sorted(orgs)[offset : offset + limit]
    if _flag(params.get("all_fields")):
        return [dict(organization_dict(n, orgs[n][0]), package_count=orgs[n][1]) for n in names]
    return names


def organization_show(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    name = str(params.get("id") or "")
    orgs = _organizations(ctx)
    if name not in orgs:
        raise NotFoundError("Organization not found")
    result = dict(organization_dict(name, orgs[name][0]), package_count=orgs[name][1])
    if _flag(params.get("include_datasets")):
        found = ctx.index.search_datasets(
            SearchQuery(properties=(("organization", name),), sort=(SortKey("id"),), limit=1000)
        )
        result["packages"] = [package(d, ctx.base_url) for d in found.records]
    return result


def group_list(ctx: Context, params: dict[str, Any]) -> list[Any]:
    counts = {
        v[len(EU_THEMES) :].lower(): c
        for v, c in _facet_values(ctx, "themes")
        if v.startswith(EU_THEMES)
    }
    names = sorted(counts)
    if _flag(params.get("all_fields")):
        return [dict(group(n), package_count=counts[n]) for n in names]
    return names


def group_show(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    code = str(params.get("id") or "").lower()
    uri = EU_THEMES + code.upper()
    found = ctx.index.search_datasets(
        SearchQuery(
            properties=(("themes", uri),),
            sort=(SortKey("id"),),
            limit=1000 if _flag(params.get("include_datasets")) else 1,
        )
    )
    if not found.number_matched:
        raise NotFoundError("Group not found")
    result = dict(group(code), package_count=found.number_matched)
    if _flag(params.get("include_datasets")):
        result["packages"] = [package(d, ctx.base_url) for d in found.records]
    return result


def tag_list(ctx: Context, params: dict[str, Any]) -> list[str]:
    query = str(params.get("query") or "").lower()
    return sorted(v for v, _ in _facet_values(ctx, "keywords") if query in v.lower())


def license_list(ctx: Context, params: dict[str, Any]) -> list[dict[str, Any]]:
    from catalogue.ckan.packages import licence_fields

    seen: dict[str, dict[str, Any]] = {}
    for value, _ in _facet_values(ctx, "licence"):
        found = ctx.index.search_datasets(SearchQuery(properties=(("licence", value),), limit=1))
        if found.records:
            fields = licence_fields(found.records[0])
            seen[fields["license_id"]] = {
                "id": fields["license_id"],
                "title": fields["license_title"],
                "url": fields["license_url"] or "",
                "status": "active",
            }
    return [seen[k] for k in sorted(seen)]


def _flag(value: Any) -> bool:
    return str(value).lower() in ("true", "1", "yes")


ACTIONS: dict[str, Action] = {
    "status_show": status_show,
    "site_read": site_read,
    "package_list": package_list,
    "current_package_list_with_resources": current_package_list_with_resources,
    "package_show": package_show,
    "package_search": package_search_action,
    "resource_show": resource_show,
    "organization_list": organization_list,
    "organization_show": organization_show,
    "group_list": group_list,
    "group_show": group_show,
    "tag_list": tag_list,
    "license_list": license_list,
}
