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
``constants()`` beside them says how a label reads them.
Everything shared (unwrapping, dtype/device checks, the graph links, summing broadcast
gradients back to each input's shape, freeing buffers) happens here, once.
"""

from __future__ import annotations

from typing import Any, ClassVar

from .backend import CPU_TYPES, NUMPY_ARRAY, device_guard
from .errors import ArraygradError, GraphError
from .grad_mode import _mode
from .tensor import Tensor, _make


class Function:
    """Base class of all operations; see the module docstring."""

    __slots__ = ("__weakref__", "edges", "hooks", "inputs", "saved", "scope", "shapes")

    op_name: ClassVar[str] = ""  # the user-facing name, where it is not the lowercased class name
    save_inputs: ClassVar[bool] = False
    save_output: ClassVar[bool] = False
    save_extra: ClassVar[bool] = False  # forward returns (output, intermediate for backward)
    # Inputs broadcast against each other: gradients are summed back to each input's shape.
    broadcasts: ClassVar[bool] = False

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
        if not (recorded and _mode.enabled):
            return _make(out, None)
        self.edges = edges = tuple(edges)
        self.hooks = None
        self.shapes = None
        self.scope = _mode.scope
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
            saved = (*arrays, out) if self.save_output else tuple(arrays)
        else:
            self.inputs = ()
            saved = (out,) if self.save_output else ()
        self.saved = (*saved, extra) if self.save_extra else saved
        return _make(out, self)

    def constants(self) -> str | None:
        """The op's constants as a label reads them (``axis=1``, ``[:, 0]``, ``0.01``), or
        None; ops with constants override this beside their ``__init__``."""
        return None

    def needs_grad(self, i: int) -> bool:
        """Whether input ``i`` needs a gradient (rules may skip costly work otherwise)."""
        return self.edges[i] is not None

    def apply_backward(self, m: Any, g: Any, create_graph: bool) -> tuple[Any, ...]:
        """The gradients for each input: arrays (``m`` is the ArrayMath of g's backend), or
        Tensors when ``create_graph`` (``m`` is the TensorMath)."""
        saved = self.saved
        if saved is None:
            raise GraphError(
                f"backward through {self.name} a second time: its saved buffers were freed by "
                f"the first backward. Pass retain_graph=True to the first backward (or "
                f"autograd.grad) if you need to backpropagate through the same graph twice."
            )
        if create_graph:  # the inputs as Tensors, the output as a Tensor of this node
            inputs = self.inputs
            saved = (*inputs, _make(saved[len(inputs)], self)) if self.save_output else inputs
            if self.save_extra:
                saved = (*saved, self.recompute_extra(m, *saved))
        grads = self.backward(m, g, *saved)
        if type(grads) is not tuple:
            grads = (grads,)
        if self.shapes is not None:
            grads = tuple(
                [gi if s is None else m.sum_to(gi, s) for gi, s in zip(grads, self.shapes)]
            )
        return grads

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


def _annotate(fn: Function, error: Exception, inputs: tuple[Any, ...]) -> Exception:
    """``error`` (raised by the array library) restated with the op and its operands."""
    described = ", ".join(_describe(x) for x in inputs)
    kind = next(k for k in (IndexError, TypeError, ValueError) if isinstance(error, k))
    return kind(f"{fn.name}: {error} (operands: {described})")


def _describe(x: Any) -> str:
    if isinstance(x, Tensor):
        return f"Tensor of shape {x.shape}, {x.dtype}, on {x.device}"
    return repr(x)
