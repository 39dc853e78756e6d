"""Training configurations as data, and the one function that trains from them.

A configuration is a plain dict of ISLR's knobs and a few more: ``hidden_sizes`` (the units
of each hidden layer: its length is the number of layers), ``activation``, ``dropout`` (one
rate for every hidden layer), ``batch_norm``, ``ridge`` (λ of :func:`nn.l2_penalty`),
``optimizer`` ("adam", "rmsprop" with Keras's defaults as in ISLR's lab, or "sgd" with
Nesterov momentum 0.9), ``lr``, ``schedule`` ("constant", "cosine" annealing to 0 over the
epochs, or "step": a tenth of the rate after each third of them), ``epochs``, ``batch_size``
and ``patience`` (early stopping on the validation loss; None: none). Missing keys take the
values of :data:`DEFAULTS`.

:func:`train_config` trains an :class:`nn.MLP` from one with :func:`nn.train.fit`; the Bayesian
search of :mod:`nn.train.tuning` draws configurations and scores them with it, and
:data:`PRESETS` keeps the ones worth retraining without searching again:

    from nn.train.presets import PRESETS, train_config
    model, history = train_config(PRESETS["mnist-tuned"], x_fit, y_fit, (x_val, y_val))

Nothing here needs Optuna.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

import autograd as ag
import optim

from ..mlp import MLP
from ..regularization import l2_penalty
from .data import DataLoader
from .fit import EpochHook, History, fit

__all__ = ["DEFAULTS", "OPTIMIZERS", "PRESETS", "SCHEDULES", "build_model", "train_config"]

OPTIMIZERS: dict[str, Callable[..., optim.Optimizer]] = {
    "adam": lambda params, lr: optim.Adam(params, lr=lr),
    # Keras's RMSprop defaults (rho 0.9, eps 1e-7), as in ISLR's lab
    "rmsprop": lambda params, lr: optim.RMSprop(params, lr=lr, alpha=0.9, eps=1e-7),
    "sgd": lambda params, lr: optim.SGD(params, lr=lr, momentum=0.9, nesterov=True),
}

SCHEDULES: dict[str, Callable[[optim.Optimizer, int], Any]] = {
    "constant": lambda optimizer, epochs: None,
    "cosine": lambda optimizer, epochs: optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs),
    "step": lambda optimizer, epochs: optim.lr_scheduler.StepLR(
        optimizer, step_size=max(1, epochs // 3), gamma=0.1
    ),
}

DEFAULTS: dict[str, Any] = {  # ISLR's lab: the dropout network's recipe
    "hidden_sizes": [256, 128],
    "activation": "relu",
    "dropout": 0.0,
    "batch_norm": False,
    "ridge": 0.0,
    "optimizer": "rmsprop",
    "lr": 1e-3,
    "schedule": "constant",
    "epochs": 30,
    "batch_size": 128,
    "patience": None,
}

PRESETS: dict[str, dict[str, Any]] = {
    # The fifth row of Table 10.1 (examples/islr_table_10_1.py --tuned): a fully connected
    # network, no convolutions, no augmentation. examples/tune.py (30 trials, 6 epochs each on
    # 20,000 images; README, "Bayesian hyperparameter search") ranked two wide ReLU layers of
    # about 1,000 units with dropout 0.2-0.3 first. Of the two candidates then trained for 30
    # epochs on the 48,000 training images, this one (Adam, cosine schedule) had the lower
    # validation error, 1.61%, against 1.88% for the search's best trial as it was (948-648,
    # batch norm, RMSprop at a constant 1.25e-3); it was chosen on that, and its test error,
    # measured once, was 1.39% (2026-12-02, 2-core AMD EPYC, 1 BLAS thread, 1,230 s).
    "mnist-tuned": {
        "hidden_sizes": [1024, 1024],
        "activation": "relu",
        "dropout": 0.3,
        "batch_norm": False,
        "ridge": 0.0,
        "optimizer": "adam",
        "lr": 1e-3,
        "schedule": "cosine",
        "epochs": 30,
        "batch_size": 128,
        "patience": None,
    },
}


def build_model(
    config: Mapping[str, Any],
    in_features: int,
    out_features: int,
    *,
    seed: int = 0,
    dtype: Any = None,
    device: str = "cpu",
) -> MLP:
    """The :class:`nn.MLP` of ``config`` (initial weights and dropout masks from ``seed``)."""
    c = {**DEFAULTS, **config}
    return MLP(
        in_features,
        [int(h) for h in c["hidden_sizes"]],
        out_features,
        activation=c["activation"],
        dropout=float(c["dropout"]),
        batch_norm=bool(c["batch_norm"]),
        dtype=dtype,
        device=device,
        generator=ag.Generator(device).manual_seed(seed),
    )


def train_config(
    config: Mapping[str, Any],
    x: Any,
    y: Any,
    validation: tuple[Any, Any] | None = None,
    *,
    seed: int = 0,
    on_epoch_end: EpochHook | Sequence[EpochHook] = (),
    blas_threads: int | None = None,
    progress: bool | None = False,
    device: str = "cpu",
) -> tuple[MLP, History]:
    """Train the network of ``config`` on ``(x, y)`` (class labels) with :func:`nn.train.fit`,
    watching ``validation`` after every epoch; return the model and its :class:`History`.
    With ``patience``, the model comes back with the weights of its best epoch."""
    c = {**DEFAULTS, **config}
    unknown = sorted(set(c) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"train_config: unknown keys {unknown}; expected {sorted(DEFAULTS)}")
    if c["optimizer"] not in OPTIMIZERS:
        raise ValueError(
            f"train_config: unknown optimizer {c['optimizer']!r}; expected one of "
            f"{sorted(OPTIMIZERS)}"
        )
    if c["schedule"] not in SCHEDULES:
        raise ValueError(
            f"train_config: unknown schedule {c['schedule']!r}; expected one of {sorted(SCHEDULES)}"
        )
    if c["patience"] is not None and validation is None:
        raise ValueError("train_config: patience (early stopping) needs validation data")
    y_array = np.asarray(y.numpy() if isinstance(y, ag.Tensor) else y)
    out_features = int(y_array.max()) + 1
    model = build_model(c, x.shape[1], out_features, seed=seed, dtype=x.dtype, device=device)
    optimizer = OPTIMIZERS[c["optimizer"]](model.parameters(), float(c["lr"]))
    epochs = int(c["epochs"])
    ridge = float(c["ridge"])
    history = fit(
        model,
        optimizer,
        DataLoader((x, y), int(c["batch_size"]), shuffle=True, seed=seed, device=device),
        epochs=epochs,
        penalty=(lambda: l2_penalty(model, ridge)) if ridge else None,
        validation=validation,
        scheduler=SCHEDULES[c["schedule"]](optimizer, epochs),
        early_stopping=c["patience"],
        progress=progress,
        blas_threads=blas_threads,
        on_epoch_end=on_epoch_end,
    )
    return model, history
