"""Activation layers: ``ReLU``, ``Sigmoid``, ``Tanh``, ``LeakyReLU``, ``Softplus``, ``Softmax``,
``LogSoftmax``. Each applies the autograd function of the same name."""

from __future__ import annotations

import autograd as ag
from autograd import Tensor
from autograd.conversion import alias

from .module import Module


class ReLU(Module):
    """max(x, 0) elementwise; relu'(0) = 0."""

    def forward(self, x: Tensor) -> Tensor:
        return ag.relu(x)


class Sigmoid(Module):
    """1 / (1 + e^-x) elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return ag.sigmoid(x)


class Tanh(Module):
    """tanh x elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return ag.tanh(x)


class LeakyReLU(Module):
    """x for x > 0, else negative_slope * x."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x: Tensor) -> Tensor:
        return ag.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Softplus(Module):
    """log(1 + e^x) elementwise, a smooth ReLU."""

    def forward(self, x: Tensor) -> Tensor:
        return ag.softplus(x)


class Softmax(Module):
    """e^x / sum(e^x) along ``axis`` (``dim``: PyTorch's name)."""

    def __init__(self, axis: int = -1, *, dim: int | None = None) -> None:
        super().__init__()
        self.axis = alias("Softmax", "axis", axis, "dim", dim, -1)

    def forward(self, x: Tensor) -> Tensor:
        return ag.softmax(x, self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class LogSoftmax(Module):
    """x - logsumexp(x) along ``axis`` (``dim``: PyTorch's name)."""

    def __init__(self, axis: int = -1, *, dim: int | None = None) -> None:
        super().__init__()
        self.axis = alias("LogSoftmax", "axis", axis, "dim", dim, -1)

    def forward(self, x: Tensor) -> Tensor:
        return ag.log_softmax(x, self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"
