"""ArrayMath's fast paths: the select has the same bits as ``np.where`` for every float dtype,
layout and value (NaN, inf, -0.0, subnormals), with and without a buffer to write into; max
and log_softmax along short rows, by columns, equal the row formulas; relu against an array of
zeros has np.maximum(x, 0)'s bits."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd as ag
from autograd import backward_math
from autograd.backend import backend_of
from autograd.ops import elementwise
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


def short_rows(data, dtype, lead, n):
    """An array of rows of n values (NaN, inf, -0.0 among them), about half of the draws with
    enough rows for the column path, C-ordered or with Fortran-ordered rows."""
    rows = int(np.prod(lead))
    lead = [rows + backward_math.SHORT_ROWS, *lead[1:]] if data.draw(st.booleans()) else lead
    extremes = st.sampled_from([np.nan, np.inf, -np.inf, 0.0, -0.0])
    elements = st.floats(-1e3, 1e3, width=16) | extremes
    a = data.draw(hnp.arrays(dtype, (*lead, n), elements=elements))
    if data.draw(st.booleans()):
        a = np.ascontiguousarray(np.swapaxes(a, -1, -2)).swapaxes(-1, -2)  # F-ordered rows
    return a


ROWS = dict(
    dtype=st.sampled_from([np.float16, np.float32, np.float64]),
    lead=st.lists(st.integers(1, 40), min_size=1, max_size=2),
    n=st.integers(1, backward_math.SHORT_ROWS + 2),
    data=st.data(),
)


@given(**ROWS)
def test_max_along_short_rows_equals_numpys(dtype, lead, n, data):
    """max_shift's column-wise max of short rows (logits (N, C)) has a.max's values (0 where
    not finite, a zero maximum +0.0 whichever zero a.max picks), NaN and inf included, on
    C-ordered and transposed layouts; the columns are a fresh copy, made exactly for the
    shapes the path is for."""
    a = short_rows(data, dtype, lead, n)
    before = a.copy()
    columns = backward_math._short_rows_columns(a, a.ndim - 1)
    fits = n <= backward_math.SHORT_ROWS and a.size // n >= backward_math.SHORT_ROWS
    assert (columns is not None) == fits
    if fits:
        assert columns.flags.c_contiguous and not np.shares_memory(columns, a)
        columns[...] = 7  # log_softmax writes into it: never into the caller's array
        assert same_bits(a, before)
    c = a.max(axis=-1, keepdims=True)
    expected = np.where(np.isfinite(c), c, 0) + 0  # -0.0 + 0 = +0.0
    got = M.max_shift(a, a.ndim - 1)
    assert same_bits(got, expected)


@pytest.mark.parametrize("rows", [4, backward_math.SHORT_ROWS + 1])  # by rows, by columns
def test_a_zero_maximum_shifts_by_plus_zero(rows):
    """Rows whose maximum is a zero, both zeros present in either order or -0.0 alone: the
    shift is +0.0 on every path (NumPy's max of a row with both zeros returns either, by
    SIMD path and layout), so a shifted -0.0 stays -0.0 and +0.0 stays +0.0."""
    a = np.tile(np.array([[-0.0, 0.0, -1.0], [0.0, -0.0, -2.0], [-0.0, -0.0, -1.0]]), (rows, 1))
    for x in (a, np.asfortranarray(a), a.astype(np.float32)):
        shift = M.max_shift(x, 1)
        assert same_bits(shift, np.zeros((len(x), 1), x.dtype))
        got = M.log_softmax(x, 1)
        expected = x - np.log(np.exp(x).sum(axis=1, keepdims=True))  # no shift needed here
        assert same_bits(np.signbit(got), np.signbit(expected))
        np.testing.assert_allclose(got, expected, rtol=4 * np.finfo(x.dtype).eps)


@given(**ROWS)
def test_log_softmax_along_short_rows_equals_the_row_formula(dtype, lead, n, data):
    """log_softmax by columns (short rows) gives the row formula's values: NaN, inf and -inf
    at the same places, the rest within the effect of adding the n terms of each row's sum
    in another order (at most 2 (n - 1) eps in the log, eps of the dtype); the input is
    left alone, the result of its shape and dtype (C-ordered by columns); float16 keeps the
    row formula (NumPy sums its rows in float32)."""
    a = short_rows(data, dtype, lead, n)
    before = a.copy()
    with np.errstate(all="ignore"):  # log(0), inf - inf, a float16 sum past 65504
        got = M.log_softmax(a, a.ndim - 1)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(backward_math, "SHORT_ROWS", -1)  # every shape by rows
            expected = M.log_softmax(a, a.ndim - 1)
    assert same_bits(a, before)
    assert got.shape == a.shape and got.dtype == a.dtype
    by_columns = backward_math._short_rows_columns(a, a.ndim - 1) is not None
    if by_columns and dtype != np.float16:
        assert got.flags.c_contiguous  # by columns: made C-ordered, whatever a's layout
    if dtype == np.float16:  # by rows: the same bits as the row formula
        assert same_bits(got, expected)
    finite = np.isfinite(expected)
    assert same_bits(finite, np.isfinite(got))
    assert same_bits(got[~finite], expected[~finite])
    eps = float(np.finfo(dtype).eps)
    np.testing.assert_allclose(got[finite], expected[finite], rtol=0, atol=2 * (n - 1) * eps)


@given(
    data=st.data(),
    shape=shapes(),
    dtype=st.sampled_from([np.float16, np.float32, np.float64]),
    layout=st.sampled_from(["c", "transposed", "strided"]),
    into=st.booleans(),
)
def test_relu_against_zeros_is_maximum_with_0_bit_for_bit(data, shape, dtype, layout, into):
    """relu's forward takes np.maximum against a read-only array of zeros (the shared buffer,
    viewed in x's shape) from ZEROS_OPERAND_SIZES[0] elements: the bits of np.maximum(x, 0),
    NaN, inf, -0.0 and subnormals included, in any layout, written into a buffer or not;
    the buffer is never written."""
    x = data.draw(hnp.arrays(dtype, shape, elements=st.floats(width=np.dtype(dtype).itemsize * 8)))
    if layout == "transposed":
        x = x.T
    elif layout == "strided" and x.ndim:
        x = x[..., ::2]
    expected = np.maximum(x, 0)
    buffer = np.full(x.shape, 7, dtype) if into else None
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(elementwise, "ZEROS_OPERAND_SIZES", (1, 1 << 22))  # always, if not 0-d
        zero = elementwise.zeros_operand(x)
        got = elementwise.ReLU().forward(x, buffer)
    assert same_bits(got, expected)
    if x.size:
        assert not zero.flags.writeable and not zero.any() and zero.shape == x.shape
        assert not np.shares_memory(got, zero)


def test_the_zeros_operand_grows_and_stays_in_its_range():
    lo, hi = elementwise.ZEROS_OPERAND_SIZES
    assert elementwise.zeros_operand(np.ones(lo - 1, np.float32)) == 0  # the scalar below
    assert elementwise.zeros_operand(np.ones(hi + 1, np.float32)) == 0  # and above
    assert elementwise.zeros_operand(np.ones(lo, np.int64)) == 0  # not a float
    small = elementwise.zeros_operand(np.ones((16, 20), np.float32))
    large = elementwise.zeros_operand(np.ones((300, 7), np.float32))
    assert small.shape == (16, 20) and large.shape == (300, 7) and not large.any()
    assert elementwise._zeros[np.dtype(np.float32)].size >= 2100
    x = ag.Tensor(np.linspace(-1, 1, 1024).reshape(32, 32), requires_grad=True)
    ag.relu(x).sum().backward()
    assert same_bits(x.grad.data, (x.data > 0).astype(x.data.dtype))


SPECIALS = [-0.0, 0.0, 1.5, -2.0, np.nan, -np.nan, np.inf, -np.inf, 5e-324, -5e-324]


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
@pytest.mark.parametrize("x", SPECIALS)
@pytest.mark.parametrize("g", [2.5, -1.0, -0.0, np.nan, np.inf])
def test_relu_of_a_scalar_is_maximum_and_where(dtype, x, g):
    """relu on float32/64 scalars (the scalar engine) tests in Python instead of calling
    np.maximum and np.where (2.3 and 5.5 us a call): the same values and bits (NaN passed
    with its sign, +0.0 for -0.0, where's +0.0 for a dropped gradient), of the scalar's type;
    other scalars (float16, whose maximum keeps -0.0) and 0-d arrays take the ufuncs."""
    with np.errstate(all="ignore"):
        x, g = dtype(x), dtype(g)
    relu = elementwise.ReLU()
    out = relu.forward(x)
    expected = np.maximum(x, 0)
    assert type(out) is type(expected) and same_bits(np.asarray(out), np.asarray(expected))
    grad = relu.backward(M, g, out)
    expected = np.where(expected != 0, g, 0)
    assert np.asarray(grad).dtype == expected.dtype and same_bits(np.asarray(grad), expected)
    zero_d = relu.forward(np.array(x))
    assert same_bits(np.asarray(zero_d), np.asarray(np.maximum(np.array(x), 0)))
