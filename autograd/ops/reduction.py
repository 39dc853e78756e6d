"""Reductions (sum, mean, var, std, max, min, logsumexp, argmax ...) and softmax / log_softmax.

``axis`` is an int, a tuple of ints or None (all axes); ``keepdims`` keeps reduced axes as size 1.
max/min split the gradient equally among tied maxima. logsumexp, softmax and log_softmax shift by
the maximum first, so they are finite for any finite input.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import Any

from .. import dtypes
from ..backend import backend_of, device_guard
from ..errors import ShapeError
from ..function import Function
from ..operands import as_tensor
from ..tensor import Tensor, _make
from ..text import axis_text

Axis = int | Sequence[int] | None


def normalize_axes(op: str, axis: Axis, ndim: int) -> tuple[int, ...]:
    """``axis`` as a sorted tuple of distinct non-negative axes, with a clear error if invalid."""
    if axis is None:
        return tuple(range(ndim))
    if type(axis) is int and -ndim <= axis < ndim:  # the common case, quickly
        return (axis % ndim,)
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for a in axes:
        a = operator.index(a)
        if not -ndim <= a < ndim:
            raise ShapeError(
                f"{op}: axis {a} is out of range for a tensor with {ndim} dims "
                f"(valid: {-ndim} to {ndim - 1})"
            )
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ShapeError(f"{op}: repeated axis in {axis}")
    return tuple(sorted(out))


def kept_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    """``shape`` with the reduced ``axes`` set to 1 (the shape of a keepdims result)."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class _Reduction(Function):
    """Shared constructor: the input shape, the normalized axes and keepdims."""

    __slots__ = ("axes", "keep", "keepdims", "shape")

    def __init__(self, shape: tuple[int, ...], axes: tuple[int, ...], keepdims: bool) -> None:
        self.shape, self.axes, self.keepdims = shape, axes, keepdims
        self.keep = kept_shape(shape, axes)

    def kept(self, a: Any) -> Any:
        """A reduced value (gradient or output) reshaped to broadcast against the input."""
        return a if self.keepdims else a.reshape(self.keep)

    def constants(self) -> str | None:
        parts = []
        if tuple(self.axes) != tuple(range(len(self.shape))):
            parts.append(f"axis={self.axes[0] if len(self.axes) == 1 else self.axes}")
        if self.keepdims:
            parts.append("keepdims=True")
        return ", ".join(parts) or None


class Sum(_Reduction):
    """sum over axes;  the gradient is g broadcast back over the summed axes."""

    __slots__ = ()

    def forward(self, x: Any) -> Any:
        return x.sum(axis=self.axes, keepdims=self.keepdims)

    def backward(self, m: Any, g: Any) -> Any:
        return m.broadcast_to(self.kept(g), self.shape)


class Mean(_Reduction):
    """mean over axes;  the gradient is g / n broadcast back, n = number of averaged values."""

    __slots__ = ()

    def forward(self, x: Any) -> Any:
        dtype = None if dtypes.is_floating(x.dtype) else dtypes.get_default_dtype()
        return x.mean(axis=self.axes, keepdims=self.keepdims, dtype=dtype)

    def backward(self, m: Any, g: Any) -> Any:
        n = math.prod(self.shape[a] for a in self.axes)
        return m.broadcast_to(self.kept(g) / n, self.shape)


class Max(_Reduction):
    """max over axes;  the gradient goes to the maximal elements, split equally among ties."""

    __slots__ = ()
    save_inputs = True
    save_output = True

    def forward(self, x: Any) -> Any:
        return x.max(axis=self.axes, keepdims=self.keepdims)

    def backward(self, m: Any, g: Any, x: Any, out: Any) -> Any:
        return _to_extremes(self, m, g, x, out)


class Min(_Reduction):
    """min over axes;  the gradient goes to the minimal elements, split equally among ties."""

    __slots__ = ()
    save_inputs = True
    save_output = True

    def forward(self, x: Any) -> Any:
        return x.min(axis=self.axes, keepdims=self.keepdims)

    def backward(self, m: Any, g: Any, x: Any, out: Any) -> Any:
        return _to_extremes(self, m, g, x, out)


def _to_extremes(fn: _Reduction, m: Any, g: Any, x: Any, out: Any) -> Any:
    hit = m.cast(x == fn.kept(out), g.dtype)  # 1 at the selected elements (a constant)
    return hit * (fn.kept(g) / hit.sum(axis=fn.axes, keepdims=True))


class LogSumExp(_Reduction):
    """log(sum(exp(x))) over axes, computed as c + log(sum(exp(x - c))) with the constant
    c = max(x) (``max_shift``); d/dx = exp(x - logsumexp(x)) = softmax(x)."""

    __slots__ = ()
    save_inputs = True
    save_output = True

    def forward(self, x: Any) -> Any:
        math = backend_of(x).math
        c = math.max_shift(x, self.axes)
        out = math.xp.log(math.xp.exp(x - c).sum(axis=self.axes, keepdims=True)) + c
        return (
            out
            if self.keepdims
            else out.reshape(tuple(n for i, n in enumerate(self.shape) if i not in self.axes))
        )

    def backward(self, m: Any, g: Any, x: Any, out: Any) -> Any:
        return self.kept(g) * m.exp(x - self.kept(out))


class Softmax(Function):
    """softmax(x)_i = e^(x_i) / sum_j e^(x_j) along an axis;
    dL/dx = s * (g - sum(g * s)) with s = softmax(x)."""

    __slots__ = ("axis",)
    save_output = True

    def __init__(self, axis: int | None) -> None:
        self.axis = axis

    def constants(self) -> str | None:
        return axis_text(self.axis)

    def forward(self, x: Any) -> Any:
        math = backend_of(x).math
        e = math.xp.exp(x - math.max_shift(x, self.axis))
        return e / e.sum(axis=self.axis, keepdims=True)

    def backward(self, m: Any, g: Any, out: Any) -> Any:
        return out * (g - (g * out).sum(axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    """log_softmax(x) = x - logsumexp(x) along an axis;
    dL/dx = g - softmax(x) * sum(g)."""

    op_name = "log_softmax"
    __slots__ = ("axis",)
    save_output = True

    def __init__(self, axis: int | None) -> None:
        self.axis = axis

    def constants(self) -> str | None:
        return axis_text(self.axis)

    def forward(self, x: Any) -> Any:
        return backend_of(x).math.log_softmax(x, self.axis)

    def backward(self, m: Any, g: Any, out: Any) -> Any:
        return g - m.exp(out) * g.sum(axis=self.axis, keepdims=True)


def _reduce(cls: type[_Reduction], op: str, x: Any, axis: Axis, keepdims: bool) -> Tensor:
    x = as_tensor(x)
    shape = x.data.shape
    return cls(shape, normalize_axes(op, axis, len(shape)), keepdims)(x)


def sum(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Sum of elements over ``axis`` (all axes if None)."""
    return _reduce(Sum, "sum", x, axis, keepdims)


def mean(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Arithmetic mean over ``axis``; integer tensors give the default float dtype."""
    return _reduce(Mean, "mean", x, axis, keepdims)


def var(x: Any, axis: Axis = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
    """Variance sum((x - mean)^2) / (n - ddof) over ``axis``.

    ``ddof=0`` (NumPy's default) is the biased estimate; PyTorch's default is ``ddof=1``.
    Built from mean, subtraction and sum, so all its derivatives come from theirs.
    """
    x = as_tensor(x)
    axes = normalize_axes("var", axis, x.ndim)
    n = math.prod(x.shape[a] for a in axes)
    if n - ddof <= 0:
        raise ValueError(f"var: {n} values with ddof={ddof} leave no degrees of freedom")
    d = x - mean(x, axes, keepdims=True)
    return sum(d * d, axes, keepdims) / (n - ddof)


def std(x: Any, axis: Axis = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
    """Standard deviation sqrt(var(x, axis, ddof)); its gradient is infinite where it is 0."""
    from .elementwise import sqrt

    return sqrt(var(x, axis, ddof, keepdims))


def max(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Largest element over ``axis``; ties share the gradient equally."""
    return _reduce(Max, "max", x, axis, keepdims)


def min(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Smallest element over ``axis``; ties share the gradient equally."""
    return _reduce(Min, "min", x, axis, keepdims)


def logsumexp(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """log(sum(exp(x))) over ``axis``, without overflow."""
    return _reduce(LogSumExp, "logsumexp", x, axis, keepdims)


def softmax(x: Any, axis: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along ``axis``, without overflow."""
    x = as_tensor(x)
    return Softmax(normalize_axes("softmax", axis, x.ndim)[0] if x.ndim else None)(x)


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """x - logsumexp(x) along ``axis``, without overflow."""
    x = as_tensor(x)
    return LogSoftmax(normalize_axes("log_softmax", axis, x.ndim)[0] if x.ndim else None)(x)


def _index_reduction(name: str, x: Any, axis: int | None, keepdims: bool) -> Tensor:
    x = as_tensor(x)
    if axis is not None:
        if not isinstance(axis, int):
            raise TypeError(f"{name}: axis must be an int or None, got {axis!r}")
        normalize_axes(name, axis, x.ndim)
    with device_guard(x.data):
        return _make(
            getattr(backend_of(x.data).xp, name)(x.data, axis=axis, keepdims=keepdims), None
        )


def argmax(x: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Index of the largest element (flat index if axis is None); no gradient."""
    return _index_reduction("argmax", x, axis, keepdims)


def argmin(x: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Index of the smallest element (flat index if axis is None); no gradient."""
    return _index_reduction("argmin", x, axis, keepdims)


def any(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Whether any element is true (nonzero) over ``axis``; no gradient."""
    x = as_tensor(x)
    axes = normalize_axes("any", axis, x.ndim)
    with device_guard(x.data):
        return _make(x.data.any(axis=axes, keepdims=keepdims), None)


def all(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Whether all elements are true (nonzero) over ``axis``; no gradient."""
    x = as_tensor(x)
    axes = normalize_axes("all", axis, x.ndim)
    with device_guard(x.data):
        return _make(x.data.all(axis=axes, keepdims=keepdims), None)
