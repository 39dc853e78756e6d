"""Layers of ``nn``: gradients (first and second order, float64, hypothesis-drawn sizes) with
respect to inputs and parameters, forwards against NumPy, Dropout's statistics and seeding,
BatchNorm1d against a NumPy reference in both modes, and the initializers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import autograd as ag
import nn
import optim
from autograd.testing import arrays, tensors
from nn import functional as F

from .nn_helpers import check_module_gradients

sizes = st.integers(1, 4)
F64 = ag.float64


# ------------------------------------------------------------------------------ Linear
@given(st.lists(sizes, max_size=2), sizes, sizes, st.booleans(), st.data())
def test_linear_gradients(lead: list[int], n_in: int, n_out: int, bias: bool, data) -> None:
    """Any number of batch axes (none: a single vector)."""
    layer = nn.Linear(n_in, n_out, bias=bias, dtype=F64)
    check_module_gradients(layer, data.draw(tensors((*lead, n_in))))


@given(n=sizes, n_in=sizes, n_out=sizes, data=st.data())
def test_linear_matches_numpy(n: int, n_in: int, n_out: int, data) -> None:
    layer = nn.Linear(n_in, n_out, dtype=F64)
    x = data.draw(arrays((n, n_in)))
    expected = x @ layer.weight.numpy().T + layer.bias.numpy()
    np.testing.assert_allclose(layer(ag.tensor(x)).numpy(), expected, rtol=1e-12, atol=1e-12)


def test_linear_init_is_pytorchs_default_and_seeded() -> None:
    a = nn.Linear(50, 40, generator=ag.Generator().manual_seed(3))
    b = nn.Linear(50, 40, generator=ag.Generator().manual_seed(3))
    bound = 1 / math.sqrt(50)
    assert a.weight.shape == (40, 50) and a.bias.shape == (40,)
    assert a.weight.dtype == ag.float32
    assert np.abs(a.weight.numpy()).max() <= bound and np.abs(a.bias.numpy()).max() <= bound
    assert np.abs(a.weight.numpy()).max() > 0.9 * bound  # spread over the whole interval
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())
    ag.manual_seed(5)
    c = nn.Linear(50, 40)
    ag.manual_seed(5)
    np.testing.assert_array_equal(c.weight.numpy(), nn.Linear(50, 40).weight.numpy())


def test_linear_without_bias_and_errors() -> None:
    layer = nn.Linear(3, 2, bias=False)
    assert layer.bias is None
    assert [n for n, _ in layer.named_parameters()] == ["weight"]
    with pytest.raises(ag.ShapeError, match="in_features"):
        layer(ag.zeros(4, 5))
    with pytest.raises(ag.DTypeError, match="the input is float64 but the weight is float32"):
        layer(ag.zeros(4, 3, dtype=F64))


@pytest.mark.parametrize("lead", [(), (5,), (2, 3)])
def test_linear_weight_gradients_come_in_the_weights_layout(lead) -> None:
    """W (out, in) is stored by columns (see nn.Linear), and a weight assigned by rows (as
    PyTorch stores it) keeps working; either way its gradient comes in its layout, as
    PyTorch's gradients follow their parameter's strides: an array of its own that backward
    keeps as it is (no copy), and optimizers' scratch arrays follow it (no elementwise op
    mixes the two orders)."""
    layer = nn.Linear(4, 3, dtype=F64)
    assert layer.weight.data.flags.f_contiguous and not layer.weight.data.flags.c_contiguous
    assert layer.weight.data.base is None  # an array of its own
    x = ag.tensor(np.random.default_rng(0).normal(size=(*lead, 4)))
    rows = x.numpy().reshape(-1, 4)
    expected = np.ones((len(rows), 3)).T @ rows
    grads = []
    for order in ("C", "F"):
        layer.weight.data = np.asarray(layer.weight.data, order=order)
        layer.weight.grad = None
        layer(x).sum().backward()
        w, g = layer.weight.data, layer.weight.grad.data
        assert g.strides == w.strides and g.base is None
        assert all(v.strides == w.strides for v in optim.SGD([layer.weight], lr=0.1)._scratch(w, 2))
        np.testing.assert_allclose(g, expected, rtol=1e-13)
        grads.append(g)
    assert grads[1].flags.f_contiguous and not grads[1].flags.c_contiguous


# ---------------------------------------------------------------------------- activations
def _away_from_zero(x: ag.Tensor) -> bool:
    return bool((np.abs(x.numpy()) > 1e-3).all())


ACTIVATIONS = [
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.LeakyReLU(0.1), lambda x: np.where(x > 0, x, 0.1 * x)),
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    (nn.Tanh(), np.tanh),
    (nn.Softplus(), lambda x: np.log1p(np.exp(x))),
    (nn.Softmax(axis=1), lambda x: np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)),
    (nn.LogSoftmax(axis=1), lambda x: x - np.log(np.exp(x).sum(axis=1, keepdims=True))),
]


@pytest.mark.parametrize(
    ("layer", "ref"), ACTIVATIONS, ids=[type(a).__name__ for a, _ in ACTIVATIONS]
)
@given(data=st.data())
def test_activation_gradients_and_values(layer: nn.Module, ref, data) -> None:
    x = data.draw(tensors(st.tuples(sizes, sizes)))
    assume(_away_from_zero(x))  # the kinks of ReLU and LeakyReLU
    np.testing.assert_allclose(layer(x).numpy(), ref(x.numpy()), rtol=1e-12, atol=1e-12)
    check_module_gradients(layer, x)


def test_flatten_and_identity() -> None:
    x = ag.randn(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 1)(x).shape == (6, 4, 5)
    assert nn.Identity()(x) is x
    check_module_gradients(nn.Flatten(), ag.randn(2, 3, 2, dtype=F64, requires_grad=True))


# -------------------------------------------------------------------------------- Dropout
def test_dropout_is_the_identity_in_eval_and_for_p_zero() -> None:
    x = ag.randn(10, 10, requires_grad=True)
    layer = nn.Dropout(0.5).eval()
    assert layer(x) is x
    assert nn.Dropout(0.0)(x) is x
    assert F.dropout(x, 0.7, training=False) is x


def test_dropout_preserves_the_expectation() -> None:
    p, n = 0.3, 200_000
    x = ag.ones(n, dtype=F64)
    out = nn.Dropout(p, generator=ag.Generator().manual_seed(0))(x).numpy()
    kept = out != 0
    np.testing.assert_allclose(out[kept], 1 / (1 - p), rtol=1e-15)  # survivors scaled up
    sigma = math.sqrt(p * (1 - p) / n)  # of the fraction dropped
    assert abs((1 - kept.mean()) - p) < 5 * sigma
    assert abs(out.mean() - 1) < 5 * sigma / (1 - p)


def test_dropout_same_seed_same_mask() -> None:
    x = ag.randn(50, 20)
    a = nn.Dropout(0.5, generator=ag.Generator().manual_seed(7))(x)
    b = nn.Dropout(0.5, generator=ag.Generator().manual_seed(7))(x)
    c = nn.Dropout(0.5, generator=ag.Generator().manual_seed(8))(x)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.array_equal(a.numpy(), c.numpy())
    ag.manual_seed(1)
    d = nn.Dropout(0.5)(x)
    ag.manual_seed(1)
    np.testing.assert_array_equal(d.numpy(), nn.Dropout(0.5)(x).numpy())
    # the mask depends on the seed only, not on the input's dtype
    e = nn.Dropout(0.5, generator=ag.Generator().manual_seed(7))(x.double())
    np.testing.assert_array_equal(e.numpy() != 0, a.numpy() != 0)


@given(shape=st.tuples(sizes, sizes), p=st.sampled_from([0.2, 0.5, 0.9]), data=st.data())
def test_dropout_gradients(shape: tuple[int, int], p: float, data) -> None:
    gen = ag.Generator()
    layer = nn.Dropout(p, generator=gen)
    check_module_gradients(layer, data.draw(tensors(shape)), before=lambda: gen.manual_seed(0))
    x = ag.randn(*shape, dtype=F64, requires_grad=True)
    gen.manual_seed(0)
    out = layer(x)
    out.sum().backward()
    mask = (out.numpy() != 0) / (1 - p)
    np.testing.assert_allclose(x.grad.numpy(), mask, rtol=1e-15)


@given(
    shape=st.lists(st.integers(0, 5), max_size=3).map(tuple),
    p=st.sampled_from([1e-9, 0.1, 0.4, 0.5, 0.75, 1 - 1e-10]),
    seed=st.integers(0, 2**32 - 1),
)
def test_keep_mask_is_the_streams_32_bit_draws_against_the_threshold(shape, p, seed) -> None:
    """keep_mask takes ceil(n / 2) raw 64-bit words from the stream, their 32-bit halves in
    memory order, and keeps u >= round(p 2^32) (all dropped where that is 2^32); the stream
    then continues from there, as a clone of it shows."""
    gen = ag.Generator().manual_seed(seed)
    clone = np.random.Generator(np.random.PCG64())
    clone.bit_generator.state = gen.rng.bit_generator.state
    mask = ag.random.keep_mask(shape, p, gen)
    n = math.prod(shape)
    u = clone.bit_generator.random_raw((n + 1) // 2).view(np.uint32)[:n].reshape(shape)
    t = round(p * 2**32)
    assert mask.dtype == np.bool_ and mask.shape == shape
    np.testing.assert_array_equal(mask.numpy(), u >= t if t < 2**32 else np.zeros(shape, bool))
    assert gen.rng.random() == clone.random()  # the same place in the stream


@pytest.mark.parametrize("p", [0.1, 0.4, 0.7])
def test_keep_mask_keeps_each_element_with_probability_one_minus_p(p) -> None:
    n = 400_000
    kept = ag.random.keep_mask((n,), p, ag.Generator().manual_seed(0)).numpy()
    sigma = math.sqrt(p * (1 - p) / n)
    assert abs(kept.mean() - (1 - p)) < 5 * sigma
    # independent elements: neighbours (the two halves of one 64-bit word) uncorrelated
    pairs = kept[: n // 2 * 2].reshape(-1, 2)
    both = (pairs[:, 0] & pairs[:, 1]).mean()
    assert abs(both - (1 - p) ** 2) < 5 * math.sqrt((1 - p) ** 2 / (n // 2))


def test_dropout_edge_rates() -> None:
    x = ag.randn(4, 4, requires_grad=True)
    out = nn.Dropout(1.0)(x)
    np.testing.assert_array_equal(out.numpy(), 0)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 0)
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match="probability"):
            nn.Dropout(p)


# ---------------------------------------------------------------------------- BatchNorm1d
def np_batch_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> tuple:
    """Training-mode batch norm in NumPy: the output, the batch mean, the unbiased variance."""
    axes = (0,) if x.ndim == 2 else (0, 2)
    shape = (-1,) if x.ndim == 2 else (-1, 1)
    mean = x.mean(axis=axes)
    var = x.var(axis=axes)
    n = x.size // x.shape[1]
    y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    return y * w.reshape(shape) + b.reshape(shape), mean, var * n / (n - 1)


def _spread(x: ag.Tensor) -> bool:
    axes = (0,) if x.ndim == 2 else (0, 2)
    return bool((x.numpy().var(axis=axes) > 0.1).all())


batch_shapes = st.tuples(st.integers(2, 4), sizes) | st.tuples(st.integers(1, 3), sizes, sizes)


@given(shape=batch_shapes, affine=st.booleans(), data=st.data())
def test_batchnorm_gradients_training(shape: tuple[int, ...], affine: bool, data) -> None:
    x = data.draw(tensors(shape))
    assume(x.size // shape[1] >= 2 and _spread(x))
    bn = nn.BatchNorm1d(shape[1], affine=affine, dtype=F64)
    if affine:
        bn.weight.data[...] = data.draw(arrays((shape[1],), min_value=0.5, max_value=2))
        bn.bias.data[...] = data.draw(arrays((shape[1],)))
    check_module_gradients(bn, x)


@given(shape=batch_shapes, data=st.data())
def test_batchnorm_gradients_eval(shape: tuple[int, ...], data) -> None:
    c = shape[1]
    bn = nn.BatchNorm1d(c, dtype=F64).eval()
    bn.running_mean.data[...] = data.draw(arrays((c,)))
    bn.running_var.data[...] = data.draw(arrays((c,), min_value=0.2, max_value=3))
    bn.weight.data[...] = data.draw(arrays((c,)))
    check_module_gradients(bn, data.draw(tensors(shape)))


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5)])
def test_batchnorm_matches_numpy_and_tracks_running_stats(shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(0)
    c, momentum, eps = shape[1], 0.2, 1e-3
    bn = nn.BatchNorm1d(c, eps=eps, momentum=momentum, dtype=F64)
    w, b = rng.uniform(0.5, 2, c), rng.standard_normal(c)
    bn.weight.data[...], bn.bias.data[...] = w, b
    running_mean, running_var = np.zeros(c), np.ones(c)
    for _ in range(3):
        x = rng.standard_normal(shape) * 3 + 1
        expected, mean, unbiased = np_batch_norm(x, w, b, eps)
        np.testing.assert_allclose(bn(ag.tensor(x)).numpy(), expected, rtol=1e-12, atol=1e-12)
        running_mean = (1 - momentum) * running_mean + momentum * mean
        running_var = (1 - momentum) * running_var + momentum * unbiased
        np.testing.assert_allclose(bn.running_mean.numpy(), running_mean, rtol=1e-12)
        np.testing.assert_allclose(bn.running_var.numpy(), running_var, rtol=1e-12)
    assert bn.num_batches_tracked.item() == 3
    bn.eval()
    x = rng.standard_normal(shape)
    bshape = (-1,) if len(shape) == 2 else (-1, 1)
    expected = (x - running_mean.reshape(bshape)) / np.sqrt(running_var.reshape(bshape) + eps)
    expected = expected * w.reshape(bshape) + b.reshape(bshape)
    np.testing.assert_allclose(bn(ag.tensor(x)).numpy(), expected, rtol=1e-12, atol=1e-12)
    assert bn.num_batches_tracked.item() == 3  # eval leaves the statistics alone


def test_batchnorm_cumulative_average_and_no_tracking() -> None:
    rng = np.random.default_rng(1)
    bn = nn.BatchNorm1d(2, momentum=None, dtype=F64)
    xs = [rng.standard_normal((5, 2)) for _ in range(4)]
    for x in xs:
        bn(ag.tensor(x))
    np.testing.assert_allclose(bn.running_mean.numpy(), np.mean([x.mean(0) for x in xs], 0))
    np.testing.assert_allclose(bn.running_var.numpy(), np.mean([x.var(0, ddof=1) for x in xs], 0))
    bn.reset_running_stats()
    np.testing.assert_array_equal(bn.running_mean.numpy(), 0)
    np.testing.assert_array_equal(bn.running_var.numpy(), 1)
    assert bn.num_batches_tracked.item() == 0

    free = nn.BatchNorm1d(2, track_running_stats=False, affine=False, dtype=F64).eval()
    assert free.running_mean is None and list(free.parameters()) == []
    expected, _, _ = np_batch_norm(xs[0], np.ones(2), np.zeros(2), 1e-5)
    np.testing.assert_allclose(free(ag.tensor(xs[0])).numpy(), expected, rtol=1e-12)


def test_batchnorm_errors() -> None:
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ag.ShapeError, match=r"\(N, 3\)"):
        bn(ag.zeros(4, 2))
    with pytest.raises(ValueError, match="more than one value per channel"):
        bn(ag.zeros(1, 3))
    bn.eval()
    assert bn(ag.zeros(1, 3)).shape == (1, 3)  # running statistics need no batch


# ------------------------------------------------------------------------------ nn.init
def test_init_statistics() -> None:
    gen = ag.Generator().manual_seed(0)
    w = ag.zeros(400, 300, dtype=F64)
    fan_in, fan_out = 300, 400
    nn.init.kaiming_normal_(w, nonlinearity="relu", generator=gen)
    np.testing.assert_allclose(w.numpy().std(), math.sqrt(2 / fan_in), rtol=0.02)
    nn.init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu", generator=gen)
    bound = math.sqrt(6 / fan_out)
    assert np.abs(w.numpy()).max() <= bound
    np.testing.assert_allclose(w.numpy().std(), bound / math.sqrt(3), rtol=0.02)
    nn.init.xavier_normal_(w, generator=gen)
    np.testing.assert_allclose(w.numpy().std(), math.sqrt(2 / (fan_in + fan_out)), rtol=0.02)
    nn.init.xavier_uniform_(w, gain=2.0, generator=gen)
    assert np.abs(w.numpy()).max() <= 2 * math.sqrt(6 / (fan_in + fan_out))
    nn.init.normal_(w, 3.0, 0.5, generator=gen)
    np.testing.assert_allclose([w.numpy().mean(), w.numpy().std()], [3.0, 0.5], rtol=0.02)
    nn.init.uniform_(w, -1.0, 2.0, generator=gen)
    assert w.numpy().min() >= -1 and w.numpy().max() < 2
    assert nn.init.constant_(w, 0.25) is w and (w.numpy() == 0.25).all()
    assert (nn.init.zeros_(w).numpy() == 0).all() and (nn.init.ones_(w).numpy() == 1).all()


def test_init_seeding_dtype_and_errors() -> None:
    a, b = ag.zeros(3, 4), ag.zeros(3, 4)
    nn.init.xavier_uniform_(a, generator=ag.Generator().manual_seed(1))
    nn.init.xavier_uniform_(b, generator=ag.Generator().manual_seed(1))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert a.dtype == ag.float32
    assert nn.init.calculate_gain("tanh") == 5 / 3
    assert nn.init.calculate_gain("relu") == math.sqrt(2)
    assert nn.init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2 / 1.04)
    with pytest.raises(ValueError, match="at least 2 axes"):
        nn.init.xavier_uniform_(ag.zeros(3))
    with pytest.raises(ValueError, match="mode"):
        nn.init.kaiming_normal_(a, mode="fan_avg")
    with pytest.raises(ValueError, match="unknown nonlinearity"):
        nn.init.calculate_gain("gelu")
