"""Training and evaluating classifiers: ``fit``, ``predict``, ``evaluate``, ``error_rate``,
``confusion_matrix``, ``plot_history``.

``fit`` is the loop every deep-learning chapter writes by hand, once: for each epoch, shuffle,
and for each mini-batch compute the loss (plus an optional penalty such as ISLR's ridge term),
backpropagate, and step the optimizer; then measure the loss and accuracy on the training
batches and on held-out data. The per-epoch figures are kept in a :class:`History`. While it
trains, NumPy's BLAS uses only the cores left free by other processes
(:mod:`nn.train.threads`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import autograd as ag
from autograd.backend import device_guard

from .. import functional as F
from ..module import Module
from .data import DataLoader
from .extras import require
from .progress import bar_class
from .threads import limit_blas_threads

Loss = Callable[[ag.Tensor, ag.Tensor], ag.Tensor]
EpochHook = Callable[["History"], Any]  # fit's on_epoch_end: True stops training


@dataclass
class History:
    """Per-epoch figures of a training run: ``history.rows[i]["val_accuracy"]`` etc.

    Columns: ``epoch``, ``loss`` (mean training loss, penalty included), ``accuracy`` (on the
    training batches, in training mode, as Keras reports it), ``val_loss``, ``val_accuracy``
    (when validation data is given), ``lr`` and ``seconds``. The accuracies are there only
    when the targets are class labels (integers, one per row); regression has none.
    ``blas_threads``: how many threads NumPy's BLAS had (None: left as it was, without
    threadpoolctl).
    """

    rows: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int | None = None
    blas_threads: int | None = None

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
    blas_threads: int | None = None,
    on_epoch_end: EpochHook | Sequence[EpochHook] = (),
    compiled: bool = False,
) -> History:
    """Train ``model`` for ``epochs`` passes over ``train`` and return its :class:`History`.

    Each step minimises ``loss_fn(model(x), y) + penalty()``. ``validation`` is a pair
    ``(x, y)`` of arrays evaluated after every epoch. ``scheduler.step()`` runs once per
    epoch (``ReduceLROnPlateau`` gets the validation loss). With ``early_stopping=k``,
    training stops after ``k`` epochs without a lower validation loss and the weights of the
    best epoch are restored.

    ``on_epoch_end``: a function ``hook(history)`` (or a list of them) called after every
    epoch, once its row is in ``history.rows`` (and after the scheduler's step): returning True
    stops training there (with ``early_stopping``, the best epoch's weights are restored); an
    exception it raises (``optuna.TrialPruned``, say) propagates out of ``fit``. ``nn.train.tuning``
    reports the validation curve to Optuna's pruners through it.

    ``compiled``: run each step (forward, loss, penalty, backward, optimizer step) under
    :func:`autograd.compile`: recorded on the first two batches of each shape, then replayed
    (the same numbers as eager, faster; see the README's "Compiled training steps").

    ``progress``: a tqdm bar per epoch; by default only in a terminal or in Jupyter (none in
    CI logs and pipes, see :mod:`nn.train.progress`). ``blas_threads``: how many threads
    NumPy's BLAS may use while training; by default ``$ARRAYGRAD_BLAS_THREADS``, else the
    cores that other processes leave free (:func:`nn.train.threads.blas_threads`). The bar
    and ``History.blas_threads`` say how many it had.
    """
    if early_stopping is not None and validation is None:
        raise ValueError("fit: early_stopping needs validation data to watch")
    hooks = [on_epoch_end] if callable(on_epoch_end) else list(on_epoch_end)

    def step(x: ag.Tensor, y: ag.Tensor) -> tuple[ag.Tensor, ag.Tensor]:
        logits = model(x)
        loss = loss_fn(logits, y)
        if penalty is not None:
            loss = loss + penalty()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss, logits

    if compiled:
        step = ag.compile(step)
    bar = bar_class(progress, "fit(progress=True)")
    with limit_blas_threads(blas_threads) as threads:
        history = History(blas_threads=threads)
        best_loss, best_state, waited = math.inf, None, 0
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            model.train()
            total_loss = total_correct = seen = 0.0
            batches = _progress(train, bar, f"epoch {epoch}/{epochs}", threads)
            for x, y in batches:
                loss, logits = step(x, y)
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
            stop = False
            if early_stopping is not None:
                if row["val_loss"] < best_loss:
                    best_loss, waited, history.best_epoch = row["val_loss"], 0, epoch
                    best_state = {k: v.clone() for k, v in model.state_dict().items()}
                else:
                    waited += 1
                    stop = waited >= early_stopping
            for hook in hooks:
                stop = bool(hook(history)) or stop
            if stop:
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
    plt = require("matplotlib.pyplot", "plot_history")

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


def _progress(
    batches: Iterable[Any], bar: Callable[..., Any] | None, description: str, threads: int | None
) -> Iterable[Any]:
    """``batches``, drawn as they pass by ``bar`` (a tqdm class), unless it is None."""
    if bar is None:
        return batches
    postfix = None if threads is None else f"BLAS threads: {threads}"
    return bar(batches, desc=description, leave=False, unit="batch", postfix=postfix)


def _n_correct(outputs: Any, targets: Any) -> int | None:
    """How many rows of ``outputs`` (N, C) are largest at their target class (N,) of integers;
    None when the targets are not class labels (regression)."""
    if outputs.ndim != 2 or targets.ndim != 1 or targets.dtype.kind not in "iu":
        return None
    with device_guard(outputs):  # on the arrays' device (CuPy computes on the current one)
        return int((outputs.argmax(axis=1) == targets).sum())
