"""Stochastic gradient descent, with momentum (heavy ball or Nesterov) and weight decay."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from .optimizer import Optimizer, ParamsT, required, with_weight_decay


class SGD(Optimizer):
    r"""Stochastic gradient descent, with PyTorch's update, for each parameter θ of gradient g::

        g ← g + weight_decay · θ                   (if weight_decay ≠ 0)
        b ← g                                       at the first step  (if momentum μ ≠ 0)
        b ← μ b + (1 − dampening) g                 at later steps
        g ← g + μ b   (nesterov)    or    g ← b    (heavy ball)
        θ ← θ − lr · g

    The momentum buffer ``b`` starts as the first gradient (no dampening at the first step).
    Nesterov momentum needs ``momentum > 0`` and ``dampening == 0``.

    **weight_decay and ISLR's ridge penalty.** Ridge regression minimises RSS + λ Σ θ², whose
    gradient is ∇RSS + 2λθ: with the loss RSS, ``weight_decay = 2λ`` adds exactly that 2λθ (if
    the loss is the mean RSS/n, the same fit needs ``weight_decay = 2λ/n``). ISLR does not
    penalise the intercept: put biases in a parameter group with ``weight_decay=0``.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = required,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "nesterov": nesterov,
            "weight_decay": weight_decay,
        }
        super().__init__(params, defaults)

    def _check(self, group: dict[str, Any]) -> None:
        self._require("lr", group["lr"])
        self._require("momentum", group["momentum"])
        self._require("dampening", group["dampening"], high=1.0)
        self._require("weight_decay", group["weight_decay"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                f"SGD: Nesterov momentum requires momentum > 0 and dampening = 0, got "
                f"momentum={group['momentum']!r}, dampening={group['dampening']!r}"
            )

    def _update(
        self, xp: ModuleType, p: Any, g: Any, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        lr, mu, wd = float(group["lr"]), float(group["momentum"]), float(group["weight_decay"])
        dampening = float(group["dampening"])
        t, u = self._scratch(p, 2)  # below, t is always either free or the current g
        g = with_weight_decay(xp, p, g, wd, out=t)  # g ← g + wd θ
        if mu:
            b = state.get("momentum_buffer")
            if b is None:  # b ← g
                b = state["momentum_buffer"] = xp.array(g, copy=True)
            else:  # b ← μ b + (1 − dampening) g
                b *= mu
                if dampening:
                    b += xp.multiply(g, 1.0 - dampening, out=u)
                else:
                    b += g
            if group["nesterov"]:  # g ← g + μ b
                xp.multiply(b, mu, out=u)
                g = xp.add(u, g, out=u)
            else:
                g = b
        # θ ← θ − lr g
        p -= xp.multiply(g, lr, out=u if g is u else t)
