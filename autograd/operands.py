"""What may be an operand, and the dtype/device policy of ops with several operands.

* Python numbers (and NumPy scalars) are weakly typed constants: ``x * 2.0`` keeps x's dtype.
* Lists take the dtype of the tensor they meet; ndarrays keep their own dtype.
* Two floating dtypes never mix silently: float32 with float64 is an error that says how to
  convert. Integer and bool operands are converted to the floating operand's dtype.
* All tensor operands must live on the same device (never copied behind your back).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import dtypes
from .backend import CPU_TYPES, check_same_device, device_guard, is_array
from .compiler import cast_call
from .conversion import as_array
from .errors import DTypeError
from .tensor import Tensor, _make

_SCALARS = (bool, int, float)


def as_tensor(x: Any, like: Tensor | None = None) -> Tensor:
    """``x`` as a Tensor (no copy for tensors and arrays). Lists and numbers take the dtype of
    ``like`` when it is floating."""
    if isinstance(x, Tensor):
        return x
    dtype = None
    if like is not None and not is_array(x) and dtypes.is_floating(like.data.dtype):
        dtype = like.data.dtype
    device = like.device if like is not None and not is_array(x) else None
    return _make(as_array(x, dtype=dtype, device=device), None)


def as_tensors(op: str, xs: list[Any] | tuple[Any, ...]) -> list[Tensor]:
    """Several operands as tensors with one dtype and one device (for concatenate, stack)."""
    if not xs:
        raise ValueError(f"{op}: needs at least one tensor")
    like = next((x for x in xs if isinstance(x, Tensor)), None)
    ts = [as_tensor(x, like) for x in xs]
    target = common_float_dtype(op, [t.data.dtype for t in ts])
    if target is not None:
        ts = [t if t.data.dtype == target else cast_constant(t, target) for t in ts]
    check_same_device(op, [t.data for t in ts])
    return ts


def operands(op: str, a: Any, b: Any) -> tuple[Any, Any]:
    """The two operands of a binary op: Tensors of one dtype and device, or one Tensor and a
    Python-number constant."""
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            da, db = a.data, b.data
            if da.dtype != db.dtype:
                a, b = unify_dtypes(op, a, b)
            if not (CPU_TYPES[type(da)] and CPU_TYPES[type(db)]):
                check_same_device(op, (da, db))
            return a, b
        return _with_constant(op, a, b, tensor_first=True)
    if isinstance(b, Tensor):
        return _with_constant(op, b, a, tensor_first=False)
    return operands(op, as_tensor(a), b)


def _with_constant(op: str, t: Tensor, c: Any, tensor_first: bool) -> tuple[Any, Any]:
    if isinstance(c, np.generic) and c.ndim == 0:
        c = c.item()
    if isinstance(c, _SCALARS):
        if isinstance(c, float) and not dtypes.is_floating(t.data.dtype):
            t = cast_constant(t, dtypes.get_default_dtype())
        return (t, c) if tensor_first else (c, t)
    if isinstance(c, complex):
        raise DTypeError(f"{op}: complex numbers are not supported")
    ct = as_tensor(c, like=t)
    return operands(op, t, ct) if tensor_first else operands(op, ct, t)


def unify_dtypes(op: str, a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """Bring two tensors to one dtype without upcasting floating data silently."""
    target = common_float_dtype(op, [a.data.dtype, b.data.dtype])
    if target is None:
        return a, b  # integers and bools: NumPy's promotion (no gradients involved)
    if a.data.dtype != target:
        a = cast_constant(a, target)
    if b.data.dtype != target:
        b = cast_constant(b, target)
    return a, b


@cast_call
def cast_constant(t: Tensor, dtype: Any) -> Tensor:
    """The values of ``t`` converted to ``dtype``, as a constant of the graph (on t's device)."""
    with device_guard(t.data):
        return _make(t.data.astype(dtype), None)


def common_float_dtype(op: str, dts: list[np.dtype]) -> np.dtype | None:
    """The one floating dtype among ``dts`` (None if there is none); an error if several."""
    floats = list(dict.fromkeys(d for d in dts if dtypes.is_floating(d)))
    if len(floats) > 1:
        names = " and ".join(str(d) for d in floats)
        a, b = floats[0], floats[1]
        raise DTypeError(
            f"{op}: operands have different floating dtypes, {names}. arraygrad never upcasts "
            f"silently; convert one explicitly: the {b} operand with .to(autograd.{a}), or the "
            f"{a} one with .to(autograd.{b})."
        )
    return floats[0] if floats else None
