"""calculate: arithmetic evaluated on a whitelist of AST nodes, never with eval.

eval is not a sandbox: `eval(expr, {"__builtins__": {}})` is escaped through
`().__class__.__bases__[0].__subclasses__()`, and `9**9**9**9` pins a CPU core for good. Here the
expression is parsed, every node is checked against a short whitelist (numbers, + - * / // % **,
unary signs, calls of the listed functions, pi and e), and each bound is checked before the work it
bounds: length and parenthesis depth before parsing (Python's own parser gives up on deep nesting),
the size of a power before computing it, the argument of factorial before calling it. A visitor's
prompt steers the model's arguments, so every refusal is a plain sentence, never a traceback.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel, Field

from .base import Tool, ToolContext, ToolError

Number = int | float

# 500 characters is a long formula; it also bounds the parse and the tree walked below.
MAX_EXPRESSION_CHARS = 500
# Parenthesis depth, counted on the raw text before parsing: 10,000 nested parentheses make
# Python's parser fail (or, on older versions, crash), so they never reach it.
MAX_PARENTHESES = 50
# Depth of the syntax tree (e.g. a chain of 300 unary minus signs); keeps evaluation recursion shallow.
MAX_TREE_DEPTH = 256
# Results, and every intermediate value, stay below 10**1000: exact, printable (Python refuses to
# print integers above 4,300 digits) and cheap to compute.
MAX_DIGITS = 1000
_INT_LIMIT = 10**MAX_DIGITS
# 170! is the largest factorial a float can hold; beyond it the result is rarely what was meant.
MAX_FACTORIAL = 170
# round(x, n) builds 10**|n| internally for integers.
MAX_ROUND_DIGITS = 100


class CalculationError(ToolError):
    """The expression was refused or has no value; the message says why in plain words."""


@dataclass(frozen=True, slots=True)
class _Function:
    apply: Callable[..., Number]
    min_args: int
    max_args: int


def _sqrt(x: Number) -> Number:
    if x < 0:
        raise CalculationError("sqrt of a negative number has no real value")
    if isinstance(x, int):
        root = math.isqrt(x)
        if root * root == x:
            return root
    return math.sqrt(x)


def _log(x: Number, base: Number | None = None) -> float:
    if x <= 0:
        raise CalculationError("log is only defined for positive numbers")
    if base is None:
        return math.log(x)
    if base <= 0 or base == 1:
        raise CalculationError("the base of log must be positive and not 1")
    return math.log(x, base)


def _log10(x: Number) -> float:
    if x <= 0:
        raise CalculationError("log10 is only defined for positive numbers")
    return math.log10(x)


def _factorial(n: Number) -> int:
    if isinstance(n, float):
        if not n.is_integer():
            raise CalculationError("factorial needs a whole number")
        n = int(n)
    if n < 0:
        raise CalculationError("factorial is not defined for negative numbers")
    if n > MAX_FACTORIAL:
        raise CalculationError(f"factorial is limited to n <= {MAX_FACTORIAL}")
    return math.factorial(n)


def _round(x: Number, ndigits: Number | None = None) -> Number:
    if ndigits is None:
        return round(x)
    if not isinstance(ndigits, int):
        raise CalculationError("round(x, n) needs a whole number of digits n")
    if abs(ndigits) > MAX_ROUND_DIGITS:
        raise CalculationError(f"round(x, n) is limited to |n| <= {MAX_ROUND_DIGITS}")
    return round(x, ndigits)


FUNCTIONS: dict[str, _Function] = {
    "sqrt": _Function(_sqrt, 1, 1),
    "sin": _Function(math.sin, 1, 1),
    "cos": _Function(math.cos, 1, 1),
    "tan": _Function(math.tan, 1, 1),
    "log": _Function(_log, 1, 2),
    "log10": _Function(_log10, 1, 1),
    "exp": _Function(math.exp, 1, 1),
    "abs": _Function(abs, 1, 1),
    "round": _Function(_round, 1, 2),
    "floor": _Function(math.floor, 1, 1),
    "ceil": _Function(math.ceil, 1, 1),
    "factorial": _Function(_factorial, 1, 1),
    "radians": _Function(math.radians, 1, 1),
    "degrees": _Function(math.degrees, 1, 1),
}

CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}

_OPERATORS: dict[type[ast.operator], Callable[[Number, Number], Number]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Mod: lambda a, b: a % b,
}

# What a refused node is called in the message, for the constructs a hostile prompt reaches for.
_REFUSED: dict[type[ast.AST], str] = {
    ast.Attribute: "Attribute access (.) is not allowed",
    ast.Subscript: "Indexing ([...]) is not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.ListComp: "Comprehensions are not allowed",
    ast.SetComp: "Comprehensions are not allowed",
    ast.DictComp: "Comprehensions are not allowed",
    ast.GeneratorExp: "Comprehensions are not allowed",
    ast.JoinedStr: "Text is not allowed, only numbers",
    ast.Compare: "Comparisons are not allowed",
    ast.BoolOp: "and/or are not allowed",
    ast.IfExp: "Conditional expressions are not allowed",
    ast.NamedExpr: "Assignment is not allowed",
    ast.Tuple: "Tuples and lists are not allowed",
    ast.List: "Tuples and lists are not allowed",
    ast.Set: "Sets and dicts are not allowed",
    ast.Dict: "Sets and dicts are not allowed",
    ast.Starred: "Unpacking (*) is not allowed",
    ast.Await: "await is not allowed",
}


def evaluate(expression: str) -> Number:
    """The value of an arithmetic expression; CalculationError for anything refused or undefined."""
    text = expression.strip()
    if not text:
        raise CalculationError("The expression is empty")
    if len(text) > MAX_EXPRESSION_CHARS:
        raise CalculationError(f"The expression is longer than {MAX_EXPRESSION_CHARS} characters")
    _check_parentheses(text)
    try:
        # ^ is a power, as in most calculators (Python would read it as bitwise xor)
        tree = ast.parse(text.replace("^", "**"), mode="eval")
    except SyntaxError as exc:
        raise CalculationError("This is not a valid arithmetic expression") from exc
    except (ValueError, RecursionError, MemoryError) as exc:
        raise CalculationError("This expression is too complex to evaluate") from exc
    return _eval(tree.body, 1)


def _check_parentheses(text: str) -> None:
    depth = 0
    for char in text:
        if char in "([{":
            depth += 1
            if depth > MAX_PARENTHESES:
                raise CalculationError(f"Parentheses are nested more than {MAX_PARENTHESES} deep")
        elif char in ")]}":
            depth -= 1


def _eval(node: ast.AST, depth: int) -> Number:
    if depth > MAX_TREE_DEPTH:
        raise CalculationError("This expression is nested too deeply")
    if isinstance(node, ast.Constant):
        return _constant(node.value)
    if isinstance(node, ast.Name):
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        if node.id in FUNCTIONS:
            raise CalculationError(f"{node.id} is a function: write {node.id}(x)")
        raise CalculationError(f"Unknown name {node.id[:40]!r}: only pi, e and the listed functions are allowed")
    if isinstance(node, ast.UnaryOp):
        operand = _eval(node.operand, depth + 1)
        if isinstance(node.op, ast.USub):
            return -operand
        if isinstance(node.op, ast.UAdd):
            return +operand
        raise CalculationError("Only the unary signs + and - are allowed")
    if isinstance(node, ast.BinOp):
        left = _eval(node.left, depth + 1)
        right = _eval(node.right, depth + 1)
        return _binary(node.op, left, right)
    if isinstance(node, ast.Call):
        return _call(node, depth)
    raise CalculationError(_REFUSED.get(type(node), f"{type(node).__name__} is not allowed: only arithmetic"))


def _constant(value: object) -> Number:
    if isinstance(value, bool) or value is None or value is Ellipsis:
        raise CalculationError("Only numbers are allowed")
    if isinstance(value, int | float):
        return _checked(value)
    if isinstance(value, complex):
        raise CalculationError("Complex numbers are not supported")
    raise CalculationError("Text is not allowed, only numbers")


def _binary(op: ast.operator, left: Number, right: Number) -> Number:
    if isinstance(op, ast.Pow):
        return _power(left, right)
    operator = _OPERATORS.get(type(op))
    if operator is None:
        raise CalculationError("Only + - * / // % and ** (or ^) are allowed")
    try:
        return _checked(operator(left, right))
    except ZeroDivisionError as exc:
        raise CalculationError("Division by zero") from exc
    except OverflowError as exc:
        raise CalculationError(_too_large()) from exc


def _power(base: Number, exponent: Number) -> Number:
    if base == 0 and exponent < 0:
        raise CalculationError("Division by zero (0 to a negative power)")
    if base != 0 and abs(base) != 1:
        # the result has about exponent * log10|base| digits: refuse before computing it
        try:
            digits = float(exponent) * math.log10(abs(base))
        except OverflowError as exc:
            raise CalculationError(_too_large()) from exc
        if digits > MAX_DIGITS:
            raise CalculationError(f"The power is too large: its result would have about {digits:.3g} digits")
    try:
        return _checked(base**exponent)
    except ZeroDivisionError as exc:
        raise CalculationError("Division by zero") from exc
    except OverflowError as exc:
        raise CalculationError(_too_large()) from exc


def _call(node: ast.Call, depth: int) -> Number:
    if not isinstance(node.func, ast.Name):
        # e.g. ().__class__.__bases__[0].__subclasses__(): refuse what is being called
        _eval(node.func, depth + 1)
        raise CalculationError("Only the listed functions may be called")
    name = node.func.id
    function = FUNCTIONS.get(name)
    if function is None:
        raise CalculationError(f"Unknown function {name[:40]!r}; available: {', '.join(FUNCTIONS)}")
    if node.keywords or any(isinstance(arg, ast.Starred) for arg in node.args):
        raise CalculationError(f"{name} takes plain arguments only")
    if not function.min_args <= len(node.args) <= function.max_args:
        expected = (
            str(function.min_args)
            if function.min_args == function.max_args
            else f"{function.min_args} or {function.max_args}"
        )
        raise CalculationError(f"{name} takes {expected} argument{'s' if expected != '1' else ''}")
    args = [_eval(arg, depth + 1) for arg in node.args]
    try:
        return _checked(function.apply(*args))
    except CalculationError:
        raise
    except ZeroDivisionError as exc:
        raise CalculationError("Division by zero") from exc
    except OverflowError as exc:
        raise CalculationError(f"A number is too large for {name}") from exc
    except ValueError as exc:
        raise CalculationError(f"{name} is not defined for this value") from exc


def _checked(value: object) -> Number:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        if abs(value) >= _INT_LIMIT:
            raise CalculationError(_too_large())
        return value
    if isinstance(value, float):
        if math.isnan(value):
            raise CalculationError("The result is not a number")
        if math.isinf(value):
            raise CalculationError(_too_large())
        return value
    if isinstance(value, complex):
        raise CalculationError("The result would be a complex number, which is not supported")
    raise CalculationError("The result is not a number")


def _too_large() -> str:
    return f"The result is too large (whole numbers up to {MAX_DIGITS} digits, decimals up to about 1.8e308)"


def format_number(value: Number) -> str:
    """Integers exactly; floats to 12 significant digits, whole ones without a decimal point."""
    if isinstance(value, int):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.12g}"


class CalculatorArgs(BaseModel):
    expression: str = Field(
        min_length=1,
        max_length=MAX_EXPRESSION_CHARS,
        description="Arithmetic expression, e.g. '2 + 2 * 3', 'sqrt(2) ^ 2' or 'sin(30 * pi / 180)'.",
    )


class Calculator(Tool[CalculatorArgs]):
    name = "calculate"
    label = "Calculated"
    description = (
        "Evaluate an arithmetic expression exactly. Supports numbers, + - * / // %, ** or ^ for powers, "
        "parentheses, sqrt, sin, cos, tan, log (natural; log(x, base) for another base), log10, exp, abs, "
        f"round(x, digits), floor, ceil, factorial (n <= {MAX_FACTORIAL}), radians, degrees, and the constants "
        "pi and e. sin, cos and tan take RADIANS: for degrees write sin(radians(30)). Results are limited "
        f"to {MAX_DIGITS} digits."
    )
    Args = CalculatorArgs

    async def run(self, args: CalculatorArgs, ctx: ToolContext) -> str:
        expression = args.expression.strip()
        return f"Result: {expression} = {format_number(evaluate(expression))}"
