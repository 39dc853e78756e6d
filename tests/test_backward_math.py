"""ArrayMath's fast select: the same bits as ``np.where`` for every float dtype, layout and
value (NaN, inf, -0.0, subnormals), with and without a buffer to write into."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd import backward_math
from autograd.backend import backend_of
from autograd.testing import shapes

M = backend_of(np.zeros(1)).math


def same_bits(a, b):
    return (
        a.dtype == b.dtype
        and a.shape == b.shape
        and np.array_equal(
            np.ascontiguousarray(a).view(np.uint8), np.ascontiguousarray(b).view(np.uint8)
        )
    )


@given(
    data=st.data(),
    shape=shapes(),
    dtype=st.sampled_from([np.float16, np.float32, np.float64]),
    layout=st.sampled_from(["c", "transposed", "strided"]),
    zero_first=st.booleans(),
    into=st.booleans(),
)
def test_where_with_a_zero_side_is_np_where_bit_for_bit(
    data, shape, dtype, layout, zero_first, into
):
    g = data.draw(hnp.arrays(dtype, shape, elements=st.floats(width=np.dtype(dtype).itemsize * 8)))
    cond = data.draw(hnp.arrays(np.bool_, shape))
    if layout == "transposed":
        g, cond = g.T, cond.T
    elif layout == "strided" and g.ndim:
        g, cond = g[..., ::2], cond[..., ::2]
    x, y = (0, g) if zero_first else (g, 0)
    expected = np.where(cond, x, y)
    buffer = np.full(g.shape, 7, dtype) if into else None
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(backward_math, "SELECT_BY_MASK_FROM", 0)  # the bitwise select, always
        result = M.where(cond, x, y, buffer)
    assert same_bits(result, expected)
    if into and g.size:  # written into the buffer, not a new array
        assert np.shares_memory(result, buffer)


def test_where_keeps_its_general_form():
    cond = np.array([True, False, True])
    assert same_bits(M.where(cond, 1.5, np.arange(3.0)), np.array([1.5, 1.0, 1.5]))
    ints = np.arange(3)
    assert same_bits(M.where(cond, 0, ints), np.where(cond, 0, ints))  # not a float: np.where
    assert same_bits(M.where(np.bool_(True), 0, np.float64(2.0)), np.where(True, 0, 2.0))


def test_large_arrays_take_the_bitwise_select(monkeypatch):
    g = np.arange(-5000.0, 5000.0, dtype=np.float32)
    cond = g > 0
    monkeypatch.setattr(M, "_where", None)  # np.where is not called
    assert same_bits(M.where(cond, g, 0), np.where(cond, g, 0))


@given(
    dtype=st.sampled_from([np.float16, np.float32, np.float64]),
    lead=st.lists(st.integers(1, 40), min_size=1, max_size=2),
    n=st.integers(1, backward_math.SHORT_ROWS + 2),
    data=st.data(),
)
def test_max_along_short_rows_equals_numpys(dtype, lead, n, data):
    """max_shift's column-wise max of short rows (logits (N, C)) has a.max's values, NaN and
    inf included, on C-ordered and transposed layouts; shapes it does not fit keep a.max."""
    rows = int(np.prod(lead))
    lead = [rows + backward_math.SHORT_ROWS, *lead[1:]] if data.draw(st.booleans()) else lead
    extremes = st.sampled_from([np.nan, np.inf, -np.inf, 0.0, -0.0])
    elements = st.floats(-1e3, 1e3, width=16) | extremes
    a = data.draw(hnp.arrays(dtype, (*lead, n), elements=elements))
    if data.draw(st.booleans()):
        a = np.ascontiguousarray(np.swapaxes(a, -1, -2)).swapaxes(-1, -2)  # F-ordered rows
    expected = a.max(axis=-1, keepdims=True)
    got = backward_math._short_rows_max(a, a.ndim - 1)
    fits = n <= backward_math.SHORT_ROWS and a.size // n >= backward_math.SHORT_ROWS
    assert (got is not None) == fits
    if fits:
        assert got.shape == expected.shape and got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)  # equal values; NaN where NaN
