"""Learning-rate schedulers: each sequence equals its closed form, the rates reach the
optimizer's steps, state saves and resumes, bad arguments get clear errors, and (with PyTorch
installed) the sequences equal torch.optim.lr_scheduler's."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

import autograd as ag
import optim
from optim import lr_scheduler as S

EPOCHS = 40
BASE_LRS = [0.1, 0.03]  # two parameter groups with their own base rate


def make_optimizer(lrs=BASE_LRS):
    groups = [{"params": [ag.zeros(2, requires_grad=True)], "lr": lr} for lr in lrs]
    return optim.SGD(groups, lr=lrs[0])


def lr_sequence(scheduler, epochs=EPOCHS):
    """The rates of each group at epochs 0 .. epochs-1 (epoch 0 is set on construction)."""
    rates = []
    for _ in range(epochs):
        rates.append([g["lr"] for g in scheduler.optimizer.param_groups])
        assert scheduler.get_last_lr() == rates[-1]
        scheduler.step()
    return np.array(rates)


def closed_form(factor, epochs=EPOCHS):
    return np.array([[base * factor(t) for base in BASE_LRS] for t in range(epochs)])


SCHEDULES = {
    "StepLR": (
        lambda opt: S.StepLR(opt, step_size=7, gamma=0.5),
        lambda t: 0.5 ** (t // 7),
    ),
    "MultiStepLR": (
        lambda opt: S.MultiStepLR(opt, milestones=[25, 5, 12, 12], gamma=0.2),
        lambda t: 0.2 ** ((t >= 5) + 2 * (t >= 12) + (t >= 25)),
    ),
    "ExponentialLR": (lambda opt: S.ExponentialLR(opt, gamma=0.9), lambda t: 0.9**t),
    "LambdaLR": (lambda opt: S.LambdaLR(opt, lambda t: 1 / (1 + t)), lambda t: 1 / (1 + t)),
    "LinearLR": (
        lambda opt: S.LinearLR(opt, start_factor=0.25, end_factor=1.0, total_iters=8),
        lambda t: 0.25 + 0.75 * min(t, 8) / 8,
    ),
    "LinearLR-decay": (
        lambda opt: S.LinearLR(opt, start_factor=1.0, end_factor=0.1, total_iters=10),
        lambda t: 1.0 - 0.9 * min(t, 10) / 10,
    ),
}


@pytest.mark.parametrize("name", SCHEDULES)
def test_sequence_equals_the_closed_form(name):
    make, factor = SCHEDULES[name]
    got = lr_sequence(make(make_optimizer()))
    np.testing.assert_allclose(got, closed_form(factor), rtol=1e-15, atol=0)


def test_cosine_annealing_equals_the_closed_form_past_t_max():
    eta_min, t_max = 0.001, 15
    got = lr_sequence(S.CosineAnnealingLR(make_optimizer(), T_max=t_max, eta_min=eta_min))
    expected = np.array(
        [
            [
                eta_min + (base - eta_min) * (1 + math.cos(math.pi * t / t_max)) / 2
                for base in BASE_LRS
            ]
            for t in range(EPOCHS)
        ]
    )
    np.testing.assert_allclose(got, expected, rtol=1e-15, atol=0)
    assert got[t_max] == pytest.approx([eta_min, eta_min])


def test_lambda_lr_takes_one_function_per_group():
    opt = make_optimizer()
    got = lr_sequence(S.LambdaLR(opt, [lambda t: 0.5**t, lambda t: t + 1]))
    expected = np.array([[0.1 * 0.5**t, 0.03 * (t + 1)] for t in range(EPOCHS)])
    np.testing.assert_allclose(got, expected, rtol=1e-15)


def test_sequential_lr_runs_a_linear_warm_up_then_a_cosine_decay():
    opt = make_optimizer()
    warmup = S.LinearLR(opt, start_factor=0.01, total_iters=5)
    decay = S.CosineAnnealingLR(opt, T_max=30)
    got = lr_sequence(S.SequentialLR(opt, [warmup, decay], milestones=[5]))

    def factor(t):
        if t < 5:
            return 0.01 + 0.99 * t / 5
        return (1 + math.cos(math.pi * (t - 5) / 30)) / 2

    np.testing.assert_allclose(got, closed_form(factor), rtol=1e-15, atol=1e-18)


def test_the_rate_reaches_the_update():
    # plain SGD on the gradient 1 moves the weight by exactly the scheduled rate each step
    w = ag.zeros(1, dtype=ag.float64, requires_grad=True)
    opt = optim.SGD([w], lr=1.0)
    scheduler = S.StepLR(opt, step_size=2, gamma=0.1)
    moves = []
    for _ in range(6):
        before = float(w)
        w.grad = ag.ones(1, dtype=ag.float64)
        opt.step()
        moves.append(before - float(w))
        scheduler.step()
    np.testing.assert_allclose(moves, [1, 1, 0.1, 0.1, 0.01, 0.01], rtol=1e-12)


def test_base_rates_come_from_initial_lr():
    opt = make_optimizer()
    S.ExponentialLR(opt, gamma=0.5).step()  # lr is now half of it
    assert [g["initial_lr"] for g in opt.param_groups] == BASE_LRS
    second = S.StepLR(opt, step_size=100)
    # the base rates are the initial ones; the second scheduler composes with the first (as
    # torch.optim.lr_scheduler does): it keeps the halved rate instead of resetting it
    assert second.base_lrs == BASE_LRS
    assert second.get_last_lr() == pytest.approx([b * 0.5 for b in BASE_LRS], rel=1e-15)


@pytest.mark.parametrize("name", [*SCHEDULES, "Sequential"])
def test_state_dict_resumes_the_schedule(name):
    def build():
        opt = make_optimizer()
        if name == "Sequential":
            parts = [S.LinearLR(opt, total_iters=4), S.ExponentialLR(opt, gamma=0.8)]
            return S.SequentialLR(opt, parts, milestones=[4])
        return SCHEDULES[name][0](opt)

    original = build()
    for _ in range(9):
        original.step()
    saved = pickle.dumps(original.state_dict())
    rest = lr_sequence(original, 10)
    resumed = build()
    resumed.load_state_dict(pickle.loads(saved))
    np.testing.assert_array_equal(lr_sequence(resumed, 10), rest)


# ------------------------------------------------------------------ ReduceLROnPlateau
def plateau_rates(metrics, lrs=(1.0,), **kwargs):
    opt = make_optimizer(lrs=list(lrs))
    scheduler = S.ReduceLROnPlateau(opt, **kwargs)
    rates = []
    for m in metrics:
        scheduler.step(m)
        rates.append(scheduler.get_last_lr()[0])
        assert rates[-1] == opt.param_groups[0]["lr"]
    return rates


def test_plateau_waits_patience_epochs_then_reduces():
    # best 1.0 at epoch 1; epochs 2-4 are bad: the 3rd bad epoch exceeds patience 2
    rates = plateau_rates([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], patience=2, factor=0.5)
    assert rates == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]


def test_plateau_improvements_reset_the_count():
    rates = plateau_rates([5, 4, 4, 3, 3, 3, 3], patience=2, factor=0.1)
    assert rates == [1.0] * 6 + [pytest.approx(0.1)]


def test_plateau_cooldown_and_min_lr():
    rates = plateau_rates([1.0] * 9, patience=0, factor=0.5, cooldown=2, min_lr=0.2)
    # reduce at epoch 2 (first bad epoch), then 2 cooldown epochs, reduce, cooldown, min_lr
    assert rates == [1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.2, 0.2]


@pytest.mark.parametrize(
    "mode, threshold_mode, metrics, expected",
    [
        # patience 1: the second bad epoch in a row reduces
        # rel, min: 0.95 improves on 1.0 only if below 1.0 * (1 - 0.1)
        ("min", "rel", [1.0, 0.95, 0.95], [1.0, 1.0, 0.1]),
        ("min", "rel", [1.0, 0.85, 0.8], [1.0, 1.0, 1.0]),
        # abs, min: improves if below best - 0.1
        ("min", "abs", [1.0, 0.95, 0.89], [1.0, 1.0, 1.0]),
        # max modes, for accuracies
        ("max", "rel", [0.5, 0.54, 0.56], [1.0, 1.0, 1.0]),
        ("max", "rel", [0.5, 0.54, 0.54], [1.0, 1.0, 0.1]),
        ("max", "abs", [0.5, 0.55, 0.61], [1.0, 1.0, 1.0]),
    ],
)
def test_plateau_threshold_modes(mode, threshold_mode, metrics, expected):
    rates = plateau_rates(
        metrics, mode=mode, threshold_mode=threshold_mode, threshold=0.1, patience=1
    )
    assert rates == pytest.approx(expected)


def test_plateau_per_group_min_lr_and_eps():
    opt = make_optimizer(lrs=[1.0, 1e-8])
    scheduler = S.ReduceLROnPlateau(opt, patience=0, min_lr=[0.5, 0.0])
    for m in [1.0, 1.0, 1.0]:
        scheduler.step(m)
    # group 0 stops at its min_lr; group 1 does not move by less than eps = 1e-8
    assert scheduler.get_last_lr() == [0.5, 1e-8]


def test_plateau_state_dict_round_trip():
    opt = make_optimizer(lrs=[1.0])
    scheduler = S.ReduceLROnPlateau(opt, patience=1, cooldown=1)
    for m in [3, 2, 2, 2]:
        scheduler.step(m)
    saved = pickle.loads(pickle.dumps(scheduler.state_dict()))
    fresh = S.ReduceLROnPlateau(make_optimizer(lrs=[1.0]), patience=1, cooldown=1)
    fresh.load_state_dict(saved)
    fresh.optimizer.param_groups[0]["lr"] = opt.param_groups[0]["lr"]
    for m in [2, 2, 2, 1, 1, 1]:
        scheduler.step(m)
        fresh.step(m)
        assert fresh.get_last_lr() == scheduler.get_last_lr()


# -------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "make, error, message",
    [
        (
            lambda o: S.StepLR(o, step_size=0),
            ValueError,
            "StepLR: invalid step_size 0: must be an integer >= 1",
        ),
        (lambda o: S.StepLR(o, step_size=2.5), ValueError, "must be an integer"),
        (
            lambda o: S.StepLR(o, 3, gamma=0),
            ValueError,
            "StepLR: invalid gamma 0: must be a number > 0",
        ),
        (lambda o: S.MultiStepLR(o, [3, 1.5]), ValueError, r"invalid milestones\[1\] 1.5"),
        (lambda o: S.ExponentialLR(o, gamma=-0.5), ValueError, "ExponentialLR: invalid gamma"),
        (lambda o: S.CosineAnnealingLR(o, T_max=0), ValueError, "invalid T_max 0"),
        (lambda o: S.CosineAnnealingLR(o, 10, eta_min=-1), ValueError, "invalid eta_min -1"),
        (lambda o: S.LambdaLR(o, [lambda t: 1.0]), ValueError, "expected 2 lr_lambdas"),
        (lambda o: S.LambdaLR(o, 0.5), TypeError, "lr_lambda must be a function"),
        (
            lambda o: S.LinearLR(o, start_factor=0),
            ValueError,
            r"start_factor 0: must be a number in \(0, 1\]",
        ),
        (lambda o: S.LinearLR(o, end_factor=1.5), ValueError, "invalid end_factor 1.5"),
        (lambda o: S.LinearLR(o, total_iters=0), ValueError, "invalid total_iters 0"),
        (lambda o: S.SequentialLR(o, [], []), ValueError, "at least one scheduler"),
        (
            lambda o: S.SequentialLR(o, [S.StepLR(o, 2), S.StepLR(o, 3)], []),
            ValueError,
            "expected 1 milestones",
        ),
        (
            lambda o: S.SequentialLR(o, [S.StepLR(o, 2), S.StepLR(o, 3), S.StepLR(o, 4)], [5, 5]),
            ValueError,
            "must increase",
        ),
        (
            lambda o: S.SequentialLR(o, [S.StepLR(make_optimizer(), 2)], []),
            ValueError,
            "of the same optimizer",
        ),
        (
            lambda o: S.StepLR(object(), 2),
            TypeError,
            "StepLR: expected an optim.Optimizer, got object",
        ),
        (lambda o: S.ReduceLROnPlateau(o, mode="up"), ValueError, "mode must be 'min' or 'max'"),
        (
            lambda o: S.ReduceLROnPlateau(o, threshold_mode="pct"),
            ValueError,
            "threshold_mode must be",
        ),
        (
            lambda o: S.ReduceLROnPlateau(o, factor=1.0),
            ValueError,
            r"invalid factor 1.0: must be a number in \[0, 1\)",
        ),
        (lambda o: S.ReduceLROnPlateau(o, patience=-1), ValueError, "invalid patience -1"),
        (lambda o: S.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, "expected 2 min_lrs"),
        (lambda o: S.ReduceLROnPlateau(o, min_lr=-1.0), ValueError, r"invalid min_lr\[0\]"),
    ],
)
def test_bad_arguments_are_rejected(make, error, message):
    with pytest.raises(error, match=message):
        make(make_optimizer())


# ----------------------------------------------------------------- PyTorch parity
TORCH_SCHEDULES = [
    ("StepLR", {"step_size": 7, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [25, 5, 12, 12], "gamma": 0.2}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("CosineAnnealingLR", {"T_max": 15, "eta_min": 0.001}),
    ("LinearLR", {"start_factor": 0.25, "total_iters": 8}),
    ("LinearLR", {"start_factor": 1.0, "end_factor": 0.1, "total_iters": 10}),
]


def _torch_optimizer(torch):
    groups = [{"params": [torch.zeros(2, requires_grad=True)], "lr": lr} for lr in BASE_LRS]
    return torch.optim.SGD(groups, lr=BASE_LRS[0])


def _torch_sequence(scheduler, epochs=EPOCHS):
    rates = []
    for _ in range(epochs):
        rates.append([g["lr"] for g in scheduler.optimizer.param_groups])
        scheduler.optimizer.step()  # torch warns if the scheduler steps first
        scheduler.step()
    return np.array(rates)


@pytest.mark.parametrize("name, kwargs", TORCH_SCHEDULES, ids=[n for n, _ in TORCH_SCHEDULES])
def test_sequence_matches_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    ours = lr_sequence(getattr(S, name)(make_optimizer(), **kwargs))
    theirs = _torch_sequence(
        getattr(torch.optim.lr_scheduler, name)(_torch_optimizer(torch), **kwargs)
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


def test_lambda_and_sequential_match_torch():
    torch = pytest.importorskip("torch")
    lambdas = [lambda t: 0.95**t, lambda t: 1 / (t + 1)]
    ours = lr_sequence(S.LambdaLR(make_optimizer(), lambdas))
    theirs = _torch_sequence(torch.optim.lr_scheduler.LambdaLR(_torch_optimizer(torch), lambdas))
    np.testing.assert_allclose(ours, theirs, rtol=1e-15)

    opt = make_optimizer()
    ours = lr_sequence(
        S.SequentialLR(
            opt, [S.LinearLR(opt, 0.1, total_iters=5), S.CosineAnnealingLR(opt, 20)], [5]
        )
    )
    topt = _torch_optimizer(torch)
    T = torch.optim.lr_scheduler
    theirs = _torch_sequence(
        T.SequentialLR(
            topt, [T.LinearLR(topt, 0.1, total_iters=5), T.CosineAnnealingLR(topt, 20)], [5]
        )
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


def test_plateau_matches_torch():
    torch = pytest.importorskip("torch")
    metrics = np.random.default_rng(0).uniform(0.5, 1.0, 60).round(2)
    for kwargs in [
        {"patience": 2, "factor": 0.5},
        {"mode": "max", "patience": 1, "cooldown": 2, "threshold": 0.05, "min_lr": [0.02, 0.001]},
        {"threshold_mode": "abs", "threshold": 0.01, "patience": 0, "eps": 1e-3},
    ]:
        ours = S.ReduceLROnPlateau(make_optimizer(), **kwargs)
        topt = _torch_optimizer(torch)
        theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
        for m in metrics:
            ours.step(m)
            topt.step()
            theirs.step(float(m))
            assert ours.get_last_lr() == theirs.get_last_lr()
