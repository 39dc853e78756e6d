"""PyTorch-style custom functions, beside the native op style of :mod:`autograd.function`.

::

    class Exp(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y

    y = Exp.apply(x)

``Function.apply`` sees the ``forward`` that is a staticmethod taking ``ctx`` and runs the class
through :class:`CustomBackward`, a graph node that adapts it to the engine:

* ``forward(ctx, *args)`` runs under ``no_grad`` on the arguments as given (Tensors and any
  other values) and returns one Tensor; the result is recorded as one node whose edges lead to
  the Tensor arguments that require grad.
* ``backward(ctx, *grads)`` receives the gradient of the output as a Tensor and returns one
  gradient per argument of ``forward`` (a Tensor, or None: zero, or no gradient for
  non-Tensors). It runs under ``no_grad`` in an ordinary backward; with ``create_graph=True``
  it runs recorded, so its ops must be differentiable ones for a second derivative. A
  gradient whose shape broadcasts to its input's is summed back to it, as PyTorch does; one of
  another dtype is an error (never a silent cast).
* ``ctx.save_for_backward(*tensors)`` keeps tensors for backward (``ctx.saved_tensors``); their
  versions are checked there, as for native ops. ``ctx.needs_input_grad`` says, per argument,
  whether it needs a gradient; any other attribute of ``ctx`` is the user's.
* In a compiled step (``autograd.compile``) a call is one node that each replay makes again:
  forward, and backward through the new node, run again on that replay's values, so Python
  code in them runs as in eager. They may read the step's tensors only through their
  arguments (and ``g``, ``ctx.saved_tensors``): recording refuses anything else.
"""

from __future__ import annotations

from typing import Any

from .backend import backend_for
from .compiler import CompileError, rebuilt
from .errors import DTypeError, GraphError, ShapeError
from .function import _HINT, Function
from .grad_mode import _mode, no_grad
from .replay import defined_by, refs_of
from .tensor import Tensor, _make, saved_version


class FunctionCtx:
    """The ``ctx`` of a PyTorch-style function: what forward passes on to backward."""

    def __init__(self, needs_input_grad: tuple[bool, ...]) -> None:
        self.needs_input_grad = needs_input_grad
        self._to_save: tuple[Any, ...] = ()
        self._saved: tuple[Any, ...] | None = None
        self._non_differentiable: set[int] = set()

    def save_for_backward(self, *tensors: Tensor | None) -> None:
        """Keep ``tensors`` (or None) for backward, where ``saved_tensors`` gives them back."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(
                    f"save_for_backward can only save Tensors (or None), but argument {i} is "
                    f"a {type(t).__name__}; keep other values as attributes of ctx"
                )
        self._to_save = tensors

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        """The tensors given to ``save_for_backward``, inside ``backward``."""
        if self._saved is None:
            raise GraphError("ctx.saved_tensors can only be read inside backward")
        return self._saved

    def mark_non_differentiable(self, *tensors: Tensor) -> None:
        """Declare outputs that have no gradient: they are returned without a grad_fn."""
        self._non_differentiable.update(id(t) for t in tensors)

    def mark_dirty(self, *tensors: Tensor) -> None:
        """PyTorch's declaration of inputs changed in place: not supported (an error)."""
        raise NotImplementedError(
            "mark_dirty: custom functions that change their inputs in place are not supported; "
            "return a new tensor instead"
        )


class CustomBackward(Function):
    """The graph node of one call of a PyTorch-style function ``fn``."""

    __slots__ = ("ctx", "fn", "input_meta", "output_index")

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.fn.__name__

    @property
    def save_output(self) -> bool:  # type: ignore[override]
        """Whether the saved tensors include the output (an in-place change of the output
        through a detached tensor then invalidates this node)."""
        return self.output_index is not None

    def apply_backward(self, m: Any, g: Any, create_graph: bool) -> tuple[Any, ...]:
        saved = self.saved
        if saved.__class__ is not tuple:
            raise self._unusable(saved)
        versions = [None if t is None else saved_version(t) for t in saved]
        if versions != self.versions:
            i = next(i for i, (v, w) in enumerate(zip(versions, self.versions)) if v != w)
            t = saved[i]
            raise GraphError(
                f"one of the tensors needed for gradient computation has been modified by an "
                f"in-place operation: saved tensor {i} of {self.name} (shape {t.shape}, "
                f"{t.dtype}) is at version {versions[i]}; the graph expected version "
                f"{self.versions[i]}. {_HINT}"
            )
        if create_graph:
            if self.output_index is not None:  # the output, as the graph's own tensor
                t = saved[self.output_index]
                saved = list(saved)
                saved[self.output_index] = _make(t.data, self)
                saved = tuple(saved)
            grads = self._call_backward(saved, g)
        elif _mode.tape is not None:  # a compiled step records: see _rerun
            grads = self._recorded_backward(saved, g)
        else:
            with no_grad():
                grads = self._call_backward(saved, _make(g, None))
        return tuple(
            self._checked(i, gi, m, create_graph) if meta is not None else None
            for i, (gi, meta) in enumerate(zip(grads, self.input_meta))
        )

    def _recorded_backward(self, saved: tuple[Any, ...], g: Any) -> tuple[Any, ...]:
        """The user's backward while a compiled step records: its ops are not part of the
        recording (the replay calls ``apply_backward`` again, on the node its ``_rerun`` made),
        once checked to read no value of the step but ``g`` and the saved tensors."""
        tape = _mode.tape
        gt = _make(g, None)
        tape.alias(gt, g)  # the gradient as the step's value it is
        start = len(tape.program)
        with no_grad():
            grads = self._call_backward(saved, gt)
        _check_reads(tape, start, (gt, *saved), f"{self.name}.backward", "ctx.saved_tensors")
        del tape.program[start:]
        return grads

    def _call_backward(self, saved: tuple[Any, ...], g: Tensor) -> tuple[Any, ...]:
        ctx = self.ctx
        ctx._saved = saved
        try:
            grads = self.fn.backward(ctx, g)
        finally:
            ctx._saved = None
        if not isinstance(grads, tuple):
            grads = (grads,)
        n = len(self.input_meta)
        if len(grads) < n or any(gi is not None for gi in grads[n:]):
            raise TypeError(
                f"{self.name}.backward returned an incorrect number of gradients (expected {n}, "
                f"one per argument of forward, got {len(grads)})"
            )
        return grads[:n]

    def _checked(self, i: int, gi: Any, m: Any, create_graph: bool) -> Any:
        """The gradient for argument ``i``: an array (a Tensor under create_graph) of its
        input's shape and dtype; None is zero."""
        shape, dtype, device = self.input_meta[i]
        if gi is None:
            backend = backend_for(device)
            with backend.device_context(device):
                zeros = backend.xp.zeros(shape, dtype)
            return _make(zeros, None) if create_graph else zeros
        if not isinstance(gi, Tensor):
            raise TypeError(
                f"{self.name}.backward: the gradient for argument {i} must be a Tensor or "
                f"None, not {type(gi).__name__}"
            )
        if gi.data.dtype != dtype:
            raise DTypeError(
                f"{self.name}.backward returned a gradient of dtype {gi.dtype} for argument "
                f"{i}, which is {dtype}"
            )
        value = gi if create_graph else gi.data
        if gi.shape != shape:
            try:
                value = m.sum_to(value, shape)
            except ValueError:
                value = None
            if value is None or tuple(value.shape) != shape:
                raise ShapeError(
                    f"{self.name}.backward returned a gradient of shape {gi.shape} for argument "
                    f"{i}, which has shape {shape}"
                )
        return value


def apply(fn: type, args: tuple[Any, ...]) -> Any:
    """``fn.apply(*args)`` for a PyTorch-style function class ``fn`` (see the module
    docstring)."""
    if _mode.tape is not None:
        return _rerun(fn, *args)
    return _apply(fn, args)


@rebuilt
def _rerun(fn: type, *args: Any) -> Tensor:
    """``fn.apply(*args)`` in a compiled step: recorded as one node that each replay makes
    again by calling this on its values (``rebuilt``), so the user's forward runs again, and
    its backward through that node (``apply_backward``), as eager runs them. Their ops are
    not part of the recording; what they read must be their arguments (and, for backward,
    the gradient and the saved tensors), checked here: a replay would see the recording's
    value of any other tensor of the step (a global, a variable of an enclosing scope)."""
    tape = _mode.tape
    if tape is None:  # a replay
        return _apply(fn, args)
    start = len(tape.program)
    out = _apply(fn, args)
    _check_reads(tape, start, args, f"{fn.__name__}.forward", f"{fn.__name__}.apply")
    del tape.program[start:]
    node = out.grad_fn
    if node is None:  # no graph (nothing requires grad, no_grad, non-differentiable)
        node = CustomBackward()  # stands for the call in the recording only
        node.fn, node.output_index = fn, None
        out = _make(out.data, None)  # a tensor of its own (forward may return an argument)
    tape.op(node, args, out, None)
    return out


def _check_reads(tape: Any, start: int, allowed: tuple[Any, ...], what: str, how: str) -> None:
    """CompileError where the entries recorded since ``start`` read a value of the step that
    is neither one of the tensors ``allowed`` (nested in lists or tuples too) nor made by
    those entries."""
    known: set[Any] = set()
    stack = list(allowed)
    while stack:
        a = stack.pop()
        if isinstance(a, (list, tuple)):
            stack += a
        elif isinstance(a, Tensor):
            r = tape.ref(a)
            if r[0] == "s":
                known.add(r[1])
    for e in tape.program[start:]:
        if any(r[0] == "s" and r[1] not in known for r in refs_of(e)):
            raise CompileError(
                f"compile: {what} reads a tensor of the compiled step that is not passed to "
                f"it (a global or a variable of an enclosing scope): a replay runs {what} "
                f"again and would read that tensor as recorded. Pass it through {how}, or run "
                f"this step eagerly (don't compile it)"
            )
        known.update(defined_by(e))


def _apply(fn: type, args: tuple[Any, ...]) -> Any:
    """``apply``'s work: ``fn.forward`` under no_grad, and its node."""
    needs = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
    ctx = FunctionCtx(needs)
    with no_grad():
        out = fn.forward(ctx, *args)
    if not isinstance(out, Tensor):
        raise TypeError(
            f"{fn.__name__}.forward must return one Tensor, not {type(out).__name__} (custom "
            f"functions with several outputs are not supported: split them into several)"
        )
    if not (any(needs) and _mode.enabled) or id(out) in ctx._non_differentiable:
        return out
    node = CustomBackward()
    node.fn = fn
    node.ctx = ctx
    node.edges = tuple((a.grad_fn or a) if need else None for a, need in zip(args, needs))
    node.input_meta = tuple(
        (a.shape, a.dtype, a.device) if need else None for a, need in zip(args, needs)
    )
    node.hooks = None
    node.shapes = None
    node.inputs = ()
    node.constant_operands = None
    node.scope = _mode.scope
    saved = ctx._to_save
    ctx._to_save = ()
    node.output_index = next((i for i, t in enumerate(saved) if t is out), None)
    node.saved = saved
    node.versions = [None if t is None else saved_version(t) for t in saved]
    return _make(out.data, node)
