"""arraygrad's ``nn``: modules, layers, losses and the MLP, built only from autograd
operations (every gradient comes from the graph).

    import autograd as ag
    import nn

    model = nn.MLP(784, [256, 128], 10, dropout=[0.4, 0.3])
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()

The training layer (``nn.train``: data loading, datasets, ``fit``, estimators), its old names
(``nn.data``, ``nn.datasets``, ``nn.training``, ``nn.estimators``) and ``nn.utils`` are
imported on first use, ``nn.train.fit(...)`` after a bare ``import nn``: ``import nn`` alone
imports neither ``optim`` nor any optional dependency.
"""

# First: a clear ImportError if the package imported as 'autograd' is HIPS autograd's.
import autograd._install_check  # noqa: F401  # isort: skip

import importlib
from typing import Any

from . import functional, init
from .activation import LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Softplus, Tanh
from .batchnorm import BatchNorm1d
from .containers import ModuleList, Sequential
from .dropout import Dropout
from .flatten import Flatten, Identity
from .linear import Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from .mlp import MLP
from .module import LoadResult, Module, Parameter, StateDictError
from .regularization import l2_penalty
from .serialization import SerializationError, load, save

__all__ = [
    "MLP",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "CrossEntropyLoss",
    "Dropout",
    "Flatten",
    "Identity",
    "LeakyReLU",
    "Linear",
    "LoadResult",
    "LogSoftmax",
    "MSELoss",
    "Module",
    "ModuleList",
    "NLLLoss",
    "Parameter",
    "ReLU",
    "Sequential",
    "SerializationError",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "StateDictError",
    "Tanh",
    "functional",
    "init",
    "l2_penalty",
    "load",
    "save",
]

_LAZY_SUBMODULES = ("data", "datasets", "estimators", "train", "training", "utils")


def __getattr__(name: str) -> Any:
    """``nn.train``, ``nn.utils`` and the old names, imported on first access (PEP 562)."""
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY_SUBMODULES})
