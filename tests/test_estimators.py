"""The scikit-learn estimators (nn/estimators.py): scikit-learn's own estimator checks, model
selection with them (GridSearchCV on two joblib workers, cross_val_score, pipelines), and an
end-to-end run on the 8x8 digits that must reach 97% test accuracy.

All of scikit-learn's checks (API and legacy) run, none is expected to fail. Three of them
skip themselves, for reasons of this environment rather than of the estimators:

- ``check_classifier_data_not_an_array`` and ``check_regressor_data_not_an_array`` feed
  pandas objects and skip when pandas is not installed (arraygrad does not depend on it);
  with pandas they run and pass like the others.
- ``check_array_api_input`` (for estimators that, like these, do not claim array-API
  support: turning scikit-learn's array-API dispatch on must not change their results)
  needs ``SCIPY_ARRAY_API=1`` set before SciPy is imported, which a test cannot do; with
  it set (``SCIPY_ARRAY_API=1 pytest tests/test_estimators.py``) it passes.
"""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="scikit-learn is optional: pip install -e '.[islr]'")

from sklearn.datasets import make_regression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

import autograd as ag
import nn
import optim
from nn import functional as F
from nn.data import DataLoader, train_val_split
from nn.datasets import load_digits
from nn.estimators import MLPClassifier, MLPRegressor, markdown_table, search_table
from nn.training import evaluate, fit

# Small and quick, yet enough to pass the checks that demand a good fit (83% accuracy on
# scikit-learn's blobs, R² > 0.5 on its regression data).
SMALL = {"hidden_sizes": (16,), "epochs": 20, "lr": 1e-2, "batch_size": 32, "random_state": 0}


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """These products of small matrices gain nothing from a second BLAS thread, and lose much
    when it must wait for a busy core (OpenBLAS on 2 cores, the other one busy: 128x64 @
    64x256 takes 2 ms with two threads, 45 µs with one). The joblib workers have one each."""
    with threadpool_limits(1, user_api="blas"):
        yield


@pytest.fixture(scope="module")
def digits():
    return load_digits()


@parametrize_with_checks([MLPClassifier(**SMALL), MLPRegressor(**SMALL)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_digits_end_to_end(digits):
    """ISLR's dropout network (256-128, dropout 0.4 and 0.3, RMSprop, batches of 128, 30
    epochs) on the 1,437 training digits: at least 97% of the 360 test digits right."""
    x_train, y_train, x_test, y_test = digits
    model = MLPClassifier(dropout=(0.4, 0.3), random_state=0).fit(x_train, y_train)
    assert model.score(x_test, y_test) >= 0.97
    assert isinstance(model.model_, nn.MLP)
    assert model.model_.num_parameters() == 64 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10
    assert len(model.history_) == 30
    assert model.history_.rows[-1]["loss"] < model.history_.rows[0]["loss"] / 5
    np.testing.assert_array_equal(model.classes_, np.arange(10))
    assert model.n_features_in_ == 64


def test_grid_search_on_two_workers(digits):
    """A 2 x 2 grid over ridge and lr, fitted in two joblib worker processes (the estimator
    and the data are pickled to them), gives the scores of the same search run in-process;
    the table lists the candidates from the lowest validation error."""
    x, y = digits[0][:600], digits[1][:600]
    estimator = MLPClassifier(hidden_sizes=(32,), epochs=15, batch_size=32, random_state=0)
    grid = {"ridge": [0.0, 1e-3], "lr": [1e-3, 1e-2]}
    searches = [GridSearchCV(estimator, grid, cv=3, n_jobs=n).fit(x, y) for n in (2, 1)]
    parallel, serial = (s.cv_results_ for s in searches)
    np.testing.assert_array_equal(parallel["mean_test_score"], serial["mean_test_score"])
    assert searches[0].best_score_ >= 0.85
    rows = search_table(searches[0])
    assert {k: rows[0][k] for k in grid} == searches[0].best_params_
    errors = [row["val_error"] for row in rows]
    assert errors == sorted(errors) and len(rows) == 4
    assert errors[0] == pytest.approx(1 - searches[0].best_score_)
    assert {row["lr"] for row in rows[:2]} == {1e-2}  # in 15 epochs, the larger steps win
    assert rows[0]["rank"] == 1
    table = markdown_table(rows).splitlines()
    assert table[0] == "| rank | lr | ridge | val_error | val_error_std | fit_seconds |"
    assert len(table) == 2 + 4


def test_search_table_of_a_loss():
    """With a neg_* scorer, the error is the loss itself: -score."""
    x, y = make_regression(120, 4, noise=0.1, random_state=0)
    search = GridSearchCV(
        MLPRegressor(hidden_sizes=(8,), epochs=10, lr=1e-2, batch_size=16, random_state=0),
        {"ridge": [0.0, 10.0]},
        scoring="neg_mean_squared_error",
        cv=2,
        return_train_score=True,
    ).fit(x, y / 100)
    rows = search_table(search)
    assert [row["ridge"] for row in rows] == [0.0, 10.0]  # a heavy penalty underfits
    for row in rows:
        i = search.cv_results_["params"].index({"ridge": row["ridge"]})
        assert row["val_error"] == pytest.approx(-search.cv_results_["mean_test_score"][i])
        assert row["train_error"] == pytest.approx(-search.cv_results_["mean_train_score"][i])


def test_pipeline_and_cross_val_score(digits):
    x, y = digits[0][:600], digits[1][:600]
    classifier = MLPClassifier(
        hidden_sizes=(32,), epochs=15, lr=1e-2, batch_size=32, random_state=0
    )
    scores = cross_val_score(make_pipeline(StandardScaler(), classifier), x, y, cv=3)
    assert scores.shape == (3,) and scores.min() >= 0.8 and scores.mean() >= 0.85

    x, y = make_regression(300, 5, noise=1.0, random_state=0)
    regressor = MLPRegressor(hidden_sizes=(32,), epochs=40, lr=1e-2, batch_size=32, random_state=0)
    scores = cross_val_score(make_pipeline(StandardScaler(), regressor), x, y / y.std(), cv=3)
    assert scores.min() >= 0.95  # R²


def test_random_state_makes_fit_repeatable(digits):
    """Weights, dropout masks, batch order and validation split come from random_state alone,
    whatever the global generators of autograd and NumPy are at."""
    x, y = digits[0][:300], digits[1][:300]
    params = {"hidden_sizes": (16,), "dropout": 0.3, "epochs": 3, "validation_fraction": 0.2}
    first = MLPClassifier(**params, random_state=7).fit(x, y).predict_proba(x)
    ag.rand(10), np.random.random(10)  # move the global streams on
    again = MLPClassifier(**params, random_state=7).fit(x, y).predict_proba(x)
    other = MLPClassifier(**params, random_state=8).fit(x, y).predict_proba(x)
    np.testing.assert_array_equal(first, again)
    assert np.abs(first - other).max() > 1e-3


def test_fitted_estimator_pickles(digits):
    """The fitted network (nn.MLP: Modules and Parameters) pickles; the dropout layers are
    trained from a seeded autograd.Generator, which does not pickle, so fit leaves none."""
    x, y = digits[0][:200], digits[1][:200]
    model = MLPClassifier(hidden_sizes=(16, 16), dropout=0.2, epochs=2, random_state=0).fit(x, y)
    copy = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(copy.predict_proba(x), model.predict_proba(x))
    assert [name for name, _ in copy.model_.named_parameters()] == [
        name for name, _ in model.model_.named_parameters()
    ]


def test_string_labels(digits):
    x, y = digits[0][:300], digits[1][:300]
    names = np.array(
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    )
    model = MLPClassifier(hidden_sizes=(32,), epochs=10, lr=1e-2, batch_size=32, random_state=0)
    model.fit(x, names[y])
    assert list(model.classes_) == sorted(names)
    proba = model.predict_proba(x)
    np.testing.assert_array_equal(model.predict(x), model.classes_[proba.argmax(axis=1)])
    assert model.score(x, names[y]) >= 0.9


def test_regression_history_and_early_stopping():
    """Regression has losses but no accuracies; early stopping keeps the best epoch."""
    x, y = make_regression(200, 3, n_targets=2, noise=0.1, random_state=0)
    model = MLPRegressor(
        hidden_sizes=(8,),
        epochs=50,
        lr=3e-2,
        batch_size=16,
        validation_fraction=0.25,
        early_stopping=2,
        random_state=0,
    ).fit(x, y / y.std())
    rows = model.history_.rows
    assert set(rows[0]) == {"epoch", "loss", "lr", "val_loss", "seconds"}
    best = model.history_.best_epoch
    assert rows[best - 1]["val_loss"] == min(row["val_loss"] for row in rows)
    assert len(rows) == best + 2 < 50
    assert model.predict(x).shape == (200, 2) and model.predict(x).dtype == np.float64


def test_fit_early_stopping_restores_the_best_weights():
    """nn.training.fit, which the estimators call: after early stopping the model has the
    weights of its best epoch (so its validation loss is that epoch's)."""
    x, y = make_regression(200, 3, n_targets=2, noise=0.1, random_state=0)
    x, y = x.astype(np.float32), (y / y.std()).astype(np.float32)
    x_fit, x_val, y_fit, y_val = train_val_split(x, y, 0.25, seed=0)
    model = nn.MLP(3, [8], 2, generator=ag.Generator().manual_seed(0))
    history = fit(
        model,
        optim.RMSprop(model.parameters(), lr=3e-2),
        DataLoader((x_fit, y_fit), 16, shuffle=True, seed=0),
        epochs=50,
        loss_fn=F.mse_loss,
        validation=(x_val, y_val),
        early_stopping=2,
    )
    assert len(history) == history.best_epoch + 2 < 50
    val_loss, val_accuracy = evaluate(model, x_val, y_val, loss_fn=F.mse_loss)
    assert val_loss == history.rows[history.best_epoch - 1]["val_loss"] < history["val_loss"][-1]
    assert math.isnan(val_accuracy)  # no classes in regression


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"optimizer": "lbfgs"}, "unknown optimizer 'lbfgs'"),
        ({"ridge": -1.0}, "ridge"),
        ({"epochs": 0}, "epochs must be at least 1"),
        ({"early_stopping": 3}, "validation_fraction > 0"),
        ({"early_stopping": True, "validation_fraction": 0.5}, "a patience in epochs"),
        ({"validation_fraction": 1.0}, "validation_fraction must be in"),
        ({"dtype": "int64"}, "dtype must be float32 or float64"),
    ],
)
def test_bad_hyperparameters_fail_in_fit(params, message):
    model = MLPClassifier(hidden_sizes=(4,), epochs=1).set_params(**params)  # no error yet
    with pytest.raises((TypeError, ValueError), match=message):
        model.fit(np.zeros((4, 2)), [0, 1, 0, 1])
