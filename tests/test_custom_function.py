"""PyTorch-style custom functions: ``class F(autograd.Function)`` with static ``forward(ctx,
...)`` and ``backward(ctx, ...)``, called with ``F.apply``, beside the native op style."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
from autograd import DTypeError, GraphError, ShapeError


class Exp(ag.Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)  # the output, as in PyTorch's documentation
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y


class ScaledProduct(ag.Function):
    """f(x, y, c) = c * x * y + x; a constant ``c`` beside two tensors."""

    @staticmethod
    def forward(ctx, x, y, c):
        ctx.save_for_backward(x, y)
        ctx.c = c
        ctx.seen = ctx.needs_input_grad
        return c * x * y + x

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        gx = g * (ctx.c * y + 1.0) if ctx.needs_input_grad[0] else None
        gy = g * ctx.c * x if ctx.needs_input_grad[1] else None
        return gx, gy, None


def _f64(*values, requires_grad=True):
    return ag.tensor(np.array(values, dtype=np.float64), requires_grad=requires_grad)


def test_custom_exp_matches_the_builtin_and_passes_gradcheck():
    x = _f64(-1.0, 0.0, 0.5, 2.0)
    y = Exp.apply(x)
    assert y.grad_fn is not None and y.grad_fn.name == "Exp"
    np.testing.assert_allclose(y.detach().numpy(), np.exp([-1.0, 0.0, 0.5, 2.0]))
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([-1.0, 0.0, 0.5, 2.0]))
    assert ag.gradcheck(Exp.apply, (x,))
    assert ag.gradgradcheck(Exp.apply, (x,))  # backward's ops are recorded under create_graph


def test_second_derivative_flows_through_the_saved_output():
    x = _f64(0.5, 1.5)
    (g,) = ag.grad(Exp.apply(x).sum(), x, create_graph=True)
    (h,) = ag.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), np.exp([0.5, 1.5]))


def test_a_custom_two_input_op_with_a_constant():
    x = _f64(1.0, -2.0, 3.0)
    y = _f64(0.5, 4.0, -1.0)
    out = ScaledProduct.apply(x, y, 3.0)
    np.testing.assert_allclose(out.detach().numpy(), [2.5, -26.0, -6.0])
    out.backward(ag.tensor(np.array([1.0, 2.0, 3.0])))
    np.testing.assert_allclose(x.grad.numpy(), [2.5, 26.0, -6.0])  # g (c y + 1)
    np.testing.assert_allclose(y.grad.numpy(), [3.0, -12.0, 27.0])  # g c x
    assert ag.gradcheck(lambda a, b: ScaledProduct.apply(a, b, 3.0), (x, y))
    assert ag.gradgradcheck(lambda a, b: ScaledProduct.apply(a, b, 3.0), (x, y))


def test_needs_input_grad_and_none_gradients():
    x = _f64(1.0, 2.0)
    y = _f64(3.0, 4.0, requires_grad=False)
    out = ScaledProduct.apply(x, y, 2.0)
    assert out.grad_fn.ctx.seen == (True, False, False)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [7.0, 9.0])
    assert y.grad is None

    class ZeroGrad(ag.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2.0

        @staticmethod
        def backward(ctx, g):
            return None  # a zero gradient, as in PyTorch

    a = _f64(1.0, 2.0)
    (ZeroGrad.apply(a) * a).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [2.0, 4.0])  # only the path through *


def test_without_grad_the_forward_result_is_returned_as_is():
    x = _f64(1.0, requires_grad=False)
    assert Exp.apply(x).grad_fn is None
    w = _f64(1.0)
    with ag.no_grad():
        assert Exp.apply(w).grad_fn is None


def test_forward_runs_without_recording_and_backward_plainly():
    seen = {}

    class Probe(ag.Function):
        @staticmethod
        def forward(ctx, x):
            inner = x * 3.0
            seen["forward"] = (inner.grad_fn, ag.is_grad_enabled())
            return inner

        @staticmethod
        def backward(ctx, g):
            seen["backward"] = (type(g), ag.is_grad_enabled())
            return g * 3.0

    x = _f64(1.0, 2.0)
    Probe.apply(x).sum().backward()
    assert seen["forward"] == (None, False)
    assert seen["backward"] == (ag.Tensor, False)
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_a_saved_tensor_changed_in_place_is_caught():
    x = _f64(1.0, 2.0, 3.0)
    y = _f64(1.0, 1.0, 1.0, requires_grad=False)
    out = ScaledProduct.apply(x, y, 2.0)
    y += 1.0
    with pytest.raises(GraphError, match=r"saved tensor 1 of ScaledProduct \(shape \(3,\), float6"):
        out.sum().backward()
    z = Exp.apply(x)
    z.detach().zero_()  # the saved output, changed through a detached tensor
    with pytest.raises(GraphError, match="the output of Exp"):
        z.sum().backward()


def test_backward_results_are_checked():
    def make(grads):
        class Bad(ag.Function):
            @staticmethod
            def forward(ctx, a):
                return a * 1.0

            @staticmethod
            def backward(ctx, g):
                return grads(g)

        return Bad

    x = _f64(1.0, 2.0)
    with pytest.raises(TypeError, match="incorrect number of gradients"):
        make(lambda g: (g, g)).apply(x).sum().backward()
    with pytest.raises(DTypeError, match="dtype float32 for argument 0, which is float64"):
        make(lambda g: g.to(ag.float32)).apply(x).sum().backward()
    with pytest.raises(ShapeError, match=r"shape \(3,\) for argument 0, which has shape \(2,\)"):
        make(lambda g: ag.ones(3, dtype=ag.float64)).apply(x).sum().backward()
    with pytest.raises(TypeError, match="must be a Tensor or None"):
        make(lambda g: g.detach().numpy()).apply(x).sum().backward()
    # a gradient that broadcasts to the input's shape is summed back to it
    make(lambda g: ag.ones((3, 2), dtype=ag.float64)).apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_class_definitions_and_calls_are_checked():
    with pytest.raises(TypeError, match="both as @staticmethod"):

        class Mixed(ag.Function):
            @staticmethod
            def forward(ctx, x):
                return x

            def backward(self, m, g):
                return g

    class TwoOut(ag.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0, x * 2.0

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(TypeError, match="must return one Tensor"):
        TwoOut.apply(_f64(1.0))
    with pytest.raises(GraphError, match="inside backward"):
        _ = Exp.apply(_f64(1.0)).grad_fn.ctx.saved_tensors


def test_native_ops_work_with_apply_too():
    from autograd.ops.elementwise import Tanh

    x = _f64(0.5)
    y = Tanh.apply(x)
    y.backward()
    assert x.grad.item() == pytest.approx(1 - np.tanh(0.5) ** 2)
