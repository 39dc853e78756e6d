"""Build the tutorial notebooks: their cells are written here, in Python, so that they can be
reviewed as code and regenerated; each is executed with nbclient and saved with its outputs.

    python notebooks/build.py              # all six, full data (MNIST for notebook 4)
    python notebooks/build.py --quick      # small data, as CI runs them (about 20 s)
    python notebooks/build.py 04 06        # only the notebooks whose names contain 04 or 06
    python notebooks/build.py --no-execute # write the cells only, without outputs

Small-data mode is the environment variable ``ARRAYGRAD_NOTEBOOK_QUICK=1`` (``--quick`` sets
it for the kernels): notebook 4 then trains on scikit-learn's bundled 8x8 digits for a few
epochs instead of MNIST for 30, and notebook 6 times a small synthetic set. Quick mode never
touches the network; full mode needs MNIST, which ``nn.datasets.load_mnist`` downloads once.

A cell whose metadata has ``"export": "<name>.png"`` has its picture written to docs/images/
after a full-data run (the README shows one of them).
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from textwrap import dedent

import nbformat
from nbclient import NotebookClient
from nbformat.notebooknode import NotebookNode

HERE = Path(__file__).resolve().parent
IMAGES = HERE.parent / "docs" / "images"
QUICK_ENV = "ARRAYGRAD_NOTEBOOK_QUICK"
KERNEL = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def md(text: str) -> NotebookNode:
    return nbformat.v4.new_markdown_cell(dedent(text).strip())


def code(text: str, **metadata: str) -> NotebookNode:
    return nbformat.v4.new_code_cell(dedent(text).strip(), metadata=metadata)


# --------------------------------------------------------------------- 1. scalar autograd
def scalar_autograd() -> list[NotebookNode]:
    return [
        md(r"""
        # 1. Scalar autograd: the chain rule, one node at a time

        A reverse-mode engine does two things. While your code computes, every operation is
        recorded as a node of a graph: what it computed from what. Then `backward()` walks that
        graph from the output back to the inputs and applies the chain rule at each node:

        $$\frac{\partial L}{\partial x} = \frac{\partial L}{\partial y}\,
        \frac{\partial y}{\partial x} \qquad \text{for each node } y = \mathrm{op}(x).$$

        The gradient arriving from above, $\partial L / \partial y$, is multiplied by the
        node's *local* derivative $\partial y / \partial x$, which depends only on that one
        operation. This notebook follows it on scalars (0-d tensors, arraygrad's micrograd
        mode): micrograd's example expression, its graph before and after `backward`, the
        chain rule checked by hand at each node, finite differences, and a single neuron.
        """),
        code("""
        import matplotlib.pyplot as plt
        import numpy as np

        import autograd as ag


        def value(x: float, name: str) -> ag.Tensor:
            \"\"\"A float64 scalar that requires grad, named for the pictures.\"\"\"
            return ag.tensor(x, dtype=ag.float64, requires_grad=True, name=name)
        """),
        md(r"""
        ## micrograd's expression

        The example from [micrograd](https://github.com/karpathy/micrograd)'s README, written
        as a function so that we can evaluate it again later. (micrograd writes `c += c + 1`;
        a tensor has no in-place `+=`, so each line makes a new tensor, which is the same
        thing for the graph.)
        """),
        code("""
        def expression(a: ag.Tensor, b: ag.Tensor) -> dict[str, ag.Tensor]:
            \"\"\"micrograd's example: the output g and the intermediate results c, d, e, f.\"\"\"
            c = a + b
            d = a * b + b**3
            c = c + c + 1
            c = c + 1 + c + (-a)
            d = d + d * 2 + (b + a).relu()
            d = d + 3 * d + (b - a).relu()
            e = c - d
            f = e**2
            g = f / 2.0
            g = g + 10.0 / f
            return {"c": c, "d": d, "e": e, "f": f, "g": g}


        a, b = value(-4.0, "a"), value(2.0, "b")
        results = expression(a, b)
        for name, t in results.items():
            t.name = name
            t.retain_grad()  # keep dg/dt of this intermediate result, to show it
        c, d, e, f, g = results.values()
        print(f"g = {g.item():.4f}")  # micrograd: 24.7041
        """),
        md(r"""
        Nothing has been differentiated yet, but the graph is there: each operation recorded
        its inputs. Blue records are the leaves that require a gradient (`a`, `b`), yellow
        ellipses are operations, white records the intermediate results we kept a handle on,
        green the output; dashed boxes are constants. The gradients read *not computed*.
        """),
        code("ag.draw_graph(g)"),
        md(r"""
        `g.backward()` seeds $\partial g / \partial g = 1$ at the output and runs every node's
        backward rule once, in an order where each node comes after all the nodes that use its
        result (a topological order, found with an explicit stack, not recursion).
        """),
        code("""
        g.backward()
        print(f"dg/da = {a.grad.item():.4f}")  # micrograd: 138.8338
        print(f"dg/db = {b.grad.item():.4f}")  # micrograd: 645.5773
        ag.draw_graph(g)
        """),
        md(r"""
        ## The chain rule, node by node

        Start at the top. With $g = f/2 + 10/f$, $f = e^2$ and $e = c - d$:

        $$\frac{\partial g}{\partial f} = \frac12 - \frac{10}{f^2}, \qquad
        \frac{\partial g}{\partial e} = \frac{\partial g}{\partial f}\cdot 2e, \qquad
        \frac{\partial g}{\partial c} = \frac{\partial g}{\partial e}\cdot 1, \qquad
        \frac{\partial g}{\partial d} = \frac{\partial g}{\partial e}\cdot(-1).$$

        Each step is the gradient from above times one local derivative. By hand, against
        the gradients the engine kept:
        """),
        code("""
        dg_df = 1 / 2 - 10 / f.item() ** 2  # g = f/2 + 10/f
        dg_de = dg_df * 2 * e.item()  # f = e^2
        dg_dc = dg_de * 1  # e = c - d
        dg_dd = dg_de * -1
        for name, by_hand in (("f", dg_df), ("e", dg_de), ("c", dg_dc), ("d", dg_dd)):
            engine = results[name].grad.item()
            print(f"dg/d{name}: by hand {by_hand:+.6f}   engine {engine:+.6f}")
        """),
        md(r"""
        Below `c` and `d` the same rule runs at each of the twenty-odd operations. The leaves
        `a` and `b` are used many times, so gradient reaches them along many paths, and the
        multivariate chain rule adds the paths up:

        $$\frac{\partial g}{\partial a} = \sum_{\text{uses } u \text{ of } a}
        \frac{\partial g}{\partial u}\,\frac{\partial u}{\partial a}.$$

        That is why a leaf's `.grad` *accumulates* (`+=`) rather than being assigned. The same
        walk as text, one line per node, inputs first:
        """),
        code("ag.print_graph(g)"),
        md(r"""
        ## Checking with finite differences

        A derivative is a limit; for a small step $h$ the *central difference*

        $$\frac{g(a + h) - g(a - h)}{2h} = \frac{\partial g}{\partial a} + O(h^2)$$

        approximates it without any calculus. We evaluate the expression on plain values,
        under `no_grad` (nothing is recorded), in float64.
        """),
        code("""
        def g_at(a: float, b: float) -> float:
            with ag.no_grad():
                x, y = ag.tensor(a, dtype=ag.float64), ag.tensor(b, dtype=ag.float64)
                return expression(x, y)["g"].item()


        h = 1e-6
        numeric_a = (g_at(-4.0 + h, 2.0) - g_at(-4.0 - h, 2.0)) / (2 * h)
        numeric_b = (g_at(-4.0, 2.0 + h) - g_at(-4.0, 2.0 - h)) / (2 * h)
        print(f"dg/da: engine {a.grad.item():.8f}   central difference {numeric_a:.8f}")
        print(f"dg/db: engine {b.grad.item():.8f}   central difference {numeric_b:.8f}")
        """),
        md(r"""
        Left: the derivative is the slope of the tangent to $g$ as a function of $a$ (with $b$
        fixed). Right: why $h \approx 10^{-6}$. The *forward* difference $(g(a+h) - g(a))/h$
        has error $O(h)$, the central one $O(h^2)$; below some $h$ both are swamped by
        rounding, which grows like $\epsilon_{\text{machine}} / h$.
        """),
        code("""
        a0, slope = a.item(), a.grad.item()
        grid = np.linspace(-4.2, -3.6, 121)
        steps = np.logspace(-13, -1, 61)
        forward = [abs((g_at(a0 + s, 2.0) - g_at(a0, 2.0)) / s - slope) for s in steps]
        central = [abs((g_at(a0 + s, 2.0) - g_at(a0 - s, 2.0)) / (2 * s) - slope) for s in steps]

        fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
        left.plot(grid, [g_at(x, 2.0) for x in grid], label="g(a, b=2)")
        left.plot(grid, g.item() + slope * (grid - a0), "--", label=f"tangent, slope {slope:.2f}")
        left.plot([a0], [g.item()], "o", color="black")
        left.set(xlabel="a", ylabel="g", title="The gradient is the slope of the tangent")
        left.legend()
        right.loglog(steps, np.maximum(forward, 1e-16), label="forward difference")
        right.loglog(steps, np.maximum(central, 1e-16), label="central difference")
        right.set(xlabel="step h", ylabel="|error| in dg/da", title="Finite-difference error")
        right.legend();
        """),
        md(r"""
        `autograd.gradcheck` automates this for tensors of any shape (notebook 5).

        ## A single neuron

        A neuron computes a weighted sum of its inputs plus a bias and squashes it:
        $o = \tanh(n)$, $n = x_1 w_1 + x_2 w_2 + b$. These are the numbers of micrograd's
        lecture; the bias is chosen so that $o = 1/\sqrt2$.
        """),
        code("""
        x1, x2 = value(2.0, "x1"), value(0.0, "x2")
        w1, w2 = value(-3.0, "w1"), value(1.0, "w2")
        bias = value(6.8813735870195432, "b")
        x1w1 = x1 * w1
        x2w2 = x2 * w2
        n = x1w1 + x2w2 + bias
        o = n.tanh()
        for t, name in ((x1w1, "x1*w1"), (x2w2, "x2*w2"), (n, "n"), (o, "o")):
            t.name = name
            t.retain_grad()
        o.backward()
        ag.draw_graph(o)
        """),
        md(r"""
        The walk by hand: $\frac{d}{dn}\tanh n = 1 - \tanh^2 n = 1 - o^2$; a sum passes its
        gradient unchanged to every term; a product sends each factor the gradient times the
        *other* factor.

        $$\frac{\partial o}{\partial n} = 1 - o^2, \quad
        \frac{\partial o}{\partial b} = \frac{\partial o}{\partial (x_1w_1)} =
        \frac{\partial o}{\partial n}, \quad
        \frac{\partial o}{\partial w_1} = \frac{\partial o}{\partial (x_1 w_1)}\, x_1, \quad
        \frac{\partial o}{\partial x_1} = \frac{\partial o}{\partial (x_1 w_1)}\, w_1.$$
        """),
        code("""
        do_dn = 1 - o.item() ** 2
        by_hand = {
            "n": do_dn,
            "b": do_dn,
            "x1*w1": do_dn,
            "w1": do_dn * x1.item(),
            "x1": do_dn * w1.item(),
            "w2": do_dn * x2.item(),
            "x2": do_dn * w2.item(),
        }
        tensors = {"n": n, "b": bias, "x1*w1": x1w1, "w1": w1, "x1": x1, "w2": w2, "x2": x2}
        for name, expected in by_hand.items():
            engine = tensors[name].grad.item()
            print(f"do/d{name:6s} by hand {expected:+.4f}   engine {engine:+.4f}")
        """),
        md(r"""
        `w2` gets no gradient because its input `x2` is 0: nudging `w2` changes nothing. The
        local derivative of the squashing function sets the scale of every gradient below
        it: at $n \approx 0.88$ the slope of $\tanh$ is $0.5$, and for $|n| \gg 1$ it is
        nearly 0, which is how a saturated $\tanh$ unit stops learning.
        """),
        code("""
        z = np.linspace(-4, 4, 200)
        fig, ax = plt.subplots(figsize=(6, 3.5), constrained_layout=True)
        ax.plot(z, np.tanh(z), label="tanh n")
        ax.plot(z, o.item() + do_dn * (z - n.item()), "--", label=f"slope 1 - o² = {do_dn:.2f}")
        ax.plot(z, 1 - np.tanh(z) ** 2, ":", label="d tanh / dn")
        ax.plot([n.item()], [o.item()], "o", color="black")
        ax.set(xlabel="n", ylim=(-1.2, 1.2), title="The neuron's squashing function")
        ax.legend();
        """),
        md(r"""
        Next: [2. Tensors and broadcasting](02_tensors_broadcasting.ipynb), the same engine on
        arrays.
        """),
    ]


# ------------------------------------------------------------- 2. tensors and broadcasting
def tensors_broadcasting() -> list[NotebookNode]:
    return [
        md(r"""
        # 2. Tensors and broadcasting

        The engine of notebook 1 works unchanged on arrays: a tensor holds a NumPy array, each
        operation is one node however many elements it touches, and the gradient of a scalar
        loss $L$ with respect to a tensor $W$ is the array of partial derivatives
        $\left(\partial L / \partial W_{ij}\right)$, **with the shape of $W$**. Two rules need
        a closer look: why the backward of broadcasting is a sum, and the gradient of a matrix
        product.
        """),
        code("""
        import matplotlib.pyplot as plt
        import numpy as np

        import autograd as ag

        rng = np.random.default_rng(0)


        def leaf(array: np.ndarray, name: str, requires_grad: bool = False) -> ag.Tensor:
            \"\"\"A named float64 tensor (NumPy arrays keep their dtype).\"\"\"
            return ag.tensor(array, requires_grad=requires_grad, name=name)
        """),
        md(r"""
        ## A tensor graph

        Linear regression with two outputs: inputs $X$ ($5 \times 3$), weights $W$
        ($3 \times 2$), bias $b$ ($2$), targets $T$ ($5 \times 2$),

        $$Y = XW + b, \qquad L = \frac{1}{10}\sum_{i,j} (Y_{ij} - T_{ij})^2 .$$

        The picture shows each tensor's shape and dtype; small tensors are shown in full,
        larger ones as min / mean / max. A constant that no operation keeps for its backward
        rule (here $T$) is drawn as a small dashed stub.
        """),
        code("""
        X = leaf(rng.standard_normal((5, 3)), "X")
        W = leaf(rng.standard_normal((3, 2)), "W", requires_grad=True)
        b = leaf(np.zeros(2), "b", requires_grad=True)
        T = leaf(rng.standard_normal((5, 2)), "T")
        XW = X @ W
        Y = XW + b
        L = ((Y - T) ** 2).mean()
        XW.name, Y.name, L.name = "XW", "Y", "L"
        for t in (XW, Y):
            t.retain_grad()
        L.backward(retain_graph=True)  # keep what backward saved: the picture then shows X
        ag.draw_graph(L)
        """),
        md(r"""
        Write $G = \partial L / \partial Y = \frac{2}{10}(Y - T)$ for the gradient arriving at
        $Y$. Everything below is expressed through $G$.

        ## Why broadcasting's backward sums

        $Y = XW + b$ adds a vector of 2 numbers to a $5 \times 2$ matrix: NumPy *broadcasts*
        $b$, as if it were copied into each of the 5 rows, $Y_{ij} = (XW)_{ij} + b_j$. So
        $b_j$ is used five times, and by the chain rule its gradient is the sum over those
        uses:

        $$\frac{\partial L}{\partial b_j} = \sum_i \frac{\partial L}{\partial Y_{ij}}
        \frac{\partial Y_{ij}}{\partial b_j} = \sum_i G_{ij}.$$

        The backward of a copy is a sum. The engine does it once for every broadcasting op:
        it sums the gradient over the axes that broadcasting added or stretched, back to the
        input's shape.
        """),
        code("""
        G = Y.grad.numpy()
        print("G = dL/dY =\\n", G.round(4))
        print("b.grad      =", b.grad.numpy().round(4))
        print("G.sum(0)    =", G.sum(axis=0).round(4))
        print("dL/d(XW) == G:", np.allclose(XW.grad.numpy(), G))
        """),
        md(r"""
        The same in two directions: a column $a$ ($3 \times 1$) plus a row $c$
        ($1 \times 4$) is a $3 \times 4$ table $S_{ij} = a_i + c_j$. Take
        $L = \sum_{ij} M_{ij} S_{ij}$ for a fixed $M$, so that $\partial L / \partial S = M$.
        Each $a_i$ was copied along its row, each $c_j$ down its column:

        $$\frac{\partial L}{\partial a_i} = \sum_j M_{ij}, \qquad
        \frac{\partial L}{\partial c_j} = \sum_i M_{ij}.$$
        """),
        code("""
        a = leaf(rng.integers(-3, 4, (3, 1)).astype(float), "a", requires_grad=True)
        c = leaf(rng.integers(-3, 4, (1, 4)).astype(float), "c", requires_grad=True)
        M = rng.integers(-2, 3, (3, 4)).astype(float)
        S = a + c
        (S * M).sum().backward()
        print("S.shape:", S.shape, " a.grad.shape:", a.grad.shape, " c.grad.shape:", c.grad.shape)

        fig, axes = plt.subplots(
            2, 2, figsize=(6, 4.2), width_ratios=(4, 1), height_ratios=(3, 1),
            constrained_layout=True,
        )
        panels = (
            (axes[0, 0], M, "dL/dS = M"),
            (axes[0, 1], a.grad.numpy(), "a.grad\\n(row sums)"),
            (axes[1, 0], c.grad.numpy(), "c.grad (column sums)"),
        )
        for ax, values, title in panels:
            ax.imshow(values, cmap="coolwarm", vmin=-8, vmax=8)
            for (i, j), v in np.ndenumerate(values):
                ax.text(j, i, f"{v:g}", ha="center", va="center")
            ax.set(title=title, xticks=[], yticks=[])
        axes[1, 1].axis("off");
        """),
        md(r"""
        ## The gradient of matmul

        For $Y = XW$ with $X$ of shape $n \times m$ and $W$ of shape $m \times k$,
        $Y_{ij} = \sum_l X_{il} W_{lj}$, so $\partial Y_{ij} / \partial W_{lj} = X_{il}$ and
        $\partial Y_{ij} / \partial X_{il} = W_{lj}$. Summing over the uses:

        $$\frac{\partial L}{\partial W_{lj}} = \sum_i X_{il}\, G_{ij} = (X^\top G)_{lj},
        \qquad
        \frac{\partial L}{\partial X_{il}} = \sum_j G_{ij}\, W_{lj} = (G W^\top)_{il}.$$

        A way to remember it: $X^\top G$ and $G W^\top$ are the only products of $G$ with $X$
        or $W$ that have the shapes of $W$ ($m \times k$) and $X$ ($n \times m$).
        """),
        code("""
        print("W.grad == X^T G:", np.allclose(W.grad.numpy(), X.numpy().T @ G))

        X2 = leaf(rng.standard_normal((5, 3)), "X", requires_grad=True)
        W2 = leaf(rng.standard_normal((3, 2)), "W", requires_grad=True)
        G2 = rng.standard_normal((5, 2))
        (X2 @ W2).backward(ag.tensor(G2))  # backward from Y with dL/dY = G2
        print("X.grad == G W^T:", np.allclose(X2.grad.numpy(), G2 @ W2.numpy().T))
        print("gradcheck:", ag.gradcheck(lambda x, w: x @ w, [X2, W2]))
        """),
        md(r"""
        Broadcasting and matmul meet in a batch: $X$ of shape $(B, n, m)$ times one $W$
        ($m \times k$) uses $W$ in all $B$ products, so its gradient is the sum
        $\sum_\beta X_\beta^\top G_\beta$ over the batch.
        """),
        code("""
        Xb = leaf(rng.standard_normal((4, 5, 3)), "Xb")
        Wb = leaf(rng.standard_normal((3, 2)), "W", requires_grad=True)
        Gb = rng.standard_normal((4, 5, 2))
        (Xb @ Wb).backward(ag.tensor(Gb))
        expected = sum(Xb.numpy()[k].T @ Gb[k] for k in range(4))
        print("W.grad == sum over the batch of X_k^T G_k:", np.allclose(Wb.grad.numpy(), expected))
        """),
        md(r"""
        ## Drawn with shapes

        A two-layer network on a batch of 32 inputs with 10 features, before any backward,
        with values and gradients hidden: this picture is about shapes. The intermediate
        results passed to `draw_graph` are drawn too. Follow the matmul
        $(32, 10)(10, 16) \to (32, 16)$ and the bias $b_1$ of shape $(16,)$, broadcast over
        the 32 rows; its gradient will be a sum over them.
        """),
        code("""
        x = leaf(rng.standard_normal((32, 10)), "x")
        W1 = leaf(rng.standard_normal((10, 16)) / 3, "W1", requires_grad=True)
        b1 = leaf(np.zeros(16), "b1", requires_grad=True)
        W2 = leaf(rng.standard_normal((16, 1)) / 4, "W2", requires_grad=True)
        b2 = leaf(np.zeros(1), "b2", requires_grad=True)
        y = leaf(rng.standard_normal((32, 1)), "y")
        z = x @ W1 + b1
        h = z.relu()
        out = h @ W2 + b2
        loss = ((out - y) ** 2).mean()
        for t, name in ((z, "z"), (h, "h"), (out, "out"), (loss, "loss")):
            t.name = name
        ag.draw_graph(loss, z, h, out, show_values=False, show_grads=False)
        """),
        md(r"""
        Next: [3. The single-hidden-layer network](03_single_layer_network.ipynb).
        """),
    ]


# ----------------------------------------------------- 3. single-hidden-layer network (ISLR)
def single_layer_network() -> list[NotebookNode]:
    return [
        md(r"""
        # 3. A single-hidden-layer network (ISLR section 10.1)

        *An Introduction to Statistical Learning* (2nd ed.) opens its deep-learning chapter
        with a network of one hidden layer of $K$ units. For an input $X \in \mathbb R^p$,

        $$f(X) = \beta_0 + \sum_{k=1}^K \beta_k\, h_k(X), \qquad
        h_k(X) = g\Big(w_{k0} + \sum_{j=1}^p w_{kj} X_j\Big),$$

        with an activation $g$: the sigmoid $g(z) = 1/(1 + e^{-z})$ or the ReLU
        $g(z) = \max(0, z)$. Each hidden unit $h_k$ is a feature the network *learns*; the
        output is a linear model in those features. The parameters are fitted by minimizing
        the squared error $\sum_i (y_i - f(x_i))^2$ with gradient descent, the gradients
        coming from backpropagation.

        In arraygrad that network is `nn.MLP(p, [K], 1, activation=...)`: `Linear(p, K)`
        (weights $w_{kj}$, biases $w_{k0}$), the activation, `Linear(K, 1)` ($\beta_k$,
        $\beta_0$).
        """),
        code("""
        import matplotlib.pyplot as plt
        import numpy as np

        import autograd as ag
        import nn
        import optim
        """),
        md(r"""
        ## The data

        A synthetic problem with $p = 1$, so that the fit can be drawn: $x$ uniform on
        $[-3, 3]$ and

        $$y = \sin(1.5x) + 0.3x + \varepsilon, \qquad \varepsilon \sim N(0, 0.3^2),$$

        200 training points and 200 test points. The noise variance $0.09$ is the smallest
        test mean squared error any model can reach.
        """),
        code("""
        rng = np.random.default_rng(0)


        def truth(x: np.ndarray) -> np.ndarray:
            return np.sin(1.5 * x) + 0.3 * x


        def sample(n: int) -> tuple[np.ndarray, np.ndarray]:
            x = rng.uniform(-3, 3, (n, 1)).astype(np.float32)
            y = (truth(x) + rng.normal(0, 0.3, (n, 1))).astype(np.float32)
            return x, y


        x_train, y_train = sample(200)
        x_test, y_test = sample(200)
        grid = np.linspace(-3, 3, 300, dtype=np.float32).reshape(-1, 1)
        """),
        md(r"""
        ## Fitting

        The training loop, written out: forward, loss, `zero_grad`, `backward`, `step`. The
        whole training set is one batch; Adam with learning rate 0.02, 2,000 steps,
        $K = 10$ hidden units. The test error is measured at every step under `no_grad`.
        """),
        code("""
        K, STEPS = 10, 2000
        X, Y = ag.tensor(x_train), ag.tensor(y_train)
        X_test, Y_test = ag.tensor(x_test), ag.tensor(y_test)


        def train(activation: str) -> tuple[nn.MLP, dict[str, list[float]]]:
            ag.manual_seed(0)
            model = nn.MLP(1, [K], 1, activation=activation)
            optimizer = optim.Adam(model.parameters(), lr=0.02)
            curves = {"train": [], "test": []}
            for _ in range(STEPS):
                loss = nn.functional.mse_loss(model(X), Y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                with ag.no_grad():
                    test = nn.functional.mse_loss(model(X_test), Y_test)
                curves["train"].append(loss.item())
                curves["test"].append(test.item())
            return model, curves


        models, curves = {}, {}
        for activation in ("sigmoid", "relu"):
            models[activation], curves[activation] = train(activation)
            print(
                f"{activation:7s}: {models[activation].num_parameters()} parameters, "
                f"training MSE {curves[activation]['train'][-1]:.4f}, "
                f"test MSE {curves[activation]['test'][-1]:.4f} (noise variance 0.09)"
            )
        """),
        md(r"""
        Both fits follow the true curve; the losses fall fast and level off near the noise
        variance. The test error stays close to the training error: 31 parameters are few
        for 200 points.
        """),
        code("""
        def predict(model: nn.MLP, x: np.ndarray) -> np.ndarray:
            with ag.no_grad():
                return model(ag.tensor(x)).numpy()


        fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
        left.scatter(x_train, y_train, s=8, color="grey", alpha=0.6, label="training data")
        left.plot(grid, truth(grid), "k--", label="truth")
        for activation, model in models.items():
            left.plot(grid, predict(model, grid), label=f"{activation} network")
        left.set(xlabel="x", ylabel="y", title=f"Fits with K = {K} hidden units")
        left.legend()
        for activation, curve in curves.items():
            (line,) = right.plot(curve["train"], "--", label=f"{activation} train")
            right.plot(curve["test"], color=line.get_color(), label=f"{activation} test")
        right.axhline(0.09, color="black", lw=0.8, label="noise variance")
        right.set(xlabel="step", ylabel="mean squared error", ylim=(0, 0.6), title="Loss")
        right.legend();
        """),
        md(r"""
        ## What the hidden units learned

        The fit is $\beta_0$ plus $K$ terms $\beta_k h_k(x)$. Drawing each term shows the
        learned features: with the sigmoid, each unit is a smooth step placed where
        $w_{k0} + w_{k1}x = 0$; with the ReLU, each is a hinge, and the fit is piecewise
        linear with a kink at each hinge.
        """),
        code(r"""
        fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True, constrained_layout=True)
        for ax, (activation, model) in zip(axes, models.items()):
            first, act, last = model.layers
            with ag.no_grad():
                h = act(first(ag.tensor(grid))).numpy()  # h_k(x), shape (300, K)
            beta = last.weight.numpy()[0]
            beta0 = last.bias.item()
            for k in range(K):
                ax.plot(grid, beta[k] * h[:, k], lw=1)
            fit = beta0 + h @ beta
            ax.plot(grid, fit, "k", lw=2.5, label=r"$f(x) = \beta_0 + \sum_k \beta_k h_k(x)$")
            ax.set(xlabel="x", title=activation + r": the terms $\beta_k h_k(x)$")
            ax.legend(loc="lower right")
        """),
        md(r"""
        ## The network's graph

        The loss on the training set, each module drawn as one box listing its parameters
        (`collapse=True`): `layers.0` is $w$, `layers.2` is $\beta$.
        """),
        code("""
        model = models["relu"]
        loss = nn.functional.mse_loss(model(X), Y)
        loss.name = "loss"
        print(model)
        ag.draw_graph(loss, collapse=True, show_values=False)
        """),
        md(r"""
        Next: [4. MNIST and Table 10.1](04_mnist_table_10_1.ipynb), the same idea with two
        hidden layers and 235,146 parameters.
        """),
    ]


# --------------------------------------------------------------- 4. MNIST and Table 10.1
def mnist_table() -> list[NotebookNode]:
    return [
        md(r"""
        # 4. MNIST and ISLR's Table 10.1

        ISLR's section 10.2 classifies the MNIST handwritten digits ($28 \times 28$ grey images,
        $p = 784$ pixels, 10 classes) with a network of two hidden layers,

        $$784 \xrightarrow{\text{ReLU}} 256 \xrightarrow{\text{ReLU}} 128 \to 10
        \xrightarrow{\text{softmax}} \Pr(Y = m \mid X), \qquad 235{,}146 \text{ parameters},$$

        fitted by minimizing the cross-entropy $-\sum_i \sum_m y_{im} \log f_m(x_i)$.
        Table 10.1 compares its test error, regularized with ridge or with dropout, with two
        linear methods. This notebook trains the three networks with the book's recipe
        (RMSprop with Keras's defaults, batches of 128, 20% of the training images held out
        for validation, 30 epochs), using the pieces of `examples/islr_table_10_1.py`.

        **Data and epochs.** In full mode (the outputs saved here) the networks train on MNIST
        for 30 epochs: 48,000 training and 12,000 validation images, 10,000 test images. With
        the environment variable `ARRAYGRAD_NOTEBOOK_QUICK=1` (as CI runs it) they train for
        20 epochs on scikit-learn's bundled $8 \times 8$ digits instead (1,149 training, 288
        validation, 360 test images; no download), which checks the pipeline but is not
        comparable with the book. The first code cell prints which mode ran.
        """),
        code("""
        import os
        import sys
        import time

        import matplotlib.pyplot as plt
        import numpy as np
        from IPython.display import Markdown, display
        from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

        import autograd as ag
        import nn
        from nn.data import train_val_split
        from nn.training import confusion_matrix, error_rate, plot_history, predict

        sys.path.insert(0, os.path.join("..", "examples"))  # for examples/islr_table_10_1.py

        QUICK = os.environ.get("ARRAYGRAD_NOTEBOOK_QUICK") == "1"
        """),
        code("""
        import islr_table_10_1 as islr

        options = ["--quick", "--epochs", "20"] if QUICK else []
        args = islr.parse_args([*options, "--no-progress"])
        ag.manual_seed(args.seed)
        x_train, y_train, x_test, y_test = islr.load(args)
        x_fit, x_val, y_fit, y_val = train_val_split(x_train, y_train, 0.2, seed=args.seed)
        data = {"train": (x_fit, y_fit), "val": (x_val, y_val), "test": (x_test, y_test)}
        dataset = "8x8 digits" if QUICK else "MNIST"
        side = int(np.sqrt(x_train.shape[1]))
        print(
            f"{'quick' if QUICK else 'full'} mode: {dataset}, {len(x_fit):,} training, "
            f"{len(x_val):,} validation, {len(x_test):,} test images of {side}x{side} pixels; "
            f"{args.epochs} epochs, batch size {args.batch_size}, RMSprop lr {args.lr}"
        )
        """),
        md(r"""
        A few training images: each row of `x_train` is an image's pixels, scaled to $[0, 1]$.
        """),
        code("""
        fig, axes = plt.subplots(2, 10, figsize=(10, 2.3), constrained_layout=True)
        for ax, image, label in zip(axes.flat, x_fit, y_fit):
            ax.imshow(image.reshape(side, side), cmap="gray_r")
            ax.set(title=str(label), xticks=[], yticks=[])
        """),
        md(r"""
        ## The three networks

        * **ridge**: the MLP with the penalty $\lambda \sum_j \theta_j^2$ on its weights added
          to the mean loss, $\lambda = 10^{-4}$ (Keras's `l2(1e-4)`, `nn.l2_penalty`);
        * **dropout**: the MLP with dropout rates 0.4 and 0.3 after the hidden layers: during
          training each hidden unit is zeroed with that probability (and the rest scaled by
          $1/(1-\phi)$), so no unit can rely on any other;
        * **multinomial logistic regression**: no hidden layer, `MLP(784, [], 10)`, the
          linear model $\Pr(Y = m \mid X) \propto e^{\beta_{m0} + \beta_m^\top X}$.

        `islr.train_network` is the script's training function: it builds the RMSprop
        optimizer and the `DataLoader`, runs `nn.training.fit`, and returns the per-epoch
        history and the test error.
        """),
        code("""
        p, k = x_train.shape[1], int(y_train.max()) + 1
        networks = {
            "Neural network + ridge": (nn.MLP(p, [256, 128], k), args.ridge),
            "Neural network + dropout": (nn.MLP(p, [256, 128], k, dropout=[0.4, 0.3]), 0.0),
            "Multinomial logistic regression": (nn.MLP(p, [], k), 0.0),
        }
        histories, rows = {}, []
        for name, (model, ridge) in networks.items():
            start = time.perf_counter()
            histories[name], test_error = islr.train_network(name, model, data, args, ridge)
            seconds = time.perf_counter() - start
            rows.append({"method": name, "test_error": 100 * test_error, "seconds": seconds})
            print(f"  test error {100 * test_error:.2f}%, {seconds:.0f} s")
        """),
        md(r"""
        The fourth row of the table is not a network: linear discriminant analysis, fitted by
        scikit-learn on the same training images.
        """),
        code("""
        start = time.perf_counter()
        lda = LinearDiscriminantAnalysis().fit(x_fit, y_fit)
        test_error = error_rate(y_test, lda.predict(x_test))
        seconds = time.perf_counter() - start
        name = "Linear discriminant analysis"
        rows.append({"method": name, "test_error": 100 * test_error, "seconds": seconds})
        print(f"{name}: test error {100 * test_error:.2f}%")
        """),
        md(r"""
        ## Training curves

        Loss and accuracy per epoch, on the training batches (dashed; measured in training
        mode, so with dropout active) and on the held-out validation images (solid). In the
        full run the validation accuracy of both networks levels off after about ten epochs
        while the training accuracy keeps climbing: from there on they mostly fit the
        training images more closely. The linear model levels off far lower.
        """),
        code(
            """
            plot_history(histories);
            """,
            export="mnist_training_curves.png",
        ),
        md(r"""
        ## Table 10.1, next to the book's

        The book's numbers come from its Keras lab; a run's test error varies by a few tenths
        of a percent with the random initialization and batch order.
        """),
        code("""
        for row in rows:
            row["book"] = islr.BOOK_TEST_ERROR[row["method"]]
        display(Markdown(islr.markdown_table(rows, dataset)))
        """),
        md(r"""
        ## Where the dropout network errs

        The confusion matrix counts, for each true digit (row), the predicted digits
        (columns); the diagonal holds the correct answers and is left blank to make the
        errors stand out.
        """),
        code("""
        model = networks["Neural network + dropout"][0]
        predicted = predict(model, x_test).argmax(axis=1)
        counts = confusion_matrix(y_test, predicted, num_classes=10)
        errors = counts * (1 - np.eye(10, dtype=counts.dtype))

        fig, ax = plt.subplots(figsize=(5.5, 4.8), constrained_layout=True)
        image = ax.imshow(errors, cmap="Reds")
        for (i, j), n in np.ndenumerate(counts):
            ax.text(j, i, str(n), ha="center", va="center", fontsize=8,
                    color="grey" if i == j else "black")
        ax.set(xticks=range(10), yticks=range(10), xlabel="predicted digit", ylabel="true digit",
               title=f"Dropout network: {int(errors.sum())} of {len(y_test):,} test images wrong")
        fig.colorbar(image, ax=ax, label="errors");
        """),
        md(r"""
        Some of the misclassified test images, titled *true → predicted*. Many are hard for
        people too.
        """),
        code("""
        wrong = np.flatnonzero(predicted != y_test)[:24]
        fig, axes = plt.subplots(3, 8, figsize=(10, 4.2), constrained_layout=True)
        for ax in axes.flat:
            ax.axis("off")
        for ax, i in zip(axes.flat, wrong):
            ax.imshow(x_test[i].reshape(side, side), cmap="gray_r")
            ax.set_title(f"{y_test[i]} → {predicted[i]}", fontsize=10)
        """),
        md(r"""
        ## The network's graph

        The dropout network and its loss on four test images, each layer one box listing its
        parameters. The graph is recorded during the forward pass, so training mode shows the
        dropout layers.
        """),
        code("""
        model.train()
        loss = nn.functional.cross_entropy(model(ag.tensor(x_test[:4])), ag.tensor(y_test[:4]))
        loss.name = "loss"
        ag.draw_graph(loss, collapse=True, show_values=False)
        """),
        md(r"""
        Next: [5. Gradient checking and higher order](05_gradcheck_higher_order.ipynb).
        """),
    ]


# -------------------------------------------------- 5. gradient checking and higher order
def gradcheck_higher_order() -> list[NotebookNode]:
    return [
        md(r"""
        # 5. Gradient checking and higher-order derivatives

        Gradients computed by an engine are only as right as its backward rules. This
        notebook checks them three ways (finite differences, closed forms, and random
        inputs chosen by hypothesis), and takes derivatives of derivatives.
        """),
        code("""
        import math

        import matplotlib.pyplot as plt
        import numpy as np
        from hypothesis import given, settings
        from hypothesis import strategies as st

        import autograd as ag
        from autograd import functional
        from autograd.testing import broadcastable_shapes, check_gradients, shapes, tensors

        rng = np.random.default_rng(0)
        """),
        md(r"""
        ## `gradcheck` on your own function

        A function built from arraygrad's operations, the negative log-likelihood of data
        $x$ under a normal distribution with mean $\mu$ and standard deviation $e^s$:

        $$\ell(x, \mu, s) = \frac1n \sum_i \left[\frac{(x_i - \mu)^2}{2e^{2s}} + s\right]
        + \tfrac12 \log 2\pi .$$

        `gradcheck` reduces the outputs to one number with fixed random weights, computes its
        gradient with one backward pass and compares it, element by element, with central
        differences in float64; it passes when
        $|\text{analytic} - \text{numeric}| \le \text{atol} + \text{rtol}\,|\text{numeric}|$
        everywhere (by default $10^{-5}$ and $10^{-3}$).
        """),
        code("""
        def gaussian_nll(x: ag.Tensor, mu: ag.Tensor, s: ag.Tensor) -> ag.Tensor:
            return ((x - mu) ** 2 / (2 * (2 * s).exp()) + s).mean() + 0.5 * math.log(2 * math.pi)


        x = ag.tensor(rng.normal(1.0, 2.0, 50), requires_grad=True)
        mu = ag.tensor(0.5, dtype=ag.float64, requires_grad=True)
        s = ag.tensor(0.2, dtype=ag.float64, requires_grad=True)
        print("gradcheck:", ag.gradcheck(gaussian_nll, [x, mu, s]))
        print("gradgradcheck:", ag.gradgradcheck(gaussian_nll, [x, mu, s]))
        """),
        md(r"""
        ## When you write the backward rule yourself

        Composites of arraygrad's operations get their gradients from the graph. A new
        operation, written as a `Function` with its own backward rule, needs checking. Here is
        softplus, $\operatorname{softplus}(x) = \log(1 + e^x)$, with
        $\frac{d}{dx}\operatorname{softplus}(x) = \frac{1}{1 + e^{-x}}$, and a copy with a
        plausible slip: $e^{x}$ for $e^{-x}$. `backward(m, g, x)` receives the gradient `g`
        from above and the saved input, and writes its math with `m`'s functions, so that the
        rule also works on tensors when a second derivative is wanted.
        """),
        code("""
        class Softplus(ag.Function):
            \"\"\"log(1 + e^x);  d/dx = 1 / (1 + e^-x).\"\"\"

            save_inputs = True

            def forward(self, x):
                return np.logaddexp(0, x)

            def backward(self, m, g, x):
                return g / (1 + m.exp(-x))


        class BuggySoftplus(Softplus):
            def backward(self, m, g, x):
                return g / (1 + m.exp(x))  # the slip: e^x for e^-x


        def softplus(x: ag.Tensor) -> ag.Tensor:
            return Softplus()(x)


        def buggy_softplus(x: ag.Tensor) -> ag.Tensor:
            return BuggySoftplus()(x)


        x = ag.tensor(rng.standard_normal(6), requires_grad=True)
        print("softplus:", ag.gradcheck(softplus, [x]), ag.gradgradcheck(softplus, [x]))
        try:
            ag.gradcheck(buggy_softplus, [x])
        except ag.GradcheckError as error:
            print("buggy softplus:", error)
        """),
        md(r"""
        The error names the input, the worst element and both values. Note that the slip
        is invisible at $x = 0$, where $1/(1 + e^{0}) = 1/(1 + e^{-0})$: a check at one
        convenient point would have passed.
        """),
        code("""
        zero = ag.tensor([0.0], dtype=ag.float64, requires_grad=True)
        print("buggy softplus at x = 0:", ag.gradcheck(buggy_softplus, [zero]))
        """),
        md(r"""
        ## Property-based checks with hypothesis

        Rather than choosing test points, let [hypothesis](https://hypothesis.works) draw
        them: shapes (including 0-d and size-1 axes) and values, many times. A failure is
        *shrunk* to a small example. `autograd.testing` provides the strategies (`shapes`,
        `broadcastable_shapes`, `tensors`, ...) and `check_gradients`, which runs
        `gradcheck` and `gradgradcheck` on one draw. (`database=None` keeps hypothesis from
        saving examples next to the notebook; `derandomize=True` makes the run repeatable.)
        """),
        code("""
        quick = settings(max_examples=30, deadline=None, database=None, derandomize=True)


        @quick
        @given(tensors(shapes()))
        def test_softplus(x):
            check_gradients(softplus, x)


        @quick
        @given(st.data())
        def test_broadcasting_product(data):
            shape_a, shape_b = data.draw(broadcastable_shapes())
            a, b = data.draw(tensors(shape_a)), data.draw(tensors(shape_b))
            check_gradients(lambda a, b: (a * softplus(b)).tanh(), a, b)


        test_softplus()
        test_broadcasting_product()
        print("both properties hold on 30 draws each")
        """),
        md(r"""
        The same property on the buggy operation fails, and hypothesis reports the smallest
        failing input it found:
        """),
        code("""
        @quick
        @given(tensors(shapes()))
        def test_buggy_softplus(x):
            check_gradients(buggy_softplus, x, order=1)


        try:
            test_buggy_softplus()
        except ag.GradcheckError as error:
            print(error.__notes__[0])  # hypothesis' report: the smallest failing input
            print(error)
        """),
        md(r"""
        ## A Hessian and its closed form

        The log-sum-exp $f(x) = \log \sum_i e^{x_i}$ (the normalizer of softmax and
        cross-entropy) has gradient $\nabla f = p = \operatorname{softmax}(x)$ and Hessian

        $$\nabla^2 f(x) = \operatorname{diag}(p) - p\,p^\top .$$

        `functional.hessian` computes it as the Jacobian of the gradient: one backward pass
        through the gradient's own graph per row. `functional.hvp` gives a Hessian-vector
        product $Hv$ without forming $H$, at the cost of about two backward passes.
        """),
        code("""
        x = ag.tensor(rng.standard_normal(6), requires_grad=True)
        H = functional.hessian(lambda v: v.logsumexp(), x).numpy()
        p = np.exp(x.numpy() - np.logaddexp.reduce(x.numpy()))
        closed_form = np.diag(p) - np.outer(p, p)
        print("max |H - (diag(p) - p p^T)| =", np.abs(H - closed_form).max())

        v = ag.tensor(rng.standard_normal(6))
        _, Hv = functional.hvp(lambda u: u.logsumexp(), x, v)
        print("max |hvp - H v| =", np.abs(Hv.numpy() - closed_form @ v.numpy()).max())

        fig, axes = plt.subplots(1, 3, figsize=(11, 3.4), constrained_layout=True)
        panels = (
            (H, "functional.hessian"),
            (closed_form, "diag(p) - p pᵀ"),
            (H - closed_form, "difference"),
        )
        scale = np.abs(closed_form).max()
        for ax, (values, title) in zip(axes, panels):
            image = ax.imshow(values, cmap="coolwarm", vmin=-scale, vmax=scale)
            ax.set(title=title, xticks=[], yticks=[])
        fig.colorbar(image, ax=axes, shrink=0.8);
        """),
        md(r"""
        ## Derivatives of any order

        `ag.grad(y, x, create_graph=True)` records the backward pass itself, so its result
        can be differentiated again. For an elementwise function, the gradient of the sum
        $\sum_i f(x_i)$ is the vector of derivatives $f'(x_i)$, so one call differentiates at
        every point of a grid. The derivatives of $\tanh$, with $t = \tanh x$:

        $$\tanh' = 1 - t^2, \qquad \tanh'' = -2t(1 - t^2), \qquad
        \tanh''' = -2(1 - t^2)(1 - 3t^2).$$
        """),
        code("""
        grid = ag.linspace(-4, 4, 200, dtype=ag.float64, requires_grad=True)
        derivatives = [grid.tanh()]
        for _ in range(3):
            (d,) = ag.grad(derivatives[-1].sum(), grid, create_graph=True)
            derivatives.append(d)

        t = np.tanh(grid.numpy())
        closed_forms = [t, 1 - t**2, -2 * t * (1 - t**2), -2 * (1 - t**2) * (1 - 3 * t**2)]
        for order, (d, exact) in enumerate(zip(derivatives, closed_forms)):
            error = np.abs(d.numpy() - exact).max()
            print(f"order {order}: max |autograd - closed form| = {error:.1e}")

        fig, ax = plt.subplots(figsize=(7, 3.8), constrained_layout=True)
        for order, d in enumerate(derivatives):
            ax.plot(grid.numpy(), d.numpy(), label=["tanh x", "tanh'", "tanh''", "tanh'''"][order])
        ax.set(xlabel="x", title="tanh and its first three derivatives, by autograd")
        ax.legend();
        """),
        md(r"""
        Next: [6. GPU](06_gpu.ipynb).
        """),
    ]


# ------------------------------------------------------------------------------- 6. GPU
def gpu() -> list[NotebookNode]:
    return [
        md(r"""
        # 6. The same MLP on a GPU

        On an NVIDIA GPU, arraygrad's tensors hold CuPy arrays instead of NumPy arrays; the
        engine, the backward rules and `nn` are the same code. Nothing moves between devices
        behind your back: the model goes to the GPU with `model.to("cuda")`, the data with
        `ag.tensor(array, device="cuda")`, and mixing devices in one operation is an error.
        This needs CuPy (`pip install "arraygrad[gpu]"`) and a CUDA GPU. On a machine without
        them the notebook says so and times the CPU only.

        The task timed here is one training epoch of MNIST's MLP (784-256-128-10, ReLU,
        cross-entropy, RMSprop) at two batch sizes. The images are random numbers of MNIST's
        size, made once: a dense layer's time does not depend on the values, and no download
        is needed. Full mode times epochs of 60,000 images; quick mode
        (`ARRAYGRAD_NOTEBOOK_QUICK=1`) epochs of 4,096.
        """),
        code("""
        import os
        import statistics

        import matplotlib.pyplot as plt
        import numpy as np

        import autograd as ag
        import nn
        import optim
        from nn.data import DataLoader
        from nn.training import fit

        QUICK = os.environ.get("ARRAYGRAD_NOTEBOOK_QUICK") == "1"
        try:
            ag.cuda.require()
            GPU = True
        except ag.DeviceError as error:
            GPU = False
            print(f"NO GPU: {error}")
            print("The GPU cells below are skipped; the CPU timing runs.")
        if GPU:
            import cupy

            name = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
            print(f"GPU: {name}, CuPy {cupy.__version__}")
        print(f"ag.cuda.is_available() = {ag.cuda.is_available()}")
        """),
        code("""
        N = 4_096 if QUICK else 60_000
        BATCH_SIZES = (128, 1024)
        EPOCHS = 2  # timed epochs per device and batch size (the median is reported)
        rng = np.random.default_rng(0)
        images = rng.random((N, 784), dtype=np.float32)
        labels = rng.integers(0, 10, N)
        print(f"{N:,} images of 784 pixels; batch sizes {BATCH_SIZES}; {EPOCHS} timed epochs each")
        """),
        md(r"""
        `seconds_per_epoch` builds the model on the CPU from a fixed seed (so both devices
        start from the same weights), moves it and the data to `device`, trains a few warm-up
        steps (CuPy compiles its kernels on first use), then times `fit`'s epochs. `fit` reads
        the loss after every step, which waits for the GPU, so all of its work is counted.
        """),
        code("""
        def seconds_per_epoch(device: str, batch_size: int) -> tuple[float, float]:
            \"\"\"Median seconds per epoch, and the training loss of the last epoch.\"\"\"
            ag.manual_seed(0)
            model = nn.MLP(784, [256, 128], 10).to(device)
            optimizer = optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
            x, y = ag.tensor(images, device=device), ag.tensor(labels, device=device)
            head = (x[: 3 * batch_size], y[: 3 * batch_size])
            fit(model, optimizer, DataLoader(head, batch_size, device=device), epochs=1)
            loader = DataLoader((x, y), batch_size, shuffle=True, seed=0, device=device)
            history = fit(model, optimizer, loader, epochs=EPOCHS)
            return statistics.median(history["seconds"]), history["loss"][-1]


        timings = {}
        for batch_size in BATCH_SIZES:
            timings["cpu", batch_size] = seconds_per_epoch("cpu", batch_size)
            print(f"CPU, batch {batch_size:5d}: {timings['cpu', batch_size][0]:6.2f} s per epoch")
        """),
        code("""
        if GPU:
            for batch_size in BATCH_SIZES:
                timings["cuda", batch_size] = seconds_per_epoch("cuda", batch_size)
                cpu, gpu = timings["cpu", batch_size][0], timings["cuda", batch_size][0]
                speedup = f"{cpu / gpu:.1f}x the CPU's speed"
                print(f"GPU, batch {batch_size:5d}: {gpu:6.2f} s per epoch ({speedup})")
        else:
            print("skipped: no GPU")
        """),
        md(r"""
        Same initial weights, same batches in the same order: the two devices should end with
        the same training loss, up to float32 rounding (the GPU sums in a different order).
        """),
        code("""
        if GPU:
            for batch_size in BATCH_SIZES:
                cpu, gpu = timings["cpu", batch_size][1], timings["cuda", batch_size][1]
                print(f"batch {batch_size:5d}: loss CPU {cpu:.6f}, GPU {gpu:.6f}")
        else:
            print("skipped: no GPU")
        """),
        code("""
        fig, ax = plt.subplots(figsize=(6, 3.5), constrained_layout=True)
        devices = ("cpu", "cuda") if GPU else ("cpu",)
        width = 0.8 / len(devices)
        for i, device in enumerate(devices):
            seconds = [timings[device, b][0] for b in BATCH_SIZES]
            bars = ax.bar(np.arange(len(BATCH_SIZES)) + i * width, seconds, width, label=device)
            ax.bar_label(bars, fmt="%.2f s")
        ax.set_xticks(np.arange(len(BATCH_SIZES)) + (len(devices) - 1) * width / 2)
        ax.set_xticklabels([f"batch {b}" for b in BATCH_SIZES])
        title = "One epoch" + ("" if GPU else " (no GPU on this machine: CPU only)")
        ax.set(ylabel=f"seconds per epoch of {N:,} images", title=title)
        ax.legend();
        """),
        md(r"""
        `benchmarks/gpu_mlp.py` times the same network with bare operations against PyTorch on
        the same GPU.
        """),
    ]


NOTEBOOKS: dict[str, Callable[[], list[NotebookNode]]] = {
    "01_scalar_autograd": scalar_autograd,
    "02_tensors_broadcasting": tensors_broadcasting,
    "03_single_layer_network": single_layer_network,
    "04_mnist_table_10_1": mnist_table,
    "05_gradcheck_higher_order": gradcheck_higher_order,
    "06_gpu": gpu,
}


def notebook(name: str) -> NotebookNode:
    """The notebook ``name`` with its cells, without outputs."""
    nb = nbformat.v4.new_notebook(cells=NOTEBOOKS[name]())
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i:02d}"  # stable ids (nbformat draws random ones): quiet diffs
    nb.metadata["kernelspec"] = KERNEL
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def execute(nb: NotebookNode, quick: bool, timeout: int = 1200) -> None:
    """Run every cell in a fresh kernel started in notebooks/, storing the outputs; raises
    ``nbclient.exceptions.CellExecutionError`` at the first cell that fails.

    The kernel gets this process's environment, with ``ARRAYGRAD_NOTEBOOK_QUICK`` set from
    ``quick`` and this interpreter's directory first on PATH: the ``python3`` kernel spec
    that ipykernel installs runs ``python``, which must be the one with arraygrad.
    """
    path = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
    env = {**os.environ, QUICK_ENV: "1" if quick else "0", "PATH": path}
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=KERNEL["name"],
        resources={"metadata": {"path": str(HERE)}},
        record_timing=False,
    )
    client.execute(env=env)


def export_pictures(nb: NotebookNode) -> list[Path]:
    """Write the PNG output of each cell marked ``export`` to docs/images/."""
    written = []
    for cell in nb.cells:
        target = cell.metadata.get("export")
        outputs = cell.get("outputs", []) if target else []
        pictures = [o.data["image/png"] for o in outputs if "image/png" in o.get("data", {})]
        if pictures:
            IMAGES.mkdir(parents=True, exist_ok=True)
            path = IMAGES / target
            path.write_bytes(base64.b64decode(pictures[0]))
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="build only notebooks whose names contain one")
    parser.add_argument("--quick", action="store_true", help=f"small data ({QUICK_ENV}=1)")
    parser.add_argument("--no-execute", action="store_true", help="write cells without outputs")
    args = parser.parse_args(argv)
    names = [n for n in NOTEBOOKS if not args.names or any(part in n for part in args.names)]
    if not names:
        parser.error(f"no notebook matches {args.names}; the notebooks are {list(NOTEBOOKS)}")
    for name in names:
        nb = notebook(name)
        path = HERE / f"{name}.ipynb"
        start = time.perf_counter()
        if not args.no_execute:
            execute(nb, args.quick)
        nbformat.write(nb, path)
        print(f"wrote {path.relative_to(HERE.parent)} ({time.perf_counter() - start:.0f} s)")
        if not args.quick and not args.no_execute:
            for picture in export_pictures(nb):
                print(f"wrote {picture.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
