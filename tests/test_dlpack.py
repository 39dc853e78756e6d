"""DLPack: tensors go out to ``numpy.from_dlpack`` / ``torch.from_dlpack`` and arrays come in
through ``autograd.from_dlpack``, without copies (a write through one side is read on the
other); a tensor that requires grad is refused, as PyTorch refuses one."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag


def test_export_to_numpy_shares_memory():
    x = ag.tensor([[1.0, 2.0], [3.0, 4.0]])
    a = np.from_dlpack(x)
    assert a.dtype == np.float32 and a.shape == (2, 2)
    a[0, 1] = 20.0  # written through NumPy, read through the tensor
    assert x.tolist() == [[1.0, 20.0], [3.0, 4.0]]
    x.data[1, 0] = -3.0  # written through the tensor, read through NumPy
    assert a[1, 0] == -3.0
    assert x.__dlpack_device__() == (1, 0)  # kDLCPU


def test_import_from_numpy_shares_memory():
    a = np.arange(6, dtype=np.float64).reshape(2, 3)
    x = ag.from_dlpack(a)
    assert isinstance(x, ag.Tensor) and x.dtype == ag.float64 and x.shape == (2, 3)
    assert not x.requires_grad and x.is_leaf
    a[1, 2] = 50.0
    assert x.tolist()[1][2] == 50.0
    x.data[0, 0] = -1.0
    assert a[0, 0] == -1.0
    assert ag.from_dlpack(np.array([1, 2, 3], dtype=np.int32)).tolist() == [1, 2, 3]


def test_round_trip_through_our_own_tensors():
    x = ag.tensor([1.0, 2.0, 3.0])
    y = ag.from_dlpack(x)
    y.data[2] = 30.0
    assert x.tolist() == [1.0, 2.0, 30.0]


def test_zero_d_results_export_and_keep_sharing():
    s = ag.tensor([1.0, 2.0]).sum()  # a 0-d op result holds a NumPy scalar
    a = np.from_dlpack(s)
    assert a.shape == () and a == 3.0
    a[()] = 7.0
    assert s.item() == 7.0


def test_a_tensor_that_requires_grad_is_refused():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(BufferError, match=r"requires grad; use tensor\.detach\(\) first"):
        np.from_dlpack(w)
    with pytest.raises(BufferError, match="requires grad"):
        ag.from_dlpack(w * 2)
    a = np.from_dlpack(w.detach())  # detached: shares the memory
    a[0] = 5.0
    assert w.detach().tolist() == [5.0, 2.0]


def test_from_dlpack_needs_a_dlpack_array():
    with pytest.raises(TypeError, match="from_dlpack: expected an array with __dlpack__"):
        ag.from_dlpack([1.0, 2.0])
    with pytest.raises(ag.DTypeError, match="from_dlpack: arrays of complex128 cannot be"):
        ag.from_dlpack(np.zeros(2, dtype=complex))


def test_torch_interop_is_zero_copy():
    torch = pytest.importorskip("torch")
    # ours -> torch
    x = ag.tensor([[1.0, 2.0], [3.0, 4.0]])
    tx = torch.from_dlpack(x)
    assert tx.dtype == torch.float32 and tuple(tx.shape) == (2, 2)
    tx[0, 0] = 10.0
    assert x.tolist()[0][0] == 10.0
    x.data[1, 1] = 40.0
    assert tx[1, 1].item() == 40.0
    # torch -> ours
    t = torch.arange(6, dtype=torch.float64).reshape(3, 2)
    y = ag.from_dlpack(t)
    assert y.dtype == ag.float64 and y.shape == (3, 2)
    t[2, 1] = -5.0
    assert y.tolist()[2][1] == -5.0
    y.data[0, 1] = 9.0
    assert t[0, 1].item() == 9.0
    assert ag.from_dlpack(torch.tensor([1, 2], dtype=torch.int64)).dtype == ag.int64
    assert ag.from_dlpack(torch.tensor([True, False])).tolist() == [True, False]
    # ours, then an op on theirs: the values agree
    np.testing.assert_array_equal((torch.from_dlpack(x) * 2).numpy(), x.numpy() * 2)


def test_torch_and_arraygrad_refuse_tensors_that_require_grad():
    torch = pytest.importorskip("torch")
    # the same error type on both sides: BufferError, the DLPack protocol's
    with pytest.raises(BufferError, match="require"):
        ag.from_dlpack(torch.ones(2, requires_grad=True))
    with pytest.raises(BufferError, match="requires grad"):
        torch.from_dlpack(ag.ones(2, requires_grad=True))
    assert ag.from_dlpack(torch.ones(2, requires_grad=True).detach()).tolist() == [1.0, 1.0]


class _Foreign:
    """An array that says it lives on some DLPack device."""

    def __init__(self, kind: int) -> None:
        self.kind = kind

    def __dlpack__(self, **kwargs):
        raise AssertionError("not reached: the device is checked first")

    def __dlpack_device__(self):
        return (self.kind, 0)


def test_devices_without_a_backend_are_named():
    with pytest.raises(ag.DeviceError, match=r"DLPack type 8 .* which arraygrad has no backend"):
        ag.from_dlpack(_Foreign(8))  # kDLMetal


def test_cuda_memory_needs_cupy():
    try:
        import cupy  # noqa: F401
    except ImportError:
        with pytest.raises(ag.DeviceError, match="CuPy"):
            ag.from_dlpack(_Foreign(2))  # kDLCUDA
    else:
        pytest.skip("CuPy is installed: the GPU path is tested with -m gpu")


@pytest.mark.gpu
def test_gpu_round_trip_is_zero_copy():
    cupy = pytest.importorskip("cupy")
    if not ag.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    x = ag.tensor([1.0, 2.0], device="cuda")
    c = cupy.from_dlpack(x)
    c[0] = 10.0
    assert x.tolist() == [10.0, 2.0]
    y = ag.from_dlpack(c)
    assert y.device == "cuda:0"
    y.data[1] = 20.0
    assert c[1].item() == 20.0
