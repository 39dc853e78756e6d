"""Shape and indexing ops: reshape, permute, broadcast, getitem, concatenate, stack, split, cast.

They move or select values without arithmetic, so each backward moves the gradient back:
reshape reshapes it, permute permutes it back, broadcast sums it, getitem scatters it.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import Any

from .. import dtypes
from ..backend import (
    Device,
    backend_for,
    backend_of,
    check_same_device,
    device_of,
    is_array,
    transfer,
)
from ..compiler import rebuilt, refuse_when_recording
from ..conversion import alias
from ..errors import ShapeError
from ..function import Function
from ..operands import as_tensor, as_tensors, cast_constant
from ..tensor import Tensor
from ..text import axis_text, index_text, shape_text
from .reduction import normalize_axes


class Reshape(Function):
    """The same values in another shape;  the gradient is reshaped back."""

    __slots__ = ("in_shape", "out_shape")
    derivative = "dL/dx = g reshaped to x's shape"
    in_words = "the values only moved: the gradient is reshaped back"

    def __init__(self, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> None:
        self.in_shape, self.out_shape = in_shape, out_shape

    def constants(self) -> str | None:
        return shape_text(self.out_shape)

    def forward(self, x: Any) -> Any:
        return x.reshape(self.out_shape)

    def backward(self, m: Any, g: Any) -> Any:
        return g.reshape(self.in_shape)


class Permute(Function):
    """Axes reordered: out.shape[i] = x.shape[axes[i]];  the gradient is permuted back."""

    __slots__ = ("axes",)
    derivative = "dL/dx = g with the axes permuted back"
    in_words = "the values only moved: the gradient's axes are put back in order"

    def __init__(self, axes: tuple[int, ...]) -> None:
        self.axes = axes

    def constants(self) -> str | None:
        return shape_text(self.axes)

    def forward(self, x: Any) -> Any:
        return x.transpose(self.axes)

    def backward(self, m: Any, g: Any) -> Any:
        inverse = [0] * len(self.axes)
        for i, a in enumerate(self.axes):
            inverse[a] = i
        return m.permute(g, tuple(inverse))


class BroadcastTo(Function):
    """x broadcast to a shape (a read-only view);  the gradient is summed back (sum_to)."""

    op_name = "broadcast_to"
    __slots__ = ("in_shape", "shape")
    derivative = "dL/dx = sum_to(g, x.shape)"
    in_words = "each copy made by broadcasting sends its gradient back: they are summed"

    def __init__(self, in_shape: tuple[int, ...], shape: tuple[int, ...]) -> None:
        self.in_shape, self.shape = in_shape, shape

    def constants(self) -> str | None:
        return shape_text(self.shape)

    def forward(self, x: Any) -> Any:
        return backend_of(x).xp.broadcast_to(x, self.shape)

    def backward(self, m: Any, g: Any) -> Any:
        return m.sum_to(g, self.in_shape)


class SumTo(Function):
    """x summed over broadcast axes down to a shape;  the gradient is broadcast back."""

    op_name = "sum_to"
    __slots__ = ("in_shape", "shape")
    derivative = "dL/dx = g broadcast back to x's shape"
    in_words = "every summed element gets the gradient of its sum"

    def __init__(self, in_shape: tuple[int, ...], shape: tuple[int, ...]) -> None:
        self.in_shape, self.shape = in_shape, shape

    def constants(self) -> str | None:
        return shape_text(self.shape)

    def forward(self, x: Any) -> Any:
        return backend_of(x).math.sum_to(x, self.shape)

    def backward(self, m: Any, g: Any) -> Any:
        return m.broadcast_to(g, self.in_shape)


class GetItem(Function):
    """x[index] (NumPy indexing);  the gradient is scattered back, adding over repeats."""

    op_name = "getitem"
    __slots__ = ("in_shape", "index")
    derivative = "dL/dx = zeros with g added at the index"
    in_words = (
        "the selected elements get the gradient (added up where an index repeats), the others 0"
    )

    def __init__(self, in_shape: tuple[int, ...], index: Any) -> None:
        self.in_shape, self.index = in_shape, index

    def constants(self) -> str | None:
        return index_text(self.index)

    def forward(self, x: Any) -> Any:
        return x[self.index]

    def backward(self, m: Any, g: Any) -> Any:
        return m.scatter(self.in_shape, self.index, g)


class Scatter(Function):
    """zeros(shape) with x added at index (the gradient of getitem);  its gradient is g[index]."""

    __slots__ = ("index", "shape")
    derivative = "dL/dx = g[index]"
    in_words = "the gradient is read back at the index"

    def __init__(self, shape: tuple[int, ...], index: Any) -> None:
        self.shape, self.index = shape, index

    def constants(self) -> str | None:
        return index_text(self.index)

    def forward(self, x: Any) -> Any:
        return backend_of(x).math.scatter(self.shape, self.index, x)

    def backward(self, m: Any, g: Any) -> Any:
        return g[self.index]


class Concatenate(Function):
    """Tensors joined along an existing axis;  each gets its slice of the gradient."""

    __slots__ = ("axis", "bounds")
    derivative = "dL/dx_k = the k-th slice of g along the axis"
    in_words = "each joined tensor gets its own slice of the gradient"

    def __init__(self, axis: int, sizes: list[int]) -> None:
        self.axis = axis
        ends = [0, *_cumsum(sizes)]
        self.bounds = list(zip(ends[:-1], ends[1:]))

    def constants(self) -> str | None:
        return axis_text(self.axis)

    def forward(self, *xs: Any) -> Any:
        return backend_of(xs[0]).xp.concatenate(xs, axis=self.axis)

    def backward(self, m: Any, g: Any) -> tuple[Any, ...]:
        lead = (slice(None),) * self.axis
        return tuple(
            None if e is None else g[(*lead, slice(a, b))]
            for e, (a, b) in zip(self.edges, self.bounds)
        )


class Stack(Function):
    """Tensors of one shape joined along a new axis;  each gets its slice of the gradient."""

    __slots__ = ("axis",)
    derivative = "dL/dx_k = g[..., k, ...] along the new axis"
    in_words = "each stacked tensor gets its own slice of the gradient"

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def constants(self) -> str | None:
        return axis_text(self.axis)

    def forward(self, *xs: Any) -> Any:
        return backend_of(xs[0]).xp.stack(xs, axis=self.axis)

    def backward(self, m: Any, g: Any) -> tuple[Any, ...]:
        lead = (slice(None),) * self.axis
        return tuple(None if e is None else g[(*lead, i)] for i, e in enumerate(self.edges))


class Clone(Function):
    """A copy of x in new memory;  the gradient passes through unchanged."""

    __slots__ = ()
    derivative = "d/dx clone(x) = 1"
    in_words = "a copy passes the gradient on unchanged"
    elementwise = True

    def forward(self, x: Any) -> Any:
        return backend_of(x).xp.array(x, copy=True)

    def backward(self, m: Any, g: Any) -> Any:
        return g


class Cast(Function):
    """x converted to another floating dtype;  the gradient is converted back."""

    __slots__ = ("dtype", "in_dtype")
    derivative = "dL/dx = g converted to x's dtype"
    in_words = "the gradient is converted back to the input's dtype"

    def __init__(self, in_dtype: Any, dtype: Any) -> None:
        self.in_dtype, self.dtype = in_dtype, dtype

    def constants(self) -> str | None:
        return str(self.dtype)

    def forward(self, x: Any) -> Any:
        return x.astype(self.dtype)

    def backward(self, m: Any, g: Any) -> Any:
        return m.cast(g, self.in_dtype)


class ToDevice(Function):
    """x copied to another device;  the gradient is copied back."""

    op_name = "to_device"
    __slots__ = ("dst", "src")
    derivative = "dL/dx = g copied to x's device"
    in_words = "the gradient is copied back to the input's device"

    def __init__(self, src: Device, dst: Device) -> None:
        self.src, self.dst = src, dst

    def constants(self) -> str | None:
        return str(self.dst)

    def forward(self, x: Any) -> Any:
        return transfer(x, self.dst)

    def backward(self, m: Any, g: Any) -> Any:
        return m.to_device(g, self.src)


def _cumsum(sizes: list[int]) -> list[int]:
    out, total = [], 0
    for s in sizes:
        total += s
        out.append(total)
    return out


def reshape(x: Any, shape: int | Sequence[int]) -> Tensor:
    """The same values in ``shape`` (one entry may be -1)."""
    x = as_tensor(x)
    shape = (operator.index(shape),) if not isinstance(shape, Sequence) else tuple(shape)
    return Reshape(x.shape, shape)(x)


def flatten(
    x: Any,
    start_axis: int = 0,
    end_axis: int = -1,
    *,
    start_dim: int | None = None,
    end_dim: int | None = None,
) -> Tensor:
    """Axes ``start_axis`` to ``end_axis`` (inclusive) merged into one (``start_dim`` and
    ``end_dim``: PyTorch's names)."""
    start_axis = alias("flatten", "start_axis", start_axis, "start_dim", start_dim, 0)
    end_axis = alias("flatten", "end_axis", end_axis, "end_dim", end_dim, -1)
    x = as_tensor(x)
    if x.ndim == 0:
        return reshape(x, (1,))
    start, end = (normalize_axes("flatten", a, x.ndim)[0] for a in (start_axis, end_axis))
    if start > end:
        raise ShapeError(f"flatten: start_axis {start_axis} comes after end_axis {end_axis}")
    s = x.shape
    return reshape(x, (*s[:start], math.prod(s[start : end + 1]), *s[end + 1 :]))


def squeeze(
    x: Any, axis: int | Sequence[int] | None = None, *, dim: int | Sequence[int] | None = None
) -> Tensor:
    """Size-1 axes removed: all of them, or those in ``axis``, which must have size 1
    (NumPy's rule). With ``dim=`` (PyTorch's name) it is ``torch.squeeze``: axes of ``dim``
    whose size is not 1 are kept, without an error."""
    torch_spelling = dim is not None
    axis = alias("squeeze", "axis", axis, "dim", dim)
    x = as_tensor(x)
    if axis is None:
        axes = tuple(i for i, n in enumerate(x.shape) if n == 1)
    else:
        axes = normalize_axes("squeeze", axis, x.ndim)
        if torch_spelling:
            axes = tuple(a for a in axes if x.shape[a] == 1)
        bad = [a for a in axes if x.shape[a] != 1]
        if bad:
            raise ShapeError(
                f"squeeze: axis {bad[0]} has size {x.shape[bad[0]]}, not 1 (shape {x.shape})"
            )
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if i not in axes))


def unsqueeze(x: Any, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """A size-1 axis inserted at position ``axis`` (of the result; ``dim``: PyTorch's name)."""
    axis = alias("unsqueeze", "axis", axis, "dim", dim)
    if axis is None:
        raise TypeError("unsqueeze: missing the axis (axis= or dim=) where the new axis goes")
    x = as_tensor(x)
    a = normalize_axes("unsqueeze", axis, x.ndim + 1)[0]
    return reshape(x, (*x.shape[:a], 1, *x.shape[a:]))


def permute(x: Any, axes: Sequence[int]) -> Tensor:
    """Axes reordered so that result axis i is input axis ``axes[i]``."""
    x = as_tensor(x)
    axes = tuple(axes)
    normalized = normalize_axes("permute", axes, x.ndim) if axes else ()
    if len(axes) != x.ndim or len(normalized) != x.ndim:
        raise ShapeError(f"permute: {axes} is not a permutation of the {x.ndim} axes")
    return Permute(tuple(operator.index(a) % x.ndim for a in axes))(x)


def transpose(
    x: Any, axis0: int = -2, axis1: int = -1, *, dim0: int | None = None, dim1: int | None = None
) -> Tensor:
    """Axes ``axis0`` and ``axis1`` swapped (``dim0``, ``dim1``: PyTorch's names)."""
    axis0 = alias("transpose", "axis0", axis0, "dim0", dim0, -2)
    axis1 = alias("transpose", "axis1", axis1, "dim1", dim1, -1)
    x = as_tensor(x)
    a, b = (normalize_axes("transpose", i, x.ndim)[0] for i in (axis0, axis1))
    axes = list(range(x.ndim))
    axes[a], axes[b] = axes[b], axes[a]
    return Permute(tuple(axes))(x)


swapaxes = transpose  # NumPy's name (np.swapaxes); backward rules use it, on arrays and Tensors


def broadcast_to(x: Any, shape: Sequence[int]) -> Tensor:
    """``x`` broadcast to ``shape`` (NumPy rules); the gradient is summed back."""
    x = as_tensor(x)
    shape = tuple(shape)
    if shape == x.shape:
        return x
    return BroadcastTo(x.shape, shape)(x)


def expand(x: Any, shape: Sequence[int]) -> Tensor:
    """Like ``broadcast_to``, where -1 keeps the size of that axis (PyTorch's ``expand``)."""
    x = as_tensor(x)
    shape = tuple(shape)
    lead = len(shape) - x.ndim
    if lead < 0:
        raise ShapeError(f"expand: cannot expand shape {x.shape} to fewer axes {shape}")
    full = tuple(x.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(shape))
    if any(n < 0 for n in full):
        raise ShapeError(f"expand: -1 is not allowed for the new leading axes of {shape}")
    return broadcast_to(x, full)


def sum_to(x: Any, shape: Sequence[int]) -> Tensor:
    """``x`` summed over broadcast axes down to ``shape`` (the adjoint of ``broadcast_to``)."""
    x = as_tensor(x)
    shape = tuple(shape)
    if shape == x.shape:
        return x
    return SumTo(x.shape, shape)(x)


@rebuilt
def getitem(x: Any, index: Any) -> Tensor:
    """``x[index]`` with NumPy's indexing: ints, slices, None, Ellipsis, boolean masks and
    integer arrays (repeated indices accumulate their gradient)."""
    x = as_tensor(x)
    return GetItem(x.shape, normalize_index("getitem", index, x))(x)


@rebuilt
def scatter(shape: Sequence[int], index: Any, values: Any) -> Tensor:
    """``zeros(shape)`` with ``values`` added at ``index`` (repeated indices accumulate)."""
    values = as_tensor(values)
    return Scatter(tuple(shape), normalize_index("scatter", index, values))(values)


def normalize_index(op: str, index: Any, like: Tensor) -> Any:
    """An index for ``like`` with its arrays on ``like``'s device: index Tensors must be there
    already (they are operands); host data (lists, NumPy arrays) is a constant of the op, like
    a Python number, and is made there."""
    if isinstance(index, tuple):
        return tuple(_index_part(op, p, like) for p in index)
    return _index_part(op, index, like)


def _index_part(op: str, p: Any, like: Tensor) -> Any:
    if p is None or p is Ellipsis or isinstance(p, (slice, int)):
        return p
    if isinstance(p, Tensor):
        a = p.data
        check_same_device(op, (like.data, a))
        if a.dtype.kind == "b":
            refuse_when_recording(
                f"{op} with a boolean mask tensor",
                "the result's shape depends on how many values the mask keeps, so a replay "
                "cannot follow it. Keep the shape (autograd.where(mask, x, 0), or x times the "
                "mask as a float), or pass a mask that never changes as a NumPy array",
            )
    elif hasattr(p, "__index__") and not hasattr(p, "shape"):
        return operator.index(p)
    elif is_array(p) and device_of(p) == like.device:
        a = p
    else:
        a = backend_of(like.data).asarray(p, device=like.device)
    if a.dtype.kind not in "iub":
        raise IndexError(f"{op}: index arrays must hold integers or booleans, got {a.dtype}")
    if a.ndim == 0 and a.dtype.kind in "iu":
        return int(a)
    return a


def concatenate(tensors: Sequence[Any], axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Tensors joined along an existing ``axis`` (shapes must match elsewhere; ``dim``:
    PyTorch's name). ``cat`` is the same function."""
    axis = alias("concatenate", "axis", axis, "dim", dim, 0)
    ts = as_tensors("concatenate", list(tensors))
    if ts[0].ndim == 0:
        raise ShapeError("concatenate: zero-dimensional tensors cannot be concatenated")
    a = normalize_axes("concatenate", axis, ts[0].ndim)[0]
    return Concatenate(a, [t.shape[a] for t in ts])(*ts)


def stack(tensors: Sequence[Any], axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Tensors of one shape joined along a new ``axis`` (``dim``: PyTorch's name)."""
    axis = alias("stack", "axis", axis, "dim", dim, 0)
    ts = as_tensors("stack", list(tensors))
    a = normalize_axes("stack", axis, ts[0].ndim + 1)[0]
    return Stack(a)(*ts)


cat = concatenate  # PyTorch's name (torch.cat)


def split(x: Any, indices_or_sections: int | Sequence[int], axis: int = 0) -> list[Tensor]:
    """``x`` cut along ``axis`` exactly as ``np.split`` cuts it: an int N gives N equal parts;
    a sequence of indices [i_1, ..., i_k] gives the k + 1 parts x[0:i_1], x[i_1:i_2], ...,
    x[i_k:], each a Python slice (so negative indices count from the end, indices past the
    end are clipped, and an index below the one before it gives an empty part)."""
    x = as_tensor(x)
    a = normalize_axes("split", axis, x.ndim)[0]
    n = x.shape[a]
    spec = indices_or_sections
    if isinstance(spec, Tensor):
        spec = spec.tolist()
    try:
        points = list(spec)  # NumPy's test: anything iterable holds indices
    except TypeError:
        points = None
    if points is None:
        parts = operator.index(spec)
        if parts <= 0 or n % parts:
            raise ShapeError(f"split: axis {a} of size {n} does not divide into {parts} parts")
        cuts = list(range(0, n + 1, n // parts)) if n else [0] * (parts + 1)
    else:
        for i in points:
            if not hasattr(i, "__index__"):
                raise TypeError(f"split: cut points must be integers, got {i!r}")
        cuts = [0, *(operator.index(i) for i in points), n]
    lead = (slice(None),) * a
    return [getitem(x, (*lead, slice(s, e))) for s, e in zip(cuts[:-1], cuts[1:])]


def clone(x: Any) -> Tensor:
    """A copy of ``x`` that shares no memory with it (differentiable)."""
    return Clone()(as_tensor(x))


def cast(x: Any, dtype: Any) -> Tensor:
    """``x`` converted to ``dtype``. Differentiable between floating dtypes; a conversion to or
    from an integer or bool dtype is a constant of the graph."""
    x = as_tensor(x)
    dtype = dtypes.as_dtype(dtype)
    if dtype == x.dtype:
        return x
    if not (dtypes.is_floating(dtype) and dtypes.is_floating(x.dtype)):
        return cast_constant(x, dtype)
    return Cast(x.dtype, dtype)(x)


def to_device(x: Any, device: str | Device) -> Tensor:
    """``x`` copied to ``device`` (differentiable: the gradient is copied back)."""
    x = as_tensor(x)
    dst = Device(device)
    if dst == x.device:
        return x
    backend_for(dst)  # a clear error if that device is not available
    return ToDevice(x.device, dst)(x)
