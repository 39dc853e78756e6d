"""Higher-level derivatives of Python functions, as in ``torch.autograd.functional``.

All are built on reverse mode (``autograd.grad``):

* ``vjp``: v^T J, one backward pass;
* ``jvp``: J v, by the double-vjp trick: u -> u^T J is linear in u, so its vjp with v is J v;
* ``jacobian``: one vjp per output element;
* ``hessian``: the Jacobian of the gradient;
* ``vhp`` / ``hvp``: v^T H and H v, by differentiating the gradient once more.

``inputs`` is a Tensor or a tuple of Tensors, and results mirror that structure. With
``create_graph=True`` results are recorded (differentiable); otherwise they are detached.
``strict=True`` makes an input that the output does not depend on an error; otherwise its
derivative is a tensor of zeros, the mathematically expected value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .creation import ones_like, zeros, zeros_like
from .engine import grad
from .errors import GraphError
from .ops import reshape, stack
from .tensor import Tensor, _make

Inputs = Tensor | tuple[Tensor, ...]


def vjp(
    func: Callable[..., Any],
    inputs: Inputs,
    v: Any = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """``(func(inputs), v^T J)``; ``v`` may be omitted when the output has one element."""
    is_tuple, xs = _as_tuple(inputs, "inputs", "vjp")
    xs = _prepare(xs, create_graph)
    out_tuple, outs = _as_tuple(func(*xs), "outputs of func", "vjp")
    vs = _vectors(v, outs, "vjp", "output")
    gs = _grad(outs, xs, vs, create_graph, strict, "vjp")
    return _unpack(_finish(outs, create_graph), out_tuple), _unpack(gs, is_tuple)


def jvp(
    func: Callable[..., Any],
    inputs: Inputs,
    v: Any = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """``(func(inputs), J v)``; ``v`` may be omitted when the input has one element."""
    _, xs = _as_tuple(inputs, "inputs", "jvp")
    xs = _prepare(xs, create_graph)
    vs = _vectors(v, xs, "jvp", "input")
    out_tuple, outs = _as_tuple(func(*xs), "outputs of func", "jvp")
    # u -> u^T J is linear in u; differentiating it with respect to u along v gives J v.
    us = tuple(zeros_like(o).requires_grad_() for o in outs)
    gs = _grad(outs, xs, us, True, strict, "jvp")
    live = [(g, v_) for g, v_ in zip(gs, vs) if g.requires_grad]
    if not live:
        jv = tuple(zeros_like(o) for o in outs)
    else:
        jv = grad(
            [g for g, _ in live],
            us,
            [v_ for _, v_ in live],
            create_graph=create_graph,
            allow_unused=True,
        )
        jv = tuple(zeros_like(o) if j is None else j for j, o in zip(jv, outs))
    return _unpack(_finish(outs, create_graph), out_tuple), _unpack(
        _finish(jv, create_graph), out_tuple
    )


def jacobian(
    func: Callable[..., Any], inputs: Inputs, create_graph: bool = False, strict: bool = False
) -> Any:
    """d func / d inputs: for output shape O and input shape I, a tensor of shape O + I.

    Tuples of inputs or outputs give tuples (outputs outer, inputs inner)."""
    is_tuple, xs = _as_tuple(inputs, "inputs", "jacobian")
    xs = _prepare(xs, create_graph)
    out_tuple, outs = _as_tuple(func(*xs), "outputs of func", "jacobian")
    jac = []
    for out in outs:
        rows: list[list[Tensor]] = [[] for _ in xs]
        flat = reshape(out, (-1,))
        for k in range(flat.shape[0]):
            gs = _grad((flat[k],), xs, None, create_graph, strict, "jacobian")
            for row, g in zip(rows, gs):
                row.append(g)
        per_input = []
        for x, row in zip(xs, rows):
            block = stack(row) if row else zeros((0, *x.shape), dtype=x.dtype, device=x.device)
            per_input.append(reshape(block, out.shape + x.shape))
        jac.append(tuple(_finish(per_input, create_graph)))
    return _nest(jac, out_tuple, is_tuple)


def hessian(
    func: Callable[..., Any], inputs: Inputs, create_graph: bool = False, strict: bool = False
) -> Any:
    """Second derivatives of a one-element ``func``: shape I + I for an input of shape I
    (a tuple of tuples for several inputs)."""
    is_tuple, xs = _as_tuple(inputs, "inputs", "hessian")

    def gradient(*args: Tensor) -> tuple[Tensor, ...]:
        out = _scalar_output(func(*args), "hessian")
        return _grad((out,), args, None, True, strict, "hessian")

    result = jacobian(gradient, xs, create_graph=create_graph, strict=strict)
    if not is_tuple:
        return result[0][0]
    return result


def vhp(
    func: Callable[..., Any],
    inputs: Inputs,
    v: Any = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """``(func(inputs), v^T H)`` for a one-element ``func``."""
    is_tuple, xs = _as_tuple(inputs, "inputs", "vhp")
    xs = _prepare(xs, create_graph)
    vs = _vectors(v, xs, "vhp", "input")
    out = _scalar_output(func(*xs), "vhp")
    gs = _grad((out,), xs, None, True, strict, "vhp")
    live = [(g, v_) for g, v_ in zip(gs, vs) if g.requires_grad]
    res: tuple[Any, ...] = (None,) * len(xs)
    if live:
        res = grad(
            [g for g, _ in live],
            xs,
            [v_ for _, v_ in live],
            create_graph=create_graph,
            allow_unused=True,
        )
    res = _zeros_for_unused(res, xs, strict, "vhp")
    return _finish((out,), create_graph)[0], _unpack(_finish(res, create_graph), is_tuple)


def hvp(
    func: Callable[..., Any],
    inputs: Inputs,
    v: Any = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """``(func(inputs), H v)`` for a one-element ``func``, by the double-vjp trick (no
    assumption that H is symmetric)."""
    is_tuple, xs = _as_tuple(inputs, "inputs", "hvp")
    xs = _prepare(xs, create_graph)
    vs = _vectors(v, xs, "hvp", "input")
    out = _scalar_output(func(*xs), "hvp")
    gs = _grad((out,), xs, None, True, strict, "hvp")  # the gradient g(x)
    us = tuple(zeros_like(g).requires_grad_() for g in gs)
    # u -> u^T J_g is linear in u; its derivative along v is J_g v = H v.
    live = [(g, u) for g, u in zip(gs, us) if g.requires_grad]
    res: tuple[Any, ...] = (None,) * len(xs)
    if live:
        uj = grad(
            [g for g, _ in live], xs, [u for _, u in live], create_graph=True, allow_unused=True
        )
        pairs = [(j, v_) for j, v_ in zip(uj, vs) if j is not None and j.requires_grad]
        if pairs:
            res = grad(
                [j for j, _ in pairs],
                us,
                [v_ for _, v_ in pairs],
                create_graph=create_graph,
                allow_unused=True,
            )
    res = _zeros_for_unused(res, xs, strict, "hvp")
    return _finish((out,), create_graph)[0], _unpack(_finish(res, create_graph), is_tuple)


# ---------------------------------------------------------------------------- helpers
def _as_tuple(value: Any, what: str, fn: str) -> tuple[bool, tuple[Tensor, ...]]:
    is_tuple = isinstance(value, (tuple, list))
    values = tuple(value) if is_tuple else (value,)
    for i, v in enumerate(values):
        if not isinstance(v, Tensor):
            where = f" at index {i}" if is_tuple else ""
            raise TypeError(
                f"{fn}: the {what} must be a Tensor or a tuple of Tensors, but the "
                f"value{where} is a {type(v).__name__}"
            )
    return is_tuple, values


def _prepare(xs: tuple[Tensor, ...], create_graph: bool) -> tuple[Tensor, ...]:
    """Inputs to differentiate with respect to: connected to the caller's graph when
    create_graph (so results stay differentiable with respect to them), else fresh leaves."""
    if create_graph:
        return tuple(
            reshape(x, x.shape) if x.requires_grad else _make(x.data, None).requires_grad_()
            for x in xs
        )
    return tuple(_make(x.data, None).requires_grad_() for x in xs)


def _vectors(v: Any, like: tuple[Tensor, ...], fn: str, side: str) -> tuple[Tensor, ...]:
    if v is None:
        if len(like) != 1 or like[0].size != 1:
            raise GraphError(
                f"{fn}: v can be omitted only when the {side} has a single element; pass v "
                f"with the {side}'s shape"
            )
        return (ones_like(like[0]),)
    _, vs = _as_tuple(v, "v", fn)
    if len(vs) != len(like) or any(a.shape != b.shape for a, b in zip(vs, like)):
        raise ValueError(
            f"{fn}: v has shapes {[a.shape for a in vs]} but the {side} has shapes "
            f"{[b.shape for b in like]}"
        )
    return vs


def _grad(
    outs: tuple[Tensor, ...],
    xs: tuple[Tensor, ...],
    vs: Any,
    create_graph: bool,
    strict: bool,
    fn: str,
) -> tuple[Tensor, ...]:
    """Gradients of ``outs`` (retaining the graph: these helpers differentiate it again)."""
    live = [(o, None if vs is None else vs[i]) for i, o in enumerate(outs) if o.requires_grad]
    if not live:
        gs: tuple[Any, ...] = (None,) * len(xs)
    else:
        gos = None if vs is None else [v for _, v in live]
        gs = grad(
            [o for o, _ in live],
            xs,
            gos,
            retain_graph=True,
            create_graph=create_graph,
            allow_unused=True,
        )
    return _zeros_for_unused(gs, xs, strict, fn)


def _zeros_for_unused(
    gs: tuple[Any, ...], xs: tuple[Tensor, ...], strict: bool, fn: str
) -> tuple[Tensor, ...]:
    """Zeros for the inputs that the outputs do not depend on (an error when strict)."""
    for i, g in enumerate(gs):
        if g is None and strict:
            raise GraphError(f"{fn}: the output does not depend on input {i} (strict=True)")
    return tuple(zeros_like(x) if g is None else g for g, x in zip(gs, xs))


def _scalar_output(out: Any, fn: str) -> Tensor:
    if not isinstance(out, Tensor) or out.size != 1:
        raise GraphError(f"{fn}: func must return a Tensor with a single element")
    return out


def _finish(ts: Any, create_graph: bool) -> tuple[Tensor, ...]:
    return tuple(t if create_graph else t.detach() for t in ts)


def _unpack(ts: tuple[Tensor, ...], is_tuple: bool) -> Any:
    return ts if is_tuple else ts[0]


def _nest(jac: list[tuple[Tensor, ...]], out_tuple: bool, in_tuple: bool) -> Any:
    rows = [row if in_tuple else row[0] for row in jac]
    return tuple(rows) if out_tuple else rows[0]
