"""Test configuration: hypothesis profiles and shared fixtures.

Profiles: ``ci`` (the default, set in pyproject: derandomized and bounded so that CI is
repeatable and fast), ``thorough`` (many more examples, for long local runs:
``pytest --hypothesis-profile=thorough``) and ``dev`` (few examples, quick feedback).
NumPy floating-point warnings (overflow, invalid, divide) are errors: pyproject sets
``filterwarnings = error``.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

import autograd

from .devices import ACCELERATORS, DEVICES

settings.register_profile(
    "ci",
    max_examples=25,
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    max_examples=500,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=10, deadline=None)


@pytest.fixture(autouse=True)
def _default_dtype_restored():
    """Tests may change the default dtype; every test starts and ends with float32."""
    autograd.set_default_dtype(autograd.float32)
    yield
    autograd.set_default_dtype(autograd.float32)


@pytest.fixture(scope="session")
def fake_backend():
    """The conformance backend (tests/fake_device.py), registered for the tests that use it."""
    from autograd.backend import register_backend, unregister_backend

    from .fake_device import FakeBackend, FakeDeviceArray

    backend = FakeBackend()
    register_backend(backend, (FakeDeviceArray,))
    yield backend
    unregister_backend(backend)


@pytest.fixture(scope="session", params=DEVICES)
def device(request):
    """Each device of tests/devices.py in turn: the CPU, the fake device, CUDA (marked gpu)."""
    if request.param.startswith("fake"):
        request.getfixturevalue("fake_backend")
    return request.param


@pytest.fixture(scope="session", params=ACCELERATORS)
def accelerator(request):
    """The devices other than the CPU: the fake device, and CUDA (marked gpu)."""
    if request.param.startswith("fake"):
        request.getfixturevalue("fake_backend")
    return request.param
