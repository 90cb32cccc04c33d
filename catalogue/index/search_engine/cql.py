"""CQL2 (a pygeofilter AST) to the engine's query DSL.

Attribute names are resolved by the caller (items: typed property fields; datasets: document
fields), so a filter reaches only what the collection's queryables name. A comparison with a
property a record does not have is false, and so is its negation — SQL's NULL logic, which the
SQLite backend has by nature.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pygeofilter import ast, values
from pygeofilter.backends.evaluator import handle

from catalogue.errors import QueryError
from catalogue.index.cql_values import TEMPORAL, CQLValues
from catalogue.index.sqlite.rows import OPEN_END, OPEN_START, epoch

Dsl = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Target:
    """What a queryable name stands for in the engine's documents."""

    kind: str = "scalar"
    """``scalar``, ``array``, ``geometry`` or ``time``."""
    fields: dict[str, str] = field(default_factory=dict)
    """For scalars and arrays: field path by JSON type of the value (``s``, ``n``, ``b``)."""
    start: str = "t_start"
    end: str = "t_end"
    sort_type: str = "s"
    """Which of ``fields`` a sort on this queryable uses."""

    def path(self, value: Any) -> str | None:
        """The field holding values of the type of ``value`` (None: it cannot have any)."""
        return self.fields.get(value_type(value))

    def exists(self) -> list[Dsl]:
        return [{"exists": {"field": f}} for f in self.fields.values()]


Resolver = Callable[[str], Target]


def value_type(value: Any) -> str:
    if isinstance(value, bool):
        return "b"
    if isinstance(value, (int, float)):
        return "n"
    return "s"


def literal(value: Any) -> Any:
    """A filter literal as the engine stores it (dates as ISO text, as the SQLite backend binds)."""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


@dataclass(slots=True)
class Q:
    """A translated condition and the fields it reads (for NULL-aware negation)."""

    dsl: Dsl
    needs: list[Dsl] = field(default_factory=list)


NOTHING: Dsl = {"bool": {"must_not": [{"match_all": {}}]}}


def _any(queries: list[Dsl]) -> Dsl:
    if not queries:
        return NOTHING
    return (
        queries[0]
        if len(queries) == 1
        else {"bool": {"should": queries, "minimum_should_match": 1}}
    )


class CQLToDSL(CQLValues):
    """Translate one filter; ``resolve`` maps a queryable name to its :class:`Target`."""

    def __init__(self, resolve: Resolver) -> None:
        self.resolve = resolve

    def translate(self, node: ast.Node) -> Dsl:
        result = self.evaluate(node)
        if not isinstance(result, Q):
            raise QueryError("the filter is not a condition")
        return result.dsl

    # logic -------------------------------------------------------------------------------
    @handle(ast.And)
    def and_(self, node: ast.And, lhs: Q, rhs: Q) -> Q:
        return Q({"bool": {"filter": [lhs.dsl, rhs.dsl]}}, lhs.needs + rhs.needs)

    @handle(ast.Or)
    def or_(self, node: ast.Or, lhs: Q, rhs: Q) -> Q:
        return Q(_any([lhs.dsl, rhs.dsl]), lhs.needs + rhs.needs)

    @handle(ast.Not)
    def not_(self, node: ast.Not, sub: Q) -> Q:
        return Q({"bool": {"filter": sub.needs, "must_not": [sub.dsl]}}, sub.needs)

    @handle(ast.Include)
    def include(self, node: ast.Include) -> Q:
        return Q(NOTHING if node.not_ else {"match_all": {}})

    # comparisons -------------------------------------------------------------------------
    @handle(ast.Equal, ast.NotEqual, ast.LessThan, ast.LessEqual, ast.GreaterThan, ast.GreaterEqual)
    def comparison(self, node: ast.Comparison, lhs: Any, rhs: Any) -> Q:
        op = node.op.value
        if not isinstance(lhs, Target):
            if not isinstance(rhs, Target):
                raise QueryError("a comparison needs a queryable on one side")
            lhs, rhs = rhs, lhs
            op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)
        if isinstance(rhs, Target):
            raise QueryError("comparing two queryables is not supported by this index backend")
        target = self._value_target(lhs)
        path, value = self._path_value(target, rhs)
        if path is None:  # no value of the literal's type: only "differs" can hold
            return Q(_any(target.exists()) if op == "<>" else NOTHING, [_any(target.exists())])
        needs = [{"exists": {"field": path}}]
        if op == "=":
            return Q({"term": {path: value}}, needs)
        if op == "<>":
            # values of another type than the literal differ from it too
            return Q(
                {
                    "bool": {
                        "filter": [_any(target.exists())],
                        "must_not": [{"term": {path: value}}],
                    }
                },
                needs,
            )
        word = {"<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}[op]
        return Q({"range": {path: {word: value}}}, needs)

    @handle(ast.Between)
    def between(self, node: ast.Between, lhs: Any, low: Any, high: Any) -> Q:
        target = self._value_target(lhs)
        path, lo = self._path_value(target, low)
        _, hi = self._path_value(target, high)
        if path is None:
            return Q(NOTHING)
        needs = [{"exists": {"field": path}}]
        inside: Dsl = {"range": {path: {"gte": lo, "lte": hi}}}
        if node.not_:
            return Q({"bool": {"filter": needs, "must_not": [inside]}}, needs)
        return Q(inside, needs)

    @handle(ast.Like)
    def like(self, node: ast.Like, lhs: Any) -> Q:
        target = self._value_target(lhs)
        if not isinstance(node.pattern, str):
            raise QueryError("LIKE needs a text pattern")
        path = target.fields.get("s")
        if path is None:
            return Q(NOTHING)
        pattern = like_to_wildcard(node.pattern, node.wildcard, node.singlechar, node.escapechar)
        query: Dsl = {"wildcard": {path: {"value": pattern, "case_insensitive": bool(node.nocase)}}}
        needs = [{"exists": {"field": path}}]
        if node.not_:
            return Q({"bool": {"filter": needs, "must_not": [query]}}, needs)
        return Q(query, needs)

    @handle(ast.In)
    def in_(self, node: ast.In, lhs: Any, *options: Any) -> Q:
        target = self._value_target(lhs)
        by_path: dict[str, list[Any]] = {}
        for option in options:
            if isinstance(option, Target):
                raise QueryError("IN takes literal values")
            path, value = self._path_value(target, option)
            if path is not None:
                by_path.setdefault(path, []).append(value)
        query = _any([{"terms": {p: v}} for p, v in by_path.items()])
        needs = [_any(target.exists())]
        if node.not_:
            return Q({"bool": {"filter": needs, "must_not": [query]}}, needs)
        return Q(query, needs)

    @handle(ast.IsNull)
    def is_null(self, node: ast.IsNull, lhs: Any) -> Q:
        target = self._value_target(lhs)
        present = _any(target.exists())
        return Q(present if node.not_ else {"bool": {"must_not": [present]}})

    # space -------------------------------------------------------------------------------
    @handle(ast.SpatialComparisonPredicate, subclasses=True)
    def spatial(self, node: ast.SpatialComparisonPredicate, lhs: Any, rhs: Any) -> Q:
        target, other = (lhs, rhs) if isinstance(lhs, Target) else (rhs, lhs)
        if not isinstance(target, Target) or target.kind != "geometry":
            raise QueryError("a spatial predicate needs the geometry queryable and a geometry")
        op = node.op.name
        if not isinstance(lhs, Target):  # predicate(geometry literal, attribute): flip
            op = {"CONTAINS": "WITHIN", "WITHIN": "CONTAINS"}.get(op, op)
        return self._geo(target, op, shape_of(other))

    @handle(ast.BBox)
    def bbox(self, node: ast.BBox, lhs: Any) -> Q:
        if not isinstance(lhs, Target) or lhs.kind != "geometry":
            raise QueryError("BBOX needs the geometry queryable")
        box = {"type": "envelope", "coordinates": [[node.minx, node.maxy], [node.maxx, node.miny]]}
        return self._geo(lhs, "INTERSECTS", box)

    def _geo(self, target: Target, op: str, shape: Dsl) -> Q:
        if op not in ("INTERSECTS", "DISJOINT", "WITHIN", "CONTAINS"):
            raise QueryError(f"spatial operator {op} is not supported by this index backend")
        path = target.fields["g"]
        needs = [{"exists": {"field": path}}]
        query: Dsl = {"geo_shape": {path: {"shape": shape, "relation": op.lower()}}}
        return Q({"bool": {"filter": [*needs, query]}}, needs)

    # time --------------------------------------------------------------------------------
    @handle(ast.TemporalPredicate, subclasses=True)
    def temporal(self, node: ast.TemporalPredicate, lhs: Any, rhs: Any) -> Q:
        if not isinstance(lhs, Target):
            raise QueryError("a temporal predicate needs a queryable on its left side")
        op = node.op.name
        if op not in TEMPORAL:
            raise QueryError(f"temporal operator {op} is not supported")
        if lhs.kind == "time":
            sides = {"start": lhs.start, "end": lhs.end}
            b0, b1 = epoch_bounds(rhs)
        else:
            path = lhs.fields.get("s")
            if path is None:
                return Q(NOTHING)
            sides = {"start": path, "end": path}
            b0, b1 = iso_bounds(rhs)  # type: ignore[assignment]
        joiner, terms = TEMPORAL[op]
        parts: list[Dsl] = []
        for side, compare, bound in terms:
            value = b0 if bound == "b0" else b1
            if compare == "=":
                parts.append({"term": {sides[side]: value}})
            else:
                word = {"<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}[compare]
                parts.append({"range": {sides[side]: {word: value}}})
        needs = [{"exists": {"field": sides["start"]}}]
        if joiner == "OR":
            return Q({"bool": {"filter": needs, "must": [_any(parts)]}}, needs)
        return Q({"bool": {"filter": parts}}, needs)

    def _value_target(self, value: Any) -> Target:
        if not isinstance(value, Target):
            raise QueryError("a comparison needs a queryable on its left side")
        if value.kind == "geometry":
            raise QueryError("the geometry queryable can only be used in spatial predicates")
        return value

    def _path_value(self, target: Target, value: Any) -> tuple[str | None, Any]:
        if isinstance(value, (Q, Target)) or value is None:
            raise QueryError(f"unsupported value in filter: {value!r}")
        if target.kind == "time":
            if not isinstance(value, (datetime, date)):
                raise QueryError("the time queryable compares with dates and timestamps")
            return target.start, epoch(value.isoformat())
        if not isinstance(value, (str, int, float, bool, date, datetime)):
            raise QueryError(f"unsupported value in filter: {value!r}")
        return target.path(value if not isinstance(value, (date, datetime)) else ""), literal(value)


def like_to_wildcard(pattern: str, wildcard: str, single: str, escape: str) -> str:
    out = []
    chars = iter(pattern)
    for ch in chars:
        if ch == escape:
            out.append(_wildcard_literal(next(chars, "")))
        elif ch == wildcard:
            out.append("*")
        elif ch == single:
            out.append("?")
        else:
            out.append(_wildcard_literal(ch))
    return "".join(out)


def _wildcard_literal(ch: str) -> str:
    return "\\" + ch if ch in "*?\\" else ch


def shape_of(value: Any) -> Dsl:
    """A geometry literal as a GeoJSON shape the engine takes."""
    if isinstance(value, values.Envelope):
        return {"type": "envelope", "coordinates": [[value.x1, value.y2], [value.x2, value.y1]]}
    if isinstance(value, values.Geometry):
        geometry = value.geometry
        if not isinstance(geometry, dict) or "type" not in geometry:
            raise QueryError("invalid geometry in filter")
        return {k: v for k, v in geometry.items() if k in ("type", "coordinates", "geometries")}
    raise QueryError("a spatial predicate needs a geometry literal")


def _bounds(value: Any) -> tuple[datetime | date | None, datetime | date | None]:
    if isinstance(value, values.Interval):
        return value.start, value.end
    if isinstance(value, (datetime, date)):
        return value, value
    raise QueryError("a temporal predicate needs a date, timestamp or interval")


def epoch_bounds(value: Any) -> tuple[float, float]:
    start, end = _bounds(value)
    low = epoch(start.isoformat()) if isinstance(start, (datetime, date)) else None
    high = epoch(end.isoformat()) if isinstance(end, (datetime, date)) else None
    return (OPEN_START if low is None else low, OPEN_END if high is None else high)


def iso_bounds(value: Any) -> tuple[str, str]:
    start, end = _bounds(value)
    return (
        literal(start) if start else "",
        literal(end) if end else "\uffff",
    )
