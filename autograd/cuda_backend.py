"""The CuPy backend: tensors on CUDA GPUs (imported only when ``device="cuda"`` is asked for)."""

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

    def device_of(self, array: Any) -> Device:
        return Device(f"cuda:{array.device.id}")

    def same_device(self, a: Any, b: Any) -> bool:
        return a.device.id == b.device.id

    def asarray(self, data: Any, dtype: Any = None, device: Device = CUDA0) -> Any:
        with cupy.cuda.Device(device.index):
            return cupy.asarray(data, dtype=dtype)

    def to_numpy(self, array: Any) -> np.ndarray:
        return cupy.asnumpy(array)

    def device_context(self, device: Device) -> contextlib.AbstractContextManager[Any]:
        return cupy.cuda.Device(device.index)

    def scatter_add(self, target: Any, index: Any, values: Any) -> None:
        cupyx.scatter_add(target, index, values)

    def generator(self, seed: int | None, device: Device) -> Any:
        return cupy.random.default_rng(seed)


_registered = False


def register() -> None:
    """Register the CuPy backend once."""
    global _registered
    if not _registered:
        register_backend(CupyBackend(cupy), (cupy.ndarray,))
        _registered = True
