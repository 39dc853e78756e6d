"""The vocabulary backward rules are written in, in two interchangeable forms.

A rule uses Python operators on its values plus the functions of ``m``:

* :class:`ArrayMath` works on raw backend arrays. This is the path of every ordinary backward
  (``create_graph=False``): no Tensors, no graph bookkeeping, just the array math.
* :class:`TensorMath` works on Tensors with differentiable ops, so the gradient is itself
  recorded and can be differentiated again (``create_graph=True``).

Both offer the same names with the same meaning; a rule cannot tell them apart.
"""

from __future__ import annotations

from typing import Any

import numpy as np

SELECT_BY_MASK_FROM = 4096  # elements: where ArrayMath.where's bitwise select starts to pay


class ArrayMath:
    """Backward vocabulary on the arrays of one backend (``xp`` is NumPy or CuPy)."""

    def __init__(self, backend: Any) -> None:
        xp = backend.xp
        self.backend = backend
        self.exp, self.log, self.sin, self.cos = xp.exp, xp.log, xp.sin, xp.cos
        self.sign = xp.sign
        self._where = xp.where
        self.permute = xp.transpose
        self.swapaxes = xp.swapaxes
        self.broadcast_to = xp.broadcast_to
        self.zeros_like = xp.zeros_like
        self.xp = xp

    def where(self, cond: Any, x: Any, y: Any, into: Any = None) -> Any:
        """x where cond, else y (``into``: an array the select may write into, as the bitwise
        one does; use the result). Where one side is 0 and
        the other a float NumPy array of cond's shape (ReLU's, clamp's, where's gradients),
        the select multiplies the gradient's bits, as unsigned words, by 1 where it is kept and
        0 where it is dropped: the same bits as ``np.where`` (+0.0 where the gradient is
        dropped, NaN and inf passed where it is kept), without the branch on each element that
        makes ``np.where`` several times slower on a random mask (from about 4,000 elements:
        below, np.where's one call is faster)."""
        zero_x = x.__class__ is int and x == 0
        if (zero_x or (y.__class__ is int and y == 0)) and cond.__class__ is np.ndarray:
            g = y if zero_x else x
            if (
                g.__class__ is np.ndarray
                and g.size >= SELECT_BY_MASK_FROM
                and g.dtype.kind == "f"
                and g.shape == cond.shape
                and cond.dtype == np.bool_
            ):
                words = np.dtype(f"u{g.itemsize}")
                mask = np.empty(g.shape, words) if into is None else into.view(words)
                if zero_x:  # kept where not cond
                    np.logical_not(cond, out=mask)
                    return np.multiply(mask, g.view(words), out=mask).view(g.dtype)
                return np.multiply(g.view(words), cond, out=mask).view(g.dtype)
        return self._where(cond, x, y)

    def sum_to(self, a: Any, shape: tuple[int, ...]) -> Any:
        """Sum ``a`` over the axes that broadcasting added or stretched, giving ``shape``.

        The one broadcasting reduction of the engine: if ``b = broadcast_to(x, s)`` then
        dL/dx = sum_to(dL/db, x.shape).
        """
        if a.shape == shape:
            return a
        lead = a.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            i + lead for i, n in enumerate(shape) if n == 1 and a.shape[i + lead] != 1
        )
        out = a.sum(axis=axes, keepdims=True)
        return out.reshape(shape) if lead else out

    def scatter(self, shape: tuple[int, ...], index: Any, g: Any) -> Any:
        """zeros(shape) with ``g`` added at ``index``; repeated indices accumulate.

        The gradient of ``x[index]``. Basic indices and boolean masks cannot repeat an element,
        so they are assigned; integer-array indices are scatter-added.
        """
        xp = self.xp
        out = xp.zeros(shape, dtype=g.dtype)
        if has_integer_array(index):
            # The positions x[index] reads, in NumPy's own indexing semantics, flattened.
            positions = xp.arange(out.size).reshape(shape)[index]
            self.backend.scatter_add(out.reshape(-1), positions.reshape(-1), xp.reshape(g, -1))
        else:
            out[index] = g
        return out

    def max_shift(self, a: Any, axis: int | tuple[int, ...] | None) -> Any:
        """The constant c that logsumexp, softmax and log_softmax subtract before ``exp`` so
        that it cannot overflow: max(a) along ``axis`` (kept), or 0 where that maximum is not
        finite (a slice of all -inf keeps logsumexp = -inf instead of NaN). Forward only:
        the results do not depend on c, so no rule differentiates it. An empty ``a`` has no
        maximum, and needs no shift: 0."""
        if a.size == 0:
            return 0
        columns = _short_rows_columns(a, axis)
        if columns is None:
            c = a.max(axis=axis, keepdims=True)
        else:
            c = columns.max(axis=0).reshape((*a.shape[:-1], 1))
        return _finite_or_0(self.xp, c)

    def log_softmax(self, a: Any, axis: int | None) -> Any:
        """a - log(sum(exp(a))) along ``axis``, computed as (a - c) - log(sum(exp(a - c)))
        with c = max_shift(a). An empty ``a`` gives an empty result (no log of an empty sum).
        Short rows (logits of (N, C), C small) go by columns, as ``max_shift`` does: each row
        a column of a transposed copy, so that the max and the sum are elementwise passes
        down the C rows (the sum adds the classes in order, not pairwise; not for float16,
        whose row sums NumPy accumulates in float32 and whose column sums it would round at
        each step)."""
        xp = self.xp
        if a.size == 0:
            return a.copy()
        columns = _short_rows_columns(a, axis) if a.dtype.itemsize >= 4 else None
        if columns is not None:
            shifted = xp.subtract(columns, _finite_or_0(xp, columns.max(axis=0)), out=columns)
            shifted -= xp.log(xp.exp(shifted).sum(axis=0))
            return xp.ascontiguousarray(shifted.T).reshape(a.shape)
        shifted = a - self.max_shift(a, axis)
        return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))

    def cast(self, a: Any, dtype: Any) -> Any:
        return a.astype(dtype)

    def to_device(self, a: Any, device: Any) -> Any:
        from .backend import transfer

        return transfer(a, device)


SHORT_ROWS = 64  # rows this short (and at least this many) are reduced by columns


def _short_rows_columns(a: Any, axis: Any) -> Any:
    """A fresh C-ordered (n, rows) copy of a NumPy array's rows along its last axis, where
    that axis is short and the rows many (logits of (N, C), C small), or None elsewhere.
    NumPy reduces each short row with a call of its inner loop (about 40 ns a row: 6 us for
    128 rows of 10); reduced along axis 0 of the copy, a max or a sum is one elementwise
    pass per class, 3-10x faster for such shapes."""
    if a.__class__ is not np.ndarray or a.ndim < 2 or axis not in (-1, a.ndim - 1):
        return None
    n = a.shape[-1]
    rows = a.size // n
    if n > SHORT_ROWS or rows < SHORT_ROWS:
        return None
    return a.reshape(rows, n).T.copy()  # a copy: the caller may write into it


def _finite_or_0(xp: Any, c: Any) -> Any:
    """c where finite, else 0: the shift of rows whose maximum is inf, -inf or NaN; a zero
    maximum as +0.0 (-0.0 + 0 = +0.0): of a row holding both zeros, NumPy's max returns
    either, by SIMD path and layout (AVX2's rows and columns disagree), and the shift's zero
    is the sign of the shifted zeros."""
    s = xp.where(xp.isfinite(c), c, 0)
    s += 0
    return s


# ---------------------------------------------------- the same calls, as a compiled step's lines
# (see ``Function.forward_source``): the forms of ArrayMath that a training step's hot path takes


def keep_where_source(
    s: Any, keep: str, a: str, g: str, g_array: Any, into: str, out: str
) -> list[str]:
    """Lines setting ``out`` to ``ArrayMath.where(keep(a, 0), g, 0, into)``, ``keep`` a NumPy
    comparison (``not_equal``: ReLU's gradient), ``a`` of g's shape: where ``where`` takes
    the select by words, the comparison written straight into the words (1 where g is kept)
    and g's bits multiplied by them, two passes; else its call."""
    if not (
        g_array.__class__ is np.ndarray
        and g_array.size >= SELECT_BY_MASK_FROM
        and g_array.dtype.kind == "f"
    ):
        return [f"{out} = {s.math}.where({s.fn(keep)}({a}, 0), {g}, 0, {into})"]
    words, mask = s.const(np.dtype(f"u{g_array.itemsize}")), s.local("mask")
    made = (
        f"{s.fn('empty')}({s.const(g_array.shape)}, {words})"
        if into == "None"
        else f"{into}.view({words})"
    )
    return [
        f"{mask} = {made}",
        f"{s.fn(keep)}({a}, 0, out={mask})",
        f"{out} = {s.fn('multiply')}({mask}, {g}.view({words}), out={mask})"
        f".view({s.const(g_array.dtype)})",
        f"del {mask}",  # (a view: it would hold the buffer)
    ]


def log_softmax_source(s: Any, a: str, a_array: Any, axis: int, out: str) -> list[str]:
    """Lines setting ``out`` to ``ArrayMath.log_softmax(a, axis)``: its steps by columns where
    it takes them (logits of (N, C), C small), else its call."""
    if a_array is None or not a_array.size or a_array.dtype.itemsize < 4:
        return [f"{out} = {s.math}.log_softmax({a}, {axis})"]
    if _short_rows_columns(a_array, axis) is None:
        return [f"{out} = {s.math}.log_softmax({a}, {axis})"]
    n = a_array.shape[-1]
    columns, top = s.local("columns"), s.local("top")
    return [
        f"{columns} = {a}.reshape({a_array.size // n}, {n}).T.copy()",
        f"{top} = {columns}.max(axis=0)",
        f"{s.fn('subtract')}({columns}, {s.const(_finite_or_0)}({s.const(s.xp)}, {top}), "
        f"out={columns})",
        f"{columns} -= {s.fn('log')}({s.fn('exp')}({columns}).sum(axis=0))",
        f"{out} = {s.fn('ascontiguousarray')}({columns}.T).reshape({s.const(a_array.shape)})",
    ]


class TensorMath:
    """Backward vocabulary on Tensors: every function records itself in the graph."""

    def __init__(self) -> None:
        from . import ops
        from .creation import zeros_like

        self.exp, self.log, self.sin, self.cos = ops.exp, ops.log, ops.sin, ops.cos
        self.sign, self.where = ops.sign, ops.where
        self.permute = ops.permute
        self.swapaxes = ops.swapaxes
        self.broadcast_to = ops.broadcast_to
        self.sum_to = ops.sum_to
        self.scatter = ops.scatter
        self.log_softmax = ops.log_softmax
        self.cast = ops.cast
        self.to_device = ops.to_device
        self.zeros_like = zeros_like  # a constant: the derivative of a constant


_tensor_math: TensorMath | None = None


def tensor_math() -> TensorMath:
    """The (single) TensorMath, made on first use: it needs the ops, which need the engine."""
    global _tensor_math
    if _tensor_math is None:
        _tensor_math = TensorMath()
    return _tensor_math


def has_integer_array(index: Any) -> bool:
    """Whether a normalized index (ints, slices, None, Ellipsis, arrays) holds an integer array,
    the only kind of index that can name the same element twice."""
    parts = index if isinstance(index, tuple) else (index,)
    return any(getattr(p, "dtype", None) is not None and p.dtype.kind in "iu" for p in parts)
