"""Property tests of every differentiable op (the table in op_cases.py).

For random shapes (0-d, size-1 axes, broadcasting pairs), axes, keepdims and float64 values:
the forward equals NumPy's; gradcheck and gradgradcheck pass against central differences;
float32 inputs give float32 outputs and float32 gradients of the inputs' shapes.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import autograd as ag
from autograd.testing import check_gradients

from .op_cases import CASES, Case

cases = pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])


def _draw(case: Case, data: st.DataObject) -> tuple[list[np.ndarray], dict]:
    xs, params = case.draw(data)
    assume(case.valid(*xs, **params))
    return xs, params


@cases
@given(data=st.data())
def test_forward_matches_numpy(case: Case, data: st.DataObject) -> None:
    xs, params = _draw(case, data)
    out = case.fn(*(ag.tensor(x) for x in xs), **params)
    expected = case.ref(*xs, **params)
    assert out.shape == np.shape(expected)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)


@cases
@given(data=st.data())
def test_gradients_first_and_second_order(case: Case, data: st.DataObject) -> None:
    xs, params = _draw(case, data)
    inputs = [ag.tensor(x, requires_grad=True) for x in xs]
    check_gradients(lambda *ts: case.fn(*ts, **params), *inputs, order=2)


@cases
@given(data=st.data())
def test_float32_in_float32_out(case: Case, data: st.DataObject) -> None:
    xs, params = _draw(case, data)
    inputs = [ag.tensor(x.astype(np.float32), requires_grad=True) for x in xs]
    out = case.fn(*inputs, **params)
    assert out.dtype == np.float32
    np.testing.assert_allclose(
        out.numpy(), case.ref(*xs, **params), rtol=case.float32_tol, atol=case.float32_tol
    )
    out.backward(ag.ones_like(out))
    for t in inputs:
        assert t.grad is not None
        assert t.grad.dtype == np.float32
        assert t.grad.shape == t.shape
