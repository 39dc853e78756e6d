"""Containers: modules that hold other modules. ``Sequential`` chains them, ``ModuleList``
only registers them (its owner decides how to call them)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeVar, overload

from .module import Module

C = TypeVar("C", bound="_Container")


class _Container(Module):
    """Children named by position (``"0"``, ``"1"`` ...): length, iteration, ``append``."""

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self: C, module: Module) -> C:
        """Add ``module`` at the end; returns self."""
        self.add_module(str(len(self._modules)), module)
        return self


class Sequential(_Container):
    """Modules applied one after another: ``Sequential(Linear(4, 8), ReLU(), Linear(8, 1))``.
    Children are named ``"0"``, ``"1"`` ... (or by the keys of an OrderedDict)."""

    def __init__(self, *modules: Module | Mapping[str, Module]) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(modules):
                self.add_module(str(i), module)  # type: ignore[arg-type]

    def forward(self, x: Any) -> Any:
        for module in self._modules.values():
            x = module(x)
        return x

    @overload
    def __getitem__(self, index: int) -> Module: ...

    @overload
    def __getitem__(self, index: slice) -> Sequential: ...

    def __getitem__(self, index: int | slice) -> Module | Sequential:
        if isinstance(index, slice):
            return Sequential(OrderedDict(list(self._modules.items())[index]))
        return list(self._modules.values())[index]


class ModuleList(_Container):
    """A list of submodules, registered and named by position; it has no forward."""

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        super().__init__()
        self.extend(modules)

    def __getitem__(self, index: int) -> Module:
        return list(self._modules.values())[index]

    def __setitem__(self, index: int, module: Module) -> None:
        n = len(self._modules)
        if not -n <= index < n:
            raise IndexError(f"ModuleList index {index} out of range for length {n}")
        setattr(self, str(index % n), module)

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Add each of ``modules`` at the end; returns self."""
        for module in modules:
            self.append(module)
        return self


__all__ = ["ModuleList", "Sequential"]
