"""CUDA devices: whether CuPy and a GPU are there, and the error that says what is missing."""

from __future__ import annotations

from types import ModuleType

from .errors import DeviceError


def _cupy() -> ModuleType | None:
    try:
        import cupy
    except ImportError:
        return None
    return cupy


def device_count() -> int:
    """Number of CUDA devices CuPy can use (0 without CuPy or without a GPU)."""
    cupy = _cupy()
    if cupy is None:
        return 0
    try:
        return int(cupy.cuda.runtime.getDeviceCount())
    except Exception:  # CuPy raises its own runtime errors when no driver/device is present
        return 0


def is_available() -> bool:
    """Whether tensors can be created with ``device="cuda"``."""
    return device_count() > 0


def require() -> None:
    """Make the CUDA backend usable, or raise a DeviceError saying what is missing."""
    if _cupy() is None:
        raise DeviceError(
            "device 'cuda' needs CuPy, which is not installed. Install it with "
            'pip install "arraygrad[gpu]" (CuPy for CUDA 12), on a machine with an NVIDIA GPU.'
        )
    if device_count() == 0:
        raise DeviceError(
            "device 'cuda' is not available: CuPy is installed but finds no CUDA device "
            "(no NVIDIA GPU, or no working driver). Use device='cpu'."
        )
    from .cuda_backend import register

    register()
