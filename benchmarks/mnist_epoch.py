"""One MNIST training epoch of ISLR's dropout network, four ways, side by side in one run.

The network of ISLR's Table 10.1 (784-256-128-10, ReLU, dropout 0.4 and 0.3, softmax
cross-entropy, RMSprop with Keras's defaults lr=1e-3, rho=0.9, eps=1e-7), trained for one
epoch on 48,000 images in batches of 128 (375 steps), four ways:

* arraygrad: ``nn.MLP`` + ``nn.functional.cross_entropy`` + ``optim.RMSprop``, gradients
  from the graph;
* compiled: the same arraygrad step under ``autograd.compile`` (replayed after two
  recordings per batch shape);
* raw NumPy: the same forward, the hand-derived backward and the RMSprop update, written
  directly with NumPy arrays (the floor for any NumPy-based engine), flushing subnormals to 0
  as ``optim`` does (without it, the running averages of dead units decay into subnormals
  and the epochs of a plain NumPy loop slow down threefold), with the weights stored
  (in, out) as Keras stores them (in memory, as ``nn.Linear`` stores its (out, in) weight
  by columns) and the dropout masks drawn as float32 uniforms: the targets' reference.
  Beside it, as diagnostics, the same loop with the weights stored (out, in) by rows as
  PyTorch stores them (other matrix products for the BLAS), and
  the same loop drawing its masks from 32-bit integers as arraygrad's dropout does (see
  ``numpy_epoch_fn``);
* PyTorch CPU (when installed, ``pip install torch==2.13.0``) with as many threads as NumPy's
  BLAS uses: the count of ``nn.train.threads`` (the cores other processes leave free,
  ``--blas-threads N`` or ``$ARRAYGRAD_BLAS_THREADS`` to choose), printed first.

The images are random float32 values in [0, 1) of MNIST's size (the time of dense layers
does not depend on the values), so the script needs no download. Every contestant gathers
each batch with one fancy index (``x[idx]``, a new array) and uses it as it is: the arraygrad
steps take it with ``autograd.from_numpy`` (no second copy, as ``nn``'s DataLoader), PyTorch
with ``xt[i]``. In each round every contestant but PyTorch runs one epoch, the epochs
interleaved CHUNK (25) steps at a time, the order rotating from round to round, so that a
drift of the machine's speed hits all alike; a ratio is the median over rounds of the epoch
times' ratio in the round. PyTorch runs its epochs after them (its OpenMP workers keep
spinning after each call and would slow down whoever came next).

    python benchmarks/mnist_epoch.py             # 4 epochs each
    python benchmarks/mnist_epoch.py --repeats 2 # quicker
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable, Generator

import numpy as np
from nn_step import steady_malloc  # benchmarks/ is on sys.path

import autograd as ag
import nn
import optim
from nn.train.threads import limit_blas_threads
from optim.optimizer import FLUSH_SUBNORMALS_EVERY

SIZES = (784, 256, 128, 10)
DROPOUT = (0.4, 0.3)
LR, RHO, EPS = 1e-3, 0.9, 1e-7
N_TRAIN, BATCH = 48_000, 128
CHUNK = 25  # steps of one contestant's epoch before the next contestant's turn
Epoch = Generator[None, None, float]  # runs CHUNK steps a next(); returns the last loss


def run_epoch(epoch: Epoch) -> float:
    """Run a whole epoch at once; its last loss."""
    try:
        while True:
            next(epoch)
    except StopIteration as done:
        return done.value


def interleaved(epochs: dict[str, Epoch], times: dict[str, list[float]]) -> None:
    """Run an epoch of each contestant, CHUNK steps of each in turn, adding each one's time
    (the sum of its chunks) to ``times``: a drift of the machine's speed, which on a shared
    VM moves over seconds, then hits every contestant of the round alike."""
    spent = dict.fromkeys(epochs, 0.0)
    running = dict(epochs)
    while running:
        for name, epoch in list(running.items()):
            start = time.perf_counter()
            try:
                next(epoch)
            except StopIteration:
                del running[name]
            spent[name] += time.perf_counter() - start
    for name, t in spent.items():
        times[name].append(t)


def make_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.random((N_TRAIN, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], N_TRAIN)
    return x, y


def batches(n: int, rng: np.random.Generator) -> list[np.ndarray]:
    order = rng.permutation(n)
    return [order[i : i + BATCH] for i in range(0, n, BATCH)]


# ---------------------------------------------------------------- arraygrad


def arraygrad_epoch_fn(x: np.ndarray, y: np.ndarray, compiled: bool) -> Callable[[], Epoch]:
    """An epoch of the arraygrad step, eager or under ``autograd.compile`` (the same step:
    recorded on the first two batches of each shape, the last smaller batch included, then
    replayed)."""
    ag.manual_seed(0)
    model = nn.MLP(SIZES[0], list(SIZES[1:-1]), SIZES[-1], dropout=list(DROPOUT))
    opt = optim.RMSprop(model.parameters(), lr=LR, alpha=RHO, eps=EPS)
    rng = np.random.default_rng(1)
    model.train()

    def step(xb: ag.Tensor, yb: ag.Tensor) -> ag.Tensor:
        loss = nn.functional.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    if compiled:
        step = ag.compile(step)

    def epoch() -> Epoch:
        loss = None
        for k, idx in enumerate(batches(len(x), rng), 1):
            # the gather makes the batch's arrays, as the NumPy loop's x[idx]; the tensors share
            # them (as nn's DataLoader does) instead of copying them again (autograd.tensor)
            loss = step(ag.from_numpy(x[idx]), ag.from_numpy(y[idx]))
            if k % CHUNK == 0:
                yield
        return float(loss)

    return epoch


# ---------------------------------------------------------------- raw NumPy


def numpy_epoch_fn(
    x: np.ndarray, y: np.ndarray, out_in: bool = False, bits: bool = False
) -> Callable[[], Epoch]:
    """The raw NumPy epoch, with each weight stored (in, out) as Keras (ISLR's library)
    stores it (and nn.Linear, its W by columns), x @ W; or (``out_in``) the same values
    stored (out, in) as PyTorch stores them, x @ W.T: the same math, other matrix products
    for the BLAS (on OpenBLAS, x @ W.T of the first layer is about 12% slower than x @ W).
    The dropout masks come from float32 uniforms, u >= p, as one writes them in NumPy; or
    (``bits``) from the 32-bit halves of the generator's raw 64-bit words, u >= round(p
    2^32), as arraygrad's dropout draws them (``Backend.keep_mask``: about half the time of
    the uniforms)."""
    rng = np.random.default_rng(0)
    params = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        bound = 1 / np.sqrt(fan_in)
        w = rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32)
        params.append(np.ascontiguousarray(w.T) if out_in else w)
        params.append(rng.uniform(-bound, bound, fan_out).astype(np.float32))
    square_avg = [np.zeros_like(p) for p in params]
    order_rng = np.random.default_rng(1)
    eye = np.eye(SIZES[-1], dtype=np.float32)

    def kept(shape: tuple[int, ...], p: float) -> np.ndarray:
        if not bits:
            return rng.random(shape, dtype=np.float32) >= p
        n = shape[0] * shape[1]
        u = rng.bit_generator.random_raw((n + 1) // 2).view(np.uint32)[:n].reshape(shape)
        return u >= np.uint32(round(p * 2**32))

    def step(xb: np.ndarray, yb: np.ndarray) -> float:
        w1, b1, w2, b2, w3, b3 = (p.T if out_in and p.ndim == 2 else p for p in params)
        n = len(xb)
        h1 = xb @ w1 + b1
        m1 = kept(h1.shape, DROPOUT[0]) * np.float32(1 / (1 - DROPOUT[0]))
        a1 = np.maximum(h1, 0) * m1
        h2 = a1 @ w2 + b2
        m2 = kept(h2.shape, DROPOUT[1]) * np.float32(1 / (1 - DROPOUT[1]))
        a2 = np.maximum(h2, 0) * m2
        z = a2 @ w3 + b3
        z = z - z.max(axis=1, keepdims=True)
        ez = np.exp(z)
        total = ez.sum(axis=1, keepdims=True)
        loss = float(np.mean(np.log(total[:, 0]) - z[np.arange(n), yb]))
        dz = (ez / total - eye[yb]) / np.float32(n)
        da2 = (dz @ w3.T) * m2 * (h2 > 0)
        da1 = (da2 @ w2.T) * m1 * (h1 > 0)
        if out_in:  # the weights' gradients in their (out, in) layout
            grads = (da1.T @ xb, da1.sum(0), da2.T @ a1, da2.sum(0), dz.T @ a2, dz.sum(0))
        else:
            grads = (xb.T @ da1, da1.sum(0), a1.T @ da2, da2.sum(0), a2.T @ dz, dz.sum(0))
        for p, g, v in zip(params, grads, square_avg):
            v *= RHO
            v += np.float32(1 - RHO) * g * g
            p -= np.float32(LR) * g / (np.sqrt(v) + np.float32(EPS))
        return loss

    tiny = np.finfo(np.float32).tiny

    def epoch() -> Epoch:
        loss = 0.0
        for k, idx in enumerate(batches(len(x), order_rng), 1):
            loss = step(x[idx], y[idx])
            if k % FLUSH_SUBNORMALS_EVERY == 0:  # as optim does (see optim/optimizer.py)
                for a in (*params, *square_avg):
                    a[np.abs(a) < tiny] = 0
            if k % CHUNK == 0:
                yield
        return loss

    return epoch


# ---------------------------------------------------------------- PyTorch


def torch_epoch_fn(x: np.ndarray, y: np.ndarray) -> Callable[[], Epoch] | None:
    try:
        import torch
    except ImportError:
        return None
    torch.manual_seed(0)
    torch.set_flush_denormal(True)  # subnormals are 0, as in optim and the NumPy loop
    layers: list = []
    for i, (fan_in, fan_out) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        layers.append(torch.nn.Linear(fan_in, fan_out))
        if i < len(DROPOUT):
            layers += [torch.nn.ReLU(), torch.nn.Dropout(DROPOUT[i])]
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.RMSprop(model.parameters(), lr=LR, alpha=RHO, eps=EPS)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    rng = np.random.default_rng(1)
    model.train()

    def epoch() -> Epoch:
        loss = None
        for k, idx in enumerate(batches(len(x), rng), 1):
            i = torch.from_numpy(idx)
            loss = torch.nn.functional.cross_entropy(model(xt[i]), yt[i])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if k % CHUNK == 0:
                yield
        return float(loss.detach())

    return epoch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=4, help="timed epochs per contestant")
    parser.add_argument("--system-malloc", action="store_true", help="see benchmarks/nn_step.py")
    parser.add_argument(
        "--blas-threads", type=int, default=None, metavar="N", help="threads of NumPy's BLAS"
    )
    args = parser.parse_args()
    with limit_blas_threads(args.blas_threads) as blas_threads:
        print(f"BLAS threads: {blas_threads or 'as they were (threadpoolctl not installed)'}")
        run(args, blas_threads or os.cpu_count() or 1)


def run(args: argparse.Namespace, threads: int) -> None:
    steady = False if args.system_malloc else steady_malloc()
    x, y = make_data()
    pair = {
        "raw NumPy": numpy_epoch_fn(x, y),
        "raw NumPy (out, in)": numpy_epoch_fn(x, y, out_in=True),
        "raw NumPy (bits)": numpy_epoch_fn(x, y, bits=True),
        "arraygrad": arraygrad_epoch_fn(x, y, compiled=False),
        "compiled": arraygrad_epoch_fn(x, y, compiled=True),
    }
    print(
        f"One epoch: {N_TRAIN} images, batch {BATCH} ({-(-N_TRAIN // BATCH)} steps), "
        f"MLP 784-256-128-10 + dropout {DROPOUT}, RMSprop; {threads} BLAS/torch threads; "
        f"malloc: {'freed memory kept' if steady else 'system settings'}"
    )
    warm = {name: run_epoch(fn()) for name, fn in pair.items()}  # warm-up epoch
    if not np.isclose(warm["raw NumPy"], warm["raw NumPy (out, in)"], rtol=1e-3):
        raise SystemExit(f"the two NumPy layouts disagree: {warm}")
    times: dict[str, list[float]] = {name: [] for name in pair}
    ratios: dict[str, list[float]] = {"arraygrad": [], "compiled": []}
    by_rows: list[float] = []  # compiled against the (out, in) NumPy epoch
    same_masks: list[float] = []  # compiled against the NumPy epoch drawing masks as arraygrad
    for r in range(args.repeats):
        names = list(pair)
        k = r % len(names)
        interleaved({name: pair[name]() for name in names[k:] + names[:k]}, times)
        for name, rs in ratios.items():
            rs.append(times[name][-1] / times["raw NumPy"][-1])
        by_rows.append(times["compiled"][-1] / times["raw NumPy (out, in)"][-1])
        same_masks.append(times["compiled"][-1] / times["raw NumPy (bits)"][-1])
    torch_fn = torch_epoch_fn(x, y)  # timed last: its OpenMP workers keep spinning after use
    if torch_fn is not None:
        import torch

        torch.set_num_threads(threads)
        name = f"PyTorch {torch.__version__}"
        run_epoch(torch_fn())
        times[name] = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            run_epoch(torch_fn())
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(ts) for name, ts in times.items()}
    for name, median in medians.items():
        print(f"  {name:<22} median {median:6.2f} s/epoch   min {min(times[name]):6.2f} s")
    for contestant, target in (("arraygrad", 1.15), ("compiled", 1.00)):
        print(
            f"  {contestant} / raw NumPy: {statistics.median(ratios[contestant]):.3f} (median "
            f"of per-round ratios; target <= {target:.2f})"
        )
    print(
        f"  compiled / raw NumPy (out, in): {statistics.median(by_rows):.3f} (weights "
        f"stored as PyTorch stores them; not the target's reference)"
    )
    print(
        f"  compiled / raw NumPy (bits): {statistics.median(same_masks):.3f} (dropout's masks "
        f"drawn as arraygrad draws them; not the target's reference)"
    )
    if torch_fn is not None:
        for contestant in ("arraygrad", "compiled"):
            print(f"  {contestant} / PyTorch: {medians[contestant] / medians[name]:.3f}")


if __name__ == "__main__":
    main()
