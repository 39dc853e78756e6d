"""Fused operations for neural networks: ``linear``, ``softplus``, ``nll_loss``, ``cross_entropy``.

Each is one graph node where the composite would cost speed or stability:

* ``linear`` (x W^T + b) is one node instead of transpose, matmul and add, and its weight
  gradient g^T x comes out in W's own layout, with no transposed copy;
* ``softplus`` log(1 + e^x) is exact in both tails, where log(1 + exp(x)) overflows;
* ``nll_loss`` picks, weights and reduces in one step (the loss is linear in its input, so its
  gradient is a constant selection matrix times g);
* ``cross_entropy`` is ``nll_loss(log_softmax(x))`` as one node: log_softmax shifts by the
  maximum, so the loss is finite and exact for logits of any finite magnitude, and the gradient
  is the textbook (onehot - softmax) times the weights, from the log-probabilities of forward.
"""

from __future__ import annotations

from typing import Any

from .. import dtypes
from ..backend import backend_of, check_same_device, device_guard
from ..errors import DTypeError, ShapeError
from ..function import Function
from ..operands import as_tensor, cast_constant, common_float_dtype
from ..tensor import Tensor

REDUCTIONS = ("mean", "sum", "none")


def check_reduction(op: str, reduction: str) -> None:
    """A ValueError naming ``op`` unless ``reduction`` is one of REDUCTIONS."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


class Linear(Function):
    """x W^T + b, with W of shape (out, in) and any leading batch axes on x;
    dL/dx = g W,  dL/dW = g^T x (summed over the batch axes),  dL/db = sum of g over them."""

    __slots__ = ()
    save_inputs = True

    def forward(self, x: Any, w: Any, b: Any = None) -> Any:
        out = x @ w.T
        if b is not None:
            out += b  # out is a fresh array
        return out

    def backward(self, m: Any, g: Any, x: Any, w: Any, b: Any = None) -> tuple[Any, ...]:
        gx = g @ w if self.needs_grad(0) else None
        if g.ndim != 2:  # the batch axes as one (a vector x is a batch of one)
            g, x = g.reshape((-1, g.shape[-1])), x.reshape((-1, x.shape[-1]))
        gw = g.T @ x if self.needs_grad(1) else None
        if b is None:
            return gx, gw
        return gx, gw, (g.sum(axis=0) if self.needs_grad(2) else None)


class Softplus(Function):
    """softplus(x) = log(1 + e^x), computed as logaddexp(0, x);
    d/dx = sigmoid(x) = e^(x - softplus(x)), exact in both tails."""

    __slots__ = ()
    save_inputs = True
    save_output = True

    def forward(self, x: Any) -> Any:
        return backend_of(x).xp.logaddexp(0, x)

    def backward(self, m: Any, g: Any, x: Any, out: Any) -> Any:
        return g * m.exp(x - out)


class NLLLoss(Function):
    """Negative log-likelihood of class targets t from log-probabilities x of shape (N, C):
    loss_i = -w[t_i] x[i, t_i];  'sum' adds them, 'mean' divides the sum by sum_i w[t_i]
    (by N without weights), 'none' keeps them.

    With coef_i = -w[t_i] / D (D the divisor) the loss is linear in x: sum_ij S_ij x_ij for the
    selection matrix S (S[i, t_i] = coef_i, 0 elsewhere), so dL/dx = g S (row i times g_i for
    'none')."""

    op_name = "nll_loss"
    __slots__ = ("coef", "dtype", "index", "reduce", "shape")

    def __init__(self, x: Any, index: tuple[Any, Any], coef: Any, reduce: bool) -> None:
        self.shape, self.dtype = x.shape, x.dtype  # of the input array x
        self.index, self.coef, self.reduce = index, coef, reduce

    def forward(self, x: Any) -> Any:
        picked = x[self.index] * self.coef
        return picked.sum() if self.reduce else picked

    def backward(self, m: Any, g: Any) -> Any:
        return self.selection() * self.per_row(g)

    def selection(self) -> Any:
        """S: coef_i at [i, t_i], 0 elsewhere (an array, a constant of the graph)."""
        rows = self.index[0]
        with device_guard(rows):  # also with create_graph
            s = backend_of(rows).xp.zeros(self.shape, dtype=self.dtype)
            s[self.index] = self.coef
        return s

    def per_row(self, g: Any) -> Any:
        """g as a column to scale the rows by, for 'none' (one loss per row); else as is."""
        return g if self.reduce else g.reshape((-1, 1))


class CrossEntropy(NLLLoss):
    """nll_loss(log_softmax(x, axis=1)) as one node: with p_i = softmax(x_i),
    loss_i = -w[t_i] log p_i[t_i], reduced as in NLLLoss (coef_i = -w[t_i] / D), and

        dL/dx_ij = g coef_i (onehot(t_i)_j - p_ij),   i.e.  g (S - coef * p)

    with S the selection matrix of NLLLoss (g_i for 'none'). Forward keeps the
    log-probabilities for backward (``save_extra``); with create_graph ``recompute_extra``
    rebuilds them with graph ops, so the gradient can be differentiated again."""

    op_name = "cross_entropy"
    __slots__ = ()
    save_inputs = True  # the logits, for the create_graph path
    save_extra = True

    def forward(self, x: Any) -> tuple[Any, Any]:
        log_p = backend_of(x).math.log_softmax(x, 1)
        return super().forward(log_p), log_p

    def recompute_extra(self, m: Any, x: Any) -> Any:
        return m.log_softmax(x, 1)

    def backward(self, m: Any, g: Any, x: Any, log_p: Any) -> Any:
        coef = self.coef if isinstance(self.coef, float) else self.coef.reshape((-1, 1))
        return (self.selection() - m.exp(log_p) * coef) * self.per_row(g)


def linear(x: Any, weight: Any, bias: Any = None) -> Tensor:
    """x W^T + b for x of shape (..., in), W (out, in), b (out,): shape (..., out)."""
    x, weight = as_tensor(x), as_tensor(weight)
    parts = (x, weight) if bias is None else (x, weight, as_tensor(bias))
    xd, wd = x.data, weight.data
    if not xd.ndim or wd.ndim != 2 or xd.shape[-1] != wd.shape[1]:
        raise ShapeError(
            f"linear: input of shape {xd.shape} and weight of shape {wd.shape} do not fit: the "
            f"weight must be (out_features, in_features), in_features = the input's last axis"
        )
    bd = None if bias is None else parts[2].data
    if bd is not None and bd.shape != wd.shape[:1]:
        raise ShapeError(
            f"linear: bias of shape {bd.shape} does not fit a weight of shape {wd.shape}; "
            f"expected ({wd.shape[0]},)"
        )
    check_same_device("linear", (xd, wd) if bd is None else (xd, wd, bd))
    if wd.dtype != xd.dtype or (bd is not None and bd.dtype != xd.dtype):
        target = common_float_dtype("linear", [p.dtype for p in parts])
        parts = tuple(p if p.dtype == target else cast_constant(p, target) for p in parts)
    return Linear()(*parts)


def softplus(x: Any) -> Tensor:
    """Elementwise log(1 + e^x), without overflow; its derivative is sigmoid(x)."""
    return Softplus()(as_tensor(x))


def nll_loss(log_probs: Any, target: Any, weight: Any = None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood loss of integer class ``target`` (N,) given ``log_probs`` (N, C).

    loss_i = -weight[t_i] log_probs[i, t_i]. ``reduction``: ``'mean'`` divides the sum by
    sum_i weight[t_i] (by N without weights, as in PyTorch), ``'sum'`` adds, ``'none'`` gives
    the N losses. ``weight`` (C,) holds constant class weights (no gradient).
    """
    return _class_loss(
        NLLLoss, "nll_loss", "log-probabilities", log_probs, target, weight, reduction
    )


def cross_entropy(logits: Any, target: Any, weight: Any = None, reduction: str = "mean") -> Tensor:
    """Cross-entropy of integer class ``target`` (N,) given unnormalized ``logits`` (N, C):
    loss_i = -weight[t_i] (x[i, t_i] - logsumexp_j x[i, j]), reduced as in ``nll_loss``
    (it equals ``nll_loss(log_softmax(logits, axis=1), ...)``, computed as one node).

    Finite and exact for logits of any finite magnitude (log_softmax shifts by the maximum);
    dL/dx_i = weight[t_i] (softmax(x_i) - onehot(t_i)) g / D.
    """
    return _class_loss(CrossEntropy, "cross_entropy", "logits", logits, target, weight, reduction)


def _class_loss(
    op: type[NLLLoss], name: str, what: str, x: Any, target: Any, weight: Any, reduction: str
) -> Tensor:
    """The checks and constants shared by nll_loss and cross_entropy, then the op on x."""
    x = as_tensor(x)
    xd = x.data
    check_reduction(name, reduction)
    if not dtypes.is_floating(xd.dtype):
        raise DTypeError(f"{name}: {what} must be floating, got {xd.dtype}")
    if xd.ndim != 2:
        raise ShapeError(
            f"{name}: {what} must have shape (N, C), got {xd.shape}; flatten any extra axes "
            f"into N first"
        )
    n, c = xd.shape
    backend = backend_of(xd)
    with backend.guard(xd):  # arrays below are made on x's device
        t = _class_target(name, target, xd)
        if weight is None:
            coef = -1.0 / n if reduction == "mean" else -1.0
        else:
            w = as_tensor(weight, like=x).data
            if w.shape != (c,):
                raise ShapeError(
                    f"{name}: weight must have shape ({c},) (one per class), got {w.shape}"
                )
            if w.dtype != xd.dtype:
                raise DTypeError(f"{name}: weight is {w.dtype} but the input is {xd.dtype}")
            check_same_device(name, (xd, w))
            wt = w[t]
            coef = -wt / wt.sum() if reduction == "mean" else -wt
        rows = backend.xp.arange(n)
    return op(xd, (rows, t), coef, reduction != "none")(x)


def _class_target(op: str, target: Any, x: Any) -> Any:
    """``target`` as an integer array of shape (N,) on the device of the array x (N, C), each
    in [0, C)."""
    n, c = x.shape
    if isinstance(target, Tensor):
        t = target.data
    elif hasattr(target, "dtype"):
        t = target
    else:
        backend = backend_of(x)
        t = backend.asarray(target, dtype=dtypes.int64, device=backend.device_of(x))
    if t.dtype.kind not in "iu":
        raise DTypeError(
            f"{op}: targets must be integer class indices, got {t.dtype}; make them with "
            f"dtype=autograd.int64 (Python lists become floats by default)"
        )
    if t.shape != (n,):
        raise ShapeError(f"{op}: expected {n} targets (shape ({n},)), got shape {t.shape}")
    check_same_device(op, (x, t))
    if n and (t.min() < 0 or t.max() >= c):
        raise IndexError(
            f"{op}: targets must be class indices in [0, {c}), got values from {int(t.min())} "
            f"to {int(t.max())}"
        )
    return t
