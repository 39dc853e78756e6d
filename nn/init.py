"""Initializing parameters in place: ``uniform_``, ``normal_``, ``constant_``, ``zeros_``,
``ones_``, ``xavier_uniform_``, ``xavier_normal_``, ``kaiming_uniform_``, ``kaiming_normal_``.

Each overwrites the tensor's values (on its device, in its dtype) and returns it. Random ones
draw from ``generator`` (an ``autograd.Generator``), or from the default generator of the
tensor's device, which ``autograd.manual_seed`` reseeds.

For a weight of shape (out, in, *k): fan_in = in * prod(k), fan_out = out * prod(k).

* Xavier/Glorot (for tanh and sigmoid): Var(w) = gain^2 * 2 / (fan_in + fan_out).
* Kaiming/He (for ReLU): Var(w) = gain^2 / fan (fan_in keeps the forward variance,
  fan_out the backward one), gain = ``calculate_gain(nonlinearity, a)``.

A uniform U(-b, b) has variance b^2 / 3, so the uniform forms use b = sqrt(3) * std.
"""

from __future__ import annotations

import math

import autograd as ag
from autograd import Generator, Tensor
from autograd.backend import device_guard
from autograd.conversion import writable_data
from autograd.tensor import bump_version

__all__ = [
    "calculate_gain",
    "constant_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor that keeps activations' variance steady through ``nonlinearity``:
    1 for linear and sigmoid, 5/3 for tanh, sqrt(2) for relu, sqrt(2 / (1 + a^2)) for
    leaky_relu with negative slope a (``param``, default 0.01)."""
    if nonlinearity in ("linear", "identity", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        a = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1.0 + a * a))
    raise ValueError(
        f"calculate_gain: unknown nonlinearity {nonlinearity!r}; expected one of linear, "
        f"identity, sigmoid, tanh, relu, leaky_relu"
    )


def uniform_(
    t: Tensor, a: float = 0.0, b: float = 1.0, generator: Generator | None = None
) -> Tensor:
    """Fill ``t`` with samples of U(a, b)."""
    return _fill(t, a + (b - a) * ag.rand(t.shape, **_draw_args(t, generator)))


def normal_(
    t: Tensor, mean: float = 0.0, std: float = 1.0, generator: Generator | None = None
) -> Tensor:
    """Fill ``t`` with samples of N(mean, std^2)."""
    return _fill(t, mean + std * ag.randn(t.shape, **_draw_args(t, generator)))


def constant_(t: Tensor, value: float) -> Tensor:
    """Fill ``t`` with ``value``."""
    data = writable_data(t)
    with device_guard(data):
        data[...] = value
    bump_version(t)
    return t


def zeros_(t: Tensor) -> Tensor:
    """Fill ``t`` with zeros."""
    return constant_(t, 0)


def ones_(t: Tensor) -> Tensor:
    """Fill ``t`` with ones."""
    return constant_(t, 1)


def xavier_uniform_(t: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Glorot uniform: U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(t, "xavier_uniform_")
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(t, -bound, bound, generator)


def xavier_normal_(t: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(t, "xavier_normal_")
    return normal_(t, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def kaiming_uniform_(
    t: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Generator | None = None,
) -> Tensor:
    """He uniform: U(-b, b) with b = sqrt(3) * gain / sqrt(fan), gain =
    calculate_gain(nonlinearity, a), fan = fan_in or fan_out (``mode``).

    PyTorch's default for Linear weights is ``kaiming_uniform_(w, a=sqrt(5))``, that is
    b = 1 / sqrt(fan_in)."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(t, mode, "kaiming_uniform_"))
    bound = math.sqrt(3.0) * std
    return uniform_(t, -bound, bound, generator)


def kaiming_normal_(
    t: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Generator | None = None,
) -> Tensor:
    """He normal: N(0, std^2) with std = gain / sqrt(fan), as in ``kaiming_uniform_``."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(t, mode, "kaiming_normal_"))
    return normal_(t, 0.0, std, generator)


def _fans(t: Tensor, who: str) -> tuple[int, int]:
    if t.ndim < 2:
        raise ValueError(
            f"{who}: fan in and fan out need a tensor with at least 2 axes (out, in, ...), got "
            f"shape {t.shape}"
        )
    receptive = math.prod(t.shape[2:])
    return t.shape[1] * receptive, t.shape[0] * receptive


def _fan(t: Tensor, mode: str, who: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{who}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(t, who)
    return fan_in if mode == "fan_in" else fan_out


def _draw_args(t: Tensor, generator: Generator | None) -> dict[str, object]:
    """Samples in t's dtype (float64 for other floating dtypes, cast on assignment), on its
    device."""
    dtype = t.dtype if t.dtype in (ag.float32, ag.float64) else ag.float64
    return {"generator": generator, "dtype": dtype, "device": t.device}


def _fill(t: Tensor, values: Tensor) -> Tensor:
    data = writable_data(t)
    with device_guard(data):
        data[...] = values.data
    bump_version(t)
    return t
