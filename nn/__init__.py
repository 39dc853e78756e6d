"""arraygrad's ``nn``: modules, layers, losses and the MLP, built only from autograd
operations (every gradient comes from the graph).

    import autograd as ag
    import nn

    model = nn.MLP(784, [256, 128], 10, dropout=[0.4, 0.3])
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
"""

from . import functional, init
from .activation import LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Softplus, Tanh
from .batchnorm import BatchNorm1d
from .dropout import Dropout
from .flatten import Flatten, Identity
from .linear import Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from .mlp import MLP
from .module import LoadResult, Module, ModuleList, Parameter, Sequential, StateDictError
from .regularization import l2_penalty
from .serialization import load, save

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
