"""``Linear``: the affine map y = x W^T + b."""

from __future__ import annotations

import math
from typing import Any

import autograd as ag
from autograd import Device, Generator, Tensor
from autograd.backend import backend_of, device_guard

from . import init
from .module import Module, Parameter


class Linear(Module):
    """y = x W^T + b, with ``weight`` W of shape (out_features, in_features) and ``bias`` b of
    shape (out_features,); x has shape (..., in_features).

    Initialized as in PyTorch: W and b from U(-1/sqrt(in_features), 1/sqrt(in_features))
    (``kaiming_uniform_(W, a=sqrt(5))``), drawn from ``generator`` or the default one.

    Layout: W is stored by columns (Fortran order; its transpose, (in, out), is C-ordered, as
    Keras and Flax store their kernels), where PyTorch stores it by rows: the shape, values,
    initialization and state dict are PyTorch's, only ``weight.data.strides`` differ. x W^T is
    then the product of two C-ordered arrays, which OpenBLAS computes faster than x times the
    transpose of a C-ordered W (12% for ISLR's first layer, 3-4% of its training step with one
    BLAS thread), and W's gradient comes in W's layout (``autograd.linear``), so the update
    mixes no orders. A weight assigned in another layout keeps working, in its own layout.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        dtype: Any = None,
        device: str | Device | None = None,
        generator: Generator | None = None,
    ) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        weight = ag.zeros(out_features, in_features, dtype=dtype, device=device)
        with device_guard(weight.data):  # stored by columns: see the class docstring
            weight.data = backend_of(weight.data).xp.asfortranarray(weight.data)
        self.weight = Parameter(weight)
        init.kaiming_uniform_(self.weight, a=math.sqrt(5.0), generator=generator)
        if bias:
            bound = 1.0 / math.sqrt(in_features)
            self.bias = Parameter(ag.zeros(out_features, dtype=dtype, device=device))
            init.uniform_(self.bias, -bound, bound, generator)
        else:
            self.register_parameter("bias", None)

    def forward(self, x: Tensor) -> Tensor:
        return ag.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )
