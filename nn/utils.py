"""Gradient clipping, as in PyTorch's ``torch.nn.utils``: call between ``backward()`` and
``optimizer.step()``. Both change the gradients in place; parameters without one are skipped.
Inside a step compiled with ``autograd.compile`` each is called again at every replay, on that
replay's gradients (the total norm that ``clip_grad_norm_`` returns is a value of the step)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import autograd as ag
from autograd import Tensor
from autograd.backend import backend_of, device_guard
from autograd.compiler import drawn, replayed_whole
from autograd.conversion import writable_data
from autograd.tensor import bump_version


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Scale all gradients by one factor so that their total norm is at most ``max_norm``.

    The total norm is the ``norm_type``-norm of all gradient elements taken as one vector,
    total = (Σᵢ ‖gᵢ‖ₚᵖ)^(1/p) (for p = inf, the largest |element|), and every gradient becomes
    g · min(1, max_norm / (total + 1e-6)). Returns the total norm before clipping, as a 0-d
    tensor. With ``error_if_nonfinite``, a NaN or infinite total raises instead of scaling.
    """
    return _clip_norm(_listed(parameters), max_norm, norm_type, error_if_nonfinite)


@drawn
def _clip_norm(
    parameters: list[Tensor], max_norm: float, norm_type: float, error_if_nonfinite: bool
) -> Tensor:
    grads = _grads(parameters)
    p = float(norm_type)
    if not p > 0:
        raise ValueError(f"clip_grad_norm_: norm_type must be > 0 (or inf), got {norm_type!r}")
    if not grads:
        return ag.tensor(0.0)
    total = _total_norm([_norm(t.data, p) for t in grads], p)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is "
            f"{total}, so they cannot be clipped. Pass error_if_nonfinite=False to scale them "
            f"by this factor anyway."
        )
    factor = float(max_norm) / (total + 1e-6)
    if not factor >= 1.0:  # also when NaN: the gradients become NaN, as in PyTorch
        for t in grads:
            g = writable_data(t)
            with device_guard(g):
                g *= factor
            bump_version(t)
    return ag.tensor(total, dtype=grads[0].dtype, device=grads[0].device)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clip every gradient element into [-clip_value, clip_value], in place."""
    _clip_value(_listed(parameters), clip_value)


@replayed_whole
def _clip_value(parameters: list[Tensor], clip_value: float) -> None:
    c = float(clip_value)
    if not c >= 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value!r}")
    for t in _grads(parameters):
        g = writable_data(t)
        with device_guard(g):
            backend_of(g).xp.clip(g, -c, c, out=g)
        bump_version(t)


def _listed(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    """``parameters`` (one tensor, or an iterable such as ``model.parameters()``) as a list,
    which a compiled step can hand to each replay."""
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _grads(parameters: list[Tensor]) -> list[Tensor]:
    """The gradients of ``parameters`` that exist."""
    return [p.grad for p in parameters if p.grad is not None]


def _norm(g: Any, p: float) -> float:
    """‖g‖ₚ of all the elements of array ``g``, as a Python float."""
    if g.size == 0:
        return 0.0
    xp = backend_of(g).xp
    with device_guard(g):
        if p == 2.0:
            return math.sqrt(float(xp.vdot(g, g)))
        if p == math.inf:
            return float(xp.abs(g).max())
        return float((xp.abs(g) ** p).sum()) ** (1.0 / p)


def _total_norm(norms: list[float], p: float) -> float:
    """(Σ nᵢᵖ)^(1/p), or max nᵢ for p = inf; NaN if any nᵢ is. Computed as
    top · (Σ (nᵢ/top)ᵖ)^(1/p) with top = max nᵢ, which cannot overflow."""
    if any(math.isnan(n) for n in norms):
        return math.nan
    top = max(norms)
    if p == math.inf or top == 0.0 or top == math.inf:
        return top
    return top * math.fsum((n / top) ** p for n in norms) ** (1.0 / p)
