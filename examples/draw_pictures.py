"""Draw the README's pictures of computation graphs into docs/images/.

1. micrograd's neuron, o = tanh(x1 w1 + x2 w2 + b), with every value and gradient after
   backward (the intermediate results are named and retain their gradients, so they show).
2. The 784-256-128-10 MLP with its cross-entropy loss, each module collapsed into one box.
3. The neuron backpropagated step by step: an animated SVG (backprop.svg) made by
   ``autograd.backward_steps``, which plays on GitHub, where no JavaScript runs.

    python examples/draw_pictures.py      # needs Graphviz's `dot` program
"""

from __future__ import annotations

from pathlib import Path

import graphviz

import autograd as ag
import nn

IMAGES = Path(__file__).resolve().parent.parent / "docs" / "images"


def neuron() -> graphviz.Digraph:
    """micrograd's neuron after backward: do/dw1 = x1 (1 - o^2) = 1.0, do/dw2 = 0.0 ..."""

    def value(x: float, name: str) -> ag.Tensor:
        return ag.tensor(x, dtype=ag.float64, requires_grad=True, name=name)

    x1, x2 = value(2.0, "x1"), value(0.0, "x2")
    w1, w2 = value(-3.0, "w1"), value(1.0, "w2")
    b = value(6.8813735870195432, "b")  # chosen so that o = tanh(n) = 1/sqrt(2)
    x1w1 = x1 * w1
    x2w2 = x2 * w2
    s = x1w1 + x2w2
    n = s + b
    o = n.tanh()
    for t, name in ((x1w1, "x1*w1"), (x2w2, "x2*w2"), (s, "x1*w1 + x2*w2"), (n, "n"), (o, "o")):
        t.name = name
        t.retain_grad()  # keep the gradients of intermediate results, to show them
    o.backward()
    return ag.draw_graph(o)  # while the intermediate results are alive: the graph keeps none


def neuron_steps() -> ag.stepper.BackwardSteps:
    """The same neuron, recorded by backward_steps before any backward: the forward values
    appear in topological order, then the gradients from o back to the weights."""
    x1, x2 = _value(2.0, "x1"), _value(0.0, "x2")
    w1, w2 = _value(-3.0, "w1"), _value(1.0, "w2")
    b = _value(6.8813735870195432, "b")
    x1w1 = x1 * w1
    x2w2 = x2 * w2
    s = x1w1 + x2w2
    n = s + b
    o = n.tanh()
    for t, name in ((x1w1, "x1*w1"), (x2w2, "x2*w2"), (s, "s"), (n, "n"), (o, "o")):
        t.name = name
        t.retain_grad()  # the graph then knows the tensors, so the steps use their names
    return ag.backward_steps(o)


def _value(x: float, name: str) -> ag.Tensor:
    return ag.tensor(x, dtype=ag.float64, requires_grad=True, name=name)


def mlp() -> graphviz.Digraph:
    """ISLR's MNIST network and its loss on a batch of 64 random images, before backward."""
    ag.manual_seed(0)
    model = nn.MLP(784, [256, 128], 10)
    x = ag.randn(64, 784)
    x.name = "x"
    y = ag.randint(10, (64,))
    loss = nn.functional.cross_entropy(model(x), y)
    loss.name = "loss"
    return ag.draw_graph(loss, collapse=True)


def main() -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    for name, graph in (("neuron", neuron()), ("mlp", mlp())):
        for ext in ("svg", "png"):
            path = IMAGES / f"{name}.{ext}"
            graph.save(path)
            print(f"wrote {path.relative_to(IMAGES.parent.parent)} ({path.stat().st_size:,} bytes)")
    path = Path(neuron_steps().save(IMAGES / "backprop.svg"))
    print(f"wrote {path.relative_to(IMAGES.parent.parent)} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
