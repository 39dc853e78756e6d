"""The table of differentiable ops under property tests.

Each case says how to draw inputs (arrays and keyword parameters, with hypothesis), the op on
tensors, its NumPy reference, and which draws are valid (``valid`` keeps finite differences
away from kinks and poles: hypothesis ``assume``s it). The tests in test_ops.py run every case
through the same checks: forward equals NumPy, gradcheck, gradgradcheck, float32 preserved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd as ag
from autograd.testing import arrays, axes, broadcastable_shapes, shapes

MAX_SIDE = 3
MAX_DIMS = 3
GAP = 1e-3  # distance kept from kinks and ties (finite differences use eps = 1e-6)

Draw = Callable[[st.DataObject], tuple[list[np.ndarray], dict[str, Any]]]


@dataclass(frozen=True)
class Case:
    name: str
    draw: Draw
    fn: Callable[..., Any]  # on tensors
    ref: Callable[..., Any]  # on NumPy arrays
    valid: Callable[..., bool] = field(default=lambda *a, **k: True)
    float32_tol: float = 1e-5
    # Where the function is real-valued and differentiable at all (the values at the edges of
    # test_extreme_values may leave the drawn ranges): e.g. pow's base must be >= 0.
    domain: Callable[..., bool] = field(default=lambda *a, **k: True)

    def __repr__(self) -> str:
        return self.name


# ------------------------------------------------------------------- input drawers
def _shape(data: st.DataObject, min_dims: int = 0, allow_empty: bool = True) -> tuple[int, ...]:
    """A shape; about one in autograd.testing.EMPTY_ODDS has a size-0 axis (allow_empty)."""
    return data.draw(
        shapes(min_dims=min_dims, max_dims=MAX_DIMS, max_side=MAX_SIDE, allow_empty=allow_empty),
        "shape",
    )


def unary(lo: float = -3.0, hi: float = 3.0, min_magnitude: float = 0.0, min_dims: int = 0) -> Draw:
    def draw(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
        shape = _shape(data, min_dims)
        return [
            data.draw(arrays(shape, min_value=lo, max_value=hi, min_magnitude=min_magnitude), "x")
        ], {}

    return draw


def binary(
    x: tuple[float, float] = (-3.0, 3.0),
    y: tuple[float, float] = (-3.0, 3.0),
    y_min_magnitude: float = 0.0,
) -> Draw:
    def draw(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
        sx, sy = data.draw(broadcastable_shapes(2, max_dims=MAX_DIMS, max_side=MAX_SIDE), "shapes")
        a = data.draw(arrays(sx, min_value=x[0], max_value=x[1]), "x")
        b = data.draw(
            arrays(sy, min_value=y[0], max_value=y[1], min_magnitude=y_min_magnitude), "y"
        )
        return [a, b], {}

    return draw


def reduction(min_dims: int = 0, ddof: bool = False) -> Draw:
    def draw(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
        shape = _shape(data, min_dims)
        x = data.draw(arrays(shape), "x")
        params = {
            "axis": data.draw(axes(len(shape)), "axis"),
            "keepdims": data.draw(st.booleans(), "keepdims"),
        }
        if ddof:
            params["ddof"] = data.draw(st.sampled_from([0, 1]), "ddof")
        return [x], params

    return draw


def with_axis(draw_x: Draw) -> Draw:
    """One int axis of a tensor with at least one axis."""

    def draw(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
        xs, _ = draw_x(data)
        nd = xs[0].ndim
        return xs, {"axis": data.draw(st.integers(-nd, nd - 1), "axis")}

    return draw


# ------------------------------------------------------------------- kink predicates
def _reduced_gap(x: np.ndarray, axis: Any, largest: bool) -> bool:
    """Whether the extreme over ``axis`` is unique by a margin (no near-ties)."""
    if x.size == 0:
        return True
    ax = tuple(range(x.ndim)) if axis is None else (axis,) if isinstance(axis, int) else axis
    ax = tuple(a % x.ndim for a in ax) if x.ndim else ()
    rest = [a for a in range(x.ndim) if a not in ax]
    flat = np.transpose(x, rest + list(ax)).reshape(int(np.prod([x.shape[a] for a in rest])), -1)
    if flat.shape[1] < 2:
        return True
    s = np.sort(flat, axis=1)
    gaps = s[:, -1] - s[:, -2] if largest else s[:, 1] - s[:, 0]
    return bool((gaps > GAP).all())


def _enough_values(x: np.ndarray, axis: Any = None, ddof: int = 0, **_: Any) -> bool:
    n = x.size if axis is None else int(np.prod([x.shape[a] for a in np.atleast_1d(axis)]))
    return n - ddof > 0


def _spread(x: np.ndarray, axis: Any = None, ddof: int = 0, **_: Any) -> bool:
    if not _enough_values(x, axis, ddof):
        return False
    return bool((np.var(x, axis=axis, ddof=ddof) > 1e-2).all())


def _no_ties(x: np.ndarray, y: np.ndarray) -> bool:
    return bool((np.abs(x - y) > GAP).all())


def _away_from(*points: float) -> Callable[..., bool]:
    return lambda x, **_: bool(all((np.abs(x - p) > GAP).all() for p in points))


# ------------------------------------------------------------------- structured drawers
def draw_matmul(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
    shapes_ = data.draw(
        hnp.mutually_broadcastable_shapes(
            signature=np.matmul.signature, max_dims=2, max_side=MAX_SIDE
        ),
        "shapes",
    )
    sx, sy = shapes_.input_shapes
    return [data.draw(arrays(sx), "x"), data.draw(arrays(sy), "y")], {}


def draw_where(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
    sc, sx, sy = data.draw(broadcastable_shapes(3, max_dims=MAX_DIMS, max_side=MAX_SIDE), "shapes")
    cond = data.draw(hnp.arrays(np.bool_, sc), "cond")
    return [data.draw(arrays(sx), "x"), data.draw(arrays(sy), "y")], {"cond": cond}


def draw_reshape(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
    shape = _shape(data)
    size = int(np.prod(shape))
    target = data.draw(
        st.sampled_from(
            [(size,), (-1,), tuple(reversed(shape)), (1, *shape), (*shape, 1), ()]
            if size == 1
            else [(size,), (-1,), tuple(reversed(shape)), (1, *shape), (*shape, 1)]
        ),
        "target",
    )
    return [data.draw(arrays(shape), "x")], {"shape": target}


def draw_permute(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
    shape = _shape(data)
    perm = data.draw(st.permutations(range(len(shape))), "axes")
    return [data.draw(arrays(shape), "x")], {"axes": tuple(perm)}


def draw_transpose(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
    shape = _shape(data, min_dims=1)
    nd = len(shape)
    a, b = (data.draw(st.integers(-nd, nd - 1), n) for n in ("axis0", "axis1"))
    return [data.draw(arrays(shape), "x")], {"axis0": a, "axis1": b}


def draw_squeeze(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
    shape = data.draw(shapes(max_dims=MAX_DIMS, min_side=1, max_side=2), "shape")
    ones = [i for i, n in enumerate(shape) if n == 1]
    axis = data.draw(st.sampled_from([None, *ones]) if ones else st.none(), "axis")
    return [data.draw(arrays(shape), "x")], {"axis": axis}


def draw_unsqueeze(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
    shape = _shape(data)
    nd = len(shape)
    return [data.draw(arrays(shape), "x")], {"axis": data.draw(st.integers(-nd - 1, nd))}


def draw_flatten(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
    shape = _shape(data, min_dims=1)
    nd = len(shape)
    start = data.draw(st.integers(0, nd - 1), "start")
    end = data.draw(st.integers(start, nd - 1), "end")
    return [data.draw(arrays(shape), "x")], {"start_axis": start, "end_axis": end - nd}


def draw_broadcast(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
    shape, other = data.draw(broadcastable_shapes(2, max_dims=MAX_DIMS, max_side=MAX_SIDE))
    return [data.draw(arrays(shape), "x")], {"shape": np.broadcast_shapes(shape, other)}


def draw_sum_to(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
    shape, other = data.draw(broadcastable_shapes(2, max_dims=MAX_DIMS, max_side=MAX_SIDE))
    big = np.broadcast_shapes(shape, other)
    return [data.draw(arrays(big), "x")], {"shape": shape}


def draw_basic_index(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
    shape = _shape(data)
    index = data.draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True), "idx")
    return [data.draw(arrays(shape), "x")], {"index": index}


def draw_integer_index(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
    shape = _shape(data, min_dims=1, allow_empty=False)  # integer indices need elements
    index = data.draw(
        hnp.integer_array_indices(
            shape, result_shape=hnp.array_shapes(min_dims=0, max_dims=2, max_side=4)
        ),
        "idx",
    )
    return [data.draw(arrays(shape), "x")], {"index": index}


def draw_mixed_index(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
    """An integer array (with repeats) on one axis and slices on the others."""
    shape = _shape(data, min_dims=2, allow_empty=False)  # integer indices need elements
    axis = data.draw(st.integers(0, len(shape) - 1), "axis")
    ids = data.draw(
        hnp.arrays(
            np.int64,
            data.draw(st.integers(1, 5)),
            elements=st.integers(-shape[axis], shape[axis] - 1),
        ),
        "ids",
    )
    index = tuple(
        ids if i == axis else slice(None, None, data.draw(st.sampled_from([1, -1])))
        for i in range(len(shape))
    )
    return [data.draw(arrays(shape), "x")], {"index": index}


def draw_mask_index(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
    shape = _shape(data, min_dims=1)
    lead = data.draw(st.integers(1, len(shape)), "lead")
    mask = data.draw(hnp.arrays(np.bool_, shape[:lead]), "mask")
    return [data.draw(arrays(shape), "x")], {"index": mask}


def draw_join(new_axis: bool) -> Draw:
    def draw(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
        shape = _shape(data, min_dims=0 if new_axis else 1)
        n = data.draw(st.integers(1, 3), "n")
        nd = len(shape) + (1 if new_axis else 0)
        axis = data.draw(st.integers(-nd, nd - 1), "axis")
        xs = []
        for i in range(n):
            s = list(shape)
            if not new_axis:
                s[axis % len(shape)] = data.draw(st.integers(1, MAX_SIDE), f"size{i}")
            xs.append(data.draw(arrays(tuple(s)), f"x{i}"))
        return xs, {"axis": axis}

    return draw


def draw_split(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
    shape = _shape(data, min_dims=1)
    axis = data.draw(st.integers(0, len(shape) - 1), "axis")
    n = shape[axis]
    how = data.draw(
        st.one_of(
            st.sampled_from([d for d in range(1, n + 1) if n % d == 0] or [1, 2, 3]),
            # np.split's index forms: sorted, negative, past the end, unsorted
            st.lists(st.integers(-n - 2, n + 2), max_size=3),
        ),
        "sections",
    )
    part = data.draw(st.integers(0, (how if isinstance(how, int) else len(how) + 1) - 1))
    return [data.draw(arrays(shape), "x")], {"sections": how, "axis": axis, "part": part}


# ------------------------------------------------------------------- NumPy references
def np_sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def np_logsumexp(x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))


def np_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)


def np_flatten(x: np.ndarray, start_axis: int, end_axis: int) -> np.ndarray:
    end = end_axis % x.ndim
    merged = int(np.prod(x.shape[start_axis : end + 1]))  # not -1: ambiguous with size 0
    return x.reshape(*x.shape[:start_axis], merged, *x.shape[end + 1 :])


def np_sum_to(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    lead = x.ndim - len(shape)
    axes_ = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and x.shape[i + lead] != 1
    )
    return x.sum(axis=axes_, keepdims=True).reshape(shape)


def np_squeeze(x: np.ndarray, axis: Any) -> np.ndarray:
    return np.squeeze(x) if axis is None else np.squeeze(x, axis)


def np_swap(x: np.ndarray, axis0: int, axis1: int) -> np.ndarray:
    return np.swapaxes(x, axis0, axis1)


def np_split(x: np.ndarray, sections: Any, axis: int, part: int) -> np.ndarray:
    return np.split(x, sections, axis=axis)[part]


# ------------------------------------------------------------------- the table
CASES: list[Case] = [
    # arithmetic
    Case("add", binary(), lambda x, y: x + y, np.add),
    Case("sub", binary(), lambda x, y: x - y, np.subtract),
    Case("mul", binary(), lambda x, y: x * y, np.multiply),
    Case("div", binary(y_min_magnitude=0.3), lambda x, y: x / y, np.divide),
    Case("neg", unary(), lambda x: -x, np.negative),
    Case(
        "pow",
        binary(x=(0.3, 2.0), y=(-2.0, 2.0)),
        lambda x, y: x**y,
        np.power,
        domain=lambda x, y: bool((x >= 0).all()),  # d/dy x^y = x^y log x needs x >= 0
    ),
    Case("pow_const", unary(lo=0.3, hi=2.0), lambda x: x**2.5, lambda x: x**2.5),
    Case("pow_int", unary(), lambda x: x**3, lambda x: x**3),
    Case("rpow", unary(), lambda x: 2.0**x, lambda x: 2.0**x),
    Case("rsub_rdiv", unary(min_magnitude=0.3), lambda x: 1.5 - 2.0 / x, lambda x: 1.5 - 2.0 / x),
    # elementwise
    Case("exp", unary(), ag.exp, np.exp),
    Case("log", unary(lo=0.2), ag.log, np.log),
    Case("log10", unary(lo=0.2), ag.log10, np.log10),
    Case("sqrt", unary(lo=0.2), ag.sqrt, np.sqrt),
    Case("sin", unary(), ag.sin, np.sin),
    Case("cos", unary(), ag.cos, np.cos),
    Case("tanh", unary(), ag.tanh, np.tanh),
    Case("sigmoid", unary(lo=-6, hi=6), ag.sigmoid, np_sigmoid),
    Case("relu", unary(min_magnitude=GAP), ag.relu, lambda x: np.maximum(x, 0)),
    Case(
        "leaky_relu",
        unary(min_magnitude=GAP),
        lambda x: ag.leaky_relu(x, 0.2),
        lambda x: np.where(x > 0, x, 0.2 * x),
    ),
    Case("abs", unary(min_magnitude=GAP), ag.abs, np.abs),
    Case(
        "clip",
        unary(),
        lambda x: ag.clip(x, -1.0, 0.5),
        lambda x: np.clip(x, -1.0, 0.5),
        valid=_away_from(-1.0, 0.5),
    ),
    Case("maximum", binary(), ag.maximum, np.maximum, valid=_no_ties),
    Case("minimum", binary(), ag.minimum, np.minimum, valid=_no_ties),
    Case(
        "where",
        draw_where,
        lambda x, y, cond: ag.where(ag.tensor(cond), x, y),
        lambda x, y, cond: np.where(cond, x, y),
    ),
    # linear algebra
    Case("matmul", draw_matmul, ag.matmul, np.matmul),
    # reductions
    Case("sum", reduction(), ag.sum, np.sum),
    Case("mean", reduction(), ag.mean, np.mean, valid=_enough_values),
    Case("var", reduction(ddof=True), ag.var, np.var, valid=_enough_values),
    Case("std", reduction(ddof=True), ag.std, np.std, valid=_spread),
    Case(
        "max",
        reduction(),
        ag.max,
        np.max,
        valid=lambda x, axis, keepdims: _reduced_gap(x, axis, largest=True),
    ),
    Case(
        "min",
        reduction(),
        ag.min,
        np.min,
        valid=lambda x, axis, keepdims: _reduced_gap(x, axis, largest=False),
    ),
    # an empty reduced axis gives -inf, whose weighted sums in gradcheck are NaN; its values
    # and gradient: test_conformance.test_logsumexp_over_an_empty_axis_is_minus_inf
    Case("logsumexp", reduction(), ag.logsumexp, np_logsumexp, valid=_enough_values),
    Case("softmax", with_axis(unary(min_dims=1)), ag.softmax, np_softmax),
    Case(
        "log_softmax",
        with_axis(unary(min_dims=1)),
        ag.log_softmax,
        lambda x, axis: np.log(np_softmax(x, axis)),
    ),
    # shapes
    Case("reshape", draw_reshape, ag.reshape, np.reshape),
    Case("permute", draw_permute, ag.permute, np.transpose),
    Case("transpose", draw_transpose, ag.transpose, np_swap),
    Case("T", unary(), lambda x: x.T, lambda x: x.T),
    Case("squeeze", draw_squeeze, ag.squeeze, np_squeeze),
    Case("unsqueeze", draw_unsqueeze, ag.unsqueeze, np.expand_dims),
    Case("flatten", draw_flatten, ag.flatten, np_flatten),
    Case("broadcast_to", draw_broadcast, ag.broadcast_to, np.broadcast_to),
    Case("expand", draw_broadcast, ag.expand, np.broadcast_to),
    Case("sum_to", draw_sum_to, ag.sum_to, np_sum_to),
    Case("getitem_basic", draw_basic_index, ag.getitem, lambda x, index: x[index]),
    Case("getitem_integer", draw_integer_index, ag.getitem, lambda x, index: x[index]),
    Case("getitem_mixed", draw_mixed_index, ag.getitem, lambda x, index: x[index]),
    Case("getitem_mask", draw_mask_index, ag.getitem, lambda x, index: x[index]),
    Case(
        "concatenate",
        draw_join(new_axis=False),
        lambda *xs, axis: ag.concatenate(xs, axis),
        lambda *xs, axis: np.concatenate(xs, axis),
    ),
    Case(
        "stack",
        draw_join(new_axis=True),
        lambda *xs, axis: ag.stack(xs, axis),
        lambda *xs, axis: np.stack(xs, axis),
    ),
    Case("clone", unary(), ag.clone, np.copy),
    Case(
        "split",
        draw_split,
        lambda x, sections, axis, part: ag.split(x, sections, axis)[part],
        np_split,
    ),
]


# ------------------------------------------------------------------- nn ops (ops/nn_ops.py)
def draw_linear(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
    """x (..., in) with up to two batch axes, W (out, in), and b (out,) or no bias."""
    lead = data.draw(shapes(max_dims=2, max_side=MAX_SIDE), "batch")
    n_in, n_out = (data.draw(st.integers(1, MAX_SIDE), n) for n in ("in", "out"))
    xs = [data.draw(arrays((*lead, n_in)), "x"), data.draw(arrays((n_out, n_in)), "w")]
    if data.draw(st.booleans(), "bias"):
        xs.append(data.draw(arrays((n_out,)), "b"))
    return xs, {}


def draw_class_targets(data: st.DataObject) -> tuple[list[np.ndarray], dict[str, Any]]:
    """Scores (N, C), integer targets (N,), optional class weights (a list: it takes the
    scores' dtype) and a reduction."""
    n, c = (data.draw(st.integers(1, 4), name) for name in ("N", "C"))
    target = data.draw(hnp.arrays(np.int64, n, elements=st.integers(0, c - 1)), "target")
    weight = data.draw(st.none() | st.lists(st.floats(0.1, 2.0), min_size=c, max_size=c), "weight")
    reduction = data.draw(st.sampled_from(["mean", "sum", "none"]), "reduction")
    params = {"target": target, "weight": weight, "reduction": reduction}
    return [data.draw(arrays((n, c)), "x")], params


def np_linear(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    return x @ w.T if b is None else x @ w.T + b


def np_nll_loss(
    x: np.ndarray, target: np.ndarray, weight: list[float] | None, reduction: str
) -> np.ndarray:
    w = np.ones(x.shape[1]) if weight is None else np.asarray(weight)
    wt = w[target]
    losses = -wt * x[np.arange(len(target)), target]
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.sum() / wt.sum()


def np_cross_entropy(
    x: np.ndarray, target: np.ndarray, weight: list[float] | None, reduction: str
) -> np.ndarray:
    shifted = x - x.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return np_nll_loss(log_p, target, weight, reduction)


CASES += [
    Case("linear", draw_linear, ag.linear, np_linear),
    Case("softplus", unary(lo=-20.0, hi=20.0), ag.softplus, lambda x: np.logaddexp(0, x)),
    Case("nll_loss", draw_class_targets, ag.nll_loss, np_nll_loss),
    Case("cross_entropy", draw_class_targets, ag.cross_entropy, np_cross_entropy),
]
