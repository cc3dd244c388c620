"""One definition of each privacy threshold (app/privacy/thresholds.py): the producers of
public outputs and the scanner that checks them must agree, and nobody keeps a copy."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from app.privacy import public_risk_factors, public_stats, runner
from app.privacy.check import Rules, scan
from app.privacy.linked_tables import general, sensitive, threshold
from app.privacy.suppression import Key, label
from app.privacy.thresholds import (
    GENERAL_THRESHOLD,
    MIN_POPULATION,
    PUBLIC_DECIMALS,
    SENSITIVE_THRESHOLD,
)

APP = Path(__file__).resolve().parents[1] / "app"
THRESHOLD_VALUES = {GENERAL_THRESHOLD, SENSITIVE_THRESHOLD, MIN_POPULATION, PUBLIC_DECIMALS}
RULE_NAME = re.compile(r"threshold|population|decimals|precision", re.IGNORECASE)


@pytest.mark.parametrize(
    ("key", "count_key"),
    [(general("B01", "2025-01", "40"), "count"), (sensitive("2025-Q1"), "sensitive_count")],
    ids=["general", "sensitive"],
)
def test_what_the_producer_hides_is_what_the_scanner_calls_small(key: Key, count_key: str) -> None:
    due = threshold(key)  # the producer's threshold for this kind of cell
    rules = Rules()
    assert scan("/x", {count_key: label(due)}, rules) == []  # its label passes the scanner
    assert scan("/x", {count_key: due}, rules) == []  # the first count it shows passes
    flagged = scan("/x", {count_key: due - 1}, rules)  # the largest count it hides is a leak
    assert [v.rule for v in flagged] == ["conteo pequeño sin suprimir"]
    assert scan("/x", {count_key: label(due - 1)}, rules) != []  # a weaker label is caught


def test_the_thresholds_are_those_of_the_one_module() -> None:
    assert threshold(general("B01", "2025-01", "40")) == GENERAL_THRESHOLD
    assert threshold(sensitive("2025-Q1")) == SENSITIVE_THRESHOLD
    assert (Rules().general_threshold, Rules().sensitive_threshold) == (
        GENERAL_THRESHOLD,
        SENSITIVE_THRESHOLD,
    )
    assert public_stats.MIN_POPULATION == MIN_POPULATION
    assert Rules().max_decimals == PUBLIC_DECIMALS
    assert runner.rules_from_db.__kwdefaults__ == {"max_decimals": PUBLIC_DECIMALS}
    assert public_risk_factors.PUBLIC_DECIMALS == PUBLIC_DECIMALS


def _copies(tree: ast.AST) -> list[str]:
    """Names like *_THRESHOLD / min_population / max_decimals given a threshold literal."""
    found: list[str] = []

    def check(name: str, value: ast.expr | None, line: int) -> None:
        if (
            RULE_NAME.search(name)
            and isinstance(value, ast.Constant)
            and type(value.value) is int
            and value.value in THRESHOLD_VALUES
        ):
            found.append(f"{line}: {name} = {value.value}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name | ast.Attribute):
                    name = target.id if isinstance(target, ast.Name) else target.attr
                    check(name, node.value, node.lineno)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            check(node.target.id, node.value, node.lineno)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            args = node.args
            positional = args.posonlyargs + args.args
            for arg, default in zip(
                positional[len(positional) - len(args.defaults) :], args.defaults, strict=True
            ):
                check(arg.arg, default, node.lineno)
            for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
                check(arg.arg, kw_default, node.lineno)
    return found


def test_no_module_keeps_its_own_copy_of_a_threshold() -> None:
    copies = {
        str(path.relative_to(APP)): found
        for path in sorted(APP.rglob("*.py"))
        if path.name != "thresholds.py"
        and (found := _copies(ast.parse(path.read_text(encoding="utf-8"))))
    }
    assert copies == {}


def test_the_scanner_finds_a_copy() -> None:
    planted = "GENERAL_THRESHOLD = 5\nclass R:\n    min_population: int = 1000\n"
    planted += "def f(*, max_decimals: int = 5) -> None: ...\n"
    assert len(_copies(ast.parse(planted))) == 3


def test_pages_and_reports_word_the_thresholds_from_the_module() -> None:
    for page in sorted((APP / "templates").rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        for literal in ("&lt;5»", "&lt;10»", "1.000 habitantes"):
            assert literal not in text, f"{page.name} writes {literal} by hand"
