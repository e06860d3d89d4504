"""The built-in calculator tool: exact arithmetic from a whitelist evaluator (no eval).

The expression is parsed with Python's ``ast`` and walked by ``_Evaluator``, which knows
numbers, ``+ - * / // % **``, unary signs, the constants ``pi`` and ``e`` and the functions
in ``FUNCTIONS``; any other syntax (names, attributes, lambdas, comprehensions, subscripts,
comparisons, keyword arguments…) is refused with a sentence saying what is not allowed.
Numbers are exact where they can be (see ``calculator_math``); limits on the expression's
length, size and nesting and on every result stop abuse before any work is done.
"""

from __future__ import annotations

import ast
from decimal import Context, Decimal, localcontext
from fractions import Fraction
from typing import Any, Callable

from app.domain.tools import calculator_math as m
from app.domain.tools.calculator_math import CalculatorError, Value
from app.domain.tools.types import ToolSpec

MAX_LENGTH = 1000
MAX_NODES = 400
MAX_DEPTH = 60

DESCRIPTION = (
    "Exact arithmetic. Integers of any size, fractions (1/3 stays 1/3) and decimals "
    "(0.1 + 0.2 is exactly 0.3). Operators: + - * / // % ** and parentheses. Functions: "
    "sqrt, exp, log(x) or log(x, base), log10, log2, sin, cos, tan (radians), factorial, "
    "gcd, abs, round(x) or round(x, digits) (halves away from zero), floor, ceil, min, max; "
    "constants pi and e. Results that are not exact are marked with ≈ and have 30 "
    "significant digits."
)

CALCULATOR_SPEC = ToolSpec(
    name="calculator",
    description=DESCRIPTION,
    parameters={
        "type": "object",
        "properties": {
            "expression": {
                "type": "string",
                "description": "The expression to evaluate, e.g. \"(2**64 - 1) / 3\" or \"sqrt(2) * pi\".",
            }
        },
        "required": ["expression"],
        "additionalProperties": False,
    },
    source="builtin",
)

# name -> (function, smallest and largest number of arguments)
FUNCTIONS: dict[str, tuple[Callable[..., Value], int, int]] = {
    "sqrt": (m.sqrt, 1, 1),
    "exp": (m.exp, 1, 1),
    "log": (m.log, 1, 2),
    "ln": (m.log, 1, 1),
    "log10": (lambda x: m.log(x, Fraction(10)), 1, 1),
    "log2": (lambda x: m.log(x, Fraction(2)), 1, 1),
    "sin": (m.sin, 1, 1),
    "cos": (m.cos, 1, 1),
    "tan": (m.tan, 1, 1),
    "factorial": (m.factorial, 1, 1),
    "gcd": (m.gcd, 1, 20),
    "abs": (m.absolute, 1, 1),
    "round": (m.round_half_away, 1, 2),
    "floor": (m.floor, 1, 1),
    "ceil": (m.ceil, 1, 1),
    "min": (m.smallest, 1, 50),
    "max": (m.largest, 1, 50),
}
CONSTANTS = {"pi": m.PI, "e": m.E}

_BINARY: dict[type, Callable[[Value, Value], Value]] = {
    ast.Add: m.add, ast.Sub: m.sub, ast.Mult: m.mul, ast.Div: m.div,
    ast.FloorDiv: m.floordiv, ast.Mod: m.mod, ast.Pow: m.power,
}
_SYMBOLS = {"×": "*", "÷": "/", "−": "-", "·": "*"}
_WHAT = {
    ast.Attribute: "attribute access (x.y)", ast.Lambda: "a lambda", ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension", ast.DictComp: "a comprehension", ast.GeneratorExp: "a generator",
    ast.Subscript: "indexing (x[i])", ast.Compare: "a comparison", ast.BoolOp: "and/or",
    ast.IfExp: "if/else", ast.List: "a list", ast.Tuple: "a tuple", ast.Dict: "a dict",
    ast.Set: "a set", ast.Starred: "*unpacking", ast.NamedExpr: "an assignment (:=)",
    ast.JoinedStr: "an f-string", ast.Await: "await",
}


class _Evaluator:
    """Walks a parsed expression, allowing only the calculator's syntax."""

    def __init__(self, source: str) -> None:
        self.source = source

    def eval(self, node: ast.AST, depth: int = 0) -> Value:
        if depth > MAX_DEPTH:
            raise CalculatorError(f"The expression is nested more than {MAX_DEPTH} levels deep.")
        if isinstance(node, ast.Constant):
            return self._constant(node)
        if isinstance(node, ast.BinOp):
            op = _BINARY.get(type(node.op))
            if op is None:
                if isinstance(node.op, ast.BitXor):
                    raise CalculatorError("^ is not a power here: write ** (2**10).")
                raise CalculatorError(f"The operator {_op_text(node.op)} is not supported.")
            return op(self.eval(node.left, depth + 1), self.eval(node.right, depth + 1))
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                return m.neg(self.eval(node.operand, depth + 1))
            if isinstance(node.op, ast.UAdd):
                return self.eval(node.operand, depth + 1)
            raise CalculatorError(f"The operator {_op_text(node.op)} is not supported.")
        if isinstance(node, ast.Name):
            if node.id in CONSTANTS:
                return +CONSTANTS[node.id]
            if node.id in FUNCTIONS:
                raise CalculatorError(f"{node.id} is a function: write {node.id}(…).")
            raise CalculatorError(f"Unknown name {node.id!r}; the calculator knows pi and e.")
        if isinstance(node, ast.Call):
            return self._call(node, depth)
        what = _WHAT.get(type(node), f"this syntax ({type(node).__name__})")
        raise CalculatorError(f"{what[0].upper()}{what[1:]} is not allowed in a calculator expression.")

    def _constant(self, node: ast.Constant) -> Value:
        v = node.value
        if isinstance(v, bool) or not isinstance(v, (int, float, complex)):
            raise CalculatorError(f"{v!r} is not a number.")
        if isinstance(v, complex):
            raise CalculatorError("Complex numbers are not supported.")
        if isinstance(v, int):
            return m.check_exact(Fraction(v))
        text = ast.get_source_segment(self.source, node) or repr(v)
        return m.literal(text)

    def _call(self, node: ast.Call, depth: int) -> Value:
        if not isinstance(node.func, ast.Name):
            if isinstance(node.func, ast.Attribute):
                raise CalculatorError("Attribute access (x.y) is not allowed in a calculator expression.")
            raise CalculatorError("Only the calculator's functions can be called.")
        name = node.func.id
        if name not in FUNCTIONS:
            known = ", ".join(sorted(FUNCTIONS))
            raise CalculatorError(f"Unknown function {name!r}; the calculator knows {known}.")
        if node.keywords:
            raise CalculatorError(f"{name} takes no keyword arguments.")
        fn, low, high = FUNCTIONS[name]
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise CalculatorError("*unpacking is not allowed in a calculator expression.")
        if not low <= len(node.args) <= high:
            count = str(low) if low == high else f"{low} to {high}"
            raise CalculatorError(f"{name} takes {count} argument{'s' if high > 1 else ''}.")
        return fn(*(self.eval(a, depth + 1) for a in node.args))


def _op_text(op: ast.AST) -> str:
    return {ast.BitAnd: "&", ast.BitOr: "|", ast.LShift: "<<", ast.RShift: ">>", ast.MatMult: "@",
            ast.Invert: "~", ast.Not: "not"}.get(type(op), type(op).__name__)


def evaluate(expression: str) -> Value:
    """The value of ``expression``: a ``Fraction`` if exact, a ``Decimal`` if not."""
    if not isinstance(expression, str):
        raise CalculatorError("The expression must be text.")
    if len(expression) > MAX_LENGTH:
        raise CalculatorError(f"The expression is longer than {MAX_LENGTH} characters.")
    text = expression.strip()
    for symbol, op in _SYMBOLS.items():
        text = text.replace(symbol, op)
    if not text:
        raise CalculatorError("The expression is empty.")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise CalculatorError(f"This is not a valid expression ({exc.msg}).") from None
    except (ValueError, MemoryError, RecursionError):
        raise CalculatorError("This expression is too complex.") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise CalculatorError(f"The expression has more than {MAX_NODES} parts.")
    with localcontext(m.context()):
        return _Evaluator(text).eval(tree.body)


def _decimal_text(d: Decimal) -> str:
    shown = Context(prec=m.SHOWN_DIGITS, Emax=10**7, Emin=-(10**7))
    d = shown.plus(d)
    if d.is_zero():
        return "0"
    d = d.normalize(shown)
    if -20 <= d.adjusted() < m.SHOWN_DIGITS:
        return format(d, "f")
    return format(d, "E")


def _terminating(f: Fraction) -> int | None:
    """Decimal places of ``f`` if it is a finite decimal, else None."""
    den, twos, fives = f.denominator, 0, 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    return max(twos, fives) if den == 1 else None


def format_value(v: Value) -> str:
    """How a result reads: ``42``, ``0.3``, ``1/3 ≈ 0.333…``, ``≈ 1.41421…``."""
    if isinstance(v, Decimal):
        return "≈ " + _decimal_text(v)
    if v.denominator == 1:
        return str(v.numerator)
    places = _terminating(v)
    if places is not None and places <= m.MAX_DIGITS:
        scaled = abs(v.numerator) * (10**places // v.denominator)
        whole, frac = divmod(scaled, 10**places)
        sign = "-" if v < 0 else ""
        return f"{sign}{whole}.{str(frac).rjust(places, '0').rstrip('0')}"
    with localcontext(m.context()):
        return f"{v.numerator}/{v.denominator} ≈ {_decimal_text(m.to_decimal(v))}"


def calculate(expression: str) -> str:
    """The result text of ``expression``; ``CalculatorError`` says what is wrong."""
    return format_value(evaluate(expression))


def run_calculator(arguments: dict[str, Any]) -> tuple[str, bool]:
    """The tool: ``(result text, is_error)`` for a call's arguments; never raises."""
    expression = arguments.get("expression") if isinstance(arguments, dict) else None
    if not isinstance(expression, str):
        return "The calculator needs an \"expression\" string.", True
    try:
        return calculate(expression), False
    except CalculatorError as exc:
        return str(exc), True
    except (ArithmeticError, ValueError, MemoryError, RecursionError) as exc:
        # a path the limits did not foresee: still an answer the model can read
        return f"The calculator could not evaluate this expression ({type(exc).__name__}).", True
