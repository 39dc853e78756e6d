"""Step through backpropagation: what ``backward`` does at every node, recorded and shown.

    steps = autograd.backward_steps(loss)   # records; loss's graph and every .grad unchanged
    steps                                   # Jupyter: an interactive stepper
    steps.save("backprop.html")             # one self-contained file, works offline
    steps.save("backprop.svg")              # an animated SVG: plays where no JavaScript runs
    steps.save("frames/")                   # one SVG (or PNG) frame per step, for slides
    print(steps)                            # the same steps as text

Recording runs the engine's own traversal (``engine._execute`` with an observer, so the same
order and the same rules: no second implementation of any gradient), on the retained graph and
with the leaves as targets, so that gradients are returned instead of accumulated into ``.grad``.
At each node it keeps the chain rule with its numbers,

    dL/dx  =  dL/d(out) * d(out)/dx       (upstream gradient g times the local derivative),

summed over every use of x: the upstream g, the rule of the op (``Function.derivative``), what it
sends to each input, for elementwise ops also the local derivative itself (the op's rule at
g = 1), the broadcasting reduction where a gradient is summed back to an input's shape
(``sum over axis 0: (128, 10) -> (10,)``), and the running sum at a tensor used more than once
(``2nd of 3 contributions``). The forward values are recomputed with each op's own ``forward``
from the leaves and the constants the ops keep.

The picture is ``draw_graph``'s (colours, module boxes, ``collapse``, ``max_nodes``) with every
op's result drawn as a record whose value and gradient fill in step by step: the forward pass in
topological order, then backward from the root, the current node and the edges carrying its
gradient highlighted, tensors whose gradient is final marked done.
"""

from __future__ import annotations

import copy
import json
import os
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from . import engine
from .backend import CPU_TYPES, backend_of, device_guard
from .errors import GraphError
from .function import Function
from .hooks import RetainGrad
from .tensor import Tensor, _make
from .text import num
from .viz import (
    COLORS,
    DEFAULT_MAX_NODES,
    IN_FULL,
    INFIX,
    NONFINITE,
    _check_roots,
    _collapse_rule,
    _Drawing,
    _html,
    _op_parts,
    _tensor_header,
    _values,
    _Walk,
    check_rankdir,
    new_graph,
    scope_label,
)

__all__ = ["BackwardSteps", "Send", "Step", "StepNode", "backward_steps"]

NOT_YET = "not computed yet"
# Highlights (the HTML stepper's stylesheet uses the same colours).
CURRENT, FORWARD, DONE, PARTIAL = "#e65100", "#1565c0", "#2e7d32", "#f9a825"
SECONDS_PER_STEP = 1.2  # the animated SVG; it holds the last step three times as long
BIG_PICTURE = 200  # drawn nodes beyond which Graphviz positions them with a bounded search
TEXT_WIDTH, TEXT_PAD = 6.3, 10  # points per character of 11pt Helvetica (generous), padding


# --------------------------------------------------------------------------- the record
@dataclass(eq=False)
class StepNode:
    """A tensor of the graph: a leaf that requires grad (``"parameter"``), one that does not
    (``"input"``: data, targets, masks), or the result of an op (``"result"``)."""

    index: int
    kind: str
    ref: str  # its name, or %k (its position in the forward listing), as print_graph writes it
    value: Any  # the forward value (an array)
    fn: Function | None = None  # the op that computed it (results)
    tensor: Tensor | None = None  # the tensor itself, where one is known (leaves, inputs, roots)
    code: str = ""  # how it is computed from the others: "x1 * w1", "tanh(n)"
    grad: Any = None  # dL/d(this) at the end (None for inputs)
    contributions: int = 0  # how many gradients are summed into it


@dataclass(eq=False)
class Send:
    """What a node sends back to one input: ``gradient`` = dL/dx (upstream times local, summed
    back to the input's shape), the ``k``-th of the ``of`` contributions summed into x, and
    ``total``, the sum so far."""

    position: int  # which operand of the op
    to: StepNode
    gradient: Any
    local: Any  # d(out)/dx for elementwise ops (the output's shape), else None
    total: Any
    k: int
    of: int
    reduced: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]] | None  # from, to, axes


@dataclass(eq=False)
class Step:
    """One step: ``phase`` "forward" or "backward"; ``kind`` "leaves" (the forward pass
    starts), "op" (an op computes its value, or backward runs through it), "seed" (backward
    starts at the roots), or "leaf" (a leaf receives its final gradient). ``lines`` are what the
    panel shows, as (kind, text) pairs."""

    phase: str
    kind: str
    node: StepNode | None
    upstream: Any = None
    sends: list[Send] = field(default_factory=list)
    lines: list[tuple[str, str]] = field(default_factory=list)


def backward_steps(
    *roots: Tensor,
    gradient: Any = None,
    collapse: bool | str | Sequence[str] = False,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    rankdir: str | None = None,
) -> BackwardSteps:
    """Record backpropagation from ``roots`` step by step (see the module docstring).

    ``gradient`` is dL/d(root) as for ``backward`` (omitted: 1 for a one-element root; with
    several roots, one per root). The graph is retained and usable for a later ``backward``;
    no ``.grad`` changes (hooks run, as in backward; retained gradients are not stored).
    ``collapse``, ``max_nodes`` and ``rankdir`` choose the picture, as in ``draw_graph``.
    """
    _check_roots("backward_steps", roots, max_nodes)
    check_rankdir("backward_steps", rankdir)
    if len(roots) == 1:
        gradients: tuple[Any, ...] = (gradient,)
    elif gradient is None:
        gradients = (None,) * len(roots)
    else:
        gradients = tuple(gradient)
        if len(gradients) != len(roots):
            raise ValueError(
                f"backward_steps: {len(gradients)} gradients for {len(roots)} roots; give one "
                f"per root"
            )
    return BackwardSteps(_Recording(roots, gradients), collapse, max_nodes, rankdir)


class _Observer:
    """Keeps what the engine reports while it runs (see ``engine._run``)."""

    def __init__(self) -> None:
        self.runs: list[tuple[Any, Any, Any, list[tuple[Any, Any, Any]]]] = []

    def ran(self, node: Any, g: Any, in_grads: Any) -> None:
        self.runs.append((node, g, in_grads, []))

    def sent(self, edge: Any, gi: Any, total: Any) -> None:
        self.runs[-1][3].append((edge, gi, total))


class _Recording:
    """The engine's run with its numbers: nodes in forward order, and the steps."""

    def __init__(self, roots: tuple[Tensor, ...], gradients: tuple[Any, ...]) -> None:
        self.roots = roots
        starts = [engine._root_node(t, i) for i, t in enumerate(roots)]
        reachable = set(engine._count_dependencies(list(dict.fromkeys(starts)))) | set(starts)
        for node in reachable:
            if isinstance(node, Function) and node.saved is None:
                raise GraphError(
                    f"backward_steps: the graph was freed by an earlier backward() (at "
                    f"{node.name}); record the steps before backward, or call backward with "
                    f"retain_graph=True"
                )
        leaves = [n for n in reachable if isinstance(n, Tensor)]
        parked = []  # tensors that retain their gradient: their .grad stays as it was
        for node in reachable:
            for hook in (node.hooks or ()) if isinstance(node, Function) else ():
                t = hook.ref() if isinstance(hook, RetainGrad) else None
                if t is not None:
                    parked.append((t, t.grad))
        observer = _Observer()
        try:
            for t, _ in parked:
                t.grad = None
            engine._execute(roots, gradients, True, False, targets=leaves, observer=observer)
        finally:
            for t, g in parked:
                t.grad = g
        self.seeds = [engine._root_gradient(t, g, False) for t, g in zip(roots, gradients)]
        self._nodes(observer, roots)
        self._steps(observer)

    # ------------------------------------------------------------------ the nodes
    def _nodes(self, observer: _Observer, roots: tuple[Tensor, ...]) -> None:
        """Number the tensors in forward order (each after its inputs, as print_graph lists
        them), name them and recompute the forward values."""
        results: dict[Function, Tensor] = {}  # ops whose result tensor is known
        for t in roots:
            if t.grad_fn is not None:
                results.setdefault(t.grad_fn, t)
        ops = [n for n, *_ in reversed(observer.runs) if isinstance(n, Function)]
        for fn in ops:
            for hook in fn.hooks or ():
                t = hook.ref() if isinstance(hook, RetainGrad) else None
                if t is not None:
                    results.setdefault(fn, t)
        self.nodes: list[StepNode] = []
        self.of: dict[Any, StepNode] = {}  # engine node (op or leaf) -> its StepNode
        self.inputs: dict[int, StepNode] = {}  # id of a constant tensor or held array -> node
        self.results = results
        used: set[str] = set()

        def add(kind: str, value: Any, name: str | None, **kw: Any) -> StepNode:
            ref = name if name and name not in used else f"%{len(self.nodes)}"
            used.add(ref)
            node = StepNode(len(self.nodes), kind, ref, value, **kw)
            self.nodes.append(node)
            return node

        for t in roots:
            if t.grad_fn is None:  # a leaf as a root
                self.of[t] = add("parameter", t.data, t.name, tensor=t)
        for fn in ops:
            constants = fn.constant_operands
            for i, e in enumerate(fn.edges):
                if e is None:
                    c = constants[i]
                    if isinstance(c, Tensor) and id(c) not in self.inputs:
                        self.inputs[id(c)] = add("input", c.data, c.name, tensor=c)
                elif isinstance(e, Tensor) and e not in self.of:
                    self.of[e] = add("parameter", e.data, e.name, tensor=e)
            for name, array in fn.held_inputs().items():
                if id(array) not in self.inputs:
                    self.inputs[id(array)] = add("input", array, name)
            t = results.get(fn)
            node = add("result", _forward(fn, self), None if t is None else t.name, fn=fn, tensor=t)
            self.of[fn] = node
            node.code = self._code(fn)

    def _code(self, fn: Function, values: bool = False) -> str:
        """``x1 * w1``, ``tanh(n)``, ``sum(%3, axis=1)``, ``%4[:, 0]``: the op as code (with
        the operands' values in place of their names if ``values``)."""
        args = []
        constants = fn.constant_operands
        for i, e in enumerate(fn.edges):
            if e is not None:
                args.append(_brief(self.of[e].value) if values else self.of[e].ref)
            elif isinstance(constants[i], Tensor):
                args.append(self.inputs[id(constants[i])].ref)
            else:
                args.append(_brief(constants[i]))
        args += [f"{k}={self.inputs[id(a)].ref}" for k, a in fn.held_inputs().items()]
        name, detail = _op_parts(fn)
        if fn.name in INFIX and len(args) == 2:
            return f"{args[0]} {name} {args[1]}"
        if detail is not None and detail.startswith("["):
            return f"{args[0]}{detail}" if len(args) == 1 else f"{name}{detail}({', '.join(args)})"
        return f"{name}({', '.join(args + ([detail] if detail else []))})"

    # ------------------------------------------------------------------ the steps
    def _steps(self, observer: _Observer) -> None:
        counts: dict[Any, int] = {}
        for _, _, _, sends in observer.runs:
            for edge, _, _ in sends:
                counts[edge] = counts.get(edge, 0) + 1
        for n, k in counts.items():
            self.of[n].contributions = k
        self.steps: list[Step] = []
        leaves = [n for n in self.nodes if n.kind != "result"]
        lines = [("title", "Forward pass: the leaves hold their values")]
        lines += [("math", f"{n.ref} = {_brief(n.value)}") for n in leaves[:12]]
        if len(leaves) > 12:
            lines.append(("note", f"... and {len(leaves) - 12} more"))
        self.steps.append(Step("forward", "leaves", None, lines=lines))
        for node in self.nodes:
            if node.kind == "result":
                self.steps.append(self._forward_step(node))
        lines = [("title", "Backward pass: it starts at the root")]
        for t, seed in zip(self.roots, self.seeds):
            ref = self.of[engine._root_node(t, 0)].ref
            what = "1 (d root / d root)" if _all_ones(seed) else _brief(seed)
            lines.append(("math", f"dL/d{ref} = {what}"))
        self.steps.append(Step("backward", "seed", None, lines=lines))
        arrived: dict[Any, int] = {}
        for engine_node, g, in_grads, sends in observer.runs:
            node = self.of[engine_node]
            node.grad = g
            if in_grads is None:
                self.steps.append(self._leaf_step(node, g))
                continue
            fn = node.fn
            assert fn is not None
            local = _local(fn, g) if fn.elementwise else None
            positions = [i for i, e in enumerate(fn.edges) if e is not None]
            step = Step("backward", "op", node, upstream=g)
            for edge, gi, total in sends:
                while fn.edges[positions[0]] is not edge:  # inputs needing no gradient
                    positions.pop(0)
                i = positions.pop(0)
                k = arrived[edge] = arrived.get(edge, 0) + 1
                to = self.of[edge]
                shapes = fn.shapes
                reduced = None
                if shapes is not None and shapes[i] is not None:
                    reduced = (tuple(g.shape), shapes[i], _summed_axes(tuple(g.shape), shapes[i]))
                li = None if local is None else local[i]
                step.sends.append(Send(i, to, gi, li, total, k, to.contributions, reduced))
            step.lines = self._backward_lines(step)
            self.steps.append(step)

    def _forward_step(self, node: StepNode) -> Step:
        fn = node.fn
        assert fn is not None
        lines = [("title", f"Forward: {node.ref} = {node.code}")]
        scope = _scope_text(fn)
        if scope:
            lines.append(("note", scope))
        operands = [self.of[e] for e in fn.edges if e is not None]
        if all(_size(o.value) == 1 for o in operands) and _size(node.value) == 1:
            code = self._code(fn, values=True)
            lines.append(("math", f"{node.ref} = {code} = {_brief(node.value)}"))
        else:
            lines += _labelled("math", f"{node.ref} = ", node.value)
        return Step("forward", "op", node, lines=lines)

    def _backward_lines(self, step: Step) -> list[tuple[str, str]]:
        node, g = step.node, step.upstream
        assert node is not None and node.fn is not None
        fn = node.fn
        lines = [("title", f"Backward through {node.ref} = {node.code}")]
        scope = _scope_text(fn)
        if scope:
            lines.append(("note", scope))
        lines += _labelled("math", f"upstream  dL/d{node.ref} = ", g)
        if fn.derivative:
            lines.append(("rule", f"rule  {fn.derivative}"))
        if fn.in_words:
            lines.append(("words", fn.in_words))
        lines.append(("note", "chain rule: dL/d(input) = dL/d(out) x d(out)/d(input)"))
        for s in step.sends:
            to = s.to.ref
            sign = "+=" if s.of > 1 else "="
            if s.local is not None and _size(g) == 1 and _size(s.local) == 1:
                lines.append(
                    (
                        "send",
                        f"to {to}:  dL/d{to} {sign} {_brief(g)} x {_brief(s.local)} = "
                        f"{_brief(s.gradient)}",
                    )
                )
            else:
                if s.local is not None:
                    lines += _labelled("math", f"local  d{node.ref}/d{to} = ", s.local)
                what = "upstream x local" if s.local is not None else "by the rule"
                head = f"to {to} ({what}):  dL/d{to} {sign} "
                lines += _labelled("send", head, s.gradient)
            if s.reduced is not None:
                src, dst, axes = s.reduced
                lines.append(("shape", f"    broadcast: {_sum_text(axes)}: {src} -> {dst}"))
            if s.of > 1:
                state = "final" if s.k == s.of else "so far"
                lines.append(
                    (
                        "acc",
                        f"    {_ordinal(s.k)} of {s.of} contributions: sum {state} "
                        f"{_brief(s.total)}",
                    )
                )
        return lines

    def _leaf_step(self, node: StepNode, g: Any) -> Step:
        lines = [("title", f"{node.ref} receives its gradient")]
        lines += _labelled("math", f"dL/d{node.ref} = ", g)
        if node.contributions > 1:
            lines.append(("acc", f"the sum of its {node.contributions} contributions"))
        lines.append(("note", f"backward() accumulates it into {node.ref}.grad"))
        return Step("backward", "leaf", node, upstream=g, lines=lines)


def _forward(fn: Function, rec: _Recording) -> Any:
    """The value of ``fn``'s result, recomputed with its own forward from its operands."""
    arrays = []
    on_device = None
    constants = fn.constant_operands
    for i, e in enumerate(fn.edges):
        if e is None:
            v = constants[i]
            v = v.data if isinstance(v, Tensor) else v
        else:
            v = rec.of[e].value
        if hasattr(v, "ndim"):
            if not CPU_TYPES.get(type(v), True):
                on_device = v
            elif not v.ndim:
                v = v[()]  # as Function.__call__ passes 0-d arrays: NumPy scalars
        arrays.append(v)
    if on_device is None:
        out = fn.forward(*arrays)
    else:
        with device_guard(on_device):
            out = fn.forward(*arrays)
    if fn.save_extra:
        out = out[0]
    return _make(out, None).data  # as the op's result holds it (a 0-d array for a scalar)


def _local(fn: Function, g: Any) -> list[Any]:
    """d(out)/d(input) of an elementwise op at every element: its rule at g = 1, before the
    broadcast reduction (None for inputs that need no gradient)."""
    math_ = backend_of(g).math
    with device_guard(g):
        ones = math_.xp.ones_like(g)
        grads = fn.backward(math_, ones, *fn.saved)
    grads = grads if isinstance(grads, tuple) else (grads,)
    return [None if gi is None else _make(gi, None).data for gi in grads]


def _summed_axes(src: tuple[int, ...], dst: tuple[int, ...]) -> tuple[int, ...]:
    """The axes of a gradient of shape ``src`` that are summed to give ``dst`` (as sum_to)."""
    lead = len(src) - len(dst)
    return tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(dst) if n == 1 and src[i + lead] != 1
    )


def _sum_text(axes: tuple[int, ...]) -> str:
    if len(axes) == 1:
        return f"sum over axis {axes[0]}"
    return f"sum over axes {', '.join(str(a) for a in axes)}"


def _ordinal(k: int) -> str:
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def _scope_text(fn: Function) -> str:
    """``in layers.0: Linear(784 -> 256)  (MLP / layers)``: the innermost scope first."""
    if not fn.scope:
        return ""
    *outer, inner = fn.scope
    return f"in {scope_label(inner)}" + (f"  ({' / '.join(outer)})" if outer else "")


def _size(x: Any) -> int:
    """How many elements (1 for a number); never converts a device array."""
    return int(getattr(x, "size", 1))


def _array(x: Any) -> Any:
    return x if hasattr(x, "dtype") else np.asarray(x)


def _all_ones(a: Any) -> bool:
    a = _array(a)
    with device_guard(a):
        return bool((a == 1).all())


def _brief(x: Any) -> str:
    """A value in one line: a number, a small array in full, else shape and statistics."""
    if not hasattr(x, "dtype") and not isinstance(x, (int, float, np.generic)):
        return str(x)
    a = _array(x)
    lines = _values(a)[0]
    if a.size <= IN_FULL:
        return " ".join(line.strip() for line in lines)
    return f"{tuple(a.shape)}: " + "; ".join(lines)


def _labelled(kind: str, head: str, x: Any) -> list[tuple[str, str]]:
    """``head`` and the description of ``x``, its further lines indented."""
    first, *rest = _describe(x)
    return [(kind, head + first)] + [(kind, "    " + line) for line in rest]


def _describe(x: Any) -> list[str]:
    """A value for the panel: small in full; a larger array as its shape and dtype, min /
    mean / max, its norm and how many elements are 0."""
    a = _array(x)
    if a.size <= IN_FULL:
        return [_brief(a)]
    lines = [f"{tuple(a.shape)} {a.dtype}", "; ".join(_values(a)[0])]
    if a.dtype.kind in "fiu":
        with device_guard(a):
            xp = backend_of(a).xp
            norm = float(xp.sqrt((a.astype(np.float64) ** 2).sum()))
            zeros = int((a == 0).sum())
        share = f" ({100 * zeros / a.size:.1f}%)" if zeros else ""
        lines.append(f"norm {num(norm)}; zeros {zeros:,} of {a.size:,}{share}")
    return lines


def _record_text(x: Any) -> str:
    """A value as a record row shows it: in full when small, else min / mean / max."""
    a = _array(x)
    lines = _values(a)[0]
    if a.size <= IN_FULL:
        return " ".join(line.strip() for line in lines)
    return "; ".join(lines)


def _text_width(text: str) -> int:
    return int(TEXT_WIDTH * len(text)) + TEXT_PAD


# ------------------------------------------------------------------------- the states
class _States:
    """What each record shows at each step, as events: the data and gradient rows' texts and
    the status ("", "partial" or "done"), by node index."""

    def __init__(self, rec: _Recording) -> None:
        self.init: dict[int, dict[str, str]] = {}
        self.final: dict[int, dict[str, str]] = {}
        self.texts: dict[tuple[int, str], list[str]] = {}  # every text a row ever shows
        for n in rec.nodes:
            data = f"data {_record_text(n.value)}"
            init = {"d": data if n.kind != "result" else f"data {NOT_YET}", "s": ""}
            final = {"d": data, "s": "done" if n.kind != "input" else ""}
            if n.kind != "input":
                init["g"] = f"grad {NOT_YET}"
                final["g"] = f"grad {_record_text(n.grad)}" if n.grad is not None else init["g"]
            self.init[n.index], self.final[n.index] = init, final
            for key in ("d", "g"):
                if key in init:
                    self.texts[(n.index, key)] = list(dict.fromkeys([init[key], final[key]]))
        self.events: list[list[tuple[int, str, str]]] = []
        for step in rec.steps:
            events: list[tuple[int, str, str]] = []
            if step.phase == "forward" and step.node is not None:
                events.append((step.node.index, "d", self.final[step.node.index]["d"]))
            elif step.kind == "seed":
                for t, seed in zip(rec.roots, rec.seeds):
                    n = rec.of[engine._root_node(t, 0)]
                    extra = n.contributions > 0
                    text = f"grad {_record_text(seed)}" + (" (so far)" if extra else "")
                    events += [(n.index, "g", text), (n.index, "s", "partial" if extra else "done")]
            for s in step.sends:
                if s.k < s.of:
                    text = f"grad {_record_text(s.total)} ({s.k}/{s.of} so far)"
                    events += [(s.to.index, "g", text), (s.to.index, "s", "partial")]
                else:
                    final = self.final[s.to.index]["g"]
                    events += [(s.to.index, "g", final), (s.to.index, "s", "done")]
            for i, key, text in events:
                if key != "s":
                    self.texts.setdefault((i, key), []).append(text)
            self.events.append(events)

    def at(self, s: int) -> dict[int, dict[str, str]]:
        """The state of every node after step ``s``."""
        state = {i: dict(v) for i, v in self.init.items()}
        for events in self.events[: s + 1]:
            for i, key, text in events:
                state[i][key] = text
        return state

    def width(self, i: int, key: str) -> int:
        """The width (points) a row needs for every text it shows."""
        return max(_text_width(t) for t in self.texts.get((i, key), [""]))


# ------------------------------------------------------------------------ the picture
class _Picture(_Drawing):
    """draw_graph's drawing, where every op's result is a record (its value and gradient
    filled in step by step) and each record row is wide enough for all its texts. With a
    ``state`` (a frame) the rows show that state and the highlights are drawn in."""

    def __init__(
        self,
        rec: _Recording,
        states: _States,
        collapse: Any,
        max_nodes: int | None,
        frame: tuple[dict[int, dict[str, str]], set[str], set[tuple[str, str]]] | None = None,
    ) -> None:
        walk = _Walk(rec.roots, max_nodes)
        self.standins: dict[int, StepNode] = {}  # id of the tensor a record is drawn for
        for fn in walk.order:
            if isinstance(fn, Function) and fn in rec.of:
                node = rec.of[fn]
                t = rec.results.get(fn)
                if t is None:
                    t = _make(node.value, None)  # a stand-in: held by walk.results
                walk.results[fn] = t
                self.standins[id(t)] = node
        for node in rec.nodes:
            if node.kind == "parameter" and node.tensor is not None:
                self.standins[id(node.tensor)] = node
        super().__init__(walk, _collapse_rule(collapse), True, True, True)
        self.rec, self.states = rec, states
        self.frame = frame
        self.record_of: dict[int, str] = {}  # node index -> the drawn node showing it
        self.op_pairs: dict[Function, list[tuple[str, str]]] = {}

    def op(self, fn: Function) -> None:
        start = len(self.pairs)
        super().op(fn)
        self.op_pairs[fn] = self.pairs[start:]

    def input(self, t: Tensor, name: str | None = None, key: int | None = None) -> str:
        cid = super().input(t, name, key)
        node = self.rec.inputs.get(id(t) if key is None else key)
        if node is not None:
            self.record_of[node.index] = cid
        return cid

    def leaf(self, t: Tensor) -> str:
        nid = super().leaf(t)
        node = self.rec.of.get(t)
        if node is not None:
            self.record_of.setdefault(node.index, nid)  # a record, or its collapsed scope
        return nid

    def tensor(self, nid: str, t: Tensor, kind: str, name: str | None = None) -> str:
        node = self.standins.get(id(t))
        if node is None:
            return super().tensor(nid, t, kind, name)
        self.record_of[node.index] = nid
        self.titles[nid] = node.ref
        state = self.states.final if self.frame is None else self.frame[0]
        texts = state[node.index]
        title = f"<b>{_html(node.ref)}</b>"
        if t.ndim:
            title += "&nbsp;&nbsp;" + _html(_tensor_header(t))
        rows = [(texts["d"], self.states.width(node.index, "d"))]
        if "g" in texts:
            rows.append((texts["g"], self.states.width(node.index, "g")))
        bad = not all(_finite(a) for a in (node.value, node.grad) if a is not None)
        color = f' color="{NONFINITE}"' if bad else ""
        # one row each, the value rows wide enough for every text they show
        tds = [f"<td>{title}</td>"]
        tds += [f'<td width="{w}"><font{color}>{_html(text)}</font></td>' for text, w in rows]
        table = "<hr/>".join(f"<tr>{td}</tr>" for td in tds)
        label = (
            f'<<table border="0" cellborder="0" cellspacing="0" cellpadding="3">{table}</table>>'
        )
        attrs = f'shape=box style="filled" fillcolor="{COLORS[kind]}" margin=0'
        status = texts.get("s", "")
        if self.frame is not None and nid in self.frame[1]:
            attrs += f' color="{CURRENT}" penwidth=3'
        elif self.frame is not None and status:
            attrs += f' color="{DONE if status == "done" else PARTIAL}" penwidth=2'
        elif bad:
            attrs += f' color="{NONFINITE}" penwidth=2'
        return f"\t{nid} [label={label} {attrs}]\n"

    def link(self, tail: str, head: str, style: str = "") -> None:
        if self.frame is not None and (tail, head) in self.frame[2]:
            style = f' [color="{CURRENT}" penwidth=2.5]'
        super().link(tail, head, style)

    def lines(self) -> list[str]:
        out = super().lines()
        if self.frame is not None:  # the current ops and collapsed scopes, highlighted
            records = set(self.record_of.values())
            out += [
                f'\t{n} [color="{CURRENT}" penwidth=3]\n'
                for n in sorted(self.frame[1])
                if n not in records or n in self.once
            ]
        return out


def _new_graph(direction: str, drawing: _Picture) -> Any:
    """draw_graph's attributes; for a big picture, a bounded search for the positions
    (network simplex: a few passes per node, minutes less where many edges fan out)."""
    graph = new_graph(direction)
    if drawing.count > BIG_PICTURE:
        graph.graph_attr["nslimit"] = "2"
    return graph


def _finite(a: Any) -> bool:
    a = _array(a)
    if a.dtype.kind != "f":
        return True
    with device_guard(a):
        return bool(backend_of(a).xp.isfinite(a).all())


# ------------------------------------------------------------------------ the stepper
class BackwardSteps:
    """The recorded steps of one backward pass (made by :func:`backward_steps`).

    ``steps`` (also ``len``, indexing, iteration) and ``nodes`` hold what was recorded;
    Jupyter shows an interactive stepper, ``save`` writes HTML, an animated SVG or frames,
    ``str()`` is the text form, ``why(t)`` says why a gradient is zero or missing.
    """

    def __init__(
        self, rec: _Recording, collapse: Any, max_nodes: int | None, rankdir: str | None
    ) -> None:
        self._rec = rec
        self.steps: list[Step] = rec.steps
        self.nodes: list[StepNode] = rec.nodes
        self._picture_args = (collapse, max_nodes, rankdir)
        self._states = _States(rec)
        self._master: tuple[str, _Picture, str] | None = None

    def __len__(self) -> int:
        return len(self.steps)

    def __getitem__(self, i: int) -> Step:
        return self.steps[i]

    def __iter__(self) -> Any:
        return iter(self.steps)

    def __repr__(self) -> str:
        n_forward = sum(s.phase == "forward" for s in self.steps)
        return (
            f"<BackwardSteps: {len(self.steps)} steps ({n_forward} forward, "
            f"{len(self.steps) - n_forward} backward) over {len(self.nodes)} tensors>"
        )

    def __str__(self) -> str:
        out = [repr(self)[1:-1]]
        total = len(self.steps)
        for i, step in enumerate(self.steps):
            out.append("")
            for j, (kind, text) in enumerate(step.lines):
                prefix = f"{i + 1:>{len(str(total))}} / {total}  " if j == 0 else ""
                indent = " " * (2 * len(str(total)) + 5) if j else ""
                out.append(f"{prefix}{indent}{'  ' if kind == 'words' else ''}{text}")
        return "\n".join(out)

    def gradient_of(self, t: Tensor) -> Any:
        """The gradient dL/dt recorded for ``t`` (a leaf, or a root or retained result), as
        an array; None where no gradient reaches it."""
        node = self._node_of(t)
        return None if node is None else node.grad

    def _node_of(self, t: Tensor) -> StepNode | None:
        rec = self._rec
        if t in rec.of:
            return rec.of[t]
        if id(t) in rec.inputs:
            return rec.inputs[id(t)]
        if t.grad_fn is not None and t.grad_fn in rec.of:
            return rec.of[t.grad_fn]
        return None

    # ------------------------------------------------------------------ why
    def why(self, t: Tensor | StepNode) -> str:
        """Why the gradient of ``t`` is zero (where it is) or missing, in words."""
        node = t if isinstance(t, StepNode) else self._node_of(t)
        if node is None:
            if t.requires_grad:
                return (
                    "It is not on any path to the root: the root was not computed from it "
                    "(or only through detach(), a no_grad() block or an integer op), so no "
                    "gradient reaches it."
                )
            return (
                "It does not require grad (requires_grad=False) and is not part of this graph: "
                "no gradient is computed for it."
            )
        return "\n".join(self._why(node))

    def _why(self, node: StepNode) -> list[str]:
        if node.kind == "input":
            a = _array(node.value)
            kind = "an integer or bool tensor" if a.dtype.kind in "iub" else "a tensor"
            return [
                f"{node.ref} (shape {tuple(a.shape)}, {a.dtype}) is {kind} that does not "
                f"require grad (data, a target, a mask or "
                f"a constant): no gradient is computed for it. If it was computed from "
                f"tensors that require grad, a detach(), a no_grad() block or an integer op "
                f"(argmax, a comparison, a cast to an integer dtype) cut it from the graph."
            ]
        g = _array(node.grad)
        with device_guard(g):
            zeros = int((g == 0).sum())
        if not zeros:
            return [f"dL/d{node.ref} has no zero elements."]
        first = (
            f"dL/d{node.ref} is 0"
            if zeros == g.size
            else (f"{zeros:,} of {g.size:,} elements of dL/d{node.ref} are 0")
        )
        lines = [first + ":"]
        self._causes(node, lines, 1, set())
        return lines

    def _causes(self, node: StepNode, lines: list[str], depth: int, seen: set[int]) -> None:
        """Why the contributions summed into ``node`` are zero, following zero upstream
        gradients towards the root."""
        pad = "  " * depth
        seen.add(node.index)
        sends = [(step, s) for step in self.steps for s in step.sends if s.to is node]
        if not sends:
            lines.append(f"{pad}it is a root: its gradient is the seed")
            return
        if all(_count(s.gradient, 0) == 0 for _, s in sends):
            lines.append(f"{pad}its {len(sends)} contributions cancel out")
            return
        for step, s in sends:
            user = step.node
            assert user is not None and user.fn is not None
            if _count(s.gradient, 0) == 0:
                continue
            fn, up = user.fn, _array(step.upstream)
            if _count(up, 0) == _size(up):
                lines.append(f"{pad}{user.ref} = {user.code} received a zero gradient itself:")
                if user.index not in seen and depth < 6:
                    self._causes(user, lines, depth + 1, seen)
                continue
            lines.append(pad + _local_cause(fn, user, s, self._rec))
            if _count(up, 0) and user.index not in seen and depth < 6:
                lines.append(f"{pad}and {_count(up, 0):,} elements of dL/d{user.ref} are 0:")
                self._causes(user, lines, depth + 1, seen)

    # ------------------------------------------------------------------ picture
    def _picture(self) -> tuple[str, _Picture, str]:
        """The master SVG (the final state), its drawing and the layout direction."""
        if self._master is None:
            collapse, max_nodes, rankdir = self._picture_args
            drawing = _Picture(self._rec, self._states, collapse, max_nodes)
            lines = drawing.lines()
            direction = rankdir or drawing.rankdir()
            graph = _new_graph(direction, drawing)
            graph.body.extend(lines + drawing.stacking(direction))
            svg = graph.pipe(format="svg").decode("utf-8")
            self._master = (svg, drawing, direction)
        return self._master

    def _highlights(self, drawing: _Picture, step: Step) -> tuple[list[str], list[str]]:
        """The drawn nodes of a step (current) and the edges carrying its values."""
        rec = self._rec
        cur: list[str] = []
        pairs: list[tuple[str, str]] = []
        if step.kind == "leaves":
            cur = [
                drawing.record_of[n.index]
                for n in rec.nodes
                if n.kind != "result" and n.index in drawing.record_of
            ]
            cur = [c for c in cur if c not in drawing.once]
        elif step.kind == "seed":
            for t in rec.roots:
                n = rec.of[engine._root_node(t, 0)]
                cur += [drawing.record_of[n.index]] if n.index in drawing.record_of else []
        elif step.node is not None:
            n = step.node
            if n.index in drawing.record_of:
                cur.append(drawing.record_of[n.index])
            fn = n.fn
            if fn is not None:
                head = drawing.heads.get(fn)
                if head is not None:
                    cur.append(head)
                    pairs = list(drawing.op_pairs.get(fn, []))
                    if step.phase == "backward":  # only the edges that carry a gradient
                        ends = {drawing.ends.get(e) for e in fn.edges if e is not None}
                        rec_id = drawing.record_of.get(n.index)
                        into = (head, rec_id)
                        pairs = [
                            (a, b)
                            for a, b in pairs
                            if drawing.stub_of.get(a, a) in ends or (a, b) == into
                        ]
                elif drawing.more_id is not None:
                    cur.append(drawing.more_id)
        return list(dict.fromkeys(cur)), [f"{a}->{b}" for a, b in dict.fromkeys(pairs)]

    def _data(self) -> dict[str, Any]:
        """What the HTML stepper needs: per step its panel lines, highlights and the record
        texts that change; per drawn node its initial texts and what the inspector says."""
        _, drawing, _ = self._picture()
        names = drawing.record_of
        steps = []
        strings: dict[str, int] = {}  # the panel's texts, each once (rules repeat)

        def shared(lines: list[Any]) -> list[list[Any]]:
            return [[kind, strings.setdefault(text, len(strings))] for kind, text in lines]

        inside: dict[str, set[int]] = {}  # a collapsed scope -> the parameters listed in it
        for i, name in names.items():
            if name in drawing.once:
                inside.setdefault(name, set()).add(i)
        done: set[int] = set()
        for step, events in zip(self.steps, self._states.events):
            cur, edges = self._highlights(drawing, step)
            changes = []
            for i, key, text in events:
                name = names.get(i)
                if name is None:
                    continue
                if name not in drawing.once:
                    changes.append([name, key, text])
                elif key == "s":  # a collapsed scope: done once all its parameters are
                    if text == "done":
                        done.add(i)
                    status = "done" if inside[name] <= done else "partial"
                    changes.append([name, "s", status])
            lines = shared(step.lines)
            steps.append({"p": step.phase, "l": lines, "c": cur, "e": edges, "s": changes})
        init, widths, about = {}, {}, {}
        choices = []
        for node in self.nodes:
            name = names.get(node.index)
            if name is None:
                continue
            if name not in drawing.once:  # a record of its own
                init[name] = self._states.init[node.index]
                widths[name] = {k: self._states.width(node.index, k) for k in ("d", "g")}
            about.setdefault(name, []).append(shared(self._about(node)))
            choices.append([name, node.ref])
        centres = _centres(self._picture()[0], init)
        return {
            "steps": steps,
            "init": init,
            "centres": centres,
            "widths": widths,
            "about": about,
            "choices": choices,
            "t": list(strings),
        }

    def _about(self, node: StepNode) -> list[list[str]]:
        lines = [["title", f"{node.ref}: {node.kind}" + (f" = {node.code}" if node.code else "")]]
        lines += [list(x) for x in _labelled("math", "value  ", node.value)]
        if node.grad is not None:
            lines += [list(x) for x in _labelled("math", f"dL/d{node.ref}  ", node.grad)]
        if node.contributions > 1:
            lines.append(["acc", f"the sum of {node.contributions} contributions"])
        lines.append(["rule", "Why is this gradient zero or missing?"])
        lines += [["words", x] for x in self._why(node)]
        return lines

    # ------------------------------------------------------------------ HTML
    def to_html(self, full_page: bool = False) -> str:
        """The stepper as HTML: SVG, data (JSON) and script inline, nothing fetched from the
        network. ``full_page`` makes it a complete document (what ``save`` writes)."""
        svg, _, _ = self._picture()
        uid = "ag" + uuid.uuid4().hex[:10]
        svg = _inline_svg(svg)
        data = json.dumps(self._data(), separators=(",", ":")).replace("</", "<\\/")
        css = _asset("stepper.css")
        js = _asset("stepper.js").replace("__ROOT_ID__", uid)
        n = len(self.steps)
        body = (
            f'<div class="agstep" id="{uid}" tabindex="0">'
            f"<style>{css}</style>"
            f'<div class="ag-bar">'
            f'<button class="ag-first" title="first step (Home)">|&#x25C0;</button>'
            f'<button class="ag-prev" title="previous step (left arrow)">&#x25C0;</button>'
            f'<button class="ag-play" title="play / pause (space)">&#x25B6; play</button>'
            f'<button class="ag-next" title="next step (right arrow)">&#x25B6;</button>'
            f'<button class="ag-last" title="last step (End)">&#x25B6;|</button>'
            f'<input class="ag-slider" type="range" min="0" max="{n - 1}" value="{n - 1}">'
            f'<span class="ag-count">{n} / {n}</span>'
            f'<select class="ag-speed" title="steps per second when playing">'
            f'<option value="0.7">0.7/s</option><option value="1.4" selected>1.4/s</option>'
            f'<option value="3">3/s</option><option value="10">10/s</option></select>'
            f'<span class="ag-sep"></span>'
            f'<button class="ag-zoomout" title="zoom out (-)">&minus;</button>'
            f'<button class="ag-fit" title="fit the picture">fit</button>'
            f'<button class="ag-zoomin" title="zoom in (+)">+</button>'
            f'<label title="keep the current node in view (f)">'
            f'<input class="ag-follow" type="checkbox"> follow</label>'
            f"</div>"
            f'<div class="ag-main"><div class="ag-graph">{svg}</div>'
            f'<div class="ag-panel"><div class="ag-step"><noscript>'
            f"{_html(str(self))}</noscript></div>"
            f'<div class="ag-why"><label>Why is the gradient of '
            f'<select class="ag-choose"></select> zero or missing?</label>'
            f'<div class="ag-about"></div></div></div></div>'
            f'<script type="application/json" class="ag-data">{data}</script>'
            f"<script>{js}</script></div>"
        )
        if not full_page:
            return body
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            "<title>backward steps</title>"
            '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
            f"<body>{body}</body></html>\n"
        )

    def _repr_html_(self) -> str:
        return self.to_html()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/html": self.to_html(), "text/plain": repr(self)}

    # ------------------------------------------------------------------ animated SVG
    def to_svg(self) -> str:
        """One SVG that plays the steps with CSS animation (no script): for READMEs and
        other places where no JavaScript runs. The panel text is drawn below the graph."""
        svg, drawing, _ = self._picture()
        return _animate(self, svg, drawing)

    # ------------------------------------------------------------------ frames
    def frame(self, s: int, format: str = "svg") -> bytes:
        """Step ``s`` (0-based) drawn on its own by Graphviz, the panel text below it."""
        _, drawing, direction = self._picture()
        collapse, max_nodes, _ = self._picture_args
        step = self.steps[s]
        cur, edges = self._highlights(drawing, step)
        hot = {tuple(e.split("->")) for e in edges}
        state = self._states.at(s)
        picture = _Picture(self._rec, self._states, collapse, max_nodes, (state, set(cur), hot))
        graph = _new_graph(direction, picture)
        graph.body.extend(picture.lines() + picture.stacking(direction))
        text = [f"step {s + 1} / {len(self.steps)}"] + [t for _, t in step.lines]
        text += [" "] * (1 + max(len(x.lines) for x in self.steps) - len(text))  # one height
        label = '<br align="left"/>'.join(_html(t) for t in text) + '<br align="left"/>'
        graph.graph_attr.update(
            label=f"<{label}>", labelloc="b", labeljust="l", fontname="Courier", fontsize="10"
        )
        return graph.pipe(format=format)

    def save(self, path: str | os.PathLike[str], format: str | None = None) -> str:
        """Write the stepper: ``.html`` (interactive, self-contained), ``.svg`` (animated),
        or a directory (a path ending in ``/``, an existing directory, or no extension): one
        frame per step, ``step_001.svg`` ... (``format="png"`` for PNG). Returns the path."""
        path = os.fspath(path)
        ext = os.path.splitext(path)[1].lower()
        is_dir = path.endswith(("/", os.sep)) or os.path.isdir(path) or not ext
        if is_dir:
            fmt = format or "svg"
            os.makedirs(path, exist_ok=True)
            width = max(3, len(str(len(self.steps))))
            for s in range(len(self.steps)):
                name = os.path.join(path, f"step_{s + 1:0{width}d}.{fmt}")
                Path(name).write_bytes(self.frame(s, fmt))
            return path
        if ext == ".html" or ext == ".htm":
            text = self.to_html(full_page=True)
        elif ext == ".svg":
            text = self.to_svg()
        else:
            raise ValueError(
                f"save: write .html (the interactive stepper), .svg (an animated SVG) or a "
                f"directory of frames (e.g. 'frames/'), not {ext!r}"
            )
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        Path(path).write_text(text, encoding="utf-8")
        return path


def _count(a: Any, value: float) -> int:
    a = _array(a)
    with device_guard(a):
        return int((a == value).sum())


def _local_cause(fn: Function, user: StepNode, s: Send, rec: _Recording) -> str:
    """Why ``fn`` sends zeros to an input although its own gradient is not all zero."""
    n_zero = _count(s.gradient, 0)
    where = f"{user.ref} = {user.code}"
    out = _array(user.value)
    name = fn.name
    if name == "relu":
        k = _count(out, 0)
        return (
            f"relu {where} is inactive (input <= 0) on {k:,} of {out.size:,} elements: its "
            f"slope is 0 there"
        )
    if name in ("tanh", "sigmoid"):
        with device_guard(out):
            if name == "tanh":
                k = int((abs(out) > 0.999).sum())
                what = "|tanh| > 0.999, slope 1 - tanh^2 < 0.002"
            else:
                k = int(((out < 1e-3) | (out > 1 - 1e-3)).sum())
                what = "sigma < 0.001 or > 0.999, slope < 0.001"
        if k:
            return f"{name} {where} is saturated on {k:,} of {out.size:,} elements ({what})"
    if name == "clip":
        return f"clip {where} clipped its input on {n_zero:,} elements: the slope is 0 there"
    if name == "mul" and len(fn.edges) == 2:
        j = 1 - s.position
        e = fn.edges[j]
        c = fn.constant_operands[j] if e is None else None
        if e is not None:
            ref = rec.of[e].ref
        elif isinstance(c, Tensor):
            ref = rec.inputs[id(c)].ref
        else:
            ref = _brief(c)
        return f"{where} multiplies by {ref}, which is 0 on those elements"
    if name in (
        "max",
        "min",
        "maximum",
        "minimum",
        "getitem",
        "where",
        "nll_loss",
        "cross_entropy",
    ):
        return f"{where} sends a gradient only to the elements it selected ({n_zero:,} get 0)"
    rule = f" ({fn.derivative})" if fn.derivative else ""
    return f"the rule of {name}{rule} at {where} gives 0 on {n_zero:,} elements"


def _asset(name: str) -> str:
    return resources.files("autograd").joinpath("stepper_assets", name).read_text("utf-8")


def _inline_svg(svg: str) -> str:
    """Graphviz's SVG to put inside HTML: without the XML prolog, the comments, the ids (the
    stepper finds nodes by their titles) and the font family (the stylesheet sets it)."""
    svg = re.sub(r"<\?xml[^>]*>|<!DOCTYPE[^>]*>|<!--.*?-->", "", svg, flags=re.S)
    svg = re.sub(r' id="(?:node|edge|clust)\d+"| font-family="Helvetica,sans-Serif"', "", svg)
    return svg.strip()


# ------------------------------------------------------------------ the animated SVG
SVG_NS = "http://www.w3.org/2000/svg"


def _animate(steps: BackwardSteps, svg: str, drawing: _Picture) -> str:
    """The master SVG with CSS keyframes that replay the steps: each record row's texts as
    copies shown in turn, the highlights as stroke changes, the panel below the graph."""
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    root = ET.fromstring(svg)
    n = len(steps.steps)
    starts = [i * SECONDS_PER_STEP for i in range(n)]
    total = (n + 2) * SECONDS_PER_STEP  # the last step is shown three times as long
    keyframes: dict[str, str] = {}  # body -> name: equal animations share one

    def animate(element: ET.Element, props: dict[str, list[str]]) -> None:
        """Give ``element`` each CSS property ``p`` = props[p][i] during step i."""
        frames = []
        changed = {0}  # the steps where some property changes
        for v in props.values():
            changed.update(i for i, (a, b) in enumerate(zip(v, v[1:]), 1) if a != b)
        for i in sorted(changed):
            decl = ";".join(f"{p}:{v[i]}" for p, v in props.items())
            frames.append(f"{100 * starts[i] / total:.3f}%{{{decl}}}")
        frames.append("100%{" + ";".join(f"{p}:{v[-1]}" for p, v in props.items()) + "}")
        body = "".join(frames)
        name = keyframes.setdefault(body, f"k{len(keyframes)}")
        element.set("class", name)

    groups: dict[str, ET.Element] = {}
    for g in root.iter(f"{{{SVG_NS}}}g"):
        title = g.find(f"{{{SVG_NS}}}title")
        if title is not None and g.get("class") in ("node", "edge"):
            groups[title.text or ""] = g
    parents = {c: p for p in root.iter() for c in p}
    data = steps._data()
    phases = [step["p"] for step in data["steps"]]
    # the record rows: a copy of the text element for each text it shows, shown in turn
    changes: dict[str, list[tuple[int, str, str]]] = {}  # name -> (step, row, text)
    for i, step in enumerate(data["steps"]):
        for nm, key, text in step["s"]:
            changes.setdefault(nm, []).append((i, key, text))
    for name, init in data["init"].items():
        g = groups.get(name)
        if g is None:
            continue
        rows = {}
        for t in g.iter(f"{{{SVG_NS}}}text"):
            content = (t.text or "").replace("\xa0", " ")
            for key, prefix in (("d", "data "), ("g", "grad ")):
                if content.startswith(prefix) and key in init:
                    rows[key] = t
        state = dict(init)
        seq: dict[str, list[str]] = {key: [] for key in rows}
        todo = changes.get(name, [])
        j = 0
        for i in range(n):
            while j < len(todo) and todo[j][0] == i:
                state[todo[j][1]] = todo[j][2]
                j += 1
            for key in rows:
                seq[key].append(state[key])
        for key, element in rows.items():
            parent = parents[element]
            width = data["widths"][name][key] - 4
            for text in dict.fromkeys(seq[key]):
                clone = copy.deepcopy(element)
                clone.text = text
                if name in data["centres"]:
                    clone.set("x", str(data["centres"][name]))
                    clone.set("text-anchor", "middle")
                if TEXT_WIDTH * 0.94 * len(text) > width:  # squeeze what would overflow
                    clone.set("textLength", str(width))
                    clone.set("lengthAdjust", "spacingAndGlyphs")
                parent.insert(list(parent).index(element), clone)
                animate(clone, {"opacity": ["1" if v == text else "0" for v in seq[key]]})
            parent.remove(element)
    # the highlights: current nodes and edges, records whose gradient is partial or done
    status: dict[str, list[str]] = {}
    current: dict[str, list[bool]] = {}
    hot: dict[str, list[bool]] = {}
    now: dict[str, str] = {}
    for i, step in enumerate(data["steps"]):
        for nm, key, text in step["s"]:
            if key == "s":
                now[nm] = text
        for nm, v in now.items():
            status.setdefault(nm, [""] * n)[i] = v
        for nm in step["c"]:
            current.setdefault(nm, [False] * n)[i] = True
        for e in step["e"]:
            hot.setdefault(e, [False] * n)[i] = True
    for nm in set(status) | set(current):
        shape = _outline(groups[nm]) if nm in groups else None
        if shape is None:
            continue
        base, base_width = shape.get("stroke", "black"), shape.get("stroke-width", "1")
        colors, widths = [], []
        for i in range(n):
            st = status.get(nm, [""] * n)[i]
            if current.get(nm, [False] * n)[i]:
                colors.append(FORWARD if phases[i] == "forward" else CURRENT)
                widths.append("3")
            elif st:
                colors.append(DONE if st == "done" else PARTIAL)
                widths.append("2")
            else:
                colors.append(base)
                widths.append(base_width)
        animate(shape, {"stroke": colors, "stroke-width": widths})
    for e, on in hot.items():
        for child in groups.get(e, ()):
            tag = child.tag.split("}")[-1]
            if tag not in ("path", "polygon"):
                continue
            base = child.get("stroke", "black")
            colors = [
                (FORWARD if phases[i] == "forward" else CURRENT) if on[i] else base
                for i in range(n)
            ]
            props = {"stroke": colors, "stroke-width": ["2.5" if x else "1" for x in on]}
            if tag == "polygon":  # the arrowhead
                props["fill"] = colors
            animate(child, props)
    # the page: the graph, and below it the panel with each step's lines in turn
    width = float(root.get("width", "0pt").rstrip("pt") or 0)
    height = float(root.get("height", "0pt").rstrip("pt") or 0)
    panel_w = max(width, 520.0)
    chars = int((panel_w - 16) / 7.9)
    wrapped = [_wrapped(step.lines, chars) for step in steps.steps]
    line_h = 17
    panel_h = (max(len(w) for w in wrapped) + 1) * line_h + 20
    page = ET.Element(
        f"{{{SVG_NS}}}svg",
        {
            "width": f"{panel_w:.0f}pt",
            "height": f"{height + panel_h:.0f}pt",
            "viewBox": f"0 0 {panel_w:.2f} {height + panel_h:.2f}",
        },
    )
    style = ET.SubElement(page, f"{{{SVG_NS}}}style")
    ET.SubElement(page, f"{{{SVG_NS}}}title").text = "backpropagation, step by step"
    ET.SubElement(page, f"{{{SVG_NS}}}rect", {"width": "100%", "height": "100%", "fill": "white"})
    inner = ET.SubElement(
        page,
        f"{{{SVG_NS}}}svg",
        {
            "x": f"{(panel_w - width) / 2:.2f}",
            "width": f"{width:.2f}",
            "height": f"{height:.2f}",
            "viewBox": root.get("viewBox", ""),
        },
    )
    inner.extend(c for c in root if not c.tag.endswith("title"))
    panel = ET.SubElement(page, f"{{{SVG_NS}}}g", {"transform": f"translate(8 {height + 16:.1f})"})
    ET.SubElement(
        panel,
        f"{{{SVG_NS}}}line",
        {"x1": "0", "x2": f"{panel_w - 16:.0f}", "y1": "-10", "y2": "-10", "stroke": "#bbbbbb"},
    )
    for i, (step, lines) in enumerate(zip(steps.steps, wrapped)):
        group = ET.SubElement(panel, f"{{{SVG_NS}}}g")
        head = [("count", f"step {i + 1} / {n}  ({step.phase})")]
        for j, (kind, text) in enumerate(head + lines):
            t = ET.SubElement(
                group,
                f"{{{SVG_NS}}}text",
                {"x": "0", "y": f"{j * line_h + 4}", "class": f"p-{kind}"},
            )
            t.text = text
        animate(group, {"opacity": ["1" if k == i else "0" for k in range(n)]})
    css = [
        ".pn text{font-family:Menlo,Consolas,'DejaVu Sans Mono',monospace;font-size:13px;"
        "fill:#222}",
        ".pn .p-title,.pn .p-count{font-weight:bold}.pn .p-count{fill:#555}",
        ".pn .p-rule{fill:#6a1b9a}.pn .p-words{fill:#555;font-style:italic}",
        ".pn .p-send{fill:#b33c00}.pn .p-acc{fill:#7a5d00}.pn .p-note{fill:#666}",
        ".pn .p-shape{fill:#00695c}",
    ]
    panel.set("class", "pn")
    for body, name in keyframes.items():
        css.append(f"@keyframes {name}{{{body}}}")
        css.append(f".{name}{{animation:{name} {total:.2f}s step-end infinite}}")
    style.text = "\n".join(css)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(page, encoding="unicode") + "\n"


def _centres(svg: str, names: dict[str, Any]) -> dict[str, float]:
    """The horizontal middle of each named record in the SVG (its rows' texts are centred
    there when they change)."""
    out = {}
    for g in ET.fromstring(svg).iter(f"{{{SVG_NS}}}g"):
        title = g.find(f"{{{SVG_NS}}}title")
        shape = _outline(g) if title is not None and title.text in names else None
        if shape is not None and shape.get("points"):
            xs = [float(p.split(",")[0]) for p in shape.get("points", "").split()]
            out[title.text or ""] = round((min(xs) + max(xs)) / 2, 2)
    return out


def _outline(g: ET.Element) -> ET.Element | None:
    """The shape that outlines a Graphviz node (its first polygon, ellipse or path)."""
    for child in g.iter():
        if child.tag.split("}")[-1] in ("polygon", "ellipse", "path"):
            return child
    return None


def _wrapped(lines: list[tuple[str, str]], chars: int) -> list[tuple[str, str]]:
    out = []
    for kind, text in lines:
        while len(text) > chars:
            cut = text.rfind(" ", 0, chars)
            cut = chars if cut <= 0 else cut
            out.append((kind, text[:cut]))
            text = "    " + text[cut:].lstrip()
        out.append((kind, text))
    return out
