"""``nn.MLP`` (structure, parameter counts, gradients, learning) and the L2 penalty."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd as ag
import nn
from autograd.testing import tensors
from nn import functional as F

from .nn_helpers import check_module_gradients

F64 = ag.float64


def test_islr_parameter_counts() -> None:
    assert nn.MLP(784, [256, 128], 10).num_parameters() == 235_146  # ISLR Figure 10.4
    assert nn.MLP(784, [256, 128], 10, dropout=[0.4, 0.3]).num_parameters() == 235_146
    p, k = 19, 50  # ISLR section 10.1: one hidden layer of K units
    assert nn.MLP(p, [k], 1, activation="sigmoid").num_parameters() == p * k + k + k + 1
    assert nn.MLP(4, [8], 2, batch_norm=True).num_parameters() == 4 * 8 + 8 + 2 * 8 + 8 * 2 + 2
    assert nn.MLP(5, [], 3).num_parameters() == 18  # no hidden layer: multinomial logistic


def test_structure_and_options() -> None:
    model = nn.MLP(6, [5, 4], 3, activation="tanh", dropout=[0.5, 0.0], batch_norm=True)
    kinds = " ".join(type(m).__name__ for m in model.layers)
    # Linear, BatchNorm1d, activation, Dropout per hidden layer (no Dropout for a rate of 0)
    assert kinds == "Linear BatchNorm1d Tanh Dropout Linear BatchNorm1d Tanh Linear"
    assert model.layers[3].p == 0.5
    assert model.hidden_sizes == [5, 4] and model.out_features == 3
    same = nn.MLP(6, [5, 4], 3, dropout=0.2)
    assert [m.p for m in same.layers if isinstance(m, nn.Dropout)] == [0.2, 0.2]
    with pytest.raises(ValueError, match="one rate per hidden layer"):
        nn.MLP(6, [5, 4], 3, dropout=[0.1])
    with pytest.raises(ValueError, match="unknown activation"):
        nn.MLP(6, [5], 3, activation="gelu")
    out = model(ag.randn(7, 6))
    assert out.shape == (7, 3) and out.dtype == ag.float32


def test_seeded_construction_is_repeatable() -> None:
    a = nn.MLP(5, [4], 2, generator=ag.Generator().manual_seed(0))
    b = nn.MLP(5, [4], 2, generator=ag.Generator().manual_seed(0))
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=name)


@given(
    st.integers(1, 3),
    st.lists(st.integers(1, 3), max_size=2),
    st.integers(1, 3),
    st.sampled_from(["tanh", "sigmoid"]),
    st.data(),
)
def test_mlp_gradients(n_in: int, hidden: list[int], n_out: int, activation: str, data) -> None:
    model = nn.MLP(n_in, hidden, n_out, activation, dtype=F64)
    check_module_gradients(model, data.draw(tensors(st.tuples(st.integers(1, 3), st.just(n_in)))))


def test_mlp_with_batch_norm_and_dropout_gradients() -> None:
    ag.manual_seed(0)
    gen = ag.Generator()
    model = nn.MLP(3, [4], 2, "tanh", dropout=0.5, batch_norm=True, dtype=F64)
    model.layers[3].generator = gen
    x = ag.randn(6, 3, dtype=F64, requires_grad=True)
    check_module_gradients(model, x, before=lambda: gen.manual_seed(0))


def test_mlp_learns_a_small_problem() -> None:
    ag.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (64, 2)).astype(np.float32)
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)  # XOR of the signs: not linearly separable
    model = nn.MLP(2, [16], 2)
    xt, yt = ag.tensor(x), ag.tensor(y)
    losses = []
    for _ in range(300):
        model.zero_grad()
        loss = F.cross_entropy(model(xt), yt)
        loss.backward()
        for p in model.parameters():
            p.data -= 0.5 * p.grad.data
        losses.append(loss.item())
    accuracy = (model(xt).argmax(axis=1).numpy() == y).mean()
    assert losses[-1] < 0.3 * losses[0] and accuracy > 0.9


# -------------------------------------------------------------------------- L2 penalty
def test_l2_penalty_value_and_gradient() -> None:
    model = nn.MLP(3, [4], 2, batch_norm=True, dtype=F64)
    lam = 0.3
    penalty = nn.l2_penalty(model, lam)
    weights = [model.layers[0].weight, model.layers[3].weight]  # not biases, not BN scales
    expected = lam * sum((w.numpy() ** 2).sum() for w in weights)
    np.testing.assert_allclose(penalty.item(), expected, rtol=1e-12)
    penalty.backward()
    for w in weights:
        np.testing.assert_allclose(w.grad.numpy(), 2 * lam * w.numpy(), rtol=1e-12)
    assert model.layers[0].bias.grad is None and model.layers[1].weight.grad is None
    everything = nn.l2_penalty(model.parameters(), lam)  # an explicit list penalizes all
    expected_all = lam * sum((p.numpy() ** 2).sum() for p in model.parameters())
    np.testing.assert_allclose(everything.item(), expected_all, rtol=1e-12)
    assert nn.l2_penalty([], lam).item() == 0


def test_l2_penalty_is_weight_decay_two_lambda() -> None:
    """An SGD step on RSS + lam * sum(w^2) equals an SGD step on RSS with weight decay
    2 * lam (w <- w - lr * (grad + 2 lam w))."""
    rng = np.random.default_rng(0)
    x, y = ag.tensor(rng.standard_normal((20, 3))), ag.tensor(rng.standard_normal((20, 1)))
    lam, lr = 0.05, 0.01
    a = nn.Linear(3, 1, bias=False, dtype=F64)
    b = nn.Linear(3, 1, bias=False, dtype=F64)
    b.load_state_dict(a.state_dict())
    (F.mse_loss(a(x), y, reduction="sum") + nn.l2_penalty(a, lam)).backward()
    a.weight.data -= lr * a.weight.grad.data
    F.mse_loss(b(x), y, reduction="sum").backward()
    b.weight.data -= lr * (b.weight.grad.data + 2 * lam * b.weight.data)
    np.testing.assert_allclose(a.weight.numpy(), b.weight.numpy(), rtol=1e-12)
