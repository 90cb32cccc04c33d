"""CQL2 (a pygeofilter AST) to a parameterized SQLite WHERE clause.

Attribute names are resolved by the caller (items: JSON properties; datasets: columns), so a
filter can only reach what the collection's queryables name. Values always travel as parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pygeofilter import ast, values
from pygeofilter.backends.evaluator import handle
from shapely import to_wkb
from shapely.geometry import box as make_box
from shapely.geometry import shape

from catalogue.errors import QueryError
from catalogue.index.cql_values import TEMPORAL, CQLValues


@dataclass(frozen=True, slots=True)
class Column:
    """What a queryable name stands for in SQL."""

    expr: str
    """SQL expression of the value (may contain ``?`` placeholders, filled from ``params``)."""
    params: tuple[Any, ...] = ()
    kind: str = "scalar"
    """``scalar``, ``array`` (a JSON array expression), ``geometry`` or ``time``."""
    start: str | None = None
    end: str | None = None
    """For ``time``: SQL of the interval's start and end in epoch seconds."""
    box: tuple[str, str, str, str] | None = None
    """For ``geometry``: SQL of minx, miny, maxx, maxy columns."""
    terms: str | None = None
    """For ``array``: the field name its values are indexed under in a terms table."""


Resolver = Callable[[str], Column]

_COMPARE = {
    ast.Equal: "=",
    ast.NotEqual: "!=",
    ast.LessThan: "<",
    ast.LessEqual: "<=",
    ast.GreaterThan: ">",
    ast.GreaterEqual: ">=",
}


@dataclass(slots=True)
class _Sql:
    text: str
    params: list[Any]


class CQLToSQL(CQLValues):
    """Translate one filter; ``resolve`` maps a queryable name to its :class:`Column`."""

    def __init__(self, resolve: Resolver) -> None:
        self.resolve = resolve

    def translate(self, node: ast.Node) -> tuple[str, list[Any]]:
        result = self.evaluate(node)
        if not isinstance(result, _Sql):
            raise QueryError("the filter is not a condition")
        return result.text, result.params

    # logic -------------------------------------------------------------------------------
    @handle(ast.And, ast.Or)
    def combination(self, node: ast.Combination, lhs: _Sql, rhs: _Sql) -> _Sql:
        return _Sql(f"({lhs.text} {node.op.value} {rhs.text})", lhs.params + rhs.params)

    @handle(ast.Not)
    def not_(self, node: ast.Not, sub: _Sql) -> _Sql:
        return _Sql(f"NOT ({sub.text})", sub.params)

    @handle(ast.Include)
    def include(self, node: ast.Include) -> _Sql:
        return _Sql("0" if node.not_ else "1", [])

    # comparisons -------------------------------------------------------------------------
    @handle(*_COMPARE)
    def comparison(self, node: ast.Comparison, lhs: Any, rhs: Any) -> _Sql:
        left, right = self._operand(lhs), self._operand(rhs)
        return _Sql(f"{left.text} {_COMPARE[type(node)]} {right.text}", left.params + right.params)

    @handle(ast.Between)
    def between(self, node: ast.Between, lhs: Any, low: Any, high: Any) -> _Sql:
        left, lo, hi = self._operand(lhs), self._operand(low), self._operand(high)
        word = "NOT BETWEEN" if node.not_ else "BETWEEN"
        return _Sql(
            f"{left.text} {word} {lo.text} AND {hi.text}", left.params + lo.params + hi.params
        )

    @handle(ast.Like)
    def like(self, node: ast.Like, lhs: Any) -> _Sql:
        left = self._operand(lhs)
        if not isinstance(node.pattern, str):
            raise QueryError("LIKE needs a text pattern")
        pattern = _like_to_glob(node.pattern, node.wildcard, node.singlechar, node.escapechar)
        text = left.text
        if node.nocase:
            text, pattern = f"lower({text})", pattern.lower()
        sql = f"{text} GLOB ?"
        return _Sql(f"NOT ({sql})" if node.not_ else sql, [*left.params, pattern])

    @handle(ast.In)
    def in_(self, node: ast.In, lhs: Any, *options: Any) -> _Sql:
        left = self._operand(lhs)
        parts = [self._operand(o) for o in options]
        params = list(left.params)
        for part in parts:
            params.extend(part.params)
        word = "NOT IN" if node.not_ else "IN"
        return _Sql(f"{left.text} {word} ({', '.join(p.text for p in parts)})", params)

    @handle(ast.IsNull)
    def is_null(self, node: ast.IsNull, lhs: Any) -> _Sql:
        left = self._operand(lhs)
        return _Sql(f"{left.text} IS {'NOT ' if node.not_ else ''}NULL", left.params)

    # space -------------------------------------------------------------------------------
    @handle(ast.SpatialComparisonPredicate, subclasses=True)
    def spatial(self, node: ast.SpatialComparisonPredicate, lhs: Any, rhs: Any) -> _Sql:
        column, other = (lhs, rhs) if isinstance(lhs, Column) else (rhs, lhs)
        if not isinstance(column, Column) or column.kind != "geometry":
            raise QueryError("a spatial predicate needs the geometry queryable and a geometry")
        geom = _to_shape(other)
        op = node.op.name
        if not isinstance(lhs, Column):  # predicate(geometry literal, attribute): flip
            op = {"CONTAINS": "WITHIN", "WITHIN": "CONTAINS"}.get(op, op)
        return self._spatial_sql(column, op, geom)

    @handle(ast.BBox)
    def bbox(self, node: ast.BBox, lhs: Any) -> _Sql:
        if not isinstance(lhs, Column) or lhs.kind != "geometry":
            raise QueryError("BBOX needs the geometry queryable")
        return self._spatial_sql(
            lhs, "INTERSECTS", make_box(node.minx, node.miny, node.maxx, node.maxy)
        )

    def _spatial_sql(self, column: Column, op: str, geom: Any) -> _Sql:
        minx, miny, maxx, maxy = geom.bounds
        wkb = to_wkb(geom)
        assert column.box is not None
        bx0, by0, bx1, by1 = column.box
        exact = f"ouc_spatial(?, {column.expr}, ?)"
        if op in ("INTERSECTS", "WITHIN", "EQUALS", "OVERLAPS", "TOUCHES", "CROSSES", "CONTAINS"):
            prefilter = f"{bx0} <= ? AND {bx1} >= ? AND {by0} <= ? AND {by1} >= ?"
            return _Sql(
                f"({prefilter} AND {exact})",
                [maxx, minx, maxy, miny, *column.params, op, wkb],
            )
        return _Sql(f"coalesce({exact}, 0)", [*column.params, op, wkb])

    # time --------------------------------------------------------------------------------
    @handle(ast.TemporalPredicate, subclasses=True)
    def temporal(self, node: ast.TemporalPredicate, lhs: Any, rhs: Any) -> _Sql:
        if not isinstance(lhs, Column):
            raise QueryError("a temporal predicate needs a queryable on its left side")
        if lhs.kind == "time":
            assert lhs.start is not None and lhs.end is not None
            sides = {"start": lhs.start, "end": lhs.end}
            b0, b1 = _epoch_bounds(rhs)
        else:
            sides = {"start": lhs.expr, "end": lhs.expr}
            b0, b1 = _iso_bounds(rhs)  # type: ignore[assignment]
        op = node.op.name
        if op not in TEMPORAL:
            raise QueryError(f"temporal operator {op} is not supported")
        joiner, terms = TEMPORAL[op]
        parts, params = [], []
        for side, compare, bound in terms:
            parts.append(f"{sides[side]} {compare} ?")
            params.extend([*lhs.params, b0 if bound == "b0" else b1])
        return _Sql("(" + f" {joiner} ".join(parts) + ")", params)

    def _operand(self, value: Any) -> _Sql:
        if isinstance(value, Column):
            if value.kind == "geometry":
                raise QueryError("the geometry queryable can only be used in spatial predicates")
            if value.kind == "time":
                return _Sql(str(value.start), list(value.params))
            return _Sql(value.expr, list(value.params))
        if isinstance(value, _Sql):
            return value
        if isinstance(value, datetime):
            return _Sql("?", [value.isoformat().replace("+00:00", "Z")])
        if isinstance(value, date):
            return _Sql("?", [value.isoformat()])
        if isinstance(value, bool):
            return _Sql("?", [1 if value else 0])
        if isinstance(value, (str, int, float)):
            return _Sql("?", [value])
        raise QueryError(f"unsupported value in filter: {value!r}")


def _like_to_glob(pattern: str, wildcard: str, single: str, escape: str) -> str:
    out = []
    chars = iter(pattern)
    for ch in chars:
        if ch == escape:
            nxt = next(chars, "")
            out.append(_glob_literal(nxt))
        elif ch == wildcard:
            out.append("*")
        elif ch == single:
            out.append("?")
        else:
            out.append(_glob_literal(ch))
    return "".join(out)


def _glob_literal(ch: str) -> str:
    return f"[{ch}]" if ch in "*?[]" else ch


def _to_shape(value: Any) -> Any:
    if isinstance(value, values.Envelope):
        return make_box(value.x1, value.y1, value.x2, value.y2)
    if isinstance(value, values.Geometry):
        try:
            return shape(value.geometry)
        except Exception as exc:
            raise QueryError(f"invalid geometry in filter: {exc}") from None
    raise QueryError("a spatial predicate needs a geometry literal")


def _instant_bounds(value: Any) -> tuple[datetime | date | None, datetime | date | None]:
    if isinstance(value, values.Interval):
        return value.start, value.end
    if isinstance(value, (datetime, date)):
        return value, value
    raise QueryError("a temporal predicate needs a date, timestamp or interval")


def _epoch_bounds(value: Any) -> tuple[float, float]:
    from catalogue.index.sqlite.rows import OPEN_END, OPEN_START, epoch

    start, end = _instant_bounds(value)
    return (
        epoch(start.isoformat()) if isinstance(start, (datetime, date)) else OPEN_START,  # type: ignore[return-value]
        epoch(end.isoformat()) if isinstance(end, (datetime, date)) else OPEN_END,  # type: ignore[return-value]
    )


def _iso_bounds(value: Any) -> tuple[str, str]:
    start, end = _instant_bounds(value)
    return (
        start.isoformat().replace("+00:00", "Z") if start else "",
        end.isoformat().replace("+00:00", "Z") if end else "\uffff",
    )
