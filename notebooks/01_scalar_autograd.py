# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 1. Scalar autograd: the chain rule, one node at a time
#
# A reverse-mode engine does two things. While your code computes, every operation is
# recorded as a node of a graph: what it computed from what. Then `backward()` walks that
# graph from the output back to the inputs and applies the chain rule at each node:
#
# $$\frac{\partial L}{\partial x} = \frac{\partial L}{\partial y}\,
# \frac{\partial y}{\partial x} \qquad \text{for each node } y = \mathrm{op}(x).$$
#
# The gradient arriving from above, $\partial L / \partial y$, is multiplied by the
# node's *local* derivative $\partial y / \partial x$, which depends only on that one
# operation. This notebook follows it on scalars (0-d tensors, arraygrad's micrograd
# mode): micrograd's example expression, its graph before and after `backward`, the
# chain rule checked by hand at each node, finite differences, and a single neuron.

# %%
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import SVG

import autograd as ag


def value(x: float, name: str) -> ag.Tensor:
    """A float64 scalar that requires grad, named for the pictures."""
    return ag.tensor(x, dtype=ag.float64, requires_grad=True, name=name)


# %% [markdown]
# ## micrograd's expression
#
# The example from [micrograd](https://github.com/karpathy/micrograd)'s README, written
# as a function so that we can evaluate it again later. (micrograd writes `c += c + 1`,
# and so can you: on a result of the graph, `+=` records a new node and rebinds the name,
# since an in-place write would change a value that backward still needs. Here each line
# says so explicitly.)


# %%
def expression(a: ag.Tensor, b: ag.Tensor) -> dict[str, ag.Tensor]:
    """micrograd's example: the output g and the intermediate results c, d, e, f."""
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

# %% [markdown]
# Nothing has been differentiated yet, but the graph is there: each operation recorded
# its inputs. Blue records are the leaves that require a gradient (`a`, `b`), yellow
# ellipses are operations, white records the intermediate results we kept a handle on,
# green the output; dashed boxes are constants. The gradients read *not computed*.

# %%
ag.draw_graph(g)

# %% [markdown]
# ## Step through the backward pass
#
# `ag.backward_steps(g)` runs the same backward pass as `g.backward()` on the same graph,
# but stops to show each step: the forward values appear first, then, one node at a time,
# the gradient arriving from above, the node's local rule, and what it sends to each input
# (the gradient times the local derivative). Where a result is used more than once the
# contributions add up, and the panel says which one of how many it is. Use the buttons or
# the arrow keys; "Why is the gradient ... zero?" explains a zero or missing gradient.
# Recording changes nothing: the `.grad` of `a` and `b` are still unset after it.

# %%
steps = ag.backward_steps(g)
steps

# %% [markdown]
# Where no JavaScript runs (GitHub's notebook view, nbviewer, a PDF) the same steps play as
# an animated picture, which `steps.save("backprop.svg")` writes to a file:

# %%
SVG(steps.to_svg())

# %% [markdown]
# `g.backward()` seeds $\partial g / \partial g = 1$ at the output and runs every node's
# backward rule once, in an order where each node comes after all the nodes that use its
# result (a topological order, found with an explicit stack, not recursion).

# %%
g.backward()
print(f"dg/da = {a.grad.item():.4f}")  # micrograd: 138.8338
print(f"dg/db = {b.grad.item():.4f}")  # micrograd: 645.5773
ag.draw_graph(g)

# %% [markdown]
# ## The chain rule, node by node
#
# Start at the top. With $g = f/2 + 10/f$, $f = e^2$ and $e = c - d$:
#
# $$\frac{\partial g}{\partial f} = \frac12 - \frac{10}{f^2}, \qquad
# \frac{\partial g}{\partial e} = \frac{\partial g}{\partial f}\cdot 2e, \qquad
# \frac{\partial g}{\partial c} = \frac{\partial g}{\partial e}\cdot 1, \qquad
# \frac{\partial g}{\partial d} = \frac{\partial g}{\partial e}\cdot(-1).$$
#
# Each step is the gradient from above times one local derivative. By hand, against
# the gradients the engine kept:

# %%
dg_df = 1 / 2 - 10 / f.item() ** 2  # g = f/2 + 10/f
dg_de = dg_df * 2 * e.item()  # f = e^2
dg_dc = dg_de * 1  # e = c - d
dg_dd = dg_de * -1
for name, by_hand in (("f", dg_df), ("e", dg_de), ("c", dg_dc), ("d", dg_dd)):
    engine = results[name].grad.item()
    print(f"dg/d{name}: by hand {by_hand:+.6f}   engine {engine:+.6f}")

# %% [markdown]
# Below `c` and `d` the same rule runs at each of the twenty-odd operations. The leaves
# `a` and `b` are used many times, so gradient reaches them along many paths, and the
# multivariate chain rule adds the paths up:
#
# $$\frac{\partial g}{\partial a} = \sum_{\text{uses } u \text{ of } a}
# \frac{\partial g}{\partial u}\,\frac{\partial u}{\partial a}.$$
#
# That is why a leaf's `.grad` *accumulates* (`+=`) rather than being assigned. The same
# walk as text, one line per node, inputs first:

# %%
ag.print_graph(g)


# %% [markdown]
# ## Checking with finite differences
#
# A derivative is a limit; for a small step $h$ the *central difference*
#
# $$\frac{g(a + h) - g(a - h)}{2h} = \frac{\partial g}{\partial a} + O(h^2)$$
#
# approximates it without any calculus. We evaluate the expression on plain values,
# under `no_grad` (nothing is recorded), in float64.


# %%
def g_at(a: float, b: float) -> float:
    with ag.no_grad():
        x, y = ag.tensor(a, dtype=ag.float64), ag.tensor(b, dtype=ag.float64)
        return expression(x, y)["g"].item()


h = 1e-6
numeric_a = (g_at(-4.0 + h, 2.0) - g_at(-4.0 - h, 2.0)) / (2 * h)
numeric_b = (g_at(-4.0, 2.0 + h) - g_at(-4.0, 2.0 - h)) / (2 * h)
print(f"dg/da: engine {a.grad.item():.8f}   central difference {numeric_a:.8f}")
print(f"dg/db: engine {b.grad.item():.8f}   central difference {numeric_b:.8f}")

# %% [markdown]
# Left: the derivative is the slope of the tangent to $g$ as a function of $a$ (with $b$
# fixed). Right: why $h \approx 10^{-6}$. The *forward* difference $(g(a+h) - g(a))/h$
# has error $O(h)$, the central one $O(h^2)$; below some $h$ both are swamped by
# rounding, which grows like $\epsilon_{\text{machine}} / h$.

# %%
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
right.legend()
plt.show()

# %% [markdown]
# `autograd.gradcheck` automates this for tensors of any shape (notebook 5).
#
# ## A single neuron
#
# A neuron computes a weighted sum of its inputs plus a bias and squashes it:
# $o = \tanh(n)$, $n = x_1 w_1 + x_2 w_2 + b$. These are the numbers of micrograd's
# lecture; the bias is chosen so that $o = 1/\sqrt2$.

# %%
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

# %% [markdown]
# The walk by hand: $\frac{d}{dn}\tanh n = 1 - \tanh^2 n = 1 - o^2$; a sum passes its
# gradient unchanged to every term; a product sends each factor the gradient times the
# *other* factor.
#
# $$\frac{\partial o}{\partial n} = 1 - o^2, \quad
# \frac{\partial o}{\partial b} = \frac{\partial o}{\partial (x_1w_1)} =
# \frac{\partial o}{\partial n}, \quad
# \frac{\partial o}{\partial w_1} = \frac{\partial o}{\partial (x_1 w_1)}\, x_1, \quad
# \frac{\partial o}{\partial x_1} = \frac{\partial o}{\partial (x_1 w_1)}\, w_1.$$

# %%
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

# %% [markdown]
# `w2` gets no gradient because its input `x2` is 0: nudging `w2` changes nothing. The
# local derivative of the squashing function sets the scale of every gradient below
# it: at $n \approx 0.88$ the slope of $\tanh$ is $0.5$, and for $|n| \gg 1$ it is
# nearly 0, which is how a saturated $\tanh$ unit stops learning.

# %%
z = np.linspace(-4, 4, 200)
fig, ax = plt.subplots(figsize=(6, 3.5), constrained_layout=True)
ax.plot(z, np.tanh(z), label="tanh n")
ax.plot(z, o.item() + do_dn * (z - n.item()), "--", label=f"slope 1 - o² = {do_dn:.2f}")
ax.plot(z, 1 - np.tanh(z) ** 2, ":", label="d tanh / dn")
ax.plot([n.item()], [o.item()], "o", color="black")
ax.set(xlabel="n", ylim=(-1.2, 1.2), title="The neuron's squashing function")
ax.legend()
plt.show()

# %% [markdown]
# Next: [2. Tensors and broadcasting](02_tensors_broadcasting.ipynb), the same engine on
# arrays.
