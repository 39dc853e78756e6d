"""``autograd.compile``: a recorded training step replays with eager's numbers, bit for bit;
guards record again; what cannot be recorded fails at record time."""

from __future__ import annotations

import math
import re
import warnings
from typing import NamedTuple

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd as ag
import nn
import nn.functional as F
import optim

OPTIMIZERS = {
    "sgd+momentum": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9),
    "rmsprop": lambda ps: optim.RMSprop(ps, lr=1e-3),
    "adam": lambda ps: optim.Adam(ps, lr=1e-3),
}


def batches(n, size, features, classes, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return [
        (
            ag.tensor(rng.normal(size=(size, features)), dtype=dtype),
            ag.tensor(rng.integers(0, classes, size)),
        )
        for _ in range(n)
    ]


def descend(params, lr):
    """The update written by hand, as in-place tensor ops: p -= lr * p.grad."""
    with ag.no_grad():
        for p in params:
            p -= lr * p.grad


def train(data, compiled, optimizer, dropout, dtype, steps=100, batch_norm=False, lam=0.0):
    """Losses and final state of ``steps`` steps, eager or compiled, from the same seed."""
    ag.manual_seed(0)
    model = nn.MLP(6, [8, 5], 3, dropout=dropout, batch_norm=batch_norm, dtype=dtype)
    opt = OPTIMIZERS[optimizer](model.parameters())

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        if lam:
            loss = loss + nn.l2_penalty(model, lam)
        loss.backward()
        opt.step()
        return loss

    if compiled:
        step = ag.compile(step)
    losses = [step(*data[i % len(data)]) for i in range(steps)]
    state = [t.data.copy() for t in model.state_dict().values()]
    return [loss.item() for loss in losses], state, step


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize("dropout", [0.0, 0.3])
@pytest.mark.parametrize("dtype", [ag.float32, ag.float64])
def test_replay_is_bit_identical_to_eager_over_100_steps(optimizer, dropout, dtype):
    data = batches(7, 16, 6, 3, dtype)
    eager, eager_state, _ = train(data, False, optimizer, dropout, dtype)
    compiled, compiled_state, step = train(data, True, optimizer, dropout, dtype)
    assert compiled == eager  # exactly: the same array calls in the same order
    assert all(np.array_equal(a, b) for a, b in zip(eager_state, compiled_state))
    assert len(step.programs) == 1 and step.recordings == 0  # one recording, replayed 98 times


@pytest.mark.parametrize("dropout", [0.0, 0.3])
@pytest.mark.parametrize("dtype", [ag.float32, ag.float64])
@pytest.mark.parametrize("order", ["C", "F"])
def test_a_step_of_a_networks_size_replays_its_own_lines_with_eagers_bits(dropout, dtype, order):
    """At the sizes where the replay writes the hot ops as their array calls (linear layers,
    ReLU's select by mask from 4,096 elements, cross-entropy's log-softmax by columns from
    64 rows), 20 steps give eager's losses and weights bit for bit; the source has the lines
    (so that this test covers them). Weights stored column by column (``order`` F) get their
    gradients in that layout, eager and replayed alike."""
    runs = []
    for compiled in (False, True):
        ag.manual_seed(0)
        model = nn.MLP(20, [64, 32], 10, dropout=dropout, dtype=dtype)
        for p in model.parameters():
            p.data = np.asarray(p.data, order=order)
        step = classifier_step(model, optim.RMSprop(model.parameters(), lr=1e-3))
        if compiled:
            step = ag.compile(step)
        data = batches(3, 128, 20, 10, dtype, seed=4)
        losses = [step(*data[i % 3]).item() for i in range(20)]
        runs.append((losses, [p.data.copy() for p in model.parameters()], step, model))
    assert runs[0][0] == runs[1][0]
    assert all(a.tobytes() == b.tobytes() for a, b in zip(runs[0][1], runs[1][1]))
    source = runs[1][2].source
    for line in ("= matmul(", "ravel_multi_index(", ".T.copy()"):
        assert line in source
    assert re.search(r"not_equal\(v\d+, 0, out=mask_\d+\)", source)  # ReLU's select by words
    assert "Linear_" not in source and "ReLU_" not in source  # no call of their methods
    # each weight's gradient in the weight's layout: by rows into the transpose of a buffer
    # laid out by columns, for weights by columns
    by_columns = len(re.findall(r"matmul\(v\d+\.T, v\d+, out=v\d+\.T\)", source))
    assert by_columns == (3 if order == "F" else 0)
    assert all(p.grad.data.strides == p.data.strides for p in runs[1][3].parameters())


def test_batch_norm_running_statistics_and_l2_penalty_follow_eager():
    data = batches(5, 16, 6, 3, ag.float64)
    eager, eager_state, _ = train(data, False, "adam", 0.2, ag.float64, 30, True, 1e-3)
    compiled, compiled_state, _ = train(data, True, "adam", 0.2, ag.float64, 30, True, 1e-3)
    assert compiled == eager
    assert len(eager_state) > 12  # parameters and the running statistics
    assert all(np.array_equal(a, b) for a, b in zip(eager_state, compiled_state))


def test_learning_rates_changed_between_calls_are_used():
    data = batches(4, 16, 6, 3, ag.float32)
    results = []
    for compiled in (False, True):
        ag.manual_seed(0)
        model = nn.MLP(6, [8], 3)
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
        sched = optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)

        def step(x, y, model=model, opt=opt):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss

        step = ag.compile(step) if compiled else step
        losses = []
        for i in range(12):
            losses.append(step(*data[i % 4]).item())
            sched.step()
            if i == 7:
                opt.param_groups[0]["lr"] = 0.01  # by hand
        results.append((losses, [p.data.copy() for p in model.parameters()]))
    assert results[0][0] == results[1][0]
    assert all(np.array_equal(a, b) for a, b in zip(results[0][1], results[1][1]))


@pytest.mark.parametrize("clip", ["norm", "value"])
def test_gradient_clipping_inside_the_step_follows_eager(clip):
    """clip_grad_norm_ / clip_grad_value_ between backward and step (parameters given as the
    generator model.parameters()) clip each replay's gradients; the total norm returned is
    that replay's, not the recording's."""
    from nn.utils import clip_grad_norm_, clip_grad_value_

    data = batches(3, 16, 6, 3, ag.float32)
    results = []
    for compiled in (False, True):
        ag.manual_seed(0)
        model = nn.MLP(6, [8], 3)
        opt = optim.Adam(model.parameters(), lr=0.05)

        def step(x, y, model=model, opt=opt):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            if clip == "norm":
                norm = clip_grad_norm_(model.parameters(), 0.2)
            else:
                clip_grad_value_(model.parameters(), 0.01)
                norm = loss * 0
            opt.step()
            return loss, norm

        step = ag.compile(step) if compiled else step
        out = [step(*data[i % 3]) for i in range(20)]
        results.append(
            (
                [(loss.item(), norm.item()) for loss, norm in out],
                [p.data.copy() for p in model.parameters()],
            )
        )
        if compiled:
            assert len(step.programs) == 1 and step.recordings == 0
    assert results[0][0] == results[1][0]
    assert all(np.array_equal(a, b) for a, b in zip(results[0][1], results[1][1]))
    if clip == "norm":  # the norms change from step to step, and are above the bound
        norms = [n for _, n in results[1][0]]
        assert len(set(norms)) == len(norms) and min(norms) > 0.2


@pytest.mark.parametrize("mode", ["two_backwards", "zero_grad_in_place", "zeroed_outside"])
def test_gradients_accumulated_into_existing_grads_follow_eager(mode):
    """backward adding into a .grad that exists (two backwards in one step, zero_grad with
    set_to_none=False, gradients summed over calls and zeroed outside every third) is
    recorded as the accumulation it is, and replayed with eager's numbers."""
    data = batches(4, 8, 6, 3, ag.float64)
    results = []
    for compiled in (False, True):
        ag.manual_seed(0)
        model = nn.MLP(6, [5], 3, dtype=ag.float64)
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def step(x1, y1, x2, y2, model=model, opt=opt):
            if mode == "two_backwards":
                opt.zero_grad()
            elif mode == "zero_grad_in_place":
                opt.zero_grad(set_to_none=False)
            first = F.cross_entropy(model(x1), y1)
            first.backward()
            second = F.cross_entropy(model(x2), y2)
            second.backward()
            opt.step()
            return first + second

        step = ag.compile(step) if compiled else step
        losses = []
        for i in range(11):  # the last step's grads are not zeroed
            losses.append(step(*data[i % 4], *data[(i + 1) % 4]).item())
            if mode == "zeroed_outside" and i % 3 == 2:
                opt.zero_grad()
        params = list(model.parameters())
        results.append((losses, [p.data.copy() for p in params], [p.grad for p in params]))
    assert results[0][0] == results[1][0]
    assert all(np.array_equal(a, b) for a, b in zip(results[0][1], results[1][1]))
    for a, b in zip(results[0][2], results[1][2]):  # the grads left after the last step
        assert np.array_equal(a.data, b.data)


def test_the_scalar_engine_compiles():
    def run(compiled):
        w = [ag.tensor(v, dtype=ag.float64, requires_grad=True) for v in (0.3, -0.2, 0.1)]

        def step(x1, x2, y):
            out = (w[0] * x1 + w[1] * x2 + w[2]).tanh()
            loss = (out - y) ** 2
            for p in w:
                p.grad = None
            loss.backward()
            descend(w, 0.1)
            return loss

        step = ag.compile(step) if compiled else step
        xs = [(0.5, -1.0, 1.0), (1.5, 0.25, -1.0), (-0.5, 2.0, 1.0)]
        losses = []
        for i in range(20):
            x1, x2, y = (ag.tensor(v, dtype=ag.float64) for v in xs[i % 3])
            losses.append(step(x1, x2, y).item())
        return losses, [p.item() for p in w]

    assert run(True) == run(False)


# ------------------------------------------------------------------------ guards
def classifier_step(model, opt):
    """The training step as users write it (not compiled)."""

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def simple_step():
    ag.manual_seed(0)
    model = nn.MLP(6, [4], 3, dropout=0.5)
    opt = optim.SGD(model.parameters(), lr=0.1)
    step = ag.compile(classifier_step(model, opt))

    return model, opt, step


def test_a_smaller_last_batch_gets_its_own_recording():
    _, _, step = simple_step()
    full, last = batches(1, 16, 6, 3, ag.float32)[0], batches(1, 5, 6, 3, ag.float32)[0]
    for _ in range(3):
        step(*full)
        step(*last)
    assert len(step.programs) == 2


@pytest.mark.parametrize(
    "change",
    ["dtype", "requires_grad", "grad_mode", "eval", "parameter"],
)
def test_every_guard_records_again(change):
    model, opt, step = simple_step()
    x, y = batches(1, 16, 6, 3, ag.float32)[0]
    for _ in range(3):
        step(x, y)
    program = next(iter(step.programs.values()))
    if change == "dtype":
        x = x.to(ag.float64)
        model.to(ag.float64)
    elif change == "requires_grad":
        x = x.detach().requires_grad_()
    elif change == "grad_mode":
        with ag.no_grad():
            assert not program.fits((x, y))
        with pytest.raises(ag.GraphError), ag.no_grad():  # eager's own error, recorded
            step(x, y)
        return
    elif change == "eval":
        model.eval()
    else:
        model.layers[0].weight = nn.Parameter(model.layers[0].weight.detach().clone())
        opt.param_groups[0]["params"][0] = model.layers[0].weight
    if change in ("eval", "parameter"):
        assert program.stale() is not None
    assert not program.fits((x, y))  # the replay's own guard says no before the full path
    before = step.recordings, len(step.programs), len(step.first)
    step(x, y)
    after = step.recordings, len(step.programs), len(step.first)
    assert after != before  # recorded (again), not replayed


GUARD_CHANGES = [
    "none",
    "batch",
    "dtype",
    "requires_grad",
    "value",
    "grad_mode",
    "eval",
    "train",
    "parameter",
    "param_requires_grad",
    "param_shape",
    "param_dtype",
    "layout",
    "param_layout",
    "submodule",
    "setting",
]


@settings(deadline=None)
@given(st.lists(st.sampled_from(GUARD_CHANGES), min_size=1, max_size=6))
def test_the_generated_guard_agrees_with_the_full_path(changes):
    """After any sequence of changes to the arguments, the grad mode and the model, the
    replay's generated guard (fits) admits a call exactly when the full path (the key, then
    stale()) would replay the same recording: never a stale replay, and the fast path taken
    whenever the state is back to the recorded one."""
    ag.manual_seed(0)
    model = nn.MLP(6, [4], 3)
    opt = optim.SGD(model.parameters(), lr=0.1)

    @ag.compile
    def step(x, y, scale):
        opt.zero_grad()
        loss = F.cross_entropy(model(x) * scale, y)
        loss.backward()
        opt.step()
        return loss

    x, y = batches(1, 8, 6, 3, ag.float32)[0]
    scale, grad_on = 2.0, True
    for _ in range(3):
        step(x, y, scale)
    (program,) = step.programs.values()
    first = model.layers[0]
    for change in changes:
        if change == "batch":
            x, y = batches(1, 8 if len(x) != 8 else 5, 6, 3, ag.float32)[0]
        elif change == "dtype":
            x = x.to(ag.float64 if x.dtype == ag.float32 else ag.float32)
        elif change == "requires_grad":
            x = x.detach().requires_grad_(not x.requires_grad)
        elif change == "value":
            scale = 3.0 if scale == 2.0 else 2.0
        elif change == "grad_mode":
            grad_on = not grad_on
        elif change in ("eval", "train"):
            model.train(change == "train")
        elif change == "parameter":
            first.weight = nn.Parameter(first.weight.detach().clone())
        elif change == "param_requires_grad":
            first.bias.requires_grad_(not first.bias.requires_grad)
        elif change == "param_shape":
            first.bias.data = (
                first.bias.data.reshape(1, -1)
                if first.bias.ndim == 1
                else (first.bias.data.reshape(-1))
            )
        elif change == "param_dtype":
            w = first.weight
            w.data = w.data.astype(np.float64 if w.dtype == ag.float32 else np.float32)
        elif change == "layout":
            flip = np.ascontiguousarray if x.data.flags.f_contiguous else np.asfortranarray
            x = ag.tensor(flip(x.data), requires_grad=x.requires_grad)
        elif change == "param_layout":
            w = first.weight
            flip = np.ascontiguousarray if w.data.flags.f_contiguous else np.asfortranarray
            w.data = flip(w.data)
        elif change == "submodule":
            relu = isinstance(model.layers[1], nn.ReLU)
            setattr(model.layers, "1", nn.Tanh() if relu else nn.ReLU())
        elif change == "setting":
            first.in_features = 7 if first.in_features == 6 else 6
        with ag.set_grad_enabled(grad_on):
            fast = program.fits((x, y, scale))
            full = step._key((x, y, scale)) == program.key and program.stale() is None
        assert fast == full, (changes, change)


def test_a_function_that_keeps_recording_warns_with_the_reason():
    model, _, step = simple_step()
    step.cache_size = 2
    x, y = batches(1, 16, 6, 3, ag.float32)[0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(12):
            model.train(i % 2 == 0)
            step(x, y)
    messages = [str(w.message) for w in caught]
    assert any("keeps recording" in m and "mode" in m for m in messages)


def test_a_full_cache_makes_room_for_new_shapes():
    """With room for one recording, alternating batch shapes keep evicting the other's (the
    first recording of a new shape used to find no program to evict and raise); the numbers
    stay eager's."""
    w = ag.tensor([0.5, -1.0, 2.0], dtype=ag.float64, requires_grad=True)

    @ag.compile(cache_size=1)
    def f(x):
        return (x * w).sum()

    for n in (1, 2, 3, 2, 1, 1, 1, 3):
        x = ag.arange(3 * n, dtype=ag.float64).reshape(n, 3)
        assert f(x).item() == (x * w).sum().item()
    assert len(f.programs) + len(f.first) == 1


# ------------------------------------------------------------------------ what fails loudly
@pytest.mark.parametrize(
    "read", [lambda t: t.item(), float, bool, lambda t: t.tolist(), lambda t: t.numpy()]
)
def test_reading_a_value_inside_fails_at_record_time(read):
    w = ag.tensor([1.0, 2.0], requires_grad=True)

    @ag.compile
    def step(x):
        loss = (w * x).sum()
        read(loss)
        return loss

    # the message names the user's line that read the value (here the lambda's)
    with pytest.raises(ag.CompileError, match=r"test_compile\.py:\d+ .*read it outside"):
        step(ag.tensor([1.0, 1.0]))


def test_python_branching_on_a_value_fails_at_record_time():
    @ag.compile
    def step(x):
        y = x * 2
        if y.sum() > 0:  # bool() of a tensor
            y = y + 1
        return y

    with pytest.raises(ag.CompileError, match="bool"):
        step(ag.tensor([1.0]))


def test_a_tensor_made_from_changing_python_data_fails_and_a_fixed_one_is_frozen():
    calls = []

    @ag.compile
    def changing(x):
        calls.append(1)
        return x * ag.tensor(float(len(calls)))

    changing(ag.tensor([1.0]))
    with pytest.raises(ag.CompileError, match="differ"):
        changing(ag.tensor([1.0]))

    @ag.compile
    def fixed(x):
        return x * ag.tensor(3.0)

    results = [fixed(ag.tensor([float(i)])).item() for i in range(5)]
    assert results == [0.0, 3.0, 6.0, 9.0, 12.0]
    assert len(fixed.programs) == 1


def test_a_constant_tensor_saved_for_backward_is_frozen_in_the_gradient_too():
    """A tensor made inside the step from fixed data, used by an op whose backward saves it
    (a matrix product with a constant matrix): frozen in the op and in its gradient."""
    results = []
    for compiled in (False, True):
        w = ag.tensor(np.linspace(-1.0, 1.0, 6).reshape(2, 3), requires_grad=True)

        def step(x, w=w):
            w.grad = None
            loss = ((x @ w) @ ag.tensor(np.eye(3) * 2.0)).tanh().sum()
            loss.backward()
            return loss, w.grad

        step = ag.compile(step) if compiled else step
        out = [step(ag.tensor(np.full((4, 2), 0.1 * i))) for i in range(6)]
        results.append([(loss.item(), grad.numpy().copy()) for loss, grad in out])
        if compiled:
            assert len(step.programs) == 1
    for (la, ga), (lb, gb) in zip(*results):
        assert la == lb and np.array_equal(ga, gb)


@pytest.mark.parametrize(
    "read",
    [
        lambda out, y: (out.argmax(axis=1) == y).astype(ag.float64).mean(),
        lambda out, y: (out.argmin(axis=1) == y).astype(ag.float64).mean(),
        lambda out, y: out.max(dim=1).indices.astype(ag.float64).sum(),
        lambda out, y: ag.any(out > 0.5, axis=1).astype(ag.float64).sum(),
        lambda out, y: ag.all(out > -0.5, axis=1).astype(ag.float64).sum(),
        lambda out, y: ag.sign(out).sum(),
    ],
    ids=["argmax", "argmin", "max_indices", "any", "all", "sign"],
)
def test_values_without_a_gradient_are_computed_again_at_each_replay(read):
    """argmax / argmin / max's indices / any / all / sign of the step's values (an accuracy
    under no_grad) are recorded calls, not constants: also when the two recording calls
    saw the same batch (where a constant would have been frozen unnoticed)."""
    model = nn.Linear(3, 4, dtype=ag.float64)

    def step(x, y):
        with ag.no_grad():
            return read(model(x), y)

    compiled = ag.compile(step)
    rng = np.random.default_rng(0)
    same = (ag.tensor(rng.normal(size=(6, 3))), ag.tensor(rng.integers(0, 4, 6)))
    calls = [same, same] + [
        (ag.tensor(rng.normal(size=(6, 3))), ag.tensor(rng.integers(0, 4, 6))) for _ in range(8)
    ]
    got = [compiled(*c).item() for c in calls]
    expected = [step(*c).item() for c in calls]
    assert got == expected and len(set(expected)) > 1
    assert len(compiled.programs) == 1


def test_sampling_from_the_steps_probabilities_draws_again_at_each_replay():
    """REINFORCE's step: actions drawn by multinomial from the policy's probabilities (from
    its own generator, as eager draws them), their log-probabilities gathered with an index
    made inside the step (ag.arange, frozen as a constant of the rebuilt getitem)."""
    results = []
    for compiled in (False, True):
        ag.manual_seed(0)
        gen = ag.Generator().manual_seed(5)
        policy = nn.Linear(3, 4, dtype=ag.float64)
        opt = optim.SGD(policy.parameters(), lr=0.1)

        def step(s, gen=gen, policy=policy, opt=opt):
            opt.zero_grad()
            log_p = policy(s).log_softmax(axis=1)
            actions = ag.multinomial(log_p.exp(), 1, generator=gen)
            loss = -log_p[ag.arange(s.shape[0]), actions[:, 0]].mean()
            loss.backward()
            opt.step()
            return loss, actions

        step = ag.compile(step) if compiled else step
        rng = np.random.default_rng(0)
        out = [step(ag.tensor(rng.normal(size=(5, 3)))) for _ in range(10)]
        results.append([(loss.item(), actions.tolist()) for loss, actions in out])
        if compiled:
            assert len(step.programs) == 1
    assert results[0] == results[1]
    assert len({str(actions) for _, actions in results[1]}) > 1  # new draws each call


def test_random_draws_replay_as_their_streams_calls_reseeded_streams_included():
    """Draws of a given dtype replay as the generator's own call, dropout's masks as the
    backend's draw from the stream (no tensor made), reading the stream at each replay:
    reseeding between calls (``manual_seed``, a generator's own) gives eager's numbers; a
    draw in the default dtype calls ``rand`` again (the default is read when it runs)."""
    results, sources = [], []
    for compiled in (False, True):
        ag.manual_seed(0)
        gen = ag.Generator().manual_seed(3)
        drops = nn.Dropout(0.4), nn.Dropout(0.25, generator=gen)

        def step(x, gen=gen, drops=drops):
            noise = ag.randn(x.shape, dtype=ag.float64, generator=gen)
            u = ag.rand(x.shape, dtype=ag.float32)
            default = ag.rand(2)
            dropped = drops[1](drops[0](x) * 2.0)
            return x * noise + u.to(ag.float64) + dropped, default

        step = ag.compile(step) if compiled else step
        out = []
        for i in range(8):
            if i == 4:
                ag.manual_seed(7)
            if i == 6:
                gen.manual_seed(11)
            a, b = step(ag.tensor(np.full((3, 4), float(i))))
            out.append((a.data.tobytes(), b.data.tobytes()))
        results.append(out)
        if compiled:
            assert len(step.programs) == 1
            sources.append(step.source)
    assert results[0] == results[1]
    assert len({a for a, _ in results[1]}) == 8  # new draws each call
    replay = sources[0].split("def replay")[1]
    assert (
        ".rng.standard_normal((3, 4), dtype=" in replay and ".rng.random((3, 4), dtype=" in replay
    )
    assert replay.count(".rng.") == 2  # the draw in the default dtype calls rand
    assert replay.count("keep_mask") == 2 and replay.count(".rng, ") == 2  # the masks


def test_gradients_of_arguments_that_require_grad_go_to_each_calls_tensors():
    """Adversarial training (FGSM): the input's gradient (x.grad, reset inside the step) moves
    the input before the update. Each call's x gets its own .grad, as in eager."""
    results = []
    for compiled in (False, True):
        ag.manual_seed(0)
        model = nn.MLP(4, [6], 3, dtype=ag.float64)
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(x, y, model=model, opt=opt):
            x.grad = None
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            saliency = x.grad.abs().sum()
            with ag.no_grad():
                moved = x + 0.1 * ag.sign(x.grad)
            opt.zero_grad()
            loss = F.cross_entropy(model(moved), y)
            loss.backward()
            opt.step()
            return loss, saliency

        step = ag.compile(step) if compiled else step
        rng = np.random.default_rng(0)
        out = []
        for _ in range(8):
            x = ag.tensor(rng.normal(size=(5, 4)), requires_grad=True)
            loss, saliency = step(x, ag.tensor(rng.integers(0, 3, 5)))
            out.append((loss.item(), saliency.item(), x.grad.numpy().copy()))
        results.append(out)
        if compiled:
            assert len(step.programs) == 1
    for a, b in zip(*results):
        assert a[:2] == b[:2] and np.array_equal(a[2], b[2])


def test_a_boolean_mask_index_is_refused_at_record_time_with_the_fix():
    """x[mask] with a mask computed in the step has as many rows as the mask keeps: refused
    when recording (a replay would fail on the next count, or keep the old one), with the
    shape-keeping alternative in the message; a fixed NumPy mask is a constant and replays."""
    model = nn.Linear(3, 2, dtype=ag.float64)

    @ag.compile
    def masked(x, y):
        return model(x)[y > 0].sum()

    x, y = ag.tensor(np.ones((4, 3))), ag.tensor([0, 1, 1, 0])
    with pytest.raises(ag.CompileError, match=r"boolean mask.*autograd\.where"):
        masked(x, y)

    @ag.compile
    def fixed(x):
        return model(x)[np.array([True, False, True, True])].sum()

    expected = model(x)[np.array([True, False, True, True])].sum().item()
    assert [fixed(x).item() for _ in range(4)] == [expected] * 4


@pytest.mark.parametrize("extras", ["plain", "dropout+batch_norm", "clip+in_place_zero", "views"])
def test_a_step_on_an_accelerator_replays_on_its_device(accelerator, extras):
    """On a device other than the CPU (the fake device that follows CuPy's rules: arrays
    made on the current device, device 1 while 0 is current, views that hold the array they
    view; CUDA where lent), the planned buffers are made on the step's device and the replay
    runs in its context, as eager's ops do, and a buffer a live view still reads is not
    written: the same losses, weights and accuracy as eager."""
    from nn.utils import clip_grad_norm_

    results = []
    for compiled in (False, True):
        gen = ag.Generator(accelerator).manual_seed(0)
        model = nn.MLP(
            4,
            [6],
            3,
            dropout=0.3 if "dropout" in extras else 0.0,
            batch_norm="batch_norm" in extras,
            dtype=ag.float64,
            device=accelerator,
            generator=gen,
        )
        opt = optim.Adam(model.parameters(), lr=0.01)

        def step(x, y, model=model, opt=opt):
            opt.zero_grad(set_to_none="in_place_zero" not in extras)
            out = model(x)
            if extras == "views":  # a view of a buffer outlives the value that filled it
                out = out.permute(1, 0).permute(1, 0).abs()
                out = out - out.max(axis=1, keepdims=True)
            loss = F.cross_entropy(out, y)
            loss.backward()
            if "clip" in extras:
                clip_grad_norm_(model.parameters(), 0.3)
            opt.step()
            with ag.no_grad():
                accuracy = (model(x).argmax(axis=1) == y).astype(ag.float64).mean()
            return loss, accuracy

        step = ag.compile(step) if compiled else step
        rng = np.random.default_rng(0)
        out = []
        for _ in range(6):
            x = ag.tensor(rng.normal(size=(5, 4)), device=accelerator)
            y = ag.tensor(rng.integers(0, 3, 5), device=accelerator)
            loss, accuracy = step(x, y)
            assert loss.device == ag.device(accelerator)
            out.append((loss.item(), accuracy.item()))
        results.append((out, [p.cpu().numpy().copy() for p in model.parameters()]))
        if compiled:
            assert len(step.programs) == 1 and "with _on_device():" in step.source
            # the ops' own lines, with the device's functions
            assert "= matmul(" in step.source and "ravel_multi_index(" in step.source
    assert results[0][0] == results[1][0]
    assert all(np.array_equal(a, b) for a, b in zip(results[0][1], results[1][1]))


def test_a_step_on_two_accelerators_is_refused_at_record_time(fake_backend):
    """A replay runs in one device's context: a step whose arrays live on two devices (of
    the fake backend: fake:0 and fake:1) fails when recorded, with the reason."""
    w = ag.tensor([1.0, 2.0], device="fake:1", requires_grad=True)

    @ag.compile
    def step(x):
        return (x.to("fake:1") * w).sum().to("fake:0")

    with pytest.raises(ag.CompileError, match="several devices"):
        for _ in range(2):
            step(ag.tensor([3.0, 4.0], device="fake:0"))


def test_binary_cross_entropys_range_check_runs_at_each_replay():
    """binary_cross_entropy checks that probabilities and targets lie in [0, 1]: a replay
    whose targets do not raises eager's error, instead of training on them."""
    model = nn.Linear(3, 2, dtype=ag.float64)
    opt = optim.SGD(model.parameters(), lr=0.1)

    @ag.compile
    def step(x, t):
        opt.zero_grad()
        loss = F.binary_cross_entropy(F.sigmoid(model(x)), t)
        loss.backward()
        opt.step()
        return loss

    rng = np.random.default_rng(0)
    for _ in range(4):
        step(ag.tensor(rng.normal(size=(4, 3))), ag.tensor(rng.random((4, 2))))
    assert len(step.programs) == 1
    with pytest.raises(ValueError, match="target should be between 0 and 1"):
        step(ag.tensor(rng.normal(size=(4, 3))), ag.tensor(rng.random((4, 2)) + 1.0))


def test_a_histogram_inside_a_compiled_step_is_refused_at_record_time():
    @ag.compile
    def step(x):
        return ag.histogram(x * 2.0, bins=3).hist

    with pytest.raises(ag.CompileError, match="histogram"):
        step(ag.tensor([0.1, 0.5, 0.9]))


def test_python_side_effects_run_only_while_recording():
    count = []

    @ag.compile
    def step(x):
        count.append(1)  # runs on the two recording calls only (documented)
        return x * 2

    for i in range(6):
        assert step(ag.tensor([float(i)])).item() == 2.0 * i
    assert len(count) == 2


def test_hooks_create_graph_and_grad_are_refused():
    w = ag.tensor([1.0, 2.0], requires_grad=True)

    @ag.compile
    def hooked(x):
        y = w * x
        y.register_hook(lambda g: g)
        y.sum().backward()
        return y

    with pytest.raises(ag.CompileError, match="hooks"):
        hooked(ag.tensor([1.0, 1.0]))

    @ag.compile
    def second_order(x):
        (g,) = ag.grad((w * w * x).sum(), [w], create_graph=True)
        return g

    with pytest.raises(ag.CompileError, match="create_graph"):
        second_order(ag.tensor([1.0, 1.0]))


# ------------------------------------------------------------------------ the pitfalls of tracers
def test_returned_tensors_are_not_overwritten_by_the_next_call():
    @ag.compile
    def double(x):
        return x * 2

    outs = [double(ag.tensor([float(i)])) for i in range(5)]
    assert [o.item() for o in outs] == [0.0, 2.0, 4.0, 6.0, 8.0]


class LossAndLogits(NamedTuple):
    loss: ag.Tensor
    logits: ag.Tensor


def test_a_replay_returns_the_structure_the_step_returned():
    """Tuples, lists, dicts (keys kept), named tuples and plain values; a tensor returned in
    two places is one tensor in both, as in eager."""
    w = ag.tensor([1.0, -2.0, 3.0], requires_grad=True)

    @ag.compile
    def step(x):
        logits = w * x
        loss = logits.sum()
        return {"both": LossAndLogits(loss, logits), "list": [loss, 7, None], "k": (logits,)}

    for i in range(4):  # two recordings, then replays
        got = step(ag.tensor([1.0, 2.0, float(i)]))
        assert isinstance(got["both"], LossAndLogits) and list(got) == ["both", "list", "k"]
        assert got["both"].loss.item() == -3.0 + 3.0 * i
        np.testing.assert_array_equal(got["both"].logits.numpy(), [1.0, -4.0, 3.0 * i])
        assert got["list"][1:] == [7, None] and got["list"][0].item() == -3.0 + 3.0 * i
        assert got["k"][0] is got["both"].logits
    assert len(step.programs) == 1


OPT_OF_MODULE = None  # rebound by the test below, as a notebook rebinds its globals
STEP_NUMBER = 0


def test_an_optimizer_or_model_bound_anew_to_the_same_name_records_again():
    """The step reads `opt` (a global) and `model` (a variable of the enclosing scope): bound
    to new objects, the step records again with them, as eager reads the new ones, instead
    of replaying the old objects' recording (the old optimizer stepping the old weights)."""
    global OPT_OF_MODULE
    x, y = batches(1, 16, 6, 3, ag.float64)[0]
    ag.manual_seed(0)
    model = nn.MLP(6, [5], 3, dtype=ag.float64)
    OPT_OF_MODULE = optim.SGD(model.parameters(), lr=0.1)

    @ag.compile
    def step(x, y):  # reads the global OPT_OF_MODULE and the closure's model
        OPT_OF_MODULE.zero_grad()
        F.cross_entropy(model(x), y).backward()
        OPT_OF_MODULE.step()

    step(x, y)  # the first recording; bound anew before the second, it starts over
    OPT_OF_MODULE = optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        step(x, y)
    assert step.recordings == 1 and len(step.programs) == 1
    OPT_OF_MODULE = optim.SGD(model.parameters(), lr=0.0)  # this one does not move anything
    before = [p.data.copy() for p in model.parameters()]
    step(x, y)
    assert all(np.array_equal(a, p.data) for a, p in zip(before, model.parameters()))
    old = model
    model = nn.MLP(6, [5], 3, dtype=ag.float64)  # read by step: a variable of its closure
    OPT_OF_MODULE = optim.SGD(model.parameters(), lr=0.1)
    kept = [p.data.copy() for p in old.parameters()]
    step(x, y)
    assert all(np.array_equal(a, p.data) for a, p in zip(kept, old.parameters()))
    assert not all(p.grad is None for p in model.parameters())  # the new model trained


def test_a_global_number_that_changes_records_again_and_says_which():
    """A global the step reads as a Python number (an epoch counter, the same for the two
    recording calls) is not frozen: a new value records again, and the warning of a step
    that keeps recording names it."""
    global STEP_NUMBER
    w = ag.tensor([1.0, 2.0], requires_grad=True)

    @ag.compile(cache_size=2)
    def step(x):
        return (x * w * (STEP_NUMBER * 1000 + 1)).sum()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = []
        for i in range(15):
            STEP_NUMBER = i // 3  # a new value every third call
            got.append(step(ag.tensor([1.0, 1.0])).item())
    assert got == [3.0 * (1000 * (i // 3) + 1) for i in range(15)]
    assert any("'STEP_NUMBER' names another object" in str(m.message) for m in caught)


def test_one_compiled_method_shared_by_two_instances():
    class Trainer:
        def __init__(self, seed):
            ag.manual_seed(seed)
            self.model = nn.Linear(6, 3)
            self.opt = optim.SGD(self.model.parameters(), lr=0.1)

        @ag.compile
        def step(self, x, y):
            self.opt.zero_grad()
            loss = F.cross_entropy(self.model(x), y)
            loss.backward()
            self.opt.step()
            return loss

    data = batches(3, 8, 6, 3, ag.float32)
    a, b = Trainer(1), Trainer(2)
    ag.manual_seed(1)
    ref_a = nn.Linear(6, 3)
    opt_a = optim.SGD(ref_a.parameters(), lr=0.1)
    for i in range(9):
        x, y = data[i % 3]
        la, lb = a.step(x, y), b.step(x, y)
        opt_a.zero_grad()
        ref = F.cross_entropy(ref_a(x), y)
        ref.backward()
        opt_a.step()
        assert la.item() == ref.item() and la.item() != lb.item()
    assert np.array_equal(a.model.weight.data, ref_a.weight.data)


def test_nested_compiled_functions_run_as_part_of_the_outer_one():
    w = ag.tensor([1.0, -1.0], requires_grad=True)

    @ag.compile
    def inner(x):
        return (w * x).sum()

    @ag.compile
    def outer(x):
        loss = inner(x) * 3
        w.grad = None
        loss.backward()
        return loss

    for i in range(5):
        x = ag.tensor([float(i), 2.0])
        assert outer(x).item() == 3 * (i - 2.0)
        assert w.grad.tolist() == [3 * float(i), 6.0]
    assert len(outer.programs) == 1 and not inner.programs


# ------------------------------------------------------------------------ random programs
MORE_OPTIMIZERS = {
    **OPTIMIZERS,
    "sgd+nesterov+decay": lambda ps: optim.SGD(
        ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3
    ),
    "adagrad": lambda ps: optim.Adagrad(ps, lr=0.05),
    "adam+amsgrad+decay": lambda ps: optim.Adam(ps, lr=1e-2, amsgrad=True, weight_decay=1e-2),
    "adamw": lambda ps: optim.AdamW(ps, lr=1e-2, weight_decay=0.1),
    "rmsprop+centered+momentum": lambda ps: optim.RMSprop(ps, lr=1e-3, centered=True, momentum=0.9),
}
LOSSES = {
    "cross_entropy": lambda out, y, onehot: F.cross_entropy(out, y),
    "smoothed": lambda out, y, onehot: F.cross_entropy(out, y, label_smoothing=0.1),
    "weighted": lambda out, y, onehot: F.cross_entropy(
        out, y, weight=ag.tensor([0.2, 1.0, 3.0], dtype=out.dtype)
    ),
    "ignore_index": lambda out, y, onehot: F.cross_entropy(out, y, ignore_index=1),
    "nll": lambda out, y, onehot: F.nll_loss(F.log_softmax(out, axis=1), y),
    "bce_logits": lambda out, y, onehot: F.binary_cross_entropy_with_logits(out, onehot),
    "mse": lambda out, y, onehot: F.mse_loss(out, onehot),
}
SCHEDULERS = {
    "none": None,
    "step": lambda o: optim.lr_scheduler.StepLR(o, 2, 0.5),
    "cosine": lambda o: optim.lr_scheduler.CosineAnnealingLR(o, 5),
}


@settings(max_examples=30, deadline=None)
@given(
    hidden=st.lists(st.integers(1, 6), min_size=0, max_size=2),
    activation=st.sampled_from(["relu", "sigmoid", "tanh"]),
    loss=st.sampled_from(list(LOSSES)),
    optimizer=st.sampled_from(list(MORE_OPTIMIZERS)),
    scheduler=st.sampled_from(list(SCHEDULERS)),
    dropout=st.sampled_from([0.0, 0.4]),
    batch_norm=st.booleans(),
    clip=st.sampled_from(["none", "norm", "value"]),
    set_to_none=st.booleans(),
    batch=st.integers(3, 9),  # the smaller batch keeps 2 rows, which batch norm needs
)
def test_random_programs_compiled_and_eager_agree(
    hidden, activation, loss, optimizer, scheduler, dropout, batch_norm, clip, set_to_none, batch
):
    """Random steps (network, loss, optimizer, scheduler stepped inside, dropout, batch norm,
    gradient clipping, zero_grad's two modes) give eager's losses and state, also across a
    switch to eval mode and a smaller batch."""
    from nn.utils import clip_grad_norm_, clip_grad_value_

    data = [
        (x, y, ag.tensor(np.eye(3)[y.numpy()], dtype=ag.float64))
        for x, y in batches(3, batch, 4, 3, ag.float64, seed=batch)
    ]
    data.append(tuple(t[:-1] for t in data[0]))  # a smaller batch
    results = []
    for compiled in (False, True):
        ag.manual_seed(0)
        model = nn.MLP(
            4,
            hidden,
            3,
            activation=activation,
            dropout=dropout,
            batch_norm=batch_norm,
            dtype=ag.float64,
        )
        opt = MORE_OPTIMIZERS[optimizer](model.parameters())
        sched = SCHEDULERS[scheduler] and SCHEDULERS[scheduler](opt)

        def step(x, y, onehot, model=model, opt=opt, sched=sched):
            opt.zero_grad(set_to_none=set_to_none)
            value = LOSSES[loss](model(x), y, onehot)
            value.backward()
            if clip == "norm":
                clip_grad_norm_(model.parameters(), 0.5)
            elif clip == "value":
                clip_grad_value_(model.parameters(), 0.05)
            opt.step()
            if sched is not None:
                sched.step()
            return value

        step = ag.compile(step) if compiled else step
        losses = []
        for i in range(10):
            if i == 7:
                model.eval()
            losses.append(step(*data[i % 4]).item())
        state = [t.data.copy() for t in model.state_dict().values()]
        results.append((losses, state))
    # a batch whose every target is ignored has the loss NaN, in both
    assert np.array_equal(results[0][0], results[1][0], equal_nan=True)
    assert all(np.array_equal(a, b, equal_nan=True) for a, b in zip(results[0][1], results[1][1]))


# ------------------------------------------------------------------------ the lowered replay
def test_the_moons_step_of_micrograd_compiles_bit_identically():
    """micrograd's demo step on 0-d tensors (a small network on a few points): the inputs
    are Python data that does not change (frozen), the learning rate a 0-d argument."""
    points, labels = np.random.default_rng(3).normal(size=(12, 2)).tolist(), [1.0, -1.0] * 6

    def run(compiled):
        weights = np.random.default_rng(1)
        sizes = [2, 4, 4, 1]
        layers = [  # micrograd's neurons: a list of weights and a bias each
            [
                (
                    [ag.tensor(v, dtype=ag.float64, requires_grad=True) for v in row],
                    ag.tensor(0.0, dtype=ag.float64, requires_grad=True),
                )
                for row in weights.uniform(-1, 1, (n_out, n_in)).tolist()
            ]
            for n_in, n_out in zip(sizes, sizes[1:])
        ]
        params = [p for layer in layers for ws, b in layer for p in (*ws, b)]
        inputs = [[ag.tensor(v, dtype=ag.float64) for v in row] for row in points]

        def score(x):
            for depth, layer in enumerate(layers):
                x = [sum((w * xi for w, xi in zip(ws, x)), b) for ws, b in layer]
                x = [v.relu() for v in x] if depth < len(layers) - 1 else x
            return x[0]

        def step(lr):
            losses = [(1 + -y * score(x)).relu() for x, y in zip(inputs, labels)]
            loss = sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in params)
            for p in params:
                p.grad = None
            loss.backward()
            descend(params, lr)
            return loss

        step = ag.compile(step) if compiled else step
        losses = [step(ag.tensor(1.0 - 0.9 * k / 100, dtype=ag.float64)).item() for k in range(6)]
        return losses, [p.item() for p in params], step

    eager, eager_params, _ = run(False)
    compiled, compiled_params, step = run(True)
    assert compiled == eager and compiled_params == eager_params
    assert eager[-1] < eager[0]
    assert len(step.programs) == 1
    source = step.source  # the 0-d arithmetic written as expressions, not calls of forward
    assert re.search(r"v\d+ = \(\S+\) \* \(\S+\)", source)
    assert re.search(r"v\d+ = \(\S+\) \+ \(\S+\)", source)
    assert "Mul_forward" not in source and "Add_forward" not in source
    # NumPy scalars hold no buffer: not deleted line by line (half a scalar step's lines)
    assert source.count("\n    del ") < 0.05 * source.count("\n")
    program = next(iter(step.programs.values()))
    assert "replay" not in vars(program)  # calls go through the guarded call: one compile


def sgd_by_hand(compiled, steps=8, sizes=(20, [32, 16], 5), batch=24):
    """nn_step.py's step: the update written as in-place tensor ops under no_grad."""
    ag.manual_seed(0)
    model = nn.MLP(*sizes)
    params = list(model.parameters())
    data = batches(3, batch, sizes[0], sizes[2], ag.float32)

    def step(x, y):
        model.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        descend(params, 0.1)
        return loss

    step = ag.compile(step) if compiled else step
    losses = [step(*data[i % 3]).item() for i in range(steps)]
    return losses, [p.data.copy() for p in params], step, model, data


def test_in_place_updates_write_into_the_parameters_with_eagers_numbers():
    eager, eager_params, *_ = sgd_by_hand(False)
    compiled, compiled_params, step, model, _ = sgd_by_hand(True)
    assert compiled == eager
    assert all(np.array_equal(a, b) for a, b in zip(eager_params, compiled_params))
    source = step.source
    # each update p -= 0.1 * p.grad is one ufunc call writing into p: no result array, no copy
    assert source.count("out=T") == len(list(model.parameters()))
    assert "_take(BUFFERS" in source  # the other results go to planned buffers


def test_gradients_and_outputs_the_caller_keeps_are_not_overwritten():
    _, _, step, model, data = sgd_by_hand(True, steps=4)  # recorded, then replayed twice
    weight = model.layers[0].weight
    kept_grad = weight.grad  # the planned buffer of the last replay
    kept_values = kept_grad.data.copy()
    kept_loss = step(*data[0])
    loss_value = kept_loss.item()
    step(*data[1])  # writes a new gradient: not into the array kept_grad holds
    assert np.array_equal(kept_grad.data, kept_values)
    assert weight.grad is not kept_grad and not np.shares_memory(weight.grad.data, kept_grad.data)
    assert kept_loss.item() == loss_value


@pytest.mark.parametrize("take", ["slice", "transpose", "reshape", "array view"])
def test_a_view_the_caller_keeps_of_a_gradient_is_not_overwritten(take):
    """Planned CPU buffers are views of an aligned byte array, so a view of one holds that
    array, not the buffer: kept with nothing else, it must still keep the next replay off."""
    _, _, step, model, data = sgd_by_hand(True, steps=4)
    weight = model.layers[0].weight
    view = {
        "slice": lambda a: a[1:],
        "transpose": lambda a: a.T,
        "reshape": lambda a: a.reshape(-1),
        "array view": lambda a: a.view(),
    }[take](weight.grad.data)
    kept = view.copy()
    model.zero_grad()  # the gradient tensor goes: only the view holds its memory
    step(*data[0])
    assert np.array_equal(view, kept)
    assert not np.shares_memory(weight.grad.data, view)


def test_a_replayed_step_allocates_nearly_nothing():
    """tracemalloc sees NumPy's array allocations: an eager step allocates its activations
    and gradients afresh; a replay writes them into the buffers planned once."""
    import tracemalloc

    def peak(step, args, n=3):
        tracemalloc.start()
        try:
            start = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            for _ in range(n):
                step(*args)
            current, top = tracemalloc.get_traced_memory()
            return top - start, current - start
        finally:
            tracemalloc.stop()

    ag.manual_seed(0)
    model = nn.MLP(256, [256, 128], 10)
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = batches(1, 128, 256, 10, ag.float32)[0]
    step = classifier_step(model, opt)
    compiled = ag.compile(step)
    for _ in range(3):  # two recordings, one replay
        compiled(x, y)
    step(x, y)
    eager_peak, _ = peak(step, (x, y))
    replay_peak, replay_growth = peak(compiled, (x, y))
    weights = sum(p.data.nbytes for p in model.parameters())
    assert eager_peak > weights  # fresh gradients at least
    assert replay_peak < eager_peak / 10  # small temporaries only (masks, the loss's arrays)
    assert abs(replay_growth) < 4096


def test_replays_keep_their_planned_buffers():
    """With nothing of a replay kept by the caller, every planned buffer is free again at the
    next replay: none is replaced by a new array (a local of the replay still holding a
    view of one would make each replay allocate it again)."""
    # the first ReLU's gradient (128, 256) comes from the bitwise select, a view of its
    # buffer; the update's lr * grad of the second weight (128, 256) takes that buffer again
    _, _, step, _, data = sgd_by_hand(True, steps=3, sizes=(32, [256, 128], 10), batch=128)
    (program,) = step.programs.values()
    buffers = program.replay.__globals__["BUFFERS"]
    before = [id(b) for b in buffers]
    for x, y in data:
        step(x, y)
    assert len(buffers) == len(before) > 0
    assert [id(b) for b in buffers] == before


def function_classes():
    from autograd.function import Function

    found, todo = [], [Function]
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        found.append(cls)
    return found


@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3), scalar=st.booleans())
def test_an_ops_ufunc_is_its_forward(shapes, scalar):
    """The ufunc an op declares (compiled steps call it with out=) computes its forward."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=shapes.input_shapes[0]).astype(np.float32)
    b = 1.5 if scalar else rng.normal(size=shapes.input_shapes[1]).astype(np.float32) + 3
    declared = [cls for cls in function_classes() if cls.ufunc]
    assert {cls.__name__ for cls in declared} >= {"Add", "Sub", "Mul", "Div"}
    for cls in declared:
        expected = np.asarray(cls().forward(a, b))
        out = np.empty(expected.shape, expected.dtype)
        getattr(np, cls.ufunc)(a, b, out=out)
        assert out.dtype == expected.dtype and out.tobytes() == expected.tobytes()


@given(
    x=st.floats(allow_subnormal=True) | st.integers(-3, 3),
    y=st.floats(allow_subnormal=True) | st.integers(-3, 3),
    kind=st.sampled_from([np.float64, np.float32, np.float16, float, "0-d"]),
)
def test_an_ops_operator_is_its_forward(x, y, kind):
    """The expression an op declares (a compiled step writes it for 0-d results) computes its
    forward: the same value, bits and type, on NumPy scalars, 0-d arrays and Python numbers,
    operands written as literals (a negative base keeps its parentheses)."""
    declared = [cls for cls in function_classes() if cls.operator]
    assert {cls.__name__ for cls in declared} >= {"Add", "Sub", "Mul", "Div", "Neg", "Pow"}
    with np.errstate(all="ignore"):
        if kind == "0-d":
            a, b = np.array(x, np.float64), np.array(y, np.float64)
        else:
            a, b = kind(x), kind(y)
    for cls in declared:
        n = cls.operator.count("{")
        literals = kind is float and math.isfinite(a) and math.isfinite(b)  # repr(inf): a name
        for texts in (("a", "b"), (repr(a), repr(b))) if literals else (("a", "b"),):
            try:
                with np.errstate(all="ignore"):
                    expected = cls().forward(*(a, b)[:n])
            except (ZeroDivisionError, OverflowError) as e:  # Python numbers raise: alike
                with pytest.raises(type(e)):
                    eval(cls.operator.format(*texts[:n]), {"a": a, "b": b})
                continue
            with np.errstate(all="ignore"):
                got = eval(cls.operator.format(*texts[:n]), {"a": a, "b": b})
            assert type(got) is type(expected)
            assert np.asarray(got).tobytes() == np.asarray(expected).tobytes()


@given(
    lead=st.lists(st.integers(0, 3), min_size=0, max_size=2),
    sizes=st.tuples(st.integers(1, 5), st.integers(1, 5)),
    bias=st.booleans(),
)
def test_ops_that_write_into_buffers_give_the_same_bits(lead, sizes, bias):
    from autograd.backend import backend_of
    from autograd.ops.elementwise import ReLU
    from autograd.ops.nn_ops import Linear

    rng = np.random.default_rng(1)
    n_in, n_out = sizes
    x = rng.normal(size=(*lead, n_in))
    w, b = rng.normal(size=(n_out, n_in)), (rng.normal(size=n_out) if bias else None)
    g = rng.normal(size=(*lead, n_out))
    m = backend_of(x).math
    op = Linear()
    op.edges = (object(), object(), object() if bias else None)[: 3 if bias else 2]
    args = (x, w, b) if bias else (x, w)
    plain = op.forward(*args)
    assert np.array_equal(op.forward(*args, into=np.full_like(plain, 7.0)), plain)
    grads = op.backward(m, g, *args)
    into = tuple(np.full_like(gi, 7.0) for gi in grads)
    assert all(np.array_equal(a, c) for a, c in zip(op.backward(m, g, *args, into=into), grads))
    relu = ReLU()
    out = relu.forward(x)
    assert np.array_equal(relu.forward(x, into=np.full_like(out, 7.0)), out)
    gx = relu.backward(m, x[..., ::-1].copy(), out)
    assert np.array_equal(relu.backward(m, x[..., ::-1].copy(), out, into=(np.empty_like(gx),)), gx)


def test_fit_with_compiled_steps_trains_exactly_as_eager():
    """fit(compiled=True): ISLR's recipe (RMSprop, dropout, ridge penalty, a smaller last
    batch, validation in eval mode between epochs) gives eager's history and weights."""
    from nn.train import DataLoader, fit

    rng = np.random.default_rng(0)
    x = rng.normal(size=(70, 5)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    runs = []
    for compiled in (False, True):
        model = nn.MLP(5, [8, 6], 2, dropout=[0.4, 0.3], generator=ag.Generator().manual_seed(0))
        opt = optim.RMSprop(model.parameters(), lr=1e-2, alpha=0.9, eps=1e-7)
        history = fit(
            model,
            opt,
            DataLoader((x, y), 16, shuffle=True, seed=0),  # 4 batches of 16 and one of 6
            epochs=4,
            penalty=lambda model=model: nn.l2_penalty(model, 1e-3),
            validation=(x, y),
            progress=False,
            blas_threads=1,
            compiled=compiled,
        )
        rows = [{k: v for k, v in row.items() if k != "seconds"} for row in history.rows]
        runs.append((rows, [p.data.copy() for p in model.parameters()]))
    assert runs[0][0] == runs[1][0]
    assert all(np.array_equal(a, b) for a, b in zip(runs[0][1], runs[1][1]))


# ---------------------------------------------------------------- nodes made again (renewal)
def class_loss_step(loss_fn, forward_only=False):
    """A step whose loss node is made from its target's values: the logits' weight gets the
    gradient, the loss and the gradient are returned."""
    weight = ag.tensor(np.linspace(-1.0, 1.0, 12).reshape(3, 4), requires_grad=True)

    def step(x, t):
        weight.grad = None
        loss = loss_fn(x @ weight, t)
        if not forward_only:
            loss.sum().backward()
        return loss

    return step, weight


def class_targets(draw, n, classes, ignore):
    labels = draw(hnp.arrays(np.int64, n, elements=st.integers(0, classes - 1)))
    if ignore and n:  # some calls have ignored positions, some none
        hide = draw(hnp.arrays(np.bool_, n))
        labels = np.where(hide, -100, labels)
    return labels


@st.composite
def class_loss_calls(draw):
    n = draw(st.one_of(st.integers(0, 5), st.integers(64, 66)))  # 64 rows: by columns
    form = draw(st.sampled_from(["index", "ignore", "smooth", "weight", "probs", "nll"]))
    reduction = draw(st.sampled_from(["mean", "sum", "none"]))
    calls = []
    for _ in range(draw(st.integers(3, 5))):
        x = draw(hnp.arrays(np.float64, (n, 3), elements=st.floats(-5, 5)))
        if form == "probs":
            raw = draw(hnp.arrays(np.float64, (n, 4), elements=st.floats(0.01, 1)))
            target = raw / raw.sum(axis=1, keepdims=True)
        else:
            target = class_targets(draw, n, 4, form == "ignore")
        calls.append((x, target))
    return form, reduction, calls


def class_loss(form, reduction):
    class_weight = ag.tensor([0.5, 1.0, 2.0, 0.25], dtype=ag.float64)
    if form == "nll":
        return lambda x, t: F.nll_loss(F.log_softmax(x, 1), t, reduction=reduction), None
    kwargs = {
        "weight": {"weight": class_weight},
        "smooth": {"label_smoothing": 0.2},
        "ignore": {"ignore_index": -100},
    }.get(form, {})
    return (lambda x, t: F.cross_entropy(x, t, reduction=reduction, **kwargs)), class_weight


@given(class_loss_calls())
@settings(max_examples=40, deadline=None)
def test_class_losses_replayed_for_new_targets_equal_eager(case):
    """cross_entropy and nll_loss are made again from each call's targets (ignored positions
    appearing and going, class weights, smoothing, probabilities, every reduction): losses and
    gradients equal eager's bit for bit, and the replay does not call the op function. Class
    indices without weights or smoothing, reduced, replay as cross-entropy's own lines, which
    make the node as eager does for a call with ignored targets."""
    form, reduction, calls = case
    n = len(calls[0][0])
    results = {}
    for compiled in (False, True):
        fn, _ = class_loss(form, reduction)
        step, weight = class_loss_step(fn)
        if compiled:
            step = ag.compile(step)
        results[compiled] = [
            (step(ag.tensor(x), ag.tensor(t)).data.copy(), weight.grad.data.copy())
            for x, t in calls
        ]
    for (le, ge), (lc, gc) in zip(results[False], results[True]):
        assert le.tobytes() == lc.tobytes() and ge.tobytes() == gc.tobytes()
    assert "renewed" in step.source and "apply_backward" not in step.source
    # (not the NaN mean of no targets)
    own_lines = form in ("index", "ignore") and (reduction == "sum" or (reduction == "mean" and n))
    assert ("ravel_multi_index" in step.source) == bool(own_lines)


def test_class_weights_changed_in_place_between_calls_are_read_by_the_replay():
    fn, class_weight = class_loss("weight", "mean")
    eager_step, _ = class_loss_step(fn, forward_only=True)
    step = ag.compile(eager_step)
    x, t = ag.tensor(np.ones((2, 3))), ag.tensor([1, 2])
    for _ in range(3):
        step(x, t)
    with ag.no_grad():
        class_weight *= ag.tensor([4.0, 4.0, 0.0, 4.0], dtype=ag.float64)
    assert step(x, t).item() == eager_step(x, t).item()


def test_targets_out_of_range_at_replay_raise_the_eager_error():
    eager_step, _ = class_loss_step(lambda x, t: F.cross_entropy(x, t))
    step = ag.compile(eager_step)
    x = ag.tensor(np.ones((2, 3)))
    for _ in range(3):
        step(x, ag.tensor([0, 3]))
    for bad in ([0, 4], [-1, 0]):
        with pytest.raises(IndexError, match=r"cross_entropy: targets must be class indices"):
            step(x, ag.tensor(bad))
    # a failed call leaves the step usable
    assert step(x, ag.tensor([1, 1])).item() == eager_step(x, ag.tensor([1, 1])).item()


def test_a_linear_layer_on_batch_axes_replays_with_eagers_bits():
    """Inputs with batch axes (N, T, in): the forward as its lines, the backward (which
    flattens the batch axes) as the method's call; eager's numbers."""
    ag.manual_seed(0)
    layer = nn.Linear(5, 3, dtype=ag.float64)
    data = [ag.tensor(np.random.default_rng(k).normal(size=(2, 4, 5))) for k in range(4)]

    def step(x):
        layer.zero_grad()
        loss = F.relu(layer(x)).sum()
        loss.backward()
        return loss

    compiled = ag.compile(step)
    for x in data:
        got = compiled(x).item(), layer.weight.grad.data.copy(), layer.bias.grad.data.copy()
        want = step(x).item(), layer.weight.grad.data, layer.bias.grad.data
        assert got[0] == want[0]
        assert all(a.tobytes() == b.tobytes() for a, b in zip(got[1:], want[1:]))
    assert "= matmul(" in compiled.source and "Linear_backward" in compiled.source


@pytest.mark.parametrize("shape", [(4, 5), (64, 80)])  # np.where's select, and by mask
def test_relus_lines_pass_nan_inf_and_signed_zeros_as_eager_does(shape):
    """ReLU's replayed lines drop the gradient (+0.0) where the output is 0 (also -0.0) and
    pass it, NaN and inf included, where the output is positive or NaN: eager's bits."""
    rng = np.random.default_rng(0)
    specials = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0])
    x = rng.choice(specials, size=shape) * rng.random(shape)
    x = np.where(rng.random(shape) < 0.5, rng.choice(specials, size=shape), x)
    scale = ag.tensor(rng.choice(specials, size=shape))
    w = ag.tensor(np.ones(shape), requires_grad=True)

    def step(x):
        w.grad = None
        loss = (F.relu(x * w) * scale).sum()
        loss.backward()
        return loss

    compiled = ag.compile(step)
    for k in range(4):
        xk = ag.tensor(np.roll(x, k))
        with np.errstate(invalid="ignore"):
            got_loss, got = compiled(xk).data.copy(), w.grad.data.copy()
            want_loss, want = step(xk).data, w.grad.data
        assert got_loss.tobytes() == want_loss.tobytes() and got.tobytes() == want.tobytes()
    assert "ReLU_" not in compiled.source


def test_where_is_made_again_from_each_calls_condition():
    w = ag.tensor([1.0, -2.0, 3.0], dtype=ag.float64, requires_grad=True)

    def step(x):
        w.grad = None
        out = ag.where(x > 0, x * w, -w).sum()
        out.backward()
        return out

    compiled = ag.compile(step)
    rng = np.random.default_rng(3)
    for _ in range(5):
        x = ag.tensor(rng.normal(size=3))
        got, got_grad = compiled(x).item(), w.grad.data.copy()
        assert (got, got_grad.tolist()) == (step(x).item(), w.grad.data.tolist())
    assert "Where_renewed" in compiled.source


COMPARISONS = ["eq", "ne", "lt", "le", "gt", "ge"]


@settings(max_examples=40, deadline=None)
@given(
    shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4),
    dtype=st.sampled_from(["float32", "float64", "int64"]),
    op=st.sampled_from(COMPARISONS),
    other=st.sampled_from(["tensor", "int", "float", "numpy float", "list"]),
    logic=st.sampled_from([None, "logical_and", "logical_or", "logical_xor", "logical_not"]),
    cast=st.sampled_from(["float32", "float64", "int64", "bool_"]),
)
def test_comparisons_logic_and_casts_replay_as_ufunc_calls_with_eagers_values(
    shape, dtype, op, other, logic, cast
):
    """Comparisons, logic and casts to other kinds replay as the backend's ufunc (or copyto)
    writing into a planned buffer, not through the functions: the same values and dtypes as
    eager for every kind of second operand (a tensor, Python and NumPy numbers, a list that
    the step turns into a constant), including an int tensor against a float."""
    n = shape[-1]
    w = ag.ones(n, dtype=ag.float64, requires_grad=True)
    rng = np.random.default_rng(len(shape) * 7 + n)
    values = (rng.integers(-2, 3, size=shape) * 0.5).astype(dtype)  # ties between operands
    seconds = {
        "tensor": lambda y: y,
        "int": lambda y: 0,
        "float": lambda y: 0.5,
        "numpy float": lambda y: np.float64(-0.5),
        "list": lambda y: [0.5] * n,
    }

    def step(x, y):
        w.grad = None
        mask = getattr(ag.ops, op)(x, seconds[other](y))
        if logic == "logical_not":
            mask = ag.ops.logical_not(mask)
        elif logic is not None:
            mask = getattr(ag.ops, logic)(mask, x != y)
        cast_mask = mask.to(getattr(ag, cast))
        loss = (cast_mask.to(ag.float64) * w).sum()
        loss.backward()
        return loss, cast_mask

    compiled = ag.compile(step)
    for k in range(4):
        x = ag.tensor(values + k % 2)
        y = ag.tensor(np.roll(values, k, axis=-1))
        (loss, mask), grad = compiled(x, y), w.grad.data.copy()
        (want_loss, want_mask), want_grad = step(x, y), w.grad.data
        assert mask.dtype == want_mask.dtype and mask.shape == want_mask.shape
        np.testing.assert_array_equal(mask.numpy(), want_mask.numpy())
        assert loss.item() == want_loss.item() or np.isnan(want_loss.item())
        np.testing.assert_array_equal(grad, want_grad)
    source = compiled.source
    # no comparison, logic or cast called through its function (on the step's values as
    # tensors); the return line makes the returned tensors
    lines = [line for line in source.splitlines() if not line.startswith("    return (")]
    assert not re.search(r"_make\(v\d+, None\)[,)]", "\n".join(lines))
    if int(np.prod(shape)) and shape:
        assert "casting='unsafe'" in source or cast == dtype


def test_a_result_is_written_over_a_dying_operand_only_when_nothing_else_holds_it():
    """``_over`` (an elementwise result written over an operand the replay no longer needs)
    gives the operand's own buffer when only the replay's line holds it, and a new array in
    the buffer's place when anything else does: a kept reference or a view."""
    from autograd.replay import _over

    def line(buffers):  # the shape of a replay's line: the operand a local, read by the op
        v = buffers[0]
        out = np.negative(v, out=_over(buffers, 0, v))
        return v, out

    buffers = [np.arange(4.0)]
    v, out = line(buffers)
    assert out is v and buffers[0] is v and out.tolist() == [-0.0, -1.0, -2.0, -3.0]
    for holder in (lambda a: [a], lambda a: a[1:]):  # one reference elsewhere, a view
        buffers = [np.arange(4.0)]
        kept = holder(buffers[0])  # its only reference besides the list
        v, out = line(buffers)
        assert out is not v and buffers[0] is out
        assert v.tolist() == [0.0, 1.0, 2.0, 3.0] and out.tolist() == [-0.0, -1.0, -2.0, -3.0]
        assert (kept[0] if isinstance(kept, list) else kept.base) is v
        del kept


def test_relu_and_dropouts_scaling_write_over_the_arrays_they_consume():
    """In a replayed step, ReLU writes over its linear layer's output, dropout's scaling over
    its 0/1 mask, ReLU's gradient over ReLU's saved output (each dead after that line), with
    eager's numbers (the dropout runs above compare 100 steps bit for bit)."""
    ag.manual_seed(0)
    model = nn.MLP(32, [64], 4, dropout=[0.5])
    opt = optim.SGD(model.parameters(), lr=0.1)
    compiled = ag.compile(classifier_step(model, opt))
    for x, y in batches(3, 16, 32, 4, ag.float32):
        compiled(x, y)
    source = compiled.source
    for rule in ("= maximum(", ".where("):  # ReLU's forward and backward, as their lines
        assert "_over(BUFFERS" in next(line for line in source.splitlines() if rule in line)
    assert source.count("_over(") == 3


@pytest.mark.parametrize("op", ["clamp", "leaky_relu", "mul"])
def test_a_constant_that_changes_by_less_than_a_labels_rounding_is_refused(op):
    """Two recordings compare an op's constants exactly (the label rounds to 4 digits)."""
    bound = [1.0]
    w = ag.tensor([0.5, 1.0, 2.0], dtype=ag.float64, requires_grad=True)

    def step(x):
        bound[0] += 1e-6  # annealed on an object: not an argument, not a name
        y = x * w
        if op == "clamp":
            y = y.clamp(max=bound[0])
        elif op == "leaky_relu":
            y = F.leaky_relu(y - 3.0, bound[0] * 0.01)
        else:
            y = y * bound[0]
        return y.sum()

    compiled = ag.compile(step)
    x = ag.tensor([1.0, 1.0, 1.0], dtype=ag.float64)
    compiled(x)
    with pytest.raises(ag.CompileError, match="differ at entry"):
        compiled(x)


def test_a_result_written_into_an_outside_tensor_and_returned_replays():
    kept = ag.zeros(3, dtype=ag.float64)

    def step(x):
        y = x * 2.0
        kept.copy_(y)  # the write the lowering would fuse with the op
        return y

    compiled = ag.compile(step)
    for i in range(5):
        x = ag.tensor(np.full(3, float(i)))
        assert np.array_equal(compiled(x).data, np.full(3, 2.0 * i))
        assert np.array_equal(kept.data, np.full(3, 2.0 * i))


def test_detect_anomaly_checks_every_op_of_a_compiled_step():
    w = ag.tensor(np.ones(3), requires_grad=True)

    def step(x):
        w.grad = None
        loss = (x * w).log().sum()
        loss.backward()
        return loss

    compiled = ag.compile(step)
    for v in (1.0, 2.0, 3.0):  # recorded, then replayed
        compiled(ag.tensor(np.full(3, v)))
    with ag.detect_anomaly(), np.errstate(invalid="ignore"):
        assert (
            compiled(ag.tensor(np.full(3, 4.0))).item() == step(ag.tensor(np.full(3, 4.0))).item()
        )
        with pytest.raises(ag.AnomalyError, match="log: produced NaN"):
            compiled(ag.tensor(np.full(3, -1.0)))
    (program,) = compiled.programs.values()  # anomaly mode ran eagerly: no recording
    assert not compiled.first and compiled.recordings == 0
    assert compiled(ag.tensor(np.full(3, 5.0))).item() == step(ag.tensor(np.full(3, 5.0))).item()
    assert compiled.last is program


def _transposed_product(w, x):
    y = (w @ x).T  # a transposed view: eager's y * y comes out in Fortran order
    return (y * y).sum() + (y + 1.0).exp().sum(axis=0).sum()


def _column_gather(w, x):
    h = (w.T * x)[:, [4, 0, 3, 3, 1]]  # NumPy gathers columns into a Fortran-ordered array
    return (h * h).sum() + F.relu(h - 0.5).mean(axis=1).sum()


@pytest.mark.parametrize("body", [_transposed_product, _column_gather])
@pytest.mark.parametrize("layouts", ["C", "F", "strided", "C then F then strided"])
def test_values_in_any_memory_layout_replay_with_eagers_bits(body, layouts):
    """A replay's buffers take the layout eager's results had (a sum adds in memory order),
    and the guard compares the arguments' strides: a call in another layout records again."""
    rng = np.random.default_rng(0)
    order = (layouts.split(" then ") * 6)[:6]

    def make(kind):
        a = rng.normal(size=(6, 9)) if kind != "strided" else rng.normal(size=(6, 18))[:, ::2]
        return ag.tensor(np.asfortranarray(a) if kind == "F" else a)

    def run(compiled):
        ag.manual_seed(0)
        w = ag.tensor(np.random.default_rng(1).normal(size=(9, 6)), requires_grad=True)
        xs = [make(kind) for kind in order]

        def step(x):
            w.grad = None
            loss = body(w, x)
            loss.backward()
            return loss

        step = ag.compile(step) if compiled else step
        out = []
        for x in xs:
            loss = step(x)
            out.append((loss.data.tobytes(), w.grad.data.tobytes()))
        return out

    rng = np.random.default_rng(0)
    eager = run(False)
    rng = np.random.default_rng(0)
    assert run(True) == eager


class _NetWithState(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 5, dtype=ag.float64)
        self.bn = nn.BatchNorm1d(5, dtype=ag.float64)
        self.drop = nn.Dropout(0.5)
        self.head = nn.Linear(5, 3, dtype=ag.float64)

    def forward(self, x):
        return self.head(self.drop(self.bn(self.body(x)).relu()))


@pytest.mark.parametrize("change", ["submodule", "buffer", "dropout p", "batch norm momentum"])
def test_a_replaced_submodule_or_buffer_or_a_changed_setting_records_again(change):
    """The guard holds which submodules and buffers each module that ran has, and its
    settings (Python numbers its forward reads): after a change, compiled equals eager."""

    def run(compiled):
        ag.manual_seed(0)
        net = _NetWithState()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(net(x), y)
            loss.backward()
            opt.step()
            return loss

        step = ag.compile(step) if compiled else step
        rng = np.random.default_rng(0)
        losses = []
        for i in range(6):
            if i == 3:  # after two recordings and a replay
                ag.manual_seed(1)
                if change == "submodule":
                    net.head = nn.Linear(5, 3, dtype=ag.float64)
                    opt.param_groups[0]["params"] = list(net.parameters())
                elif change == "buffer":
                    net.bn.running_mean = ag.ones(5, dtype=ag.float64)
                elif change == "dropout p":
                    net.drop.p = 0.0
                else:
                    net.bn.momentum = 0.9
            x, y = ag.tensor(rng.normal(size=(6, 4))), ag.tensor(rng.integers(0, 3, 6))
            losses.append(step(x, y).data.tobytes())
        return losses, [t.data.tobytes() for t in net.state_dict().values()]

    assert run(True) == run(False)


def _compare_runs(make_step, calls):
    """Bits of every call's result and of the given tensors after each, eager and compiled."""

    def run(compiled):
        ag.manual_seed(0)
        step, tensors = make_step()
        step = ag.compile(step) if compiled else step
        out = []
        for x in calls:
            out.append(step(ag.tensor(x)).data.tobytes())
            out += [t.data.tobytes() for t in tensors()]
        return out

    return run(True), run(False)


@pytest.mark.parametrize("write", ["zero_", "fill_ number", "fill_ tensor"])
def test_writing_a_gradient_right_after_backward_is_replayed(write):
    """A write into a leaf's gradient just after backward is the user's, not backward's own
    accumulation (which the replay's leaf line does): it is recorded and replayed."""

    def make_step():
        w = ag.tensor([0.5, -1.0, 2.0], dtype=ag.float64, requires_grad=True)
        b = ag.tensor(0.3, dtype=ag.float64, requires_grad=True)
        opt = optim.SGD([w, b], lr=0.1)

        def step(x):
            opt.zero_grad()
            loss = ((w * x).sum() + b - 1.0) ** 2
            loss.backward()
            if write == "zero_":
                w.grad.zero_()  # w frozen in this phase: only b trains
            elif write == "fill_ number":
                w.grad.fill_(0.25)
            else:
                w.grad.fill_(b.detach() * 2.0)
            opt.step()
            return loss

        return step, lambda: (w, w.grad, b)

    calls = [np.array([1.0, 2.0, 3.0]) * (i + 1) for i in range(6)]
    compiled, eager = _compare_runs(make_step, calls)
    assert compiled == eager


@pytest.mark.parametrize("then", ["clip", "second backward"])
def test_gradients_straight_from_a_sum_are_writable_arrays_of_their_own(then):
    """sum()'s gradient is a read-only broadcast view; eager's engine copies it into p.grad
    (it copies any view), and so does the replay: clipping in place and a second backward
    adding into it then work as in eager."""
    from nn.utils import clip_grad_norm_

    def make_step():
        p = ag.tensor(np.arange(3.0), requires_grad=True)
        q = ag.tensor(np.ones(3), requires_grad=True)
        opt = optim.SGD([p, q], lr=0.1)

        def step(x):
            opt.zero_grad()
            loss = p.sum() * x.sum() + (q * x).sum()
            loss.backward()
            if then == "clip":
                clip_grad_norm_([p, q], 0.5)
                opt.step()
                return loss
            (p * x).sum().backward()  # adds into p.grad
            return p.grad * 1.0

        return step, lambda: (p, p.grad, q, q.grad)

    calls = [np.full(3, 1.0 + i) for i in range(6)]
    compiled, eager = _compare_runs(make_step, calls)
    assert compiled == eager


@pytest.mark.parametrize("change", ["add_param_group", "a parameter replaced in a group"])
def test_an_optimizer_whose_parameters_change_records_again(change):
    """zero_grad is recorded per parameter, step replayed whole: the guard holds which
    parameters each optimizer of the step has, so that both follow eager after a change."""

    def make_step():
        head = ag.tensor([0.5, -1.0, 2.0], dtype=ag.float64, requires_grad=True)
        body = ag.tensor([1.0, 1.0, 1.0], dtype=ag.float64, requires_grad=True)
        opt = optim.SGD([head], lr=0.01)
        calls = [0]

        def step(x):
            opt.zero_grad()
            loss = ((head * body * x).sum() - 1.0) ** 2
            loss.backward()
            opt.step()
            return loss

        def tensors():
            calls[0] += 1
            if calls[0] == 3:  # after two recordings and a replay
                if change == "add_param_group":
                    opt.add_param_group({"params": [body]})
                else:
                    opt.param_groups[0]["params"][0] = body
            return (head, body, *(t.grad for t in (head, body) if t.grad is not None))

        return step, tensors

    calls = [np.array([1.0, 2.0, 3.0]) * (1 + i % 2) for i in range(6)]
    compiled, eager = _compare_runs(make_step, calls)
    assert compiled == eager


def test_a_numpy_write_into_a_raw_array_with_a_tensor_is_refused_at_record_time():
    w = ag.tensor([0.5, -1.0, 2.0], requires_grad=True)

    @ag.compile
    def step(x):
        w.grad = None
        loss = ((w * x).sum() - 1.0) ** 2
        loss.backward()
        w.data -= 0.1 * w.grad  # a raw write: the replay would not see it
        return loss

    with pytest.raises(ag.CompileError, match=r"subtract into a raw array .*p -= lr \* p.grad"):
        step(ag.tensor([1.0, 2.0, 3.0]))
    w.data -= 0.1 * ag.tensor([1.0, 1.0, 1.0])  # outside a compiled function: the raw write
    assert np.allclose(w.data, [0.4, -1.1, 1.9])


@pytest.mark.parametrize("root", ["backward()", "backward(g)"])
def test_a_gradient_passed_through_to_a_leaf_is_not_shared_with_its_source(root):
    """An add passes its gradient through: the leaf's .grad would be the implied 1 of the
    root (a constant of the recording) or the caller's g. Eager copies it; so does the
    replay, and writing into w.grad changes neither."""

    def run(compiled):
        w = ag.tensor(np.ones(1), requires_grad=True)
        g = ag.tensor(np.ones(1))

        def step(x, g):
            w.grad = None
            out = w + x
            out.backward(g) if root == "backward(g)" else out.backward()
            w.grad.mul_(0.5)
            return out * 1.0

        step = ag.compile(step) if compiled else step
        grads = []
        for _ in range(5):
            step(ag.tensor(np.zeros(1)), g)
            grads.append(w.grad.data.tobytes())
        return grads, g.data.tobytes()

    assert run(True) == run(False)


def test_the_guard_looks_at_the_modules_again_only_after_a_module_changed():
    """A count of module changes (registrations, modes, settings) lets the guard skip the
    modules while none changed; after any change, anywhere, it compares them again: an
    unrelated change still replays, a relevant one records again."""
    model, _, step = simple_step()
    x, y = batches(1, 16, 6, 3, ag.float32)[0]
    for _ in range(3):
        step(x, y)
    (program,) = step.programs.values()
    assert program.fits((x, y))
    nn.Linear(2, 2).note = "a module the step does not use"
    assert program.fits((x, y))  # compared again, and still the same
    model.layers[0].in_features = 7  # a setting of a module the step uses
    assert not program.fits((x, y)) and program.stale() is not None
    model.layers[0].in_features = 6
    assert program.fits((x, y))
    weight = model.layers[0].weight
    weight.data = weight.data.copy(order="K")  # another array of the same signature: read, fits
    assert program.fits((x, y))
    weight.data = weight.data.astype(np.float64)
    assert not program.fits((x, y))


@pytest.mark.parametrize("between", ["nothing", "a grad assigned", "a replayed call"])
def test_a_gradient_set_between_zero_grad_and_backward_is_added_into(between):
    """A leaf's line adds into a gradient that a line between zero_grad's ``grad = None``
    and backward set (an assignment, a call replayed whole), as eager does."""

    def make_step():
        w = ag.tensor([0.5, -1.0, 2.0], dtype=ag.float64, requires_grad=True)
        opt = optim.SGD([w], lr=0.1, momentum=0.5)

        def step(x):
            opt.zero_grad()
            if between == "a grad assigned":
                w.grad = x * 0.5  # a value of the step
            elif between == "a replayed call":
                opt.zero_grad(set_to_none=False)  # called again at each replay
            loss = ((w * x).sum() - 1.0) ** 2
            loss.backward()
            opt.step()
            return loss

        return step, lambda: (w, w.grad)

    calls = [np.array([1.0, 2.0, 3.0]) * (1 + i % 3) for i in range(6)]
    compiled, eager = _compare_runs(make_step, calls)
    assert compiled == eager
