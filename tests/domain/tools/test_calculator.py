"""The calculator: exact where possible, every function, every refusal, every limit."""

from __future__ import annotations

import builtins
import math
from decimal import Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.tools import calculator_math as cm
from app.domain.tools.calculator import (
    CALCULATOR_SPEC,
    FUNCTIONS,
    MAX_LENGTH,
    calculate,
    evaluate,
    format_value,
    run_calculator,
)
from app.domain.tools.calculator_math import CalculatorError
from app.domain.tools.validation import check_call
from app.domain.tools.types import ToolCall

PI_50 = "3.14159265358979323846264338327950288419716939937510"
E_50 = "2.71828182845904523536028747135266249775724709369995"


def close(expression: str, expected: Decimal | float, digits: int = 28) -> None:
    value = evaluate(expression)
    with localcontext(cm.context()):
        assert abs(cm.to_decimal(value) - Decimal(expected)) < Decimal(10) ** -digits, (expression, value)


# -- exactness ------------------------------------------------------------------------------

@pytest.mark.parametrize("expression, value, text", [
    ("2**200", Fraction(2**200), str(2**200)),
    ("1/3 + 1/6", Fraction(1, 2), "0.5"),
    ("0.1 + 0.2", Fraction(3, 10), "0.3"),
    ("0.1 * 3 - 0.3", Fraction(0), "0"),
    ("1/3", Fraction(1, 3), "1/3 ≈ 0.333333333333333333333333333333"),
    ("(2**64 - 1) / 3", Fraction(2**64 - 1, 3), "6148914691236517205"),
    ("123456789 * 987654321", Fraction(121932631112635269), "121932631112635269"),
    ("-7 // 2", Fraction(-4), "-4"),
    ("-7 % 3", Fraction(2), "2"),
    ("7.5 % 2", Fraction(3, 2), "1.5"),
    ("2 ** -3", Fraction(1, 8), "0.125"),
    ("1e30 + 1", Fraction(10**30 + 1), "1000000000000000000000000000001"),
    ("1_000.5 * 2", Fraction(2001), "2001"),
    ("-(-3)", Fraction(3), "3"),
    ("+4", Fraction(4), "4"),
    ("0x10 + 0b11", Fraction(19), "19"),
    ("8 ** (1/3)", Fraction(2), "2"),
    ("(27/8) ** (2/3)", Fraction(9, 4), "2.25"),
    ("2 × 3 ÷ 4 − 1", Fraction(1, 2), "0.5"),
])
def test_exact_results(expression, value, text):
    assert evaluate(expression) == value and isinstance(evaluate(expression), Fraction)
    assert calculate(expression) == text


def test_approximations_are_marked_and_have_30_significant_digits():
    assert calculate("pi") == "≈ 3.14159265358979323846264338328"
    assert calculate("e") == "≈ 2.71828182845904523536028747135"
    assert calculate("sqrt(2)") == "≈ 1.41421356237309504880168872421"
    assert calculate("10 ** 0.5 * 1e40").startswith("≈ 3.16227766016837933199889354443E+40")
    assert calculate("exp(-100)").startswith("≈ 3.72007597602083")  # tiny is not zero


def test_constants_to_50_digits():
    close("pi", Decimal(PI_50), 49)
    close("e", Decimal(E_50), 49)


# -- functions ------------------------------------------------------------------------------

@pytest.mark.parametrize("expression, value", [
    ("sqrt(16)", Fraction(4)), ("sqrt(1/4)", Fraction(1, 2)), ("sqrt(0)", Fraction(0)),
    ("exp(0)", Fraction(1)), ("log(1)", Fraction(0)), ("log(8, 2)", Fraction(3)), ("log10(1000)", Fraction(3)),
    ("log10(0.001)", Fraction(-3)), ("log2(1024)", Fraction(10)), ("log(1/9, 3)", Fraction(-2)),
    ("sin(0)", Fraction(0)), ("cos(0)", Fraction(1)), ("tan(0)", Fraction(0)),
    ("factorial(0)", Fraction(1)), ("factorial(20)", Fraction(math.factorial(20))),
    ("factorial(1000)", Fraction(math.factorial(1000))),
    ("gcd(12, 18)", Fraction(6)), ("gcd(12, 18, 8)", Fraction(2)), ("gcd(0, 5)", Fraction(5)),
    ("abs(-3/4)", Fraction(3, 4)), ("abs(5)", Fraction(5)),
    ("round(2.5)", Fraction(3)), ("round(-2.5)", Fraction(-3)), ("round(2.4)", Fraction(2)),
    ("round(1.2345, 2)", Fraction(123, 100)), ("round(1250, -2)", Fraction(1300)), ("round(pi, 4)", Fraction(31416, 10000)),
    ("floor(-1.5)", Fraction(-2)), ("floor(pi)", Fraction(3)), ("ceil(1.2)", Fraction(2)), ("ceil(-1.2)", Fraction(-1)),
    ("min(3, 1/2, 2)", Fraction(1, 2)), ("max(3, 1/2, 2)", Fraction(3)), ("min(7)", Fraction(7)),
    ("sin(pi)", Decimal(0)), ("cos(pi)", Decimal(-1)), ("sin(pi/2)", Decimal(1)), ("cos(3*pi/2)", Decimal(0)),
])
def test_functions_exactly(expression, value):
    assert evaluate(expression) == value


def _hp(f):
    """A reference value computed by Python's decimal module at the calculator's precision."""
    with localcontext(cm.context()):
        return f()


@pytest.mark.parametrize("expression, expected", [
    ("sqrt(2)", _hp(lambda: Decimal(2).sqrt())), ("exp(1)", Decimal(E_50)), ("log(10)", _hp(lambda: Decimal(10).ln())),
    ("sin(1)", "0.841470984807896506652502321630298999622563060798"),
    ("cos(1)", "0.540302305868139717400936607442976603732310420617"),
    ("tan(1)", "1.557407724654902230506974807458360173087250772381"),
    ("sin(pi/6)", "0.5"), ("cos(pi/3)", "0.5"), ("tan(pi/4)", "1"), ("sin(-100)", math.sin(-100)),
    ("sin(1e-50)", "1e-50"), ("exp(log(7))", 7), ("sqrt(2) ** 2", 2), ("max(2, sqrt(5))", _hp(lambda: Decimal(5).sqrt())),
    ("2 ** 0.5", _hp(lambda: Decimal(2).sqrt())), ("sin(1)**2 + cos(1)**2", 1),
])
def test_functions_approximately(expression, expected):
    digits = 14 if isinstance(expected, float) else 45
    close(expression, Decimal(str(expected)) if not isinstance(expected, Decimal) else expected, digits)


def test_every_function_is_tested_here():
    tested = {"sqrt", "exp", "log", "ln", "log10", "log2", "sin", "cos", "tan", "factorial", "gcd", "abs",
              "round", "floor", "ceil", "min", "max"}
    assert set(FUNCTIONS) == tested
    assert evaluate("ln(1)") == 0


# -- refusals -------------------------------------------------------------------------------

@pytest.mark.parametrize("expression, needle", [
    ("__import__('os').system('ls')", "Attribute access"),
    ("__import__('os')", "Unknown function '__import__'"),
    ("open('/etc/passwd')", "Unknown function 'open'"),
    ("eval('1')", "Unknown function 'eval'"),
    ("x + 1", "Unknown name 'x'"),
    ("sqrt", "sqrt is a function"),
    ("(1).real", "Attribute access"),
    ("math.pi", "Attribute access"),
    ("(lambda: 1)()", "Only the calculator's functions"),
    ("lambda: 1", "A lambda is not allowed"),
    ("[i for i in (1, 2)]", "A comprehension is not allowed"),
    ("sum(i for i in (1, 2))", "Unknown function 'sum'"),
    ("max(i for i in (1, 2))", "A generator is not allowed"),
    ("{1: 2}", "A dict is not allowed"),
    ("(1, 2)", "A tuple is not allowed"),
    ("[1][0]", "Indexing (x[i]) is not allowed"),
    ("1 < 2", "A comparison is not allowed"),
    ("1 and 2", "And/or is not allowed"),
    ("1 if 2 else 3", "If/else is not allowed"),
    ("(y := 2)", "An assignment (:=) is not allowed"),
    ("f'{1}'", "An f-string is not allowed"),
    ("max(*[1, 2])", "*unpacking"),
    ("round(2.5, ndigits=1)", "round takes no keyword arguments"),
    ("'abc'", "'abc' is not a number"),
    ("True + 1", "True is not a number"),
    ("1j * 2", "Complex numbers are not supported"),
    ("2 ^ 10", "^ is not a power here: write **"),
    ("6 & 3", "The operator & is not supported"),
    ("~5", "The operator ~ is not supported"),
    ("not 1", "The operator not is not supported"),
    ("1 +", "This is not a valid expression"),
    ("import os", "This is not a valid expression"),
    ("1; 2", "This is not a valid expression"),
    ("", "The expression is empty"),
    ("   ", "The expression is empty"),
])
def test_refused_syntax(expression, needle):
    with pytest.raises(CalculatorError) as err:
        evaluate(expression)
    assert needle in str(err.value)


@pytest.mark.parametrize("expression, needle", [
    ("1/0", "Division by zero"), ("1 // 0", "Division by zero"), ("5 % 0", "Division by zero"),
    ("1 / (2 - 2.0)", "Division by zero"), ("0 ** -1", "Division by zero"), ("pi / 0", "Division by zero"),
    ("sqrt(-1)", "square root of a negative"), ("(-8) ** (1/3)", "negative number to a fractional power"),
    ("(-2) ** 0.5", "negative number to a fractional power"), ("log(0)", "logarithm of zero"),
    ("log(-1)", "logarithm of zero"), ("log(5, 1)", "base of a logarithm"), ("log(5, -2)", "base of a logarithm"),
    ("tan(pi/2)", "tan is undefined"), ("factorial(-1)", "not negative"), ("factorial(2.5)", "whole number"),
    ("gcd(2.5, 5)", "whole number"), ("round(1.5, 0.5)", "whole number"), ("round(1, 101)", "at most 100"),
    ("sqrt(1, 2)", "sqrt takes 1 argument"), ("log(1, 2, 3)", "log takes 1 to 2 arguments"), ("max()", "max takes 1 to 50"),
])
def test_math_errors_are_sentences(expression, needle):
    with pytest.raises(CalculatorError) as err:
        evaluate(expression)
    assert needle in str(err.value)


@pytest.mark.parametrize("expression, needle", [
    ("10 ** 4001", "4000 digits"), ("2 ** 2 ** 2 ** 2 ** 2", "4000 digits"), ("9 ** 9 ** 9", "4000 digits"),
    ("(1/3) ** 100000", "4000 digits"), ("2.0 ** 10**9", "4000 digits"), ("pi ** 10**7", "too large"), ("factorial(1001)", "limited to n <= 1000"),
    ("factorial(10**100)", "limited to n <= 1000"), ("1e999999999", "more than 4000 digits"),
    ("10**3000 * 10**3000", "more than 4000 digits"), ("exp(10**7)", "too large"),
    ("sin(1e7)", "angle is too large"), ("floor(1e5000 * pi)", "more than 4000 digits"),
    ("1" * (MAX_LENGTH + 1), f"longer than {MAX_LENGTH}"), ("+".join(["1"] * 300), "more than 400 parts"),
    ("-" * 70 + "1", "nested more than 60"), ("sqrt(" * 70 + "4" + ")" * 70, "nested more than 60"),
])
def test_limits_stop_abuse_before_the_work(expression, needle):
    with pytest.raises(CalculatorError) as err:
        evaluate(expression)
    assert needle in str(err.value)


def test_the_limits_leave_big_honest_numbers_alone():
    assert len(calculate("10 ** 3999")) == 4000
    assert calculate("1 ** (10**100)") == "1" and calculate("(-1) ** (10**100 + 1)") == "-1"


def test_no_eval_or_exec_is_used(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("eval/exec called")

    monkeypatch.setattr(builtins, "eval", refuse)
    monkeypatch.setattr(builtins, "exec", refuse)
    assert calculate("sqrt(16) + factorial(5) / 2**3") == "19"


# -- the tool -------------------------------------------------------------------------------

def test_the_spec_and_the_runner():
    assert CALCULATOR_SPEC.name == "calculator" and CALCULATOR_SPEC.parameters["required"] == ["expression"]
    assert check_call(ToolCall("c", "calculator", {"expression": "1"}), {"calculator": CALCULATOR_SPEC}) is None
    assert "expression" in check_call(ToolCall("c", "calculator", {}), {"calculator": CALCULATOR_SPEC})
    assert run_calculator({"expression": "2**10"}) == ("1024", False)
    assert run_calculator({"expression": "1/0"}) == ("Division by zero.", True)
    assert run_calculator({"expression": 5})[1] is True
    assert run_calculator({})[1] is True
    assert run_calculator("2+2")[1] is True  # type: ignore[arg-type]


def test_format_value():
    assert format_value(Fraction(-5, 4)) == "-1.25"
    assert format_value(Fraction(-1, 3)) == "-1/3 ≈ -0.333333333333333333333333333333"
    assert format_value(Fraction(1, 2**50)).startswith("0.000000000000000888178419700125232338905334472656")
    assert format_value(Decimal("1E-50")) == "≈ 1E-50"
    assert format_value(Decimal("123.4500")) == "≈ 123.45"


EXPRESSIONS = st.recursive(
    st.one_of(st.integers(-10**6, 10**6).map(str), st.sampled_from(["0.1", "1e3", "pi", "e", "2.5", "0", "-0.0"])),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "//", "%", "**"]), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(sorted(FUNCTIONS)), st.lists(inner, min_size=1, max_size=2)).map(
            lambda t: f"{t[0]}({', '.join(t[1])})"),
    ),
    max_leaves=8,
)


@settings(deadline=None, max_examples=300)
@given(expression=st.one_of(EXPRESSIONS, st.text(max_size=40)))
def test_the_runner_always_answers(expression):
    text, is_error = run_calculator({"expression": expression})
    assert isinstance(text, str) and text
    if not is_error:
        assert text[0] in "-0123456789≈"
