"""One training step of ``nn.MLP(784, [256, 128], 10)`` against the same step in raw NumPy.

Run:  python benchmarks/nn_step.py            (about 30 seconds)
      python benchmarks/nn_step.py --quick    (a few seconds, rougher numbers)
      python benchmarks/nn_step.py --phases   (where the compiled step's time goes, 20 seconds)

The step, on a batch of 128 float32 examples (ISLR's MNIST network without dropout):
forward, mean cross-entropy, backward, plain SGD update (w -= lr * grad).

* arraygrad: ``model.zero_grad()``, ``F.cross_entropy(model(x), y).backward()``, then the
  update written on the parameters' arrays.
* NumPy: the same math written by hand, as one would without an engine: the three affine
  maps, ReLU, a shifted log-softmax, and the backward pass (softmax minus one-hot, the
  matrix products, ReLU masks, bias sums), then the same update. Timed on the model's own
  arrays (see below), which ``nn.Linear`` stores by columns: written on their transposes,
  the weights stored (in, out) as Keras stores them, x @ W (products of C-ordered arrays,
  the kernels arraygrad's layers call). Beside it, as a diagnostic that is not the target's
  reference, ``numpy (out, in)``: the same step on C-ordered copies stored (out, in) as
  PyTorch stores them, x @ W.T (on OpenBLAS the first layer's product about 12% slower).
* compiled: the arraygrad step under ``autograd.compile`` (recorded twice, then replayed),
  the update as in-place tensor ops under ``no_grad``.
* PyTorch (if installed), CPU, with as many threads as NumPy's BLAS uses: the usual
  ``zero_grad(set_to_none) / F.cross_entropy / backward / p -= lr * p.grad`` step.

BLAS threads: the count of ``nn.train.threads`` (the cores other processes leave free,
``--blas-threads N`` or ``$ARRAYGRAD_BLAS_THREADS`` to choose), printed first.

All start from the same weights; four steps of each are checked against NumPy's (out, in)
step (losses and updated weights) before timing. For the timing, the NumPy step then works on
the model's own arrays (weights, inputs, labels; both steps update the weights in place, by
the same math): with copies, where the allocator happened to place each copy moved the ratio
of single runs by several percent either way (1.07 to 1.16 for the same code), with one set of
arrays it cannot favour either side (the (out, in) diagnostic has copies of its own, the
layout being another). arraygrad, compiled and the NumPy steps are timed in interleaved
rounds, each round a block of steps of each (the order rotating from round to round), so that
a change of machine load hits all alike: a ``ratio`` is the median over rounds of a step's
block time over NumPy's in the same round (targets: <= 1.15 eager, <= 1.00 compiled), and
each reported time is the median over rounds of the mean step time in a block (101 rounds:
with 21, the median of the same code moved by up to 4% between runs; with 151, by about
1%, on a machine whose speed drifts). PyTorch is
timed after them, in blocks of its own: its OpenMP workers, like OpenBLAS's, keep spinning on
the cores for a while after each call, and would slow down whichever block came next.

Phases (``--phases``). The same two steps cut after each phase, each prefix compiled (and
written in NumPy) on its own: the logits; the mean cross-entropy; its backward (``zero_grad``
and every gradient); the whole step (the update). Each prefix is timed as the steps are, in
interleaved rounds against its NumPy twin; a phase's cost is the difference between its
prefix and the one before, so that the extra time of the compiled step is shown phase by
phase, measured where the phase runs (after the large matrix products, which leave the
interpreter's code and data out of the caches) rather than in a tight loop of its own.

Memory. A step allocates a few MB of arrays and frees them. With glibc's default settings,
whether those come back from the kernel as fresh pages (a page fault per 4 KB, zeroed) or
from memory the process kept depends on the history of the heap (its adaptive thresholds, the
order of frees), so the same step can take 0.9 or 1.4 ms from one run to the next. Unless
``--system-malloc`` is given, the script first tells glibc (``mallopt``) to keep freed memory
in the process, as it ends up doing anyway in a long training run: both steps then measure
their own work, not the kernel's page zeroing.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np

import autograd as ag
import nn
from nn import functional as F
from nn.train.threads import limit_blas_threads

try:
    import torch
except ImportError:  # PyTorch is optional: its column is skipped
    torch = None

BATCH, SIZES, CLASSES = 128, (784, 256, 128), 10
LR = 0.01
SEED = 0


def steady_malloc() -> bool:
    """Make glibc keep freed memory in the process (see the module docstring); False where
    that is not possible (another C library)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3  # malloc.h
        return bool(
            libc.mallopt(m_mmap_threshold, 32 << 20) and libc.mallopt(m_trim_threshold, 1 << 30)
        )
    except (OSError, AttributeError):
        return False


# ----------------------------------------------------------------------------- the steps
def arraygrad_step(model: nn.Module, x: ag.Tensor, y: ag.Tensor) -> Callable[[], float]:
    params = list(model.parameters())

    def step() -> float:
        model.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        for p in params:
            p.data -= LR * p.grad.data
        return float(loss.item())

    return step


PHASES = ("logits", "loss", "backward", "update")  # the step's parts, for --phases


def compiled_step(
    model: nn.Module, x: ag.Tensor, y: ag.Tensor, phase: str = "update"
) -> Callable[[], float]:
    """The arraygrad step under ``autograd.compile``: recorded on its first two calls, then
    replayed; the update written with in-place tensor ops (writes into ``.data`` are not
    recorded). Cut after ``phase`` (one of PHASES) for ``--phases``."""
    params = list(model.parameters())
    upto = PHASES.index(phase)

    @ag.compile
    def train_step(x: ag.Tensor, y: ag.Tensor) -> ag.Tensor:
        if upto >= 2:
            model.zero_grad()
        out = model(x)
        if upto >= 1:
            out = F.cross_entropy(out, y)
        if upto >= 2:
            out.backward()
        if upto >= 3:
            with ag.no_grad():
                for p in params:
                    p -= LR * p.grad
        return out

    if upto == 0:
        return lambda: float(train_step(x, y).data.flat[0])
    return lambda: float(train_step(x, y).item())


def numpy_step(
    weights: list[np.ndarray], x: np.ndarray, y: np.ndarray, phase: str = "update"
) -> Callable[[], float]:
    """The same step written in NumPy (see the module docstring), cut after ``phase``: on
    weights stored (in, out), x @ W, where each of ``weights`` is stored by columns (its
    transpose is the (in, out) array, C-ordered: nn.Linear's layout), else on weights stored
    (out, in), x @ W.T, as PyTorch stores them."""
    io = all(w.ndim == 1 or (w.flags.f_contiguous and not w.flags.c_contiguous) for w in weights)
    w1, b1, w2, b2, w3, b3 = (w.T for w in weights) if io else weights  # (in, out) if io
    rows = np.arange(len(y))
    n = len(y)
    upto = PHASES.index(phase)

    def step() -> float:
        h1 = x @ w1 if io else x @ w1.T
        h1 += b1
        a1 = np.maximum(h1, 0)
        h2 = a1 @ w2 if io else a1 @ w2.T
        h2 += b2
        a2 = np.maximum(h2, 0)
        z = a2 @ w3 if io else a2 @ w3.T
        z += b3
        if upto == 0:
            return float(z.flat[0])
        shifted = z - z.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -log_p[rows, y].mean()
        if upto == 1:
            return float(loss)
        dz = np.exp(log_p)
        dz[rows, y] -= 1
        dz /= n
        # each weight's gradient in its layout, each input's through the weight
        dw3, db3 = (a2.T @ dz if io else dz.T @ a2), dz.sum(axis=0)
        dh2 = (dz @ w3.T if io else dz @ w3) * (h2 > 0)
        dw2, db2 = (a1.T @ dh2 if io else dh2.T @ a1), dh2.sum(axis=0)
        dh1 = (dh2 @ w2.T if io else dh2 @ w2) * (h1 > 0)
        dw1, db1 = (x.T @ dh1 if io else dh1.T @ x), dh1.sum(axis=0)
        if upto == 3:
            for w, g in ((w1, dw1), (b1, db1), (w2, dw2), (b2, db2), (w3, dw3), (b3, db3)):
                w -= LR * g
        return float(loss)

    return step


def torch_step(
    weights: list[np.ndarray], x: np.ndarray, y: np.ndarray
) -> tuple[Callable[[], float], list[np.ndarray]]:
    layers = []
    for i in range(3):
        lin = torch.nn.Linear(weights[2 * i].shape[1], weights[2 * i].shape[0])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(weights[2 * i]))
            lin.bias.copy_(torch.from_numpy(weights[2 * i + 1]))
        layers += [lin, torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    params = list(model.parameters())
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)

    def step() -> float:
        model.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(tx), ty)
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= LR * p.grad
        return float(loss.item())

    return step, [p.detach().numpy() for p in params]  # views of the live weights


def phases(args: argparse.Namespace, threads: int | None) -> None:
    """Print each phase's time, compiled and NumPy (see the module docstring)."""
    rounds, steps = (5, 5) if args.quick else (151, 10)
    steady = False if args.system_malloc else steady_malloc()
    ag.manual_seed(SEED)
    model = nn.MLP(SIZES[0], list(SIZES[1:]), CLASSES)
    rng = np.random.default_rng(SEED)
    x = ag.tensor(rng.standard_normal((BATCH, SIZES[0])).astype(np.float32))
    y = ag.tensor(rng.integers(0, CLASSES, BATCH).astype(np.int64))
    shared = [p.data for p in model.parameters()]  # one set of arrays, as in run()
    pairs = {
        phase: {
            "compiled": compiled_step(model, x, y, phase),
            "numpy": numpy_step(shared, x.data, y.data, phase),
        }
        for phase in PHASES
    }
    for phase in PHASES[:-1]:  # the same numbers (the weights not changed yet)
        got, expected = pairs[phase]["compiled"](), pairs[phase]["numpy"]()
        if not np.isclose(got, expected, rtol=1e-4, atol=1e-6):
            sys.exit(f"{phase}: compiled gives {got}, numpy {expected}")
    blocks = [(phase, name, step) for phase, pair in pairs.items() for name, step in pair.items()]
    for _, _, step in blocks:  # warm-up (the compiled prefixes' two recordings)
        block_ms(step, 3)
    times: dict[tuple[str, str], list[float]] = {(p, n): [] for p, n, _ in blocks}
    for r in range(rounds):
        k = r % len(blocks)
        for phase, name, step in blocks[k:] + blocks[:k]:  # each block in each place in turn
            times[phase, name].append(block_ms(step, steps))
    print(
        f"nn.MLP(784, [256, 128], 10), batch {BATCH}, float32, BLAS threads {threads}; "
        f"malloc: {'freed memory kept' if steady else 'system settings'}"
    )
    print(f"each prefix of the step: median over {rounds} interleaved rounds of a block's mean")
    print(f"  {'phase':<10} {'compiled us':>12} {'numpy us':>10} {'extra us':>9}")
    before = {"compiled": 0.0, "numpy": 0.0}
    total = statistics.median(times[PHASES[-1], "numpy"]) * 1e3
    for phase in PHASES:
        median = {name: statistics.median(times[phase, name]) * 1e3 for name in before}
        cost = {name: median[name] - before[name] for name in before}
        extra = cost["compiled"] - cost["numpy"]
        print(
            f"  {phase:<10} {cost['compiled']:12.1f} {cost['numpy']:10.1f} {extra:9.1f}"
            f"   ({extra / total:+.1%} of the NumPy step)"
        )
        before = median
    print(f"  step       {before['compiled']:12.1f} {before['numpy']:10.1f}")


# ---------------------------------------------------------------------------- timing
def block_ms(step: Callable[[], float], steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (rougher numbers)")
    parser.add_argument(
        "--system-malloc", action="store_true", help="leave glibc's malloc settings alone"
    )
    parser.add_argument(
        "--blas-threads", type=int, default=None, metavar="N", help="threads of NumPy's BLAS"
    )
    parser.add_argument(
        "--phases", action="store_true", help="time each phase of the step (see the docstring)"
    )
    args = parser.parse_args()
    with limit_blas_threads(args.blas_threads) as threads:
        print(f"BLAS threads: {threads or 'as they were (threadpoolctl not installed)'}")
        (phases if args.phases else run)(args, threads)


def run(args: argparse.Namespace, threads: int | None) -> None:
    rounds, steps = (5, 5) if args.quick else (101, 10)
    steady = False if args.system_malloc else steady_malloc()

    if torch is not None and threads is not None:
        torch.set_num_threads(threads)

    ag.manual_seed(SEED)
    model = nn.MLP(SIZES[0], list(SIZES[1:]), CLASSES)
    rng = np.random.default_rng(SEED)
    x_np = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    y_np = rng.integers(0, CLASSES, BATCH).astype(np.int64)
    x, y = ag.tensor(x_np), ag.tensor(y_np)
    start = [p.numpy().copy() for p in model.parameters()]

    np_weights = [w.copy() for w in start]  # updated in place by the NumPy step
    ag.manual_seed(SEED)
    twin = nn.MLP(SIZES[0], list(SIZES[1:]), CLASSES)  # the same weights, for the check
    steps_by_name: dict[str, Callable[[], float]] = {
        "arraygrad": arraygrad_step(model, x, y),
        "compiled": compiled_step(twin, x, y),
        "numpy": numpy_step(np_weights, x_np, y_np),
    }
    weights = {
        "arraygrad": [p.data for p in model.parameters()],
        "compiled": [p.data for p in twin.parameters()],
        "numpy": np_weights,
    }
    if torch is not None:
        steps_by_name["pytorch"], weights["pytorch"] = torch_step(
            [w.copy() for w in start], x_np, y_np
        )

    # Check: four steps from the same weights give the same losses and weights everywhere
    # (the compiled step records on the first two and replays on the others).
    losses = {name: [step() for _ in range(4)] for name, step in steps_by_name.items()}
    for name in steps_by_name:
        same_loss = np.allclose(losses[name], losses["numpy"], rtol=1e-4, atol=1e-6)
        same_weights = all(
            np.allclose(a, b, rtol=1e-4, atol=1e-6) for a, b in zip(weights[name], np_weights)
        )
        if not (same_loss and same_weights):
            sys.exit(f"{name} disagrees with numpy: losses {losses[name]} vs {losses['numpy']}")

    print(f"nn.MLP(784, [256, 128], 10), batch {BATCH}, float32: forward, cross-entropy,")
    print("backward, SGD update. Medians over rounds of the mean step time in a block.")
    print(
        f"python {platform.python_version()}, numpy {np.__version__}"
        + (f", torch {torch.__version__}" if torch is not None else ", torch not installed")
        + f"; BLAS threads {threads}"
        + (f", torch threads {torch.get_num_threads()}" if torch is not None else "")
        + f"; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}"
    )
    print("malloc: " + ("freed memory kept (mallopt)" if steady else "system settings"))
    print("arrays: arraygrad and NumPy timed on one set of weights and data (see the docstring)")
    # Timed on one set of arrays (see the module docstring): the NumPy step on the model's.
    shared = [p.data for p in model.parameters()]
    pair = {
        "arraygrad": steps_by_name["arraygrad"],
        "compiled": compiled_step(model, x, y),
        "numpy": numpy_step(shared, x.data, y.data),
        "numpy (out, in)": numpy_step([np.ascontiguousarray(w) for w in shared], x_np, y_np),
    }
    for step in pair.values():  # warm-up (the compiled step's two recordings)
        block_ms(step, 3)
    times: dict[str, list[float]] = {name: [] for name in (*steps_by_name, *pair)}
    ratios: dict[str, list[float]] = {"arraygrad": [], "compiled": []}
    by_rows: list[float] = []  # compiled against the (out, in) NumPy step
    for r in range(rounds):
        names = list(pair)
        k = r % len(names)
        order = names[k:] + names[:k]  # each step in each place in turn
        block = {name: block_ms(pair[name], steps) for name in order}
        for name, t in block.items():
            times[name].append(t)
        for name in ratios:
            ratios[name].append(block[name] / block["numpy"])
        by_rows.append(block["compiled"] / block["numpy (out, in)"])
    if "pytorch" in steps_by_name:  # after the others: see the module docstring
        time.sleep(0.5)
        block_ms(steps_by_name["pytorch"], 3)
        times["pytorch"] = [block_ms(steps_by_name["pytorch"], steps) for _ in range(rounds)]
    median = {name: statistics.median(t) for name, t in times.items()}
    for name, t in median.items():
        print(f"  {name:<15} {t:8.3f} ms/step   (min {min(times[name]):.3f})")
    for name, target in (("arraygrad", 1.15), ("compiled", 1.00)):
        ratio = statistics.median(ratios[name])
        print(
            f"ratio {name} / numpy: {ratio:8.3f}  (median of {rounds} rounds; "
            f"target <= {target:.2f})"
        )
    print(
        f"ratio compiled / numpy (out, in): {statistics.median(by_rows):.3f}  (weights stored "
        f"as PyTorch stores them; not the target's reference)"
    )
    if "pytorch" in median:
        for name in ("arraygrad", "compiled"):
            print(f"ratio {name} / pytorch: {median[name] / median['pytorch']:.3f}")


if __name__ == "__main__":
    main()
