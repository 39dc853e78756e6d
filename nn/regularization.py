"""The L2 (ridge) penalty, and its exact relation to an optimizer's ``weight_decay``.

ISLR's ridge regression (section 6.2.1) and regularized networks (section 10.7) minimize

    RSS(theta) + lambda * sum_j theta_j^2,

whose penalty has gradient 2 lambda theta. An optimizer's ``weight_decay`` wd adds wd * theta
to each gradient (``optim.SGD``: theta <- theta - lr * (grad + wd * theta)). Hence:

* loss ``RSS + l2_penalty(model, lam)`` takes the same steps as loss ``RSS`` with
  ``weight_decay = 2 * lam``;
* with the mean loss RSS / n, ISLR's criterion divided by n is ``mse_loss(...) +
  l2_penalty(model, lam / n)``, i.e. ``weight_decay = 2 * lam / n``;
* Keras's ``kernel_regularizer=l2(lam)`` (ISLR's Python labs) adds lam * sum theta^2 to the
  *mean* loss: ``mse_loss(...) + l2_penalty(model, lam)`` here, or ``weight_decay = 2 * lam``
  with the mean loss; it is ISLR's lambda = n * lam.

Two differences remain. ``l2_penalty(model, lam)`` penalizes the weights only (parameters
with two or more axes; not biases nor batch-norm scales, as ISLR and Keras do), while
``weight_decay`` applies to every parameter given to the optimizer unless a parameter group
sets it to 0. With Adam, weight_decay is this same penalty's gradient, rescaled by the adaptive
step like the rest; AdamW's decoupled decay is not a penalty on the loss.
"""

from __future__ import annotations

from collections.abc import Iterable

import autograd as ag
from autograd import Tensor

from .module import Module

__all__ = ["l2_penalty"]


def l2_penalty(params: Module | Iterable[Tensor], lam: float) -> Tensor:
    """lam * sum of theta^2 over ``params``; for a Module, over its weights (parameters with
    at least two axes: biases and normalization parameters are not penalized).

    Its gradient is 2 * lam * theta, the ``weight_decay = 2 * lam`` of an optimizer (see the
    module docstring)."""
    if isinstance(params, Module):
        params = [p for p in params.parameters() if p.ndim >= 2]
    total = None
    for p in params:
        term = (p * p).sum()
        total = term if total is None else total + term
    if total is None:
        return ag.tensor(0.0)
    return total * lam
