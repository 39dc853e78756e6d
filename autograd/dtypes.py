"""Dtypes and the default floating dtype.

Tensors use NumPy dtypes (CuPy uses the same objects). An ndarray keeps its dtype; Python numbers
and lists become the default float dtype (float32 unless changed with ``set_default_dtype``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)

DType = np.dtype

_default_float = float32


def as_dtype(dtype: Any) -> np.dtype:
    """``dtype`` (a NumPy dtype, type or name such as ``"float32"``) as a ``numpy.dtype``."""
    if isinstance(dtype, np.dtype):
        return dtype
    try:
        return np.dtype(dtype)
    except TypeError as e:
        raise TypeError(f"{dtype!r} is not a dtype (use e.g. autograd.float32)") from e


def is_floating(dtype: np.dtype) -> bool:
    """Whether ``dtype`` can carry gradients (float16/32/64)."""
    return dtype.kind == "f"


def set_default_dtype(dtype: Any) -> None:
    """Set the dtype that Python numbers and lists become (must be a floating dtype)."""
    global _default_float
    dtype = as_dtype(dtype)
    if not is_floating(dtype):
        raise TypeError(f"set_default_dtype: the default dtype must be floating, got {dtype}")
    _default_float = dtype


def get_default_dtype() -> np.dtype:
    """The dtype that Python numbers and lists become (float32 unless changed)."""
    return _default_float
