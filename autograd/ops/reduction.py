"""Reductions (sum, mean, var, std, max, min, logsumexp, argmax ...) and softmax / log_softmax.

``axis`` is an int, a tuple of ints or None (all axes); ``keepdims`` keeps reduced axes as size 1.
max/min split the gradient equally among tied maxima. logsumexp, softmax and log_softmax shift by
the maximum first, so they are finite for any finite input.
"""

from __future__ import annotations

import builtins
import math
import operator
from collections.abc import Sequence
from typing import Any, NamedTuple

from .. import dtypes
from ..backend import backend_of, device_guard
from ..compiler import recorded, refuse_when_recording
from ..conversion import alias, dim_args
from ..errors import ShapeError
from ..function import Function
from ..operands import as_tensor, cast_constant
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

    def count(self) -> int:
        """How many input values each result reduces (0 over an empty axis)."""
        return math.prod(self.shape[a] for a in self.axes)

    def out_shape(self) -> tuple[int, ...]:
        """The shape of the result."""
        if self.keepdims:
            return self.keep
        return tuple(n for i, n in enumerate(self.shape) if i not in self.axes)

    def check_not_empty(self, what: str) -> None:
        """A ShapeError (PyTorch's and NumPy's rule) where a slice to reduce has no values:
        ``what`` (the maximum, the minimum) does not exist there."""
        if self.count() == 0:
            raise ShapeError(_empty_reduction(self.name, what, self.shape, self.axes))

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
    derivative = "d/dx_i sum(x) = 1:  dL/dx = g broadcast back over the summed axes"
    in_words = "every summed element gets the gradient of its sum"

    def forward(self, x: Any) -> Any:
        return x.sum(axis=self.axes, keepdims=self.keepdims)

    def backward(self, m: Any, g: Any) -> Any:
        return m.broadcast_to(self.kept(g), self.shape)


class Mean(_Reduction):
    """mean over axes;  the gradient is g / n broadcast back, n = number of averaged values."""

    __slots__ = ()
    derivative = "d/dx_i mean(x) = 1/n:  dL/dx = g / n broadcast back"
    in_words = (
        "every averaged element gets the gradient divided by the number n of elements averaged"
    )

    def forward(self, x: Any) -> Any:
        dtype = None if dtypes.is_floating(x.dtype) else dtypes.get_default_dtype()
        if self.count() == 0:  # the mean of no values is NaN (as in NumPy and PyTorch)
            xp = backend_of(x).xp
            return xp.full(self.out_shape(), xp.nan, dtype=dtype or x.dtype)
        return x.mean(axis=self.axes, keepdims=self.keepdims, dtype=dtype)

    def backward(self, m: Any, g: Any) -> Any:
        n = self.count()
        if n == 0:  # x is empty, and so is its gradient
            return m.broadcast_to(self.kept(g), self.shape)
        return m.broadcast_to(self.kept(g) / n, self.shape)


class Std(_Reduction):
    """sqrt(sum((x - mean)^2) / (n - ddof)) over axes;

        d/dx_i std = (x_i - mean) / ((n - ddof) std),

    and 0 where std is 0 (all values equal: the kink of sqrt at 0, PyTorch's convention), so a
    constant slice does not turn its gradient (or the second derivative) into NaN."""

    __slots__ = ("ddof",)
    save_inputs = True
    save_output = True
    derivative = "d/dx_i std(x) = (x_i - mean(x)) / ((n - ddof) std(x)), 0 where std(x) = 0"
    in_words = (
        "each element gets the gradient times its deviation from the mean over (n - ddof) std"
    )

    def __init__(
        self, shape: tuple[int, ...], axes: tuple[int, ...], keepdims: bool, ddof: int
    ) -> None:
        super().__init__(shape, axes, keepdims)
        self.ddof = ddof

    def forward(self, x: Any) -> Any:
        xp = backend_of(x).xp
        d = x - x.mean(axis=self.axes, keepdims=True)
        n = math.prod(self.shape[a] for a in self.axes)
        return xp.sqrt((d * d).sum(axis=self.axes, keepdims=self.keepdims) / (n - self.ddof))

    def backward(self, m: Any, g: Any, x: Any, out: Any) -> Any:
        n = math.prod(self.shape[a] for a in self.axes)
        d = x - x.sum(axis=self.axes, keepdims=True) / n
        s = self.kept(out)
        zero = s == 0
        slope = d / (m.where(zero, 1, s) * (n - self.ddof))  # no division by 0 anywhere
        return m.where(zero, 0, self.kept(g) * slope)


class Max(_Reduction):
    """max over axes;  the gradient goes to the maximal elements, split equally among ties."""

    __slots__ = ()
    save_inputs = True
    save_output = True
    derivative = "d/dx_i max(x) = 1 at the maximum (shared by ties), else 0"
    in_words = "the gradient goes to the largest elements only"

    def forward(self, x: Any) -> Any:
        self.check_not_empty("maximum")
        return x.max(axis=self.axes, keepdims=self.keepdims)

    def backward(self, m: Any, g: Any, x: Any, out: Any) -> Any:
        return _to_extremes(self, m, g, x, out)


class Min(_Reduction):
    """min over axes;  the gradient goes to the minimal elements, split equally among ties."""

    __slots__ = ()
    save_inputs = True
    save_output = True
    derivative = "d/dx_i min(x) = 1 at the minimum (shared by ties), else 0"
    in_words = "the gradient goes to the smallest elements only"

    def forward(self, x: Any) -> Any:
        self.check_not_empty("minimum")
        return x.min(axis=self.axes, keepdims=self.keepdims)

    def backward(self, m: Any, g: Any, x: Any, out: Any) -> Any:
        return _to_extremes(self, m, g, x, out)


def _empty_reduction(op: str, what: str, shape: tuple[int, ...], axes: tuple[int, ...]) -> str:
    if len(axes) == len(shape):
        return (
            f"{op}: the input of shape {shape} has no elements, so it has no {what}; reduce "
            f"over an axis whose size is not 0 (axis=...), or check why the input is empty"
        )
    empty = [a for a in axes if shape[a] == 0]
    return (
        f"{op}: expected the reduced axis {empty[0]} to have a non-zero size, but the input "
        f"has shape {shape}: an empty slice has no {what}"
    )


def _to_extremes(fn: _Reduction, m: Any, g: Any, x: Any, out: Any) -> Any:
    o = fn.kept(out)
    # 1 at the selected elements (a constant); a NaN extreme selects the NaN elements, as in
    # PyTorch (x == NaN is never true)
    hit = m.cast((x == o) | ((o != o) & (x != x)), g.dtype)
    return hit * (fn.kept(g) / hit.sum(axis=fn.axes, keepdims=True))


class LogSumExp(_Reduction):
    """log(sum(exp(x))) over axes, computed as c + log(sum(exp(x - c))) with the constant
    c = max(x) (``max_shift``); d/dx = exp(x - logsumexp(x)) = softmax(x)."""

    __slots__ = ()
    save_inputs = True
    save_output = True
    derivative = "d/dx logsumexp(x) = softmax(x)"
    in_words = "each element gets the gradient times its softmax weight"

    def forward(self, x: Any) -> Any:
        math = backend_of(x).math
        if self.count() == 0:  # the log of an empty sum: -inf (as in PyTorch)
            return math.xp.full(self.out_shape(), -math.xp.inf, dtype=x.dtype)
        c = math.max_shift(x, self.axes)
        out = math.xp.log(math.xp.exp(x - c).sum(axis=self.axes, keepdims=True)) + c
        return out if self.keepdims else out.reshape(self.out_shape())

    def backward(self, m: Any, g: Any, x: Any, out: Any) -> Any:
        return self.kept(g) * m.exp(x - self.kept(out))


class Softmax(Function):
    """softmax(x)_i = e^(x_i) / sum_j e^(x_j) along an axis;
    dL/dx = s * (g - sum(g * s)) with s = softmax(x)."""

    __slots__ = ("axis",)
    save_output = True
    derivative = "dL/dx = s (g - sum(g s)),  s = softmax(x)"
    in_words = "the Jacobian of softmax, diag(s) - s s^T, applied to the gradient"

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
    derivative = "dL/dx = g - softmax(x) sum(g)"
    in_words = "the gradient minus the softmax times its sum along the axis"

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


def sum(
    x: Any, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: Any = None
) -> Tensor:
    """Sum of elements over ``axis`` (all axes if None). ``dim``/``keepdim`` are PyTorch's
    names of ``axis``/``keepdims`` (every reduction takes both spellings)."""
    axis, keepdims = dim_args("sum", axis, keepdims, dim, keepdim)
    return _reduce(Sum, "sum", x, axis, keepdims)


def mean(
    x: Any, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: Any = None
) -> Tensor:
    """Arithmetic mean over ``axis``; integer tensors give the default float dtype."""
    axis, keepdims = dim_args("mean", axis, keepdims, dim, keepdim)
    return _reduce(Mean, "mean", x, axis, keepdims)


def var(
    x: Any,
    axis: Axis = None,
    ddof: int | None = None,
    keepdims: bool = False,
    *,
    dim: Axis = None,
    keepdim: Any = None,
    correction: int | None = None,
    unbiased: bool | None = None,
) -> Tensor:
    """Variance sum((x - mean)^2) / (n - ddof) over ``axis``.

    Two conventions, chosen by the spelling of the call:

    * NumPy's (``axis=``, ``ddof=``, or no keyword at all): ``ddof`` defaults to 0, the biased
      estimate (``var(x)``, ``var(x, 0)``, ``var(x, axis=0)``);
    * PyTorch's, as soon as one of its keywords is used (``dim=``, ``keepdim=``,
      ``correction=``, ``unbiased=``): the correction defaults to 1, the unbiased estimate
      (``var(x, dim=0)`` is ``torch.var(x, dim=0)``).

    ``ddof`` and ``correction`` are the same number; ``unbiased=True`` is ``correction=1``.
    Built from mean, subtraction and sum, so all its derivatives come from theirs.
    """
    axis, ddof, keepdims = _var_args(
        "var", axis, ddof, keepdims, dim, keepdim, correction, unbiased
    )
    x = as_tensor(x)
    axes, n = _degrees_of_freedom("var", x, axis, ddof)
    d = x - mean(x, axes, keepdims=True)
    return sum(d * d, axes, keepdims) / (n - ddof)


def std(
    x: Any,
    axis: Axis = None,
    ddof: int | None = None,
    keepdims: bool = False,
    *,
    dim: Axis = None,
    keepdim: Any = None,
    correction: int | None = None,
    unbiased: bool | None = None,
) -> Tensor:
    """Standard deviation sqrt(var(x, ...)), with ``var``'s two conventions (NumPy's ddof=0
    for ``axis=``/``ddof=`` or no keyword; PyTorch's correction=1 once ``dim=``, ``keepdim=``,
    ``correction=`` or ``unbiased=`` is used).

    Kink convention (PyTorch's): where the std is 0 (all values of a slice equal) its gradient
    is 0, not the NaN that sqrt'(0) * 0 would give; its second derivative there is 0 too."""
    axis, ddof, keepdims = _var_args(
        "std", axis, ddof, keepdims, dim, keepdim, correction, unbiased
    )
    x = as_tensor(x)
    axes, _ = _degrees_of_freedom("std", x, axis, ddof)
    if not dtypes.is_floating(x.dtype):
        x = cast_constant(x, dtypes.get_default_dtype())
    return Std(x.shape, axes, keepdims, ddof)(x)


def _degrees_of_freedom(op: str, x: Tensor, axis: Axis, ddof: int) -> tuple[tuple[int, ...], int]:
    """The normalized axes of var/std and n, the number of values each result is taken over;
    an error if n - ddof leaves no degrees of freedom."""
    axes = normalize_axes(op, axis, x.ndim)
    n = math.prod(x.shape[a] for a in axes)
    if n - ddof <= 0:
        raise ValueError(f"{op}: {n} values with ddof={ddof} leave no degrees of freedom")
    return axes, n


def _var_args(
    op: str,
    axis: Axis,
    ddof: int | None,
    keepdims: Any,
    dim: Axis,
    keepdim: Any,
    correction: int | None,
    unbiased: bool | None,
) -> tuple[Axis, int, Any]:
    """``(axis, ddof, keepdims)`` of var/std: PyTorch's default correction (1) when any of its
    keywords is used, NumPy's (0) otherwise."""
    torch_spelling = not (
        dim is None and keepdim is None and correction is None and unbiased is None
    )
    axis, keepdims = dim_args(op, axis, keepdims, dim, keepdim)
    if unbiased is not None:
        if correction is not None:
            raise TypeError(f"{op}: got both correction= and unbiased=; pass one of them")
        correction = 1 if unbiased else 0
    ddof = alias(op, "ddof", ddof, "correction", correction)
    if ddof is None:
        ddof = 1 if torch_spelling else 0
    return axis, ddof, keepdims


class ValuesIndices(NamedTuple):
    """What ``max``/``min`` return when called with ``dim=`` (PyTorch's
    ``torch.return_types.max``): the extreme values and their indices along ``dim``."""

    values: Tensor
    indices: Tensor


def max(
    x: Any,
    axis: Axis = None,
    keepdims: bool = False,
    *,
    dim: int | None = None,
    keepdim: Any = None,
) -> Any:
    """Largest element over ``axis``; ties share the gradient equally (NumPy's ``amax``).

    With ``dim=`` it is PyTorch's ``torch.max(x, dim)``: a named tuple ``(values, indices)``
    along that one axis, the index of the first maximum, and the gradient going to that index
    only. ``keepdim`` is PyTorch's name of ``keepdims``.
    """
    if dim is not None:
        return _extreme_along("max", x, axis, keepdims, dim, keepdim)
    axis, keepdims = dim_args("max", axis, keepdims, dim, keepdim)
    return _reduce(Max, "max", x, axis, keepdims)


def min(
    x: Any,
    axis: Axis = None,
    keepdims: bool = False,
    *,
    dim: int | None = None,
    keepdim: Any = None,
) -> Any:
    """Smallest element over ``axis``; ties share the gradient equally (NumPy's ``amin``).

    With ``dim=`` it is PyTorch's ``torch.min(x, dim)``: a named tuple ``(values, indices)``;
    see :func:`max`.
    """
    if dim is not None:
        return _extreme_along("min", x, axis, keepdims, dim, keepdim)
    axis, keepdims = dim_args("min", axis, keepdims, dim, keepdim)
    return _reduce(Min, "min", x, axis, keepdims)


def _extreme_along(
    op: str, x: Any, axis: Axis, keepdims: Any, dim: Any, keepdim: Any
) -> ValuesIndices:
    """PyTorch's ``max(x, dim)`` / ``min(x, dim)``: values gathered at the arg-extreme, so the
    gradient goes to the selected element only."""
    axis, keepdims = dim_args(op, axis, keepdims, dim, keepdim)
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise TypeError(f"{op}: dim must be an int, got {axis!r} (use axis= for several axes)")
    x = as_tensor(x)
    a = normalize_axes(op, axis, builtins.max(x.ndim, 1))[0]
    if x.ndim == 0:
        indices = _make(backend_of(x.data).xp.zeros((), dtype=dtypes.int64), None)
        return ValuesIndices(x, indices)
    if x.shape[a] == 0:
        what = "maximum" if op == "max" else "minimum"
        raise ShapeError(_empty_reduction(op, what, x.shape, (a,)))
    indices = _index_reduction(f"arg{op}", x, a, True)
    with device_guard(x.data):
        xp = backend_of(x.data).xp
        # the indices as the Tensor, not its array: a compiled step then knows them as a
        # value of the step (the argmax of each replay), not as a constant of the recording
        index = tuple(
            indices if i == a else xp.arange(n).reshape((-1,) + (1,) * (x.ndim - 1 - i))
            for i, n in enumerate(x.shape)
        )
    values = x[index]  # shape of indices (keepdims), differentiable
    if not keepdims:
        values = values.reshape(tuple(n for i, n in enumerate(x.shape) if i != a))
        indices = indices.reshape(values.shape)
    return ValuesIndices(values, indices)


def logsumexp(
    x: Any, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: Any = None
) -> Tensor:
    """log(sum(exp(x))) over ``axis``, without overflow."""
    axis, keepdims = dim_args("logsumexp", axis, keepdims, dim, keepdim)
    return _reduce(LogSumExp, "logsumexp", x, axis, keepdims)


def softmax(x: Any, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``axis`` (``dim``: PyTorch's name), without overflow."""
    axis = alias("softmax", "axis", axis, "dim", dim, -1)
    x = as_tensor(x)
    return Softmax(normalize_axes("softmax", axis, x.ndim)[0] if x.ndim else None)(x)


def log_softmax(x: Any, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """x - logsumexp(x) along ``axis`` (``dim``: PyTorch's name), without overflow."""
    axis = alias("log_softmax", "axis", axis, "dim", dim, -1)
    x = as_tensor(x)
    return LogSoftmax(normalize_axes("log_softmax", axis, x.ndim)[0] if x.ndim else None)(x)


@recorded  # no node: a compiled step calls it again on each replay's values
def _index_reduction(name: str, x: Any, axis: int | None, keepdims: bool) -> Tensor:
    x = as_tensor(x)
    if axis is not None:
        if not isinstance(axis, int):
            raise TypeError(f"{name}: axis must be an int or None, got {axis!r}")
        normalize_axes(name, axis, x.ndim)
    if x.size == 0:
        axes = tuple(range(x.ndim)) if axis is None else normalize_axes(name, axis, x.ndim)
        if math.prod(x.shape[a] for a in axes) == 0:
            what = "largest element" if name == "argmax" else "smallest element"
            raise ShapeError(_empty_reduction(name, what, x.shape, axes))
    with device_guard(x.data):
        return _make(
            getattr(backend_of(x.data).xp, name)(x.data, axis=axis, keepdims=keepdims), None
        )


def argmax(
    x: Any,
    axis: int | None = None,
    keepdims: bool = False,
    *,
    dim: int | None = None,
    keepdim: Any = None,
) -> Tensor:
    """Index of the largest element (flat index if axis is None); no gradient."""
    axis, keepdims = dim_args("argmax", axis, keepdims, dim, keepdim)
    return _index_reduction("argmax", x, axis, keepdims)


def argmin(
    x: Any,
    axis: int | None = None,
    keepdims: bool = False,
    *,
    dim: int | None = None,
    keepdim: Any = None,
) -> Tensor:
    """Index of the smallest element (flat index if axis is None); no gradient."""
    axis, keepdims = dim_args("argmin", axis, keepdims, dim, keepdim)
    return _index_reduction("argmin", x, axis, keepdims)


def any(
    x: Any, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: Any = None
) -> Tensor:
    """Whether any element is true (nonzero) over ``axis``; no gradient."""
    axis, keepdims = dim_args("any", axis, keepdims, dim, keepdim)
    return _truth("any", x, axis, keepdims)


def all(
    x: Any, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: Any = None
) -> Tensor:
    """Whether all elements are true (nonzero) over ``axis``; no gradient."""
    axis, keepdims = dim_args("all", axis, keepdims, dim, keepdim)
    return _truth("all", x, axis, keepdims)


@recorded  # no node: a compiled step calls it again on each replay's values
def _truth(name: str, x: Any, axis: Axis, keepdims: bool) -> Tensor:
    """``any`` or ``all`` (``name``) over ``axis``, as a bool tensor."""
    x = as_tensor(x)
    axes = normalize_axes(name, axis, x.ndim)
    with device_guard(x.data):
        return _make(getattr(x.data, name)(axis=axes, keepdims=keepdims), None)


class Histogram(NamedTuple):
    """What ``histogram`` returns (PyTorch's ``torch.return_types.histogram``)."""

    hist: Tensor
    bin_edges: Tensor


def histogram(
    x: Any,
    bins: Any = 100,
    *,
    range: tuple[float, float] | None = None,
    weight: Any = None,
    density: bool = False,
    weights: Any = None,
) -> Histogram:
    """The values of ``x`` counted in bins, as ``torch.histogram``: a named tuple ``(hist,
    bin_edges)`` of tensors of ``x``'s dtype (the default float dtype for integer ``x``); no
    gradient.

    ``bins`` is a number of equal bins over ``range`` (default: from the smallest to the
    largest value) or a 1-d tensor of increasing edges; the last bin includes its right edge.
    ``weight`` (NumPy's name: ``weights``) weighs each value; ``density=True`` divides by the
    total and the bin widths, so the histogram integrates to 1.
    """
    weight = alias("histogram", "weight", weight, "weights", weights)
    refuse_when_recording(
        "histogram",
        "it is not recorded (a replay would return the recording's counts); return the "
        "tensor and take its histogram outside",
    )
    x = as_tensor(x)
    dtype = x.dtype if dtypes.is_floating(x.dtype) else dtypes.get_default_dtype()
    if isinstance(bins, Tensor):
        bins = bins.data
    elif not isinstance(bins, (int, builtins.range)) and not hasattr(bins, "dtype"):
        bins = backend_of(x.data).asarray(bins, device=x.device)
    if isinstance(weight, Tensor):
        weight = weight.data
    if weight is not None and weight.shape != x.shape:
        raise ShapeError(f"histogram: weight has shape {weight.shape}, x has shape {x.shape}")
    xp = backend_of(x.data).xp
    with device_guard(x.data):
        try:
            hist, edges = xp.histogram(
                x.data, bins=bins, range=range, weights=weight, density=density
            )
        except ValueError as e:
            raise ValueError(f"histogram: {e}") from e
        return Histogram(_make(hist.astype(dtype), None), _make(edges.astype(dtype), None))
