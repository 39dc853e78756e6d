"""The CuPy backend: tensors on CUDA GPUs (imported only when ``device="cuda"`` is asked for).

CuPy computes on its *current* device and refuses arrays of other devices ("Array device must
be same as the current device"), so arraygrad enters the array's device (``guard``) around
every forward, backward and array operation of its own; creation functions enter the device
they are asked for (``device_context``). ``tests/fake_device.py`` plays this backend on the CPU.
"""

from __future__ import annotations

import contextlib
from typing import Any

import cupy
import cupyx
import numpy as np

from .backend import Backend, Device, register_backend

CUDA0 = Device("cuda:0")


class CupyBackend(Backend):
    """CuPy arrays on CUDA devices; each array knows its device (``array.device.id``)."""

    name = "cupy"
    device_type = "cuda"

    def __init__(self) -> None:
        super().__init__(cupy)
        self.count = int(cupy.cuda.runtime.getDeviceCount())

    def device_count(self) -> int:
        return self.count

    def device_of(self, array: Any) -> Device:
        return Device(f"cuda:{array.device.id}")

    def same_device(self, a: Any, b: Any) -> bool:
        return a.device.id == b.device.id

    def asarray(self, data: Any, dtype: Any = None, device: Device = CUDA0) -> Any:
        with cupy.cuda.Device(device.index):  # copies host data and other GPUs' arrays here
            return cupy.asarray(data, dtype=dtype)

    def to_numpy(self, array: Any) -> np.ndarray:
        return cupy.asnumpy(array)

    def device_context(self, device: Device) -> contextlib.AbstractContextManager[Any]:
        return cupy.cuda.Device(device.index)

    def guard(self, array: Any) -> contextlib.AbstractContextManager[Any]:
        return array.device  # a cupy.cuda.Device: entering it makes it current

    def scatter_add(self, target: Any, index: Any, values: Any) -> None:
        cupyx.scatter_add(target, index, values)

    def generator(self, seed: int | None, device: Device) -> Any:
        with cupy.cuda.Device(device.index):  # its state lives on the device current now
            return cupy.random.default_rng(seed)

    def permutation(self, rng: Any, n: int) -> Any:
        # cupy.random.Generator has no permutation: sort uniform keys (ties have probability
        # about n^2 / 2^54, and would still give a permutation)
        return cupy.argsort(rng.random(n))


_registered = False


def register() -> None:
    """Register the CuPy backend once."""
    global _registered
    if not _registered:
        register_backend(CupyBackend(), (cupy.ndarray,))
        _registered = True
