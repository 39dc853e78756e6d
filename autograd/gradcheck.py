"""Checking gradients against central finite differences: ``gradcheck`` and ``gradgradcheck``.

For a function f of tensors, the outputs are reduced to one number with fixed random weights,
s = sum_k <w_k, f_k(x)>. Its analytic gradient (one backward pass) is compared, element by
element, with the central difference (s(x + eps e_i) - s(x - eps e_i)) / (2 eps). Random
weights make a wrong Jacobian show up with probability 1, at the cost of one backward pass.
Everything stays on the inputs' device; only the final verdict is read back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import dtypes
from .backend import backend_of, device_guard
from .creation import zeros_like
from .engine import grad
from .errors import DTypeError, GradcheckError
from .tensor import Tensor, _make

Fn = Callable[..., Tensor | Sequence[Tensor]]


def gradcheck(
    fn: Fn,
    inputs: Tensor | Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """Check the gradients of ``fn`` at ``inputs`` against central differences.

    Inputs that require grad must be float64. Passes when, for every element,
    |analytic - numeric| <= atol + rtol * |numeric|, and returns True; otherwise raises
    :class:`GradcheckError` naming the input, the worst element and both values.
    """
    return _check(fn, _as_tuple(inputs), eps, atol, rtol, seed, "gradcheck")


def _check(
    fn: Fn, inputs: tuple[Any, ...], eps: float, atol: float, rtol: float, seed: int, who: str
) -> bool:
    wrt = _differentiable(inputs, who)
    weights = _random_like(_outputs(fn(*inputs)), seed)

    def weighted_sum(*xs: Any) -> Tensor:
        total = None
        for out, w in zip(_outputs(fn(*xs)), weights):
            term = (out * w).sum()
            total = term if total is None else total + term
        return total

    s = weighted_sum(*inputs)
    if s.requires_grad:
        analytic = grad(s, [inputs[i] for i in wrt], allow_unused=True)
    else:  # nothing depends on the inputs: every derivative is 0
        analytic = (None,) * len(wrt)
    for k, i in enumerate(wrt):
        x = inputs[i]
        a = analytic[k]
        if a is not None and (a.shape != x.shape or a.dtype != x.dtype):
            raise GradcheckError(
                f"{who}: the gradient of input {i} has shape {a.shape} and dtype {a.dtype}, "
                f"but the input has shape {x.shape} and dtype {x.dtype}"
            )
        with device_guard(x.data):  # the differences are taken on the input's device
            a_data = backend_of(x.data).xp.zeros_like(x.data) if a is None else a.data
            numeric = _numeric_gradient(weighted_sum, inputs, i, eps)
            _compare(who, i, a_data, numeric, atol, rtol)
    return True


def gradgradcheck(
    fn: Fn,
    inputs: Tensor | Sequence[Any],
    grad_outputs: Sequence[Tensor] | None = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """Check second derivatives: gradcheck of x, v -> vjp(fn, x, v) computed with
    ``create_graph=True``. ``grad_outputs`` (the v) are random if not given; they require grad,
    so the check also covers the derivative with respect to them."""
    inputs = _as_tuple(inputs)
    wrt = _differentiable(inputs, "gradgradcheck")
    if grad_outputs is None:
        vs = [w.requires_grad_() for w in _random_like(_outputs(fn(*inputs)), seed + 1)]
    else:
        vs = list(grad_outputs)
    n = len(inputs)

    def first_derivative(*args: Any) -> tuple[Tensor, ...]:
        xs, v = args[:n], args[n:]
        live = [(o, g) for o, g in zip(_outputs(fn(*xs)), v) if o.requires_grad]
        targets = [xs[i] for i in wrt]
        if not live:
            return tuple(zeros_like(t) for t in targets)
        gs = grad(
            [o for o, _ in live],
            targets,
            [g for _, g in live],
            create_graph=True,
            allow_unused=True,
        )
        return tuple(zeros_like(t) if g is None else g for g, t in zip(gs, targets))

    return _check(first_derivative, (*inputs, *vs), eps, atol, rtol, seed, "gradgradcheck")


def _numeric_gradient(f: Callable[..., Tensor], inputs: tuple[Any, ...], i: int, eps: float) -> Any:
    """Central differences of the scalar f with respect to every element of inputs[i]."""
    x = inputs[i]
    xp = backend_of(x.data).xp
    base = x.data
    numeric = xp.zeros(base.size, dtype=base.dtype)
    probe = xp.array(base, copy=True, order="C")  # C order: flat is a view of the probe
    flat = probe.reshape(-1)
    args = list(inputs)
    # The probe requires grad like the input, and recording stays on: f may itself
    # differentiate (gradgradcheck checks a function that calls grad).
    args[i] = _make(probe, None).requires_grad_(x.requires_grad)
    for j in range(base.size):
        orig = flat[j].copy()
        flat[j] = orig + eps
        up = f(*args).data
        flat[j] = orig - eps
        down = f(*args).data
        flat[j] = orig
        numeric[j] = (up - down) / (2 * eps)
    return numeric.reshape(base.shape)


def _compare(who: str, i: int, analytic: Any, numeric: Any, atol: float, rtol: float) -> None:
    xp = backend_of(numeric).xp
    excess = xp.abs(analytic - numeric) - (atol + rtol * xp.abs(numeric))
    bad = ~(excess <= 0)  # NaN counts as bad
    if not bool(bad.any()):
        return
    worst = int(xp.argmax(xp.where(xp.isnan(excess), xp.inf, excess)))
    index = tuple(int(k) for k in np.unravel_index(worst, numeric.shape))
    a = float(analytic.reshape(-1)[worst])
    nv = float(numeric.reshape(-1)[worst])
    raise GradcheckError(
        f"{who}: the gradient of input {i} disagrees with finite differences at element "
        f"{index}: analytic {a!r}, numeric {nv!r} (|difference| {abs(a - nv):.3g} > "
        f"atol + rtol * |numeric| = {atol + rtol * abs(nv):.3g}); {int(bad.sum())} of "
        f"{numeric.size} elements disagree"
    )


def _as_tuple(inputs: Tensor | Sequence[Any]) -> tuple[Any, ...]:
    return (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)


def _outputs(out: Tensor | Sequence[Tensor]) -> list[Tensor]:
    """The floating outputs of a function (integer outputs have no derivative)."""
    outs = [out] if isinstance(out, Tensor) else list(out)
    return [o for o in outs if dtypes.is_floating(o.dtype)]


def _differentiable(inputs: tuple[Any, ...], who: str) -> list[int]:
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not wrt:
        raise ValueError(f"{who}: no input requires grad; create them with requires_grad=True")
    for i in wrt:
        if inputs[i].dtype != dtypes.float64:
            raise DTypeError(
                f"{who}: input {i} is {inputs[i].dtype}; finite differences need float64 "
                f"inputs. Use x.double()."
            )
    return wrt


def _random_like(outputs: list[Tensor], seed: int) -> list[Tensor]:
    """Fixed random weights, one per output, drawn on each output's device."""
    weights = []
    for k, out in enumerate(outputs):
        backend = backend_of(out.data)
        with backend.device_context(out.device):
            rng = backend.generator(seed + k, out.device)
            w = rng.standard_normal(out.shape).astype(out.dtype)
        weights.append(_make(w, None))
    return weights
