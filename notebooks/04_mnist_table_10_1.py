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
# # 4. MNIST and ISLR's Table 10.1
#
# ISLR's section 10.2 classifies the MNIST handwritten digits ($28 \times 28$ grey images,
# $p = 784$ pixels, 10 classes) with a network of two hidden layers,
#
# $$784 \xrightarrow{\text{ReLU}} 256 \xrightarrow{\text{ReLU}} 128 \to 10
# \xrightarrow{\text{softmax}} \Pr(Y = m \mid X), \qquad 235{,}146 \text{ parameters},$$
#
# fitted by minimizing the cross-entropy $-\sum_i \sum_m y_{im} \log f_m(x_i)$.
# Table 10.1 compares its test error, regularized with ridge or with dropout, with two
# linear methods. This notebook trains the three networks with the book's recipe
# (RMSprop with Keras's defaults, batches of 128, 20% of the training images held out
# for validation, 30 epochs), using the pieces of `examples/islr_table_10_1.py`.
#
# **Data and epochs.** In full mode (the outputs saved here) the networks train on MNIST
# for 30 epochs: 48,000 training and 12,000 validation images, 10,000 test images. With
# the environment variable `ARRAYGRAD_NOTEBOOK_QUICK=1` (as CI runs it) they train for
# 20 epochs on scikit-learn's bundled $8 \times 8$ digits instead (1,149 training, 288
# validation, 360 test images; no download), which checks the pipeline but is not
# comparable with the book. The first code cell prints which mode ran.

# %%
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
import islr_table_10_1 as islr

QUICK = os.environ.get("ARRAYGRAD_NOTEBOOK_QUICK") == "1"

# %%
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

# %% [markdown]
# A few training images: each row of `x_train` is an image's pixels, scaled to $[0, 1]$.

# %%
fig, axes = plt.subplots(2, 10, figsize=(10, 2.3), constrained_layout=True)
for ax, image, label in zip(axes.flat, x_fit, y_fit):
    ax.imshow(image.reshape(side, side), cmap="gray_r")
    ax.set(title=str(label), xticks=[], yticks=[])

# %% [markdown]
# ## The three networks
#
# * **ridge**: the MLP with the penalty $\lambda \sum_j \theta_j^2$ on its weights added
#   to the mean loss, $\lambda = 10^{-4}$ (Keras's `l2(1e-4)`, `nn.l2_penalty`);
# * **dropout**: the MLP with dropout rates 0.4 and 0.3 after the hidden layers: during
#   training each hidden unit is zeroed with that probability (and the rest scaled by
#   $1/(1-\phi)$), so no unit can rely on any other;
# * **multinomial logistic regression**: no hidden layer, `MLP(784, [], 10)`, the
#   linear model $\Pr(Y = m \mid X) \propto e^{\beta_{m0} + \beta_m^\top X}$.
#
# `islr.train_network` is the script's training function: it builds the RMSprop
# optimizer and the `DataLoader`, runs `nn.training.fit`, and returns the per-epoch
# history and the test error.

# %%
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

# %% [markdown]
# The fourth row of the table is not a network: linear discriminant analysis, fitted by
# scikit-learn on the same training images.

# %%
start = time.perf_counter()
lda = LinearDiscriminantAnalysis().fit(x_fit, y_fit)
test_error = error_rate(y_test, lda.predict(x_test))
seconds = time.perf_counter() - start
name = "Linear discriminant analysis"
rows.append({"method": name, "test_error": 100 * test_error, "seconds": seconds})
print(f"{name}: test error {100 * test_error:.2f}%")

# %% [markdown]
# ## Training curves
#
# Loss and accuracy per epoch, on the training batches (dashed; measured in training
# mode, so with dropout active) and on the held-out validation images (solid). In the
# full run the validation accuracy of both networks levels off after about ten epochs
# while the training accuracy keeps climbing: from there on they mostly fit the
# training images more closely. The linear model levels off far lower.

# %% export="mnist_training_curves.png"
plot_history(histories)
plt.show()

# %% [markdown]
# ## Table 10.1, next to the book's
#
# The book's numbers come from its Keras lab; a run's test error varies by a few tenths
# of a percent with the random initialization and batch order.

# %%
for row in rows:
    row["book"] = islr.BOOK_TEST_ERROR[row["method"]]
display(Markdown(islr.markdown_table(rows, dataset)))

# %% [markdown]
# ## Where the dropout network errs
#
# The confusion matrix counts, for each true digit (row), the predicted digits
# (columns); the diagonal holds the correct answers and is left blank to make the
# errors stand out.

# %%
model = networks["Neural network + dropout"][0]
predicted = predict(model, x_test).argmax(axis=1)
counts = confusion_matrix(y_test, predicted, num_classes=10)
errors = counts * (1 - np.eye(10, dtype=counts.dtype))

fig, ax = plt.subplots(figsize=(5.5, 4.8), constrained_layout=True)
image = ax.imshow(errors, cmap="Reds")
for (i, j), n in np.ndenumerate(counts):
    ax.text(j, i, str(n), ha="center", va="center", fontsize=8, color="grey" if i == j else "black")
ax.set(
    xticks=range(10),
    yticks=range(10),
    xlabel="predicted digit",
    ylabel="true digit",
    title=f"Dropout network: {int(errors.sum())} of {len(y_test):,} test images wrong",
)
fig.colorbar(image, ax=ax, label="errors")
plt.show()

# %% [markdown]
# Some of the misclassified test images, titled *true → predicted*. Many are hard for
# people too.

# %%
wrong = np.flatnonzero(predicted != y_test)[:24]
fig, axes = plt.subplots(3, 8, figsize=(10, 4.2), constrained_layout=True)
for ax in axes.flat:
    ax.axis("off")
for ax, i in zip(axes.flat, wrong):
    ax.imshow(x_test[i].reshape(side, side), cmap="gray_r")
    ax.set_title(f"{y_test[i]} → {predicted[i]}", fontsize=10)

# %% [markdown]
# ## The network's graph
#
# The dropout network and its loss on four test images, each layer one box listing its
# parameters. The graph is recorded during the forward pass, so training mode shows the
# dropout layers.

# %%
model.train()
loss = nn.functional.cross_entropy(model(ag.tensor(x_test[:4])), ag.tensor(y_test[:4]))
loss.name = "loss"
ag.draw_graph(loss, collapse=True, show_values=False)

# %% [markdown]
# Next: [5. Gradient checking and higher order](05_gradcheck_higher_order.ipynb).
