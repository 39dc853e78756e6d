"""Adagrad (Duchi, Hazan & Singer, 2011)."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from .optimizer import Optimizer, ParamsT, with_weight_decay


class Adagrad(Optimizer):
    r"""Adagrad, with PyTorch's update, for each parameter θ of gradient g at step t = 1, 2, ...::

        g ← g + weight_decay · θ                     (if weight_decay ≠ 0)
        lrₜ ← lr / (1 + (t − 1) · lr_decay)
        s ← s + g²                                    (s starts at initial_accumulator_value)
        θ ← θ − lrₜ · g / (√s + eps)

    **weight_decay and ISLR's ridge penalty.** The decay adds weight_decay · θ to the
    gradient, the gradient 2λθ of ridge's penalty λ Σ θ² when the loss is RSS: so
    ``weight_decay = 2λ`` (``2λ/n`` for the mean loss RSS/n).
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
    ) -> None:
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "eps": eps,
        }
        super().__init__(params, defaults)

    def _check(self, group: dict[str, Any]) -> None:
        self._require("lr", group["lr"])
        self._require("lr_decay", group["lr_decay"])
        self._require("weight_decay", group["weight_decay"])
        self._require("initial_accumulator_value", group["initial_accumulator_value"])
        self._require("eps", group["eps"])

    def _init_state(self, xp: ModuleType, p: Any, group: dict[str, Any]) -> dict[str, Any]:
        return {"step": 0, "sum": xp.full_like(p, group["initial_accumulator_value"])}

    def _update(
        self, xp: ModuleType, p: Any, g: Any, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        state["step"] = step = state["step"] + 1
        s = state["sum"]
        t, u = self._scratch(p, 2)
        g = with_weight_decay(xp, p, g, wd, out=t)  # g ← g + wd θ
        lr_t = lr / (1.0 + (step - 1) * float(group["lr_decay"]))
        s += xp.multiply(g, g, out=u)  # s ← s + g²
        # θ ← θ − lrₜ g / (√s + eps)
        d = xp.sqrt(s, out=u)
        d += eps
        xp.divide(g, d, out=d)
        p -= xp.multiply(d, lr_t, out=d)
