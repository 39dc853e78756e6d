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

from collections.abc import Callable, Sequence
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
    "extreme_values",
    "float_dtypes",
    "fuzz_gradients",
    "shapes",
    "tensors",
]


EMPTY_ODDS = 8  # about one drawn shape in EMPTY_ODDS gets a size-0 axis (allow_empty)


def shapes(
    min_dims: int = 0,
    max_dims: int = 3,
    min_side: int = 1,
    max_side: int = 4,
    allow_empty: bool = True,
) -> st.SearchStrategy[tuple[int, ...]]:
    """Array shapes, including 0-d and size-1 axes, and (``allow_empty``, about one shape in
    ``EMPTY_ODDS``) shapes with a size-0 axis, where ops must give NumPy's and PyTorch's empty
    results or a clear error."""
    base = hnp.array_shapes(
        min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    )
    if not allow_empty or min_side == 0 or max_dims == 0:
        return base
    return st.tuples(base, st.integers(0, EMPTY_ODDS - 1), st.integers(0, max_dims - 1)).map(
        _emptied
    )


def _emptied(drawn: tuple[tuple[int, ...], int, int]) -> tuple[int, ...]:
    shape, roll, axis = drawn
    if roll != EMPTY_ODDS - 1 or not shape:  # shrinking (towards roll 0) leaves shapes whole
        return shape
    return tuple(0 if i == axis % len(shape) else n for i, n in enumerate(shape))


def broadcastable_shapes(
    num_shapes: int = 2,
    min_dims: int = 0,
    max_dims: int = 3,
    min_side: int = 1,
    max_side: int = 4,
    allow_empty: bool = True,
) -> st.SearchStrategy[tuple[tuple[int, ...], ...]]:
    """Tuples of ``num_shapes`` shapes that broadcast together (NumPy rules); with
    ``allow_empty``, about one tuple in ``EMPTY_ODDS`` has a size-0 axis in its broadcast
    shape (each shape has 0 or 1 there)."""
    base = hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes,
        min_dims=min_dims,
        max_dims=max_dims,
        min_side=min_side,
        max_side=max_side,
    ).map(lambda b: b.input_shapes)
    if not allow_empty or min_side == 0 or max_dims == 0:
        return base
    return st.tuples(base, st.integers(0, EMPTY_ODDS - 1), st.integers(0, max_dims - 1)).map(
        _emptied_together
    )


def _emptied_together(
    drawn: tuple[tuple[tuple[int, ...], ...], int, int],
) -> tuple[tuple[int, ...], ...]:
    shapes_, roll, axis = drawn
    ndim = max(len(s) for s in shapes_)
    if roll != EMPTY_ODDS - 1 or ndim == 0:
        return shapes_
    k = axis % ndim  # an axis of the broadcast shape, counted from the left
    out = []
    for s in shapes_:
        pos = len(s) - (ndim - k)
        out.append(tuple(0 if i == pos and n != 1 else n for i, n in enumerate(s)))
    return tuple(out)


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


def extreme_values(dtype: Any = dtypes.float64) -> list[float]:
    """Finite values at the edges of a floating dtype, for forward and backward checks (not
    for finite differences): +-0, the smallest subnormal and normal magnitudes, 1e-8 and 1e8,
    the square root of the largest value (its square is still finite) and the largest, each
    with both signs, and the kinks of the built-in ops (0, 1, -1, 0.5)."""
    info = np.finfo(dtypes.as_dtype(dtype))
    magnitudes = [
        float(info.smallest_subnormal),
        float(info.tiny),
        1e-8,
        1e8,
        float(np.sqrt(info.max)),
        float(info.max),
    ]
    return [0.0, -0.0, 1.0, -1.0, 0.5, *magnitudes, *(-m for m in magnitudes)]


def arrays(
    shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]],
    dtype: Any = dtypes.float64,
    min_value: float = -3.0,
    max_value: float = 3.0,
    min_magnitude: float = 0.0,
    special: Sequence[float] = (),
) -> st.SearchStrategy[np.ndarray]:
    """NumPy arrays with finite values in [min_value, max_value], and |value| >= min_magnitude
    (to keep away from a kink or pole at 0); ``special`` values (e.g. ``extreme_values()``,
    or a function's kinks) are drawn too, wherever they lie. The memory layout is drawn too,
    C or Fortran order (``ag.tensor`` keeps it): code that takes a flat reshape for a view is
    caught (gradcheck's probe and cross-entropy's gradient were)."""
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
    options = [
        st.floats(lo, hi, allow_nan=False, allow_infinity=False, width=dtype.itemsize * 8)
        for lo, hi in intervals
    ]
    if special:
        options.append(st.sampled_from([float(dtype.type(v)) for v in special]))
    values = hnp.arrays(dtype, shape, elements=st.one_of(*options))
    return st.tuples(values, st.sampled_from(["C", "F"])).map(lambda a: a[0].copy(order=a[1]))


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
