"""Property-based gradient checks for your own functions (needs ``hypothesis``).

Strategies draw shapes, broadcastable shape tuples, valid axes, dtypes and tensors;
``check_gradients`` runs ``gradcheck`` (and ``gradgradcheck`` for ``order=2``) on one draw, and
``fuzz_gradients`` runs it on many::

    from autograd.testing import fuzz_gradients, shapes, tensors

    def softplus(x):
        return (1 + x.exp()).log()

    fuzz_gradients(softplus, tensors(shapes()))          # first and second order

Inside your own hypothesis tests, use the strategies with ``@given`` and call
``check_gradients``. Draws are float64 (finite differences need it) in [-3, 3] by default.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

try:
    from hypothesis import assume, given, settings
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError as e:  # pragma: no cover - exercised only without hypothesis
    raise ImportError('autograd.testing needs hypothesis: pip install "arraygrad[testing]"') from e

import numpy as np

from . import dtypes
from .backend import Device
from .creation import tensor
from .gradcheck import gradcheck, gradgradcheck
from .tensor import Tensor

__all__ = [
    "arrays",
    "axes",
    "broadcastable_shapes",
    "check_gradients",
    "float_dtypes",
    "fuzz_gradients",
    "shapes",
    "tensors",
]


def shapes(
    min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4
) -> st.SearchStrategy[tuple[int, ...]]:
    """Array shapes, including 0-d and size-1 axes."""
    return hnp.array_shapes(
        min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    )


def broadcastable_shapes(
    num_shapes: int = 2, min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4
) -> st.SearchStrategy[tuple[tuple[int, ...], ...]]:
    """Tuples of ``num_shapes`` shapes that broadcast together (NumPy rules)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes,
        min_dims=min_dims,
        max_dims=max_dims,
        min_side=min_side,
        max_side=max_side,
    ).map(lambda b: b.input_shapes)


def axes(
    ndim: int, allow_none: bool = True, allow_tuple: bool = True
) -> st.SearchStrategy[int | tuple[int, ...] | None]:
    """Valid ``axis`` arguments for a tensor with ``ndim`` axes: None, an int (possibly
    negative), or a tuple of distinct axes."""
    options: list[st.SearchStrategy[Any]] = []
    if allow_none:
        options.append(st.none())
    if ndim > 0:
        options.append(st.integers(-ndim, ndim - 1))
    if allow_tuple:
        options.append(hnp.valid_tuple_axes(ndim))
    if not options:
        raise ValueError(f"axes: no valid axis argument for ndim={ndim} with these options")
    return st.one_of(*options)


def float_dtypes() -> st.SearchStrategy[np.dtype]:
    """float32 or float64."""
    return st.sampled_from([dtypes.float32, dtypes.float64])


def arrays(
    shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]],
    dtype: Any = dtypes.float64,
    min_value: float = -3.0,
    max_value: float = 3.0,
    min_magnitude: float = 0.0,
) -> st.SearchStrategy[np.ndarray]:
    """NumPy arrays with finite values in [min_value, max_value], and |value| >= min_magnitude
    (to keep away from a kink or pole at 0)."""
    dtype = dtypes.as_dtype(dtype)
    intervals = [(min_value, max_value)]
    if min_magnitude > 0:  # [min, -m] and [m, max], drawn directly (no filtering)
        intervals = [
            (lo, hi)
            for lo, hi in [
                (min_value, min(-min_magnitude, max_value)),
                (max(min_magnitude, min_value), max_value),
            ]
            if lo <= hi
        ]
        if not intervals:
            raise ValueError(
                f"arrays: no value in [{min_value}, {max_value}] has magnitude >= {min_magnitude}"
            )
    elements = st.one_of(
        *(
            st.floats(lo, hi, allow_nan=False, allow_infinity=False, width=dtype.itemsize * 8)
            for lo, hi in intervals
        )
    )
    return hnp.arrays(dtype, shape, elements=elements)


def tensors(
    shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]] | None = None,
    dtype: Any = dtypes.float64,
    min_value: float = -3.0,
    max_value: float = 3.0,
    min_magnitude: float = 0.0,
    requires_grad: bool = True,
    device: str | Device = "cpu",
) -> st.SearchStrategy[Tensor]:
    """Leaf tensors (float64 and requiring grad by default) with values as in ``arrays``;
    ``shape`` is a shape, a strategy of shapes, or None for ``shapes()``."""
    shape = shapes() if shape is None else shape
    return arrays(shape, dtype, min_value, max_value, min_magnitude).map(
        lambda a: tensor(a, dtype=a.dtype, device=device, requires_grad=requires_grad)
    )


def check_gradients(
    fn: Callable[..., Any],
    *inputs: Any,
    order: int = 2,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> None:
    """gradcheck (and gradgradcheck when ``order`` is 2) of ``fn`` at ``inputs``;
    raises GradcheckError on disagreement."""
    if order not in (1, 2):
        raise ValueError(f"check_gradients: order must be 1 or 2, got {order}")
    gradcheck(fn, inputs, eps=eps, atol=atol, rtol=rtol)
    if order == 2:
        gradgradcheck(fn, inputs, eps=eps, atol=atol, rtol=rtol)


def fuzz_gradients(
    fn: Callable[..., Any],
    *strategies: st.SearchStrategy[Any],
    order: int = 2,
    where: Callable[..., bool] | None = None,
    max_examples: int | None = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> None:
    """Property-check the gradients of ``fn`` on inputs drawn from ``strategies``.

    ``where(*inputs)`` may reject draws (e.g. near a kink) through hypothesis' ``assume``.
    Uses the active hypothesis profile; ``max_examples`` overrides its example count.
    """

    def check(inputs: tuple[Any, ...]) -> None:
        if where is not None:
            assume(where(*inputs))
        check_gradients(fn, *inputs, order=order, eps=eps, atol=atol, rtol=rtol)

    test = given(st.tuples(*strategies))(check)
    if max_examples is not None:
        test = settings(max_examples=max_examples)(test)
    test()
