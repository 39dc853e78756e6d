"""Progress bars, drawn by tqdm (optional: ``arraygrad[islr]``), and when to show them.

``progress=None``, the default of ``fit`` and ``load_mnist``, shows them only where someone
watches: when stderr is a terminal, or in a Jupyter kernel that has ipywidgets for tqdm's
notebook bar. CI logs, pipes and files get none. ``True`` always shows them, ``False`` never.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from .extras import available, require

__all__ = ["bar_class", "in_jupyter", "on_by_default"]


def in_jupyter() -> bool:
    """Whether this code runs in an IPython kernel (Jupyter, VS Code's notebooks, Colab)."""
    ipython = sys.modules.get("IPython")  # a kernel has imported it; never imported here
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "kernel", None) is not None


def on_by_default() -> bool:
    """Whether ``progress=None`` shows bars here: stderr is a terminal, or this is a Jupyter
    kernel where ipywidgets can draw them (tqdm's text bars garble a notebook's output)."""
    try:
        if sys.stderr is not None and sys.stderr.isatty():
            return True
    except (AttributeError, ValueError):  # a replaced or closed stderr
        pass
    return in_jupyter() and available("ipywidgets")


def bar_class(progress: bool | None, feature: str) -> Callable[..., Any] | None:
    """The tqdm class that draws the bars ``progress`` asks for, or None for no bars.

    ``None``: bars where :func:`on_by_default` says, and none when tqdm is not installed.
    ``True``: bars, or an ImportError saying that ``feature`` needs tqdm and which extra
    installs it. ``False``: none. In Jupyter with ipywidgets the bar is tqdm's notebook widget
    (``tqdm.auto`` picks it), elsewhere tqdm's text bar on stderr.
    """
    if progress is None:
        if not (on_by_default() and available("tqdm")):
            return None
    elif not progress:
        return None
    require("tqdm", feature)
    if in_jupyter() and available("ipywidgets"):
        from tqdm.auto import tqdm
    else:
        from tqdm.std import tqdm
    return tqdm
