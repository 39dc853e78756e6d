"""How constants and values read in labels and messages: short numbers, shapes, indices.
Ops describe their constants with these (``Function.constants``); pictures use them too."""

from __future__ import annotations

from typing import Any

import numpy as np

from .backend import backend_of


def num(v: Any) -> str:
    """A number, short: 4 decimals at most, exponent notation when very large or small."""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    v = float(v)
    if v != v or v in (float("inf"), float("-inf")):
        return str(v)
    if v == 0 or 1e-3 <= abs(v) < 1e5:
        text = f"{v:.4f}".rstrip("0")
        return text + "0" if text.endswith(".") else text
    return f"{v:.4g}"


def shape_text(shape: tuple[int, ...]) -> str:
    """``2, 3`` for the shape (2, 3)."""
    return ", ".join(str(n) for n in shape)


def axis_text(axis: int | None) -> str | None:
    """``axis=1``, or None when there is no axis (all of them)."""
    return None if axis is None else f"axis={axis}"


def index_text(index: Any) -> str:
    """An index as written in Python: ``[:, 0]``, ``[[0, 2]]``, ``[bool[3]]``."""
    parts = index if isinstance(index, tuple) else (index,)
    return "[" + ", ".join(_index_part_text(p) for p in parts) + "]"


def _index_part_text(p: Any) -> str:
    if p is None:
        return "None"
    if p is Ellipsis:
        return "..."
    if isinstance(p, slice):
        text = ("" if p.start is None else str(p.start)) + ":"
        text += "" if p.stop is None else str(p.stop)
        return text if p.step is None else f"{text}:{p.step}"
    if hasattr(p, "dtype") and getattr(p, "ndim", 0):  # an index array
        if p.size <= 4 and p.ndim == 1 and p.dtype.kind != "b":
            return "[" + ", ".join(str(int(v)) for v in backend_of(p).to_numpy(p)) + "]"
        return f"{p.dtype}[{shape_text(p.shape)}]"
    return str(p)
