"""fit's on_epoch_end hook: called once per epoch with the History, True stops training, an
exception propagates; fit without hooks is unchanged."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn
import optim
from nn.train import DataLoader, fit


def _problem(seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(64, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    return x, y


def _run(**kwargs):
    x, y = _problem()
    model = nn.MLP(4, [8], 2, generator=ag.Generator("cpu").manual_seed(0))
    opt = optim.SGD(model.parameters(), lr=0.1)
    history = fit(
        model,
        opt,
        DataLoader((x, y), 16, shuffle=True, seed=0),
        epochs=5,
        validation=(x, y),
        progress=False,
        blas_threads=1,
        **kwargs,
    )
    return model, history


def test_the_hook_sees_every_epoch_and_changes_nothing():
    seen = []
    _, with_hook = _run(on_epoch_end=lambda h: seen.append(len(h.rows)))
    _, without = _run()
    assert seen == [1, 2, 3, 4, 5]
    assert [r["val_loss"] for r in with_hook.rows] == [r["val_loss"] for r in without.rows]


def test_true_stops_training_and_several_hooks_all_run():
    calls = []
    _, history = _run(on_epoch_end=[lambda h: len(h) == 2, lambda h: calls.append(len(h))])
    assert len(history) == 2
    assert calls == [1, 2]  # the second hook ran on the epoch the first one stopped


def test_an_exception_in_the_hook_propagates():
    class Stop(Exception):
        pass

    def hook(history):
        if len(history) == 3:
            raise Stop

    with pytest.raises(Stop):
        _run(on_epoch_end=hook)
