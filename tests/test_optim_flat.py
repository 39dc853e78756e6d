"""The optimizers' update of a whole group at once (``optim.flat``): a compiled step lays the
group's gradients end to end and the step updates them in one pass of each ufunc, with the
bits of eager's step parameter by parameter; every way out of it (weight decay, a gradient
held elsewhere, a state loaded, another kind of batch) takes the step parameter by parameter
and still agrees with eager."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn
import optim

from .test_compile import classifier_step

OPTIMIZERS = {
    "sgd": lambda ps: optim.SGD(ps, lr=0.05),
    "sgd momentum dampening": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, dampening=0.1),
    "sgd nesterov": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
    "rmsprop": lambda ps: optim.RMSprop(ps, lr=1e-3, alpha=0.9, eps=1e-7),
    "rmsprop centered momentum": lambda ps: optim.RMSprop(ps, lr=1e-3, centered=True, momentum=0.5),
    "adam": lambda ps: optim.Adam(ps, lr=1e-3),
    "adam amsgrad": lambda ps: optim.Adam(ps, lr=1e-3, amsgrad=True),
    "adamw": lambda ps: optim.AdamW(ps, lr=1e-3, weight_decay=0.1),
    "adagrad": lambda ps: optim.Adagrad(ps, lr=0.05, lr_decay=0.01),
    "sgd weight decay": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.01),
}
FLAT = {name for name in OPTIMIZERS if name != "sgd weight decay"}  # decay reads the weights


def data(n, sizes=(16,), seed=0, dtype=ag.float32):
    rng = np.random.default_rng(seed)
    return [
        (
            ag.tensor(rng.normal(size=(sizes[i % len(sizes)], 6)), dtype=dtype),
            ag.tensor(rng.integers(0, 3, sizes[i % len(sizes)])),
        )
        for i in range(n)
    ]


def run(compiled, name, batches, steps, dtype=ag.float32, between=None):
    """Losses, final weights and optimizer state of ``steps`` steps (``between(i, model,
    opt)`` runs before step i), and the optimizer."""
    ag.manual_seed(0)
    model = nn.MLP(6, [8, 5], 3, dropout=0.2, dtype=dtype)
    opt = OPTIMIZERS[name](model.parameters())
    step = classifier_step(model, opt)
    step = ag.compile(step) if compiled else step
    losses = []
    for i in range(steps):
        if between is not None:
            between(i, model, opt)
        losses.append(step(*batches[i % len(batches)]).data.tobytes())
    weights = [p.data.tobytes() for p in model.parameters()]
    state = [
        {k: v.tobytes() if isinstance(v, np.ndarray) else v for k, v in opt.state[p].items()}
        for p in model.parameters()
    ]
    return losses, weights, state, opt


@pytest.mark.parametrize("name", list(OPTIMIZERS))
@pytest.mark.parametrize("dtype", [ag.float32, ag.float64])
def test_a_compiled_step_updates_each_group_at_once_with_eagers_bits(name, dtype):
    """40 steps (a flush of subnormals among them): losses, weights and every state entry
    bit for bit as eager's; the flat update ran (each state array a view of one flat array)
    unless the group's weight decay reads the weights."""
    batches = data(3, dtype=dtype)
    eager = run(False, name, batches, 40, dtype)
    compiled = run(True, name, batches, 40, dtype)
    assert compiled[:3] == eager[:3]
    opt = compiled[3]
    flat = opt._flat.get(0)
    if name in FLAT:
        assert flat is not None and (flat.arrays or name == "sgd")  # plain SGD keeps none
        for key, array in flat.arrays.items():
            for p in opt.param_groups[0]["params"]:
                assert opt.state[p][key].base is array.base  # (the memory's owner)
    else:
        assert flat is None
    assert not eager[3]._flat  # eager steps never lay gradients end to end


def test_the_flat_update_makes_one_call_of_each_ufunc_for_the_group(monkeypatch):
    """What it is for: RMSprop's square root once for the network's six parameters, not six
    times (two recordings, eager, then two replays)."""
    calls = {}
    original = np.sqrt
    for compiled in (False, True):
        count = []

        def counting(*a, count=count, **k):
            count.append(a[0].shape)
            return original(*a, **k)

        monkeypatch.setattr(np, "sqrt", counting)
        run(compiled, "rmsprop", data(2), 4)
        monkeypatch.setattr(np, "sqrt", original)
        calls[compiled] = count
    assert len(calls[False]) == 6 * 4
    assert len(calls[True]) == 6 * 2 + 2
    size = sum(s[0] * (s[1] if len(s) > 1 else 1) for s in calls[False][:6])
    assert calls[True][-2:] == [(size,), (size,)]


@pytest.mark.parametrize("name", ["rmsprop", "adam", "sgd momentum dampening"])
def test_loading_a_state_between_compiled_steps_is_followed(name):
    """A state loaded between calls replaces the flat state's views: the next step copies
    it into the flat arrays again (as eager reads the loaded arrays)."""
    saved = {}

    def between(i, model, opt):
        if i == 5:
            saved["state"] = opt.state_dict()
        if i == 9:
            opt.load_state_dict(saved["state"])

    batches = data(3)
    assert (
        run(True, name, batches, 14, between=between)[:3]
        == run(False, name, batches, 14, between=between)[:3]
    )


def test_a_gradient_kept_by_the_caller_is_never_written_over():
    """A view of a gradient kept from a step holds the arena: the next replay plans new
    buffers, the step goes parameter by parameter, the kept values stay; eager's numbers."""
    kept = []

    def between(i, model, opt):
        if i == 4:
            first = next(iter(model.parameters()))
            view = first.grad.data[0]
            kept.append((view, view.copy()))

    batches = data(3)
    compiled = run(True, "adam", batches, 10, between=between)
    assert compiled[:3] == run(False, "adam", batches, 10, between=between)[:3]
    view, values = kept[0]
    np.testing.assert_array_equal(view, values)


def test_two_kinds_of_batch_alternating_share_the_flat_state():
    """A full and a smaller batch (two recordings, two arenas) in turn: each step finds the
    state where the other left it."""
    batches = data(4, sizes=(16, 16, 16, 7))
    compiled = run(True, "rmsprop", batches, 24)
    assert compiled[:3] == run(False, "rmsprop", batches, 24)[:3]
    assert len(compiled[3]._arenas[0]) == 2


def test_a_state_saved_from_flat_updates_continues_eagerly_with_the_same_bits():
    """state_dict of an optimizer updated at once loads into a new eager optimizer, which
    continues with the bits of one that had run eagerly throughout."""
    batches = data(3)
    _, _, _, flat_opt = run(True, "adam", batches, 12)
    _, _, _, eager_opt = run(False, "adam", batches, 12)
    a, b = flat_opt.state_dict(), eager_opt.state_dict()
    assert a["steps"] == b["steps"]
    for i in a["state"]:
        for key, value in a["state"][i].items():
            other = b["state"][i][key]
            if isinstance(value, np.ndarray):
                assert value.tobytes() == other.tobytes() and value.base is None
            else:
                assert value == other


def test_the_flat_arrays_start_on_cache_lines():
    """The arena, the flat state and the optimizer's scratch views start on 64-byte lines
    (elementwise loops over them run faster than over NumPy's 16-byte-aligned arrays)."""
    _, _, _, opt = run(True, "adam", data(2), 5)
    params = opt.param_groups[0]["params"]
    arena = opt._arenas[0][-1].holding(params)
    assert arena is not None and arena.ctypes.data % 64 == 0
    assert all(a.ctypes.data % 64 == 0 for a in opt._flat[0].arrays.values())
    assert all(v.ctypes.data % 64 == 0 for v in opt._scratch(arena, 2))
    assert all(v.ctypes.data % 64 == 0 for v in opt._scratch(params[1].data, 2))


def test_nan_gradients_give_nan_in_the_same_places_and_every_other_bit_alike():
    """NaN targets of either sign in two of four outputs: those rows of the weights' and the
    bias's gradients are NaN, and NaNs of different signs meet in the momentum buffers. The
    flat update has eager's NaNs in the same places and every other bit alike; only a NaN's
    sign may differ (NumPy's loops keep either NaN operand's, by the arrays' length), as the
    README says."""
    rng = np.random.default_rng(5)
    batches = []
    for i in range(6):
        t = rng.normal(size=(16, 4))
        t[rng.random(16) < 0.5, 1 + i % 2] = np.nan if i % 3 else -np.nan
        batches.append((ag.tensor(rng.normal(size=(16, 6))), ag.tensor(t)))
    results = []
    for compiled in (False, True):
        ag.manual_seed(0)
        model = nn.Linear(6, 4, dtype=ag.float64)
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, dampening=0.1)

        def step(x, t, model=model, opt=opt):
            opt.zero_grad()
            loss = ((model(x) - t) ** 2).sum()
            loss.backward()
            opt.step()
            return loss

        step = ag.compile(step) if compiled else step
        with np.errstate(invalid="ignore"):  # NaN on purpose
            for x, t in batches:
                step(x, t)
        ps = list(model.parameters())
        results.append([p.data for p in ps] + [opt.state[p]["momentum_buffer"] for p in ps])
        if compiled:
            assert opt._flat.get(0) is not None  # the flat update ran
    eager, flat = results
    assert np.isnan(eager[2]).any() and not np.isnan(eager[2]).all()
    for a, b in zip(eager, flat):
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        assert a[~np.isnan(a)].tobytes() == b[~np.isnan(b)].tobytes()
