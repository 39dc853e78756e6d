"""Loss modules: ``MSELoss``, ``CrossEntropyLoss``, ``NLLLoss``, ``BCELoss``,
``BCEWithLogitsLoss``. Each calls the function of the same name in ``nn.functional``; class
and element weights are buffers, so ``to(device)`` moves them with the module."""

from __future__ import annotations

from typing import Any

from autograd import Tensor
from autograd.ops.nn_ops import check_reduction

from . import functional as F
from .module import Module


class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        check_reduction(type(self).__name__, reduction)
        self.reduction = reduction

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class _WeightedLoss(_Loss):
    """A loss with an optional ``weight`` buffer (per class or per element)."""

    def __init__(self, weight: Tensor | None = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.register_buffer("weight", weight)


class MSELoss(_Loss):
    """Mean squared error: mean of (input - target)^2 (see ``reduction``)."""

    def forward(self, x: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(x, target, self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy given logits (N, C), (C,) or (N, C, d1, ..., dk), of integer class
    targets or class probabilities, with optional class weights (C,), ``ignore_index`` and
    ``label_smoothing`` (PyTorch's semantics, see ``F.cross_entropy``); stable for logits of
    any magnitude."""

    def __init__(
        self,
        weight: Tensor | None = None,
        reduction: str = "mean",
        *,
        ignore_index: int = -100,
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(weight, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, logits: Tensor, target: Any) -> Tensor:
        return F.cross_entropy(
            logits,
            target,
            self.weight,
            self.reduction,
            ignore_index=self.ignore_index,
            label_smoothing=self.label_smoothing,
        )

    def extra_repr(self) -> str:
        parts = [super().extra_repr()] if super().extra_repr() else []
        if self.ignore_index != -100:
            parts.append(f"ignore_index={self.ignore_index}")
        if self.label_smoothing:
            parts.append(f"label_smoothing={self.label_smoothing}")
        return ", ".join(parts)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of integer class targets given log-probabilities (N, C), (C,)
    or (N, C, d1, ..., dk), with optional class weights and ``ignore_index``."""

    def __init__(
        self, weight: Tensor | None = None, reduction: str = "mean", *, ignore_index: int = -100
    ) -> None:
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, log_probs: Tensor, target: Any) -> Tensor:
        return F.nll_loss(
            log_probs, target, self.weight, self.reduction, ignore_index=self.ignore_index
        )

    def extra_repr(self) -> str:
        parts = [super().extra_repr()] if super().extra_repr() else []
        if self.ignore_index != -100:
            parts.append(f"ignore_index={self.ignore_index}")
        return ", ".join(parts)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy given probabilities in [0, 1] (logs kept above -100, gradient
    (p - y) / max(p (1 - p), 1e-12), as in PyTorch)."""

    def forward(self, probs: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy(probs, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Binary cross-entropy given logits (sigmoid and loss fused, exact for any logit), with
    optional element ``weight`` and positive-class ``pos_weight``."""

    def __init__(
        self,
        weight: Tensor | None = None,
        reduction: str = "mean",
        pos_weight: Tensor | None = None,
    ) -> None:
        super().__init__(weight, reduction)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(
            logits, target, self.weight, self.reduction, self.pos_weight
        )
