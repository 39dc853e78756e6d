"""Property tests of every differentiable op (the table in op_cases.py), on every device.

For random shapes (0-d, size-1 axes, broadcasting pairs), axes, keepdims and float64 values:
the forward equals NumPy's; gradcheck and gradgradcheck pass against central differences;
float32 inputs give float32 outputs and float32 gradients of the inputs' shapes, within
float32's precision of the float64 results on the CPU (so a GPU's float32 results, whose sums
are not bitwise NumPy's, are compared with the CPU's).

Every test runs on each device of devices.py (the ``device`` fixture): the CPU, the fake device
(the conformance backend standing in for CuPy) and CUDA where there is one. Off the CPU, every
result and every gradient, first and second order, must be an array of that device's backend,
on that device.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import autograd as ag
from autograd.testing import check_gradients

from .devices import assert_on, to_device
from .op_cases import CASES, Case

cases = pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])


def _draw(case: Case, data: st.DataObject) -> tuple[list[np.ndarray], dict]:
    xs, params = case.draw(data)
    assume(case.valid(*xs, **params))
    return xs, params


def _op(case: Case, params: dict, device: str):
    """The case's op with its array parameters on ``device``."""
    params = params if device == "cpu" else to_device(params, device)
    return lambda *ts: case.fn(*ts, **params)


@cases
@given(data=st.data())
def test_forward_matches_numpy(device: str, case: Case, data: st.DataObject) -> None:
    xs, params = _draw(case, data)
    out = _op(case, params, device)(*(ag.tensor(x, device=device) for x in xs))
    assert_on(out, device, f"{case.name}: the result")
    expected = case.ref(*xs, **params)
    assert out.shape == np.shape(expected)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.cpu().numpy(), expected, rtol=1e-12, atol=1e-12)


@cases
@given(data=st.data())
def test_gradients_first_and_second_order(device: str, case: Case, data: st.DataObject) -> None:
    xs, params = _draw(case, data)
    inputs = [ag.tensor(x, requires_grad=True, device=device) for x in xs]
    fn = _op(case, params, device)
    check_gradients(fn, *inputs, order=2)
    if device != "cpu":
        _check_gradients_live_on(device, case.name, fn, inputs)


def _check_gradients_live_on(device: str, name: str, fn, inputs: list[ag.Tensor]) -> None:
    """First and second order gradients, by ``grad`` and by ``backward``, are on ``device``."""
    out = fn(*inputs)
    v = ag.randn_like(out)
    assert_on(v, device, "randn_like")
    firsts = ag.grad(out, inputs, v, create_graph=True, allow_unused=True)
    for i, g in enumerate(firsts):
        if g is not None:
            assert_on(g, device, f"{name}: the gradient of input {i}")
    s = sum((g * g).sum() for g in firsts if g is not None and g.requires_grad)
    if isinstance(s, ag.Tensor):
        for i, g in enumerate(ag.grad(s, inputs, allow_unused=True)):
            if g is not None:
                assert_on(g, device, f"{name}: the second-order gradient of input {i}")
    fn(*inputs).backward(v)
    for i, t in enumerate(inputs):
        assert_on(t.grad, device, f"{name}: .grad of input {i} after backward")


@cases
@given(data=st.data())
def test_float32_in_float32_out(device: str, case: Case, data: st.DataObject) -> None:
    xs, params = _draw(case, data)
    inputs = [ag.tensor(x.astype(np.float32), requires_grad=True, device=device) for x in xs]
    out = _op(case, params, device)(*inputs)
    assert out.dtype == np.float32
    assert_on(out, device, f"{case.name}: the float32 result")
    tol = case.float32_tol
    np.testing.assert_allclose(out.cpu().numpy(), case.ref(*xs, **params), rtol=tol, atol=tol)
    out.backward(ag.ones_like(out))
    exact = [ag.tensor(x, requires_grad=True) for x in xs]  # float64 on the CPU
    case.fn(*exact, **params).sum().backward()
    for t, e in zip(inputs, exact):
        assert t.grad is not None
        assert t.grad.dtype == np.float32
        assert t.grad.shape == t.shape
        assert_on(t.grad, device, f"{case.name}: a float32 gradient")
        np.testing.assert_allclose(t.grad.cpu().numpy(), e.grad.numpy(), rtol=tol, atol=tol)
