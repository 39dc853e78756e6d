"""Anomaly mode: find the op that made the first NaN or infinity, and the line that called it.

    with autograd.detect_anomaly():
        loss = model(x)          # an op whose output turns non-finite raises AnomalyError here
        loss.backward()          # a backward rule whose gradient turns non-finite raises here

Inside ``detect_anomaly()`` (a context manager and a decorator, like ``no_grad``):

* **forward**: an op whose inputs are finite but whose output holds a NaN or an infinity raises
  :class:`AnomalyError` naming the op, its inputs (shapes, dtypes) and the line of code that
  called it. Non-finite values fed in as data (a ``-inf`` attention mask) pass: they were not
  produced by an op.
* **backward**: a node whose backward rule turns a finite incoming gradient into a NaN or an
  infinity raises the same error, naming the op and the line that created the node in forward
  (the classic case: ``where(x > 0, sqrt(x), 0)`` at x = 0, whose masked branch sends
  0 / 0 = NaN back to x).
* each recorded node keeps the place where it was created, so any other error raised by its
  backward (a second backward through freed buffers ...) carries a note naming that line.

``detect_anomaly(check_nan=False)`` only records where nodes were created (the notes), without
checking values. The mode is thread-local and off by default; off, it costs one flag check per
op call and one per backward pass. On, every op captures the call stack and every result is
scanned: expect training to run several times slower, as with PyTorch's ``detect_anomaly``.
"""

from __future__ import annotations

import functools
import math
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

from .backend import backend_of, device_guard
from .errors import ArraygradError
from .grad_mode import _mode

F = TypeVar("F", bound=Callable[..., Any])

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
_SHOWN_FRAMES = 4  # frames of the creation stack shown in a message, innermost last


class AnomalyError(ArraygradError, RuntimeError):
    """A NaN or an infinity made by an op or by its backward rule, found by
    ``detect_anomaly()``; the message names the op, its inputs and where it was created."""


def is_anomaly_enabled() -> bool:
    """Whether anomaly mode is on in this thread."""
    return _mode.anomaly


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly mode, when on, checks results for NaN and infinity in this thread."""
    return _mode.check_nan


class detect_anomaly:
    """Turn anomaly mode on inside a ``with`` block or a decorated function (see the module
    docstring); ``check_nan=False`` only records where nodes are created."""

    mode = True

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = bool(check_nan)
        self._saved: list[tuple[bool, bool]] = []  # the modes to restore, innermost last

    def __enter__(self) -> None:
        self._saved.append((_mode.anomaly, _mode.check_nan))
        _mode.anomaly, _mode.check_nan = self.mode, self.check_nan

    def __exit__(self, *exc: object) -> None:
        _mode.anomaly, _mode.check_nan = self._saved.pop()

    def __call__(self, fn: F) -> F:
        mode, check_nan = self.mode, self.check_nan

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            prev = (_mode.anomaly, _mode.check_nan)
            _mode.anomaly, _mode.check_nan = mode, check_nan
            try:
                return fn(*args, **kwargs)
            finally:
                _mode.anomaly, _mode.check_nan = prev

        return wrapper  # type: ignore[return-value]


class set_detect_anomaly(detect_anomaly):
    """Turn anomaly mode on or off (``set_detect_anomaly(True)``), restored when the block
    ends; takes effect on construction, so it also works as a plain call (PyTorch's name)."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        super().__init__(check_nan)
        self.mode = bool(mode)
        super().__enter__()

    def __enter__(self) -> None:
        pass  # already in effect since construction

    def __call__(self, fn: F) -> F:
        super().__exit__()  # used as a decorator: undo the effect of construction
        return super().__call__(fn)


class Creation:
    """Where a node was created (kept on ``Function.anomaly`` in anomaly mode): the call stack
    outside autograd, innermost last, and what its inputs were (``inputs`` says it)."""

    __slots__ = ("operands", "stack")

    def __init__(self, stack: list[tuple[str, int, str]], inputs: tuple[Any, ...]) -> None:
        self.stack = stack  # (file, line, function), outermost first
        # (shape, dtype) of each array operand, the constant itself otherwise: no arrays kept
        self.operands = tuple(
            (d.shape, d.dtype) if hasattr(d, "shape") and hasattr(d, "dtype") else d
            for d in map(_data, inputs)
        )

    @property
    def inputs(self) -> str:
        """The inputs in words: 'input 0: shape (3,), float32; input 1: 2.0'."""
        parts = [
            f"input {i}: shape {tuple(x[0])}, {x[1]}" if type(x) is tuple else f"input {i}: {x!r}"
            for i, x in enumerate(self.operands)
        ]
        return "; ".join(parts) or "no inputs"

    def where(self) -> str:
        """The innermost frames, formatted as a traceback (source lines read now)."""
        frames = traceback.StackSummary.from_list(
            [(file, line, name, None) for file, line, name in self.stack[-_SHOWN_FRAMES:]]
        )
        return "".join(frames.format()).rstrip()


def check_forward(fn: Any, out: Any, inputs: tuple[Any, ...], recorded: bool) -> None:
    """Called by ``Function.__call__`` in anomaly mode, after forward: raise if the op made a
    NaN or an infinity from finite inputs; keep where a recorded node was created."""
    creation = None
    if recorded:
        creation = fn.anomaly = Creation(_user_stack(), inputs)
    if not _mode.check_nan or _finite(out) or not all(_finite(_data(x)) for x in inputs):
        return
    creation = creation or Creation(_user_stack(), inputs)
    raise AnomalyError(
        f"{fn.name}: produced {_what(out)} in forward, from finite inputs ({creation.inputs}; "
        f"output: {_describe(out)}). The op was called at:\n{creation.where()}"
    )


def run_backward(node: Any, m: Any, g: Any, create_graph: bool, on_device: bool) -> Any:
    """``node.apply_backward`` as the engine runs it in anomaly mode: an error raised by the
    rule gets a note naming where the node was created; a NaN or an infinity in a gradient
    made from a finite incoming gradient raises :class:`AnomalyError`."""
    try:
        if on_device:
            with device_guard(g):
                grads = node.apply_backward(m, g, create_graph)
        else:
            grads = node.apply_backward(m, g, create_graph)
    except AnomalyError:
        raise
    except Exception as e:
        creation = getattr(node, "anomaly", None)
        if creation is not None:
            _add_note(e, f"The failing node ({node.name}) was created at:\n{creation.where()}")
        raise
    if _mode.check_nan and _finite(_data(g)):
        for i, gi in enumerate(grads):
            if gi is None or _finite(_data(gi)):
                continue
            creation = getattr(node, "anomaly", None)
            where = (
                f"The {node.name} node ({creation.inputs}) was created at:\n{creation.where()}"
                if creation is not None
                else f"The {node.name} node was created outside detect_anomaly(): run the "
                f"forward pass inside it too to see where."
            )
            raise AnomalyError(
                f"{node.name}: its backward rule produced {_what(_data(gi))} in the gradient of "
                f"input {i} ({_describe(gi)}) from a finite incoming gradient. {where}"
            )
    return grads


def _user_stack() -> list[tuple[str, int, str]]:
    """The current call stack without autograd's own frames, innermost last, as (file, line,
    function): cheap to keep; source lines are read only if a message shows them."""
    frame: Any = sys._getframe(1)
    frames = []
    while frame is not None:
        code = frame.f_code
        if not code.co_filename.startswith(_PACKAGE):
            frames.append((code.co_filename, frame.f_lineno, code.co_name))
        frame = frame.f_back
    frames.reverse()
    return frames


def _add_note(error: BaseException, note: str) -> None:
    add_note = getattr(error, "add_note", None)
    if add_note is not None:  # Python 3.11+
        add_note(note)
    elif error.args and isinstance(error.args[0], str):
        error.args = (f"{error.args[0]}\n{note}", *error.args[1:])


def _data(x: Any) -> Any:
    return getattr(x, "data", x) if hasattr(x, "grad_fn") else x


def _finite(a: Any) -> bool:
    """Whether ``a`` (an array, a NumPy scalar or a number) holds no NaN and no infinity."""
    if isinstance(a, (int, float)):
        return math.isfinite(a)
    dtype = getattr(a, "dtype", None)
    if dtype is None or dtype.kind not in "fc":
        return True
    with device_guard(a):
        return bool(backend_of(a).xp.isfinite(a).all())


def _what(a: Any) -> str:
    """Which non-finite values ``a`` holds, in words: 'NaN (2 of 6 values)'."""
    with device_guard(a):
        xp = backend_of(a).xp
        nan, inf = int(xp.isnan(a).sum()), int(xp.isinf(a).sum())
        size = int(xp.asarray(a).size)
    parts = ([f"NaN ({nan} of {size} values)"] if nan else []) + (
        [f"infinity ({inf} of {size} values)"] if inf else []
    )
    return " and ".join(parts)


def _describe(x: Any) -> str:
    data = _data(x)
    if hasattr(data, "shape") and hasattr(data, "dtype"):
        return f"shape {tuple(data.shape)}, {data.dtype}"
    return repr(x)
