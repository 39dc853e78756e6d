"""Gradient hooks: functions the engine calls with a tensor's gradient when it is computed.

``Tensor.register_hook(fn)`` adds one and returns a :class:`RemovableHandle`;
``Tensor.retain_grad()`` adds a :class:`RetainGrad`, which stores a non-leaf tensor's
gradient in its ``grad``. Leaves keep their hooks on the tensor, results on their ``grad_fn``
(so that a tensor which is no longer referenced does not keep its node's hooks alive).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any


class RetainGrad:
    """The hook behind ``retain_grad``: stores the gradient of a non-leaf tensor in its grad."""

    __slots__ = ("ref",)

    def __init__(self, tensor: Any) -> None:
        self.ref = weakref.ref(tensor)  # weak: the graph must not keep its outputs alive

    def __call__(self, grad: Any) -> None:
        from .engine import accumulate_grad  # the engine runs hooks; hooks feed the engine

        tensor = self.ref()
        if tensor is not None:
            accumulate_grad(tensor, grad.data if grad.grad_fn is None else grad, copy=True)


class RemovableHandle:
    """Returned by ``register_hook``; ``remove()`` unregisters the hook."""

    __slots__ = ("hook", "hooks")

    def __init__(self, hooks: list[Any], hook: Callable[..., Any]) -> None:
        self.hooks, self.hook = hooks, hook

    def remove(self) -> None:
        """Unregister the hook (again: nothing happens)."""
        if self.hook in self.hooks:
            self.hooks.remove(self.hook)


def add_hook(hooks: list[Any], hook: Callable[..., Any]) -> RemovableHandle:
    """Append ``hook`` to ``hooks``, before the retain-grad hook (user hooks run first, as in
    PyTorch, so the retained gradient is the one they return)."""
    position = next((i for i, h in enumerate(hooks) if isinstance(h, RetainGrad)), None)
    if position is None:
        hooks.append(hook)
    else:
        hooks.insert(position, hook)
    return RemovableHandle(hooks, hook)


def retained(hooks: list[Any] | None) -> Any:
    """The tensor whose gradient ``hooks`` retain, or None."""
    for h in hooks or ():
        if isinstance(h, RetainGrad):
            return h.ref()
    return None
