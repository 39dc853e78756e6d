"""``Tensor``: an array that remembers how it was computed, so gradients can flow back to it.

A tensor holds its value in ``data`` (a NumPy or CuPy array; for 0-d results of operations, the
NumPy scalar that NumPy itself returns), and, when it is the result of a recorded operation, the
graph node that made it in ``grad_fn``. Leaves (tensors made by the user) that require grad
receive their gradient in ``grad`` when ``backward`` runs.

The methods are a table of calls into the ops (``x + y`` is ``ag.ops.add(x, y)``). The ops
build on Tensor, so they are looked up on the package when a method runs, not imported here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Union

import numpy as np

import autograd as ag  # methods call ag.ops.* when they run (see the module docstring)

from . import dtypes
from .backend import Device, backend_of
from .conversion import as_array, shape_args, to_args
from .errors import DTypeError, GraphError
from .hooks import RemovableHandle, RetainGrad, add_hook

if TYPE_CHECKING:
    from .function import Function

Scalar = Union[int, float, bool]  # noqa: UP007 (aliases evaluated at runtime on Python 3.10)
TensorLike = Union["Tensor", Scalar, Sequence[Any], np.ndarray, np.generic]
Axis = Union[int, Sequence[int], None]  # noqa: UP007


class Tensor:
    """An n-dimensional array node of the computation graph.

    ``Tensor(data, requires_grad=False)`` wraps a backend array without copying it (Python
    numbers and lists are converted to the default float dtype); ``autograd.tensor`` copies.
    """

    __slots__ = ("__weakref__", "_hooks", "_requires_grad", "data", "grad", "grad_fn", "name")

    # NumPy defers to our reflected operators: ``ndarray + Tensor`` gives a Tensor.
    __array_ufunc__ = None

    def __init__(self, data: Any, requires_grad: bool = False, *, name: str | None = None) -> None:
        if isinstance(data, Tensor):
            data = data.data
        else:
            data = as_array(data)
        self.data = data
        self.grad: Tensor | None = None
        self.grad_fn: Function | None = None
        self._requires_grad = False
        self._hooks: list[Callable[[Tensor], Tensor | None]] | None = None
        self.name = name
        if requires_grad:
            self.requires_grad_(True)

    # ----------------------------------------------------------------- metadata
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        """Number of elements."""
        return self.data.size

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def device(self) -> Device:
        return backend_of(self.data).device_of(self.data)

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user (no ``grad_fn``); only leaves accumulate ``grad``."""
        return self.grad_fn is None

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set whether this leaf records operations for gradients (in place; returns self)."""
        if self.grad_fn is not None:
            if requires_grad:
                return self
            raise GraphError(
                "requires_grad_: this tensor is the result of an operation (it has a grad_fn); "
                "only leaves can change requires_grad. Use .detach() to get a tensor without "
                "history."
            )
        if requires_grad and not dtypes.is_floating(self.data.dtype):
            raise DTypeError(
                f"requires_grad_: only floating tensors can require grad, this one is "
                f"{self.data.dtype}. Convert first, e.g. x.to(autograd.float32)."
            )
        self._requires_grad = bool(requires_grad)
        return self

    # -------------------------------------------------------------- conversion
    def item(self) -> Scalar:
        """The value of a one-element tensor as a Python number (copies one number)."""
        if self.data.size != 1:
            raise ValueError(
                f"item: only one-element tensors can be converted to a Python number, this one "
                f"has shape {self.shape}"
            )
        return self.data.item()

    def tolist(self) -> Any:
        """The value as (nested) Python lists of numbers."""
        return backend_of(self.data).to_numpy(self.data).tolist()

    def numpy(self) -> np.ndarray:
        """The value as a NumPy array (shares memory with the tensor on the CPU)."""
        backend = backend_of(self.data)
        if backend.device_type != "cpu":
            raise TypeError(
                f"numpy: this tensor lives on {self.device}; copy it to the host first with "
                f".cpu().numpy()"
            )
        return np.asarray(self.data)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        a = self.numpy()
        if dtype is not None and a.dtype != dtype:
            return a.astype(dtype)
        return a.copy() if copy else a

    def clone(self) -> Tensor:
        """A copy in new memory, still connected to the graph (gradients pass through)."""
        return ag.ops.clone(self)

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data, cut from the graph (no grad)."""
        return _make(self.data, None)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iub":
            raise TypeError(f"only integer tensors can be used as an index, not {self.dtype}")
        return int(self.item())

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                f"The truth value of a tensor with {self.data.size} elements is ambiguous; use "
                f".any() or .all()"
            )
        return bool(self.item())

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.data.shape[0]))

    __hash__ = object.__hash__  # hashable by identity, although == compares elementwise

    def __repr__(self) -> str:
        data = backend_of(self.data).to_numpy(self.data)
        body = np.array2string(np.asarray(data), separator=", ", prefix="tensor(")
        extras = []
        if self.data.dtype != dtypes.get_default_dtype():
            extras.append(f"dtype={self.data.dtype}")
        device = self.device
        if device.type != "cpu":
            extras.append(f"device='{device}'")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{type(self.grad_fn).__name__}>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        if self.name:
            extras.append(f"name={self.name!r}")
        return "tensor(" + ", ".join([body, *extras]) + ")"

    def __format__(self, spec: str) -> str:
        if self.data.size == 1 and spec:
            return format(self.item(), spec)
        return format(repr(self), spec)

    # --------------------------------------------------------------- autograd
    def backward(
        self,
        gradient: TensorLike | None = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
    ) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``grad``.

        ``gradient`` is d(loss)/d(self); it may be omitted for one-element outputs (then 1).
        The graph's saved buffers are freed afterwards unless ``retain_graph`` (which defaults
        to ``create_graph``). With ``create_graph=True`` the gradients are themselves recorded,
        so they can be differentiated again.
        """
        ag.engine.run_backward((self,), (gradient,), retain_graph, create_graph)

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in ``grad`` during backward."""
        if self.grad_fn is None:
            if not self._requires_grad:
                raise GraphError("retain_grad: this tensor does not require grad")
            return  # leaves always receive their gradient
        hooks = self.grad_fn.hooks
        if hooks is None:
            hooks = self.grad_fn.hooks = []
        if not any(isinstance(h, RetainGrad) for h in hooks):
            hooks.append(RetainGrad(self))

    @property
    def retains_grad(self) -> bool:
        hooks = self.grad_fn.hooks if self.grad_fn is not None else None
        return bool(hooks) and any(isinstance(h, RetainGrad) for h in hooks)

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor
        replaces the gradient. Returns a handle whose ``remove()`` unregisters the hook."""
        if not self._requires_grad:
            raise GraphError(
                "register_hook: cannot register a hook on a tensor that does not require grad"
            )
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            if self.grad_fn.hooks is None:
                self.grad_fn.hooks = []
            hooks = self.grad_fn.hooks
        return add_hook(hooks, hook)

    # ------------------------------------------------------------- arithmetic
    def __add__(self, other: TensorLike) -> Tensor:
        return ag.ops.add(self, other)

    def __radd__(self, other: TensorLike) -> Tensor:
        return ag.ops.add(other, self)

    def __sub__(self, other: TensorLike) -> Tensor:
        return ag.ops.sub(self, other)

    def __rsub__(self, other: TensorLike) -> Tensor:
        return ag.ops.sub(other, self)

    def __mul__(self, other: TensorLike) -> Tensor:
        return ag.ops.mul(self, other)

    def __rmul__(self, other: TensorLike) -> Tensor:
        return ag.ops.mul(other, self)

    def __truediv__(self, other: TensorLike) -> Tensor:
        return ag.ops.div(self, other)

    def __rtruediv__(self, other: TensorLike) -> Tensor:
        return ag.ops.div(other, self)

    def __pow__(self, other: TensorLike) -> Tensor:
        return ag.ops.pow(self, other)

    def __rpow__(self, other: TensorLike) -> Tensor:
        return ag.ops.pow(other, self)

    def __matmul__(self, other: TensorLike) -> Tensor:
        return ag.ops.matmul(self, other)

    def __rmatmul__(self, other: TensorLike) -> Tensor:
        return ag.ops.matmul(other, self)

    def __neg__(self) -> Tensor:
        return ag.ops.neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return ag.ops.abs(self)

    # comparisons and logic: no gradient, bool results
    def __eq__(self, other: object) -> Tensor:  # type: ignore[override]
        if other is None or isinstance(other, (str, bytes)):
            return NotImplemented  # ``t == None`` is False, as in PyTorch
        return ag.ops.eq(self, other)

    def __ne__(self, other: object) -> Tensor:  # type: ignore[override]
        if other is None or isinstance(other, (str, bytes)):
            return NotImplemented
        return ag.ops.ne(self, other)

    def __lt__(self, other: TensorLike) -> Tensor:
        return ag.ops.lt(self, other)

    def __le__(self, other: TensorLike) -> Tensor:
        return ag.ops.le(self, other)

    def __gt__(self, other: TensorLike) -> Tensor:
        return ag.ops.gt(self, other)

    def __ge__(self, other: TensorLike) -> Tensor:
        return ag.ops.ge(self, other)

    def __and__(self, other: TensorLike) -> Tensor:
        return ag.ops.logical_and(self, other)

    def __rand__(self, other: TensorLike) -> Tensor:
        return ag.ops.logical_and(other, self)

    def __or__(self, other: TensorLike) -> Tensor:
        return ag.ops.logical_or(self, other)

    def __ror__(self, other: TensorLike) -> Tensor:
        return ag.ops.logical_or(other, self)

    def __xor__(self, other: TensorLike) -> Tensor:
        return ag.ops.logical_xor(self, other)

    def __rxor__(self, other: TensorLike) -> Tensor:
        return ag.ops.logical_xor(other, self)

    def __invert__(self) -> Tensor:
        return ag.ops.logical_not(self)

    def __getitem__(self, index: Any) -> Tensor:
        return ag.ops.getitem(self, index)

    def __setitem__(self, index: Any, value: Any) -> None:
        raise TypeError(
            "Tensor does not support item assignment: a recorded graph would silently go stale. "
            "Build a new tensor instead (autograd.where(mask, value, x)), or write to the array "
            "of a tensor outside any graph: x.data[index] = value."
        )

    # --------------------------------------------------------- elementwise math
    def exp(self) -> Tensor:
        return ag.ops.exp(self)

    def log(self) -> Tensor:
        return ag.ops.log(self)

    def sqrt(self) -> Tensor:
        return ag.ops.sqrt(self)

    def sin(self) -> Tensor:
        return ag.ops.sin(self)

    def cos(self) -> Tensor:
        return ag.ops.cos(self)

    def tanh(self) -> Tensor:
        return ag.ops.tanh(self)

    def sigmoid(self) -> Tensor:
        return ag.ops.sigmoid(self)

    def relu(self) -> Tensor:
        return ag.ops.relu(self)

    def leaky_relu(self, negative_slope: float = 0.01) -> Tensor:
        return ag.ops.leaky_relu(self, negative_slope)

    def abs(self) -> Tensor:
        return ag.ops.abs(self)

    def pow(self, exponent: TensorLike) -> Tensor:
        return ag.ops.pow(self, exponent)

    def clip(self, min: Scalar | None = None, max: Scalar | None = None) -> Tensor:
        return ag.ops.clip(self, min, max)

    def maximum(self, other: TensorLike) -> Tensor:
        return ag.ops.maximum(self, other)

    def minimum(self, other: TensorLike) -> Tensor:
        return ag.ops.minimum(self, other)

    def matmul(self, other: TensorLike) -> Tensor:
        return ag.ops.matmul(self, other)

    def to(self, *args: Any, device: str | Device | None = None, dtype: Any = None) -> Tensor:
        """This tensor on another device and/or with another dtype (differentiable; returns
        self when nothing changes): ``t.to("cuda")``, ``t.to(float64)``, ``t.to("cuda",
        float64)`` or keywords, the forms ``Module.to`` takes too."""
        device, dtype = to_args("to", args, device, dtype)
        out = self
        if dtype is not None and dtype != self.data.dtype:
            out = ag.ops.cast(out, dtype)
        if device is not None and device != self.device:
            out = ag.ops.to_device(out, device)
        return out

    def astype(self, dtype: Any) -> Tensor:
        """This tensor converted to ``dtype`` (differentiable between floating dtypes)."""
        return self.to(dtype)

    def float(self) -> Tensor:
        return self.to(dtypes.float32)

    def double(self) -> Tensor:
        return self.to(dtypes.float64)

    def cpu(self) -> Tensor:
        return self.to(device="cpu")

    def cuda(self, index: int | None = None) -> Tensor:
        return self.to(device="cuda" if index is None else f"cuda:{index}")

    # --------------------------------------------------------------- reductions
    def sum(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return ag.ops.sum(self, axis, keepdims)

    def mean(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return ag.ops.mean(self, axis, keepdims)

    def var(self, axis: Axis = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
        return ag.ops.var(self, axis, ddof, keepdims)

    def std(self, axis: Axis = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
        return ag.ops.std(self, axis, ddof, keepdims)

    def max(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return ag.ops.max(self, axis, keepdims)

    def min(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return ag.ops.min(self, axis, keepdims)

    def logsumexp(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return ag.ops.logsumexp(self, axis, keepdims)

    def argmax(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        return ag.ops.argmax(self, axis, keepdims)

    def argmin(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        return ag.ops.argmin(self, axis, keepdims)

    def any(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return ag.ops.any(self, axis, keepdims)

    def all(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return ag.ops.all(self, axis, keepdims)

    def softmax(self, axis: int = -1) -> Tensor:
        return ag.ops.softmax(self, axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        return ag.ops.log_softmax(self, axis)

    # ------------------------------------------------------------------ shapes
    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        return ag.ops.reshape(self, shape_args(shape))

    def view(self, *shape: int | Sequence[int]) -> Tensor:
        """Alias of ``reshape``."""
        return ag.ops.reshape(self, shape_args(shape))

    def flatten(self, start_axis: int = 0, end_axis: int = -1) -> Tensor:
        return ag.ops.flatten(self, start_axis, end_axis)

    def transpose(self, axis0: int = -2, axis1: int = -1) -> Tensor:
        """Swap two axes (the last two by default)."""
        return ag.ops.transpose(self, axis0, axis1)

    def permute(self, *axes: int | Sequence[int]) -> Tensor:
        return ag.ops.permute(self, shape_args(axes))

    @property
    def T(self) -> Tensor:
        """All axes reversed (NumPy's ``.T``)."""
        return ag.ops.permute(self, tuple(range(self.data.ndim - 1, -1, -1)))

    @property
    def mT(self) -> Tensor:
        """The last two axes swapped (a batch of matrices transposed)."""
        return ag.ops.transpose(self, -2, -1)

    def squeeze(self, axis: Axis = None) -> Tensor:
        return ag.ops.squeeze(self, axis)

    def unsqueeze(self, axis: int) -> Tensor:
        return ag.ops.unsqueeze(self, axis)

    def expand(self, *shape: int | Sequence[int]) -> Tensor:
        return ag.ops.expand(self, shape_args(shape))

    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        return ag.ops.broadcast_to(self, shape)

    def split(self, indices_or_sections: int | Sequence[int], axis: int = 0) -> list[Tensor]:
        return ag.ops.split(self, indices_or_sections, axis)


_new = object.__new__


def _make(data: Any, grad_fn: Function | None) -> Tensor:
    """A tensor for an op result (no conversion, no checks: the fast path of every op)."""
    t = _new(Tensor)
    t.data = data
    t.grad = None
    t.grad_fn = grad_fn
    t._requires_grad = grad_fn is not None
    t._hooks = None
    t.name = None
    return t
