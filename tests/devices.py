"""The devices the op suite runs on, and how a test checks that a result lives where it should.

* ``cpu``: NumPy.
* ``fake:1``: the conformance backend of fake_device.py, on every machine. It stands in for CuPy
  (an ndarray subclass that refuses NumPy arrays and computes on the current device only), on
  device 1 while device 0 is current, so that any code path that builds an array with NumPy
  directly, or computes outside its device's context, fails on the CPU too.
* ``cuda``: CuPy on a CUDA GPU, marked ``gpu`` (``pytest -m gpu`` selects these cases), skipped
  with the reason where CuPy or a CUDA device is missing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import autograd as ag
from autograd.backend import backend_for, backend_of
from autograd.errors import DeviceError

FAKE = "fake:1"


def cuda_missing() -> str | None:
    """Why the CUDA cases cannot run here (None when they can)."""
    try:
        ag.cuda.require()
    except DeviceError as e:
        return f"needs a CUDA GPU with CuPy: {e}"
    return None


GPU = [pytest.mark.gpu, pytest.mark.skipif(cuda_missing() is not None, reason=str(cuda_missing()))]

DEVICES = [
    pytest.param("cpu", id="cpu"),
    pytest.param(FAKE, id="fake"),
    pytest.param("cuda", id="cuda", marks=GPU),
]
ACCELERATORS = DEVICES[1:]  # the devices that are not the host


def assert_on(t: Any, device: str, what: str) -> None:
    """``t`` is a Tensor whose data is an array of ``device``'s backend, on that device."""
    assert isinstance(t, ag.Tensor), f"{what}: a {type(t).__name__}, not a Tensor"
    expected, actual = backend_for(device), backend_of(t.data)
    assert actual is expected, (
        f"{what}: its data is a {type(t.data).__module__}.{type(t.data).__name__} "
        f"({actual.name}), not an array of the {expected.name} backend of {device}"
    )
    assert t.device == device, f"{what}: on {t.device}, not on {device}"


def to_device(params: Any, device: str) -> Any:
    """Op parameters with their NumPy arrays (masks, index arrays, conditions) as tensors on
    ``device``: an op on a device takes its array parameters from that device."""
    if isinstance(params, np.ndarray):
        return ag.tensor(params, device=device)
    if isinstance(params, dict):
        return {k: to_device(v, device) for k, v in params.items()}
    if isinstance(params, (tuple, list)):
        return type(params)(to_device(v, device) for v in params)
    return params
