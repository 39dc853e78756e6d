"""Making tensors: ``tensor``, ``zeros``, ``ones``, ``full``, ``arange``, ``linspace``, ``eye``
and the ``*_like`` forms; ``from_numpy`` and ``from_dlpack`` share memory with an array.
Python numbers become the default float dtype unless ``dtype`` says otherwise; ``device``
defaults to the CPU."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import dtypes
from .backend import Device, backend_for, backend_of, device_guard, device_of, is_array, transfer
from .conversion import as_array, shape_args
from .errors import DeviceError, DTypeError
from .tensor import Tensor, _make


def tensor(
    data: Any,
    dtype: Any = None,
    requires_grad: bool = False,
    device: str | Device | None = None,
    name: str | None = None,
) -> Tensor:
    """A new leaf tensor holding a copy of ``data``, on ``device`` (default: where ``data``
    is, the CPU for Python data).

    ndarrays keep their dtype; Python data is inferred as PyTorch infers it: bools stay bool,
    integers become int64, and anything with a float the default float dtype (float32 unless
    ``set_default_dtype`` changed it). An array or tensor on another device than ``device``
    is copied there: naming the device is the explicit move.
    """
    source = data.data if isinstance(data, Tensor) else data
    moved = device is not None and is_array(source) and Device(device) != device_of(source)
    if moved:
        source = transfer(source, Device(device))
    array = as_array(source, dtype, device)
    if array is source and not moved:  # no copy yet: the caller's array must not be shared
        with device_guard(array):
            array = backend_of(array).xp.array(array, copy=True)
    return _leaf(array, requires_grad, name)


def from_numpy(array: np.ndarray) -> Tensor:
    """A leaf tensor that shares memory with the NumPy array ``array`` (PyTorch's
    ``torch.from_numpy``): no copy, so a write to either shows in the other. The dtype is
    kept (bool, integer or floating); the tensor does not require grad."""
    if not isinstance(array, np.ndarray) or device_of(array) != "cpu":
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    _check_shared_dtype("from_numpy", array.dtype)
    if not array.dtype.isnative:
        raise ValueError(
            f"from_numpy: the array's byte order ({array.dtype.str}) is not the machine's; "
            f"convert it first: array.astype(array.dtype.newbyteorder('='))"
        )
    return _leaf(array, False)


# DLPack's device types (dlpack.h, DLDeviceType) that arraygrad's backends can hold
_DLPACK_HOST = (1, 3)  # kDLCPU, kDLCUDAHost (pinned host memory)
_DLPACK_CUDA = (2, 13)  # kDLCUDA, kDLCUDAManaged


def from_dlpack(x: Any) -> Tensor:
    """A leaf tensor that shares memory with ``x``, any array that speaks DLPack (has
    ``__dlpack__``): NumPy arrays, PyTorch tensors, CuPy and JAX arrays, arraygrad's own
    tensors. No copy: a write to either shows in the other. Host memory gives a CPU tensor,
    a CUDA device's memory a tensor on that ``cuda:N`` (through CuPy). The tensor does not
    require grad; PyTorch refuses to export a tensor that requires grad (``x.detach()``
    first), and so does arraygrad (see ``Tensor.__dlpack__``)."""
    if not hasattr(x, "__dlpack__") or not hasattr(x, "__dlpack_device__"):
        raise TypeError(
            f"from_dlpack: expected an array with __dlpack__ and __dlpack_device__ (a NumPy "
            f"array, a PyTorch tensor, a CuPy or JAX array), got {type(x).__name__}"
        )
    kind, index = x.__dlpack_device__()
    if kind in _DLPACK_HOST:
        array = np.from_dlpack(x)
    elif kind in _DLPACK_CUDA:
        device = Device(f"cuda:{int(index)}")
        backend = backend_for(device)  # a clear DeviceError without CuPy or that GPU
        with backend.device_context(device):
            array = backend.xp.from_dlpack(x)
    else:
        raise DeviceError(
            f"from_dlpack: the data are on a device of DLPack type {int(kind)} (not the host "
            f"nor a CUDA GPU), which arraygrad has no backend for"
        )
    _check_shared_dtype("from_dlpack", array.dtype)
    return _leaf(array, False)


def _check_shared_dtype(op: str, dtype: np.dtype) -> None:
    if dtype.kind not in "biuf" or dtype.itemsize > 8:
        raise DTypeError(
            f"{op}: arrays of {dtype} cannot be tensors (bool, integers and floats of at most "
            f"64 bits can)"
        )


def zeros(
    *shape: int | Sequence[int],
    dtype: Any = None,
    device: str | Device | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """A tensor of zeros; ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return _filled("zeros", shape_args(shape), dtype, device, requires_grad)


def ones(
    *shape: int | Sequence[int],
    dtype: Any = None,
    device: str | Device | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """A tensor of ones; ``ones(2, 3)`` or ``ones((2, 3))``."""
    return _filled("ones", shape_args(shape), dtype, device, requires_grad)


def full(
    shape: int | Sequence[int],
    fill_value: float,
    dtype: Any = None,
    device: str | Device | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """A tensor with every element equal to ``fill_value`` (bools give a bool tensor)."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if dtype is None:
        is_bool = isinstance(fill_value, (bool, np.bool_))
        dtype = dtypes.bool_ if is_bool else dtypes.get_default_dtype()
    backend, dev = _target(device)
    with backend.device_context(dev):
        data = backend.xp.full(shape, fill_value, dtype=dtypes.as_dtype(dtype))
    return _leaf(data, requires_grad)


def arange(
    start: float,
    end: float | None = None,
    step: float = 1,
    dtype: Any = None,
    device: str | Device | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """Evenly spaced values in [start, end): ``arange(5)``, ``arange(1, 2, 0.25)``.

    Integer arguments give int64 (as in PyTorch), otherwise the default float dtype."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = dtypes.int64 if ints else dtypes.get_default_dtype()
    backend, dev = _target(device)
    with backend.device_context(dev):
        data = backend.xp.arange(start, end, step, dtype=dtypes.as_dtype(dtype))
    return _leaf(data, requires_grad)


def linspace(
    start: float,
    end: float,
    steps: int,
    dtype: Any = None,
    device: str | Device | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    backend, dev = _target(device)
    with backend.device_context(dev):
        data = backend.xp.linspace(start, end, steps, dtype=_dtype(dtype))
    return _leaf(data, requires_grad)


def eye(
    n: int,
    m: int | None = None,
    dtype: Any = None,
    device: str | Device | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """The n x m identity matrix (m = n by default)."""
    backend, dev = _target(device)
    with backend.device_context(dev):
        data = backend.xp.eye(n, m, dtype=_dtype(dtype))
    return _leaf(data, requires_grad)


def zeros_like(
    t: Tensor, dtype: Any = None, device: str | Device | None = None, requires_grad: bool = False
) -> Tensor:
    """Zeros with the shape of ``t`` (and its dtype and device unless given)."""
    return zeros(
        t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad
    )


def ones_like(
    t: Tensor, dtype: Any = None, device: str | Device | None = None, requires_grad: bool = False
) -> Tensor:
    """Ones with the shape of ``t`` (and its dtype and device unless given)."""
    return ones(
        t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad
    )


def full_like(
    t: Tensor,
    fill_value: float,
    dtype: Any = None,
    device: str | Device | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """``fill_value`` everywhere, with the shape of ``t`` (and its dtype and device)."""
    return full(
        t.shape,
        fill_value,
        dtype=dtype or t.dtype,
        device=device or t.device,
        requires_grad=requires_grad,
    )


def _filled(
    kind: str, shape: tuple[int, ...], dtype: Any, device: Any, requires_grad: bool
) -> Tensor:
    backend, dev = _target(device)
    with backend.device_context(dev):
        data = getattr(backend.xp, kind)(shape, dtype=_dtype(dtype))
    return _leaf(data, requires_grad)


def _target(device: str | Device | None) -> tuple[Any, Device]:
    dev = Device(device or "cpu")
    return backend_for(dev), dev


def _dtype(dtype: Any) -> Any:
    return dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)


def _leaf(data: Any, requires_grad: bool, name: str | None = None) -> Tensor:
    t = _make(data, None)
    t.name = name
    if requires_grad:
        t.requires_grad_(True)
    return t
