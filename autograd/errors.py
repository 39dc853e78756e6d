"""Exceptions raised by arraygrad. Each one names the operation and says how to fix the call."""


class ArraygradError(Exception):
    """Base class of the errors arraygrad raises itself (already naming the op)."""


class ShapeError(ArraygradError, ValueError):
    """Shapes that do not fit the operation (broadcasting, matmul, reshape ...)."""


class DTypeError(ArraygradError, TypeError):
    """Dtypes that do not fit the operation; arraygrad never upcasts silently."""


class DeviceError(ArraygradError, RuntimeError):
    """Operands on different devices, or a device that is not available."""


class GraphError(ArraygradError, RuntimeError):
    """Misuse of the graph: backward through freed buffers, non-scalar outputs ..."""


class GradcheckError(ArraygradError, AssertionError):
    """Analytic and numerical gradients disagree (raised by ``gradcheck``)."""


class CompileError(ArraygradError, RuntimeError):
    """Something in a compiled function (``autograd.compile``) cannot be recorded and replayed."""
