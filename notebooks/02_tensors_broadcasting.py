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
# # 2. Tensors and broadcasting
#
# The engine of notebook 1 works unchanged on arrays: a tensor holds a NumPy array, each
# operation is one node however many elements it touches, and the gradient of a scalar
# loss $L$ with respect to a tensor $W$ is the array of partial derivatives
# $\left(\partial L / \partial W_{ij}\right)$, **with the shape of $W$**. Two rules need
# a closer look: why the backward of broadcasting is a sum, and the gradient of a matrix
# product.

# %%
import matplotlib.pyplot as plt
import numpy as np

import autograd as ag

rng = np.random.default_rng(0)


def leaf(array: np.ndarray, name: str, requires_grad: bool = False) -> ag.Tensor:
    """A named float64 tensor (NumPy arrays keep their dtype)."""
    return ag.tensor(array, requires_grad=requires_grad, name=name)


# %% [markdown]
# ## A tensor graph
#
# Linear regression with two outputs: inputs $X$ ($5 \times 3$), weights $W$
# ($3 \times 2$), bias $b$ ($2$), targets $T$ ($5 \times 2$),
#
# $$Y = XW + b, \qquad L = \frac{1}{10}\sum_{i,j} (Y_{ij} - T_{ij})^2 .$$
#
# The picture shows each tensor's shape and dtype; small tensors are shown in full,
# larger ones as min / mean / max. A constant that no operation keeps for its backward
# rule (here $T$) is drawn as a small dashed stub.

# %%
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

# %% [markdown]
# Write $G = \partial L / \partial Y = \frac{2}{10}(Y - T)$ for the gradient arriving at
# $Y$. Everything below is expressed through $G$.
#
# ## Why broadcasting's backward sums
#
# $Y = XW + b$ adds a vector of 2 numbers to a $5 \times 2$ matrix: NumPy *broadcasts*
# $b$, as if it were copied into each of the 5 rows, $Y_{ij} = (XW)_{ij} + b_j$. So
# $b_j$ is used five times, and by the chain rule its gradient is the sum over those
# uses:
#
# $$\frac{\partial L}{\partial b_j} = \sum_i \frac{\partial L}{\partial Y_{ij}}
# \frac{\partial Y_{ij}}{\partial b_j} = \sum_i G_{ij}.$$
#
# The backward of a copy is a sum. The engine does it once for every broadcasting op:
# it sums the gradient over the axes that broadcasting added or stretched, back to the
# input's shape.

# %%
G = Y.grad.numpy()
print("G = dL/dY =\n", G.round(4))
print("b.grad      =", b.grad.numpy().round(4))
print("G.sum(0)    =", G.sum(axis=0).round(4))
print("dL/d(XW) == G:", np.allclose(XW.grad.numpy(), G))

# %% [markdown]
# The same in two directions: a column $a$ ($3 \times 1$) plus a row $c$
# ($1 \times 4$) is a $3 \times 4$ table $S_{ij} = a_i + c_j$. Take
# $L = \sum_{ij} M_{ij} S_{ij}$ for a fixed $M$, so that $\partial L / \partial S = M$.
# Each $a_i$ was copied along its row, each $c_j$ down its column:
#
# $$\frac{\partial L}{\partial a_i} = \sum_j M_{ij}, \qquad
# \frac{\partial L}{\partial c_j} = \sum_i M_{ij}.$$

# %%
a = leaf(rng.integers(-3, 4, (3, 1)).astype(float), "a", requires_grad=True)
c = leaf(rng.integers(-3, 4, (1, 4)).astype(float), "c", requires_grad=True)
M = rng.integers(-2, 3, (3, 4)).astype(float)
S = a + c
(S * M).sum().backward()
print("S.shape:", S.shape, " a.grad.shape:", a.grad.shape, " c.grad.shape:", c.grad.shape)

fig, axes = plt.subplots(
    2, 2, figsize=(6, 4.2), width_ratios=(4, 1), height_ratios=(3, 1), constrained_layout=True
)
panels = (
    (axes[0, 0], M, "dL/dS = M"),
    (axes[0, 1], a.grad.numpy(), "a.grad\n(row sums)"),
    (axes[1, 0], c.grad.numpy(), "c.grad (column sums)"),
)
for ax, values, title in panels:
    ax.imshow(values, cmap="coolwarm", vmin=-8, vmax=8)
    for (i, j), v in np.ndenumerate(values):
        ax.text(j, i, f"{v:g}", ha="center", va="center")
    ax.set(title=title, xticks=[], yticks=[])
axes[1, 1].axis("off")
plt.show()

# %% [markdown]
# ## The gradient of matmul
#
# For $Y = XW$ with $X$ of shape $n \times m$ and $W$ of shape $m \times k$,
# $Y_{ij} = \sum_l X_{il} W_{lj}$, so $\partial Y_{ij} / \partial W_{lj} = X_{il}$ and
# $\partial Y_{ij} / \partial X_{il} = W_{lj}$. Summing over the uses:
#
# $$\frac{\partial L}{\partial W_{lj}} = \sum_i X_{il}\, G_{ij} = (X^\top G)_{lj},
# \qquad
# \frac{\partial L}{\partial X_{il}} = \sum_j G_{ij}\, W_{lj} = (G W^\top)_{il}.$$
#
# A way to remember it: $X^\top G$ and $G W^\top$ are the only products of $G$ with $X$
# or $W$ that have the shapes of $W$ ($m \times k$) and $X$ ($n \times m$).

# %%
print("W.grad == X^T G:", np.allclose(W.grad.numpy(), X.numpy().T @ G))

X2 = leaf(rng.standard_normal((5, 3)), "X", requires_grad=True)
W2 = leaf(rng.standard_normal((3, 2)), "W", requires_grad=True)
G2 = rng.standard_normal((5, 2))
(X2 @ W2).backward(ag.tensor(G2))  # backward from Y with dL/dY = G2
print("X.grad == G W^T:", np.allclose(X2.grad.numpy(), G2 @ W2.numpy().T))
print("gradcheck:", ag.gradcheck(lambda x, w: x @ w, [X2, W2]))

# %% [markdown]
# Broadcasting and matmul meet in a batch: $X$ of shape $(B, n, m)$ times one $W$
# ($m \times k$) uses $W$ in all $B$ products, so its gradient is the sum
# $\sum_\beta X_\beta^\top G_\beta$ over the batch.

# %%
Xb = leaf(rng.standard_normal((4, 5, 3)), "Xb")
Wb = leaf(rng.standard_normal((3, 2)), "W", requires_grad=True)
Gb = rng.standard_normal((4, 5, 2))
(Xb @ Wb).backward(ag.tensor(Gb))
expected = sum(Xb.numpy()[k].T @ Gb[k] for k in range(4))
print("W.grad == sum over the batch of X_k^T G_k:", np.allclose(Wb.grad.numpy(), expected))

# %% [markdown]
# ## Drawn with shapes
#
# A two-layer network on a batch of 32 inputs with 10 features, before any backward,
# with values and gradients hidden: this picture is about shapes. The intermediate
# results passed to `draw_graph` are drawn too. Follow the matmul
# $(32, 10)(10, 16) \to (32, 16)$ and the bias $b_1$ of shape $(16,)$, broadcast over
# the 32 rows; its gradient will be a sum over them.

# %%
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

# %% [markdown]
# Next: [3. The single-hidden-layer network](03_single_layer_network.ipynb).
