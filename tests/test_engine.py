"""The backward engine: accumulation, diamonds, freeing, hooks, grad(), higher order, depth."""

from __future__ import annotations

import gc
import threading
import weakref

import numpy as np
import pytest

import autograd as ag
from autograd import GraphError


def leaf(values, dtype=ag.float64):
    return ag.tensor(np.asarray(values, dtype=float), dtype=dtype, requires_grad=True)


@pytest.fixture
def no_gc():
    """Run with the cyclic collector off: what is freed is freed by reference counting."""
    gc.collect()
    gc.disable()
    yield
    gc.enable()


# ----------------------------------------------------------------- accumulation
def test_diamond_counts_each_path_once():
    x = leaf([1.0, -2.0, 3.0])
    y = x * x  # used twice below
    z = (y + y.exp()).sum()
    z.backward()
    xd = x.data
    np.testing.assert_allclose(x.grad.numpy(), 2 * xd + np.exp(xd * xd) * 2 * xd)


def test_tensor_used_many_times():
    x = leaf(1.5)
    total = sum(x * k for k in range(100))
    total.backward()
    assert x.grad.item() == pytest.approx(sum(range(100)))


def test_gradients_accumulate_across_backward_calls():
    x = leaf([1.0, 2.0])
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3 + 2, 3 + 4])


def test_backward_from_a_leaf():
    x = leaf(2.0)
    x.backward()
    assert x.grad.item() == 1.0


def test_explicit_gradient_weights_the_output():
    x = leaf([1.0, 2.0, 3.0])
    y = x * x
    y.backward(gradient=ag.tensor([1.0, 0.5, -1.0], dtype=ag.float64))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0, -6.0])


# ----------------------------------------------------------------- retain / free
def test_second_backward_through_freed_graph_explains_the_fix():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(GraphError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first)


def test_saved_buffers_are_freed_after_backward(no_gc):
    x = leaf(np.linspace(-1, 1, 10))
    y = x.exp()  # Exp saves its output
    saved = weakref.ref(y.data)
    loss = y.sum()
    del y
    assert saved() is not None
    loss.backward()
    assert saved() is None


def test_saved_buffers_are_kept_with_retain_graph(no_gc):
    x = leaf(np.linspace(-1, 1, 10))
    y = x.exp()
    saved = weakref.ref(y.data)
    loss = y.sum()
    del y
    loss.backward(retain_graph=True)
    assert saved() is not None


def test_finished_graph_is_freed_by_reference_counting(no_gc):
    x = leaf(np.ones(4))
    y = x * 2
    z = y.exp()
    loss = z.sum()
    refs = [weakref.ref(t) for t in (y, z)] + [weakref.ref(t.grad_fn) for t in (y, z, loss)]
    del y, z
    loss.backward()
    del loss
    assert all(r() is None for r in refs)


def test_unused_graph_is_freed_by_reference_counting(no_gc):
    x = leaf(np.ones(4))
    loss = (x * x).tanh().sum()
    r = weakref.ref(loss.grad_fn)
    del loss
    assert r() is None


# ----------------------------------------------------------------- modes
def test_no_grad_records_nothing():
    x = leaf([1.0, 2.0])
    with ag.no_grad():
        y = x * 2
    assert y.grad_fn is None and not y.requires_grad
    assert (x * 2).requires_grad


def test_no_grad_as_decorator_and_nesting():
    x = leaf(1.0)

    @ag.no_grad()
    def f(t):
        with ag.enable_grad():
            inner = t * 2
        return t * 3, inner

    outer, inner = f(x)
    assert not outer.requires_grad and inner.requires_grad
    assert ag.is_grad_enabled()


def test_set_grad_enabled_as_call_and_context():
    x = leaf(1.0)
    ag.set_grad_enabled(False)
    assert not (x * 2).requires_grad
    ag.set_grad_enabled(True)
    with ag.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad


def test_grad_mode_is_thread_local():
    seen = []
    with ag.no_grad():
        t = threading.Thread(target=lambda: seen.append(ag.is_grad_enabled()))
        t.start()
        t.join()
        assert not ag.is_grad_enabled()
    assert seen == [True]


def test_detach_stops_gradients():
    x = leaf([1.0, 2.0])
    y = (x.detach() * x).sum()  # only the second factor carries gradient
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 2.0])


# ----------------------------------------------------------------- hooks
def test_leaf_hook_can_replace_the_gradient():
    x = leaf([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()) or g * 10)
    (x * 3).sum().backward()
    np.testing.assert_allclose(seen[0], [3.0, 3.0])
    np.testing.assert_allclose(x.grad.numpy(), [30.0, 30.0])


def test_non_leaf_hook_sees_total_gradient_and_can_be_removed():
    x = leaf([1.0, 2.0])
    y = x * 2
    seen = []
    handle = y.register_hook(lambda g: seen.append(g.numpy().copy()))
    (y * y).sum().backward(retain_graph=True)
    np.testing.assert_allclose(seen[0], 2 * y.numpy())
    handle.remove()
    (y * y).sum().backward()
    assert len(seen) == 1


def test_hook_returning_wrong_shape_is_an_error():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: ag.ones(3, dtype=ag.float64))
    with pytest.raises(ValueError, match="hook returned shape"):
        (x * 2).sum().backward()


def test_retain_grad_keeps_non_leaf_gradients():
    x = leaf([1.0, 2.0])
    y = x * 3
    y.retain_grad()
    z = x * 4
    (y * z).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), z.numpy())
    assert z.grad is None
    assert y.retains_grad and not z.retains_grad


# ----------------------------------------------------------------- memory sharing
def test_gradients_never_share_memory():
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    w = leaf([[1.0, 2.0]])
    g = ag.tensor([5.0, 6.0], dtype=ag.float64)
    g_before = g.numpy().copy()
    out = x + y + w.reshape(2)  # Add passes g through; reshape makes a view
    out.backward(gradient=g)
    arrays = [x.grad.data, y.grad.data, w.grad.data, g.data]
    for i, a in enumerate(arrays):
        for b in arrays[i + 1 :]:
            assert not np.shares_memory(a, b)
    np.testing.assert_array_equal(g.numpy(), g_before)


def test_create_graph_gradients_never_share_memory():
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    g = np.ones(2)
    (x + y).backward(g, create_graph=True)
    assert x.grad is not y.grad
    for a, b in [(x.grad.data, y.grad.data), (x.grad.data, g), (y.grad.data, g)]:
        assert not np.shares_memory(a, b)
    (2 * x).sum().backward()  # accumulates into x only
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])
    np.testing.assert_allclose(y.grad.numpy(), [1.0, 1.0])


def test_retained_gradients_do_not_share_memory():
    x = leaf([1.0, 2.0])
    y = x + 1
    z = y + 1
    y.retain_grad()
    z.retain_grad()
    z.sum().backward()
    assert not np.shares_memory(y.grad.data, z.grad.data)
    assert not np.shares_memory(x.grad.data, y.grad.data)


def test_inputs_are_not_mutated_by_backward():
    x = leaf([1.0, -2.0, 3.0])
    before = x.numpy().copy()
    y = (x.relu() * x.exp()).sum()
    y.backward()
    np.testing.assert_array_equal(x.numpy(), before)


# ----------------------------------------------------------------- grad()
def test_grad_returns_without_accumulating():
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    y = (x * w).sum()
    (gx,) = ag.grad(y, x)
    np.testing.assert_allclose(gx.numpy(), [3.0, 4.0])
    assert x.grad is None and w.grad is None


def test_grad_with_respect_to_a_non_leaf():
    x = leaf([1.0, 2.0])
    h = x * 2
    y = (h * h).sum()
    gh, gx = ag.grad(y, [h, x])
    np.testing.assert_allclose(gh.numpy(), 2 * h.numpy())
    np.testing.assert_allclose(gx.numpy(), 8 * x.numpy())


def test_grad_allow_unused():
    x, unused = leaf(1.0), leaf(2.0)
    y = x * 3
    with pytest.raises(GraphError, match="allow_unused=True"):
        ag.grad(y, [x, unused], retain_graph=True)
    gx, gu = ag.grad(y, [x, unused], allow_unused=True)
    assert gx.item() == 3.0 and gu is None


def test_grad_with_grad_outputs_and_several_outputs():
    x = leaf([1.0, 2.0])
    a, b = x * 2, x * x
    (gx,) = ag.grad(
        [a, b], x, [ag.ones(2, dtype=ag.float64), ag.tensor([1.0, -1.0], dtype=ag.float64)]
    )
    np.testing.assert_allclose(gx.numpy(), [2 + 2, 2 - 4])


def test_grad_of_input_that_does_not_require_grad_is_an_error():
    with pytest.raises(GraphError, match="does not require grad"):
        ag.grad(leaf(1.0) * 2, ag.tensor(1.0))


# ----------------------------------------------------------------- higher order
def test_create_graph_gives_differentiable_gradients():
    x = leaf(1.5)
    y = x**3
    (g,) = ag.grad(y, x, create_graph=True)
    assert g.requires_grad
    (h,) = ag.grad(g, x, create_graph=True)
    (t,) = ag.grad(h, x)
    assert g.item() == pytest.approx(3 * 1.5**2)
    assert h.item() == pytest.approx(6 * 1.5)
    assert t.item() == pytest.approx(6.0)


def test_backward_with_create_graph_then_backward_again():
    x = leaf([0.5, -1.0])
    y = (x.sin() * x).sum()
    y.backward(create_graph=True)
    assert x.grad.requires_grad
    grad_norm = (x.grad * x.grad).sum()
    x_grad = x.grad.numpy().copy()
    x.grad = None
    grad_norm.backward()
    xd = x.numpy()
    second = -xd * np.sin(xd) + 2 * np.cos(xd)  # d/dx of (sin x + x cos x)
    np.testing.assert_allclose(x.grad.numpy(), 2 * x_grad * second)


def test_third_derivative_of_tanh():
    x = leaf(0.3)
    g = x
    order = []
    out = x.tanh()
    for _ in range(3):
        (out,) = ag.grad(out, x, create_graph=True)
        order.append(out.item())
    t = np.tanh(0.3)
    assert order[0] == pytest.approx(1 - t**2)
    assert order[1] == pytest.approx(-2 * t * (1 - t**2))
    assert order[2] == pytest.approx(-2 * (1 - t**2) ** 2 + 4 * t**2 * (1 - t**2))
    assert g is x


# ----------------------------------------------------------------- depth and width
def test_million_op_chain_backward_and_teardown():
    x = leaf(1.0)
    y = x
    for _ in range(500_000):
        y = y * 1.000001
        y = y - 0.0000001
    y.backward()
    assert x.grad.item() == pytest.approx(1.000001**500_000, rel=1e-9)
    del y  # freeing a million-node chain must not hit the recursion limit


def test_wide_and_deep_graph():
    width, depth = 100, 1000
    xs = [leaf(float(i)) for i in range(width)]
    layer = xs
    for _ in range(depth):
        layer = [(layer[j] + layer[(j + 1) % width]) * 0.5 for j in range(width)]
    total = sum(layer[1:], layer[0])
    total.backward()
    # averaging neighbours preserves the sum, so d(total)/d(x_j) = 1 for every j
    np.testing.assert_allclose([x.grad.item() for x in xs], np.ones(width), rtol=1e-12)


# ----------------------------------------------------------------- errors
def test_non_scalar_backward_without_gradient_explains():
    y = leaf([1.0, 2.0]) * 2
    with pytest.raises(GraphError, match=r"shape \(2,\).*out.sum\(\)"):
        y.backward()


def test_backward_of_tensor_without_grad_explains():
    with pytest.raises(GraphError, match="requires_grad=True"):
        (ag.tensor([1.0]) * 2).sum().backward()


def test_backward_gradient_must_match_shape_and_dtype():
    y = leaf([1.0, 2.0]) * 2
    with pytest.raises(ValueError, match=r"gradient has shape \(3,\)"):
        y.backward(ag.ones(3, dtype=ag.float64), retain_graph=True)
    with pytest.raises(TypeError, match="float32"):
        y.backward(ag.ones(2), retain_graph=True)


def test_scope_labels_recorded_ops_and_nests():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    with ag.scope("outer"):
        y = x * 2
        with ag.scope("inner"):
            z = y.exp()
            assert ag.current_scope() == ("outer", "inner")
    w = z.sum()
    assert y.grad_fn.scope == ("outer",)
    assert z.grad_fn.scope == ("outer", "inner")
    assert w.grad_fn.scope == ()
    assert ag.current_scope() == ()


def test_repeated_scalar_accumulation_keeps_an_array_in_place():
    x = ag.tensor(2.0, dtype=ag.float64, requires_grad=True)
    (x * 3).backward()
    first = x.grad.data
    (x * 4).backward()
    assert isinstance(x.grad.data, np.ndarray) and x.grad.data.shape == ()
    assert x.grad.data is first  # accumulated in place
    assert float(x.grad) == 7.0


def test_generator_pickles_and_continues_its_stream():
    import pickle

    gen = ag.Generator().manual_seed(5)
    ag.rand(3, generator=gen)
    copy = pickle.loads(pickle.dumps(gen))
    np.testing.assert_array_equal(
        ag.rand(4, generator=copy).numpy(), ag.rand(4, generator=gen).numpy()
    )
    assert copy.initial_seed() == 5
