"""Deliberate choices, and the switches around them: learning-rate schedulers compose on one
optimizer as PyTorch's do; the flush of subnormal numbers every 16 optimizer steps can be
turned off."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd as ag
import optim
from optim import lr_scheduler as S
from optim.optimizer import FLUSH_SUBNORMALS_EVERY

BASE_LRS = [0.1, 0.03]


def make_optimizer():
    groups = [{"params": [ag.zeros(2, requires_grad=True)], "lr": lr} for lr in BASE_LRS]
    return optim.SGD(groups, lr=BASE_LRS[0])


def rates(opt, schedulers, epochs, edit=None):
    """The rate of each group at each epoch, stepping every scheduler once per epoch."""
    out = []
    for epoch in range(epochs):
        if edit is not None:
            edit(epoch, opt)
        out.append([g["lr"] for g in opt.param_groups])
        for s in schedulers:
            s.step()
    return np.array(out)


# ---------------------------------------------------------------- composing schedules
def test_linear_then_step_multiplies_the_factors():
    opt = make_optimizer()
    warm = S.LinearLR(opt, start_factor=0.1, total_iters=4)
    decay = S.StepLR(opt, step_size=3, gamma=0.5)
    got = rates(opt, [warm, decay], 10)
    linear = [0.1 + 0.9 * min(t, 4) / 4 for t in range(10)]
    step = [0.5 ** (t // 3) for t in range(10)]
    expected = np.array([[b * f * g for b in BASE_LRS] for f, g in zip(linear, step)])
    np.testing.assert_allclose(got, expected, rtol=1e-13)
    assert got[0, 0] == pytest.approx(0.01)  # not 0.1: the second scheduler keeps the warm-up


def test_a_single_scheduler_is_its_closed_form_exactly():
    opt = make_optimizer()
    got = rates(opt, [S.ExponentialLR(opt, gamma=0.9)], 40)
    expected = np.array([[b * 0.9**t for b in BASE_LRS] for t in range(40)])
    np.testing.assert_allclose(got, expected, rtol=1e-15, atol=0)


def test_a_change_by_hand_is_kept_by_the_schedule():
    opt = make_optimizer()
    scheduler = S.StepLR(opt, step_size=2, gamma=0.1)

    def halve_at_3(epoch, opt):
        if epoch == 3:
            for g in opt.param_groups:
                g["lr"] *= 0.5

    got = rates(opt, [scheduler], 6, edit=halve_at_3)
    factor = [1, 1, 0.1, 0.05, 0.005, 0.005]
    np.testing.assert_allclose(got[:, 0], [0.1 * f for f in factor], rtol=1e-13)


def test_lambda_lr_overwrites_as_in_pytorch():
    opt = make_optimizer()
    S.ExponentialLR(opt, gamma=0.5).step()
    lam = S.LambdaLR(opt, lambda t: 1.0)
    assert lam.get_last_lr() == BASE_LRS


def _torch_optimizer(torch):
    groups = [{"params": [torch.zeros(2, requires_grad=True)], "lr": lr} for lr in BASE_LRS]
    return torch.optim.SGD(groups, lr=BASE_LRS[0])


def _torch_rates(opt, schedulers, epochs, edit=None):
    out = []
    for epoch in range(epochs):
        if edit is not None:
            edit(epoch, opt)
        out.append([g["lr"] for g in opt.param_groups])
        opt.step()
        for s in schedulers:
            s.step()
    return np.array(out)


CHAINS = {
    "linear+step": lambda L, o: [L.LinearLR(o, 0.1, total_iters=4), L.StepLR(o, 3, 0.5)],
    "exp+multistep": lambda L, o: [L.ExponentialLR(o, 0.9), L.MultiStepLR(o, [2, 5], 0.3)],
    "cosine+exp": lambda L, o: [L.CosineAnnealingLR(o, 10, eta_min=0.01), L.ExponentialLR(o, 0.9)],
    "step+lambda": lambda L, o: [L.StepLR(o, 2, 0.5), L.LambdaLR(o, lambda t: 1 / (t + 1))],
    "sequential+exp": lambda L, o: [
        L.SequentialLR(o, [L.LinearLR(o, 0.2, total_iters=3), L.CosineAnnealingLR(o, 8)], [3]),
        L.ExponentialLR(o, 0.95),
    ],
}


@pytest.mark.parametrize("name", CHAINS)
def test_chained_schedulers_match_torch(name):
    torch = pytest.importorskip("torch")
    ours_opt = make_optimizer()
    ours = rates(ours_opt, CHAINS[name](S, ours_opt), 25)
    theirs_opt = _torch_optimizer(torch)
    theirs = _torch_rates(theirs_opt, CHAINS[name](torch.optim.lr_scheduler, theirs_opt), 25)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-15)


def test_hand_edits_match_torch():
    torch = pytest.importorskip("torch")

    def edit(epoch, opt):
        if epoch in (4, 9):
            for g in opt.param_groups:
                g["lr"] = g["lr"] * 0.3

    for make in (
        lambda L, o: [L.StepLR(o, 3, 0.5)],
        lambda L, o: [L.CosineAnnealingLR(o, 6, eta_min=0.001)],
        lambda L, o: [L.LinearLR(o, 0.5, total_iters=6)],
    ):
        ours_opt = make_optimizer()
        ours = rates(ours_opt, make(S, ours_opt), 20, edit)
        theirs_opt = _torch_optimizer(torch)
        theirs = _torch_rates(theirs_opt, make(torch.optim.lr_scheduler, theirs_opt), 20, edit)
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-15)


def test_a_chained_schedule_resumes_from_its_state_dict():
    def build():
        opt = make_optimizer()
        return opt, [S.LinearLR(opt, 0.1, total_iters=4), S.StepLR(opt, 3, 0.5)]

    opt, schedulers = build()
    rates(opt, schedulers, 5)
    saved = [s.state_dict() for s in schedulers]
    rest = rates(opt, schedulers, 6)
    opt2, again = build()
    for s, state in zip(again, saved):
        s.load_state_dict(state)
    np.testing.assert_allclose(rates(opt2, again, 6), rest, rtol=1e-15)
    assert math.isclose(rest[0, 0], 0.1 * 1.0 * 0.5)  # epoch 5: warm-up done, one decay


# ------------------------------------------------------------------ subnormal flush
def _subnormal_run(flush: bool | None):
    tiny = np.finfo(np.float32).tiny
    w = ag.tensor(np.array([tiny / 4, -tiny / 8, 1.0], dtype=np.float32), requires_grad=True)
    opt = optim.SGD([w], lr=1e-30)
    if flush is not None:
        opt.flush_subnormals = flush
    for _ in range(FLUSH_SUBNORMALS_EVERY):
        w.grad = ag.zeros(3)
        opt.step()
    return w.detach().numpy(), tiny


def test_subnormals_are_flushed_by_default():
    values, _ = _subnormal_run(None)
    np.testing.assert_array_equal(values, [0.0, 0.0, 1.0])
    assert optim.Optimizer.flush_subnormals is True


def test_the_flush_can_be_turned_off():
    values, tiny = _subnormal_run(False)
    np.testing.assert_array_equal(values, np.array([tiny / 4, -tiny / 8, 1.0], dtype=np.float32))
    assert values[0] != 0 and values[1] != 0  # subnormals kept, as PyTorch keeps them

    class NoFlushSGD(optim.SGD):
        flush_subnormals = False

    w = ag.tensor(np.array([tiny / 2], dtype=np.float32), requires_grad=True)
    opt = NoFlushSGD([w], lr=0.0)
    for _ in range(FLUSH_SUBNORMALS_EVERY):
        w.grad = ag.zeros(1)
        opt.step()
    assert w.detach().numpy()[0] == np.float32(tiny / 2)
