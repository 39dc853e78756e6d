"""``BatchNorm1d``: batch normalization (Ioffe and Szegedy, 2015) with running statistics."""

from __future__ import annotations

from typing import Any

import autograd as ag
from autograd import Device, Tensor

from . import functional as F
from . import init
from .module import Module, Parameter


class BatchNorm1d(Module):
    """Normalize each of ``num_features`` channels of x (N, C) or (N, C, L), then scale and
    shift:  y = (x - mu) / sqrt(var + eps) * weight + bias.

    Training: mu and var are the batch mean and biased variance, and the running statistics
    move towards the batch's: running = (1 - momentum) * running + momentum * batch (the
    unbiased variance for running_var); ``momentum=None`` gives the plain average of all
    batches seen so far (momentum = 1 / num_batches_tracked). Evaluation (``eval()``): mu and
    var are the running statistics. Without ``track_running_stats`` the batch statistics are
    used in both modes. ``affine`` adds the learnable weight (ones) and bias (zeros).
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        *,
        dtype: Any = None,
        device: str | Device | None = None,
    ) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(ag.ones(num_features, dtype=dtype, device=device))
            self.bias = Parameter(ag.zeros(num_features, dtype=dtype, device=device))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", ag.zeros(num_features, dtype=dtype, device=device))
            self.register_buffer("running_var", ag.ones(num_features, dtype=dtype, device=device))
            self.register_buffer("num_batches_tracked", ag.zeros((), dtype=ag.int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches seen."""
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            self.num_batches_tracked.zero_()

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim not in (2, 3) or x.shape[1] != self.num_features:
            raise ag.ShapeError(
                f"BatchNorm1d({self.num_features}): expected input of shape (N, "
                f"{self.num_features}) or (N, {self.num_features}, L), got {x.shape}"
            )
        momentum = self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)  # in place, as the running statistics
            if momentum is None:  # the plain average of all batches so far
                momentum = 1.0 / float(self.num_batches_tracked.item())
        return F.batch_norm(
            x,
            self.running_mean,  # None without track_running_stats: batch statistics always
            self.running_var,
            self.weight,
            self.bias,
            training=self.training or not self.track_running_stats,
            momentum=0.0 if momentum is None else momentum,
            eps=self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, track_running_stats={self.track_running_stats}"
        )
