"""gradcheck, gradgradcheck and the public property-testing helpers of autograd.testing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd as ag
from autograd import DTypeError, Function, GradcheckError, Tensor
from autograd.testing import (
    arrays,
    axes,
    broadcastable_shapes,
    check_gradients,
    float_dtypes,
    fuzz_gradients,
    shapes,
    tensors,
)


class Square(Function):
    """x^2 with a correct first derivative whose own derivative is lost (detached)."""

    save_inputs = True

    def forward(self, x):
        return x * x

    def backward(self, m, g, x):
        return g * 2 * (x.data if isinstance(x, Tensor) else x)


class SquareOff(Function):
    """x^2 with a first derivative 1% too large."""

    save_inputs = True

    def forward(self, x):
        return x * x

    def backward(self, m, g, x):
        return g * 2.02 * x


def x3():
    return ag.tensor(np.array([1.0, 2.0, -3.0]), requires_grad=True)


def test_gradcheck_passes_on_correct_gradients():
    assert ag.gradcheck(lambda x, y: (x * y).exp(), [x3(), x3()]) is True
    assert ag.gradgradcheck(lambda x, y: (x * y).exp(), [x3(), x3()]) is True


@pytest.mark.parametrize("layout", ["fortran", "strided"])
def test_gradcheck_on_inputs_of_any_memory_layout(layout):
    """The probe that finite differences perturb is a C-ordered copy: on a Fortran-ordered or
    strided input, perturbing a flat reshape of a copy in the input's layout moved nothing
    (every numeric derivative 0), and a correct gradient failed the check."""
    a = np.random.default_rng(0).standard_normal((4, 6))
    data = np.asfortranarray(a) if layout == "fortran" else a[:, ::2]
    x = ag.from_numpy(data).requires_grad_()
    assert not x.data.flags.c_contiguous
    assert ag.gradcheck(lambda t: (t * t.exp()).sum(axis=1), [x]) is True
    assert ag.gradgradcheck(lambda t: (t * t.exp()).sum(axis=1), [x]) is True
    with pytest.raises(GradcheckError):
        ag.gradcheck(lambda t: SquareOff()(t).sum(), [x])


def test_gradcheck_names_input_worst_element_and_values():
    with pytest.raises(GradcheckError) as info:
        ag.gradcheck(lambda a, x: SquareOff()(x) + a, [x3(), x3()])
    message = str(info.value)
    assert "input 1" in message
    assert "element (2,)" in message  # the largest |x| gives the largest error
    assert "analytic" in message and "numeric" in message
    assert "3 of 3 elements disagree" in message


def test_gradgradcheck_catches_a_detached_first_derivative():
    assert ag.gradcheck(lambda x: Square()(x), [x3()])
    with pytest.raises(GradcheckError, match="gradgradcheck"):
        ag.gradgradcheck(lambda x: Square()(x), [x3()])


def test_gradcheck_checks_every_output():
    def two_outputs(x):
        return x * 2, SquareOff()(x)

    with pytest.raises(GradcheckError):
        ag.gradcheck(two_outputs, [x3()])


def test_gradcheck_needs_float64_and_a_differentiable_input():
    with pytest.raises(DTypeError, match=r"float64.*\.double\(\)"):
        ag.gradcheck(lambda x: x * 2, [ag.tensor([1.0], requires_grad=True)])
    with pytest.raises(ValueError, match="no input requires grad"):
        ag.gradcheck(lambda x: x * 2, [ag.tensor([1.0], dtype=ag.float64)])


def test_gradcheck_does_not_change_the_inputs():
    x = x3()
    before = x.numpy().copy()
    ag.gradcheck(lambda t: t.tanh(), [x])
    np.testing.assert_array_equal(x.numpy(), before)
    assert x.grad is None


def test_gradcheck_of_constant_function_passes():
    assert ag.gradcheck(lambda x: ag.ones(3, dtype=ag.float64), [x3()])


def test_tolerances_are_respected():
    # a 1% error passes with rtol = 5%, fails with the default 0.1%
    assert ag.gradcheck(lambda x: SquareOff()(x), [x3()], rtol=0.05)
    with pytest.raises(GradcheckError):
        ag.gradcheck(lambda x: SquareOff()(x), [x3()])


# ------------------------------------------------------------- autograd.testing
@given(shape=shapes(max_dims=3, max_side=4))
def test_shapes_strategy_bounds(shape):
    # size-0 axes are drawn too (one axis at most), so that ops meet empty inputs
    assert len(shape) <= 3 and all(0 <= n <= 4 for n in shape) and shape.count(0) <= 1


@given(shape=shapes(max_dims=3, max_side=4, allow_empty=False))
def test_shapes_strategy_bounds_without_empty_axes(shape):
    assert len(shape) <= 3 and all(1 <= n <= 4 for n in shape)


@given(pair=broadcastable_shapes(2))
def test_broadcastable_shapes_broadcast(pair):
    np.broadcast_shapes(*pair)


@given(data=st.data(), shape=shapes())
def test_axes_strategy_is_valid(data, shape):
    axis = data.draw(axes(len(shape)))
    np.sum(np.zeros(shape), axis=axis)  # raises for an invalid axis


@given(a=arrays((3, 2), min_value=-1, max_value=1, min_magnitude=0.5))
def test_arrays_respect_bounds(a):
    assert a.shape == (3, 2) and a.dtype == np.float64
    assert ((np.abs(a) >= 0.5) & (np.abs(a) <= 1)).all()


@given(t=tensors((2, 2), dtype=np.float32, requires_grad=False), dtype=float_dtypes())
def test_tensor_strategy(t, dtype):
    assert isinstance(t, Tensor) and t.dtype == np.float32 and not t.requires_grad
    assert dtype in (np.float32, np.float64)


def test_check_gradients_and_fuzz_gradients_on_a_user_function():
    def softplus(x):
        return (1 + x.exp()).log()

    check_gradients(softplus, x3())
    fuzz_gradients(softplus, tensors(shapes()), max_examples=10)


def test_fuzz_gradients_finds_a_wrong_gradient():
    with pytest.raises(GradcheckError):
        fuzz_gradients(
            lambda x: SquareOff()(x), tensors(shapes(), min_magnitude=0.5), order=1, max_examples=10
        )


def test_fuzz_gradients_where_skips_kinks():
    fuzz_gradients(
        lambda x: x.abs(),
        tensors(shapes()),
        max_examples=10,
        where=lambda x: bool((np.abs(x.numpy()) > 1e-3).all()),
    )
