"""Optimizers: each update equals its published equations, they converge, they learn, they save
and resume exactly, they run in place on any device, and bad input gets a clear error.

The references below are independent NumPy implementations of the published updates (as
PyTorch documents them), written from the equations, never calling ``optim``. Both sides get the
same gradients (computed in NumPy from the current parameters), so a difference can only come
from the optimizer's math.
"""

from __future__ import annotations

import math
import pickle
import tracemalloc

import numpy as np
import pytest

import autograd as ag
import nn
import optim
from nn.utils import clip_grad_norm_, clip_grad_value_
from optim import lr_scheduler

from .devices import assert_on

# ------------------------------------------------------------------ a small problem
# Two parameters, W (3, 2) and c (2,), of the least-squares loss ||X W + c - Y||^2.
_rng = np.random.default_rng(7)
X = _rng.standard_normal((8, 3))
Y = _rng.standard_normal((8, 2))
W0 = _rng.standard_normal((3, 2))
C0 = _rng.standard_normal(2)
STEPS = 20


def grads_of(w: np.ndarray, c: np.ndarray) -> list[np.ndarray]:
    r = X @ w + c - Y
    return [2 * X.T @ r, 2 * r.sum(axis=0)]


def run_optim(make, steps: int = STEPS, dtype=np.float64) -> list[np.ndarray]:
    """The parameters after ``steps`` steps of ``make(params)``, fed the NumPy gradients."""
    params = [ag.tensor(W0, dtype=dtype, requires_grad=True), ag.tensor(C0, dtype=dtype)]
    params[1].requires_grad_()
    opt = make(params)
    for _ in range(steps):
        for p, g in zip(params, grads_of(*(p.data for p in params))):
            p.grad = ag.tensor(g, dtype=dtype)
        opt.step()
    return [p.data for p in params]


def run_reference(update, steps: int = STEPS) -> list[np.ndarray]:
    """The parameters after ``steps`` calls of ``update(theta, g, state, t)`` per parameter."""
    thetas = [W0.copy(), C0.copy()]
    states: list[dict] = [{}, {}]
    for t in range(1, steps + 1):
        for i, g in enumerate(grads_of(*thetas)):
            thetas[i] = update(thetas[i], g, states[i], t)
    return thetas


# ------------------------------------------------------------- the published updates
def sgd_reference(lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    def update(theta, g, state, t):
        g = g + weight_decay * theta
        if momentum:
            if t == 1:
                state["b"] = g.copy()
            else:
                state["b"] = momentum * state["b"] + (1 - dampening) * g
            g = g + momentum * state["b"] if nesterov else state["b"]
        return theta - lr * g

    return update


def adam_reference(
    lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, decoupled=False
):
    beta1, beta2 = betas

    def update(theta, g, state, t):
        if decoupled:
            theta = theta * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * theta
        m = state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * g
        v = state["v"] = beta2 * state.get("v", 0.0) + (1 - beta2) * g * g
        if amsgrad:
            v = state["v_max"] = np.maximum(state.get("v_max", 0.0), v)
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        return theta - lr * m_hat / (np.sqrt(v_hat) + eps)

    return update


def rmsprop_reference(
    lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False
):
    def update(theta, g, state, t):
        g = g + weight_decay * theta
        v = state["v"] = alpha * state.get("v", 0.0) + (1 - alpha) * g * g
        if centered:
            g_avg = state["g_avg"] = alpha * state.get("g_avg", 0.0) + (1 - alpha) * g
            v = v - g_avg * g_avg
        denominator = np.sqrt(v) + eps
        if momentum:
            b = state["b"] = momentum * state.get("b", 0.0) + g / denominator
            return theta - lr * b
        return theta - lr * g / denominator

    return update


def adagrad_reference(
    lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10
):
    def update(theta, g, state, t):
        g = g + weight_decay * theta
        lr_t = lr / (1 + (t - 1) * lr_decay)
        s = state["s"] = state.get("s", initial_accumulator_value) + g * g
        return theta - lr_t * g / (np.sqrt(s) + eps)

    return update


CASES = [
    (optim.SGD, sgd_reference, {"lr": 0.02}),
    (optim.SGD, sgd_reference, {"lr": 0.02, "momentum": 0.9}),
    (optim.SGD, sgd_reference, {"lr": 0.02, "momentum": 0.9, "dampening": 0.5}),
    (optim.SGD, sgd_reference, {"lr": 0.02, "momentum": 0.9, "nesterov": True}),
    (optim.SGD, sgd_reference, {"lr": 0.02, "weight_decay": 0.3}),
    (
        optim.SGD,
        sgd_reference,
        {"lr": 0.02, "momentum": 0.8, "nesterov": True, "weight_decay": 0.3},
    ),
    (optim.Adam, adam_reference, {"lr": 0.05}),
    (optim.Adam, adam_reference, {"lr": 0.05, "betas": (0.8, 0.9), "eps": 1e-3}),
    (optim.Adam, adam_reference, {"lr": 0.05, "weight_decay": 0.3}),
    (optim.Adam, adam_reference, {"lr": 0.05, "amsgrad": True}),
    (optim.Adam, adam_reference, {"lr": 0.05, "amsgrad": True, "weight_decay": 0.3}),
    (optim.RMSprop, rmsprop_reference, {"lr": 0.01}),
    (optim.RMSprop, rmsprop_reference, {"lr": 0.01, "alpha": 0.9, "eps": 1e-3}),
    (optim.RMSprop, rmsprop_reference, {"lr": 0.01, "momentum": 0.9}),
    (optim.RMSprop, rmsprop_reference, {"lr": 0.01, "centered": True}),
    (optim.RMSprop, rmsprop_reference, {"lr": 0.01, "centered": True, "momentum": 0.9}),
    (optim.RMSprop, rmsprop_reference, {"lr": 0.01, "weight_decay": 0.3}),
    (optim.Adagrad, adagrad_reference, {"lr": 0.1}),
    (optim.Adagrad, adagrad_reference, {"lr": 0.1, "lr_decay": 0.05}),
    (optim.Adagrad, adagrad_reference, {"lr": 0.1, "initial_accumulator_value": 0.5}),
    (optim.Adagrad, adagrad_reference, {"lr": 0.1, "weight_decay": 0.3, "eps": 1e-3}),
]
ADAMW_CASES = [{"lr": 0.05}, {"lr": 0.05, "weight_decay": 0.3}, {"lr": 0.05, "amsgrad": True}]


def _case_id(case) -> str:
    cls, _, kwargs = case
    return cls.__name__ + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items())


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_twenty_steps_equal_the_published_update(case):
    cls, reference, kwargs = case
    got = run_optim(lambda params: cls(params, **kwargs))
    expected = run_reference(reference(**kwargs))
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-14)
    assert not np.allclose(expected[0], W0)  # the steps moved the parameters


@pytest.mark.parametrize("kwargs", ADAMW_CASES, ids=str)
def test_adamw_equals_the_decoupled_update(kwargs):
    got = run_optim(lambda params: optim.AdamW(params, **kwargs))
    full = {"weight_decay": 1e-2, **kwargs}  # AdamW's default decay
    expected = run_reference(adam_reference(decoupled=True, **full))
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-14)


def test_adam_and_adamw_differ_only_by_the_weight_decay_coupling():
    coupled = run_optim(lambda ps: optim.Adam(ps, lr=0.05, weight_decay=0.3))
    decoupled = run_optim(lambda ps: optim.AdamW(ps, lr=0.05, weight_decay=0.3))
    plain = run_optim(lambda ps: optim.Adam(ps, lr=0.05))
    assert not np.allclose(coupled[0], decoupled[0])
    for a, b in zip(run_optim(lambda ps: optim.AdamW(ps, 0.05, weight_decay=0)), plain):
        np.testing.assert_array_equal(a, b)


def test_float32_parameters_stay_float32_and_track_float64():
    got = run_optim(lambda ps: optim.Adam(ps, lr=0.05), dtype=np.float32)
    expected = run_reference(adam_reference(lr=0.05))
    for g, e in zip(got, expected):
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5)


# ----------------------------------------------------------------------- convergence
_q, _ = np.linalg.qr(np.random.default_rng(3).standard_normal((5, 5)))
H = _q @ np.diag([1.0, 2.0, 3.0, 5.0, 10.0]) @ _q.T  # condition number 10
B = np.random.default_rng(4).standard_normal(5)
MINIMUM = np.linalg.solve(H, B)

CONVERGENCE = [
    ("SGD", lambda ps: optim.SGD(ps, lr=0.1), None, 300),
    ("SGD-momentum", lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9), None, 400),
    ("SGD-nesterov", lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True), None, 300),
    ("Adam", lambda ps: optim.Adam(ps, lr=0.05), 0.99, 1000),
    ("Adam-amsgrad", lambda ps: optim.Adam(ps, lr=0.05, amsgrad=True), 0.99, 1000),
    ("AdamW", lambda ps: optim.AdamW(ps, lr=0.05, weight_decay=0.0), 0.99, 1000),
    ("RMSprop", lambda ps: optim.RMSprop(ps, lr=0.05), 0.99, 1000),
    (
        "RMSprop-centered",
        lambda ps: optim.RMSprop(ps, lr=0.05, centered=True, momentum=0.5),
        0.99,
        1000,
    ),
    ("Adagrad", lambda ps: optim.Adagrad(ps, lr=1.0), None, 500),
]


@pytest.mark.parametrize(
    "make, decay, steps", [c[1:] for c in CONVERGENCE], ids=[c[0] for c in CONVERGENCE]
)
def test_converges_on_a_convex_quadratic(make, decay, steps):
    # f(x) = x'Hx/2 - b'x, gradients from autograd; adaptive methods with a decaying lr
    h, b = ag.tensor(H), ag.tensor(B)
    x = ag.zeros(5, dtype=ag.float64, requires_grad=True)
    opt = make([x])
    scheduler = lr_scheduler.ExponentialLR(opt, decay) if decay else None
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * (x @ (h @ x)) - b @ x).backward()
        opt.step()
        if scheduler:
            scheduler.step()
    assert np.abs(x.data - MINIMUM).max() < 1e-6


# ------------------------------------------------------------------ small networks
LEARNERS = {
    "SGD-momentum": lambda ps: optim.SGD(ps, lr=0.5, momentum=0.9),
    "SGD-nesterov": lambda ps: optim.SGD(ps, lr=0.2, momentum=0.9, nesterov=True),
    "Adam": lambda ps: optim.Adam(ps, lr=0.05),
    "AdamW": lambda ps: optim.AdamW(ps, lr=0.05),
    "RMSprop": lambda ps: optim.RMSprop(ps, lr=0.01),
    "Adagrad": lambda ps: optim.Adagrad(ps, lr=0.3),
}


def train_accuracy(x, y, make, hidden, activation, steps) -> float:
    model = nn.MLP(2, hidden, 2, activation=activation, generator=ag.Generator().manual_seed(0))
    opt = make(model.parameters())
    inputs, targets = ag.tensor(x), ag.tensor(y)
    for _ in range(steps):
        opt.zero_grad()
        nn.functional.cross_entropy(model(inputs), targets).backward()
        opt.step()
    with ag.no_grad():
        return float((model(inputs).data.argmax(axis=1) == y).mean())


@pytest.mark.parametrize("name", LEARNERS)
def test_mlp_learns_xor(name):
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([0, 1, 1, 0])
    assert train_accuracy(x, y, LEARNERS[name], [8], "tanh", 150) == 1.0


@pytest.mark.parametrize("name", ["SGD-momentum", "Adam", "RMSprop"])
def test_mlp_learns_two_moons(name):
    datasets = pytest.importorskip("sklearn.datasets")
    x, y = datasets.make_moons(200, noise=0.1, random_state=0)
    assert train_accuracy(x.astype(np.float32), y, LEARNERS[name], [16, 16], "relu", 300) > 0.95


# --------------------------------------------------------------- save and resume
RESUMABLE = [
    lambda ps: optim.SGD(ps, lr=0.02, momentum=0.9, nesterov=True, weight_decay=0.1),
    lambda ps: optim.Adam(ps, lr=0.05, amsgrad=True, weight_decay=0.1),
    lambda ps: optim.AdamW(ps, lr=0.05),
    lambda ps: optim.RMSprop(ps, lr=0.01, centered=True, momentum=0.9),
    lambda ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.01),
]


def _model_and_batch():
    model = nn.MLP(3, [6], 2, generator=ag.Generator().manual_seed(1))
    rng = np.random.default_rng(2)
    x = ag.tensor(rng.standard_normal((16, 3)).astype(np.float32))
    return model, x, ag.tensor(rng.integers(0, 2, 16))


def _train(model, opt, x, y, steps, scheduler=None):
    for _ in range(steps):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        if scheduler is not None:
            scheduler.step()


@pytest.mark.parametrize("make", RESUMABLE, ids=["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_state_dict_round_trip_resumes_bit_identically(make):
    model, x, y = _model_and_batch()
    opt = make(model.parameters())
    scheduler = lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    _train(model, opt, x, y, 7, scheduler)
    # a checkpoint, through pickle as if saved to disk
    saved = pickle.dumps(
        (model.state_dict(), opt.state_dict(), scheduler.state_dict()),
        protocol=pickle.HIGHEST_PROTOCOL,
    )
    _train(model, opt, x, y, 8, scheduler)  # the uninterrupted run

    resumed, _, _ = _model_and_batch()  # a fresh start, then the checkpoint loaded
    resumed_opt = make(resumed.parameters())
    resumed_scheduler = lr_scheduler.StepLR(resumed_opt, step_size=3, gamma=0.5)
    model_state, opt_state, scheduler_state = pickle.loads(saved)
    resumed.load_state_dict(model_state)
    resumed_opt.load_state_dict(opt_state)
    resumed_scheduler.load_state_dict(scheduler_state)
    _train(resumed, resumed_opt, x, y, 8, resumed_scheduler)

    for (name, a), b in zip(model.named_parameters(), resumed.parameters()):
        assert np.array_equal(a.data, b.data), name
    assert resumed_opt.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    assert resumed_opt.state_dict()["steps"] == opt.state_dict()["steps"] == 15


def test_state_dict_is_a_snapshot_in_pytorch_layout():
    w, c = ag.zeros(3, requires_grad=True), ag.zeros(2, requires_grad=True)
    frozen = ag.zeros(1, requires_grad=True)  # never gets a gradient: no state
    opt = optim.Adam([{"params": [w, frozen]}, {"params": [c], "lr": 0.5}], lr=0.1)
    w.grad, c.grad = ag.ones(3), ag.ones(2)
    opt.step()
    saved = opt.state_dict()
    assert sorted(saved["state"]) == [0, 2]
    assert saved["state"][0]["step"] == 1
    assert [g["params"] for g in saved["param_groups"]] == [[0, 1], [2]]
    assert [g["lr"] for g in saved["param_groups"]] == [0.1, 0.5]
    before = saved["state"][0]["exp_avg"].copy()
    opt.step()
    np.testing.assert_array_equal(saved["state"][0]["exp_avg"], before)  # not aliased


def test_load_state_dict_copies_and_casts_to_the_parameters_dtype():
    p64 = ag.ones(3, dtype=ag.float64, requires_grad=True)
    opt64 = optim.SGD([p64], lr=0.1, momentum=0.9)
    p64.grad = ag.ones(3, dtype=ag.float64)
    opt64.step()
    saved = opt64.state_dict()
    p32 = ag.ones(3, requires_grad=True)
    opt32 = optim.SGD([p32], lr=0.5, momentum=0.9)
    opt32.load_state_dict(saved)
    buffer = opt32.state[p32]["momentum_buffer"]
    assert buffer.dtype == np.float32
    assert not np.shares_memory(buffer, saved["state"][0]["momentum_buffer"])
    assert opt32.param_groups[0]["lr"] == 0.1  # the saved hyperparameters win
    assert opt32.param_groups[0]["params"][0] is p32


def test_load_state_dict_rejects_a_different_layout():
    a, b = ag.ones(3, requires_grad=True), ag.ones(2, requires_grad=True)
    opt = optim.Adam([a, b])
    a.grad, b.grad = ag.ones(3), ag.ones(2)
    opt.step()
    saved = opt.state_dict()
    with pytest.raises(
        ValueError, match=r"number of parameter groups \(1\) than this optimizer \(2\)"
    ):
        optim.Adam([{"params": [a]}, {"params": [b]}]).load_state_dict(saved)
    with pytest.raises(ValueError, match="group 0 has 2 parameters, this optimizer's has 1"):
        optim.Adam([a]).load_state_dict(saved)
    with pytest.raises(ag.ShapeError, match="'exp_avg' of parameter 0 has shape \\(3,\\)"):
        optim.Adam([ag.ones(4, requires_grad=True), b]).load_state_dict(saved)


# ---------------------------------------------------------- groups, grads, zero_grad
def test_param_groups_keep_their_own_hyperparameters():
    w, c = ag.tensor(W0, requires_grad=True), ag.tensor(C0, requires_grad=True)
    opt = optim.SGD([{"params": [w]}, {"params": c, "lr": 0.5, "momentum": 0.9}], lr=0.1)
    assert opt.param_groups[0]["momentum"] == 0.0 and opt.param_groups[1]["lr"] == 0.5
    gw, gc = grads_of(W0, C0)
    w.grad, c.grad = ag.tensor(gw), ag.tensor(gc)
    opt.step()
    np.testing.assert_allclose(w.data, W0 - 0.1 * gw, rtol=1e-15)
    np.testing.assert_allclose(c.data, C0 - 0.5 * gc, rtol=1e-15)


def test_add_param_group():
    a, b = ag.ones(2, requires_grad=True), ag.ones(2, requires_grad=True)
    opt = optim.Adam([a], lr=0.1)
    opt.add_param_group({"params": [b], "lr": 0.01})
    assert opt.param_groups[1]["betas"] == (0.9, 0.999)  # defaults fill the rest
    a.grad, b.grad = ag.ones(2), ag.ones(2)
    opt.step()
    # Adam's first step moves each weight by lr (m̂ / sqrt(v̂) = 1)
    np.testing.assert_allclose(a.data, 0.9, rtol=1e-6)
    np.testing.assert_allclose(b.data, 0.99, rtol=1e-6)
    with pytest.raises(ValueError, match="appears twice"):
        opt.add_param_group({"params": [a]})


def test_parameters_without_grad_are_skipped():
    a, b = ag.ones(2, requires_grad=True), ag.ones(2, requires_grad=True)
    opt = optim.SGD([a, b], lr=0.1, momentum=0.9, weight_decay=0.1)
    a.grad = ag.ones(2)
    opt.step()
    np.testing.assert_array_equal(b.data, 1.0)
    assert b not in opt.state and a in opt.state
    assert not np.all(a.data == 1.0)


@pytest.mark.parametrize("cls", [optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop, optim.Adagrad])
def test_step_updates_in_place_and_records_nothing(cls):
    w = ag.tensor(W0, requires_grad=True)
    array = w.data
    opt = cls([w], lr=0.1)
    with ag.enable_grad():
        (w * w).sum().backward()
        opt.step()
    assert w.data is array and w.is_leaf and w.grad_fn is None and w.requires_grad
    assert not np.array_equal(array, W0)
    assert all(not isinstance(v, ag.Tensor) for v in opt.state[w].values())


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: optim.SGD(
            ps, lr=0.1, momentum=0.9, dampening=0.1, nesterov=False, weight_decay=0.1
        ),
        lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1),
        lambda ps: optim.Adam(ps, amsgrad=True, weight_decay=0.1),
        lambda ps: optim.AdamW(ps, amsgrad=True),
        lambda ps: optim.RMSprop(ps, centered=True, momentum=0.9, weight_decay=0.1),
        lambda ps: optim.Adagrad(ps, lr_decay=0.1, weight_decay=0.1),
    ],
    ids=["SGD", "SGD-nesterov", "Adam", "AdamW", "RMSprop", "Adagrad"],
)
def test_a_step_allocates_nothing_after_the_first(make):
    # the update runs in place on the state and on scratch arrays reused between steps
    w = ag.zeros(50_000, dtype=ag.float64, requires_grad=True)  # 400 kB
    w.grad = ag.tensor(np.linspace(-1, 1, 50_000))
    opt = make([w])
    opt.step()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        opt.step()
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak - before < 10_000, f"a step allocated up to {peak - before} bytes"
    assert current - before < 1_000


def test_zero_grad():
    a, b = ag.ones(3, requires_grad=True), ag.tensor(2.0, requires_grad=True)
    opt = optim.SGD([a, b], lr=0.1)
    (a.sum() * b).backward()
    (a.sum() * b).backward()  # b's 0-d gradient is now accumulated (a NumPy scalar)
    grad_array = a.grad.data
    opt.zero_grad(set_to_none=False)
    assert a.grad.data is grad_array and np.all(grad_array == 0)
    assert float(b.grad) == 0.0
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_closure_is_evaluated_with_recording_on():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with ag.no_grad():
        loss = opt.step(closure)
    assert float(loss) == 5.0
    np.testing.assert_allclose(w.data, [0.5, 1.0])


def test_a_zero_dim_parameter_is_updated_in_place():
    w = (ag.tensor(3.0) * 1.0).detach().requires_grad_()  # data is a NumPy scalar
    opt = optim.SGD([w], lr=0.25)
    (w * w).backward()
    opt.step()
    assert float(w) == 1.5 and w.data.shape == ()


def test_repr_lists_the_groups():
    text = repr(optim.SGD([ag.ones(1, requires_grad=True)], lr=0.1, momentum=0.9))
    assert text.startswith("SGD (") and "Parameter Group 0" in text and "momentum: 0.9" in text


# ------------------------------------------------------------------------- devices
@pytest.mark.parametrize("make", RESUMABLE, ids=["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_updates_on_the_parameters_device(make, device):
    def run(on):
        w = ag.tensor(W0, requires_grad=True, device=on)
        c = ag.tensor(C0, requires_grad=True, device=on)
        opt = make([w, c])
        x, y = ag.tensor(X, device=on), ag.tensor(Y, device=on)
        for _ in range(3):
            opt.zero_grad(set_to_none=False)
            ((x @ w + c - y) ** 2).sum().backward()
            clip_grad_norm_([w, c], 5.0)
            opt.step()
        return w, c, opt

    def assert_state_on(opt):
        for state in opt.state.values():
            for key, value in state.items():
                if key != "step":
                    assert_on(ag.Tensor(value), device, f"state {key!r}")

    w, c, opt = run(device)
    assert_on(w, device, "the updated parameter")
    assert_state_on(opt)
    restored = make([w, c])
    restored.load_state_dict(opt.state_dict())
    assert_state_on(restored)
    w_cpu, c_cpu, _ = run("cpu")
    np.testing.assert_allclose(w.cpu().numpy(), w_cpu.numpy(), rtol=1e-12)
    np.testing.assert_allclose(c.cpu().numpy(), c_cpu.numpy(), rtol=1e-12)


# -------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: optim.SGD(p, lr=-0.1), "SGD: invalid lr -0.1: must be a number >= 0"),
        (lambda p: optim.SGD(p), "required hyperparameter 'lr'"),
        (lambda p: optim.SGD(p, lr=0.1, momentum=-1), "invalid momentum -1"),
        (
            lambda p: optim.SGD(p, lr=0.1, dampening=2),
            r"invalid dampening 2: must be a number in \[0, 1\]",
        ),
        (lambda p: optim.SGD(p, lr=0.1, weight_decay=-1e-4), "invalid weight_decay"),
        (lambda p: optim.SGD(p, lr=0.1, nesterov=True), "Nesterov momentum requires momentum > 0"),
        (
            lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
            "dampening = 0",
        ),
        (lambda p: optim.SGD(p, lr=float("nan")), "invalid lr nan"),
        (lambda p: optim.SGD(p, lr="0.1"), "invalid lr '0.1'"),
        (lambda p: optim.Adam(p, lr=-1e-3), "Adam: invalid lr"),
        (
            lambda p: optim.Adam(p, betas=(1.0, 0.999)),
            r"invalid betas\[0\] 1.0: must be a number in \[0, 1\)",
        ),
        (lambda p: optim.Adam(p, betas=(0.9, -0.1)), r"invalid betas\[1\] -0.1"),
        (lambda p: optim.Adam(p, betas=0.9), "betas must be a pair"),
        (lambda p: optim.Adam(p, eps=-1e-8), "invalid eps"),
        (lambda p: optim.AdamW(p, weight_decay=-0.01), "AdamW: invalid weight_decay"),
        (lambda p: optim.RMSprop(p, alpha=1.5), "RMSprop: invalid alpha 1.5"),
        (lambda p: optim.RMSprop(p, momentum=-0.5), "invalid momentum"),
        (lambda p: optim.RMSprop(p, eps=-1.0), "invalid eps"),
        (lambda p: optim.Adagrad(p, lr_decay=-0.1), "Adagrad: invalid lr_decay"),
        (
            lambda p: optim.Adagrad(p, initial_accumulator_value=-1),
            "invalid initial_accumulator_value",
        ),
    ],
)
def test_bad_hyperparameters_are_rejected(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make([ag.ones(2, requires_grad=True)])


def test_bad_parameter_lists_are_rejected():
    p = ag.ones(2, requires_grad=True)
    with pytest.raises(TypeError, match="got a single Tensor"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])
    with pytest.raises(TypeError, match="ordered collection"):
        optim.Adam([{"params": {p}}])
    with pytest.raises(TypeError, match="can only optimize Tensors, but parameter 1"):
        optim.Adam([p, np.ones(2)])
    with pytest.raises(ValueError, match=r"non-leaf Tensor.*mul"):
        optim.Adam([p * 2])
    with pytest.raises(ValueError, match="appears twice"):
        optim.Adam([p, p])
    with pytest.raises(ValueError, match="appears twice"):
        optim.Adam([{"params": [p]}, {"params": [p], "lr": 0.1}])
    with pytest.raises(ValueError, match="needs a 'params' entry"):
        optim.Adam([{"lr": 0.1}])
    with pytest.raises(ValueError, match="invalid lr -1"):
        optim.Adam([{"params": [p], "lr": -1}])


def test_a_gradient_of_the_wrong_shape_is_named():
    p = ag.ones(3, requires_grad=True)
    p.grad = ag.ones(3)
    p.grad.data = np.ones(2, np.float32)  # a raw write: the grad setter cannot check it
    with pytest.raises(ag.ShapeError, match=r"shape \(3,\) but its grad has shape \(2,\)"):
        optim.Adam([p]).step()


# ------------------------------------------------------------------- clipping
def _with_grads(*grads):
    params = []
    for g in grads:
        p = ag.zeros(np.shape(g), dtype=ag.float64, requires_grad=True)
        p.grad = ag.tensor(g, dtype=ag.float64)
        params.append(p)
    return params


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
def test_clip_grad_norm_scales_all_gradients_together(norm_type):
    g1, g2 = np.array([[3.0, -4.0], [1.0, 2.0]]), np.array([-12.0])
    params = _with_grads(g1, g2)
    everything = np.concatenate([g1.ravel(), g2])
    expected = np.linalg.norm(everything, ord=norm_type)
    total = clip_grad_norm_(params, 2.0, norm_type=norm_type)
    assert isinstance(total, ag.Tensor) and total.dtype == np.float64
    np.testing.assert_allclose(float(total), expected, rtol=1e-14)
    factor = 2.0 / (expected + 1e-6)
    np.testing.assert_allclose(params[0].grad.data, g1 * factor, rtol=1e-14)
    np.testing.assert_allclose(params[1].grad.data, g2 * factor, rtol=1e-14)


def test_clip_grad_norm_leaves_small_gradients_alone():
    (p,) = _with_grads([0.3, -0.4])
    assert float(clip_grad_norm_(p, 1.0)) == pytest.approx(0.5)
    np.testing.assert_array_equal(p.grad.data, [0.3, -0.4])


def test_clip_grad_norm_skips_parameters_without_grad_and_handles_none():
    (p,) = _with_grads([3.0, 4.0])
    bare = ag.ones(2, requires_grad=True)
    assert float(clip_grad_norm_([p, bare], 1.0)) == pytest.approx(5.0)
    assert bare.grad is None
    assert float(clip_grad_norm_([bare], 1.0)) == 0.0


def test_clip_grad_norm_nonfinite():
    (p,) = _with_grads([np.nan, 1.0])
    with pytest.raises(RuntimeError, match=r"of order 2.0 of the gradients is nan"):
        clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    assert math.isnan(float(clip_grad_norm_(p, 1.0)))  # scaled by NaN, as in PyTorch
    assert np.isnan(p.grad.data).all()
    (q,) = _with_grads([np.inf, 1.0])
    with pytest.raises(RuntimeError, match="inf"):
        clip_grad_norm_(q, 1.0, error_if_nonfinite=True)
    with pytest.raises(ValueError, match="norm_type must be > 0"):
        clip_grad_norm_(q, 1.0, norm_type=0)


def test_clip_grad_norm_of_an_accumulated_zero_dim_gradient():
    b = ag.tensor(2.0, requires_grad=True)
    (b * 3.0).backward()
    (b * 3.0).backward()  # grad 6, held as a NumPy scalar
    assert float(clip_grad_norm_(b, 3.0)) == 6.0
    assert float(b.grad) == pytest.approx(3.0, rel=1e-6)


def test_clip_grad_value_():
    p, q = _with_grads([[-3.0, 0.5], [2.0, -0.1]], [7.0])
    bare = ag.ones(1, requires_grad=True)
    grad_array = p.grad.data
    assert clip_grad_value_([p, q, bare], 1.0) is None
    assert p.grad.data is grad_array  # in place
    np.testing.assert_array_equal(p.grad.data, [[-1.0, 0.5], [1.0, -0.1]])
    np.testing.assert_array_equal(q.grad.data, [1.0])
    with pytest.raises(ValueError, match="clip_value must be >= 0"):
        clip_grad_value_(p, -1.0)


# ------------------------------------------------------------- PyTorch parity
def _torch_trajectory(torch, cls_name, kwargs, steps=STEPS):
    w = torch.tensor(W0, requires_grad=True)
    c = torch.tensor(C0, requires_grad=True)
    opt = getattr(torch.optim, cls_name)([w, c], **kwargs)
    x, y = torch.tensor(X), torch.tensor(Y)
    for _ in range(steps):
        opt.zero_grad()
        ((x @ w + c - y) ** 2).sum().backward()
        opt.step()
    return [w.detach().numpy(), c.detach().numpy()]


TORCH_CASES = [(cls, kwargs) for cls, _, kwargs in CASES] + [(optim.AdamW, k) for k in ADAMW_CASES]


@pytest.mark.parametrize(
    "cls, kwargs", TORCH_CASES, ids=[_case_id((c, None, k)) for c, k in TORCH_CASES]
)
def test_trajectory_matches_torch_optim(cls, kwargs):
    torch = pytest.importorskip("torch")
    w, c = ag.tensor(W0, requires_grad=True), ag.tensor(C0, requires_grad=True)
    opt = cls([w, c], **kwargs)
    x, y = ag.tensor(X), ag.tensor(Y)
    for _ in range(STEPS):
        opt.zero_grad()
        ((x @ w + c - y) ** 2).sum().backward()
        opt.step()
    expected = _torch_trajectory(torch, cls.__name__, kwargs)
    np.testing.assert_allclose(w.data, expected[0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(c.data, expected[1], rtol=1e-12, atol=1e-14)


def test_state_matches_torch_optim_state_dict():
    torch = pytest.importorskip("torch")
    kwargs = {"lr": 0.05, "amsgrad": True, "weight_decay": 0.1}
    w = ag.tensor(W0, requires_grad=True)
    opt = optim.Adam([w], **kwargs)
    tw = torch.tensor(W0, requires_grad=True)
    topt = torch.optim.Adam([tw], **kwargs)
    for _ in range(5):
        w.grad, tw.grad = ag.tensor(2 * W0), torch.tensor(2 * W0)
        opt.step()
        topt.step()
    ours, theirs = opt.state_dict(), topt.state_dict()
    assert ours["state"][0].keys() == theirs["state"][0].keys()
    assert ours["state"][0]["step"] == int(theirs["state"][0]["step"])
    for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
        np.testing.assert_allclose(
            ours["state"][0][key], theirs["state"][0][key].numpy(), rtol=1e-13
        )
    theirs_group = {
        k: v for k, v in theirs["param_groups"][0].items() if k in ours["param_groups"][0]
    }
    assert theirs_group == ours["param_groups"][0]


def test_float32_mlp_trajectory_matches_torch():
    torch = pytest.importorskip("torch")
    model, x, y = _model_and_batch()
    reference = torch.nn.Sequential(torch.nn.Linear(3, 6), torch.nn.ReLU(), torch.nn.Linear(6, 2))
    with torch.no_grad():
        for ours, theirs in zip(model.parameters(), reference.parameters()):
            theirs.copy_(torch.from_numpy(ours.data.copy()))
    opt = optim.RMSprop(model.parameters(), lr=0.01, momentum=0.5)
    topt = torch.optim.RMSprop(reference.parameters(), lr=0.01, momentum=0.5)
    tx, ty = torch.from_numpy(x.data), torch.from_numpy(y.data)
    for _ in range(10):
        _train(model, opt, x, y, 1)
        topt.zero_grad()
        torch.nn.functional.cross_entropy(reference(tx), ty).backward()
        topt.step()
    for ours, theirs in zip(model.parameters(), reference.parameters()):
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-4, atol=1e-5)


def test_clip_grad_norm_matches_torch():
    torch = pytest.importorskip("torch")
    grads = [np.random.default_rng(5).standard_normal(s) for s in [(4, 3), (3,), ()]]
    for norm_type in (2.0, 1.0, 3.5, math.inf):
        params = _with_grads(*grads)
        tparams = [torch.zeros(np.shape(g), dtype=torch.float64, requires_grad=True) for g in grads]
        for tp, g in zip(tparams, grads):
            tp.grad = torch.tensor(g)
        total = clip_grad_norm_(params, 1.5, norm_type)
        expected = torch.nn.utils.clip_grad_norm_(tparams, 1.5, norm_type)
        np.testing.assert_allclose(float(total), float(expected), rtol=1e-13)
        for p, tp in zip(params, tparams):
            np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), rtol=1e-13)


def test_subnormal_parameters_and_buffers_are_flushed_to_zero():
    # ridge + RMSprop drives weights of always-zero inputs into float32 subnormals, which
    # x86 CPUs compute on many times slower: every FLUSH_SUBNORMALS_EVERY steps they become 0
    from optim.optimizer import FLUSH_SUBNORMALS_EVERY

    tiny = np.finfo(np.float32).tiny
    w = ag.tensor(np.array([tiny / 4, -tiny / 8, 1.0, tiny], dtype=np.float32), requires_grad=True)
    opt = optim.RMSprop([w], lr=1e-30, alpha=0.9, eps=1e-7)
    for step in range(1, FLUSH_SUBNORMALS_EVERY + 1):
        w.grad = ag.tensor(np.array([tiny / 2, 0.0, 0.0, 0.0], dtype=np.float32))
        opt.step()
        if step < FLUSH_SUBNORMALS_EVERY:
            assert w.data[0] != 0 and w.data[1] != 0  # untouched until the flush step
    np.testing.assert_array_equal(w.numpy(), np.array([0, 0, 1, tiny], dtype=np.float32))
    assert np.all(opt.state[w]["square_avg"] == 0)  # (tiny/2)^2 underflows; nothing subnormal
