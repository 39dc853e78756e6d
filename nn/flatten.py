"""``Flatten`` and ``Identity``: layers that only reshape or pass through."""

from __future__ import annotations

from typing import Any

from autograd import Tensor
from autograd.conversion import alias

from .module import Module


class Flatten(Module):
    """Merge axes ``start_axis`` .. ``end_axis`` into one: (N, 28, 28) -> (N, 784) by default
    (the batch axis is kept). ``start_dim``/``end_dim`` are PyTorch's names."""

    def __init__(
        self,
        start_axis: int = 1,
        end_axis: int = -1,
        *,
        start_dim: int | None = None,
        end_dim: int | None = None,
    ) -> None:
        super().__init__()
        self.start_axis = alias("Flatten", "start_axis", start_axis, "start_dim", start_dim, 1)
        self.end_axis = alias("Flatten", "end_axis", end_axis, "end_dim", end_dim, -1)

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(self.start_axis, self.end_axis)

    def extra_repr(self) -> str:
        return f"start_axis={self.start_axis}, end_axis={self.end_axis}"


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. for an optional layer)."""

    def forward(self, x: Any) -> Any:
        return x
