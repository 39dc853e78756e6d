"""Elementwise functions and activations.

Conventions at kinks (documented, tested): relu'(0) = 0; |x|'(0) = 0; leaky_relu'(0) = slope;
clip passes the gradient where min <= x <= max (bounds included); maximum/minimum split the
gradient equally between tied operands. At NaN (PyTorch's conventions): relu'(NaN) = 1,
|x|'(NaN) = 0, leaky_relu'(NaN) = slope, clip'(NaN) = 0, and maximum/minimum with a NaN operand
give all of g to both operands.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..backend import backend_of, check_same_device, device_guard
from ..backward_math import keep_where_source
from ..compiler import rebuilt, recorded
from ..function import Function
from ..operands import as_tensor, operands
from ..tensor import Tensor, _make
from ..text import num


class Exp(Function):
    """e^x;  d/dx e^x = e^x."""

    __slots__ = ()
    save_output = True
    derivative = "d/dx e^x = e^x"
    in_words = "the gradient is scaled by the output itself"
    elementwise = True

    def forward(self, x: Any) -> Any:
        return backend_of(x).xp.exp(x)

    def backward(self, m: Any, g: Any, out: Any) -> Any:
        return g * out


class Log(Function):
    """log x (natural);  d/dx log x = 1/x."""

    __slots__ = ()
    save_inputs = True
    derivative = "d/dx log x = 1/x"
    in_words = "the gradient is divided by the input"
    elementwise = True

    def forward(self, x: Any) -> Any:
        return backend_of(x).xp.log(x)

    def backward(self, m: Any, g: Any, x: Any) -> Any:
        return g / x


class Log10(Function):
    """log10 x;  d/dx log10 x = 1 / (x ln 10)."""

    __slots__ = ()
    save_inputs = True
    derivative = "d/dx log10 x = 1 / (x ln 10)"
    in_words = "the gradient is divided by the input times ln 10"
    elementwise = True

    def forward(self, x: Any) -> Any:
        return backend_of(x).xp.log10(x)

    def backward(self, m: Any, g: Any, x: Any) -> Any:
        return g / (x * _LN10)


_LN10 = math.log(10.0)


class Sqrt(Function):
    """sqrt(x);  d/dx sqrt(x) = 1 / (2 sqrt(x))."""

    __slots__ = ()
    save_output = True
    derivative = "d/dx sqrt(x) = 1 / (2 sqrt(x))"
    in_words = "the gradient is divided by twice the output"
    elementwise = True

    def forward(self, x: Any) -> Any:
        return backend_of(x).xp.sqrt(x)

    def backward(self, m: Any, g: Any, out: Any) -> Any:
        return g / (out * 2)


class Sin(Function):
    """sin x;  d/dx sin x = cos x."""

    __slots__ = ()
    save_inputs = True
    derivative = "d/dx sin x = cos x"
    in_words = "the gradient is scaled by the cosine of the input"
    elementwise = True

    def forward(self, x: Any) -> Any:
        return backend_of(x).xp.sin(x)

    def backward(self, m: Any, g: Any, x: Any) -> Any:
        return g * m.cos(x)


class Cos(Function):
    """cos x;  d/dx cos x = -sin x."""

    __slots__ = ()
    save_inputs = True
    derivative = "d/dx cos x = -sin x"
    in_words = "the gradient is scaled by minus the sine of the input"
    elementwise = True

    def forward(self, x: Any) -> Any:
        return backend_of(x).xp.cos(x)

    def backward(self, m: Any, g: Any, x: Any) -> Any:
        return -(g * m.sin(x))


class Tanh(Function):
    """tanh x;  d/dx tanh x = 1 - tanh(x)^2."""

    __slots__ = ()
    save_output = True
    derivative = "d/dx tanh x = 1 - tanh(x)^2"
    in_words = (
        "the gradient is scaled by 1 - out^2: 1 at x = 0, near 0 where tanh saturates at -1 or 1"
    )
    elementwise = True

    def forward(self, x: Any) -> Any:
        return backend_of(x).xp.tanh(x)

    def backward(self, m: Any, g: Any, out: Any) -> Any:
        return g * (1 - out * out)


class Sigmoid(Function):
    """sigma(x) = 1 / (1 + e^-x);  d/dx sigma = sigma (1 - sigma).

    Computed as exp(-logaddexp(0, -x)): no overflow for any x, full relative precision in
    both tails.
    """

    __slots__ = ()
    save_output = True
    derivative = "d/dx sigma(x) = sigma(x) (1 - sigma(x))"
    in_words = (
        "the gradient is scaled by out (1 - out): at most 1/4, near 0 where the sigmoid saturates"
    )
    elementwise = True

    def forward(self, x: Any) -> Any:
        xp = backend_of(x).xp
        return xp.exp(-xp.logaddexp(0, -x))

    def backward(self, m: Any, g: Any, out: Any) -> Any:
        return g * out * (1 - out)


ZEROS_OPERAND_SIZES = (256, 1 << 22)  # elements: where relu takes maximum against zeros
_zeros: dict[Any, np.ndarray] = {}  # dtype -> read-only zeros, the most elements asked for


def zeros_operand(a: Any) -> Any:
    """0 as ``np.maximum``'s other operand for ``a``: a read-only array of zeros of a's shape
    and dtype where ``a`` is a float NumPy array of a size in ZEROS_OPERAND_SIZES, else the
    scalar. Against a scalar, NumPy 2.4's maximum takes a loop about 3x slower than against
    an array (AVX2, 128 x 256 float32: 33 against 10 us), with the same bits (NaN, -0.0).
    One buffer per dtype, viewed in a's shape: it costs the memory of the largest input."""
    lo, hi = ZEROS_OPERAND_SIZES
    if a.__class__ is not np.ndarray or a.dtype.kind != "f" or not lo <= a.size <= hi:
        return 0
    z = _zeros.get(a.dtype)
    if z is None or z.size < a.size:
        size = max(a.size, 0 if z is None else min(hi, 2 * z.size))  # grows by doubling
        z = _zeros[a.dtype] = np.zeros(size, a.dtype)
        z.flags.writeable = False
    return z[: a.size].reshape(a.shape)


_ZERO = {np.float64: np.float64(0), np.float32: np.float32(0)}  # scalar classes -> their 0


class ReLU(Function):
    """max(x, 0);  d/dx = 1 for x > 0, else 0 (relu'(0) = 0)."""

    __slots__ = ()
    save_output = True
    derivative = "d/dx max(x, 0) = 1 if x > 0 else 0"
    in_words = "the gradient passes where the input was positive and is blocked (0) elsewhere"
    elementwise = True

    writes_into = True
    into_may_be_input = True
    backward_into_may_be_saved = True  # the mask out != 0 is taken before the select writes

    def forward(self, x: Any, into: Any = None) -> Any:
        if x.__class__ in _ZERO:  # a float32/64 scalar (the scalar engine): maximum's value
            return x if x > 0 or x != x else _ZERO[x.__class__]  # (NaN, and +0.0 for -0.0)
        return backend_of(x).xp.maximum(x, zeros_operand(x), out=into)

    def backward(self, m: Any, g: Any, out: Any, into: tuple[Any, ...] = ()) -> Any:
        # out = max(x, 0) is >= 0 or NaN: out <= 0 exactly where out == 0. A select, not
        # g * mask: NaN passes g, and g is dropped as +0.0 (inf * 0 would be NaN, -1 * 0 -0.0)
        if g.__class__ in _ZERO and out.__class__ in _ZERO:  # scalars: where's value
            return g if out != 0 else _ZERO[g.__class__]
        return m.where(out != 0, g, 0, *into)

    def forward_source(self, s: Any) -> list[str]:
        zero = zeros_operand(s.arrays[0])
        zero = "0" if zero.__class__ is int else s.const(zero)
        return [f"{s.out} = {s.fn('maximum')}({s.args[0]}, {zero}, out={s.into})"]

    def backward_source(self, s: Any) -> list[str] | None:
        if s.arrays[0].__class__ in _ZERO:  # scalars: backward's own test
            return None
        return keep_where_source(s, "not_equal", s.args[0], s.g, s.arrays[0], s.into[0], s.outs[0])


class LeakyReLU(Function):
    """x for x > 0, else slope * x;  d/dx = 1 for x > 0, else slope (also at 0)."""

    op_name = "leaky_relu"
    __slots__ = ("slope",)
    save_inputs = True
    derivative = "d/dx = 1 if x > 0 else slope"
    in_words = "the gradient passes where the input was positive, scaled by the slope elsewhere"
    elementwise = True

    def __init__(self, slope: float) -> None:
        self.slope = slope

    def constants(self) -> str | None:
        return num(self.slope)

    def forward(self, x: Any) -> Any:
        return backend_of(x).xp.where(x > 0, x, x * self.slope)

    def backward(self, m: Any, g: Any, x: Any) -> Any:
        return m.where(x > 0, g, g * self.slope)


class Abs(Function):
    """|x|;  d/dx = sign(x) (|x|'(0) = 0)."""

    __slots__ = ()
    save_inputs = True
    derivative = "d/dx |x| = sign(x)"
    in_words = "the gradient keeps its sign where x > 0 and flips it where x < 0 (0 at 0)"
    elementwise = True

    def forward(self, x: Any) -> Any:
        return backend_of(x).xp.abs(x)

    def backward(self, m: Any, g: Any, x: Any) -> Any:
        s = m.sign(x)
        return g * m.where(s == s, s, 0)  # sign(NaN) counts as 0, as PyTorch's sgn


class Clip(Function):
    """min(max(x, lo), hi);  d/dx = 1 where lo <= x <= hi, else 0."""

    __slots__ = ("hi", "lo")
    save_inputs = True
    derivative = "d/dx clip(x, lo, hi) = 1 if lo <= x <= hi else 0"
    in_words = "the gradient passes where the input was inside the bounds, 0 where it was clipped"
    elementwise = True

    def __init__(self, lo: float | None, hi: float | None) -> None:
        self.lo, self.hi = lo, hi

    def constants(self) -> str | None:
        if self.lo is not None and self.hi is not None:
            return f"{num(self.lo)}, {num(self.hi)}"
        return f"min={num(self.lo)}" if self.lo is not None else f"max={num(self.hi)}"

    def forward(self, x: Any) -> Any:
        return backend_of(x).xp.clip(x, self.lo, self.hi)

    def backward(self, m: Any, g: Any, x: Any) -> Any:
        if self.lo is not None:
            g = m.where(x >= self.lo, g, 0)
        if self.hi is not None:
            g = m.where(x <= self.hi, g, 0)
        return g


class Maximum(Function):
    """max(x, y) elementwise;  the gradient goes to the larger operand, half to each on ties."""

    __slots__ = ()
    broadcasts = True
    save_inputs = True
    derivative = "d/dx max(x, y) = 1 where x > y, 1/2 where x = y, else 0 (y alike)"
    in_words = "the gradient goes to the larger operand, half to each on ties"
    elementwise = True

    def forward(self, x: Any, y: Any) -> Any:
        return backend_of(x if hasattr(x, "dtype") else y).xp.maximum(x, y)

    def backward(self, m: Any, g: Any, x: Any, y: Any) -> tuple[Any, Any]:
        return _tie_split(self, m, g, x < y, x > y, x == y)


class Minimum(Function):
    """min(x, y) elementwise;  the gradient goes to the smaller operand, half to each on ties."""

    __slots__ = ()
    broadcasts = True
    save_inputs = True
    derivative = "d/dx min(x, y) = 1 where x < y, 1/2 where x = y, else 0 (y alike)"
    in_words = "the gradient goes to the smaller operand, half to each on ties"
    elementwise = True

    def forward(self, x: Any, y: Any) -> Any:
        return backend_of(x if hasattr(x, "dtype") else y).xp.minimum(x, y)

    def backward(self, m: Any, g: Any, x: Any, y: Any) -> tuple[Any, Any]:
        return _tie_split(self, m, g, x > y, x < y, x == y)


def _tie_split(
    fn: Function, m: Any, g: Any, x_loses: Any, y_loses: Any, tie: Any
) -> tuple[Any, Any]:
    """Gradients of a two-way selection: all of g to the winner, g/2 to each on a tie, and
    (PyTorch's rule) all of g to both where neither loses because an operand is NaN."""
    ex, ey = fn.edges
    share = m.where(tie, g * 0.5, g)
    gx = None if ex is None else m.where(x_loses, 0, share)
    gy = None if ey is None else m.where(y_loses, 0, share)
    return gx, gy


class Where(Function):
    """cond ? x : y elementwise (cond is a constant bool array);  the gradient follows cond."""

    __slots__ = ("cond",)
    broadcasts = True
    derivative = "d/dx where(c, x, y) = c,  d/dy where(c, x, y) = not c"
    in_words = "the gradient goes to x where the condition holds, to y elsewhere"
    elementwise = True

    def __init__(self, cond: Any) -> None:
        self.cond = cond

    def held_inputs(self) -> dict[str, Any]:
        return {"condition": self.cond}

    def renewal(self) -> tuple[tuple[Any, ...], Any]:
        return (self.cond,), None

    def remade(self, operands: tuple[Any, ...], arrays: tuple[Any, ...]) -> Where:
        return Where(arrays[0])

    def forward(self, x: Any, y: Any) -> Any:
        return backend_of(self.cond).xp.where(self.cond, x, y)

    def backward(self, m: Any, g: Any) -> tuple[Any, Any]:
        ex, ey = self.edges
        gx = None if ex is None else m.where(self.cond, g, 0)
        gy = None if ey is None else m.where(self.cond, 0, g)
        return gx, gy


def exp(x: Any) -> Tensor:
    """Elementwise e^x."""
    return Exp()(as_tensor(x))


def log(x: Any) -> Tensor:
    """Elementwise natural logarithm."""
    return Log()(as_tensor(x))


def log10(x: Any) -> Tensor:
    """Elementwise base-10 logarithm."""
    return Log10()(as_tensor(x))


def sqrt(x: Any) -> Tensor:
    """Elementwise square root."""
    return Sqrt()(as_tensor(x))


def sin(x: Any) -> Tensor:
    """Elementwise sine."""
    return Sin()(as_tensor(x))


def cos(x: Any) -> Tensor:
    """Elementwise cosine."""
    return Cos()(as_tensor(x))


def tanh(x: Any) -> Tensor:
    """Elementwise hyperbolic tangent."""
    return Tanh()(as_tensor(x))


def sigmoid(x: Any) -> Tensor:
    """Elementwise logistic function 1 / (1 + e^-x), stable for any x."""
    return Sigmoid()(as_tensor(x))


def relu(x: Any) -> Tensor:
    """Elementwise max(x, 0); relu'(0) = 0."""
    return ReLU()(as_tensor(x))


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Tensor:
    """Elementwise x if x > 0 else negative_slope * x."""
    return LeakyReLU(negative_slope)(as_tensor(x))


def abs(x: Any) -> Tensor:
    """Elementwise |x|; |x|'(0) = 0."""
    return Abs()(as_tensor(x))


@recorded  # no node: a compiled step calls it again on each replay's values
def sign(x: Any) -> Tensor:
    """Elementwise sign (-1, 0, 1). Its derivative is 0 almost everywhere, so it is a constant
    of the graph (no grad_fn)."""
    x = as_tensor(x)
    with device_guard(x.data):
        return _make(backend_of(x.data).xp.sign(x.data), None)


def clip(x: Any, min: float | None = None, max: float | None = None) -> Tensor:
    """Elementwise clamp to [min, max] (either bound may be None)."""
    if min is None and max is None:
        raise ValueError("clip: give at least one of min and max")
    if min is not None and max is not None and min > max:
        raise ValueError(f"clip: min ({min}) is greater than max ({max})")
    return Clip(min, max)(as_tensor(x))


clamp = clip  # PyTorch's name: clamp(x, min=None, max=None)


def maximum(x: Any, y: Any) -> Tensor:
    """Elementwise max of x and y (broadcasting); ties split the gradient equally."""
    return Maximum()(*operands("maximum", x, y))


def minimum(x: Any, y: Any) -> Tensor:
    """Elementwise min of x and y (broadcasting); ties split the gradient equally."""
    return Minimum()(*operands("minimum", x, y))


@rebuilt
def where(condition: Any, x: Any, y: Any) -> Tensor:
    """``x`` where ``condition`` is true, else ``y`` (all three broadcast)."""
    cond = as_tensor(condition)
    if cond.data.dtype.kind != "b":
        raise TypeError(f"where: condition must be a bool tensor, got {cond.data.dtype}")
    if not (isinstance(x, Tensor) or isinstance(y, Tensor)):
        x = as_tensor(x, like=cond)  # two constants: made where the condition is
    x, y = operands("where", x, y)  # at least one of them is now a tensor
    check_same_device("where", (cond.data, (x if isinstance(x, Tensor) else y).data))
    return Where(cond.data)(x, y)
