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
from weakref import ReferenceType, ref

import numpy as np

import autograd as ag  # methods call ag.ops.* when they run (see the module docstring)

from . import dtypes
from .backend import Device, backend_of, device_guard, transfer
from .conversion import as_array, shape_args, to_args, writable_data
from .errors import DeviceError, DTypeError, GraphError, ShapeError
from .grad_mode import _mode
from .hooks import RemovableHandle, RetainGrad, add_hook

if TYPE_CHECKING:
    from .function import Function

Scalar = Union[int, float, bool]  # noqa: UP007 (aliases evaluated at runtime on Python 3.10)
TensorLike = Union["Tensor", Scalar, Sequence[Any], np.ndarray, np.generic]
Axis = Union[int, Sequence[int], None]  # noqa: UP007


class Tensor:
    """An n-dimensional array node of the computation graph.

    ``Tensor(data, requires_grad=False)`` wraps a backend array without copying it (Python
    data is converted as ``autograd.tensor`` converts it: integers int64, floats the default
    float dtype); ``autograd.tensor`` copies.
    """

    __slots__ = (
        "__weakref__",
        "_base",
        "_grad",
        "_hooks",
        "_requires_grad",
        "_version",
        "data",
        "grad_fn",
        "name",
    )

    def __init__(self, data: Any, requires_grad: bool = False, *, name: str | None = None) -> None:
        base = None
        if isinstance(data, Tensor):  # shares the other tensor's data (and its version counter)
            base = _shared_base(data)
            data = data.data
        else:
            data = as_array(data)
        self.data = data
        self._grad: Tensor | None = None
        self.grad_fn: Function | None = None
        self._version = 0
        self._base = base
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
    def size(self) -> SizeInt:
        """The number of elements, an ``int`` as NumPy's ``a.size``, that can also be called as
        PyTorch's ``size()``: ``x.size()`` is the shape, ``x.size(i)`` the length of axis i
        (see :class:`SizeInt`)."""
        data = self.data
        return SizeInt(data.size, data.shape)

    def numel(self) -> int:
        """The number of elements (PyTorch's name; ``x.size`` is NumPy's)."""
        return int(self.data.size)

    nelement = numel

    def dim(self) -> int:
        """The number of axes (PyTorch's name; ``x.ndim`` is NumPy's)."""
        return self.data.ndim

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

    @property
    def grad(self) -> Tensor | None:
        """The gradient accumulated by ``backward`` (None until one arrives). Assigning checks
        it as PyTorch does: a Tensor (or None) of this tensor's shape, dtype and device."""
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            _check_grad(self, value)
        if _mode.tape is not None:
            _mode.tape.set_grad(self, value)
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        if _mode.tape is not None:
            _mode.tape.set_grad(self, None)
        self._grad = None

    def __getstate__(self) -> tuple[None, dict[str, Any]]:
        """Pickling and copying: the slots, less a weak reference to the graph result this
        tensor was detached from (a copy shares no version counter with another graph)."""
        state = {k: getattr(self, k) for k in _STATE_SLOTS if hasattr(self, k)}
        if state.get("_base").__class__ is ReferenceType:
            state["_base"] = None
        return None, state

    def __setstate__(self, state: tuple[Any, dict[str, Any]]) -> None:
        self._grad, self._version, self._base = None, 0, None
        for k, v in state[1].items():
            object.__setattr__(self, "_grad" if k == "grad" else k, v)  # older pickles: grad

    # -------------------------------------------------------------- conversion
    def item(self) -> Scalar:
        """The value of a one-element tensor as a Python number (copies one number)."""
        if _mode.tape is not None:
            _reading("item()")
        d = self.data
        number = _PYTHON_NUMBER.get(d.__class__)
        if number is not None:  # a NumPy scalar (an op's 0-d result): the same as d.item()
            return number(d)
        if d.size != 1:
            raise ValueError(
                f"item: only one-element tensors can be converted to a Python number, this one "
                f"has shape {self.shape}"
            )
        return d.item()

    def tolist(self) -> Any:
        """The value as (nested) Python lists of numbers."""
        if _mode.tape is not None:
            _reading("tolist()")
        return backend_of(self.data).to_numpy(self.data).tolist()

    def numpy(self) -> np.ndarray:
        """The value as a NumPy array (shares memory with the tensor on the CPU). Unlike
        PyTorch, also for a tensor that requires grad: the array is raw data, and writes into
        it bypass the graph and the version counter (as writes into ``.data`` do)."""
        if _mode.tape is not None:
            _reading("numpy()")
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

    def __dlpack__(
        self,
        *,
        stream: Any = None,
        max_version: tuple[int, int] | None = None,
        dl_device: Any = None,
        copy: bool | None = None,
    ) -> Any:
        """Export the data through DLPack, without a copy (``torch.from_dlpack(t)``,
        ``numpy.from_dlpack(t)``, ``cupy.from_dlpack(t)``): the consumer shares the memory.

        As PyTorch does, a tensor that requires grad is refused with a ``BufferError`` (writes
        through the consumer would bypass the graph): export ``t.detach()``, which shares the
        same memory. The
        arguments are the array API's and go to the array's own ``__dlpack__``.
        """
        if self._requires_grad:  # BufferError: the protocol's (and PyTorch's) error
            raise BufferError(
                "__dlpack__: can't export a tensor that requires grad; use tensor.detach() "
                "first (it shares the memory, and the consumer's writes then bypass no graph)"
            )
        kwargs: dict[str, Any] = {"stream": stream}
        if max_version is not None:
            kwargs["max_version"] = max_version
        if dl_device is not None:
            kwargs["dl_device"] = dl_device
        if copy is not None:
            kwargs["copy"] = copy
        return writable_data(self).__dlpack__(**kwargs)

    def __dlpack_device__(self) -> tuple[Any, int]:
        """``(device type, index)`` in DLPack's codes: (1, 0) for the CPU, (2, N) for cuda:N."""
        return writable_data(self).__dlpack_device__()

    def clone(self) -> Tensor:
        """A copy in new memory, still connected to the graph (gradients pass through)."""
        return ag.ops.clone(self)

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data, cut from the graph (no grad). The two share
        their version counter, as in PyTorch: an in-place change of one counts for both."""
        t = _make(self.data, None)
        t._base = _shared_base(self)
        if _mode.tape is not None:
            _mode.tape.alias(t, self)
        return t

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iub":
            raise TypeError(f"only integer tensors can be used as an index, not {self.dtype}")
        return int(self.item())

    def __bool__(self) -> bool:
        if _mode.tape is not None:
            _reading("bool()")
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
        inputs: Tensor | Sequence[Tensor] | None = None,
    ) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``grad`` (only into the ``grad`` of
        ``inputs``, leaves or not, when given: the others are left as they are).

        ``gradient`` is d(loss)/d(self); it may be omitted for one-element outputs (then 1).
        The graph's saved buffers are freed afterwards unless ``retain_graph`` (which defaults
        to ``create_graph``). With ``create_graph=True`` the gradients are themselves recorded,
        so they can be differentiated again.
        """
        ag.engine.run_backward((self,), (gradient,), retain_graph, create_graph, inputs)

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

    # ---------------------------------------------------------------- in place
    # ``x += y`` writes into x's array, so ``p -= lr * p.grad`` under no_grad updates p. An
    # in-place write is never recorded in the graph: where it would have to be (x is the result
    # of a recorded op, or y requires grad while recording), the operators give the
    # out-of-place result instead, as Python does without them (``loss += term`` works as in
    # PyTorch); the methods (``add_`` ...) raise. Every write bumps the version counter.
    def __iadd__(self, other: TensorLike) -> Tensor:
        return _inplace_operator(self, other, "add", "+=")

    def __isub__(self, other: TensorLike) -> Tensor:
        return _inplace_operator(self, other, "sub", "-=")

    def __imul__(self, other: TensorLike) -> Tensor:
        return _inplace_operator(self, other, "mul", "*=")

    def __itruediv__(self, other: TensorLike) -> Tensor:
        return _inplace_operator(self, other, "div", "/=")

    def add_(self, other: TensorLike, alpha: Scalar = 1) -> Tensor:
        """``self += alpha * other`` in place (``other`` broadcasts to self's shape); returns
        self."""
        _check_inplace(self, "add_", other)
        return _write(self, "add_", ag.ops.add(self, _scaled(self, other, alpha)))

    def sub_(self, other: TensorLike, alpha: Scalar = 1) -> Tensor:
        """``self -= alpha * other`` in place; returns self."""
        _check_inplace(self, "sub_", other)
        return _write(self, "sub_", ag.ops.sub(self, _scaled(self, other, alpha)))

    def mul_(self, other: TensorLike) -> Tensor:
        """``self *= other`` in place; returns self."""
        _check_inplace(self, "mul_", other)
        return _write(self, "mul_", ag.ops.mul(self, other))

    def div_(self, other: TensorLike) -> Tensor:
        """``self /= other`` in place (true division: an integer tensor cannot hold the result);
        returns self."""
        _check_inplace(self, "div_", other)
        return _write(self, "div_", ag.ops.div(self, other))

    def clamp_(self, min: Scalar | None = None, max: Scalar | None = None) -> Tensor:
        """Clamp every element into [min, max] in place; returns self."""
        _check_inplace(self, "clamp_")
        return _write(self, "clamp_", ag.ops.clip(self, min, max))

    clip_ = clamp_

    def copy_(self, src: TensorLike) -> Tensor:
        """Copy the values of ``src`` into this tensor, in place: ``src`` broadcasts to self's
        shape and is converted to self's dtype and device (the explicit conversion, as in
        PyTorch); returns self."""
        _check_inplace(self, "copy_", src)
        value = src.data if isinstance(src, Tensor) else ag.operands.as_tensor(src, like=self).data
        if backend_of(value) is not backend_of(self.data) or not backend_of(value).same_device(
            value, self.data
        ):
            value = transfer(value, self.device)
        try:
            fits = np.broadcast_shapes(value.shape, self.data.shape) == self.data.shape
        except ValueError:
            fits = False
        if not fits:
            raise ShapeError(
                f"copy_: the source has shape {value.shape}, which does not broadcast to this "
                f"tensor's shape {self.shape}"
            )
        if _mode.tape is not None:
            _mode.tape.write(self, src if isinstance(src, Tensor) else value)
        data = writable_data(self)
        with device_guard(data):
            data[...] = value
        bump_version(self)
        return self

    def fill_(self, value: Scalar | Tensor) -> Tensor:
        """Set every element to ``value`` (a number, or a one-element tensor) in place,
        converted to self's dtype; returns self."""
        _check_inplace(self, "fill_", value)
        if isinstance(value, Tensor):
            if value.ndim != 0:
                raise ShapeError(
                    f"fill_: only supports a 0-dimensional value tensor, got shape {value.shape}"
                )
            if _mode.tape is not None:  # a step's value: written as copy_ writes it
                return self.copy_(value)
            value = value.item()
        if _mode.tape is not None:
            _mode.tape.write(self, value)
        data = writable_data(self)
        with device_guard(data):
            data.fill(value)
        bump_version(self)
        return self

    def zero_(self) -> Tensor:
        """Set every element to 0 in place; returns self."""
        return self.fill_(0)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """NumPy meets a Tensor. ``ndarray + Tensor`` (and the other operators) gives a Tensor,
        through the same op as ``Tensor + ndarray``; an in-place ufunc into plain arrays
        (``p.data -= lr * p.grad``) computes on the tensors' data and writes the arrays, as a
        raw write (no version bump). Other ufuncs on Tensors are not supported."""
        if method != "__call__":
            return NotImplemented
        out = kwargs.get("out")
        if out is not None:
            if any(isinstance(o, Tensor) for o in out):
                return NotImplemented
            ag.compiler.refuse_when_recording(
                f"{ufunc.__name__} into a raw array (p.data -= ...)",
                "a replay sees only tensor ops, so the write would be lost; write it as a "
                "tensor op under no_grad (with autograd.no_grad(): p -= lr * p.grad)",
            )
            return ufunc(*[x.data if isinstance(x, Tensor) else x for x in inputs], **kwargs)
        op = _UFUNC_OPS.get(ufunc)
        if op is None or kwargs or len(inputs) != 2:
            return NotImplemented
        return getattr(ag.ops, op)(*inputs)

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

    def clamp(self, min: Scalar | None = None, max: Scalar | None = None) -> Tensor:
        """PyTorch's name of ``clip``."""
        return ag.ops.clip(self, min, max)

    def log10(self) -> Tensor:
        return ag.ops.log10(self)

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

    def half(self) -> Tensor:
        return self.to(dtypes.float16)

    def long(self) -> Tensor:
        """This tensor as int64 (a constant of the graph: no gradient flows through)."""
        return self.to(dtypes.int64)

    def int(self) -> Tensor:
        """This tensor as int32, as PyTorch's ``Tensor.int()`` (``int(t)`` still gives the
        Python number of a one-element tensor)."""
        return self.to(dtypes.int32)

    def bool(self) -> Tensor:
        """This tensor as bool (``bool(t)`` still gives the truth of a one-element tensor)."""
        return self.to(dtypes.bool_)

    def cpu(self) -> Tensor:
        return self.to(device="cpu")

    def cuda(self, index: int | None = None) -> Tensor:
        return self.to(device="cuda" if index is None else f"cuda:{index}")

    # --------------------------------------------------------------- reductions
    # Each takes NumPy's names (axis, keepdims) and PyTorch's (dim, keepdim); see the ops.
    def sum(
        self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: Any = None
    ) -> Tensor:
        return ag.ops.sum(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def mean(
        self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: Any = None
    ) -> Tensor:
        return ag.ops.mean(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def var(
        self,
        axis: Axis = None,
        ddof: int | None = None,
        keepdims: bool = False,
        *,
        dim: Axis = None,
        keepdim: Any = None,
        correction: int | None = None,
        unbiased: bool | None = None,
    ) -> Tensor:
        """Variance: NumPy's ddof=0 by default, PyTorch's correction=1 when called with
        ``dim=``, ``keepdim=``, ``correction=`` or ``unbiased=`` (see ``autograd.var``)."""
        return ag.ops.var(
            self,
            axis,
            ddof,
            keepdims,
            dim=dim,
            keepdim=keepdim,
            correction=correction,
            unbiased=unbiased,
        )

    def std(
        self,
        axis: Axis = None,
        ddof: int | None = None,
        keepdims: bool = False,
        *,
        dim: Axis = None,
        keepdim: Any = None,
        correction: int | None = None,
        unbiased: bool | None = None,
    ) -> Tensor:
        """Standard deviation, with ``var``'s two conventions (see ``autograd.var``)."""
        return ag.ops.std(
            self,
            axis,
            ddof,
            keepdims,
            dim=dim,
            keepdim=keepdim,
            correction=correction,
            unbiased=unbiased,
        )

    def max(
        self,
        axis: Axis = None,
        keepdims: bool = False,
        *,
        dim: int | None = None,
        keepdim: Any = None,
    ) -> Any:
        """Largest element over ``axis``; with ``dim=``, PyTorch's ``(values, indices)``."""
        return ag.ops.max(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def min(
        self,
        axis: Axis = None,
        keepdims: bool = False,
        *,
        dim: int | None = None,
        keepdim: Any = None,
    ) -> Any:
        """Smallest element over ``axis``; with ``dim=``, PyTorch's ``(values, indices)``."""
        return ag.ops.min(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def logsumexp(
        self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: Any = None
    ) -> Tensor:
        return ag.ops.logsumexp(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def argmax(
        self,
        axis: int | None = None,
        keepdims: bool = False,
        *,
        dim: int | None = None,
        keepdim: Any = None,
    ) -> Tensor:
        return ag.ops.argmax(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def argmin(
        self,
        axis: int | None = None,
        keepdims: bool = False,
        *,
        dim: int | None = None,
        keepdim: Any = None,
    ) -> Tensor:
        return ag.ops.argmin(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def any(
        self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: Any = None
    ) -> Tensor:
        return ag.ops.any(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def all(
        self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: Any = None
    ) -> Tensor:
        return ag.ops.all(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def softmax(self, axis: int = -1, *, dim: int | None = None) -> Tensor:
        return ag.ops.softmax(self, axis, dim=dim)

    def log_softmax(self, axis: int = -1, *, dim: int | None = None) -> Tensor:
        return ag.ops.log_softmax(self, axis, dim=dim)

    def histogram(
        self,
        bins: Any = 100,
        *,
        range: tuple[float, float] | None = None,
        weight: Any = None,
        density: bool = False,
    ) -> Any:
        """PyTorch's ``histogram``: ``(hist, bin_edges)``, no gradient (see
        ``autograd.histogram``)."""
        return ag.ops.histogram(self, bins, range=range, weight=weight, density=density)

    def multinomial(
        self, num_samples: int, replacement: bool = False, *, generator: Any = None
    ) -> Tensor:
        """Indices drawn with these weights (see ``autograd.multinomial``)."""
        return ag.random.multinomial(self, num_samples, replacement, generator=generator)

    # ------------------------------------------------------------------ shapes
    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        return ag.ops.reshape(self, shape_args(shape))

    def view(self, *shape: int | Sequence[int]) -> Tensor:
        """Alias of ``reshape``."""
        return ag.ops.reshape(self, shape_args(shape))

    def flatten(
        self,
        start_axis: int = 0,
        end_axis: int = -1,
        *,
        start_dim: int | None = None,
        end_dim: int | None = None,
    ) -> Tensor:
        return ag.ops.flatten(self, start_axis, end_axis, start_dim=start_dim, end_dim=end_dim)

    def transpose(
        self, axis0: int = -2, axis1: int = -1, *, dim0: int | None = None, dim1: int | None = None
    ) -> Tensor:
        """Swap two axes (the last two by default)."""
        return ag.ops.transpose(self, axis0, axis1, dim0=dim0, dim1=dim1)

    def t(self) -> Tensor:
        """PyTorch's ``t()``: a matrix transposed; 0-d and 1-d tensors are returned as they
        are."""
        ndim = self.data.ndim
        if ndim > 2:
            raise ShapeError(
                f"t: expects a tensor with at most 2 axes, this one has shape {self.shape}; use "
                f".mT or .transpose(dim0, dim1)"
            )
        return self if ndim < 2 else ag.ops.transpose(self, 0, 1)

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

    def squeeze(self, axis: Axis = None, *, dim: Axis = None) -> Tensor:
        return ag.ops.squeeze(self, axis, dim=dim)

    def unsqueeze(self, axis: int | None = None, *, dim: int | None = None) -> Tensor:
        return ag.ops.unsqueeze(self, axis, dim=dim)

    def expand(self, *shape: int | Sequence[int]) -> Tensor:
        return ag.ops.expand(self, shape_args(shape))

    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        return ag.ops.broadcast_to(self, shape)

    def split(self, indices_or_sections: int | Sequence[int], axis: int = 0) -> list[Tensor]:
        return ag.ops.split(self, indices_or_sections, axis)


class SizeInt(int):
    """What ``Tensor.size`` gives: the number of elements, a true ``int`` (NumPy's ``a.size``:
    ``x.size == 6``, ``x.size // n``, ``range(x.size)``), that can also be called as PyTorch's
    ``size()``: ``x.size()`` is the shape (a tuple) and ``x.size(i)`` the length of axis i
    (negative i counts from the end)."""

    shape: tuple[int, ...]

    def __new__(cls, n: int, shape: tuple[int, ...]) -> SizeInt:
        self = super().__new__(cls, n)
        self.shape = tuple(shape)
        return self

    def __call__(self, dim: Any = None) -> Any:
        if dim is None:
            return self.shape
        ndim = len(self.shape)
        i = dim.__index__()
        if not -ndim <= i < ndim:
            raise IndexError(
                f"size: axis {i} is out of range for a tensor with {ndim} dims (valid: "
                f"{-ndim} to {ndim - 1})"
            )
        return self.shape[i]

    def __getnewargs__(self) -> tuple[Any, ...]:  # type: ignore[override]
        return (int(self), self.shape)


_new = object.__new__
_STATE_SLOTS = tuple(k for k in Tensor.__slots__ if k != "__weakref__")


# The Python number of each NumPy scalar type that ``item()`` converts exactly (longdouble and
# the rest are left to ``item()``), as ``Tensor.item`` reads it: ``float(x)`` is the value
# ``x.item()`` gives, without the 0-d array NumPy makes on the way (4-5 µs of a compiled
# step's 1.6 ms, the caches cold after its matrix products).
_PYTHON_NUMBER: dict[type, type] = {
    **dict.fromkeys((np.float16, np.float32, np.float64), float),
    **dict.fromkeys(
        (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64), int
    ),
    **dict.fromkeys((np.complex64, np.complex128), complex),
    np.bool_: bool,
}


def _make(data: Any, grad_fn: Function | None) -> Tensor:
    """A tensor for an op result (no conversion, no checks: the fast path of every op)."""
    t = _new(Tensor)
    t.data = data
    t._grad = None
    t.grad_fn = grad_fn
    t._version = 0
    t._base = None
    t._requires_grad = grad_fn is not None
    t._hooks = None
    t.name = None
    return t


# ------------------------------------------------------------------- in-place writes
# Versions. Every in-place write the library makes (the in-place methods and operators,
# optimizer steps, zero_grad, clipping, running statistics, nn.init) bumps the tensor's
# ``_version``; a node that saved its inputs remembers their versions, and backward refuses
# to run on changed values. Tensors that share data through ``detach()`` (or ``Tensor(t)``)
# share the counter of the tensor they came from (``_base``): a leaf is held directly, a
# result of a recorded op weakly, so a detached loss kept for logging does not keep its graph
# alive. Writes into raw ``.data`` arrays bump nothing: they are the user's responsibility.


class Overwritten:
    """What a node keeps instead of its saved buffers once its saved output has been changed
    in place (through a tensor that shares its data): backward through it raises."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


def _shared_base(t: Tensor) -> Any:
    """What a tensor sharing ``t``'s data keeps to share its version counter (see above)."""
    base = t._base
    if base is not None:
        return base
    return t if t.grad_fn is None else ref(t)


def saved_version(t: Tensor) -> int:
    """The version a node records for a saved tensor: its own, or, for a tensor that shares a
    leaf's data, the leaf's (which every write through either of them bumps)."""
    base = t._base
    if base is None or base.__class__ is ReferenceType:
        return t._version
    return base._version


def bump_version(t: Tensor) -> None:
    """Count an in-place change of ``t``'s data (and of the tensor it shares its data with)."""
    if _mode.tape is not None:  # autograd.compile: only recorded writes may change a tensor
        _mode.tape.bumped(t)
    t._version += 1
    base = t._base
    if base is None:
        return
    if base.__class__ is ReferenceType:
        base = base()
        if base is None:
            return
        node = base.grad_fn
        if node is not None and node.save_output and node.saved.__class__ is tuple:
            node.saved = Overwritten(
                f"the output of {node.name} (shape {base.shape}, {base.dtype}) was changed in "
                f"place through a tensor that shares its data (made by detach()) after the "
                f"forward that computed it"
            )
    base._version += 1


def _check_grad(t: Tensor, grad: Any) -> None:
    """A gradient assigned to ``t.grad`` must fit ``t`` (PyTorch checks at assignment too)."""
    if not isinstance(grad, Tensor):
        raise TypeError(
            f"assigned grad expected to be a Tensor or None but got grad of type "
            f"{type(grad).__name__}"
        )
    if grad.data.shape != t.data.shape:
        raise ShapeError(
            f"assigned grad has data of a different size: the gradient has shape {grad.shape}, "
            f"the tensor has shape {t.shape}"
        )
    if grad.data.dtype != t.data.dtype:
        raise DTypeError(
            f"assigned grad has data of a different type: the gradient is {grad.dtype}, the "
            f"tensor is {t.dtype}"
        )
    if grad.device != t.device:
        raise DeviceError(
            f"assigned grad has data located on a different device: the gradient is on "
            f"{grad.device}, the tensor on {t.device}"
        )


def _check_inplace(t: Tensor, op: str, other: Any = None) -> None:
    """Refuse an in-place write that the graph would need to record."""
    if t.grad_fn is not None:
        raise GraphError(
            f"{op}: in-place operations on the result of a recorded operation (this tensor was "
            f"made by {t.grad_fn.name}) are not supported: its graph may still need the old "
            f"value. Use the out-of-place form instead (y = y + z, y = y.clip(...))."
        )
    if _mode.enabled:
        if t._requires_grad:
            raise GraphError(
                f"{op}: a leaf Variable that requires grad is being used in an in-place "
                f"operation. Update it under `with autograd.no_grad():` (as optimizers do)."
            )
        if isinstance(other, Tensor) and other._requires_grad:
            raise GraphError(
                f"{op}: the operand requires grad, but in-place operations are not recorded in "
                f"the graph; use the out-of-place form (x = x + y) so that gradients reach it"
            )


def _inplace_operator(t: Tensor, other: Any, op: str, symbol: str) -> Tensor:
    """``t += other`` and friends: in place where nothing needs recording, otherwise the
    recorded out-of-place result (which Python binds to the name)."""
    if t.grad_fn is not None or (
        _mode.enabled
        and not t._requires_grad
        and isinstance(other, Tensor)
        and other._requires_grad
    ):
        return getattr(ag.ops, op)(t, other)
    _check_inplace(t, symbol)
    return _write(t, symbol, getattr(ag.ops, op)(t, other))


def _scaled(t: Tensor, other: Any, alpha: Any) -> Any:
    """``alpha * other`` for add_/sub_ (lists take t's dtype, as operands of t would)."""
    if alpha == 1:
        return other
    if not isinstance(other, (Tensor, int, float, bool)):
        other = ag.operands.as_tensor(other, like=t)
    return other * alpha


def _write(t: Tensor, op: str, result: Tensor) -> Tensor:
    """Write ``result`` (computed out of place) into t's array, as PyTorch's rules allow: the
    shape must stay t's (other operands broadcast to it, not t to theirs), and the dtype must
    be castable within its kind (an int tensor cannot take a float result)."""
    value = result.data
    if value.shape != t.data.shape:
        raise ShapeError(
            f"{op}: output with shape {t.shape} doesn't match the broadcast shape "
            f"{tuple(value.shape)}: an in-place operation keeps the tensor's shape"
        )
    if value.dtype != t.data.dtype and not np.can_cast(value.dtype, t.data.dtype, "same_kind"):
        raise DTypeError(
            f"{op}: result type {value.dtype} can't be cast to the desired output type "
            f"{t.dtype}; convert first (x = x.to(autograd.{value.dtype}) or out of place)"
        )
    if _mode.tape is not None:
        _mode.tape.write(t, result)
    data = writable_data(t)
    with device_guard(data):
        data[...] = value
    bump_version(t)
    return t


# ``ndarray (op) Tensor``: the ufunc NumPy calls for each operator, and the op it means
_UFUNC_OPS = {
    np.add: "add",
    np.subtract: "sub",
    np.multiply: "mul",
    np.true_divide: "div",
    np.power: "pow",
    np.matmul: "matmul",
    np.equal: "eq",
    np.not_equal: "ne",
    np.less: "lt",
    np.less_equal: "le",
    np.greater: "gt",
    np.greater_equal: "ge",
    np.bitwise_and: "logical_and",
    np.bitwise_or: "logical_or",
    np.bitwise_xor: "logical_xor",
}


def _reading(what: str) -> None:
    from .compiler import reading

    reading(what)
