"""Random tensors and seeding: ``manual_seed``, ``Generator``, ``rand``, ``randn``, ``randint``,
``randperm``, ``multinomial`` and the ``*_like`` forms.

Each device has a default generator; ``manual_seed(s)`` reseeds all of them, so a program that
seeds once at the start is repeatable. Pass ``generator=`` for an independent stream.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import dtypes
from .backend import Device, backend_for, backend_of
from .compiler import drawn, recorded
from .conversion import as_array, shape_args
from .creation import _leaf
from .errors import DeviceError, DTypeError, ShapeError
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
_seeded: list[int] = []  # the seed of the last manual_seed, for the devices first used after it


def default_generator(device: str | Device = "cpu") -> Generator:
    """The generator used when no ``generator=`` is given, for ``device``."""
    device = Device(device)
    gen = _defaults.get(device)
    if gen is None:
        gen = _defaults[device] = Generator(device)
        if _seeded:  # as PyTorch seeds a CUDA device first used after torch.manual_seed
            gen.manual_seed(_seeded[-1])
    return gen


def manual_seed(seed: int) -> Generator:
    """Seed the default generators of all devices: those in use now, and those first used
    later (each starts from ``seed``, as PyTorch's do); returns the CPU one."""
    _seeded[:] = [int(seed)]
    cpu = default_generator("cpu").manual_seed(seed)
    for device, gen in _defaults.items():
        if device != "cpu":
            gen.manual_seed(seed)
    return cpu


def _replayed_by(plan: Any) -> Any:
    """Marks a draw with ``stream_call(args, kwargs)``, the call a compiled step's line makes
    in its place (the stream read at each replay: a reseeded one is the new one; no tensor
    made): (generator, call, args) where ``call`` is the name of a method of
    ``generator.rng``, called as ``rng.<call>(shape, dtype=dtype)`` for args (shape, dtype),
    or a function called as ``call(generator.rng, *args)``; or None (the draw is called
    again)."""

    def mark(fn: Any) -> Any:
        fn.stream_call = plan
        return fn

    return mark


def _stream_call(method: str) -> Any:
    """``_replayed_by`` for ``rand`` (``method`` "random") and ``randn`` ("standard_normal"):
    a draw of a given dtype from a NumPy stream with no gradient replays as the generator's
    own call."""

    def plan(args: tuple, kwargs: dict) -> tuple[Generator, str, tuple[Any, ...]] | None:
        if kwargs.get("requires_grad") or kwargs.get("dtype") is None:
            return None  # (the default dtype is read when the draw runs)
        gen, dtype = _setup(kwargs.get("generator"), kwargs.get("device"), kwargs.get("dtype"))
        if not isinstance(gen.rng, np.random.Generator):
            return None
        return gen, method, (shape_args(args), dtype)

    return _replayed_by(plan)


@drawn
@_stream_call("random")
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


@drawn
@_stream_call("standard_normal")
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


@drawn
def randint(
    low: int,
    high: int | Sequence[int] | None = None,
    shape: int | Sequence[int] | None = None,
    generator: Generator | None = None,
    device: str | Device | None = None,
    *,
    size: int | Sequence[int] | None = None,
) -> Tensor:
    """Integers drawn uniformly from [low, high), as int64, in PyTorch's forms:
    ``randint(low, high, size)`` or ``randint(high, size)`` (``size=`` by keyword too; an int
    size is one axis). The size is required: ``randint(0, 10)`` is an error that says so."""
    if size is not None:
        if shape is not None:
            raise TypeError("randint: got both shape and size=; pass one of them")
        shape = size
    if shape is None:
        if high is not None and not _is_int(high):  # randint(high, size)
            low, high, shape = 0, low, high
        elif high is None and size is None:
            raise TypeError(
                f"randint: missing the size of the result; call randint(high, size) or "
                f"randint(low, high, size), e.g. randint({low}, (3,))"
            )
        else:
            raise TypeError(
                f"randint: missing the size of the result; call randint(low, high, size), "
                f"e.g. randint({low}, {high}, (3,))"
            )
    elif high is None:  # randint(high, size=...)
        low, high = 0, low
    if not (_is_int(low) and _is_int(high)):
        raise TypeError(f"randint: low and high must be integers, got {low!r} and {high!r}")
    if low >= high:
        raise ValueError(f"randint: low ({low}) must be less than high ({high})")
    shape = (shape,) if _is_int(shape) else tuple(shape)
    gen, _ = _setup(generator, device, None)
    with gen._backend.device_context(gen.device):
        data = gen.rng.integers(low, high, size=shape, dtype=dtypes.int64)
    return _make(data, None)


def _is_int(v: Any) -> bool:
    return hasattr(v, "__index__") and not isinstance(v, bool) and not hasattr(v, "__len__")


def keep_threshold(p: float) -> int:
    """The 32-bit threshold t of ``keep_mask`` for dropping with probability p:
    t = round(p 2^32), so an element is dropped with probability t / 2^32, within 2^-33 of p."""
    return round(p * 2**32)


def _keep_call(args: tuple, kwargs: dict) -> tuple[Generator, Any, tuple[Any, ...]]:
    """``stream_call`` of ``keep_mask``: the backend's draw from the generator's stream."""
    bound = inspect.signature(keep_mask.__wrapped__).bind(*args, **kwargs)
    bound.apply_defaults()
    a = bound.arguments
    gen, _ = _setup(a["generator"], a["device"], None)
    return gen, gen._backend.keep_mask, (shape_args((a["shape"],)), keep_threshold(a["p"]))


@drawn
@_replayed_by(_keep_call)
def keep_mask(
    shape: Sequence[int],
    p: float,
    generator: Generator | None = None,
    device: str | Device | None = None,
) -> Tensor:
    """Dropout's mask: a bool tensor of ``shape``, each element True (kept) with probability
    1 - p, independently, drawn from ``generator`` or the default generator of ``device``
    (``Backend.keep_mask``: from 32-bit integers u of the stream, kept where
    u >= ``keep_threshold(p)``)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"keep_mask: p is a probability in [0, 1], got {p}")
    gen, _ = _setup(generator, device, None)
    with gen._backend.device_context(gen.device):
        data = gen._backend.keep_mask(gen.rng, shape_args((shape,)), keep_threshold(p))
    return _make(data, None)


@drawn
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


def multinomial(
    input: Any,
    num_samples: int,
    replacement: bool = False,
    *,
    generator: Generator | None = None,
) -> Tensor:
    """Indices of categories drawn with probabilities proportional to ``input`` (PyTorch's
    ``torch.multinomial``), as int64.

    ``input`` holds non-negative weights (they need not sum to 1): a 1-d tensor of k weights
    gives ``num_samples`` indices in 0 .. k-1, a 2-d tensor one row of ``num_samples`` indices
    per row of weights. With ``replacement=True`` the draws are independent; without (the
    default) each index appears at most once, drawn in turn from the categories left, so
    ``num_samples`` cannot exceed the number of categories of nonzero weight. A category of
    weight 0 is never drawn. The draws come from ``generator`` (default: the default
    generator of the weights' device).
    """
    return _multinomial(input, num_samples, replacement, generator)


@recorded  # a compiled step draws again at each replay, from that replay's weights
def _multinomial(input: Any, num_samples: int, replacement: bool, generator: Any) -> Tensor:
    w = input.data if isinstance(input, Tensor) else as_array(input)
    if w.ndim not in (1, 2):
        raise ShapeError(
            f"multinomial: the weights must be 1-d (one distribution) or 2-d (one per row), got "
            f"shape {w.shape}"
        )
    if not dtypes.is_floating(w.dtype):
        raise DTypeError(f"multinomial: the weights must be floating, not {w.dtype}")
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)):
        raise TypeError(f"multinomial: num_samples must be an int, got {num_samples!r}")
    k = w.shape[-1]
    if num_samples < 1 or k == 0:
        raise ValueError(
            f"multinomial: cannot draw {num_samples} samples from {k} categories (need "
            f"num_samples >= 1 and at least one category)"
        )
    backend = backend_of(w)
    gen, _ = _setup(generator, backend.device_of(w), None)
    xp = backend.xp
    with backend.guard(w):
        rows = w.reshape(-1, k).astype(dtypes.float64)
        if not bool(xp.all(xp.isfinite(rows) & (rows >= 0))):
            raise ValueError("multinomial: the weights must be finite and >= 0 (no inf or nan)")
        if not bool(xp.all(rows.sum(axis=1) > 0)):
            raise ValueError("multinomial: the weights of a distribution sum to 0")
        positive = rows > 0
        if not replacement:
            fewest = int(positive.sum(axis=1).min())
            if num_samples > fewest:
                raise ValueError(
                    f"multinomial: cannot draw {num_samples} samples without replacement from "
                    f"{fewest} categories of nonzero weight; pass replacement=True"
                )
        u = gen.rng.random((rows.shape[0], num_samples if replacement else k), dtype=dtypes.float64)
        if replacement:  # inverse of the cumulative distribution, row by row
            cdf = xp.cumsum(rows, axis=1)
            cdf /= cdf[:, -1:]
            out = xp.stack([xp.searchsorted(c, r, side="right") for c, r in zip(cdf, u)])
        else:  # the order of an exponential race: the same law as drawing one after another
            keys = -xp.log1p(-u) / xp.where(positive, rows, 1.0)
            keys = xp.where(positive, keys, xp.inf)
            out = xp.argsort(keys, axis=1)[:, :num_samples]
        out = out.astype(dtypes.int64)
        return _make(out.reshape(num_samples) if w.ndim == 1 else out, None)
