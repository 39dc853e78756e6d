"""Pictures of the graph: ``draw_graph`` really rendered by Graphviz (SVG parsed back: labels,
counts, styles, positions), its DOT source, the text form ``print_graph``, and the error when
Graphviz's ``dot`` program is missing.

The expected DOT file tests/data/viz_small.dot is regenerated (after an intended change, to be
reviewed in the diff) with ``python tests/test_viz.py``.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip(
    "graphviz", reason="the graphviz Python package, a dependency of arraygrad: pip install -e ."
)

import graphviz

import autograd as ag
from autograd import viz
from autograd.viz import COLORS, NONFINITE, op_label

DATA = Path(__file__).parent / "data"
SVG = "{http://www.w3.org/2000/svg}"
BLUE, GREY, WHITE, GREEN = (COLORS[k] for k in ("parameter", "constant", "result", "output"))
YELLOW, PURPLE = COLORS["op"], COLORS["module"]


# ------------------------------------------------------------------------ SVG helpers
@dataclass
class Shape:
    """A node or cluster of the rendered SVG."""

    id: str  # the DOT name (n3, cluster_0)
    texts: list[str]
    fill: str | None
    stroke: str | None
    dashed: bool
    width: str | None  # stroke-width
    box: tuple[float, float, float, float]  # x0, y0, x1, y1

    @property
    def text(self) -> str:
        return " | ".join(self.texts)

    def inside(self, other: Shape) -> bool:
        a, b = self.box, other.box
        return a[0] >= b[0] and a[1] >= b[1] and a[2] <= b[2] and a[3] <= b[3]


@dataclass
class Picture:
    nodes: dict[str, Shape]
    clusters: dict[str, Shape]
    edges: list[tuple[str, str]]

    def named(self, first_text: str) -> list[Shape]:
        """The nodes whose first line of text is ``first_text``."""
        return [n for n in self.nodes.values() if n.texts and n.texts[0] == first_text]

    def one(self, first_text: str) -> Shape:
        (node,) = self.named(first_text)
        return node

    def into(self, node: Shape) -> list[str]:
        return [a for a, b in self.edges if b == node.id]

    def out_of(self, node: Shape) -> list[str]:
        return [b for a, b in self.edges if a == node.id]


def render(graph) -> Picture:
    """Render ``graph`` to SVG with Graphviz and parse it back."""
    root = ET.fromstring(graph.pipe(format="svg"))
    nodes, clusters, edges = {}, {}, []
    for g in root.iter(f"{SVG}g"):
        kind = g.get("class")
        title = g.find(f"{SVG}title").text
        if kind == "edge":
            tail, head = title.split("->")
            edges.append((tail, head))
        elif kind in ("node", "cluster"):
            shape = next(c for c in g if c.tag in (f"{SVG}polygon", f"{SVG}ellipse", f"{SVG}path"))
            texts = [" ".join(t.text.replace("\xa0", " ").split()) for t in g.iter(f"{SVG}text")]
            found = Shape(
                title,
                texts,
                shape.get("fill"),
                shape.get("stroke"),
                shape.get("stroke-dasharray") is not None,
                shape.get("stroke-width"),
                _box(shape),
            )
            (nodes if kind == "node" else clusters)[title] = found
    return Picture(nodes, clusters, edges)


def _box(shape: ET.Element) -> tuple[float, float, float, float]:
    if shape.tag == f"{SVG}ellipse":
        cx, cy, rx, ry = (float(shape.get(k)) for k in ("cx", "cy", "rx", "ry"))
        return cx - rx, cy - ry, cx + rx, cy + ry
    numbers = [
        float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", shape.get("points") or shape.get("d"))
    ]
    xs, ys = numbers[0::2], numbers[1::2]
    return min(xs), min(ys), max(xs), max(ys)


# ------------------------------------------------------------------------------ graphs
def value(x, name=None, requires_grad=True):
    return ag.tensor(x, dtype=ag.float64, requires_grad=requires_grad, name=name)


def neuron():
    """micrograd's neuron o = tanh(x1 w1 + x2 w2 + b); returns every tensor (alive, so that
    the intermediate results, which retain their gradients, can be drawn)."""
    t = {
        k: value(v, k)
        for k, v in dict(x1=2.0, x2=0.0, w1=-3.0, w2=1.0, b=6.8813735870195432).items()
    }
    t["x1*w1"] = t["x1"] * t["w1"]
    t["x2*w2"] = t["x2"] * t["w2"]
    t["s"] = t["x1*w1"] + t["x2*w2"]
    t["n"] = t["s"] + t["b"]
    t["o"] = t["n"].tanh()
    for name in ("x1*w1", "x2*w2", "s", "n", "o"):
        t[name].name = name
        t[name].retain_grad()
    return t


def small_graph():
    """The graph of tests/data/viz_small.dot: a scope, a constant, tensor ops, a scalar root."""
    x = ag.tensor([[1.0, -2.0, 3.0], [0.5, 0.0, -1.0]], dtype=ag.float64, name="x")
    w = value([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], "w")
    with ag.scope("layer"):
        h = (x @ w).relu()
    loss = h[:, 0].sum() * 2.0
    loss.name = "loss"
    return loss


def scoped_net():
    """A two-layer net from raw ops, scopes as nn.Module would open them, and its loss."""
    ag.manual_seed(0)
    x = ag.randn(5, 4, dtype=ag.float64)
    x.name = "x"
    params = {}
    for i, (n_in, n_out) in enumerate(((4, 3), (3, 2))):
        params[i] = (
            value(np.linspace(-1, 1, n_in * n_out).reshape(n_out, n_in), f"layers.{i}.weight"),
            value(np.zeros(n_out), f"layers.{i}.bias"),
        )
    with ag.scope("net"):
        h = x
        for i in (0, 1):
            weight, bias = params[i]
            with ag.scope(f"layers.{i}"):
                h = h @ weight.T + bias
            if i == 0:
                h = h.relu()
    loss = (h * h).mean()
    loss.name = "loss"
    return loss, x, params


# ------------------------------------------------------------------------ the pictures
def test_scalars_drawn_as_micrograd_records_with_value_and_grad_after_backward():
    t = neuron()
    t["o"].backward()
    pic = render(ag.draw_graph(t["o"]))
    expected = {  # Karpathy's numbers: do/dn = 1 - o^2 = 0.5
        "x1": ("2.0", "-1.5"),
        "w1": ("-3.0", "1.0"),
        "x2": ("0.0", "0.5"),
        "w2": ("1.0", "0.0"),  # a computed zero: "0.0", not "not computed"
        "b": ("6.8814", "0.5"),
        "x1*w1": ("-6.0", "0.5"),
        "x2*w2": ("0.0", "0.5"),
        "s": ("-6.0", "0.5"),
        "n": ("0.8814", "0.5"),
        "o": ("0.7071", "1.0"),
    }
    for name, (data, grad) in expected.items():
        assert pic.one(name).texts == [name, f"data {data}", f"grad {grad}"]
    for name in ("x1", "x2", "w1", "w2", "b"):
        assert pic.one(name).fill == BLUE
    for name in ("x1*w1", "x2*w2", "s", "n"):
        assert pic.one(name).fill == WHITE
    assert pic.one("o").fill == GREEN
    ops = [n for n in pic.nodes.values() if n.fill == YELLOW]
    assert sorted(n.text for n in ops) == ["*", "*", "+", "+", "tanh"]
    assert len(pic.nodes) == 15 and len(pic.edges) == 14
    assert [pic.nodes[i].texts[0] for i in pic.into(pic.one("o"))] == ["tanh"]
    (mul,) = {pic.nodes[i].id for i in pic.out_of(pic.one("x1"))}
    assert sorted(pic.nodes[i].texts[0] for i in pic.into(pic.nodes[mul])) == ["w1", "x1"]


def test_values_before_and_after_backward():
    t = neuron()
    before = render(ag.draw_graph(t["o"]))
    for name in ("x1", "w2", "n", "o"):
        assert before.one(name).texts[2] == "grad not computed"
    assert before.one("w1").texts[1] == "data -3.0"
    t["o"].backward()
    after = render(ag.draw_graph(t["o"]))
    assert [after.one(n).texts[2] for n in ("x1", "w2", "n", "o")] == [
        "grad -1.5",
        "grad 0.0",
        "grad 0.5",
        "grad 1.0",
    ]
    assert "grad not computed" not in ag.draw_graph(t["o"]).source


def test_gradient_not_computed_for_a_leaf_that_backward_did_not_reach():
    w = value([1.0, 2.0], "w")
    v = value([3.0, 4.0], "v")
    (w * 2.0).sum().backward()
    z = (w * v).sum()
    pic = render(ag.draw_graph(z))
    assert pic.one("w").texts[-1] == "grad [2.0, 2.0]"
    assert pic.one("v").texts[-1] == "grad not computed"
    assert "grad not computed" not in pic.one("w").text


def test_small_graph_dot_matches_the_expected_file():
    expected = (DATA / "viz_small.dot").read_text()
    assert ag.draw_graph(small_graph()).source == expected


def test_a_tensor_used_many_times_is_drawn_once():
    x = value([1.0, 2.0], "x")
    h = x.exp()
    h.name = "h"
    h.retain_grad()
    y = (x * x + x.sin() + x / h + h.log()).sum()
    pic = render(ag.draw_graph(y))
    assert len(pic.named("x")) == 1 and len(pic.named("h")) == 1
    # x feeds exp, mul (twice: x * x), sin and div; h feeds div and log
    users = sorted(pic.nodes[i].texts[0] for i in pic.out_of(pic.one("x")))
    assert users == ["*", "*", "/", "exp", "sin"]
    assert sorted(pic.nodes[i].texts[0] for i in pic.out_of(pic.one("h"))) == ["/", "log"]


def test_in_a_big_picture_a_tensor_used_many_times_gets_stubs_beside_its_later_uses():
    # x added at every step of a 50-step chain: 50 long edges fanning out of one record made
    # Graphviz take 19 s (1,000 ops: many minutes); past FANOUT uses, a stub stands for x
    x = value(0.5, "x")
    y = x
    for _ in range(50):
        y = (y * 0.9).sin() + x
    pic = render(ag.draw_graph(y, max_nodes=None))
    (record,) = [n for n in pic.named("x") if n.fill == BLUE]
    assert len(pic.out_of(record)) == viz.FANOUT
    stubs = [n for n in pic.named("x") if n.id != record.id]
    assert len(stubs) == 51 - viz.FANOUT  # x * 0.9 first, then 50 additions
    for stub in stubs:
        assert stub.dashed and stub.texts == ["x"] and stub.fill == "none"
        assert [pic.nodes[i].text for i in pic.out_of(stub)] == ["+"]
    # every use of x is drawn, by the record or a stub
    uses = [b for a, b in pic.edges if a == record.id or a in {n.id for n in stubs}]
    assert len(uses) == 51
    # an unnamed tensor's stubs show its value; a small picture draws every edge
    z = ag.tensor(0.5, requires_grad=True, dtype=ag.float64)
    y = z
    for _ in range(50):
        y = (y * 0.9).sin() + z
    assert len(render(ag.draw_graph(y, max_nodes=None)).named("0.5")) == 51 - viz.FANOUT
    small = x
    for _ in range(20):
        small = small.sin() + x
    pic = render(ag.draw_graph(small))
    assert len(pic.named("x")) == 1 and len(pic.out_of(pic.one("x"))) == 21


def test_shared_subgraph_of_several_roots_is_drawn_once():
    x = value([1.0, 2.0], "x")
    h = x.tanh()
    a, b = h.sum(), h.mean()
    a.name, b.name = "a", "b"
    pic = render(ag.draw_graph(a, b))
    assert len(pic.named("x")) == 1
    assert len([n for n in pic.nodes.values() if n.text == "tanh"]) == 1
    assert pic.one("a").fill == GREEN and pic.one("b").fill == GREEN


@pytest.mark.parametrize(
    ("make", "label"),
    [
        (lambda x: x + 1.0, "+"),
        (lambda x: 2.0 - x, "-"),
        (lambda x: x * x, "*"),
        (lambda x: x / 3.0, "/"),
        (lambda x: x**2, "**"),
        (lambda x: -x, "neg"),
        (lambda x: x @ x.T, "matmul"),
        (lambda x: x.relu(), "relu"),
        (lambda x: x.sum(), "sum"),
        (lambda x: x.sum(axis=1), "sum(axis=1)"),
        (lambda x: x.mean(axis=(0, 2), keepdims=True), "mean(axis=(0, 2), keepdims=True)"),
        (lambda x: x.max(axis=-1), "max(axis=2)"),
        (lambda x: x.logsumexp(axis=0), "logsumexp(axis=0)"),
        (lambda x: x.softmax(axis=1), "softmax(axis=1)"),
        (lambda x: x.log_softmax(), "log_softmax(axis=2)"),
        (lambda x: x[:, 0], "getitem[:, 0]"),
        (lambda x: x[1:, ::2, None, ...], "getitem[1:, ::2, None, ...]"),
        (lambda x: x[[0, 1, 1]], "getitem[[0, 1, 1]]"),
        (lambda x: x[x.data > 0], "getitem[bool[2, 3, 4]]"),
        (lambda x: x.reshape(6, 4), "reshape(6, 4)"),
        (lambda x: x.permute(2, 0, 1), "permute(2, 0, 1)"),
        (lambda x: x.broadcast_to((5, 2, 3, 4)), "broadcast_to(5, 2, 3, 4)"),
        (lambda x: ag.concatenate([x, x], axis=1), "concatenate(axis=1)"),
        (lambda x: ag.stack([x, x]), "stack(axis=0)"),
        (lambda x: x.to(ag.float32), "cast(float32)"),
        (lambda x: x.clip(0, 1), "clip(0, 1)"),
        (lambda x: x.clip(max=1), "clip(max=1)"),
        (lambda x: x.leaky_relu(0.1), "leaky_relu(0.1)"),
        (lambda x: ag.where(x.data > 0, x, 0.0), "where"),
    ],
)
def test_op_labels_say_what_the_op_does(make, label):
    x = value(np.arange(24.0).reshape(2, 3, 4) - 10)
    if label == "matmul":
        x = value(np.ones((2, 3)))
    assert op_label(make(x).grad_fn) == label


def test_op_labels_are_drawn():
    x = value(np.ones((2, 3)), "x")
    y = x.sum(axis=1)[0]
    pic = render(ag.draw_graph(y))
    assert {n.text for n in pic.nodes.values() if n.fill == YELLOW} == {"sum(axis=1)", "getitem[0]"}


def test_tensor_records_show_name_shape_dtype_and_values():
    small = value([[1.0, 2.0], [3.0, 4.5]], "small")
    large = ag.tensor(
        np.arange(100.0).reshape(10, 10), dtype=ag.float32, requires_grad=True, name="large"
    )
    y = small.sum() + large.sum().double()
    pic = render(ag.draw_graph(y))
    assert pic.one("small").texts == [
        "small",
        "(2, 2) float64",
        "[[1.0, 2.0],",
        "[3.0, 4.5]]",
        "grad not computed",
    ]
    assert pic.one("large").texts == [
        "large",
        "(10, 10) float32",
        "min 0.0 mean 49.5 max 99.0",
        "grad not computed",
    ]
    assert pic.one("small").fill == BLUE and not pic.one("small").dashed
    y.backward()
    assert render(ag.draw_graph(y)).one("small").texts[-2:] == ["grad [[1.0, 1.0],", "[1.0, 1.0]]"]


def test_nan_and_inf_are_counted_and_drawn_red():
    data = np.arange(20.0)
    data[[3, 7]] = np.nan
    data[5] = -np.inf
    bad = ag.tensor(data, dtype=ag.float64, name="bad")
    w = value(np.ones(20), "w")
    good = value([1.0, 1.0], "good")
    y = (bad * w).sum() + (good * ag.tensor([np.inf, 0.5], dtype=ag.float64)).sum()
    y.name = "y"
    pic = render(ag.draw_graph(y))
    node = pic.one("bad")
    assert node.texts == ["bad", "(20,) float64", "min 0.0 mean 10.2941 max 19.0", "2 nan, 1 inf"]
    assert node.stroke == NONFINITE and node.width == "2"
    assert pic.one("y").texts == ["y", "data nan"] and pic.one("y").stroke == NONFINITE
    assert pic.one("w").stroke == "black" and pic.one("good").stroke == "black"
    y.backward()
    pic = render(ag.draw_graph(y))
    assert pic.one("good").texts[-1] == "grad [inf, 0.5]"
    assert pic.one("good").stroke == NONFINITE
    assert pic.one("w").stroke == NONFINITE  # its gradient, bad's values, has NaN
    assert pic.one("w").texts[-2:] == ["grad min 0.0 mean 10.2941 max 19.0", "2 nan, 1 inf"]
    finite = value([1.0, 2.0], "finite")
    assert render(ag.draw_graph(finite.exp())).one("finite").stroke == "black"


def test_constants_drawn_with_their_values_also_after_backward():
    b = value(3.0, "b")
    x = ag.tensor([1.0, 2.0], dtype=ag.float64, name="x")
    y = b**3 + (x * b).sum() + (x * b * b).sum() + (b + 1.0)
    for pic in (render(ag.draw_graph(y)), None):
        if pic is None:  # backward frees what the ops kept for it, not their constants
            y.backward()
            pic = render(ag.draw_graph(y))
        three = pic.one("3")
        assert three.fill == GREY and three.dashed
        assert [pic.nodes[i].text for i in pic.out_of(three)] == ["**"]
        one = pic.one("1.0")  # b + 1.0: add keeps no operand for backward, yet it is drawn
        assert [pic.nodes[i].text for i in pic.out_of(one)] == ["+"]
        assert len(pic.named("x")) == 1 and not pic.one("x").dashed  # an input, drawn once
        assert pic.one("x").fill == GREY and len(pic.out_of(pic.one("x"))) == 2
        assert not pic.named("constant")
    assert pic.one("b").texts == ["b", "data 3.0", "grad 49.0"]  # 3b^2 + 3 + 2b*3 + 1


def test_inputs_drawn_as_inputs_with_their_values_and_the_targets_of_the_loss():
    w = ag.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True, name="w")
    with ag.scope("layer"):  # unnamed data and bias: they do not require grad
        logits = ag.tensor([[1.0, 2.0], [3.0, 4.0]]) @ w + ag.tensor([0.5, 0.5])
    y = ag.tensor([1, 0], dtype=ag.int64)
    loss = ag.cross_entropy(logits, y) + ((logits - ag.tensor([[0.0, 1.0], [1.0, 0.0]])) ** 2).sum()
    loss.backward()
    pic = render(ag.draw_graph(loss, collapse=True))  # also into a collapsed scope
    inputs = {n.texts[-1]: n for n in pic.nodes.values() if n.fill == GREY and not n.dashed}
    users = {k: sorted(pic.nodes[i].texts[0] for i in pic.out_of(n)) for k, n in inputs.items()}
    assert users == {
        "[3.0, 4.0]]": ["layer"],  # the data
        "[0.5, 0.5]": ["layer"],  # the bias, added: add keeps nothing for backward
        "[1.0, 0.0]]": ["-"],  # what is subtracted
        "[1, 0]": ["cross_entropy"],  # the targets the loss holds
    }
    assert inputs["[1, 0]"].texts == ["target", "(2,) int64", "[1, 0]"]
    text = io.StringIO()
    ag.print_graph(loss, file=text)
    lines = [" ".join(line.split()) for line in text.getvalue().splitlines()]
    assert "target = input (2,) int64 [1, 0]" in lines
    assert "%6 = cross_entropy(%4, target=target)" in lines
    assert "%1 = input (2, 2) float32 [[1.0, 2.0], [3.0, 4.0]]" in lines


def test_a_scope_records_its_display_label_beside_its_label():
    x = value([1.0, 2.0], "x")
    s = ag.scope("layers.0", display="Linear(2 -> 2)")
    with s:
        y = x * 2.0
    (label,) = y.grad_fn.scope
    assert y.grad_fn.scope == ("layers.0",) and label.display == "Linear(2 -> 2)"
    s.label, s.display = "head", None  # a module renamed when attached to a parent
    with s:
        z = y.exp()
    assert z.grad_fn.scope == ("head",) and not hasattr(z.grad_fn.scope[0], "display")
    boxes = {c.texts[0] for c in render(ag.draw_graph(z.sum())).clusters.values()}
    assert boxes == {"layers.0: Linear(2 -> 2)", "head"}


def test_modules_are_named_by_their_class_beside_their_path():
    nn = pytest.importorskip("nn")
    model = nn.MLP(4, [3], 2, dropout=0.5)
    loss = model(ag.randn(5, 4)).sum()
    boxes = {c.texts[0] for c in render(ag.draw_graph(loss)).clusters.values()}
    assert {"layers.0: Linear(4 -> 3)", "layers.2: Dropout(p=0.5)", "layers: Sequential"} <= boxes
    modules = {n.texts[0]: n for n in render(ag.draw_graph(loss, collapse=True)).nodes.values()}
    assert modules["layers.2"].texts[:3] == ["layers.2", "Dropout(p=0.5)", "1 op: *"]
    assert modules["layers.3"].texts[:2] == ["layers.3", "Linear(3 -> 2)"]


def test_direction_follows_the_shape_of_the_graph():
    nn = pytest.importorskip("nn")
    ag.manual_seed(0)
    model = nn.MLP(784, [256, 128, 64], 10, dropout=0.3, batch_norm=True)
    loss = nn.functional.cross_entropy(model(ag.randn(32, 784)), ag.randint(10, (32,)))
    for collapse in (False, True):
        graph = ag.draw_graph(loss, collapse=collapse)
        assert "rankdir=TB" in graph.source  # a long chain of layers: top to bottom
        width = float(ET.fromstring(graph.pipe(format="svg")).get("width").rstrip("pt"))
        assert width < 1000, width  # fits a notebook (it was 9674 and 4165 px left to right)
    # top to bottom, a layer's weight and bias are stacked, not side by side
    pic = render(ag.draw_graph(loss))
    weight, bias = pic.one("layers.0.weight").box, pic.one("layers.0.bias").box
    assert weight[3] < bias[1]  # the weight's bottom above the bias's top
    assert weight[0] < bias[2] and bias[0] < weight[2]  # overlapping columns
    # left to right they stay in one column of the rank before their op (no invisible edge)
    small = nn.Linear(3, 2)
    pic = render(ag.draw_graph(small(ag.randn(4, 3)).sum(), rankdir="LR"))
    weight, bias = pic.one("weight").box, pic.one("bias").box
    assert weight[0] < bias[2] and bias[0] < weight[2]
    assert "invis" not in ag.draw_graph(small(ag.randn(4, 3)).sum(), rankdir="LR").source
    assert "rankdir=LR" in ag.draw_graph(small_graph()).source
    assert "rankdir=LR" in ag.draw_graph(neuron()["o"]).source


def test_scopes_are_drawn_as_labelled_boxes_around_their_ops_and_parameters():
    loss, _, _ = scoped_net()
    pic = render(ag.draw_graph(loss))
    boxes = {c.texts[0]: c for c in pic.clusters.values()}
    assert sorted(boxes) == ["layers.0", "layers.1", "net"]
    assert boxes["layers.0"].inside(boxes["net"]) and boxes["layers.1"].inside(boxes["net"])
    for i in (0, 1):
        box = boxes[f"layers.{i}"]
        assert pic.one(f"layers.{i}.weight").inside(box)
        assert pic.one(f"layers.{i}.bias").inside(box)
        ops = [n for n in pic.nodes.values() if n.fill == YELLOW and n.inside(box)]
        assert sorted(n.text for n in ops) == ["+", "matmul", "permute(1, 0)"]
    relu = next(n for n in pic.nodes.values() if n.text == "relu")
    assert relu.inside(boxes["net"]) and not relu.inside(boxes["layers.0"])
    assert not pic.one("x").inside(boxes["net"])  # the data comes from outside
    assert not pic.one("loss").inside(boxes["net"])


def test_collapse_true_draws_each_innermost_scope_as_one_node():
    loss, _, _ = scoped_net()
    pic = render(ag.draw_graph(loss, collapse=True))
    layer0, layer1 = pic.one("layers.0"), pic.one("layers.1")
    assert layer0.texts == [
        "layers.0",
        "3 ops: permute(1, 0), matmul, +",
        "weight (3, 4)",
        "bias (3,)",
    ]
    assert layer1.texts == [
        "layers.1",
        "3 ops: permute(1, 0), matmul, +",
        "weight (2, 3)",
        "bias (2,)",
    ]
    assert layer0.fill == PURPLE
    assert not pic.named("layers.0.weight")  # parameters listed in their module's node
    assert [c.texts[0] for c in pic.clusters.values()] == ["net"]
    assert layer0.inside(pic.clusters["cluster_0"])
    relu = next(n for n in pic.nodes.values() if n.text == "relu")
    assert pic.out_of(pic.one("x")) == [layer0.id]
    assert pic.out_of(layer0) == [relu.id] and pic.out_of(relu) == [layer1.id]
    assert len(pic.nodes) == 7  # x, 2 modules, relu, *, mean, loss


def test_collapse_patterns_choose_the_scopes():
    loss, _, _ = scoped_net()
    pic = render(ag.draw_graph(loss, collapse="layers.1"))
    assert pic.one("layers.1").fill == PURPLE
    assert pic.one("layers.0.weight").fill == BLUE
    assert sorted(c.texts[0] for c in pic.clusters.values()) == ["layers.0", "net"]
    whole = render(ag.draw_graph(loss, collapse=["nothing*", "n?t"]))
    net = whole.one("net")
    assert net.texts[1] == "7 ops: permute(1, 0), matmul, +, relu"
    assert net.texts[2:] == [
        "layers.0.weight (3, 4)",
        "layers.0.bias (3,)",
        "layers.1.weight (2, 3)",
        "layers.1.bias (2,)",
    ]
    assert not whole.clusters
    with pytest.raises(TypeError, match="collapse"):
        ag.draw_graph(loss, collapse=3)


def test_collapsed_scope_keeps_roots_and_shared_parameters_visible():
    w = value([1.0, 2.0], "w")
    with ag.scope("a"):
        ya = (w * 2.0).sum()
    with ag.scope("b"):
        yb = w.exp()
        yb.retain_grad()
        zb = yb.sum()
    zb.name = "zb"
    pic = render(ag.draw_graph(ya + zb, zb, collapse=True))
    assert pic.one("w").fill == BLUE  # used by two modules: drawn once, outside both
    assert sorted(pic.nodes[i].texts[0] for i in pic.out_of(pic.one("w"))) == ["a", "b"]
    assert pic.one("zb").fill == GREEN  # a root made inside b
    assert pic.out_of(pic.one("b")) == [pic.one("zb").id]
    assert len(pic.nodes) == 6  # w, a, b, zb, +, root  (yb is hidden inside b)


def test_node_cap_keeps_the_nodes_nearest_the_roots_and_says_what_was_left_out():
    x = value(0.5, "x")
    y = x
    for _ in range(50):
        y = y.tanh()
    pic = render(ag.draw_graph(y, max_nodes=10))
    assert len([n for n in pic.nodes.values() if n.text == "tanh"]) == 10
    (more,) = [n for n in pic.nodes.values() if n.fill == COLORS["more"]]
    assert more.texts == [
        "... 41 more nodes not shown (40 ops, 1 leaf)",
        "raise max_nodes (now 10) to draw them",
    ]
    assert len(pic.out_of(more)) == 1 and not pic.named("x")
    assert len(pic.nodes) == 12  # 10 ops, the root, the summary
    everything = render(ag.draw_graph(y, max_nodes=None))
    assert len(everything.nodes) == 52 and len(everything.edges) == 51


def test_dot_source_of_a_100k_node_chain():
    x = value(0.5, "x")
    y = x
    for _ in range(100_000):
        y = y.tanh()
    source = ag.draw_graph(y, max_nodes=None).source
    assert source.count('[label="tanh"') == 100_000
    assert source.count(" -> ") == 100_001  # x -> tanh, 99,999 links, tanh -> y
    text = io.StringIO()
    ag.print_graph(y, max_nodes=None, file=text)
    assert text.getvalue().count("\n") == 100_001


def test_print_graph_one_line_per_node():
    t = neuron()
    t["o"].backward()
    out = io.StringIO()
    ag.print_graph(t["o"], file=out)
    assert out.getvalue() == (
        "x1 = parameter     data 2.0  grad -1.5\n"
        "w1 = parameter     data -3.0  grad 1.0\n"
        "x1*w1 = x1 * w1    data -6.0  grad 0.5\n"
        "x2 = parameter     data 0.0  grad 0.5\n"
        "w2 = parameter     data 1.0  grad 0.0\n"
        "x2*w2 = x2 * w2    data 0.0  grad 0.5\n"
        "s = x1*w1 + x2*w2  data -6.0  grad 0.5\n"
        "b = parameter      data 6.8814  grad 0.5\n"
        "n = s + b          data 0.8814  grad 0.5\n"
        "o = tanh(n)        data 0.7071  grad 1.0\n"
    )


def test_print_graph_of_tensor_ops_scopes_constants_and_cap(capsys):
    loss = small_graph()
    ag.print_graph(loss)
    assert capsys.readouterr().out.splitlines() == [
        "w = parameter      (3, 2) float64  [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]  "
        "grad not computed",
        "x = input          (2, 3) float64  [[1.0, -2.0, 3.0], [0.5, 0.0, -1.0]]",
        "%2 = matmul(x, w)  # layer",
        "%3 = relu(%2)      # layer",
        "%4 = %3[:, 0]",
        "%5 = sum(%4)",
        "loss = %5 * 2.0    data 2.0",
    ]
    ag.print_graph(loss, max_nodes=2, show_values=False)
    assert capsys.readouterr().out.splitlines() == [
        "%0 = sum(...)",
        "loss = %0 * constant",
        "... 4 more nodes not shown (3 ops, 1 leaf): raise max_nodes (now 2)",
    ]


def test_show_flags_choose_what_records_show():
    w = value(np.ones((2, 3)), "w")
    y = (w * 2.0).sum()
    y.name = "y"
    y.backward()
    assert render(ag.draw_graph(y)).one("w").texts == [
        "w",
        "(2, 3) float64",
        "[[1.0, 1.0, 1.0],",
        "[1.0, 1.0, 1.0]]",
        "grad [[2.0, 2.0, 2.0],",
        "[2.0, 2.0, 2.0]]",
    ]
    pic = render(ag.draw_graph(y, show_values=False, show_grads=False, show_shapes=False))
    assert pic.one("w").texts == ["w"] and pic.one("y").texts == ["y"]
    assert pic.one("constant").fill == GREY  # the 2.0, value hidden
    assert render(ag.draw_graph(y, show_values=False)).one("w").texts[1:] == [
        "(2, 3) float64",
        "grad [[2.0, 2.0, 2.0],",
        "[2.0, 2.0, 2.0]]",
    ]
    assert "rankdir=TB" in ag.draw_graph(y, rankdir="TB").source


def test_a_leaf_alone_is_a_graph():
    w = value([1.0, 2.0], "w")
    pic = render(ag.draw_graph(w))
    assert list(pic.nodes.values()) == [pic.one("w")] and not pic.edges
    assert pic.one("w").fill == BLUE


def test_wrong_arguments_are_explained():
    y = value(1.0).exp()
    with pytest.raises(TypeError, match="at least one tensor"):
        ag.draw_graph()
    with pytest.raises(TypeError, match=r"roots\[0\] is a list.*draw_graph\(\*tensors\)"):
        ag.draw_graph([y])
    with pytest.raises(ValueError, match="max_nodes"):
        ag.draw_graph(y, max_nodes=0)
    with pytest.raises(ValueError, match="rankdir"):
        ag.draw_graph(y, rankdir="down")
    with pytest.raises(TypeError, match=r"print_graph\(\*tensors\)"):
        ag.print_graph(1.0)


# ------------------------------------------------------------------ files, Jupyter, no dot
def test_save_writes_the_format_of_the_extension(tmp_path):
    graph = ag.draw_graph(small_graph())
    svg = graph.save(tmp_path / "g.svg")
    assert ET.parse(svg).getroot().tag == f"{SVG}svg"
    assert Path(graph.save(tmp_path / "g.png")).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert Path(graph.save(tmp_path / "sub" / "g.pdf")).read_bytes()[:5] == b"%PDF-"
    assert Path(graph.save(tmp_path / "g.dot")).read_text() == graph.source
    assert Path(graph.save("g.gv", directory=tmp_path)).read_text() == graph.source
    with pytest.raises(ValueError, match=r"'\.txt'"):
        graph.save(tmp_path / "g.txt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.dot", "g.gv", "g.png", "g.svg", "sub"]


def test_jupyter_renders_the_graph_inline():
    graph = ag.draw_graph(small_graph())
    assert isinstance(graph, ag.viz.Graph) and isinstance(graph, graphviz.Digraph)
    bundle = graph._repr_mimebundle_()
    assert list(bundle) == ["image/svg+xml"]
    root = ET.fromstring(bundle["image/svg+xml"])
    assert any(t.text == "loss" for t in root.iter(f"{SVG}text"))
    png = graph._repr_mimebundle_(include=["image/png"])["image/png"]
    assert png[:4] == b"\x89PNG"


def test_missing_dot_program_explains_how_to_install_graphviz(monkeypatch, tmp_path):
    graph = ag.draw_graph(small_graph())
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no `dot` to be found
    for render_it in (
        lambda: graph.pipe(format="svg"),
        lambda: graph.save(tmp_path / "g.svg"),
        lambda: graph.render(tmp_path / "g", format="png"),
        graph._repr_mimebundle_,
    ):
        with pytest.raises(ag.GraphvizNotFoundError) as info:
            render_it()
        message = str(info.value)
        for hint in ("apt-get install graphviz", "brew install graphviz", "conda install"):
            assert hint in message
        assert isinstance(info.value, RuntimeError)
    assert not (tmp_path / "g.svg").exists()
    # the DOT source and the text form need no Graphviz
    assert Path(graph.save(tmp_path / "g.dot")).read_text() == graph.source
    text = io.StringIO()
    ag.print_graph(small_graph(), file=text)
    assert "matmul(x, w)" in text.getvalue()


def test_import_autograd_does_not_import_graphviz():
    code = "import sys, autograd; print('graphviz' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


# ``accelerator`` (conftest.py): the fake device of fake_device.py, which refuses NumPy arrays
# as CuPy does, and CUDA where there is one
def test_tensors_on_an_accelerator_are_summarized_on_their_device(accelerator):
    w = ag.tensor(
        np.linspace(0, 19, 20), dtype=ag.float64, requires_grad=True, device=accelerator, name="w"
    )
    s = ag.tensor([1.0, np.nan], dtype=ag.float64, device=accelerator, name="s")
    with ag.scope("layer"):
        y = (w * 2.0).sum() + (s * w[ag.tensor([0, 1], dtype=ag.int64, device=accelerator)]).sum()
    y.name = "y"
    device = str(w.device)
    pic = render(ag.draw_graph(y))
    assert pic.one("w").texts == [
        "w",
        f"(20,) float64 {device}",
        "min 0.0 mean 9.5 max 19.0",
        "grad not computed",
    ]
    assert pic.one("s").texts == ["s", f"(2,) float64 {device}", "[1.0, nan]"]
    assert pic.one("s").stroke == NONFINITE
    assert {n.text for n in pic.nodes.values() if n.fill == YELLOW} >= {"getitem[[0, 1]]"}
    y.backward()
    assert render(ag.draw_graph(y)).one("w").texts[-2:] == [
        "grad min 2.0 mean 2.0526 max 3.0",  # 2 + s, s[1] = nan
        "1 nan",
    ]
    assert render(ag.draw_graph(y, collapse=True)).one("layer").stroke == NONFINITE
    text = io.StringIO()
    ag.print_graph(y, file=text)
    line = text.getvalue().splitlines()[0]
    assert " ".join(line.split()) == (
        f"w = parameter (20,) float64 {device} min 0.0 mean 9.5 max 19.0 "
        f"grad min 2.0 mean 2.0526 max 3.0; 1 nan"
    )


# ----------------------------------------------------------------------------- with nn
def test_nn_modules_show_qualified_names_and_collapse_into_boxes():
    nn = pytest.importorskip("nn")
    ag.manual_seed(0)
    model = nn.MLP(4, [3], 2)
    loss = nn.functional.cross_entropy(
        model(ag.randn(5, 4)), ag.tensor([0, 1, 1, 0, 1], dtype=ag.int64)
    )
    names = {n.texts[0] for n in render(ag.draw_graph(loss)).nodes.values()}
    assert {"layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"} <= names
    pic = render(ag.draw_graph(loss, collapse=True))
    modules = {n.texts[0]: n for n in pic.nodes.values() if n.fill == PURPLE}
    assert sorted(modules) == ["layers.0", "layers.1", "layers.2"]
    assert modules["layers.0"].texts[-2:] == ["weight (3, 4)", "bias (3,)"]
    assert not any(n.fill == BLUE for n in pic.nodes.values())


if __name__ == "__main__":  # regenerate the expected DOT file
    (DATA / "viz_small.dot").write_text(ag.draw_graph(small_graph()).source)
