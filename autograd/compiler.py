"""``autograd.compile``: record a training step once, then replay it as a flat program.

::

    @autograd.compile
    def train_step(x, y):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

The first two calls with a given kind of arguments run eagerly and are recorded; when both
recordings agree, later calls replay the recording. A recording is the list of what the
step computed, in order: each op's ``forward`` on arrays, each backward rule the engine ran
(``Function.rule``, the same code as eager), each sum of two gradients, each accumulation
into a leaf's ``grad`` (a new one, or added into one that exists), each random draw, each
call of a function without a gradient (comparisons, casts, ``argmax``), each in-place write,
and each call of a function that is run again whole (``optimizer.step()``, ``zero_grad()``,
a scheduler's ``step()``, gradient clipping: they read the learning rates, their state and
the gradients when they run, so changes between calls count). Replay
skips everything else: module calls, graph nodes, the traversal. The numbers are the same
as eager's, bit for bit, because the same array calls run in the same order; random draws
come from the same generators, so dropout masks follow eager's sequence.

Guards: a recording is replayed only for arguments of the same shapes, dtypes, devices and
``requires_grad``, the same grad mode, the same train/eval state of the modules that ran,
the same parameter objects (and their shapes, dtypes and ``requires_grad``), while each
global and enclosing-scope variable the function reads names the same object
(``names_read``). Anything else records again (up to ``cache_size`` recordings per
function; a warning says why when a function keeps recording).

What cannot be recorded fails at record time with :class:`CompileError`: reading a value
inside the step (``item()``, ``float()``, ``bool()``, ``tolist()``, ``numpy()``: Python code
that branches on tensor values would be frozen), hooks, ``create_graph``, ``autograd.grad``,
in-place writes other than the in-place ops and methods, a tensor created inside the step
whose values differ between the two recordings (pass it as an argument instead), and
tensors a recording refers to that changed between the two recordings.

The replay (:mod:`autograd.replay`) is the recording lowered to one straight-line Python
function, compiled once: no graph, no module calls, no traversal; an update ``p -= lr * g``
under ``no_grad`` is one ufunc call writing into ``p``; the other arrays (activations,
gradients, the parameters' ``grad``) go to buffers planned once (``out=``, a dead buffer used
again by a later value of its shape), so a replayed step allocates almost nothing.

Returned tensors are the caller's to keep; they carry no graph. A replay writes into a
planned buffer only when nothing else holds it: a returned tensor, or a ``grad`` the caller
kept from an earlier step, is never overwritten (the replay takes a new buffer instead).
Non-tensor arguments are part of the guard: each new value records again.
"""

from __future__ import annotations

import functools
import traceback
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from .backend import backend_of
from .errors import CompileError
from .grad_mode import _mode
from .replay import MISS, Program, flat_refs, signature
from .tensor import Tensor

__all__ = ["CompileError", "CompiledFunction", "compile"]

F = TypeVar("F", bound=Callable[..., Any])
_PACKAGE_DIRS = ("/autograd/", "/nn/", "/optim/")


def _user_line() -> str:
    """``file:line`` of the innermost frame outside arraygrad (the user's code)."""
    for frame in reversed(traceback.extract_stack()[:-2]):
        path = frame.filename.replace("\\", "/")
        if not any(d in path for d in _PACKAGE_DIRS) or "/tests/" in path:
            return f"{frame.filename}:{frame.lineno} ({frame.line})"
    return "unknown line"


# ------------------------------------------------------------------------ the recording
# A reference to a value, in an entry: ("s", k) slot k of the program; ("t", tensor) a tensor
# from outside the step (a parameter, a buffer), read when the entry runs; ("c", value) a
# constant (a number, an array).
class _Tape:
    """What one eager run of the step computed, entry by entry."""

    def __init__(self) -> None:
        self.program: list[tuple[Any, ...]] = []
        self.slot_of: dict[int, int] = {}  # id(tensor or array) -> slot
        self.keep: list[Any] = []  # what ref() returned, alive while recording
        self.objects: dict[int, Any] = {}  # slot -> what it held in this recording
        self.alias_of: dict[int, tuple[str, Any]] = {}  # id(detached tensor) -> its source
        self.n = 0
        self.args: list[tuple[int, Tensor]] = []
        self.modules: dict[int, tuple[Any, bool]] = {}
        self.totals: dict[Any, tuple[str, Any]] = {}  # engine node -> its gradient so far
        self.pending: list[tuple[Tensor, int]] = []  # leaves whose new grad has a slot
        self.accumulating: Tensor | None = None  # the grad backward is about to add into
        self.optimizers: dict[int, Any] = {}

    # -------------------------------------------------------------- references
    def new_slot(self, obj: Any) -> int:
        k = self.n
        self.n += 1
        self.slot_of[id(obj)] = k
        self.objects[k] = obj
        self.keep.append(obj)
        return k

    def ref(self, x: Any) -> tuple[str, Any]:
        if isinstance(x, Tensor):
            k = self.slot_of.get(id(x))
            if k is not None:
                return ("s", k)
            alias = self.alias_of.get(id(x))
            if alias is not None:
                return alias
            if self.pending:  # the grads of leaves written since: slots of their own
                for leaf, k in self.pending:
                    self.slot_of[id(leaf._grad)] = k
                    self.objects[k] = leaf._grad
                self.pending = []
                return self.ref(x)
            self.keep.append(x)
            return ("t", x)
        if isinstance(x, (np.ndarray, np.generic)) or hasattr(x, "__cuda_array_interface__"):
            k = self.slot_of.get(id(x))
            if k is not None:
                return ("s", k)
        self.keep.append(x)
        return ("c", x)

    # -------------------------------------------------------------- what the library reports
    def op(self, fn: Any, inputs: tuple[Any, ...], result: Tensor, extra: Any) -> None:
        refs = tuple(self.ref(x) for x in inputs)
        k = self.new_slot(result)
        ek = None
        if fn.save_extra:
            ek = self.n
            self.n += 1
            if extra is not None:
                self.slot_of[id(extra)] = ek
                self.objects[ek] = extra
        self.program.append(("op", fn, refs, k, ek))
        saved: list[tuple[str, Any]] = list(refs) if fn.save_inputs else []
        if fn.save_output:
            saved.append(("s", k))
        if ek is not None:
            saved.append(("s", ek))
        fn._compiled_saved = tuple(saved)

    def ran(self, node: Any, g: Any, in_grads: Any) -> None:
        """The engine ran ``node`` on gradient ``g`` (``in_grads`` None for a leaf)."""
        gref = self.totals.pop(node, None) or self.ref(g)
        if in_grads is None:
            if node._hooks:
                raise CompileError(f"compile: tensor hooks cannot be recorded ({_user_line()})")
            k = self.n
            self.n += 1
            arg = self.slot_of.get(id(node))  # an argument that requires grad: its slot
            self.program.append(("leaf", node if arg is None else ("s", arg), gref, k))
            self.pending.append((node, k))
            self.accumulating = node._grad
            return
        if node.hooks:
            raise CompileError(f"compile: hooks on graph nodes cannot be recorded ({_user_line()})")
        saved = getattr(node, "_compiled_saved", None)
        if saved is None:
            raise CompileError(
                f"compile: the backward of {node.name} belongs to a graph recorded before the "
                f"compiled step; compute the loss inside it ({_user_line()})"
            )
        outs = tuple(None if gi is None else self.new_slot(gi) for gi in in_grads)
        if saved == "rebuilt":
            self.program.append(("rgrad", node, gref, outs))
        else:
            self.program.append(("grad", node, gref, saved, outs))

    def sent(self, edge: Any, gi: Any, total: Any) -> None:
        prev = self.totals.get(edge)
        if prev is None:
            self.totals[edge] = self.ref(gi)
            return
        k = self.new_slot(total)
        self.program.append(("add", prev, self.ref(gi), k))
        self.totals[edge] = ("s", k)

    def call(self, method: Callable[..., Any], obj: Any, args: tuple, kwargs: dict) -> Any:
        for a in (*args, *kwargs.values()):
            if isinstance(a, Tensor) or callable(a):
                raise CompileError(
                    f"compile: {type(obj).__name__}.{method.__name__} with a tensor or a "
                    f"function argument cannot be replayed ({_user_line()})"
                )
        self.program.append(("call", method, obj, args, kwargs))
        if hasattr(obj, "param_groups"):  # an optimizer: the replay guards its parameters
            self.optimizer(obj)
        return self._suspended(method, obj, *args, **kwargs)

    def source(self, fn: Callable[..., Tensor], args: tuple, kwargs: dict) -> Tensor:
        for a in (*args, *kwargs.values()):
            if isinstance(a, Tensor) and self.ref(a)[0] == "s":
                raise CompileError(f"compile: {fn.__name__} of a step's tensor ({_user_line()})")
        out = self._suspended(fn, *args, **kwargs)
        self.program.append(("source", fn, args, kwargs, self.new_slot(out)))
        return out

    def deep_ref(self, x: Any) -> tuple[str, Any]:
        """``ref`` for a call's argument: tensors inside tuples and lists too; ("g", k) for a
        step's tensor that requires grad (rebuilt as a leaf that does)."""
        if isinstance(x, (tuple, list)):
            return ("q", (type(x), tuple(self.deep_ref(v) for v in x)))
        r = self.ref(x)
        if r[0] == "s" and x._requires_grad:
            return ("g", r[1])
        return r

    def rebuilt(self, fn: Callable[..., Tensor], args: tuple, kwargs: dict) -> Tensor:
        """Record a call of ``fn`` that makes one node holding arrays derived from its
        operands (see ``rebuilt``): replay calls ``fn`` again."""
        refs = tuple(self.deep_ref(a) for a in args)
        krefs = {k: self.deep_ref(v) for k, v in kwargs.items()}
        start = len(self.program)
        out = fn(*args, **kwargs)
        inner = self.program[start:]
        ops = [e for e in inner if e[0] == "op"]
        k = self.slot_of.get(id(out))
        if len(ops) != 1 or ops[0][3] != k or any(e[0] == "call" for e in inner):
            raise CompileError(
                f"compile: {fn.__name__} did not make one node here and cannot be recorded "
                f"({_user_line()})"
            )
        op = ops[0]
        renewal = op[1].renewal()
        if renewal is not None and len(inner) == 1:
            # the node can be made again from the new values of the arrays it was made from
            # (``Function.renewed``): replay skips the op function, and runs forward and
            # backward as for any op
            arrays, recipe = renewal
            # each array as the reference of the tensor argument it is the data of, else as
            # a constant (made inside the call from Python data, or None)
            named = {id(_data(r, self.objects)): r for r in flat_refs([*refs, *krefs.values()])}
            held = tuple(named.get(id(a)) or self.ref(a) for a in arrays)
            self.program[start] = ("renew", op[1], (*op[2], *held), k, op[4], recipe, len(op[2]))
            return out
        del self.program[start:]
        node = out.grad_fn
        if node is not None:
            node._compiled_saved = "rebuilt"
        self.program.append(("rebuild", fn, refs, krefs, k, node))
        return out

    def function(self, fn: Callable[..., Tensor], args: tuple) -> Tensor:
        refs = tuple(self.ref(a) for a in args)
        out = self._suspended(fn, *args)
        self.program.append(("func", fn, refs, self.new_slot(out)))
        return out

    def set_grad(self, t: Tensor, value: Tensor | None) -> None:
        self.program.append(("setgrad", self.ref(t), None if value is None else self.ref(value)))

    def alias(self, new: Tensor, source: Tensor) -> None:
        self.keep.append(new)
        self.alias_of[id(new)] = self.ref(source)

    def write(self, target: Tensor, value: Any) -> None:
        self.program.append(("write", self.ref(target), self.ref(value)))

    def bumped(self, t: Tensor) -> None:
        if t is self.accumulating:  # backward adding into a leaf's existing grad: once
            self.accumulating = None
            return  # (its "leaf" entry does it; a write into that grad after is the user's)
        last = self.program[-1] if self.program else None
        if last is None or last[0] != "write" or not _same(last[1], self.ref(t)):
            raise CompileError(
                f"compile: this in-place change cannot be recorded ({_user_line()}); use the "
                f"in-place ops (+=, add_, copy_ ...) or do it outside the compiled function"
            )

    def _leaf(self, leaf: Any) -> Tensor:
        """The tensor a "leaf" entry names: an outside tensor, or ("s", k) an argument."""
        return leaf if isinstance(leaf, Tensor) else self.objects[leaf[1]]

    def module(self, m: Any) -> None:
        self.modules.setdefault(id(m), (m, m.training))

    def optimizer(self, opt: Any) -> None:
        """``opt`` ran in the step (``step``, or ``zero_grad``, recorded per parameter)."""
        self.optimizers.setdefault(id(opt), opt)

    def _suspended(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        _mode.tape = None
        try:
            return fn(*args, **kwargs)
        finally:
            _mode.tape = self


def _data(r: tuple[str, Any], objects: dict[int, Any]) -> Any:
    """The array a reference names in the recording (a tensor's data), or its constant."""
    kind, v = r
    obj = objects[v] if kind == "s" else v
    return obj.data if isinstance(obj, Tensor) else obj


def _same(a: tuple[str, Any], b: tuple[str, Any]) -> bool:
    """Whether two references name the same value (tensors by identity)."""
    return a[0] == b[0] and (a[1] is b[1] if a[0] == "t" else a[1] == b[1])


def reading(what: str) -> None:
    """Called where a tensor's value is read (``item()``, ``bool()`` ...)."""
    raise CompileError(
        f"compile: {what} reads a tensor's value inside a compiled function, at "
        f"{_user_line()}: the replay would not run that Python code again. Return the tensor "
        f"and read it outside (loss = step(x, y); loss.item()), or keep the computation in "
        f"tensor ops (autograd.where instead of an if)"
    )


def refuse_when_recording(what: str, why: str) -> None:
    """While a compiled function records, raise the CompileError for ``what``, which a replay
    cannot follow: ``why``, then how to restructure; nothing otherwise."""
    if _mode.tape is not None:
        raise CompileError(f"compile: {what} inside a compiled function, at {_user_line()}: {why}")


def _when_recording(record: Callable[..., Any]) -> Callable[[F], F]:
    """A decorator: the function runs as is, or, while a compiled function records,
    ``record(tape, fn, args, kwargs)`` records it (and runs it)."""

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            tape = _mode.tape
            if tape is None:
                return fn(*args, **kwargs)
            return record(tape, fn, args, kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


# A method recorded as one call and replayed by calling it again (optimizer steps, zero_grad,
# scheduler steps, clip_grad_value_ on its list of parameters): it reads the learning rates,
# its state and the gradients when it runs.
replayed_whole = _when_recording(lambda tape, fn, args, kw: tape.call(fn, args[0], args[1:], kw))
# A function that makes a new tensor from no values of the step but what it reads when it
# runs (random draws from a generator; the total norm of the parameters' gradients, which
# clip_grad_norm_ scales in place): called again at each replay, at its place in the step, so
# it draws the next numbers from the same generator, or reads that replay's gradients.
drawn = _when_recording(lambda tape, fn, args, kw: tape.source(fn, args, kw))
# An op function whose node holds arrays made from its operands' values (class targets and
# the coefficients derived from them, index arrays, a condition): at each replay the node is
# made again from the new values, by the node itself where it has a ``renewal`` (class
# losses, where), else by calling the function again.
rebuilt = _when_recording(lambda tape, fn, args, kw: tape.rebuilt(fn, args, kw))
# A function of tensors whose result is not a graph node (comparisons, casts to integer
# dtypes): called again at each replay on that replay's values.
recorded = _when_recording(lambda tape, fn, args, kw: tape.function(fn, args))


def _lowered_as(form: str) -> Callable[[F], F]:
    def mark(fn: F) -> F:
        fn.array_form = form  # type: ignore[attr-defined]  # the wrapper gets it too
        return recorded(fn)

    return mark


# ``recorded``, for a function whose result is the backend ufunc named by its first argument
# applied to the others as they are (their arrays, Python numbers): replay calls that ufunc
# itself, writing into a planned buffer.
ufunc_call = _lowered_as("ufunc")
# ``recorded``, for ``(t, dtype) -> t.data.astype(dtype)``: replay copies the new values into
# a planned buffer of that dtype (``copyto`` converts them as ``astype`` does).
cast_call = _lowered_as("cast")


# ------------------------------------------------------------------------ comparing two
def _describe(ref: tuple[str, Any]) -> Any:
    kind, v = ref
    if kind in ("s", "g"):
        return ref
    if kind == "q":
        return ("q", v[0], tuple(map(_describe, v[1])))
    if kind == "t":
        return ("t", id(v))
    if isinstance(v, (np.ndarray, np.generic)):
        return ("c", v.dtype.str, v.shape, v.tobytes())
    if hasattr(v, "__cuda_array_interface__"):
        return ("c", v.dtype.str, v.shape, backend_of(v).to_numpy(v).tobytes())
    return ("c", type(v).__name__, repr(v))


def _entry_key(e: tuple[Any, ...]) -> Any:
    kind = e[0]
    if kind == "op":
        fn = e[1]
        shapes = getattr(fn, "shapes", None)
        held = _held(fn)
        return (kind, type(fn), fn.constants(), shapes, held, tuple(map(_describe, e[2])), e[3:])
    if kind == "renew":
        return (kind, type(e[1]), e[5], tuple(map(_describe, e[2])), e[3], e[4], e[6])
    if kind == "rebuild":
        kw = tuple(sorted((k, _describe(v)) for k, v in e[3].items()))
        return (kind, e[1], tuple(map(_describe, e[2])), kw, e[4], e[5] is None)
    if kind == "rgrad":
        return (kind, type(e[1]), _describe(e[2]), e[3])
    if kind == "grad":
        return (kind, type(e[1]), _describe(e[2]), tuple(map(_describe, e[3])), e[4])
    if kind == "leaf":  # an outside tensor by identity, an argument by its slot
        return (kind, id(e[1]) if isinstance(e[1], Tensor) else e[1], _describe(e[2]), e[3])
    if kind == "setgrad":
        return (kind, _describe(e[1]), None if e[2] is None else _describe(e[2]))
    if kind == "add":
        return (kind, _describe(e[1]), _describe(e[2]), e[3])
    if kind == "call":
        obj = _argument_key(e[2]) if isinstance(e[2], list) else id(e[2])
        return (kind, e[1], obj, _argument_key(e[3]), _argument_key(sorted(e[4].items())))
    if kind == "source":
        return (kind, e[1], _argument_key(e[2]), _argument_key(sorted(e[3].items())), e[4])
    if kind == "func":
        return (kind, e[1], tuple(map(_describe, e[2])), e[3])
    return (kind, _describe(e[1]), _describe(e[2]))


def _held(fn: Any) -> tuple[Any, ...]:
    """What an op keeps as attributes of its own class (clamp's bounds, an axis, class
    targets): arrays as bytes, numbers by their exact repr. Two recordings must agree on
    them (``constants()``, a label, rounds its numbers)."""
    from .function import Function  # (function imports this module)

    out = []
    for cls in type(fn).__mro__:
        if cls is Function:
            break
        slots = cls.__dict__.get("__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            out.append((name, _slot_key(getattr(fn, name, None))))
    return tuple(out)


def _slot_key(v: Any) -> Any:
    if isinstance(v, (np.ndarray, np.generic)) or hasattr(v, "__cuda_array_interface__"):
        return _describe(("c", v))
    if isinstance(v, (tuple, list)):
        return (type(v).__name__, tuple(map(_slot_key, v)))
    return (type(v).__name__, repr(v))


def _argument_key(x: Any) -> Any:
    """What two recordings compare of a replayed call's argument: tensors (a list of
    parameters) by identity, sequences item by item, anything else by its repr."""
    if isinstance(x, Tensor):
        return ("tensor", id(x))
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, tuple(map(_argument_key, x)))
    return repr(x)


def _agree(a: _Tape, b: _Tape) -> None:
    """Raise CompileError unless recordings ``a`` and ``b`` did the same thing, except for
    tensors made inside the step that hold the same values (constants): those are frozen."""
    if len(a.program) != len(b.program):
        raise CompileError(
            f"compile: the two recordings of the step differ in length ({len(a.program)} and "
            f"{len(b.program)} steps): the function does different work on each call (Python "
            f"branching on values, or state that changes between calls)"
        )
    for i, (ea, eb) in enumerate(zip(a.program, b.program)):
        ka, kb = _entry_key(ea), _entry_key(eb)
        if ka == kb:
            continue
        fixed = _freeze(ea, eb)
        if fixed is None:
            raise CompileError(
                f"compile: the two recordings differ at entry {i} ({_what(ea)}): a value the "
                f"step uses changes between calls without being an argument (a tensor made "
                f"from Python data, a constant, a parameter replaced); pass it as an argument"
            )
        b.program[i] = fixed


def _freeze(ea: tuple[Any, ...], eb: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """``eb`` with its outside tensors replaced by constants where ``ea`` used another tensor
    of the same values (a tensor made inside the step from the same data), else None."""
    if ea[0] != eb[0] or ea[0] not in ("op", "renew", "func", "write", "grad", "rebuild"):
        return None
    if ea[0] == "rebuild":  # a rebuilt call reads its tensors as tensors: b's, kept as they are
        refs = _frozen(ea[2], eb[2], keep=True)
        kw = {k: _frozen(ea[3][k], v, keep=True) for k, v in eb[3].items() if k in ea[3]}
        if refs is None or len(kw) != len(eb[3]) or None in kw.values():
            return None
        out, same = (*eb[:2], refs, kw, *eb[4:]), (*ea[:2], refs, kw, *ea[4:])
        return out if _entry_key(same) == _entry_key(out) else None
    at = {"write": slice(1, 3), "grad": 3}.get(ea[0], 2)  # where the entry's refs are
    fixed = _frozen(ea[at], eb[at], keep=False)
    if fixed is None:
        return None
    if ea[0] == "write":
        return ("write", *fixed)
    if ea[0] == "grad":  # a constant the op saved for its backward
        out, same = (*eb[:3], fixed, *eb[4:]), (*ea[:3], fixed, *ea[4:])
    else:
        out, same = (eb[0], eb[1], fixed, *eb[3:]), (ea[0], ea[1], fixed, *ea[3:])
    return out if _entry_key(same) == _entry_key(out) else None  # ea reading what out reads


def _frozen(refs_a: Any, refs_b: Any, keep: bool) -> Any:
    """``refs_b`` (a tuple of references, or one) where each names what ``refs_a`` does, an
    outside tensor of ``refs_a`` replaced by the one of ``refs_b`` of the same values: as a
    constant of its data, or, if ``keep``, as that tensor itself. None where they differ."""
    if isinstance(refs_a, tuple) and (not refs_a or isinstance(refs_a[0], tuple)):
        if not isinstance(refs_b, tuple) or len(refs_a) != len(refs_b):
            return None
        items = tuple(_frozen(ra, rb, keep) for ra, rb in zip(refs_a, refs_b))
        return None if None in items else items
    ra, rb = refs_a, refs_b
    if _describe(ra) == _describe(rb):
        return rb
    if ra[0] == rb[0] == "t" and _same_values(ra[1], rb[1]):
        return rb if keep else ("c", rb[1].data)
    if ra[0] == rb[0] == "q" and ra[1][0] is rb[1][0]:
        items = _frozen(ra[1][1], rb[1][1], keep)
        return None if items is None else ("q", (rb[1][0], items))
    return None


def _same_values(a: Tensor, b: Tensor) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype or a.device != b.device:
        return False
    xa, xb = backend_of(a.data).to_numpy(a.data), backend_of(b.data).to_numpy(b.data)
    return bool(np.array_equal(xa, xb))


def _what(e: tuple[Any, ...]) -> str:
    kind = e[0]
    if kind in ("op", "renew", "grad", "rgrad"):
        return f"{kind} {e[1].name}"
    if kind == "call":
        return f"{type(e[2]).__name__}.{e[1].__name__}()"
    if kind in ("source", "func"):
        return f"{e[1].__name__}()"
    return kind


def _modes(tape: _Tape) -> dict[int, bool]:
    return {k: training for k, (_, training) in tape.modules.items()}


def _outputs(result: Any, tape: _Tape) -> Any:
    """The structure of what the function returned, tensors replaced by their references."""
    if isinstance(result, Tensor):
        r = tape.ref(result)
        if r[0] != "s":
            raise CompileError(
                "compile: the function returns a tensor it did not compute (an argument or a "
                "parameter): return only results of the step"
            )
        return ("tensor", r[1])
    if isinstance(result, (tuple, list)):
        return (type(result), [_outputs(x, tape) for x in result])
    if isinstance(result, dict):
        return (dict, {k: _outputs(v, tape) for k, v in result.items()})
    if result is None or isinstance(result, (int, float, str, bool)):
        return ("value", result)
    raise CompileError(f"compile: cannot return a {type(result).__name__} from a compiled step")


# ------------------------------------------------------------------------ the decorator
class CompiledFunction:
    """A function compiled with :func:`compile`; call it as the function."""

    def __init__(self, fn: Callable[..., Any], cache_size: int = 8) -> None:
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.cache_size = cache_size
        self.programs: dict[Any, Program] = {}
        self.first: dict[Any, tuple[_Tape, Any, Any]] = {}  # key -> the first recording
        self.recordings = 0
        self.last: Program | None = None  # the program replayed last: tried first

    @property
    def source(self) -> str:
        """The Python source of each replay this function has (one per kind of arguments):
        what a replayed call runs, line by line, after its guard (``fits``)."""
        return "\n".join(p.guard + "\n" + p.source for p in self.programs.values())

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        if obj is None:
            return self
        return functools.partial(self.__call__, obj)

    def __call__(self, *args: Any) -> Any:
        if _mode.tape is not None:  # nested inside another compiled function: part of its run
            return self.fn(*args)
        last = self.last
        if last is not None:  # the common case: one generated function, guard and replay
            result = last.call(args)
            if result is not MISS:
                return result
        if _mode.anomaly:  # every op checked as it runs: eagerly (fits says False here)
            return self.fn(*args)
        key = self._key(args)
        program = self.programs.get(key)
        if program is not None:
            why = program.stale()
            if why is None:
                self.last = program
                result = program.call(args)  # its guard holds where the key and state do
                return program.run(args) if result is MISS else result
            del self.programs[key]
            self.last = None
            self._recording(why)
        return self._record(key, args)

    def _key(self, args: tuple[Any, ...]) -> Any:
        parts = []
        for a in args:
            if isinstance(a, Tensor):
                parts.append(("T", *signature(a)))
            else:
                try:
                    hash(a)
                except TypeError:
                    raise CompileError(
                        f"compile: argument {a!r} is neither a tensor nor hashable; pass "
                        f"tensors, numbers or other hashable values"
                    ) from None
                parts.append(("V", type(a), a))
        return (tuple(parts), _mode.enabled)

    def _recording(self, why: str) -> None:
        self.recordings += 1
        if self.recordings > self.cache_size:
            warnings.warn(
                f"compile: {self.__name__} keeps recording ({self.recordings} recordings; the "
                f"last because {why}): it runs eagerly instead of replaying",
                RuntimeWarning,
                stacklevel=3,
            )

    def _record(self, key: Any, args: tuple[Any, ...]) -> Any:
        tape = _Tape()
        positions = []
        for i, a in enumerate(args):
            if isinstance(a, Tensor):
                if id(a) in tape.slot_of:
                    raise CompileError("compile: the same tensor passed twice as an argument")
                tape.args.append((tape.new_slot(a), a))
                positions.append(i)
        _mode.tape = tape
        try:
            result = self.fn(*args)
            outputs = _outputs(result, tape)
        finally:
            _mode.tape = None
        names = names_read(self.fn)
        first = self.first.pop(key, None)
        if first is not None and _modes(first[0]) != _modes(tape):
            self._recording("a module switched between train and eval mode")
            first = None  # this call is the first recording of the new state
        if first is not None and not _same_names(first[2], names):
            self._recording("a variable the step reads names another object")
            first = None
        if first is None:
            if len(self.first) + len(self.programs) >= self.cache_size:
                self.first.clear()
                if self.programs:  # the oldest goes
                    del self.programs[next(iter(self.programs))]
                self.last = None
            self.first[key] = (tape, outputs, names)
        else:
            _agree(first[0], tape)
            if first[1] != outputs:
                raise CompileError("compile: the two recordings return different structures")
            self.programs[key] = Program(
                tape.program,
                [(k, i) for (k, _), i in zip(tape.args, positions)],
                outputs,
                tape.objects,
                list(tape.modules.values()),
                key,
                names,
                list(tape.optimizers.values()),
            )
            tape.keep, tape.objects = [], {}
        return result


def names_read(fn: Callable[..., Any]) -> list[tuple[str, Any, Any]]:
    """The variables ``fn`` reads that a replay cannot see change: each global it names and
    each variable of an enclosing scope, as (name, where, the object it names now): ``where``
    is the function's globals dict or the cell. A replay runs only while each still names the
    same object (an optimizer or model made anew and bound to the same name records again),
    as eager would read the new one. Lambdas and comprehensions inside ``fn`` count; the
    functions ``fn`` calls do not."""
    code = getattr(fn, "__code__", None)
    if code is None:  # not a Python function (a callable object): nothing to watch
        return []
    names: set[str] = set()
    codes = [code]
    while codes:
        c = codes.pop()
        names.update(c.co_names)
        codes += [k for k in c.co_consts if hasattr(k, "co_names")]
    scope = fn.__globals__
    read = [(n, scope, scope[n]) for n in sorted(names) if n in scope]
    for n, cell in zip(code.co_freevars, fn.__closure__ or ()):
        try:
            read.append((n, cell, cell.cell_contents))
        except ValueError:  # a variable of the enclosing scope not bound yet
            continue
    return read


def _same_names(a: list[tuple[str, Any, Any]], b: list[tuple[str, Any, Any]]) -> bool:
    """Whether two ``names_read`` snapshots name the same objects."""
    return len(a) == len(b) and all(x[0] == y[0] and x[2] is y[2] for x, y in zip(a, b))


def compile(fn: F | None = None, *, cache_size: int = 8) -> Any:
    """Compile ``fn`` (see the module docstring); also ``@compile(cache_size=4)``."""
    if fn is None:
        return lambda f: CompiledFunction(f, cache_size)
    return CompiledFunction(fn, cache_size)
