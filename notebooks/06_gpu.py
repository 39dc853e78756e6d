# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 6. The same MLP on a GPU
#
# On an NVIDIA GPU, arraygrad's tensors hold CuPy arrays instead of NumPy arrays; the
# engine, the backward rules and `nn` are the same code. Nothing moves between devices
# behind your back: the model goes to the GPU with `model.to("cuda")`, the data with
# `ag.tensor(array, device="cuda")`, and mixing devices in one operation is an error.
# This needs CuPy (`pip install "arraygrad[gpu]"`) and a CUDA GPU. On a machine without
# them the notebook says so and times the CPU only.
#
# The task timed here is one training epoch of MNIST's MLP (784-256-128-10, ReLU,
# cross-entropy, RMSprop) at two batch sizes. The images are random numbers of MNIST's
# size, made once: a dense layer's time does not depend on the values, and no download
# is needed. Full mode times epochs of 60,000 images; quick mode
# (`ARRAYGRAD_NOTEBOOK_QUICK=1`) epochs of 4,096.

# %%
import os
import statistics

import matplotlib.pyplot as plt
import numpy as np

import autograd as ag
import nn
import optim
from nn.data import DataLoader
from nn.training import fit

QUICK = os.environ.get("ARRAYGRAD_NOTEBOOK_QUICK") == "1"
try:
    ag.cuda.require()
    GPU = True
except ag.DeviceError as error:
    GPU = False
    print(f"NO GPU: {error}")
    print("The GPU cells below are skipped; the CPU timing runs.")
if GPU:
    import cupy

    name = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
    print(f"GPU: {name}, CuPy {cupy.__version__}")
print(f"ag.cuda.is_available() = {ag.cuda.is_available()}")

# %%
N = 4_096 if QUICK else 60_000
BATCH_SIZES = (128, 1024)
EPOCHS = 2  # timed epochs per device and batch size (the median is reported)
rng = np.random.default_rng(0)
images = rng.random((N, 784), dtype=np.float32)
labels = rng.integers(0, 10, N)
print(f"{N:,} images of 784 pixels; batch sizes {BATCH_SIZES}; {EPOCHS} timed epochs each")


# %% [markdown]
# `seconds_per_epoch` builds the model on the CPU from a fixed seed (so both devices
# start from the same weights), moves it and the data to `device`, trains a few warm-up
# steps (CuPy compiles its kernels on first use), then times `fit`'s epochs. `fit` reads
# the loss after every step, which waits for the GPU, so all of its work is counted.


# %%
def seconds_per_epoch(device: str, batch_size: int) -> tuple[float, float]:
    """Median seconds per epoch, and the training loss of the last epoch."""
    ag.manual_seed(0)
    model = nn.MLP(784, [256, 128], 10).to(device)
    optimizer = optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
    x, y = ag.tensor(images, device=device), ag.tensor(labels, device=device)
    head = (x[: 3 * batch_size], y[: 3 * batch_size])
    fit(model, optimizer, DataLoader(head, batch_size, device=device), epochs=1)
    loader = DataLoader((x, y), batch_size, shuffle=True, seed=0, device=device)
    history = fit(model, optimizer, loader, epochs=EPOCHS)
    return statistics.median(history["seconds"]), history["loss"][-1]


timings = {}
for batch_size in BATCH_SIZES:
    timings["cpu", batch_size] = seconds_per_epoch("cpu", batch_size)
    print(f"CPU, batch {batch_size:5d}: {timings['cpu', batch_size][0]:6.2f} s per epoch")

# %%
if GPU:
    for batch_size in BATCH_SIZES:
        timings["cuda", batch_size] = seconds_per_epoch("cuda", batch_size)
        cpu, gpu = timings["cpu", batch_size][0], timings["cuda", batch_size][0]
        speedup = f"{cpu / gpu:.1f}x the CPU's speed"
        print(f"GPU, batch {batch_size:5d}: {gpu:6.2f} s per epoch ({speedup})")
else:
    print("skipped: no GPU")

# %% [markdown]
# Same initial weights, same batches in the same order: the two devices should end with
# the same training loss, up to float32 rounding (the GPU sums in a different order).

# %%
if GPU:
    for batch_size in BATCH_SIZES:
        cpu, gpu = timings["cpu", batch_size][1], timings["cuda", batch_size][1]
        print(f"batch {batch_size:5d}: loss CPU {cpu:.6f}, GPU {gpu:.6f}")
else:
    print("skipped: no GPU")

# %%
fig, ax = plt.subplots(figsize=(6, 3.5), constrained_layout=True)
devices = ("cpu", "cuda") if GPU else ("cpu",)
width = 0.8 / len(devices)
for i, device in enumerate(devices):
    seconds = [timings[device, b][0] for b in BATCH_SIZES]
    bars = ax.bar(np.arange(len(BATCH_SIZES)) + i * width, seconds, width, label=device)
    ax.bar_label(bars, fmt="%.2f s")
ax.set_xticks(np.arange(len(BATCH_SIZES)) + (len(devices) - 1) * width / 2)
ax.set_xticklabels([f"batch {b}" for b in BATCH_SIZES])
title = "One epoch" + ("" if GPU else " (no GPU on this machine: CPU only)")
ax.set(ylabel=f"seconds per epoch of {N:,} images", title=title)
ax.legend()
plt.show()

# %% [markdown]
# `benchmarks/gpu_mlp.py` times the same network with bare operations against PyTorch on
# the same GPU.
