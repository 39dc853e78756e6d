"""A stand-in for the CuPy backend, so that the device code paths are tested without a GPU.

``FakeDeviceArray`` is a NumPy array subclass that plays ``cupy.ndarray``: it lives on a device
``fake:N`` and follows CuPy's rules where they differ from NumPy's:

* an operation that meets a plain ``numpy.ndarray`` raises ``TypeError`` (CuPy: "Unsupported
  type <class 'numpy.ndarray'>"), so any library code that builds an array with NumPy directly
  fails here as it would on the GPU;
* every computation runs on the *current* device (``FakeBackend.device_context``, like
  ``cupy.cuda.Device``) and raises ``ValueError`` for an array on another device, as CuPy does;
  new arrays are made on the current device. Tests use ``fake:1`` while the current device is
  ``fake:0`` unless something enters a device context, so a missing device guard fails too;
* results that NumPy gives as scalars (full reductions, ``a[i]`` of a vector) are 0-d arrays.

``FAKE_XP`` is its array module (what ``cupy`` is to CUDA): NumPy's functions, taking and giving
device arrays. ``FakeBackend`` is registered with ``autograd.backend.register_backend`` for the
tests that need it and unregistered after (see conftest.py); it never ships in the library.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import Any

import numpy as np

from autograd.backend import Backend, Device

DEVICE_TYPE = "fake"
_current = [0]  # the current fake device (CuPy keeps one per thread; the tests use one thread)


@contextlib.contextmanager
def use(index: int) -> Iterator[None]:
    """Make ``fake:index`` the current device inside the block (``with cupy.cuda.Device(i)``)."""
    previous = _current[0]
    _current[0] = index
    try:
        yield
    finally:
        _current[0] = previous


class FakeDeviceArray(np.ndarray):
    """An array on device ``fake:<device_id>`` (see the module docstring for its rules)."""

    device_id: int

    def __array_finalize__(self, obj: Any) -> None:
        # views and copies made by NumPy from a device array stay on its device; arrays made
        # from scratch land on the current device
        self.device_id = getattr(obj, "device_id", _current[0])

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        out = kwargs.get("out")
        result = getattr(ufunc, method)(*_unwrap(inputs), **_unwrap(kwargs))
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _wrap(result)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        return _wrap(func(*_unwrap(args), **_unwrap(kwargs)))

    def __getitem__(self, index: Any) -> Any:
        if _has_array(index):  # advanced indexing launches a kernel: current device only
            _check(self)
        result = self.view(np.ndarray)[_unwrap(index)]
        return _wrap(result, self.device_id)

    def __setitem__(self, index: Any, value: Any) -> None:
        _check(self)
        self.view(np.ndarray)[_unwrap(index)] = _unwrap(value)

    def take(self, indices: Any, *args: Any, **kwargs: Any) -> FakeDeviceArray:
        _check(self)  # a kernel; a 0-d result is a 0-d array, as in CuPy
        return _wrap(self.view(np.ndarray).take(_unwrap(indices), *args, **kwargs))

    def astype(self, dtype: Any, *args: Any, **kwargs: Any) -> FakeDeviceArray:
        _check(self)
        return _wrap(self.view(np.ndarray).astype(dtype, *args, **kwargs))

    def copy(self, *args: Any, **kwargs: Any) -> FakeDeviceArray:
        _check(self)
        return _wrap(self.view(np.ndarray).copy(*args, **kwargs))

    def __repr__(self) -> str:
        return f"FakeDeviceArray({self.view(np.ndarray)!r}, device='fake:{self.device_id}')"


def _check(a: FakeDeviceArray) -> None:
    if a.device_id != _current[0]:
        raise ValueError(
            f"Array device must be same as the current device: array device = {a.device_id} "
            f"while current = {_current[0]}"
        )


def _unwrap(x: Any, allow_host: bool = False) -> Any:
    """Device arrays (on the current device) as plain NumPy views, through tuples, lists and
    dicts; a plain ndarray is an error (CuPy does not mix with NumPy arrays)."""
    if isinstance(x, FakeDeviceArray):
        _check(x)
        return x.view(np.ndarray)
    if isinstance(x, np.ndarray):
        if allow_host:
            return x
        raise TypeError(
            f"Unsupported type {type(x)}: a NumPy array met a device array (an array made with "
            f"NumPy directly, instead of with the backend's xp)"
        )
    if isinstance(x, (tuple, list)):
        return type(x)(_unwrap(v, allow_host) for v in x)
    if isinstance(x, dict):
        return {k: _unwrap(v, allow_host) for k, v in x.items()}
    return x


def _wrap(x: Any, device_id: int | None = None) -> Any:
    """NumPy results as device arrays on the current device (0-d arrays for scalars)."""
    if isinstance(x, FakeDeviceArray):
        return x
    if isinstance(x, (np.ndarray, np.generic)):
        x = np.asarray(x)
        if x.flags.owndata:  # a new array: one that owns its memory, as CuPy's new arrays do,
            # so that views of it hold it (their ``base``), as CuPy's views hold theirs
            order = "F" if x.flags.f_contiguous and not x.flags.c_contiguous else "C"
            out = np.ndarray.__new__(FakeDeviceArray, x.shape, x.dtype, order=order)
            np.copyto(out.view(np.ndarray), x)
        else:  # a view of another array's memory
            out = x.view(FakeDeviceArray)
        out.device_id = _current[0] if device_id is None else device_id
        return out
    if isinstance(x, tuple):
        return tuple(_wrap(v, device_id) for v in x)
    if isinstance(x, list):
        return [_wrap(v, device_id) for v in x]
    return x


def _has_array(index: Any) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, np.ndarray) for p in parts)


class _FakeXP:
    """The array module of the fake device: ``FAKE_XP.exp``, ``FAKE_XP.zeros`` ... are NumPy's
    functions on device arrays, making their results on the current device."""

    ndarray = FakeDeviceArray

    def __getattr__(self, name: str) -> Any:
        attr = getattr(np, name)
        if isinstance(attr, type) or not callable(attr):
            return attr  # dtypes, constants

        @functools.wraps(attr)
        def on_device(*args: Any, **kwargs: Any) -> Any:
            return _wrap(attr(*_unwrap(args), **_unwrap(kwargs)))

        setattr(self, name, on_device)
        return on_device

    @staticmethod
    def array(obj: Any, dtype: Any = None, copy: bool = True, order: str = "K") -> FakeDeviceArray:
        """A copy on the current device of host data or of a device array on any device."""
        host = obj.view(np.ndarray) if isinstance(obj, FakeDeviceArray) else obj
        return _wrap(np.array(_unwrap(host, allow_host=True), dtype=dtype, copy=True, order=order))

    @staticmethod
    def asarray(obj: Any, dtype: Any = None) -> FakeDeviceArray:
        """``obj`` itself if it is already on the current device with that dtype, else a copy
        there (``cupy.asarray`` moves host data and other devices' arrays)."""
        if (
            isinstance(obj, FakeDeviceArray)
            and obj.device_id == _current[0]
            and (dtype is None or obj.dtype == dtype)
        ):
            return obj
        return _FakeXP.array(obj, dtype=dtype)


FAKE_XP = _FakeXP()


class FakeGenerator:
    """``cupy.random.Generator``'s interface (no ``permutation``), drawing on its device."""

    def __init__(self, seed: int | None, device_id: int) -> None:
        self._rng = np.random.default_rng(seed)
        self.device_id = device_id

    def _draw(self, sample: Any) -> FakeDeviceArray:
        if self.device_id != _current[0]:
            raise ValueError(
                f"a generator of device {self.device_id} drawn while device {_current[0]} is "
                f"current"
            )
        return _wrap(sample)

    def random(self, size: Any = None, dtype: Any = np.float64) -> FakeDeviceArray:
        return self._draw(self._rng.random(size, dtype=dtype))

    def standard_normal(self, size: Any = None, dtype: Any = np.float64) -> FakeDeviceArray:
        return self._draw(self._rng.standard_normal(size, dtype=dtype))

    def integers(
        self, low: int, high: int | None = None, size: Any = None, dtype: Any = np.int64
    ) -> FakeDeviceArray:
        return self._draw(self._rng.integers(low, high, size=size, dtype=dtype))


class FakeBackend(Backend):
    """The backend of ``fake:N`` devices (what ``CupyBackend`` is to ``cuda:N``)."""

    name = "fake"
    device_type = DEVICE_TYPE

    def __init__(self) -> None:
        super().__init__(FAKE_XP)

    def device_count(self) -> int:
        return 2  # fake:0 (current unless a context says otherwise) and fake:1

    def device_of(self, array: Any) -> Device:
        return Device(f"{DEVICE_TYPE}:{array.device_id}")

    def same_device(self, a: Any, b: Any) -> bool:
        return a.device_id == b.device_id

    def asarray(self, data: Any, dtype: Any = None, device: Device | None = None) -> Any:
        with use(0 if device is None else device.index):
            return FAKE_XP.asarray(data, dtype=dtype)

    def to_numpy(self, array: Any) -> np.ndarray:
        return np.array(array.view(np.ndarray), copy=True)  # cupy.asnumpy copies too

    def device_context(self, device: Device) -> contextlib.AbstractContextManager[Any]:
        return use(device.index)

    def guard(self, array: Any) -> contextlib.AbstractContextManager[Any]:
        return use(array.device_id)

    def scatter_add(self, target: Any, index: Any, values: Any) -> None:
        np.add.at(_unwrap(target), _unwrap(index), _unwrap(values))

    def generator(self, seed: int | None, device: Device) -> Any:
        return FakeGenerator(seed, device.index)

    def permutation(self, rng: Any, n: int) -> Any:
        return FAKE_XP.argsort(rng.random(n))  # as CupyBackend does (no Generator.permutation)
