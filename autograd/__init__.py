"""arraygrad's autograd: an array-backed reverse-mode automatic differentiation engine.

    import autograd as ag
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    x.grad            # tensor([2., 4.])

Note: the import name ``autograd`` is also used by the HIPS autograd package; install only one
of them in an environment.
"""

from . import cuda, functional
from .anomaly import (
    AnomalyError,
    detect_anomaly,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_detect_anomaly,
)
from .backend import Device
from .compiler import CompileError, compile
from .creation import (
    arange,
    eye,
    from_dlpack,
    from_numpy,
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
    multinomial,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
)
from .stepper import backward_steps
from .tensor import Tensor
from .viz import GraphvizNotFoundError, draw_graph, print_graph


def device(spec: str | Device = "cpu") -> Device:
    """A device object: ``autograd.device("cuda:0")``."""
    return Device(spec)


__version__ = "0.1.0"
__arraygrad__ = True  # marks this package as arraygrad's (see _install_check.py)

__all__ = [
    "AnomalyError",
    "ArraygradError",
    "CompileError",
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
    "backward_steps",
    "compile",
    "bool_",
    "cuda",
    "default_generator",
    "detect_anomaly",
    "device",
    "draw_graph",
    "enable_grad",
    "eye",
    "float16",
    "float32",
    "float64",
    "from_dlpack",
    "from_numpy",
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
    "is_anomaly_check_nan_enabled",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "linspace",
    "manual_seed",
    "multinomial",
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
    "set_detect_anomaly",
    "scope",
    "current_scope",
    "set_grad_enabled",
    "tensor",
    "uint8",
    "zeros",
    "zeros_like",
    *_ops_all,
]
