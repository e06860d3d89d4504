"""The numbers of the calculator: exact rationals, and decimals where no exact value exists.

A value is a ``Fraction`` (exact: integers of any size, 1/3, 0.1) or a ``Decimal``
(approximate, ``PRECISION`` significant digits: sqrt(2), pi, exp(1)). Exact op exact stays
exact; anything that touches an approximation is approximate. Every function here raises
``CalculatorError`` with a sentence the model can act on, never anything else, and checks
its limits *before* computing (no 10**10**9).
"""

from __future__ import annotations

import math
from decimal import (
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from fractions import Fraction
from typing import Union

Value = Union[Fraction, Decimal]

PRECISION = 60  # working digits of approximate values
SHOWN_DIGITS = 30  # significant digits shown
MAX_DIGITS = 4000  # digits of an exact result (also under Python's int-to-text limit)
MAX_FACTORIAL = 1000
MAX_TRIG_ARGUMENT = Decimal(10) ** 6
_MAX_BITS = int(MAX_DIGITS * 3.3219280948873626) + 1


class CalculatorError(ValueError):
    """An expression the calculator cannot or will not evaluate; the text says why."""


def context() -> Context:
    """The decimal context of one evaluation (use with ``decimal.localcontext``)."""
    return Context(prec=PRECISION, Emax=10**6, Emin=-(10**6),
                   traps=[InvalidOperation, DivisionByZero, Overflow])


def _atan_inv(n: int) -> Decimal:
    """atan(1/n) by its series, at the current precision."""
    x = Decimal(1) / n
    x2 = x * x
    total, term, k, sign = x, x, 1, -1
    while True:
        term *= x2
        k += 2
        delta = term / k
        if delta == 0:
            break
        new = total + sign * delta
        if new == total:
            break
        total = new
        sign = -sign
    return total


def _constants() -> tuple[Decimal, Decimal]:
    with localcontext(Context(prec=PRECISION + 20)):
        pi = 16 * _atan_inv(5) - 4 * _atan_inv(239)  # Machin's formula
        e = Decimal(1).exp()
    return pi, e


PI, E = _constants()


# -- sizes ------------------------------------------------------------------------------

def check_exact(v: Fraction) -> Fraction:
    if v.numerator.bit_length() > _MAX_BITS or v.denominator.bit_length() > _MAX_BITS:
        raise CalculatorError(f"The exact result would have more than {MAX_DIGITS} digits.")
    return v


def digits_estimate(n: int) -> int:
    return int(abs(n).bit_length() * 0.30103) + 1


def to_decimal(v: Value) -> Decimal:
    if isinstance(v, Decimal):
        return +v
    return Decimal(v.numerator) / Decimal(v.denominator)


def to_fraction(v: Value) -> Fraction:
    """The exact value of ``v`` (a Decimal is exactly a rational)."""
    if isinstance(v, Fraction):
        return v
    if not v.is_finite():
        raise CalculatorError("The value is not finite.")
    if v.adjusted() > MAX_DIGITS:
        raise CalculatorError(f"The value has more than {MAX_DIGITS} digits.")
    return check_exact(Fraction(v))


def literal(text: str) -> Fraction:
    """A decimal literal from the expression (``0.1``, ``1e30``, ``1_000.5``), exactly."""
    try:
        d = Decimal(text)
    except InvalidOperation:
        raise CalculatorError(f"{text!r} is not a number.") from None
    if abs(d.adjusted()) > MAX_DIGITS:
        raise CalculatorError(f"{text} has more than {MAX_DIGITS} digits.")
    return check_exact(Fraction(d))


# -- arithmetic -------------------------------------------------------------------------

def _approx(op, a: Value, b: Value) -> Decimal:
    try:
        return op(to_decimal(a), to_decimal(b))
    except Overflow:
        raise CalculatorError("The result is too large.") from None
    except (InvalidOperation, DivisionByZero):
        raise CalculatorError("The operation has no real result.") from None


def add(a: Value, b: Value) -> Value:
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return check_exact(a + b)
    return _approx(lambda x, y: x + y, a, b)


def sub(a: Value, b: Value) -> Value:
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return check_exact(a - b)
    return _approx(lambda x, y: x - y, a, b)


def mul(a: Value, b: Value) -> Value:
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return check_exact(a * b)
    return _approx(lambda x, y: x * y, a, b)


def _nonzero(b: Value) -> None:
    if b == 0:
        raise CalculatorError("Division by zero.")


def div(a: Value, b: Value) -> Value:
    _nonzero(b)
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return check_exact(a / b)
    return _approx(lambda x, y: x / y, a, b)


def floordiv(a: Value, b: Value) -> Value:
    _nonzero(b)
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return Fraction(a // b)
    q = _approx(lambda x, y: x / y, a, b)
    return to_fraction(q.to_integral_value(rounding=ROUND_FLOOR))


def mod(a: Value, b: Value) -> Value:
    """Python's modulo: the result has the sign of ``b``."""
    _nonzero(b)
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return check_exact(a % b)
    return sub(a, mul(b, floordiv(a, b)))


def neg(a: Value) -> Value:
    return -a


def _int_root(n: int, k: int) -> int | None:
    """The exact k-th root of n >= 0, or None."""
    if n < 2:
        return n
    r = round(n ** (1.0 / k)) if n.bit_length() < 1000 else None
    if r is None:  # Newton on big integers
        r = 1 << ((n.bit_length() + k - 1) // k)
        while True:
            s = ((k - 1) * r + n // r ** (k - 1)) // k
            if s >= r:
                break
            r = s
    for c in (r - 1, r, r + 1):
        if c >= 0 and c ** k == n:
            return c
    return None


def exact_root(v: Fraction, k: int) -> Fraction | None:
    """The exact k-th root of a non-negative rational, if it is rational."""
    num, den = _int_root(v.numerator, k), _int_root(v.denominator, k)
    return None if num is None or den is None else Fraction(num, den)


def power(a: Value, b: Value) -> Value:
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        if b.denominator == 1:
            return _int_power(a, b.numerator)
        if a >= 0 and b.denominator <= 64:
            root = exact_root(a, b.denominator)
            if root is not None:
                return _int_power(root, b.numerator)
    if a < 0 and (isinstance(b, Decimal) or b.denominator != 1):
        if not (isinstance(b, Decimal) and b == b.to_integral_value()):
            raise CalculatorError("A negative number to a fractional power has no real value.")
    if a == 0:
        if b < 0:
            raise CalculatorError("Division by zero (0 to a negative power).")
        return Fraction(0) if b > 0 else Fraction(1)
    return _approx(lambda x, y: x ** y, a, b)


def _int_power(a: Fraction, n: int) -> Fraction:
    if a == 0:
        if n < 0:
            raise CalculatorError("Division by zero (0 to a negative power).")
        return Fraction(0) if n else Fraction(1)
    if abs(a.numerator) == 1 and a.denominator == 1:
        return Fraction(a.numerator ** (n % 2))
    size = max(math.log10(abs(a.numerator)), math.log10(a.denominator))
    if abs(n) * size > MAX_DIGITS + 1:
        raise CalculatorError(
            f"The exact result would have about {int(abs(n) * size):,} digits, more than the limit of "
            f"{MAX_DIGITS} digits.")
    return check_exact(a ** n)


# -- functions --------------------------------------------------------------------------

def sqrt(x: Value) -> Value:
    if x < 0:
        raise CalculatorError("The square root of a negative number has no real value.")
    if isinstance(x, Fraction):
        root = exact_root(x, 2)
        if root is not None:
            return root
    return to_decimal(x).sqrt()


def exp(x: Value) -> Value:
    if x == 0:
        return Fraction(1)
    try:
        return to_decimal(x).exp()
    except Overflow:
        raise CalculatorError("exp(x) is too large for this x.") from None


def _exact_log(x: Value, base: Value, approx: Decimal) -> Value:
    """An integer logarithm stays exact: log(8, 2) = 3, log10(1/1000) = -3."""
    if isinstance(x, Fraction) and isinstance(base, Fraction):
        k = int(approx.to_integral_value(rounding=ROUND_HALF_EVEN))
        if abs(k) <= MAX_DIGITS and abs(approx - k) < Decimal("1e-20"):
            size = max(digits_estimate(base.numerator), digits_estimate(base.denominator))
            if abs(k) * size <= MAX_DIGITS * 2 and base ** k == x:
                return Fraction(k)
    return approx


def log(x: Value, base: Value | None = None) -> Value:
    if x <= 0:
        raise CalculatorError("The logarithm of zero or a negative number has no real value.")
    if base is None:
        return Fraction(0) if x == 1 else to_decimal(x).ln()
    if base <= 0 or base == 1:
        raise CalculatorError("The base of a logarithm must be positive and not 1.")
    approx = to_decimal(x).ln() / to_decimal(base).ln()
    return _exact_log(x, base, approx)


def _reduced(x: Decimal) -> tuple[Decimal, int | None]:
    """x reduced into [-pi, pi], and k when x is (within precision) k * pi/2 (mod 2 pi).

    Only after subtracting multiples of pi can the remainder be rounding noise; a small
    angle itself (sin(1e-50)) is no multiple of anything.
    """
    if abs(x) > MAX_TRIG_ARGUMENT:
        raise CalculatorError(f"The angle is too large (more than {MAX_TRIG_ARGUMENT:,} radians).")
    two_pi, half_pi = 2 * PI, PI / 2
    turns = (x / two_pi).to_integral_value(rounding=ROUND_HALF_EVEN)
    r = x - turns * two_pi
    k = (r / half_pi).to_integral_value(rounding=ROUND_HALF_EVEN)
    slack = max(abs(x), Decimal(1)) * Decimal(10) ** -(PRECISION - 8)
    if (turns != 0 or k != 0) and abs(r - k * half_pi) < slack:
        return r, int(k) % 4
    return r, None


def _sin_cos(x: Decimal) -> tuple[Decimal, Decimal]:
    with localcontext() as ctx:
        ctx.prec = PRECISION + 15
        r, k = _reduced(x)
        if k is not None:  # sin/cos are exactly 0 or ±1 there; the series would give noise
            return [(Decimal(0), Decimal(1)), (Decimal(1), Decimal(0)),
                    (Decimal(0), Decimal(-1)), (Decimal(-1), Decimal(0))][k]
        r2 = r * r
        s, c = Decimal(0), Decimal(0)
        term_s, term_c, n = r, Decimal(1), 0
        while term_s != 0 or term_c != 0:
            s, c = s + term_s, c + term_c
            n += 2
            term_s = -term_s * r2 / (n * (n + 1))
            term_c = -term_c * r2 / ((n - 1) * n)
            if abs(term_s) < Decimal(10) ** -(ctx.prec + 5) and abs(term_c) < Decimal(10) ** -(ctx.prec + 5):
                break
    return +s, +c


def sin(x: Value) -> Value:
    if x == 0:
        return Fraction(0)
    return _sin_cos(to_decimal(x))[0]


def cos(x: Value) -> Value:
    if x == 0:
        return Fraction(1)
    return _sin_cos(to_decimal(x))[1]


def tan(x: Value) -> Value:
    if x == 0:
        return Fraction(0)
    s, c = _sin_cos(to_decimal(x))
    if c == 0:
        raise CalculatorError("tan is undefined at odd multiples of pi/2.")
    return s / c


def integer(v: Value, what: str) -> int:
    f = to_fraction(v)
    if f.denominator != 1:
        raise CalculatorError(f"{what} needs a whole number.")
    return f.numerator


def factorial(n: Value) -> Value:
    k = integer(n, "factorial")
    if k < 0:
        raise CalculatorError("factorial needs a number that is not negative.")
    if k > MAX_FACTORIAL:
        raise CalculatorError(f"factorial is limited to n <= {MAX_FACTORIAL}.")
    return Fraction(math.factorial(k))


def gcd(*values: Value) -> Value:
    return Fraction(math.gcd(*(integer(v, "gcd") for v in values)))


def floor(x: Value) -> Value:
    return Fraction(math.floor(to_fraction(x)))


def ceil(x: Value) -> Value:
    return Fraction(math.ceil(to_fraction(x)))


def round_half_away(x: Value, digits: Value | None = None) -> Value:
    """Rounds half away from zero (2.5 -> 3, -2.5 -> -3), to ``digits`` decimals."""
    n = 0 if digits is None else integer(digits, "round's number of digits")
    if abs(n) > 100:
        raise CalculatorError("round takes at most 100 digits.")
    scale = Fraction(10) ** n
    y = to_fraction(x) * scale
    r = math.floor(abs(y) + Fraction(1, 2))
    return check_exact(Fraction(r if y >= 0 else -r) / scale)


def absolute(x: Value) -> Value:
    return abs(x)


def smallest(*values: Value) -> Value:
    return min(values, key=_sort_key)


def largest(*values: Value) -> Value:
    return max(values, key=_sort_key)


def _sort_key(v: Value) -> Decimal:
    return to_decimal(v)
