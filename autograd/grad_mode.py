"""How operations are recorded: ``no_grad``, ``enable_grad``, ``set_grad_enabled`` say whether,
``scope`` says under which label (graph pictures group an op by its scope, e.g. the ``nn``
module that ran it).

The state is thread-local: one object per thread (``_mode``), which anomaly mode shares (a
compiled step's guard reads both flags at the cost of one thread-local lookup). Each grad-mode
class works as a context manager and as a decorator.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _GradMode(threading.local):
    enabled = True
    scope: tuple[str, ...] = ()  # labels of the enclosing scopes, outermost first
    tape: Any = None  # the recording autograd.compile is making, while it makes one
    anomaly = False  # detect_anomaly() is on (see anomaly.py)
    check_nan = True  # and checks results for NaN and infinity


_mode = _GradMode()


def is_grad_enabled() -> bool:
    """Whether new operations are recorded for backward in this thread."""
    return _mode.enabled


class _GradModeContext:
    """Sets the grad mode to ``self.mode`` inside a ``with`` block or a decorated function."""

    mode: bool

    def __enter__(self) -> None:
        self.prev, _mode.enabled = _mode.enabled, self.mode

    def __exit__(self, *exc: object) -> None:
        _mode.enabled = self.prev

    def __call__(self, fn: F) -> F:
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            prev, _mode.enabled = _mode.enabled, mode
            try:
                return fn(*args, **kwargs)
            finally:
                _mode.enabled = prev

        return wrapper  # type: ignore[return-value]


class no_grad(_GradModeContext):
    """Do not record operations: results have no ``grad_fn`` and do not require grad."""

    mode = False


class enable_grad(_GradModeContext):
    """Record operations, also inside a ``no_grad`` block."""

    mode = True


class scope:
    """Label the operations recorded inside the block: ``with autograd.scope("encoder"): ...``.

    Scopes nest; each recorded op keeps the tuple of enclosing labels as ``grad_fn.scope``.
    ``nn.Module`` opens one per module call (its qualified name), so a picture of the graph can
    draw a module as one box. One ``scope`` object can be entered again and again, also nested
    in itself: each exit closes the innermost label.

    ``display`` is an optional second label that pictures show beside ``label``: a module's
    class (``Linear(256 -> 128)``) beside its path (``layers.0``). The recorded label is then
    a :class:`ScopeLabel`, a ``str`` equal to ``label`` that carries ``display``.
    """

    __slots__ = ("_display", "_entry", "_label")

    def __init__(self, label: str, display: str | None = None) -> None:
        self._label, self._display = label, display
        self._entry = _entry(label, display)

    @property
    def label(self) -> str:
        return self._label

    @label.setter
    def label(self, label: str) -> None:
        self._label, self._entry = label, _entry(label, self._display)

    @property
    def display(self) -> str | None:
        return self._display

    @display.setter
    def display(self, display: str | None) -> None:
        self._display, self._entry = display, _entry(self._label, display)

    def __enter__(self) -> None:
        _mode.scope = (*_mode.scope, self._entry)

    def __exit__(self, *exc: object) -> None:
        _mode.scope = _mode.scope[:-1]


class ScopeLabel(str):
    """A scope's label as ops record it: a ``str`` (compared and hashed as the label) with the
    scope's ``display`` label as an attribute."""

    display: str


def _entry(label: str, display: str | None) -> str:
    if display is None or display == label:
        return label
    entry = ScopeLabel(label)
    entry.display = display
    return entry


def current_scope() -> tuple[str, ...]:
    """The labels of the scopes open in this thread, outermost first."""
    return _mode.scope


class set_grad_enabled(_GradModeContext):
    """Turn recording on or off (``set_grad_enabled(False)``), restored when the block ends.

    Takes effect on construction, so it also works as a plain call.
    """

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self.prev, _mode.enabled = _mode.enabled, self.mode

    def __enter__(self) -> None:
        _mode.enabled = self.mode

    def __call__(self, fn: F) -> F:
        _mode.enabled = self.prev  # used as a decorator: undo the effect of construction
        return super().__call__(fn)
