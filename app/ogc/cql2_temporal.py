"""CQL2 temporal functions (`T_AFTER(datetime, TIMESTAMP('...'))`, ...) as plain comparisons.

pygeofilter 0.4 knows the operators but not as CQL2 1.0 writes them: its text grammar takes
only the old infix form (`datetime T_AFTER ...`), its JSON parser reads `t_intersects` as
`t_overlaps`, and its SQLAlchemy backend turns AFTER into `>=`. So both languages are read
here into `Function('t_after', [a, b])` nodes (text: a grammar that also accepts a function
call as a predicate; JSON: `{"op": "t_after"}` renamed into a function before parsing), and
every temporal node is rewritten into the comparisons of the standard's definitions
(CQL2 1.0, "Temporal functions"), with an instant taken as the interval [t, t]. The
comparisons then go through the same backend as every other filter: bind parameters only.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from lark import Lark, v_args
from pygeofilter import ast, values
from pygeofilter.parsers import cql2_text

Bound = Any  # an ast.Attribute, a date/datetime, or None for an open end ("..")
Ends = tuple[Bound, Bound]

# as, ae: the first argument's start and end; bs, be: the second's (CQL2 1.0, Table 6)
DEFINITIONS: dict[str, list[list[tuple[str, str, str]]]] = {  # OR of ANDs
    "t_after": [[("as", ">", "be")]],
    "t_before": [[("ae", "<", "bs")]],
    "t_begins": [[("as", "=", "bs"), ("ae", "<", "be")]],
    "t_begunby": [[("as", "=", "bs"), ("ae", ">", "be")]],
    "t_contains": [[("as", "<", "bs"), ("ae", ">", "be")]],
    "t_disjoint": [[("ae", "<", "bs")], [("as", ">", "be")]],
    "t_during": [[("as", ">", "bs"), ("ae", "<", "be")]],
    "t_endedby": [[("as", "<", "bs"), ("ae", "=", "be")]],
    "t_ends": [[("as", ">", "bs"), ("ae", "=", "be")]],
    "t_equals": [[("as", "=", "bs"), ("ae", "=", "be")]],
    "t_intersects": [[("as", "<=", "be"), ("ae", ">=", "bs")]],
    "t_meets": [[("ae", "=", "bs")]],
    "t_metby": [[("as", "=", "be")]],
    "t_overlappedby": [[("as", ">", "bs"), ("as", "<", "be"), ("ae", ">", "be")]],
    "t_overlaps": [[("as", "<", "bs"), ("ae", ">", "bs"), ("ae", "<", "be")]],
}
NAMES = frozenset(DEFINITIONS)
# pygeofilter's own nodes (the infix text form); its JSON reads t_intersects as t_overlaps,
# which is why JSON temporal operators are renamed before pygeofilter sees them
_CLASSES = {
    ast.TimeAfter: "t_after",
    ast.TimeBefore: "t_before",
    ast.TimeBegins: "t_begins",
    ast.TimeBegunBy: "t_begunby",
    ast.TimeContains: "t_contains",
    ast.TimeDisjoint: "t_disjoint",
    ast.TimeDuring: "t_during",
    ast.TimeEndedBy: "t_endedby",
    ast.TimeEnds: "t_ends",
    ast.TimeEquals: "t_equals",
    ast.TimeMeets: "t_meets",
    ast.TimeMetBy: "t_metby",
    ast.TimeOverlappedBy: "t_overlappedby",
    ast.TimeOverlaps: "t_overlaps",
}
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "=": ast.Equal,
    "<": ast.LessThan,
    ">": ast.GreaterThan,
    "<=": ast.LessEqual,
    ">=": ast.GreaterEqual,
}


class TemporalArgumentError(ValueError):
    """A temporal function with other than two instants or intervals."""


@v_args(inline=True)
class _Transformer(cql2_text.parser.CQLTransformer):
    def temporal_function(self, op: Any, lhs: Any, rhs: Any) -> ast.Function:
        return ast.Function(str(op).lower(), [lhs, rhs])

    def OPEN_END(self, token: Any) -> None:  # noqa: N802 (Lark names terminal callbacks so)
        return None


@cache
def _text_parser() -> Lark:
    """pygeofilter's CQL2-text grammar, plus: a function call may stand as a predicate."""
    folder = os.path.dirname(cql2_text.__file__)
    with open(os.path.join(folder, "grammar.lark"), encoding="utf-8") as handle:
        grammar = handle.read()
    infix = "-> binary_temporal_predicate\n"
    grammar = grammar.replace(
        infix,
        infix + '    | _binary_temporal_predicate_func "(" expression "," expression ")"'
        " -> temporal_function\n",
        1,
    )
    # INTERVAL also takes dates and open ends ('..'), as CQL2 1.0 writes them
    interval = """?interval: "INTERVAL" "("  "'" DATETIME "'" "," "'" DATETIME "'" ")"\n"""
    if interval not in grammar:
        raise RuntimeError("la gramática CQL2 de pygeofilter cambió: revise cql2_temporal")
    grammar = grammar.replace(
        interval,
        """interval: "INTERVAL" "(" interval_end "," interval_end ")"\n"""
        """?interval_end: "'" DATETIME "'" | "'" DATE "'" | OPEN_END\n"""
        """OPEN_END: "'..'"\n""",
    )
    # T_DISJOINT is missing from pygeofilter's operator list
    grammar = grammar.replace(
        '!_binary_temporal_predicate_func: "T_BEFORE"i\n',
        '!_binary_temporal_predicate_func: "T_BEFORE"i\n                        | "T_DISJOINT"i\n',
        1,
    )
    return Lark(
        grammar,
        parser="lalr",
        maybe_placeholders=False,
        transformer=_Transformer(),
        import_paths=[os.path.dirname(folder)],
        source_path=os.path.join(folder, "grammar.lark"),
    )


def parse_text(text: str) -> Any:
    return rewrite(_text_parser().parse(text))


def json_functions(node: Any) -> Any:
    """`{"op": "t_after", "args": [a, b]}` as a function node pygeofilter reads untouched."""
    if isinstance(node, list):
        return [json_functions(item) for item in node]
    if not isinstance(node, dict):
        return node
    if str(node.get("op", "")).lower() in NAMES and isinstance(node.get("args"), list):
        return {"function": {"name": node["op"].lower(), "arguments": json_functions(node["args"])}}
    return {key: json_functions(value) for key, value in node.items()}


def _ends(operand: Any) -> Ends:
    if isinstance(operand, ast.Attribute | datetime | date):
        return operand, operand
    if isinstance(operand, values.Interval) and not any(
        isinstance(end, timedelta) for end in (operand.start, operand.end)
    ):
        return operand.start, operand.end
    raise TemporalArgumentError(
        "los argumentos de una función temporal son propiedades, TIMESTAMP, DATE o INTERVAL"
    )


def _temporal(name: str, first: Any, second: Any) -> Any:
    ends = dict(zip(("as", "ae"), _ends(first), strict=True))
    ends |= dict(zip(("bs", "be"), _ends(second), strict=True))
    attribute = next((v for v in ends.values() if isinstance(v, ast.Attribute)), None)
    if attribute is None:
        raise TemporalArgumentError("una función temporal compara al menos una propiedad")
    options = []
    for conjunction in DEFINITIONS[name]:
        terms = []
        possible = True
        for left, op, right in conjunction:
            lhs, rhs = ends[left], ends[right]
            if lhs is None or rhs is None:
                possible = possible and _open_holds(left, op, right, lhs, rhs)
                continue
            terms.append(_COMPARE[op](lhs, rhs))
        if possible:
            options.append(terms)
    present = ast.Not(ast.IsNull(attribute, False))
    if not options:  # nothing can hold: no row matches
        return ast.And(ast.IsNull(attribute, False), present)
    # a conjunction that open ends made empty holds for every row with a value
    branches = [ast.And.from_items(*terms) if terms else present for terms in options]
    return ast.Or.from_items(*branches) if len(branches) > 1 else branches[0]


def _open_holds(left: str, op: str, right: str, lhs: Bound, rhs: Bound) -> bool:
    """Whether `lhs op rhs` holds when one side is an open end (start -inf, end +inf)."""

    def infinity(name: str) -> float:
        return float("-inf") if name.endswith("s") else float("inf")

    low = infinity(left) if lhs is None else 0.0
    high = infinity(right) if rhs is None else 0.0
    return bool(
        {"=": low == high, "<": low < high, ">": low > high, "<=": low <= high, ">=": low >= high}[
            op
        ]
    )


def rewrite(node: Any) -> Any:
    """The filter with every temporal function replaced by its comparisons."""
    if isinstance(node, ast.Function) and node.name.lower() in NAMES:
        if len(node.arguments) != 2:
            raise TemporalArgumentError(f"{node.name.upper()} lleva dos argumentos")
        return _temporal(node.name.lower(), *node.arguments)
    if isinstance(node, ast.TemporalPredicate):
        return _temporal(_CLASSES[type(node)], node.lhs, node.rhs)
    if isinstance(node, ast.Combination):
        return type(node).from_items(rewrite(node.lhs), rewrite(node.rhs))
    if isinstance(node, ast.Not):
        return ast.Not(rewrite(node.sub_node))
    return node
