"""``Dropout``: inverted dropout, the identity in evaluation mode."""

from __future__ import annotations

from autograd import Generator, Tensor

from . import functional as F
from .module import Module


class Dropout(Module):
    """Zero each element with probability ``p`` while training and scale the rest by
    1 / (1 - p), so the expected output equals the input; the identity after ``eval()``.

    Masks are drawn from ``generator`` (an ``autograd.Generator`` on the input's device), or
    from the default generator of the input's device: seeding gives the same masks.
    """

    def __init__(self, p: float = 0.5, generator: Generator | None = None) -> None:
        super().__init__()
        F._check_probability(p)
        self.p = p
        self.generator = generator

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training, self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}"
