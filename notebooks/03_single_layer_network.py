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
# # 3. A single-hidden-layer network (ISLR section 10.1)
#
# *An Introduction to Statistical Learning* (2nd ed.) opens its deep-learning chapter
# with a network of one hidden layer of $K$ units. For an input $X \in \mathbb R^p$,
#
# $$f(X) = \beta_0 + \sum_{k=1}^K \beta_k\, h_k(X), \qquad
# h_k(X) = g\Big(w_{k0} + \sum_{j=1}^p w_{kj} X_j\Big),$$
#
# with an activation $g$: the sigmoid $g(z) = 1/(1 + e^{-z})$ or the ReLU
# $g(z) = \max(0, z)$. Each hidden unit $h_k$ is a feature the network *learns*; the
# output is a linear model in those features. The parameters are fitted by minimizing
# the squared error $\sum_i (y_i - f(x_i))^2$ with gradient descent, the gradients
# coming from backpropagation.
#
# In arraygrad that network is `nn.MLP(p, [K], 1, activation=...)`: `Linear(p, K)`
# (weights $w_{kj}$, biases $w_{k0}$), the activation, `Linear(K, 1)` ($\beta_k$,
# $\beta_0$).

# %%
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import SVG

import autograd as ag
import nn
import optim

# %% [markdown]
# ## The data
#
# A synthetic problem with $p = 1$, so that the fit can be drawn: $x$ uniform on
# $[-3, 3]$ and
#
# $$y = \sin(1.5x) + 0.3x + \varepsilon, \qquad \varepsilon \sim N(0, 0.3^2),$$
#
# 200 training points and 200 test points. The noise variance $0.09$ is the smallest
# test mean squared error any model can reach.

# %%
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

# %% [markdown]
# ## Fitting
#
# The training loop, written out: forward, loss, `zero_grad`, `backward`, `step`. The
# whole training set is one batch; Adam with learning rate 0.02, 2,000 steps,
# $K = 10$ hidden units. The test error is measured at every step under `no_grad`.

# %%
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


# %% [markdown]
# Both fits follow the true curve; the losses fall fast and level off near the noise
# variance. The test error stays close to the training error: 31 parameters are few
# for 200 points.


# %%
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
right.legend()
plt.show()

# %% [markdown]
# ## What the hidden units learned
#
# The fit is $\beta_0$ plus $K$ terms $\beta_k h_k(x)$. Drawing each term shows the
# learned features: with the sigmoid, each unit is a smooth step placed where
# $w_{k0} + w_{k1}x = 0$; with the ReLU, each is a hinge, and the fit is piecewise
# linear with a kink at each hinge.

# %%
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

# %% [markdown]
# ## The network's graph
#
# The loss on the training set, each module drawn as one box listing its parameters
# (`collapse=True`): `layers.0` is $w$, `layers.2` is $\beta$.

# %%
model = models["relu"]
loss = nn.functional.mse_loss(model(X), Y)
loss.name = "loss"
print(model)
ag.draw_graph(loss, collapse=True, show_values=False)

# %% [markdown]
# ## Backpropagation through the network, step by step
#
# The same loss in the stepper (notebook 1 shows it on scalars). With `collapse=True` each
# module is one step: the panel gives the shapes of the gradient that arrives and of what
# goes to each parameter, summarizes large tensors (min, mean, max, norm, zeros) and, where
# a gradient is summed back to a broadcast input's shape, the reduction
# (`sum over axis 0: (n, 1) -> (1,)` for the output bias).

# %%
steps = ag.backward_steps(loss, collapse=True)
steps

# %% [markdown]
# The static form, for places without JavaScript:

# %%
SVG(steps.to_svg())

# %% [markdown]
# `why` says why a gradient is zero or missing, from what the engine saw: an inactive ReLU
# (and on how many elements), a saturated sigmoid or tanh, a tensor that does not require
# grad, a tensor on no path to the loss. Here the first layer's weights did get a gradient
# (each hidden unit is active for some of the 200 points), and the inputs get none:

# %%
print(steps.why(model.layers[0].weight))
print(steps.why(X))

# %% [markdown]
# Next: [4. MNIST and Table 10.1](04_mnist_table_10_1.ipynb), the same idea with two
# hidden layers and 235,146 parameters.
