"""``autograd.compile`` on ops with a replay of their own: cross-entropy in every layout of
the logits and with soft targets, ``max``/``min`` along a dim, ``backward(gradient)``,
PyTorch-style custom functions. Each replay gives eager's numbers bit for bit (losses,
returned tensors, parameters, gradients) on fresh inputs at every call, or recording fails
with a CompileError that says what to change."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autograd as ag
import nn.functional as F
from autograd.engine import run_backward

from .test_custom_function import Exp  # e^x, saving its output (PyTorch's example)


def arrays(x: Any) -> list[np.ndarray]:
    """The arrays of what a step returned (tensors in tuples, lists, named tuples), copied."""
    if isinstance(x, ag.Tensor):
        return [x.data.copy()]
    if isinstance(x, (tuple, list)):
        return [a for v in x for a in arrays(v)]
    return []


def follow(
    make: Callable[[], tuple[Callable[..., Any], list[ag.Tensor]]],
    calls: list[tuple[Any, ...]],
    before: Callable[..., None] | None = None,
) -> None:
    """Run ``make()``'s step eagerly and compiled (each on a fresh ``make()``) on the same
    ``calls`` (argument tuples; ``before(*args)`` runs ahead of each, outside the step);
    after each call, what it returned, the parameters and their gradients must be the same
    bits. The compiled step must have replayed after its two recordings (its Python body
    ran twice)."""
    seen = []
    for compiled in (False, True):
        step, params = make()
        runs = []

        def counted(*args: Any, step: Callable[..., Any] = step, runs: list = runs) -> Any:
            runs.append(1)
            return step(*args)

        fn = ag.compile(counted) if compiled else counted
        trace = []
        for args in calls:
            if before is not None:
                before(*args)
            out = fn(*args)
            trace.append(arrays(out) + [p.data.copy() for p in params])
            trace.append([np.asarray(np.nan) if p.grad is None else p.grad.data for p in params])
            trace[-1] = [g.copy() for g in trace[-1]]
        seen.append(trace)
        if compiled:
            assert len(runs) == 2, f"the step recorded {len(runs)} times instead of replaying"
    for i, (a, b) in enumerate(zip(*seen)):
        for x, y in zip(a, b):
            assert x.dtype == y.dtype and np.array_equal(x, y, equal_nan=True), f"call {i // 2}"


def sgd(params: list[ag.Tensor], lr: float = 0.1) -> None:
    with ag.no_grad():
        for p in params:
            p -= lr * p.grad


# ------------------------------------------------------------------ cross-entropy layouts
def logits_in(layout: str, h: ag.Tensor, w: ag.Tensor) -> ag.Tensor:
    """h W^T (N, C) laid out as ``layout``: C-ordered, Fortran-ordered (a transposed
    product), or every other column of a wider product (strided)."""
    if layout == "C":
        return h @ w.T
    if layout == "F":
        return (w @ h.T).T
    return (h @ w.T)[:, ::2]


@pytest.mark.parametrize("layout", ["C", "F", "strided"])
@pytest.mark.parametrize("rows", [5, 80])  # below / from SHORT_ROWS (the columns path)
@pytest.mark.parametrize("classes", [3, 70])  # short rows / long rows
@pytest.mark.parametrize("dtype", [ag.float32, ag.float64])
def test_cross_entropy_replays_eagers_gradient_in_every_layout_of_the_logits(
    layout, rows, classes, dtype
):
    """The lean replay subtracts coef at the targets through p's flat view, which is a copy
    (the write lost) where p = exp(log p) is not C-contiguous: there it must take backward's
    other formula (p R - S) (-g), as eager does."""
    rng = np.random.default_rng(0)
    features, width = 6, classes * (2 if layout == "strided" else 1)
    calls = [
        (
            ag.tensor(rng.normal(size=(rows, features)), dtype=dtype),
            ag.tensor(rng.integers(0, classes, rows)),
        )
        for _ in range(12)
    ]

    def make():
        w = ag.tensor(np.random.default_rng(1).normal(size=(width, features)), dtype=dtype)
        w.requires_grad = True

        def step(h, y):
            w.grad = None
            loss = F.cross_entropy(logits_in(layout, h, w), y)
            loss.backward()
            sgd([w])
            return loss

        return step, [w]

    follow(make, calls)


# ------------------------------------------------------------------ soft targets
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("targets", ["changing", "equal_then_changing"])
def test_cross_entropy_with_class_probabilities_follows_each_calls_targets(
    smoothing, weighted, reduction, targets
):
    """The node is made from the target as given, (1 - eps) t + eps / C taken at each make:
    a replay renews it from that call's target (smoothed once), whether the two recordings
    had equal targets or not."""
    rng = np.random.default_rng(2)
    t0 = ag.tensor(rng.dirichlet(np.ones(4), 5))
    calls = [
        (
            ag.tensor(rng.normal(size=(5, 3))),
            t0 if targets != "changing" and i < 3 else ag.tensor(rng.dirichlet(np.ones(4), 5)),
        )
        for i in range(10)
    ]
    weight = ag.tensor(np.array([0.5, 1.0, 2.0, 1.5])) if weighted else None

    def make():
        w = ag.tensor(np.random.default_rng(3).normal(size=(4, 3)), requires_grad=True)

        def step(x, t):
            w.grad = None
            loss = F.cross_entropy(
                x @ w.T, t, weight, reduction=reduction, label_smoothing=smoothing
            )
            loss.sum().backward()
            sgd([w])
            return loss

        return step, [w]

    follow(make, calls)


# ------------------------------------------------------------------ max / min along a dim
@pytest.mark.parametrize("op", ["max", "min"])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_and_min_along_a_dim_take_each_replays_indices(op, dim, keepdim):
    """values = x[..., argmax, ...] with the indices as a value of the step: each replay
    takes its own argmax (equal in the two recordings here, where a constant would pass),
    and its gradient goes to those elements."""
    rng = np.random.default_rng(4)
    x0 = ag.tensor(rng.normal(size=(3, 4, 5)))
    calls = [(x0,), (x0,)] + [(ag.tensor(rng.normal(size=(3, 4, 5))),) for _ in range(8)]

    def make():
        w = ag.tensor(np.random.default_rng(5).normal(size=(4, 5)), requires_grad=True)

        def step(x):
            w.grad = None
            found = getattr(x * w, op)(dim=dim, keepdim=keepdim)
            (found.values * found.values).sum().backward()
            sgd([w])
            return found.values, found.indices

        return step, [w]

    follow(make, calls)


# ------------------------------------------------------------------ backward(gradient)
@pytest.mark.parametrize("source", ["argument", "computed", "outside"])
@pytest.mark.parametrize("pass_through", [False, True])  # x + w: g itself reaches w
def test_backward_with_a_gradient_uses_each_calls_gradient(source, pass_through):
    """out.backward(g) starts the backward from g's value in this call: an argument, a tensor
    computed in the step, or one from outside that the caller changes between calls (read
    when the replay runs, as eager reads it)."""
    rng = np.random.default_rng(6)
    outside = ag.tensor(np.ones(3))
    gs = [np.ones(3), np.ones(3)] + [rng.normal(size=3) for _ in range(6)]
    calls = [(ag.tensor(rng.normal(size=3)), ag.tensor(g)) for g in gs]

    def make():
        w = ag.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)

        def step(x, g):
            w.grad = None
            out = (x + w) if pass_through else (x * w)
            if source == "argument":
                out.backward(g)
            elif source == "computed":
                out.backward(ag.ones_like(out) * g.sum())
            else:
                out.backward(outside)
            sgd([w])
            return out

        return step, [w]

    def before(x: ag.Tensor, g: ag.Tensor) -> None:
        outside.data = g.data.copy()  # a new array: the replay must read the tensor, not it

    follow(make, calls, before)


def test_two_roots_into_one_node_sum_each_calls_gradients():
    """Gradients of several roots on one node are summed before the traversal (a recorded
    sum): each part is this call's value."""
    rng = np.random.default_rng(7)
    calls = [(ag.tensor(rng.normal(size=3)), ag.tensor(rng.normal(size=3))) for _ in range(6)]

    def make():
        w = ag.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)

        def step(x, g):
            w.grad = None
            out = x * w
            run_backward([out, out], [g, g * 2.0])
            sgd([w])
            return out

        return step, [w]

    follow(make, calls)


# ------------------------------------------------------------------ custom functions
class Square(ag.Function):
    """c x^2, with a Python constant c beside the tensor."""

    @staticmethod
    def forward(ctx, x, c):
        ctx.save_for_backward(x)
        ctx.c = c
        return x * x * c

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2.0 * ctx.c * g * x, None


class Identity(ag.Function):
    """Returns its argument itself (no node where nothing requires grad)."""

    @staticmethod
    def forward(ctx, x):
        return x

    @staticmethod
    def backward(ctx, g):
        return g


@pytest.mark.parametrize("mode", ["train", "saved_output", "forward_only", "no_grad", "identity"])
def test_a_custom_function_runs_its_forward_and_backward_again_at_each_replay(mode):
    """A PyTorch-style function is one node that each replay makes again by calling the
    user's forward on that call's values; backward runs through it."""
    rng = np.random.default_rng(8)
    x0 = ag.tensor(rng.normal(size=3))
    calls = [(x0,), (x0,)] + [(ag.tensor(rng.normal(size=3)),) for _ in range(6)]

    def make():
        w = ag.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)

        def step(x):
            if mode == "identity":
                return Identity.apply(x) * 2.0
            if mode == "no_grad":
                with ag.no_grad():
                    return Square.apply(x * w, 0.5).sum()
            y = (Exp.apply(x * w) if mode == "saved_output" else Square.apply(x * w, 0.5)).sum()
            if mode == "forward_only":
                return y * 1.0
            w.grad = None
            y.backward()
            sgd([w])
            return y

        return step, [w]

    follow(make, calls)


def test_a_custom_function_reading_a_tensor_of_the_step_it_is_not_passed_is_refused():
    """A replay runs the user's forward (or backward) again: a tensor of the step it reads
    from an enclosing scope would be the recording's. Recording says so, naming the
    function."""
    w = ag.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    held = {}

    class Scaled(ag.Function):
        @staticmethod
        def forward(ctx, x):
            return x * held["s"]

        @staticmethod
        def backward(ctx, g):
            return g * held["s"]

    def step(x):
        held["s"] = x * 2.0
        return Scaled.apply(x * w).sum()

    with pytest.raises(ag.CompileError, match=r"Scaled\.forward reads a tensor .* Scaled\.apply"):
        ag.compile(step)(ag.tensor(np.ones(3)))

    class Backward(ag.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2.0

        @staticmethod
        def backward(ctx, g):
            return g * held["s"]

    def train(x):
        w.grad = None
        held["s"] = x * 3.0
        Backward.apply(x * w).sum().backward()

    with pytest.raises(ag.CompileError, match=r"Backward\.backward reads a tensor"):
        ag.compile(train)(ag.tensor(np.ones(3)))
