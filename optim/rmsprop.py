"""RMSprop (Hinton's lecture 6e, 2012; centered form: Graves, 2013)."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from .optimizer import Optimizer, ParamsT, state_buffer, with_weight_decay


class RMSprop(Optimizer):
    r"""RMSprop, with PyTorch's update, for each parameter θ of gradient g::

        g ← g + weight_decay · θ                     (if weight_decay ≠ 0)
        v ← α v + (1 − α) g²                          (running mean square, starts at 0)
        ḡ ← α ḡ + (1 − α) g                           (centered only: running mean, starts at 0)
        d ← √(v − ḡ²) + eps   (centered)   or   d ← √v + eps
        b ← μ b + g / d ;  θ ← θ − lr · b            (if momentum μ ≠ 0; b starts at 0)
        θ ← θ − lr · g / d                            (otherwise)

    ``eps`` is added outside the square root. ISLR trains its MNIST networks with RMSprop.

    **weight_decay and ISLR's ridge penalty.** The decay adds weight_decay · θ to the
    gradient, the gradient 2λθ of ridge's penalty λ Σ θ² when the loss is RSS: so
    ``weight_decay = 2λ`` (``2λ/n`` for the mean loss RSS/n). The penalty's gradient is then
    divided by d like the rest.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "alpha": alpha,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "centered": centered,
        }
        super().__init__(params, defaults)

    def _check(self, group: dict[str, Any]) -> None:
        self._require("lr", group["lr"])
        self._require("alpha", group["alpha"], high=1.0)
        self._require("eps", group["eps"])
        self._require("weight_decay", group["weight_decay"])
        self._require("momentum", group["momentum"])

    def _init_state(self, xp: ModuleType, p: Any, group: dict[str, Any]) -> dict[str, Any]:
        return {"step": 0, "square_avg": xp.zeros_like(p)}

    def _update(
        self, xp: ModuleType, p: Any, g: Any, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        lr, alpha, eps = float(group["lr"]), float(group["alpha"]), float(group["eps"])
        wd, mu = float(group["weight_decay"]), float(group["momentum"])
        state["step"] += 1
        v = state["square_avg"]
        t, u = self._scratch(p, 2)
        g = with_weight_decay(xp, p, g, wd, out=t)  # g ← g + wd θ
        # v ← α v + (1 − α) g²
        xp.multiply(g, g, out=u)
        v *= alpha
        v += xp.multiply(u, 1.0 - alpha, out=u)
        if group["centered"]:
            g_avg = state_buffer(xp, state, "grad_avg", p)
            # ḡ ← ḡ + (1 − α)(g − ḡ), which is α ḡ + (1 − α) g
            xp.subtract(g, g_avg, out=u)
            g_avg += xp.multiply(u, 1.0 - alpha, out=u)
            # d ← √(v − ḡ²)
            xp.multiply(g_avg, g_avg, out=u)
            d = xp.sqrt(xp.subtract(v, u, out=u), out=u)
        else:  # d ← √v
            d = xp.sqrt(v, out=u)
        d += eps
        step = xp.divide(g, d, out=d)  # g / d
        if mu:  # b ← μ b + g / d ;  θ ← θ − lr b
            b = state_buffer(xp, state, "momentum_buffer", p)
            b *= mu
            b += step
            step = b
        p -= xp.multiply(step, lr, out=d)
