"""calculate: exact results, and a hostile corpus refused with a clear message (never evaluated)."""

from __future__ import annotations

import re

import pytest

from portfolio_backend.tools.calculator import (
    MAX_DIGITS,
    MAX_EXPRESSION_CHARS,
    MAX_PARENTHESES,
    CalculationError,
    Calculator,
    evaluate,
    format_number,
)

from .conftest import ToolBench


def calc(expression: str) -> str:
    return format_number(evaluate(expression))


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("2 + 2 * 3", "8"),
        ("(2 + 2) * 3", "12"),
        ("7 // 2", "3"),
        ("-7 % 3", "2"),
        ("10 / 4", "2.5"),
        ("-(-3)", "3"),
        ("+5", "5"),
        ("2 ** 10", "1024"),
        ("2 ^ 10", "1024"),
        ("2 + 3 ^ 2", "11"),  # ^ binds like a power, not like Python's xor
        ("2 ** 3 ** 2", "512"),  # right-associative
        ("2 ** -1", "0.5"),
        ("2 ** 100", "1267650600228229401496703205376"),  # integers stay exact
        ("factorial(25)", "15511210043330985984000000"),
        ("sqrt(16)", "4"),
        ("sqrt(2)", "1.41421356237"),
        ("0.1 + 0.2", "0.3"),
        ("1 / 3", "0.333333333333"),
        ("1e20 * 10", "1e+21"),
        ("pi", "3.14159265359"),
        ("e", "2.71828182846"),
        ("log(e)", "1"),
        ("log(8, 2)", "3"),
        ("log10(1000)", "3"),
        ("exp(0)", "1"),
        ("abs(-3.5)", "3.5"),
        ("round(2.567, 2)", "2.57"),
        ("round(2.5)", "2"),
        ("floor(-2.5)", "-3"),
        ("ceil(-2.5)", "-2"),
        ("sin(pi / 2)", "1"),
        ("cos(0)", "1"),
        ("tan(0)", "0"),
        ("sin(radians(30))", "0.5"),
        ("degrees(pi)", "180"),
        ("1_000 * 3", "3000"),
        ("  15 * 7 + 23  ", "128"),
    ],
)
def test_evaluates_arithmetic(expression: str, expected: str) -> None:
    assert calc(expression) == expected


def test_results_up_to_the_digit_limit_are_exact() -> None:
    assert calc(f"10 ** {MAX_DIGITS - 1}") == "1" + "0" * (MAX_DIGITS - 1)
    with pytest.raises(CalculationError, match="too large"):
        evaluate(f"10 ** {MAX_DIGITS}")


def test_trig_takes_radians_and_the_description_says_so() -> None:
    assert "RADIANS" in Calculator.description
    assert calc("sin(30)") == "-0.988031624093"


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("1 / 0", "Division by zero"),
        ("5 // 0", "Division by zero"),
        ("5 % 0", "Division by zero"),
        ("0 ** -1", "Division by zero"),
        ("sqrt(-1)", "negative number"),
        ("log(0)", "positive numbers"),
        ("log(-5)", "positive numbers"),
        ("log(8, 1)", "base of log"),
        ("log10(0)", "positive numbers"),
        ("factorial(-1)", "negative"),
        ("factorial(2.5)", "whole number"),
        ("(-8) ** (1 / 3)", "complex"),
        ("exp(1000)", "too large for exp"),
        ("1e308 * 10", "too large"),
        ("2.0 ** 2000", "too large"),
        ("round(1.5, 0.5)", "whole number of digits"),
        ("sqrt(1, 2)", "takes 1 argument"),
        ("log()", "takes 1 or 2 arguments"),
        ("", "empty"),
        ("2 +", "not a valid arithmetic expression"),
        ("1j", "Complex numbers"),
        ("sqrt", r"write sqrt\(x\)"),
    ],
)
def test_undefined_results_are_clear_errors(expression: str, message: str) -> None:
    with pytest.raises(CalculationError, match=message):
        evaluate(expression)


# A visitor's prompt steers these into the tool: each must be refused, none evaluated.
HOSTILE = [
    ("9**9**9**9", "power is too large"),
    ("10**10**10", "power is too large"),
    ("2 ^ 2 ^ 2 ^ 2 ^ 2 ^ 2", "power is too large"),
    ("factorial(10**6)", "factorial is limited"),
    ("factorial(factorial(170))", "factorial is limited"),
    ("10**999 * 10**999", "too large"),
    ("round(5, -10**6)", r"round\(x, n\) is limited"),
    ("sin(10**500)", "too large for sin"),
    ("0.5 ** -5000", "power is too large"),
    ("().__class__.__bases__[0].__subclasses__()", "Attribute access"),
    ("(1).__class__", "Attribute access"),
    ("__import__('os').system('id')", "Attribute access"),
    ("__import__('os')", "Unknown function '__import__'"),
    ("eval('1')", "Unknown function 'eval'"),
    ("open('/etc/passwd')", "Unknown function 'open'"),
    ("x + 1", "Unknown name 'x'"),
    ("__builtins__", "Unknown name"),
    ("lambda: 1", "lambda is not allowed"),
    ("[x for x in range(10**9)]", "Comprehensions"),
    ("(x for x in ())", "Comprehensions"),
    ("'a' * 10**9", "Text is not allowed"),
    ("f'{1}'", "Text is not allowed"),
    ("b'x'", "Text is not allowed"),
    ("[1, 2][0]", "Indexing"),
    ("(1, 2)", "Tuples and lists"),
    ("{1: 2}", "Sets and dicts"),
    ("1 < 2", "Comparisons"),
    ("1 and 2", "and/or"),
    ("1 if 1 else 2", "Conditional"),
    ("(y := 5)", "Assignment"),
    ("~5", "unary signs"),
    ("5 << 1000000", r"Only \+ - \* / // %"),
    ("5 & 3", r"Only \+ - \* / // %"),
    ("True + 1", "Only numbers"),
    ("None", "Only numbers"),
    ("sqrt(*[4])", "Indexing|plain arguments|Tuples and lists"),
    ("round(x=1)", "plain arguments"),
    ("(1)(2)", "Only the listed functions"),
    ("1; 2", "not a valid arithmetic expression"),
    ("import os", "not a valid arithmetic expression"),
    ("1\x00", "not a valid arithmetic expression|too complex"),
    ("-" * 400 + "1", "nested too deeply"),
    ("(" * (MAX_PARENTHESES + 1) + "1" + ")" * (MAX_PARENTHESES + 1), "nested more than"),
    ("(" * 10_000 + "1" + ")" * 10_000, f"longer than {MAX_EXPRESSION_CHARS}"),
    ("[" * 10_000, f"longer than {MAX_EXPRESSION_CHARS}"),
    ("9" * (MAX_EXPRESSION_CHARS + 1), f"longer than {MAX_EXPRESSION_CHARS}"),
]


@pytest.mark.parametrize(("expression", "message"), HOSTILE, ids=[e[:40] for e, _ in HOSTILE])
def test_hostile_expressions_are_refused_before_any_work(expression: str, message: str) -> None:
    with pytest.raises(CalculationError, match=message):
        evaluate(expression)


def test_parentheses_are_counted_before_python_parses_them() -> None:
    # within the length bound, but deeper than Python's parser accepts (it gives up near 200)
    deep = "(" * 240 + "1" + ")" * 240
    with pytest.raises(CalculationError, match=f"nested more than {MAX_PARENTHESES} deep"):
        evaluate(deep)


async def test_calculate_answers_like_the_seed(bench: ToolBench) -> None:
    assert await bench.call("calculate", {"expression": "2 + 2 * 3"}) == (True, "Result: 2 + 2 * 3 = 8")


async def test_hostile_corpus_through_the_registry_gets_error_results(bench: ToolBench) -> None:
    """The path the model's calls take: every hostile input comes back as a plain error result."""
    for expression, message in HOSTILE:
        ok, text = await bench.call("calculate", {"expression": expression})
        assert not ok, expression
        if len(expression) > MAX_EXPRESSION_CHARS:  # the argument schema refuses it first
            assert text == f"Error: expression: String should have at most {MAX_EXPRESSION_CHARS} characters"
        else:
            assert text.startswith("Error: "), text
            assert re.search(message, text), text


async def test_an_overlong_expression_is_refused_by_the_argument_schema(bench: ToolBench) -> None:
    ok, text = await bench.call("calculate", {"expression": "(" * 10_000 + "1" + ")" * 10_000})
    assert not ok
    assert text == f"Error: expression: String should have at most {MAX_EXPRESSION_CHARS} characters"


async def test_a_missing_expression_is_an_argument_error(bench: ToolBench) -> None:
    assert await bench.call("calculate", {}) == (False, "Error: expression: Field required")
