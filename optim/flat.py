"""One update over a whole group of parameters: the multi-tensor form of an optimizer's step.

A compiled step (``autograd.compile``) plans the gradients of an optimizer's parameters as
consecutive views of one array, an *arena* (``Optimizer.grads_laid_end_to_end``). Where every
parameter of a group holds its gradient there, the group's state arrays are kept as views of
flat arrays laid out the same way, and the optimizer's ``_update`` runs once over the flat
arrays (RMSprop: nine ufunc calls instead of nine per parameter), with ``Params`` standing for
the parameters in its in-place writes. Elementwise math is the same element by element, so
the bits are those of the step taken parameter by parameter (eager's); anything else (a
gradient elsewhere, weight decay, which reads the parameters) takes that step.
"""

from __future__ import annotations

import math
import weakref
from typing import Any

import numpy as np

from autograd.replay import aligned_empty, end_to_end, layouts_of


class Params:
    """The parameters of a group as one operand of the flat update: ``p -= d`` and ``p *= c``
    apply to each parameter its part of ``d`` (``end_to_end``, in its gradient's layout);
    ``like`` (the flat gradients) stands for them where an array of their size is made."""

    __slots__ = ("arrays", "layouts", "like")

    def __init__(self, arrays: list[Any], like: Any, layouts: list[Any]) -> None:
        self.arrays, self.like, self.layouts = arrays, like, layouts

    def __isub__(self, d: Any) -> Params:
        for p, part in zip(self.arrays, end_to_end(d, self.layouts)):
            p -= part
        return self

    def __imul__(self, c: float) -> Params:
        for p in self.arrays:
            p *= c
        return self


class Arena:
    """The gradients of one group as a compiled step plans them: views of the 1-d ``arena``
    in the group's order, known by their ids, and their ``layouts``. The array that owns the
    arena's memory (the views' ``base``) is held weakly: the step's buffers keep it."""

    __slots__ = ("ids", "layouts", "owner", "start", "stop")

    def __init__(self, arena: Any, views: list[Any]) -> None:
        owner = arena if arena.base is None else arena.base
        self.owner = weakref.ref(owner)
        self.start = (arena.ctypes.data - owner.ctypes.data) // arena.itemsize
        self.stop = self.start + arena.size
        self.ids = [id(v) for v in views]
        self.layouts = layouts_of(views)

    def holding(self, params: list[Any]) -> Any:
        """The arena if each of ``params`` holds its gradient there now (NumPy parameters),
        else None."""
        owner = self.owner()
        if owner is None or len(params) != len(self.ids):
            return None
        for param, i in zip(params, self.ids):
            grad = param._grad
            if grad is None or param.data.__class__ is not np.ndarray:
                return None
            g = grad.data
            if id(g) != i or g.base is not owner:
                return None
        return owner[self.start : self.stop]


class FlatState:
    """A group's state as flat arrays (``arrays``: key -> flat array; ``numbers``: key ->
    the number every parameter's state holds), each parameter's state entry a view of them
    (``views``) in its gradient's layout (``layouts``)."""

    __slots__ = ("arrays", "layouts", "numbers", "views")

    def __init__(self, layouts: list[Any]) -> None:
        self.arrays: dict[str, Any] = {}
        self.numbers: dict[str, Any] = {}
        self.views: dict[str, list[Any]] = {}
        self.layouts = layouts

    @staticmethod
    def made(states: list[dict[str, Any]], layouts: list[Any]) -> FlatState | None:
        """The flat state of ``states`` (one per parameter, same keys), its arrays copied into
        flat arrays and each state entry made a view of them; None where the states do not
        fit one (other keys, numbers that differ, arrays not of their parameter's shape)."""
        keys = list(states[0])
        if any(list(s) != keys for s in states):
            return None
        flat = FlatState(layouts)
        n = sum(math.prod(shape) for shape, _ in layouts)
        for key in keys:
            values = [s[key] for s in states]
            if values[0].__class__ is np.ndarray:
                dtype = values[0].dtype
                if any(
                    v.__class__ is not np.ndarray or v.shape != shape or v.dtype != dtype
                    for v, (shape, _) in zip(values, layouts)
                ):
                    return None
                flat.arrays[key] = aligned_empty(n, dtype)
            elif any(v.__class__ is np.ndarray or v != values[0] for v in values):
                return None
            else:
                flat.numbers[key] = values[0]
        for key, array in flat.arrays.items():
            flat._spread(key, array, states, copy=True)
        return flat

    def _spread(self, key: str, array: Any, states: list[dict[str, Any]], copy: bool) -> None:
        """Make each parameter's ``state[key]`` its view of the flat ``array`` (``copy``: the
        values it held first copied in)."""
        parts = end_to_end(array, self.layouts)
        for s, part in zip(states, parts):
            if copy:
                part[...] = s[key]
            s[key] = part
        self.arrays[key] = array
        self.views[key] = parts  # held, so that a state entry replaced is never taken for one

    def current(self, states: list[dict[str, Any]], layouts: list[Any]) -> bool:
        """Whether ``states`` still hold this flat state's views and numbers, laid out so."""
        if layouts != self.layouts:
            return False
        for key, views in self.views.items():
            for s, view in zip(states, views):
                if s.get(key) is not view:
                    return False
        for key, v in self.numbers.items():
            for s in states:
                if s.get(key) != v:
                    return False
        return all(len(s) == len(self.views) + len(self.numbers) for s in states)

    def as_state(self) -> dict[str, Any]:
        """The state ``_update`` reads and writes: the flat arrays and the numbers."""
        return {**self.arrays, **self.numbers}

    def updated(self, state: dict[str, Any], states: list[dict[str, Any]]) -> None:
        """After ``_update`` changed ``state`` (the flat one): new numbers go to every
        parameter's state, new flat arrays (a momentum buffer made at its first step) too,
        as views."""
        for key, v in state.items():
            if v.__class__ is np.ndarray:
                if self.arrays.get(key) is not v:
                    self._spread(key, v, states, copy=False)
            else:
                self.numbers[key] = v
                for s in states:
                    s[key] = v
