"""Fused operations for neural networks: ``linear``, ``softplus``, ``nll_loss``, ``cross_entropy``,
``binary_cross_entropy``.

Each is one graph node where the composite would cost speed or stability:

* ``linear`` (x W^T + b) is one node instead of transpose, matmul and add, and its weight
  gradient g^T x comes out in W's own layout, with no transposed copy;
* ``softplus`` log(1 + e^x) is exact in both tails, where log(1 + exp(x)) overflows;
* ``nll_loss`` picks, weights and reduces in one step (the loss is linear in its input, so its
  gradient is a constant selection matrix times g);
* ``cross_entropy`` is ``nll_loss(log_softmax(x))`` as one node: log_softmax shifts by the
  maximum, so the loss is finite and exact for logits of any finite magnitude, and the gradient
  is the textbook (onehot - softmax) times the weights, from the log-probabilities of forward;
  every PyTorch form (class indices with ignore_index, label smoothing, class probabilities,
  unbatched (C,) and (N, C, d1, ...) inputs) is the same node, since each is linear in log p;
* ``binary_cross_entropy`` has PyTorch's clamps, which no composite of log and clip gives:
  logs kept >= -100 in the loss, the gradient (p - y) / max(p (1 - p), 1e-12).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from .. import dtypes
from ..backend import backend_of, check_same_device, device_guard, device_of, is_array
from ..backward_math import log_softmax_source
from ..compiler import rebuilt, recorded
from ..errors import DeviceError, DTypeError, ShapeError
from ..function import Function
from ..operands import as_tensor, cast_constant, common_float_dtype, operands
from ..replay import by_columns
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
    derivative = "dL/dx = g W,  dL/dW = g^T x,  dL/db = sum of g over the batch"
    in_words = (
        "x gets the gradient through the weights, W the gradient times the input, b the "
        "gradient summed over the batch"
    )

    writes_into = True

    def forward(self, x: Any, w: Any, b: Any = None, into: Any = None) -> Any:
        out = _matmul(x, w.T, into)
        if b is not None:
            out += b  # out is a fresh array (or into)
        return out

    def backward(
        self, m: Any, g: Any, x: Any, w: Any, b: Any = None, into: Any = (None, None, None)
    ) -> tuple[Any, ...]:
        gx = _matmul(g, w, into[0]) if self.needs_grad(0) else None
        if g.ndim != 2:  # the batch axes as one (a vector x is a batch of one)
            rows = math.prod(g.shape[:-1])  # not -1: a size-0 axis would leave it ambiguous
            g, x = g.reshape((rows, g.shape[-1])), x.reshape((rows, x.shape[-1]))
        gw = None
        if self.needs_grad(1) and by_columns(w):  # in w's layout: gw^T = x^T g, by rows
            gw = into[1]
            if gw is None:
                gw = backend_of(g).xp.empty(w.shape, dtype=g.dtype, order="F")
            _matmul(x.T, g, gw.T)
        elif self.needs_grad(1):
            gw = _matmul(g.T, x, into[1])
        if b is None:
            return gx, gw
        return gx, gw, (_batch_sum(g, into[2]) if self.needs_grad(2) else None)

    def forward_source(self, s: Any) -> list[str]:
        (x, w, *b), out = s.args, s.out
        line = f"{out} = {_matmul_source(s, x, w + '.T', s.into)}"
        return [line, f"{s.fn('add')}({out}, {b[0]}, out={out})"] if b else [line]

    def backward_source(self, s: Any) -> list[str] | None:
        if s.arrays[0] is None or s.arrays[0].ndim != 2:
            return None  # batch axes, reshaped by backward
        (x, w, *b), g, outs, into = s.args, s.g, s.outs, s.into
        lines = [f"{outs[0]} = {_matmul_source(s, g, w, into[0])}"] if self.needs_grad(0) else []
        if self.needs_grad(1) and by_columns(s.arrays[2]):  # (g, x, w, b)
            if into[1] == "None":
                return None
            lines += [f"{outs[1]} = {into[1]}", f"{s.fn('matmul')}({x}.T, {g}, out={outs[1]}.T)"]
        elif self.needs_grad(1):
            lines.append(f"{outs[1]} = {_matmul_source(s, g + '.T', x, into[1])}")
        if b and self.needs_grad(2):
            out = "" if into[2] == "None" else f", out={into[2]}"
            lines.append(f"{outs[2]} = {g}.sum(axis=0{out})")
        return lines


def _matmul_source(s: Any, a: str, b: str, into: str) -> str:
    """``_matmul(a, b, into)`` as a replay's expression."""
    return f"{a} @ {b}" if into == "None" else f"{s.fn('matmul')}({a}, {b}, out={into})"


def _matmul(a: Any, b: Any, into: Any) -> Any:
    """a @ b, written into ``into`` where given (a compiled step's planned buffer)."""
    if into is None:
        return a @ b
    return backend_of(into).xp.matmul(a, b, out=into)


def _batch_sum(g: Any, into: Any) -> Any:
    """g summed over axis 0, written into ``into`` where given."""
    return g.sum(axis=0) if into is None else g.sum(axis=0, out=into)


class Softplus(Function):
    """softplus(x) = log(1 + e^x), computed as logaddexp(0, x);
    d/dx = sigmoid(x) = e^(x - softplus(x)), exact in both tails."""

    __slots__ = ()
    save_inputs = True
    save_output = True
    derivative = "d/dx softplus(x) = sigmoid(x)"
    in_words = "the gradient is scaled by the sigmoid of the input"
    elementwise = True

    def forward(self, x: Any) -> Any:
        return backend_of(x).xp.logaddexp(0, x)

    def backward(self, m: Any, g: Any, x: Any, out: Any) -> Any:
        # exp(x - out) is NaN at x = inf (inf - inf): there softplus' = 1 (PyTorch's value)
        top = x == math.inf
        return g * m.exp(m.where(top, 0, x) - m.where(top, 0, out))


class NLLLoss(Function):
    """Negative log-likelihood of class targets from log-probabilities v, with the classes on
    ``axis`` (1, or 0 for one unbatched sample of shape (C,)); t is the target of each position
    (a row i, or (i, d1, ..., dk) for inputs (N, C, d1, ..., dk)).

    Every form of the loss (class indices with weights and ignore_index, label smoothing,
    class probabilities) is linear in v: loss = sum S v over the classes of each position, for
    a constant coefficient array S of v's shape, summed over the positions ('sum', 'mean': D,
    the divisor, is inside S) or kept per position ('none'). S is stored in two parts: ``coef``
    at the target classes (``index``: the positions of the entries S[i, t_i] in v.reshape(-1),
    S[i, t_i] = coef_i = -w[t_i] (1 - eps) / D, 0 where t_i is ignored) and an optional
    ``dense`` array (label smoothing, probability targets). So
    dL/dv = g S, g taken per position for 'none'. ``nan``: a 'mean' over a total weight of 0
    (an empty batch, every target ignored) is NaN, as in PyTorch; its gradient is 0."""

    op_name = "nll_loss"
    __slots__ = (
        "axis",
        "coef",
        "dense",
        "dtype",
        "index",
        "keep",
        "nan",
        "positions",
        "recipe",
        "reduce",
        "shape",
        "target",
        "weight",
    )
    derivative = "dL/dx = g S,  S[i, t_i] = -w[t_i] / D, 0 elsewhere"
    in_words = "only each row's target entry gets a gradient: minus its weight over the divisor"

    def __init__(
        self,
        x: Any,
        axis: int,
        loss: _ClassCoefficients,
        reduce: bool,
        recipe: tuple[str, str, int, float],
        weight: Any = None,
    ) -> None:
        self.shape, self.dtype = x.shape, x.dtype  # of the input array x
        self.axis, self.reduce = axis, reduce
        self.index, self.coef, self.keep = loss.index, loss.coef, loss.keep
        self.dense, self.nan, self.target = loss.dense, loss.nan, loss.target
        self.positions = loss.positions
        # how S was made from the target and the class weights: (op, reduction,
        # ignore_index, label_smoothing), so a compiled step can make it again (``remade``)
        self.recipe, self.weight = recipe, weight

    def held_inputs(self) -> dict[str, Any]:
        return {"target": self.target}

    def renewal(self) -> tuple[tuple[Any, ...], Any]:
        return (self.target, self.weight), (self.shape, self.dtype, self.axis, self.recipe)

    def remade(self, operands: tuple[Any, ...], arrays: tuple[Any, ...]) -> NLLLoss:
        (x,), (t, w) = operands, arrays
        positions = self.positions if x.shape == self.shape else None
        with backend_of(x).guard(x):
            loss = _coefficients(x, self.axis, t, w, *self.recipe, positions=positions)
        return type(self)(x, self.axis, loss, self.reduce, self.recipe, w)

    def forward(self, x: Any) -> Any:
        return self.loss_of(x)

    def loss_of(self, v: Any) -> Any:
        """sum S v per position, reduced: the loss for the (log-probability) array v."""
        out = None
        if self.index is not None:
            picked = v.take(self.index)  # a flat take: one pass, no fancy-indexing setup
            if self.keep is not None:  # an ignored position adds 0, even where v is -inf
                picked = backend_of(v).xp.where(self.keep, picked, 0)
            out = picked * self.coef
        if self.dense is not None:
            spread = (self.dense * v).sum(axis=self.axis)
            out = spread if out is None else out + spread
        if self.reduce:
            out = out.sum()
            if self.nan:
                out = out * math.nan
        return out

    def backward(self, m: Any, g: Any) -> Any:
        return self.per_position(g) * self.selection()

    def selection(self) -> Any:
        """S, the coefficients of the loss (an array of the input's shape, a constant)."""
        if self.index is None:
            return self.dense
        with device_guard(self.index):  # also with create_graph
            s = backend_of(self.index).xp.zeros(self.shape, dtype=self.dtype)
            s.reshape(-1)[self.index] = self.coef
            if self.dense is not None:
                s += self.dense
        return s

    def row_sums(self) -> Any:
        """sum_c S over the classes of each position (kept as a size-1 class axis)."""
        with device_guard(self.target):  # also with create_graph
            if self.index is None:
                return self.dense.sum(axis=self.axis, keepdims=True)
            coef = self.coef
            if not isinstance(coef, float):
                coef = backend_of(coef).xp.expand_dims(coef, self.axis)
            if self.dense is not None:
                coef = coef + self.dense.sum(axis=self.axis, keepdims=True)
            return coef

    def per_position(self, g: Any) -> Any:
        """g with a size-1 class axis, to scale each position's coefficients, for 'none' (one
        loss per position); else as is."""
        if self.reduce:
            return g
        shape = list(self.shape)
        shape[self.axis] = 1
        return g.reshape(tuple(shape))


class CrossEntropy(NLLLoss):
    """nll_loss(log_softmax(x, axis)) as one node: with p = softmax(x) along the class axis,
    loss = sum S log p per position (S as in NLLLoss), and

        dL/dx = g (S - p sum_c S)

    (for class indices without smoothing: g coef_i (onehot(t_i) - p_i)). Forward keeps the
    log-probabilities for backward (``save_extra``); with create_graph ``recompute_extra``
    rebuilds them with graph ops, so the gradient can be differentiated again."""

    op_name = "cross_entropy"
    __slots__ = ()
    save_inputs = True  # the logits, for the create_graph path
    save_extra = True
    derivative = "dL/dx_i = g w[t_i] (softmax(x_i) - onehot(t_i)) / D"
    in_words = (
        "each row's gradient is its predicted probabilities minus the one-hot target, weighted"
    )

    def forward(self, x: Any) -> tuple[Any, Any]:
        log_p = backend_of(x).math.log_softmax(x, self.axis)
        return self.loss_of(log_p), log_p

    def recompute_extra(self, m: Any, x: Any) -> Any:
        return m.log_softmax(x, self.axis)

    def backward(self, m: Any, g: Any, x: Any, log_p: Any) -> Any:
        # (p sum_c S - S) (-g): a Tensor (with create_graph) is always the left operand
        p = m.exp(log_p)
        if self.dense is None and not isinstance(p, Tensor) and p.flags.c_contiguous:
            # S only at the targets: the same operations on p itself, S subtracted where it
            # is not 0 (p R - 0 is p R), no array S made (the same bits); p is fresh, and
            # C-contiguous (not in the logits' Fortran order, say) for a flat view
            p *= self.row_sums()
            p.reshape(-1)[self.index] -= self.coef
            p *= -self.per_position(g)
            return p
        return (p * self.row_sums() - self.selection()) * -self.per_position(g)

    # A compiled step's lines for the common case: logits (N, C) and N class indices, no
    # class weights, no smoothing, an ignore_index that is no class, a mean or a sum; each
    # replay checks the targets as it makes their flat index (ravel_multi_index), and a
    # target outside [0, C) (ignore_index, or an error) makes the node as eager does.
    def renewed_source(self, s: Any) -> list[str] | None:
        x = s.arrays[0]
        ignore_index, eps = self.recipe[2], self.recipe[3]
        if not (
            x is not None
            and x.ndim == 2
            and self.axis == 1
            and self.index is not None  # class indices
            and self.weight is None
            and not eps
            and self.reduce
            and not 0 <= ignore_index < x.shape[1]
        ):
            return None
        with backend_of(x).guard(x):  # S of targets that are all classes
            classes = s.xp.zeros(x.shape[:1], dtype=self.target.dtype)
            every = _coefficients(x, 1, classes, None, *self.recipe, positions=self.positions)
        if every.nan:  # the mean of no targets
            return None
        flat = s.state["flat"] = s.local("flat")
        s.state["coef"] = coef = s.const(every.coef)
        index = f"({s.const(self.positions[0])}, {s.held[0]}), {s.const(self.shape)}"
        return [
            "try:",
            f"    {flat} = {s.fn('ravel_multi_index')}({index}, mode='raise')",
            f"    {s.node} = None",
            "except ValueError:",
            f"    {s.general[0]}",
            f"if {s.node} is None:",
            *("    " + line for line in log_softmax_source(s, s.args[0], x, 1, s.extra)),
            f"    {s.out} = ({s.extra}.take({flat}) * {coef}).sum()",
            "else:",
            *("    " + line for line in s.general[1:]),
        ]

    def backward_source(self, s: Any) -> list[str] | None:
        if "flat" not in s.state:
            return None
        # backward's steps, on p = exp(log p), either of its two as backward takes them: p's
        # flat view is a copy where p is not C-contiguous (log p in the order of F-ordered or
        # strided logits, off the columns path), so there S is made and subtracted
        p, coef, flat = s.outs[0], s.state["coef"], s.state["flat"]
        selection = s.local("selection")
        zeros = f"{s.fn('zeros')}({s.const(self.shape)}, dtype={s.const(self.dtype)})"
        return [
            f"if {s.node} is None:",
            f"    {p} = {s.fn('exp')}({s.args[1]})",
            f"    if {p}.flags.c_contiguous:",
            f"        {p} *= {coef}",
            f"        {p}.reshape(-1)[{flat}] -= {coef}",
            f"        {p} *= -{s.g}",
            "    else:",
            f"        {selection} = {zeros}",
            f"        {selection}.reshape(-1)[{flat}] = {coef}",
            f"        {p} = ({p} * {coef} - {selection}) * -{s.g}",
            f"        del {selection}",
            "else:",
            *("    " + line for line in s.general),
        ]


class BinaryCrossEntropy(Function):
    """-(y log p + (1 - y) log(1 - p)) elementwise, for probabilities p in [0, 1] and targets y
    in [0, 1], with PyTorch's clamps: each log is kept >= -100 (p = 0 or 1 costs at most 100,
    in every dtype), and

        d/dp = (p - y) / max(p (1 - p), 1e-12),    d/dy = log(1 - p) - log(p)  (clamped logs),

    so a saturated p (0 where y = 1) still gets a large gradient instead of 0 or inf. The
    second derivative is the derivative of these rules."""

    op_name = "binary_cross_entropy"
    __slots__ = ()
    save_inputs = True
    derivative = "d/dp = (p - y) / max(p (1 - p), 1e-12),  d/dy = log(1 - p) - log(p)"
    in_words = (
        "p gets the gradient times (p - y) over p (1 - p), kept finite where p saturates at 0 "
        "or 1; y gets it times log((1 - p) / p)"
    )
    elementwise = True

    def forward(self, p: Any, y: Any) -> Any:
        xp = backend_of(p).xp
        inside = p > 0  # log(0) is never evaluated: no warning, and -100 there
        log_p = xp.where(inside, xp.maximum(xp.log(xp.where(inside, p, 1)), -100), -100)
        inside = p < 1
        log_q = xp.where(inside, xp.maximum(xp.log1p(-xp.where(inside, p, 0)), -100), -100)
        return -(y * log_p + (1 - y) * log_q)

    def backward(self, m: Any, g: Any, p: Any, y: Any) -> tuple[Any, Any]:
        gp = gy = None
        if self.needs_grad(0):
            d = (1 - p) * p
            gp = g * (p - y) / m.where(d < _BCE_EPS, _BCE_EPS, d)
        if self.needs_grad(1):
            gy = g * (_clamped_log(m, 1 - p) - _clamped_log(m, p))
        return gp, gy


_BCE_EPS = 1e-12  # PyTorch's floor of p (1 - p) in the gradient of binary_cross_entropy


def _clamped_log(m: Any, a: Any) -> Any:
    """max(log a, -100), with log(0) never evaluated (differentiable with m: 1/a where the
    log is above -100, 0 where it is clamped)."""
    inside = a > 0
    raw = m.log(m.where(inside, a, 1))
    return m.where(inside & (raw > -100), raw, -100)


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
    _check_linear_operands(xd, wd, bd)
    if wd.dtype != xd.dtype or (bd is not None and bd.dtype != xd.dtype):
        target = common_float_dtype("linear", [p.dtype for p in parts])
        parts = tuple(p if p.dtype == target else cast_constant(p, target) for p in parts)
    return Linear()(*parts)


def _check_linear_operands(xd: Any, wd: Any, bd: Any) -> None:
    """Devices and floating dtypes of linear's arrays, with errors that name the conversion
    that fixes the call: the input to the weight's, or the model to the input's."""
    try:
        check_same_device("linear", (xd, wd) if bd is None else (xd, wd, bd))
    except DeviceError:
        dx, dw = device_of(xd), device_of(wd)
        if dx != dw:
            raise DeviceError(
                f"linear: the input is on {dx} but the weight is on {dw}; move the input with "
                f"x.to({str(dw)!r}), or the model (its parameters) with model.to({str(dx)!r})"
            ) from None
        raise DeviceError(
            f"linear: the bias is on {device_of(bd)} but the weight is on {dw}; move the bias "
            f"with bias.to({str(dw)!r})"
        ) from None
    fx, fw = dtypes.is_floating(xd.dtype), dtypes.is_floating(wd.dtype)
    if fx and fw and xd.dtype != wd.dtype:
        raise DTypeError(
            f"linear: the input is {xd.dtype} but the weight is {wd.dtype}, and arraygrad never "
            f"converts silently: convert the input with x.to(autograd.{wd.dtype}), or the "
            f"model with model.to(autograd.{xd.dtype})"
        )
    if bd is not None and dtypes.is_floating(bd.dtype) and fw and bd.dtype != wd.dtype:
        raise DTypeError(
            f"linear: the bias is {bd.dtype} but the weight is {wd.dtype}; convert the bias "
            f"with bias.to(autograd.{wd.dtype})"
        )


def softplus(x: Any) -> Tensor:
    """Elementwise log(1 + e^x), without overflow; its derivative is sigmoid(x)."""
    return Softplus()(as_tensor(x))


@rebuilt
def nll_loss(
    log_probs: Any,
    target: Any,
    weight: Any = None,
    reduction: str = "mean",
    *,
    ignore_index: int = -100,
) -> Tensor:
    """Negative log-likelihood loss of integer class ``target`` given ``log_probs``, in
    PyTorch's forms: input (N, C) with target (N,), one sample (C,) with a 0-d target, or
    (N, C, d1, ..., dk) with target (N, d1, ..., dk).

    loss = -weight[t] log_probs[t] per position. ``reduction``: ``'mean'`` divides the sum by
    the sum of weight[t] over the positions (their number without weights, as in PyTorch),
    ``'sum'`` adds, ``'none'`` gives one loss per position. ``weight`` (C,) holds constant
    class weights (no gradient). Targets equal to ``ignore_index`` add 0 and are left out of
    the mean's divisor; a mean over no weight (an empty batch, all targets ignored) is NaN.
    Targets must be integers (a list, array or tensor of floats or bools is an error).
    """
    return _class_loss(
        NLLLoss,
        "nll_loss",
        "log-probabilities",
        log_probs,
        target,
        weight,
        reduction,
        ignore_index,
        0.0,
    )


@rebuilt
def cross_entropy(
    logits: Any,
    target: Any,
    weight: Any = None,
    reduction: str = "mean",
    *,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy of ``target`` given unnormalized ``logits``, with PyTorch's semantics:
    the classes are axis 1 of (N, C) or (N, C, d1, ..., dk), or axis 0 of one unbatched
    sample (C,), and ``target`` is either

    * integer class indices of the input's shape without the class axis: the loss is
      ``nll_loss(log_softmax(logits, class axis), target, weight, ...)``, with
      ``ignore_index`` and the mean's divisor as there; or
    * class probabilities, a float target of the input's own shape: the loss per position is
      -sum_c weight[c] target[c] log softmax(x)[c], and 'mean' divides by the number of
      positions (not by the weights).

    ``label_smoothing`` eps in [0, 1] mixes the target with the uniform distribution:
    (1 - eps) target + eps / C (for class indices, the smoothing term -sum_c weight[c]
    log p[c] eps / C shares the mean's divisor of the indices, as in PyTorch).

    One fused node: finite and exact for logits of any finite magnitude (log_softmax shifts
    by the maximum); dL/dx = g (S - softmax(x) sum_c S) with S the coefficients of the loss,
    for plain class indices weight[t] (softmax(x) - onehot(t)) g / D.
    """
    return _class_loss(
        CrossEntropy,
        "cross_entropy",
        "logits",
        logits,
        target,
        weight,
        reduction,
        ignore_index,
        label_smoothing,
    )


class _ClassCoefficients(NamedTuple):
    """The constants of a class loss (see NLLLoss): S at the target classes (``index``,
    ``coef``, ``keep`` the mask of positions not ignored, or None), the dense part of S, the
    NaN flag of an empty mean, the target array (for pictures), and for class indices the
    ``positions`` the flat index was made with (``_positions``; a renewal reuses them)."""

    index: Any
    coef: Any
    keep: Any
    dense: Any
    nan: bool
    target: Any
    positions: tuple[Any, ...] | None = None


def _class_loss(
    op: type[NLLLoss],
    name: str,
    what: str,
    x: Any,
    target: Any,
    weight: Any,
    reduction: str,
    ignore_index: int,
    label_smoothing: float,
) -> Tensor:
    """The checks and constants shared by nll_loss and cross_entropy, then the op on x."""
    x = as_tensor(x)
    xd = x.data
    check_reduction(name, reduction)
    if not dtypes.is_floating(xd.dtype):
        raise DTypeError(f"{name}: {what} must be floating, got {xd.dtype}")
    if xd.ndim == 0:
        raise ShapeError(
            f"{name}: {what} must have shape (C,), (N, C) or (N, C, d1, ..., dk) with the "
            f"classes on axis 1 (axis 0 for one unbatched sample), got a 0-d tensor"
        )
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, int):
        raise TypeError(f"{name}: ignore_index must be an int, got {ignore_index!r}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(
            f"{name}: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}"
        )
    axis = 0 if xd.ndim == 1 else 1
    c = xd.shape[axis]
    backend = backend_of(xd)
    with backend.guard(xd):  # arrays below are made on x's device
        t = _class_target(name, target, x, axis, allow_probabilities=op is CrossEntropy)
        w = None
        if weight is not None:
            w = as_tensor(weight, like=x).data
            if w.shape != (c,):
                raise ShapeError(
                    f"{name}: weight must have shape ({c},) (one per class), got {w.shape}"
                )
            if w.dtype != xd.dtype:
                raise DTypeError(
                    f"{name}: weight is {w.dtype} but the input is {xd.dtype}; convert the "
                    f"weight with weight.to(autograd.{xd.dtype})"
                )
            check_same_device(name, (xd, w))
        recipe = (name, reduction, ignore_index, label_smoothing)
        coefficients = _coefficients(xd, axis, t, w, *recipe)
    return op(xd, axis, coefficients, reduction != "none", recipe, w)(x)


def _coefficients(
    x: Any,
    axis: int,
    t: Any,
    w: Any,
    op: str,
    reduction: str,
    ignore_index: int,
    eps: float,
    positions: tuple[Any, ...] | None = None,
) -> _ClassCoefficients:
    """S for the (checked) target t: class probabilities if floating, else class indices
    (``positions``: ``_positions`` of x's shape, where the caller has them)."""
    if dtypes.is_floating(t.dtype):
        return _probability_coefficients(x, axis, t, w, reduction, eps)
    return _index_coefficients(op, x, axis, t, w, reduction, ignore_index, eps, positions)


def _index_coefficients(
    op: str,
    x: Any,
    axis: int,
    t: Any,
    w: Any,
    reduction: str,
    ignore_index: int,
    eps: float,
    positions: tuple[Any, ...] | None = None,
) -> _ClassCoefficients:
    """S for integer class targets t (checked: in [0, C) or ignore_index)."""
    xp = backend_of(x).xp
    c = x.shape[axis]
    count = t.size
    if positions is None:
        positions = _positions(xp, x.shape, axis)
    keep = None
    try:  # the common case, every target a class: checked as its flat index is made
        flat = _flat_index(xp, positions, axis, t, x.shape)
    except ValueError:  # some target is outside [0, C): ignore_index, or the error below
        flat = None
    if flat is not None:
        if 0 <= ignore_index < c:  # then only an ignore_index inside [0, C) can match
            ignored = t == ignore_index
            if bool(ignored.any()):
                keep = ~ignored
    else:
        valid = (t >= 0) & (t < c)
        ignored = t == ignore_index
        if not bool((valid | ignored).all()):
            bad = t[~(valid | ignored)]
            raise IndexError(
                f"{op}: targets must be class indices in [0, {c}) (or ignore_index="
                f"{ignore_index}), got values from {int(bad.min())} to {int(bad.max())}"
            )
        if c == 0:
            raise ShapeError(f"{op}: the input has no classes (shape {x.shape})")
        keep = ~ignored  # some target is ignore_index, outside [0, C)
    picks = t if keep is None else xp.where(keep, t, 0)  # a valid class at ignored positions
    if flat is None:
        flat = _flat_index(xp, positions, axis, picks, x.shape)
    # the weight of each position's target: w[t], 0 where ignored (None: all 1)
    if w is not None:
        wt = w[picks] if keep is None else xp.where(keep, w[picks], 0)
    else:
        wt = None if keep is None else keep.astype(x.dtype)
    nan = False
    if reduction == "mean":
        divisor = count if wt is None else wt.sum()
        nan = bool(divisor == 0)
        scale = 0.0 if nan else 1.0 / divisor
    else:
        scale = 1.0
    if wt is None:
        coef = -(1.0 - eps) * scale
    else:
        coef = wt * (-(1.0 - eps) * scale)
    dense = None
    if eps > 0:  # the smoothing term: -eps / C sum_c w_c log p_c, at the positions kept
        per_class = xp.ones((c,), dtype=x.dtype) if w is None else w
        dense = _along(per_class, axis, x.ndim) * (-(eps / c) * scale)
        dense = xp.broadcast_to(dense, x.shape)
        if keep is not None:
            dense = dense * xp.expand_dims(keep, axis)
    return _ClassCoefficients(flat, coef, keep, dense, nan, t, positions)


def _positions(xp: Any, shape: tuple[int, ...], axis: int) -> tuple[Any, ...]:
    """For targets of x's ``shape`` without its class ``axis``: arange(n) along each of their
    axes (indices that broadcast over the others), the index of x but for the class."""
    rest = [n for i, n in enumerate(shape) if i != axis]
    return tuple(
        xp.arange(n).reshape(tuple(n if k == j else 1 for k in range(len(rest))))
        for j, n in enumerate(rest)
    )


def _flat_index(
    xp: Any, positions: tuple[Any, ...], axis: int, picks: Any, shape: tuple[int, ...]
) -> Any:
    """The positions in x.reshape(-1) of the entries x[..., picks, ...] (an array, also 0-d
    for one unbatched sample); ValueError where a pick is outside [0, C): ravel_multi_index
    checks every index (``mode="raise"``, CuPy's default being "wrap")."""
    index = (*positions[:axis], picks, *positions[axis:])
    return xp.asarray(xp.ravel_multi_index(index, shape, mode="raise"))


def _probability_coefficients(
    x: Any, axis: int, t: Any, w: Any, reduction: str, eps: float
) -> _ClassCoefficients:
    """S = -w_c target_c / D for class-probability targets (smoothed with eps). The node
    holds ``t`` as given, not smoothed: it is what the node is made from (``renewal``), so a
    compiled step knows it as the step's target and smooths each replay's once."""
    c = x.shape[axis]
    smoothed = t * (1.0 - eps) + eps / c if eps > 0 else t
    s = -smoothed if w is None else -(smoothed * _along(w, axis, x.ndim))
    nan = False
    if reduction == "mean":
        positions = x.size // c if c else 0
        nan = positions == 0
        s = s * (0.0 if nan else 1.0 / positions)
    return _ClassCoefficients(None, None, None, s, nan, t)


def _along(v: Any, axis: int, ndim: int) -> Any:
    """A (C,) vector shaped to broadcast along the class ``axis`` of an ndim-d array."""
    return v.reshape(tuple(-1 if i == axis else 1 for i in range(ndim)))


def _class_target(op: str, target: Any, x: Tensor, axis: int, allow_probabilities: bool) -> Any:
    """``target`` as an array on x's device: integer class indices of x's shape without the
    class axis, or (``allow_probabilities``) floating class probabilities of x's own shape.
    Whatever the target is made of (a list, a NumPy array or scalar, a Tensor), floats that
    are not probabilities and bools are errors: labels are never truncated silently."""
    xd = x.data
    backend = backend_of(xd)
    shape = tuple(n for i, n in enumerate(xd.shape) if i != axis)
    if isinstance(target, Tensor):
        if target.requires_grad:
            raise ValueError(
                f"{op}: the target requires grad; targets are constants of the loss here "
                f"(no gradient with respect to them): pass target.detach()"
            )
        t = target.data
    elif is_array(target):
        t = target
    else:  # Python numbers and lists, NumPy scalars: made on x's device, with their own kind
        t = backend.asarray(target, device=backend.device_of(xd))
        if t.dtype.kind == "f" and t.size == 0:
            t = t.astype(dtypes.int64)  # an empty list holds no labels of either kind
        elif t.dtype.kind == "f" and allow_probabilities and t.shape == xd.shape:
            t = t.astype(xd.dtype)  # a list takes the dtype of the tensor it meets
        elif t.dtype.kind in "iu":
            t = t.astype(dtypes.int64)
    check_same_device(op, (xd, t))
    kind = t.dtype.kind
    if kind == "f" and allow_probabilities and t.shape == xd.shape:
        if t.dtype != xd.dtype:
            raise DTypeError(
                f"{op}: the class probabilities are {t.dtype} but the input is {xd.dtype}; "
                f"convert the target with target.to(autograd.{xd.dtype})"
            )
        return t
    if kind not in "iu":
        got = "bools" if kind == "b" else f"{t.dtype} values"
        probabilities = (
            f", or class probabilities of the input's shape {xd.shape}"
            if allow_probabilities
            else ""
        )
        raise DTypeError(
            f"{op}: targets must be integer class indices, got {got} of shape {t.shape}; "
            f"give integers (e.g. autograd.tensor(labels, dtype=autograd.int64)){probabilities}"
        )
    if t.shape != shape:
        raise ShapeError(
            f"{op}: the input of shape {xd.shape} (classes on axis {axis}) needs integer "
            f"targets of shape {shape}, got shape {t.shape}"
        )
    return t


@recorded  # a compiled step checks each replay's values too, as eager does
def _unit_interval(name: str, what: str, t: Tensor) -> Tensor:
    """``t`` itself, once every element is checked to lie in [0, 1] (NaN does not)."""
    with device_guard(t.data):
        inside = t.size == 0 or bool(((t.data >= 0) & (t.data <= 1)).all())
    if not inside:
        hint = "; for logits use binary_cross_entropy_with_logits" if what == "input" else ""
        raise ValueError(
            f"{name}: all elements of {what} should be between 0 and 1 (NaN is not){hint}"
        )
    return t


def binary_cross_entropy(
    probs: Any, target: Any, weight: Any = None, reduction: str = "mean"
) -> Tensor:
    """-weight [y log p + (1 - y) log(1 - p)] for probabilities p and targets y in [0, 1] of
    one shape (PyTorch's ``binary_cross_entropy``): each log is kept above -100, so p = 0 or 1
    gives a finite loss (at most 100 per element), and the gradient
    (p - y) / max(p (1 - p), 1e-12) stays large and finite where p saturates. NaN and values
    outside [0, 1] are errors. ``weight`` broadcasts against p; ``reduction`` as in nll_loss
    ('mean' of an empty input is NaN). From logits, ``binary_cross_entropy_with_logits`` is
    exact."""
    name = "binary_cross_entropy"
    check_reduction(name, reduction)
    p = as_tensor(probs)
    if not dtypes.is_floating(p.dtype):
        raise DTypeError(f"{name}: the input must hold floating probabilities, got {p.dtype}")
    y = same_shape_target(name, p, target)
    p, y = _unit_interval(name, "input", p), _unit_interval(name, "target", y)
    loss = BinaryCrossEntropy()(*operands(name, p, y))
    if weight is not None:
        loss = loss * check_broadcasts(name, "weight", weight, loss)
    if reduction == "none":
        return loss
    return loss.mean() if reduction == "mean" else loss.sum()


def same_shape_target(op: str, x: Tensor, target: Any) -> Tensor:
    """``target`` (a tensor, array or list) as a tensor of x's shape, or a ShapeError naming
    ``op`` and both shapes (elementwise losses never broadcast (N, 1) against (N,))."""
    t = as_tensor(target, like=x)
    if t.shape != x.shape:
        fix = (
            f"reshape one of them, e.g. target.reshape({x.shape})"
            if t.size == x.size
            else f"they hold {t.size} and {x.size} values"
        )
        raise ShapeError(
            f"{op}: the target has shape {t.shape} but the input has shape {x.shape}; they "
            f"must match ({fix})"
        )
    return t


def check_broadcasts(op: str, what: str, value: Any, x: Tensor) -> Any:
    """``value`` (a number, list, array or tensor) as an operand of x, if it broadcasts to x's
    shape without changing it; else a ShapeError naming ``op`` and both shapes."""
    if isinstance(value, (int, float)):
        return value
    v = as_tensor(value, like=x)
    shape = v.shape
    fits = len(shape) <= x.ndim and all(
        a in (1, b) for a, b in zip(reversed(shape), reversed(x.shape))
    )
    if not fits:
        raise ShapeError(
            f"{op}: {what} of shape {shape} does not broadcast to the input's shape {x.shape}"
        )
    return v
