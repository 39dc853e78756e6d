"""Optimizers: update parameters in place from their gradients, with PyTorch's equations.

    import optim
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    for x, y in batches:
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()

``optim.lr_scheduler`` holds the learning-rate schedules; gradient clipping is in ``nn.utils``.
"""

# First: a clear ImportError if the package imported as 'autograd' is HIPS autograd's.
import autograd._install_check  # noqa: F401  # isort: skip

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]
