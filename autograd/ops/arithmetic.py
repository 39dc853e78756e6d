"""Arithmetic: ``+ - * / **`` and negation, broadcasting like NumPy.

Each rule returns the gradient for every input that needs one (``None`` for a constant
operand); the base class sums broadcast gradients back to each input's shape.
"""

from __future__ import annotations

import math
from typing import Any

from .. import dtypes
from ..function import Function
from ..operands import as_tensor, cast_constant, operands
from ..tensor import Tensor


class Add(Function):
    """x + y;  d/dx = 1, d/dy = 1."""

    __slots__ = ()
    broadcasts = True
    derivative = "d/dx (x + y) = 1,  d/dy (x + y) = 1"
    in_words = "a sum passes the gradient on unchanged to both operands"
    elementwise = True
    ufunc = "add"
    operator = "({0}) + ({1})"

    def forward(self, x: Any, y: Any) -> Any:
        return x + y

    def backward(self, m: Any, g: Any) -> tuple[Any, Any]:
        return g, g


class Sub(Function):
    """x - y;  d/dx = 1, d/dy = -1."""

    __slots__ = ()
    broadcasts = True
    derivative = "d/dx (x - y) = 1,  d/dy (x - y) = -1"
    in_words = "x gets the gradient unchanged, y gets it negated"
    elementwise = True
    ufunc = "subtract"
    operator = "({0}) - ({1})"

    def forward(self, x: Any, y: Any) -> Any:
        return x - y

    def backward(self, m: Any, g: Any) -> tuple[Any, Any]:
        return g, (-g if self.needs_grad(1) else None)


class Mul(Function):
    """x * y;  d/dx = y, d/dy = x."""

    __slots__ = ()
    broadcasts = True
    save_inputs = True
    derivative = "d/dx (x y) = y,  d/dy (x y) = x"
    in_words = "each operand gets the gradient times the other operand"
    elementwise = True
    ufunc = "multiply"
    operator = "({0}) * ({1})"

    def forward(self, x: Any, y: Any) -> Any:
        return x * y

    def backward(self, m: Any, g: Any, x: Any, y: Any) -> tuple[Any, Any]:
        ex, ey = self.edges
        return (None if ex is None else g * y), (None if ey is None else g * x)

    def backward_source(self, s: Any) -> list[str]:
        lines = []
        g, into = s.g, s.into
        for i, (other, out) in enumerate(zip(reversed(s.args), s.outs)):
            if self.edges[i] is None or out == "_":  # a gradient not needed is not computed
                continue
            if into[i] == "None":
                lines.append(f"{out} = {g} * {other}")
            else:
                lines.append(f"{out} = {s.fn('multiply')}({g}, {other}, out={into[i]})")
        return lines


class Div(Function):
    """x / y;  d/dx = 1/y, d/dy = -x/y^2."""

    __slots__ = ()
    broadcasts = True
    save_inputs = True
    derivative = "d/dx (x / y) = 1/y,  d/dy (x / y) = -x/y^2"
    in_words = "x gets the gradient divided by y; y gets minus the gradient times x / y^2"
    elementwise = True
    ufunc = "divide"
    operator = "({0}) / ({1})"

    def forward(self, x: Any, y: Any) -> Any:
        return x / y

    def backward(self, m: Any, g: Any, x: Any, y: Any) -> tuple[Any, Any]:
        gx = g / y
        # -g (x / y) / y, not -(g / y) x / y: for a tiny y, g / y can overflow to inf even
        # where x / y is finite (0 at x = 0), and inf * 0 would be NaN
        return gx, (-(g * (x / y)) / y if self.needs_grad(1) else None)


class Neg(Function):
    """-x;  d/dx = -1."""

    __slots__ = ()
    derivative = "d/dx (-x) = -1"
    in_words = "the gradient changes sign"
    elementwise = True
    operator = "-({0})"

    def forward(self, x: Any) -> Any:
        return -x

    def backward(self, m: Any, g: Any) -> Any:
        return -g


class Pow(Function):
    """x ** y;  d/dx = y x^(y-1), d/dy = x^y log(x).

    Conventions where these are undefined, as in PyTorch: d/dx is 0 where x == y == 0 (x^0 is
    constant); at x == 0, d/dy is 0 where y >= 0 and -inf where y < 0 (x^y log x there: inf
    times log 0 = -inf).
    """

    __slots__ = ()
    broadcasts = True
    save_inputs = True
    save_output = True
    derivative = "d/dx x^y = y x^(y-1),  d/dy x^y = x^y log x"
    in_words = "the power rule for the base; for the exponent, the output times log of the base"
    elementwise = True
    operator = "({0}) ** ({1})"

    def forward(self, x: Any, y: Any) -> Any:
        return x**y

    def backward(self, m: Any, g: Any, x: Any, y: Any, out: Any) -> tuple[Any, Any]:
        ex, ey = self.edges
        gx = gy = None
        if ex is not None:
            if isinstance(y, (int, float)):
                gx = g * 0 if y == 0 else g * (y * x ** (y - 1))  # g * y could underflow
            else:  # never evaluate 0 ** -1: at x == y == 0 the base is replaced by 1
                gx = g * (y * m.where((x == 0) & (y == 0), 1, x) ** (y - 1))
        if ey is not None:
            if isinstance(x, (int, float)) and x == 0:  # out log 0: 0, -inf where y < 0 (NaN y)
                gy = g * m.where(y < 0, -math.inf, m.where(y >= 0, 0, y))
            else:  # log 0 taken as 0 (out = 0 or 1 there), as -inf where y < 0 (out = inf)
                if isinstance(x, (int, float)):
                    log_x = math.log(x) if x > 0 else math.nan
                else:
                    log_x = m.where((x == 0) & (y < 0), -math.inf, m.log(m.where(x == 0, 1, x)))
                gy = g * out * log_x
        return gx, gy


def add(x: Any, y: Any) -> Tensor:
    """Elementwise x + y (broadcasting)."""
    return Add()(*operands("add", x, y))


def sub(x: Any, y: Any) -> Tensor:
    """Elementwise x - y (broadcasting)."""
    return Sub()(*operands("sub", x, y))


def mul(x: Any, y: Any) -> Tensor:
    """Elementwise x * y (broadcasting)."""
    return Mul()(*operands("mul", x, y))


def div(x: Any, y: Any) -> Tensor:
    """Elementwise x / y (broadcasting; true division: integer operands give the default
    float dtype, as in PyTorch)."""
    a, b = operands("div", x, y)
    if not (_floating(a) or _floating(b)):
        a, b = (_to_default_float(v) for v in (a, b))
    return Div()(a, b)


def _floating(v: Any) -> bool:
    return isinstance(v, float) or (isinstance(v, Tensor) and dtypes.is_floating(v.data.dtype))


def _to_default_float(v: Any) -> Any:
    return cast_constant(v, dtypes.get_default_dtype()) if isinstance(v, Tensor) else v


def neg(x: Any) -> Tensor:
    """Elementwise -x."""
    return Neg()(as_tensor(x))


def pow(x: Any, y: Any) -> Tensor:
    """Elementwise x ** y (broadcasting); either side may be a tensor."""
    return Pow()(*operands("pow", x, y))
