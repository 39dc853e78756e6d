"""scikit-learn estimators: ``MLPClassifier`` and ``MLPRegressor``, an :class:`nn.MLP` trained
by :func:`nn.train.fit`, so that scikit-learn's model selection drives the search over
ISLR's knobs (layers and units, ridge λ, learning rate, dropout):

    from sklearn.model_selection import GridSearchCV
    from nn.train.estimators import MLPClassifier, markdown_table, search_table

    grid = GridSearchCV(
        MLPClassifier(epochs=20, random_state=0),
        {"hidden_sizes": [(256,), (256, 128)], "ridge": [0.0, 1e-4], "lr": [1e-3, 3e-4]},
        cv=3,
        n_jobs=2,  # joblib: local processes, or a Dask / Ray cluster through parallel_config
    )
    grid.fit(x_train, y_train)
    print(markdown_table(search_table(grid)))  # best first: lowest validation error

The hyperparameters are the constructor's arguments, stored as given and read only by
``fit`` (scikit-learn's rules: ``clone``, ``get_params`` and ``set_params`` work on them).
What ``fit`` learns ends in an underscore: ``model_`` (the trained ``nn.MLP``), ``history_``
(its per-epoch :class:`nn.train.History`), ``classes_``, ``n_features_in_``.

The recipe is ISLR's lab (Keras defaults): RMSprop with lr 1e-3, rho 0.9 and eps 1e-7,
batches of 128, 30 epochs; ``ridge`` is Keras's ``l2(λ)``, λ Σ w² added to the mean loss
(:func:`nn.l2_penalty`, weights only). With an integer ``random_state``, ``fit`` is
repeatable whatever else the program draws: the initial weights, the dropout masks, the
batch order and the validation split all come from their own streams seeded by it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from .extras import install_hint

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.preprocessing import LabelEncoder
    from sklearn.utils import check_random_state
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError as error:
    raise ImportError(install_hint("nn.train.estimators", "sklearn", ">= 1.6")) from error

import autograd as ag
import optim

from .. import functional as F
from ..mlp import MLP
from ..regularization import l2_penalty
from .data import DataLoader, train_val_split
from .fit import fit, predict

__all__ = ["MLPClassifier", "MLPRegressor", "markdown_table", "search_table"]

OPTIMIZERS: dict[str, Callable[..., optim.Optimizer]] = {
    # Keras's RMSprop defaults (rho 0.9, eps 1e-7), as in ISLR's lab; PyTorch's are 0.99, 1e-8.
    "rmsprop": lambda params, lr: optim.RMSprop(params, lr=lr, alpha=0.9, eps=1e-7),
    "adam": lambda params, lr: optim.Adam(params, lr=lr),
    "sgd": lambda params, lr: optim.SGD(params, lr=lr),
}


class _MLPEstimator(BaseEstimator):
    """What the classifier and the regressor share: the hyperparameters and the training."""

    def __init__(
        self,
        hidden_sizes: int | Sequence[int] = (256, 128),
        activation: str = "relu",
        dropout: float | Sequence[float] = 0.0,
        ridge: float = 0.0,
        optimizer: str = "rmsprop",
        lr: float = 1e-3,
        batch_size: int = 128,
        epochs: int = 30,
        validation_fraction: float = 0.0,
        early_stopping: int | None = None,
        random_state: int | np.random.RandomState | None = None,
        dtype: str = "float32",
        device: str = "cpu",
        progress: bool = False,
    ) -> None:
        self.hidden_sizes = hidden_sizes
        self.activation = activation
        self.dropout = dropout
        self.ridge = ridge
        self.optimizer = optimizer
        self.lr = lr
        self.batch_size = batch_size
        self.epochs = epochs
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.random_state = random_state
        self.dtype = dtype
        self.device = device
        self.progress = progress

    def _float_dtype(self) -> np.dtype:
        dtype = np.dtype(ag.dtypes.as_dtype(self.dtype))
        if dtype not in (np.float32, np.float64):
            raise ValueError(
                f"{type(self).__name__}: dtype must be float32 or float64, got {dtype}"
            )
        return dtype

    def _check_params(self) -> None:
        name = type(self).__name__
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(
                f"{name}: unknown optimizer {self.optimizer!r}; expected one of "
                f"{sorted(OPTIMIZERS)}"
            )
        if not self.ridge >= 0:
            raise ValueError(
                f"{name}: ridge (the λ of the L2 penalty) must be >= 0, got {self.ridge}"
            )
        if isinstance(self.epochs, bool) or not isinstance(self.epochs, (int, np.integer)):
            raise TypeError(f"{name}: epochs must be an int, got {self.epochs!r}")
        if self.epochs < 1:
            raise ValueError(f"{name}: epochs must be at least 1, got {self.epochs}")
        if not 0 <= self.validation_fraction < 1:
            raise ValueError(
                f"{name}: validation_fraction must be in [0, 1), got {self.validation_fraction}"
            )
        if isinstance(self.early_stopping, bool):
            raise TypeError(
                f"{name}: early_stopping is a patience in epochs (an int, or None for no early "
                f"stopping), got {self.early_stopping}"
            )
        if self.early_stopping is not None and not self.validation_fraction:
            raise ValueError(
                f"{name}: early_stopping={self.early_stopping} watches the validation loss; "
                f"hold out data for it with validation_fraction > 0 (ISLR holds out 0.2)"
            )

    def _train(
        self, X: np.ndarray, targets: np.ndarray, out_features: int, loss_fn: Callable[..., Any]
    ) -> None:
        """Build a network with ``out_features`` outputs and train it on ``(X, targets)`` with
        :func:`nn.train.fit`."""
        rng = check_random_state(self.random_state)
        init_seed, order_seed, split_seed = (int(s) for s in rng.randint(2**31 - 1, size=3))
        generator = ag.Generator(self.device).manual_seed(init_seed)
        hidden = self.hidden_sizes
        if isinstance(hidden, (int, np.integer)):
            hidden = (hidden,)
        model = MLP(
            X.shape[1],
            hidden,
            out_features,
            activation=self.activation,
            dropout=self.dropout,
            dtype=X.dtype,
            device=self.device,
            generator=generator,
        )
        validation = None
        if self.validation_fraction:
            X, x_val, targets, t_val = train_val_split(
                X, targets, self.validation_fraction, seed=split_seed
            )
            validation = (x_val, t_val)
        loader = DataLoader(
            (X, targets), self.batch_size, shuffle=True, seed=order_seed, device=self.device
        )
        penalty = (lambda: l2_penalty(model, self.ridge)) if self.ridge else None
        self.history_ = fit(
            model,
            OPTIMIZERS[self.optimizer](model.parameters(), self.lr),
            loader,
            epochs=self.epochs,
            loss_fn=loss_fn,
            penalty=penalty,
            validation=validation,
            early_stopping=self.early_stopping,
            progress=self.progress,
        )
        self.model_ = model

    def _outputs(self, X: Any) -> np.ndarray:
        """The network's outputs for the rows of ``X`` (logits for the classifier)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=self._float_dtype())
        return predict(self.model_, X)


class MLPClassifier(ClassifierMixin, _MLPEstimator):
    """A multilayer perceptron classifier: ``nn.MLP(p, hidden_sizes, n_classes)`` trained on
    the cross-entropy of its logits by :func:`nn.train.fit`.

    Parameters: ``hidden_sizes`` (the units of each hidden layer: its length is the number
    of layers; an int is one layer), ``activation`` ("relu", "sigmoid", "tanh" or
    "leaky_relu"), ``dropout`` (one rate for every hidden layer, or one per layer),
    ``ridge`` (λ of :func:`nn.l2_penalty`, added to the mean loss), ``optimizer``
    ("rmsprop", "adam" or "sgd"), ``lr``, ``batch_size``, ``epochs``,
    ``validation_fraction`` (held out of ``fit``'s data and evaluated after every epoch,
    see ``history_``), ``early_stopping`` (patience in epochs: stop after that many epochs
    without a lower validation loss and keep the best epoch's weights), ``random_state``,
    ``dtype`` ("float32" or "float64"), ``device`` ("cpu", "cuda"), ``progress`` (a progress
    bar per epoch).

    Labels may be anything :class:`sklearn.preprocessing.LabelEncoder` sorts (ints,
    strings...); ``classes_`` holds them in the order of ``predict_proba``'s columns.
    """

    def fit(self, X: Any, y: Any) -> MLPClassifier:
        """Train a new network on ``X`` (n_samples, n_features) and labels ``y``."""
        self._check_params()
        X, y = validate_data(self, X, y, dtype=self._float_dtype())
        check_classification_targets(y)
        encoder = LabelEncoder()
        codes = encoder.fit_transform(y).astype(np.int64)
        self.classes_ = encoder.classes_
        self._train(X, codes, len(self.classes_), F.cross_entropy)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (n_samples, n_classes): the softmax of the logits, in float64."""
        logits = self._outputs(X).astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        return probabilities / probabilities.sum(axis=1, keepdims=True)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row of ``X``, as a label of ``classes_``."""
        logits = self._outputs(X)
        return self.classes_[logits.argmax(axis=1)]


class MLPRegressor(RegressorMixin, _MLPEstimator):
    """A multilayer perceptron regressor: ``nn.MLP(p, hidden_sizes, n_outputs)`` trained on
    the mean squared error by :func:`nn.train.fit`; ``y`` may have several columns.

    The parameters are :class:`MLPClassifier`'s. As with any network trained by gradient
    descent, standardize ``X`` (a ``Pipeline`` with ``StandardScaler``) and keep ``y`` of
    order one (``TransformedTargetRegressor``).
    """

    def fit(self, X: Any, y: Any) -> MLPRegressor:
        """Train a new network on ``X`` (n_samples, n_features) and targets ``y`` (n_samples,)
        or (n_samples, n_outputs)."""
        self._check_params()
        dtype = self._float_dtype()
        X, y = validate_data(self, X, y, dtype=dtype, multi_output=True, y_numeric=True)
        y = np.asarray(y, dtype=dtype)
        targets = y.reshape(len(y), -1)
        self._train(X, targets, targets.shape[1], F.mse_loss)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """The predicted targets, in float64 (scikit-learn's convention, whatever ``dtype``):
        (n_samples,) for one output, else (n_samples, n_outputs)."""
        outputs = self._outputs(X).astype(np.float64)
        return outputs.ravel() if outputs.shape[1] == 1 else outputs

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


def search_table(search: Any) -> list[dict[str, Any]]:
    """The candidates of a fitted ``GridSearchCV`` or ``RandomizedSearchCV``, best first
    (lowest mean validation error): one dict per candidate with its ``rank``, its parameters,
    ``val_error`` and ``val_error_std`` (mean and standard deviation over the folds),
    ``train_error`` (with ``return_train_score=True``) and ``fit_seconds`` (mean per fold).

    The error is read off the search's score: 1 - score for scores whose best value is 1
    (accuracy: the misclassification rate; R²: the fraction of variance unexplained), and
    -score for scikit-learn's negated losses (``neg_log_loss``, ``neg_mean_squared_error``...).
    A search with several metrics is ranked by the one it refits.
    """
    results = search.cv_results_
    metric, name = "score", search.scoring
    if search.multimetric_:
        if not isinstance(search.refit, str):
            raise ValueError(
                "search_table: a search with several metrics is ranked by the one it refits; "
                "pass refit='<metric name>'"
            )
        metric = name = search.refit
    if name is not None and not isinstance(name, str):
        raise ValueError(
            f"search_table: cannot tell an error from the custom scorer {name!r}; the table "
            f"knows accuracy-like scores (error = 1 - score) and scikit-learn's neg_* losses "
            f"(error = -score): read search.cv_results_ instead"
        )

    def error(scores: Any) -> np.ndarray:
        scores = np.asarray(scores, dtype=np.float64)
        return -scores if name is not None and name.startswith("neg_") else 1.0 - scores

    val_error = error(results[f"mean_test_{metric}"])
    train_scores = results.get(f"mean_train_{metric}")
    keys = list(dict.fromkeys(k for params in results["params"] for k in params))
    rows = []
    for i in np.argsort(results[f"rank_test_{metric}"], kind="stable"):
        row: dict[str, Any] = {"rank": int(results[f"rank_test_{metric}"][i])}
        row.update({k: results["params"][i].get(k, "") for k in keys})
        row["val_error"] = float(val_error[i])
        row["val_error_std"] = float(results[f"std_test_{metric}"][i])
        if train_scores is not None:
            row["train_error"] = float(error(train_scores[i]))
        row["fit_seconds"] = float(results["mean_fit_time"][i])
        rows.append(row)
    return rows


def markdown_table(rows: Iterable[dict[str, Any]]) -> str:
    """A Markdown table of dicts (e.g. :func:`search_table`'s rows), one column per key;
    floats with four significant digits."""
    rows = list(rows)
    columns = list(dict.fromkeys(k for row in rows for k in row))

    def cell(value: Any) -> str:
        if isinstance(value, (float, np.floating)):
            return f"{value:.4g}"
        return str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(k, "")) for k in columns) + " |" for row in rows]
    return "\n".join(lines)
