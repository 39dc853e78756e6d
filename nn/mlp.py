"""``MLP``: the fully connected network of ISLR chapter 10 and of most first courses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from autograd import Device, Generator, Tensor

from .activation import LeakyReLU, ReLU, Sigmoid, Tanh
from .batchnorm import BatchNorm1d
from .containers import Sequential
from .dropout import Dropout
from .linear import Linear
from .module import Module

ACTIVATIONS: dict[str, type[Module]] = {
    "relu": ReLU,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "leaky_relu": LeakyReLU,
}


class MLP(Module):
    """A multilayer perceptron: for each hidden size h, Linear(., h), then BatchNorm1d(h) if
    ``batch_norm``, the activation, and Dropout if its rate is above 0; then a final
    Linear(., out_features) with no activation (losses take logits).

    ``dropout`` is one rate for every hidden layer or a list with one rate per hidden layer.
    ``generator`` seeds the initial weights and the dropout masks.
    The layers are ``self.layers`` (a Sequential), so parameters are named
    ``layers.0.weight``, ``layers.0.bias`` ...

    ISLR's MNIST network (Figure 10.4, 235,146 parameters) is
    ``MLP(784, [256, 128], 10, dropout=[0.4, 0.3])``; the single-hidden-layer network of
    section 10.1 is ``MLP(p, [K], 1, activation="relu")`` (or ``"sigmoid"``).
    """

    def __init__(
        self,
        in_features: int,
        hidden_sizes: Sequence[int],
        out_features: int,
        activation: str = "relu",
        dropout: float | Sequence[float] = 0.0,
        batch_norm: bool = False,
        *,
        dtype: Any = None,
        device: str | Device | None = None,
        generator: Generator | None = None,
    ) -> None:
        super().__init__()
        hidden = [int(h) for h in hidden_sizes]
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"MLP: unknown activation {activation!r}; expected one of {sorted(ACTIVATIONS)}"
            )
        if isinstance(dropout, (int, float)):
            rates = [float(dropout)] * len(hidden)
        else:
            rates = [float(p) for p in dropout]
            if len(rates) != len(hidden):
                raise ValueError(
                    f"MLP: {len(rates)} dropout rates for {len(hidden)} hidden layers; give one "
                    f"rate per hidden layer, or a single float for all"
                )
        self.in_features, self.hidden_sizes, self.out_features = in_features, hidden, out_features
        make = {"dtype": dtype, "device": device}
        layers: list[Module] = []
        width = in_features
        for h, p in zip(hidden, rates):
            layers.append(Linear(width, h, generator=generator, **make))
            if batch_norm:
                layers.append(BatchNorm1d(h, **make))
            layers.append(ACTIVATIONS[activation]())
            if p > 0:
                layers.append(Dropout(p, generator=generator))
            width = h
        layers.append(Linear(width, out_features, generator=generator, **make))
        self.layers = Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x)
