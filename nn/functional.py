"""Stateless forms of the layers and the losses, built only from autograd operations (their
gradients come from the graph).

Losses take ``reduction``: ``'mean'`` (the default) averages the per-element losses,
``'sum'`` adds them, ``'none'`` returns them. Targets of the elementwise losses must have the
input's shape (no silent broadcasting of (N, 1) against (N,)).
"""

from __future__ import annotations

from typing import Any

import autograd as ag
from autograd import Generator, Tensor
from autograd.errors import ShapeError
from autograd.ops.nn_ops import binary_cross_entropy as binary_cross_entropy_op
from autograd.ops.nn_ops import check_broadcasts, check_reduction, same_shape_target
from autograd.random import keep_mask

__all__ = [
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "dropout",
    "leaky_relu",
    "linear",
    "log_softmax",
    "mse_loss",
    "nll_loss",
    "relu",
    "sigmoid",
    "softmax",
    "softplus",
    "tanh",
]

# ------------------------------------------------------------------ layers and activations
linear = ag.linear
relu = ag.relu
sigmoid = ag.sigmoid
tanh = ag.tanh
leaky_relu = ag.leaky_relu
softmax = ag.softmax
log_softmax = ag.log_softmax
softplus = ag.softplus


def dropout(
    x: Tensor, p: float = 0.5, training: bool = True, generator: Generator | None = None
) -> Tensor:
    """Inverted dropout: each element is zeroed with probability ``p`` and the survivors are
    scaled by 1 / (1 - p), so E[dropout(x)] = x. The identity when not ``training``.

    The mask is drawn (``autograd.random.keep_mask``: 32-bit integers, whatever x's dtype)
    from ``generator``, or from the default generator of x's device: the same seed gives the
    same mask.
    """
    _check_probability(p)
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0.0
    keep = keep_mask(x.shape, p, generator, x.device)
    mask = keep.to(x.dtype) * (1.0 / (1.0 - p))
    return x * mask


def batch_norm(
    x: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalization over the batch axis of x (N, C) or the batch and length axes of
    x (N, C, L), per channel c:

        y = (x - mu_c) / sqrt(var_c + eps) * weight_c + bias_c

    In ``training``, mu and var are the batch's mean and biased variance (gradients flow
    through them), and the running statistics, when given, are updated in place:
    running = (1 - momentum) * running + momentum * batch, with the unbiased batch variance
    (times n / (n - 1)) for running_var. Otherwise mu and var are the running statistics.
    """
    if x.ndim not in (2, 3):
        raise ShapeError(f"batch_norm: expected input of shape (N, C) or (N, C, L), got {x.shape}")
    c = x.shape[1]
    axes = (0,) if x.ndim == 2 else (0, 2)

    def per_channel(t: Tensor) -> Tensor:  # a (C,) vector that broadcasts against x
        return t if x.ndim == 2 else t.reshape(c, 1)

    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and t.shape != (c,):
            raise ShapeError(f"batch_norm: {name} must have shape ({c},), got {t.shape}")
    if training:
        n = x.size // c
        if n < 2:
            raise ValueError(
                f"batch_norm: training needs more than one value per channel to estimate a "
                f"variance, got input of shape {x.shape}; use a larger batch or eval()"
            )
        mean = x.mean(axes, keepdims=True)
        d = x - mean
        var = (d * d).mean(axes, keepdims=True)
        y = d / (var + eps).sqrt()
        if running_mean is not None:
            _update_running(running_mean, mean.detach().reshape(c), momentum)
        if running_var is not None:
            unbiased = var.detach().reshape(c) * (n / (n - 1))
            _update_running(running_var, unbiased, momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError(
                "batch_norm: without training=True, running_mean and running_var are needed"
            )
        y = (x - per_channel(running_mean)) / (per_channel(running_var) + eps).sqrt()
    if weight is not None:
        y = y * per_channel(weight)
    if bias is not None:
        y = y + per_channel(bias)
    return y


def _update_running(running: Tensor, batch: Tensor, momentum: float) -> None:
    """running = (1 - momentum) * running + momentum * batch, written into running's array
    (references to it stay current; its version is bumped). No graph: both are constants."""
    with ag.no_grad():
        running.copy_(running.detach() * (1.0 - momentum) + batch * momentum)


# ------------------------------------------------------------------------------- losses
def mse_loss(x: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Squared error (x - target)^2, reduced."""
    target = same_shape_target("mse_loss", x, target)
    d = x - target
    return _reduce("mse_loss", d * d, reduction)


cross_entropy = ag.cross_entropy  # stable for logits of any magnitude; class weights
nll_loss = ag.nll_loss  # cross_entropy(x, t) == nll_loss(log_softmax(x), t)


binary_cross_entropy = binary_cross_entropy_op  # PyTorch's clamps (logs >= -100, eps 1e-12)


def binary_cross_entropy_with_logits(
    logits: Tensor,
    target: Tensor,
    weight: Any = None,
    reduction: str = "mean",
    pos_weight: Any = None,
) -> Tensor:
    """Binary cross-entropy of targets y in [0, 1] given logits z (p = sigmoid(z)):

        loss = (1 - y) z + (1 + (pos_weight - 1) y) softplus(-z)

    which is -[pos_weight y log p + (1 - y) log(1 - p)], exact for any z (softplus does not
    overflow). ``weight`` scales each element, ``pos_weight`` the positive term (both
    broadcast against z, e.g. one value per class); d loss / dz = sigmoid(z) - y without them.
    """
    name = "binary_cross_entropy_with_logits"
    target = same_shape_target(name, logits, target)
    weight = None if weight is None else check_broadcasts(name, "weight", weight, logits)
    if pos_weight is not None:
        pos_weight = check_broadcasts(name, "pos_weight", pos_weight, logits)
    softplus_neg = ag.softplus(-logits)
    if pos_weight is None:
        loss = (1.0 - target) * logits + softplus_neg
    else:
        loss = (1.0 - target) * logits + (1.0 + (pos_weight - 1.0) * target) * softplus_neg
    return _reduce("binary_cross_entropy_with_logits", _weighted(loss, weight), reduction)


# ------------------------------------------------------------------------------ helpers
def _weighted(loss: Tensor, weight: Any) -> Tensor:
    return loss if weight is None else loss * weight


def _reduce(op: str, loss: Tensor, reduction: str) -> Tensor:
    check_reduction(op, reduction)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _check_probability(p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be a probability in [0, 1], got {p}")
