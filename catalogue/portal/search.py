"""The portal's search parameters (all in the URL, so every state can be shared) in the
catalogue's one query model, and the links that change one of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from catalogue.errors import QueryError
from catalogue.query import SearchQuery, SortKey, TimeInterval, parse_datetime

# URL parameter → index field, in the order the facets are shown
FACETS: dict[str, str] = {
    "kind": "kind",
    "theme": "themes",
    "publisher": "publisher",
    "licence": "licence",
    "format": "format",
    "district": "districts",
}
SORTS: dict[str, tuple[SortKey, ...]] = {
    "relevance": (),
    "newest": (SortKey("modified", True),),
    "title": (SortKey("title"),),
}
MAX_PAGE = 10_000


@dataclass(frozen=True, slots=True)
class PortalSearch:
    """What a visitor asked for on the search page."""

    text: str = ""
    filters: dict[str, str] = field(default_factory=dict)
    """URL parameter → chosen facet value (one value per facet; facets combine with AND)."""
    start: str = ""
    end: str = ""
    sort: str = "relevance"
    page: int = 1

    @classmethod
    def from_params(cls, params: dict[str, str]) -> PortalSearch:
        sort = params.get("sort") or "relevance"
        if sort not in SORTS:
            raise QueryError(f"sort must be one of {', '.join(SORTS)}")
        page_text = params.get("page") or "1"
        if not page_text.isdigit() or not 1 <= int(page_text) <= MAX_PAGE:
            raise QueryError(f"page must be a whole number from 1 to {MAX_PAGE}")
        search = cls(
            text=(params.get("q") or "").strip(),
            filters={name: params[name] for name in FACETS if params.get(name)},
            start=(params.get("from") or "").strip(),
            end=(params.get("to") or "").strip(),
            sort=sort,
            page=int(page_text),
        )
        search.time()  # a malformed date is a 400, before anything is searched
        return search

    def time(self) -> TimeInterval | None:
        if not self.start and not self.end:
            return None
        start = parse_datetime(self.start) if self.start else None
        end = parse_datetime(self.end, end=True) if self.end else None
        if start and end and start > end:
            raise QueryError("the time range ends before it starts")
        return TimeInterval(start, end)

    def query(self, page_size: int) -> SearchQuery:
        sort = SORTS[self.sort]
        if self.sort == "relevance" and not self.text:
            sort = SORTS["newest"]
        return SearchQuery(
            text=self.text or None,
            time=self.time(),
            properties=tuple((FACETS[name], value) for name, value in self.filters.items()),
            sort=sort,
            limit=page_size,
            offset=(self.page - 1) * page_size,
            facets=tuple(FACETS.values()),
            facet_limit=20,
        )

    def params(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.text:
            out["q"] = self.text
        out.update(self.filters)
        if self.start:
            out["from"] = self.start
        if self.end:
            out["to"] = self.end
        if self.sort != "relevance":
            out["sort"] = self.sort
        if self.page != 1:
            out["page"] = str(self.page)
        return out

    def url(self, **changes: str | int | None) -> str:
        """This search with some parameters changed (``None`` removes one); any change other
        than the page goes back to the first page."""
        params = self.params()
        if "page" not in changes:
            params.pop("page", None)
        for name, value in changes.items():
            key = "from" if name == "start" else "to" if name == "end" else name
            if value is None or value == "" or (key == "page" and value == 1):
                params.pop(key, None)
            else:
                params[key] = str(value)
        return "/search" + ("?" + urlencode(params) if params else "")
