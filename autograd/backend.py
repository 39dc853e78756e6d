"""Array backends: the one place that decides which array library holds a tensor's data.

A :class:`Backend` pairs an array module (NumPy for the CPU; CuPy for CUDA GPUs, registered by
``autograd.cuda``) with the device it serves. Op code never imports NumPy: it gets its array
functions from ``backend_of(array).xp``, so a new backend is a registration, not a rewrite.
"""

from __future__ import annotations

import contextlib
import math
from types import ModuleType
from typing import Any

import numpy as np

from .backward_math import ArrayMath
from .errors import DeviceError

# The device types that strings may name: the built-in ones, and any other a backend registers
# (the tests register a stand-in device type to check the device code paths without a GPU).
DEVICE_TYPES = {"cpu", "cuda"}


class Device:
    """Where a tensor's data lives: ``Device("cpu")``, ``Device("cuda")``, ``Device("cuda:1")``.

    Compares equal to its string form, so ``t.device == "cpu"`` works.
    """

    __slots__ = ("index", "type")

    def __init__(self, spec: str | Device = "cpu") -> None:
        if isinstance(spec, Device):
            self.type, self.index = spec.type, spec.index
            return
        if not isinstance(spec, str):
            raise TypeError(f"device must be a string like 'cpu' or 'cuda:0', got {spec!r}")
        kind, _, index = spec.strip().lower().partition(":")
        if kind not in DEVICE_TYPES or (index and not index.isdigit()):
            raise ValueError(f"unknown device {spec!r}: expected 'cpu', 'cuda' or 'cuda:N'")
        if kind == "cpu" and index:
            raise ValueError(f"unknown device {spec!r}: the CPU has no index, use 'cpu'")
        self.type = kind
        self.index = None if kind == "cpu" else int(index or 0)

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        return f"device({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = Device(other)
            except ValueError:
                return False
        if not isinstance(other, Device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))


CPU = Device("cpu")
_NO_CONTEXT = contextlib.nullcontext()  # reusable: entering it does nothing


class Backend:
    """An array library (``xp``) and the devices whose arrays it makes.

    Subclasses override the few operations where array libraries differ: which device an array
    is on, making arrays on a device, copying to the host, scatter-add, random generators.
    """

    name: str = "numpy"
    device_type: str = "cpu"

    def __init__(self, xp: ModuleType) -> None:
        self.xp = xp
        self.math = ArrayMath(self)  # the vocabulary of backward rules on this backend's arrays

    def device_count(self) -> int:
        """How many devices of ``device_type`` there are (their indices are 0 .. count-1)."""
        return 1

    def device_of(self, array: Any) -> Device:
        return CPU

    def same_device(self, a: Any, b: Any) -> bool:
        """Whether two arrays of this backend live on the same device."""
        return True

    def asarray(self, data: Any, dtype: Any = None, device: Device = CPU) -> Any:
        """``data`` as an array of this backend on ``device`` (no copy when already one)."""
        return self.xp.asarray(data, dtype=dtype)

    def to_numpy(self, array: Any) -> np.ndarray:
        return np.asarray(array)

    def device_context(self, device: Device) -> contextlib.AbstractContextManager[Any]:
        """A context in which this backend creates arrays on ``device``."""
        return _NO_CONTEXT

    def guard(self, array: Any) -> contextlib.AbstractContextManager[Any]:
        """A context in which operations on ``array`` run on its device, so that the arrays
        they make stay there (CuPy computes on its *current* device, not the operands', and
        overrides this); NumPy's arrays all live on the one CPU: nothing to enter."""
        return _NO_CONTEXT

    def scatter_add(self, target: Any, index: Any, values: Any) -> None:
        """``target[index] += values``, accumulating over repeated indices (in place)."""
        self.xp.add.at(target, index, values)

    def generator(self, seed: int | None, device: Device) -> Any:
        """A fresh random generator of this backend on ``device`` (``random``,
        ``standard_normal``, ``integers``: the methods NumPy's and CuPy's generators share)."""
        return np.random.default_rng(seed)

    def permutation(self, rng: Any, n: int) -> Any:
        """A random permutation of 0 .. n-1 drawn from ``rng``, a generator of this backend."""
        return rng.permutation(n)

    def keep_mask(self, rng: Any, shape: tuple[int, ...], threshold: int) -> Any:
        """A boolean array of ``shape`` drawn from ``rng``, each element True with probability
        1 - threshold / 2^32 (``keep_threshold``). From a NumPy generator: the 32-bit halves of
        its 64-bit words (``bit_generator.random_raw``; in memory order, so the low half first
        on little-endian machines), True where u >= threshold: about twice as fast as drawing
        float32 uniforms and comparing them with p. From another backend's generator (CuPy's):
        float32 uniforms u, True where u >= threshold / 2^32."""
        if not isinstance(rng, np.random.Generator):
            return rng.random(shape, dtype=np.float32) >= np.float32(threshold / 2.0**32)
        n = math.prod(shape)
        if threshold >= 2**32:  # keep nothing (p within 2^-33 of 1)
            rng.bit_generator.random_raw((n + 1) // 2)  # the stream moves on as for any p
            return np.zeros(shape, dtype=bool)
        bits = rng.bit_generator.random_raw((n + 1) // 2).view(np.uint32)
        return np.greater_equal(bits[:n].reshape(shape), np.uint32(threshold))

    def __repr__(self) -> str:
        return f"<Backend {self.name} ({self.device_type})>"


NUMPY = Backend(np)
NUMPY_ARRAY = np.ndarray  # ops read 0-d NumPy arrays as NumPy scalars (see Function.__call__)

_BY_TYPE: dict[type, Backend] = {np.ndarray: NUMPY, np.generic: NUMPY}
_BY_DEVICE_TYPE: dict[str, Backend] = {"cpu": NUMPY}
_TYPE_CACHE: dict[type, Backend] = {}


class _CpuTypes(dict):
    """Whether arrays of a type live on the CPU (computed on first sight): two CPU arrays
    need no device check, which keeps that check off the hot path of every op."""

    def __missing__(self, t: type) -> bool:
        try:
            cpu = backend_of_type(t).device_type == "cpu"
        except TypeError:
            cpu = False
        self[t] = cpu
        return cpu


CPU_TYPES = _CpuTypes()


def register_backend(backend: Backend, array_types: tuple[type, ...]) -> None:
    """Make ``backend`` own arrays of ``array_types`` and devices of ``backend.device_type``."""
    for t in array_types:
        _BY_TYPE[t] = backend
    _BY_DEVICE_TYPE[backend.device_type] = backend
    DEVICE_TYPES.add(backend.device_type)
    _TYPE_CACHE.clear()
    CPU_TYPES.clear()


def unregister_backend(backend: Backend) -> None:
    """Undo :func:`register_backend` (tests register stand-in backends temporarily)."""
    for t in [t for t, b in _BY_TYPE.items() if b is backend]:
        del _BY_TYPE[t]
    if _BY_DEVICE_TYPE.get(backend.device_type) is backend:
        del _BY_DEVICE_TYPE[backend.device_type]
        if backend.device_type not in ("cpu", "cuda"):
            DEVICE_TYPES.discard(backend.device_type)
    if backend.device_type == "cpu":
        _BY_DEVICE_TYPE["cpu"] = NUMPY
    _TYPE_CACHE.clear()
    CPU_TYPES.clear()


def backend_of(array: Any) -> Backend:
    """The backend that owns ``array`` (by its type, most specific registration first)."""
    return backend_of_type(type(array))


def backend_of_type(t: type) -> Backend:
    """The backend that owns arrays of type ``t``."""
    backend = _TYPE_CACHE.get(t)
    if backend is not None:
        return backend
    for base in t.__mro__:
        backend = _BY_TYPE.get(base)
        if backend is not None:
            _TYPE_CACHE[t] = backend
            return backend
    if t.__module__.partition(".")[0] == "cupy" and "cuda" not in _BY_DEVICE_TYPE:
        from . import cuda

        cuda.require()  # a CuPy array met before any device="cuda": register CuPy now
        return backend_of_type(t)
    raise TypeError(f"{t.__name__} is not an array type of any backend (NumPy or CuPy)")


def is_array(x: Any) -> bool:
    """Whether ``x`` is an array (or NumPy scalar) of some backend."""
    try:
        backend_of(x)
    except TypeError:
        return False
    return True


def device_of(array: Any) -> Device:
    """The device that holds ``array``."""
    return backend_of(array).device_of(array)


def device_guard(array: Any) -> contextlib.AbstractContextManager[Any]:
    """A context in which operations on ``array`` run on its device and make their arrays
    there. Functions guard their forward and backward themselves; array code outside them
    (conversions, comparisons, the engine's sums) enters this. A no-op for NumPy."""
    return backend_of(array).guard(array)


def backend_for(device: str | Device | None) -> Backend:
    """The backend that serves ``device`` (``None`` means the CPU)."""
    device = CPU if device is None else Device(device)
    backend = _BY_DEVICE_TYPE.get(device.type)
    if backend is None:
        from . import cuda

        cuda.require()  # raises a DeviceError that says what is missing
        backend = _BY_DEVICE_TYPE[device.type]
    if device.index is not None and device.index >= backend.device_count():
        n = backend.device_count()
        raise DeviceError(
            f"device {str(device)!r} does not exist: there {'is' if n == 1 else 'are'} {n} "
            f"{device.type} device{'' if n == 1 else 's'} ({device.type}:0 to "
            f"{device.type}:{n - 1})"
        )
    return backend


def transfer(array: Any, device: Device) -> Any:
    """``array`` copied to ``device`` (explicit moves only: ``Tensor.to``)."""
    source = backend_of(array)
    if device.type == "cpu":
        return source.to_numpy(array)
    return backend_for(device).asarray(array, device=device)


def check_same_device(op: str, arrays: tuple[Any, ...] | list[Any]) -> None:
    """A DeviceError naming ``op`` and both devices unless ``arrays`` share one device."""
    for a in arrays:
        if not CPU_TYPES[type(a)]:
            break
    else:  # all on the CPU: nothing to compare
        return
    first = backend_of(arrays[0])
    for a in arrays[1:]:
        b = backend_of(a)
        if b is not first or not first.same_device(arrays[0], a):
            da, db = first.device_of(arrays[0]), b.device_of(a)
            raise DeviceError(
                f"{op}: operands are on different devices, {da} and {db}. arraygrad never "
                f"copies between devices behind your back: move one explicitly, the operand "
                f"on {db} with .to({str(da)!r}), or the one on {da} with .to({str(db)!r})."
            )
