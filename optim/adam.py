"""Adam (Kingma & Ba, 2015), with L2 weight decay or decoupled weight decay (AdamW)."""

from __future__ import annotations

import math
from types import ModuleType
from typing import Any

from .optimizer import Optimizer, ParamsT, state_buffer, with_weight_decay


class Adam(Optimizer):
    r"""Adam, with PyTorch's update, for each parameter θ of gradient g at step t = 1, 2, ...::

        g ← g + weight_decay · θ                     (if weight_decay ≠ 0: L2, coupled)
        m ← β₁ m + (1 − β₁) g                         (first moment, starts at 0)
        v ← β₂ v + (1 − β₂) g²                        (second moment, starts at 0)
        v̂ ← max(v̂, v)   (amsgrad)   or   v̂ ← v
        θ ← θ − lr · (m / (1 − β₁ᵗ)) / (√v̂ / √(1 − β₂ᵗ) + eps)

    The last line is computed as θ ← θ − (lr √(1 − β₂ᵗ) / (1 − β₁ᵗ)) · m / (√v̂ + eps √(1 − β₂ᵗ)),
    the same quantity with one pass over the parameters fewer.

    **weight_decay and ISLR's ridge penalty.** The coupled decay adds weight_decay · θ to the
    gradient, the gradient 2λθ of ridge's penalty λ Σ θ² when the loss is RSS: so
    ``weight_decay = 2λ`` (``2λ/n`` for the mean loss RSS/n). Adam then rescales the penalty's
    gradient like the rest, so weights with large gradients are decayed less; ``AdamW``
    decouples the decay from the adaptive step.
    """

    decoupled = False  # AdamW: θ ← θ (1 − lr · weight_decay) instead of the L2 term

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
        }
        super().__init__(params, defaults)

    def _check(self, group: dict[str, Any]) -> None:
        self._require("lr", group["lr"])
        self._require("eps", group["eps"])
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{self._name}: betas must be a pair (beta1, beta2), got {betas!r}")
        self._require("betas[0]", betas[0], high=1.0, high_open=True)
        self._require("betas[1]", betas[1], high=1.0, high_open=True)
        self._require("weight_decay", group["weight_decay"])

    def _init_state(self, xp: ModuleType, p: Any, group: dict[str, Any]) -> dict[str, Any]:
        return {"step": 0, "exp_avg": xp.zeros_like(p), "exp_avg_sq": xp.zeros_like(p)}

    def _update(
        self, xp: ModuleType, p: Any, g: Any, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        state["step"] = step = state["step"] + 1
        m, v = state["exp_avg"], state["exp_avg_sq"]
        t, u = self._scratch(p, 2)
        if not self.decoupled:
            g = with_weight_decay(xp, p, g, wd, out=t)  # g ← g + wd θ
        elif wd:  # θ ← θ (1 − lr wd)
            p *= 1.0 - lr * wd
        # m ← m + (1 − β₁)(g − m), which is β₁ m + (1 − β₁) g
        xp.subtract(g, m, out=u)
        m += xp.multiply(u, 1.0 - beta1, out=u)
        # v ← β₂ v + (1 − β₂) g²
        xp.multiply(g, g, out=u)
        v *= beta2
        v += xp.multiply(u, 1.0 - beta2, out=u)
        if group["amsgrad"]:  # v̂ ← max(v̂, v)
            v_max = state_buffer(xp, state, "max_exp_avg_sq", p)
            v = xp.maximum(v_max, v, out=v_max)
        bias_correction1 = 1.0 - beta1**step
        bias_correction2_sqrt = math.sqrt(1.0 - beta2**step)
        # θ ← θ − (lr √bc₂ / bc₁) m / (√v̂ + eps √bc₂)
        d = xp.sqrt(v, out=u)
        d += eps * bias_correction2_sqrt
        xp.divide(m, d, out=d)
        p -= xp.multiply(d, lr * bias_correction2_sqrt / bias_correction1, out=d)


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019), PyTorch's ``AdamW``::

        θ ← θ (1 − lr · weight_decay)
        then Adam's update of θ, without any L2 term in the gradient

    With ``weight_decay = 2λ`` the decay is exactly a plain gradient step, θ ← θ − lr · 2λθ,
    on ISLR's ridge penalty λ Σ θ², taken apart from the adaptive step: every weight shrinks by
    the same factor whatever its gradient history. Adam's coupled L2 term instead sends 2λθ
    through the adaptive scaling (weights with large gradients are decayed less), so the two
    differ: AdamW does not minimise RSS + λ Σ θ², it regularises the path towards small weights.
    """

    decoupled = True

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)
