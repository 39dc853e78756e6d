"""Comparisons and logic on bool tensors. They have no gradient: results are graph constants."""

from __future__ import annotations

from typing import Any

from ..backend import backend_of, device_guard
from ..compiler import ufunc_call
from ..errors import DTypeError
from ..operands import as_tensor, operands
from ..tensor import Tensor, _make


def _compare(op: str, ufunc: str, x: Any, y: Any) -> Tensor:
    return _apply(ufunc, *operands(op, x, y))


@ufunc_call
def _apply(ufunc: str, *xs: Any) -> Tensor:
    """The backend's ``ufunc`` on the (checked, converted) operands ``xs``: tensors and at
    most one Python number."""
    arrays = [x.data if isinstance(x, Tensor) else x for x in xs]
    on = next(a for a, x in zip(arrays, xs) if isinstance(x, Tensor))
    with device_guard(on):
        return _make(getattr(backend_of(on).xp, ufunc)(*arrays), None)


def eq(x: Any, y: Any) -> Tensor:
    """Elementwise x == y (bool tensor)."""
    return _compare("eq", "equal", x, y)


def ne(x: Any, y: Any) -> Tensor:
    """Elementwise x != y (bool tensor)."""
    return _compare("ne", "not_equal", x, y)


def lt(x: Any, y: Any) -> Tensor:
    """Elementwise x < y (bool tensor)."""
    return _compare("lt", "less", x, y)


def le(x: Any, y: Any) -> Tensor:
    """Elementwise x <= y (bool tensor)."""
    return _compare("le", "less_equal", x, y)


def gt(x: Any, y: Any) -> Tensor:
    """Elementwise x > y (bool tensor)."""
    return _compare("gt", "greater", x, y)


def ge(x: Any, y: Any) -> Tensor:
    """Elementwise x >= y (bool tensor)."""
    return _compare("ge", "greater_equal", x, y)


def _logic(op: str, ufunc: str, *xs: Any) -> Tensor:
    ts = [as_tensor(x) for x in xs]
    for t in ts:
        if t.data.dtype.kind != "b":
            raise DTypeError(
                f"{op}: needs bool tensors, got {t.data.dtype}; compare first, "
                f"e.g. (x > 0) & (y > 0)"
            )
    if len(ts) == 2:
        operands(op, ts[0], ts[1])  # device check
    return _apply(ufunc, *ts)


def logical_and(x: Any, y: Any) -> Tensor:
    """Elementwise x and y of bool tensors (``x & y``)."""
    return _logic("logical_and", "logical_and", x, y)


def logical_or(x: Any, y: Any) -> Tensor:
    """Elementwise x or y of bool tensors (``x | y``)."""
    return _logic("logical_or", "logical_or", x, y)


def logical_xor(x: Any, y: Any) -> Tensor:
    """Elementwise x xor y of bool tensors (``x ^ y``)."""
    return _logic("logical_xor", "logical_xor", x, y)


def logical_not(x: Any) -> Tensor:
    """Elementwise not x of a bool tensor (``~x``)."""
    return _logic("logical_not", "logical_not", x)
