"""Turning what users pass into what the engine holds: data into backend arrays, shape and
``to(...)`` arguments into their normal form. ``autograd`` and ``nn`` both use these.

* Arrays keep their dtype; Python data is inferred as PyTorch does, unless a ``dtype`` is
  given: bools stay bool, integers become int64, floats the default float dtype.
* Data never moves between devices implicitly: an array on another device than the one asked
  for is an error that says how to move it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import dtypes
from .backend import DEVICE_TYPES, Device, backend_for, backend_of
from .errors import DTypeError


def as_array(data: Any, dtype: Any = None, device: str | Device | None = None) -> Any:
    """``data`` (an array of some backend, a NumPy scalar, a Python number or nested list) as
    a backend array: arrays keep their dtype; Python numbers and lists are inferred as in
    PyTorch (bools stay bool, integers give int64, floats the default float dtype), unless
    ``dtype`` is given."""
    if dtype is not None:
        dtype = dtypes.as_dtype(dtype)
    if isinstance(data, np.generic):
        data = np.asarray(data)  # a NumPy scalar becomes a (mutable) 0-d array
    try:
        backend = backend_of(data)
    except TypeError:
        backend = None
    if backend is not None:  # already an array of some backend
        if device is not None and Device(device) != backend.device_of(data):
            raise_device_move(data, device)
        if dtype is None or data.dtype == dtype:
            return data
        with backend.guard(data):
            return data.astype(dtype)
    target = backend_for(device)
    probe = np.asarray(data)
    if probe.dtype.kind == "c":
        raise DTypeError("complex numbers are not supported")
    if probe.dtype.kind not in "biuf":  # None, strings, ragged or mixed lists
        raise TypeError(
            f"cannot make a tensor from {type(data).__name__} {data!r:.80}: expected numbers, "
            "nested lists of numbers, or an array"
        )
    if dtype is None:
        dtype = _inferred_dtype(probe)
    return target.asarray(probe, dtype=dtype, device=Device(device or "cpu"))  # converted once


def _inferred_dtype(probe: np.ndarray) -> np.dtype:
    """The dtype of Python data, as PyTorch infers it: bools stay bool, integers give int64,
    anything with a float the default float dtype."""
    kind = probe.dtype.kind
    if kind == "b":
        return probe.dtype
    if kind in "iu":
        if kind == "u" and probe.size and probe.max() > np.iinfo(np.int64).max:
            raise OverflowError(f"cannot make an int64 tensor from {probe.max()}: too large")
        return dtypes.int64
    return dtypes.get_default_dtype()


def raise_device_move(data: Any, device: str | Device) -> None:
    """The error for data asked onto another device implicitly (moves are explicit)."""
    raise ValueError(
        f"the array is on {backend_of(data).device_of(data)} but device={device!r} was asked "
        f"for; move it explicitly (autograd.tensor(...).to({str(device)!r}))"
    )


def is_device_spec(x: Any) -> bool:
    """Whether ``x`` names a device (``Device``, ``"cpu"``, ``"cuda:1"``), not a dtype."""
    return isinstance(x, Device) or (
        isinstance(x, str) and x.strip().lower().partition(":")[0] in DEVICE_TYPES
    )


def to_args(
    op: str, args: tuple[Any, ...], device: Any = None, dtype: Any = None
) -> tuple[Device | None, np.dtype | None]:
    """The ``(device, dtype)`` that ``to(*args, device=..., dtype=...)`` asks for.

    The forms of ``Tensor.to`` and ``Module.to`` (those of PyTorch): ``to(device)``,
    ``to(dtype)``, ``to(device, dtype)``, ``to(dtype, device)`` and the keywords. Each
    positional argument is recognized as a device or a dtype; naming one twice is an error.
    """
    if len(args) > 2:
        raise TypeError(f"{op}: expected at most a device and a dtype, got {len(args)} arguments")
    for a in args:
        if a is None:
            continue
        if is_device_spec(a):
            if device is not None:
                raise TypeError(f"{op}: the device is given twice ({device!r} and {a!r})")
            device = a
        else:
            if dtype is not None:
                raise TypeError(f"{op}: the dtype is given twice ({dtype!r} and {a!r})")
            dtype = a
    return (
        None if device is None else Device(device),
        None if dtype is None else dtypes.as_dtype(dtype),
    )


def shape_args(shape: tuple[Any, ...]) -> tuple[int, ...]:
    """Accept both ``f(2, 3)`` and ``f((2, 3))``."""
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
        return tuple(shape[0])
    return tuple(shape)


def alias(op: str, name: str, value: Any, alias: str, alias_value: Any, default: Any = None) -> Any:
    """One argument that has two names, NumPy's (``name``: ``axis``, ``keepdims``) and
    PyTorch's (``alias``: ``dim``, ``keepdim``): the value given under either. ``alias_value``
    None means the alias was not given; ``value`` equal to ``default`` means ``name`` was not.
    Giving both is a TypeError."""
    if alias_value is None:
        return value
    if value is not default and value != default:
        raise TypeError(
            f"{op}: got both {name}={value!r} and {alias}={alias_value!r}; {alias} is "
            f"PyTorch's name for {name}, pass one of them"
        )
    return alias_value


def dim_args(
    op: str, axis: Any, keepdims: Any, dim: Any, keepdim: Any, axis_default: Any = None
) -> tuple[Any, Any]:
    """``(axis, keepdims)`` of a reduction called with NumPy's names or PyTorch's
    (``dim``, ``keepdim``): see :func:`alias`."""
    if dim is None and keepdim is None:  # the common case, quickly
        return axis, keepdims
    return (
        alias(op, "axis", axis, "dim", dim, axis_default),
        alias(op, "keepdims", keepdims, "keepdim", keepdim, False),
    )


def writable_data(t: Any) -> Any:
    """``t.data`` as an array that can be written in place (optimizers, ``zero_grad``,
    clipping): a NumPy scalar (0-d results of operations hold one) becomes a 0-d array first."""
    data = t.data
    xp = backend_of(data).xp
    if not isinstance(data, xp.ndarray):
        data = t.data = xp.asarray(data)
    return data


__all__ = [
    "alias",
    "as_array",
    "dim_args",
    "is_device_spec",
    "shape_args",
    "to_args",
    "writable_data",
]
