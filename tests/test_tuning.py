"""Bayesian search with real Optuna on a real SQLite study (nn.train.tuning): it finds a good
network on the 8x8 digits, resumes without repeating trials, shares a study between worker
processes, prunes a hopeless configuration early, and rejects a malformed space or storage
before anything trains. Tiny networks, few epochs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

optuna = pytest.importorskip("optuna")
pytest.importorskip("sklearn")

from optuna.trial import TrialState  # noqa: E402

from nn.train import load_digits, train_val_split, tuning  # noqa: E402
from nn.train.estimators import markdown_table  # noqa: E402
from nn.train.tuning import (  # noqa: E402
    Choice,
    Float,
    Int,
    SearchSpaceError,
    StorageError,
    run_search,
    study_table,
)

ROOT = Path(__file__).resolve().parents[1]
SPACE = {  # tiny: one hidden layer of 16-64 units, 6 epochs of a few hundred images
    "layers": 1,
    "units": Int(16, 64, log=True),
    "lr": Float(1e-3, 2e-2, log=True),
    "dropout": Float(0.0, 0.3),
    "optimizer": "adam",
    "epochs": 6,
    "batch_size": 64,
}


@pytest.fixture(scope="module", autouse=True)
def _quiet_optuna():
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    yield
    optuna.logging.set_verbosity(verbosity)


@pytest.fixture(scope="module")
def digits():
    x, y, _, _ = load_digits()
    x_fit, x_val, y_fit, y_val = train_val_split(x, y, 0.25, seed=0)
    return x_fit, y_fit, x_val, y_val


def _url(tmp_path: Path, name: str = "study.db") -> str:
    return f"sqlite:///{tmp_path / name}"


def _trials(url: str, name: str = "arraygrad"):
    return optuna.load_study(study_name=name, storage=url).trials


def test_a_search_on_digits_finds_a_good_network_and_reports_it(digits, tmp_path):
    url = _url(tmp_path)
    study = run_search(SPACE, digits, n_trials=6, storage=url, blas_threads=1)
    assert len(study.trials) == 6
    assert study.best_value < 0.08  # validation error of the best of 6 (about 3-5% here)
    best = study.best_trial
    assert best.user_attrs["config"]["hidden_sizes"] == [best.params["units_1"]]
    assert best.user_attrs["worker"] == f"{os.uname().nodename}:{os.getpid()}"
    rows = study_table(study, top=3)
    assert rows[0]["trial"] == best.number and len(rows) == 3
    assert "| rank | trial | state |" in markdown_table(rows)
    written = tuning.plot_study(study, tmp_path)
    assert {p.name for p in written} == {"tuning_history.png", "tuning_importances.png"}


def test_an_interrupted_search_resumes_without_repeating_finished_trials(digits, tmp_path):
    url = _url(tmp_path)
    run_search(SPACE, digits, n_trials=4, storage=url, blas_threads=1)
    first = [(t.number, t.params, t.value) for t in _trials(url)]
    # a new process, a new study object on the same file: it runs only the 2 trials missing
    np.savez(tmp_path / "data.npz", *digits)
    script = f"""
import numpy as np, optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
from nn.train.tuning import run_search
from tests.test_tuning import SPACE
d = np.load({str(tmp_path / "data.npz")!r})
run_search(SPACE, tuple(d[f"arr_{{i}}"] for i in range(4)), n_trials=6, storage={url!r},
           blas_threads=1)
"""
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, timeout=120)
    trials = _trials(url)
    assert [t.number for t in trials] == list(range(6))
    assert [(t.number, t.params, t.value) for t in trials[:4]] == first
    assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials)
    assert trials[4].user_attrs["worker"] != trials[0].user_attrs["worker"]
    assert trials[4].params != trials[0].params  # the resumed sampler does not replay its draws
    # enough trials already: nothing more runs
    run_search(SPACE, digits, n_trials=5, storage=url, blas_threads=1)
    assert len(_trials(url)) == 6


def test_a_trial_interrupted_by_ctrl_c_fails_and_is_run_again(digits, tmp_path, monkeypatch):
    url = _url(tmp_path)
    real = tuning.train_config

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(tuning, "train_config", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_search(SPACE, digits, n_trials=2, storage=url, blas_threads=1)
    monkeypatch.setattr(tuning, "train_config", real)
    run_search(SPACE, digits, n_trials=2, storage=url, blas_threads=1)
    states = [t.state for t in _trials(url)]
    assert states == [TrialState.FAIL, TrialState.COMPLETE, TrialState.COMPLETE]


def test_two_worker_processes_share_one_study(digits, tmp_path):
    url = _url(tmp_path)
    space = {**SPACE, "epochs": 10}  # trials long enough for both workers to take some
    study = run_search(space, digits, n_trials=8, storage=url, workers=2, blas_threads=1)
    trials = study.trials
    numbers = [t.number for t in trials]
    assert numbers == list(range(len(trials))) and 8 <= len(trials) <= 9  # none lost or doubled
    assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials)
    workers = {t.user_attrs["worker"] for t in trials}
    assert len(workers) == 2 and str(os.getpid()) not in {w.split(":")[1] for w in workers}


def test_pruning_stops_a_hopeless_configuration_early(digits, tmp_path):
    url = _url(tmp_path)
    space = {**SPACE, "units": 32, "dropout": 0.0, "epochs": 8, "lr": Float(1e-6, 1e-1, log=True)}
    study = tuning.create_study(url)
    for lr in (1e-2, 1e-2, 1e-2, 1e-5):  # three good runs, then a learning rate far too small
        study.enqueue_trial({"lr": lr})
    pruner = optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1)
    run_search(space, digits, n_trials=4, storage=url, pruner=pruner, blas_threads=1)
    *good, bad = _trials(url)
    assert [t.state for t in good] == [TrialState.COMPLETE] * 3
    assert all(t.user_attrs["epochs"] == 8 for t in good)
    assert bad.params["lr"] == 1e-5 and bad.state == TrialState.PRUNED
    assert bad.user_attrs["epochs"] < 8 and len(bad.intermediate_values) < 8


@pytest.mark.parametrize(
    ("space", "knob"),
    [
        ({"dropout": Float(0.2, 1.5)}, "dropout"),
        ({"lr": Float(0.0, 1e-2, log=True)}, "lr"),
        ({"lr": Float(1e-2, 1e-3)}, "lr"),
        ({"units": Float(16, 64)}, "units"),
        ({"layer": 2}, "layer"),
        ({"optimizer": Choice("adam", "lbfgs")}, "optimizer"),
        ({"epochs": 0}, "epochs"),
        ({"units": [16, 32]}, "units"),
        ({"layers": Int(1, 3)}, "units"),  # units must be given when layers is searched
    ],
)
def test_a_malformed_space_is_named_before_any_training(digits, tmp_path, monkeypatch, space, knob):
    monkeypatch.setattr(tuning, "train_config", _no_training)
    with pytest.raises(SearchSpaceError, match=f"'{knob}'"):
        run_search(space, digits, n_trials=1, storage=_url(tmp_path))
    assert not (tmp_path / "study.db").exists()


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("results/tuning.db", "not a database URL"),
        ("sqlite://", "in-memory"),
        ("sqlite:///:memory:", "in-memory"),
        ("postgresql://user@/tuning", "needs a host"),
        ("oracle://host/db", "unsupported database"),
        ("postgresql+nodriver://host/db", "no driver"),
        ("postgresql://user:secret@127.0.0.1:9/tuning", "cannot open"),
    ],
)
def test_a_malformed_storage_url_is_reported_before_any_training(
    digits, tmp_path, monkeypatch, url, words
):
    if words == "cannot open":  # reaching the server needs a PostgreSQL driver (tune-cluster)
        pytest.importorskip(
            "psycopg2", reason="needs psycopg2: pip install 'arraygrad[tune-cluster]'"
        )
    monkeypatch.setattr(tuning, "train_config", _no_training)
    with pytest.raises((StorageError, ValueError), match=words):
        run_search(SPACE, digits, n_trials=1, storage=url.format(tmp=tmp_path))


def test_tune_py_rejects_a_malformed_storage_url_before_loading_data():
    result = subprocess.run(
        [sys.executable, "examples/tune.py", "--quick", "--storage", "sqlite:///:memory:"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "in-memory SQLite" in result.stderr
    assert "Traceback" not in result.stderr and "digits:" not in result.stdout


def test_unknown_sampler_and_gp_sampler(digits, tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="unknown sampler"):
        run_search(SPACE, digits, n_trials=1, storage=_url(tmp_path), sampler="cmaes")
    pytest.importorskip("torch")
    study = run_search(
        SPACE, digits, n_trials=2, storage=_url(tmp_path), sampler="gp", blas_threads=1
    )
    assert len(study.trials) == 2


def test_optuna_search_cv_tunes_the_scikit_learn_classifier(digits):
    integration = pytest.importorskip("optuna_integration")
    from nn.train.estimators import MLPClassifier

    x_fit, y_fit, x_val, y_val = digits
    distributions = tuning.sklearn_distributions(
        {"layers": 1, "units": Int(16, 64, log=True), "lr": Float(1e-3, 1e-2, log=True)}
    )
    assert set(distributions) == {"hidden_sizes", "lr"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # OptunaSearchCV
        # optuna-integration 5.0's OptunaSearchCV imports optuna.terminator, deprecated in 4.9
        warnings.filterwarnings("ignore", "`optuna.terminator`", FutureWarning)
        search = integration.OptunaSearchCV(
            MLPClassifier(optimizer="adam", epochs=5, batch_size=64, random_state=0),
            distributions,
            n_trials=3,
            cv=2,
            random_state=0,
        )
        search.fit(x_fit, y_fit)
    assert set(search.best_params_) == {"hidden_sizes", "lr"}
    assert search.score(x_val, y_val) > 0.85
    with pytest.raises(SearchSpaceError, match="layers"):
        tuning.sklearn_distributions({"layers": 2, "units": 32})


def test_without_optuna_the_rest_works_and_tuning_says_what_to_install():
    script = """
import sys
sys.modules["optuna"] = None
import nn, nn.train, nn.train.presets
try:
    import nn.train.tuning
except ImportError as e:
    print(e)
"""
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert 'pip install "arraygrad[tune]"' in out
    tune = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, runpy; sys.modules['optuna'] = None; "
            "runpy.run_path('examples/tune.py', run_name='__main__')",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert tune.returncode != 0 and 'pip install "arraygrad[tune]"' in tune.stderr


@pytest.mark.skipif(
    not os.environ.get("ARRAYGRAD_TEST_POSTGRES_URL"),
    reason="set ARRAYGRAD_TEST_POSTGRES_URL=postgresql://user:pw@host/db to run it",
)
def test_a_postgresql_study_resumes_and_records_its_workers(digits):
    pytest.importorskip("psycopg2")
    url = os.environ["ARRAYGRAD_TEST_POSTGRES_URL"]
    name = f"arraygrad-test-{os.getpid()}"
    try:
        run_search(SPACE, digits, n_trials=2, storage=url, study_name=name, blas_threads=1)
        study = run_search(
            SPACE, digits, n_trials=4, storage=url, study_name=name, workers=2, blas_threads=1
        )
        trials = study.trials
        assert [t.number for t in trials] == list(range(len(trials))) and 4 <= len(trials) <= 5
        assert all(t.state == TrialState.COMPLETE for t in trials)
        assert len({t.user_attrs["worker"] for t in trials}) >= 2
        assert json.dumps(study.best_trial.user_attrs["config"])
    finally:
        optuna.delete_study(study_name=name, storage=tuning.make_storage(url))


def _no_training(*args, **kwargs):
    raise AssertionError("nothing may train before the space and the storage are checked")
