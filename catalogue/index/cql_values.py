"""What every backend's CQL2 translator does alike with the leaves of a pygeofilter AST.

Queryables are resolved by the backend (``resolve``); geometries, envelopes, intervals and plain
literals pass through to the operator handlers; functions, array operators and arithmetic are
refused with a clear error. The SQLite and search-engine translators inherit these handlers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from pygeofilter import ast, values
from pygeofilter.backends.evaluator import Evaluator, handle

from catalogue.errors import QueryError
from catalogue.query import check_integer


class CQLValues(Evaluator):  # type: ignore[misc]
    """The value handlers; subclasses add the operators and set ``resolve``."""

    resolve: Callable[[str], Any]
    """What a queryable name stands for in the backend's query language."""

    @handle(ast.Attribute)
    def attribute(self, node: ast.Attribute) -> Any:
        return self.resolve(node.name)

    @handle(values.Geometry)
    def geometry(self, node: values.Geometry) -> values.Geometry:
        return node

    @handle(values.Envelope)
    def envelope(self, node: values.Envelope) -> values.Envelope:
        return node

    @handle(values.Interval)
    def interval(self, node: values.Interval, *bounds: Any) -> values.Interval:
        return node

    @handle(ast.Function)
    def function(self, node: ast.Function, *args: Any) -> Any:
        raise QueryError(f"function {node.name!r} is not supported in filters")

    @handle(ast.ArrayPredicate, subclasses=True)
    def array(self, node: ast.ArrayPredicate, lhs: Any, rhs: Any) -> Any:
        raise QueryError(f"array operator {node.op.name} is not supported in filters")

    @handle(ast.Arithmetic, subclasses=True)
    def arithmetic(self, node: ast.Arithmetic, lhs: Any, rhs: Any) -> Any:
        raise QueryError("arithmetic is not supported in filters")

    def adopt(self, node: Any, *sub_args: Any) -> Any:
        # literals (str, int, float, bool, date, datetime, lists) pass through unchanged, but
        # an integer neither backend can hold is refused (SQLite would fail to bind it)
        if isinstance(node, int) and not isinstance(node, bool):
            return check_integer(node, "filter")
        if isinstance(node, (str, bool, float, date, datetime, list)) or node is None:
            return node
        raise QueryError(f"unsupported filter element: {type(node).__name__}")


# The temporal operators as conditions on an interval's start and end: operator: (joiner,
# [(attribute side, comparison, bound of the other interval)]); used by every backend.
TEMPORAL: dict[str, tuple[str, list[tuple[str, str, str]]]] = {
    "AFTER": ("AND", [("start", ">", "b1")]),
    "BEFORE": ("AND", [("end", "<", "b0")]),
    "DURING": ("AND", [("start", ">", "b0"), ("end", "<", "b1")]),
    "TEQUALS": ("AND", [("start", "=", "b0"), ("end", "=", "b1")]),
    "BEGINS": ("AND", [("start", "=", "b0"), ("end", "<", "b1")]),
    "BEGUNBY": ("AND", [("start", "=", "b0"), ("end", ">", "b1")]),
    "ENDS": ("AND", [("start", ">", "b0"), ("end", "=", "b1")]),
    "ENDEDBY": ("AND", [("start", "<", "b0"), ("end", "=", "b1")]),
    "TCONTAINS": ("AND", [("start", "<", "b0"), ("end", ">", "b1")]),
    "MEETS": ("AND", [("end", "=", "b0")]),
    "METBY": ("AND", [("start", "=", "b1")]),
    "TOVERLAPS": ("AND", [("start", "<", "b0"), ("end", ">", "b0"), ("end", "<", "b1")]),
    "OVERLAPPEDBY": ("AND", [("start", ">", "b0"), ("start", "<", "b1"), ("end", ">", "b1")]),
    "DISJOINT": ("OR", [("end", "<", "b0"), ("start", ">", "b1")]),
    "BEFORE_OR_DURING": ("AND", [("end", "<=", "b1")]),
    "DURING_OR_AFTER": ("AND", [("start", ">=", "b0")]),
}
