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

import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd as ag
from autograd.backend import backend_of
from autograd.errors import ArraygradError
from autograd.testing import check_gradients, extreme_values

from .devices import assert_on, to_device
from .op_cases import CASES, Case

cases = pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])


def _draw(case: Case, data: st.DataObject, defined: bool = True) -> tuple[list[np.ndarray], dict]:
    """Valid inputs of the case; ``defined``: only where NumPy's reference has a value (not
    where it raises, as max of an empty slice does)."""
    xs, params = case.draw(data)
    assume(case.valid(*xs, **params))
    if defined:
        assume(not isinstance(_reference(case, xs, params), Exception))
    return xs, params


def _reference(case: Case, xs: list[np.ndarray], params: dict) -> Any:
    """NumPy's result, or the error NumPy raises (ValueError, IndexError); NumPy's warnings
    (the mean of an empty slice, log(0)) are silenced: its value (nan, -inf) is the check."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            return case.ref(*xs, **params)
        except (ValueError, IndexError, ZeroDivisionError) as e:
            return e


def _op(case: Case, params: dict, device: str):
    """The case's op with its array parameters on ``device``."""
    params = params if device == "cpu" else to_device(params, device)
    return lambda *ts: case.fn(*ts, **params)


@cases
@given(data=st.data())
def test_forward_matches_numpy(device: str, case: Case, data: st.DataObject) -> None:
    xs, params = _draw(case, data, defined=False)
    expected = _reference(case, xs, params)
    if isinstance(expected, Exception):  # e.g. max of an empty slice: our own clear error
        with pytest.raises(ArraygradError):
            _op(case, params, device)(*(ag.tensor(x, device=device) for x in xs))
        return
    out = _op(case, params, device)(*(ag.tensor(x, device=device) for x in xs))
    assert_on(out, device, f"{case.name}: the result")
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
    np.testing.assert_allclose(out.cpu().numpy(), _reference(case, xs, params), rtol=tol, atol=tol)
    out.backward(ag.ones_like(out))
    exact = [ag.tensor(x, requires_grad=True) for x in xs]  # float64 on the CPU
    case.fn(*exact, **params).sum().backward()
    for t, e in zip(inputs, exact):
        assert t.grad is not None
        assert t.grad.dtype == np.float32
        assert t.grad.shape == t.shape
        assert_on(t.grad, device, f"{case.name}: a float32 gradient")
        np.testing.assert_allclose(t.grad.cpu().numpy(), e.grad.numpy(), rtol=tol, atol=tol)


# ---------------------------------------------------------------- values at the edges
EXTREME_EXAMPLES = max(5, settings.default.max_examples // 3)  # a third of the profile's
EXTREMES = extreme_values(np.float64)


def _with_extremes(data: st.DataObject, x: np.ndarray, i: int) -> np.ndarray:
    """x with some elements replaced by extreme values (+-0, subnormals, huge, kinks)."""
    if x.size == 0:
        return x
    mask = data.draw(hnp.arrays(np.bool_, x.shape), f"extreme mask {i}")
    values = data.draw(
        hnp.arrays(np.float64, x.shape, elements=st.sampled_from(EXTREMES)), f"extremes {i}"
    )
    return np.where(mask, values, x)


@cases
@settings(max_examples=EXTREME_EXAMPLES)
@given(data=st.data())
def test_extreme_values(case: Case, data: st.DataObject) -> None:
    """At +-0, subnormal, huge and kink values (CPU, float64): where NumPy's result is finite
    ours equals it, and where the inputs and our output are all finite no gradient is NaN.
    NumPy's floating-point warnings are silenced here: values are what is checked."""
    xs, params = _draw(case, data)
    xs = [_with_extremes(data, x, i) for i, x in enumerate(xs)]
    expected = _reference(case, xs, params)
    assume(not isinstance(expected, Exception))
    inputs = [ag.tensor(x, requires_grad=True) for x in xs]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        out = case.fn(*inputs, **params)
        got = np.asarray(out.detach().numpy())
        expected = np.asarray(expected)
        assert got.shape == expected.shape
        finite = np.isfinite(expected)
        # Sums of huge terms of both signs depend on the order of summation, by up to about
        # n eps sum|terms|: the absolute tolerance scales with the inputs' size and magnitude.
        n = max(x.size for x in xs)
        scale = max((float(np.abs(x).max()) for x in xs if x.size), default=0.0)
        atol = 1e-12 * max(1.0, n * scale)
        np.testing.assert_allclose(got[finite], expected[finite], rtol=1e-12, atol=atol)
        v = ag.tensor(np.random.default_rng(0).standard_normal(out.shape))
        grads = ag.grad(out, inputs, v, allow_unused=True)
    # No NaN gradient where the result is finite and the inputs are moderate (0 or magnitudes
    # in [1e-100, 1e100], so that no product or quotient of two of them, nor a sum of such,
    # overflows: an overflow's inf - inf is NaN in any library) and in the function's domain.
    moderate = all(((x == 0) | ((np.abs(x) >= 1e-100) & (np.abs(x) <= 1e100))).all() for x in xs)
    if np.isfinite(got).all() and moderate and case.domain(*xs, **params):
        both = _infinities_of_both_signs(case, xs, params, out, v)
        for i, (g, x) in enumerate(zip(grads, xs)):
            if g is not None:
                assert g.shape == x.shape and g.dtype == x.dtype
                bad = np.isnan(g.numpy()) & ~both[i]
                assert not bad.any(), f"{case.name}: NaN gradient of input {i} at {x[bad]}"


def _infinities_of_both_signs(
    case: Case, xs: list[np.ndarray], params: dict, out: ag.Tensor, v: ag.Tensor
) -> list[np.ndarray]:
    """For each input of an elementwise op, where its gradient sums terms of +inf and -inf
    over the axes it was broadcast along (an infinite derivative, y 0^(y-1) at a pole, times
    upstream values of both signs): NaN there in any library (PyTorch's too). The terms are
    the gradients of the inputs broadcast to the output's shape, where the op gives the same
    output on those (else, not elementwise: all False)."""
    none = [np.zeros(x.shape, bool) for x in xs]
    try:
        full = [np.broadcast_to(x, out.shape).copy() for x in xs]
    except ValueError:
        return none
    inputs = [ag.tensor(x, requires_grad=True) for x in full]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        try:  # an op that is not elementwise may refuse inputs of the output's shape
            again = case.fn(*inputs, **params)
        except (ArraygradError, IndexError, TypeError, ValueError):
            return none
        if again.shape != out.shape or not np.array_equal(
            again.detach().numpy(), out.detach().numpy(), equal_nan=True
        ):
            return none
        terms = ag.grad(again, inputs, v, allow_unused=True)
    both = []
    for x, t in zip(xs, terms):
        if t is None:
            both.append(np.zeros(x.shape, bool))
            continue
        t = t.numpy()
        m = backend_of(t).math  # its sum_to: the engine's broadcasting reduction
        both.append((m.sum_to(t == np.inf, x.shape) > 0) & (m.sum_to(t == -np.inf, x.shape) > 0))
    return both
