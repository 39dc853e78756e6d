"""Helpers of the nn tests: checking a module's gradients with respect to its inputs and its
parameters at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import autograd as ag
import nn
from autograd.testing import check_gradients


def call_with(module: nn.Module, params: dict[str, ag.Tensor], *args: Any) -> Any:
    """``module(*args)`` with its parameters replaced by the given tensors (by qualified name),
    restored afterwards: gradcheck perturbs copies of the tensors it is given, so the module
    must compute with those."""
    owners = {name: module for name, module in module.named_modules()}
    saved = []
    try:
        for name, t in params.items():
            path, _, attr = name.rpartition(".")
            owner = owners[path]
            saved.append((owner, attr, owner.__dict__[attr]))
            object.__setattr__(owner, attr, t)  # bypasses registration: a temporary swap
        return module(*args)
    finally:
        for owner, attr, p in reversed(saved):
            object.__setattr__(owner, attr, p)


def check_module_gradients(
    module: nn.Module,
    *inputs: ag.Tensor,
    order: int = 2,
    before: Callable[[], None] | None = None,
) -> None:
    """gradcheck (and gradgradcheck for ``order=2``) of ``module`` with respect to its float64
    inputs that require grad and all its parameters. ``before`` runs before every call (e.g.
    to reseed a dropout generator, so that each call draws the same mask)."""
    named = list(module.named_parameters())
    names = [n for n, _ in named]
    k = len(inputs)

    def fn(*ts: ag.Tensor) -> Any:
        if before is not None:
            before()
        return call_with(module, dict(zip(names, ts[k:])), *ts[:k])

    check_gradients(fn, *inputs, *(p for _, p in named), order=order)
