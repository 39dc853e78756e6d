"""What the optimizer step costs within a training step of ``nn.MLP(784, [256, 128], 10)``.

Run:  python benchmarks/optim_step.py            (about 10 seconds)
      python benchmarks/optim_step.py --quick    (a few seconds, rougher numbers)

The network has ISLR's 235,146 MNIST parameters (float32); a batch is 128 random examples
with random labels. A whole training step is ``zero_grad()``, forward, mean cross-entropy,
``backward()`` and ``optimizer.step()``; the two parts are timed separately in each step, and
``fraction`` is step / whole (the issue's target is <= 10%) for SGD with momentum 0.9, Adam and
RMSprop.

Rounds are interleaved: in each round every optimizer starts from the same initial weights (so
no run drifts into a regime of tiny, denormal gradients), takes a few warm-up steps, then a
block of timed steps; the optimizers' order rotates from round to round so that a change of
machine load hits all of them alike. Each figure is the median over rounds of the block's mean.
The machine should be otherwise idle: on a loaded machine BLAS threads wait for CPUs, which
inflates the training step (and flatters the fraction).

The update math is a few elementwise passes over all the parameters, each reading and writing
whole arrays: plain SGD (θ -= lr·g, shown for reference) 2, SGD with momentum 4, RMSprop 9,
Adam 12; ``out=`` and in-place operations keep them from allocating.
With PyTorch installed, its ``torch.optim`` (CPU, default implementation) is measured the same
way on the same network, for reference, in a phase of its own after arraygrad's.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from typing import Any

import numpy as np

import autograd as ag
import nn
import optim
from nn import functional as F

try:
    import torch
except ImportError:  # PyTorch is optional: its rows are skipped
    torch = None

BATCH, SIZES, CLASSES = 128, (784, 256, 128), 10
PARAMETERS = 235_146
OPTIMIZERS: dict[str, tuple[str, dict[str, Any]]] = {
    "SGD (plain)": ("SGD", {"lr": 0.01}),
    "SGD (momentum 0.9)": ("SGD", {"lr": 0.01, "momentum": 0.9}),
    "Adam": ("Adam", {"lr": 1e-3}),
    "RMSprop": ("RMSprop", {"lr": 1e-3}),
}


class Run:
    """One framework's model, batches and optimizer factory, and what the timed steps took."""

    def __init__(self, label: str, name: str, kwargs: dict[str, Any]) -> None:
        self.label, self.name, self.kwargs = label, name, kwargs
        self.step_s: list[float] = []  # per round: mean optimizer step
        self.whole_s: list[float] = []  # per round: mean whole training step

    def record(self, steps: list[tuple[float, float]]) -> None:
        self.step_s.append(statistics.fmean(s for _, s in steps))
        self.whole_s.append(statistics.fmean(f + s for f, s in steps))


def batches(rng: np.random.Generator, count: int) -> list[tuple[np.ndarray, np.ndarray]]:
    return [
        (
            rng.random((BATCH, SIZES[0]), dtype=np.float32),
            rng.integers(0, CLASSES, BATCH),
        )
        for _ in range(count)
    ]


def arraygrad_round(run: Run, model: nn.MLP, initial: list[np.ndarray], data, settings) -> None:
    """Reset the weights, make the optimizer, warm up, then time ``settings.steps`` steps."""
    for p, w in zip(model.parameters(), initial):
        p.data[...] = w
    opt = getattr(optim, run.name)(model.parameters(), **run.kwargs)
    xs = [(ag.tensor(x), ag.tensor(y)) for x, y in data]
    run.record(time_steps(model, opt, xs, F.cross_entropy, settings))


def torch_round(run: Run, model: Any, initial: list[Any], data, settings) -> None:
    """The same with PyTorch."""
    with torch.no_grad():
        for p, w in zip(model.parameters(), initial):
            p.copy_(w)
    opt = getattr(torch.optim, run.name)(model.parameters(), **run.kwargs)
    xs = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in data]
    run.record(time_steps(model, opt, xs, torch.nn.functional.cross_entropy, settings))


def time_steps(
    model: Any, opt: Any, xs: list[Any], loss_fn: Any, settings
) -> list[tuple[float, float]]:
    """(zero_grad + forward + loss + backward, optimizer step) seconds of each timed step."""
    timed = []
    for i in range(settings.warmup + settings.steps):
        x, y = xs[i % len(xs)]
        start = time.perf_counter()
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        middle = time.perf_counter()
        opt.step()
        end = time.perf_counter()
        if i >= settings.warmup:
            timed.append((middle - start, end - middle))
    return timed


def rotated(runs: list[Run], r: int) -> list[Run]:
    """The runs in the order of round ``r``: each round starts one further."""
    k = r % len(runs)
    return runs[k:] + runs[:k]


class Settings:
    def __init__(self, quick: bool) -> None:
        self.rounds, self.warmup, self.steps = (3, 3, 10) if quick else (11, 5, 40)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, rougher numbers")
    settings = Settings(parser.parse_args().quick)

    rng = np.random.default_rng(0)
    data = batches(rng, 8)
    model = nn.MLP(*SIZES[:1], list(SIZES[1:]), CLASSES, generator=ag.Generator().manual_seed(0))
    count = sum(p.size for p in model.parameters())
    assert count == PARAMETERS, count
    initial = [p.data.copy() for p in model.parameters()]
    ours = [Run(label, name, kwargs) for label, (name, kwargs) in OPTIMIZERS.items()]

    theirs: list[Run] = []
    if torch is not None:
        torch.manual_seed(0)
        reference = torch.nn.Sequential(
            torch.nn.Linear(784, 256),
            torch.nn.ReLU(),
            torch.nn.Linear(256, 128),
            torch.nn.ReLU(),
            torch.nn.Linear(128, 10),
        )
        with torch.no_grad():
            for theirs_p, ours_p in zip(reference.parameters(), initial):
                theirs_p.copy_(torch.from_numpy(ours_p))
        torch_initial = [p.detach().clone() for p in reference.parameters()]
        theirs = [Run(label, name, kwargs) for label, (name, kwargs) in OPTIMIZERS.items()]

    # PyTorch's thread pool and NumPy's BLAS threads slow each other down when they alternate,
    # so each framework has its own phase
    for r in range(settings.rounds):
        for run in rotated(ours, r):
            arraygrad_round(run, model, initial, data, settings)
    for r in range(settings.rounds if theirs else 0):
        for run in rotated(theirs, r):
            torch_round(run, reference, torch_initial, data, settings)

    threads = {
        k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS") if k in os.environ
    }
    print(
        f"optimizer step within a training step: nn.MLP(784, [256, 128], 10), {count:,} float32 "
        f"parameters, batch {BATCH}"
    )
    print(
        f"Python {platform.python_version()}, NumPy {np.__version__}, {os.cpu_count()} CPUs"
        + (f", {threads}" if threads else "")
        + (f", PyTorch {torch.__version__} ({torch.get_num_threads()} threads)" if torch else "")
    )
    print(
        f"{settings.rounds} interleaved rounds of {settings.steps} timed steps; medians over rounds"
    )
    print(f"\n{'':10} {'optimizer':20} {'step us':>9} {'whole us':>9} {'fraction':>9}")
    rows = [("arraygrad", run) for run in ours] + [("torch", run) for run in theirs]
    for framework, run in rows:
        step, whole = statistics.median(run.step_s), statistics.median(run.whole_s)
        times = f"{step * 1e6:9.1f} {whole * 1e6:9.1f}"
        print(f"{framework:10} {run.label:20} {times} {step / whole:9.1%}")
    target = [r for r in ours if r.label != "SGD (plain)"]
    worst = max(statistics.median(r.step_s) / statistics.median(r.whole_s) for r in target)
    verdict = "met" if worst <= 0.10 else "not met"
    print(f"\ntarget: SGD with momentum, Adam, RMSprop <= 10% of the training step: {verdict}")


if __name__ == "__main__":
    sys.exit(main())
