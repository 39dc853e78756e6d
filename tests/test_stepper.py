"""``autograd.backward_steps``: the steps are the engine's own (order, gradients, sums), the
user's tensors are left alone, and the stepper's text, HTML, animated SVG and frames say what
the engine computed. The browser runs the HTML in tests/test_stepper_browser.py."""

from __future__ import annotations

import inspect
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import autograd as ag
from autograd import ops
from autograd.function import Function

from .graphs import micrograd

pytest.importorskip("graphviz", reason="the graphviz Python package: pip install -e .")


def value(x, name=None):
    return ag.tensor(x, dtype=ag.float64, requires_grad=True, name=name)


def engine_order(root, tensors):
    """The order in which backward reaches ``tensors`` (their hooks run when it does)."""
    order = []
    for t in tensors:
        if t.requires_grad:
            t.register_hook(lambda g, t=t: order.append(t))
    root.backward(retain_graph=True)
    return order


# --------------------------------------------------------------- the engine's numbers
def test_micrograd_final_gradients_are_backwards_and_nothing_is_changed():
    a, b, g = micrograd()
    b.grad = ag.tensor(5.0, dtype=ag.float64)  # a gradient from before stays as it is
    before = b.grad
    steps = ag.backward_steps(g)
    assert a.grad is None and b.grad is before and float(b.grad) == 5.0
    assert steps.nodes[-1].ref == "g" and steps.steps[-1].node.ref in ("a", "b")
    da, db = steps.gradient_of(a), steps.gradient_of(b)
    assert f"{float(da):.4f}" == "138.8338" and f"{float(db):.4f}" == "645.5773"
    g.backward()  # the graph was retained: backward still works, once more
    assert float(a.grad) == float(da)  # exactly
    assert float(b.grad) - 5.0 == pytest.approx(float(db), rel=1e-15)
    last = steps.steps[-1]
    assert last.kind == "leaf" and last.phase == "backward"


def test_steps_walk_forward_in_topological_order_then_backward_in_the_engines_order():
    a, b, g = micrograd()
    steps = ag.backward_steps(g)
    forward = [s for s in steps if s.phase == "forward"]
    assert forward[0].kind == "leaves" and all(s.kind == "op" for s in forward[1:])
    seen = {n.index for n in steps.nodes if n.kind != "result"}
    for s in forward[1:]:  # each op after everything it reads
        fn = s.node.fn
        assert all(steps._rec.of[e].index in seen for e in fn.edges if e is not None)
        seen.add(s.node.index)
    backward = [s for s in steps if s.phase == "backward"]
    assert backward[0].kind == "seed"
    assert np.isclose(float(steps.nodes[-1].value), float(g))  # forward values recomputed
    order = engine_order(g, [a, b])
    assert [s.node.tensor for s in backward if s.kind == "leaf"] == order


def test_retained_gradients_and_hooks():
    x = value([1.0, -2.0, 3.0], "x")
    h = x.tanh()
    h.retain_grad()
    doubled = []
    x.register_hook(lambda grad: doubled.append(1) or grad * 2)
    y = (h * h).sum()
    steps = ag.backward_steps(y)
    assert h.grad is None and x.grad is None  # retained gradients are not stored
    assert doubled == [1]  # hooks run, as in backward, and change what is recorded
    y.backward()
    np.testing.assert_array_equal(steps.gradient_of(x), x.grad.data)
    np.testing.assert_array_equal(steps.gradient_of(h), h.grad.data)


def test_a_freed_graph_is_explained():
    x = value(2.0, "x")
    y = x.exp() * 3.0
    y.backward()
    with pytest.raises(ag.GraphError, match="freed by an earlier backward"):
        ag.backward_steps(y)


def test_wrong_arguments():
    x = value([1.0, 2.0])
    with pytest.raises(TypeError, match="at least one tensor"):
        ag.backward_steps()
    with pytest.raises(ag.GraphError, match="one-element"):
        ag.backward_steps(x * 2)
    with pytest.raises(ValueError, match="2 gradients for 3 roots"):
        ag.backward_steps(x.sum(), x.mean(), x.max(), gradient=[1.0, 1.0])
    with pytest.raises(ValueError, match="rankdir"):
        ag.backward_steps(x.sum(), rankdir="down")


def test_a_given_gradient_and_several_roots():
    x = value([1.0, 2.0], "x")
    y = x * x
    steps = ag.backward_steps(y, gradient=[1.0, 10.0])
    np.testing.assert_array_equal(steps.gradient_of(x), [2.0, 40.0])
    s, m = x.sum(), (x * 3.0).mean()
    both = ag.backward_steps(s, m)
    np.testing.assert_allclose(both.gradient_of(x), [2.5, 2.5])
    assert "dL/d%" in str(both) and str(both).count("it starts at the root") == 1


# random graphs of broadcasting elementwise ops and reductions, checked against the engine
SHAPES = [(), (3,), (2, 3), (1, 3)]  # mutually broadcastable
UNARY = {
    "tanh": lambda x: x.tanh(),
    "sigmoid": lambda x: x.sigmoid(),
    "relu": lambda x: x.relu(),
    "exp_tanh": lambda x: x.tanh().exp(),
    "neg": lambda x: -x,
    "sum_back": lambda x: x.sum() * x,
}
BINARY = {
    "add": lambda x, z: x + z,
    "sub": lambda x, z: x - z,
    "mul": lambda x, z: x * z,
    "div": lambda x, z: x / (1.5 + z * z),
    "maximum": lambda x, z: ag.maximum(x, z),
}


@st.composite
def graphs(draw):
    shapes = draw(st.lists(st.sampled_from(SHAPES), min_size=1, max_size=4))
    leaves = [
        value(draw(arrays(np.float64, shape, elements=st.floats(-2, 2))), f"x{i}")
        for i, shape in enumerate(shapes)
    ]
    pool = list(leaves)
    for _ in range(draw(st.integers(1, 12))):
        if draw(st.booleans()):
            op = UNARY[draw(st.sampled_from(sorted(UNARY)))]
            y = op(draw(st.sampled_from(pool)))
        else:
            op = BINARY[draw(st.sampled_from(sorted(BINARY)))]
            y = op(draw(st.sampled_from(pool)), draw(st.sampled_from(pool)))
        pool.append(y)
    used = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3))
    root = used[0].sum()
    for t in used[1:]:
        root = root + t.sum()
    return leaves, pool, root


def sum_to(a, shape):
    a = np.asarray(a)
    lead = a.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and a.shape[i + lead] != 1
    )
    return a.sum(axis=axes, keepdims=True).reshape(shape)


@settings(max_examples=60, deadline=None)
@given(graphs())
def test_recorded_steps_are_the_engines_for_random_graphs(graph):
    leaves, pool, root = graph
    steps = ag.backward_steps(root)
    received: dict[int, list] = {}
    for step in steps:
        for s in step.sends:
            received.setdefault(s.to.index, []).append(s)
            if s.local is not None:  # the product is upstream x local, summed back
                shape = np.shape(s.gradient)
                np.testing.assert_allclose(
                    sum_to(np.asarray(step.upstream) * s.local, shape), s.gradient, rtol=1e-12
                )
            if s.reduced is not None:
                src, dst, _ = s.reduced
                assert src == np.shape(step.upstream) and dst == np.shape(s.gradient)
    for node in steps.nodes:
        sends = received.get(node.index, [])
        if not sends:
            continue
        assert [s.k for s in sends] == list(range(1, len(sends) + 1))
        assert all(s.of == len(sends) for s in sends)
        total = sends[0].gradient
        for s in sends[1:]:
            total = total + s.gradient  # summed in the engine's order: exactly its sum
        np.testing.assert_array_equal(total, node.grad)
        np.testing.assert_array_equal(sends[-1].total, node.grad)
    held = [t for t in pool if t.requires_grad]
    order = engine_order(root, held)  # backward with retain_graph: the graph survived
    recorded = [s.node for s in steps if s.kind in ("op", "leaf") and s.phase == "backward"]
    by_tensor = {id(t): steps._node_of(t) for t in held}
    assert [by_tensor[id(t)] for t in order] == [n for n in recorded if n in by_tensor.values()]
    for leaf in leaves:
        leaf.grad = None
    root.backward()
    for leaf in leaves:
        if leaf.grad is None:  # not on a path to the root
            assert steps.gradient_of(leaf) is None
        else:
            np.testing.assert_array_equal(steps.gradient_of(leaf), leaf.grad.data)  # exactly


# ---------------------------------------------------------------------- what is said
def test_text_states_the_rule_the_numbers_and_the_running_sums():
    *_, g = micrograd()
    text = str(ag.backward_steps(g))
    assert text.startswith("BackwardSteps: 54 steps (26 forward, 28 backward)")
    assert "rule  d/dx (x y) = y,  d/dy (x y) = x" in text
    assert "5th of 5 contributions: sum final 138.8338" in text
    assert "5th of 5 contributions: sum final 645.5773" in text
    assert re.search(r"2nd of 5 contributions: sum so far -?\d", text)
    assert "54 / 54  a receives its gradient" in text
    assert "dL/da = 138.8338" in text
    x = value(0.5, "x")
    y = x.tanh()
    y.name = "y"
    tanh = str(ag.backward_steps(y))
    assert "rule  d/dx tanh x = 1 - tanh(x)^2" in tanh
    assert "to x:  dL/dx = 1.0 x 0.7864 = 0.7864" in tanh  # 1 - tanh(0.5)^2
    assert "y = tanh(0.5) = 0.4621" in tanh


def test_broadcast_reduction_and_tensor_summaries():
    ag.manual_seed(0)
    h = ag.randn(128, 10)
    bias = ag.zeros(10, requires_grad=True)
    bias.name = "bias"
    loss = ((h + bias) ** 2).mean()
    text = str(ag.backward_steps(loss))
    assert "broadcast: sum over axis 0: (128, 10) -> (10,)" in text
    assert "(128, 10) float32" in text and "norm " in text and "zeros 0 of 1,280" in text
    assert "local  d%" in text  # elementwise ops show the local derivative


def test_every_op_states_its_derivative():
    found = []
    for module in (ops.arithmetic, ops.elementwise, ops.linalg, ops.reduction, ops.shape):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Function) and cls is not Function and cls.__name__[0] != "_":
                found.append(cls)
    found += [ops.nn_ops.Linear, ops.nn_ops.Softplus, ops.nn_ops.NLLLoss, ops.nn_ops.CrossEntropy]
    assert len(found) >= 40
    for cls in found:
        assert cls.derivative and cls.in_words, cls.__name__


def test_why_a_gradient_is_zero_or_missing():
    x = value([1.0, -2.0, 3.0], "x")
    w, u = value(0.0, "w"), value(1.0, "u")
    data = ag.tensor([1.0, 2.0, 3.0], dtype=ag.float64, name="data")
    y = (x.relu() * 2.0).sum() + (w * u) + (data * u).sum()
    steps = ag.backward_steps(y)
    assert steps.why(x) == (
        "1 of 3 elements of dL/dx are 0:\n"
        "  relu %1 = relu(x) is inactive (input <= 0) on 1 of 3 elements: its slope is 0 there"
    )
    assert steps.why(u) == "dL/du has no zero elements."
    assert steps.why(data).startswith(
        "data (shape (3,), float64) is a tensor that does not require grad"
    )
    assert "detach(), a no_grad() block or an integer op" in steps.why(data)
    assert "not on any path to the root" in steps.why(value(1.0))
    assert "requires_grad=False" in steps.why(ag.tensor(1.0))
    assert (
        ag.backward_steps(w * u).why(u)
        == "dL/du is 0:\n  %2 = w * u multiplies by w, which is 0 on those elements"
    )
    z = value([40.0, 0.1], "z")
    why = ag.backward_steps(z.sigmoid().sum()).why(z)
    assert "sigmoid %1 = sigmoid(z) is saturated on 1 of 2 elements" in why
    a = value(2.0, "a")
    assert ag.backward_steps(a - a).why(a) == "dL/da is 0:\n  its 2 contributions cancel out"
    deep = ag.backward_steps(((x * 0.0).tanh() * 3.0).sum())
    assert "received a zero gradient itself" not in deep.why(x)  # tanh'(0) = 1: the 0.0 did it
    assert "multiplies by 0.0" in deep.why(x)


def test_module_scopes_and_the_mlp():
    nn = pytest.importorskip("nn")
    ag.manual_seed(0)
    model = nn.MLP(784, [256, 128], 10)
    loss = nn.functional.cross_entropy(model(ag.randn(64, 784)), ag.randint(10, (64,)))
    steps = ag.backward_steps(loss, collapse=True)
    assert "in layers.0: Linear(784 -> 256)  (MLP / layers)" in str(steps)
    assert all(p.grad is None for p in model.parameters())
    loss.backward()
    for p in model.parameters():
        np.testing.assert_array_equal(steps.gradient_of(p), p.grad.data)
    html = steps.to_html(full_page=True)
    assert len(html) < 200_000
    data = _data(html)
    assert len(data["steps"]) == len(steps) == 20


# ------------------------------------------------------------------- the files
def _data(html):
    text = re.search(r'<script type="application/json" class="ag-data">(.*?)</script>', html, re.S)
    return json.loads(text.group(1).replace("<\\/", "</"))


def chain_of_scalars(n):
    x = value(0.3, "x")
    w = value(-0.7, "w")
    y = x
    for i in range(n):
        y = (y * w + 0.1).tanh() if i % 2 else y + x * 0.5
    return y


def test_html_is_self_contained_and_small():
    y = chain_of_scalars(24)  # 50 tensors: 48 ops and 2 leaves
    steps = ag.backward_steps(y)
    assert len(steps.nodes) >= 50
    html = steps.to_html(full_page=True)
    assert len(html.encode()) < 500_000
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)  # nothing fetched
    assert "<svg" in html and "<script>" in html and "@import" not in html
    data = _data(html)
    assert len(data["steps"]) == len(steps)
    last = data["steps"][-1]
    assert last["p"] == "backward" and last["c"]
    assert any(
        text.startswith("grad not computed yet")
        for v in data["init"].values()
        for text in v.values()
    )
    fragment = steps._repr_html_()
    assert fragment.startswith('<div class="agstep"') and "<html" not in fragment
    bundle = steps._repr_mimebundle_()
    assert set(bundle) == {"text/html", "text/plain"} and bundle["text/plain"] == repr(steps)


def test_a_big_fan_out_is_drawn_with_stubs_and_the_stub_edges_light_up():
    x = value(0.5, "x")
    y = x
    for _ in range(40):
        y = (y * 0.9).sin() + x
    steps = ag.backward_steps(y, max_nodes=None)
    _, drawing, _ = steps._picture()
    record = drawing.record_of[steps._node_of(x).index]
    stubs = [s for s, r in drawing.stub_of.items() if r == record]
    assert len(stubs) == 41 - ag.viz.FANOUT
    data = _data(steps.to_html())
    lit = {e for step in data["steps"] if step["p"] == "backward" for e in step["e"]}
    # each addition's backward step sends dL/dx along the edge from x's record or its stub
    from_x = {e for e in lit if e.split("->")[0] in {record, *stubs}}
    assert len(from_x) == 41
    assert {e.split("->")[0] for e in from_x} == {record, *stubs}


def test_animated_svg_plays_without_script(tmp_path):
    *_, g = micrograd()
    steps = ag.backward_steps(g)
    path = steps.save(tmp_path / "steps.svg")
    text = Path(path).read_text()
    root = ET.fromstring(text)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "<script" not in text and "@keyframes" in text and "step-end infinite" in text
    texts = ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "grad not computed yet" in texts and "grad 138.8338" in texts
    assert "step 54 / 54  (backward)" in texts
    assert any("5th of 5 contributions: sum final 645.5773" in t for t in texts)


def test_frames_one_per_step(tmp_path):
    x = value(0.5, "x")
    y = (x * 2.0).tanh()
    steps = ag.backward_steps(y)
    out = steps.save(tmp_path / "frames")
    files = sorted(p.name for p in (tmp_path / "frames").iterdir())
    assert out.endswith("frames") and files == [
        f"step_{i:03d}.svg" for i in range(1, len(steps) + 1)
    ]
    first = (tmp_path / "frames" / "step_001.svg").read_text()
    assert "grad not computed yet" in first and "step 1 / " in first
    steps.save(tmp_path / "png/", format="png")
    assert (tmp_path / "png" / "step_001.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match=r"\.html.*\.svg.*frames"):
        steps.save(tmp_path / "steps.pdf")


# ``accelerator`` (conftest.py): the fake device that refuses NumPy arrays as CuPy does, and
# CUDA where there is one
def test_steps_on_an_accelerator(accelerator):
    w = ag.tensor([0.5, -1.0, 2.0], dtype=ag.float64, requires_grad=True, device=accelerator)
    w.name = "w"
    data = ag.tensor([1.0, 2.0, 3.0], dtype=ag.float64, device=accelerator)
    loss = (w * data).relu().sum() + (w * data).tanh().sum() * 0.0
    steps = ag.backward_steps(loss)
    text = str(steps)
    assert "rule  d/dx max(x, 0) = 1 if x > 0 else 0" in text
    assert "relu" in steps.why(w) and "inactive" in steps.why(w)
    assert "<svg" in steps.to_html() and "@keyframes" in steps.to_svg()
    loss.backward()
    np.testing.assert_array_equal(
        ag.tensor(steps.gradient_of(w)).cpu().numpy(), w.grad.cpu().numpy()
    )
