"""Benchmarks of the engine's overhead: what recording a graph and running it backwards costs.

Run:  python benchmarks/engine.py           (about a minute)
      python benchmarks/engine.py --quick   (a few seconds, rougher numbers)

Everything is measured in one run, on the CPU, with NumPy's default thread settings. Times are
the best (minimum) over several repeats of a loop of many iterations, after a warm-up, unless
said otherwise. Three sections:

1. Forward + backward of one op on small float32 arrays ((64, 64), vectors (64,)), against bare
   NumPy code that computes the same forward value and the same gradients by hand, with the same
   formulas as the op's rules. Gradients that are the incoming gradient itself (add, reshape,
   transpose ...) are copied on the NumPy side too, because arraygrad's gradients never share
   memory with each other or with the caller's arrays. Read ``ratio`` (arraygrad / NumPy) as the
   price of the graph: at this size the array math takes a few microseconds, so the ratio is
   mostly the Python bookkeeping of one node (making it in forward, running it in backward).
   Every row is first checked: arraygrad's output and gradients must match the NumPy reference.

2. The backward pass alone, on a graph built once: ``backward(G, retain_graph=True)`` against
   ``backward(G, retain_graph=True, create_graph=True)``. The plain path runs the rules on raw
   arrays and records nothing; create_graph runs the same rules on Tensors, recording each step
   so the gradient can be differentiated again. ``ratio`` is create_graph / plain: above 1 is
   the cost of that recording. The ``nodes`` column counts the graph nodes made during one
   backward of each kind (found with a profile hook, outside the timed loops): 0 for the plain
   path.

3. micrograd's moons demo, one training step (loss over 100 points, zero_grad, backward, SGD
   update) of a 2-16-16-1 ReLU MLP written with 0-d float64 tensors exactly as micrograd's
   ``nn.py`` builds it, against micrograd itself (same data, same initial weights, same
   schedule; the losses of the two runs are compared). Such a step makes about 65,000 scalar
   nodes, so this measures per-node overhead in Python, where arrays cannot help. micrograd's
   nodes form reference cycles (each ``_backward`` closure refers to its own output), so its
   graphs are freed by the cyclic garbage collector; it is timed as usual and with
   ``gc.disable()`` around each step (``gc.collect()`` after, outside the timed region), so
   that variant does not pay for freeing its graph at all, while arraygrad's graphs (no cycles)
   are freed by reference counting inside the step, in every variant. arraygrad is also timed
   with the collector disabled, for reference, and compiled (``autograd.compile``: the step
   recorded on two warm-up steps, then replayed as one straight-line function; the learning
   rate is a 0-d tensor argument; target: at most micrograd's time without its collector).
   ``arraygrad / micrograd`` above 1 means arraygrad is slower. Step times are the median (and
   min) of a few steps after the warm-up steps. The runs with the collector on are timed one
   after the other; arraygrad with its collector disabled, compiled arraygrad and micrograd
   without its collector are interleaved (step k of each in turn), and the ratios of the
   first two to the third are medians over k of the ratio of step k's times: this machine's
   speed drifted by up to 2x between runs a few seconds apart, which moved the ratio of
   separate runs from 0.7 to 1.2.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import numpy as np

import autograd as ag
from autograd.tensor import _make

try:
    from micrograd.engine import Value
    from micrograd.nn import MLP as MicroMLP
except ImportError:  # micrograd is optional: its columns are skipped
    Value = None
    MicroMLP = None

F32 = np.float32
N = 64  # side of the small arrays of sections 1 and 2
SEED = 1337
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True)
class Settings:
    """How long to measure: ``target_s`` per repeat of an op loop, ``repeats`` of them, and
    ``steps`` timed training steps (after the warm-up steps)."""

    target_s: float
    repeats: int
    steps: int


QUICK = Settings(target_s=0.004, repeats=3, steps=2)
DEFAULT = Settings(target_s=0.03, repeats=7, steps=11)


# ------------------------------------------------------------------------------ timing
def time_loop(fn: Callable[[], object], number: int) -> float:
    """Seconds taken by ``number`` calls of ``fn``."""
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return time.perf_counter() - start


def best_us(fn: Callable[[], object], settings: Settings) -> float:
    """Microseconds per call of ``fn``: the best of ``settings.repeats`` loops, each sized to
    take about ``settings.target_s`` (after a warm-up that also sizes the loop)."""
    time_loop(fn, 3)  # warm up
    one = time_loop(fn, 10) / 10
    number = max(1, int(settings.target_s / max(one, 1e-9)))
    return min(time_loop(fn, number) for _ in range(settings.repeats)) / number * 1e6


# ------------------------------------------------------------------------------ op cases
Arrays = Sequence[np.ndarray]
AgOp = Callable[..., ag.Tensor]
NpOp = Callable[..., tuple[np.ndarray, ...]]  # (inputs..., G) -> (out, grad of each input)


@dataclass(frozen=True)
class OpCase:
    """One op: its arraygrad form, its hand-written NumPy forward + backward, its inputs."""

    name: str
    ag_fn: AgOp
    np_fn: NpOp
    inputs: tuple[np.ndarray, ...]


def np_max_axis1(x: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, ...]:
    out = x.max(axis=1)
    hit = (x == out[:, None]).astype(F32)  # ties share the gradient, as in arraygrad
    return out, hit * (g[:, None] / hit.sum(axis=1, keepdims=True))


def np_softmax(x: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, ...]:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    s = e / e.sum(axis=-1, keepdims=True)
    return s, s * (g - (g * s).sum(axis=-1, keepdims=True))


def np_log_softmax(x: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, ...]:
    shifted = x - x.max(axis=-1, keepdims=True)
    out = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return out, g - np.exp(out) * g.sum(axis=-1, keepdims=True)


def np_logsumexp(x: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, ...]:
    shift = x.max(axis=1, keepdims=True)
    out = np.log(np.exp(x - shift).sum(axis=1, keepdims=True)) + shift
    return out[:, 0], g[:, None] * np.exp(x - out)


def np_sigmoid(x: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, ...]:
    s = np.exp(-np.logaddexp(0, -x))  # arraygrad's overflow-free formula
    return s, g * s * (1 - s)


def np_getitem(x: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, ...]:
    gx = np.zeros_like(x)
    gx[8:40, 16:48] = g
    return x[8:40, 16:48], gx


def op_cases() -> list[OpCase]:
    """The ops of sections 1 and 2, on seeded float32 inputs."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, N)).astype(F32)
    y = rng.standard_normal((N, N)).astype(F32)
    pos = rng.uniform(0.5, 2.0, (N, N)).astype(F32)  # away from 0, for log and division
    b = rng.standard_normal(N).astype(F32)
    return [
        OpCase("add", lambda a, c: a + c, lambda a, c, g: (a + c, g.copy(), g.copy()), (x, y)),
        OpCase("sub", lambda a, c: a - c, lambda a, c, g: (a - c, g.copy(), -g), (x, y)),
        OpCase("mul", lambda a, c: a * c, lambda a, c, g: (a * c, g * c, g * a), (x, y)),
        OpCase(
            "div",
            lambda a, c: a / c,
            lambda a, c, g: (a / c, g / c, -((g / c) * a) / c),
            (x, pos),
        ),
        OpCase("pow (x**2)", lambda a: a**2, lambda a, g: (a**2, g * 2 * a), (x,)),
        OpCase("exp", lambda a: a.exp(), _np_exp, (x,)),
        OpCase("log", lambda a: a.log(), lambda a, g: (np.log(a), g / a), (pos,)),
        OpCase("tanh", lambda a: a.tanh(), _np_tanh, (x,)),
        OpCase("sigmoid", lambda a: a.sigmoid(), np_sigmoid, (x,)),
        OpCase("relu", lambda a: a.relu(), _np_relu, (x,)),
        OpCase(
            "matmul",
            lambda a, c: a @ c,
            lambda a, c, g: (a @ c, g @ c.T, a.T @ g),
            (x, y),
        ),
        OpCase(
            "sum(axis=1)",
            lambda a: a.sum(axis=1),
            lambda a, g: (a.sum(axis=1), np.broadcast_to(g[:, None], a.shape).copy()),
            (x,),
        ),
        OpCase(
            "mean()",
            lambda a: a.mean(),
            lambda a, g: (a.mean(), np.full(a.shape, g / a.size, dtype=F32)),
            (x,),
        ),
        OpCase("max(axis=1)", lambda a: a.max(axis=1), np_max_axis1, (x,)),
        OpCase("logsumexp(axis=1)", lambda a: a.logsumexp(axis=1), np_logsumexp, (x,)),
        OpCase("softmax(axis=-1)", lambda a: a.softmax(axis=-1), np_softmax, (x,)),
        OpCase("log_softmax(-1)", lambda a: a.log_softmax(axis=-1), np_log_softmax, (x,)),
        OpCase("x[8:40, 16:48]", lambda a: a[8:40, 16:48], np_getitem, (x,)),
        OpCase(
            "reshape(32, 128)",
            lambda a: a.reshape(32, 128),
            lambda a, g: (a.reshape(32, 128), g.reshape(a.shape).copy()),
            (x,),
        ),
        OpCase("transpose (.T)", lambda a: a.T, lambda a, g: (a.T, g.T.copy()), (x,)),
        OpCase(
            "(n,n) + (n,)",
            lambda a, c: a + c,
            lambda a, c, g: (a + c, g.copy(), g.sum(axis=0)),
            (x, b),
        ),
    ]


def _np_exp(a: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, ...]:
    out = np.exp(a)
    return out, g * out


def _np_tanh(a: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, ...]:
    out = np.tanh(a)
    return out, g * (1 - out * out)


def _np_relu(a: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, ...]:
    out = np.maximum(a, 0)
    return out, g * (out > 0)


def upstream_gradient(case: OpCase) -> np.ndarray:
    """A seeded float32 gradient G with the shape of the op's output (a 0-d array for mean)."""
    shape = case.ag_fn(*(ag.tensor(a) for a in case.inputs)).shape
    rng = np.random.default_rng(1)
    return np.asarray(rng.standard_normal(shape), dtype=F32)


def leaves_of(case: OpCase) -> list[ag.Tensor]:
    return [ag.tensor(a, requires_grad=True) for a in case.inputs]


def check_case(case: OpCase, g: np.ndarray) -> str:
    """'ok' if arraygrad's output and gradients match the NumPy reference, else what differs."""
    leaves = leaves_of(case)
    out = case.ag_fn(*leaves)
    out.backward(g)
    expected = case.np_fn(*case.inputs, g)
    got = [out.data] + [t.grad.data if t.grad is not None else None for t in leaves]
    labels = ["out"] + [f"grad{i}" for i in range(len(leaves))]
    for label, a, e in zip(labels, got, expected):
        if a is None:
            return f"{label} missing"
        if np.shape(a) != np.shape(e) or np.asarray(a).dtype != np.asarray(e).dtype:
            return f"{label} {np.shape(a)} {np.asarray(a).dtype} != {np.shape(e)}"
        if not np.allclose(a, e, rtol=1e-5, atol=1e-6):
            return f"{label} differs"
    return "ok"


# ------------------------------------------------------------------------------ section 1
def forward_backward_loop(case: OpCase, g: np.ndarray) -> Callable[[], None]:
    leaves = leaves_of(case)
    fn = case.ag_fn

    def step() -> None:
        fn(*leaves).backward(g)
        for t in leaves:
            t.grad = None

    return step


def numpy_loop(case: OpCase, g: np.ndarray) -> Callable[[], None]:
    fn, inputs = case.np_fn, case.inputs

    def step() -> None:
        fn(*inputs, g)

    return step


def bench_ops(cases: list[OpCase], settings: Settings) -> None:
    print(f"\n1. Forward + backward of one op, float32 ({N}, {N}), vs the same math in NumPy")
    print(f"   {'op':<18} {'arraygrad µs':>13} {'NumPy µs':>9} {'ratio':>6}  check")
    ratios = []
    for case in cases:
        g = upstream_gradient(case)
        check = check_case(case, g)
        t_ag = best_us(forward_backward_loop(case, g), settings)
        t_np = best_us(numpy_loop(case, g), settings)
        ratios.append(t_ag / t_np)
        print(f"   {case.name:<18} {t_ag:13.1f} {t_np:9.1f} {t_ag / t_np:6.1f}  {check}")
    print(f"   geometric mean of the ratios: {geometric_mean(ratios):.1f}")


# ------------------------------------------------------------------------------ section 2
def backward_loop(case: OpCase, g: np.ndarray, create_graph: bool) -> Callable[[], None]:
    """Backward through one op's graph, built once and retained."""
    leaves = leaves_of(case)
    out = case.ag_fn(*leaves)

    def step() -> None:
        out.backward(g, retain_graph=True, create_graph=create_graph)
        for t in leaves:
            t.grad = None

    return step


def count_calls(fn: Callable[[], object], code: Any) -> int:
    """How many times the Python function with code object ``code`` runs during ``fn()``."""
    calls = 0

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        nonlocal calls
        if event == "call" and frame.f_code is code:
            calls += 1

    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return calls


def bench_backward(cases: list[OpCase], settings: Settings) -> None:
    print("\n2. Backward alone (graph built once, retain_graph=True): plain vs create_graph=True")
    print(
        f"   {'op':<18} {'plain µs':>9} {'create_graph µs':>16} {'ratio':>6}"
        f"  {'nodes made: plain / create_graph':>33}"
    )
    node_code = ag.Function.__call__.__code__
    ratios = []
    for case in cases:
        g = upstream_gradient(case)
        plain = backward_loop(case, g, create_graph=False)
        higher = backward_loop(case, g, create_graph=True)
        nodes = f"{count_calls(plain, node_code)} / {count_calls(higher, node_code)}"
        t_plain = best_us(plain, settings)
        t_higher = best_us(higher, settings)
        ratios.append(t_higher / t_plain)
        print(
            f"   {case.name:<18} {t_plain:9.1f} {t_higher:16.1f} {t_higher / t_plain:6.1f}"
            f"  {nodes:>33}"
        )
    print(f"   geometric mean of the ratios: {geometric_mean(ratios):.1f}")
    print(
        f"   Tensors made by one plain backward of mul: {plain_tensor_count(cases)}\n"
        "   (the two leaves' .grad, and G wrapped once at the root; none in between)"
    )


def plain_tensor_count(cases: list[OpCase]) -> int:
    case = next(c for c in cases if c.name == "mul")
    return count_calls(backward_loop(case, upstream_gradient(case), False), _make.__code__)


def geometric_mean(values: Iterable[float]) -> float:
    values = list(values)
    return math.exp(sum(math.log(v) for v in values) / len(values))


# ------------------------------------------------------------------------------ section 3
def make_moons(n: int = 100, noise: float = 0.1, seed: int = SEED) -> tuple[np.ndarray, ...]:
    """Two interleaving half circles with Gaussian noise (scikit-learn's make_moons), shuffled;
    labels in {-1, +1}."""
    rng = np.random.default_rng(seed)
    n_out, n_in = n // 2, n - n // 2
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    x = np.concatenate([np.cos(t_out), 1 - np.cos(t_in)])
    y = np.concatenate([np.sin(t_out), 1 - np.sin(t_in) - 0.5])
    points = np.stack([x, y], axis=1) + rng.normal(scale=noise, size=(n, 2))
    labels = np.concatenate([-np.ones(n_out), np.ones(n_in)])
    order = rng.permutation(n)
    return points[order], labels[order]


class Neuron:
    """micrograd's ``nn.Neuron`` with 0-d float64 tensors."""

    def __init__(self, nin: int, nonlin: bool = True) -> None:
        self.w = [scalar_param(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = scalar_param(0.0)
        self.nonlin = nonlin

    def __call__(self, x: Sequence[ag.Tensor]) -> ag.Tensor:
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.relu() if self.nonlin else act

    def parameters(self) -> list[ag.Tensor]:
        return [*self.w, self.b]


class Layer:
    """micrograd's ``nn.Layer``."""

    def __init__(self, nin: int, nout: int, nonlin: bool = True) -> None:
        self.neurons = [Neuron(nin, nonlin) for _ in range(nout)]

    def __call__(self, x: Sequence[ag.Tensor]) -> ag.Tensor | list[ag.Tensor]:
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[ag.Tensor]:
        return [p for n in self.neurons for p in n.parameters()]


class MLP:
    """micrograd's ``nn.MLP`` (ReLU on hidden layers, linear output)."""

    def __init__(self, nin: int, nouts: list[int]) -> None:
        sz = [nin, *nouts]
        self.layers = [
            Layer(sz[i], sz[i + 1], nonlin=i != len(nouts) - 1) for i in range(len(nouts))
        ]

    def __call__(self, x: Any) -> Any:
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self) -> list[ag.Tensor]:
        return [p for layer in self.layers for p in layer.parameters()]

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None


def scalar_param(v: float) -> ag.Tensor:
    return ag.tensor(v, dtype=ag.float64, requires_grad=True)


def scalar_input(v: float) -> ag.Tensor:
    return ag.tensor(v, dtype=ag.float64)


HIDDEN = [16, 16, 1]


def demo_loss(
    model: Any, X: list[list[float]], y: list[float], wrap: Callable[[float], Any]
) -> tuple[Any, float]:
    """micrograd demo's ``loss()``: SVM max-margin loss + L2 regularization, and accuracy.
    ``wrap`` makes a scalar node of an input number (``Value`` or a 0-d tensor)."""
    inputs = [list(map(wrap, xrow)) for xrow in X]
    scores = list(map(model, inputs))
    accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores)]
    return margin_loss(model, scores, y), sum(accuracy) / len(accuracy)


def margin_loss(model: Any, scores: list[Any], y: list[float]) -> Any:
    """The demo's SVM max-margin loss of the scores, plus its L2 regularization."""
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    alpha = 1e-4
    reg_loss = alpha * sum(p * p for p in model.parameters())
    return data_loss + reg_loss


def arraygrad_step(model: MLP, X: list[list[float]], y: list[float], k: int) -> float:
    total_loss, _ = demo_loss(model, X, y, scalar_input)
    model.zero_grad()
    total_loss.backward()
    learning_rate = 1.0 - 0.9 * k / 100
    for p in model.parameters():
        p.data -= learning_rate * p.grad.data
    return float(total_loss.data)


def arraygrad_compiled_step(model: MLP, X: list[list[float]], y: list[float], k: int) -> float:
    """The same step under ``autograd.compile``: the inputs and labels are the same on every
    step (frozen as constants when the two recordings agree), the learning rate is a 0-d
    tensor argument, and the update is written with in-place tensor ops."""
    step = getattr(model, "compiled_step", None)
    if step is None:
        inputs = [list(map(scalar_input, xrow)) for xrow in X]
        params = model.parameters()

        @ag.compile
        def step(learning_rate: ag.Tensor) -> ag.Tensor:
            total_loss = margin_loss(model, list(map(model, inputs)), y)
            model.zero_grad()
            total_loss.backward()
            with ag.no_grad():
                for p in params:
                    p -= learning_rate * p.grad
            return total_loss

        model.compiled_step = step
    learning_rate = ag.tensor(1.0 - 0.9 * k / 100, dtype=ag.float64)
    return float(step(learning_rate).item())


def micrograd_step(model: Any, X: list[list[float]], y: list[float], k: int) -> float:
    total_loss, _ = demo_loss(model, X, y, Value)
    model.zero_grad()
    total_loss.backward()
    learning_rate = 1.0 - 0.9 * k / 100
    for p in model.parameters():
        p.data -= learning_rate * p.grad
    return float(total_loss.data)


@dataclass
class StepTimes:
    """Step times in seconds, the loss of each step, and the objects gc.collect() found after
    each step (only counted when the collector is disabled during the step)."""

    times: list[float]
    losses: list[float]
    garbage: list[int]
    warmup: list[float] = field(default_factory=list)

    def line(self, label: str) -> str:
        med, best = statistics.median(self.times) * 1e3, min(self.times) * 1e3
        extra = f"   cyclic garbage/step: {self.garbage[-1]}" if self.garbage else ""
        return f"   {label:<28} median {med:7.1f} ms   min {best:7.1f} ms{extra}"


StepFn = Callable[[Any, list[list[float]], list[float], int], float]


@dataclass
class Run:
    """One way of training: a fresh model, its step, whether the cyclic collector is off
    during each step, and how many untimed warm-up steps it takes first."""

    make_model: Callable[[], Any]
    step: StepFn
    no_gc: bool
    warmup: int = 1


def time_runs(runs: dict[str, Run], steps: int) -> dict[str, StepTimes]:
    """Each run's warm-up steps (k = 0, ...), then ``steps`` timed steps of every run in
    turn (step k of each, in an order that rotates with k), so that a change of machine speed
    during the measurement hits all runs alike; the losses of every step are kept. A run with
    its collector off has its step's cyclic garbage collected right after the step, untimed.
    With several runs, so has every run, so that none pays for another's garbage; a run timed
    alone with its collector on pays for its own, as in a training loop."""
    X, y = (a.tolist() for a in make_moons())
    alone = len(runs) == 1
    models, results = {}, {}
    for name, run in runs.items():
        random.seed(SEED)
        models[name] = run.make_model()
        results[name] = StepTimes([], [], [])
    gc.collect()

    def one_step(name: str, k: int, timed: bool) -> None:
        run, result = runs[name], results[name]
        if run.no_gc:
            gc.disable()
        start = time.perf_counter()
        loss = run.step(models[name], X, y, k)
        elapsed = time.perf_counter() - start
        if run.no_gc or not alone:
            gc.enable()
            garbage = gc.collect()
            if run.no_gc:
                result.garbage.append(garbage)
        result.losses.append(loss)
        (result.times if timed else result.warmup).append(elapsed)

    for name, run in runs.items():
        for k in range(run.warmup):
            one_step(name, k, timed=False)
    names = list(runs)
    for i in range(steps):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            one_step(name, runs[name].warmup + i, timed=True)
    gc.collect()
    return results


def count_graph(root: Any) -> tuple[int, int]:
    """(op nodes, leaves) reachable from ``root``: an arraygrad Tensor or a micrograd Value."""
    if isinstance(root, ag.Tensor):
        seen, stack = {id(root.grad_fn)}, [root.grad_fn]
        ops = leaves = 0
        while stack:
            node = stack.pop()
            if isinstance(node, ag.Tensor):
                leaves += 1
                continue
            ops += 1
            for e in node.edges:
                if e is not None and id(e) not in seen:
                    seen.add(id(e))
                    stack.append(e)
        return ops, leaves
    seen, stack, ops, leaves = {id(root)}, [root], 0, 0
    while stack:
        v = stack.pop()
        if v._op:
            ops += 1
        else:
            leaves += 1
        for c in v._prev:
            if id(c) not in seen:
                seen.add(id(c))
                stack.append(c)
    return ops, leaves


def expected_ops(n_points: int, nin: int = 2, nouts: Sequence[int] = tuple(HIDDEN)) -> int:
    """Op nodes of one demo loss, from the architecture: per neuron nin mul + nin add (the sum
    starts at the bias) + one relu if hidden; per point 3 more (mul, add, relu) for the hinge;
    sum of n losses (n add, starting at 0) and the 1/n scaling; per parameter p*p and an add,
    times alpha; the final add."""
    sizes = [nin, *nouts]
    per_point = sum(
        nout * (2 * n + (i < len(nouts) - 1)) for i, (n, nout) in enumerate(zip(sizes, nouts))
    )
    params = sum(nout * (n + 1) for n, nout in zip(sizes, nouts))
    return n_points * (per_point + 3) + n_points + 1 + 2 * params + 1 + 1


def bench_moons(settings: Settings) -> None:
    n_params = sum(nout * (n + 1) for n, nout in zip([2, *HIDDEN], HIDDEN))
    print(
        f"\n3. micrograd's moons demo, one training step: MLP 2-16-16-1 ({n_params} params),"
        f" 100 points, float64 0-d tensors"
    )
    X, y = (a.tolist() for a in make_moons())
    random.seed(SEED)
    ag_ops, ag_leaves = count_graph(demo_loss(MLP(2, HIDDEN), X, y, scalar_input)[0])
    print(
        f"   graph of one step: {ag_ops} op nodes (expected from the architecture:"
        f" {expected_ops(len(X))}), {ag_leaves} leaves requiring grad"
    )
    if MicroMLP is not None:
        random.seed(SEED)
        mg_ops, mg_leaves = count_graph(demo_loss(MicroMLP(2, HIDDEN), X, y, Value)[0])
        print(
            f"   micrograd's graph: {mg_ops} op nodes, {mg_leaves} leaf Values"
            " (its constants are leaf Values too)"
        )
    steps = settings.steps
    print(f"   {steps} timed steps after 1 warm-up step, with the cyclic collector on:")
    alone = {"arraygrad": Run(lambda: MLP(2, HIDDEN), arraygrad_step, no_gc=False)}
    ag_run = time_runs(alone, steps)["arraygrad"]
    print(ag_run.line("arraygrad"))
    mg_run = None
    if MicroMLP is not None:
        alone = {"micrograd": Run(lambda: MicroMLP(2, HIDDEN), micrograd_step, no_gc=False)}
        mg_run = time_runs(alone, steps)["micrograd"]
        print(mg_run.line("micrograd"))
    runs = {
        "arraygrad, gc disabled": Run(lambda: MLP(2, HIDDEN), arraygrad_step, no_gc=True),
        "arraygrad, compiled": Run(
            lambda: MLP(2, HIDDEN), arraygrad_compiled_step, no_gc=False, warmup=2
        ),
    }
    if MicroMLP is not None:
        runs["micrograd, gc disabled"] = Run(
            lambda: MicroMLP(2, HIDDEN), micrograd_step, no_gc=True
        )
    print(f"   {steps} timed steps of each, interleaved (step k of each in turn):")
    times = time_runs(runs, steps)
    for name, result in times.items():
        print(result.line(name))
    compiled = times["arraygrad, compiled"]
    print(
        f"   (the compiled step's two recordings, the second with the lowering:"
        f" {compiled.warmup[0]:.2f} s and {compiled.warmup[1]:.2f} s, not timed)"
    )
    same = compiled.losses[: len(ag_run.losses)] == ag_run.losses
    print(f"   compiled losses bit-identical to eager's, steps 0 to {steps}: {same}")
    if mg_run is None:
        print("   micrograd is not installed (import micrograd failed): its columns are skipped")
        return
    mg_nogc = times["micrograd, gc disabled"]
    med = statistics.median
    print(f"   arraygrad / micrograd:                {med(ag_run.times) / med(mg_run.times):5.2f}")
    print(f"   arraygrad / micrograd without gc:     {med(ag_run.times) / med(mg_nogc.times):5.2f}")
    print("   (these two: ratios of the median step times of runs timed at different times)")

    def ratio(a: StepTimes, b: StepTimes) -> float:
        """The median over k of step k's time of a over b's (taken one after the other)."""
        return statistics.median(x / y for x, y in zip(a.times, b.times))

    nogc = ratio(times["arraygrad, gc disabled"], mg_nogc)
    print(f"   arraygrad without gc / micrograd without gc: {nogc:5.2f}")
    print(
        f"   compiled / micrograd without gc:      {ratio(compiled, mg_nogc):5.2f} (target <= 1.0)"
    )
    print("   (these two: medians over k of the ratio of the interleaved runs' step k)")
    diff = max(abs(a - b) for a, b in zip(ag_run.losses, mg_run.losses))
    print(
        f"   losses, step 0 -> {steps}: arraygrad {ag_run.losses[0]:.6f} -> "
        f"{ag_run.losses[-1]:.6f}, micrograd {mg_run.losses[0]:.6f} -> "
        f"{mg_run.losses[-1]:.6f} (max difference {diff:.1e})"
    )


# ------------------------------------------------------------------------------ main
def print_header(settings: Settings, quick: bool) -> None:
    print("arraygrad engine benchmark" + (" (--quick)" if quick else ""))
    processor = platform.processor() or platform.machine()
    print(f"machine: {processor}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}")
    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}),"
        f" NumPy {np.__version__}, arraygrad {ag.__version__}"
    )
    threads = [f"{v}={os.environ[v]}" for v in THREAD_VARS if v in os.environ]
    print("thread settings: " + (", ".join(threads) if threads else "none set (defaults)"))
    print(f"timing: best of {settings.repeats} loops of ~{settings.target_s * 1e3:.0f} ms each")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a few seconds)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    settings = QUICK if args.quick else DEFAULT
    start = time.perf_counter()
    print_header(settings, args.quick)
    cases = op_cases()
    bench_ops(cases, settings)
    bench_backward(cases, settings)
    bench_moons(settings)
    print(f"\ntotal time: {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
