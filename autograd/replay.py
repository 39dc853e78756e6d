"""The replay of a compiled step: its recording lowered to one straight-line Python function.

A recording (see :mod:`autograd.compiler`) is a list of entries, each naming what it reads:
``("s", k)`` value k of the step, ``("t", tensor)`` a tensor from outside the step (a
parameter, a buffer), read when the entry runs, ``("c", value)`` a constant. :class:`Program`
writes each entry as a line of Python source, ``v12 = F3(v4, T1.data)``, and compiles the
lines once into a function: the values of the step live in local variables, and the op
methods, graph nodes, tensors and constants the lines call or read are the function's globals.
A replay is one call of that function: no interpretation of entries, no graph, no traversal.
The lines call the same code as eager (each op's ``forward``, each node's ``backward``), in
the same order, so the numbers are eager's, bit for bit. The ops of a training step's hot
path (linear layers, ReLU, cross-entropy) write their own lines instead, the array calls of
their methods (``Function.forward_source``, written with a :class:`Source`): the Python
frames a step no longer enters cost several times their tight-loop time there, the matrix
products having left the interpreter's code and data out of the caches (the README gives the
figures).

Memory. A value is dropped (``del v12``) after the last line that reads it, as eager frees
the graph's buffers on the way (a NumPy scalar, which holds no buffer, at the return).
Non-0-d results are written into buffers planned once, at lowering: ufunc ops
(``np.subtract(a, b, out=buf)``), the ops that take ``into=`` (``Linear``, ``relu``:
``Function.writes_into``) and sums of gradients; a buffer whose value is dead is taken again
by a later value of the same shape, dtype, device and memory layout. Before each write,
``_take`` checks that nothing else holds the buffer (a tensor returned by an earlier replay
and kept, a kept ``.grad``, a view): if something does, it takes a new array instead, so a
replay never changes an array anyone can see. On the CPU the buffers start on a cache line
(``_planned_like``): NumPy's own 16-byte alignment left where a buffer fell to chance (about
2% of nn_step.py's step with two BLAS threads, within noise with one). An update
``p -= lr * g`` (an elementwise op whose result feeds only the write into p) is one ufunc call
with ``out=p``.

Devices. The buffers are made on the device of the arrays they stand for, and the replay of a
step on an accelerator runs in that device's context, as eager's ops do (CuPy makes arrays
and computes on its current device, not on its operands').
"""

from __future__ import annotations

import builtins
import functools
import gc
import math
from collections.abc import Callable
from sys import getrefcount
from typing import Any

import numpy as np

from .backend import backend_of
from .errors import CompileError
from .function import Function
from .grad_mode import _mode, set_grad_enabled
from .tensor import Tensor, _make, bump_version

Ref = tuple[str, Any]
Entry = tuple[Any, ...]


class Program:
    """A recording ready to replay, with the guards it was recorded under.

    ``program``: the entries; ``args``: (value, position among the call's arguments) of each
    tensor argument; ``outputs``: the structure the step returns (see ``compiler._outputs``);
    ``objects``: what each value was in the recording (a Tensor or an array), for the lowering;
    ``modules``: (module, training) of the modules that ran; ``key``: the guards of the call
    (see ``compiler.CompiledFunction._key``); ``names``: the variables the function reads,
    each to name the same object (``compiler.names_read``). ``fits(args)`` is the guard of a
    replay.
    """

    def __init__(
        self,
        program: list[Entry],
        args: list[int],
        outputs: Any,
        objects: dict[int, Any],
        modules: list[tuple[Any, bool]],
        key: Any,
        names: list[tuple[str, Any, Any]],
        optimizers: list[Any] = (),
    ) -> None:
        self.program = program
        self.optimizers = [(o, _groups(o)) for o in optimizers]
        self.names = names
        self.args = args
        self.outputs = outputs
        self.modules = [(m, training, _module_state(m)) for m, training in modules]
        outside = {id(r[1]): r[1] for e in program for r in refs_of(e) if r[0] == "t"}
        self.outside = [(t, signature(t)) for t in outside.values()]
        self.key = key
        guard = _Guard(self)
        self.guard = guard.source("fits", "return False", "return True")
        # the call a replay makes: the guard, then (if it holds) the replay, in one frame
        checks = guard.source("call", "return MISS")
        lowering = _Lowering(self, objects, guard.ns)
        self.source = lowering.source()
        self.fits = _compile(self.guard, lowering.ns, "fits")
        self._ns = lowering.ns
        body = self.source.split("\n", 1)[1]  # the replay's lines after its def
        self._call_source = checks + body
        self.call = _compile(self._call_source, lowering.ns, "call")

    def stale(self) -> str | None:
        """Why the recording no longer fits (a module's mode, parameters, buffers, submodules or
        settings changed, an optimizer's parameters, an outside tensor's signature, a name the
        function reads), or None."""
        for m, training, state in self.modules:
            if m.training != training:
                return f"{type(m).__name__} switched to {'train' if m.training else 'eval'} mode"
            now = _module_state(m)
            for what, a, b in zip(_MODULE_STATE, now, state):
                if a != b:
                    return f"the {what} of {type(m).__name__} changed"
        for o, groups in self.optimizers:
            if _groups(o) != groups:
                return f"the parameters of {type(o).__name__} changed"
        for t, sig in self.outside:
            if signature(t) != sig:
                return "a parameter's shape, strides, dtype, device or requires_grad changed"
        for name, where, obj in self.names:
            if _named(where, name) is not obj:
                return f"{name!r} names another object than when the step was recorded"
        return None

    @functools.cached_property
    def replay(self) -> Any:
        """The replay without its guard, compiled on first use: calls go through ``call``
        (Python's compile of a huge scalar step's lines takes seconds, so once is enough)."""
        return _compile(self.source, self._ns, "replay")

    def run(self, args: tuple[Any, ...]) -> Any:
        """Replay the step on the call's arguments ``args``; returns what the step returned
        (new tensors of the step's values, in the structure it returned them)."""
        return self.replay(args)


MISS = object()  # what Program.call returns where its guard does not hold


def _compile(source: str, namespace: dict[str, Any], name: str) -> Any:
    # Python's compiler makes an object per syntax node; with a recording's many objects
    # alive, the cyclic collector's passes over them would double the time (they free none)
    enabled = gc.isenabled()
    gc.disable()
    try:
        code = compile(source, "<autograd.compile replay>", "exec")
    finally:
        if enabled:
            gc.enable()
    exec(code, namespace)  # defines the function in namespace, from our own generated source
    return namespace[name]


class _Guard:
    """Writes ``fits(args)``: True when a call with ``args`` may replay the Program, as one
    straight-line function of identity and equality tests (about 1.1 µs in a tight loop for
    nn_step.py's step, 7 modules and 6 parameters, the modules compared only after one
    changed; the full path's loops cost several times that, and about
    40 µs right after the step's large matrix products had pushed the objects they read out of
    the caches). Flags are written as ``is not True``/``False`` (a flag that is not a bool
    says False here, and the full path compares it by value). It compares what the
    recording's key does (each argument's shape, strides, dtype, device and requires_grad,
    or its value; the grad mode; anomaly mode off) and what ``stale`` does (each module's
    mode, parameters, buffers, submodules and settings, each optimizer's parameters, each
    outside tensor's signature, the names read). Where it says False, the call
    takes the full path (key, ``stale``), which decides and says why."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.ns: dict[str, Any] = {
            "_mode": _mode,
            "module_changes": module_changes,
            "Tensor": Tensor,
            "ndarray": np.ndarray,
            "_device": _device,
        }

    def name(self, prefix: str, obj: Any) -> str:
        n = f"G{prefix}{len(self.ns)}"  # G: apart from the replay's names, in one namespace
        self.ns[n] = obj
        return n

    def literal(self, v: Any) -> str:
        """How the guard reads setting ``v``: as a literal where its repr is one."""
        if type(v) in (bool, int, str, type(None)) or (type(v) is float and math.isfinite(v)):
            return repr(v)
        return self.name("V", v)

    def array(self, var: str, sig: tuple[Any, ...]) -> str:
        """The test that ``var`` (an array) does not have the signature's array part."""
        shape, dtype, device, _, strides = sig
        if device is None:
            kind = f"{var}.__class__ is not ndarray"
        else:
            kind = f"_device({var}) != {self.name('DEV', device)}"
        dt = self.name("DT", dtype)  # the same dtype object, else compared (NumPy's == is slow)
        dtype_test = f"({var}.dtype is not {dt} and {var}.dtype != {dt})"
        # the strides too: the layout of eager's results, and so the order a sum adds in
        return f"{kind} or {var}.shape != {shape!r} or {var}.strides != {strides!r} or {dtype_test}"

    def source(self, name: str, fail: str, done: str = "") -> str:
        """The function ``name(args)``: each test, ``fail`` where one does not hold; after
        them ``done`` (or, with none, the lines that follow in the source it starts)."""
        parts, enabled = self.program.key
        lines = [
            f"def {name}(args):",
            f"    if len(args) != {len(parts)} or _mode.enabled is not {bool(enabled)} or "
            "_mode.anomaly:",
            "        return False",
        ]
        for i, part in enumerate(parts):
            if part[0] == "T":
                lines += [
                    f"    a = args[{i}]",
                    "    if a.__class__ is not Tensor and not isinstance(a, Tensor):",
                    "        return False",
                    "    d = a.data",
                    f"    if {self.array('d', part[1:])} or a._requires_grad is not "
                    f"{bool(part[4])}:",
                    "        return False",
                ]
            else:  # a value: the same type and an equal value
                kind, value = self.name("K", part[1]), self.name("V", part[2])
                lines += [
                    f"    if args[{i}].__class__ is not {kind} or not args[{i}] == {value}:",
                    "        return False",
                ]
        modules = []  # compared only when a module changed since they last were
        for m, training, _ in self.program.modules:
            mod = self.name("M", m)
            tests = [f"{mod}.training is not {bool(training)}"]
            tests += [f"{mod}.{k} != {self.literal(v)}" for k, v in _settings(m)]
            registries = ("_parameters", "_buffers", "_modules")
            tests += [f"{mod}.{r}" for r in registries if not getattr(m, r)]  # still empty
            modules += [f"    if {' or '.join(tests)}:", "        return False"]
            for registry in registries:
                held = list(getattr(m, registry).items())
                if not held:
                    continue
                modules.append(f"    p = {mod}.{registry}")
                tests = [f"len(p) != {len(held)}"]  # a missing p[k]: KeyError, read as False
                tests += [f"p[{k!r}] is not {self.name('P', v)}" for k, v in held]
                modules += [f"    if {' or '.join(tests)}:", "        return False"]
        if modules:
            seen = self.name("SEEN", [module_changes.n])
            lines += [
                f"    if module_changes.n != {seen}[0]:",
                *("    " + line for line in modules),
                f"        {seen}[0] = module_changes.n",
            ]
        for o, _ in self.program.optimizers:  # its step reads the groups as they are then
            lines += [f"    g = {self.name('O', o)}.param_groups"]
            tests = [f"len(g) != {len(o.param_groups)}"]
            for i, group in enumerate(o.param_groups):
                tests.append(f"len(g[{i}]['params']) != {len(group['params'])}")
                tests += [
                    f"g[{i}]['params'][{j}] is not {self.name('P', t)}"
                    for j, t in enumerate(group["params"])
                ]
            lines += [f"    if {' or '.join(tests)}:", "        return False"]
        for t, sig in self.program.outside:
            # the array's signature is compared when the tensor holds another array than
            # the one last found fitting (kept here: the tensor's own, unless replaced since)
            name, last = self.name("T", t), self.name("A", [t.data])
            lines += [
                f"    d = {name}.data",
                f"    if d is not {last}[0]:",
                f"        if {self.array('d', sig)}:",
                "            return False",
                f"        {last}[0] = d",
                f"    if {name}._requires_grad is not {bool(sig[3])}:",
                "        return False",
            ]
        places: dict[int, str] = {}  # one global for the function's globals dict
        for name, where, obj in self.program.names:
            place = places.get(id(where)) or places.setdefault(id(where), self.name("W", where))
            now = self.name("N", obj)
            # a name deleted since: KeyError, or a cell emptied: ValueError, read as False
            read = f"{place}[{name!r}]" if isinstance(where, dict) else f"{place}.cell_contents"
            lines += [f"    if {read} is not {now}:", "        return False"]
        # one try for the modules' parameters and the globals read by name (p[k]: no bound
        # method per read)
        body = ["    " + line.replace("return False", fail) for line in lines[1:]]
        caught = "    except (KeyError, ValueError):"
        lines = [lines[0], "    try:", *body, caught, f"        {fail}"]
        if done:
            lines.append(f"    {done}")
        return "\n".join(lines) + "\n"


class _Changes:
    """A count of changes to modules' registrations, modes and settings (``nn.Module`` counts
    each one): a replay's guard compares the modules it read only when it moved. (A module's
    registries written directly, ``m._parameters[k] = p``, bypass it.)"""

    __slots__ = ("n",)

    def __init__(self) -> None:
        self.n = 0


module_changes = _Changes()
_UNBOUND = object()
_MODULE_STATE = ("parameters", "buffers", "submodules", "settings")
_SETTING_TYPES = (bool, int, float, str, type(None))


def _groups(opt: Any) -> tuple[tuple[int, ...], ...]:
    """Which parameters an optimizer holds, group by group (by identity)."""
    return tuple(tuple(map(id, g["params"])) for g in opt.param_groups)


def _module_state(m: Any) -> tuple[Any, ...]:
    """What a replay keeps of module ``m`` besides its mode: which parameters, buffers and
    submodules it holds (by identity) and its settings (``_settings``)."""
    held = (m._parameters, m._buffers, m._modules)
    return (*(tuple((k, id(v)) for k, v in r.items()) for r in held), _settings(m))


def _settings(m: Any) -> tuple[tuple[str, Any], ...]:
    """A module's public attributes that hold a Python number, string or None (Dropout's
    ``p``, BatchNorm's ``momentum`` and ``eps``): its forward reads them, so a recording
    holds their values."""
    return tuple(
        (k, v)
        for k, v in vars(m).items()
        if not k.startswith("_") and k != "training" and type(v) in _SETTING_TYPES
    )


def _named(where: Any, name: str = "") -> Any:
    """What variable ``name`` names now: in a globals dict, or a cell's contents."""
    if isinstance(where, dict):
        return where.get(name, _UNBOUND)
    try:
        return where.cell_contents
    except ValueError:  # deleted since
        return _UNBOUND


def _device(a: Any) -> Any:
    """The device of array ``a`` (by its backend)."""
    return backend_of(a).device_of(a)


class Source:
    """What an op's ``forward_source``, ``backward_source`` or ``renewed_source`` writes its
    lines with (see ``Function.forward_source``), for one line of the step: what the lines
    read (``args``, and ``g``, ``held``) and set (``out``, ``outs``, ``extra``), the planned
    buffers (``into``), the lines that call the method (``general``); the names the replay
    reads the backend's functions, constants and the node by, locals of the node's own, and
    what the lines of its forward told the lines of its backward (``state``)."""

    def __init__(
        self, lowering: _Lowering, node: Any, arrays: list[Any], math: str, **line: Any
    ) -> None:
        self._lowering = lowering
        self.xp = backend_of(next(a for a in arrays if a is not None)).xp
        self.arrays = arrays  # the values it reads, as recorded (None: not an array, unknown)
        self.node = lowering.name("N", node)
        self.math = math
        self.state: dict[str, Any] = lowering.state.setdefault(id(node), {})
        self._tag = self.state.setdefault("tag", len(lowering.state))
        self.args: list[str] = line.get("args", [])
        self.g: str = line.get("g", "")
        self.held: list[str] = line.get("held", [])
        self.out: str = line.get("out", "_")
        self.outs: list[str] = line.get("outs", [])
        self.extra: str = line.get("extra", "_")
        self.into: Any = line.get("into", "None")  # one expression, or one per gradient
        self.general: list[str] = line.get("general", [])

    def fn(self, name: str) -> str:
        """The backend's function ``name`` (``"matmul"``), as the lines call it."""
        return self._lowering.function(getattr(self.xp, name))

    def const(self, obj: Any) -> str:
        """A constant of the recording (an index array, a shape), as the lines read it."""
        return self._lowering.name("C", obj)

    def local(self, name: str) -> str:
        """A local variable of this node's lines, named after ``name``."""
        return f"{name}_{self._tag}"


class _Lowering:
    """Writes the source of a Program's replay function (see the module docstring)."""

    def __init__(self, program: Program, objects: dict[int, Any], names: dict[str, Any]) -> None:
        from .engine import accumulate_grad

        self.p = program
        self.objects = objects
        self.names: dict[int, str] = {}  # id(object) -> how the function reads it
        self.objs: list[Any] = []  # the tuple o
        self.methods: dict[tuple[type, str], str] = {}
        self.buffers: list[Any] = []  # planned once; BUFFERS of the function
        self.buffer_of: dict[int, tuple[int, Any]] = {}  # live value -> (buffer, its kind)
        self.pool: dict[Any, list[int]] = {}  # kind -> buffers free for a later value
        self.exclusive: set[int] = set()
        self.arena_of: dict[int, tuple[int, int]] = {}  # gradient -> (buffer, owner's count)
        self.arenas: dict[int, Any] = {}  # its buffer -> what _take_arena makes a new one of
        self.state: dict[int, dict[str, Any]] = {}  # node -> what its Source lines keep
        self.ns: dict[str, Any] = {  # after the guard's names (``names``): one namespace
            **names,
            "MISS": MISS,
            "_acc": accumulate_grad,
            "_bump": bump_version,
            "_grad_mode": set_grad_enabled,
            "_leaf": _leaf,
            "_make": _make,
            "_math": _math,
            "_scalar": _scalar,
            "_setgrad": _setgrad,
            "_take": _take,
            "_take_arena": _take_arena,
            "_refs": getrefcount,
            "_over": _over,
        }
        uses: dict[int, int] = {}
        for e in program.program:
            for r in refs_of(e):
                if r[0] == "s":
                    uses[r[1]] = uses.get(r[1], 0) + 1
        self.uses = uses

    # -------------------------------------------------------------- names and expressions
    def name(self, prefix: str, obj: Any) -> str:
        """How the function reads ``obj``: few objects (a step's parameters, the backward
        vocabularies) as globals ``T3``, the many others (nodes, constants) as items of the
        tuple ``o`` (a local, read in order: far fewer cache misses than a dict of 100,000
        globals in a scalar step)."""
        key = id(obj)
        name = self.names.get(key)
        if name is None:
            if prefix in "TM":
                name = f"{prefix}{len(self.names)}"
                self.ns[name] = obj
            else:
                name = f"o[{len(self.objs)}]"
                self.objs.append(obj)
            self.names[key] = name
        return name

    def method(self, obj: Any, name: str) -> str:
        """``type(obj).<name>`` as a global: called with ``obj`` first (one global per class,
        not a bound method per node)."""
        cls = type(obj)
        key = (cls, name)
        glob = self.methods.get(key)
        if glob is None:
            glob = f"{cls.__name__}_{name}_{len(self.methods)}"
            self.methods[key] = glob
            self.ns[glob] = getattr(cls, name)
        return f"{glob}({self.name('N', obj)}, "

    def value(self, r: Ref) -> str:
        """A reference as the entry reads it (a tensor's array, a constant)."""
        kind, v = r
        if kind == "s":
            return f"v{v}"
        if kind == "t":
            return f"{self.name('T', v)}.data"
        return self.name("C", v)

    def operand(self, r: Ref) -> str:
        """A reference as an op's array operand: 0-d NumPy arrays as NumPy scalars, as
        ``Function.__call__`` passes them (NumPy computes on scalars much faster)."""
        kind, v = r
        if kind == "c":
            return self.name("C", v)
        array = v.data if kind == "t" else _array(self.objects.get(v))
        text = self.value(r)
        if array is _UNKNOWN:
            return f"_scalar({text})"
        if isinstance(array, np.ndarray) and array.ndim == 0:
            return f"{text}[()]"
        return text

    def math(self, g: Ref) -> str:
        """The backward vocabulary for gradient ``g``: its backend's, fixed at record time."""
        kind, v = g
        obj = v.data if kind == "t" else v if kind == "c" else _array(self.objects.get(v))
        if obj is _UNKNOWN:
            return f"_math({self.value(g)})"
        return self.name("M", backend_of(obj).math)

    def function(self, fn: Any) -> str:
        """How a line reads a backend function ``fn`` (a ufunc, ``copyto``): a global named
        after it (``subtract``), so that the source reads as the calls it makes;
        ``subtract_12`` where another backend's function has the name."""
        name = self.names.get(id(fn))
        if name is None:
            base = getattr(fn, "__name__", "")
            base = base if base.isidentifier() else "function"
            taken = base in self.ns or base in vars(builtins)  # a builtin the lines use: tuple
            name = f"{base}_{len(self.ns)}" if taken else base
            self.ns[name] = fn
            self.names[id(fn)] = name
        return name

    def source_for(
        self, node: Any, refs: Any, math: str | None = None, **line: Any
    ) -> Source | None:
        """The Source a node's lines are written with (``refs``: what they read, the first
        array's backend naming the functions; ``line``: see Source), or None where no
        array's backend is known."""
        arrays = [
            v.data if kind == "t" else _array(self.objects.get(v)) if kind == "s" else _UNKNOWN
            for kind, v in refs
        ]
        known = [a for a in arrays if hasattr(a, "__array_namespace__")]
        if not known:
            return None
        arrays = [a if hasattr(a, "__array_namespace__") else None for a in arrays]
        math = math or self.name("M", backend_of(known[0]).math)
        return Source(self, node, arrays, math, **line)

    @staticmethod
    def targets(outs: tuple[int | None, ...]) -> str:
        return ", ".join("_" if k is None else f"v{k}" for k in outs) + ","

    # -------------------------------------------------------------- the lines
    def source(self) -> str:
        p = self.p
        lines = ["def replay(args):", "    o = OBJECTS"]
        self.argument_of = {k: f"args[{i}]" for k, i in p.args}
        for k, i in p.args:
            lines.append(f"    v{k} = args[{i}].data")
        last = _last_uses(p.program, _output_slots(p.outputs))
        self.last = last
        own = self.arrays_of_their_own()
        steal = {  # as eager's engine: kept as it is unless held elsewhere or a view
            i
            for i, e in enumerate(p.program)
            if e[0] == "leaf" and e[2][0] == "s" and self.uses[e[2][1]] == 1 and own(e[2][1])
        }
        self.lay_grads(steal)
        # values whose array may outlive the line that last reads them: returned, kept as a
        # leaf's gradient, held by a node that a rebuilt op made; their buffers are not
        # handed to later values of the same replay
        self.outputs = set(_output_slots(p.outputs))
        self.exclusive = set(self.outputs)
        for i, e in enumerate(p.program):
            called = e[0] == "func" and not hasattr(e[1], "array_form")
            if (e[0] == "leaf" and i in steal) or called or e[0] in ("rebuild", "setgrad"):
                self.exclusive.update(r[1] for r in refs_of(e) if r[0] == "s")
            elif e[0] == "renew":  # the arrays the node is made from: it holds them
                self.exclusive.update(r[1] for r in e[2][e[6] :] if r[0] == "s")
        skip = False
        never: set[int] = set()  # the results of ops fused into an in-place write
        for i, e in enumerate(p.program):
            if skip:  # the write of an update written in place
                skip = False
            else:
                fused = self.in_place(e, p.program[i + 1] if i + 1 < len(p.program) else None)
                if fused is not None:
                    skip = True
                    never.add(e[3])
                lines += ["    " + line for line in fused or self.entry(i, e, i in steal)]
            # a NumPy scalar (a 0-d op's result) holds no buffer: it is left to the return
            # (a scalar step's lines are half dels, which Python's compile pays for)
            dead = [
                f"v{k}"
                for k in last.get(i, ())
                if k not in never and _array(self.objects.get(k)).__class__ not in _SCALARS
            ]
            for k in last.get(i, ()):
                self.release(k)
            if dead:
                lines.append(f"    del {', '.join(dead)}")
        slots = _output_slots(p.outputs)
        twice = sorted({k for k in slots if slots.count(k) > 1})  # one tensor, as in eager
        lines += [f"    r{k} = _make(v{k}, None)" for k in twice]
        lines.append(f"    return {self.result(p.outputs, set(twice))}")
        self.ns["OBJECTS"] = tuple(self.objs)
        self.ns["BUFFERS"] = self.buffers
        self.ns["ARENAS"] = self.arenas
        device = self.device()
        if device is not None:  # the lines (and new buffers) run on the step's device
            self.ns["_on_device"] = functools.partial(*device)
            lines = [lines[0], "    with _on_device():", *("    " + x for x in lines[1:])]
        return "\n".join(lines) + "\n"

    def result(self, spec: Any, made: set[int]) -> str:
        """The expression of the step's return value: ``spec`` (see ``compiler._outputs``)
        with new tensors of the step's values (``r{k}`` for the slots in ``made``)."""
        kind, v = spec
        if kind == "tensor":
            return f"r{v}" if v in made else f"_make(v{v}, None)"
        if kind == "value":
            return self.name("C", v)
        if kind is dict:
            items = ", ".join(f"{self.name('C', k)}: {self.result(x, made)}" for k, x in v.items())
            return f"{{{items}}}"
        items = "".join(f"{self.result(x, made)}, " for x in v)
        if kind is tuple:
            return f"({items})"
        if kind is list:
            return f"[{items}]"
        make = f"{self.name('C', kind)}._make" if hasattr(kind, "_fields") else self.name("C", kind)
        return f"{make}(({items}))"  # a namedtuple, another subclass of tuple or list

    def lay_grads(self, steal: set[int]) -> None:
        """Plan the gradients of each group of an optimizer whose ``step`` the recording
        calls as views of one array, end to end in the group's order, and tell the optimizer
        (``grads_laid_end_to_end``, see ``optim.flat``): its step then updates the group in
        one pass of each ufunc. For groups whose every parameter gets a fresh NumPy gradient
        of its own (kept as it is) of one dtype, C- or F-ordered. A view's held check counts
        the arena's other views; where anything else holds one, ``_take_arena`` lays the
        whole group in a new arena."""
        grad_of: dict[int, int] = {}  # id(parameter) -> the value kept as its gradient
        for i in sorted(steal):
            e = self.p.program[i]
            if isinstance(e[1], Tensor):
                grad_of.setdefault(id(e[1]), e[2][1])
        for e in self.p.program:
            lay = getattr(e[2], "grads_laid_end_to_end", None) if e[0] == "call" else None
            if lay is None or getattr(e[1], "__name__", "") != "step":
                continue
            for index, group in enumerate(e[2].param_groups):
                ks = [grad_of.get(id(t)) for t in group["params"]]
                if not ks or None in ks or len(set(ks)) != len(ks):
                    continue
                arrays = [_array(self.objects.get(k)) for k in ks]
                if any(
                    a.__class__ is not np.ndarray
                    or not a.ndim
                    or not (a.flags.c_contiguous or a.flags.f_contiguous)
                    or a.dtype != arrays[0].dtype
                    or k in self.arena_of
                    for a, k in zip(arrays, ks)
                ):
                    continue
                layouts = layouts_of(arrays)
                arena, views = _new_arena(layouts, arrays[0].dtype)
                limit = _UNHELD_BASE - 1 + len(views)  # each view's base, getrefcount's own
                js = list(range(len(self.buffers), len(self.buffers) + len(views)))
                told = functools.partial(lay, index)
                for k, j, v in zip(ks, js, views):
                    self.arena_of[k] = (j, limit)
                    self.arenas[j] = (js, layouts, arrays[0].dtype, told)
                    self.buffers.append(v)
                told(arena, views)

    def arrays_of_their_own(self) -> Callable[[int], bool]:
        """Whether value k's recorded array is its own: not a view, not another value's, a
        constant's or an outside tensor's. A rule that passes its gradient through (an add's)
        hands on such an array (the implied 1 of a root, an argument's gradient), and a leaf
        keeping it as its ``.grad`` would share it: eager's engine copies those, and so does
        the replay."""
        counts: dict[int, int] = {}
        for obj in self.objects.values():
            a = _array(obj)
            counts[id(a)] = counts.get(id(a), 0) + 1
        shared = {i for i, n in counts.items() if n > 1}
        for e in self.p.program:
            for kind, v in refs_of(e):
                if kind == "c":
                    shared.add(id(v))
                elif kind == "t":
                    shared.add(id(v.data))

        def own(k: int) -> bool:
            a = _array(self.objects.get(k))
            return getattr(a, "base", None) is None and id(a) not in shared

        return own

    def device(self) -> tuple[Any, Any] | None:
        """(device_context, device) of the one accelerator the step's arrays live on, for
        the replay to run in its context as eager's ops do (CuPy computes on its current
        device); None for a step on the CPU. Arrays on two accelerators: CompileError."""
        arrays = [_array(o) for o in self.objects.values()]
        arrays += [t.data for t, _ in self.p.outside]
        found = {}
        for a in arrays:
            if a is _UNKNOWN or a.__class__ is np.ndarray or not hasattr(a, "__array_namespace__"):
                continue
            backend = backend_of(a)
            if backend.device_type != "cpu":
                found.setdefault(backend.device_of(a), backend)
        if len(found) > 1:
            devices = ", ".join(map(str, found))
            raise CompileError(
                f"compile: the step's arrays live on several devices ({devices}); a replay "
                f"runs on one: compile a step per device"
            )
        if not found:
            return None
        ((device, backend),) = found.items()
        return backend.device_context, device

    # -------------------------------------------------------------- buffers
    def kind(self, k: int | None) -> tuple[Any, ...] | None:
        """What a planned buffer for value ``k`` must match (array type, shape, dtype,
        device), or None where ``k`` gets none: not a non-0-d array of a known backend."""
        a = None if k is None else _array(self.objects.get(k))
        if a is None or a is _UNKNOWN or not hasattr(a, "__array_namespace__") or not a.ndim:
            return None
        return (type(a), a.shape, a.dtype.str, str(getattr(a, "device", "")), _layout(a))

    def into(self, k: int | None) -> str:
        """Where value ``k`` is written: a planned buffer, ``_take(BUFFERS, j)`` (its check
        inline, the call only where something holds the buffer), for a
        non-0-d array of a known backend, else "None" (the op allocates its result). A buffer
        freed by an earlier value of the same shape and dtype is used again."""
        key = self.kind(k)
        if key is None:
            return "None"
        free = self.pool.get(key)
        limit = _UNHELD_BASE
        if k in self.arena_of:  # a gradient laid end to end with its group's
            j, limit = self.arena_of[k]
        elif free:
            j = free.pop()
        else:
            j = len(self.buffers)
            a = _array(self.objects[k])
            backend = backend_of(a)
            with backend.guard(a):  # on a's device (CuPy makes arrays on the current one)
                self.buffers.append(_planned_like(a))
        self.buffer_of[k] = (j, key)
        b = f"BUFFERS[{j}]"
        unheld = f"_refs({b}) <= {_UNHELD}"
        if self.buffers[j].base is not None:  # and nothing holds a view of its memory
            unheld += f" and _refs({b}.base) <= {limit}"
        if k in self.arena_of:
            return f"({b} if {unheld} else _take_arena(BUFFERS, {j}, ARENAS))"
        return f"({b} if {unheld} else _take(BUFFERS, {j}))"

    def over_operand(self, i: int, k: int | None, refs: Any, passed: bool = True) -> str | None:
        """Where entry ``i`` may write value ``k`` over one of ``refs`` that dies there (the
        caller says the op allows it: an elementwise ufunc, ``into_may_be_input``, the saved
        arrays of a ``backward_into_may_be_saved`` rule): that operand's buffer, taken by
        ``_over`` only if nothing but this line holds it (``passed``: the line passes that
        operand to the call that writes, as the op's method call does). None where no operand
        fits."""
        key = self.kind(k)
        if key is None:
            return None
        dying = self.last.get(i, ())
        for ref_kind, v in refs:
            planned = self.buffer_of.get(v) if ref_kind == "s" else None
            fits = planned and planned[1] == key and v in dying and v not in self.exclusive
            if fits and sum(r == ("s", v) for r in refs) == 1:  # read once: one reference
                del self.buffer_of[v]
                self.buffer_of[k] = planned
                return f"_over(BUFFERS, {planned[0]}, v{v}{'' if passed else ', False'})"
        return None

    def release(self, k: int) -> None:
        """Value ``k`` is dead: its buffer may hold a later value."""
        planned = self.buffer_of.pop(k, None)
        if planned is not None and k not in self.exclusive:
            self.pool.setdefault(planned[1], []).append(planned[0])

    def entry(self, i: int, e: Entry, steal: bool) -> list[str]:
        kind = e[0]
        if kind == "op":
            fn, refs, k, ek = e[1], e[2], e[3], e[4]
            args = [self.operand(r) for r in refs]
            operands = ", ".join(args)
            if ek is None and (fn.ufunc or fn.writes_into):
                over = self.over_operand(i, k, refs) if fn.ufunc or fn.into_may_be_input else None
                into = over or self.into(k)
                if into != "None" and fn.ufunc:
                    xp = backend_of(_array(self.objects[k])).xp
                    return [
                        f"v{k} = {self.function(getattr(xp, fn.ufunc))}({operands}, out={into})"
                    ]
                if into != "None":
                    s = self.source_for(fn, refs, args=args, out=f"v{k}", into=into)
                    lines = s and fn.forward_source(s)
                    return lines or [f"v{k} = {self.method(fn, 'forward')}{operands}, into={into})"]
            if ek is None and fn.operator and self.kind(k) is None:  # 0-d: forward's expression
                return [f"v{k} = {fn.operator.format(*args)}"]
            call = f"{self.method(fn, 'forward')}{operands})"
            return [f"v{k}, v{ek} = {call}" if ek is not None else f"v{k} = {call}"]
        if kind == "grad":
            node, g, saved, outs = e[1], e[2], e[3], e[4]
            m, gv, operands = self.math(g), self.value(g), [self.operand(r) for r in saved]
            args = ", ".join(operands)
            if node.shapes is not None:  # the rule sums broadcast gradients back
                rule = self.method(node, "rule")
                return [f"{self.targets(outs)} = {rule}{m}, {gv}, ({args}{',' if args else ''}))"]
            hooked = type(node).backward_source is not Function.backward_source
            planned = ["None"] * len(outs)
            if node.writes_into:
                over = None
                if node.backward_into_may_be_saved and len(outs) == 1:
                    # the lines of the op's own may not pass the saved array to the call
                    # that writes over it (ReLU's m.where(out != 0, g, 0, into)): counted so
                    over = self.over_operand(i, outs[0], saved, passed=not hooked)
                planned = [over or self.into(k) for k in outs]
                if any(x != "None" for x in planned):
                    args += f"{', ' if args else ''}into=({', '.join(planned)},)"
            elif hooked and node.ufunc:  # buffers for the lines of an elementwise op's rule
                planned = [self.into(k) for k in outs]
            call = f"{self.method(node, 'backward')}{m}, {gv}{', ' if args else ''}{args})"
            if len(outs) > 1:
                general = [f"{self.targets(outs)} = {call}"]
            else:
                general = [
                    f"_r = {call}",
                    f"{self.targets(outs)} = _r if _r.__class__ is tuple else (_r,)",
                ]
                if self.kind(outs[0]) or (g[0] == "s" and self.kind(g[1])):
                    general.append("del _r")  # a planned buffer (or view) held here stays taken
            if hooked:
                s = self.source_for(
                    node,
                    (g, *saved),
                    m,
                    g=gv,
                    args=operands,
                    outs=["_" if k is None else f"v{k}" for k in outs],
                    into=planned,
                    general=general,
                )
                lines = s and node.backward_source(s)
                if lines:
                    return lines
            return general
        if kind == "rgrad":
            node, g, outs = e[1], e[2], e[3]
            call = f"N{id(node)}.apply_backward({self.math(g)}, {self.value(g)}, False)"
            return [f"{self.targets(outs)} = {call}"]
        if kind == "renew":
            fn, refs, n = e[1], e[2], e[6]
            operands = [self.operand(r) for r in refs[:n]]
            held = [self.value(r) for r in refs[n:]]
            listed = "".join(f"{x}, " for x in operands), "".join(f"{x}, " for x in held)
            line = f"r{e[3]} = {self.method(fn, 'renewed')}({listed[0]}), ({listed[1]}))"
            self.names[id(fn)] = f"r{e[3]}"  # the node's later lines read the new one
            general = [line, *self.entry(i, ("op", fn, refs[:n], e[3], e[4]), steal)]
            s = self.source_for(
                fn,
                refs,
                args=operands,
                held=held,
                general=general,
                out=f"v{e[3]}",
                extra="_" if e[4] is None else f"v{e[4]}",
            )
            lines = s and fn.renewed_source(s)
            return lines or general
        if kind == "rebuild":
            fn, refs, krefs, k, node = e[1], e[2], e[3], e[4], e[5]
            args = [self.argument(r) for r in refs]
            args += [f"{n}={self.argument(r)}" for n, r in krefs.items()]
            lines = [
                f"with _grad_mode({node is not None}):",
                f"    _o = {self.name('F', fn)}({', '.join(args)})",
                f"v{k} = _o.data",
            ]
            if node is not None:
                lines.append(f"N{id(node)} = _o.grad_fn")
            return lines
        if kind == "add":
            a, b, k = self.value(e[1]), self.value(e[2]), e[3]
            into = self.into(k)
            if into != "None":
                xp = backend_of(_array(self.objects[k])).xp
                return [f"v{k} = {self.function(xp.add)}({a}, {b}, out={into})"]
            return [f"v{k} = {a} + {b}"]
        if kind == "leaf":  # an outside tensor, or an argument: that call's tensor
            leaf = self.name("L", e[1]) if isinstance(e[1], Tensor) else self.argument_of[e[1][1]]
            grad = self.value(e[2])
            if steal and e[2][0] == "s" and type(self.objects.get(e[2][1])) is np.ndarray:
                # accumulate_grad's common case inline: a fresh NumPy gradient kept as it is
                lines = [
                    f"if {leaf}._grad is None:",
                    f"    {leaf}._grad = _make({grad}, None)",
                    "else:",
                    f"    _acc({leaf}, {grad}, copy=False)",
                ]
            else:
                lines = [f"_acc({leaf}, {grad}, copy={not steal})"]
            return [*lines, f"v{e[3]} = {leaf}._grad.data"]
        if kind == "setgrad":
            if e[1][0] == "t":
                t = self.name("T", e[1][1])
            elif e[1][0] == "s" and e[1][1] in self.argument_of:
                t = self.argument_of[e[1][1]]  # that call's tensor
            else:
                raise CompileError("compile: grad set on a tensor made inside the step")
            if e[2] is None:
                return [f"{t}._grad = None"]
            return [f"_setgrad({t}, {self.value(e[2])})"]
        if kind == "call":
            call = functools.partial(e[1], e[2], *e[3], **e[4])
            return [f"{self.name('K', call)}()"]
        if kind == "source":
            plan = getattr(e[1], "stream_call", None)
            plan = plan and plan(e[2], e[3])
            if plan is not None:  # rand, randn, keep_mask: the stream's call, no tensor made
                gen, call, args = plan
                rng = f"{self.name('R', gen)}.rng"
                if isinstance(call, str):  # a method of the stream: (shape, dtype)
                    shape, dtype = args
                    return [f"v{e[4]} = {rng}.{call}({shape!r}, dtype={self.name('C', dtype)})"]
                args = "".join(f", {self.name('C', a)}" for a in args)
                return [f"v{e[4]} = {self.function(call)}({rng}{args})"]
            draw = functools.partial(e[1], *e[2], **e[3])
            return [f"v{e[4]} = {self.name('S', draw)}().data"]
        if kind == "func":
            lowered = self.array_form(e)
            if lowered is not None:
                return lowered
            args = ", ".join(
                f"_make(v{v}, None)" if c == "s" else self.name("C", v) for c, v in e[2]
            )
            return [f"v{e[3]} = {self.name('G', e[1])}({args}).data"]
        # write
        target, value = e[1], self.value(e[2])
        if target[0] == "t":
            t = self.name("T", target[1])
            return [f"{t}.data[...] = {value}", *_bumped(t, target[1])]
        return [f"v{target[1]}[...] = {value}"]

    def array_form(self, e: Entry) -> list[str] | None:
        """A recorded function with an array form (``compiler.ufunc_call``, ``cast_call``)
        as that call on the arrays, writing into a planned buffer; None for a 0-d result or
        one of unknown backend (the function is called again)."""
        form, k = getattr(e[1], "array_form", None), e[3]
        into = self.into(k) if form is not None else "None"
        if into == "None":
            return None
        xp = backend_of(_array(self.objects[k])).xp
        if form == "ufunc":
            (_, ufunc), *operands = e[2]
            args = ", ".join(map(self.value, operands))
            return [f"v{k} = {self.function(getattr(xp, ufunc))}({args}, out={into})"]
        copy = self.function(xp.copyto)
        return [f"v{k} = {into}", f"{copy}(v{k}, {self.value(e[2][0])}, casting='unsafe')"]

    def in_place(self, e: Entry, then: Entry | None) -> list[str] | None:
        """An elementwise op whose result only feeds the write after it (``p -= lr * g``
        under no_grad), as its ufunc writing straight into the target: the same numbers
        without the result array and its copy. None where the pattern does not hold."""
        if e[0] != "op" or not e[1].ufunc or then is None or then[0] != "write":
            return None
        k, target = e[3], then[1]
        if then[2] != ("s", k) or target[0] != "t" or self.uses[k] != 1 or k in self.outputs:
            return None  # (a returned result must exist: not fused into the write)
        result, data = _array(self.objects.get(k)), target[1].data
        if result is _UNKNOWN or not hasattr(data, "__array_namespace__"):
            return None
        if getattr(result, "shape", None) != data.shape or result.dtype != data.dtype:
            return None
        ufunc = getattr(backend_of(data).xp, e[1].ufunc)
        t = self.name("T", target[1])
        operands = ", ".join(map(self.operand, e[2]))
        return [f"{self.function(ufunc)}({operands}, out={t}.data)", *_bumped(t, target[1])]

    def argument(self, r: Ref) -> str:
        """A rebuilt call's argument: a step's value as a new tensor (a leaf that requires
        grad where the recorded one did), an outside tensor, a constant, a sequence."""
        kind, v = r
        if kind == "q":
            items = [self.argument(x) for x in v[1]]
            if v[0] is tuple:
                return f"({', '.join(items)}{',' if len(items) == 1 else ''})"
            if v[0] is list:
                return f"[{', '.join(items)}]"
            return f"{self.name('Q', v[0])}([{', '.join(items)}])"
        if kind in ("s", "g"):
            return f"_leaf(v{v}, {kind == 'g'})"
        if kind == "t":
            return self.name("T", v)
        return self.name("C", v)


_UNKNOWN = object()


def _bumped(name: str, t: Tensor) -> list[str]:
    """The lines that count a write into tensor ``t`` (``bump_version``, which a replay, run
    with no tape, would enter): its counter, and that of the tensor it holds its data from
    (a parameter's: fixed when the tensor was made), or the call where that is a weak
    reference (a detached graph result's)."""
    if t._base is None:
        return [f"{name}._version += 1"]
    if isinstance(t._base, Tensor):
        return [f"{name}._version += 1", f"{name}._base._version += 1"]
    return [f"_bump({name})"]


_SCALARS = {np.float64, np.float32, np.float16, np.int64, np.int32, np.bool_, float, int, bool}


def _array(obj: Any) -> Any:
    """The array a recorded object holds (``_UNKNOWN`` where the recording kept none)."""
    if obj is None:
        return _UNKNOWN
    return obj.data if isinstance(obj, Tensor) else obj


def _scalar(a: Any) -> Any:
    return a[()] if a.__class__ is np.ndarray and not a.ndim else a


def _planned_like(a: Any) -> Any:
    """An empty array of ``a``'s shape, dtype, device and memory layout (``_layout``: eager's
    result was laid out so, and a reduction over it adds in memory order) for a planned
    buffer. On the CPU it starts on a cache line (``ALIGN`` bytes; NumPy's allocator promises
    16): as a view of a byte array, so that a view anyone takes of it holds that byte array
    (its ``base``), which ``_take`` counts too. CuPy's pool already aligns to 256 bytes."""
    if a.__class__ is not np.ndarray or a.dtype.hasobject:
        return backend_of(a).xp.empty_like(a, order="K")
    order = _layout(a)
    raw = np.empty(a.nbytes + ALIGN, np.uint8)
    start = -raw.ctypes.data % ALIGN
    buffer = raw[start : start + a.nbytes].view(a.dtype).reshape([a.shape[i] for i in order])
    return buffer if order == tuple(range(a.ndim)) else buffer.transpose(np.argsort(order))


def aligned_empty(n: int, dtype: Any) -> Any:
    """An uninitialized 1-d NumPy array of ``n`` elements of ``dtype`` starting on a cache line
    (``ALIGN`` bytes), a slice of the array that owns its memory (its ``base``). Elementwise
    loops over such arrays run about 15% faster than over NumPy's 16-byte-aligned ones."""
    dtype = np.dtype(dtype)
    pad = -(-ALIGN // dtype.itemsize)
    owner = np.empty(n + pad, dtype)
    start = (-owner.ctypes.data % ALIGN) // dtype.itemsize
    return owner[start : start + n]


def by_columns(a: Any) -> bool:
    """Whether ``a`` is an array stored column by column: F-ordered and not also C-ordered
    (False for what has no ``flags``: a Tensor)."""
    flags = getattr(a, "flags", None)
    return flags is not None and flags.f_contiguous and not flags.c_contiguous


def layouts_of(arrays: list[Any]) -> list[tuple[tuple[int, ...], bool]]:
    """(shape, ``by_columns``) of each array."""
    return [(a.shape, by_columns(a)) for a in arrays]


def end_to_end(flat: Any, layouts: list[tuple[tuple[int, ...], bool]]) -> list[Any]:
    """Views of the 1-d array ``flat``, one after the other, of the shapes and layouts
    ``layouts`` (``layouts_of``; by columns: the transpose of rows of the reversed shape)."""
    views, start = [], 0
    for shape, columns in layouts:
        n = math.prod(shape)
        part = flat[start : start + n]
        start += n
        views.append(part.reshape(shape[::-1]).T if columns else part.reshape(shape))
    return views


def _new_arena(layouts: list[tuple[tuple[int, ...], bool]], dtype: Any) -> tuple[Any, list[Any]]:
    """An arena on a cache line for arrays of ``layouts``, and its views (``end_to_end``)."""
    arena = aligned_empty(sum(math.prod(shape) for shape, _ in layouts), dtype)
    return arena, end_to_end(arena, layouts)


def _layout(a: Any) -> tuple[int, ...]:
    """The axes of ``a`` from the one its memory steps over most to the least (C order:
    0, 1, ...; Fortran order: ..., 1, 0): the order NumPy lays a new result out in
    (``order="K"``). Axes of length 1 stay in place."""
    steps = [abs(st) if n > 1 else None for st, n in zip(a.strides, a.shape)]
    moved = sorted((i for i, st in enumerate(steps) if st is not None), key=lambda i: -steps[i])
    it = iter(moved)
    return tuple(i if st is None else next(it) for i, st in enumerate(steps))


ALIGN = 64  # bytes: a cache line


def _take(buffers: list[Any], j: int) -> Any:
    """Planned buffer ``j``, or a new one in its place where something still holds it or a
    view of its memory (a tensor the caller kept from an earlier replay, a view): a replay
    never writes into an array anyone else can see."""
    if getrefcount(buffers[j]) > _UNHELD or (
        buffers[j].base is not None and getrefcount(buffers[j].base) > _UNHELD_BASE
    ):
        buffers[j] = _planned_like(buffers[j])
    return buffers[j]


def _take_arena(buffers: list[Any], j: int, arenas: dict[int, Any]) -> Any:
    """``_take`` for a gradient laid end to end with its group's (``_Lowering.lay_grads``),
    called where something holds it or a view of the arena: every gradient of the group gets
    its place in a new arena (none of the old one is written again), which the optimizer is
    told of."""
    js, layouts, dtype, lay = arenas[j]
    arena, views = _new_arena(layouts, dtype)
    for i, v in zip(js, views):
        buffers[i] = v
    lay(arena, views)
    return buffers[j]


def _over(buffers: list[Any], j: int, v: Any, passed: bool = True) -> Any:
    """Buffer ``j`` for a result written over the operand ``v`` that dies on this line
    (``over_operand``): ``v`` itself where ``v`` is that buffer and nothing else holds it
    (the list, the local, ``_over``'s argument and, where ``passed``, the op call's argument:
    ``_DYING`` references), else ``_take``."""
    if (
        v is buffers[j]
        and getrefcount(v) <= _DYING[passed]
        and (v.base is None or getrefcount(v.base) <= _UNHELD_BASE)
    ):
        return v
    return _take(buffers, j)


def _dying() -> tuple[int, int]:
    """``_over``'s counts for an operand only the replay holds, measured as ``_UNHELD`` is:
    ``v`` in the list and a local, passed to ``_over`` (``_count`` plays it) and to the op
    call or not (``_probe`` plays the op): (not passed to the op, passed)."""
    buffers = [np.empty(0)]
    v = buffers[0]
    return _count(v), _probe(v, into=_count(v))


def _count(v: Any) -> int:
    return getrefcount(v)


def _probe(x: Any, into: int) -> int:
    return into


def _unheld() -> int:
    """What ``_take``'s count is for an array only the list holds (2 on CPython 3.11: the
    list, getrefcount's argument), measured with the same expression rather than assumed:
    interpreters differ in it."""
    buffers, j = [np.empty(0)], 0
    return getrefcount(buffers[j])


def _unheld_base() -> int:
    """The count of a planned CPU buffer's byte array when nothing holds a view of it (2 on
    CPython 3.11: the buffer's ``base``, getrefcount's argument), measured as ``_UNHELD``."""
    buffers, j = [_planned_like(np.empty(1))], 0
    return getrefcount(buffers[j].base)


_UNHELD = _unheld()
_UNHELD_BASE = _unheld_base()
_DYING = _dying()


def _math(g: Any) -> Any:
    return backend_of(g).math


def _leaf(data: Any, requires_grad: bool) -> Tensor:
    t = _make(data, None)
    t._requires_grad = requires_grad
    return t


def _setgrad(t: Tensor, value: Any) -> None:
    t.grad = _make(value, None)


def _last_uses(program: list[Entry], kept: list[int]) -> dict[int, list[int]]:
    """For each entry, the values it reads or sets for the last time (outputs excepted)."""
    last: dict[int, int] = {}
    for i, e in enumerate(program):
        for k in defined_by(e):
            last[k] = i
        for r in refs_of(e):
            if r[0] == "s":
                last[r[1]] = i
    out: dict[int, list[int]] = {}
    for k, i in sorted(last.items()):
        if k not in kept:
            out.setdefault(i, []).append(k)
    return out


def defined_by(e: Entry) -> list[int]:
    """The values entry ``e`` sets."""
    kind = e[0]
    if kind in ("op", "renew"):
        return [k for k in e[3:5] if k is not None]
    if kind == "grad":
        return [k for k in e[4] if k is not None]
    if kind == "rgrad":
        return [k for k in e[3] if k is not None]
    if kind in ("add", "leaf", "func"):
        return [e[3]]
    if kind in ("source", "rebuild"):
        return [e[4]]
    return []


def flat_refs(refs: Any) -> list[Ref]:
    """``refs`` with sequences ("q") spread and step tensors that require grad ("g") as
    their values ("s")."""
    out = []
    for r in refs:
        if r[0] == "q":
            out += flat_refs(r[1][1])
        else:
            out.append(("s", r[1]) if r[0] == "g" else r)
    return out


def refs_of(e: Entry) -> list[Ref]:
    """What entry ``e`` reads."""
    kind = e[0]
    if kind in ("op", "renew"):
        return list(e[2])
    if kind == "rebuild":
        return flat_refs([*e[2], *e[3].values()])
    if kind in ("rgrad", "leaf"):
        return [e[2]]
    if kind == "grad":
        return [e[2], *e[3]]
    if kind == "setgrad":
        return [e[1]] if e[2] is None else [e[1], e[2]]
    if kind in ("add", "write"):
        return [e[1], e[2]]
    if kind == "func":
        return list(e[2])
    return []


def _output_slots(spec: Any) -> list[int]:
    kind, v = spec
    if kind == "tensor":
        return [v]
    if kind == "value":
        return []
    return [k for x in (v.values() if kind is dict else v) for k in _output_slots(x)]


def signature(t: Tensor) -> tuple[Any, ...]:
    """What a guard compares of a tensor: shape, dtype, device (None for a NumPy array, which
    is on the CPU), requires_grad and strides."""
    d = t.data
    device = None if d.__class__ is np.ndarray else _device(d)
    return (d.shape, d.dtype, device, t._requires_grad, d.strides)
