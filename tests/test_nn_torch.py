"""Parity with PyTorch (skipped where it is not installed): with the same weights and inputs,
``Linear``, ``MLP``, ``BatchNorm1d`` and the losses give the same outputs, gradients and
running statistics as ``torch.nn``, and a ``torch.nn.Sequential`` state dict loads into the
matching ``nn.Sequential``."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn
from nn import functional as F

torch = pytest.importorskip("torch")

F64 = ag.float64
TIGHT = {"rtol": 1e-10, "atol": 1e-12}  # float64 on both sides: rounding differences only


def to_torch(model: nn.Module) -> torch.nn.Module:
    """The torch.nn equivalent of an nn.Sequential/MLP of Linear, BatchNorm1d and
    activations, with the same weights and buffers."""
    kinds = {
        nn.ReLU: torch.nn.ReLU,
        nn.Tanh: torch.nn.Tanh,
        nn.Sigmoid: torch.nn.Sigmoid,
        nn.Identity: torch.nn.Identity,
    }
    layers = []
    seq = model.layers if isinstance(model, nn.MLP) else model
    for m in seq:
        if isinstance(m, nn.Linear):
            layers.append(torch.nn.Linear(m.in_features, m.out_features, bias=m.bias is not None))
        elif isinstance(m, nn.BatchNorm1d):
            layers.append(torch.nn.BatchNorm1d(m.num_features, m.eps, m.momentum))
        else:
            layers.append(kinds[type(m)]())
    out = torch.nn.Sequential(*layers).double()
    state = {k: torch.from_numpy(v.numpy().copy()) for k, v in seq.state_dict().items()}
    out.load_state_dict(state)
    return out


def t64(a: np.ndarray, requires_grad: bool = False) -> torch.Tensor:
    return torch.tensor(a, dtype=torch.float64, requires_grad=requires_grad)


def assert_close(ours: ag.Tensor, theirs: torch.Tensor, **tol: float) -> None:
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), **(tol or TIGHT))


def test_linear() -> None:
    rng = np.random.default_rng(0)
    layer = nn.Linear(7, 5, dtype=F64)
    ref = torch.nn.Linear(7, 5).double()
    with torch.no_grad():
        ref.weight.copy_(torch.from_numpy(layer.weight.numpy()))
        ref.bias.copy_(torch.from_numpy(layer.bias.numpy()))
    x_np = rng.standard_normal((2, 3, 7))  # batch axes
    g_np = rng.standard_normal((2, 3, 5))
    x, xt = ag.tensor(x_np, requires_grad=True), t64(x_np, True)
    out, out_t = layer(x), ref(xt)
    assert_close(out, out_t)
    out.backward(ag.tensor(g_np))
    out_t.backward(t64(g_np))
    assert_close(x.grad, xt.grad)
    assert_close(layer.weight.grad, ref.weight.grad)
    assert_close(layer.bias.grad, ref.bias.grad)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("batch_norm", [False, True])
def test_mlp_forward_backward_and_training_steps(activation: str, batch_norm: bool) -> None:
    ag.manual_seed(0)
    rng = np.random.default_rng(0)
    model = nn.MLP(12, [10, 8], 4, activation, batch_norm=batch_norm, dtype=F64)
    ref = to_torch(model)
    for _ in range(3):  # train steps: outputs, loss, every gradient, the updated weights
        x_np, y_np = rng.standard_normal((16, 12)), rng.integers(0, 4, 16)
        model.zero_grad()
        ref.zero_grad()
        loss = F.cross_entropy(model(ag.tensor(x_np)), ag.tensor(y_np))
        loss_t = torch.nn.functional.cross_entropy(ref(t64(x_np)), torch.from_numpy(y_np))
        assert_close(loss, loss_t)
        loss.backward()
        loss_t.backward()
        for (name, p), (name_t, q) in zip(model.layers.named_parameters(), ref.named_parameters()):
            assert name == name_t
            assert_close(p.grad, q.grad)
            p.data -= 0.1 * p.grad.data
            with torch.no_grad():
                q -= 0.1 * q.grad
    for (name, b), (_, bt) in zip(model.layers.named_buffers(), ref.named_buffers()):
        np.testing.assert_allclose(b.numpy(), bt.numpy(), **TIGHT, err_msg=name)
    model.eval()
    ref.eval()
    x_np = rng.standard_normal((5, 12))
    assert_close(model(ag.tensor(x_np)), ref(t64(x_np)))


def test_islr_mlp_in_float32() -> None:
    """The issue's network, in float32: same loss and gradients up to float32 rounding."""
    ag.manual_seed(0)
    rng = np.random.default_rng(0)
    model = nn.MLP(784, [256, 128], 10)
    ref = to_torch(model).float()
    x_np = rng.standard_normal((128, 784)).astype(np.float32)
    y_np = rng.integers(0, 10, 128)
    loss = F.cross_entropy(model(ag.tensor(x_np)), ag.tensor(y_np))
    loss_t = torch.nn.functional.cross_entropy(ref(torch.from_numpy(x_np)), torch.from_numpy(y_np))
    loss.backward()
    loss_t.backward()
    assert_close(loss, loss_t, rtol=1e-5)
    for p, q in zip(model.parameters(), ref.parameters()):
        assert_close(p.grad, q.grad, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 5)])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm1d(shape: tuple[int, ...], momentum: float | None) -> None:
    rng = np.random.default_rng(1)
    bn = nn.BatchNorm1d(4, eps=1e-3, momentum=momentum, dtype=F64)
    bn.weight.data[...] = rng.uniform(0.5, 2, 4)
    bn.bias.data[...] = rng.standard_normal(4)
    ref = to_torch(nn.Sequential(bn))[0]
    for _ in range(3):
        x_np, g_np = rng.standard_normal(shape) * 2 + 1, rng.standard_normal(shape)
        x, xt = ag.tensor(x_np, requires_grad=True), t64(x_np, True)
        out, out_t = bn(x), ref(xt)
        assert_close(out, out_t)
        out.backward(ag.tensor(g_np))
        out_t.backward(t64(g_np))
        assert_close(x.grad, xt.grad)
    assert_close(bn.weight.grad, ref.weight.grad)
    assert_close(bn.bias.grad, ref.bias.grad)
    assert_close(bn.running_mean, ref.running_mean)
    assert_close(bn.running_var, ref.running_var)
    assert bn.num_batches_tracked.item() == ref.num_batches_tracked.item() == 3
    bn.eval()
    ref.eval()
    x_np = rng.standard_normal(shape)
    assert_close(bn(ag.tensor(x_np)), ref(t64(x_np)))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("scale", [1.0, 1e4])
def test_cross_entropy(reduction: str, weighted: bool, scale: float) -> None:
    rng = np.random.default_rng(2)
    x_np = rng.standard_normal((9, 5)) * scale
    y_np = rng.integers(0, 5, 9)
    w_np = rng.uniform(0.2, 2, 5) if weighted else None
    x, xt = ag.tensor(x_np, requires_grad=True), t64(x_np, True)
    w = None if w_np is None else ag.tensor(w_np)
    wt = None if w_np is None else t64(w_np)
    loss = F.cross_entropy(x, ag.tensor(y_np), w, reduction)
    loss_t = torch.nn.functional.cross_entropy(
        xt, torch.from_numpy(y_np), weight=wt, reduction=reduction
    )
    assert_close(loss, loss_t)
    g = np.linspace(0.5, 1.5, 9) if reduction == "none" else np.float64(1.3)
    loss.backward(ag.tensor(g))
    loss_t.backward(t64(g))
    assert_close(x.grad, xt.grad)


def test_other_losses() -> None:
    rng = np.random.default_rng(3)
    z, y = rng.standard_normal((6, 3)) * 4, rng.uniform(0, 1, (6, 3))
    w, pw = rng.uniform(0.5, 2, 3), rng.uniform(0.5, 3, 3)
    tf = torch.nn.functional
    pairs = [
        (F.mse_loss(ag.tensor(z), ag.tensor(y)), tf.mse_loss(t64(z), t64(y))),
        (
            F.binary_cross_entropy_with_logits(
                ag.tensor(z), ag.tensor(y), ag.tensor(w), "sum", ag.tensor(pw)
            ),
            tf.binary_cross_entropy_with_logits(
                t64(z), t64(y), t64(w), reduction="sum", pos_weight=t64(pw)
            ),
        ),
        (
            F.binary_cross_entropy(ag.sigmoid(ag.tensor(z)), ag.tensor(y)),
            tf.binary_cross_entropy(torch.sigmoid(t64(z)), t64(y)),
        ),
    ]
    for ours, theirs in pairs:
        assert_close(ours, theirs)


def test_torch_state_dict_loads_into_the_same_sequential() -> None:
    ref = torch.nn.Sequential(
        torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3), torch.nn.ReLU(), torch.nn.Linear(3, 2)
    )
    ref.train()(torch.randn(8, 4))  # moves the running statistics
    ref.eval()
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Linear(3, 2))
    model.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})
    model.eval()
    x = np.random.default_rng(4).standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_allclose(
        model(ag.tensor(x)).numpy(), ref(torch.from_numpy(x)).detach().numpy(), rtol=1e-5
    )
