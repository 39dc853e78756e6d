"""Pictures of the computation graph: ``draw_graph`` (Graphviz) and ``print_graph`` (text).

    loss = (x @ w).log_softmax(axis=1)[:, 3].mean()
    autograd.draw_graph(loss)                       # Jupyter shows it inline
    autograd.draw_graph(loss).save("graph.svg")     # or .png, .pdf, .dot
    autograd.print_graph(loss)                      # one line per node, for terminals

What is drawn. The graph is walked back from the roots along ``grad_fn.edges`` with a queue,
never recursively. Each op is a node labelled by what it does (``matmul``, ``sum(axis=1)``,
``getitem[:, 0]``); each tensor is a record, drawn once however often it is used: parameters
(leaves that require grad) blue, inputs (tensors that do not: data, targets, masks) grey,
number constants grey and dashed, the roots green. A 0-d tensor shows
its value and gradient as micrograd does; a larger one its name, shape, dtype and a summary of
its values and gradient (small tensors in full, large ones as min / mean / max). A gradient
that has not been computed reads "not computed", never 0. NaN and Inf are counted and drawn red.

The graph does not keep intermediate results (backward needs only some, and only until it
runs), so an op node stands for its result, except for the tensors you hold: the roots you pass
(pass intermediate tensors too, to see them) and tensors that ``retain_grad()``. Those are drawn
as records after their op. Constant operands are drawn with their values, also after
backward (ops keep them in ``constant_operands``), and so are the arrays an op holds as inputs
(``held_inputs()``: the targets of ``cross_entropy``).

Modules. Ops recorded inside ``autograd.scope(label)`` blocks (``nn.Module`` opens one per call,
labelled with the module's qualified name and its class, ``layers.0: Linear(784 -> 256)``) are
drawn inside a box with that label; nested scopes nest. ``collapse=`` draws chosen scopes as a
single node that lists the parameters inside.

Only rendering needs Graphviz's ``dot`` program: the DOT source (``graph.source``,
``save("graph.dot")``) and ``print_graph`` work without it.
"""

from __future__ import annotations

import fnmatch
import functools
import html
import os
import sys
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

from .backend import backend_of, device_guard
from .errors import ArraygradError
from .function import Function
from .hooks import RetainGrad
from .tensor import Tensor, _make
from .text import num

if TYPE_CHECKING:
    import graphviz

__all__ = ["DEFAULT_MAX_NODES", "GraphvizNotFoundError", "draw_graph", "print_graph"]

DEFAULT_MAX_NODES = 500  # ops and leaves; a bigger picture is slow to lay out and hard to read
IN_FULL = 8  # tensors with at most this many elements are shown in full
# Picture widths in points, for the choice of direction: a notebook's, a rank's drawn left to
# right (a node and the space after it), a node's side by side.
NOTEBOOK_WIDTH, RANK_WIDTH, NODE_WIDTH = 1100, 115, 140
# In a picture of more than STUBS_ABOVE nodes, the edges drawn from one tensor's record; its
# further uses get a small stub with its name beside them. Graphviz's layout time grows
# steeply with long edges fanning out of one node (x added at every step of a chain: 0.05 s
# for 60 nodes, 0.5 s for 140, 19 s for 200, many minutes for 1,000).
STUBS_ABOVE, FANOUT = 100, 8
STUB_STYLE = (
    'shape=box style="dashed,rounded" color="#999999" fontcolor="#555555" fontsize=9 '
    'height=0.2 margin="0.04,0.02"'
)

# Fill colours by kind of node (tests read them back from the SVG).
COLORS = {
    "parameter": "#cfe2f3",  # leaves that require grad
    "input": "#eeeeee",  # tensors that do not (data, targets), drawn solid
    "constant": "#eeeeee",  # numbers, drawn dashed
    "result": "#ffffff",  # intermediate results you hold (retain_grad, extra roots)
    "output": "#d9ead3",  # the roots you draw
    "op": "#fff2cc",
    "module": "#e6dcf0",  # a collapsed scope
    "more": "#fce5cd",  # what max_nodes left out
}
NONFINITE = "#cc0000"  # border and text of values with NaN or Inf
INFIX = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**"}


class GraphvizNotFoundError(ArraygradError, RuntimeError):
    """Graphviz's ``dot`` program, which renders pictures, is not installed."""


INSTALL_HINT = (
    "rendering a graph picture needs Graphviz's `dot` program, which was not found on PATH.\n"
    "Install Graphviz itself (pip's `graphviz` package is only the Python side of it):\n"
    "    Debian/Ubuntu:  sudo apt-get install graphviz\n"
    "    macOS:          brew install graphviz\n"
    "    conda:          conda install -c conda-forge graphviz\n"
    "    (other systems: https://graphviz.org/download/; then restart a Jupyter kernel)\n"
    "Without it you still have the DOT source (graph.source, graph.save('graph.dot')) and "
    "the text form: autograd.print_graph(...)."
)


# --------------------------------------------------------------------------- public API
def draw_graph(
    *roots: Tensor,
    show_values: bool = True,
    show_grads: bool = True,
    show_shapes: bool = True,
    rankdir: str | None = None,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    collapse: bool | str | Iterable[str] = False,
) -> graphviz.Digraph:
    """A Graphviz picture of the graph that computed ``roots``.

    The result is a ``graphviz.Digraph``: Jupyter displays it inline, ``.source`` is its DOT
    text, and ``.save(path)`` writes the format the extension names (``.svg``, ``.png``,
    ``.pdf``; ``.dot`` or ``.gv`` for the source). ``show_values``, ``show_grads`` and
    ``show_shapes`` choose what tensor records show; ``rankdir`` is Graphviz's direction
    (``"LR"`` left to right, ``"TB"`` top to bottom); by default (None) left to right where
    the picture then fits a notebook's width, else top to bottom (a long chain of layers).

    ``max_nodes`` caps the ops and leaves drawn (None: no cap); the ones nearest the roots are
    kept and one node says what was left out.

    ``collapse`` draws scopes (``autograd.scope``, one per ``nn.Module`` call) as single
    nodes: ``False`` draws every scope as a labelled box around its ops; ``True`` collapses
    the innermost scopes (modules without submodules, such as ``Linear``); a pattern or a list
    of patterns collapses the scopes whose label matches one (``"layers.*"``, shell-style).
    Parameters used only inside a collapsed scope are listed in its node.
    """
    _check_roots("draw_graph", roots, max_nodes)
    check_rankdir("draw_graph", rankdir)
    rule = _collapse_rule(collapse)
    walk = _Walk(roots, max_nodes)
    drawing = _Drawing(walk, rule, show_values, show_grads, show_shapes)
    lines = drawing.lines()
    direction = rankdir or drawing.rankdir()
    graph = new_graph(direction)
    graph.body.extend(lines + drawing.stacking(direction))
    return graph


def check_rankdir(fn: str, rankdir: str | None) -> None:
    if rankdir not in (None, "LR", "RL", "TB", "BT"):
        raise ValueError(
            f"{fn}: rankdir must be 'LR', 'RL', 'TB', 'BT' or None (chosen by the graph's "
            f"shape), got {rankdir!r}"
        )


def new_graph(rankdir: str) -> graphviz.Digraph:
    """An empty picture with the attributes all of arraygrad's pictures share."""
    return _graph_class()(
        name="arraygrad",
        graph_attr={"rankdir": rankdir, "fontname": "Helvetica", "fontsize": "11"},
        node_attr={"fontname": "Helvetica", "fontsize": "11", "height": "0.3"},
        edge_attr={"arrowsize": "0.7"},
    )


def print_graph(
    *roots: Tensor,
    show_values: bool = True,
    show_grads: bool = True,
    show_shapes: bool = True,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    file: TextIO | None = None,
) -> None:
    """Print the graph that computed ``roots``, one line per op or leaf, inputs first.

    Each line reads like code: ``e = a * b``, ``%4 = sum(%3, axis=1)``, ``%5 = %4[:, 0]``
    (tensors are referred to by name, or ``%n``), followed by what is known of the result
    (shape, dtype, values, gradient) and ``# scope`` for ops recorded inside a scope.
    Options as in :func:`draw_graph`; ``file`` defaults to ``sys.stdout``.
    """
    _check_roots("print_graph", roots, max_nodes)
    walk = _Walk(roots, max_nodes)
    for line in _text_lines(walk, show_values, show_grads, show_shapes):
        print(line, file=sys.stdout if file is None else file)


# ------------------------------------------------------------------------ the graph walk
class _Walk:
    """The part of the graph to show.

    ``order``: ops and leaves, each after its inputs (a DFS postorder, iterative).
    ``results``: op -> its result tensor, for the tensors the caller holds (roots and tensors
    that retain their gradient). ``left_out``: counts of ops and leaves beyond ``max_nodes``;
    ``cut``: kept ops with an input that was left out.
    """

    def __init__(self, roots: tuple[Tensor, ...], max_nodes: int | None) -> None:
        self.roots = {id(t) for t in roots}
        starts = list(dict.fromkeys(t.grad_fn if t.grad_fn is not None else t for t in roots))
        # Breadth first from the roots, so that a cap keeps the nodes nearest to them.
        kept: dict[Any, None] = {}
        seen = set(starts)
        queue = deque(starts)
        left_ops = left_leaves = 0
        while queue:
            node = queue.popleft()
            is_op = isinstance(node, Function)
            if max_nodes is None or len(kept) < max_nodes:
                kept[node] = None
            elif is_op:
                left_ops += 1
            else:
                left_leaves += 1
            if is_op:
                for e in node.edges:
                    if e is not None and e not in seen:
                        seen.add(e)
                        queue.append(e)
        self.left_out = (left_ops, left_leaves)
        self.cut = {
            n
            for n in kept
            if isinstance(n, Function) and any(e is not None and e not in kept for e in n.edges)
        }
        self.order = _postorder(starts, kept)
        self.results: dict[Function, Tensor] = {}
        for t in roots:
            if t.grad_fn is not None:
                self.results.setdefault(t.grad_fn, t)
        for node in self.order:
            if isinstance(node, Function) and node.hooks and node not in self.results:
                for hook in node.hooks:
                    t = hook.ref() if isinstance(hook, RetainGrad) else None
                    if t is not None:
                        self.results[node] = t
                        break

    def left_out_text(self) -> str:
        ops, leaves = self.left_out
        parts = [f"{ops:,} op{'s' * (ops != 1)}"] if ops else []
        if leaves:
            parts.append(f"{leaves:,} lea{'ves' if leaves != 1 else 'f'}")
        return f"... {ops + leaves:,} more nodes not shown ({', '.join(parts)})"


def _postorder(starts: list[Any], kept: dict[Any, None]) -> list[Any]:
    """The kept nodes, each after all of its kept inputs."""
    order = []
    placed = set()
    for start in starts:
        if start in placed or start not in kept:
            continue
        placed.add(start)
        stack = [(start, 0)]
        while stack:
            node, i = stack.pop()
            edges = node.edges if isinstance(node, Function) else ()
            while i < len(edges):
                e = edges[i]
                i += 1
                if e is not None and e in kept and e not in placed:
                    placed.add(e)
                    stack.append((node, i))
                    stack.append((e, 0))
                    break
            else:
                order.append(node)
    return order


def _check_roots(fn: str, roots: tuple[Any, ...], max_nodes: int | None) -> None:
    if not roots:
        raise TypeError(f"{fn}: give at least one tensor, e.g. {fn}(loss)")
    for i, t in enumerate(roots):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"{fn}: roots[{i}] is a {type(t).__name__}, not a Tensor; pass tensors as "
                f"separate arguments: {fn}(*tensors)"
            )
    if max_nodes is not None and (not isinstance(max_nodes, int) or max_nodes < 1):
        raise ValueError(f"{fn}: max_nodes must be a positive int or None, got {max_nodes!r}")


def _collapse_rule(collapse: Any) -> Callable[[set[tuple[str, ...]]], dict[Any, Any]]:
    """From the ``collapse`` argument: a function that maps the set of scope paths in the
    graph to {path: the collapsed path it belongs to, or None}."""
    if collapse is False:
        return lambda paths: dict.fromkeys(paths)
    if collapse is True:

        def innermost(paths: set[tuple[str, ...]]) -> dict[Any, Any]:
            outer = {p[:k] for p in paths for k in range(1, len(p))}
            return {p: (p if p and p not in outer else None) for p in paths}

        return innermost
    patterns = [collapse] if isinstance(collapse, str) else collapse
    if isinstance(patterns, Iterable):
        patterns = list(patterns)
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise TypeError(
            f"draw_graph: collapse must be True, False, a scope pattern or a list of patterns "
            f"(strings), got {collapse!r}"
        )

    def matching(paths: set[tuple[str, ...]]) -> dict[Any, Any]:
        out = {}
        for p in paths:
            out[p] = next(
                (
                    p[: k + 1]
                    for k, label in enumerate(p)
                    if any(fnmatch.fnmatchcase(label, pat) for pat in patterns)
                ),
                None,
            )
        return out

    return matching


# ------------------------------------------------------------------------------ labels
def op_label(fn: Function) -> str:
    """What an op does, with its constants: ``matmul``, ``sum(axis=1)``, ``getitem[:, 0]``."""
    name, detail = _op_parts(fn)
    if detail is None:
        return name
    return f"{name}{detail}" if detail.startswith("[") else f"{name}({detail})"


def _op_parts(fn: Function) -> tuple[str, str | None]:
    """(name, detail): detail is the op's constants (``axis=1``), ``[index]``, or None."""
    name = fn.name
    return INFIX.get(name, name), fn.constants()


def _values(data: Any) -> tuple[list[str], bool]:
    """Lines describing an array's values (in full when small, else min / mean / max, and
    how many are NaN or infinite), and whether some are NaN or infinite."""
    with device_guard(data):  # statistics are computed where the array lives
        return _values_here(data)


def _values_here(data: Any) -> tuple[list[str], bool]:
    backend = backend_of(data)
    floating = data.dtype.kind == "f"
    if data.size <= IN_FULL:
        a = backend.to_numpy(data)
        bad = floating and not bool(np.isfinite(a).all())
        if a.ndim == 0:
            return [num(a[()])], bad
        text = np.array2string(a, separator=", ", formatter={"float_kind": num}, max_line_width=48)
        return text.split("\n"), bad
    xp = backend.xp
    values = data
    lines = []
    bad = False
    if floating:
        finite = xp.isfinite(data)
        n_finite = int(finite.sum())
        if n_finite < data.size:
            n_nan = int(xp.isnan(data).sum())
            n_inf = data.size - n_finite - n_nan
            counts = [f"{n_nan:,} nan"] * bool(n_nan) + [f"{n_inf:,} inf"] * bool(n_inf)
            lines.append(", ".join(counts))
            values = data[finite]
            bad = True
    if values.size:
        with np.errstate(all="ignore"):
            mean = values.mean(dtype=np.float64)
        stats = f"min {num(values.min())}  mean {num(mean)}  max {num(values.max())}"
        lines.insert(0, stats)
    return lines, bad


# -------------------------------------------------------------------------- the picture
def _html(text: str) -> str:
    return html.escape(text, quote=False)


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


class _Drawing:
    """The DOT statements of a picture: nodes and edges, grouped into (nested) clusters."""

    def __init__(
        self,
        walk: _Walk,
        rule: Callable[[set[tuple[str, ...]]], dict[Any, Any]],
        show_values: bool,
        show_grads: bool,
        show_shapes: bool,
    ) -> None:
        self.walk = walk
        self.show = (show_values, show_grads, show_shapes)
        self.buckets: dict[tuple[str, ...], list[str]] = {(): []}  # scope path -> statements
        self.edges: list[str] = []
        self.count = 0
        ops = [n for n in walk.order if isinstance(n, Function)]
        self.collapsed = rule({fn.scope for fn in ops})  # scope path -> collapsed path/None
        self.modules: dict[tuple[str, ...], _Module] = {}  # collapsed scopes
        self.constant_ids: dict[int, str] = {}  # tensor constants (by id), drawn once each
        self.ends: dict[Any, str] = {}  # op or leaf -> the node that its users link from
        self.heads: dict[Function, str] = {}  # op -> its node (or its collapsed scope's)
        self.pairs: list[tuple[str, str]] = []  # the edges drawn, (tail, head)
        self.once: set[str] = set()  # nodes whose edges are drawn once each
        self.linked: set[tuple[str, str]] = set()
        self.more_id: str | None = None  # the node that says what max_nodes left out
        self.consumers: dict[int, list[Function]] = {}  # leaf id -> ops that use it
        self.side_by_side: dict[str, list[str]] = {}  # op node -> the parameters it takes
        self.titles: dict[str, str] = {}  # tensor record -> the name its stubs show
        self.uses: dict[str, int] = {}  # tensor record -> edges drawn from it so far
        self.stub_of: dict[str, str] = {}  # stub -> the record it stands for
        self.stubs = len(walk.order) > STUBS_ABOVE
        for fn in ops:
            for e in fn.edges:
                if isinstance(e, Tensor):
                    self.consumers.setdefault(id(e), []).append(fn)

    def new_id(self) -> str:
        self.count += 1
        return f"n{self.count}"

    def add(self, path: tuple[str, ...], statement: str) -> None:
        self.buckets.setdefault(path, []).append(statement)

    def module(self, fn: Function) -> _Module | None:
        """The collapsed node that ``fn`` is drawn in, or None."""
        path = self.collapsed.get(fn.scope)
        if path is None:
            return None
        m = self.modules.get(path)
        if m is None:
            m = self.modules[path] = _Module(self.new_id(), path)
            self.once.add(m.id)
        return m

    def lines(self) -> list[str]:
        """All statements: the nodes, cluster by cluster, then the edges."""
        for node in self.walk.order:
            if isinstance(node, Tensor):
                self.ends[node] = self.leaf(node)
            else:
                self.op(node)
        for m in self.modules.values():
            self.add(m.path[:-1], m.statement(self.show))
        return self.nest() + self.edges

    def rankdir(self) -> str:
        """``"LR"`` unless the picture would then be much wider than a notebook (a long chain
        of layers) and top to bottom narrower: ``"TB"``. The depth is the longest path of the
        drawn edges, the breadth the most nodes at one depth."""
        after: dict[str, list[str]] = {}
        waiting: dict[str, int] = {}  # edges into each node not yet counted (Kahn's algorithm)
        for tail, head in self.pairs:
            after.setdefault(tail, []).append(head)
            waiting[head] = waiting.get(head, 0) + 1
            waiting.setdefault(tail, 0)
        ready = [n for n, k in waiting.items() if k == 0]
        depth = dict.fromkeys(ready, 0)
        while ready:
            node = ready.pop()
            for head in after.get(node, ()):
                depth[head] = max(depth.get(head, 0), depth[node] + 1)
                waiting[head] -= 1
                if waiting[head] == 0:
                    ready.append(head)
        ranks = 1 + max(depth.values(), default=0)
        per_rank: dict[int, int] = {}
        for d in depth.values():
            per_rank[d] = per_rank.get(d, 0) + 1
        breadth = max(per_rank.values(), default=1)
        wide, tall = ranks * RANK_WIDTH, breadth * NODE_WIDTH  # points, roughly
        return "LR" if wide <= NOTEBOOK_WIDTH or wide <= tall else "TB"

    def stacking(self, rankdir: str) -> list[str]:
        """Top to bottom, invisible edges that put the parameters of one op (a layer's
        weight and bias) above one another instead of side by side: a narrower picture."""
        if rankdir not in ("TB", "BT"):
            return []
        return [
            f"\t{a} -> {b} [style=invis]\n"
            for ids in self.side_by_side.values()
            for a, b in zip(ids, ids[1:])
        ]

    def link(self, tail: str, head: str, style: str = "") -> None:
        if tail in self.once or head in self.once:  # a collapsed scope or the summary
            if tail == head or (tail, head) in self.linked:
                return
            self.linked.add((tail, head))
        self.pairs.append((tail, head))
        self.edges.append(f"\t{tail} -> {head}{style}\n")

    def op(self, fn: Function) -> None:
        """Draw an op (or count it in its collapsed scope), its result if known, and the
        edges from its inputs."""
        walk = self.walk
        module = self.module(fn)
        if module is None:
            head = self.new_id()
            self.add(fn.scope, f"\t{head} [label={_quote(op_label(fn))} {OP_STYLE}]\n")
        else:
            head = module.id
            module.ops.append(op_label(fn))
        self.ends[fn] = self.heads[fn] = head
        t = walk.results.get(fn)
        if t is not None and (module is None or id(t) in walk.roots):
            kind = "output" if id(t) in walk.roots else "result"
            tid = self.ends[fn] = self.new_id()
            self.add(() if kind == "output" else fn.scope, self.tensor(tid, t, kind))
            self.link(head, tid)
        constants = fn.constant_operands
        path = self._drawn_in(fn)
        for i, e in enumerate(fn.edges):
            if e is not None:
                if e in self.ends:
                    tail = self.source(self.ends[e], path)
                    self.link(tail, head)
                    if module is None and isinstance(e, Tensor) and tail not in self.stub_of:
                        self.side_by_side.setdefault(head, []).append(tail)
                else:  # left out by max_nodes
                    if self.more_id is None:
                        self.more_id = self.new_id()
                        self.add((), self.more(self.more_id))
                        self.once.add(self.more_id)
                    self.link(self.more_id, head, style=" [style=dashed]")
                continue
            value = constants[i]
            if isinstance(value, Tensor):  # drawn once, outside any scope: an input
                self.link(self.source(self.input(value), path), head)
            elif module is None:  # a number (inside a collapsed scope: not drawn)
                cid = self.new_id()
                self.add(fn.scope, self.number(cid, value))
                self.link(cid, head)
        for name, array in fn.held_inputs().items():
            self.link(self.source(self.input(_make(array, None), name, key=id(array)), path), head)

    def source(self, record: str, path: tuple[str, ...]) -> str:
        """Where an edge from a drawn node starts: the node itself, or, in a big picture
        past a tensor record's first ``FANOUT`` uses, a new stub with its name in scope
        ``path``."""
        title = self.titles.get(record)
        if title is None or not self.stubs:
            return record
        n = self.uses[record] = self.uses.get(record, 0) + 1
        if n <= FANOUT:
            return record
        stub = self.new_id()
        self.stub_of[stub] = record
        self.add(path, f"\t{stub} [label={_quote(title)} {STUB_STYLE}]\n")
        return stub

    def input(self, t: Tensor, name: str | None = None, key: int | None = None) -> str:
        """The record of an input (a tensor that does not require grad), drawn once."""
        key = id(t) if key is None else key
        cid = self.constant_ids.get(key)
        if cid is None:
            cid = self.constant_ids[key] = self.new_id()
            self.add((), self.tensor(cid, t, "input", name))
        return cid

    def leaf(self, t: Tensor) -> str:
        """Draw a leaf of the graph (or list it in the collapsed node that uses it)."""
        users = self.consumers.get(id(t), [])
        is_root = id(t) in self.walk.roots
        kind = "parameter" if t.requires_grad else "input"
        if kind == "parameter" and users and not is_root:
            modules = {self.collapsed.get(fn.scope) for fn in users}
            if len(modules) == 1 and None not in modules:
                m = self.module(users[0])
                m.params.append(t)
                return m.id
        path: tuple[str, ...] = ()
        if kind == "parameter" and users and not is_root:  # deepest scope common to all users
            paths = [self._drawn_in(fn) for fn in users]
            path = paths[0]
            for p in paths[1:]:
                k = 0
                while k < min(len(path), len(p)) and path[k] == p[k]:
                    k += 1
                path = path[:k]
        nid = self.new_id()
        if kind == "input":
            self.constant_ids[id(t)] = nid
        self.add(path, self.tensor(nid, t, kind))
        return nid

    def _drawn_in(self, fn: Function) -> tuple[str, ...]:
        path = self.collapsed.get(fn.scope)
        return fn.scope if path is None else path[:-1]

    def tensor(self, nid: str, t: Tensor, kind: str, name: str | None = None) -> str:
        """The statement of a tensor record (``name`` for one that has none of its own)."""
        show_values, show_grads, show_shapes = self.show
        data = t.data
        cells: list[str] = []  # HTML cells, one row each (a column for 0-d tensors)
        name = t.name or name
        self.titles[nid] = name or _stub_title(t)
        if name:
            cells.append(f"<b>{_html(name)}</b>")
        if show_shapes and data.ndim:
            cells.append(_html(_tensor_header(t)))
        bad = False
        if show_values:
            lines, bad = _values(data)
            cells.append(_cell(lines, bad, "data " if not data.ndim else ""))
        if show_grads and _has_grad(t):
            if t.grad is None:
                cells.append('<font color="#777777"><i>grad not computed</i></font>')
            else:
                lines, grad_bad = _values(t.grad.data)
                cells.append(_cell(lines, grad_bad, "grad "))
                bad = bad or grad_bad
        if not cells:
            cells.append("&nbsp;")
        if data.ndim:
            rows = "<hr/>".join(f"<tr><td>{c}</td></tr>" for c in cells)
        else:
            rows = "<tr>" + "<vr/>".join(f"<td>{c}</td>" for c in cells) + "</tr>"
        label = f'<<table border="0" cellborder="0" cellspacing="0" cellpadding="3">{rows}</table>>'
        style = "filled,dashed" if kind == "constant" else "filled"
        attrs = f'shape=box style="{style}" fillcolor="{COLORS[kind]}" margin=0'
        if bad:
            attrs += f' color="{NONFINITE}" penwidth=2'
        return f"\t{nid} [label={label} {attrs}]\n"

    def number(self, nid: str, value: Any) -> str:
        """The statement of a constant operand that is not a tensor."""
        if not self.show[0]:
            text = "constant"
        else:
            text = num(value) if isinstance(value, (int, float, np.generic)) else str(value)
        return (
            f'\t{nid} [label={_quote(text)} shape=box style="filled,dashed" '
            f'fillcolor="{COLORS["constant"]}" fontsize=9 height=0.2 margin="0.04,0.02"]\n'
        )

    def more(self, nid: str) -> str:
        """The statement of the node that says what ``max_nodes`` left out."""
        hint = f"raise max_nodes (now {len(self.walk.order)}) to draw them"
        label = _quote(f"{self.walk.left_out_text()}\n{hint}")
        return f'\t{nid} [label={label} shape=note style=filled fillcolor="{COLORS["more"]}"]\n'

    def nest(self) -> list[str]:
        """The statements, each scope's inside a labelled cluster (nested scopes nest)."""
        order: list[tuple[str, ...]] = []
        known: set[tuple[str, ...]] = set()
        for path in self.buckets:
            for k in range(1, len(path) + 1):
                if path[:k] not in known:
                    known.add(path[:k])
                    order.append(path[:k])
        children: dict[tuple[str, ...], list[tuple[str, ...]]] = {(): []}
        for path in order:
            children.setdefault(path[:-1], []).append(path)
        number = {path: i for i, path in enumerate(order)}
        out: list[str] = []
        stack: list[tuple[bool, tuple[str, ...]]] = [(True, ())]
        while stack:
            opening, path = stack.pop()
            indent = "\t" * len(path)
            if not opening:
                out.append(f"{indent}}}\n")
                continue
            if path:
                out.append(
                    f"{indent}subgraph cluster_{number[path]} {{\n"
                    f"{indent}\tlabel={_quote(scope_label(path[-1]))} labeljust=l "
                    f'style="rounded,dashed" color="#888888" fontcolor="#444444"\n'
                )
                stack.append((False, path))
            out.extend(indent + s for s in self.buckets.get(path, ()))
            stack.extend((True, child) for child in reversed(children.get(path, ())))
        return out


OP_STYLE = f'shape=ellipse style=filled fillcolor="{COLORS["op"]}" margin="0.05,0.02"'


def scope_label(label: str) -> str:
    """A scope's label with its display label, if it has one: ``layers.0: Linear(4 -> 3)``."""
    display = getattr(label, "display", None)
    return f"{label}: {display}" if display else str(label)


def _cell(lines: list[str], bad: bool, prefix: str) -> str:
    text = '<br align="left"/>'.join(_html(line) for line in lines)
    if len(lines) > 1:
        text += '<br align="left"/>'
    text = _html(prefix) + text
    return f'<font color="{NONFINITE}">{text}</font>' if bad else text


class _Module:
    """A collapsed scope: one node for all its ops and the parameters only they use."""

    def __init__(self, nid: str, path: tuple[str, ...]) -> None:
        self.id, self.path = nid, path
        self.ops: list[str] = []
        self.params: list[Tensor] = []

    def statement(self, show: tuple[bool, bool, bool]) -> str:
        label = self.path[-1]
        kinds = list(dict.fromkeys(self.ops))
        ops = ", ".join(kinds[:4]) + (", ..." if len(kinds) > 4 else "")
        n = len(self.ops)
        rows = [f"<b>{_html(label)}</b>"]
        display = getattr(label, "display", None)
        if display:
            rows.append(f"<i>{_html(display)}</i>")
        rows.append(_html(f"{n} op{'s' * (n != 1)}: {ops}"))
        bad = False
        for p in self.params:
            name = p.name or "parameter"
            if name.startswith(label + "."):
                name = name[len(label) + 1 :]
            rows.append(_html(f"{name} {tuple(p.shape)}" if show[2] else name))
            for a in (p.data, None if p.grad is None else p.grad.data):
                if a is not None and a.dtype.kind == "f":
                    with device_guard(a):
                        bad = bad or not bool(backend_of(a).xp.isfinite(a).all())
        cells = "".join(f"<tr><td>{r}</td></tr>" for r in rows)
        label_html = f'<<table border="0" cellborder="0" cellspacing="0">{cells}</table>>'
        attrs = f'shape=box style="rounded,filled" fillcolor="{COLORS["module"]}"'
        if bad:
            attrs += f' color="{NONFINITE}" penwidth=2'
        return f"\t{self.id} [label={label_html} {attrs}]\n"


# ------------------------------------------------------------------------------ the text
def _text_lines(walk: _Walk, show_values: bool, show_grads: bool, show_shapes: bool) -> list[str]:
    used: set[str] = set()  # names already given to a tensor (a second one gets a number)
    ref: dict[Any, str] = {}
    constant_refs: dict[int, str] = {}
    rows: list[tuple[str, str, str]] = []  # (code, info, scope)

    def name_of(t: Tensor | None) -> str:
        if t is not None and t.name and t.name not in used:
            used.add(t.name)
            return t.name
        return f"%{len(rows)}"

    def describe(t: Tensor) -> str:
        return _text_info(t, show_values, show_grads, show_shapes)

    def input_ref(t: Tensor, key: int) -> str:
        r = constant_refs.get(key)
        if r is None:
            r = constant_refs[key] = name_of(t)
            rows.append((f"{r} = input", describe(t), ""))
        return r

    for node in walk.order:
        if isinstance(node, Tensor):
            r = ref[node] = name_of(node)
            kind = "parameter" if node.requires_grad else "input"
            if kind == "input":
                constant_refs[id(node)] = r
            rows.append((f"{r} = {kind}", describe(node), ""))
            continue
        fn = node
        constants = fn.constant_operands
        args = []
        for i, e in enumerate(fn.edges):
            if e is not None:
                args.append(ref.get(e, "..."))
                continue
            value = constants[i]
            if isinstance(value, Tensor):
                args.append(input_ref(value, id(value)))
            elif not show_values:
                args.append("constant")
            else:
                args.append(num(value) if isinstance(value, (int, float, np.generic)) else "?")
        for key, array in fn.held_inputs().items():
            held = _make(array, None)
            held.name = key
            args.append(f"{key}={input_ref(held, id(array))}")
        name, detail = _op_parts(fn)
        if fn.name in INFIX and len(args) == 2:
            code = f"{args[0]} {name} {args[1]}"
        elif detail is not None and detail.startswith("["):
            code = f"{args[0]}{detail}" if len(args) == 1 else f"{name}{detail}({', '.join(args)})"
        else:
            code = f"{name}({', '.join(args + ([detail] if detail else []))})"
        t = walk.results.get(fn)
        r = ref[fn] = name_of(t)
        info = describe(t) if t is not None else ""
        rows.append((f"{r} = {code}", info, "/".join(fn.scope)))
    width = max((len(code) for code, _, _ in rows), default=0)
    lines = []
    for code, info, scope in rows:
        line = f"{code:<{width}}  {info}" if info else code
        if scope:
            line = f"{line:<{width}}  # {scope}"
        lines.append(line.rstrip())
    if walk.left_out != (0, 0):
        lines.append(f"{walk.left_out_text()}: raise max_nodes (now {len(walk.order)})")
    return lines


def _text_info(t: Tensor, show_values: bool, show_grads: bool, show_shapes: bool) -> str:
    parts = []
    if show_shapes and t.ndim:
        parts.append(_tensor_header(t))
    if show_values:
        parts.append(("data " if not t.ndim else "") + _one_line(t.data))
    if show_grads and _has_grad(t):
        parts.append("grad " + ("not computed" if t.grad is None else _one_line(t.grad.data)))
    return "  ".join(parts)


def _stub_title(t: Tensor) -> str:
    """What a stub of an unnamed tensor's record says: its value or its shape."""
    return _one_line(t.data) if not t.ndim else _tensor_header(t)


def _tensor_header(t: Tensor) -> str:
    """Shape and dtype, and the device when it is not the CPU: ``(64, 784) float32``."""
    device = t.device
    return f"{tuple(t.shape)} {t.dtype}" + ("" if device.type == "cpu" else f" {device}")


def _has_grad(t: Tensor) -> bool:
    """Whether ``t`` keeps a ``.grad`` (a leaf requiring grad, or one that retains it)."""
    return t.requires_grad and (t.grad_fn is None or t.retains_grad)


def _one_line(data: Any) -> str:
    lines = _values(data)[0]
    if data.size <= IN_FULL:  # an array printed over several lines
        return " ".join(line.strip() for line in lines)
    return "; ".join(lines)


# --------------------------------------------------------------------- the Graphviz class
@functools.cache
def _graph_class() -> type[graphviz.Digraph]:
    """``Graph``, made on first use so that ``import autograd`` does not import graphviz."""
    import graphviz

    class Graph(graphviz.Digraph):
        """A picture of a computation graph: a ``graphviz.Digraph`` that Jupyter displays
        inline and that ``save`` writes in the format its file name's extension names."""

        def save(
            self,
            filename: str | os.PathLike[str] | None = None,
            directory: str | os.PathLike[str] | None = None,
            *,
            skip_existing: bool | None = False,
        ) -> str:
            """Write the picture to ``filename``: ``.svg``, ``.png``, ``.pdf`` (any format
            Graphviz renders) are rendered; ``.dot``, ``.gv`` or no extension write the DOT
            source. Returns the path written."""
            ext = "" if filename is None else os.path.splitext(os.fspath(filename))[1]
            fmt = ext[1:].lower()
            if fmt in ("", "dot", "gv"):
                return super().save(filename, directory=directory, skip_existing=skip_existing)
            if fmt not in graphviz.FORMATS:
                raise ValueError(
                    f"save: Graphviz cannot write {ext!r} files; use .svg, .png, .pdf, or .dot "
                    f"for the source"
                )
            path = os.path.join(os.fspath(directory or ""), os.fspath(filename))
            if skip_existing and os.path.exists(path):
                return path
            data = self.pipe(format=fmt)
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
            return path

        def pipe(self, *args: Any, **kwargs: Any) -> Any:
            try:
                return super().pipe(*args, **kwargs)
            except graphviz.ExecutableNotFound as e:
                raise GraphvizNotFoundError(INSTALL_HINT) from e

        def render(self, *args: Any, **kwargs: Any) -> str:
            try:
                return super().render(*args, **kwargs)
            except graphviz.ExecutableNotFound as e:
                raise GraphvizNotFoundError(INSTALL_HINT) from e

    Graph.__module__, Graph.__qualname__ = __name__, "Graph"
    return Graph


def __getattr__(name: str) -> Any:
    if name == "Graph":  # autograd.viz.Graph, made on first use (see _graph_class)
        return _graph_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
