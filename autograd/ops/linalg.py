"""Matrix products."""

from __future__ import annotations

from typing import Any

from ..errors import ShapeError
from ..function import Function
from ..operands import as_tensor, operands
from ..tensor import Tensor


class MatMul(Function):
    """x @ y with NumPy's rules (1-D operands are promoted to matrices, batch axes broadcast);
    dL/dx = g @ y^T, dL/dy = x^T @ g (batch axes summed back by the base class)."""

    __slots__ = ()
    save_inputs = True
    broadcasts = True
    derivative = "dL/dx = g @ y^T,  dL/dy = x^T @ g"
    in_words = "each factor gets the upstream gradient multiplied by the other factor, transposed"

    def forward(self, x: Any, y: Any) -> Any:
        if x.ndim == 0 or y.ndim == 0:
            raise ShapeError(
                f"matmul: operands must have at least one axis, got shapes {x.shape} and "
                f"{y.shape}; multiply by a scalar with * instead"
            )
        k_y = y.shape[-2] if y.ndim > 1 else y.shape[0]
        if x.shape[-1] != k_y:
            which = "second-to-last" if y.ndim > 1 else "only"
            raise ShapeError(
                f"matmul: shapes {x.shape} and {y.shape} do not align: the last axis of the "
                f"first ({x.shape[-1]}) must equal the {which} axis of the second ({k_y})"
            )
        return x @ y

    def backward(self, m: Any, g: Any, x: Any, y: Any) -> tuple[Any, Any]:
        ex, ey = self.edges
        x_vec, y_vec = x.ndim == 1, y.ndim == 1
        # Promote vectors to matrices, and g to match: (k,) @ (k, m) is (1, k) @ (k, m).
        if y_vec:
            y = y.reshape((y.shape[0], 1))
            g = g.reshape((*g.shape, 1))
        if x_vec:
            x = x.reshape((1, x.shape[0]))
            g = g.reshape((*g.shape[:-1], 1, g.shape[-1]))
        gx = gy = None
        if ex is not None:
            gx = g @ m.swapaxes(y, -1, -2)
            if x_vec:
                gx = gx.reshape((*gx.shape[:-2], gx.shape[-1]))
        if ey is not None:
            gy = m.swapaxes(x, -1, -2) @ g
            if y_vec:
                gy = gy.reshape(gy.shape[:-1])
        return gx, gy


def matmul(x: Any, y: Any) -> Tensor:
    """Matrix product ``x @ y`` (NumPy semantics, including 1-D and batched operands)."""
    x, y = operands("matmul", x, y)
    return MatMul()(as_tensor(x), as_tensor(y))
