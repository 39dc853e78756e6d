"""The backward pass: one iterative graph traversal for ``Tensor.backward`` and ``grad``.

1. Walk the graph from the roots with an explicit stack, counting for every node how many
   edges point to it (its dependencies). No recursion, so a million-node chain is fine.
2. Run the nodes in an order where each one runs after everything that feeds it a gradient:
   a node is ready when its count drops to zero (Kahn's algorithm). Gradients arriving from
   several paths are summed first (a diamond counts once per path).
3. Leaves accumulate into ``grad`` (``backward``) or their gradient is returned (``grad``).
   After a node has run, its saved buffers are freed unless ``retain_graph``.

Nodes are ``Function`` instances; edges point to the node that made an input, or to the leaf
tensor itself. The graph holds no reference cycles, so a finished graph is freed as soon as
the last tensor that refers to it goes away.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from . import ops
from .anomaly import run_backward as anomaly_backward
from .backend import CPU_TYPES, NUMPY_ARRAY, backend_of, check_same_device, device_guard
from .backward_math import tensor_math
from .errors import DTypeError, GraphError, ShapeError
from .function import Function
from .grad_mode import _mode, enable_grad
from .operands import as_tensor
from .tensor import Tensor, _make, bump_version

_refcount = sys.getrefcount


def _exclusive_refcount() -> int:
    """What ``sys.getrefcount`` reports for an object held by one local variable only."""
    g = object()
    return _refcount(g)


_EXCLUSIVE = _exclusive_refcount()


def run_backward(
    roots: Sequence[Tensor],
    gradients: Sequence[Any],
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Tensor | Sequence[Tensor] | None = None,
) -> None:
    """Accumulate the gradients of ``roots`` (weighted by ``gradients``) into the leaves, or,
    given ``inputs``, into those tensors' ``grad`` only (PyTorch's ``backward(inputs=...)``:
    the traversal of ``grad``, its results accumulated; an input not reached gets nothing)."""
    if inputs is None:
        _execute(roots, gradients, retain_graph, create_graph, targets=None)
        return
    inputs = list(dict.fromkeys((inputs,) if isinstance(inputs, Tensor) else inputs))
    if not inputs:
        raise ValueError("backward: inputs= cannot be empty; omit it to reach every leaf")
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"backward: inputs[{i}] is a {type(t).__name__}, not a Tensor")
        if not t.requires_grad:
            raise GraphError(f"backward: inputs[{i}] does not require grad")
    targets = [t.grad_fn if t.grad_fn is not None else t for t in inputs]
    found = _execute(roots, gradients, retain_graph, create_graph, targets=targets)
    for t, target in zip(inputs, targets):
        g = found.get(target)
        if g is not None:
            accumulate_grad(t, g, copy=True)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """The gradients of ``outputs`` with respect to ``inputs``, returned, not accumulated.

    ``grad_outputs`` weights each output (optional for one-element outputs). With
    ``create_graph=True`` the results are recorded and can be differentiated again.
    ``allow_unused=False`` makes an input that the outputs do not depend on an error;
    otherwise its gradient is None.
    """
    outputs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = (grad_outputs,) * len(outputs) if grad_outputs is None else (grad_outputs,)
    grad_outputs = tuple(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"grad: inputs[{i}] is a {type(t).__name__}, not a Tensor")
        if not t.requires_grad:
            raise GraphError(f"grad: inputs[{i}] does not require grad")
    targets = [t.grad_fn if t.grad_fn is not None else t for t in inputs]
    found = _execute(outputs, grad_outputs, retain_graph, create_graph, targets=targets)
    results = []
    for i, target in enumerate(targets):
        g = found.get(target)
        if g is None and not allow_unused:
            raise GraphError(
                f"grad: inputs[{i}] was not used to compute the outputs (no path connects "
                f"them). Pass allow_unused=True to get None for it."
            )
        if create_graph and g is not None:
            g = _connected(g, target)
        results.append(None if g is None else (g if isinstance(g, Tensor) else _make(g, None)))
    return tuple(results)


def _execute(
    roots: Sequence[Tensor],
    gradients: Sequence[Any],
    retain_graph: bool | None,
    create_graph: bool,
    targets: list[Any] | None,
    observer: Any = None,
) -> dict[Any, Any]:
    retain = create_graph if retain_graph is None else retain_graph
    if _mode.tape is not None:  # autograd.compile is recording: it watches the run
        observer = _compile_observer(create_graph, targets, observer)
    grads: dict[Any, Any] = {}
    for i, (root, g) in enumerate(zip(roots, gradients)):
        node = _root_node(root, i)
        given = g
        g = _root_gradient(root, g, create_graph)
        grads[node] = g if node not in grads else _sum(grads[node], g)
        if _mode.tape is not None:  # the root's gradient, as the step's value it is
            _mode.tape.sent(node, given if isinstance(given, Tensor) else g, grads[node])
    del g, given
    deps = _count_dependencies(list(grads))
    target_set = None if targets is None else set(targets)
    needed = None if target_set is None else _needed(list(grads), deps, target_set)
    captured: dict[Any, Any] = {}
    if create_graph:
        with enable_grad():
            _run(grads, deps, needed, target_set, captured, retain, True, observer)
    else:
        _run(grads, deps, needed, target_set, captured, retain, False, observer)
    return captured


def _compile_observer(create_graph: bool, targets: Any, observer: Any) -> Any:
    from .compiler import CompileError

    if create_graph or targets is not None or observer is not None:
        what = "create_graph=True" if create_graph else "autograd.grad / backward(inputs=)"
        raise CompileError(f"compile: {what} inside a compiled function cannot be recorded")
    return _mode.tape


def _run(
    grads: dict[Any, Any],
    deps: dict[Any, int],
    needed: set[Any] | None,
    targets: set[Any] | None,
    captured: dict[Any, Any],
    retain: bool,
    create_graph: bool,
    observer: Any = None,
) -> None:
    """Run the nodes in dependency order: ``grads`` holds the gradient summed so far for
    each node, ``deps`` how many edges into it have still to deliver theirs.

    An ``observer`` (``autograd.backward_steps`` records with one) is told each step:
    ``ran(node, g, in_grads)`` when a node has run (``in_grads`` None for a leaf) and
    ``sent(edge, gi, total)`` for each gradient delivered, with the sum so far at ``edge``.
    """
    ready = [node for node in grads if deps.get(node, 0) == 0]
    in_grads = gi = None
    m = tensor_math() if create_graph else None
    m_type = None  # the array type m was looked up for
    on_device = False  # whether arrays of m_type live off the CPU (their rules need a guard)
    anomaly = _mode.anomaly  # detect_anomaly(): each rule's result is checked
    while ready:
        node = ready.pop()
        g = grads.pop(node)
        if isinstance(node, Tensor):  # a leaf
            if node._hooks:
                g = _run_hooks(node._hooks, g, create_graph)
            if observer is not None:
                observer.ran(node, g, None)
            if targets is not None:
                captured[node] = g
            else:
                # Steal a freshly computed gradient; copy one that someone else also holds
                # (one object sent down two paths, a view, the caller's own array). The
                # create_graph path, slow anyway, always copies.
                shared = (
                    create_graph
                    or _refcount(g) > _EXCLUSIVE
                    or getattr(g, "base", None) is not None
                )
                accumulate_grad(node, g, copy=shared)
            continue
        if node.hooks:
            g = _run_hooks(node.hooks, g, create_graph)
        if targets is not None:
            if node in targets:
                captured[node] = g
            if not any(e in needed for e in node.edges if e is not None):
                continue  # nothing below this node leads to a requested input
        if not create_graph and type(g) is not m_type:
            m_type = type(g)
            m = backend_of(g).math
            on_device = not CPU_TYPES[m_type]
        if anomaly:
            in_grads = anomaly_backward(node, m, g, create_graph, on_device)
        elif on_device:
            with device_guard(g):
                in_grads = node.apply_backward(m, g, create_graph)
        else:
            in_grads = node.apply_backward(m, g, create_graph)
        if not retain:  # free the buffers saved for backward
            node.saved = None
            node.inputs = ()
        if observer is not None:
            observer.ran(node, g, in_grads)
        for edge, gi in zip(node.edges, in_grads):
            if edge is None or (needed is not None and edge not in needed):
                continue
            if gi is None:
                raise GraphError(
                    f"{node.name}: the backward rule returned no gradient for an "
                    f"input that needs one (a bug in the op)"
                )
            prev = grads.get(edge)
            if prev is None:
                grads[edge] = gi
            elif on_device or type(gi) is not m_type:  # off the CPU, or moved by to_device
                grads[edge] = _sum(prev, gi)
            else:
                grads[edge] = prev + gi
            if observer is not None:
                observer.sent(edge, gi, grads[edge])
            left = deps[edge] - 1
            deps[edge] = left
            if left == 0:
                ready.append(edge)
        in_grads = gi = g = prev = None  # drop references so that leaves can steal gradients


def accumulate_grad(tensor: Tensor, grad: Any, copy: bool) -> None:
    """``tensor.grad += grad``; a ``grad`` that is a graph-connected Tensor keeps its graph.

    ``copy`` says whether ``grad`` may be shared with other holders (the steal-or-copy
    decision of ``_run``), so that gradients never share memory with each other or with the
    caller's arrays. The engine writes the ``_grad`` slot directly: the gradients it makes
    fit by construction, so the checks of the ``grad`` setter are skipped.
    """
    if not copy and type(grad) is NUMPY_ARRAY and tensor._grad is None:
        tensor._grad = _make(grad, None)  # the common case: a fresh CPU gradient, kept as is
        return
    if isinstance(grad, Tensor):  # create_graph: the accumulated gradient stays differentiable
        grad = _connected(grad, tensor)
        if tensor._grad is None:
            tensor._grad = ops.clone(grad) if copy else grad
        else:
            tensor._grad = tensor._grad + grad
        return
    if CPU_TYPES[type(grad)]:
        _accumulate_array(tensor, grad, copy)
    else:
        with device_guard(grad):
            _accumulate_array(tensor, grad, copy)


def _accumulate_array(tensor: Tensor, grad: Any, copy: bool) -> None:
    if tensor._grad is None:
        xp = backend_of(grad).xp
        if copy or not isinstance(grad, xp.ndarray):
            grad = xp.array(grad, copy=True)
        tensor._grad = _make(grad, None)
    else:
        total = tensor._grad.data
        try:
            backend_of(total).xp.add(total, grad, out=total)  # in place, as PyTorch does
        except ValueError:  # a read-only array the user assigned to .grad
            tensor._grad.data = total + grad
        bump_version(tensor._grad)


def _sum(a: Any, b: Any) -> Any:
    """Two gradients of one node added: Tensors, or arrays of one device (summed there)."""
    if isinstance(b, Tensor) or CPU_TYPES[type(b)]:
        return a + b
    with device_guard(b):
        return a + b


def _count_dependencies(start: list[Any]) -> dict[Any, int]:
    """For each node reachable from ``start``: how many edges of reachable nodes point to it."""
    deps: dict[Any, int] = {}
    stack = [n for n in start if isinstance(n, Function)]
    while stack:
        node = stack.pop()
        for edge in node.edges:
            if edge is None:
                continue
            n = deps.get(edge, 0)
            deps[edge] = n + 1
            if n == 0 and isinstance(edge, Function):
                stack.append(edge)
    return deps


def _needed(start: list[Any], deps: dict[Any, int], targets: set[Any]) -> set[Any]:
    """The nodes from which some target can be reached (only they need gradients)."""
    order = []  # a topological order (roots first), by counting down a copy of deps
    left = dict(deps)
    ready = [n for n in start if left.get(n, 0) == 0]
    while ready:
        node = ready.pop()
        order.append(node)
        if isinstance(node, Function):
            for edge in node.edges:
                if edge is not None:
                    left[edge] -= 1
                    if left[edge] == 0:
                        ready.append(edge)
    needed = set(targets)
    for node in reversed(order):
        if isinstance(node, Function) and any(e in needed for e in node.edges if e is not None):
            needed.add(node)
    return needed


def _root_node(root: Tensor, i: int) -> Any:
    if not isinstance(root, Tensor):
        raise TypeError(f"backward: outputs[{i}] is a {type(root).__name__}, not a Tensor")
    if root.grad_fn is not None:
        return root.grad_fn
    if root.requires_grad:
        return root
    raise GraphError(
        "backward: the output does not require grad: none of the tensors it was computed "
        "from requires grad, or it was computed under no_grad(). Create the inputs with "
        "requires_grad=True."
    )


def _root_gradient(root: Tensor, g: Any, create_graph: bool) -> Any:
    """The starting gradient d(root)/d(root) weighted by the caller's ``g`` (1 if omitted)."""
    data = root.data
    if g is None:
        if data.size != 1:
            raise GraphError(
                f"backward: the output has shape {root.shape}; a gradient can only be implied "
                f"(as 1) for a one-element output. Reduce it first (e.g. out.sum()) or pass "
                f"gradient= with the shape {root.shape}."
            )
        backend = backend_of(data)
        with backend.guard(data):
            g = backend.xp.ones_like(data)
        return _make(g, None) if create_graph else g  # an implied 1 fits by construction
    if isinstance(g, Tensor):
        if create_graph:
            _check_root_gradient(root, g.data)
            return g
        g = g.data
    else:
        g = as_tensor(g, like=root).data  # lists take the output's dtype; arrays keep theirs
    _check_root_gradient(root, g)
    return _make(g, None) if create_graph else g


def _check_root_gradient(root: Tensor, g: Any) -> None:
    if g.shape != root.shape:
        raise ShapeError(
            f"backward: the gradient has shape {g.shape} but the output has shape {root.shape}"
        )
    if g.dtype != root.dtype:
        raise DTypeError(
            f"backward: the gradient is {g.dtype} but the output is {root.dtype}; convert it "
            f"with .to(autograd.{root.dtype})"
        )
    check_same_device("backward", (root.data, g))


def _run_hooks(hooks: list[Any], g: Any, create_graph: bool) -> Any:
    for hook in list(hooks):
        t = g if isinstance(g, Tensor) else _make(g, None)
        result = hook(t)
        if result is not None:
            if not isinstance(result, Tensor):
                raise TypeError(
                    f"a gradient hook must return a Tensor or None, not {type(result).__name__}"
                )
            if result.shape != t.shape or result.dtype != t.dtype:
                raise ShapeError(
                    f"a gradient hook returned shape {result.shape} ({result.dtype}) for a "
                    f"gradient of shape {t.shape} ({t.dtype})"
                )
            g = result if create_graph else result.data
    return g


class ConstantGradient(Function):
    """A gradient computed with create_graph that came out as a constant (its rules did not
    involve anything that requires grad: relu, abs, clip, maximum, a linear loss ...), tied to
    the input it is the gradient of, as PyTorch ties it. Forward passes the values on; the
    derivative with respect to the input is 0, which is the math: the gradient does not
    depend on the input there. So ``grad(grad(relu(x).sum(), x, create_graph=True)[0].sum(),
    x)`` is zeros, not an error."""

    op_name = "constant_gradient"
    __slots__ = ()
    derivative = "d/dx g = 0 (g does not depend on x)"
    in_words = "the gradient did not depend on the input: its own derivative is 0"

    def forward(self, g: Any, anchor: Any) -> Any:
        return g

    def backward(self, m: Any, g: Any) -> tuple[Any, Any]:
        return None, m.zeros_like(g)


def _connected(g: Any, target: Any) -> Any:
    """Under create_graph: the gradient ``g`` of ``target`` (a leaf, or the node that made an
    intermediate input), tied to it by a ConstantGradient node if nothing ties it yet."""
    if isinstance(g, Tensor) and g._requires_grad:
        return g
    data = g.data if isinstance(g, Tensor) else g
    anchor = target if isinstance(target, Tensor) else _make(data, target)  # stands for it
    with enable_grad():
        return ConstantGradient()(_make(data, None), anchor)
