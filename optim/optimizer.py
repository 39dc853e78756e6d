"""``Optimizer``: the base of every optimizer: parameter groups, state, and the step loop.

An optimizer holds ``param_groups``, a list of dicts each with its own ``"params"`` and its own
hyperparameters (``lr``, ``momentum`` ...; missing ones come from the optimizer's defaults), and
``state``, a dict from each parameter to what its update remembers between steps (momentum
buffers, moment estimates, step counts), made at the parameter's first step.

``step()`` updates every parameter that has a gradient, in place on its array (``param.data``),
on the device where the parameter lives, under ``no_grad``: nothing is recorded in the graph.
A subclass writes only the math: ``_update(xp, p, g, state, group)`` on raw arrays (``xp`` is
NumPy or CuPy), with ``out=`` and in-place operators on the scratch arrays of ``_scratch``, so
that a step allocates no new arrays once the first step has made the state. The same math
runs once for a whole group where a compiled step has laid the group's gradients end to end
(``grads_laid_end_to_end``, ``optim/flat.py``): ``p`` is then the group's ``Params``, ``g``
and the state's arrays flat, so ``_update`` may read ``p`` only to write it.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

import numpy as np

from autograd import DeviceError, DTypeError, ShapeError, Tensor, enable_grad, no_grad
from autograd.backend import CPU, Backend, backend_of, transfer
from autograd.compiler import replayed_whole
from autograd.conversion import writable_data
from autograd.grad_mode import _mode
from autograd.replay import ALIGN, aligned_empty, end_to_end, layouts_of
from autograd.tensor import bump_version

from .flat import Arena, FlatState, Params


class _Required:
    """The default of a hyperparameter that has none (``SGD``'s ``lr``)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required: Any = _Required()

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]]


# Every this many steps, values smaller than the smallest normal float (subnormals: |x| <
# 1.2e-38 in float32) in the parameters and the optimizers' buffers are set to 0. x86 CPUs
# compute on subnormals up to 100x slower, and a ridge penalty with RMSprop or Adam drives the
# weights of inputs that are always 0 (MNIST's border pixels) and their running averages there:
# a whole epoch then runs several times slower. Frameworks that run with the CPU's
# flush-to-zero mode (TensorFlow, which ISLR's labs use) do this on every operation.
FLUSH_SUBNORMALS_EVERY = 16


def _flush_subnormals(xp: ModuleType, arrays: list[Any]) -> None:
    for a in arrays:
        if isinstance(a, xp.ndarray) and a.dtype.kind == "f":
            a[xp.abs(a) < xp.finfo(a.dtype).tiny] = 0


class Optimizer:
    """Base class of optimizers; see the module docstring.

    ``params`` is an iterable of tensors, or of dicts (parameter groups) such as
    ``[{"params": model.body.parameters()}, {"params": head_params, "lr": 1e-3}]``: each group
    takes the ``defaults`` for the hyperparameters it does not set.

    ``flush_subnormals``: every ``FLUSH_SUBNORMALS_EVERY`` (16) steps, values below the
    smallest normal float in the parameters and the state are set to 0 (see above; PyTorch does
    not do this). Set it to False on an optimizer (``optimizer.flush_subnormals = False``) or
    a subclass to keep every bit of the updates as PyTorch computes them.
    """

    flush_subnormals: bool = True

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        self._scratch_arrays: dict[tuple[Any, ...], Any] = {}  # (device, dtype) -> buffer
        # (device, dtype, shape, strides, count) -> the views of its buffer that _scratch hands out
        self._scratch_views: dict[tuple[Any, ...], list[Any]] = {}
        self._steps = 0
        # group index -> the arenas compiled steps lay its gradients in; its flat state
        self._arenas: dict[int, list[Arena]] = {}
        self._flat: dict[int, FlatState] = {}
        if isinstance(params, Tensor):
            raise TypeError(
                f"{self._name}: params should be an iterable of Tensors or of dicts (parameter "
                f"groups), got a single Tensor; pass [tensor] or model.parameters()"
            )
        groups = list(params)
        if not groups:
            raise ValueError(f"{self._name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    @property
    def _name(self) -> str:
        return type(self).__name__

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyperparameters (the defaults fill the rest),
        e.g. to train layers unfrozen during fine-tuning."""
        if not isinstance(param_group, dict):
            raise TypeError(
                f"{self._name}: a parameter group must be a dict with a 'params' key, got "
                f"{type(param_group).__name__}"
            )
        if "params" not in param_group:
            raise ValueError(f"{self._name}: a parameter group needs a 'params' entry")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(
                f"{self._name}: parameters must be given in an ordered collection (a list), not "
                f"a set: their order decides the indices of state_dict()"
            )
        else:
            params = list(params)
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{self._name}: can only optimize Tensors, but parameter {i} of the group is "
                    f"{type(p).__name__}"
                )
            if p.grad_fn is not None:
                raise ValueError(
                    f"{self._name}: can't optimize a non-leaf Tensor (parameter {i} of the group "
                    f"is the result of {p.grad_fn.name}); optimize the leaves it was computed "
                    f"from, or make it a leaf with .detach().requires_grad_()"
                )
            if id(p) in seen:
                raise ValueError(
                    f"{self._name}: parameter {i} of the group appears twice (in this group or "
                    f"in another one); give each parameter to one group once"
                )
            seen.add(id(p))
            writable_data(p)  # a NumPy scalar becomes an updatable 0-d array
        group = {**self.defaults, **param_group, "params": params}
        missing = [k for k, v in group.items() if v is required]
        if missing:
            raise TypeError(
                f"{self._name}: parameter group didn't specify a value of required "
                f"hyperparameter {missing[0]!r}"
            )
        self._check(group)
        self.param_groups.append(group)

    def _check(self, group: dict[str, Any]) -> None:
        """Raise a ValueError naming the first invalid hyperparameter of ``group``."""

    def _require(self, name: str, value: Any, low: float = 0.0, **bounds: Any) -> None:
        """``check_number`` for a hyperparameter of this optimizer."""
        check_number(self._name, name, value, low, **bounds)

    # -------------------------------------------------------------------- step
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: ``grad = None`` (the default; frees their memory and lets the
        next backward write fresh ones), or fill them with zeros in place."""
        if set_to_none:  # a compiled step records one assignment per parameter
            if _mode.tape is not None:  # and guards on this optimizer's parameters
                _mode.tape.optimizer(self)
            for group in self.param_groups:
                for p in group["params"]:
                    p.grad = None
        else:
            self._zero_grads_in_place()

    @replayed_whole
    def _zero_grads_in_place(self) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.grad_fn is not None:  # a create_graph gradient: cut it from its graph
                    p.grad = p.grad.detach()
                writable_data(p.grad).fill(0)
                bump_version(p.grad)

    @replayed_whole
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient, once; parameters whose ``grad`` is None
        are skipped. ``closure``, if given, recomputes the loss (with recording on) and returns
        it; ``step`` returns what it returned. Every gradient is checked against its parameter
        (shape, dtype, device) before any parameter changes, and each update bumps the
        parameter's version (graphs that saved the old value refuse to backpropagate)."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            # Every parameter is checked before any is changed: a step never stops half-applied.
            work = []
            flat_work = []  # groups whose gradients lie end to end in an arena: one update
            for index, group in enumerate(self.param_groups):
                laid = self._laid_flat(index, group)
                if laid is not None:
                    flat_work.append((group, *laid))
                    continue
                for i, param in enumerate(group["params"]):
                    grad = param._grad
                    if grad is None:
                        continue
                    p, g = param.data, grad.data
                    if not (  # NumPy arrays that fit: nothing to convert or check further
                        p.__class__ is np.ndarray
                        and g.__class__ is np.ndarray
                        and g.shape == p.shape
                        and (g.dtype is p.dtype or g.dtype == p.dtype)
                    ):
                        p = writable_data(param)
                        self._check_grad(i, p, g)
                    work.append((group, param, p, g))
            self._steps += 1
            flush = self.flush_subnormals and self._steps % FLUSH_SUBNORMALS_EVERY == 0
            for group, arena, flat in flat_work:
                params = group["params"]
                p = Params([param.data for param in params], arena, flat.layouts)
                state = flat.as_state()
                self._update(np, p, arena, state, group)
                flat.updated(state, [self.state[param] for param in params])
                if flush:
                    _flush_subnormals(np, [*p.arrays, *flat.arrays.values()])
                for param in params:
                    bump_version(param)
            for group, param, p, g in work:
                if p.__class__ is np.ndarray:  # on the CPU: no device to enter
                    self._update_one(np, param, p, g, group, flush)
                else:
                    backend = backend_of(p)
                    with backend.guard(p):
                        self._update_one(backend.xp, param, p, g, group, flush)
                bump_version(param)  # graphs that saved the old value refuse to backpropagate
        return loss

    def grads_laid_end_to_end(self, index: int, arena: Any, views: list[Any]) -> None:
        """A compiled step plans the gradients of group ``index`` as ``views`` of ``arena``,
        one after the other in the group's order: while they are there, ``step`` updates the
        group at once (see ``optim.flat``)."""
        arenas = self._arenas.setdefault(index, [])
        arenas[:] = [a for a in arenas if a.owner() is not None]
        arenas.append(Arena(arena, views))

    def _flat_ok(self, group: dict[str, Any]) -> bool:
        """Whether ``_update`` may take the group's parameters as one ``Params``: it reads
        them only to write (no weight decay added to the gradient)."""
        return not group.get("weight_decay") or getattr(self, "decoupled", False)

    def _laid_flat(self, index: int, group: dict[str, Any]) -> Any:
        """(arena, the flat state) where every parameter of group ``index`` holds
        its gradient in one of the arenas laid for it, has its state, and the group may be
        updated at once; else None (the step goes parameter by parameter)."""
        arenas = self._arenas.get(index)
        if not arenas or not self._flat_ok(group):
            return None
        params = group["params"]
        for a in arenas:
            arena = a.holding(params)
            if arena is not None:
                break
        else:
            return None
        states = [self.state.get(param) for param in params]
        if None in states:
            return None
        flat = self._flat.get(index)
        if flat is None or not flat.current(states, a.layouts):
            flat = FlatState.made(states, a.layouts)
            if flat is None:
                return None
            self._flat[index] = flat
        return arena, flat

    def _update_one(
        self, xp: ModuleType, param: Tensor, p: Any, g: Any, group: dict[str, Any], flush: bool
    ) -> None:
        """One parameter's update (its state made on its first), then the flush if due."""
        state = self.state.get(param)
        if state is None:
            state = self.state[param] = self._init_state(xp, p, group)
        self._update(xp, p, g, state, group)
        if flush:
            _flush_subnormals(xp, [p, *state.values()])

    def _check_grad(self, i: int, p: Any, g: Any) -> None:
        """Raise unless gradient array ``g`` fits parameter array ``p`` (``i``: its index in
        its group): the ``grad`` setter checks assignments, not writes to ``grad.data``."""
        if g.shape != p.shape:
            raise ShapeError(
                f"{self._name}.step: parameter {i} of its group has shape {p.shape} but its "
                f"grad has shape {g.shape}; no parameter was updated"
            )
        if g.dtype != p.dtype:
            raise DTypeError(
                f"{self._name}.step: parameter {i} of its group is {p.dtype} but its grad is "
                f"{g.dtype}; no parameter was updated"
            )
        backend = backend_of(p)
        if backend_of(g) is not backend or not backend.same_device(p, g):
            raise DeviceError(
                f"{self._name}.step: parameter {i} of its group is on {backend.device_of(p)} "
                f"but its grad is on {backend_of(g).device_of(g)}; no parameter was updated"
            )

    def _init_state(self, xp: ModuleType, p: Any, group: dict[str, Any]) -> dict[str, Any]:
        """The state of parameter array ``p`` before its first update."""
        return {}

    def _update(
        self, xp: ModuleType, p: Any, g: Any, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        """Update parameter array ``p`` in place, given its gradient ``g`` (not to be changed)."""
        raise NotImplementedError

    def _scratch(self, p: Any, count: int) -> list[Any]:
        """``count`` arrays shaped like ``p`` (its dtype, its device), for the temporaries of
        the update. They are views of one buffer per dtype and device, reused by every
        parameter and every step, so the update math allocates nothing."""
        if p.__class__ is Params:  # a group's parameters at once: their flat size
            p = p.like
        device = CPU if p.__class__ is np.ndarray else backend_of(p).device_of(p)
        key = (device, p.dtype, p.shape, p.strides, count)
        views = self._scratch_views.get(key)
        if views is None:
            backend: Backend = backend_of(p)
            buffer = self._scratch_arrays.get(key[:2])
            n = p.size
            line = max(1, ALIGN // p.dtype.itemsize)  # elements of a cache line
            step = -(-n // line) * line  # on the CPU each view starts on one
            if buffer is None or buffer.size < count * step:
                if p.__class__ is np.ndarray:
                    buffer = aligned_empty(count * step, p.dtype)
                else:
                    buffer = backend.xp.empty(count * step, p.dtype)
                self._scratch_arrays[key[:2]] = buffer
                # views of the buffer replaced are stale
                self._scratch_views = {
                    k: v for k, v in self._scratch_views.items() if k[:2] != key[:2]
                }
            layout = layouts_of([p])  # in p's layout
            views = [end_to_end(buffer[i * step : i * step + n], layout)[0] for i in range(count)]
            self._scratch_views[key] = views
        return views

    # ------------------------------------------------------------ save / load
    def state_dict(self) -> dict[str, Any]:
        """A snapshot of the optimizer: ``{"state": {index: {...}}, "param_groups": [...],
        "steps": n}``.

        Parameters are named by their index in the order of ``param_groups`` (as in PyTorch);
        state arrays are copies, so training on does not change a saved snapshot. ``steps``
        counts ``step()`` calls (it times the flush of subnormals, so a resumed run repeats
        an uninterrupted one exactly).
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            ids = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        state = {
            index[id(p)]: {k: _copy(v) for k, v in s.items()}
            for p, s in self.state.items()
            if id(p) in index
        }
        return {"state": state, "param_groups": groups, "steps": self._steps}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a snapshot made by ``state_dict()`` of an optimizer over parameters of the
        same shapes, in the same groups. State arrays are copied onto each parameter's device
        and dtype; the saved hyperparameters replace the current ones."""
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{self._name}.load_state_dict: the saved state has a different number of "
                f"parameter groups ({len(saved_groups)}) than this optimizer "
                f"({len(self.param_groups)})"
            )
        params: dict[Any, Tensor] = {}
        for k, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    f"{self._name}.load_state_dict: saved parameter group {k} has "
                    f"{len(saved['params'])} parameters, this optimizer's has "
                    f"{len(group['params'])}"
                )
            params.update(zip(saved["params"], group["params"]))
        state: dict[Tensor, dict[str, Any]] = {}
        for index, saved_state in state_dict["state"].items():
            if index not in params:
                raise ValueError(
                    f"{self._name}.load_state_dict: state for parameter {index!r}, which no "
                    f"saved parameter group contains"
                )
            p = params[index]
            state[p] = {k: self._loaded(p, index, k, v) for k, v in saved_state.items()}
        groups = [
            {**{k: v for k, v in saved.items() if k != "params"}, "params": group["params"]}
            for group, saved in zip(self.param_groups, saved_groups)
        ]
        for group in groups:
            self._check(group)
        self.state, self.param_groups = state, groups
        self._steps = int(state_dict.get("steps", 0))  # absent from PyTorch's state dicts

    def _loaded(self, p: Tensor, index: Any, key: str, value: Any) -> Any:
        """A saved state value made fit for parameter ``p``: arrays copied to its device and
        dtype (and checked against its shape); numbers as they are."""
        if not _is_array(value):
            return value
        if value.shape != p.shape:
            raise ShapeError(
                f"{self._name}.load_state_dict: saved {key!r} of parameter {index!r} has shape "
                f"{value.shape}, the parameter has shape {p.shape}"
            )
        backend = backend_of(p.data)
        device = backend.device_of(p.data)
        if backend_of(value) is not backend or backend.device_of(value) != device:
            value = transfer(value, device)
        with backend.device_context(device):
            return value.astype(p.dtype, copy=True)

    def __repr__(self) -> str:
        lines = [f"{self._name} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join([*lines, ")"])


def check_number(
    owner: str,
    name: str,
    value: Any,
    low: float = 0.0,
    high: float = math.inf,
    *,
    low_open: bool = False,
    high_open: bool = False,
    integer: bool = False,
) -> None:
    """Raise a ValueError, naming ``owner`` and ``name``, unless ``value`` is a real number (an
    integer if ``integer``) between ``low`` and ``high``, each bound included unless open."""
    kind = numbers.Integral if integer else numbers.Real
    ok = (
        isinstance(value, kind)
        and not isinstance(value, bool)
        and (low < value if low_open else low <= value)
        and (value < high if high_open else value <= high)
    )
    if not ok:
        if high == math.inf:
            interval = f"{'>' if low_open else '>='} {low:g}"
        else:
            interval = f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        what = "an integer" if integer else "a number"
        raise ValueError(f"{owner}: invalid {name} {value!r}: must be {what} {interval}")


def state_buffer(xp: ModuleType, state: dict[str, Any], key: str, p: Any) -> Any:
    """``state[key]``, made as zeros like the parameter array ``p`` if it is not there yet."""
    b = state.get(key)
    if b is None:
        b = state[key] = xp.zeros_like(p.like if p.__class__ is Params else p)
    return b


def with_weight_decay(xp: ModuleType, p: Any, g: Any, wd: float, out: Any) -> Any:
    """g + wd θ, the gradient of the loss plus the (coupled) L2 term wd/2 Σθ², computed into
    ``out``; ``g`` itself when wd is 0."""
    if not wd:
        return g
    xp.multiply(p, wd, out=out)
    return xp.add(out, g, out=out)


def _is_array(value: Any) -> bool:
    """Whether ``value`` is a backend ndarray (not a NumPy scalar: those are not state
    buffers)."""
    try:
        return isinstance(value, backend_of(value).xp.ndarray)
    except TypeError:
        return False


def _copy(value: Any) -> Any:
    if not _is_array(value):
        return value
    backend = backend_of(value)
    with backend.guard(value):
        return value.copy()
