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
# # 5. Gradient checking and higher-order derivatives
#
# Gradients computed by an engine are only as right as its backward rules. This
# notebook checks them three ways (finite differences, closed forms, and random
# inputs chosen by hypothesis), and takes derivatives of derivatives.

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag
from autograd import functional
from autograd.testing import broadcastable_shapes, check_gradients, shapes, tensors

rng = np.random.default_rng(0)


# %% [markdown]
# ## `gradcheck` on your own function
#
# A function built from arraygrad's operations, the negative log-likelihood of data
# $x$ under a normal distribution with mean $\mu$ and standard deviation $e^s$:
#
# $$\ell(x, \mu, s) = \frac1n \sum_i \left[\frac{(x_i - \mu)^2}{2e^{2s}} + s\right]
# + \tfrac12 \log 2\pi .$$
#
# `gradcheck` reduces the outputs to one number with fixed random weights, computes its
# gradient with one backward pass and compares it, element by element, with central
# differences in float64; it passes when
# $|\text{analytic} - \text{numeric}| \le \text{atol} + \text{rtol}\,|\text{numeric}|$
# everywhere (by default $10^{-5}$ and $10^{-3}$).


# %%
def gaussian_nll(x: ag.Tensor, mu: ag.Tensor, s: ag.Tensor) -> ag.Tensor:
    return ((x - mu) ** 2 / (2 * (2 * s).exp()) + s).mean() + 0.5 * math.log(2 * math.pi)


x = ag.tensor(rng.normal(1.0, 2.0, 50), requires_grad=True)
mu = ag.tensor(0.5, dtype=ag.float64, requires_grad=True)
s = ag.tensor(0.2, dtype=ag.float64, requires_grad=True)
print("gradcheck:", ag.gradcheck(gaussian_nll, [x, mu, s]))
print("gradgradcheck:", ag.gradgradcheck(gaussian_nll, [x, mu, s]))


# %% [markdown]
# ## When you write the backward rule yourself
#
# Composites of arraygrad's operations get their gradients from the graph. A new
# operation, written as a `Function` with its own backward rule, needs checking. Here is
# softplus, $\operatorname{softplus}(x) = \log(1 + e^x)$, with
# $\frac{d}{dx}\operatorname{softplus}(x) = \frac{1}{1 + e^{-x}}$, and a copy with a
# plausible slip: $e^{x}$ for $e^{-x}$. `backward(m, g, x)` receives the gradient `g`
# from above and the saved input, and writes its math with `m`'s functions, so that the
# rule also works on tensors when a second derivative is wanted.


# %%
class Softplus(ag.Function):
    """log(1 + e^x);  d/dx = 1 / (1 + e^-x)."""

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

# %% [markdown]
# The error names the input, the worst element and both values. Note that the slip
# is invisible at $x = 0$, where $1/(1 + e^{0}) = 1/(1 + e^{-0})$: a check at one
# convenient point would have passed.

# %%
zero = ag.tensor([0.0], dtype=ag.float64, requires_grad=True)
print("buggy softplus at x = 0:", ag.gradcheck(buggy_softplus, [zero]))

# %% [markdown]
# ## Property-based checks with hypothesis
#
# Rather than choosing test points, let [hypothesis](https://hypothesis.works) draw
# them: shapes (including 0-d and size-1 axes) and values, many times. A failure is
# *shrunk* to a small example. `autograd.testing` provides the strategies (`shapes`,
# `broadcastable_shapes`, `tensors`, ...) and `check_gradients`, which runs
# `gradcheck` and `gradgradcheck` on one draw. (`database=None` keeps hypothesis from
# saving examples next to the notebook; `derandomize=True` makes the run repeatable.)

# %%
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


# %% [markdown]
# The same property on the buggy operation fails, and hypothesis reports the smallest
# failing input it found:


# %%
@quick
@given(tensors(shapes()))
def test_buggy_softplus(x):
    check_gradients(buggy_softplus, x, order=1)


try:
    test_buggy_softplus()
except ag.GradcheckError as error:
    print(error.__notes__[0])  # hypothesis' report: the smallest failing input
    print(error)

# %% [markdown]
# ## A Hessian and its closed form
#
# The log-sum-exp $f(x) = \log \sum_i e^{x_i}$ (the normalizer of softmax and
# cross-entropy) has gradient $\nabla f = p = \operatorname{softmax}(x)$ and Hessian
#
# $$\nabla^2 f(x) = \operatorname{diag}(p) - p\,p^\top .$$
#
# `functional.hessian` computes it as the Jacobian of the gradient: one backward pass
# through the gradient's own graph per row. `functional.hvp` gives a Hessian-vector
# product $Hv$ without forming $H$, at the cost of about two backward passes.

# %%
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
fig.colorbar(image, ax=axes, shrink=0.8)
plt.show()

# %% [markdown]
# ## Derivatives of any order
#
# `ag.grad(y, x, create_graph=True)` records the backward pass itself, so its result
# can be differentiated again. For an elementwise function, the gradient of the sum
# $\sum_i f(x_i)$ is the vector of derivatives $f'(x_i)$, so one call differentiates at
# every point of a grid. The derivatives of $\tanh$, with $t = \tanh x$:
#
# $$\tanh' = 1 - t^2, \qquad \tanh'' = -2t(1 - t^2), \qquad
# \tanh''' = -2(1 - t^2)(1 - 3t^2).$$

# %%
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
ax.legend()
plt.show()

# %% [markdown]
# Next: [6. GPU](06_gpu.ipynb).
