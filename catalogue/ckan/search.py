"""CKAN's ``package_search`` parameters (Solr-like ``q`` and ``fq``, ``sort``, facets) in the
catalogue's one query model."""

from __future__ import annotations

import re
from dataclasses import dataclass

import orjson
from pygeofilter import ast

from catalogue.ckan.packages import DCATDE_LICENCES, EU_THEMES
from catalogue.errors import QueryError
from catalogue.query import MAX_OFFSET, SearchQuery, SortKey

# CKAN field → (index field, how a CKAN value becomes an index value)
FIELDS: dict[str, str] = {
    "tags": "keywords",
    "groups": "themes",
    "organization": "organization",
    "res_format": "format",
    "license_id": "licence",
    "name": "id",
    "id": "id",
    "title": "title",
    "district": "districts",
}
FACETS = {
    "tags": "keywords",
    "groups": "themes",
    "organization": "organization",
    "res_format": "format",
    "license_id": "licence",
    "district": "districts",
}
SORTS = {
    "metadata_modified": "modified",
    "metadata_created": "issued",
    "title": "title",
    "title_string": "title",
    "name": "id",
}
_TERM = re.compile(
    r'(?P<field>[A-Za-z_]+):(?P<value>"[^"]*"|\[[^\]]*\]|\S+)|"(?P<phrase>[^"]*)"|(?P<word>\S+)'
)
MAX_ROWS = 1000


@dataclass(frozen=True, slots=True)
class CKANSearch:
    query: SearchQuery
    facet_fields: tuple[str, ...]


def index_value(field: str, value: str) -> str:
    """A CKAN filter value as the index holds it."""
    value = value.strip('"')
    if field == "groups":
        return EU_THEMES + value.upper()
    if field == "name":
        return value.replace("--", ".")
    return value


def parse_terms(text: str, *, where: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Words and phrases, and ``field:value`` terms, of a ``q`` or ``fq``."""
    words: list[str] = []
    filters: list[tuple[str, str]] = []
    for match in _TERM.finditer(text.strip()):
        if match.group("field"):
            field, value = match.group("field"), match.group("value")
            if field == "*" or value == "*":
                continue
            if field not in FIELDS:
                raise QueryError(
                    f"{where}: cannot search by {field!r} (fields: {', '.join(sorted(FIELDS))})"
                )
            if value.startswith("["):
                raise QueryError(f"{where}: ranges are not supported ({field}:{value})")
            filters.append((FIELDS[field], index_value(field, value)))
        elif match.group("phrase") is not None:
            words.append(match.group("phrase"))
        else:
            word = match.group("word").lstrip("+")
            if word.upper() in ("AND", "OR", "NOT") or word in ("*:*", "*"):
                continue
            words.append(word)
    return words, filters


def parse_sort(text: str | None) -> tuple[SortKey, ...]:
    keys = []
    for part in (text or "").split(","):
        bits = part.split()
        if not bits:
            continue
        field = bits[0]
        direction = bits[1].lower() if len(bits) > 1 else "asc"
        if direction not in ("asc", "desc"):
            raise QueryError(f"sort: direction must be asc or desc, not {direction!r}")
        if field in ("score", "rank"):
            continue  # relevance is the default order of a text search
        if field not in SORTS:
            raise QueryError(f"sort: cannot sort by {field!r} (fields: score, {', '.join(SORTS)})")
        keys.append(SortKey(SORTS[field], direction == "desc"))
    return tuple(keys)


def package_search(params: dict[str, object]) -> CKANSearch:
    """Translate ``package_search`` parameters; raises :class:`QueryError` for bad ones."""
    q = str(params.get("q") or "")
    fq = params.get("fq") or ""
    fq_list = params.get("fq_list") or []
    extra = [str(x) for x in fq_list if x] if isinstance(fq_list, list) else [str(fq_list)]
    words, filters = parse_terms(q, where="q")
    for text in [str(fq), *extra]:
        extra_words, extra_filters = parse_terms(text, where="fq")
        if extra_words:
            raise QueryError(
                f"fq: only field:value terms are allowed, not {' '.join(extra_words)!r}"
            )
        filters.extend(extra_filters)
    rows = _int(params.get("rows"), "rows", 10)
    start = _int(params.get("start"), "start", 0)
    if rows > MAX_ROWS:
        raise QueryError(f"rows: at most {MAX_ROWS}")
    if start > MAX_OFFSET:
        raise QueryError(f"start: at most {MAX_OFFSET}")
    facet_fields = _facet_fields(params.get("facet.field"))
    unknown = [f for f in facet_fields if f not in FACETS]
    if unknown:
        raise QueryError(f"facet.field: unknown facets {unknown} (facets: {', '.join(FACETS)})")
    facet_limit = _int(params.get("facet.limit"), "facet.limit", 50)
    # a licence id matches the id itself and the DCAT-AP.de licence URI it abbreviates
    licences = [v for f, v in filters if f == "licence"]
    filters = [(f, v) for f, v in filters if f != "licence"]
    condition = None
    for value in licences:
        spelled = [value] if "://" in value else [value, DCATDE_LICENCES + value]
        term = ast.In(ast.Attribute("licence"), spelled, False)
        condition = term if condition is None else ast.And(condition, term)
    query = SearchQuery(
        text=" ".join(words) or None,
        properties=tuple(filters),
        filter=condition,
        sort=parse_sort(str(params.get("sort") or "")),
        limit=rows,
        offset=start,
        result_type="results" if rows else "hits",
        facets=tuple(FACETS[f] for f in facet_fields),
        facet_limit=facet_limit if facet_limit > 0 else 10_000,
    )
    return CKANSearch(query, tuple(facet_fields))


def _facet_fields(value: object) -> list[str]:
    """``facet.field`` as CKAN takes it: a JSON list, a list, or one name."""
    if not value:
        return []
    if isinstance(value, list):
        if len(value) == 1 and str(value[0]).startswith("["):
            return _facet_fields(value[0])
        return [str(v) for v in value]
    text = str(value)
    if text.startswith("["):
        try:
            return [str(v) for v in orjson.loads(text)]
        except orjson.JSONDecodeError:
            raise QueryError("facet.field: not a JSON list") from None
    return [text]


def _int(value: object, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(str(value))
    except ValueError:
        raise QueryError(f"{name}: not a whole number: {value!r}") from None
    if number < 0 and name != "facet.limit":
        raise QueryError(f"{name}: must not be negative")
    return number
