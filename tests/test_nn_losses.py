"""Losses of ``nn``: values against NumPy, gradients (first and second order) with
hypothesis-drawn batch sizes, class counts, weights and reductions, stability at extreme
logits, and the loss modules."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd as ag
import nn
from autograd.testing import arrays, check_gradients, tensors
from nn import functional as F

sizes = st.integers(1, 4)
reductions = st.sampled_from(["mean", "sum", "none"])
F64 = ag.float64


def np_reduce(losses: np.ndarray, reduction: str) -> np.ndarray:
    return {"mean": losses.mean, "sum": losses.sum}.get(reduction, lambda: losses)()


def np_cross_entropy(x: np.ndarray, t: np.ndarray, w: np.ndarray | None, reduction: str):
    """In float64 with NumPy's logaddexp: exact for any finite logits."""
    log_p = x - np.logaddexp.reduce(x, axis=1, keepdims=True)
    wt = np.ones(len(t)) if w is None else w[t]
    losses = -wt * log_p[np.arange(len(t)), t]
    if reduction == "mean":
        return losses.sum() / wt.sum()
    return np_reduce(losses, reduction)


@st.composite
def classification(draw, max_value: float = 3.0):
    """Logits (N, C) requiring grad, int64 targets, optional class weights, a reduction."""
    n, c = draw(sizes), draw(sizes)
    logits = draw(tensors((n, c), min_value=-max_value, max_value=max_value))
    target = draw(hnp.arrays(np.int64, n, elements=st.integers(0, c - 1)))
    weight = draw(st.none() | arrays((c,), min_value=0.1, max_value=2.0))
    return logits, target, weight, draw(reductions)


@given(classification())
def test_cross_entropy_values_and_gradients(case) -> None:
    logits, target, weight, reduction = case
    w = None if weight is None else ag.tensor(weight)
    t = ag.tensor(target)
    out = F.cross_entropy(logits, t, w, reduction)
    expected = np_cross_entropy(logits.numpy(), target, weight, reduction)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)
    module = nn.CrossEntropyLoss(weight=w, reduction=reduction)
    np.testing.assert_array_equal(module(logits, t).numpy(), out.numpy())
    check_gradients(lambda x: F.cross_entropy(x, t, w, reduction), logits)
    log_p = F.log_softmax(logits, axis=1)
    np.testing.assert_allclose(
        F.nll_loss(log_p, t, w, reduction).numpy(), expected, rtol=1e-12, atol=1e-12
    )
    nll = nn.NLLLoss(weight=w, reduction=reduction)
    check_gradients(lambda x: nll(x, t), logits)


@pytest.mark.parametrize("dtype", [ag.float32, ag.float64])
def test_cross_entropy_at_extreme_logits(dtype) -> None:
    x = np.array([[1e4, 0.0, -1e4], [-1e4, 1e4, 0.0], [5e3, 5e3, -1e4], [-1e4, -1e4, -1e4]])
    target = np.array([0, 2, 1, 2])
    logits = ag.tensor(x, dtype=dtype, requires_grad=True)
    loss = F.cross_entropy(logits, ag.tensor(target), reduction="none")
    # exact: logsumexp - x_t = [0, 1e4, log 2, log 3]
    expected = np.array([0.0, 1e4, np.log(2), np.log(3)])
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-6)
    assert loss.dtype == dtype
    loss.sum().backward()
    softmax = np.array([[1, 0, 0], [0, 1, 0], [0.5, 0.5, 0], [1 / 3, 1 / 3, 1 / 3]])
    onehot = np.eye(3)[target]
    assert np.isfinite(logits.grad.numpy()).all()
    np.testing.assert_allclose(logits.grad.numpy(), softmax - onehot, atol=1e-6)
    mean = F.cross_entropy(logits, ag.tensor(target))
    np.testing.assert_allclose(mean.item(), expected.mean(), rtol=1e-6)


def test_cross_entropy_is_one_node_that_frees_its_buffers() -> None:
    """The fused op keeps its log-probabilities for backward, frees them with the rest of its
    buffers after backward, and keeps them with retain_graph (two backwards: twice the grad)."""
    logits = ag.tensor([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0]], dtype=F64, requires_grad=True)
    target = ag.tensor([0, 2], dtype=ag.int64)
    loss = F.cross_entropy(logits, target)
    node = loss.grad_fn
    assert node.name == "cross_entropy" and node.edges == (logits,)
    log_p = node.saved[-1]
    np.testing.assert_allclose(log_p, F.log_softmax(logits, axis=1).numpy(), rtol=1e-15)
    loss.backward(retain_graph=True)
    once = logits.grad.numpy().copy()
    p = np.exp(log_p)
    np.testing.assert_allclose(once, (p - np.eye(3)[[0, 2]]) / 2, rtol=1e-14)
    loss.backward()
    np.testing.assert_allclose(logits.grad.numpy(), 2 * once, rtol=1e-15)
    assert node.saved is None and node.inputs == ()
    with pytest.raises(ag.GraphError, match="second time"):
        loss.backward()


def test_classification_errors() -> None:
    x = ag.randn(3, 4)
    with pytest.raises(IndexError, match=r"\[0, 4\)"):
        F.cross_entropy(x, ag.tensor([0, 4, 1], dtype=ag.int64))
    with pytest.raises(IndexError, match=r"\[0, 4\)"):
        F.cross_entropy(x, ag.tensor([0, -1, 1], dtype=ag.int64))
    with pytest.raises(ag.DTypeError, match="int64"):
        F.cross_entropy(x, ag.tensor([0.0, 1.0, 1.0]))  # floats
    with pytest.raises(ag.ShapeError, match=r"needs integer targets of shape \(3, 5\)"):
        F.cross_entropy(ag.randn(3, 4, 5), ag.tensor([0, 1, 1], dtype=ag.int64))
    with pytest.raises(ag.ShapeError, match=r"needs integer targets of shape \(3,\)"):
        F.cross_entropy(x, ag.tensor([0, 1], dtype=ag.int64))
    with pytest.raises(ag.ShapeError, match="one per class"):
        F.cross_entropy(x, [0, 1, 1], weight=[1.0, 2.0])
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(x, [0, 1, 1], reduction="avg")
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")
    assert F.cross_entropy(x, [0, 1, 3]).shape == ()  # a list of ints is fine


@given(st.tuples(sizes, sizes), reductions, st.data())
def test_mse_loss(shape, reduction: str, data) -> None:
    x, y = data.draw(tensors(shape)), data.draw(tensors(shape))
    out = F.mse_loss(x, y, reduction)
    expected = np_reduce((x.numpy() - y.numpy()) ** 2, reduction)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(nn.MSELoss(reduction)(x, y).numpy(), out.numpy())
    check_gradients(lambda a, b: F.mse_loss(a, b, reduction), x, y)
    with pytest.raises(ag.ShapeError, match="must match"):
        F.mse_loss(x, y.reshape(-1, 1, 1))


@given(st.tuples(sizes, sizes), reductions, st.booleans(), st.data())
def test_binary_cross_entropy(shape, reduction: str, weighted: bool, data) -> None:
    p = data.draw(tensors(shape, min_value=0.05, max_value=0.95))
    # targets inside (0, 1): finite differences step around them, and a target outside [0, 1]
    # is an error (as in PyTorch)
    y = data.draw(tensors(shape, min_value=0.001, max_value=0.999))
    w = data.draw(tensors(shape[1:], min_value=0.1, max_value=2.0)) if weighted else None
    out = F.binary_cross_entropy(p, y, w, reduction)
    pn, yn = p.numpy(), y.numpy()
    losses = -(yn * np.log(pn) + (1 - yn) * np.log(1 - pn)) * (1 if w is None else w.numpy())
    np.testing.assert_allclose(out.numpy(), np_reduce(losses, reduction), rtol=1e-12)
    np.testing.assert_array_equal(nn.BCELoss(w, reduction)(p, y).numpy(), out.numpy())
    check_gradients(lambda a, b: F.binary_cross_entropy(a, b, w, reduction), p, y)


def test_binary_cross_entropy_at_zero_and_one() -> None:
    p = ag.tensor([0.0, 1.0, 0.0, 1.0], dtype=F64, requires_grad=True)
    y = ag.tensor([0.0, 1.0, 1.0, 0.0], dtype=F64)
    loss = F.binary_cross_entropy(p, y, reduction="none")
    np.testing.assert_allclose(loss.numpy(), [0, 0, 100, 100], atol=1e-12)  # logs clamped
    loss.sum().backward()
    assert np.isfinite(p.grad.numpy()).all()
    with pytest.raises(ValueError, match="with_logits"):
        F.binary_cross_entropy(ag.tensor([1.5]), ag.tensor([1.0]))


def np_bce_with_logits(z, y, w, pos_weight) -> np.ndarray:
    log_p, log_q = -np.logaddexp(0, -z), -np.logaddexp(0, z)  # log sigmoid(z), log(1 - ...)
    pw = 1 if pos_weight is None else pos_weight
    return -(pw * y * log_p + (1 - y) * log_q) * (1 if w is None else w)


@given(st.tuples(sizes, sizes), reductions, st.booleans(), st.booleans(), st.data())
def test_bce_with_logits(shape, reduction: str, weighted: bool, pos: bool, data) -> None:
    z = data.draw(tensors(shape, min_value=-10, max_value=10))
    y = data.draw(tensors(shape, min_value=0.0, max_value=1.0))
    c = shape[1]
    w = data.draw(tensors((c,), min_value=0.1, max_value=2.0)) if weighted else None
    pw = data.draw(tensors((c,), min_value=0.1, max_value=3.0)) if pos else None
    out = F.binary_cross_entropy_with_logits(z, y, w, reduction, pw)
    expected = np_bce_with_logits(
        z.numpy(), y.numpy(), None if w is None else w.numpy(), None if pw is None else pw.numpy()
    )
    np.testing.assert_allclose(out.numpy(), np_reduce(expected, reduction), rtol=1e-10)
    np.testing.assert_array_equal(nn.BCEWithLogitsLoss(w, reduction, pw)(z, y).numpy(), out.numpy())
    inputs = [z, y] + [t for t in (w, pw) if t is not None]

    def fn(z, y, *rest):
        rest = list(rest)
        wt = rest.pop(0) if w is not None else None
        pwt = rest.pop(0) if pw is not None else None
        return F.binary_cross_entropy_with_logits(z, y, wt, reduction, pwt)

    check_gradients(fn, *inputs)


@pytest.mark.parametrize("dtype", [ag.float32, ag.float64])
def test_bce_with_logits_at_extreme_logits(dtype) -> None:
    z = ag.tensor([1e4, -1e4, 1e4, -1e4, 0.0], dtype=dtype, requires_grad=True)
    y = ag.tensor([1.0, 0.0, 0.0, 1.0, 1.0], dtype=dtype)
    loss = F.binary_cross_entropy_with_logits(z, y, reduction="none")
    np.testing.assert_allclose(loss.numpy(), [0, 0, 1e4, 1e4, np.log(2)], rtol=1e-6)
    loss.sum().backward()
    np.testing.assert_allclose(z.grad.numpy(), [0, 0, 1, -1, -0.5], atol=1e-7)
