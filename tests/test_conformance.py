"""Conformance at the edges (issue #15): kinks, saturated and empty inputs, label types, error
hints, higher-order gradients of piecewise-linear functions, and the PyTorch forms of
cross_entropy. Each behaviour is checked against a closed form or NumPy; where PyTorch is
installed, against PyTorch too (those tests skip without it)."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd as ag
import nn
from autograd.backend import backend_of
from autograd.errors import ArraygradError, DeviceError, DTypeError, ShapeError
from autograd.testing import arrays, check_gradients, extreme_values, shapes
from nn import functional as F

from .devices import assert_on

F64, F32 = ag.float64, ag.float32


def t64(values: Any, requires_grad: bool = True) -> ag.Tensor:
    return ag.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def grad_of(fn, *xs: ag.Tensor) -> tuple[np.ndarray, ...]:
    return tuple(g.detach().numpy() for g in ag.grad(fn(*xs), xs))


def _torch():
    return pytest.importorskip("torch")


# =========================================================================== 1. std at 0
def test_std_gradient_is_zero_where_the_spread_is_zero() -> None:
    x = ag.tensor([2.0, 2.0, 2.0], dtype=F64, requires_grad=True)
    x.std().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0])


@pytest.mark.parametrize("ddof", [0, 1])
def test_std_rows_constant_and_spread_first_and_second_order(ddof: int) -> None:
    data = np.array([[1.5, 1.5, 1.5, 1.5], [1.0, 2.0, 4.0, 7.0]])
    x = t64(data)
    (g,) = ag.grad(ag.std(x, axis=1, ddof=ddof).sum(), x, create_graph=True)
    spread = data[1]
    s = np.sqrt(((spread - spread.mean()) ** 2).sum() / (4 - ddof))
    expected = np.vstack([np.zeros(4), (spread - spread.mean()) / ((4 - ddof) * s)])
    np.testing.assert_allclose(g.detach().numpy(), expected, rtol=1e-13, atol=0)
    assert g.requires_grad
    (h,) = ag.grad((g * g).sum(), x)
    h = h.numpy()
    np.testing.assert_array_equal(h[0], np.zeros(4))  # second order 0 on the constant row
    assert np.isfinite(h[1]).all()
    # the non-constant row's second derivative against finite differences
    check_gradients(lambda v: ag.std(v, axis=1, ddof=ddof), t64(data[1:]), order=2)


def test_std_dead_unit_does_not_turn_a_weight_column_nan() -> None:
    """A unit that is always 0 (a dead relu) under a std term: its weights get gradient 0."""
    layer = nn.Linear(3, 2, dtype=F64, generator=ag.Generator().manual_seed(0))
    x = ag.tensor(np.random.default_rng(1).standard_normal((5, 3)), dtype=F64)
    with ag.no_grad():
        layer.bias.data[...] = np.array([-100.0, 0.0])  # unit 0 is dead for these inputs
    h = ag.relu(layer(x))
    h.std(axis=0).sum().backward()
    assert np.isfinite(layer.weight.grad.numpy()).all()
    np.testing.assert_array_equal(layer.weight.grad.numpy()[0], np.zeros(3))


@given(
    hnp.arrays(
        np.float64, st.tuples(st.integers(1, 3), st.integers(2, 4)), elements=st.floats(-3, 3)
    ),
    st.data(),
)
def test_std_gradient_property(x: np.ndarray, data: st.DataObject) -> None:
    """Rows made constant get gradient 0; the others equal the closed form."""
    constant = data.draw(hnp.arrays(np.bool_, x.shape[0]), "constant rows")
    x = np.where(constant[:, None], x[:, :1], x)
    ddof = data.draw(st.sampled_from([0, 1]), "ddof")
    (g,) = grad_of(lambda v: ag.std(v, axis=1, ddof=ddof).sum(), t64(x))
    d = x - x.mean(axis=1, keepdims=True)
    s = np.sqrt((d * d).sum(axis=1, keepdims=True) / (x.shape[1] - ddof))
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = np.where(s == 0, 0.0, d / ((x.shape[1] - ddof) * s))
    np.testing.assert_allclose(g, expected, rtol=1e-12, atol=1e-300)


def test_std_matches_torch_at_zero_spread() -> None:
    torch = _torch()
    data = np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]])
    xt = torch.tensor(data, requires_grad=True)
    (gt,) = torch.autograd.grad(xt.std(dim=1).sum(), xt, create_graph=True)
    (ht,) = torch.autograd.grad((gt * gt).sum(), xt)
    x = t64(data)
    (g,) = ag.grad(ag.std(x, dim=1).sum(), x, create_graph=True)
    (h,) = ag.grad((g * g).sum(), x)
    np.testing.assert_allclose(g.detach().numpy(), gt.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(h.numpy(), ht.numpy(), rtol=1e-10, atol=1e-12)


# ==================================================== 2. binary_cross_entropy, saturated
def _bce_closed_form(p: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PyTorch's definition: logs clamped at -100; d/dp = (p - y) / max(p (1 - p), 1e-12);
    d/dy = log(1 - p) - log(p) with the clamped logs (computed in p's dtype)."""
    dt = p.dtype.type
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(p), dt(-100))
        log_q = np.maximum(np.log1p(-p), dt(-100))
    loss = -(y * log_p + (1 - y) * log_q)
    gp = (p - y) / np.maximum((1 - p) * p, dt(1e-12))
    return loss, gp, log_q - log_p


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binary_cross_entropy_saturated_closed_forms(dtype) -> None:
    p_np = np.array([0.0, 1e-30, 1e-7, 0.5, 1.0, 1 - 1e-7, 1.0, 0.0], dtype=dtype)
    y_np = np.array([1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0], dtype=dtype)
    p = ag.tensor(p_np, requires_grad=True)
    y = ag.tensor(y_np, requires_grad=True)
    loss = F.binary_cross_entropy(p, y, reduction="none")
    loss.backward(ag.ones_like(loss))
    want_loss, want_gp, want_gy = _bce_closed_form(p_np, y_np)
    assert loss.dtype == dtype and p.grad.dtype == dtype
    np.testing.assert_array_equal(loss.detach().numpy()[[0, 4]], [100.0, 100.0])  # both dtypes
    np.testing.assert_allclose(
        loss.detach().numpy(), want_loss, rtol=1e-6 if dtype == np.float32 else 1e-14
    )
    np.testing.assert_allclose(p.grad.numpy(), want_gp, rtol=1e-6 if dtype == np.float32 else 1e-14)
    np.testing.assert_allclose(y.grad.numpy(), want_gy, rtol=1e-6 if dtype == np.float32 else 1e-14)
    # the signal survives at p = 0, y = 1: about -1e12, not 0; and p = 1e-30 is not -1e30
    assert -1e13 < p.grad.numpy()[0] < -1e11 and -1e13 < p.grad.numpy()[1] < -1e11
    np.testing.assert_allclose(
        loss.detach().numpy()[1],
        -math.log(1e-30) if dtype == np.float64 else -np.log(np.float32(1e-30)),
        rtol=1e-6,
    )


def test_binary_cross_entropy_mean_weight_and_second_order() -> None:
    p_np, y_np = np.array([0.2, 0.7, 0.999]), np.array([1.0, 0.0, 0.5])
    w = np.array([0.5, 2.0, 1.0])
    p = t64(p_np)
    loss = F.binary_cross_entropy(p, ag.tensor(y_np, dtype=F64), weight=ag.tensor(w, dtype=F64))
    want_loss, want_gp, _ = _bce_closed_form(p_np, y_np)
    np.testing.assert_allclose(loss.item(), (w * want_loss).mean(), rtol=1e-14)
    loss.backward()
    np.testing.assert_allclose(p.grad.numpy(), w * want_gp / 3, rtol=1e-14)
    check_gradients(
        lambda a, b: F.binary_cross_entropy(a, b, reduction="sum"), t64(p_np), t64([0.9, 0.1, 0.5])
    )


@pytest.mark.parametrize("bad", [math.nan, -0.1, 1.5])
def test_binary_cross_entropy_rejects_nan_and_out_of_range(bad: float) -> None:
    with pytest.raises(ValueError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(ag.tensor([0.5, bad]), ag.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="all elements of target should be between 0 and 1"):
        F.binary_cross_entropy(ag.tensor([0.5, 0.5]), ag.tensor([1.0, bad]))
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.BCELoss()(ag.tensor([bad]), ag.tensor([1.0]))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_binary_cross_entropy_matches_torch(dtype: str) -> None:
    torch = _torch()
    p_np = np.array([0.0, 1e-30, 1e-7, 0.3, 0.5, 1.0, 1 - 1e-7, 1.0], dtype=dtype)
    y_np = np.array([1.0, 1.0, 1.0, 0.25, 1.0, 0.0, 0.0, 1.0], dtype=dtype)
    pt = torch.tensor(p_np, requires_grad=True)
    yt = torch.tensor(y_np)
    lt = torch.nn.functional.binary_cross_entropy(pt, yt, reduction="none")
    lt.sum().backward()
    p = ag.tensor(p_np, requires_grad=True)
    loss = F.binary_cross_entropy(p, ag.tensor(y_np), reduction="none")
    loss.sum().backward()
    np.testing.assert_allclose(loss.detach().numpy(), lt.detach().numpy(), rtol=1e-6)
    # PyTorch's eps is the float32 1e-12 even in float64 (a relative 4e-9 from 1e-12)
    np.testing.assert_allclose(p.grad.numpy(), pt.grad.numpy(), rtol=1e-6)


# ======================================================= 3. class labels must be integers
LOGITS = np.arange(6.0).reshape(2, 3) / 7


@pytest.mark.parametrize(
    "target",
    [
        [0.7, 1.9],
        np.array([0.7, 1.9]),
        np.array([0.0, 1.0]),
        [True, False],
        np.array([True, False]),
        "tensor-float",
        "tensor-bool",
    ],
    ids=[
        "float-list",
        "float-array",
        "whole-float-array",
        "bool-list",
        "bool-array",
        "float-tensor",
        "bool-tensor",
    ],
)
@pytest.mark.parametrize(
    "loss",
    [
        F.cross_entropy,
        F.nll_loss,
        lambda x, t: nn.CrossEntropyLoss()(x, t),
        lambda x, t: nn.NLLLoss()(x, t),
    ],
    ids=["cross_entropy", "nll_loss", "CrossEntropyLoss", "NLLLoss"],
)
def test_class_labels_must_be_integers(loss, target: Any) -> None:
    if isinstance(target, str) and target == "tensor-float":
        target = ag.tensor([0.7, 1.9])
    elif isinstance(target, str):
        target = ag.tensor([True, False])
    with pytest.raises(DTypeError, match="targets must be integer class indices"):
        loss(ag.tensor(LOGITS), target)


@pytest.mark.parametrize(
    "target", [[2, 0], np.array([2, 0]), np.array([2, 0], dtype=np.int32), (2, 0)]
)
def test_integer_labels_of_any_origin_are_accepted(target: Any) -> None:
    x = ag.tensor(LOGITS, dtype=F64)
    log_p = LOGITS - np.log(np.exp(LOGITS).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(
        F.cross_entropy(x, target).item(), -(log_p[0, 2] + log_p[1, 0]) / 2, rtol=1e-14
    )
    np.testing.assert_allclose(
        F.nll_loss(x, target).item(), -(LOGITS[0, 2] + LOGITS[1, 0]) / 2, rtol=1e-14
    )


def test_unbatched_scalar_labels() -> None:
    x = ag.tensor(LOGITS[0], dtype=F64)
    log_p = LOGITS[0] - np.log(np.exp(LOGITS[0]).sum())
    for label in (2, np.int64(2), ag.tensor(2, dtype=ag.int64)):
        np.testing.assert_allclose(F.cross_entropy(x, label).item(), -log_p[2], rtol=1e-14)
    for label in (2.0, np.float64(2.0), True, np.bool_(True)):
        with pytest.raises(DTypeError, match="integer class indices"):
            F.cross_entropy(x, label)


# ====================================================================== 5. split
def test_split_negative_index_follows_numpy() -> None:
    x = ag.tensor([1.0, 2.0, 3.0, 4.0])
    parts = ag.split(x, [-1])
    assert [p.numpy().tolist() for p in parts] == [[1.0, 2.0, 3.0], [4.0]]


@given(
    shapes(min_dims=1, max_dims=3, max_side=5),
    st.data(),
)
def test_split_matches_np_split(shape: tuple[int, ...], data: st.DataObject) -> None:
    """Every index form of np.split (the README promises np.split, not np.array_split):
    sorted, negative, past the end, unsorted cut points, and equal sections; values and the
    gradient (parts may overlap when cut points go backwards: their gradients add up)."""
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), "axis")
    n = shape[axis]
    spec = data.draw(
        st.one_of(
            st.lists(st.integers(-n - 3, n + 3), max_size=4),
            st.integers(1, 4),
        ),
        "indices_or_sections",
    )
    x_np = np.arange(float(np.prod(shape))).reshape(shape)
    try:
        expected = np.split(x_np, spec, axis=axis)
    except ValueError:  # unequal sections: np.split refuses, and so must we
        with pytest.raises(ShapeError, match="does not divide"):
            ag.split(ag.tensor(x_np), spec, axis)
        return
    x = ag.tensor(x_np, dtype=F64, requires_grad=True)
    parts = ag.split(x, spec, axis)
    assert len(parts) == len(expected)
    weights = []
    for p, e in zip(parts, expected):
        assert p.shape == e.shape
        np.testing.assert_array_equal(p.detach().numpy(), e)
        # small integers: sums of them are exact in any order
        weights.append(np.random.default_rng(len(weights)).integers(-5, 6, e.shape) * 1.0)
    total = sum((p * ag.tensor(w)).sum() for p, w in zip(parts, weights))
    total.backward()
    # the reference gradient: each part's weights added where np.split takes that part from
    positions = np.arange(x_np.size).reshape(shape)
    want = np.zeros(x_np.size)
    for pos, w in zip(np.split(positions, spec, axis=axis), weights):
        np.add.at(want, pos.reshape(-1), w.reshape(-1))
    np.testing.assert_array_equal(x.grad.numpy(), want.reshape(shape))


def test_split_index_types() -> None:
    x = ag.tensor(np.arange(6.0))
    for spec in (np.array([2, -1]), ag.tensor([2, -1], dtype=ag.int64), (2, -1)):
        assert [p.shape for p in ag.split(x, spec)] == [(2,), (3,), (1,)]
    assert len(ag.split(x, np.int64(3))) == 3
    with pytest.raises(TypeError, match="cut points must be integers"):
        ag.split(x, [1.5])


# ================================================================== 7. empty inputs
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_on_an_empty_batch(weighted: bool) -> None:
    x = ag.zeros(0, 3, dtype=F64, requires_grad=True)
    t = ag.tensor(np.zeros(0, dtype=np.int64))
    w = ag.tensor([1.0, 2.0, 3.0], dtype=F64) if weighted else None
    assert math.isnan(F.cross_entropy(x, t, w).item())
    assert F.cross_entropy(x, t, w, reduction="sum").item() == 0.0
    assert F.cross_entropy(x, t, w, reduction="none").shape == (0,)
    F.cross_entropy(x, t, w).backward()
    assert x.grad.shape == (0, 3)
    assert math.isnan(F.nll_loss(x, t, w).item())
    assert math.isnan(F.cross_entropy(x, [], w).item())  # an empty list holds no labels


def test_empty_batch_matches_torch() -> None:
    torch = _torch()
    for reduction in ("mean", "sum", "none"):
        want = torch.nn.functional.cross_entropy(
            torch.zeros(0, 3, dtype=torch.float64),
            torch.zeros(0, dtype=torch.long),
            reduction=reduction,
        )
        got = F.cross_entropy(
            ag.zeros(0, 3, dtype=F64), ag.tensor(np.zeros(0, np.int64)), reduction=reduction
        )
        np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("shape,axis", [((0,), 0), ((2, 0), 1), ((0, 3), 0), ((2, 0, 3), (1, 2))])
def test_logsumexp_over_an_empty_axis_is_minus_inf(shape, axis) -> None:
    x = ag.zeros(shape, dtype=F64, requires_grad=True)
    out = ag.logsumexp(x, axis=axis)
    expected_shape = np.zeros(shape).sum(axis=axis).shape
    assert out.shape == expected_shape
    assert (out.detach().numpy() == -np.inf).all()
    out.backward(ag.ones_like(out))
    assert x.grad.shape == shape


@pytest.mark.parametrize("fn", [ag.softmax, ag.log_softmax])
@pytest.mark.parametrize("shape,axis", [((0,), 0), ((2, 0), 1), ((0, 3), 0), ((0, 3), 1)])
def test_softmax_over_empty_axes_is_empty(fn, shape, axis) -> None:
    x = ag.zeros(shape, dtype=F64, requires_grad=True)
    out = fn(x, axis)
    assert out.shape == shape
    out.backward(ag.ones_like(out))
    assert x.grad.shape == shape


def test_mean_of_nothing_is_nan() -> None:
    x = ag.zeros(2, 0, dtype=F64, requires_grad=True)
    out = ag.mean(x, axis=1)
    np.testing.assert_array_equal(out.detach().numpy(), [np.nan, np.nan])
    out.sum().backward()
    assert x.grad.shape == (2, 0)
    assert math.isnan(ag.mean(ag.zeros(0)).item())


@pytest.mark.parametrize("op", ["max", "min", "argmax", "argmin"])
def test_extremes_of_nothing_are_clear_errors(op: str) -> None:
    fn = getattr(ag, op)
    with pytest.raises(ShapeError, match=rf"{op}: the input of shape \(0,\) has no elements"):
        fn(ag.zeros(0))
    with pytest.raises(ShapeError, match=rf"{op}: expected the reduced axis 1 .*shape \(2, 0\)"):
        fn(ag.zeros(2, 0), axis=1)
    assert fn(ag.zeros(2, 0), axis=0).shape == (0,)  # nothing to reduce in an empty result
    if op in ("max", "min"):  # PyTorch's form, max(x, dim=...), names itself too
        with pytest.raises(ShapeError, match=rf"{op}: expected the reduced axis 0 .*\(0, 3\)"):
            fn(ag.zeros(0, 3), dim=0)


@pytest.mark.parametrize("lead", [(), (4,), (2, 3), (0,)])
def test_linear_with_a_zero_size_inner_dimension(lead: tuple[int, ...]) -> None:
    x = ag.zeros(*lead, 0, dtype=F64, requires_grad=True)
    w = ag.zeros(3, 0, dtype=F64, requires_grad=True)
    b = ag.tensor([1.0, 2.0, 3.0], dtype=F64, requires_grad=True)
    out = ag.linear(x, w, b)
    np.testing.assert_array_equal(
        out.detach().numpy(), np.broadcast_to([1.0, 2.0, 3.0], (*lead, 3))
    )
    out.backward(ag.ones_like(out))
    assert x.grad.shape == (*lead, 0) and w.grad.shape == (3, 0)
    np.testing.assert_array_equal(b.grad.numpy(), np.full(3, float(np.prod(lead))))


def test_linear_with_zero_outputs() -> None:
    x = ag.ones(2, 3, 4, dtype=F64, requires_grad=True)
    w = ag.zeros(0, 4, dtype=F64, requires_grad=True)
    out = ag.linear(x, w)
    assert out.shape == (2, 3, 0)
    out.backward(ag.ones_like(out))
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 3, 4)))


def test_shape_strategies_draw_empty_axes_and_extremes() -> None:
    """The strategies of autograd.testing reach size-0 axes and the extreme values."""
    seen_empty = seen_one = False

    @given(shapes(max_dims=3))
    def probe(shape: tuple[int, ...]) -> None:
        nonlocal seen_empty, seen_one
        seen_empty |= 0 in shape
        seen_one |= 1 in shape

    probe()
    assert seen_empty and seen_one
    values = extreme_values(np.float32)
    assert 0.0 in values and np.finfo(np.float32).smallest_subnormal in values
    assert float(np.finfo(np.float32).max) in values


# ====================================================================== 9. error hints
def test_linear_dtype_error_names_the_conversion_that_fixes_it() -> None:
    layer = nn.Linear(3, 2)  # float32
    x = ag.ones(4, 3, dtype=F64)
    with pytest.raises(DTypeError) as info:
        layer(x)
    message = str(info.value)
    assert "x.to(autograd.float32)" in message and "model.to(autograd.float64)" in message
    assert "x.to(autograd.float64)" not in message  # the no-op of the old hint
    assert layer(x.to(F32)).dtype == F32  # the hint works
    assert layer.to(F64)(x).dtype == F64


def test_device_errors_suggest_the_other_device(fake_backend) -> None:
    layer = nn.Linear(3, 2).to("fake:1")
    x = ag.ones(4, 3)
    with pytest.raises(DeviceError) as info:
        layer(x)
    message = str(info.value)
    assert "x.to('fake:1')" in message and "model.to('cpu')" in message
    with pytest.raises(DeviceError) as info:
        ag.ones(3) + ag.ones(3, device="fake:1")
    message = str(info.value)
    assert "on fake:1 with .to('cpu')" in message and "on cpu with .to('fake:1')" in message


def test_binary_dtype_error_names_both_conversions() -> None:
    with pytest.raises(DTypeError) as info:
        ag.ones(2, dtype=F32) + ag.ones(2, dtype=F64)
    message = str(info.value)
    assert "float64 operand with .to(autograd.float32)" in message
    assert "float32 one with .to(autograd.float64)" in message


@pytest.mark.parametrize(
    "loss",
    [F.mse_loss, F.binary_cross_entropy, F.binary_cross_entropy_with_logits],
    ids=["mse_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits"],
)
def test_losses_check_target_shapes_themselves(loss) -> None:
    x = ag.full((3,), 0.5, requires_grad=True)
    name = loss.__name__
    with pytest.raises(
        ShapeError,
        match=rf"{name}: the target has shape \(2,\) but the input has shape \(3,\).*hold 2 and 3",
    ):
        loss(x, [0.0, 1.0])
    with pytest.raises(ShapeError, match=rf"{name}: .*e\.g\. target\.reshape\(\(3,\)\)"):
        loss(x, [[0.0], [1.0], [1.0]])
    np.testing.assert_allclose(
        loss(x, [0.5, 0.5, 0.5]).detach().numpy(), loss(x, ag.full((3,), 0.5)).detach().numpy()
    )


def test_loss_weights_that_do_not_broadcast() -> None:
    x = ag.full((3, 2), 0.5)
    for loss in (F.binary_cross_entropy, F.binary_cross_entropy_with_logits):
        with pytest.raises(
            ShapeError,
            match=r"weight of shape \(3,\) does not broadcast to the input's shape \(3, 2\)",
        ):
            loss(x, ag.full((3, 2), 1.0), weight=[1.0, 2.0, 3.0])


def test_randint_forms() -> None:
    g = ag.Generator().manual_seed(0)
    a = ag.randint(0, 10, (50,), generator=g)
    b = ag.randint(10, (50,), generator=ag.Generator().manual_seed(0))
    c = ag.randint(0, 10, size=(50,), generator=ag.Generator().manual_seed(0))
    d = ag.randint(10, size=50, generator=ag.Generator().manual_seed(0))
    for t in (b, c, d):
        np.testing.assert_array_equal(t.numpy(), a.numpy())
    assert a.dtype == ag.int64 and a.numpy().min() >= 0 and a.numpy().max() < 10
    with pytest.raises(TypeError, match=r"randint: missing the size .*randint\(0, 10, \(3,\)\)"):
        ag.randint(0, 10)
    with pytest.raises(TypeError, match="randint: missing the size"):
        ag.randint(10)
    with pytest.raises(ValueError, match=r"low \(5\) must be less than high \(5\)"):
        ag.randint(5, 5, (2,))


# ============================================ 11. grad of a gradient that is constant in x
PIECEWISE_LINEAR = {
    "relu": ag.relu,
    "abs": ag.abs,
    "leaky_relu": lambda x: ag.leaky_relu(x, 0.1),
    "clip": lambda x: ag.clip(x, -1.0, 0.5),
    "maximum": lambda x: ag.maximum(x, 0.3),
    "minimum": lambda x: ag.minimum(x, ag.tensor([0.0, 1.0, -1.0], dtype=F64)),
    "max": lambda x: ag.max(x),
    "min": lambda x: ag.min(x, axis=0, keepdims=True),
    "where": lambda x: ag.where(x.detach() > 0, x, -2.0 * x),
    "sum": lambda x: x.sum(),
    "mul_const": lambda x: x * 3.0,
    "getitem": lambda x: x[1:],
    "nll_loss": lambda x: ag.nll_loss(x.reshape(1, 3), [2]),
}


@pytest.mark.parametrize("name", list(PIECEWISE_LINEAR))
def test_grad_of_a_constant_gradient_is_zero(name: str) -> None:
    f = PIECEWISE_LINEAR[name]
    x = t64([-1.5, 0.2, 0.7])
    (g,) = ag.grad(f(x).sum(), x, create_graph=True)
    assert g.requires_grad and g.grad_fn is not None  # connected to the graph, as in PyTorch
    (gg,) = ag.grad(g.sum(), x)
    np.testing.assert_array_equal(gg.numpy(), np.zeros(3))
    # gradgradcheck-style: the gradient as a function of x, against finite differences
    ag.gradcheck(lambda v: ag.grad(f(v).sum(), v, create_graph=True)[0], (t64([-1.5, 0.2, 0.7]),))
    # backward(create_graph=True) leaves a connected .grad too
    x2 = t64([-1.5, 0.2, 0.7])
    f(x2).sum().backward(create_graph=True)
    assert x2.grad.requires_grad
    (gg2,) = ag.grad(x2.grad.sum(), x2)
    np.testing.assert_array_equal(gg2.numpy(), np.zeros(3))


def test_grad_of_relu_gradient_matches_torch() -> None:
    torch = _torch()
    data = [-1.5, 0.0, 0.7]
    for name, tf in (
        ("relu", torch.relu),
        ("abs", torch.abs),
        ("leaky_relu", lambda v: torch.nn.functional.leaky_relu(v, 0.1)),
    ):
        xt = torch.tensor(data, dtype=torch.float64, requires_grad=True)
        (gt,) = torch.autograd.grad(tf(xt).sum(), xt, create_graph=True)
        (ggt,) = torch.autograd.grad(gt.sum(), xt)
        x = t64(data)
        (g,) = ag.grad(PIECEWISE_LINEAR[name](x).sum(), x, create_graph=True)
        (gg,) = ag.grad(g.sum(), x)
        assert g.requires_grad == gt.requires_grad
        np.testing.assert_array_equal(g.detach().numpy(), gt.detach().numpy())
        np.testing.assert_array_equal(gg.numpy(), ggt.numpy(force=True))  # may be a ZeroTensor


def test_grad_with_respect_to_an_intermediate_constant_gradient() -> None:
    x = t64([1.0, -2.0])
    h = x * 2.0
    (g,) = ag.grad(ag.relu(h).sum(), h, create_graph=True)
    assert g.requires_grad
    (gg,) = ag.grad(g.sum(), x)
    np.testing.assert_array_equal(gg.numpy(), [0.0, 0.0])


# ============================================= NaN / inf gradient conventions at the edges
NAN, INF = math.nan, math.inf

EDGE_CASES = [
    # (name, function, inputs, expected gradients); values are PyTorch's
    ("relu(nan)", ag.relu, [NAN], [1.0]),
    ("relu(-inf)", ag.relu, [-INF], [0.0]),
    ("abs(nan)", ag.abs, [NAN], [0.0]),
    ("leaky_relu(nan)", lambda x: ag.leaky_relu(x, 0.1), [NAN], [0.1]),
    ("clip(nan)", lambda x: ag.clip(x, -1.0, 1.0), [NAN], [0.0]),
    ("softplus(inf)", ag.softplus, [INF], [1.0]),
    ("softplus(-inf)", ag.softplus, [-INF], [0.0]),
    ("softplus(1000)", ag.softplus, [1000.0], [1.0]),
    ("sigmoid(inf)", ag.sigmoid, [INF], [0.0]),
    ("maximum(nan, 1)", ag.maximum, [NAN, 1.0], [1.0, 1.0]),
    ("maximum(1, nan)", ag.maximum, [1.0, NAN], [1.0, 1.0]),
    ("minimum(nan, 1)", ag.minimum, [NAN, 1.0], [1.0, 1.0]),
    ("maximum(1, 1)", ag.maximum, [1.0, 1.0], [0.5, 0.5]),
    # x ** y at a zero base: d/dx = y x^(y-1) (0 where y == 0), d/dy = x^y log x (0 where
    # y >= 0; inf times log 0 = -inf where y < 0, not inf * 0 = NaN)
    ("pow(0, 0)", ag.pow, [0.0, 0.0], [0.0, 0.0]),
    ("pow(0, 0.5)", ag.pow, [0.0, 0.5], [INF, 0.0]),
    ("pow(0, 2)", ag.pow, [0.0, 2.0], [0.0, 0.0]),
    ("pow(0, -1)", ag.pow, [0.0, -1.0], [-INF, -INF]),
    ("pow(0, -inf)", ag.pow, [0.0, -INF], [-INF, -INF]),
    ("pow(0, inf)", ag.pow, [0.0, INF], [NAN, 0.0]),
    ("pow(2, 0)", ag.pow, [2.0, 0.0], [0.0, math.log(2.0)]),
]


@pytest.mark.parametrize("name,fn,inputs,expected", EDGE_CASES, ids=[c[0] for c in EDGE_CASES])
def test_nan_and_inf_gradient_conventions(name, fn, inputs, expected) -> None:
    xs = [ag.tensor(v, dtype=F64, requires_grad=True) for v in inputs]
    with np.errstate(invalid="ignore", divide="ignore"):  # 0 ** -1: NumPy's divide warning
        fn(*xs).backward()
    np.testing.assert_array_equal([x.grad.item() for x in xs], expected)


@pytest.mark.parametrize("dtype", [ag.float32, ag.float64])
def test_the_exponents_gradient_at_a_python_zero_base_is_torchs(dtype) -> None:
    """0 ** y with y a tensor (a Python zero base): d/dy = 0^y log 0 is 0 where y >= 0, -inf
    where y < 0 and NaN where y is (PyTorch's values), in y's dtype, with create_graph too."""
    y = ag.tensor([-1.0, -INF, 0.0, 0.5, INF, NAN], dtype=dtype, requires_grad=True)
    expected = [-INF, -INF, 0.0, 0.0, 0.0, NAN]
    with np.errstate(divide="ignore"):
        (g,) = ag.grad((0.0**y).sum(), y, create_graph=True)
    assert g.dtype == dtype and g.requires_grad
    np.testing.assert_array_equal(g.detach().numpy(), expected)


def test_max_reduction_with_nan_sends_the_gradient_to_the_nans() -> None:
    x = t64([1.0, NAN, 3.0])
    x.max().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, 0.0])
    x = t64([1.0, NAN, NAN])
    x.max().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.5, 0.5])


def test_relu_blocks_an_infinite_upstream_gradient() -> None:
    """A select, not g * mask: the dead unit gets 0, not inf * 0 = NaN."""
    x = t64([-1.0, 2.0])
    ag.relu(x).backward(ag.tensor([INF, 1.0], dtype=F64))
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0])


@pytest.mark.parametrize("name,fn,inputs,expected", EDGE_CASES, ids=[c[0] for c in EDGE_CASES])
def test_edge_conventions_match_torch(name, fn, inputs, expected) -> None:
    torch = _torch()
    tf = {
        "relu": torch.relu,
        "abs": torch.abs,
        "leaky_relu": lambda v: torch.nn.functional.leaky_relu(v, 0.1),
        "clip": lambda v: v.clamp(-1.0, 1.0),
        "softplus": torch.nn.functional.softplus,
        "sigmoid": torch.sigmoid,
        "maximum": torch.maximum,
        "minimum": torch.minimum,
        "pow": torch.pow,
    }[name.split("(")[0]]
    xs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in inputs]
    tf(*xs).backward()
    np.testing.assert_array_equal([x.grad.item() for x in xs], expected)


# ========================================= 12. cross_entropy in all of PyTorch's forms
def np_cross_entropy(
    x: np.ndarray,
    target: np.ndarray,
    weight: np.ndarray | None = None,
    reduction: str = "mean",
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
) -> np.ndarray:
    """PyTorch's definition, position by position, in float64."""
    axis = 0 if x.ndim == 1 else 1
    c = x.shape[axis]
    log_p = x - np.logaddexp.reduce(x, axis=axis, keepdims=True) if c else x
    w = np.ones(c) if weight is None else np.asarray(weight, dtype=np.float64)
    along = [1] * x.ndim
    along[axis] = c
    eps = label_smoothing
    if target.dtype.kind == "f":  # class probabilities
        t = target * (1 - eps) + eps / c
        per = -(log_p * t * w.reshape(along)).sum(axis=axis)
        if reduction == "none":
            return per
        if reduction == "sum":
            return per.sum()
        positions = x.size // c if c else 0
        return per.sum() / positions if positions else np.float64(np.nan)
    per = np.zeros(target.shape)
    total = 0.0
    for pos in np.ndindex(target.shape):
        k = int(target[pos])
        if k == ignore_index:
            continue
        row = log_p[(*pos[:axis], slice(None), *pos[axis:])]
        per[pos] = -(1 - eps) * w[k] * row[k] - eps / c * (w * row).sum()
        total += w[k]
    if reduction == "none":
        return per
    if reduction == "sum":
        return per.sum()
    return per.sum() / total if total else np.float64(np.nan)


@st.composite
def ce_cases(draw, allow_probabilities: bool = True, smoothing: bool = True):
    """Inputs of every form ((C,), (N, C), (N, C, d1[, d2])), integer targets with some
    ignored (the default -100, or a class) or class probabilities, weights, smoothing."""
    form = draw(st.sampled_from(["C", "NC", "NCd", "NCdd"]), "form")
    c = draw(st.integers(1, 4), "C")
    n = draw(st.integers(0, 3) if form != "C" else st.just(None), "N")
    extra = {"C": 0, "NC": 0, "NCd": 1, "NCdd": 2}[form]
    ds = tuple(draw(st.integers(1, 3)) for _ in range(extra))
    shape = (c,) if form == "C" else (n, c, *ds)
    x = draw(arrays(shape), "x")
    tshape = () if form == "C" else (n, *ds)
    weight = draw(st.none() | arrays((c,), min_value=0.1, max_value=2.0), "weight")
    reduction = draw(st.sampled_from(["mean", "sum", "none"]), "reduction")
    eps = draw(st.sampled_from([0.0, 0.0, 0.1, 0.35]) if smoothing else st.just(0.0), "eps")
    if allow_probabilities and draw(st.booleans(), "probabilities"):
        raw = draw(arrays(shape, min_value=0.0, max_value=1.0), "target")
        total = raw.sum(axis=0 if form == "C" else 1, keepdims=True)
        target = np.where(total > 0, raw / np.where(total > 0, total, 1), 1.0 / c)
        return x, target, weight, reduction, -100, eps
    ignore = draw(st.sampled_from([-100, 0, c - 1]), "ignore_index")
    labels = draw(hnp.arrays(np.int64, tshape, elements=st.integers(0, c - 1)), "labels")
    dropped = draw(hnp.arrays(np.bool_, tshape), "ignored")
    target = np.where(dropped, ignore, labels)
    return x, target, weight, reduction, ignore, eps


def _ag_ce(x: ag.Tensor, target: np.ndarray, weight, reduction, ignore, eps) -> ag.Tensor:
    w = None if weight is None else ag.tensor(weight, dtype=F64)
    t = ag.tensor(target, dtype=F64) if target.dtype.kind == "f" else target
    return F.cross_entropy(x, t, w, reduction, ignore_index=ignore, label_smoothing=eps)


def _quiet_nan_reference(*args, **kwargs) -> np.ndarray:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(np_cross_entropy(*args, **kwargs))


@given(ce_cases())
def test_cross_entropy_forms_values_and_gradients(case) -> None:
    x_np, target, weight, reduction, ignore, eps = case
    expected = _quiet_nan_reference(x_np, target, weight, reduction, ignore, eps)
    out = _ag_ce(t64(x_np, requires_grad=False), target, weight, reduction, ignore, eps)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)
    assume(np.isfinite(expected).all() and x_np.size)
    check_gradients(lambda x: _ag_ce(x, target, weight, reduction, ignore, eps), t64(x_np))


@given(ce_cases(), st.sampled_from([np.float32, np.float64]))
def test_cross_entropy_constants_and_fast_gradient(case, dtype) -> None:
    """The flat index of the targets addresses x[i, t_i] (every form; an ignored position some
    class of its row, with coefficient 0: class 0, or ignore_index itself where that is a
    class), and the gradient computed in place on one array has the bits of the formula
    (p sum_c S - S) (-g) with S made as an array."""
    x_np, target, weight, reduction, ignore, eps = case
    x_np = x_np.astype(dtype)
    w = None if weight is None else ag.tensor(weight.astype(dtype))
    t = ag.tensor(target, dtype=x_np.dtype) if target.dtype.kind == "f" else target
    x = ag.tensor(x_np, requires_grad=True)
    out = F.cross_entropy(x, t, w, reduction, ignore_index=ignore, label_smoothing=eps)
    node = out.grad_fn
    axis = 0 if x_np.ndim == 1 else 1
    if node.index is not None:
        grids = np.unravel_index(node.index, x_np.shape)
        kept = target != ignore
        np.testing.assert_array_equal(grids[axis][kept], target[kept])
        np.testing.assert_array_equal(np.broadcast_to(node.coef, target.shape)[~kept], 0)
        for k, along in enumerate(grids):
            if k != axis:
                j = k - (k > axis)
                want = np.arange(x_np.shape[k]).reshape(
                    [-1 if i == j else 1 for i in range(target.ndim)]
                )
                np.testing.assert_array_equal(along, np.broadcast_to(want, target.shape))
    g = np.random.default_rng(0).standard_normal(out.shape).astype(dtype)
    m = backend_of(x_np).math
    log_p = node.saved[-1]
    with np.errstate(all="ignore"):
        got = node.backward(m, g, x_np, log_p)
        formula = (np.exp(log_p) * node.row_sums() - node.selection()) * -node.per_position(g)
    assert got.dtype == formula.dtype == dtype
    np.testing.assert_array_equal(got.view(f"u{got.itemsize}"), formula.view(f"u{got.itemsize}"))


@given(ce_cases(allow_probabilities=False, smoothing=False))
def test_nll_loss_forms(case) -> None:
    x_np, target, weight, reduction, ignore, _ = case
    w = None if weight is None else ag.tensor(weight, dtype=F64)
    # nll_loss of log_softmax is cross_entropy, in every form
    expected = _quiet_nan_reference(x_np, target, weight, reduction, ignore)

    def nll(x):
        return F.nll_loss(
            ag.log_softmax(x, 0 if x.ndim == 1 else 1), target, w, reduction, ignore_index=ignore
        )

    np.testing.assert_allclose(
        nll(t64(x_np, requires_grad=False)).numpy(), expected, rtol=1e-12, atol=1e-12
    )
    assume(np.isfinite(expected).all() and x_np.size)
    check_gradients(nll, t64(x_np))


def test_cross_entropy_ignore_index_mean_divides_by_kept_weights() -> None:
    x_np = np.array([[1.0, 2.0, 0.5], [0.1, 0.2, 0.3], [2.0, -1.0, 0.0]])
    w = np.array([1.0, 2.0, 4.0])
    log_p = x_np - np.logaddexp.reduce(x_np, axis=1, keepdims=True)
    got = F.cross_entropy(t64(x_np, False), [2, -100, 1], ag.tensor(w, dtype=F64)).item()
    want = -(4.0 * log_p[0, 2] + 2.0 * log_p[2, 1]) / (4.0 + 2.0)
    np.testing.assert_allclose(got, want, rtol=1e-14)
    all_ignored = t64(x_np)
    loss = F.cross_entropy(all_ignored, [-100, -100, -100])
    assert math.isnan(loss.item())
    loss.backward()
    np.testing.assert_array_equal(all_ignored.grad.numpy(), np.zeros((3, 3)))


def test_cross_entropy_label_smoothing_closed_form() -> None:
    x_np = np.array([[1.0, 2.0, 0.5], [0.1, 0.2, 0.3]])
    log_p = x_np - np.logaddexp.reduce(x_np, axis=1, keepdims=True)
    got = F.cross_entropy(t64(x_np, False), [0, 2], label_smoothing=0.3).item()
    per = [-(0.7 * log_p[i, k] + 0.1 * log_p[i].sum()) for i, k in enumerate([0, 2])]
    np.testing.assert_allclose(got, np.mean(per), rtol=1e-14)


def test_cross_entropy_loss_module_forms() -> None:
    x = t64(np.arange(12.0).reshape(2, 3, 2) / 5)
    loss = nn.CrossEntropyLoss(ignore_index=1, label_smoothing=0.2)
    assert "ignore_index=1" in repr(loss) and "label_smoothing=0.2" in repr(loss)
    target = np.array([[0, 1], [2, 0]])
    np.testing.assert_allclose(
        loss(x, target).item(),
        np_cross_entropy(x.detach().numpy(), target, ignore_index=1, label_smoothing=0.2),
        rtol=1e-13,
    )
    nll = nn.NLLLoss(ignore_index=0)
    assert "ignore_index=0" in repr(nll)
    with pytest.raises(ValueError, match=r"label_smoothing must be between 0\.0 and 1\.0"):
        F.cross_entropy(x, target, label_smoothing=1.5)
    with pytest.raises(IndexError, match=r"\[0, 3\) \(or ignore_index=-100\)"):
        F.cross_entropy(x, np.array([[0, 3], [2, 0]]))


def test_probability_targets_are_constants() -> None:
    x = t64([[1.0, 2.0]])
    with pytest.raises(ValueError, match="target requires grad"):
        F.cross_entropy(x, t64([[0.5, 0.5]]))
    with pytest.raises(DTypeError, match="class probabilities are float32"):
        F.cross_entropy(x, ag.tensor([[0.5, 0.5]], dtype=F32))


@given(ce_cases())
def test_cross_entropy_matches_torch(case) -> None:
    torch = _torch()
    x_np, target, weight, reduction, ignore, eps = case
    xt = torch.tensor(x_np, requires_grad=True)
    tt = torch.tensor(target)
    wt = None if weight is None else torch.tensor(weight)
    lt = torch.nn.functional.cross_entropy(
        xt, tt, wt, reduction=reduction, ignore_index=ignore, label_smoothing=eps
    )
    x = t64(x_np)
    out = _ag_ce(x, target, weight, reduction, ignore, eps)
    np.testing.assert_allclose(out.detach().numpy(), lt.detach().numpy(), rtol=1e-12, atol=1e-12)
    if not x_np.size or not np.isfinite(lt.detach().numpy()).all():
        return
    v_np = np.random.default_rng(0).standard_normal(lt.shape)
    (gt,) = torch.autograd.grad(lt, xt, torch.tensor(v_np), create_graph=True)
    (g,) = ag.grad(out, x, ag.tensor(v_np), create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), gt.detach().numpy(), rtol=1e-10, atol=1e-12)
    (ht,) = torch.autograd.grad((gt * gt).sum(), xt)
    (h,) = ag.grad((g * g).sum(), x)
    np.testing.assert_allclose(h.numpy(), ht.numpy(), rtol=1e-9, atol=1e-12)


@given(ce_cases(allow_probabilities=False, smoothing=False))
def test_nll_loss_matches_torch(case) -> None:
    torch = _torch()
    x_np, target, weight, reduction, ignore, _ = case
    axis = 0 if x_np.ndim == 1 else 1
    log_p = x_np - np.logaddexp.reduce(x_np, axis=axis, keepdims=True)
    lt = torch.nn.functional.nll_loss(
        torch.tensor(log_p),
        torch.tensor(target),
        None if weight is None else torch.tensor(weight),
        reduction=reduction,
        ignore_index=ignore,
    )
    w = None if weight is None else ag.tensor(weight, dtype=F64)
    got = F.nll_loss(t64(log_p, False), target, w, reduction, ignore_index=ignore)
    np.testing.assert_allclose(got.numpy(), lt.numpy(), rtol=1e-12, atol=1e-12)


def test_errors_are_arraygrad_errors_for_class_losses() -> None:
    with pytest.raises(ShapeError, match="0-d tensor"):
        F.cross_entropy(ag.tensor(1.0), 0)
    with pytest.raises(ArraygradError):
        F.nll_loss(ag.ones(2, 3), [0, 1, 2])


@given(ce_cases())
def test_cross_entropy_forms_on_each_device(accelerator: str, case) -> None:
    """Every form on a device: the loss and its first and second derivatives stay there and
    equal the CPU's (the coefficient arrays are made on the input's device)."""
    x_np, target, weight, reduction, ignore, eps = case
    assume(x_np.size)
    w_np = None if weight is None else weight

    def run(device: str):
        x = ag.tensor(x_np, dtype=F64, requires_grad=True, device=device)
        t = ag.tensor(target, dtype=F64 if target.dtype.kind == "f" else ag.int64, device=device)
        w = None if w_np is None else ag.tensor(w_np, dtype=F64, device=device)
        out = F.cross_entropy(x, t, w, reduction, ignore_index=ignore, label_smoothing=eps)
        v = ag.ones_like(out)
        (g,) = ag.grad(out, x, v, create_graph=True)
        (h,) = ag.grad((g * g).sum(), x)
        return out, g, h

    on_device = run(accelerator)
    for t in on_device:
        assert_on(t, accelerator, "cross_entropy")
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        for a, b in zip(on_device, run("cpu")):
            np.testing.assert_allclose(a.detach().cpu().numpy(), b.detach().numpy(), rtol=1e-12)
