"""The training layer's care for its users: BLAS threads that fit in the free cores
(nn.train.threads), optional dependencies that say which extra installs them
(nn.train.extras), and progress bars only where someone watches (nn.train.progress).

No timing: the thread counts are read back with threadpoolctl, the load is faked."""

from __future__ import annotations

import io
import logging
import sys
import types

import numpy as np
import pytest

import autograd as ag
import nn
import optim
from nn.train import History, fit, progress, threads
from nn.train.data import DataLoader
from nn.train.fit import plot_history

EXTRA = r"pip install 'arraygrad\[islr\]'"


def blas_counts() -> set[int]:
    from threadpoolctl import threadpool_info

    return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}


def tiny_fit(**kwargs) -> History:
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 3)).astype(np.float32), rng.integers(0, 2, 16)
    model = nn.MLP(3, [4], 2, generator=ag.Generator().manual_seed(0))
    loader = DataLoader((x, y), 8, shuffle=True, seed=0)
    kwargs.setdefault("progress", False)
    return fit(model, optim.SGD(model.parameters(), lr=0.1), loader, epochs=1, **kwargs)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(threads.ENV_VAR, raising=False)


# ---------------------------------------------------------------------------- BLAS threads
@pytest.mark.parametrize("n", [1, 2])
def test_an_explicit_count_is_applied_inside_and_restored_after(n: int, no_env):
    pytest.importorskip("threadpoolctl")
    before = blas_counts()
    with threads.limit_blas_threads(n) as applied:
        assert applied == n
        assert blas_counts() == {n} and threads.current_blas_threads() == n
    assert blas_counts() == before


def test_the_environment_variable_overrides_the_choice_and_an_int_overrides_it(monkeypatch):
    pytest.importorskip("threadpoolctl")
    monkeypatch.setenv(threads.ENV_VAR, "1")
    assert threads.blas_threads() == 1
    with threads.limit_blas_threads() as applied:
        assert applied == 1 and blas_counts() == {1}
    assert threads.blas_threads(2) == 2
    with threads.limit_blas_threads(2) as applied:
        assert applied == 2 and blas_counts() == {2}


@pytest.mark.parametrize("setting", ["two", "0", "-1", "1.5"])
def test_a_bad_environment_variable_is_reported(monkeypatch, setting: str):
    monkeypatch.setenv(threads.ENV_VAR, setting)
    with pytest.raises(ValueError, match=threads.ENV_VAR):
        threads.blas_threads()


@pytest.mark.parametrize("n", [0, -2, True, 1.5, "2"])
def test_a_bad_count_is_reported(n, no_env):
    with pytest.raises(ValueError, match="blas_threads must be an int >= 1"):
        threads.blas_threads(n)


@pytest.mark.parametrize(
    ("cores", "load", "own", "current", "expected"),
    [
        (8, 0.1, 0.0, 8, 8),  # an idle machine: every core
        (8, 3.4, 0.0, 8, 5),  # other processes keep 3.4 cores busy: round(8 - 3.4)
        (8, 3.4, 2.0, 8, 7),  # ... of which 2.0 were this process's own work: round(8 - 1.4)
        (2, 1.0, 0.0, 2, 1),  # the case: 2 cores, one other CPU-bound process
        (4, 30.0, 0.0, 4, 1),  # overloaded: at least one
        (8, 0.0, 0.0, 2, 2),  # never more than BLAS uses (OPENBLAS_NUM_THREADS=2)
        (8, 0.0, 0.0, None, 8),  # no threadpoolctl to tell
    ],
)
def test_the_default_leaves_the_cores_others_use(
    monkeypatch, no_env, cores, load, own, current, expected
):
    monkeypatch.setattr(threads, "usable_cores", lambda: cores)
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (load, load, load))
    monkeypatch.setattr(threads._own_load, "update", lambda: own)
    monkeypatch.setattr(threads, "current_blas_threads", lambda: current)
    assert threads.blas_threads() == expected


def test_without_a_load_average_all_cores_are_used(monkeypatch, no_env):
    def unavailable() -> tuple[float, float, float]:
        raise OSError("no load average here")

    monkeypatch.setattr(threads, "usable_cores", lambda: 6)
    monkeypatch.setattr(threads.os, "getloadavg", unavailable)
    monkeypatch.setattr(threads, "current_blas_threads", lambda: None)
    assert threads.blas_threads() == 6


def test_the_own_load_is_an_exponential_average_of_the_cores_kept_busy():
    own = threads._OwnLoad()
    own.wall -= 600.0  # as if the last update were 10 minutes ago ...
    own.cpu -= 1200.0  # ... and 2 cores had been busy since
    assert own.update() == pytest.approx(2.0, abs=0.01)
    assert own.update() == pytest.approx(2.0, abs=0.01)  # a moment later: still about 2
    assert 1 <= threads.usable_cores() <= (threads.os.cpu_count() or 1)


def test_fit_trains_with_the_threads_it_reports(no_env):
    pytest.importorskip("threadpoolctl")
    before = blas_counts()
    seen = []

    def loss_fn(logits, y):
        seen.append(threads.current_blas_threads())
        return nn.functional.cross_entropy(logits, y)

    history = tiny_fit(blas_threads=1, loss_fn=loss_fn)
    assert history.blas_threads == 1 and set(seen) == {1}
    assert blas_counts() == before
    assert 1 <= tiny_fit().blas_threads <= threads.usable_cores()  # the default: chosen


def test_fit_shows_the_threads_on_its_bar(monkeypatch, no_env):
    pytest.importorskip("tqdm")
    pytest.importorskip("threadpoolctl")
    monkeypatch.setattr(sys, "stderr", Terminal())
    tiny_fit(progress=None, blas_threads=1)
    assert "epoch 1/1" in sys.stderr.getvalue() and "BLAS threads: 1" in sys.stderr.getvalue()


def test_without_threadpoolctl_fit_changes_nothing_and_says_so_once(monkeypatch, caplog, no_env):
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)
    monkeypatch.setattr(threads, "_said_missing", False)
    assert threads.current_blas_threads() is None
    with caplog.at_level(logging.WARNING, logger="nn.train.threads"):
        assert tiny_fit(blas_threads=1).blas_threads is None
        assert tiny_fit().blas_threads is None
    messages = [r.getMessage() for r in caplog.records if r.name == "nn.train.threads"]
    hint = "limiting BLAS threads needs threadpoolctl: pip install 'arraygrad[islr]'"
    assert len(messages) == 1 and hint in messages[0]


# ------------------------------------------------------------------- optional dependencies
def test_plot_history_without_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=f"^plot_history needs matplotlib: {EXTRA}$"):
        plot_history(History())


def test_progress_bars_without_tqdm(monkeypatch, no_env):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    with pytest.raises(ImportError, match=rf"^fit\(progress=True\) needs tqdm: {EXTRA}$"):
        tiny_fit(progress=True)
    monkeypatch.setattr(sys, "stderr", Terminal())
    assert len(tiny_fit(progress=None)) == 1  # by default: no bar, no error
    assert sys.stderr.getvalue() == ""


def test_load_digits_without_scikit_learn_names_the_extra(monkeypatch):
    from nn.train import load_digits

    monkeypatch.setitem(sys.modules, "sklearn", None)
    with pytest.raises(ImportError, match=f"^load_digits needs scikit-learn: {EXTRA}$"):
        load_digits()


# --------------------------------------------------------------------------- progress bars
def fake_ipython(monkeypatch: pytest.MonkeyPatch, shell: object) -> None:
    module = types.ModuleType("IPython")
    module.get_ipython = lambda: shell
    monkeypatch.setitem(sys.modules, "IPython", module)


def test_bars_by_default_only_in_a_terminal(monkeypatch):
    pytest.importorskip("tqdm")
    from tqdm.std import tqdm

    monkeypatch.setattr(sys, "stderr", io.StringIO())  # a pipe, a file, a CI log
    assert not progress.on_by_default() and progress.bar_class(None, "f") is None
    assert progress.bar_class(True, "f") is tqdm and progress.bar_class(False, "f") is None
    monkeypatch.setattr(sys, "stderr", Terminal())
    assert progress.on_by_default() and progress.bar_class(None, "f") is tqdm
    assert progress.bar_class(False, "f") is None


def test_bars_by_default_in_jupyter_where_ipywidgets_draws_them(monkeypatch):
    pytest.importorskip("tqdm")
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # a kernel's stderr is no terminal
    fake_ipython(monkeypatch, None)  # IPython imported, but no shell
    assert not progress.in_jupyter()
    fake_ipython(monkeypatch, types.SimpleNamespace())  # the terminal IPython: no kernel
    assert not progress.in_jupyter()
    fake_ipython(monkeypatch, types.SimpleNamespace(kernel=object()))
    assert progress.in_jupyter()
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    assert not progress.on_by_default()  # tqdm's text bars would garble the notebook
    monkeypatch.setattr(progress, "available", lambda module: True)
    assert progress.on_by_default() and progress.bar_class(None, "f") is not None
