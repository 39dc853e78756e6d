"""``Module``: a function with state (parameters, buffers, submodules); ``Parameter``.

A module registers what is assigned to it: ``self.weight = Parameter(...)`` adds a parameter,
``self.fc = Linear(...)`` a submodule, ``self.register_buffer("running_mean", t)`` a buffer
(state that is saved and moved with the module but not trained).

Names. Every module and tensor knows its qualified name, the dotted path from the outermost
module it was built into: a parameter's ``Tensor.name`` is ``"layers.0.weight"``, and each call
of a module records its operations under ``autograd.scope`` with its path (the outermost module
uses its class name, e.g. ``"MLP"``), so a picture of the graph can draw a module as one box.
A module or tensor is named by the first module it is attached to; sharing it with a second
parent later keeps its first name.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple, TypeVar

import autograd as ag
from autograd import Device, Tensor, dtypes
from autograd.compiler import replayed_whole
from autograd.conversion import to_args
from autograd.grad_mode import _mode
from autograd.replay import module_changes

M = TypeVar("M", bound="Module")


class Parameter(Tensor):
    """A leaf tensor that requires grad and registers itself on a Module when assigned.

    ``Parameter(data)`` wraps ``data`` (a Tensor or an array) without copying it.
    """

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True) -> None:
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class of layers and models: subclasses set parameters and submodules in
    ``__init__`` and compute in ``forward``; call the module, not ``forward``."""

    training: bool

    def __init__(self) -> None:
        setattr_ = object.__setattr__
        setattr_(self, "_parameters", OrderedDict())
        setattr_(self, "_buffers", OrderedDict())
        setattr_(self, "_non_persistent", set())
        setattr_(self, "_modules", OrderedDict())
        setattr_(self, "_named", set())  # attributes whose names this module gives
        setattr_(self, "_path", "")  # qualified name; "" until attached to a parent
        setattr_(self, "_scope", ag.scope(type(self).__name__))  # opened by each call
        setattr_(self, "training", True)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if _mode.tape is not None:  # autograd.compile is recording: it guards on train/eval
            _mode.tape.module(self)
        with self._scope:  # ops recorded inside carry this module's name (graph pictures)
            return self.forward(*args, **kwargs)

    # ------------------------------------------------------------ registration
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {name!r} before Module.__init__() call: call "
                f"super().__init__() first in {type(self).__name__}.__init__"
            )
        module_changes.n += 1  # compiled steps' guards look at the modules again
        if isinstance(value, Parameter):
            self._forget(name, keep=self._parameters)  # a replaced one keeps its place
            self._parameters[name] = value
            self._adopt_tensor(name, value)
        elif isinstance(value, Module):
            self._forget(name, keep=self._modules)
            self._modules[name] = value
            self._adopt_module(name, value)
        elif name in self._parameters:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} to parameter {name!r} of "
                    f"{type(self).__name__}: expected an nn.Parameter or None"
                )
            self._parameters[name] = None
        elif name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign {type(value).__name__} to buffer {name!r} of "
                    f"{type(self).__name__}: expected a Tensor or None"
                )
            self._buffers[name] = value
            self._adopt_tensor(name, value)
        elif name in self._modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} to submodule {name!r} of "
                    f"{type(self).__name__}: expected an nn.Module or None"
                )
            self._modules[name] = None
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._forget(name)  # (counts the change)
        object.__delattr__(self, name)

    def _forget(self, name: str, keep: dict[str, Any] | None = None) -> None:
        """Drop ``name`` from the registries (but ``keep``, where it is assigned again and
        keeps its place in the order, as in PyTorch). Every registration passes here."""
        module_changes.n += 1
        for registry in (self._parameters, self._buffers, self._modules):
            if registry is not keep:
                registry.pop(name, None)
        self._non_persistent.discard(name)
        self._named.discard(name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add ``param`` (or None, a declared but absent parameter) as ``self.<name>``."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be an nn.Parameter or None")
        self._forget(name, keep=self._parameters)
        self._parameters[name] = param
        self._adopt_tensor(name, param)
        object.__setattr__(self, name, param)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add ``tensor`` as state of the module that is not trained (e.g. running means):
        moved by ``to`` and, when ``persistent``, part of ``state_dict``."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: {name!r} must be a Tensor or None")
        self._forget(name, keep=self._buffers)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)
        self._adopt_tensor(name, tensor)
        object.__setattr__(self, name, tensor)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add ``module`` as the submodule ``self.<name>``."""
        if module is None:
            self._forget(name)
            self._modules[name] = None
            object.__setattr__(self, name, None)
        elif isinstance(module, Module):
            setattr(self, name, module)
        else:
            raise TypeError(f"add_module: {name!r} must be an nn.Module or None")

    def _adopt_tensor(self, name: str, t: Tensor | None) -> None:
        """Give ``t`` its qualified name, unless another module named it first."""
        path = _join(self._path, name)
        if t is not None and t.name in (None, path):
            self._named.add(name)
            t.name = path

    def _adopt_module(self, name: str, module: Module) -> None:
        """Give ``module`` (and everything it named) its path, unless it already has a
        parent."""
        path = _join(self._path, name)
        if module._path in ("", path) and module is not self:
            self._named.add(name)
            module._set_path(path)

    def _set_path(self, path: str) -> None:
        object.__setattr__(self, "_path", path)
        self._scope.label = path or type(self).__name__
        self._scope.display = _class_label(self)  # pictures show it beside the path
        for name in self._named:
            for registry in (self._parameters, self._buffers):
                t = registry.get(name)
                if t is not None:
                    t.name = _join(path, name)
            child = self._modules.get(name)
            if child is not None:
                child._set_path(_join(path, name))

    # ---------------------------------------------------------------- traversal
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """(qualified name, module) for this module (name ``prefix``) and all below it, each
        module once."""
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(_join(name, n), c) for n, c in module._modules.items() if c is not None]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        """This module and all modules below it, each once."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, module) for the direct submodules."""
        for name, module in self._modules.items():
            if module is not None:
                yield name, module

    def children(self) -> Iterator[Module]:
        """The direct submodules."""
        for _, module in self.named_children():
            yield module

    def named_parameters(
        self, prefix: str = "", recurse: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """(qualified name, parameter) for every parameter, each once (a shared parameter
        under its first name)."""
        yield from self._named_members(lambda m: m._parameters.items(), prefix, recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter, each once, in registration order."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        """(qualified name, buffer) for every buffer, each once."""
        yield from self._named_members(lambda m: m._buffers.items(), prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer, each once."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def _named_members(
        self,
        members: Callable[[Module], Iterable[tuple[str, Tensor | None]]],
        prefix: str,
        recurse: bool,
    ) -> Iterator[tuple[str, Any]]:
        seen: set[int] = set()
        modules = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for module_name, module in modules:
            for name, t in members(module):
                if t is None or id(t) in seen:
                    continue
                seen.add(id(t))
                yield _join(module_name, name), t

    def num_parameters(self, trainable_only: bool = False) -> int:
        """The number of scalar parameters (each shared parameter counted once)."""
        return sum(p.size for p in self.parameters() if p.requires_grad or not trainable_only)

    def apply(self: M, fn: Callable[[Module], Any]) -> M:
        """Call ``fn`` on every submodule (children first) and then on this module."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # -------------------------------------------------------------------- modes
    def train(self: M, mode: bool = True) -> M:
        """Set training mode (``training = mode``) here and in every submodule."""
        module_changes.n += 1
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self: M) -> M:
        """Set evaluation mode: dropout off, batch norm uses its running statistics."""
        return self.train(False)

    def requires_grad_(self: M, requires_grad: bool = True) -> M:
        """Freeze (False) or unfreeze (True) every parameter."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients of every parameter: ``grad = None`` (the default, as in
        PyTorch: the next backward stores fresh ones instead of adding to them), or, with
        ``set_to_none=False``, fill them with zeros in place (a create_graph gradient is cut
        from its graph first)."""
        if set_to_none:  # a compiled step records one assignment per parameter
            for p in self.parameters():
                p.grad = None
        else:
            self._zero_grads_in_place()

    @replayed_whole
    def _zero_grads_in_place(self) -> None:
        for p in self.parameters():
            grad = p.grad
            if grad is None:
                continue
            if grad.grad_fn is not None:
                grad = p.grad = grad.detach()
            with ag.no_grad():
                grad.zero_()  # in place, bumping its version

    # ------------------------------------------------------------------ devices
    def to(self: M, *args: Any, device: str | Device | None = None, dtype: Any = None) -> M:
        """Move every parameter and buffer to ``device`` and/or convert its floating data to
        ``dtype``, in place (the Parameter objects stay the same, so optimizers that hold
        them keep working); gradients move with them. The forms of ``Tensor.to``:
        ``to("cuda")``, ``to(float64)``, ``to("cuda", float64)`` or keywords. Returns self."""
        device, dtype = to_args(f"{type(self).__name__}.to", args, device, dtype)
        for t in [*self.parameters(), *self.buffers()]:
            t.data = _converted(t, device, dtype)
            if t.grad is not None:
                t.grad.data = _converted(t.grad, device, dtype)
        return self

    def cpu(self: M) -> M:
        return self.to("cpu")

    def cuda(self: M, index: int | None = None) -> M:
        return self.to("cuda" if index is None else f"cuda:{index}")

    def float(self: M) -> M:
        return self.to(dtype=ag.float32)

    def double(self: M) -> M:
        return self.to(dtype=ag.float64)

    # ------------------------------------------------------------------- state
    def state_dict(self) -> OrderedDict[str, Tensor]:
        """Qualified name -> tensor for every parameter and persistent buffer (detached,
        sharing data with the module). A shared tensor appears under each of its names."""
        return OrderedDict((k, t.detach()) for k, t in self._state_tensors().items())

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> LoadResult:
        """Copy the values of ``state_dict`` (Tensors or arrays) into the module's parameters
        and buffers, in place (references to them stay current, as in PyTorch), onto the
        device where each of them lives.

        Every key, shape and dtype is checked before anything is copied: on any problem a
        ``StateDictError`` lists all of them and the module is left unchanged. Missing and
        unexpected keys are problems only when ``strict``; they are returned either way.
        """
        own = self._state_tensors()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        mismatched = []
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            shape, dtype = getattr(value, "shape", None), getattr(value, "dtype", None)
            if shape is None or dtype is None:
                mismatched.append(f"{key}: expected a tensor or array, got {type(value).__name__}")
            elif tuple(shape) != target.shape or dtype != target.dtype:
                mismatched.append(
                    f"{key}: {tuple(shape)} {dtype} in the state dict, {target.shape} "
                    f"{target.dtype} in the model"
                )
        problems = []
        if mismatched:
            problems.append("mismatched: " + "; ".join(mismatched))
        if strict and missing:
            problems.append("missing keys: " + ", ".join(missing))
        if strict and unexpected:
            problems.append("unexpected keys: " + ", ".join(unexpected))
        if problems:
            raise StateDictError(
                f"load_state_dict into {type(self).__name__} failed; the model is unchanged.\n  "
                + "\n  ".join(problems),
                missing if strict else [],
                unexpected if strict else [],
                mismatched,
            )
        with ag.no_grad():  # into the tensors' own arrays (copy_ bumps their versions)
            for key, target in own.items():
                if key in state_dict:
                    value = state_dict[key]
                    target.copy_(value)
        return LoadResult(missing, unexpected)

    def _state_tensors(self) -> dict[str, Tensor]:
        """Qualified name -> the module's own tensor, for every entry of ``state_dict``."""
        out: dict[str, Tensor] = {}
        for prefix, module in self._all_modules():
            persistent = [
                (n, b) for n, b in module._buffers.items() if n not in module._non_persistent
            ]
            for name, t in [*module._parameters.items(), *persistent]:
                if t is not None:
                    out[_join(prefix, name)] = t
        return out

    def _all_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """Every (path, module), a shared module under each of its paths."""
        yield prefix, self
        for name, child in self.named_children():
            yield from child._all_modules(_join(prefix, name))

    # -------------------------------------------------------------------- repr
    def extra_repr(self) -> str:
        """The module's settings, shown inside its repr's parentheses."""
        return ""

    def __repr__(self) -> str:
        lines = [f"({name}): {_indent(repr(m))}" for name, m in self._modules.items()]
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        body = ([extra] if extra else []) + lines
        return type(self).__name__ + "(\n  " + "\n  ".join(body) + "\n)"


class LoadResult(NamedTuple):
    """What ``load_state_dict`` did not match: keys the model has and the dict lacks, and
    keys the dict has and the model lacks."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class StateDictError(ValueError):
    """A state dict does not fit a module; the message lists every problem, also kept in
    ``missing_keys``, ``unexpected_keys`` and ``mismatched`` (one description per key)."""

    def __init__(
        self, message: str, missing: list[str], unexpected: list[str], mismatched: list[str]
    ) -> None:
        super().__init__(message)
        self.missing_keys, self.unexpected_keys, self.mismatched = missing, unexpected, mismatched


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _class_label(module: Module) -> str:
    """A module's kind as pictures name it: ``Linear(256 -> 128)``, ``Dropout(p=0.4)``,
    ``BatchNorm1d(256)`` (the class and its sizes, or the first setting of its repr)."""
    name = type(module).__name__
    n_in, n_out = (getattr(module, k, None) for k in ("in_features", "out_features"))
    if isinstance(n_in, int) and isinstance(n_out, int):
        return f"{name}({n_in} -> {n_out})"
    first = module.extra_repr().split(", ")[0]
    return f"{name}({first})" if first else name


def _indent(text: str) -> str:
    return text.replace("\n", "\n  ")


def _converted(t: Tensor, device: Any, dtype: Any) -> Any:
    """The data of ``t`` on ``device`` and, if floating, as ``dtype`` (explicit moves)."""
    out = t.detach()
    if dtype is not None and dtypes.is_floating(t.dtype):
        out = out.to(dtype)
    if device is not None:
        out = out.to(device=device)
    return out.data


def __getattr__(name: str) -> Any:
    """The containers moved to ``nn.containers``; ``from nn.module import Sequential`` works."""
    if name in ("Sequential", "ModuleList"):
        from . import containers

        return getattr(containers, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["LoadResult", "Module", "Parameter", "StateDictError"]
