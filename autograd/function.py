"""``Function``: one recorded application of an operation, a node of the computation graph.

An op is a subclass with two methods, side by side:

* ``forward(*arrays)`` computes the result from backend arrays;
* ``backward(m, g, *saved)`` returns the gradient for each input, given ``g`` = dL/d(output).

``backward`` is written once, with Python operators and the small vocabulary ``m`` (``m.exp``,
``m.where``, ``m.sum_to`` ...). The engine runs it on raw arrays (``m`` is an
:class:`~autograd.backward_math.ArrayMath`: no graph bookkeeping at all) or, when a graph of the
gradient is wanted (``create_graph=True``), on Tensors (``m`` is the differentiable
:class:`~autograd.backward_math.TensorMath`), so any gradient can be differentiated again.

What ``backward`` receives after ``g``: the inputs if ``save_inputs``, then the output if
``save_output``, then, if ``save_extra``, an intermediate result that ``forward`` returned
beside its output (``return out, extra``), which spares backward recomputing it (the
log-probabilities of the fused cross-entropy). With ``create_graph`` the saved array would be
a constant of the gradient's graph, so the base class asks the op to rebuild it from the saved
values with ``m`` (``recompute_extra``) and passes that instead: the rule has one code path.
Constants a rule needs (shapes, axes, indices) are attributes set in ``__init__``, and
``constants()`` beside them says how a label reads them; ``derivative`` and ``in_words`` state
the rule for people (``autograd.backward_steps`` shows them step by step). Operands that are
constants of the graph (numbers, tensors without grad) stay in ``constant_operands`` after
backward has freed the saved buffers, so a picture can still show them.
Everything shared (unwrapping, dtype/device checks, the graph links, summing broadcast
gradients back to each input's shape, freeing buffers, checking that saved inputs were not
changed in place since the forward: ``versions``) happens here, once.

A subclass may instead be written in PyTorch's style, ``@staticmethod forward(ctx, ...)`` and
``backward(ctx, g)`` on Tensors, and called with ``F.apply(...)``: see
:mod:`autograd.custom_function`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from .anomaly import check_forward
from .backend import CPU_TYPES, NUMPY_ARRAY, device_guard
from .errors import ArraygradError, GraphError
from .grad_mode import _mode
from .tensor import Overwritten, Tensor, _make, saved_version


class Function:
    """Base class of all operations; see the module docstring."""

    __slots__ = (
        "__weakref__",
        "_compiled_saved",  # where a compiled step's recording finds what backward needs
        "anomaly",  # where the node was created: set in anomaly mode only (anomaly.py)
        "constant_operands",
        "edges",
        "hooks",
        "inputs",
        "saved",
        "scope",
        "shapes",
        "versions",  # of the inputs, when save_inputs: backward checks none changed in place
    )

    op_name: ClassVar[str] = ""  # the user-facing name, where it is not the lowercased class name
    save_inputs: ClassVar[bool] = False
    save_output: ClassVar[bool] = False
    save_extra: ClassVar[bool] = False  # forward returns (output, intermediate for backward)
    # Inputs broadcast against each other: gradients are summed back to each input's shape.
    broadcasts: ClassVar[bool] = False
    # The local rule as ``autograd.backward_steps`` shows it: the math (``d/dx tanh x =
    # 1 - tanh(x)^2``, or the gradient sent, ``dL/dx = g @ y^T``) and the same in words.
    derivative: ClassVar[str] = ""
    in_words: ClassVar[str] = ""
    # out[i] depends on the inputs' [i] only: the local derivative is an array of the output's
    # shape (the rule at g = 1), and each input receives g times it.
    elementwise: ClassVar[bool] = False
    # The backend ufunc that ``forward`` is (``"subtract"``), for ops that are one: a compiled
    # step writes an in-place update ``p -= lr * p.grad`` with it straight into p (``out=``).
    ufunc: ClassVar[str] = ""
    # The Python expression that ``forward`` is, of its operands' texts (``"({0}) + ({1})"``):
    # a compiled step writes it as it is for a 0-d result (a frame less per op of a scalar
    # graph: the scalar engine's replay); the same operation on the same operands.
    operator: ClassVar[str] = ""
    # ``forward`` takes ``into=``, an array to write the result into, and ``backward`` takes
    # ``into=``, a tuple of arrays (or None) for the gradients: a compiled step's planned
    # buffers, so that a replay allocates (nearly) nothing. The numbers are the same.
    writes_into: ClassVar[bool] = False
    # ``forward(x, into=x)`` is correct (one elementwise pass that reads each element before
    # writing it): a compiled step may write the result over an input it no longer needs.
    into_may_be_input: ClassVar[bool] = False
    # ``backward(..., into=(a,))`` is correct with ``a`` one of the saved arrays (read before
    # the gradient is written), never ``g``: for a single gradient, a compiled step may
    # write it over a saved array that backward is the last to read.
    backward_into_may_be_saved: ClassVar[bool] = False
    # A PyTorch-style function (``@staticmethod forward(ctx, ...)``): set for each subclass.
    _ctx_style: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        static = [isinstance(_static_attr(cls, k), staticmethod) for k in ("forward", "backward")]
        if static[0] != static[1]:
            raise TypeError(
                f"{cls.__name__}: define forward and backward both as @staticmethod taking ctx "
                f"(PyTorch's style, called with {cls.__name__}.apply(...)) or both as methods "
                f"on arrays (the native op style)"
            )
        cls._ctx_style = static[0]

    @classmethod
    def apply(cls, *args: Any) -> Any:
        """Run the function on ``args`` and record it: ``Exp.apply(x)``. For PyTorch-style
        functions (``@staticmethod forward(ctx, ...)``, see ``autograd.custom_function``), the
        one way to call them; for native ops, ``Op()(*args)``."""
        if cls._ctx_style:
            from .custom_function import apply

            return apply(cls, args)
        return cls()(*args)

    def forward(self, *arrays: Any) -> Any:
        raise NotImplementedError

    def backward(self, m: Any, g: Any, *saved: Any) -> Any:
        raise NotImplementedError

    def recompute_extra(self, m: Any, *saved: Any) -> Any:
        """For ``save_extra`` ops: the extra rebuilt from the saved inputs/output with ``m``
        (used under create_graph, so that it is part of the gradient's graph)."""
        raise NotImplementedError(f"{self.name}: save_extra ops define recompute_extra")

    @property
    def name(self) -> str:
        """The op's name as users call it (``matmul``, ``broadcast_to``)."""
        return self.op_name or type(self).__name__.lower()

    def __call__(self, *inputs: Any) -> Tensor:
        """Run ``forward`` on ``inputs`` (Tensors, or constants such as Python numbers) and
        record the node when grad mode is on and some input requires grad."""
        arrays = []
        edges = []
        recorded = False
        constant = False  # an operand is a constant (a number, a tensor without grad)
        on_device = None  # an input off the CPU: forward runs in its device's context
        for x in inputs:
            if isinstance(x, Tensor):
                d = x.data
                cls = d.__class__
                if cls is NUMPY_ARRAY:
                    # NumPy computes on its scalars ~10x faster than on 0-d arrays (the scalar
                    # engine), and a scalar saved for backward is a snapshot of the value.
                    arrays.append(d if d.ndim else d[()])
                else:
                    arrays.append(d)
                    if on_device is None and not CPU_TYPES[cls]:
                        on_device = d
                if x._requires_grad:
                    edges.append(x.grad_fn or x)
                    recorded = True
                    continue
            else:
                arrays.append(x)
            edges.append(None)
            constant = True
        try:
            if on_device is None:
                out = self.forward(*arrays)
            else:
                with device_guard(on_device):
                    out = self.forward(*arrays)
        except ArraygradError:
            raise
        except (ValueError, TypeError, IndexError) as e:
            raise _annotate(self, e, inputs) from e
        if self.save_extra:
            out, extra = out
        if _mode.anomaly:  # detect_anomaly(): check the output, keep where the node was made
            check_forward(self, out, inputs, recorded and _mode.enabled)
        if not (recorded and _mode.enabled):
            if _mode.tape is None:
                return _make(out, None)
            result = _make(out, None)
            _mode.tape.op(self, inputs, result, extra if self.save_extra else None)
            return result
        self.edges = edges = tuple(edges)
        self.hooks = None
        self.shapes = None
        self.scope = _mode.scope
        # Kept after backward frees the buffers (pictures show them; they hold no gradient).
        self.constant_operands = (
            tuple(x if e is None else None for e, x in zip(edges, inputs)) if constant else None
        )
        if self.broadcasts and out.ndim:  # remember broadcast inputs' shapes, to sum grads back
            shape = out.shape
            for e, a in zip(edges, arrays):
                if e is not None and a.shape != shape:
                    self.shapes = tuple(
                        None if e is None or a.shape == shape else a.shape
                        for e, a in zip(edges, arrays)
                    )
                    break
        if self.save_inputs:
            self.inputs = inputs
            self.versions = _versions(inputs)
            saved = (*arrays, out) if self.save_output else tuple(arrays)
        else:
            self.inputs = ()
            saved = (out,) if self.save_output else ()
        self.saved = (*saved, extra) if self.save_extra else saved
        result = _make(out, self)
        if _mode.tape is not None:  # autograd.compile is recording
            _mode.tape.op(self, inputs, result, extra if self.save_extra else None)
        return result

    def constants(self) -> str | None:
        """The op's constants as a label reads them (``axis=1``, ``[:, 0]``, ``0.01``), or
        None; ops with constants override this beside their ``__init__``."""
        return None

    def held_inputs(self) -> dict[str, Any]:
        """Arrays the op holds that feed its result without being operands (the class targets
        of cross_entropy, the condition of where), by name; pictures draw them as inputs."""
        return {}

    def renewal(self) -> tuple[tuple[Any, ...], Any] | None:
        """For a compiled step: ``(arrays, recipe)`` when this node's constants are made from
        the values of ``arrays`` (class targets, a condition) by a fixed ``recipe`` (hashable),
        so that a replay can make the node again for new values (``renewed``) instead of
        calling the op function; None (the default) when it cannot."""
        return None

    def renewed(self, operands: tuple[Any, ...], arrays: tuple[Any, ...]) -> Function:
        """This node made again for the new values ``arrays`` (see ``renewal``; ``operands``:
        the arrays forward will get), with its place in the graph (what ``needs_grad`` and
        the broadcast sums read): a compiled step's replay runs forward and backward on it."""
        new = self.remade(operands, arrays)
        for name in ("edges", "shapes"):
            value = getattr(self, name, _UNSET)
            if value is not _UNSET:
                setattr(new, name, value)
        return new

    def remade(self, operands: tuple[Any, ...], arrays: tuple[Any, ...]) -> Function:
        """A new node of this op from ``arrays`` (see ``renewal``), value checks included."""
        raise NotImplementedError(f"{self.name}: ops with a renewal define remade")

    # ------------------------------------------------ a compiled step's source (autograd.replay)
    # The ops of a training step's hot path may write their forward and backward as lines of
    # the replay's source, the same array calls in the same order (so the same numbers), where
    # the call of the method costs more than its arrays do: after a large matrix product has
    # left the interpreter's code and data out of the caches, each Python frame of a step
    # costs several times what it costs in a loop of its own. ``s`` is a ``replay.Source``:
    # what the lines read and set (``s.args``, ``s.out`` ...), the names of the backend's
    # functions (``s.fn("matmul")``), of constants (``s.const``), of the node (``s.node``) and
    # of locals of the node's own (``s.local``). None (the default): the replay calls the
    # method, as the lines in ``s.general`` do.

    def forward_source(self, s: Any) -> list[str] | None:
        """Lines setting ``s.out`` to ``forward(*s.args)``, written into ``s.into`` (a planned
        buffer's expression, or ``"None"``; for ``into_may_be_input`` ops, maybe an operand's
        buffer: the line passes that operand to the call that writes, as forward's does)."""
        return None

    def backward_source(self, s: Any) -> list[str] | None:
        """Lines setting ``s.outs`` (``"_"``: not needed) to ``backward(m, s.g, *s.args)``
        (``s.math`` names ``m``), the gradients written into ``s.into`` (as in
        ``forward_source``; for ``backward_into_may_be_saved`` ops, maybe a saved array's
        buffer, checked as if the lines did not pass it to a call)."""
        return None

    def renewed_source(self, s: Any) -> list[str] | None:
        """For a node with a ``renewal``: lines that make its constants from the new arrays
        ``s.held`` and set ``s.out`` (and ``s.extra``, for ``save_extra``) to its forward of
        ``s.args``, falling back to ``s.general`` (``renewed``, which sets ``s.node``, then
        ``forward``) for values the lines do not cover."""
        return None

    def needs_grad(self, i: int) -> bool:
        """Whether input ``i`` needs a gradient (rules may skip costly work otherwise)."""
        return self.edges[i] is not None

    def apply_backward(self, m: Any, g: Any, create_graph: bool) -> tuple[Any, ...]:
        """The gradients for each input: arrays (``m`` is the ArrayMath of g's backend), or
        Tensors when ``create_graph`` (``m`` is the TensorMath)."""
        saved = self.saved
        if saved.__class__ is not tuple:
            raise self._unusable(saved)
        if self.save_inputs:
            versions = _versions(self.inputs)
            if versions != self.versions:
                raise self._modified(versions)
        if create_graph:  # the inputs as Tensors, the output as a Tensor of this node
            inputs = self.inputs
            saved = (*inputs, _make(saved[len(inputs)], self)) if self.save_output else inputs
            if self.save_extra:
                saved = (*saved, self.recompute_extra(m, *saved))
        return self.rule(m, g, saved)

    def rule(self, m: Any, g: Any, saved: tuple[Any, ...]) -> tuple[Any, ...]:
        """``backward`` on the saved values, each gradient summed back to its input's shape
        (what ``apply_backward`` runs after its checks; a compiled step's replay calls it)."""
        grads = self.backward(m, g, *saved)
        if type(grads) is not tuple:
            grads = (grads,)
        if self.shapes is not None:
            grads = tuple(
                [gi if s is None else m.sum_to(gi, s) for gi, s in zip(grads, self.shapes)]
            )
        return grads

    def _unusable(self, saved: Any) -> GraphError:
        """The error for a backward through this node once its buffers are gone (freed by a
        first backward, or overwritten in place)."""
        if isinstance(saved, Overwritten):
            return GraphError(
                f"one of the tensors needed for gradient computation has been modified by an "
                f"in-place operation: {saved.message}. {_HINT}"
            )
        return GraphError(
            f"backward through {self.name} a second time: its saved buffers were freed by "
            f"the first backward. Pass retain_graph=True to the first backward (or "
            f"autograd.grad) if you need to backpropagate through the same graph twice."
        )

    def _modified(self, versions: list[Any]) -> GraphError:
        """The error for a saved input changed in place since the forward (see ``versions``)."""
        i, now, then = next(
            (i, v, w) for i, (v, w) in enumerate(zip(versions, self.versions)) if v != w
        )
        x = self.inputs[i]
        return GraphError(
            f"one of the tensors needed for gradient computation has been modified by an "
            f"in-place operation: input {i} of {self.name} (shape {x.shape}, {x.dtype}) is at "
            f"version {now}; the graph expected version {then}. {_HINT}"
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


_UNSET = object()

_HINT = (
    "Hint: something changed it in place after the forward that used it and before this "
    "backward (an in-place op such as add_, -= or zero_, optimizer.step(), clipping, a "
    "module's running statistics, nn.init). Run the forward again after the change, or change "
    "a copy (x.clone()) instead."
)


def _versions(inputs: tuple[Any, ...]) -> list[int | None]:
    """The version of each tensor operand (None for other constants): what a node records at
    forward and compares at backward."""
    return [
        (x._version if x._base is None else saved_version(x)) if isinstance(x, Tensor) else None
        for x in inputs
    ]


def _static_attr(cls: type, name: str) -> Any:
    """``cls.<name>`` as the class dict holds it (a staticmethod stays one)."""
    for klass in cls.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name]
    return None


def _annotate(fn: Function, error: Exception, inputs: tuple[Any, ...]) -> Exception:
    """``error`` (raised by the array library) restated with the op and its operands."""
    described = ", ".join(_describe(x) for x in inputs)
    kind = next(k for k in (IndexError, TypeError, ValueError) if isinstance(error, k))
    return kind(f"{fn.name}: {error} (operands: {described})")


def _describe(x: Any) -> str:
    if isinstance(x, Tensor):
        return f"Tensor of shape {x.shape}, {x.dtype}, on {x.device}"
    return repr(x)
