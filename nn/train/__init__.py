"""The training layer, above ``nn`` and ``optim``: data loading (``data``), datasets
(``datasets``: file ``formats`` and ``download``), the training loop (``fit``, BLAS
``threads``), scikit-learn estimators (``estimators``, imported on its own: it needs
scikit-learn), training configurations as data (``presets``) and Bayesian hyperparameter
search (``tuning``, imported on its own: it needs Optuna, ``arraygrad[tune]``). Its optional
dependencies load on use."""

# The function fit hides its module's name here: import the module's other names from it,
# ``from nn.train.fit import plot_history`` (``import nn.train.fit as m`` gives the function).
from .data import DataLoader, TensorDataset, train_val_split
from .datasets import load_digits, load_mnist
from .fit import History, evaluate, fit, predict
from .threads import blas_threads, limit_blas_threads

__all__ = [
    "DataLoader",
    "History",
    "TensorDataset",
    "blas_threads",
    "evaluate",
    "fit",
    "limit_blas_threads",
    "load_digits",
    "load_mnist",
    "predict",
    "train_val_split",
]
