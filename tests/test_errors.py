"""Bad input gets a clear error: which op, which shapes/dtypes/devices, and how to fix it."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
from autograd import DeviceError, DTypeError, GraphError, ShapeError


def f32(*shape):
    return ag.ones(*shape)


def test_broadcasting_failure_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"^add: .*\(2,3\).*\(4,\).*Tensor of shape \(2, 3\)"):
        f32(2, 3) + f32(4)


def test_matmul_misalignment_names_both_shapes_and_axes():
    with pytest.raises(
        ShapeError,
        match=r"matmul: shapes \(2, 3\) and \(4, 5\) do not align: "
        r"the last axis of the first \(3\) must equal the "
        r"second-to-last axis of the second \(4\)",
    ):
        f32(2, 3) @ f32(4, 5)
    with pytest.raises(ShapeError, match="multiply by a scalar"):
        ag.matmul(f32(3), ag.tensor(2.0))


def test_mixed_float_dtypes_are_not_upcast():
    with pytest.raises(DTypeError, match=r"add: .*float32 and float64.*never upcasts.*\.to\("):
        f32(2) + ag.ones(2, dtype=ag.float64)
    with pytest.raises(DTypeError, match="float64 and float32"):
        np.ones(2) * f32(2)  # an ndarray keeps its dtype


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(DTypeError, match=r"int64.*x\.to\(autograd\.float32\)"):
        ag.tensor(np.array([1, 2]), requires_grad=True)


def test_reshape_error_names_sizes():
    with pytest.raises(
        ValueError,
        match=r"reshape: cannot reshape array of size 6 into shape "
        r"\(4,\)",
    ):
        f32(2, 3).reshape(4)


def test_axis_out_of_range():
    with pytest.raises(ShapeError, match=r"sum: axis 2 is out of range for a tensor with 2 dims"):
        f32(2, 3).sum(axis=2)
    with pytest.raises(ShapeError, match="repeated axis"):
        f32(2, 3).mean(axis=(0, -2))


def test_shape_op_errors():
    with pytest.raises(ShapeError, match=r"squeeze: axis 0 has size 2, not 1"):
        f32(2, 3).squeeze(0)
    with pytest.raises(ShapeError, match=r"permute: .* not a permutation"):
        f32(2, 3).permute(0)
    with pytest.raises(ValueError, match=r"^broadcast_to: .*\(2,3\)"):
        f32(2, 3).expand(3, 3)
    with pytest.raises(ValueError, match=r"^concatenate: "):
        ag.concatenate([f32(2, 3), f32(3, 3)], axis=1)
    with pytest.raises(ShapeError, match="does not divide into 2 parts"):
        ag.split(f32(3), 2)


def test_indexing_errors():
    with pytest.raises(IndexError, match=r"getitem: index 5 is out of bounds .* shape \(2, 3\)"):
        f32(2, 3)[5]
    with pytest.raises(IndexError, match="integers or booleans, got float64"):
        f32(2, 3)[np.array([0.5])]
    with pytest.raises(TypeError, match=r"does not support item assignment.*where"):
        f32(2, 3)[0] = 1.0


def test_where_and_logic_need_bool():
    with pytest.raises(TypeError, match="where: condition must be a bool tensor, got float32"):
        ag.where(f32(2), f32(2), f32(2))
    with pytest.raises(DTypeError, match=r"logical_and: needs bool tensors, got float32"):
        f32(2) & f32(2)


def test_clip_bounds():
    with pytest.raises(ValueError, match="at least one of min and max"):
        f32(2).clip()
    with pytest.raises(ValueError, match=r"min \(2\) is greater than max \(1\)"):
        f32(2).clip(2, 1)


def test_one_element_conversions():
    with pytest.raises(ValueError, match=r"only one-element tensors.*shape \(2,\)"):
        f32(2).item()
    with pytest.raises(ValueError, match=r"ambiguous.*any\(\)"):
        bool(f32(2))


def test_missing_cuda_says_what_is_missing():
    if ag.cuda.is_available():
        pytest.skip("a CUDA device is present")
    with pytest.raises(DeviceError, match=r"cuda.*(CuPy|no CUDA device)"):
        ag.zeros(2, device="cuda")


def test_unknown_device_string():
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        ag.zeros(2, device="tpu")


def test_graph_errors():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).exp()
    with pytest.raises(GraphError, match="only leaves can change requires_grad"):
        y.requires_grad_(False)
    with pytest.raises(GraphError, match="does not require grad"):
        ag.tensor([1.0]).register_hook(lambda g: g)
