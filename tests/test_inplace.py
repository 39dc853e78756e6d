"""In-place operations and version counters (issue #15): the in-place operators and methods,
their rules (leaves, graph results, shapes, dtypes, devices), raw writes into ``.data``, the
version checks of backward, in-place writes of optimizers, ``zero_grad``, clipping, BatchNorm
and ``nn.init``, the checked ``grad`` property, and ``backward(inputs=...)``."""

from __future__ import annotations

import copy
import gc
import pickle
import weakref

import numpy as np
import pytest

import autograd as ag
import nn
import optim
from autograd import DeviceError, DTypeError, GraphError, ShapeError
from nn import init
from nn.utils import clip_grad_norm_, clip_grad_value_

from .devices import FAKE

MODIFIED = "has been modified by an in-place operation"


# ------------------------------------------------------------------ operators
def test_in_place_operators_update_the_parameters_themselves():
    # the loop of the issue: ``p -= lr * p.grad`` trained nothing, it rebound the name
    w = ag.tensor([1.0, -2.0], requires_grad=True)
    b = ag.tensor(0.5, requires_grad=True)
    params = [w, b]
    ids = [id(p) for p in params]
    x = ag.tensor([[1.0, 2.0], [3.0, 4.0]])
    y = ag.tensor([1.0, 2.0])
    losses = []
    for _ in range(3):
        loss = ((x @ w + b - y) ** 2).mean()
        losses.append(loss.item())
        for p in params:
            p.grad = None
        loss.backward()
        with ag.no_grad():
            for p in params:
                p -= 0.01 * p.grad
    assert [id(p) for p in params] == ids
    assert w.is_leaf and w.requires_grad and w._version == 3 and b._version == 3
    # the same gradient steps in NumPy
    xn, yn, wn, bn_ = x.numpy(), y.numpy(), np.array([1.0, -2.0]), 0.5
    expected = []
    for _ in range(3):
        r = xn @ wn + bn_ - yn
        expected.append(np.mean(r**2))
        wn, bn_ = wn - 0.01 * (xn.T @ r), bn_ - 0.01 * r.sum()
    assert losses[0] == pytest.approx(27.25)  # ((-3.5)² + (-6.5)²) / 2
    np.testing.assert_allclose(losses, expected, rtol=1e-6)
    np.testing.assert_allclose(w.detach().numpy(), wn, rtol=1e-5)
    assert b.item() == pytest.approx(bn_, rel=1e-5)


def test_each_operator_writes_in_place_and_returns_the_same_tensor():
    x = ag.tensor([1.0, 2.0, 4.0])
    data = x.data
    for op, expected in [
        (lambda t: t.__iadd__(1.0), [2.0, 3.0, 5.0]),
        (lambda t: t.__isub__(ag.tensor([1.0, 1.0, 1.0])), [1.0, 2.0, 4.0]),
        (lambda t: t.__imul__([2, 3, 0.5]), [2.0, 6.0, 2.0]),
        (lambda t: t.__itruediv__(2.0), [1.0, 3.0, 1.0]),
    ]:
        assert op(x) is x
        np.testing.assert_array_equal(x.numpy(), expected)
    assert x.data is data and x.dtype == np.float32 and x._version == 4


def test_a_leaf_that_requires_grad_cannot_be_changed_while_recording():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(GraphError, match="a leaf Variable that requires grad is being used in an"):
        w -= 1.0
    with pytest.raises(GraphError, match="a leaf Variable that requires grad"):
        w.mul_(2.0)
    np.testing.assert_array_equal(w.detach().numpy(), [1.0, 2.0])
    assert w._version == 0
    with ag.no_grad():
        w.mul_(2.0)
    np.testing.assert_array_equal(w.detach().numpy(), [2.0, 4.0])


def test_operators_on_graph_results_stay_recorded_out_of_place():
    # micrograd's ``c += c + 1`` and ``loss += term`` (PyTorch records them; here the name is
    # bound to the recorded result, with the same values and gradients)
    a = ag.tensor(-4.0, dtype=ag.float64, requires_grad=True)
    c = a * 2.0
    c += c + 1
    c *= a
    c -= 3.0
    c /= 2.0
    assert c.grad_fn is not None
    c.backward()
    # c = ((2a + 2a + 1) a - 3) / 2 = (4a² + a - 3) / 2, dc/da = (8a + 1) / 2 = -15.5
    assert c.item() == pytest.approx((4 * 16 - 4 - 3) / 2)
    assert a.grad.item() == pytest.approx(-15.5)
    # an operand that requires grad: the accumulator becomes the recorded sum
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    acc = ag.zeros(2)
    acc += w * 3.0
    assert acc.grad_fn is not None
    acc.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [3.0, 3.0])


def test_in_place_methods_refuse_graph_results_and_operands_that_require_grad():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    y = w * 2.0
    for call in (lambda: y.add_(1.0), lambda: y.zero_(), lambda: y.clamp_(0.0, 1.0)):
        with pytest.raises(GraphError, match=r"result of a recorded operation .*made by mul"):
            call()
    with pytest.raises(GraphError, match="the operand requires grad"):
        ag.zeros(2).add_(w)
    with pytest.raises(GraphError, match="the operand requires grad"):
        ag.zeros(2).copy_(w)


# -------------------------------------------------------------------- methods
def test_in_place_methods_compute_like_pytorch_and_return_self():
    x = ag.tensor([[1.0, -2.0], [3.0, 0.5]])
    assert x.add_([1.0, 2.0], alpha=2) is x  # broadcast over the rows
    np.testing.assert_array_equal(x.numpy(), [[3.0, 2.0], [5.0, 4.5]])
    assert x.sub_(ag.tensor(1.0), alpha=0.5) is x
    np.testing.assert_array_equal(x.numpy(), [[2.5, 1.5], [4.5, 4.0]])
    assert x.mul_(2) is x and x.div_(ag.tensor([[1.0], [4.0]])) is x
    np.testing.assert_array_equal(x.numpy(), [[5.0, 3.0], [2.25, 2.0]])
    assert x.clamp_(max=4.0) is x and x.clamp_(min=2.5) is x
    np.testing.assert_array_equal(x.numpy(), [[4.0, 3.0], [2.5, 2.5]])
    assert x.copy_(np.array([7.0, 8.0])) is x  # broadcast, float64 converted to float32
    np.testing.assert_array_equal(x.numpy(), [[7.0, 8.0], [7.0, 8.0]])
    assert x.fill_(ag.tensor(1.5)) is x
    np.testing.assert_array_equal(x.numpy(), np.full((2, 2), 1.5))
    assert x.zero_() is x
    np.testing.assert_array_equal(x.numpy(), np.zeros((2, 2)))
    assert x.dtype == np.float32 and x._version == 9


def test_in_place_shape_and_dtype_rules():
    x = ag.tensor([1.0, 2.0, 3.0])
    with pytest.raises(ShapeError, match=r"output with shape \(3,\) doesn't match the broadcast"):
        x += ag.ones(2, 3)  # self cannot broadcast up
    with pytest.raises(ShapeError, match="does not broadcast"):
        x.copy_(ag.ones(2))
    with pytest.raises(DTypeError, match="different floating dtypes"):
        x += ag.ones(3, dtype=ag.float64)  # arraygrad's operand rule, as out of place
    i = ag.tensor([1, 2, 3])
    assert i.dtype == np.int64
    i += 2
    i *= ag.tensor(np.array([1, 2, 3], np.int32))
    np.testing.assert_array_equal(i.numpy(), [3, 8, 15])
    with pytest.raises(DTypeError, match="result type float32 can't be cast to the desired"):
        i += 0.5
    with pytest.raises(DTypeError, match="can't be cast to the desired output type int64"):
        i.div_(2)
    i.copy_(ag.tensor([1.9, -2.9, 3.0]))  # copy_ converts, as PyTorch's does
    np.testing.assert_array_equal(i.numpy(), [1, -2, 3])
    i.fill_(2.7)
    np.testing.assert_array_equal(i.numpy(), [2, 2, 2])
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0, 3.0])  # the failed writes wrote nothing
    assert x._version == 0


def test_zero_d_results_holding_a_numpy_scalar_are_written_as_arrays():
    with ag.no_grad():
        s = (ag.tensor([1.0, 2.0]) * 2.0).sum()
    assert isinstance(s.data, np.generic)
    alias = s
    s += 1.0
    s.mul_(2.0)
    assert alias is s and isinstance(s.data, np.ndarray) and s.data.shape == ()
    assert s.item() == 14.0 and s.dtype == np.float32


def test_in_place_on_another_device_and_across_devices(fake_backend):
    x = ag.tensor([1.0, 2.0], device=FAKE)
    x.add_(ag.tensor([1.0, 1.0], device=FAKE), alpha=3)
    x *= 2.0
    x.clamp_(max=9.0)
    assert x.device == FAKE
    np.testing.assert_array_equal(x.cpu().numpy(), [8.0, 9.0])
    with pytest.raises(DeviceError, match="different devices"):
        x += ag.tensor([1.0, 1.0])
    x.copy_(ag.tensor([5.0, 6.0]))  # copy_ is the explicit move
    assert x.device == FAKE
    np.testing.assert_array_equal(x.cpu().numpy(), [5.0, 6.0])


# -------------------------------------------------------- raw arrays and NumPy
def test_ndarray_in_place_with_a_tensor_writes_the_array():
    # ``p.data += -lr * p.grad`` raised TypeError (ndarray += Tensor)
    p = ag.tensor([1.0, 2.0], requires_grad=True)
    p.grad = ag.tensor([10.0, 20.0])
    data = p.data
    p.data += -0.1 * p.grad
    p.data -= p.grad * 0.05
    assert p.data is data and isinstance(p.data, np.ndarray)
    np.testing.assert_allclose(p.detach().numpy(), [-0.5, -1.0], rtol=1e-6)
    assert p._version == 0  # raw writes are the user's responsibility, as in PyTorch
    a = np.ones(2, np.float32)
    np.multiply(a, ag.tensor([2.0, 3.0]), out=a)
    np.testing.assert_array_equal(a, [2.0, 3.0])
    # ndarray (op) Tensor still gives a Tensor; other ufuncs on tensors stay unsupported
    y = np.array([1.0, 2.0], np.float32) - ag.tensor([3.0, 4.0], requires_grad=True)
    assert isinstance(y, ag.Tensor) and y.grad_fn is not None
    np.testing.assert_array_equal(y.detach().numpy(), [-2.0, -2.0])
    with pytest.raises(TypeError):
        np.exp(ag.tensor([1.0]))


# -------------------------------------------------------------------- versions
def test_a_saved_input_changed_in_place_stops_backward():
    w = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = ag.tensor([1.0, 1.0, 1.0])
    y = (w * x).sum()
    x += 1.0  # x does not require grad: allowed, and counted
    with pytest.raises(GraphError) as e:
        y.backward()
    message = str(e.value)
    assert message.startswith(f"one of the tensors needed for gradient computation {MODIFIED}")
    assert "input 1 of mul (shape (3,), float32) is at version 1; the graph expected " in message
    assert "version 0" in message and "Hint:" in message
    assert w.grad is None


def test_unchanged_saved_tensors_pass_and_each_backward_checks_again():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    x = ag.tensor([3.0, 4.0])
    y = (w * x).sum()
    y.backward(retain_graph=True)
    y.backward(retain_graph=True)
    np.testing.assert_array_equal(w.grad.numpy(), [6.0, 8.0])
    x.mul_(2.0)
    with pytest.raises(GraphError, match=MODIFIED):
        y.backward(retain_graph=True)
    with pytest.raises(GraphError, match=MODIFIED):
        ag.grad(y, w, create_graph=True)


def test_optimizer_step_between_forward_and_backward_is_caught():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    loss = (w * w).sum()
    stale = (w * w).sum()
    loss.backward()
    opt.step()
    assert w._version == 1
    with pytest.raises(GraphError, match=r"input 0 of mul .* is at version 1; the graph expected"):
        stale.backward()
    np.testing.assert_allclose(w.detach().numpy(), [0.8, 1.6], rtol=1e-6)
    (w * w).sum().backward()  # a fresh forward is fine


def test_zero_grad_and_clipping_bump_the_gradients_versions():
    w = ag.tensor([3.0, 4.0], requires_grad=True)
    (w * w).sum().backward()
    grad = w.grad
    v = ag.tensor([1.0, 1.0], requires_grad=True)
    uses_grad = (grad * v).sum()  # a graph that saved the gradient
    clip_grad_norm_([w], 1.0)
    assert grad._version == 1
    np.testing.assert_allclose(grad.numpy(), [0.6, 0.8], rtol=1e-5)
    with pytest.raises(GraphError, match=MODIFIED):
        uses_grad.backward()
    clip_grad_value_([w], 0.7)
    optim.SGD([w], lr=0.1).zero_grad(set_to_none=False)
    assert w.grad is grad and grad._version == 3
    np.testing.assert_array_equal(grad.numpy(), [0.0, 0.0])


def test_nn_init_counts_as_an_in_place_change():
    w = nn.Parameter(ag.tensor([1.0, 2.0]))
    x = ag.tensor([3.0, 4.0], requires_grad=True)
    y = (w * x).sum()
    init.constant_(w, 0.5)
    assert w._version == 1
    np.testing.assert_array_equal(w.detach().numpy(), [0.5, 0.5])
    with pytest.raises(GraphError, match=r"input 0 of mul"):
        y.backward()
    init.normal_(w)
    assert w._version == 2


def test_detached_tensors_share_the_version_counter():
    x = ag.tensor([1.0, 2.0])
    w = ag.tensor([1.0, 1.0], requires_grad=True)
    y = (w * x).sum()
    x.detach().add_(1.0)  # shares x's memory: the change is x's too
    np.testing.assert_array_equal(x.numpy(), [2.0, 3.0])
    with pytest.raises(GraphError, match="input 1 of mul"):
        y.backward()
    # the other way round: the detached tensor is what the graph saved
    d = x.detach()
    z = (w * d).sum()
    x.zero_()
    with pytest.raises(GraphError, match="input 1 of mul"):
        z.backward()


def test_a_saved_output_changed_through_detach_stops_backward():
    x = ag.tensor([0.0, 1.0], requires_grad=True)
    y = x.exp()  # saves its output
    y.detach().zero_()
    with pytest.raises(GraphError, match=r"the output of exp \(shape \(2,\), float32\) was"):
        y.sum().backward()


def test_a_detached_result_does_not_keep_its_graph_alive():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    node = weakref.ref(loss.grad_fn)
    kept = loss.detach()  # e.g. a loss kept for logging
    del loss
    gc.collect()
    assert node() is None
    kept.add_(1.0)  # its source is gone: nothing left to invalidate
    assert kept.item() == 6.0


def test_tensors_sharing_a_counter_pickle_and_copy():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    from_graph = pickle.loads(pickle.dumps((x * 2.0).detach()))  # its weak source is dropped
    np.testing.assert_array_equal(from_graph.numpy(), [2.0, 4.0])
    assert from_graph._version == 0 and from_graph.grad_fn is None
    leaf, view = copy.deepcopy((x, x.detach()))
    view.add_(1.0)  # the copies share data and counter, as the originals do
    np.testing.assert_array_equal(leaf.detach().numpy(), [2.0, 3.0])
    assert leaf._version == 1 and x._version == 0
    np.testing.assert_array_equal(x.detach().numpy(), [1.0, 2.0])


# ------------------------------------------------------------ BatchNorm (item 6)
def test_batchnorm_updates_its_running_statistics_in_place():
    bn = nn.BatchNorm1d(2)
    mean, var, count = bn.running_mean, bn.running_var, bn.num_batches_tracked
    mean_data = mean.data
    x = ag.tensor([[1.0, 10.0], [3.0, 14.0]])
    bn(x)
    # references taken before the forward see the new statistics
    assert bn.running_mean is mean and mean.data is mean_data
    np.testing.assert_allclose(mean.numpy(), [0.2, 1.2], rtol=1e-6)  # 0.9 * 0 + 0.1 * mean
    np.testing.assert_allclose(var.numpy(), [1.1, 1.7], rtol=1e-6)  # 0.9 + 0.1 * (2, 8)
    assert count.item() == 1 and bn.num_batches_tracked is count
    assert mean._version == 1 and var._version == 1
    bn.reset_running_stats()
    np.testing.assert_array_equal(mean.numpy(), [0.0, 0.0])
    assert count.item() == 0 and bn.num_batches_tracked is count


def test_load_state_dict_writes_into_the_parameters(fake_backend):
    model = nn.Linear(2, 1)
    weight, data, version = model.weight, model.weight.data, model.weight._version
    x = ag.tensor([[1.0, 2.0]], requires_grad=True)
    out = model(x).sum()
    source = nn.Linear(2, 1).to(FAKE)  # loaded across devices: copied onto the CPU
    init.constant_(source.weight, 3.0)
    model.load_state_dict(source.state_dict())
    assert model.weight is weight and weight.data is data and weight._version == version + 1
    np.testing.assert_array_equal(weight.detach().numpy(), [[3.0, 3.0]])
    with pytest.raises(GraphError, match=MODIFIED):
        out.backward()


# ------------------------------------------------------- grad property (item 10)
def test_grad_is_checked_at_assignment(fake_backend):
    w = ag.zeros(3, requires_grad=True)
    with pytest.raises(ShapeError, match=r"different size: the gradient has shape \(2,\)"):
        w.grad = ag.ones(2)
    with pytest.raises(DTypeError, match="different type: the gradient is float64"):
        w.grad = ag.ones(3, dtype=ag.float64)
    with pytest.raises(DeviceError, match="different device"):
        w.grad = ag.ones(3, device=FAKE)
    with pytest.raises(TypeError, match="expected to be a Tensor or None"):
        w.grad = np.ones(3, np.float32)
    assert w.grad is None
    g = ag.ones(3)
    w.grad = g
    assert w.grad is g
    del w.grad
    assert w.grad is None


@pytest.mark.parametrize("corrupt", ["shape", "dtype"])
def test_a_step_checks_every_parameter_before_changing_any(corrupt):
    a = ag.tensor([1.0, 2.0], requires_grad=True)
    b = ag.tensor([3.0, 4.0], requires_grad=True)
    opt = optim.SGD([a, b], lr=0.5, momentum=0.9)
    (a * b).sum().backward()
    bad = np.ones(3, np.float32) if corrupt == "shape" else np.ones(2, np.float64)
    b.grad.data = bad  # a raw write: the grad setter cannot see it
    with pytest.raises((ShapeError, DTypeError), match="parameter 1 of its group"):
        opt.step()
    np.testing.assert_array_equal(a.detach().numpy(), [1.0, 2.0])  # not half-applied
    assert a._version == 0 and opt.state == {} and opt.state_dict()["steps"] == 0
    b.grad = ag.tensor([1.0, 2.0])
    opt.step()
    np.testing.assert_array_equal(a.detach().numpy(), [-0.5, 0.0])  # a - 0.5 * b
    np.testing.assert_array_equal(b.detach().numpy(), [2.5, 3.0])


# --------------------------------------------------- zero_grad, backward(inputs)
def test_module_zero_grad_set_to_none_flag():
    model = nn.Linear(2, 1)
    x = ag.tensor([[1.0, 2.0]])
    model(x).sum().backward()
    grad = model.weight.grad
    model.zero_grad(set_to_none=False)
    assert model.weight.grad is grad and grad._version == 1
    np.testing.assert_array_equal(grad.numpy(), [[0.0, 0.0]])
    model(x).sum().backward()
    np.testing.assert_array_equal(grad.numpy(), [[1.0, 2.0]])  # accumulated into the zeros
    model.zero_grad()  # PyTorch's default: None
    assert model.weight.grad is None and model.bias.grad is None


def test_backward_with_inputs_accumulates_only_into_them():
    a = ag.tensor([1.0, 2.0], requires_grad=True)
    b = ag.tensor([3.0, 4.0], requires_grad=True)
    h = a * b
    loss = (h * h).sum()
    loss.backward(inputs=[a], retain_graph=True)
    np.testing.assert_array_equal(a.grad.numpy(), [18.0, 64.0])  # 2 a b²
    assert b.grad is None
    loss.backward(inputs=[a, h])  # accumulates, and reaches a non-leaf too
    np.testing.assert_array_equal(a.grad.numpy(), [36.0, 128.0])
    np.testing.assert_array_equal(h.grad.numpy(), [6.0, 16.0])
    assert b.grad is None
    c = ag.tensor(1.0, requires_grad=True)
    (a * 2.0).sum().backward(inputs=c)  # not reached: nothing to accumulate
    assert c.grad is None
    with pytest.raises(ValueError, match="cannot be empty"):
        (a * 2.0).sum().backward(inputs=[])
    with pytest.raises(GraphError, match=r"inputs\[0\] does not require grad"):
        (a * 2.0).sum().backward(inputs=[ag.ones(2)])
