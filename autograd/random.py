"""Random tensors and seeding: ``manual_seed``, ``Generator``, ``rand``, ``randn``, ``randint``,
``randperm`` and the ``*_like`` forms.

Each device has a default generator; ``manual_seed(s)`` reseeds all of them, so a program that
seeds once at the start is repeatable. Pass ``generator=`` for an independent stream.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import dtypes
from .backend import Device, backend_for
from .conversion import shape_args
from .creation import _leaf
from .errors import DeviceError, DTypeError
from .tensor import Tensor, _make


class Generator:
    """A seeded random stream for one device: ``Generator().manual_seed(0)``."""

    def __init__(self, device: str | Device = "cpu") -> None:
        self.device = Device(device)
        self._backend = backend_for(self.device)
        self._seed: int | None = None
        self.rng = self._backend.generator(None, self.device)

    def manual_seed(self, seed: int) -> Generator:
        """Restart the stream from ``seed``; returns self."""
        self._seed = int(seed)
        self.rng = self._backend.generator(self._seed, self.device)  # made on self.device
        return self

    def initial_seed(self) -> int | None:
        """The seed given to the last ``manual_seed`` (None if never seeded)."""
        return self._seed

    def __repr__(self) -> str:
        return f"Generator(device='{self.device}', seed={self._seed})"

    def __getstate__(self) -> dict[str, Any]:
        # the backend holds its array module, which does not pickle: look it up again on load
        return {"device": str(self.device), "seed": self._seed, "rng": self.rng}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.device = Device(state["device"])
        self._backend = backend_for(self.device)
        self._seed = state["seed"]
        self.rng = state["rng"]


_defaults: dict[Device, Generator] = {}


def default_generator(device: str | Device = "cpu") -> Generator:
    """The generator used when no ``generator=`` is given, for ``device``."""
    device = Device(device)
    if device not in _defaults:
        _defaults[device] = Generator(device)
    return _defaults[device]


def manual_seed(seed: int) -> Generator:
    """Seed the default generators of all devices in use; returns the CPU one."""
    cpu = default_generator("cpu").manual_seed(seed)
    for device, gen in _defaults.items():
        if device != "cpu":
            gen.manual_seed(seed)
    return cpu


def rand(
    *shape: int | Sequence[int],
    generator: Generator | None = None,
    dtype: Any = None,
    device: str | Device | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """Uniform samples from [0, 1)."""
    gen, dtype = _setup(generator, device, dtype)
    with gen._backend.device_context(gen.device):
        data = gen.rng.random(shape_args(shape), dtype=dtype)
    return _leaf(data, requires_grad)


def randn(
    *shape: int | Sequence[int],
    generator: Generator | None = None,
    dtype: Any = None,
    device: str | Device | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """Standard normal samples (mean 0, variance 1)."""
    gen, dtype = _setup(generator, device, dtype)
    with gen._backend.device_context(gen.device):
        data = gen.rng.standard_normal(shape_args(shape), dtype=dtype)
    return _leaf(data, requires_grad)


def randint(
    low: int,
    high: int | Sequence[int],
    shape: Sequence[int] | None = None,
    generator: Generator | None = None,
    device: str | Device | None = None,
) -> Tensor:
    """Integers drawn uniformly from [low, high), as int64: ``randint(low, high, shape)`` or
    ``randint(high, shape)``."""
    if shape is None:
        low, high, shape = 0, low, high
    gen, _ = _setup(generator, device, None)
    with gen._backend.device_context(gen.device):
        data = gen.rng.integers(low, high, size=tuple(shape), dtype=dtypes.int64)
    return _make(data, None)


def randperm(
    n: int, generator: Generator | None = None, device: str | Device | None = None
) -> Tensor:
    """A random permutation of 0 .. n-1, as int64."""
    gen, _ = _setup(generator, device, None)
    with gen._backend.device_context(gen.device):
        data = gen._backend.permutation(gen.rng, n).astype(dtypes.int64)
    return _make(data, None)


def rand_like(
    t: Tensor, generator: Generator | None = None, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """Uniform samples from [0, 1) with the shape, dtype and device of ``t``."""
    return rand(
        t.shape,
        generator=generator,
        dtype=dtype or t.dtype,
        device=t.device,
        requires_grad=requires_grad,
    )


def randn_like(
    t: Tensor, generator: Generator | None = None, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """Standard normal samples with the shape, dtype and device of ``t``."""
    return randn(
        t.shape,
        generator=generator,
        dtype=dtype or t.dtype,
        device=t.device,
        requires_grad=requires_grad,
    )


def _setup(generator: Generator | None, device: Any, dtype: Any) -> tuple[Generator, Any]:
    if generator is None:
        generator = default_generator(device or "cpu")
    elif device is not None and Device(device) != generator.device:
        raise DeviceError(
            f"the generator is for {generator.device} but device={str(device)!r} was asked for"
        )
    dtype = dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)
    if dtype not in (dtypes.float32, dtypes.float64):
        raise DTypeError(f"random floats come as float32 or float64, not {dtype}")
    return generator, dtype
