"""Training and evaluating classifiers: ``fit``, ``predict``, ``evaluate``, ``error_rate``,
``confusion_matrix``, ``plot_history``.

``fit`` is the loop every deep-learning chapter writes by hand, once: for each epoch, shuffle,
and for each mini-batch compute the loss (plus an optional penalty such as ISLR's ridge term),
backpropagate, and step the optimizer; then measure the loss and accuracy on the training
batches and on held-out data. The per-epoch figures are kept in a :class:`History`.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import autograd as ag

from . import functional as F
from .data import DataLoader
from .module import Module

Loss = Callable[[ag.Tensor, ag.Tensor], ag.Tensor]


@dataclass
class History:
    """Per-epoch figures of a training run: ``history.rows[i]["val_accuracy"]`` etc.

    Columns: ``epoch``, ``loss`` (mean training loss, penalty included), ``accuracy`` (on the
    training batches, in training mode, as Keras reports it), ``val_loss``, ``val_accuracy``
    (when validation data is given), ``lr`` and ``seconds``. The accuracies are there only
    when the targets are class labels (integers, one per row); regression has none.
    """

    rows: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int | None = None

    def __getitem__(self, column: str) -> list[float]:
        return [row[column] for row in self.rows]

    def __len__(self) -> int:
        return len(self.rows)


def fit(
    model: Module,
    optimizer: Any,
    train: DataLoader,
    *,
    epochs: int,
    loss_fn: Loss = F.cross_entropy,
    penalty: Callable[[], ag.Tensor] | None = None,
    validation: tuple[Any, Any] | None = None,
    scheduler: Any = None,
    early_stopping: int | None = None,
    progress: bool | None = None,
) -> History:
    """Train ``model`` for ``epochs`` passes over ``train`` and return its :class:`History`.

    Each step minimises ``loss_fn(model(x), y) + penalty()``. ``validation`` is a pair
    ``(x, y)`` of arrays evaluated after every epoch. ``scheduler.step()`` runs once per
    epoch (``ReduceLROnPlateau`` gets the validation loss). With ``early_stopping=k``,
    training stops after ``k`` epochs without a lower validation loss and the weights of the
    best epoch are restored. ``progress``: a tqdm bar per epoch (default: only when stderr is
    a terminal).
    """
    if early_stopping is not None and validation is None:
        raise ValueError("fit: early_stopping needs validation data to watch")
    if progress is None:
        progress = sys.stderr.isatty()
    history = History()
    best_loss, best_state, waited = math.inf, None, 0
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        model.train()
        total_loss = total_correct = seen = 0.0
        batches = _progress(train, progress, f"epoch {epoch}/{epochs}")
        for x, y in batches:
            logits = model(x)
            loss = loss_fn(logits, y)
            if penalty is not None:
                loss = loss + penalty()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            n = len(y)
            total_loss += float(loss) * n
            correct = _n_correct(logits.data, y.data)
            total_correct = None if correct is None else total_correct + correct
            seen += n
        row = {"epoch": epoch, "loss": total_loss / seen}
        if total_correct is not None:
            row["accuracy"] = total_correct / seen
        row["lr"] = optimizer.param_groups[0]["lr"]
        if validation is not None:
            row["val_loss"], val_accuracy = evaluate(model, *validation, loss_fn=loss_fn)
            if not math.isnan(val_accuracy):
                row["val_accuracy"] = val_accuracy
        row["seconds"] = time.perf_counter() - start
        history.rows.append(row)
        if scheduler is not None:
            plateau = type(scheduler).__name__ == "ReduceLROnPlateau"
            scheduler.step(row.get("val_loss", row["loss"])) if plateau else scheduler.step()
        if early_stopping is not None:
            if row["val_loss"] < best_loss:
                best_loss, waited, history.best_epoch = row["val_loss"], 0, epoch
                best_state = {k: v.clone() for k, v in model.state_dict().items()}
            else:
                waited += 1
                if waited >= early_stopping:
                    break
    if best_state is not None:
        model.load_state_dict(best_state)
    return history


def predict(model: Module, x: Any, batch_size: int = 1024) -> np.ndarray:
    """The model's outputs for the rows of ``x`` (in eval mode, without recording a graph),
    as a NumPy array on the CPU."""
    was_training = model.training
    model.eval()
    device = next(iter(model.parameters())).device
    outputs = []
    with ag.no_grad():
        for start in range(0, len(x), batch_size):
            xb = x[start : start + batch_size]
            if not isinstance(xb, ag.Tensor):
                xb = ag.tensor(xb, device=device)  # the explicit copy to the model's device
            outputs.append(model(xb).cpu().numpy())
    model.train(was_training)
    return np.concatenate(outputs)


def evaluate(
    model: Module, x: Any, y: Any, loss_fn: Loss = F.cross_entropy, batch_size: int = 1024
) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` on ``(x, y)``, in eval mode (the accuracy is NaN
    when ``y`` holds no class labels, as in regression)."""
    logits = predict(model, x, batch_size)
    labels = np.asarray(y.numpy() if isinstance(y, ag.Tensor) else y)
    loss = float(loss_fn(ag.tensor(logits), ag.tensor(labels)))
    correct = _n_correct(logits, labels)
    return loss, math.nan if correct is None else correct / len(labels)


def error_rate(y_true: Any, y_pred: Any) -> float:
    """The fraction of labels predicted wrongly (ISLR's "test error")."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"error_rate: shapes differ, {y_true.shape} and {y_pred.shape}")
    return float(np.mean(y_true != y_pred))


def confusion_matrix(y_true: Any, y_pred: Any, num_classes: int | None = None) -> np.ndarray:
    """``C[i, j]`` = how many samples of class ``i`` were predicted as class ``j``."""
    y_true, y_pred = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    k = num_classes or int(max(y_true.max(), y_pred.max())) + 1
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts


def plot_history(histories: dict[str, History] | History, path: str | None = None) -> Any:
    """Training curves (loss and accuracy per epoch, training dashed and validation solid)
    for one run or several named runs; saved to ``path`` when given. Returns the figure."""
    import matplotlib.pyplot as plt

    if isinstance(histories, History):
        histories = {"": histories}
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    for (name, h), color in zip(
        histories.items(), plt.rcParams["axes.prop_cycle"].by_key()["color"]
    ):
        epochs = h["epoch"]
        for ax, column in ((ax_loss, "loss"), (ax_acc, "accuracy")):
            if not h.rows or column not in h.rows[0]:
                continue  # no accuracy in regression
            ax.plot(epochs, h[column], "--", color=color, label=f"{name} train".strip())
            if h.rows and f"val_{column}" in h.rows[0]:
                ax.plot(epochs, h[f"val_{column}"], color=color, label=f"{name} validation".strip())
    ax_loss.set(xlabel="epoch", ylabel="loss", title="Loss")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="Accuracy")
    ax_acc.legend(fontsize="small")
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


def _progress(batches: Iterable[Any], enabled: bool, description: str) -> Iterable[Any]:
    if not enabled:
        return batches
    from tqdm.auto import tqdm

    return tqdm(batches, desc=description, leave=False, unit="batch")


def _n_correct(outputs: Any, targets: Any) -> int | None:
    """How many rows of ``outputs`` (N, C) are largest at their target class (N,) of integers;
    None when the targets are not class labels (regression)."""
    if outputs.ndim != 2 or targets.ndim != 1 or targets.dtype.kind not in "iu":
        return None
    return int((outputs.argmax(axis=1) == targets).sum())
