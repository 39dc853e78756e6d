"""Training an MLP on the GPU: time per epoch of arraygrad on CUDA (CuPy) against arraygrad on
the CPU (NumPy), and against PyTorch on the same GPU where PyTorch with CUDA is installed.

The network is MNIST's classic MLP, 784-256-128-10 with ReLU and softmax cross-entropy, in
float32, trained with plain SGD (lr 0.01) in batches of 128 and of 8192. It is written with raw
autograd operations (``x @ W + b``, ``relu``, ``log_softmax`` and an integer-index gather of the
targets' log-probabilities), and PyTorch runs exactly the same math, so the comparison is of the
engines, not of layer libraries. The data are synthetic and MNIST-sized: 60,000 random float32
images in [0, 1) with random labels (a dense layer's time does not depend on the values), made
once and copied to each device before timing. Every contestant visits the samples in the same
shuffled order each epoch and starts from the same weights, so their losses must agree.

Each epoch ends by reading the loss (``loss.item()``), which waits for the GPU: asynchronous
kernels are all counted. Before timing, each contestant trains a few steps (CuPy compiles its
kernels on first use). Times are the median over ``--epochs`` epochs. With ``--samples N``
below 60,000, an epoch is timed on N samples and scaled to 60,000 (the output says so).
Neither CuPy nor PyTorch uses TF32 for float32 matrix products by default; both run in
float32 here.

    python benchmarks/gpu_mlp.py                  # 3 epochs per column and batch size
    python benchmarks/gpu_mlp.py --samples 12000  # quicker; times extrapolated to 60,000

Without CuPy or a CUDA GPU, the GPU columns are skipped with the reason and the CPU column runs.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np

import autograd as ag

SIZES = (784, 256, 128, 10)
EPOCH = 60_000  # samples in an MNIST training epoch
LR = 0.01
WARMUP_STEPS = 3

Epoch = Callable[[np.ndarray], float]  # trains one epoch in the given order, returns last loss


def make_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """n images and labels, and initial weights (He-normal) and zero biases of the MLP."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], n)
    params = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        w = rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)
        params += [w.astype(np.float32), np.zeros(fan_out, np.float32)]
    return x, y, params


def arraygrad_epoch(
    device: str, x: np.ndarray, y: np.ndarray, init: list[np.ndarray], batch: int
) -> Epoch:
    """One epoch of SGD with arraygrad on ``device`` (the data copied there once)."""
    data = ag.tensor(x, device=device)
    labels = ag.tensor(y, device=device)
    params = [ag.tensor(p, device=device, requires_grad=True) for p in init]

    def epoch(order: np.ndarray) -> float:
        order_t = ag.tensor(order, device=device)  # the epoch's shuffle, copied explicitly
        for start in range(0, len(order), batch):
            idx = order_t[start : start + batch]
            h = data[idx]
            for i in range(0, len(params), 2):
                h = h @ params[i] + params[i + 1]
                if i + 2 < len(params):
                    h = h.relu()
            rows = ag.arange(h.shape[0], device=device)
            loss = -h.log_softmax(axis=1)[rows, labels[idx]].mean()
            loss.backward()
            for p in params:  # plain SGD, on the parameters' own device
                p.data -= LR * p.grad.data
                p.grad = None
        assert loss.dtype == np.float32
        return loss.item()  # waits for the device

    return epoch


def torch_epoch(x: np.ndarray, y: np.ndarray, init: list[np.ndarray], batch: int) -> Epoch:
    """The same epoch with PyTorch on CUDA."""
    import torch

    data = torch.tensor(x, device="cuda")
    labels = torch.tensor(y, device="cuda")
    params = [torch.tensor(p, device="cuda", requires_grad=True) for p in init]

    def epoch(order: np.ndarray) -> float:
        order_t = torch.tensor(order, device="cuda")
        for start in range(0, len(order), batch):
            idx = order_t[start : start + batch]
            h = data[idx]
            for i in range(0, len(params), 2):
                h = h @ params[i] + params[i + 1]
                if i + 2 < len(params):
                    h = h.relu()
            rows = torch.arange(h.shape[0], device="cuda")
            loss = -h.log_softmax(dim=1)[rows, labels[idx]].mean()
            loss.backward()
            with torch.no_grad():
                for p in params:
                    p -= LR * p.grad
                    p.grad = None
        return loss.item()

    return epoch


def gpu_missing() -> str | None:
    try:
        ag.cuda.require()
    except ag.DeviceError as e:
        return str(e)
    return None


def torch_cuda_missing() -> str | None:
    try:
        import torch
    except ImportError:
        return "PyTorch is not installed"
    if not torch.cuda.is_available():
        return f"PyTorch {torch.__version__} sees no CUDA device"
    return None


def time_column(make: Callable[[], Epoch], orders: list[np.ndarray]) -> tuple[list[float], float]:
    """Epoch times (seconds) after a short warm-up, and the loss at the end of the last."""
    epoch = make()
    epoch(orders[0][: WARMUP_STEPS * 128])  # first calls compile kernels, grow memory pools
    times = []
    loss = float("nan")
    for order in orders[1:]:
        t0 = time.perf_counter()
        loss = epoch(order)
        times.append(time.perf_counter() - t0)
    return times, loss


def describe_machine(gpu: bool, torch_gpu: bool) -> list[str]:
    lines = [
        f"machine: {platform.machine()}, {platform.system()}, Python {platform.python_version()}, "
        f"NumPy {np.__version__}, arraygrad {ag.__version__}"
    ]
    if gpu:
        import cupy

        props = cupy.cuda.runtime.getDeviceProperties(0)
        runtime = cupy.cuda.runtime.runtimeGetVersion()
        lines.append(
            f"GPU: {props['name'].decode()}, CuPy {cupy.__version__}, CUDA runtime "
            f"{runtime // 1000}.{runtime % 1000 // 10}"
        )
    if torch_gpu:
        import torch

        lines.append(f"PyTorch {torch.__version__} (CUDA {torch.version.cuda})")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per column (median)")
    parser.add_argument("--samples", type=int, default=EPOCH, help="samples per timed epoch")
    parser.add_argument("--batches", type=int, nargs="+", default=[128, 8192])
    args = parser.parse_args()

    no_gpu, no_torch = gpu_missing(), torch_cuda_missing()
    for line in describe_machine(no_gpu is None, no_torch is None):
        print(line)
    if no_gpu is not None:
        print(f"arraygrad on CUDA: SKIPPED, {no_gpu}")
    if no_torch is not None:
        print(f"PyTorch on CUDA: SKIPPED, {no_torch}")
    n = min(args.samples, EPOCH)
    if n < max(args.batches):
        parser.error(f"--samples must be at least the largest batch ({max(args.batches)})")
    scale = EPOCH / n
    if n < EPOCH:
        print(f"each epoch is timed on {n:,} samples and scaled to {EPOCH:,} (x{scale:.2f})")
    print(
        f"MLP {'-'.join(map(str, SIZES))}, ReLU, cross-entropy, float32, SGD; seconds per epoch "
        f"of {EPOCH:,} samples, median of {args.epochs}"
    )
    x, y, init = make_data(n)
    rng = np.random.default_rng(1)
    orders = [rng.permutation(n) for _ in range(args.epochs + 1)]

    for batch in args.batches:
        columns: dict[str, Callable[[], Epoch]] = {
            "arraygrad CPU": lambda b=batch: arraygrad_epoch("cpu", x, y, init, b),
        }
        if no_gpu is None:
            columns["arraygrad CUDA"] = lambda b=batch: arraygrad_epoch("cuda", x, y, init, b)
        if no_torch is None:
            columns["PyTorch CUDA"] = lambda b=batch: torch_epoch(x, y, init, b)
        steps = -(-n // batch)
        print(f"\nbatch {batch} ({steps} steps per timed epoch)")
        medians = {}
        for name, make in columns.items():
            times, loss = time_column(make, orders)
            medians[name] = statistics.median(times) * scale
            spread = f"min {min(times) * scale:.3f}  max {max(times) * scale:.3f}"
            print(
                f"  {name:15s} {medians[name]:8.3f} s/epoch   ({spread})   "
                f"{statistics.median(times) / steps * 1e3:7.2f} ms/step   final loss {loss:.5f}"
            )
        if "arraygrad CUDA" in medians:
            gpu = medians["arraygrad CUDA"]
            print(f"  arraygrad CPU / arraygrad CUDA: {medians['arraygrad CPU'] / gpu:.1f}x")
            if "PyTorch CUDA" in medians:
                print(f"  arraygrad CUDA / PyTorch CUDA: {gpu / medians['PyTorch CUDA']:.2f}")


if __name__ == "__main__":
    main()
