"""arraygrad's autograd: an array-backed reverse-mode automatic differentiation engine.

    import autograd as ag
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    x.grad            # tensor([2., 4.])

Note: the import name ``autograd`` is also used by the HIPS autograd package; install only one
of them in an environment.
"""

# tensor.py first: it defines Tensor, then loads the ops, which build on it.
from .tensor import Tensor  # isort: skip

from . import cuda, functional
from .backend import Device
from .creation import (
    arange,
    eye,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    tensor,
    zeros,
    zeros_like,
)
from .dtypes import (
    bool_,
    float16,
    float32,
    float64,
    get_default_dtype,
    int8,
    int16,
    int32,
    int64,
    set_default_dtype,
    uint8,
)
from .engine import grad
from .errors import (
    ArraygradError,
    DeviceError,
    DTypeError,
    GradcheckError,
    GraphError,
    ShapeError,
)
from .function import Function
from .grad_mode import (
    current_scope,
    enable_grad,
    is_grad_enabled,
    no_grad,
    scope,
    set_grad_enabled,
)
from .gradcheck import gradcheck, gradgradcheck
from .ops import *  # noqa: F403  (every op as a function: autograd.exp(x) ...)
from .ops import __all__ as _ops_all
from .random import (
    Generator,
    default_generator,
    manual_seed,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
)
from .viz import GraphvizNotFoundError, draw_graph, print_graph


def device(spec: str | Device = "cpu") -> Device:
    """A device object: ``autograd.device("cuda:0")``."""
    return Device(spec)


__version__ = "0.1.0"

__all__ = [
    "ArraygradError",
    "DTypeError",
    "Device",
    "DeviceError",
    "Function",
    "Generator",
    "GradcheckError",
    "GraphvizNotFoundError",
    "GraphError",
    "ShapeError",
    "Tensor",
    "arange",
    "bool_",
    "cuda",
    "default_generator",
    "device",
    "draw_graph",
    "enable_grad",
    "eye",
    "float16",
    "float32",
    "float64",
    "full",
    "full_like",
    "functional",
    "get_default_dtype",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "int8",
    "int16",
    "int32",
    "int64",
    "is_grad_enabled",
    "linspace",
    "manual_seed",
    "no_grad",
    "ones",
    "ones_like",
    "print_graph",
    "rand",
    "rand_like",
    "randint",
    "randn",
    "randn_like",
    "randperm",
    "set_default_dtype",
    "scope",
    "current_scope",
    "set_grad_enabled",
    "tensor",
    "uint8",
    "zeros",
    "zeros_like",
    *_ops_all,
]
